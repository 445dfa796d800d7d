"""A SLURM sweep that submits and leaves (``hydra.sweeper.detach=true``), then ``experiments.collect
--wait``: tested without SLURM, with a fake executor standing for sbatch and a fake queue."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from in_process import run_command

from experiments.collect import main as collect_main
from experiments.outputs import EXIT_BAD_INPUT, EXIT_RUNS_FAILED
from experiments.sweeps import submit

TINY = ["experiment=compare_strategies", "replicates=2", "n_graduates=50", "weeks=4",
        "hydra.sweeper.params.strategy='course_only,peer_group'"]


class FakeJob:
    def __init__(self, job_id: str) -> None:
        self.job_id = job_id


class FakeExecutor:
    """Records what would be submitted (the callable and each job's arguments, as submitit pickles
    them for sbatch) and returns jobs of array 4242; runs nothing until :meth:`run` is called."""

    def __init__(self) -> None:
        self.submitted: list[tuple] = []

    def map_array(self, fn, *iterables):
        self.submitted = [(fn, args) for args in zip(*iterables)]
        return [FakeJob(f"4242_{i}") for i in range(len(self.submitted))]

    def run(self, monkeypatch, which=None) -> None:
        """Run the submitted jobs (all, or those numbered ``which``) as SLURM would, one after another."""
        from hydra.core.singleton import Singleton

        for i, (fn, args) in enumerate(self.submitted):
            if which is None or i in which:
                monkeypatch.setenv("SUBMITIT_DEBUG_JOB_ID", f"4242_{i}")  # submitit.JobEnvironment inside a job
                state = Singleton.get_state()
                try:
                    fn(*args)  # the job sets Hydra's state as it was at submission, as in its own process
                finally:
                    Singleton.set_state(state)


@pytest.fixture
def cluster(monkeypatch, tmp_path):
    """SLURM's tools on the PATH (stubs: the launcher checks for them) and the fake executor."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sbatch", "srun"):
        (bin_dir / tool).write_text("#!/bin/sh\nexit 1\n")
        (bin_dir / tool).chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    executor = FakeExecutor()
    monkeypatch.setattr(submit, "make_executor", lambda launcher: executor)
    monkeypatch.setattr(submit.time, "sleep", lambda s: None)
    return executor


def detached(sweep_dir: Path, *more: str) -> int:
    return run_command("-m", *TINY, "hydra/launcher=slurm", "hydra.launcher.partition=debug",
                       "hydra.launcher.array_parallelism=2",
                       "hydra.sweeper.detach=true", *more, f"hydra.sweep.dir={sweep_dir}")


def test_a_detached_sweep_submits_prints_the_job_and_the_collect_command_and_leaves(cluster, tmp_path, capsys):
    sweep_dir = tmp_path / "sweep"
    assert detached(sweep_dir) == 0
    out = capsys.readouterr().out
    assert len(cluster.submitted) == 2  # two jobs (one per strategy) submitted, none run
    assert "SLURM job 4242" in out and f"-m experiments.collect {sweep_dir} --wait" in out
    assert not list(sweep_dir.glob("runs/*/manifest.json")) and not (sweep_dir / "results.parquet").exists()
    record = submit.detached_sweep(sweep_dir)
    assert record["job_ids"] == ["4242_0", "4242_1"] and record["runs"] == 4


def test_collect_wait_finishes_a_detached_sweep_with_the_tables_of_one_that_waited(cluster, monkeypatch, tmp_path):
    assert detached(tmp_path / "sweep") == 0
    polls = []

    def queue(record):  # the jobs run while collect --wait polls: one on the first look, the other on the second
        polls.append(record["arrays"])
        cluster.run(monkeypatch, which={len(polls) - 1})
        return 2 - len(polls)

    monkeypatch.setattr(submit, "jobs_left", queue)
    assert collect_main([str(tmp_path / "sweep"), "--wait"]) == 0
    assert polls == [["4242"], ["4242"]]
    assert run_command("-m", *TINY, f"hydra.sweep.dir={tmp_path / 'waited'}") == 0
    for table in ("results.parquet", "summary.csv"):
        read = pd.read_parquet if table.endswith(".parquet") else pd.read_csv
        pd.testing.assert_frame_equal(read(tmp_path / "sweep" / table), read(tmp_path / "waited" / table))


def test_collect_wait_stops_when_the_jobs_left_the_queue_with_runs_unreported(cluster, monkeypatch, tmp_path, capsys):
    assert detached(tmp_path / "sweep") == 0
    cluster.run(monkeypatch, which={0})  # one job ran, the other was cancelled
    monkeypatch.setattr(submit, "jobs_left", lambda record: 0)
    capsys.readouterr()
    assert collect_main([str(tmp_path / "sweep"), "--wait"]) == EXIT_RUNS_FAILED
    err = capsys.readouterr().err
    assert "2 of 4 runs unreported" in err and "rerun the sweep's command" in err
    assert pd.read_parquet(tmp_path / "sweep" / "results.parquet")["run_id"].nunique() == 2
    # rerunning the sweep's command submits only what is missing
    assert detached(tmp_path / "sweep") == 0
    assert submit.detached_sweep(tmp_path / "sweep")["runs"] == 2  # the cancelled job's two runs
    assert all("strategy=peer_group" in args[0] for _, args in cluster.submitted)


def test_detach_needs_a_slurm_launcher_and_a_boolean(tmp_path, capsys):
    assert run_command("-m", *TINY, "hydra.sweeper.detach=true", f"hydra.sweep.dir={tmp_path / 'a'}") == EXIT_BAD_INPUT
    assert "hydra.sweeper.detach=True is not allowed: needs hydra/launcher=slurm" in capsys.readouterr().err
    assert run_command("-m", *TINY, "hydra.sweeper.detach=soon", f"hydra.sweep.dir={tmp_path / 'b'}") == EXIT_BAD_INPUT
    assert "must be true or false" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_collect_wait_on_a_sweep_that_was_not_detached_just_collects(tmp_path):
    assert run_command("-m", *TINY, f"hydra.sweep.dir={tmp_path}") == 0
    assert submit.detached_sweep(tmp_path) is None
    assert collect_main([str(tmp_path), "--wait"]) == 0
