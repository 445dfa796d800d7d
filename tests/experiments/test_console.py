"""What a sweep prints: ``[k/n]`` progress under every launcher (the submitit ones too, whose jobs
print into log files), and summary tables no wider than 100 columns."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from in_process import run_command

from experiments.sweeps.collect import CONSOLE_WIDTH, SUMMARY_METRICS, Collected, console_table, summarise_runs

ROOT = Path(__file__).resolve().parents[2]
TWO_RUNS = ["experiment=compare_strategies", "replicates=1", "n_graduates=50", "weeks=4",
            "hydra.sweeper.params.strategy='course_only,peer_group'"]


@pytest.mark.parametrize("launcher", [[], ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
                                      ["hydra/launcher=submitit_local"]], ids=["basic", "joblib", "submitit_local"])
def test_every_launcher_prints_each_runs_progress_once_on_the_console(launcher, tmp_path, capfd):
    if "hydra/launcher=joblib" in launcher:
        # in a process of its own: joblib keeps its worker processes, and workers started by an
        # earlier test of this process would print to that test's captured output
        done = subprocess.run([sys.executable, "-m", "experiments.run", "-m", *TWO_RUNS, *launcher,
                               f"hydra.sweep.dir={tmp_path}"], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        out = done.stdout
    else:
        assert run_command("-m", *TWO_RUNS, *launcher, f"hydra.sweep.dir={tmp_path}") == 0
        out = capfd.readouterr().out
    counters = re.findall(r"^\[(\d+)/(\d+)\] done ", out, flags=re.MULTILINE)
    assert sorted(counters) == [("1", "2"), ("2", "2")], out


def test_a_rerun_under_submitit_counts_the_skipped_runs_and_prints_no_line_for_them(tmp_path, capfd):
    assert run_command("-m", *TWO_RUNS, f"hydra.sweep.dir={tmp_path}") == 0
    capfd.readouterr()
    assert run_command("-m", *TWO_RUNS, "replicates=2", "hydra/launcher=submitit_local",
                       f"hydra.sweep.dir={tmp_path}") == 0
    out = capfd.readouterr().out
    assert "2 of 4 runs already finished, skipped" in out
    counters = re.findall(r"^\[(\d+)/4\] done .*\((\d) skipped\)", out, flags=re.MULTILINE)
    assert sorted(counters) == [("3", "2"), ("4", "2")], out


def fake_summary(parameters: dict[str, list], populations=("clahrc_sample", "general_ltc"), replicates=2) -> Collected:
    """A summary as aggregation makes it (:func:`summarise_runs`), from made-up outcomes."""
    rng = np.random.default_rng(1)
    rows = []
    grid = pd.MultiIndex.from_product(list(parameters.values()), names=list(parameters)).to_frame(index=False) \
        if parameters else pd.DataFrame([{}])
    for population in populations:
        for strategy in ("course_only", "peer_group", "offer_all"):
            for _, setting in grid.iterrows():
                for r in range(replicates):
                    for week in (26, 52, 104):
                        rows.append({"strategy": strategy, "population": population, **setting.to_dict(),
                                     "replicate": r, "seed": 100 + r, "week": week,
                                     **{m: rng.uniform(0, 1) for m in SUMMARY_METRICS}})
    summary = summarise_runs(pd.DataFrame(rows), list(parameters))
    return Collected(Path("sweep"), len(rows), 0, summary, list(parameters))


@pytest.mark.parametrize("parameters", [
    {},
    {"strategy.peer_group.interval_weeks": [1, 2, 4]},
    {"dynamics.peer_group.effect.efficacy": [0.103604, 0.469676], "dynamics.telephone.effect.efficacy": [0.0268974],
     "dynamics.retention.support_decay_rate_per_week": [0.0133066, 0.191638]},
], ids=["strategies", "one parameter", "a design's three"])
@pytest.mark.parametrize("replicates", [1, 3])
def test_console_tables_fit_100_columns_and_show_every_row(parameters, replicates):
    result = fake_summary(parameters, replicates=replicates)
    for metric, scale, digits in (("share_self_managing", 100.0, 1), ("mean_gain_sd", 1.0, 3)):
        text = console_table(result, metric, scale, digits, "% still self-managing", max_rows=10_000)
        lines = text.splitlines()
        assert max(len(line) for line in lines) <= CONSOLE_WIDTH, "\n".join(l for l in lines if len(l) > 100)
        s = result.summary[result.summary["metric"] == metric]
        means = [f"{scale * m:.{digits}f} " for m in s["mean"]]
        assert all(m in text for m in means)  # every row's mean is shown
        assert ("(one run: no interval)" in text) == (replicates == 1) and "nan" not in text
        for strategy in ("course_only", "peer_group", "offer_all"):
            assert strategy in text


def test_a_long_console_table_is_cut_and_says_where_the_rest_is():
    result = fake_summary({"strategy.peer_group.interval_weeks": list(range(1, 21))})
    text = console_table(result, "mean_gain_sd", max_rows=42)
    assert "more rows (all in sweep/summary.csv)" in text.splitlines()[-1]


def test_a_real_sweeps_console_tables_fit_100_columns(tmp_path, capsys):
    assert run_command("-m", "experiment=peer_group_frequency", "replicates=2", "n_graduates=50", "weeks=30",
                       "population=clahrc_sample,older_75plus", f"hydra.sweep.dir={tmp_path}") == 0
    out = capsys.readouterr().out
    tables = out[out.index("\nCollected "):].splitlines()
    assert max(len(line) for line in tables) <= CONSOLE_WIDTH, "\n".join(l for l in tables if len(l) > 100)
    assert "interval_weeks" in out and "older_75plus" in out and "clahrc_sample" in out
