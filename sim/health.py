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

    def step(self, g: Graduates) -> None:
        p = self.params
        u = self.rng.random((3, g.n))
        base_rate = -np.log1p(-min(p.flare_prob_per_week, 1.0 - 1e-12))
        p_flare = -np.expm1(-base_rate * np.exp(p.severity_effect * (g.severity - 0.5)))
        g.flare[:] = u[0] < p_flare
        p_self = logistic(
            p.self_manage_intercept
            + p.self_manage_capability_coef * g.capability
            + p.self_manage_connectedness_coef * g.connectedness
        )
        self_managed = g.flare & (u[1] < p_self)
        needs_care = g.flare & ~self_managed
        planned = needs_care & (u[2] < logistic(p.planned_intercept + p.planned_capability_coef * g.capability))
        self.flare_ups = int(g.flare.sum())
        self.self_managed = int(self_managed.sum())
        self.planned_contacts = int(planned.sum())
        self.unplanned_contacts = int(needs_care.sum()) - self.planned_contacts
