"""The reference engine: the same model, one graduate at a time (``engine=reference``).

:class:`ReferenceModel` computes the week of :class:`sim.model.SelfManagementModel` with the
rules written out for one graduate, in plain Python scalars, as methods whose names are verbs of
the domain: of :class:`ReferenceGraduate` (``have_health_events``, ``receive_contact``,
``retain``, ``consider_leaving``, ...) and of each channel's rules (``attend_meeting``,
``take_call``, ``visit_forum``, ...). Each phase of the week is a pass over the Mesa agents (``model.agents.do`` or ``shuffle_do``), in the
order of :class:`~sim.core.ArrayModel`'s docstring. It is written for reading, not
speed (the vectorised engine is 15 to 25 times faster at 1,000 graduates, 70 to 110 times at
10,000: ``benchmarks/bench_model.py --engine both``), and it is the test oracle of the
vectorised engine: ``tests/sim/test_equivalence.py`` checks that the two agree in distribution.

Every rule is restated from the design and ``docs/odd.md`` (section 7), not called from the
vectorised modules, so that a slip in one engine shows up as a disagreement. The rules that are
the same for every channel (health events, what a contact does, retention, connectedness, taking
up an offer and leaving) are here, in :class:`ReferenceGraduate`. Each channel's own rules for one
graduate are in the channel's module, beside its vectorised class, as an object the channel hands
out (``channel.one_by_one()``, a :class:`~sim.support.one_by_one.ChannelRules`): this module names
no channel. What is reused is everything that is not weekly dynamics: the population and the course
at week 0, the start of each week and the switching of support on and off
(:class:`~sim.model.SelfManagementModel`), the channel objects (their state arrays, their
parameters, their random streams, their prices and ``results()``), the strategy's matching rule,
the cost ledger, the reporters and the weekly record. Both engines therefore write the same tables
with the same columns.

**Group-level logic.** Some things belong to a group, not to a person, and are written plainly
in the channel's rules (not in the agent): forming peer groups, a meeting's head count and the
gains of the others present, counting too-small meetings, closing groups and replacing their
leaders; the telephone service's queue under the weekly capacity bought (and its waiting list);
the forum's critical mass, the chance that a post gets a reply, and its later joiners (a count).
Costs that are per person (a call, a booster place, a
newsletter copy, a GP or urgent-care contact) are booked as each happens.

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

import numpy as np

from .agents import Graduate
from .model import SelfManagementModel
from .params import ContactEffect, DecayShape
from .strategy import offers
from .support import Engagement, SupportChannel
from .support.one_by_one import ChannelRules, logistic

ENROLLED, DECLINED, LEFT = Engagement.ENROLLED, Engagement.DECLINED, Engagement.LEFT


class ReferenceGraduate(Graduate):
    """One graduate, whose week is a sequence of the methods below (called by the model).

    One week, in order (the model calls each step for everyone before the next):

    1. :meth:`have_health_events`;
    2. in the first week of support :meth:`consider_offer` for each channel; then, channel by
       channel, the channel's rules for one graduate (in its module: ``decide_to_attend`` and
       ``attend_meeting`` for the peer group, ``wait_for_call`` and ``take_call``, ``visit_forum``
       and ``hear_back``, ``attend_booster``, ``read_newsletter``); every contact is
       :meth:`receive_contact`;
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
        """Stop taking part in ``channel`` (the channel's bookkeeping: a peer-group member who
        left no longer counts as present for their friends)."""
        channel.leave(self.index)

    def consider_offer(self, rules: ChannelRules, offered: np.ndarray) -> None:
        """Take up the channel or decline it, if the strategy offers it to me (``offered`` mask)."""
        if offered[self.index]:
            rules.consider_offer(self)

    def consider_leaving(self, rules: ChannelRules) -> None:
        """Stay in the channel or leave it this week."""
        if self.is_enrolled(rules.channel) and rules.leaves(self):
            self.leave(rules.channel)

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
        own post-course gain and a small margin), then teaches: it closes part of the gap to the
        ceiling support can build toward. What it restores and builds is support-made gain. It
        builds habit and, if it is with other people, raises connectedness."""
        r, week = self.model.params.dynamics.retention, self.model.week
        share = min(max(effect.efficacy * multiplier * self.spacing(week - self.last_contact_week), 0.0), 1.0)
        own_level = self.model.graduates.course_gain.item(self.index) + r.reinforcement_margin_sd
        lost = max(own_level - self.gain, 0.0)  # what I lost since the course; none if above it
        restored = (1.0 - (1.0 - share) ** doses) * lost  # doses compound
        to_ceiling = max(r.support_ceiling_sd - (self.gain + restored), 0.0)
        built = (1.0 - (1.0 - r.support_build_share * share) ** doses) * to_ceiling
        self.supported = self.supported + restored + built
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

    # --- 3. retention ---------------------------------------------------------------------------

    def retain(self) -> None:
        """A week of forgetting (faster when isolated), consolidation by habit, habit loss.

        What support made fades at its own rate; of my habit, the part the course left makes gains
        stick at the full rate, the part support added at ``support_consolidation_share`` of it."""
        r = self.model.params.dynamics.retention
        isolation = 1.0 + r.isolation_effect * (1.0 - self.connectedness)
        supported = self.supported * math.exp(-r.support_decay_rate_per_week * isolation)
        if r.decay_shape == DecayShape.exponential:
            keep = math.exp(-r.decay_rate_per_week * isolation)
        else:  # power law (1 + b t)^-psi over the age t of the course's gain
            age, b = self.transient_age, r.power_law_b_per_week
            keep = ((1.0 + b * (age + 1.0)) / (1.0 + b * age)) ** (-r.power_law_psi * isolation)
            self.transient_age = age + 1.0
        transient = self.transient * keep
        course_part, support_part = self.practice_habit, self.habit - self.practice_habit
        share, rate = r.support_consolidation_share, r.consolidation_rate_per_week
        from_course = rate * (course_part + share * support_part) * transient  # practice makes it stick
        from_support = rate * share * self.habit * supported
        self.transient = transient - from_course
        self.supported = supported - from_support
        self.persistent = self.persistent * math.exp(-r.persistent_decay_rate_per_week) + from_course + from_support
        fade = math.exp(-r.habit_decay_rate_per_week)
        if not self.contacted:
            self.habit *= fade
        self.practice_habit *= fade

    # --- 4. connectedness -----------------------------------------------------------------------

    def drift_connectedness(self) -> None:
        """Without company this week, drift back towards my usual connectedness."""
        if not self.social_contact:
            rate = self.model.params.dynamics.connectedness.drift_rate_per_week
            self.connectedness += rate * (self.connectedness_baseline - self.connectedness)


class ReferenceModel(SelfManagementModel):
    """:class:`~sim.model.SelfManagementModel` stepped one graduate at a time (see the module docstring).

    Same arguments, same initial state, same outputs; only :meth:`step` differs.
    """

    agent_class = ReferenceGraduate

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: the agents in index order (for forming groups in the same order as the vectorised engine)
        self.graduate_agents: list[ReferenceGraduate] = sorted(self.agents, key=lambda a: a.index)
        #: each channel's rules for one graduate at a time, on the channel's state
        self.rules: dict[str, ChannelRules] = {name: c.one_by_one() for name, c in self.channels.items()}

    def step(self) -> None:
        """One week, in the order of :class:`~sim.model.SelfManagementModel`, agent by agent."""
        week = self._begin_week()
        self.agents.do("have_health_events")  # 1. health events: each graduate alone

        support_on = self._switch_support(week)  # 2. support
        if support_on:
            for channel in self.active_channels:
                self.rules[channel.name].step(week)

        # 3. retention and 4. connectedness: each graduate alone
        self.agents.do("retain")
        self.agents.do("drift_connectedness")

        if support_on:  # 5. engagement
            for channel in self.active_channels:
                self.rules[channel.name].engage(week)

        self._record_week(week)  # 6. record, as the vectorised engine

    def open_support(self, week: int) -> None:
        """The first week of support: the strategy's offers, each graduate's take-up, and what each
        channel sets up (groups and their leaders, the call schedule and the callers' training)."""
        offered = offers(self.graduates, self.params.strategy)
        for channel in self.active_channels:
            channel.first_week = week
            rules = self.rules[channel.name]
            self.agents.do("consider_offer", rules, offered[channel.name])
            rules.set_up(offered[channel.name], week)
