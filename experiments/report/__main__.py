"""``python -m experiments.report SWEEP_DIR``: the report of a sweep (see :mod:`experiments.report.build`)."""

import sys

from experiments.report.build import main

sys.exit(main())
