"""Scheduled telephone support (design.md, 'Telephone').

Who: graduates with a phone who accept calls when offered. How often: a call is due every
``interval_weeks`` after the last answered one. Capacity: the service is sized to demand when
support starts, at ``calls_per_week_per_100_enrolled`` calls a week per 100 graduates who accepted
calls (and peer volunteers to make them); when more are due, those waiting longest are called
first and the rest wait, which stretches their gap. A call is answered with
``answer_prob``; an unanswered one stays due. After ``max_missed_calls`` unanswered calls in a row
a graduate is dropped from the list.

The module holds, in order: the parameters (the levers :class:`TelephoneParams`, read as
``strategy.telephone``, and the behaviour :class:`TelephoneBehaviour`, read as
``dynamics.telephone``) and the vectorised channel :class:`TelephoneSupport`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np

from ..fields import ContactEffect, CostItem, contact_effect, count, nonneg, positive, prob
from .base import VOLUNTEER_TRAINING, SupportChannel

if TYPE_CHECKING:
    from ..params import StrategyParams
    from ..population import Graduates

# --- parameters ------------------------------------------------------------------------------------


class Caller(str, Enum):
    peer = "peer"  # trained volunteer graduates
    professional = "professional"  # staff (nurse, health trainer)


@dataclass
class TelephoneParams:
    """Scheduled support calls to enrolled graduates."""

    enabled: bool = False
    interval_weeks: int = count(2, lo=1, hi=52, doc="weeks between scheduled calls to a graduate")
    caller: Caller = Caller.peer
    calls_per_week_per_100_enrolled: float = nonneg(
        70.0, doc="call capacity per week, per 100 who accepted calls: a call each 2 weeks, with retries"
    )
    calls_per_volunteer_per_week: float = positive(5.0, doc="peer callers needed = capacity / this")


@dataclass
class TelephoneBehaviour:
    effect: ContactEffect = contact_effect(0.07, 0.08)
    join_prob: float = prob(0.6, "share of those offered who accept calls")
    answer_prob: float = prob(0.7, "a scheduled call is answered")
    professional_efficacy_multiplier: float = positive(1.2)
    leave_prob_per_week: float = prob(0.01)
    max_missed_calls: int = count(3, lo=1, doc="consecutive unanswered calls before being dropped")
    volunteer_leave_prob_per_week: float = prob(0.013, "peer callers: half leave within a year")


# --- the channel, vectorised ---------------------------------------------------------------------


class TelephoneSupport(SupportChannel):
    """Telephone support, every graduate at once (numpy arrays)."""

    name = "telephone"
    cost_category = "telephone"
    week_order = 20
    lever_type = TelephoneParams
    behaviour_type = TelephoneBehaviour
    unit_costs = {
        "peer_call": CostItem(4.0, 2024, "assumed: coordination per peer call", True),
        "professional_call": CostItem(12.0, 2024, "assumed: 20 min of a band-5 nurse", True),
        **VOLUNTEER_TRAINING,
    }
    tailorable = True

    @classmethod
    def fits(cls, g: Graduates, strategy: StrategyParams) -> np.ndarray:
        """Those with a phone."""
        return g.phone_access.copy()

    def __init__(self, model, lever, behaviour, rng):
        super().__init__(model, lever, behaviour, rng)
        n = self.status.size
        self.last_call_week = np.zeros(n, dtype=np.int64)  # week of the last answered call
        self.missed = np.zeros(n, dtype=np.int64)  # unanswered calls in a row
        self.capacity = 0  # calls a week; sized to those who accept calls when support starts
        self.volunteers = 0  # peer callers needed for that capacity
        self.calls_made = self.calls_unanswered = self.calls_waiting = 0

    def takes_up(self, offered):
        return self.model.graduates.phone_access & (self.rng.random(offered.size) < self.behaviour.join_prob)

    def offer(self, offered, week):
        super().offer(offered, week)
        self.size_service(int(np.count_nonzero(self.enrolled)))
        self.last_call_week[:] = week - self.lever.interval_weeks  # the first call is due at once
        self.train_callers(week)

    def size_service(self, enrolled: int) -> None:
        """Call capacity and peer volunteers for ``enrolled`` graduates on the call list."""
        lever = self.lever
        self.capacity = math.ceil(enrolled * lever.calls_per_week_per_100_enrolled / 100.0 - 1e-9)
        self.volunteers = (
            math.ceil(self.capacity / lever.calls_per_volunteer_per_week) if lever.caller == Caller.peer else 0
        )

    def train_callers(self, week: int) -> None:
        """Train the peer volunteers the service needs (none for professional callers)."""
        self.spend(self.volunteers * self.model.ledger.unit_gbp["volunteer_training_per_volunteer"], week)

    @property
    def call_cost_gbp(self) -> float:
        """GBP per call made, answered or not: a peer's or a professional's."""
        unit = self.model.ledger.unit_gbp
        return unit["peer_call"] if self.lever.caller == Caller.peer else unit["professional_call"]

    def replacement_training_gbp(self) -> float:
        """GBP a week for training the peer callers expected to replace those who leave."""
        replaced = self.volunteers * self.behaviour.volunteer_leave_prob_per_week
        return replaced * self.model.ledger.unit_gbp["volunteer_training_per_volunteer"]

    def step(self, week):
        b = self.behaviour
        due = np.flatnonzero(self.enrolled & (week - self.last_call_week >= self.lever.interval_weeks))
        if due.size > self.capacity:  # longest wait first, ties in random order
            order = np.lexsort((self.rng.random(due.size), self.last_call_week[due]))
            called = due[order[: self.capacity]]
        else:
            called = due
        answered_mask = self.rng.random(called.size) < b.answer_prob
        answered, unanswered = called[answered_mask], called[~answered_mask]
        multiplier = b.professional_efficacy_multiplier if self.lever.caller == Caller.professional else 1.0
        self.deliver(answered, week, b.effect, multiplier)
        self.last_call_week[answered] = week
        self.missed[answered] = 0
        self.missed[unanswered] += 1
        self.calls_made, self.calls_unanswered = called.size, unanswered.size
        self.calls_waiting = due.size - called.size
        self.spend(called.size * self.call_cost_gbp + self.replacement_training_gbp(), week)

    def engage(self, week):
        members = np.flatnonzero(self.enrolled)
        leaves = self.rng.random(members.size) < self.behaviour.leave_prob_per_week
        leaves |= self.missed[members] >= self.behaviour.max_missed_calls
        self.leave(members[leaves])

    def results(self):
        r = super().results()
        r.update(
            calls_made=float(self.calls_made),
            calls_unanswered=float(self.calls_unanswered),
            calls_waiting=float(self.calls_waiting),
            call_capacity=float(self.capacity),
        )
        return r

    def begin_week(self):
        super().begin_week()
        self.calls_made = self.calls_unanswered = self.calls_waiting = 0

