"""A booster course: a short repeat of the course, held once at ``week`` (design.md).

Everyone offered is invited; each attends each session with a probability rising with group
affinity. Sessions attended count as contacts at once (their effects compound), with the
connectedness of a group setting. Attendees are ENROLLED during the booster week and LEFT after.

The module holds, in order: the parameters (:class:`BoosterParams`, read as ``strategy.booster``;
:class:`BoosterBehaviour`, read as ``dynamics.booster``), the vectorised channel
:class:`BoosterCourse`, and the same rules for one graduate at a time, :class:`BoosterRules`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..fields import ContactEffect, CostItem, ParameterError, contact_effect, count, prob, real
from ..streams import logistic
from .base import Engagement, SupportChannel
from .one_by_one import ChannelRules
from .one_by_one import logistic as logistic_one
from .words import months

if TYPE_CHECKING:
    from ..params import ModelParams
    from ..reference import ReferenceGraduate

# --- parameters ------------------------------------------------------------------------------------


@dataclass
class BoosterParams:
    """A one-off short repeat of the course at a set week."""

    enabled: bool = False
    week: int = count(26, lo=1, doc="the week the booster is held (1 = the first week after the course)")
    sessions: int = count(2, lo=1, hi=6, doc="number of booster sessions")


@dataclass
class BoosterBehaviour:
    """Who comes to the booster course (``dynamics.booster``) and what it restores.
    Sources: docs/odd.md 7.10."""

    effect: ContactEffect = contact_effect(0.1, 0.1)
    attend_prob_per_session: float = prob(0.6, "at group affinity 0.5")
    attend_affinity_coef: float = real(3.0, "log-odds per unit of group affinity")


# --- the channel, vectorised ---------------------------------------------------------------------


class BoosterCourse(SupportChannel, name="booster", label="Booster course", week_order=40,
                    lever=BoosterParams, behaviour=BoosterBehaviour, cost_label="Booster"):
    """The booster course, every invitee at once (numpy arrays)."""

    colour = "#F0E442"  # Okabe-Ito yellow
    engagement_panels = weekly_counts = ()  # one week of sessions: nothing to follow week by week

    @classmethod
    def phrase(cls, lever):
        return f"Booster course at {months(lever['week'])}"

    @classmethod
    def describe(cls, lever):
        return f"a {lever.get('sessions', 2)}-session booster course at {months(lever['week'])}"

    unit_costs = {
        "booster_per_participant": CostItem(60.0, 2024, "assumed: 2 sessions at course cost per session", True),
    }

    @classmethod
    def check(cls, params: ModelParams) -> None:
        """A booster held within support and within the run, of no more sessions than the course."""
        strat, booster = params.strategy, params.strategy.booster
        if booster.enabled and not strat.active(booster.week):
            raise ParameterError(
                "strategy.booster.week", booster.week,
                f"must fall within support (strategy.start_week={strat.start_week}, "
                f"strategy.end_week={strat.end_week})",
            )
        if booster.enabled and booster.week > params.weeks:
            raise ParameterError(
                "strategy.booster.week", booster.week, f"must be <= weeks ({params.weeks}), or the booster never happens"
            )
        course_sessions = params.dynamics.course.sessions
        if course_sessions > 0 and booster.sessions > course_sessions:
            raise ParameterError(
                "strategy.booster.sessions", booster.sessions, f"must be <= dynamics.course.sessions ({course_sessions})",
            )

    def one_by_one(self) -> BoosterRules:
        return BoosterRules(self)

    def __init__(self, model, lever, behaviour, rng):
        super().__init__(model, lever, behaviour, rng)
        self.invited = np.zeros(self.status.size, dtype=bool)

    def offer(self, offered, week):
        self.first_week = week
        self.invited = offered.copy()  # invited now, held at lever.week

    def step(self, week):
        if week != self.lever.week:
            return
        g, runs = self.model.graduates, self.runs
        invited = np.flatnonzero(self.invited)
        b = runs.view(self.behaviour, invited)  # each run's own, in a batch (sim.runs)
        attend = b.attend_prob_per_session
        rest = max(1.0 - attend, 1e-12) if np.ndim(attend) == 0 else np.maximum(1.0 - attend, 1e-12)
        logit_p = np.log(attend / rest)
        p = logistic(logit_p + b.attend_affinity_coef * (g.group_affinity[invited] - 0.5))
        sessions = runs.draw(self.rng, "binomial", runs.count(invited), self.lever.sessions, p)
        attended = sessions > 0
        self.status[invited] = Engagement.DECLINED
        self.status[invited[attended]] = Engagement.ENROLLED
        self.deliver(invited[attended], week, self.behaviour.effect, doses=sessions[attended])
        came = attended.sum() if runs.single else runs.count(invited[attended])  # one run: a numpy int
        self.spend(came * self.model.ledger.unit_gbp["booster_per_participant"], week, numpy_scalar=True)

    def engage(self, week):
        self.leave(self.enrolled)


# --- the same rules, one graduate at a time (the reference engine) --------------------------------


class BoosterRules(ChannelRules):
    """The booster for one graduate at a time, restated (see :mod:`sim.support.one_by_one`)."""

    channel: BoosterCourse

    def consider_offer(self, agent: ReferenceGraduate) -> None:
        self.channel.invited[agent.index] = True  # invited now; whether they come is decided on the day

    def step(self, week: int) -> None:
        if week == self.channel.lever.week:
            self.model.agents.shuffle_do(self.attend_booster)

    def attend_booster(self, agent: ReferenceGraduate) -> None:
        """The booster course is on: ``agent`` comes to each session or not; each session is one dose."""
        booster = self.channel
        if not booster.invited[agent.index]:
            return
        b, sessions = booster.behaviour, 0
        p = logistic_one(math.log(b.attend_prob_per_session / max(1.0 - b.attend_prob_per_session, 1e-12))
                         + b.attend_affinity_coef * (agent.group_affinity - 0.5))
        for _ in range(booster.lever.sessions):
            if booster.rng.random() < p:
                sessions += 1
        if sessions == 0:
            booster.status[agent.index] = Engagement.DECLINED
            return
        booster.status[agent.index] = Engagement.ENROLLED  # for this week; everyone leaves after it
        agent.receive_contact(booster, b.effect, doses=sessions)
        booster.spend(self.model.ledger.unit_gbp["booster_per_participant"], self.model.week)

    def leaves(self, agent: ReferenceGraduate) -> bool:
        return True  # the booster is over
