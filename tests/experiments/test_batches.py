"""Batched sweeps (issue 13): many runs per Hydra job give exactly what one job per run gave;
finished runs are skipped without a job; figures are off in sweeps unless asked for."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from in_process import run_command

from experiments.sweeps.batches import PlannedRun, auto_batch_size, plan_batches, workers_of

TINY = ["replicates=3", "n_graduates=60", "weeks=6"]


def run(name: str, groups: list[str], values: list[str]) -> PlannedRun:
    return PlannedRun([*groups, *values], groups, values, name)


# --- planning ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("runs,workers,per_worker,size", [(210, 1, 4, 210), (210, 2, 4, 27), (180, 2, 4, 23),
                                                          (7, 2, 4, 1), (100_000, 1000, 1, 100), (28, 2, 1, 14),
                                                          (0, 2, 4, 1)])
def test_auto_batch_size_gives_each_worker_its_share_of_batches(runs, workers, per_worker, size):
    assert auto_batch_size(runs, workers, per_worker) == size


def test_workers_follow_the_launcher(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert workers_of(OmegaConf.create({"n_jobs": -1})) == (8, 4)  # joblib keeps its workers: 4 batches each
    assert workers_of(OmegaConf.create({"n_jobs": -2})) == (7, 4)
    assert workers_of(OmegaConf.create({"n_jobs": 3})) == (3, 4)
    assert workers_of(OmegaConf.create({"array_parallelism": 64})) == (64, 1)  # submitit: a process per job
    assert workers_of(OmegaConf.create({"_target_": "hydra._internal.core_plugins.basic_launcher.BasicLauncher"})) == (1, 1)


def test_batches_keep_group_choices_apart_cover_every_run_once_and_are_near_equal():
    runs = [run(f"{s},{r}", [f"strategy={s}"], [f"replicate={r}", "weeks=6"])
            for s in ("a", "b", "c") for r in range(10)]
    batches = plan_batches(runs, size=4)
    assert sorted(r.name for b in batches for r in b.runs) == sorted(r.name for r in runs)
    for b in batches:
        assert len({tuple(r.groups) for r in b.runs}) == 1
        assert b.job[0] == b.runs[0].groups[0] and "weeks=6" in b.job  # shared values go in the job
        assert all(not v.startswith("replicate=") for v in b.job) or len(b.runs) == 1
        assert all(v not in b.job for entry in b.plan()["runs"] for v in entry["values"])
    assert sorted(len(b.runs) for b in batches) == [3, 3, 3, 3, 3, 3, 4, 4, 4]  # 10 runs: 3 + 3 + 4


# --- the same numbers, files and folders whatever the batch size ------------------------------------


#: peer_group_frequency: 4 meeting intervals x 2 strategies x 2 replicates = 16 runs
FREQUENCY = ["replicates=2", "n_graduates=60", "weeks=6"]


@pytest.fixture(scope="module")
def one_per_job(tmp_path_factory):
    """peer_group_frequency: runs within a batch differ by a value (interval) and the replicate."""
    import subprocess

    out = tmp_path_factory.mktemp("one")
    subprocess.run([sys.executable, "-m", "experiments.run", "-m", "experiment=peer_group_frequency", *FREQUENCY,
                    "hydra.sweeper.batch_size=1", f"hydra.sweep.dir={out}"], check=True, capture_output=True,
                   cwd=Path(__file__).resolve().parents[2])
    return out


def test_batched_runs_equal_one_run_per_job(one_per_job, monkeypatch, tmp_path):
    assert run_command("-m", "experiment=peer_group_frequency", *FREQUENCY, f"hydra.sweep.dir={tmp_path}") == 0
    assert len(list((tmp_path / "batches").iterdir())) < len(list((one_per_job / "batches").iterdir()))
    a = pd.read_parquet(one_per_job / "results.parquet").drop(columns="model_seconds", errors="ignore")
    b = pd.read_parquet(tmp_path / "results.parquet").drop(columns="model_seconds", errors="ignore")
    key = ["run_id", "week"]
    pd.testing.assert_frame_equal(a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True))
    names = sorted(p.name for p in (one_per_job / "runs").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "runs").iterdir()) and len(names) == 16
    for name in names:
        for f in ("config.yaml", ".hydra/config.yaml", ".hydra/overrides.yaml"):
            assert (one_per_job / "runs" / name / f).read_text() == (tmp_path / "runs" / name / f).read_text(), (name, f)
        record = OmegaConf.load(tmp_path / "runs" / name / ".hydra/hydra.yaml").hydra
        assert record.job.override_dirname == name and Path(record.runtime.output_dir).name == name


def test_a_finished_sweep_is_skipped_without_launching_a_job(one_per_job, monkeypatch, capsys):
    before = {p: p.stat().st_mtime_ns for p in (one_per_job / "runs").glob("*/summary.json")}
    assert run_command("-m", "experiment=peer_group_frequency", *FREQUENCY, "hydra.sweeper.batch_size=1",
               f"hydra.sweep.dir={one_per_job}") == 0
    out = capsys.readouterr().out
    assert "16 of 16 runs already finished, skipped" in out and "jobs of up to" not in out
    assert before == {p: p.stat().st_mtime_ns for p in (one_per_job / "runs").glob("*/summary.json")}


def test_figures_are_off_in_sweeps_unless_asked_for(monkeypatch, tmp_path):
    two = "hydra.sweeper.params.strategy=course_only"
    assert run_command("-m", "experiment=compare_strategies", *TINY, two, "outputs.plot=null",
               f"hydra.sweep.dir={tmp_path / 'off'}") == 0
    assert run_command("-m", "experiment=compare_strategies", *TINY, two, "outputs.plot=true",
               f"hydra.sweep.dir={tmp_path / 'on'}") == 0
    assert not list((tmp_path / "off" / "runs").glob("*/trajectories.png"))
    assert len(list((tmp_path / "on" / "runs").glob("*/trajectories.png"))) == 3
    assert run_command("n_graduates=60", "weeks=6", f"hydra.run.dir={tmp_path / 'single'}") == 0
    assert (tmp_path / "single" / "trajectories.png").is_file()  # a single run draws it by default


@pytest.mark.parametrize("arg,key", [("hydra.sweeper.batch_size=0", "hydra.sweeper.batch_size"),
                                     ("hydra.sweep.subdir=x/${hydra.job.num}", "hydra.sweep.subdir")])
def test_bad_batch_settings_stop_the_sweep_naming_the_key(monkeypatch, tmp_path, capsys, arg, key):
    assert run_command("-m", "experiment=compare_strategies", *TINY, arg, f"hydra.sweep.dir={tmp_path}") == 2
    assert key in capsys.readouterr().err and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("strategy", ["offer_all", "tailored", "no_course"])
def test_configs_are_written_as_omegaconf_writes_them(strategy):
    """Runs write their config with libyaml's C emitter (speed); the text must be OmegaConf's own."""
    from experiments.config import compose_config
    from experiments.outputs import yaml_text

    cfg = compose_config([f"strategy={strategy}", "seed=123", "strategy.peer_group.interval_weeks=4"])
    assert yaml_text(cfg, resolve=True) == OmegaConf.to_yaml(cfg, resolve=True)
    assert yaml_text(cfg) == OmegaConf.to_yaml(cfg)


def test_the_progress_log_is_read_incrementally_and_only_whole_lines_of_this_sweep(tmp_path):
    from experiments.outputs import PROGRESS, ProgressLog, progress_of

    log = tmp_path / PROGRESS
    log.write_text("a\tdone\t0.1\trun1\nb\tdone\t0.1\trun9\n")
    reader = ProgressLog(tmp_path, "a")
    assert reader.read() == {"run1": "done"}
    with open(log, "a") as f:
        f.write("a\tfailed\t0.2\trun2\na\tdone\t0.")  # another worker is mid-line
    assert reader.read() == {"run1": "done", "run2": "failed"}
    first = reader.offset
    with open(log, "a") as f:
        f.write("3\trun3\na\tdone\t0.1\trun2\n")
    assert reader.read() == {"run1": "done", "run2": "done", "run3": "done"}  # the last word on each run
    assert reader.offset > first and reader.read() == progress_of(tmp_path, "a")


def test_each_run_records_who_its_support_reached_by_subgroup():
    """What the report's reach figure reads (it never reruns a model): the share of each subgroup
    with any contact with follow-on support, as the graduate table gives it."""
    from experiments.config import load_params
    from experiments.evaluate import SUBGROUP_MEMBERS, evaluate

    offer = evaluate(load_params(["strategy=offer_all", "n_graduates=400", "weeks=20"]))
    people = offer.graduates
    reached = people[[c for c in people.columns if c.startswith("contacts_")]].sum(axis=1) > 0
    for key, member in SUBGROUP_MEMBERS.items():
        mask = pd.Series(True, index=people.index) if member is None else people[member[0]] == member[1]
        assert offer.reach()[key] == pytest.approx(reached[mask].mean())
    assert 0 < offer.reach()["everyone"] < 1
    none = evaluate(load_params(["strategy=course_only", "n_graduates=400", "weeks=20"])).reach()
    assert set(none) == set(SUBGROUP_MEMBERS) and all(v == 0 for v in none.values())


def test_an_in_process_sweep_composes_each_group_choice_once_and_its_jobs_as_hydra_would(monkeypatch, tmp_path):
    """With the in-process launcher, each batch's job config is a copy of the check's composition
    with the batch's folder set: compared here, job by job, with what Hydra composes itself."""
    from hydra.core.plugins import Plugins
    from omegaconf import OmegaConf

    Plugins.instance()  # Hydra's plugin scan re-executes the sweeper's module: take its class after
    ComposedOnce = sys.modules["hydra_plugins.after_the_course.sweeper"].ComposedOnce
    real = ComposedOnce.load_sweep_config
    composed, compared = [], []

    def spy(self, master, overrides):
        before = len(self._composed)
        got = real(self, master, overrides)
        composed.append(len(self._composed) > before)
        if any(o.startswith("hydra.sweep.subdir=") for o in overrides):
            hydra_own = self._loader.load_sweep_config(master, list(overrides))
            assert OmegaConf.to_container(got) == OmegaConf.to_container(hydra_own)
            compared.append(overrides)
        return got

    monkeypatch.setattr(ComposedOnce, "load_sweep_config", spy)
    assert run_command("-m", "experiment=compare_strategies", "replicates=4", "n_graduates=60", "weeks=6",
                       "hydra.sweeper.batch_size=2", "hydra.sweeper.params.strategy='course_only,peer_group'",
                       f"hydra.sweep.dir={tmp_path}") == 0
    assert len(compared) == 4  # 2 group choices x 4 replicates in batches of 2
    assert composed.count(True) == 2  # one composition per choice of config groups, in the check
    assert pd.read_parquet(tmp_path / "results.parquet")["run_id"].nunique() == 8


def test_the_time_left_is_estimated_once_a_few_runs_are_in():
    """Runs finish in bursts (a batch's models run together first): one run in, the time left
    is not extrapolated from it; a fiftieth of the sweep in, it is."""
    import time as clock

    from experiments.sweeps.callback import progress_line

    info = {"runs": 6000, "started": clock.time() - 5.0}
    assert "left" not in progress_line(info, ["done"], "done", "r", 0.0)
    line = progress_line(info, ["done"] * 120, "done", "r", 0.0)
    assert line.startswith("[120/6000] done r") and "left" in line
    assert "left" not in progress_line(info, ["done"] * 6000, "done", "r", 0.0)  # nothing left
