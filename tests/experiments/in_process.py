"""The command line, run in the test's own process: the same code path as ``python -m
experiments.run ARGS`` without paying the interpreter's start-up and imports each time."""

from __future__ import annotations

import sys
from pathlib import Path
from unittest import mock


def run_command(*args: str) -> int:
    """``python -m experiments.run ARGS`` in this process; its exit code."""
    from experiments.run import main

    with mock.patch.object(sys, "argv", ["experiments.run", *args]):
        try:
            main()
        except SystemExit as done:
            return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0


def sweep(sweep_dir: Path, *overrides: str) -> Path:
    """``python -m experiments.run -m OVERRIDES hydra.sweep.dir=SWEEP_DIR``; fails unless it exits 0."""
    code = run_command("-m", *overrides, f"hydra.sweep.dir={sweep_dir}")
    assert code == 0, f"the sweep exited with {code}"
    return sweep_dir
