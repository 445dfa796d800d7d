"""Sweeps from the command line: every experiment runs, outputs have the promised shape,
rerunning resumes, a killed sweep loses nothing finished, a failed run is recorded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from in_process import run_command

from experiments import outcomes
from experiments.sweeps.collect import SUMMARY_METRICS, collect
from experiments.config import CONFIG_DIR, compose_config

ROOT = Path(__file__).resolve().parents[2]
TINY = ["replicates=2", "n_graduates=60", "weeks=8"]
#: Every experiment: configs/experiment/ holds sweeps only (calibration and sensitivity analysis are
#: configs/analysis/, with entry points of their own).
EXPERIMENTS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))


def sweep(*args: str) -> None:
    """``python -m experiments.run -m ARGS``, in this process; fails unless it exits 0."""
    code = run_command("-m", *args)
    assert code == 0, f"the sweep exited with {code}"


def progress(sweep_dir: Path) -> list[str]:
    """Statuses of the runs of the latest sweep into ``sweep_dir`` (progress.log appends)."""
    sweep_id = json.loads((sweep_dir / "sweep.json").read_text())["id"]
    lines = [line.split("\t") for line in (sweep_dir / "progress.log").read_text().splitlines()]
    return [parts[1] for parts in lines if parts[0] == sweep_id]


def test_the_documented_experiments_exist():
    assert set(EXPERIMENTS) >= {"compare_strategies", "compare_populations", "peer_group_frequency",
                                "support_duration"}


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_config_composes(experiment):
    cfg = compose_config([f"experiment={experiment}", "replicates=3"])
    assert cfg.replicates == 3


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_a_tiny_sweep_of_every_experiment_runs_and_aggregates(experiment, tmp_path):
    fewer = ["hydra.sweeper.params.strategy='course_only,offer_all'"] if experiment == "compare_populations" else []
    sweep(f"experiment={experiment}", *TINY, *fewer, f"hydra.sweep.dir={tmp_path}")
    info = json.loads((tmp_path / "sweep.json").read_text())
    runs = sorted((tmp_path / "runs").glob("*/summary.json"))
    assert len(runs) == info["runs"] > 0 and progress(tmp_path).count("done") == info["runs"]

    results = pd.read_parquet(tmp_path / "results.parquet")
    assert len(results) == info["runs"] * 9  # one row per run x week (weeks 0..8)
    for col in ("run_id", "seed", "replicate", "strategy", "population", "week", "mean_gain_sd",
                "share_self_managing", "groups_open", "cost_total_gbp"):
        assert col in results
    assert results.groupby("run_id")["week"].apply(list).map(lambda w: w == list(range(9))).all()
    # paired design: within a replicate (and population), every strategy ran with the same seed
    assert (results.groupby(["population", "replicate"])["seed"].nunique() == 1).all()
    assert results.groupby("replicate")["seed"].first().nunique() == 2

    summary = pd.read_csv(tmp_path / "summary.csv")  # one row per strategy (and parameters) and week
    assert set(summary["week"]) == {8}
    assert not summary.duplicated([c for c in summary.columns[:list(summary.columns).index("n_runs")]]).any()
    sheet = {o.sheet_name for o in outcomes.summarised()}
    assert {"self_managing_pct", "mean_gain_sd", "cost_total_gbp"} <= sheet and len(sheet) == len(SUMMARY_METRICS)
    for col in ("strategy", "population", "n_runs", "diff_method",
                *[f"{name}{suffix}" for name in sheet for suffix in outcomes.SHEET_STATISTICS]):
        assert col in summary
    assert (summary["n_runs"] == 2).all()
    for name in sheet:
        assert (summary[f"{name}_ci_low"] <= summary[name] + 1e-9).all()
        assert (summary[name] <= summary[f"{name}_ci_high"] + 1e-9).all()
    # percentages, as the console prints them: the mean of the runs' shares x 100
    keys = [c for c in summary.columns[:list(summary.columns).index("n_runs")] if c != "week"]
    last = (results[results["week"] == 8].groupby(keys, dropna=False)["share_self_managing"].mean()
            .rename("share").reset_index())
    both = summary.merge(last, on=keys, how="left", validate="one_to_one")
    assert both["share"].notna().all()
    assert (both["self_managing_pct"] - 100 * both["share"]).abs().max() < 1e-9
    comparator = summary[summary["strategy"] == "course_only"]
    assert (comparator["self_managing_pct_diff"] == 0).all() and (comparator["mean_gain_sd_diff"] == 0).all()
    if experiment == "peer_group_frequency":
        assert "strategy.peer_group.interval_weeks" in summary
        assert set(summary["strategy.peer_group.interval_weeks"]) == {1, 2, 4, 8}


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sweep")
    sweep("experiment=compare_strategies", *TINY, f"hydra.sweep.dir={out}")
    return out


def test_rerunning_a_sweep_redoes_nothing(finished_sweep):
    before = (finished_sweep / "summary.csv").read_text()
    stamps = {p: p.stat().st_mtime_ns for p in (finished_sweep / "runs").glob("*/weekly.parquet")}
    sweep("experiment=compare_strategies", *TINY, f"hydra.sweep.dir={finished_sweep}")
    assert set(progress(finished_sweep)) == {"skipped"}
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert (finished_sweep / "summary.csv").read_text() == before


def test_rerunning_runs_only_what_is_missing(finished_sweep):
    missing = sorted((finished_sweep / "runs").iterdir())[3]
    (missing / "summary.json").unlink()
    sweep("experiment=compare_strategies", *TINY, f"hydra.sweep.dir={finished_sweep}")
    assert progress(finished_sweep).count("done") == 1
    assert (missing / "summary.json").exists()


@pytest.mark.slow
def test_joblib_launcher_gives_the_same_numbers(finished_sweep, tmp_path):
    sweep("experiment=compare_strategies", *TINY, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
          f"hydra.sweep.dir={tmp_path}")
    a = pd.read_csv(finished_sweep / "summary.csv")
    b = pd.read_csv(tmp_path / "summary.csv")
    pd.testing.assert_frame_equal(a, b)


def test_submitit_local_launcher_runs_a_tiny_sweep(tmp_path):
    # submitit_local starts every job at once: keep this sweep to two runs
    sweep("experiment=compare_strategies", "replicates=1", "n_graduates=50", "weeks=4",
          "hydra.sweeper.params.strategy='course_only,peer_group'", "hydra/launcher=submitit_local",
          f"hydra.sweep.dir={tmp_path}")
    assert len(pd.read_parquet(tmp_path / "results.parquet")["run_id"].unique()) == 2


def test_a_bad_sweep_point_stops_the_sweep_before_it_starts(tmp_path):
    done = subprocess.run([sys.executable, "-m", "experiments.run", "-m", "experiment=compare_strategies",
                           "replicates=1", "n_graduates=60", "weeks=6", "hydra.sweeper.params.strategy=peer_group",
                           "strategy.peer_group.interval_weeks=2,0", f"hydra.sweep.dir={tmp_path / 'sweep'}"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]  # one line, no traceback
    assert "strategy.peer_group.interval_weeks=0 is not allowed" in done.stderr
    assert not (tmp_path / "sweep").exists()  # validated before anything was written


@pytest.mark.slow
def test_a_killed_sweep_loses_nothing_that_finished(tmp_path):
    args = [sys.executable, "-m", "experiments.run", "-m", "experiment=compare_strategies", "replicates=2",
            "n_graduates=1500", "weeks=104", "outputs.graduates=true", f"hydra.sweep.dir={tmp_path}"]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    log = tmp_path / "progress.log"
    while time.time() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 3):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    runs = list((tmp_path / "runs").iterdir())
    finished = [r for r in runs if (r / "summary.json").exists()]
    assert 3 <= len(finished) < 14, "the sweep was killed midway"
    for run in finished:  # everything a finished run wrote is whole
        json.loads((run / "summary.json").read_text())
        assert len(pd.read_parquet(run / "weekly.parquet")) == 105
        assert len(pd.read_parquet(run / "graduates.parquet")) == 1500
    # resuming redoes none of the finished runs and completes the sweep
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True, timeout=600)
    statuses = progress(tmp_path)
    assert statuses.count("skipped") >= len(finished) and len(statuses) == 14  # 7 strategies x 2
    assert collect(tmp_path).runs == 14
