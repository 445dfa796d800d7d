"""Sweeps: checking every sweep point, what each run of a sweep does, and the callback around it.

A sweep is ``python -m experiments.run -m experiment=NAME [overrides]``. Around it:

* before anything is written, the project's sweeper (``hydra_plugins/after_the_course``) checks
  every sweep point (:func:`check_sweep`; a bad one stops the sweep, exit code 2), then records
  the sweep in ``sweep.json`` with an id (:func:`start_sweep`);
* each run (:func:`run_in_sweep`) is skipped when its folder holds a finished run (every file
  matching its ``manifest.json``) of the same identity (model parameters, engine, model code), so
  rerunning an interrupted sweep redoes only what is missing; it records a failure in
  ``error.json`` instead of stopping the sweep, and appends its line (sweep id, status, seconds,
  run) to ``progress.log`` with an estimate of the time left;
* at the end, :class:`SweepCallback` aggregates this sweep's runs (:mod:`experiments.collect`)
  and sets the exit code (3 when runs failed, 4 when an output is missing or cannot be read,
  1 when aggregation fails otherwise).

Run folders are ``SWEEP_DIR/runs/<overrides>``: named by the run's own overrides, so the same
command finds the same folders again whatever the launcher and the order of the jobs.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from experiments.outputs import (
    EXIT_BAD_OUTPUT,
    EXIT_ERROR,
    EXIT_RUNS_FAILED,
    PROGRESS,
    OutputError,
    ProgressLog,
    read_sweep,
    verify_run,
    write_json,
)


class CachedParser:
    """Hydra's override parser, each distinct override parsed once: a sweep's thousands of jobs are
    made of a few distinct overrides (``replicate=17``, ``strategy=online``), and Hydra's grammar
    takes about a millisecond per override. Overrides are parsed one by one either way."""

    def __init__(self, parser: Any) -> None:
        self._parser, self._parsed = parser, {}

    def parse_overrides(self, overrides: list[str]) -> list:
        out = []
        for line in overrides:
            parsed = self._parsed.get(line)
            if parsed is None:
                (parsed,) = self._parser.parse_overrides([line])
                self._parsed[line] = parsed
            out.append(parsed)
        return out


def check_sweep(config: DictConfig, jobs: list[list[str]], config_loader: Any, parser: Any = None) -> list[str | None]:
    """Validate every sweep point before the first run starts; raise ParameterError (one line).
    Returns each job's run identity (None for ``seed=null``: known once the run finds its seed).

    Composes once per distinct choice of config groups (``strategy=...``), applies each job's
    other overrides to a copy (checking each key and value against the schema) and validates the
    job's parameters as its run would.
    """
    import copy

    from omegaconf import OmegaConf, open_dict

    from experiments.config import check_keys, check_value, params_of, run_identity
    from sim.params import ParameterError

    def identity(run: Any, params: Any) -> str | None:
        return run_identity(params, run.engine) if run.seed is not None else None

    launcher = config.hydra.launcher
    if "n_jobs" in launcher:
        n_jobs = launcher.n_jobs
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
            raise ParameterError("hydra.launcher.n_jobs", n_jobs,
                                 "must be a whole number: 1 or more workers, or -1 for one per core")
    replicates = config.get("replicates")
    if isinstance(replicates, int) and replicates < 1:
        raise ParameterError("replicates", replicates, "must be a whole number >= 1 (a sweep needs a run)")
    if not jobs:
        raise ParameterError("hydra.sweeper.params", None, "the sweep has no runs; give at least one value to sweep")

    parser = parser or CachedParser(OverridesParser.create(config_loader=config_loader))
    composed: dict[tuple[str, ...], DictConfig] = {}
    identities: list[str | None] = []
    validated: dict[tuple, Any] = {}
    split = []
    for job in jobs:
        groups, values = [], []
        for o in parser.parse_overrides(job):
            if not o.is_delete() and config_loader.repository.group_exists(o.key_or_group):
                groups.append(o.input_line)
            else:
                values.append(o)
        split.append((job, groups, values))
    # The values every job shares (the command line's own, not swept) are composed with the group
    # choices, as each batch's job is (batches.plan_batches): so that an in-process launcher can
    # reuse this composition for the job (hydra_plugins/after_the_course/sweeper.py, ComposedOnce).
    plain = [{o.input_line for o in values if not (o.is_delete() or o.is_add() or o.is_force_add())}
             for _, _, values in split]  # plain assignments: deleting or adding keys is checked per run below
    common = set.intersection(*plain)
    for job, groups, values in split:
        key = (*groups, *(o.input_line for o in values if o.input_line in common))
        if key not in composed:
            try:
                full = config_loader.load_sweep_config(config, list(key))
            except Exception as err:  # noqa: BLE001 - Hydra's composition errors, as one line
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise ParameterError(" ".join(groups) or "config", None, first) from None
            with open_dict(full):
                del full["hydra"]  # not needed to validate, and most of what a copy would copy
            composed[key] = full
        # jobs that differ only by replicate share their config: convert it once, then check each
        # replicate's parameters (the seed, and a PSA's draws, depend on the replicate)
        replicate = [o for o in values if o.key_or_group == "replicate"]
        sig = (key, tuple(o.input_line for o in values if o.key_or_group != "replicate"))
        if len(replicate) == 1 and sig in validated:
            value = replicate[0].value()
            check_value("replicate", value)
            try:
                identities.append(identity(validated[sig], params_of(validated[sig], value)))
            except ParameterError as err:
                raise ParameterError(err.key, err.value,
                                     f"{err.allowed} (in the sweep point {' '.join(job)})") from None
            continue
        cfg = copy.deepcopy(composed[key])
        for o in values:
            name = o.key_or_group.lstrip("+~")
            if o.is_delete():
                raise ParameterError(name, None, "deleting a parameter (~key) is not allowed in a sweep")
            value = o.value()
            check_value(name, value)
            try:
                if o.is_add() or o.is_force_add():
                    with open_dict(cfg):
                        OmegaConf.update(cfg, name, value, merge=True, force_add=True)
                else:
                    OmegaConf.update(cfg, name, value, merge=True)
            except Exception as err:  # noqa: BLE001 - OmegaConf's validation errors, as one line
                raise ParameterError(name, value, str(err).strip().splitlines()[0]) from None
        try:
            check_keys(cfg)
            run = OmegaConf.to_object(cfg)
            identities.append(identity(run, params_of(run)))
        except ParameterError as err:
            raise ParameterError(err.key, err.value, f"{err.allowed} (in the sweep point {' '.join(job)})") from None
        validated[sig] = run
    return identities


def start_sweep(sweep_dir: Path, runs: int, overrides: list[str]) -> dict:
    """Record a sweep's start in ``sweep.json``: its id (each run's line in ``progress.log``
    carries it, so aggregation takes exactly this sweep's runs), size, time and process.

    The tables of an earlier sweep into the folder are removed first: from now on they describe
    another sweep, and if this one never reaches its aggregation (killed, or aggregation fails)
    they must not be read as its results."""
    import uuid

    from experiments.sweeps.collect import remove_tables

    remove_tables(sweep_dir)
    info = {"id": uuid.uuid4().hex[:12], "runs": runs, "started": time.time(), "pid": os.getpid(),
            "overrides": overrides}
    write_json(Path(sweep_dir) / "sweep.json", info)
    print(f"Sweep of {runs} runs into {sweep_dir}", flush=True)
    return info


#: Folders that existed before Hydra created a single run's output folder (see :func:`remove_created`).
_EXISTED: set[Path] = set()


def remove_created(out_dir: Path) -> None:
    """Remove ``out_dir`` and the parents Hydra created for it, if empty (a refused run)."""
    p = Path(out_dir).absolute()
    while p != p.parent and p not in _EXISTED:
        try:
            p.rmdir()  # only an empty folder
        except OSError:
            return
        p = p.parent


#: The progress echo of the sweep this process runs under a submitit launcher (:class:`ProgressEcho`).
_ECHO: dict[str, Any] = {}


class SweepCallback(Callback):
    """Aggregates a sweep's folder after it (the sweeper records its start: :func:`start_sweep`);
    before a single run, notes which folders of its output path already exist."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _EXISTED.clear()
        p = Path(str(config.hydra.run.dir)).absolute()
        while True:
            if p.exists():
                _EXISTED.add(p)
            if p == p.parent:
                break
            p = p.parent

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Under a launcher whose jobs print elsewhere (submitit: each job's log in ``.submitit/``),
        echo the sweep's ``[k/n]`` progress on this console from ``progress.log`` (:class:`ProgressEcho`)."""
        if "submitit" in str(config.hydra.launcher.get("_target_", "")):
            # kept outside this callback: submitit pickles the launcher, and with it the callbacks
            _ECHO["echo"] = ProgressEcho(Path(config.hydra.sweep.dir))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        echo = _ECHO.pop("echo", None)
        if echo is not None:
            echo.stop()
        if submitted_and_left(Path(config.hydra.sweep.dir)):
            return  # a detached sweep: its jobs are queued; experiments.collect --wait aggregates later
        self._aggregate(config)

    def _aggregate(self, config: DictConfig) -> None:
        """Aggregate the sweep and set the exit code. Hydra turns an exception raised here into a
        warning and exits 0, so every exception is caught: reported in one line and passed on as
        the exit code (4 for an unreadable or missing output, 1 for anything else). Aggregation
        leaves no table behind when it fails (:func:`experiments.sweeps.collect.collect`)."""
        from experiments.sweeps.collect import collect, print_summary

        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            result = collect(sweep_dir)
            print_summary(result)
        except OutputError as err:
            print(f"error: aggregation failed: {err}", file=sys.stderr, flush=True)
            set_exit_code(EXIT_BAD_OUTPUT)
            return
        except Exception as err:  # noqa: BLE001 - an unexpected error must still reach the exit code
            print(f"error: aggregation failed: {type(err).__name__}: {err} "
                  f"(to retry: python -m experiments.collect {sweep_dir})", file=sys.stderr, flush=True)
            set_exit_code(EXIT_ERROR)
            return
        if result.failures:
            set_exit_code(EXIT_RUNS_FAILED)


#: The exit code the command ends with (set by the sweep, read by :func:`experiments.run.main`).
_EXIT = {"code": 0}


def set_exit_code(code: int) -> None:
    _EXIT["code"] = max(_EXIT["code"], code)


def pop_exit_code() -> int:
    code, _EXIT["code"] = _EXIT["code"], 0
    return code


#: Files a run may write (besides ``.hydra/``): removed before a run is redone, so that no file
#: of an older run is left beside the new one.
RUN_FILES = ("manifest.json", "summary.json", "config.yaml", "weekly.parquet", "weekly.csv",
             "graduates.parquet", "trajectories.png", "error.json", "run.log")


def finished(out_dir: Path, digest: str) -> bool:
    """Whether ``out_dir`` holds a finished run of identity ``digest`` whose every file verifies."""
    try:
        manifest = verify_run(out_dir)
    except OutputError:
        return False  # truncated or changed: redo
    return manifest is not None and manifest.get("identity") == digest


def clear_run(out_dir: Path) -> None:
    """Remove what an earlier, unfinished or outdated run left in ``out_dir`` (manifest first)."""
    for name in RUN_FILES:
        (out_dir / name).unlink(missing_ok=True)
    for tmp in out_dir.glob(".*.tmp"):  # temporaries of a run killed while writing
        tmp.unlink(missing_ok=True)


def run_in_sweep(cfg: DictConfig, out_dir: Path, run: Any, overrides: list[str], params_for: Any) -> str:
    """One run of a sweep: skip if done, record a failure instead of raising; report progress.

    ``params_for(cfg)`` gives the run's validated parameters; ``run(cfg, out_dir, params,
    overrides)`` does the work (``overrides``: the run's own). Returns "done", "skipped" or "failed".
    """
    from experiments.config import fix_seed, run_identity

    watch_sweep()
    started = time.perf_counter()
    digest = None
    try:
        fix_seed(cfg, out_dir)  # seed=null: the seed an earlier attempt recorded, or a fresh one
        params = params_for(cfg)
        digest = run_identity(params, cfg.engine)
        if finished(out_dir, digest):
            status = "skipped"
        else:
            clear_run(out_dir)
            run(cfg, out_dir, params, overrides)
            status = "done"
    except Exception as err:  # noqa: BLE001 - a failed run is recorded and the sweep goes on
        record = {"overrides": list(overrides), "error": f"{type(err).__name__}: {err}",
                  "traceback": traceback.format_exc(), "identity": digest}
        try:
            clear_run(out_dir)  # no older run's outputs beside this failure
            write_json(out_dir / "error.json", record)
        except OSError as unwritable:  # the run's folder is a file, read-only, or the disk is full
            record["error"] += f"; and its folder cannot be written ({unwritable.strerror or unwritable})"
            try:
                write_json(Path(HydraConfig.get().sweep.dir) / UNWRITABLE / f"{out_dir.name}.json", record)
            except OSError:
                pass  # the sweep folder too: progress.log (below) still counts the run as failed
            print(f"error: run {out_dir.name} failed: {record['error']}", file=sys.stderr, flush=True)
        status = "failed"
    _report_progress(out_dir, status, time.perf_counter() - started)
    return status


#: Where a failed run's error.json goes when its own folder cannot be written (in the sweep folder).
UNWRITABLE = "unwritable_runs"

_WATCHING: dict[str, bool] = {}
#: How often a worker checks that the sweep's process is alive, and how long it then leaves the
#: interrupted run to clean up before exiting (seconds): the README promises "about a second".
WATCH_POLL_SECONDS = 0.2
WATCH_GRACE_SECONDS = 0.8
#: Set in a parallel sweep's worker once the sweep's process is gone: no new run starts.
_SWEEP_GONE = threading.Event()


def watch_sweep() -> None:
    """In a worker of a parallel sweep: end if the sweep's process has died, else make sure this
    worker ends when it dies (:func:`_watch_parent`). Called before any work of a run or a batch."""
    if _SWEEP_GONE.is_set():  # the sweep was killed and this worker was handed one more job
        os._exit(1)
    _watch_parent(_sweep_record(Path(HydraConfig.get().sweep.dir))[0].get("pid"))


def _watch_parent(sweep_pid: int | None) -> None:
    """In a worker process of a parallel sweep, end this worker when the sweep's process dies.

    joblib's workers outlive a killed parent for minutes; a daemon thread here polls the parent
    process and, once it is gone, interrupts the run (so half-written temporaries are removed)
    and exits. The pool catches that interrupt and may hand the worker its next job, so the
    next run ends the worker before it starts (:data:`_SWEEP_GONE`). Not started in the sweep's
    own process (the default launcher).
    """
    if not sweep_pid or os.getpid() == sweep_pid or _WATCHING.get("on"):
        return
    import _thread

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_POLL_SECONDS)
        _SWEEP_GONE.set()
        _thread.interrupt_main()  # KeyboardInterrupt in the run: atomic writes clean up (milliseconds)
        time.sleep(WATCH_GRACE_SECONDS)  # the pool catches the interrupt and would wait for jobs forever
        os._exit(1)

    threading.Thread(target=watch, name="sweep-parent-watch", daemon=True).start()
    _WATCHING["on"] = True


def append_progress(sweep_dir: Path, sweep_id: str, status: str, runs: list[tuple[str, float]]) -> None:
    """Append one line per run (folder name, seconds) to the sweep's progress log."""
    text = "".join(f"{sweep_id}\t{status}\t{seconds:.3f}\t{name}\n" for name, seconds in runs)
    fd = os.open(Path(sweep_dir) / PROGRESS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, text.encode())  # one O_APPEND write of whole lines: atomic between parallel jobs
    finally:
        os.close(fd)


#: This process's view of the sweep it works for: ``sweep.json`` and its progress log, reread only
#: when ``sweep.json`` changes (a new sweep into the folder).
_SWEEP: dict[str, Any] = {}


def _sweep_record(sweep_dir: Path) -> tuple[dict, ProgressLog]:
    try:
        stamp = (str(sweep_dir), (sweep_dir / "sweep.json").stat().st_mtime_ns)
    except OSError:
        stamp = (str(sweep_dir), None)
    if _SWEEP.get("stamp") != stamp:
        info = read_sweep(sweep_dir)
        _SWEEP.update(stamp=stamp, info=info, log=ProgressLog(sweep_dir, info.get("id")))
    return _SWEEP["info"], _SWEEP["log"]


def _report_progress(out_dir: Path, status: str, seconds: float) -> None:
    """Append this run to the sweep's progress log and print runs done, out of total, and time left."""
    sweep_dir = Path(HydraConfig.get().sweep.dir)
    info, log = _sweep_record(sweep_dir)
    append_progress(sweep_dir, info.get("id", ""), status, [(out_dir.name, seconds)])
    print(progress_line(info, list(log.read().values()), status, out_dir.name, seconds), flush=True)


#: Runs done before the progress line estimates the time left (or a 50th of the sweep, if more).
ETA_AFTER_RUNS = 10


def progress_line(info: dict, mine: list[str], status: str, name: str, seconds: float) -> str:
    """``[done/total] STATUS RUN in S s (k skipped, k failed), about H:MM:SS left``: ``info`` is the
    sweep's ``sweep.json``, ``mine`` the statuses its runs have logged so far (this one included)."""
    done, total = len(mine), info.get("runs")
    failed, skipped = mine.count("failed"), mine.count("skipped")
    left = ""
    # runs finish in bursts (a batch's models run together, then its runs are written one by one),
    # so the time left is estimated once a few of them are in: not from the first run of a burst
    if total and info.get("started") and max(ETA_AFTER_RUNS, total // 50) <= done < total:
        elapsed = time.time() - info["started"]
        left = f", about {_clock(elapsed / done * (total - done))} left"
    extra = ", ".join(f"{n} {word}" for n, word in ((skipped, "skipped"), (failed, "failed")) if n)
    return f"[{done}/{total or '?'}] {status} {name} in {seconds:.1f} s{' (' + extra + ')' if extra else ''}{left}"


class ProgressEcho:
    """Prints a sweep's ``[k/n]`` lines on this console as its runs log them in ``progress.log``.

    Under the submitit launchers each job runs in a process of its own (on a cluster node, or
    started by submitit here) whose output goes to a log file, so the runs' own progress lines
    never reach the console that started the sweep. A daemon thread of that process reads the
    lines appended to the log every :attr:`POLL_SECONDS` (only whole lines, only those of the sweep
    this process started: ``sweep.json`` names its id and process) and prints one line per run done
    or failed, in the format of the runs' own (:func:`progress_line`); skipped runs are counted,
    the sweeper has said how many there are.
    """

    POLL_SECONDS = 0.5

    def __init__(self, sweep_dir: Path) -> None:
        self.sweep_dir, self.started = Path(sweep_dir), time.time()
        self._stop, self._lock = threading.Event(), threading.Lock()
        self._info: dict = {}
        self._offset, self._mine = 0, {}
        self._thread = threading.Thread(target=self._watch, name="sweep-progress-echo", daemon=True)
        self._thread.start()

    def _sweep(self) -> dict:
        info = read_sweep(self.sweep_dir)  # this process's sweep, once the sweeper has recorded it
        return info if info.get("pid") == os.getpid() and info.get("started", 0) >= self.started - 1 else {}

    def _watch(self) -> None:
        while not self._stop.wait(self.POLL_SECONDS):
            self._drain()

    def _drain(self) -> None:
        """Print the whole lines of this sweep appended to the log since the last call."""
        with self._lock:
            self._info = self._info or self._sweep()
            if not self._info:
                return
            try:
                with open(self.sweep_dir / PROGRESS, "rb") as f:
                    f.seek(self._offset)
                    chunk = f.read()
            except OSError:
                chunk = b""
            whole = chunk[:chunk.rfind(b"\n") + 1]
            self._offset += len(whole)
            for line in whole.decode("utf-8", errors="replace").splitlines():
                parts = line.split("\t")
                if len(parts) != 4 or parts[0] != self._info.get("id"):
                    continue
                self._mine[parts[3]] = parts[1]
                if parts[1] != "skipped":
                    try:
                        seconds = float(parts[2])
                    except ValueError:
                        seconds = float("nan")
                    print(progress_line(self._info, list(self._mine.values()), parts[1], parts[3], seconds), flush=True)

    def stop(self) -> None:
        """End the thread, then print what is left of the log here: the last lines reach the console
        before the sweep's summary, however late a loaded machine runs the thread."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._drain()


def submitted_and_left(sweep_dir: Path) -> bool:
    """Whether the latest sweep into ``sweep_dir`` was submitted to a cluster without waiting
    (``hydra.sweeper.detach=true``: :mod:`experiments.sweeps.submit` recorded it)."""
    from experiments.sweeps.submit import detached_sweep

    return detached_sweep(sweep_dir) is not None


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"
