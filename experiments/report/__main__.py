"""``python -m experiments.report SWEEP_DIR``: the report of a sweep (see :mod:`experiments.report.build`).

The roof over the report: for a PSA sweep it first runs the value-of-information analysis
(:mod:`experiments.analyses.decision`, writing ``SWEEP_DIR/voi/``) when its files are missing or
older than the sweep's runs, then builds the report, which only reads them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments.analyses import decision
from experiments.report import build


def main(argv: list[str] | None = None) -> int:
    """Run the PSA's analysis if needed, then :func:`experiments.report.build.main` with the same arguments."""
    parser = argparse.ArgumentParser(add_help=False)  # build.main parses (and explains) the arguments
    parser.add_argument("sweep_dir", type=Path, nargs="?")
    parser.add_argument("--out")
    args, _ = parser.parse_known_args(argv)
    sweep_dir = args.sweep_dir
    if sweep_dir is not None and (sweep_dir / "runs").is_dir() and decision.is_psa(sweep_dir) \
            and decision.is_stale(sweep_dir):
        print(f"value of information: analysing the PSA into {sweep_dir / decision.FOLDER} ...", flush=True)
        code = decision.analyse_or_explain(sweep_dir)
        if code:
            return code
    return build.main(argv)


if __name__ == "__main__":
    sys.exit(main())
