"""Follow-on peer support groups, pooled by area (design.md, 'Peer group').

Who: graduates offered a group join with a probability rising with group affinity (about a third
of those referred never attend). Groups: by default the joiners of an area's courses (consecutive
cohorts) are pooled into groups with a register of about ``pooled_group_size``; ``formation=cohort``
keeps each course cohort as its own group. How often: every open group meets every
``interval_weeks``. What: each member present gets a contact whose efficacy grows with the gains
of the others present (vicarious learning), plus the largest connectedness gain of any channel.

Attendance per meeting rises with group affinity, habit, the share of one's course friends who came
last time and the need for company (1 - connectedness); it falls during a flare-up. It starts high
(the novelty of a new group) and settles, over a few meetings, to about a third of the register at
a typical meeting (Levy 1982). Members leave at about 5-6% a month, less if their friends come and
they feel a benefit. A group closes (Wituk 2002: attendance and leadership are the commonest
reasons) after ``close_after_meetings`` consecutive meetings too small for its register (fewer than
``min_attendance`` or ``min_attendance_share`` of the register present), when its register empties,
or (peer-led) when its volunteer leader leaves and no member steps up: each member at the last
meeting steps up with ``successor_prob_per_attender``, so a well-attended group finds a successor
more easily.

Rolling intake: the area runs a course every ``intake_interval_weeks``, and each open group gets
about ``newcomers_per_intake`` new members from it (Poisson). The model follows one intake of
graduates; later intakes' newcomers are kept as a count per group, not as agents: they sit on the
register, come to a meeting as often as the group's modelled members did, leave at the base
leaving rate, and can step up as leader. They keep a group alive as its first members drift away
(Wituk 2002: the number of new people coming to meetings told surviving groups from disbanded
ones). Meeting costs are shared between modelled members and newcomers by their numbers on the
register: the modelled graduates bear their own share.

The module holds, in order: the parameters (the levers :class:`PeerGroupParams`, read as
``strategy.peer_group``, and the behaviour :class:`PeerGroupBehaviour`, read as
``dynamics.peer_group``), the vectorised channel :class:`PeerGroups`, and the same rules for one
graduate at a time, :class:`PeerGroupRules` (the reference engine).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np

from ..fields import ContactEffect, CostItem, contact_effect, count, nonneg, positive, prob, real
from ..streams import logistic
from .base import VOLUNTEER_TRAINING, SupportChannel
from .one_by_one import ChannelRules
from .one_by_one import logistic as logistic_one
from .words import EngagementPanel, every, month_words, pct

if TYPE_CHECKING:
    from ..params import StrategyParams
    from ..population import Graduates
    from ..reference import ReferenceGraduate

# --- parameters ------------------------------------------------------------------------------------


class GroupDelivery(str, Enum):
    peer_led = "peer_led"  # a volunteer leader from the group; free but volunteers leave
    facilitated = "facilitated"  # a paid facilitator; costs more, never loses its leader


class GroupFormation(str, Enum):
    cohort = "cohort"  # each course cohort continues as its own group
    pooled = "pooled"  # members of an area's cohorts are pooled into groups of a target register size


@dataclass
class PeerGroupParams:
    """Follow-on peer support groups: by default pooled by area from the graduates of several courses."""

    enabled: bool = False
    interval_weeks: int = count(2, lo=1, hi=52, doc="weeks between meetings (1, 2 or 4)")
    delivery: GroupDelivery = GroupDelivery.peer_led
    formation: GroupFormation = GroupFormation.pooled
    pooled_group_size: int = count(16, lo=2, doc="target register size when pooling an area's cohorts")
    min_attendance: int = count(2, lo=0, doc="a meeting with fewer present counts as too small")
    min_attendance_share: float = prob(
        0.10, "a meeting with fewer present than this share of the register counts as too small"
    )
    close_after_meetings: int = count(3, lo=1, doc="consecutive too-small meetings before closing")
    intake_interval_weeks: int = count(
        13, lo=0, hi=52, doc="weeks between later courses in the area whose graduates join open groups; 0: none"
    )
    newcomers_per_intake: float = nonneg(4.0, doc="mean newcomers each open group gets from each later course")


@dataclass
class PeerGroupBehaviour:
    """How graduates take part in peer groups (``dynamics.peer_group``): who joins, who comes to
    each meeting, who leaves, what a meeting restores, and how leaders are lost and replaced.
    Sources and calibration: docs/odd.md 7.7."""

    effect: ContactEffect = contact_effect(0.10, 0.15)
    join_intercept: float = real(0.7, "log-odds of joining at group affinity 0.5 (a third never attend)")
    join_affinity_coef: float = real(6.0, "per unit of group affinity")
    attend_intercept: float = real(-3.8, "log-odds of attending a meeting (about 1/3 of the register)")
    attend_affinity_coef: float = real(2.5)
    attend_habit_coef: float = real(1.0)
    attend_friends_coef: float = real(1.5, "per share of one's cohort friends present last time")
    attend_need_coef: float = real(1.0, "per unit of (1 - connectedness)")
    attend_flare_coef: float = real(-1.5, "during a flare-up")
    attend_novelty_coef: float = real(1.0, "extra log-odds at a group's first meeting (attendance settles)")
    attend_novelty_meetings: float = positive(3.0, doc="meetings over which the novelty fades (e-folding)")
    leave_prob_per_week: float = prob(0.014, "5-6% a month")
    leave_friends_effect: float = nonneg(1.0, doc="log hazard ratio per share of friends attending")
    leave_benefit_effect: float = nonneg(1.0, doc="log hazard ratio per SD of gain")
    vicarious_effect: float = nonneg(0.5, doc="efficacy rise per SD of mean gain of others present")
    facilitated_efficacy_multiplier: float = positive(1.2)
    volunteer_leave_prob_per_week: float = prob(0.013, "half of volunteers leave within a year")
    successor_prob_per_attender: float = prob(
        0.25, "when the leader leaves, each member at the last meeting steps up with this probability"
    )


# --- the channel, vectorised ---------------------------------------------------------------------


class PeerGroups(SupportChannel, name="peer_group", label="Peer support group", week_order=10,
                 lever=PeerGroupParams, behaviour=PeerGroupBehaviour, cost_label="Peer groups", tailorable=True):
    """Peer groups, every graduate at once (numpy arrays)."""

    colour = "#E69F00"  # Okabe-Ito orange
    noun, offer_words, fit_words = "groups", "peer groups", "a group if they like groups"
    engagement_panels = (
        EngagementPanel("attendance_pct", "peer_group_attendance_share", "share",
                        "Group meetings: % of the register attending", "% of members at the latest meeting"),
        EngagementPanel("groups_open_share", "groups_open", "peak", "Peer groups still meeting",
                        "% of the groups that started",
                        fact=lambda first, last, halved, end: (
                            f"half the peer groups close within {month_words(halved)}" if halved
                            else "most peer groups keep meeting") + f" ({pct(last)} still meet at {end})"),
    )
    weekly_counts = (("groups_open", "Peer groups still open"),)
    #: its arrays of one entry per group (a batch's run views pick each run's groups: sim.batched)
    group_arrays = ("group_open", "small_streak", "meetings_held", "present_last", "newcomers")

    @classmethod
    def phrase(cls, lever):
        name = "Facilitated peer group" if lever.get("delivery") == "facilitated" else "Peer support group"
        pooled = " (one group per cohort)" if lever.get("formation") == "cohort" else ""
        return f"{name}{pooled}, {every(lever.get('interval_weeks', 2))}"

    @classmethod
    def describe(cls, lever):
        led = "led by a paid facilitator" if lever.get("delivery") == "facilitated" else "led by a volunteer"
        formed = ("formed from each course cohort" if lever.get("formation") == "cohort"
                  else "pooled by area from several courses, with newcomers from later courses")
        return f"support groups {formed}, {led}, meeting {every(lever.get('interval_weeks', 2))}"

    unit_costs = {
        "peer_group_venue_per_meeting": CostItem(40.0, 2024, "assumed: community room hire, 2 hours", True),
        "peer_group_coordination_per_meeting": CostItem(25.0, 2024, "assumed: 1 hour coordinator time", True),
        "facilitator_per_meeting": CostItem(90.0, 2024, "assumed: 3 hours paid facilitator incl. preparation", True),
        **VOLUNTEER_TRAINING,
    }

    @classmethod
    def fits(cls, g: Graduates, strategy: StrategyParams) -> np.ndarray:
        """Those who like groups: group affinity at ``strategy.tailoring_group_affinity_threshold`` or more."""
        return g.group_affinity >= strategy.tailoring_group_affinity_threshold

    def __init__(self, model, lever, behaviour, rng):
        super().__init__(model, lever, behaviour, rng)
        n = self.status.size
        self.group_of = np.full(n, -1, dtype=np.int64)  # the group each member belongs to
        self.attended_last = np.zeros(n, dtype=bool)  # came to their group's last meeting
        self.friend_share = np.zeros(n, dtype=float)  # share of course friends at the last meeting
        degree = np.asarray(model.graduates.ties.sum(axis=1)).ravel()
        self._inv_degree = np.divide(1.0, degree, out=np.zeros(n), where=degree > 0)
        self.group_open = np.zeros(0, dtype=bool)
        self.small_streak = np.zeros(0, dtype=np.int64)  # consecutive too-small meetings
        self.meetings_held = np.zeros(0, dtype=np.int64)  # meetings each group has held
        self.present_last = np.zeros(0, dtype=np.int64)  # members present at each group's last meeting
        self.newcomers = np.zeros(0, dtype=np.int64)  # later intakes' members on each group's register
        self.group_run = np.zeros(0, dtype=np.int64)  # the run each group belongs to (sim.runs)
        self.meetings_this_week = self.runs.zeros()
        self.attendance_share = 0.0 if self.runs.single else self.runs.zeros(float)  # of the register, latest meeting
        self.leaders_trained = self.runs.zeros()

    def takes_up(self, offered):
        b = self.runs.view(self.behaviour)
        p = logistic(b.join_intercept + b.join_affinity_coef * (self.model.graduates.group_affinity - 0.5))
        return self.runs.uniform(self.rng) < p

    def offer(self, offered, week):
        super().offer(offered, week)
        members = np.flatnonzero(self.enrolled)
        runs = self.runs
        if self.lever.formation == GroupFormation.cohort:  # cohorts are each run's own (sim.runs)
            _, self.group_of[members] = np.unique(self.model.graduates.cohort[members], return_inverse=True)
        elif runs.single:  # pooled: members in cohort order (so friends stay together) cut into groups
            self.group_of[members] = np.arange(members.size) // self.lever.pooled_group_size
        else:  # the same within each run, group ids run after run
            size = self.lever.pooled_group_size
            joined = runs.counts(members)
            first_member = np.cumsum(joined) - joined
            first_group = np.cumsum(-(-joined // size)) - (-(-joined // size))
            run = runs.of[members]
            self.group_of[members] = first_group[run] + (np.arange(members.size) - first_member[run]) // size
        n_groups = int(self.group_of.max()) + 1 if members.size else 0
        if not runs.single:
            self.group_run = np.zeros(n_groups, dtype=np.int64)
            self.group_run[self.group_of[members]] = runs.of[members]
        self.group_open = np.ones(n_groups, dtype=bool)
        self.small_streak = np.zeros(n_groups, dtype=np.int64)
        self.meetings_held = np.zeros(n_groups, dtype=np.int64)
        self.present_last = np.zeros(n_groups, dtype=np.int64)
        self.newcomers = np.zeros(n_groups, dtype=np.int64)
        if self.lever.delivery == GroupDelivery.peer_led:
            self.train_leaders(n_groups if runs.single else self.per_group_run(np.arange(n_groups)), week)

    def per_group_run(self, groups: np.ndarray) -> np.ndarray:
        """How many of ``groups`` (ids) each run has (a batch: :mod:`sim.runs`)."""
        return self.runs.counts(groups, self.group_run)

    @property
    def groups_open(self) -> int:
        if self.runs.single:
            return int(np.count_nonzero(self.group_open))
        return self.per_group_run(np.flatnonzero(self.group_open))

    @property
    def groups_formed(self) -> int:
        if self.runs.single:
            return int(self.group_open.size)
        return self.per_group_run(np.arange(self.group_open.size))

    def too_small(self, present: np.ndarray, register: np.ndarray) -> np.ndarray:
        """Whether meetings with ``present`` members, of registers ``register``, count as too small."""
        lever = self.lever
        return (present < lever.min_attendance) | (present < lever.min_attendance_share * register)

    def train_leaders(self, k: int, week: int, paid: float | None = None) -> None:
        """Train ``k`` volunteer leaders; the modelled graduates pay for ``paid`` of them (default all)."""
        self.leaders_trained += k
        paid = k if paid is None else paid
        self.spend(paid * self.model.ledger.unit_gbp["volunteer_training_per_volunteer"], week)

    @property
    def meeting_cost_gbp(self) -> float:
        """GBP per meeting: the venue and its coordination, and a paid facilitator if facilitated."""
        unit = self.model.ledger.unit_gbp
        per_meeting = unit["peer_group_venue_per_meeting"] + unit["peer_group_coordination_per_meeting"]
        if self.lever.delivery == GroupDelivery.facilitated:
            per_meeting += unit["facilitator_per_meeting"]
        return per_meeting

    def one_by_one(self) -> PeerGroupRules:
        return PeerGroupRules(self)

    def take_in_newcomers(self, week: int) -> None:
        """A later course in the area has ended: each open group gets its newcomers."""
        lever = self.lever
        since = week - self.first_week
        if lever.intake_interval_weeks == 0 or since == 0 or since % lever.intake_interval_weeks != 0:
            return
        sizes = self.group_open.size if self.runs.single else self.groups_formed
        arrivals = self.runs.draw(self.rng, "poisson", sizes, lever.newcomers_per_intake)
        self.newcomers += np.where(self.group_open, arrivals, 0)

    def step(self, week):
        runs = self.runs
        self.meetings_this_week = runs.zeros()
        self.take_in_newcomers(week)
        if (week - self.first_week) % self.lever.interval_weeks != 0 or not self.group_open.any():
            return
        # a run whose groups have all closed has no members left and holds no meeting (sim.runs)
        meets = True if runs.single else self.groups_open > 0
        g = self.model.graduates
        members = np.flatnonzero(self.enrolled)
        b = runs.view(self.behaviour, members)
        self.friend_share[members] = (g.ties @ self.attended_last)[members] * self._inv_degree[members]
        novelty = b.attend_novelty_coef * np.exp(-self.meetings_held[self.group_of[members]] / b.attend_novelty_meetings)
        logit = (
            b.attend_intercept
            + novelty
            + b.attend_affinity_coef * g.group_affinity[members]
            + b.attend_habit_coef * g.habit[members]
            + b.attend_friends_coef * self.friend_share[members]
            + b.attend_need_coef * (1.0 - g.connectedness[members])
            + b.attend_flare_coef * g.flare[members]
        )
        present = members[runs.uniform(self.rng, members) < logistic(logit)]
        self.attended_last[members] = False
        self.attended_last[present] = True

        n_groups = self.group_open.size
        groups = self.group_of[present]
        count = np.bincount(groups, minlength=n_groups)
        gain = g.gain[present]
        gain_sum = np.bincount(groups, weights=gain, minlength=n_groups)
        others = count[groups] - 1
        others_mean = np.divide(gain_sum[groups] - gain, others, out=np.zeros(present.size), where=others > 0)
        b = runs.view(self.behaviour, present)
        multiplier = 1.0 + b.vicarious_effect * np.maximum(others_mean, 0.0)
        if self.lever.delivery == GroupDelivery.facilitated:
            multiplier = multiplier * b.facilitated_efficacy_multiplier
        self.deliver(present, week, self.behaviour.effect, multiplier)

        meeting = self.group_open
        modelled = np.bincount(self.group_of[members], minlength=n_groups)
        # newcomers come as often as the group's modelled members did at this meeting
        share = np.divide(count, modelled, out=np.zeros(n_groups), where=modelled > 0)
        if runs.single:
            came = self.rng.binomial(self.newcomers, share)
        else:  # only the runs that meet draw
            drawn = meets[self.group_run]
            came = np.zeros(n_groups, dtype=np.int64)
            came[drawn] = runs.draw(self.rng, "binomial", np.where(meets, self.groups_formed, 0),
                                    self.newcomers[drawn], share[drawn])
        newcomers_present = np.where(meeting, came, 0)
        register = modelled + self.newcomers
        count = count + newcomers_present
        small = self.too_small(count, register)
        self.meetings_held += meeting
        self.present_last = np.where(meeting, count, self.present_last)
        self.small_streak = np.where(meeting & small, self.small_streak + 1, np.where(meeting, 0, self.small_streak))
        ours = np.divide(modelled, register, out=np.zeros(n_groups), where=register > 0)
        if runs.single:
            self.meetings_this_week = int(meeting.sum())
            self.attendance_share = present.size / members.size if members.size else 0.0
            self.spend(float(ours[meeting].sum()) * self.meeting_cost_gbp, week)
        else:
            self.meetings_this_week = self.groups_open
            on_register, came_along = runs.counts(members), runs.counts(present)
            attendance = np.divide(came_along, on_register, out=np.zeros(runs.k), where=on_register > 0)
            self.attendance_share = np.where(meets, attendance, self.attendance_share)
            spent = runs.segment("sum", ours, np.flatnonzero(meeting), self.group_run)
            self.spend(np.where(meets, spent * self.meeting_cost_gbp, 0.0), week)

    def engage(self, week):
        g, runs = self.model.graduates, self.runs
        members = np.flatnonzero(self.enrolled)
        b = runs.view(self.behaviour, members)
        hazard = b.leave_prob_per_week * np.exp(
            -b.leave_friends_effect * self.friend_share[members] - b.leave_benefit_effect * np.maximum(g.gain[members], 0)
        )
        self.leave(members[runs.uniform(self.rng, members) < hazard])
        all_groups = np.arange(self.group_open.size)
        sizes = all_groups.size if runs.single else self.groups_formed
        b = runs.view(self.behaviour, all_groups, self.group_run)
        self.newcomers -= runs.draw(self.rng, "binomial", sizes, self.newcomers, b.leave_prob_per_week)

        closing = self.group_open & (self.small_streak >= self.lever.close_after_meetings)
        modelled = np.bincount(self.group_of[self.enrolled], minlength=self.group_open.size)
        closing |= self.group_open & (modelled + self.newcomers == 0)  # nobody left on the register
        if self.lever.delivery == GroupDelivery.peer_led:
            open_idx = np.flatnonzero(self.group_open & ~closing)
            b = runs.view(self.behaviour, open_idx, self.group_run)
            leader_leaves = open_idx[runs.uniform(self.rng, open_idx, self.group_run) < b.volunteer_leave_prob_per_week]
            b = runs.view(self.behaviour, leader_leaves, self.group_run)
            p_successor = 1.0 - (1.0 - b.successor_prob_per_attender) ** self.present_last[leader_leaves]
            stepped_up = runs.uniform(self.rng, leader_leaves, self.group_run) < p_successor
            closing[leader_leaves[~stepped_up]] = True
            successors = leader_leaves[stepped_up]  # trained; the modelled graduates pay their share
            register = modelled[successors] + self.newcomers[successors]
            ours = np.divide(modelled[successors], register, out=np.zeros(successors.size), where=register > 0)
            if runs.single:
                self.train_leaders(successors.size, week, float(ours.sum()))
            else:
                at = np.arange(successors.size)
                self.train_leaders(self.per_group_run(successors), week,
                                   runs.segment("sum", ours, at, self.group_run[successors]))
        if closing.any():
            self.group_open &= ~closing
            self.newcomers[closing] = 0
            in_closed = self.enrolled & (self.group_of >= 0)
            in_closed[in_closed] = closing[self.group_of[in_closed]]
            self.leave(in_closed)

    def leave(self, who):
        super().leave(who)
        self.attended_last[who] = False  # a friend who left no longer counts as present

    def close(self):
        self.leave(self.enrolled)
        self.group_open[:] = False
        self.newcomers[:] = 0

    def results(self):
        r = super().results()
        opened, formed = self.groups_open, self.groups_formed
        r["groups_open"] = self._float(opened)
        if self.runs.single:
            r["peer_group_survival_share"] = opened / formed if formed else 0.0
        else:
            r["peer_group_survival_share"] = np.divide(opened, formed, out=np.zeros(self.runs.k), where=formed > 0)
        r["peer_group_meetings"] = self._float(self.meetings_this_week)
        r["peer_group_attendance_share"] = self.attendance_share
        return r


# --- the same rules, one graduate at a time (the reference engine) --------------------------------


class PeerGroupRules(ChannelRules):
    """Peer groups for one graduate at a time, restated (see :mod:`sim.support.one_by_one`).

    What belongs to a group is written plainly here, not in the agent: forming groups, a meeting's
    head count and the gains of the others present, counting too-small meetings, closing groups
    and replacing their leaders. Everyone decides to come against the last meeting's register, and
    a meeting's contacts use the gains of those present *before* the meeting, so the order of
    agents does not matter.
    """

    channel: PeerGroups

    def __init__(self, channel: PeerGroups):
        super().__init__(channel)
        #: each group's register at formation (members who left are skipped when counted)
        self.group_members: list[list[ReferenceGraduate]] = []

    def wants_to_join(self, agent: ReferenceGraduate) -> bool:
        b = self.channel.behaviour
        p = logistic_one(b.join_intercept + b.join_affinity_coef * (agent.group_affinity - 0.5))
        return self.channel.rng.random() < p

    def set_up(self, offered: np.ndarray, week: int) -> None:
        """Groups from those who joined: one per course cohort, or pooled in id order."""
        peer = self.channel
        members = [a for a in self.model.graduate_agents if a.is_enrolled(peer)]
        if peer.lever.formation == GroupFormation.cohort:
            group_of_cohort = {c: k for k, c in enumerate(sorted({a.cohort for a in members}))}
            groups = [group_of_cohort[a.cohort] for a in members]
        else:
            groups = [k // peer.lever.pooled_group_size for k in range(len(members))]
        n_groups = max(groups) + 1 if groups else 0
        self.group_members = [[] for _ in range(n_groups)]
        for agent, group in zip(members, groups):
            peer.group_of[agent.index] = group
            self.group_members[group].append(agent)
        peer.group_open = np.ones(n_groups, dtype=bool)
        peer.small_streak = np.zeros(n_groups, dtype=np.int64)
        peer.meetings_held = np.zeros(n_groups, dtype=np.int64)
        peer.present_last = np.zeros(n_groups, dtype=np.int64)
        peer.newcomers = np.zeros(n_groups, dtype=np.int64)
        if peer.lever.delivery == GroupDelivery.peer_led:  # a volunteer leader per group, trained
            peer.train_leaders(n_groups, week)

    def step(self, week: int) -> None:
        """A meeting week: members decide to come; those present meet; too-small meetings count.

        First, in any week, a later course in the area may have ended: each open group then takes
        in a Poisson number of newcomers (a count per group, not agents)."""
        peer = self.channel
        peer.meetings_this_week = 0
        lever = peer.lever
        since = week - peer.first_week
        if lever.intake_interval_weeks and since > 0 and since % lever.intake_interval_weeks == 0:
            for k in range(peer.group_open.size):
                arrivals = int(peer.rng.poisson(lever.newcomers_per_intake))
                if peer.group_open[k]:
                    peer.newcomers[k] += arrivals
        if since % lever.interval_weeks != 0 or not peer.group_open.any():
            return
        members: list[ReferenceGraduate] = []
        present: list[ReferenceGraduate] = []
        self.model.agents.shuffle_do(self.decide_to_attend, members, present)
        for agent in members:  # this meeting's register, which friends look at next time
            peer.attended_last[agent.index] = False
        for agent in present:
            peer.attended_last[agent.index] = True

        present_by_group: dict[int, list[ReferenceGraduate]] = defaultdict(list)
        for agent in present:
            present_by_group[int(peer.group_of[agent.index])].append(agent)
        for people in present_by_group.values():
            total_gain = sum(a.gain for a in people)  # before anyone's contact at this meeting
            for agent in people:
                others = len(people) - 1
                self.attend_meeting(agent, (total_gain - agent.gain) / others if others else 0.0)

        open_groups = [k for k in range(peer.group_open.size) if peer.group_open[k]]
        our_share = 0.0
        for k in open_groups:
            came = len(present_by_group.get(k, ()))
            modelled = sum(1 for a in self.group_members[k] if a.is_enrolled(peer))
            newcomers = int(peer.newcomers[k])
            # newcomers come as often as the group's modelled members did this time
            newcomers_came = int(peer.rng.binomial(newcomers, came / modelled if modelled else 0.0))
            came += newcomers_came
            register = modelled + newcomers
            if came < lever.min_attendance or came < lever.min_attendance_share * register:
                peer.small_streak[k] += 1  # too small for its register
            else:
                peer.small_streak[k] = 0
            peer.meetings_held[k] += 1
            peer.present_last[k] = came
            our_share += modelled / register if register else 0.0  # newcomers pay their share
        peer.meetings_this_week = len(open_groups)
        peer.attendance_share = len(present) / len(members) if members else 0.0
        peer.spend(our_share * peer.meeting_cost_gbp, week)

    def decide_to_attend(self, agent: ReferenceGraduate, members: list, present: list) -> None:
        """A meeting of ``agent``'s group: come or not (friends who came last time, affinity, habit,
        need)."""
        peer = self.channel
        if not agent.is_enrolled(peer):
            return
        members.append(agent)
        friends_there = sum(1 for j in agent.friends if peer.attended_last[j])
        friend_share = friends_there / len(agent.friends) if agent.friends else 0.0
        peer.friend_share[agent.index] = friend_share
        b = peer.behaviour
        held = peer.meetings_held[peer.group_of[agent.index]]  # a new group's novelty wears off
        logit = (
            b.attend_intercept
            + b.attend_novelty_coef * math.exp(-held / b.attend_novelty_meetings)
            + b.attend_affinity_coef * agent.group_affinity
            + b.attend_habit_coef * agent.habit
            + b.attend_friends_coef * friend_share
            + b.attend_need_coef * (1.0 - agent.connectedness)
            + b.attend_flare_coef * agent.flare
        )
        if peer.rng.random() < logistic_one(logit):
            present.append(agent)

    def attend_meeting(self, agent: ReferenceGraduate, others_mean_gain: float) -> None:
        """At the meeting: a social contact, stronger when the others present have kept more."""
        peer = self.channel
        b = peer.behaviour
        multiplier = 1.0 + b.vicarious_effect * max(others_mean_gain, 0.0)
        if peer.lever.delivery == GroupDelivery.facilitated:
            multiplier *= b.facilitated_efficacy_multiplier
        agent.receive_contact(peer, b.effect, multiplier)

    def leaves(self, agent: ReferenceGraduate) -> bool:
        """Less likely with friends attending and a felt benefit."""
        peer = self.channel
        b = peer.behaviour
        hazard = b.leave_prob_per_week * math.exp(
            -b.leave_friends_effect * peer.friend_share[agent.index] - b.leave_benefit_effect * max(agent.gain, 0.0)
        )
        return peer.rng.random() < hazard

    def engage(self, week: int) -> None:
        """Members leave or stay; then groups close: too small too long, empty, or leaderless."""
        super().engage(week)
        peer = self.channel
        b = peer.behaviour
        for k in range(peer.newcomers.size):  # newcomers leave as members do, at the base rate
            peer.newcomers[k] -= int(peer.rng.binomial(int(peer.newcomers[k]), b.leave_prob_per_week))
        for k, members in enumerate(self.group_members):
            if not peer.group_open[k]:
                continue
            register = [a for a in members if a.is_enrolled(peer)]
            newcomers = int(peer.newcomers[k])
            closes = peer.small_streak[k] >= peer.lever.close_after_meetings or not (register or newcomers)
            if not closes and peer.lever.delivery == GroupDelivery.peer_led:
                if peer.rng.random() < b.volunteer_leave_prob_per_week:  # the leader leaves
                    # each member who came last time may step up: more likely in a lively group
                    p_successor = 1.0 - (1.0 - b.successor_prob_per_attender) ** int(peer.present_last[k])
                    if peer.rng.random() < p_successor:  # a member steps up, is trained; we pay our share
                        peer.train_leaders(1, week, len(register) / (len(register) + newcomers))
                    else:
                        closes = True
            if closes:
                peer.group_open[k] = False
                peer.newcomers[k] = 0
                for agent in register:
                    agent.leave(peer)
