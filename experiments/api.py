"""Sweeps from Python: run an experiment and get its tidy table back.

    from experiments import sweep
    table = sweep("compare_strategies", overrides=["replicates=10", "n_graduates=1000"])

:func:`sweep` runs the command line, ``python -m experiments.run -m experiment=NAME OVERRIDES
hydra.sweep.dir=SWEEP_DIR``, in a child process and reads the table its aggregation wrote
(``results.parquet``, or ``summary.csv``): the same checks before anything runs, the same resume
(finished runs skipped), the same run folders and the same tables as the command, because it *is*
the command. A child process rather than Hydra in this one because a sweep changes process-wide
state that a notebook or a script keeps using (Hydra's global config and logging, the working
folder of its launchers, ``sys.exit`` on bad input) and because the entry point may not be imported
(docs/architecture.md); it costs the child's start, about 2 s.

:func:`default_sweep_dir` is the folder a sweep goes to when the command line names none: derived
from the experiment and the overrides, so that the same command finds the same folder and resumes
(Hydra's own default, a timestamped folder, never resumes).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Where sweeps go when the command line names no folder: ``outputs/sweeps/<experiment>/<overrides>``
#: (relative to the working folder, as Hydra's own ``outputs/``).
SWEEPS_ROOT = Path("outputs") / "sweeps"
#: Longest folder name made of overrides (characters); a longer one is cut and a hash of the whole added.
NAME_CHARS = 100

#: Hydra's command-line options that take a value (the value is not an override).
_OPTIONS_WITH_VALUE = {"--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd", "--cfg", "-c",
                       "--package", "-p", "--experimental-rerun"}
#: Overrides that organise a sweep rather than choose its runs (so not part of the default folder):
#: raising ``replicates`` or changing the launcher resumes the same sweep.
_NOT_NAMING = ("experiment", "replicates", "hydra/launcher", "outputs.")
#: The ``hydra.*`` overrides that do choose a sweep's runs (every other ``hydra.*`` is bookkeeping).
_NAMING_HYDRA = ("hydra.sweeper.params.", "hydra.sweeper.design.")


def overrides_of(argv: Sequence[str]) -> list[str]:
    """The overrides (``key=value``) of a command line, options and their values left out."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _OPTIONS_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            out.append(arg)
    return out


def is_multirun(argv: Sequence[str]) -> bool:
    """Whether a command line of ``experiments.run`` starts a sweep (``-m``, ``--multirun``)."""
    return any(a in ("-m", "--multirun") for a in argv) or "hydra.mode=MULTIRUN" in overrides_of(argv)


def default_sweep_dir(argv: Sequence[str], root: Path | str = SWEEPS_ROOT) -> Path:
    """The sweep folder for a command line that names none: ``ROOT/<experiment>/<its overrides>``.

    The same command gives the same folder, so rerunning it resumes. The overrides that choose the
    runs name it, sorted (so their order does not matter), comma-separated as run folders are;
    ``experiment`` (the parent folder), ``replicates``, the launcher, ``outputs.*`` and Hydra's
    settings other than the sweep's parameters do not (raising ``replicates`` runs only the new
    replicates, in the same folder). A name longer than :data:`NAME_CHARS` is cut and ends in a
    hash of the whole. No overrides: ``default``.
    """
    experiment, named = None, []
    for item in overrides_of(argv):
        key, _, value = item.partition("=")
        key = key.lstrip("+~")
        if key == "experiment":
            experiment = value or None
        elif key.startswith(_NOT_NAMING) or (key.startswith("hydra") and not key.startswith(_NAMING_HYDRA)):
            continue
        else:
            named.append(item)
    name = ",".join(sorted(named))
    for old, new in (("/", "-"), ("'", ""), ('"', ""), (" ", "")):
        name = name.replace(old, new)
    if len(name) > NAME_CHARS:
        name = f"{name[:NAME_CHARS - 13]}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"
    return Path(root) / (experiment or "sweep") / (name or "default")


def with_default_sweep_dir(argv: list[str]) -> list[str]:
    """``argv`` with ``hydra.sweep.dir=`` :func:`default_sweep_dir` added when it starts a sweep
    and names no folder itself; otherwise unchanged."""
    if not is_multirun(argv) or any(o.startswith("hydra.sweep.dir=") for o in overrides_of(argv)):
        return list(argv)
    return [*argv, f"hydra.sweep.dir={quoted(default_sweep_dir(argv))}"]


def quoted(path: Path | str) -> str:
    """``path`` as a quoted value of Hydra's override grammar (a folder named by overrides holds
    ``=`` and ``,``, which the grammar reads as syntax unless quoted)."""
    return "'" + str(path).replace("\\", "\\\\").replace("'", "\\'") + "'"


class SweepError(RuntimeError):
    """A sweep started by :func:`sweep` that did not end normally: ``code`` is the command's exit
    code (2 bad input, nothing ran; 3 some runs failed; 4 an output unreadable; 1 anything else),
    the message its error lines."""

    def __init__(self, message: str, code: int, sweep_dir: Path) -> None:
        super().__init__(message)
        self.code, self.sweep_dir = code, sweep_dir


#: The command's exit code when some runs failed (``experiments.outputs.EXIT_RUNS_FAILED``; this module
#: imports nothing of the package, which imports it: ``experiments.sweep``).
RUNS_FAILED = 3

#: The tables :func:`sweep` can return, by name: the files ``experiments.collect`` writes.
TABLES = {"results": "results.parquet", "summary": "summary.csv"}


def sweep(experiment: str | None, overrides: Sequence[str] = (), sweep_dir: str | Path | None = None,
          table: str = "results", failed_runs: str = "raise", quiet: bool = False,
          config_dir: str | Path | None = None) -> Any:
    """Run an experiment's sweep (resuming one already in ``sweep_dir``) and return its table.

    Args:
        experiment: a file of ``configs/experiment/`` without ``.yaml`` (``compare_strategies``),
            or None for a sweep given wholly by ``overrides``.
        overrides: Hydra overrides as on the command line (``["replicates=4", "n_graduates=500",
            "strategy=course_only,peer_group", "hydra/launcher=local"]``).
        sweep_dir: the sweep folder; None: :func:`default_sweep_dir`, as the command line's.
        table: ``results`` (one row per run x week: ``results.parquet``) or ``summary`` (means,
            intervals and paired differences: ``summary.csv``).
        failed_runs: ``raise`` (:class:`SweepError`, code 3) or ``warn`` (a warning, and the table
            of the runs that did finish) when some runs fail.
        quiet: do not print the sweep's progress and summary (printed line by line otherwise).
        config_dir: a folder of your own config groups (``--config-dir``).

    Returns:
        The table as a pandas DataFrame, read from the file the sweep's aggregation wrote.

    Raises:
        ValueError: bad arguments of this function (named).
        SweepError: the sweep did not end normally (bad input: nothing ran; the message is the
            command's one line naming the key and what is allowed).
    """
    import warnings

    if table not in TABLES:
        raise ValueError(f"table={table!r} is not allowed: must be one of {sorted(TABLES)}")
    if failed_runs not in ("raise", "warn"):
        raise ValueError(f"failed_runs={failed_runs!r} is not allowed: must be 'raise' or 'warn'")
    if isinstance(overrides, str):
        raise ValueError(f"overrides={overrides!r} is not allowed: must be a list of overrides, e.g. ['replicates=4']")
    overrides = [str(o) for o in overrides]
    if any(o.partition("=")[0] in ("hydra.sweep.dir", "experiment") for o in overrides):
        raise ValueError("overrides must not set hydra.sweep.dir or experiment: pass sweep_dir= and experiment=")
    if any(o.replace(" ", "").lower() in ("hydra.sweeper.detach=true", "hydra.sweeper.detach=yes")
           for o in overrides):
        raise ValueError("hydra.sweeper.detach=true is not allowed here: sweep() waits for the table; submit a "
                         "detached sweep from the command line")
    args = ["-m", *([f"experiment={experiment}"] if experiment else []), *overrides]
    if config_dir is not None:
        args = ["--config-dir", str(Path(config_dir).absolute()), *args]
    folder = Path(sweep_dir) if sweep_dir is not None else default_sweep_dir(args)
    folder = folder.expanduser().absolute()
    code, errors = _run_command([*args, f"hydra.sweep.dir={quoted(folder)}"], quiet)
    message = "; ".join(line for line in errors if line.startswith("error:")) or "\n".join(errors[-5:])
    if code == RUNS_FAILED and failed_runs == "warn":
        warnings.warn(f"some runs of the sweep in {folder} failed (see {folder / 'failures.csv'}); "
                      "the table holds the others", stacklevel=2)
    elif code:
        raise SweepError(f"the sweep into {folder} ended with exit code {code}: {message or 'no message'}",
                         code, folder)
    return _read_table(folder / TABLES[table])


def _read_table(path: Path) -> Any:
    import pandas as pd

    if not path.is_file():
        raise SweepError(f"the sweep ended normally but wrote no {path.name} (no run finished?): {path}", 1,
                         path.parent)
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


#: The project's folder (holding ``experiments/``): put on the child's import path.
_ROOT = Path(__file__).resolve().parent.parent


def _run_command(args: list[str], quiet: bool) -> tuple[int, list[str]]:
    """``python -m experiments.run ARGS`` in a child process, its output passed on line by line
    (unless ``quiet``); returns its exit code and its error output's lines."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-m", "experiments.run", *args], env=env, text=True, bufsize=1,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    errors: list[str] = []

    def read_errors() -> None:  # on its own thread: a full stderr pipe would stall the child
        for line in proc.stderr:
            errors.append(line.rstrip("\n"))
            if not quiet:
                print(line, end="", file=sys.stderr, flush=True)

    reader = threading.Thread(target=read_errors, daemon=True)
    reader.start()
    try:
        for line in proc.stdout:
            if not quiet:
                print(line, end="", flush=True)
        code = proc.wait()
    except BaseException:  # interrupted (Ctrl-C in a notebook): end the sweep too; rerun to resume
        proc.terminate()
        proc.wait()
        raise
    reader.join()
    return code, errors
