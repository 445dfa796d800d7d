"""The report for commissioners: ``python -m experiments.report SWEEP_DIR``.

Reads a sweep's outputs only (through :mod:`experiments.sweeps.collect` and the runs' files) and
never builds a model: :mod:`~experiments.report.data` (tables), :mod:`~experiments.report.figures`,
:mod:`~experiments.report.assumptions` (the parameters and their sources),
:mod:`~experiments.report.voi` (decision uncertainty) and :mod:`~experiments.report.build` (the page).
"""
