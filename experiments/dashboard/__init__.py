"""The interactive dashboard: ``make dashboard``. :mod:`~experiments.dashboard.app` is the page,
:mod:`~experiments.dashboard.model` builds its models (the run and its course-only reference) and
:mod:`~experiments.dashboard.figures` draws them."""
