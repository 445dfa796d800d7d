"""Nothing silent: every failure reaches the exit code (issue 22).

An empty sweep folder, a deleted run or manifest, a run that never reported back, a damaged line
of ``progress.log``, an error inside the sweep's aggregation and a broken YAML file in a user's
``--config-dir`` each end with one line saying what is wrong and a non-zero exit code, and no
table is left that does not match the sweep's runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from in_process import run_command

from experiments.outputs import EXIT_BAD_INPUT, EXIT_BAD_OUTPUT, EXIT_ERROR, EXIT_RUNS_FAILED, write_json
from experiments.collect import main as collect_main
from experiments.sweeps import collect as collect_cli

TINY = ["experiment=compare_strategies", "replicates=1", "n_graduates=40", "weeks=4",
        "hydra.sweeper.params.strategy='course_only,peer_group'"]
TABLES = ("results.parquet", "summary.csv")


def sweep(sweep_dir: Path) -> int:
    """The tiny sweep (2 runs) into ``sweep_dir``; its exit code."""
    return run_command("-m", *TINY, f"hydra.sweep.dir={sweep_dir}")


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("finished_sweep")
    assert sweep(folder) == 0
    return folder


@pytest.fixture
def swept(finished_sweep, tmp_path) -> Path:
    """A copy of the finished tiny sweep (modification times kept), for a test to break."""
    shutil.copytree(finished_sweep, tmp_path / "sweep")
    return tmp_path / "sweep"


def run_names(sweep_dir: Path) -> list[str]:
    return sorted(p.name for p in (sweep_dir / "runs").iterdir() if p.is_dir())


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


# --- 1. a sweep folder without runs ---------------------------------------------------------------


@pytest.mark.parametrize("content", ["nothing", "an unfinished run"])
def test_collect_on_a_sweep_folder_without_runs_fails_naming_it(tmp_path, capsys, content):
    (tmp_path / "runs").mkdir()
    if content == "an unfinished run":
        (tmp_path / "runs" / "strategy=peer_group").mkdir()
    assert collect_main([str(tmp_path)]) == EXIT_BAD_INPUT
    line = one_error_line(capsys)
    assert str(tmp_path) in line and "no finished runs" in line


# --- 2. runs of the sweep missing -----------------------------------------------------------------


@pytest.mark.parametrize("deleted", ["run folder", "manifest"])
def test_a_deleted_run_is_named_by_collect_and_report(swept, capsys, deleted):
    from experiments.report import build as report

    gone = swept / "runs" / run_names(swept)[1]
    if deleted == "run folder":
        shutil.rmtree(gone)
    else:
        (gone / "manifest.json").unlink()
    capsys.readouterr()
    # the report first: its tables look fresh, so it does not collect again
    assert report.main([str(swept)]) == EXIT_BAD_OUTPUT
    line = one_error_line(capsys)
    assert "1 of 2 runs" in line and gone.name in line
    assert not (swept / "report").exists()

    assert collect_main([str(swept)]) == EXIT_BAD_OUTPUT
    line = one_error_line(capsys)
    assert "1 of 2 runs" in line and gone.name in line and "manifest.json" in line
    assert not any((swept / name).exists() for name in TABLES)


def test_a_run_that_never_reported_back_is_named(swept, capsys):
    """A sweep still running or cancelled: the last run has no line in progress.log. What finished
    is collected (a cluster user looks at a part-done sweep; scripts/slurm_test.py does), and one
    warning names the run its batch's plan launched."""
    log = swept / "progress.log"
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:-1]))
    lost = lines[-1].rstrip("\n").split("\t")[-1]
    capsys.readouterr()
    assert collect_main([str(swept)]) == 0
    captured = capsys.readouterr()
    warnings = [x for x in captured.err.splitlines() if x.startswith("warning:")]
    assert len(warnings) == 1 and "1 of 2 runs" in warnings[0] and "not finished" in warnings[0]
    assert lost in warnings[0] and "Collected 1 run" in captured.out


# --- 3. a damaged progress.log; failures of the sweep's aggregation --------------------------------


def test_a_line_of_progress_log_that_is_not_utf8_does_not_crash_collect(swept, capsys):
    with open(swept / "progress.log", "ab") as log:
        log.write(b"\xff\xfe\tdone\t0.1\tgarbage \xc3\x28\n")
    assert collect_main([str(swept)]) == 0
    assert "Collected 2 runs" in capsys.readouterr().out


@pytest.mark.parametrize("failed", [1, 2])
def test_collect_exits_3_when_runs_of_the_sweep_failed(swept, capsys, failed):
    """Every command exits 3 when runs failed; with none left, no earlier table stays either."""
    from experiments.outputs import read_sweep
    from experiments.sweeps.callback import append_progress

    names = run_names(swept)[:failed]
    for name in names:
        write_json(swept / "runs" / name / "error.json", {"overrides": [name], "error": "RuntimeError: crash"})
    append_progress(swept, read_sweep(swept)["id"], "failed", [(name, 0.1) for name in names])
    assert collect_main([str(swept)]) == EXIT_RUNS_FAILED
    assert f"{failed} failed" in capsys.readouterr().out
    assert all((swept / name).exists() for name in TABLES) == (failed == 1)


def test_an_error_inside_the_sweeps_aggregation_reaches_the_exit_code(swept, capsys, monkeypatch):
    """Hydra turns an exception of ``on_multirun_end`` into a warning and exits 0: it must not."""
    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the summary")

    monkeypatch.setattr(collect_cli, "summarise_runs", broken)
    capsys.readouterr()
    assert sweep(swept) == EXIT_ERROR  # a resume: both runs skipped, then aggregation fails
    line = one_error_line(capsys)
    assert "aggregation failed: RuntimeError: a bug in the summary" in line
    assert not any((swept / name).exists() for name in TABLES)  # neither stale nor half-new


def test_a_sweep_that_never_aggregates_leaves_no_earlier_tables(swept, monkeypatch):
    """As if killed after its runs: the tables of the earlier sweep must not pass for this one's."""
    from experiments.sweeps.callback import SweepCallback

    monkeypatch.setattr(SweepCallback, "on_multirun_end", lambda self, config, **kwargs: None)
    assert sweep(swept) == 0
    assert not any((swept / name).exists() for name in TABLES)


# --- 4. a broken file in a user's --config-dir ------------------------------------------------------


@pytest.mark.parametrize("text,problem", [
    (b"name: mine\n  bad: [1, 2\n", "line 2, column 6: not valid YAML"),
    (b"name: mine\nlabel: caf\xe9\n", "line 2: not UTF-8 text"),
])
@pytest.mark.parametrize("form", ["--config-dir DIR", "--config-dir=DIR"])
def test_a_broken_yaml_file_in_a_config_dir_is_named_with_its_line(tmp_path, capsys, text, problem, form):
    own = tmp_path / "own_configs"
    (own / "strategy").mkdir(parents=True)
    (own / "strategy" / "mine.yaml").write_bytes(text)
    option = ["--config-dir", str(own)] if form == "--config-dir DIR" else [f"--config-dir={own}"]
    out = tmp_path / "run"
    assert run_command(*option, "strategy=mine", "n_graduates=40", "weeks=4", f"hydra.run.dir={out}") == EXIT_BAD_INPUT
    line = one_error_line(capsys)
    assert str(own / "strategy" / "mine.yaml") in line and problem in line
    assert not out.exists()


# --- 5. a run folder that cannot be written -----------------------------------------------------------


def test_a_run_folder_that_is_a_file_marks_the_run_failed_and_the_sweep_goes_on(swept, capsys):
    """The sweep's rerun finds one run's folder replaced by a file: that run fails with one line,
    the other is aggregated, failures.csv names it, exit 3, no traceback."""
    blocked = swept / "runs" / run_names(swept)[1]
    shutil.rmtree(blocked)
    blocked.write_text("not a folder")
    capsys.readouterr()
    assert sweep(swept) == EXIT_RUNS_FAILED
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    lines = [x for x in captured.err.splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and blocked.name in lines[0] and "cannot be written" in lines[0]
    import pandas as pd

    failures = pd.read_csv(swept / "failures.csv")
    assert list(failures["run_id"]) == [blocked.name]
    assert len(pd.read_parquet(swept / "results.parquet")["run_id"].unique()) == 1
    assert collect_main([str(swept)]) == EXIT_RUNS_FAILED  # collect again: the same answer


def test_a_full_disk_marks_the_run_failed_in_one_line_and_the_sweep_goes_on(swept, capsys, monkeypatch):
    """The disk fills while one run writes (ENOSPC on every file of its folder, error.json included):
    that run fails with one line naming it and the disk's message, its error goes to the sweep's
    unwritable_runs/, the other run is aggregated, failures.csv names it, exit 3, no traceback (it
    was a chained ENOSPC traceback)."""
    import contextlib
    import errno

    from experiments import outputs

    blocked = swept / "runs" / run_names(swept)[1]
    shutil.rmtree(blocked)  # so that the rerun redoes it
    real = outputs.atomic_path

    @contextlib.contextmanager
    def full(path):
        if Path(path).parent.resolve() == blocked.resolve():
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        with real(path) as tmp:
            yield tmp

    monkeypatch.setattr(outputs, "atomic_path", full)
    capsys.readouterr()
    assert sweep(swept) == EXIT_RUNS_FAILED
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    lines = [x for x in captured.err.splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and blocked.name in lines[0] and "No space left on device" in lines[0]
    import pandas as pd

    assert list(pd.read_csv(swept / "failures.csv")["run_id"]) == [blocked.name]
    assert (swept / "unwritable_runs" / f"{blocked.name}.json").is_file()
    assert len(pd.read_parquet(swept / "results.parquet")["run_id"].unique()) == 1


# --- 6. a run records what it used, and replays byte for byte -------------------------------------


def test_a_psa_run_records_its_draws_and_replays_byte_for_byte(tmp_path, capsys):
    import json

    from experiments.run import replay

    folder = tmp_path / "psa"
    assert run_command("-m", "experiment=psa", "replicates=2", "n_graduates=40", "weeks=4",
                       "hydra.sweeper.params.strategy='peer_group'", f"hydra.sweep.dir={folder}") == 0
    runs = sorted((folder / "runs").iterdir())
    summaries = [json.loads((r / "summary.json").read_text()) for r in runs]
    drawn = [s["parameters"]["dynamics"]["retention"] for s in summaries]
    assert drawn[0] != drawn[1]  # each replicate's own draws, as the model used them
    capsys.readouterr()
    out = tmp_path / "again"
    assert replay(runs[1], out) == 0
    assert "identical" in capsys.readouterr().out
    assert (out / "weekly.parquet").read_bytes() == (runs[1] / "weekly.parquet").read_bytes()
    # the replay runs the recorded values, not the config's: the PSA's posterior file is gone
    posterior = summaries[1]["overrides"]
    config = (runs[1] / "config.yaml").read_text()
    (runs[1] / "config.yaml").write_text(config.replace("posterior: ", "posterior_was: ", 1))
    assert replay(runs[1]) == EXIT_BAD_OUTPUT  # a changed file of the run: no longer what it recorded
    (runs[1] / "config.yaml").write_text(config)
    assert replay(runs[1]) == 0, posterior


def test_a_single_run_replays_from_the_command_line(tmp_path, capsys):
    run = tmp_path / "one"
    assert run_command("n_graduates=40", "weeks=4", "strategy=telephone", f"hydra.run.dir={run}") == 0
    capsys.readouterr()
    assert run_command("--replay", str(run)) == 0
    out = capsys.readouterr().out
    assert "6 files identical" in out and (run / "trajectories.png").exists()  # the plot too
    (run / "weekly.csv").write_text("week\n0\n")  # damaged: not a finished run any more
    assert run_command("--replay", str(run)) == EXIT_BAD_OUTPUT
    assert "weekly.csv" in one_error_line(capsys)
    assert run_command("--replay", str(tmp_path / "nothing")) == EXIT_BAD_INPUT
    assert "finished run" in one_error_line(capsys)


# --- 7. every measure finite -----------------------------------------------------------------------


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_run_that_produces_a_non_finite_measure_fails_naming_it(monkeypatch, bad):
    import sim
    from sim.model import NonFiniteOutput

    model = sim.SelfManagementModel(40, 4, rng=1)
    monkeypatch.setitem(model.datacollector.model_vars, "mean_habit",
                        [0.1, 0.2, bad, 0.3])
    model.running = False
    with pytest.raises(NonFiniteOutput, match=r"mean_habit at week 2"):
        model.run()


def test_an_empty_subgroup_may_be_nan_but_nothing_else():
    from experiments.config import load_params
    from sim.model import SelfManagementModel

    p = load_params(["population.group_averse_share=0", "n_graduates=2", "weeks=3"])
    model = SelfManagementModel.from_params(p).run()  # an empty subgroup: its mean is NaN, allowed
    import math

    assert math.isnan(model.datacollector.model_vars["mean_gain_sd_group_averse"][-1])
    assert math.isfinite(model.datacollector.model_vars["mean_gain_sd"][-1])


def test_a_non_finite_single_run_exits_1_with_one_line(tmp_path, capsys, monkeypatch):
    from sim.core import ArrayModel  # the check every engine's model runs (the default: batched)

    original = ArrayModel.check_finite

    def poisoned(self):
        self.datacollector.model_vars["share_lonely"][-1] = float("nan")
        original(self)

    monkeypatch.setattr(ArrayModel, "check_finite", poisoned)
    run = tmp_path / "one"
    assert run_command("n_graduates=40", "weeks=4", f"hydra.run.dir={run}") == EXIT_ERROR
    line = one_error_line(capsys)
    assert "share_lonely at week 4" in line
    assert not (run / "manifest.json").exists()


def test_one_replicate_prints_no_nan_and_says_why_there_is_no_interval(finished_sweep, capsys):
    """The tiny sweep has one replicate per strategy: the console table says there is no interval
    (issue 24: it printed '(nan to nan)')."""
    capsys.readouterr()
    assert collect_main([str(finished_sweep)]) == 0
    out = capsys.readouterr().out
    assert "(nan" not in out and "nan)" not in out
    assert "(one run: no interval)" in out


@pytest.mark.parametrize("launcher", ["slurm", "submitit_slurm"])
def test_a_slurm_launcher_without_slurm_here_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys, launcher):
    """Without sbatch and srun on the PATH, submitit fails with a traceback after the sweep folder is
    made (issue 24); the command refuses first: one line naming the launcher and the missing tools."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-slurm-here"))
    out = tmp_path / "sweep"
    capsys.readouterr()
    assert run_command("-m", *TINY, f"hydra/launcher={launcher}", f"hydra.sweep.dir={out}") == EXIT_BAD_INPUT
    err = [x for x in capsys.readouterr().err.splitlines() if x.strip()]
    assert len(err) == 1 and f"hydra/launcher={launcher!r}" in err[0].replace('"', "'")
    assert "not found: sbatch, srun" in err[0] and "hydra/launcher=local" in err[0]
    assert not out.exists()


def test_an_analysis_error_of_a_command_is_one_line_and_its_exit_code(tmp_path, capsys):
    """experiments.outputs.with_exit_code, which the report and the decision analysis run their
    analyses through: a result and 0; a bad value or missing sweep 2; an unreadable output 4; each
    error in one line, no traceback; anything else is not swallowed."""
    from experiments.outputs import OutputError, with_exit_code

    def fails(err):
        raise err

    assert with_exit_code(lambda x, y=1: x + y, 2, y=3) == (5, 0)
    for err, code in ((ValueError("strategy='course_only' is not in the sweep"), EXIT_BAD_INPUT),
                      (FileNotFoundError("no finished run"), EXIT_BAD_INPUT),
                      (OutputError(tmp_path / "summary.json", "truncated"), EXIT_BAD_OUTPUT)):
        capsys.readouterr()
        assert with_exit_code(fails, err) == (None, code)
        lines = capsys.readouterr().err.strip().splitlines()
        assert lines == [f"error: {err}"]
    with pytest.raises(KeyError):
        with_exit_code(fails, KeyError("a bug"))
