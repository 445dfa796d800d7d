"""The reference engine: the same model, one graduate at a time (``engine=reference``).

:class:`ReferenceModel` computes the week of :class:`sim.model.SelfManagementModel` with the
rules written out for one graduate, in plain Python scalars, as methods of
:class:`ReferenceGraduate` whose names are verbs of the domain (``have_health_events``,
``attend_meeting``, ``take_call``, ``visit_forum``, ``retain``, ``consider_leaving``, ...). Each
phase of the week is a pass over the Mesa agents (``model.agents.do`` or ``shuffle_do``), in the
order of :class:`~sim.model.SelfManagementModel`'s docstring. It is written for reading, not
speed (the vectorised engine is 15 to 25 times faster at 1,000 graduates, 70 to 110 times at
10,000: ``benchmarks/bench_model.py --engine both``), and it is the test oracle of the
vectorised engine: ``tests/sim/test_equivalence.py`` checks that the two agree in distribution.

Every rule is restated here from the design and ``docs/odd.md`` (section 7), not called from the
vectorised modules, so that a slip in one engine shows up as a disagreement. What is reused is
everything that is not weekly dynamics: the population and the course at week 0, the channel
objects (their state arrays, their parameters, their random streams and their ``results()``), the
strategy's matching rule, the cost ledger, the reporters and the DataCollector. Both engines
therefore write the same tables with the same columns.

**Group-level logic.** Some things belong to a group, not to a person, and are written plainly
in the model (not in the agent): forming peer groups, a meeting's head count and the gains of the
others present, counting too-small meetings, closing groups and replacing their leaders; the
telephone service's queue under its weekly capacity; the forum's critical mass (posters last
week) and the chance that a post gets a reply (from the number of visitors this week); the costs
of a meeting, of the forum and of callers' training. Costs that are per person (a call, a booster
place, a newsletter copy, a GP or urgent-care contact) are booked by the agent.

**Order of agents.** The support passes use ``shuffle_do`` (a new random order each week), since
there graduates share something in the same step: a meeting, the call queue, the forum (the
booster and the newsletter follow suit, though there nobody's choice depends on another's).
Where the order matters the design keeps it fair: the telephone queue is sorted by waiting time,
and ties are broken by the shuffled order. Meetings and the forum are written so
that order does not matter: everyone decides to come or to visit against last meeting's register
and last week's posters, and a meeting's contacts use the gains of those present *before* the
meeting. Passes where each graduate reads and writes only their own state (health events,
retention, drift, leaving, taking up an offer) use ``do`` (index order): there the order only
decides which random number goes to whom, which changes no distribution, and a shuffle would cost
time for nothing.

**Random numbers.** The same per-purpose generators as the vectorised engine (``model.health.rng``,
each channel's ``rng``), one scalar draw at a time, so the two engines are not bit-identical, only
statistically equivalent. A draw is taken only when it is needed (the vectorised engine takes
three health draws per graduate every week), and the shuffles use Mesa's ``model.random``, so
the reference engine keeps common random numbers for the population and the course only.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from .agents import Graduate
from .model import SelfManagementModel
from .params import Caller, ContactEffect, DecayShape, GroupDelivery, GroupFormation
from .strategy import offers
from .support import Engagement, SupportChannel

ENROLLED, DECLINED, LEFT = Engagement.ENROLLED, Engagement.DECLINED, Engagement.LEFT
READ, POSTED_NO_REPLY, REPLIED = 0, 1, 2  # a forum member's experience last week (sim.support.online)


def logistic(x: float) -> float:
    """The inverse logit of one number (without overflow for large negative ``x``)."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


class ReferenceGraduate(Graduate):
    """One graduate, whose week is a sequence of the methods below (called by the model).

    One week, in order (the model calls each step for everyone before the next):

    1. :meth:`have_health_events`;
    2. in the first week of support :meth:`consider_offer` for each channel; then, channel by
       channel: :meth:`decide_to_attend` and :meth:`attend_meeting` (peer group),
       :meth:`wait_for_call` and :meth:`take_call` (telephone), :meth:`visit_forum` and
       :meth:`hear_back` (online), :meth:`attend_booster`, :meth:`read_newsletter`; every contact
       is :meth:`receive_contact`;
    3. :meth:`retain`;
    4. :meth:`drift_connectedness`;
    5. :meth:`consider_leaving` for each channel.

    State is read and written through the attributes of :class:`~sim.agents.Graduate` (which
    live in the model's arrays) and the channel objects' per-graduate arrays, one value at a time.
    """

    def __init__(self, model, index: int):
        super().__init__(model, index)
        ties = model.graduates.ties
        #: indices of this graduate's friends from the course cohort
        self.friends: list[int] = ties.indices[ties.indptr[index]:ties.indptr[index + 1]].tolist()

    # --- my place in a channel ------------------------------------------------------------------

    def is_enrolled(self, channel: SupportChannel) -> bool:
        return channel.status.item(self.index) == ENROLLED

    def leave(self, channel: SupportChannel) -> None:
        """Stop taking part in ``channel``."""
        channel.status[self.index] = LEFT
        if channel.name == "peer_group":
            channel.attended_last[self.index] = False  # no longer counts as present for friends

    # --- 1. health events -------------------------------------------------------------------------

    def have_health_events(self) -> None:
        """Maybe a flare-up this week; managed alone, or a planned or an unplanned contact."""
        p, health, ledger = self.model.params.dynamics.health, self.model.health, self.model.ledger
        rate_at_mid_severity = -math.log(1.0 - min(p.flare_prob_per_week, 1.0 - 1e-12))
        rate = rate_at_mid_severity * math.exp(p.severity_effect * (self.severity - 0.5))
        if health.rng.random() >= 1.0 - math.exp(-rate):
            return  # no flare-up this week (``flare`` was cleared when the week began)
        self.flare = True
        health.flare_ups += 1
        capability = self.capability
        p_self = logistic(
            p.self_manage_intercept
            + p.self_manage_capability_coef * capability
            + p.self_manage_connectedness_coef * self.connectedness
        )
        if health.rng.random() < p_self:
            health.self_managed += 1  # "on tap, not on top"
        elif health.rng.random() < logistic(p.planned_intercept + p.planned_capability_coef * capability):
            health.planned_contacts += 1
            ledger.add("planned_care", ledger.planned_contact_gbp, self.model.week)
        else:
            health.unplanned_contacts += 1
            ledger.add("urgent_care", ledger.unit_gbp["urgent_care_attendance"], self.model.week)

    # --- 2. support: what one contact does ------------------------------------------------------

    def spacing(self, gap_weeks: int) -> float:
        """Effect of a contact after ``gap_weeks`` since the last one, relative to the best gap."""
        r = self.model.params.dynamics.retention
        x = gap_weeks / r.spacing_optimal_gap_weeks
        return r.spacing_floor + (1.0 - r.spacing_floor) * x * math.exp(1.0 - x)

    def receive_contact(
        self,
        channel: SupportChannel,
        effect: ContactEffect,
        multiplier: float = 1.0,
        doses: int = 1,
        social: bool = True,
    ) -> None:
        """A contact (``doses`` at once): it restores part of what I lost since the course (up to my
        own post-course gain and a small margin), builds habit and, if it is with other people,
        raises connectedness."""
        r, week = self.model.params.dynamics.retention, self.model.week
        share = min(max(effect.efficacy * multiplier * self.spacing(week - self.last_contact_week), 0.0), 1.0)
        recovered = 1.0 - (1.0 - share) ** doses  # doses compound
        own_level = self.model.graduates.course_gain.item(self.index) + r.reinforcement_margin_sd
        headroom = max(own_level - self.gain, 0.0)  # what I lost since the course; none if above it
        before = self.transient
        after = before + recovered * headroom
        # what was just learnt has age 0 (power-law decay): the mean age, weighted by gain
        self.transient_age = self.transient_age * before / after if after > 0.0 else 0.0
        self.transient = after
        habit_gain = min(r.habit_gain_per_contact * effect.habit_multiplier, 1.0)
        self.habit = 1.0 - (1.0 - self.habit) * (1.0 - habit_gain) ** doses
        self.last_contact_week = week
        if habit_gain > 0.0:
            self.contacted = True  # practice: habit does not fade this week
        if social and effect.connectedness_gain > 0.0:
            self.connectedness = 1.0 - (1.0 - self.connectedness) * (1.0 - effect.connectedness_gain) ** doses
            self.social_contact = True
        channel.contacts[self.index] += doses
        channel.contacts_this_week += doses
        channel.reached_this_week += 1

    # --- 2. support: taking up an offer (first week of support) ---------------------------------

    def consider_offer(self, channel: SupportChannel, offered: np.ndarray) -> None:
        """Take up ``channel`` or decline it, if the strategy offers it to me (``offered`` mask)."""
        if not offered[self.index]:
            return
        if channel.name == "booster":
            channel.invited[self.index] = True  # invited now; whether I come is decided on the day
            return
        channel.status[self.index] = ENROLLED if self.wants_to_join(channel) else DECLINED

    def wants_to_join(self, channel: SupportChannel) -> bool:
        b = channel.behaviour
        if channel.name == "peer_group":
            p = logistic(b.join_intercept + b.join_affinity_coef * (self.group_affinity - 0.5))
            return channel.rng.random() < p
        if channel.name == "telephone":
            return bool(self.phone_access) and channel.rng.random() < b.join_prob
        if channel.name == "online":
            p = logistic(b.join_intercept + b.join_confidence_coef * (self.digital_confidence - 0.5))
            return bool(self.online_access) and channel.rng.random() < p
        return True  # the newsletter: everyone offered takes it

    # --- 2. support: peer group ------------------------------------------------------------------

    def decide_to_attend(self, peer: SupportChannel, members: list, present: list) -> None:
        """A meeting of my group: come or not (friends who came last time, affinity, habit, need)."""
        if not self.is_enrolled(peer):
            return
        members.append(self)
        friends_there = sum(1 for j in self.friends if peer.attended_last[j])
        friend_share = friends_there / len(self.friends) if self.friends else 0.0
        peer.friend_share[self.index] = friend_share
        b = peer.behaviour
        held = peer.meetings_held[peer.group_of[self.index]]  # a new group's novelty wears off
        logit = (
            b.attend_intercept
            + b.attend_novelty_coef * math.exp(-held / b.attend_novelty_meetings)
            + b.attend_affinity_coef * self.group_affinity
            + b.attend_habit_coef * self.habit
            + b.attend_friends_coef * friend_share
            + b.attend_need_coef * (1.0 - self.connectedness)
            + b.attend_flare_coef * self.flare
        )
        if peer.rng.random() < logistic(logit):
            present.append(self)

    def attend_meeting(self, peer: SupportChannel, others_mean_gain: float) -> None:
        """At the meeting: a social contact, stronger when the others present have kept more."""
        b = peer.behaviour
        multiplier = 1.0 + b.vicarious_effect * max(others_mean_gain, 0.0)
        if peer.lever.delivery == GroupDelivery.facilitated:
            multiplier *= b.facilitated_efficacy_multiplier
        self.receive_contact(peer, b.effect, multiplier)

    # --- 2. support: telephone -------------------------------------------------------------------

    def wait_for_call(self, phone: SupportChannel, queue: list) -> None:
        """Join this week's call queue if my call is due."""
        if self.is_enrolled(phone) and self.model.week - phone.last_call_week[self.index] >= phone.lever.interval_weeks:
            queue.append(self)

    def take_call(self, phone: SupportChannel) -> None:
        """I am called: answer (a social contact, the next call due after the interval) or miss it."""
        b, ledger = phone.behaviour, self.model.ledger
        professional = phone.lever.caller == Caller.professional
        ledger.add("telephone", ledger.unit_gbp["professional_call" if professional else "peer_call"], self.model.week)
        if phone.rng.random() < b.answer_prob:
            self.receive_contact(phone, b.effect, b.professional_efficacy_multiplier if professional else 1.0)
            phone.last_call_week[self.index] = self.model.week
            phone.missed[self.index] = 0
        else:
            phone.missed[self.index] += 1  # still due next week
            phone.calls_unanswered += 1

    # --- 2. support: online forum ----------------------------------------------------------------

    def visit_forum(self, forum: SupportChannel, alive: float, visitors: list, posters: list) -> None:
        """Visit the forum or not (confidence, habit, how alive it is); post, or just read."""
        if not self.is_enrolled(forum):
            return
        forum.experience[self.index] = READ  # unless I post (below, and in ``hear_back``)
        b = forum.behaviour
        logit = (
            b.visit_intercept
            + b.visit_confidence_coef * self.digital_confidence
            + b.visit_habit_coef * self.habit
            + b.visit_critical_mass_coef * alive
        )
        if forum.rng.random() >= logistic(logit):
            return
        visitors.append(self)
        if forum.rng.random() < forum.propensity[self.index]:
            posters.append(self)  # a reply, or none, once everyone has visited
            forum.ever_posted[self.index] = True
        else:  # reading: information only, no habit, no company
            self.receive_contact(forum, ContactEffect(b.read_efficacy, 0.0, 0.0), social=False)

    def hear_back(self, forum: SupportChannel, p_reply: float) -> None:
        """My post gets a reply (company and practice) or none (practice alone)."""
        if forum.rng.random() < p_reply:
            self.receive_contact(forum, forum.behaviour.effect)
            forum.experience[self.index] = REPLIED
        else:
            self.receive_contact(forum, forum.behaviour.effect, social=False)
            forum.experience[self.index] = POSTED_NO_REPLY

    # --- 2. support: booster and newsletter -------------------------------------------------------

    def attend_booster(self, booster: SupportChannel) -> None:
        """The booster course is on: come to each session or not; each session is one dose."""
        if not booster.invited[self.index]:
            return
        b, sessions = booster.behaviour, 0
        p = logistic(math.log(b.attend_prob_per_session / max(1.0 - b.attend_prob_per_session, 1e-12))
                     + b.attend_affinity_coef * (self.group_affinity - 0.5))
        for _ in range(booster.lever.sessions):
            if booster.rng.random() < p:
                sessions += 1
        if sessions == 0:
            booster.status[self.index] = DECLINED
            return
        booster.status[self.index] = ENROLLED  # for this week; everyone leaves after it
        self.receive_contact(booster, b.effect, doses=sessions)
        ledger = self.model.ledger
        ledger.add("booster", ledger.unit_gbp["booster_per_participant"], self.model.week)

    def read_newsletter(self, newsletter: SupportChannel) -> None:
        """An issue arrives (and costs a copy); read it or not: a small dose, no company."""
        if not self.is_enrolled(newsletter):
            return
        ledger = self.model.ledger
        ledger.add("newsletter", ledger.unit_gbp["newsletter_per_issue"], self.model.week)
        if newsletter.rng.random() < newsletter.behaviour.read_prob:
            self.receive_contact(newsletter, newsletter.behaviour.effect, social=False)

    # --- 3. retention ---------------------------------------------------------------------------

    def retain(self) -> None:
        """A week of forgetting (faster when isolated), consolidation by habit, habit loss."""
        r = self.model.params.dynamics.retention
        isolation = 1.0 + r.isolation_effect * (1.0 - self.connectedness)
        if r.decay_shape == DecayShape.exponential:
            keep = math.exp(-r.decay_rate_per_week * isolation)
        else:  # power law (1 + b t)^-psi over the age t of what is held
            age, b = self.transient_age, r.power_law_b_per_week
            keep = ((1.0 + b * (age + 1.0)) / (1.0 + b * age)) ** (-r.power_law_psi * isolation)
            self.transient_age = age + 1.0
        transient = self.transient * keep
        consolidated = r.consolidation_rate_per_week * self.habit * transient  # practice makes it stick
        self.transient = transient - consolidated
        self.persistent = self.persistent * math.exp(-r.persistent_decay_rate_per_week) + consolidated
        if not self.contacted:
            self.habit *= math.exp(-r.habit_decay_rate_per_week)

    # --- 4. connectedness -----------------------------------------------------------------------

    def drift_connectedness(self) -> None:
        """Without company this week, drift back towards my usual connectedness."""
        if not self.social_contact:
            rate = self.model.params.dynamics.connectedness.drift_rate_per_week
            self.connectedness += rate * (self.connectedness_baseline - self.connectedness)

    # --- 5. engagement --------------------------------------------------------------------------

    def consider_leaving(self, channel: SupportChannel) -> None:
        """Stay in ``channel`` or leave it this week."""
        if not self.is_enrolled(channel):
            return
        b, i = channel.behaviour, self.index
        if channel.name == "peer_group":  # less likely with friends attending and a felt benefit
            hazard = b.leave_prob_per_week * math.exp(
                -b.leave_friends_effect * channel.friend_share[i] - b.leave_benefit_effect * max(self.gain, 0.0)
            )
            leaves = channel.rng.random() < hazard
        elif channel.name == "telephone":  # or dropped after too many missed calls
            leaves = channel.rng.random() < b.leave_prob_per_week
            leaves = leaves or channel.missed[i] >= b.max_missed_calls
        elif channel.name == "online":  # by last week's experience: replies keep people
            hazard = {
                READ: b.leave_prob_per_week_reader,
                POSTED_NO_REPLY: b.leave_prob_per_week_no_reply,
                REPLIED: b.leave_prob_per_week_replied,
            }[int(channel.experience[i])]
            leaves = channel.rng.random() < hazard
        elif channel.name == "booster":  # the booster is over
            leaves = True
        else:  # the newsletter: nobody leaves
            leaves = False
        if leaves:
            self.leave(channel)


class ReferenceModel(SelfManagementModel):
    """:class:`~sim.model.SelfManagementModel` stepped one graduate at a time (see the module docstring).

    Same arguments, same initial state, same outputs; only :meth:`step` differs.
    """

    agent_class = ReferenceGraduate

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: the agents in index order (for forming groups in the same order as the vectorised engine)
        self.graduate_agents: list[ReferenceGraduate] = sorted(self.agents, key=lambda a: a.index)
        #: each peer group's register at formation (members who left are skipped when counted)
        self.group_members: list[list[ReferenceGraduate]] = []

    def step(self) -> None:
        """One week, in the order of :class:`~sim.model.SelfManagementModel`, agent by agent."""
        self.week += 1
        week, g, strategy = self.week, self.graduates, self.params.strategy
        g.contacted[:] = False  # a new page: this week's flags and counters start empty
        g.social_contact[:] = False
        g.flare[:] = False
        for channel in self.channels.values():
            channel.begin_week()

        # 1. health events: each graduate alone
        health = self.health
        health.flare_ups = health.self_managed = health.planned_contacts = health.unplanned_contacts = 0
        self.agents.do("have_health_events")

        # 2. support
        support_on = strategy.active(week)
        if support_on and self._support == "not started":
            self._support = "running"
            self.open_support(week)
        elif not support_on and self._support == "running":
            self._support = "ended"
            for channel in self.active_channels:
                channel.close()  # the service stops: everyone still taking part leaves
        if support_on:
            for channel in self.active_channels:
                self.run_channel(channel, week)

        # 3. retention and 4. connectedness: each graduate alone
        self.agents.do("retain")
        self.agents.do("drift_connectedness")

        # 5. engagement
        if support_on:
            for channel in self.active_channels:
                self.agents.do("consider_leaving", channel)
                if channel.name == "peer_group":
                    self.close_groups(channel, week)

        self._record_week(week)  # 6. record, as the vectorised engine

    # --- 2. support: offers, then each channel's week ---------------------------------------------

    def open_support(self, week: int) -> None:
        """The first week of support: the strategy's offers, each graduate's take-up, and what each
        channel sets up (groups and their leaders, the call schedule and the callers' training)."""
        offered = offers(self.graduates, self.params.strategy)
        unit = self.ledger.unit_gbp
        for channel in self.active_channels:
            channel.first_week = week
            self.agents.do("consider_offer", channel, offered[channel.name])
            if channel.name == "peer_group":
                self.form_groups(channel, week)
            elif channel.name == "telephone":  # sized to those who accepted calls
                channel.size_service(int(np.count_nonzero(channel.enrolled)))
                channel.last_call_week[:] = week - channel.lever.interval_weeks  # the first call is due now
                channel.spend(channel.volunteers * unit["volunteer_training_per_volunteer"], week)
            elif channel.name == "online":
                channel.offered = int(np.count_nonzero(offered[channel.name]))  # fixed costs scale with it

    def run_channel(self, channel: SupportChannel, week: int) -> None:
        {
            "peer_group": self.hold_meetings,
            "telephone": self.make_calls,
            "online": self.open_forum,
            "booster": self.hold_booster,
            "newsletter": self.send_newsletter,
        }[channel.name](channel, week)

    def form_groups(self, peer: SupportChannel, week: int) -> None:
        """Peer groups from those who joined: one per course cohort, or pooled in id order."""
        members = [a for a in self.graduate_agents if a.is_enrolled(peer)]
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
            peer.leaders_trained += n_groups
            peer.spend(n_groups * self.ledger.unit_gbp["volunteer_training_per_volunteer"], week)

    def hold_meetings(self, peer: SupportChannel, week: int) -> None:
        """A meeting week: members decide to come; those present meet; too-small meetings count.

        First, in any week, a later course in the area may have ended: each open group then takes
        in a Poisson number of newcomers (a count per group, not agents)."""
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
        self.agents.shuffle_do("decide_to_attend", peer, members, present)
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
                agent.attend_meeting(peer, (total_gain - agent.gain) / others if others else 0.0)

        open_groups = [k for k in range(peer.group_open.size) if peer.group_open[k]]
        unit = self.ledger.unit_gbp
        per_meeting = unit["peer_group_venue_per_meeting"] + unit["peer_group_coordination_per_meeting"]
        if lever.delivery == GroupDelivery.facilitated:
            per_meeting += unit["facilitator_per_meeting"]
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
        peer.spend(our_share * per_meeting, week)

    def close_groups(self, peer: SupportChannel, week: int) -> None:
        """After people leave: a group closes when too small too long, empty, or leaderless."""
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
                        peer.leaders_trained += 1
                        ours = len(register) / (len(register) + newcomers)
                        peer.spend(ours * self.ledger.unit_gbp["volunteer_training_per_volunteer"], week)
                    else:
                        closes = True
            if closes:
                peer.group_open[k] = False
                peer.newcomers[k] = 0
                for agent in register:
                    agent.leave(peer)

    def make_calls(self, phone: SupportChannel, week: int) -> None:
        """Calls due, longest wait first (ties in random order), up to the week's capacity."""
        queue: list[ReferenceGraduate] = []
        self.agents.shuffle_do("wait_for_call", phone, queue)
        queue.sort(key=lambda a: phone.last_call_week[a.index])  # stable: shuffled order breaks ties
        called = queue[: phone.capacity]
        for agent in called:
            agent.take_call(phone)
        phone.calls_made = len(called)
        phone.calls_waiting = len(queue) - len(called)
        unit = self.ledger.unit_gbp
        replaced = phone.volunteers * phone.behaviour.volunteer_leave_prob_per_week
        phone.spend(replaced * unit["volunteer_training_per_volunteer"], week)  # expected replacements

    def open_forum(self, forum: SupportChannel, week: int) -> None:
        """Members visit (more when last week had posters); posts get replies (more when busy)."""
        b = forum.behaviour
        alive = forum.posters_last_week / (forum.posters_last_week + b.critical_mass_posters)
        visitors: list[ReferenceGraduate] = []
        posters: list[ReferenceGraduate] = []
        self.agents.shuffle_do("visit_forum", forum, alive, visitors, posters)
        others = max(len(visitors) - 1, 0)
        p_reply = others / (others + b.reply_half_saturation_visitors)
        if forum.lever.moderated:
            p_reply = 1.0 - (1.0 - p_reply) * (1.0 - b.moderator_reply_prob)
        for agent in posters:
            agent.hear_back(forum, p_reply)
        forum.visitors, forum.posters = len(visitors), len(posters)
        forum.posters_last_week = len(posters)
        unit, n_thousands = self.ledger.unit_gbp, forum.offered / 1000.0
        weekly = unit["online_platform_per_1000_graduates_per_year"] * n_thousands / 52.0
        if forum.lever.moderated:
            weekly += forum.lever.moderator_hours_per_week_per_1000_graduates * n_thousands * unit["moderator_per_hour"]
        forum.spend(weekly, week)

    def hold_booster(self, booster: SupportChannel, week: int) -> None:
        if week == booster.lever.week:
            self.agents.shuffle_do("attend_booster", booster)

    def send_newsletter(self, newsletter: SupportChannel, week: int) -> None:
        if (week - newsletter.first_week) % newsletter.lever.interval_weeks == 0:
            self.agents.shuffle_do("read_newsletter", newsletter)
