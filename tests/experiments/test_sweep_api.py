"""Sweeps from Python (``experiments.sweep``): the command line's sweep, the same table, the same
resume and the same checks; and the command line's default folder, which resumes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from in_process import run_command

import experiments
from experiments.api import SweepError, default_sweep_dir

ROOT = Path(__file__).resolve().parents[2]
TINY = ["replicates=2", "n_graduates=60", "weeks=6", "hydra.sweeper.params.strategy='course_only,peer_group'"]


def statuses(sweep_dir: Path) -> list[str]:
    """Statuses of the runs of the latest sweep into ``sweep_dir``."""
    sweep_id = json.loads((sweep_dir / "sweep.json").read_text())["id"]
    return [line.split("\t")[1] for line in (sweep_dir / "progress.log").read_text().splitlines()
            if line.startswith(sweep_id)]


@pytest.fixture(scope="module")
def by_command(tmp_path_factory) -> Path:
    """The tiny sweep through the command line, in a child process as a user runs it."""
    folder = tmp_path_factory.mktemp("cli")
    done = subprocess.run([sys.executable, "-m", "experiments.run", "-m", "experiment=compare_strategies", *TINY,
                           f"hydra.sweep.dir={folder}"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return folder


def test_sweep_from_python_returns_the_command_lines_table_and_resumes(by_command, tmp_path, capsys):
    table = experiments.sweep("compare_strategies", overrides=TINY, sweep_dir=tmp_path)
    pd.testing.assert_frame_equal(table, pd.read_parquet(by_command / "results.parquet"))
    assert table["run_id"].nunique() == 4 and statuses(tmp_path).count("done") == 4
    assert "[4/4]" in capsys.readouterr().out  # the sweep's progress, passed on
    summary = experiments.sweep("compare_strategies", overrides=TINY, sweep_dir=tmp_path, table="summary",
                                quiet=True)
    pd.testing.assert_frame_equal(summary, pd.read_csv(by_command / "summary.csv"))
    assert set(statuses(tmp_path)) == {"skipped"}  # the second call resumed: nothing run again
    assert capsys.readouterr().out == ""


def test_bad_input_raises_the_command_lines_one_line_and_writes_nothing(tmp_path):
    with pytest.raises(SweepError) as err:
        experiments.sweep("compare_strategies", overrides=[*TINY, "strategy.peer_group.interval_weeks=0"],
                          sweep_dir=tmp_path / "sweep", quiet=True)
    assert err.value.code == 2 and "strategy.peer_group.interval_weeks=0 is not allowed" in str(err.value)
    assert not (tmp_path / "sweep").exists()


@pytest.mark.parametrize("kwargs,word", [({"table": "weekly"}, "table="), ({"failed_runs": "ignore"}, "failed_runs="),
                                         ({"overrides": "replicates=2"}, "overrides="),
                                         ({"overrides": ["hydra.sweep.dir=x"]}, "sweep_dir="),
                                         ({"overrides": ["hydra.sweeper.detach=true"]}, "detach")])
def test_bad_arguments_are_refused_by_name_before_anything_runs(kwargs, word, tmp_path):
    with pytest.raises(ValueError, match=word):
        experiments.sweep("compare_strategies", **{"sweep_dir": tmp_path / "s", **kwargs})
    assert not (tmp_path / "s").exists()


def test_the_default_folder_follows_the_command_not_its_order_nor_its_bookkeeping():
    a = default_sweep_dir(["-m", "experiment=compare_strategies", "n_graduates=500", "weeks=52", "replicates=4"])
    assert a == Path("outputs/sweeps/compare_strategies/n_graduates=500,weeks=52")
    # the same runs: the order of overrides, replicates, the launcher and its settings do not matter
    assert default_sweep_dir(["--multirun", "weeks=52", "hydra/launcher=local", "hydra.launcher.n_jobs=2",
                              "replicates=9", "n_graduates=500", "experiment=compare_strategies"]) == a
    # other runs: another folder
    assert default_sweep_dir(["-m", "experiment=compare_strategies", "n_graduates=500", "weeks=26"]) != a
    assert default_sweep_dir(["-m", "experiment=compare_strategies", "n_graduates=500", "weeks=52",
                              "hydra.sweeper.params.strategy='course_only,peer_group'"]) != a
    assert default_sweep_dir(["-m", "experiment=psa"]) == Path("outputs/sweeps/psa/default")
    long = default_sweep_dir(["-m", *[f"strategy.peer_group.interval_weeks={i}" for i in range(40)]])
    assert len(long.name) <= 100 and long.parent.name == "sweep"


def test_the_same_command_twice_runs_each_run_once_in_its_default_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["-m", "experiment=compare_strategies", *TINY]
    assert run_command(*args) == 0
    folder = tmp_path / default_sweep_dir(args)
    assert statuses(folder) == ["done"] * 4
    stamps = {p: p.stat().st_mtime_ns for p in folder.glob("runs/*/manifest.json")}
    assert run_command(*args) == 0
    assert statuses(folder) == ["skipped"] * 4 and len(stamps) == 4
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert [p.name for p in (tmp_path / "outputs" / "sweeps").iterdir()] == ["compare_strategies"]  # one folder
    assert f"into {default_sweep_dir(args)}" in capsys.readouterr().out


def test_the_exit_code_of_failed_runs_is_the_commands():
    from experiments import api, outputs

    assert api.RUNS_FAILED == outputs.EXIT_RUNS_FAILED
