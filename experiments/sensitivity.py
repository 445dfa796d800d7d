"""``python -m experiments.sensitivity analysis=sensitivity_sobol``: global sensitivity analysis
(see :mod:`experiments.analyses.sensitivity`)."""

from experiments.analyses.sensitivity import main

if __name__ == "__main__":
    main()
