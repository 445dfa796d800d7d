"""Scheduled telephone support (design.md, 'Telephone').

Who: graduates with a phone who accept calls when offered. How often: a call is due every
``interval_weeks`` after the last answered one. Capacity is a service level the commissioner buys
when support starts: ``capacity_calls_per_week_per_100_offered`` calls a week per 100 graduates
offered calls, fixed for the rest of support whatever the take-up, and (peer callers) the
volunteers recruited to make them, capacity / ``calls_per_volunteer_per_week``. When more calls are
due than the capacity, those waiting longest are called first and the rest go on the waiting list
(``calls_waiting``), which stretches their gap between calls. A call is answered with
``answer_prob``; an unanswered one stays due. After ``max_missed_calls`` unanswered calls in a row
a graduate is dropped from the list.

Costs follow what was bought: every week of support the capacity costs its standing price, used
or not (peer callers: each volunteer's coordination and the training of the volunteers who replace
those who leave; professional callers: the staff time of every call slot bought), and every peer
call made costs its per-call coordination.

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
from .words import EngagementPanel, every

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
    capacity_calls_per_week_per_100_offered: float = nonneg(
        37.0, hi=100.0,
        doc="the service level bought: call slots a week per 100 graduates offered calls, fixed when support "
            "starts whatever the take-up (a commissioner buys a service for the people referred to it before "
            "knowing who will accept, and a rate per 100 offered keeps the level when the intake's size "
            "changes). 0 to 100 (a graduate is called at most once a week). Default inferred: the capacity "
            "sized to demand before issue 21 (70 calls a week per 100 who accepted calls: one call each "
            "2 weeks, with retries at answer_prob 0.7), times the share of those offered who accept calls at the "
            "calibrated dynamics (join_prob 0.543 x phone_access_share 0.97 = 0.527): 70 x 0.527 = 37",
    )
    calls_per_volunteer_per_week: float = positive(
        5.0, doc="peer callers recruited = capacity / this (assumed: about 2 hours a week; range 3-10)"
    )


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

    colour = "#56B4E9"  # Okabe-Ito sky blue
    noun, offer_words, fit_words = "calls", "telephone calls", "calls if they have a phone"
    engagement_panels = (
        EngagementPanel("calls_answered_per_100", "calls_made - calls_unanswered", "graduates",
                        "Telephone: calls answered each week", "Calls answered per 100 graduates",
                        fact=lambda first, last, halved, end: (
                            f"calls answered fall from {first:.0f} to {last:.0f} per 100 graduates a week"
                            if last < 0.8 * first else f"calls hold at about {last:.0f} per 100 graduates a week")),
    )
    weekly_counts = (("calls_made", "Telephone calls made this week"),)

    @classmethod
    def phrase(cls, lever):
        who = " from professionals" if lever.get("caller") == "professional" else ""
        return f"Telephone support{who}, {every(lever.get('interval_weeks', 2))}"

    @classmethod
    def describe(cls, lever):
        who = "staff" if lever.get("caller") == "professional" else "trained peer volunteers"
        capacity = lever.get("capacity_calls_per_week_per_100_offered",
                             TelephoneParams.capacity_calls_per_week_per_100_offered)
        return (f"calls from {who} {every(lever.get('interval_weeks', 2))}, within a capacity of "
                f"{capacity:g} calls a week per 100 offered calls")

    unit_costs = {
        "peer_call": CostItem(4.0, 2024, "assumed: coordination per peer call made", True),
        "professional_call": CostItem(
            12.0, 2024, "assumed: 20 min of a band-5 nurse, per call slot bought (used or not)", True
        ),
        "telephone_volunteer_coordination_per_volunteer_week": CostItem(
            5.0, 2024, "assumed: supervision and rostering of one peer caller a week, used or not (about "
                       "12 minutes of a coordinator at GBP 25 an hour; range 0-15)", True
        ),
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
        self.capacity = self.runs.zeros()  # call slots a week, bought when support starts
        self.volunteers = self.runs.zeros()  # peer callers recruited to that capacity
        self.begin_week()

    def takes_up(self, offered):
        join = self.runs.view(self.behaviour).join_prob
        return self.model.graduates.phone_access & (self.runs.uniform(self.rng) < join)

    def offer(self, offered, week):
        super().offer(offered, week)
        self.buy_service(self.runs.count_true(offered))
        self.last_call_week[:] = week - self.lever.interval_weeks  # the first call is due at once
        self.train_callers(week)

    def buy_service(self, offered: int) -> None:
        """The service level bought for ``offered`` graduates offered calls: call slots a week, and
        the peer volunteers recruited to make them (none for professional callers)."""
        lever, runs = self.lever, self.runs  # per run, in a batch (sim.runs)
        self.capacity = runs.ceil(offered * lever.capacity_calls_per_week_per_100_offered / 100.0 - 1e-9)
        self.volunteers = (
            runs.ceil(self.capacity / lever.calls_per_volunteer_per_week) if lever.caller == Caller.peer
            else runs.zeros()
        )

    def train_callers(self, week: int) -> None:
        """Train the peer volunteers the service needs (none for professional callers)."""
        self.spend(self.volunteers * self.model.ledger.unit_gbp["volunteer_training_per_volunteer"], week)

    @property
    def call_cost_gbp(self) -> float:
        """GBP per call made, answered or not: a peer call's coordination; a professional's call is
        already paid in the slot bought (:meth:`capacity_cost_gbp`)."""
        return self.model.ledger.unit_gbp["peer_call"] if self.lever.caller == Caller.peer else 0.0

    def capacity_cost_gbp(self) -> float:
        """GBP a week for the capacity bought, used or not. Peer callers: each volunteer's
        coordination, and the training of the volunteers expected to replace those who leave (the
        service stays staffed at its level); professional callers: the staff time of every slot."""
        unit = self.model.ledger.unit_gbp
        if self.lever.caller == Caller.professional:
            return self.capacity * unit["professional_call"]
        replaced = self.volunteers * self.behaviour.volunteer_leave_prob_per_week
        return (self.volunteers * unit["telephone_volunteer_coordination_per_volunteer_week"]
                + replaced * unit["volunteer_training_per_volunteer"])

    def one_by_one(self) -> TelephoneRules:
        return TelephoneRules(self)

    def step(self, week):
        runs = self.runs
        due = np.flatnonzero(self.enrolled & (week - self.last_call_week >= self.lever.interval_weeks))
        if runs.single:
            if due.size > self.capacity:  # longest wait first, ties in random order
                order = np.lexsort((self.rng.random(due.size), self.last_call_week[due]))
                called = due[order[: self.capacity]]
            else:
                called = due
        else:
            called = self._queue(due)
        b = runs.view(self.behaviour, called)
        answered_mask = runs.uniform(self.rng, called) < b.answer_prob
        answered, unanswered = called[answered_mask], called[~answered_mask]
        multiplier = (runs.at(self.behaviour.professional_efficacy_multiplier, answered)
                      if self.lever.caller == Caller.professional else 1.0)
        self.deliver(answered, week, self.behaviour.effect, multiplier)
        if runs.single:
            self.call_gap_weeks = float(np.mean(week - self.last_call_week[answered])) if answered.size else 0.0
        else:  # whole weeks: their sum is exact in any order
            gaps = np.bincount(runs.of[answered], weights=week - self.last_call_week[answered], minlength=runs.k)
            n_answered = runs.counts(answered)
            self.call_gap_weeks = np.divide(gaps, n_answered, out=np.zeros(runs.k), where=n_answered > 0)
        self.last_call_week[answered] = week
        self.missed[answered] = 0
        self.missed[unanswered] += 1
        self.calls_made, self.calls_unanswered = runs.count(called), runs.count(unanswered)
        self.calls_waiting = runs.count(due) - self.calls_made
        self.spend(self.calls_made * self.call_cost_gbp + self.capacity_cost_gbp(), week)

    def _queue(self, due: np.ndarray) -> np.ndarray:
        """A batch's calls this week (:mod:`sim.runs`): in each run whose calls due exceed its
        capacity, the longest wait first, ties in the order of that run's own random numbers (drawn
        as one run draws them); in the others every call due, in id order. Grouped by run."""
        runs = self.runs
        waiting = runs.counts(due)
        over = waiting > self.capacity
        if not over.any():
            return due
        run = runs.of[due]
        queued = over[run]
        tie = np.zeros(due.size)
        tie[queued] = runs.draw(self.rng, "random", np.where(over, waiting, 0))
        wait = np.where(queued, self.last_call_week[due], 0)
        order = np.lexsort((tie, wait, run))  # stable: a run not over its capacity keeps id order
        first = np.cumsum(waiting) - waiting
        place = np.empty(due.size, dtype=np.int64)
        place[order] = np.arange(due.size) - first[run[order]]
        return due[order][(place < self.capacity[run])[order]]

    def engage(self, week):
        members = np.flatnonzero(self.enrolled)
        b = self.runs.view(self.behaviour, members)
        leaves = self.runs.uniform(self.rng, members) < b.leave_prob_per_week
        leaves |= self.missed[members] >= b.max_missed_calls
        self.leave(members[leaves])

    def results(self):
        r = super().results()
        f = self._float
        r.update(
            calls_made=f(self.calls_made),
            calls_unanswered=f(self.calls_unanswered),
            calls_waiting=f(self.calls_waiting),
            call_capacity=f(self.capacity),
            call_gap_weeks=self.call_gap_weeks,
            telephone_volunteers=f(self.volunteers),
        )
        return r

    def begin_week(self):
        super().begin_week()
        self.calls_made = self.calls_unanswered = self.calls_waiting = self.runs.zeros()
        self.call_gap_weeks = 0.0 if self.runs.single else self.runs.zeros(float)


# --- the same rules, one graduate at a time (the reference engine) --------------------------------


class TelephoneRules(ChannelRules):
    """Telephone support for one graduate at a time, restated (see :mod:`sim.support.one_by_one`).

    The queue under the week's capacity belongs to the service and is written plainly here: calls
    due, longest wait first, ties in the shuffled order of the agents; those beyond the capacity
    are the waiting list. Each call is booked as it is made; the capacity bought once a week, used
    or not.
    """

    channel: TelephoneSupport

    def wants_to_join(self, agent: ReferenceGraduate) -> bool:
        return bool(agent.phone_access) and self.channel.rng.random() < self.channel.behaviour.join_prob

    def set_up(self, offered: np.ndarray, week: int) -> None:
        """The service level bought for those offered calls; the first call is due now."""
        phone = self.channel
        phone.buy_service(int(np.count_nonzero(offered)))
        phone.last_call_week[:] = week - phone.lever.interval_weeks
        phone.train_callers(week)

    def step(self, week: int) -> None:
        """Calls due, longest wait first (ties in random order), up to the week's capacity."""
        phone = self.channel
        queue: list[ReferenceGraduate] = []
        self.model.agents.shuffle_do(self.wait_for_call, queue)
        queue.sort(key=lambda a: phone.last_call_week[a.index])  # stable: shuffled order breaks ties
        called = queue[: phone.capacity]
        gaps: list[int] = []
        for agent in called:
            self.take_call(agent, gaps)
        phone.calls_made = len(called)
        phone.calls_waiting = len(queue) - len(called)  # the waiting list
        phone.call_gap_weeks = sum(gaps) / len(gaps) if gaps else 0.0
        phone.spend(phone.capacity_cost_gbp(), week)  # what was bought, used or not

    def wait_for_call(self, agent: ReferenceGraduate, queue: list) -> None:
        """``agent`` joins this week's call queue if their call is due."""
        phone = self.channel
        if agent.is_enrolled(phone) and self.model.week - phone.last_call_week[agent.index] >= phone.lever.interval_weeks:
            queue.append(agent)

    def take_call(self, agent: ReferenceGraduate, gaps: list) -> None:
        """``agent`` is called: answers (a social contact, the next call due after the interval; the
        gap since their last answered call joins ``gaps``) or misses it."""
        phone = self.channel
        b = phone.behaviour
        professional = phone.lever.caller == Caller.professional
        if not professional:  # a professional's call is paid in the slot bought
            phone.spend(phone.model.ledger.unit_gbp["peer_call"], self.model.week)
        if phone.rng.random() < b.answer_prob:
            agent.receive_contact(phone, b.effect, b.professional_efficacy_multiplier if professional else 1.0)
            gaps.append(self.model.week - int(phone.last_call_week[agent.index]))
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
