"""``python -m experiments.collect SWEEP_DIR [--csv]``: aggregate a sweep folder (see
:mod:`experiments.sweeps.collect`, whose :func:`~experiments.sweeps.collect.collect_command` this
entry point calls with the parsed command line)."""

import argparse
import sys
from pathlib import Path

from experiments.sweeps.collect import collect_command
from experiments.sweeps.submit import wait_for_jobs


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and aggregate; the exit code (0, 2, 3 or 4: see the README)."""
    parser = argparse.ArgumentParser(
        prog="python -m experiments.collect",
        description="Aggregate a sweep folder into results.parquet, summary.csv, dictionary.csv and failures.csv.",
    )
    parser.add_argument("sweep_dir", type=Path, help="the sweep folder (hydra.sweep.dir), holding runs/")
    parser.add_argument("--csv", action="store_true",
                        help="also write results.csv: every run's weekly table, one row per run x week, for a "
                             "spreadsheet (the same rows as results.parquet)")
    parser.add_argument("--wait", action="store_true",
                        help="first wait for the jobs of a sweep submitted with hydra.sweeper.detach=true "
                             "(experiments.sweeps.submit), then aggregate")
    args = parser.parse_args(argv)
    waited = wait_for_jobs(args.sweep_dir) if args.wait else 0
    return max(waited, collect_command(args.sweep_dir, results_csv=args.csv))


if __name__ == "__main__":
    sys.exit(main())
