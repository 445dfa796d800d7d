"""An online group: a moderated forum (design.md, 'Online group').

Who: only graduates online; they join with a probability rising with digital confidence.
Each week a member visits with a probability rising with digital confidence, habit and how alive
the forum is (active posters last week against a critical mass: an empty forum loses people).
A visitor posts with their own propensity (very unequal: fewer than a quarter ever post);
a post gets a reply more often when more people visit, or from the moderator.

What each visit adds: a reply is a social contact (reinforcement, habit, connectedness); a post
without a reply is practice without company; reading without posting adds information only.
Drop-out is about 10% a week for those whose posts get no reply and for readers, lower for those
who get replies (retention at 12 weeks about 26%, Powell 2013).
"""

from __future__ import annotations

import numpy as np

from ..params import ContactEffect
from ..streams import logistic
from .base import Engagement, SupportChannel

READ, POSTED_NO_REPLY, REPLIED = 0, 1, 2


class OnlineForum(SupportChannel):
    name = "online"
    cost_category = "online"

    def __init__(self, model, lever, behaviour, rng):
        super().__init__(model, lever, behaviour, rng)
        n = self.status.size
        self.propensity = rng.beta(behaviour.poster_propensity_a, behaviour.poster_propensity_b, n)
        self.ever_posted = np.zeros(n, dtype=bool)
        self.experience = np.zeros(n, dtype=np.int8)  # last week's: READ, POSTED_NO_REPLY, REPLIED
        self.posters_last_week = 0
        self.visitors = self.posters = 0
        self.offered = 0  # graduates offered the forum: fixed costs scale with them
        self._read = ContactEffect(behaviour.read_efficacy, 0.0, 0.0)

    def offer(self, offered, week):
        super().offer(offered, week)
        self.offered = int(np.count_nonzero(offered))

    def takes_up(self, offered):
        g, b = self.model.graduates, self.behaviour
        p = logistic(b.join_intercept + b.join_confidence_coef * (g.digital_confidence - 0.5))
        return g.online_access & (self.rng.random(offered.size) < p)

    def step(self, week):
        g, b = self.model.graduates, self.behaviour
        members = np.flatnonzero(self.enrolled)
        alive = self.posters_last_week / (self.posters_last_week + b.critical_mass_posters)
        logit = (
            b.visit_intercept
            + b.visit_confidence_coef * g.digital_confidence[members]
            + b.visit_habit_coef * g.habit[members]
            + b.visit_critical_mass_coef * alive
        )
        visitors = members[self.rng.random(members.size) < logistic(logit)]
        posting = self.rng.random(visitors.size) < self.propensity[visitors]
        posters, readers = visitors[posting], visitors[~posting]
        others = max(visitors.size - 1, 0)
        p_reply = others / (others + b.reply_half_saturation_visitors)
        if self.lever.moderated:
            p_reply = 1.0 - (1.0 - p_reply) * (1.0 - b.moderator_reply_prob)
        replied_mask = self.rng.random(posters.size) < p_reply
        replied, unanswered = posters[replied_mask], posters[~replied_mask]

        self.deliver(replied, week, b.effect)
        self.deliver(unanswered, week, b.effect, social=False)
        self.deliver(readers, week, self._read, social=False)
        self.ever_posted[posters] = True
        self.experience[members] = READ
        self.experience[unanswered] = POSTED_NO_REPLY
        self.experience[replied] = REPLIED
        self.visitors, self.posters = visitors.size, posters.size
        self.posters_last_week = posters.size

        n_thousands = self.offered / 1000.0
        unit = self.model.ledger.unit_gbp
        weekly = unit["online_platform_per_1000_graduates_per_year"] * n_thousands / 52.0
        if self.lever.moderated:
            weekly += self.lever.moderator_hours_per_week_per_1000_graduates * n_thousands * unit["moderator_per_hour"]
        self.spend(weekly, week)

    def engage(self, week):
        b = self.behaviour
        members = np.flatnonzero(self.enrolled)
        hazard = np.choose(
            self.experience[members],
            [b.leave_prob_per_week_reader, b.leave_prob_per_week_no_reply, b.leave_prob_per_week_replied],
        )
        self.leave(members[self.rng.random(members.size) < hazard])

    def begin_week(self):
        super().begin_week()
        self.visitors = self.posters = 0

    def results(self):
        r = super().results()
        ever_member = np.count_nonzero(self.status >= Engagement.ENROLLED)
        r.update(
            forum_visitors=float(self.visitors),
            forum_posters=float(self.posters),
            forum_ever_posted_share=float(np.count_nonzero(self.ever_posted)) / ever_member if ever_member else 0.0,
        )
        return r
