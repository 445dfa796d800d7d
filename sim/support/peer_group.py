"""Follow-on peer support groups, formed from course cohorts (design.md, 'Peer group').

Who: graduates offered a group join with a probability rising with group affinity (about a third
of those referred never attend). How often: every open group meets every ``interval_weeks``.
What: each member present gets a contact whose efficacy grows with the gains of the others present
(vicarious learning), plus the largest connectedness gain of any channel.

Attendance per meeting rises with group affinity, habit, the share of one's course friends who came
last time and the need for company (1 - connectedness); it falls during a flare-up. About a third of
the register comes to a typical meeting (Levy 1982). Members leave at about 5-6% a month, less if
their friends come and they feel a benefit. A group closes after ``close_after_meetings``
consecutive meetings below ``min_attendance``, when its register empties, or (peer-led) when its
volunteer leader leaves and no member steps up.
"""

from __future__ import annotations

import numpy as np

from ..params import GroupDelivery, GroupFormation
from ..streams import logistic
from .base import Engagement, SupportChannel


class PeerGroups(SupportChannel):
    name = "peer_group"
    cost_category = "peer_group"

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
        self.meetings_this_week = 0
        self.attendance_share = 0.0  # share of the register at the latest meeting
        self.leaders_trained = 0

    def takes_up(self, offered):
        b = self.behaviour
        p = logistic(b.join_intercept + b.join_affinity_coef * (self.model.graduates.group_affinity - 0.5))
        return self.rng.random(offered.size) < p

    def offer(self, offered, week):
        super().offer(offered, week)
        members = np.flatnonzero(self.enrolled)
        if self.lever.formation == GroupFormation.cohort:
            _, self.group_of[members] = np.unique(self.model.graduates.cohort[members], return_inverse=True)
        else:  # pooled: members in cohort order (so friends stay together) cut into groups
            self.group_of[members] = np.arange(members.size) // self.lever.pooled_group_size
        n_groups = int(self.group_of.max()) + 1 if members.size else 0
        self.group_open = np.ones(n_groups, dtype=bool)
        self.small_streak = np.zeros(n_groups, dtype=np.int64)
        if self.lever.delivery == GroupDelivery.peer_led:
            self._train_leaders(n_groups, week)

    @property
    def groups_open(self) -> int:
        return int(np.count_nonzero(self.group_open))

    def _train_leaders(self, k: float, week: int) -> None:
        self.leaders_trained += k
        self.spend(k * self.model.ledger.unit_gbp["volunteer_training_per_volunteer"], week)

    def step(self, week):
        self.meetings_this_week = 0
        if (week - self.first_week) % self.lever.interval_weeks != 0 or not self.group_open.any():
            return
        g, b = self.model.graduates, self.behaviour
        members = np.flatnonzero(self.enrolled)
        self.friend_share[members] = (g.ties @ self.attended_last)[members] * self._inv_degree[members]
        logit = (
            b.attend_intercept
            + b.attend_affinity_coef * g.group_affinity[members]
            + b.attend_habit_coef * g.habit[members]
            + b.attend_friends_coef * self.friend_share[members]
            + b.attend_need_coef * (1.0 - g.connectedness[members])
            + b.attend_flare_coef * g.flare[members]
        )
        present = members[self.rng.random(members.size) < logistic(logit)]
        self.attended_last[members] = False
        self.attended_last[present] = True

        n_groups = self.group_open.size
        groups = self.group_of[present]
        count = np.bincount(groups, minlength=n_groups)
        gain = g.gain[present]
        gain_sum = np.bincount(groups, weights=gain, minlength=n_groups)
        others = count[groups] - 1
        others_mean = np.divide(gain_sum[groups] - gain, others, out=np.zeros(present.size), where=others > 0)
        multiplier = 1.0 + b.vicarious_effect * np.maximum(others_mean, 0.0)
        if self.lever.delivery == GroupDelivery.facilitated:
            multiplier = multiplier * b.facilitated_efficacy_multiplier
        self.deliver(present, week, b.effect, multiplier)

        meeting = self.group_open
        small = count < self.lever.min_attendance
        self.small_streak = np.where(meeting & small, self.small_streak + 1, np.where(meeting, 0, self.small_streak))
        self.meetings_this_week = int(meeting.sum())
        self.attendance_share = present.size / members.size if members.size else 0.0
        unit = self.model.ledger.unit_gbp
        per_meeting = unit["peer_group_venue_per_meeting"] + unit["peer_group_coordination_per_meeting"]
        if self.lever.delivery == GroupDelivery.facilitated:
            per_meeting += unit["facilitator_per_meeting"]
        self.spend(self.meetings_this_week * per_meeting, week)

    def engage(self, week):
        g, b = self.model.graduates, self.behaviour
        members = np.flatnonzero(self.enrolled)
        hazard = b.leave_prob_per_week * np.exp(
            -b.leave_friends_effect * self.friend_share[members] - b.leave_benefit_effect * np.maximum(g.gain[members], 0)
        )
        self.leave(members[self.rng.random(members.size) < hazard])

        closing = self.group_open & (self.small_streak >= self.lever.close_after_meetings)
        register = np.bincount(self.group_of[self.enrolled], minlength=self.group_open.size)
        closing |= self.group_open & (register == 0)
        if self.lever.delivery == GroupDelivery.peer_led:
            open_idx = np.flatnonzero(self.group_open & ~closing)
            leader_leaves = open_idx[self.rng.random(open_idx.size) < b.volunteer_leave_prob_per_week]
            stepped_up = self.rng.random(leader_leaves.size) < b.leader_replacement_prob
            closing[leader_leaves[~stepped_up]] = True
            self._train_leaders(int(stepped_up.sum()), week)
        if closing.any():
            self.group_open &= ~closing
            in_closed = self.enrolled & (self.group_of >= 0)
            in_closed[in_closed] = closing[self.group_of[in_closed]]
            self.leave(in_closed)

    def leave(self, who):
        super().leave(who)
        self.attended_last[who] = False  # a friend who left no longer counts as present

    def close(self):
        self.leave(self.enrolled)
        self.group_open[:] = False

    def results(self):
        r = super().results()
        r["groups_open"] = float(self.groups_open)
        r["peer_group_meetings"] = float(self.meetings_this_week)
        r["peer_group_attendance_share"] = self.attendance_share
        return r
