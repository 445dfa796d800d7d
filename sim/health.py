"""Health events and the service use they cause: 'on tap, not on top' (step 1 of the week).

Each graduate may have a flare-up (probability per week rising with severity). They manage it
themselves with a probability that rises with capability and connectedness; otherwise they make a
planned contact (GP, practice nurse) or, less capably, an unplanned one (urgent care).

Three uniform draws per graduate are taken every week whatever happens, so two strategies run with
the same seed face the same health shocks (common random numbers).
"""

from __future__ import annotations

import numpy as np

from .params import HealthParams
from .population import Graduates
from .streams import logistic


class HealthEvents:
    """Flare-ups and the contacts with services they lead to; counts for the current week."""

    def __init__(self, params: HealthParams, rng: np.random.Generator):
        self.params = params
        self.rng = rng
        self.flare_ups = 0
        self.self_managed = 0
        self.planned_contacts = 0
        self.unplanned_contacts = 0

    def begin_week(self, g: Graduates) -> None:
        """A new week: nobody has a flare-up yet and nothing is counted."""
        g.flare[:] = False
        self.flare_ups = self.self_managed = self.planned_contacts = self.unplanned_contacts = g.runs.zeros()

    def step(self, g: Graduates) -> None:
        """This week's flare-ups and what each leads to. In a batch (:mod:`sim.runs`) each run
        draws from its own stream and keeps its own counts (an array of one per run)."""
        runs = g.runs
        p = runs.view(self.params)
        u = self.rng.random((3, g.n)) if runs.single else runs.uniform_rows(self.rng, 3)
        flare_prob = p.flare_prob_per_week
        cap = min(flare_prob, 1.0 - 1e-12) if np.ndim(flare_prob) == 0 else np.minimum(flare_prob, 1.0 - 1e-12)
        base_rate = -np.log1p(-cap)
        p_flare = -np.expm1(-base_rate * np.exp(p.severity_effect * (g.severity - 0.5)))
        np.less(u[0], p_flare, out=g.flare)
        who = np.flatnonzero(g.flare)  # only those with a flare-up need the rest
        p = runs.view(self.params, who)
        capability = g.baseline[who] + g.persistent[who] + g.transient[who] + g.supported[who]
        p_self = logistic(
            p.self_manage_intercept
            + p.self_manage_capability_coef * capability
            + p.self_manage_connectedness_coef * g.connectedness[who]
        )
        self_managed = u[1, who] < p_self
        needs_care = ~self_managed
        planned = needs_care & (u[2, who] < logistic(p.planned_intercept + p.planned_capability_coef * capability))
        self.flare_ups = runs.count(who)
        if runs.single:
            self.self_managed = int(self_managed.sum())
            self.planned_contacts = int(planned.sum())
            self.unplanned_contacts = int(needs_care.sum()) - self.planned_contacts
        else:
            self.self_managed = runs.count(who[self_managed])
            self.planned_contacts = runs.count(who[planned])
            self.unplanned_contacts = runs.count(who[needs_care]) - self.planned_contacts
