"""Sweeps: many runs of the model from one command, each its own folder, resumable.

* :mod:`~experiments.sweeps.callback`: checking every run before the first starts, one run of a
  sweep (skip if finished, record a failure, report progress), the callback that aggregates;
* :mod:`~experiments.sweeps.batches`: many runs per Hydra job;
* :mod:`~experiments.sweeps.collect`: a sweep folder into tables (``results.parquet``,
  ``summary.csv``): the one module of this package the report may read through.
"""
