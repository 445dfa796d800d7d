"""Hydra entry points: build a model from a config, run it, write tidy outputs, make reports.

``experiments.sweep(...)`` runs a sweep from Python and returns its tidy table (:mod:`experiments.api`).
"""

from experiments.api import sweep

__all__ = ["sweep"]
