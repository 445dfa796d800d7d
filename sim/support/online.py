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

The module holds, in order: the parameters (the levers :class:`OnlineParams`, read as
``strategy.online``, and the behaviour :class:`OnlineBehaviour`, read as ``dynamics.online``),
the vectorised channel :class:`OnlineForum`, and the same rules for one graduate at a time,
:class:`OnlineRules` (the reference engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..fields import ContactEffect, CostItem, contact_effect, nonneg, positive, prob, real
from ..streams import logistic
from .base import Engagement, SupportChannel
from .one_by_one import ChannelRules
from .one_by_one import logistic as logistic_one

if TYPE_CHECKING:
    from ..params import StrategyParams
    from ..population import Graduates
    from ..reference import ReferenceGraduate

#: A member's experience of the forum last week, which sets their chance of leaving.
READ, POSTED_NO_REPLY, REPLIED = 0, 1, 2

# --- parameters ------------------------------------------------------------------------------------


@dataclass
class OnlineParams:
    """An online group (forum) with a moderator."""

    enabled: bool = False
    moderated: bool = True
    moderator_hours_per_week_per_1000_graduates: float = nonneg(5.0)


@dataclass
class OnlineBehaviour:
    """How graduates use the online group (``dynamics.online``): who joins, visits, posts, gets a
    reply and leaves, and what posting and reading restore. Sources and calibration: docs/odd.md 7.9."""

    effect: ContactEffect = contact_effect(0.05, 0.05)
    read_efficacy: float = prob(0.02, "reading without posting a week: information only (no habit, no "
                                      "connectedness); calibrated at its prior (docs/odd.md 7.9)")
    join_intercept: float = real(-0.5, "log-odds of joining at digital confidence 0.5")
    join_confidence_coef: float = real(3.0)
    visit_intercept: float = real(-0.4, "log-odds of visiting in a week")
    visit_confidence_coef: float = real(1.5)
    visit_habit_coef: float = real(1.0)
    visit_critical_mass_coef: float = real(1.5, "per unit of posters/(posters + critical mass)")
    critical_mass_posters: float = positive(5.0, doc="active posters at which the forum feels half-alive")
    poster_propensity_a: float = positive(0.25, doc="Beta shape a of the propensity to post")
    poster_propensity_b: float = positive(3.5, doc="Beta shape b: fewer than a quarter ever post")
    reply_half_saturation_visitors: float = positive(10.0, doc="visitors at which half of posts get a reply")
    moderator_reply_prob: float = prob(0.5, "a moderator replies to a post nobody answered")
    leave_prob_per_week_no_reply: float = prob(0.12)
    leave_prob_per_week_replied: float = prob(0.03)
    leave_prob_per_week_reader: float = prob(0.12)


# --- the channel, vectorised ---------------------------------------------------------------------


class OnlineForum(SupportChannel, name="online", label="Online group", week_order=30,
                  lever=OnlineParams, behaviour=OnlineBehaviour, tailorable=True):
    """The forum, every member at once (numpy arrays)."""

    unit_costs = {
        "online_platform_per_1000_graduates_per_year": CostItem(
            3000.0, 2024, "assumed: hosted forum licence per year, per 1,000 graduates offered", True
        ),
        "moderator_per_hour": CostItem(25.0, 2024, "assumed: moderator cost per hour", True),
    }

    @classmethod
    def fits(cls, g: Graduates, strategy: StrategyParams) -> np.ndarray:
        """Those online and confident with it: digital confidence at
        ``strategy.tailoring_digital_confidence_threshold`` or more."""
        return g.online_access & (g.digital_confidence >= strategy.tailoring_digital_confidence_threshold)

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

    def weekly_cost_gbp(self) -> float:
        """GBP a week: the platform and, if moderated, the moderator's hours, both per 1,000 offered."""
        n_thousands = self.offered / 1000.0
        unit = self.model.ledger.unit_gbp
        weekly = unit["online_platform_per_1000_graduates_per_year"] * n_thousands / 52.0
        if self.lever.moderated:
            weekly += self.lever.moderator_hours_per_week_per_1000_graduates * n_thousands * unit["moderator_per_hour"]
        return weekly

    def one_by_one(self) -> OnlineRules:
        return OnlineRules(self)

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
        self.spend(self.weekly_cost_gbp(), week)

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


# --- the same rules, one graduate at a time (the reference engine) --------------------------------


class OnlineRules(ChannelRules):
    """The forum for one member at a time, restated (see :mod:`sim.support.one_by_one`).

    What belongs to the forum is written plainly here: its critical mass (posters last week) and
    the chance that a post gets a reply (from the number of visitors this week). Everyone decides
    to visit against last week's posters, and replies come once everyone has visited, so the order
    of agents does not matter.
    """

    channel: OnlineForum

    def wants_to_join(self, agent: ReferenceGraduate) -> bool:
        forum = self.channel
        b = forum.behaviour
        p = logistic_one(b.join_intercept + b.join_confidence_coef * (agent.digital_confidence - 0.5))
        return bool(agent.online_access) and forum.rng.random() < p

    def set_up(self, offered: np.ndarray, week: int) -> None:
        self.channel.offered = int(np.count_nonzero(offered))  # fixed costs scale with it

    def step(self, week: int) -> None:
        """Members visit (more when last week had posters); posts get replies (more when busy)."""
        forum = self.channel
        b = forum.behaviour
        alive = forum.posters_last_week / (forum.posters_last_week + b.critical_mass_posters)
        visitors: list[ReferenceGraduate] = []
        posters: list[ReferenceGraduate] = []
        self.model.agents.shuffle_do(self.visit_forum, alive, visitors, posters)
        others = max(len(visitors) - 1, 0)
        p_reply = others / (others + b.reply_half_saturation_visitors)
        if forum.lever.moderated:
            p_reply = 1.0 - (1.0 - p_reply) * (1.0 - b.moderator_reply_prob)
        for agent in posters:
            self.hear_back(agent, p_reply)
        forum.visitors, forum.posters = len(visitors), len(posters)
        forum.posters_last_week = len(posters)
        forum.spend(forum.weekly_cost_gbp(), week)

    def visit_forum(self, agent: ReferenceGraduate, alive: float, visitors: list, posters: list) -> None:
        """``agent`` visits the forum or not (confidence, habit, how alive it is); posts, or just reads."""
        forum = self.channel
        if not agent.is_enrolled(forum):
            return
        forum.experience[agent.index] = READ  # unless they post (below, and in ``hear_back``)
        b = forum.behaviour
        logit = (
            b.visit_intercept
            + b.visit_confidence_coef * agent.digital_confidence
            + b.visit_habit_coef * agent.habit
            + b.visit_critical_mass_coef * alive
        )
        if forum.rng.random() >= logistic_one(logit):
            return
        visitors.append(agent)
        if forum.rng.random() < forum.propensity[agent.index]:
            posters.append(agent)  # a reply, or none, once everyone has visited
            forum.ever_posted[agent.index] = True
        else:  # reading: information only, no habit, no company
            agent.receive_contact(forum, ContactEffect(b.read_efficacy, 0.0, 0.0), social=False)

    def hear_back(self, agent: ReferenceGraduate, p_reply: float) -> None:
        """``agent``'s post gets a reply (company and practice) or none (practice alone)."""
        forum = self.channel
        if forum.rng.random() < p_reply:
            agent.receive_contact(forum, forum.behaviour.effect)
            forum.experience[agent.index] = REPLIED
        else:
            agent.receive_contact(forum, forum.behaviour.effect, social=False)
            forum.experience[agent.index] = POSTED_NO_REPLY

    def leaves(self, agent: ReferenceGraduate) -> bool:
        """By last week's experience: replies keep people."""
        forum = self.channel
        b = forum.behaviour
        hazard = {
            READ: b.leave_prob_per_week_reader,
            POSTED_NO_REPLY: b.leave_prob_per_week_no_reply,
            REPLIED: b.leave_prob_per_week_replied,
        }[int(forum.experience[agent.index])]
        return forum.rng.random() < hazard
