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

Later cohorts: the area runs a course every ``intake_interval_weeks`` (as for the peer groups), and
each later course's graduates join the forum: about ``newcomers_per_intake_per_100_founding_members``
per 100 of those who joined when it opened (Poisson). The model follows one intake of graduates;
later joiners are kept as a count, not as agents, like the groups' newcomers: each is an average
founding member as they were when the forum opened (their mean digital confidence, habit and
propensity to post), visits with the same rule (so against the same critical mass), posts, gets a
reply with the same chance, and leaves at the hazard of last week's experience. Their visits and
posts keep the forum alive (posters are its critical mass; visitors answer posts) as its first
members drift away. ``forum_visitors`` and ``forum_posters`` count the modelled graduates;
``forum_newcomers``, ``forum_newcomer_visitors`` and ``forum_newcomer_posters`` the later joiners.

Costs follow membership: each week of support the platform and the moderator's hours are priced
per 1,000 members on the roll (the modelled graduates still enrolled and the later joiners), and,
as for the groups' meetings, the modelled graduates bear their own share of them by their numbers
on the roll. So the forum costs less as members leave, whatever the number offered at the start.

The module holds, in order: the parameters (the levers :class:`OnlineParams`, read as
``strategy.online``, and the behaviour :class:`OnlineBehaviour`, read as ``dynamics.online``),
the vectorised channel :class:`OnlineForum`, and the same rules for one graduate at a time,
:class:`OnlineRules` (the reference engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..fields import ContactEffect, CostItem, contact_effect, count, nonneg, positive, prob, real
from ..streams import logistic
from .base import Engagement, SupportChannel
from .one_by_one import ChannelRules
from .one_by_one import logistic as logistic_one
from .words import EngagementPanel, month_words, pct

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
    moderator_hours_per_week_per_1000_members: float = nonneg(
        14.0, doc="moderator hours a week per 1,000 members on the roll (later joiners included). Assumed: "
                  "the earlier 5 hours per 1,000 graduates offered, re-expressed per member (about 36% of "
                  "those offered join: 5 / 0.36 = 14) so that the forum's opening week costs what it did; "
                  "range 5-30",
    )
    intake_interval_weeks: int = count(
        13, lo=0, hi=52, doc="weeks between later courses in the area whose graduates join the forum; 0: none "
                             "(as strategy.peer_group.intake_interval_weeks: design.md, four a year assumed)",
    )
    newcomers_per_intake_per_100_founding_members: float = nonneg(
        26.0,
        doc="mean new members from each later course, per 100 who joined when the forum opened. Inferred from "
            "the groups' newcomers (strategy.peer_group.newcomers_per_intake): an area's first intake fills "
            "about two groups of 16 at 60% joining (about 53 graduates), a later course has about 14 "
            "graduates (14 / 53 = 0.26), and they join the forum as its founders did. Assumed range 0-50",
    )


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

    colour = "#009E73"  # Okabe-Ito bluish green
    noun, offer_words = "online group", "an online group"
    fit_words = "the online group if they are online and confident"
    engagement_panels = (
        EngagementPanel("forum_visitors_pct", "forum_visitors", "graduates", "Online group: visitors each week",
                        "% of all graduates visiting", dashed="forum_posters",
                        dashed_note="solid: visitors; dashed: posters",
                        fact=lambda first, last, halved, end: (
                            f"forum visits fall from {pct(first)} of graduates a week to {pct(last)}"
                            + (f", half gone by {month_words(halved)}" if halved else ""))),
    )
    weekly_counts = (("forum_visitors", "Forum visitors this week"),)

    @classmethod
    def phrase(cls, lever):
        return "Online group" if lever.get("moderated", True) else "Online group, unmoderated"

    @classmethod
    def describe(cls, lever):
        mod = "a moderated" if lever.get("moderated", True) else "an unmoderated"
        return f"{mod} online group for graduates who use the internet"

    unit_costs = {
        "online_platform_per_1000_graduates_per_year": CostItem(
            8400.0, 2024, "assumed: hosted forum licence per year, per 1,000 members on the roll (the earlier "
                          "GBP 3,000 per 1,000 graduates offered, re-expressed per member at about 36% joining; "
                          "range 3,000-15,000)", True
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
        n, runs = self.status.size, self.runs  # counts are per run in a batch (sim.runs)
        every = runs.view(behaviour)
        sizes = n if runs.single else np.full(runs.k, runs.n)
        self.propensity = runs.draw(rng, "beta", sizes, every.poster_propensity_a, every.poster_propensity_b)
        self.ever_posted = np.zeros(n, dtype=bool)
        self.experience = np.zeros(n, dtype=np.int8)  # last week's: READ, POSTED_NO_REPLY, REPLIED
        self.posters_last_week = runs.zeros()
        self.visitors = self.posters = runs.zeros()
        self._read = ContactEffect(behaviour.read_efficacy, 0.0, 0.0)
        if np.ndim(behaviour.read_efficacy):  # differs between the runs of a batch
            object.__setattr__(self._read, "_varying", frozenset({"efficacy"}))
        # later cohorts' members: a count, not agents (module docstring)
        self.founding_members = runs.zeros()  # who joined when the forum opened
        self.newcomers = runs.zeros()  # later joiners on the roll
        #: of them, by last week's READ, POSTED_NO_REPLY, REPLIED (a row per run, in a batch)
        self.newcomer_experience = np.zeros(3 if runs.single else (runs.k, 3), dtype=np.int64)
        zero = 0.0 if runs.single else runs.zeros(float)
        self.newcomer_profile = (zero, zero, zero)  # a newcomer's digital confidence, habit, propensity to post
        self.newcomer_visitors = self.newcomer_posters = runs.zeros()

    def offer(self, offered, week):
        super().offer(offered, week)
        founders = np.flatnonzero(self.enrolled)
        runs, g = self.runs, self.model.graduates
        self.founding_members = runs.count(founders)
        if runs.single and founders.size:  # a later joiner is an average founding member, as they were on joining
            self.newcomer_profile = (float(g.digital_confidence[founders].mean()), float(g.habit[founders].mean()),
                                     float(self.propensity[founders].mean()))
        elif not runs.single:
            self.newcomer_profile = tuple(runs.segment("mean", values, founders)
                                          for values in (g.digital_confidence, g.habit, self.propensity))

    def weekly_cost_gbp(self, roll: int) -> float:
        """GBP a week for ``roll`` members on the roll: the platform and, if moderated, the
        moderator's hours, both per 1,000 members."""
        n_thousands = roll / 1000.0
        unit = self.model.ledger.unit_gbp
        weekly = unit["online_platform_per_1000_graduates_per_year"] * n_thousands / 52.0
        if self.lever.moderated:
            weekly += self.lever.moderator_hours_per_week_per_1000_members * n_thousands * unit["moderator_per_hour"]
        return weekly

    def our_cost_gbp(self, members: int) -> float:
        """GBP a week borne by the ``members`` modelled graduates on the roll: the forum's cost for
        the whole roll (later joiners included), shared by numbers on it."""
        roll = members + self.newcomers
        if np.ndim(roll):  # per run, in a batch
            return np.divide(self.weekly_cost_gbp(roll) * members, roll, out=np.zeros(roll.shape), where=roll > 0)
        return self.weekly_cost_gbp(roll) * members / roll if roll else 0.0

    def intake_arrives(self, week: int) -> bool:
        """Whether a later course in the area has ended this week (its graduates may join)."""
        interval, since = self.lever.intake_interval_weeks, week - self.first_week
        return interval > 0 and since > 0 and since % interval == 0

    @property
    def newcomers_per_intake(self) -> float:
        """Mean later joiners from each later course."""
        return self.lever.newcomers_per_intake_per_100_founding_members * self.founding_members / 100.0

    def newcomer_visit_prob(self, alive: float) -> float:
        """The chance a later joiner visits this week (the visit rule, at the newcomer profile)."""
        b = self.behaviour
        confidence, habit, _ = self.newcomer_profile
        if np.ndim(alive):  # per run, in a batch
            return logistic(b.visit_intercept + b.visit_confidence_coef * confidence + b.visit_habit_coef * habit
                            + b.visit_critical_mass_coef * alive)
        return float(logistic(b.visit_intercept + b.visit_confidence_coef * confidence + b.visit_habit_coef * habit
                              + b.visit_critical_mass_coef * alive))

    def one_by_one(self) -> OnlineRules:
        return OnlineRules(self)

    def takes_up(self, offered):
        g, b = self.model.graduates, self.runs.view(self.behaviour)
        p = logistic(b.join_intercept + b.join_confidence_coef * (g.digital_confidence - 0.5))
        return g.online_access & (self.runs.uniform(self.rng) < p)

    def step(self, week):
        g, b, runs = self.model.graduates, self.behaviour, self.runs
        if self.intake_arrives(week):
            arrivals = runs.draw_each(self.rng, "poisson", self.newcomers_per_intake)
            self.newcomers += int(arrivals) if runs.single else arrivals
        members = np.flatnonzero(self.enrolled)
        alive = self.posters_last_week / (self.posters_last_week + b.critical_mass_posters)
        bm = runs.view(b, members)
        logit = (
            bm.visit_intercept
            + bm.visit_confidence_coef * g.digital_confidence[members]
            + bm.visit_habit_coef * g.habit[members]
            + bm.visit_critical_mass_coef * runs.at(alive, members)
        )
        visitors = members[runs.uniform(self.rng, members) < logistic(logit)]
        posting = runs.uniform(self.rng, visitors) < self.propensity[visitors]
        posters, readers = visitors[posting], visitors[~posting]
        new_visitors = self._scalar(runs.draw_each(self.rng, "binomial", self.newcomers, self.newcomer_visit_prob(alive)))
        new_posters = self._scalar(runs.draw_each(self.rng, "binomial", new_visitors, self.newcomer_profile[2]))
        others = runs.count(visitors) + new_visitors - 1
        others = max(others, 0) if runs.single else np.maximum(others, 0)
        p_reply = others / (others + b.reply_half_saturation_visitors)
        if self.lever.moderated:
            p_reply = 1.0 - (1.0 - p_reply) * (1.0 - b.moderator_reply_prob)
        replied_mask = runs.uniform(self.rng, posters) < runs.at(p_reply, posters)
        replied, unanswered = posters[replied_mask], posters[~replied_mask]
        new_replied = self._scalar(runs.draw_each(self.rng, "binomial", new_posters, p_reply))
        experience = (self.newcomers - new_posters, new_posters - new_replied, new_replied)
        self.newcomer_experience[:] = experience if runs.single else np.stack(experience, axis=-1)

        self.deliver(replied, week, b.effect)
        self.deliver(unanswered, week, b.effect, social=False)
        self.deliver(readers, week, self._read, social=False)
        self.ever_posted[posters] = True
        self.experience[members] = READ
        self.experience[unanswered] = POSTED_NO_REPLY
        self.experience[replied] = REPLIED
        self.visitors, self.posters = runs.count(visitors), runs.count(posters)
        self.newcomer_visitors, self.newcomer_posters = new_visitors, new_posters
        self.posters_last_week = self.posters + new_posters
        self.spend(self.our_cost_gbp(runs.count(members)), week)

    def _scalar(self, x):
        """A count drawn for one run, as one run keeps it (an int); a batch's, as they come."""
        return int(x) if self.runs.single else x

    def engage(self, week):
        b, runs = self.behaviour, self.runs
        members = np.flatnonzero(self.enrolled)
        bm = runs.view(b, members)
        hazard = np.choose(
            self.experience[members],
            [bm.leave_prob_per_week_reader, bm.leave_prob_per_week_no_reply, bm.leave_prob_per_week_replied],
        )
        self.leave(members[runs.uniform(self.rng, members) < hazard])
        hazards = [b.leave_prob_per_week_reader, b.leave_prob_per_week_no_reply, b.leave_prob_per_week_replied]
        if runs.single:
            self.newcomers -= int(self.rng.binomial(self.newcomer_experience, hazards).sum())
        else:
            per_run = np.stack(np.broadcast_arrays(*hazards, np.zeros(runs.k)), axis=-1)[:, :3]
            left = [int(r.binomial(n, h).sum()) for r, n, h in zip(self.rng, self.newcomer_experience, per_run)]
            self.newcomers -= np.asarray(left, dtype=np.int64)

    def close(self):
        super().close()
        self.newcomers = self.runs.zeros()

    def begin_week(self):
        super().begin_week()
        self.visitors = self.posters = self.runs.zeros()
        self.newcomer_visitors = self.newcomer_posters = self.runs.zeros()

    def results(self):
        r = super().results()
        runs, f = self.runs, self._float
        if runs.single:
            ever_member = np.count_nonzero(self.status >= Engagement.ENROLLED)
            posted = float(np.count_nonzero(self.ever_posted)) / ever_member if ever_member else 0.0
        else:
            ever_member = runs.count_true(self.status >= Engagement.ENROLLED)
            posted = np.divide(runs.count_true(self.ever_posted), ever_member, out=np.zeros(runs.k),
                               where=ever_member > 0)
        r.update(
            forum_visitors=f(self.visitors),
            forum_posters=f(self.posters),
            forum_ever_posted_share=posted,
            forum_newcomers=f(self.newcomers),
            forum_newcomer_visitors=f(self.newcomer_visitors),
            forum_newcomer_posters=f(self.newcomer_posters),
        )
        return r


# --- the same rules, one graduate at a time (the reference engine) --------------------------------


class OnlineRules(ChannelRules):
    """The forum for one member at a time, restated (see :mod:`sim.support.one_by_one`).

    What belongs to the forum is written plainly here: its critical mass (posters last week), the
    chance that a post gets a reply (from the number of visitors this week), and its later joiners
    (a count: who arrives from each later course, visits, posts, hears back and leaves). Everyone
    decides to visit against last week's posters, and replies come once everyone has visited, so
    the order of agents does not matter.
    """

    channel: OnlineForum

    def wants_to_join(self, agent: ReferenceGraduate) -> bool:
        forum = self.channel
        b = forum.behaviour
        p = logistic_one(b.join_intercept + b.join_confidence_coef * (agent.digital_confidence - 0.5))
        return bool(agent.online_access) and forum.rng.random() < p

    def set_up(self, offered: np.ndarray, week: int) -> None:
        """The founding members, and the later joiner's profile: an average founder on joining."""
        forum = self.channel
        founders = [a for a in self.model.graduate_agents if a.is_enrolled(forum)]
        forum.founding_members = len(founders)
        if founders:
            k = len(founders)
            forum.newcomer_profile = (sum(a.digital_confidence for a in founders) / k,
                                      sum(a.habit for a in founders) / k,
                                      sum(float(forum.propensity[a.index]) for a in founders) / k)

    def step(self, week: int) -> None:
        """A later course may have ended (new members join); members and later joiners visit (more
        when last week had posters); posts get replies (more when busy)."""
        forum = self.channel
        b, lever = forum.behaviour, forum.lever
        since = week - forum.first_week
        if lever.intake_interval_weeks and since > 0 and since % lever.intake_interval_weeks == 0:
            mean = lever.newcomers_per_intake_per_100_founding_members * forum.founding_members / 100.0
            forum.newcomers += int(forum.rng.poisson(mean))
        alive = forum.posters_last_week / (forum.posters_last_week + b.critical_mass_posters)
        visitors: list[ReferenceGraduate] = []
        posters: list[ReferenceGraduate] = []
        self.model.agents.shuffle_do(self.visit_forum, alive, visitors, posters)
        # later joiners: each visits with the visit rule at the newcomer profile, then posts
        confidence, habit, propensity = forum.newcomer_profile
        p_visit = logistic_one(b.visit_intercept + b.visit_confidence_coef * confidence + b.visit_habit_coef * habit
                               + b.visit_critical_mass_coef * alive)
        new_visitors = sum(1 for _ in range(forum.newcomers) if forum.rng.random() < p_visit)
        new_posters = sum(1 for _ in range(new_visitors) if forum.rng.random() < propensity)
        others = max(len(visitors) + new_visitors - 1, 0)
        p_reply = others / (others + b.reply_half_saturation_visitors)
        if lever.moderated:
            p_reply = 1.0 - (1.0 - p_reply) * (1.0 - b.moderator_reply_prob)
        for agent in posters:
            self.hear_back(agent, p_reply)
        new_replied = sum(1 for _ in range(new_posters) if forum.rng.random() < p_reply)
        forum.newcomer_experience[:] = (forum.newcomers - new_posters, new_posters - new_replied, new_replied)
        forum.visitors, forum.posters = len(visitors), len(posters)
        forum.newcomer_visitors, forum.newcomer_posters = new_visitors, new_posters
        forum.posters_last_week = len(posters) + new_posters
        # the forum's cost for everyone on the roll, shared by numbers on it: ours is our share
        members = sum(1 for a in self.model.graduate_agents if a.is_enrolled(forum))
        roll = members + forum.newcomers
        if roll:
            forum.spend(forum.weekly_cost_gbp(roll) * members / roll, week)

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

    def engage(self, week: int) -> None:
        """Members stay or leave; then each later joiner, by last week's experience."""
        super().engage(week)
        forum = self.channel
        b = forum.behaviour
        hazards = (b.leave_prob_per_week_reader, b.leave_prob_per_week_no_reply, b.leave_prob_per_week_replied)
        for n, hazard in zip(forum.newcomer_experience.tolist(), hazards):
            forum.newcomers -= sum(1 for _ in range(n) if forum.rng.random() < hazard)
