"""The model's weeks over arrays: the rules every engine but the reference one computes.

:class:`ArrayModel` holds graduates and services in numpy arrays (one run, or a batch of runs of
one strategy, :mod:`sim.runs`) and steps them week by week. It imports neither Mesa nor pandas:
:class:`sim.model.SelfManagementModel` (the vectorised engine) adds a Mesa agent per graduate for
students, :class:`sim.batched.BatchedModel` (the batched engine) runs many runs without them, and
a batch's process needs about 180 MB less memory for it (Mesa imports pandas and scipy.spatial).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from . import connectedness, retention
from .costs import CostLedger
from .health import HealthEvents
from .measurement import Measurement
from .params import ModelParams
from .population import create_graduates, stack_graduates
from .reporters import SUBGROUPS, WeeklyRecord, subgroup_outcomes, weekly_columns
from .runs import Runs, stack
from .streams import stream
from .strategy import offers
from .support import CHANNELS, SupportChannel

if TYPE_CHECKING:
    import pandas as pd


class NonFiniteOutput(ArithmeticError):
    """A run produced NaN or an infinity in a measure (names it and the week)."""


class ArrayModel:
    """Graduates of a six-week self-management course, week by week after it ends.

    Week 0 is the end of the course. One step is one week, in this order (the ODD's
    "process overview and scheduling"):

    1. **Health events** (:mod:`sim.health`): flare-ups; each is self-managed, or leads to a planned
       or an unplanned contact with services.
    2. **Support** (:mod:`sim.support`): in the first week of support, the strategy offers channels
       (:mod:`sim.strategy`) and people take them up. Then each active channel runs its step, in the
       order peer group, telephone, online, booster, newsletter: who is reached, who takes part,
       what each contact adds (reinforcement, habit, connectedness). After ``strategy.end_week``
       every channel closes.
    3. **Retention** (:mod:`sim.retention`): transient gains decay (faster when isolated); practice
       turns part of them into persistent gains; habit fades without practice.
    4. **Connectedness** (:mod:`sim.connectedness`) drifts back to each person's usual level
       for those without social contact this week.
    5. **Engagement**: people leave channels; groups that stay too small close; volunteers leave.
    6. **Record**: QALYs accrue (costs accrued as they were incurred); the week's row of every
       reporter is recorded (:class:`sim.reporters.WeeklyRecord`, in ``model.datacollector``).

    A channel the strategy does not offer does no work in any week: it is never offered, never
    steps, and its results are those of its first week, recorded as they are.
    """

    #: False once the last week has run (``run()`` stops there).
    running: bool = True

    def _build(self, each_run: list[ModelParams]) -> None:
        """Build the graduates, services and records of the runs ``each_run`` (validated), in one
        set of arrays (:mod:`sim.runs`): one run, or a batch of runs of the same strategy, number
        of graduates and weeks (:class:`sim.batched.BatchedModel`). Each run draws from its own
        streams of its own seed (:mod:`sim.streams`), exactly as it would alone."""
        first = each_run[0]
        runs = self.runs = Runs(len(each_run), first.n_graduates)
        seeds = [p.seed for p in each_run]

        def streams(purpose: str):  # one generator, or one per run
            return stream(seeds[0], purpose) if runs.single else [stream(seed, purpose) for seed in seeds]

        if runs.single:
            params, dyn = first, first.dynamics
            self.seed = first.seed
        else:
            dyn = stack([p.dynamics for p in each_run], "dynamics")
            params = dataclasses.replace(first, seed=None, dynamics=dyn)
            self.seed = np.asarray(seeds, dtype=np.int64)
        self.params = params
        self.week = 0
        self.running = True

        n_graduates = first.n_graduates
        graduates = [
            create_graduates(n_graduates, p.population, p.dynamics, stream(p.seed, "population"),
                             stream(p.seed, "course"), took_course=p.strategy.course)
            for p in each_run
        ]
        self.graduates = graduates[0] if runs.single else stack_graduates(graduates)
        self.graduates.runs = runs
        self.health = HealthEvents(dyn.health, streams("health"))
        self.measurement = Measurement(dyn.measurement, n_graduates * runs.k, streams("measurement"), runs)
        self.ledger = CostLedger([p.costs for p in each_run], dyn.outcomes, n_graduates, runs)
        if params.strategy.course:  # the no-course comparator pays for no course
            self.ledger.add("course", n_graduates * self.ledger.unit_gbp["course_per_participant"], 0)
        strategy = params.strategy
        self.channels: dict[str, SupportChannel] = {
            name: cls(self, getattr(strategy, name), getattr(dyn, name), streams(name))
            for name, cls in CHANNELS.items()
        }
        self.active_channels = [c for name, c in self.channels.items() if getattr(strategy, name).enabled]
        self._support = "not started"  # -> "running" -> "ended"
        #: every channel's results this week, in registry order (a disabled channel's: constants)
        self.channel_results: dict[str, float] = {}
        for channel in self.channels.values():
            self.channel_results.update(channel.results())
        self._summarise_week()
        #: the weekly record, one value per week for every reporter (the DataCollector's interface)
        self.datacollector = self._new_record(weekly_columns(list(self.channel_results)))
        self.datacollector.collect(self)

    def _new_record(self, columns: list[str]) -> WeeklyRecord:
        """The record of the weekly reporters (a batch keeps one of its own)."""
        return WeeklyRecord(columns)

    # --- one week -----------------------------------------------------------------------------

    def step(self) -> None:
        """One week, in the order of the class docstring."""
        week = self._begin_week()
        g, dyn = self.graduates, self.params.dynamics

        self.health.step(g)  # 1. health events
        self.ledger.add("planned_care", self.health.planned_contacts * self.ledger.planned_contact_gbp, week)
        self.ledger.add(
            "urgent_care", self.health.unplanned_contacts * self.ledger.unit_gbp["urgent_care_attendance"], week
        )

        support_on = self._switch_support(week)  # 2. support
        if support_on:
            for channel in self.active_channels:
                channel.step(week)

        retention.retain(g, week, dyn.retention)  # 3. retention
        connectedness.drift(g, dyn.connectedness)  # 4. connectedness

        if support_on:  # 5. engagement
            for channel in self.active_channels:
                channel.engage(week)

        self._record_week(week)  # 6. record

    def _begin_week(self) -> int:
        """The next week starts with a new page: this week's flags and counters empty. Returns it."""
        self.week += 1
        g = self.graduates
        g.contacted[:] = False
        g.social_contact[:] = False
        self.health.begin_week(g)
        for channel in self.active_channels:  # a disabled channel's counters stay at 0: nothing to reset
            channel.begin_week()
        return self.week

    def _switch_support(self, week: int) -> bool:
        """Start support in its first week (:meth:`open_support`), close every channel after its
        last; whether support runs in ``week``."""
        support_on = self.params.strategy.active(week)
        if support_on and self._support == "not started":
            self._support = "running"
            self.open_support(week)
        elif not support_on and self._support == "running":
            self._support = "ended"
            for channel in self.active_channels:
                channel.close()  # the service stops: everyone still taking part leaves
        return support_on

    def open_support(self, week: int) -> None:
        """The first week of support: the strategy's offers, and each channel's take-up."""
        offered = offers(self.graduates, self.params.strategy)
        for channel in self.active_channels:
            channel.offer(offered[channel.name], week)

    def _record_week(self, week: int) -> None:
        """Step 6 of the week: QALYs accrue, channel results update, the week's row is recorded."""
        self._summarise_week()
        g = self.graduates
        self.ledger.add_qalys(self.week_gain, g.connectedness - g.connectedness_baseline, week)
        self._update_channel_results()
        self.datacollector.collect(self)
        if week >= self.params.weeks:
            self.running = False

    def _summarise_week(self) -> None:
        """What every reporter reads, computed once a week: the gains (SD), this week's measured
        change (:mod:`sim.measurement`), who it counts as a responder ("self-managing") and the
        outcomes of each subgroup."""
        g = self.graduates
        self.week_gain = g.gain
        self.measurement.read(self.week_gain)
        self.week_self_managing = self.measurement.responders()
        self.subgroup_outcomes = subgroup_outcomes(g, self.week_gain, self.week_self_managing)

    def run(self) -> ArrayModel:
        """Run to the horizon (``weeks``); returns the model for chaining."""
        while self.running:
            self.step()
        self.check_finite()
        return self

    def check_finite(self) -> None:
        """Every recorded measure finite, else :class:`NonFiniteOutput` naming the first that is
        not and its week. A subgroup's mean may be NaN only because the subgroup has no members
        (the whole population's mean, checked too, is finite only if every gain is)."""
        subgroup = tuple(f"{what}_{label}" for what in ("mean_gain_sd", "share_self_managing")
                         for _, yes, no in SUBGROUPS.values() for label in (yes, no))
        for name, values in self.datacollector.model_vars.items():
            v = np.asarray(values, dtype=float)
            bad = np.isinf(v) if name in subgroup else ~np.isfinite(v)
            if bad.any():
                week = int(np.argmax(bad))
                raise NonFiniteOutput(f"the run produced {v[week]} for {name} at week {week}: a parameter "
                                      "makes the arithmetic non-finite")
        ledger = self.ledger
        for name in ("total_gbp", "discounted_gbp", "qalys"):
            value = float(np.sum(getattr(ledger, name)))
            if not np.isfinite(value):
                raise NonFiniteOutput(f"the run produced {value} for {name}: a parameter makes the arithmetic "
                                      "non-finite")

    def _update_channel_results(self) -> None:
        """This week's results of the channels the strategy offers; a disabled channel's state never
        changes after the model is built (it is never offered and never steps), so its results,
        recorded at week 0, are left as they are."""
        for channel in self.active_channels:
            self.channel_results.update(channel.results())

    # --- results ------------------------------------------------------------------------------

    def weekly_table(self) -> pd.DataFrame:
        """One row per recorded week (0..week), column ``week`` and every reporter."""
        df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        df.insert(0, "week", np.arange(len(df)))
        return df

    def graduate_table(self) -> pd.DataFrame:
        """One row per graduate: who they are, where they ended, and their contacts per channel."""
        g = self.graduates
        table = {
            "graduate_id": np.arange(g.n),
            "cohort": g.cohort,
            "baseline": g.baseline,
            "sessions_attended": g.sessions_attended,
            "capability_final": g.capability,
            "gain_final": g.gain,
            "habit_final": g.habit,
            "connectedness_final": g.connectedness,
            "group_averse": g.group_averse,
            "online_access": g.online_access,
            "lonely_at_baseline": g.lonely_at_baseline,
            "age_band": g.age_band,
        }
        for name, channel in self.channels.items():
            table[f"contacts_{name}"] = channel.contacts
        import pandas as pd  # lazy: a batch's process never builds a table of graduates

        return pd.DataFrame(table)
