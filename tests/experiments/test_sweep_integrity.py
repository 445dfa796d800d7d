"""Sweeps that never lie: manifests, run identity, pairing, exit codes, leftovers (issue 15).

The command line is called in-process (``experiments.run.main`` with ``sys.argv`` set): the same
code path as ``python -m experiments.run``, without paying the interpreter's start-up per case.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from in_process import run_command

from experiments.collect import main as collect_main
from experiments.outputs import EXIT_BAD_OUTPUT, EXIT_RUNS_FAILED

TINY = ["replicates=1", "n_graduates=60", "weeks=6"]
TWO = "hydra.sweeper.params.strategy='course_only,peer_group'"


def sweep(monkeypatch, sweep_dir: Path, *args: str) -> int:
    return run_command("-m", "experiment=compare_strategies", *TINY, TWO, *args, f"hydra.sweep.dir={sweep_dir}")


@pytest.fixture(scope="module")
def first_sweep(tmp_path_factory) -> Path:
    """The tiny sweep many tests start from, run once per module (per test worker)."""
    folder = tmp_path_factory.mktemp("first_sweep")
    assert run_command("-m", "experiment=compare_strategies", *TINY, TWO, f"hydra.sweep.dir={folder}") == 0
    return folder


@pytest.fixture
def swept(first_sweep, tmp_path) -> Path:
    """``tmp_path`` holding that finished sweep: a copy, as if ``sweep(monkeypatch, tmp_path)`` had
    just run there (the tests then resume, break or report on it)."""
    shutil.copytree(first_sweep, tmp_path, dirs_exist_ok=True)
    return tmp_path


def statuses(sweep_dir: Path) -> list[str]:
    return [line.split("\t")[-3] for line in (sweep_dir / "progress.log").read_text().splitlines()]


def run_dirs(sweep_dir: Path) -> list[Path]:
    return sorted(p for p in (sweep_dir / "runs").iterdir() if p.is_dir())


# --- 1. a finished run is one whose every file verifies ------------------------------------------


def test_every_run_has_a_manifest_of_its_files(monkeypatch, tmp_path, swept):
    for run in run_dirs(tmp_path):
        manifest = json.loads((run / "manifest.json").read_text())
        assert set(manifest["files"]) == {"config.yaml", "weekly.parquet", "summary.json", ".hydra/config.yaml",
                                          ".hydra/hydra.yaml", ".hydra/overrides.yaml"}
        for name, entry in manifest["files"].items():
            assert (run / name).stat().st_size == entry["bytes"] and len(entry["sha256"]) == 64


def test_a_truncated_output_is_redone_on_resume(monkeypatch, tmp_path, swept):
    broken = run_dirs(tmp_path)[1] / "weekly.parquet"
    whole = broken.read_bytes()
    broken.write_bytes(whole[:100])
    assert sweep(monkeypatch, tmp_path) == 0
    assert statuses(tmp_path)[-2:] == ["skipped", "done"]  # only the broken run ran again
    assert broken.read_bytes() == whole  # the same seed gives the same bytes
    assert pd.read_parquet(tmp_path / "results.parquet")["run_id"].nunique() == 2


def test_aggregating_a_corrupted_run_fails_naming_the_file(monkeypatch, tmp_path, capsys, swept):
    broken = run_dirs(tmp_path)[0] / "summary.json"
    broken.write_text(broken.read_text()[:40])
    capsys.readouterr()
    assert collect_main([str(tmp_path)]) == EXIT_BAD_OUTPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(broken) in err[0]
    # no stale table is left to be read as if it were current
    assert not (tmp_path / "results.parquet").exists() and not (tmp_path / "summary.csv").exists()


def test_report_on_a_corrupted_run_fails_naming_the_file(monkeypatch, tmp_path, capsys, swept):
    from experiments.report import build as report

    broken = run_dirs(tmp_path)[1] / "weekly.parquet"
    broken.write_bytes(broken.read_bytes()[:-10])
    capsys.readouterr()
    assert report.main([str(tmp_path)]) == EXIT_BAD_OUTPUT
    assert str(broken) in capsys.readouterr().err
    assert not (tmp_path / "report").exists()


# --- 2. run identity: model parameters and model code, not bookkeeping -----------------------------


def test_raising_replicates_runs_only_the_new_replicates(monkeypatch, tmp_path, swept):
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").glob("*/weekly.parquet")}
    assert sweep(monkeypatch, tmp_path, "replicates=2", "outputs.csv=true") == 0
    assert sorted(statuses(tmp_path)[-4:]) == ["done", "done", "skipped", "skipped"]
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert pd.read_parquet(tmp_path / "results.parquet")["run_id"].nunique() == 4


def test_a_change_of_the_model_code_reruns(monkeypatch, tmp_path, swept):
    import experiments.config as config

    monkeypatch.setattr(config, "code_hash", lambda package_dir=None: "0123456789abcdef")
    assert sweep(monkeypatch, tmp_path) == 0
    assert statuses(tmp_path)[-2:] == ["done", "done"]
    for run in run_dirs(tmp_path):
        assert json.loads((run / "summary.json").read_text())["code_hash"] == "0123456789abcdef"


def test_code_hash_follows_the_model_source(tmp_path):
    import shutil

    from experiments.config import MODEL_CODE_DIR, code_hash

    copy = tmp_path / "sim"
    shutil.copytree(MODEL_CODE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert code_hash(copy) == code_hash(MODEL_CODE_DIR)
    (copy / "retention.py").write_text((copy / "retention.py").read_text() + "\n# changed\n")
    assert code_hash(copy) != code_hash(MODEL_CODE_DIR)


def test_identity_ignores_bookkeeping_and_follows_parameters():
    from experiments.config import compose_config, run_identity, to_params

    def ident(*overrides):
        cfg = compose_config(["n_graduates=60", "weeks=6", *overrides])
        return run_identity(to_params(cfg), cfg.engine)

    base = ident()
    assert ident("replicates=7", "outputs.csv=false", "outputs.plot=false") == base
    assert ident("weeks=7") != base and ident("replicate=1") != base and ident("engine=reference") != base


# --- 3. pairing by the seed actually used ---------------------------------------------------------


def test_a_swept_seed_is_paired_by_the_seed_each_run_used(monkeypatch, tmp_path):
    assert run_command("-m", "experiment=compare_strategies", "replicates=2", "n_graduates=80", "weeks=6",
               "hydra.sweeper.params.strategy='course_only,telephone'", "seed=1,2",
               f"hydra.sweep.dir={tmp_path}") == 0
    results = pd.read_parquet(tmp_path / "results.parquet")
    last = results[results["week"] == 6]
    assert last["seed"].nunique() == 4  # two base seeds x two replicates
    wide = last.pivot_table(index="seed", columns="strategy", values="share_self_managing")
    true_diff = (wide["telephone"] - wide["course_only"]).mean()
    summary = pd.read_csv(tmp_path / "summary.csv")
    row = summary[summary["strategy"] == "telephone"].iloc[0]
    assert row["n_runs"] == 4 and row["diff_method"] == "paired"
    assert row["self_managing_pct_diff"] == pytest.approx(100 * true_diff, abs=1e-10)  # percentage points


def test_seed_null_records_a_concrete_seed_and_is_labelled_unpaired(monkeypatch, tmp_path, capsys):
    import yaml

    from experiments.config import run_seed

    assert sweep(monkeypatch, tmp_path, "replicates=2", "seed=null") == 0
    out = capsys.readouterr().out
    seeds = []
    for run in run_dirs(tmp_path):
        recorded = yaml.safe_load((run / "config.yaml").read_text())["seed"]
        summary = json.loads((run / "summary.json").read_text())
        assert isinstance(recorded, int) and summary["seed"] == run_seed(recorded, summary["replicate"])
        seeds.append(summary["seed"])
    assert len(set(seeds)) == 4  # each run drew its own seed: nothing is paired
    recorded = [yaml.safe_load((run / "config.yaml").read_text())["seed"] for run in run_dirs(tmp_path)]
    assert len(set(recorded)) == 4  # its own base seed too, even when runs share a batch (a Hydra job)
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert set(summary.loc[summary["strategy"] == "peer_group", "diff_method"]) == {"unpaired"}
    assert "unpaired" in out
    # resuming repeats the recorded seeds: nothing runs again
    assert sweep(monkeypatch, tmp_path, "replicates=2", "seed=null") == 0
    assert statuses(tmp_path)[-4:] == ["skipped"] * 4


def test_report_refuses_runs_without_a_same_seed_comparator(monkeypatch, tmp_path, capsys):
    from experiments.report import build as report

    assert sweep(monkeypatch, tmp_path, "seed=null") == 0
    capsys.readouterr()
    assert report.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "same seed" in err[0]


# --- 4. exit codes; failures of this sweep only; every sweep point checked first -------------------


@pytest.fixture
def peer_group_fails(monkeypatch):
    """Make every peer_group run fail while it runs (after validation), as a crash would."""
    import experiments.evaluate as evaluate_module

    real = evaluate_module.model_class

    def model_class(engine):
        cls = real(engine)

        class Failing(cls):
            @classmethod
            def from_params(klass, params):
                if params.strategy.name == "peer_group" and params.seed == 1:
                    raise RuntimeError("simulated crash")
                return cls.from_params(params)

        return Failing

    monkeypatch.setattr(evaluate_module, "model_class", model_class)


def test_a_sweep_with_failed_runs_completes_and_exits_3(monkeypatch, tmp_path, peer_group_fails, capsys):
    assert sweep(monkeypatch, tmp_path) == EXIT_RUNS_FAILED == 3
    failures = pd.read_csv(tmp_path / "failures.csv")
    assert len(failures) == 1 and "strategy=peer_group" in failures.loc[0, "overrides"]
    assert "simulated crash" in failures.loc[0, "error"]
    assert pd.read_parquet(tmp_path / "results.parquet")["strategy"].unique().tolist() == ["course_only"]
    assert "1 failed" in capsys.readouterr().out


def test_failures_csv_lists_only_this_sweeps_runs(monkeypatch, tmp_path, peer_group_fails):
    assert sweep(monkeypatch, tmp_path) == 3
    assert sweep(monkeypatch, tmp_path, "seed=5") == 0  # other seeds into the same folder: no failure
    assert not (tmp_path / "failures.csv").exists()
    results = pd.read_parquet(tmp_path / "results.parquet")
    assert set(results["seed"]) == {5}  # the runs of this sweep, not the earlier one's
    assert collect_main([str(tmp_path)]) == 0


@pytest.mark.parametrize("args,key", [
    (["strategy.peer_group.interval_weeks=2,0"], "strategy.peer_group.interval_weeks=0"),
    (["weeks=6,0"], "weeks=0"),
    (["replicates=0"], "replicates=0"),
    (["hydra.launcher.n_jobs=0", "hydra/launcher=joblib"], "hydra.launcher.n_jobs=0"),
    (["strategy.booster.enabled=true", "strategy.booster.week=4,40"], "strategy.booster.week=40"),
])
def test_a_bad_value_in_any_sweep_point_stops_before_anything_runs(monkeypatch, tmp_path, capsys, args, key):
    out = tmp_path / "sweep"
    assert sweep(monkeypatch, out, *args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {key} is not allowed")
    assert not out.exists()


# --- 6. interrupting a parallel sweep ends its workers ----------------------------------------------


def _children(pid: int) -> set[int]:
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


@pytest.mark.parametrize("step", ["close", "write", "replace"])
def test_an_interrupt_at_any_step_of_an_atomic_write_leaves_no_temporary(tmp_path, monkeypatch, step):
    """A killed sweep's worker is interrupted wherever it is: just after the temporary is created,
    while writing it, or while renaming it. The old file stays whole and no temporary is left."""
    import os

    from experiments import outputs

    target = tmp_path / "manifest.json"
    target.write_text("old")
    real = {"close": os.close, "replace": os.replace}

    def interrupted(*args):
        raise KeyboardInterrupt

    if step == "write":
        with pytest.raises(KeyboardInterrupt):
            with outputs.atomic_path(target) as tmp:
                tmp.write_text("half")
                interrupted()
    else:
        monkeypatch.setattr(outputs.os, step, lambda *a: (real[step](*a), interrupted()))
        with pytest.raises(KeyboardInterrupt):
            outputs.write_text(target, "new")
        monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]
    assert target.read_text() == ("new" if step == "replace" else "old")


def test_a_worker_whose_sweep_is_gone_starts_no_new_run(tmp_path, monkeypatch):
    """The pool catches the interrupt that ends a run in a killed sweep's worker and may hand the
    worker another job: that job ends the worker before anything is written."""
    import os

    from experiments.sweeps import callback

    def exit_now(code):
        raise SystemExit(code)

    monkeypatch.setattr(os, "_exit", exit_now)
    ran = []
    callback._SWEEP_GONE.set()
    try:
        with pytest.raises(SystemExit):
            callback.run_in_sweep(None, tmp_path / "run", lambda *a: ran.append(a), [], lambda c: None)
    finally:
        callback._SWEEP_GONE.clear()
    assert ran == [] and not (tmp_path / "run").exists()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM"])
def test_killing_a_parallel_sweep_ends_its_workers_and_resuming_completes(tmp_path, signal_name):
    """kill -9 or kill (SIGTERM) of the sweep's process: its workers end within about a second
    (README; they poll every 0.2 s and leave the interrupted run 0.8 s to clean up; the bound
    below allows for a loaded machine, and failed at the old 0.5 s poll with a 5 s grace), no
    temporary is left, and rerunning completes the sweep."""
    import os
    import signal
    import subprocess
    import time

    root = Path(__file__).resolve().parents[2]
    args = [sys.executable, "-m", "experiments.run", "-m", "experiment=compare_strategies", "replicates=2",
            "n_graduates=20000", "weeks=104", TWO, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
            f"hydra.sweep.dir={tmp_path}"]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(args, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = tmp_path / "progress.log"
    workers: set[int] = set()
    for _ in range(1200):  # until a run has finished in a worker
        if log.exists() and log.read_text().strip():
            workers = {c for c in _children(proc.pid) if _alive(c)}
            break
        time.sleep(0.1)
    assert workers, "the sweep never finished a run"
    os.kill(proc.pid, getattr(signal, signal_name))
    proc.wait()
    killed = time.monotonic()
    while any(_alive(w) for w in workers) and time.monotonic() - killed < 30:
        time.sleep(0.05)
    took = time.monotonic() - killed
    assert not any(_alive(w) for w in workers), "workers outlived the killed sweep"
    assert took < 4.0, f"workers took {took:.1f} s to end after {signal_name} (README: about a second)"
    assert not list(tmp_path.glob("runs/*/.*.tmp")), "a half-written temporary was left behind"
    # resuming finishes the sweep; the log keeps both sweeps' lines
    lines_before = log.read_text().splitlines()
    done = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert log.read_text().splitlines()[: len(lines_before)] == lines_before
    assert pd.read_parquet(tmp_path / "results.parquet")["run_id"].nunique() == 4


def test_no_empty_or_stray_files_and_progress_log_appends(monkeypatch, tmp_path, swept):
    first = (tmp_path / "progress.log").read_text().splitlines()
    assert sweep(monkeypatch, tmp_path) == 0
    lines = (tmp_path / "progress.log").read_text().splitlines()
    assert lines[:2] == first and len(lines) == 4  # appended, not emptied
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert not [p for p in files if p.stat().st_size == 0], "empty files"
    assert not [p for p in files if p.name == "run.log" or p.name.endswith(".tmp")]
    for run in run_dirs(tmp_path):  # every file of a run is in its manifest
        listed = set(json.loads((run / "manifest.json").read_text())["files"]) | {"manifest.json"}
        assert {p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file()} == listed


def test_report_on_a_sweep_without_course_only_says_so_in_one_line(monkeypatch, tmp_path, capsys):
    from experiments.report import build as report

    assert run_command("-m", "experiment=compare_strategies", *TINY,
               "hydra.sweeper.params.strategy='peer_group,telephone'", f"hydra.sweep.dir={tmp_path}") == 0
    capsys.readouterr()
    assert report.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "strategy='course_only' is not in the sweep" in err[0]
    assert not (tmp_path / "report").exists()


def test_report_on_a_truncated_summary_names_the_file(monkeypatch, tmp_path, capsys, swept):
    from experiments.report import build as report

    broken = run_dirs(tmp_path)[0] / "summary.json"
    broken.write_text(broken.read_text()[:25])
    (tmp_path / "results.parquet").unlink()  # as if never aggregated: report collects first
    capsys.readouterr()
    assert report.main([str(tmp_path)]) == EXIT_BAD_OUTPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(broken) in err[0]
