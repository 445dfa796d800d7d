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
        self.flare_ups = self.self_managed = self.planned_contacts = self.unplanned_contacts = 0

    def step(self, g: Graduates) -> None:
        p = self.params
        u = self.rng.random((3, g.n))
        base_rate = -np.log1p(-min(p.flare_prob_per_week, 1.0 - 1e-12))
        p_flare = -np.expm1(-base_rate * np.exp(p.severity_effect * (g.severity - 0.5)))
        np.less(u[0], p_flare, out=g.flare)
        who = np.flatnonzero(g.flare)  # only those with a flare-up need the rest
        capability = g.baseline[who] + g.persistent[who] + g.transient[who] + g.supported[who]
        p_self = logistic(
            p.self_manage_intercept
            + p.self_manage_capability_coef * capability
            + p.self_manage_connectedness_coef * g.connectedness[who]
        )
        self_managed = u[1, who] < p_self
        needs_care = ~self_managed
        planned = needs_care & (u[2, who] < logistic(p.planned_intercept + p.planned_capability_coef * capability))
        self.flare_ups = int(who.size)
        self.self_managed = int(self_managed.sum())
        self.planned_contacts = int(planned.sum())
        self.unplanned_contacts = int(needs_care.sum()) - self.planned_contacts
