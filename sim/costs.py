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
from .support import CHANNEL_TYPES

#: Cost categories of the support channels, in the order they run.
SUPPORT_CATEGORIES = tuple(dict.fromkeys(c.cost_category for c in CHANNEL_TYPES))
#: Cost categories of care prompted by flare-ups.
CARE_CATEGORIES = ("planned_care", "urgent_care")
#: Cost categories reported, in the order plots stack them.
CATEGORIES = ("course", *SUPPORT_CATEGORIES, *CARE_CATEGORIES)


class CostLedger:
    """Running totals of costs by category and of QALYs gained, over all graduates."""

    def __init__(self, costs: CostParams, outcomes: OutcomeParams, n_graduates: int):
        self.unit_gbp = {name: costs.inflate(name) for name in costs.items}
        self.planned_contact_gbp = costs.planned_contact_gbp()
        self.outcomes = outcomes
        self.n = n_graduates
        self.gbp = dict.fromkeys(CATEGORIES, 0.0)
        self.discounted_gbp = 0.0
        self.qalys_by_graduate = np.zeros(n_graduates)  # discounted QALYs gained, per graduate

    def discount(self, week: int) -> float:
        """Discount factor for week ``week`` (week 0 = end of the course)."""
        return (1.0 + self.outcomes.discount_rate_per_year) ** (-week / 52.0)

    def add(self, category: str, gbp: float, week: int) -> None:
        self.gbp[category] += gbp
        self.discounted_gbp += gbp * self.discount(week)

    def add_qalys(self, gain_sd: np.ndarray, company: np.ndarray, week: int) -> None:
        """QALYs from one week lived with each graduate's gain ``gain_sd`` (SD units) and
        connectedness above their usual level ``company`` (0..1, negative below it)."""
        o = self.outcomes
        utility = o.qaly_per_sd_year * gain_sd + o.qaly_per_connectedness_year * company
        self.qalys_by_graduate += self.discount(week) / 52.0 * utility

    @property
    def qalys(self) -> float:
        """Discounted QALYs gained so far, summed over graduates."""
        return float(self.qalys_by_graduate.sum())

    def per_graduate(self, category: str) -> float:
        return self.gbp[category] / self.n

    @property
    def total_gbp(self) -> float:
        return sum(self.gbp.values())
