"""A booster course: a short repeat of the course, held once at ``week`` (design.md).

Everyone offered is invited; each attends each session with a probability rising with group
affinity. Sessions attended count as contacts at once (their effects compound), with the
connectedness of a group setting. Attendees are ENROLLED during the booster week and LEFT after.
"""

from __future__ import annotations

import numpy as np

from ..streams import logistic
from .base import Engagement, SupportChannel


class BoosterCourse(SupportChannel):
    name = "booster"
    cost_category = "booster"

    def __init__(self, model, lever, behaviour, rng):
        super().__init__(model, lever, behaviour, rng)
        self.invited = np.zeros(self.status.size, dtype=bool)

    def offer(self, offered, week):
        self.first_week = week
        self.invited = offered.copy()  # invited now, held at lever.week

    def step(self, week):
        if week != self.lever.week:
            return
        g, b = self.model.graduates, self.behaviour
        invited = np.flatnonzero(self.invited)
        logit_p = np.log(b.attend_prob_per_session / max(1.0 - b.attend_prob_per_session, 1e-12))
        p = logistic(logit_p + b.attend_affinity_coef * (g.group_affinity[invited] - 0.5))
        sessions = self.rng.binomial(self.lever.sessions, p)
        attended = sessions > 0
        self.status[invited] = Engagement.DECLINED
        self.status[invited[attended]] = Engagement.ENROLLED
        self.deliver(invited[attended], week, b.effect, doses=sessions[attended])
        self.spend(attended.sum() * self.model.ledger.unit_gbp["booster_per_participant"], week)

    def engage(self, week):
        self.leave(self.enrolled)
