"""A newsletter: low-dose information to every graduate offered it, every ``interval_weeks``.

Read with ``read_prob``; reading reinforces a little and builds a little habit, with no company.

The module holds, in order: the parameters (:class:`NewsletterParams`, read as
``strategy.newsletter``; :class:`NewsletterBehaviour`, read as ``dynamics.newsletter``), the
vectorised channel :class:`Newsletter`, and the same rules for one graduate at a time,
:class:`NewsletterRules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..fields import ContactEffect, CostItem, contact_effect, count, prob
from .base import SupportChannel
from .one_by_one import ChannelRules
from .words import every

if TYPE_CHECKING:
    from ..reference import ReferenceGraduate

# --- parameters ------------------------------------------------------------------------------------


@dataclass
class NewsletterParams:
    """Low-dose information sent to every graduate every few weeks."""

    enabled: bool = False
    interval_weeks: int = count(4, lo=1, hi=52)


@dataclass
class NewsletterBehaviour:
    """Who reads the newsletter (``dynamics.newsletter``) and what reading it restores.
    Sources: docs/odd.md 7.11."""

    effect: ContactEffect = contact_effect(0.015, 0.0, 0.25)
    read_prob: float = prob(0.5)


# --- the channel, vectorised ---------------------------------------------------------------------


class Newsletter(SupportChannel, name="newsletter", label="Newsletter", week_order=50,
                 lever=NewsletterParams, behaviour=NewsletterBehaviour):
    """The newsletter, every recipient at once (numpy arrays)."""

    colour = "#999999"  # grey
    engagement_panels = weekly_counts = ()  # issues sent to everyone offered: nothing to follow week by week

    @classmethod
    def phrase(cls, lever):
        return f"Newsletter {every(lever.get('interval_weeks', 4))}"

    @classmethod
    def describe(cls, lever):
        return f"a newsletter {every(lever.get('interval_weeks', 4))}"

    unit_costs = {"newsletter_per_issue": CostItem(1.0, 2024, "assumed: print and post, per graduate", True)}

    def one_by_one(self) -> NewsletterRules:
        return NewsletterRules(self)

    def takes_up(self, offered):
        return np.ones(offered.size, dtype=bool)

    def step(self, week):
        if (week - self.first_week) % self.lever.interval_weeks != 0:
            return
        recipients = np.flatnonzero(self.enrolled)
        read_prob = self.runs.at(self.behaviour.read_prob, recipients)  # each run's own (sim.runs)
        readers = recipients[self.runs.uniform(self.rng, recipients) < read_prob]
        self.deliver(readers, week, self.behaviour.effect, social=False)
        self.spend(self.runs.count(recipients) * self.model.ledger.unit_gbp["newsletter_per_issue"], week)


# --- the same rules, one graduate at a time (the reference engine) --------------------------------


class NewsletterRules(ChannelRules):
    """The newsletter for one graduate at a time, restated (see :mod:`sim.support.one_by_one`)."""

    channel: Newsletter

    def wants_to_join(self, agent: ReferenceGraduate) -> bool:
        return True  # everyone offered takes it

    def step(self, week: int) -> None:
        if (week - self.channel.first_week) % self.channel.lever.interval_weeks == 0:
            self.model.agents.shuffle_do(self.read_newsletter)

    def read_newsletter(self, agent: ReferenceGraduate) -> None:
        """An issue arrives (and costs a copy); ``agent`` reads it or not: a small dose, no company."""
        newsletter = self.channel
        if not agent.is_enrolled(newsletter):
            return
        newsletter.spend(self.model.ledger.unit_gbp["newsletter_per_issue"], self.model.week)
        if newsletter.rng.random() < newsletter.behaviour.read_prob:
            agent.receive_contact(newsletter, newsletter.behaviour.effect, social=False)
