"""``python -m experiments.collect SWEEP_DIR``: aggregate a sweep folder (see :mod:`experiments.sweeps.collect`)."""

import sys

from experiments.sweeps.collect import main

if __name__ == "__main__":
    sys.exit(main())
