"""The interactive dashboard (Mesa's SolaraViz): ``make dashboard``, :mod:`~experiments.dashboard.app`."""
