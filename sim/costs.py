"""Costs (GBP, at one price year) and QALYs, accrued week by week.

Unit costs come from :class:`~sim.params.CostParams`, each inflated from its own price year.
Costs are kept undiscounted by category (what a budget holder pays) and, in total, discounted
at ``discount_rate_per_year`` (what a cost-effectiveness analysis uses); QALYs are discounted.
QALYs gained, per year lived: ``qaly_per_sd_year`` of utility per SD of gain over baseline, plus
``qaly_per_connectedness_year`` per unit of connectedness above the person's usual level (the
utility of company: loneliness and isolation lower EQ-5D, Konig & Hajek 2024; Munford 2020).
"""

from __future__ import annotations

import numpy as np

from .params import CostParams, OutcomeParams
from .runs import ONE, Runs
from .support import CHANNEL_TYPES

#: Cost categories of the support channels, in the order they run.
SUPPORT_CATEGORIES = tuple(dict.fromkeys(c.cost_category for c in CHANNEL_TYPES))
#: Cost categories of care prompted by flare-ups.
CARE_CATEGORIES = ("planned_care", "urgent_care")
#: Cost categories reported, in the order plots stack them.
CATEGORIES = ("course", *SUPPORT_CATEGORIES, *CARE_CATEGORIES)


class CostLedger:
    """Running totals of costs by category and of QALYs gained, over all graduates.

    In a batch (:mod:`sim.runs`) ``costs`` and ``outcomes`` are the runs' stacked blocks: each
    total is an array of one per run (``n`` is still the graduates of one run), each unit cost a
    number every run shares or an array of one per run."""

    def __init__(self, costs: CostParams | list[CostParams], outcomes: OutcomeParams, n_graduates: int,
                 runs: Runs = ONE):
        each_run = costs if isinstance(costs, list) else [costs]
        self.runs = runs
        self.unit_gbp = {name: _per_run([c.inflate(name) for c in each_run]) for name in each_run[0].items}
        self.planned_contact_gbp = _per_run([c.planned_contact_gbp() for c in each_run])
        self.outcomes = outcomes
        self.n = n_graduates
        self.gbp = {category: runs.zeros(float) if not runs.single else 0.0 for category in CATEGORIES}
        self.discounted_gbp = 0.0 if runs.single else runs.zeros(float)
        self._numpy_scalar: set[str] = set()  # categories one run books numpy numbers in (see add)
        self.qalys_by_graduate = np.zeros(n_graduates * runs.k)  # discounted QALYs gained, per graduate

    def discount(self, week: int) -> float:
        """Discount factor for week ``week`` (week 0 = end of the course)."""
        rate = self.outcomes.discount_rate_per_year
        if np.ndim(rate) == 0:
            return (1.0 + rate) ** (-week / 52.0)
        # per run, in a batch whose rates differ: Python's power, as one run computes it
        return np.array([(1.0 + r) ** (-week / 52.0) for r in rate.tolist()])

    def add(self, category: str, gbp: float, week: int, numpy_scalar: bool = False) -> None:
        """Book ``gbp`` (per run, in a batch) under ``category`` in ``week``. ``numpy_scalar``:
        one run's amount is a numpy number, not a Python float (a batch sums its runs' totals
        as one run does: :attr:`total_gbp`)."""
        if numpy_scalar:
            self._numpy_scalar.add(category)
        self.gbp[category] += gbp
        self.discounted_gbp += gbp * self.discount(week)

    def add_qalys(self, gain_sd: np.ndarray, company: np.ndarray, week: int) -> None:
        """QALYs from one week lived with each graduate's gain ``gain_sd`` (SD units) and
        connectedness above their usual level ``company`` (0..1, negative below it)."""
        o = self.runs.view(self.outcomes)
        utility = o.qaly_per_sd_year * gain_sd + o.qaly_per_connectedness_year * company
        self.qalys_by_graduate += self.runs.each(self.discount(week) / 52.0) * utility

    @property
    def qalys(self) -> float:
        """Discounted QALYs gained so far, summed over graduates (per run, in a batch)."""
        return self.runs.total(self.qalys_by_graduate)

    def per_graduate(self, category: str) -> float:
        return self.gbp[category] / self.n

    @property
    def total_gbp(self) -> float:
        if self.runs.single:
            return sum(self.gbp.values())
        # each run's total as one run sums it: Python's sum, compensated (since 3.12) while the
        # values are Python floats, plain from the first numpy number on
        by_run = np.array([self.gbp[c] for c in CATEGORIES]).T.tolist()
        numpy_at = [i for i, c in enumerate(CATEGORIES) if c in self._numpy_scalar]
        for run in by_run:
            for i in numpy_at:
                run[i] = np.float64(run[i])
        return np.array([sum(run) for run in by_run])


def _per_run(values: list[float]) -> float | np.ndarray:
    """One number if every run has the same, else an array of one per run."""
    return values[0] if all(v == values[0] for v in values[1:]) else np.asarray(values, dtype=float)
