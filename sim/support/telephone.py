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
``dynamics.telephone``), the vectorised channel :class:`TelephoneSupport`, and the same rules
for one graduate at a time, :class:`TelephoneRules` (the reference engine).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np

from ..fields import ContactEffect, CostItem, contact_effect, count, nonneg, positive, prob
from .base import VOLUNTEER_TRAINING, SupportChannel
from .one_by_one import ChannelRules

if TYPE_CHECKING:
    from ..params import StrategyParams
    from ..population import Graduates
    from ..reference import ReferenceGraduate

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
    """How graduates respond to support calls (``dynamics.telephone``): who accepts, who answers,
    who is dropped, and what an answered call restores. Sources and calibration: docs/odd.md 7.8."""

    effect: ContactEffect = contact_effect(0.07, 0.08)
    join_prob: float = prob(0.6, "share of those offered who accept calls")
    answer_prob: float = prob(0.7, "a scheduled call is answered")
    professional_efficacy_multiplier: float = positive(1.2)
    leave_prob_per_week: float = prob(0.01)
    max_missed_calls: int = count(3, lo=1, doc="consecutive unanswered calls before being dropped")
    volunteer_leave_prob_per_week: float = prob(0.013, "peer callers: half leave within a year")


# --- the channel, vectorised ---------------------------------------------------------------------


class TelephoneSupport(SupportChannel, name="telephone", label="Telephone support", week_order=20,
                       lever=TelephoneParams, behaviour=TelephoneBehaviour, cost_label="Telephone", tailorable=True):
    """Telephone support, every graduate at once (numpy arrays)."""

    unit_costs = {
        "peer_call": CostItem(4.0, 2024, "assumed: coordination per peer call", True),
        "professional_call": CostItem(12.0, 2024, "assumed: 20 min of a band-5 nurse", True),
        **VOLUNTEER_TRAINING,
    }

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

    def one_by_one(self) -> TelephoneRules:
        return TelephoneRules(self)

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


# --- the same rules, one graduate at a time (the reference engine) --------------------------------


class TelephoneRules(ChannelRules):
    """Telephone support for one graduate at a time, restated (see :mod:`sim.support.one_by_one`).

    The queue under the week's capacity belongs to the service and is written plainly here: calls
    due, longest wait first, ties in the shuffled order of the agents. Each call is booked as it is
    made; the expected training of replacement callers once a week.
    """

    channel: TelephoneSupport

    def wants_to_join(self, agent: ReferenceGraduate) -> bool:
        return bool(agent.phone_access) and self.channel.rng.random() < self.channel.behaviour.join_prob

    def set_up(self, offered: np.ndarray, week: int) -> None:
        """The service, sized to those who accepted calls; the first call is due now."""
        phone = self.channel
        phone.size_service(int(np.count_nonzero(phone.enrolled)))
        phone.last_call_week[:] = week - phone.lever.interval_weeks
        phone.train_callers(week)

    def step(self, week: int) -> None:
        """Calls due, longest wait first (ties in random order), up to the week's capacity."""
        phone = self.channel
        queue: list[ReferenceGraduate] = []
        self.model.agents.shuffle_do(self.wait_for_call, queue)
        queue.sort(key=lambda a: phone.last_call_week[a.index])  # stable: shuffled order breaks ties
        called = queue[: phone.capacity]
        for agent in called:
            self.take_call(agent)
        phone.calls_made = len(called)
        phone.calls_waiting = len(queue) - len(called)
        phone.spend(phone.replacement_training_gbp(), week)  # expected replacements

    def wait_for_call(self, agent: ReferenceGraduate, queue: list) -> None:
        """``agent`` joins this week's call queue if their call is due."""
        phone = self.channel
        if agent.is_enrolled(phone) and self.model.week - phone.last_call_week[agent.index] >= phone.lever.interval_weeks:
            queue.append(agent)

    def take_call(self, agent: ReferenceGraduate) -> None:
        """``agent`` is called: answers (a social contact, the next call due after the interval) or
        misses it."""
        phone = self.channel
        b = phone.behaviour
        professional = phone.lever.caller == Caller.professional
        phone.spend(phone.call_cost_gbp, self.model.week)
        if phone.rng.random() < b.answer_prob:
            agent.receive_contact(phone, b.effect, b.professional_efficacy_multiplier if professional else 1.0)
            phone.last_call_week[agent.index] = self.model.week
            phone.missed[agent.index] = 0
        else:
            phone.missed[agent.index] += 1  # still due next week
            phone.calls_unanswered += 1

    def leaves(self, agent: ReferenceGraduate) -> bool:
        """Leaves, or is dropped after too many missed calls."""
        phone = self.channel
        b = phone.behaviour
        leaves = phone.rng.random() < b.leave_prob_per_week
        return leaves or phone.missed[agent.index] >= b.max_missed_calls
