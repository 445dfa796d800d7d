"""``python -m experiments.calibrate analysis=calibrate``: calibrate the model to the evidence
(see :mod:`experiments.analyses.calibration`)."""

from experiments.analyses.calibration import main

if __name__ == "__main__":
    main()
