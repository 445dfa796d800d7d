"""Calibration targets: what the published evidence says, and how the model is measured against it.

A target (in ``configs/experiment/calibrate.yaml``) names a measure, the value the evidence gives,
its plausible range and its source. :data:`MEASURES` says how each measure is read off a run of
the model; each measure needs runs of one strategy (course only for the decay targets, peer groups
for meeting attendance, the forum for online engagement). The validation tests and the
calibration use this one module, so they measure exactly the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from typing import TYPE_CHECKING

from sim.params import ModelParams

if TYPE_CHECKING:
    from sim.model import SelfManagementModel


@dataclass
class Target:
    """One calibration target: ``value`` with plausible range ``low`` to ``high``."""

    measure: str = ""
    value: float = 0.0
    low: float = 0.0
    high: float = 0.0
    source: str = ""
    weight: float = 1.0


@dataclass
class Measure:
    """How one target is measured: which strategy's runs, for how many weeks, and the reading."""

    strategy: str
    weeks: int
    read: Callable[[SelfManagementModel, dict], float]
    label: str = ""
    deps: tuple = field(default_factory=tuple)


def _gain_at(week: int):
    def read(model: SelfManagementModel, weekly: dict) -> float:
        return float(weekly["mean_gain_sd"][week])

    return read


def _persistent_share(model: SelfManagementModel, weekly: dict) -> float:
    """Persistent gain at the end as a share of the immediate (week 0) gain."""
    return float(model.graduates.persistent.mean() / weekly["mean_gain_sd"][0])


def _course_completion(model: SelfManagementModel, weekly: dict) -> float:
    return float(np.mean(model.graduates.sessions_attended >= 4))


def _meeting_attendance(model: SelfManagementModel, weekly: dict) -> float:
    """Mean share of the register present at the meetings of the first 26 weeks."""
    meetings = np.asarray(weekly["peer_group_meetings"][:27]) > 0
    return float(np.asarray(weekly["peer_group_attendance_share"][:27])[meetings].mean())


def _ever_posted(model: SelfManagementModel, weekly: dict) -> float:
    return float(weekly["forum_ever_posted_share"][-1])


def _online_retention_12_weeks(model: SelfManagementModel, weekly: dict) -> float:
    """Members still enrolled 12 weeks after the forum opened, as a share of all who joined."""
    forum = model.channels["online"]
    from sim.support import Engagement

    joined = np.count_nonzero(forum.status >= Engagement.ENROLLED)
    still = weekly["online_enrolled_share"][forum.first_week + 11] * model.graduates.n
    return float(still / joined) if joined else float("nan")


#: Every measure a target may name.
MEASURES: dict[str, Measure] = {
    "gain_week_20": Measure("course_only", 104, _gain_at(20), "Mean gain at week 20 (6 months after the course began), SD"),
    "gain_week_46": Measure("course_only", 104, _gain_at(46), "Mean gain at week 46 (12 months after the course began), SD"),
    "persistent_share": Measure("course_only", 104, _persistent_share, "Persistent share of the immediate gain"),
    "course_completion": Measure("course_only", 104, _course_completion, "Share attending at least 4 of 6 sessions"),
    "meeting_attendance": Measure("peer_group", 26, _meeting_attendance, "Share of a group's register at a meeting"),
    "online_ever_posted": Measure("online", 52, _ever_posted, "Share of forum members who ever post"),
    "online_retention_12_weeks": Measure("online", 26, _online_retention_12_weeks, "Forum members still there at 12 weeks"),
}


def measure_all(
    params_by_strategy: dict[str, ModelParams], measures: list[str], seeds: list[int]
) -> dict[str, np.ndarray]:
    """Each measure over replicate runs (one per seed): ``{measure: array of len(seeds)}``.

    ``params_by_strategy`` gives the parameters of each strategy the measures need; one run of
    each needed strategy per seed serves every measure on that strategy.
    """
    out = {m: np.empty(len(seeds)) for m in measures}
    strategies = {MEASURES[m].strategy for m in measures}
    for strategy in strategies:
        wanted = [m for m in measures if MEASURES[m].strategy == strategy]
        weeks = max(MEASURES[m].weeks for m in wanted)
        p = params_by_strategy[strategy]
        from sim.model import SelfManagementModel  # lazy: Mesa takes most of a second to import

        for i, seed in enumerate(seeds):
            model = SelfManagementModel(
                p.n_graduates, weeks, strategy=p.strategy, population=p.population,
                dynamics=p.dynamics, costs=p.costs, rng=seed,
            ).run()
            weekly = model.weekly_table().to_dict("list")
            for m in wanted:
                out[m][i] = MEASURES[m].read(model, weekly)
    return out
