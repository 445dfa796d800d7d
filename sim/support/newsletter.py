"""A newsletter: low-dose information to every graduate offered it, every ``interval_weeks``.

Read with ``read_prob``; reading reinforces a little and builds a little habit, with no company.
"""

from __future__ import annotations

import numpy as np

from .base import SupportChannel


class Newsletter(SupportChannel):
    name = "newsletter"
    cost_category = "newsletter"

    def takes_up(self, offered):
        return np.ones(offered.size, dtype=bool)

    def step(self, week):
        if (week - self.first_week) % self.lever.interval_weeks != 0:
            return
        recipients = np.flatnonzero(self.enrolled)
        readers = recipients[self.rng.random(recipients.size) < self.behaviour.read_prob]
        self.deliver(readers, week, self.behaviour.effect, social=False)
        self.spend(recipients.size * self.model.ledger.unit_gbp["newsletter_per_issue"], week)
