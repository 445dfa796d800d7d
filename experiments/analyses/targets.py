"""Calibration targets: what the published evidence says, and how the model is measured against it.

A target (in ``configs/analysis/calibrate.yaml``) names a measure, the value the evidence gives,
its plausible range and its source. :data:`MEASURES` says how each measure is read off a run of
the model; each measure needs runs of one arm (:data:`ARMS`: course only for the decay targets,
peer groups for meeting attendance, the forum for online engagement, ...) and, for an effect,
of its comparator with the same seeds. The validation tests and the calibration use this one
module, so they measure exactly the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.params import ModelParams


@dataclass
class Measure:
    """How one target is measured: which arm's runs, for how many weeks, and the reading.

    With a ``comparator`` arm, the two arms run with the same seeds (the same people and health
    shocks) and ``read`` gets both runs: a paired difference, as a trial compares its arms.
    """

    arm: str
    weeks: int
    read: Callable[..., float]
    label: str = ""
    comparator: str | None = None


#: The arms the targets need: a strategy (a name of ``configs/strategy``) and changes to it; a change
#: ``population`` names a ``configs/population`` preset to use instead of the calibration's.
ARMS: dict[str, tuple[str, dict]] = {
    "no_course": ("no_course", {}),
    "course_only": ("course_only", {}),
    "peer_group": ("peer_group", {}),
    # self-help groups in general (Wituk 2002), not only the people who chose a group course
    "peer_group_general_ltc": ("peer_group", {"population": "general_ltc"}),
    "telephone": ("telephone", {}),
    "online": ("online", {}),
    # Mons 2013: monthly calls by practice nurses for 12 months
    "professional_calls_monthly": ("telephone", {"strategy.telephone.caller": "professional",
                                                 "strategy.telephone.interval_weeks": 4}),
    # Kroese 2012: three booster sessions offered after the course (here at once, at month 3)
    "booster_three_sessions": ("course_only", {"strategy.booster.enabled": True, "strategy.booster.week": 13,
                                               "strategy.booster.sessions": 3}),
}

Run = tuple  # (model, its reporters: {name: one value per week, from week 0})


def _gain_at(week: int):
    def read(run: Run) -> float:
        return float(run[1]["mean_gain_sd"][week])

    return read


def _gain_difference_at(week: int):
    def read(run: Run, comparator: Run) -> float:
        return float(run[1]["mean_gain_sd"][week] - comparator[1]["mean_gain_sd"][week])

    return read


def _persistent_share(run: Run) -> float:
    """Persistent gain at the end as a share of the immediate (week 0) gain."""
    model, weekly = run
    return float(model.graduates.persistent.mean() / weekly["mean_gain_sd"][0])


def _course_completion(run: Run) -> float:
    return float(np.mean(run[0].graduates.sessions_attended >= 4))


def _meeting_attendance(run: Run) -> float:
    """Mean share of the register present at the meetings of the first 26 weeks."""
    weekly = run[1]
    meetings = np.asarray(weekly["peer_group_meetings"][:27]) > 0
    return float(np.asarray(weekly["peer_group_attendance_share"][:27])[meetings].mean())


def _group_survival_at(week: int):
    def read(run: Run) -> float:
        return float(run[1]["peer_group_survival_share"][week])

    return read


def _ever_posted(run: Run) -> float:
    return float(run[1]["forum_ever_posted_share"][-1])


def _online_retention_12_weeks(run: Run) -> float:
    """Members still enrolled 12 weeks after the forum opened, as a share of all who joined."""
    model, weekly = run
    forum = model.channels["online"]
    from sim.support import Engagement

    joined = np.count_nonzero(forum.status >= Engagement.ENROLLED)
    still = weekly["online_enrolled_share"][forum.first_week + 11] * model.graduates.n
    return float(still / joined) if joined else float("nan")


def _booster_dropout(run: Run) -> float:
    """Share of those invited to the booster sessions who missed at least one."""
    booster = run[0].channels["booster"]
    invited = np.count_nonzero(booster.invited)
    completed = np.count_nonzero(booster.contacts == booster.lever.sessions)
    return 1.0 - completed / invited if invited else float("nan")


def _qaly_difference_per_graduate(run: Run, comparator: Run) -> float:
    """QALYs per graduate over the run, minus the comparator's (the same people)."""
    return float(run[0].ledger.qalys_by_graduate.mean() - comparator[0].ledger.qalys_by_graduate.mean())


def _group_member_qaly_gain(run: Run, comparator: Run) -> float:
    """QALYs gained by those who joined a peer group, against the same people without one."""
    from sim.support.base import Engagement  # lazy: the model's modules pull in scipy

    joined = run[0].channels["peer_group"].status >= Engagement.ENROLLED
    if not joined.any():
        return float("nan")
    diff = run[0].ledger.qalys_by_graduate - comparator[0].ledger.qalys_by_graduate
    return float(diff[joined].mean())


def _care_contacts_ratio(run: Run, comparator: Run) -> float:
    """GP, nurse and urgent-care contacts over the run, as a ratio to the comparator's."""
    def contacts(weekly):
        return float(np.sum(weekly["planned_contacts"][1:]) + np.sum(weekly["unplanned_contacts"][1:]))

    base = contacts(comparator[1])
    return contacts(run[1]) / base if base else float("nan")


#: Every measure a target may name.
MEASURES: dict[str, Measure] = {
    "gain_week_20": Measure("course_only", 104, _gain_at(20), "Mean gain at week 20 (6 months after the course began), SD"),
    "gain_week_46": Measure("course_only", 104, _gain_at(46), "Mean gain at week 46 (12 months after the course began), SD"),
    "persistent_share": Measure("course_only", 104, _persistent_share, "Persistent share of the immediate gain"),
    "course_completion": Measure("course_only", 104, _course_completion, "Share attending at least 4 of 6 sessions"),
    "meeting_attendance": Measure("peer_group", 26, _meeting_attendance, "Share of a group's register at a meeting"),
    "group_survival_week_52": Measure("peer_group_general_ltc", 52, _group_survival_at(52),
                                      "Peer groups still meeting at 12 months (general population)"),
    "online_ever_posted": Measure("online", 52, _ever_posted, "Share of forum members who ever post"),
    "online_retention_12_weeks": Measure("online", 26, _online_retention_12_weeks, "Forum members still there at 12 weeks"),
    "peer_support_gain_week_26": Measure(
        "peer_group", 26, _gain_at(26), "Gain with the course and peer groups, 6 months on, against no course, SD"),
    "peer_telephone_effect_week_26": Measure(
        "telephone", 26, _gain_difference_at(26), "Peer calls for 6 months: gain against course only, SD",
        comparator="course_only"),
    "professional_calls_effect_week_52": Measure(
        "professional_calls_monthly", 52, _gain_difference_at(52),
        "Monthly nurse calls for 12 months: gain against course only, SD", comparator="course_only"),
    "group_member_qaly_gain_26_weeks": Measure(
        "peer_group", 26, _group_member_qaly_gain, "QALYs gained in 6 months by those who joined a group",
        comparator="course_only"),
    "booster_dropout": Measure(
        "booster_three_sessions", 14, _booster_dropout, "Share invited to 3 booster sessions who missed one or more"),
    "course_qaly_gain_20_weeks": Measure(
        "course_only", 20, _qaly_difference_per_graduate, "QALYs gained by the course against no course, to week 20",
        comparator="no_course"),
    "course_care_contacts_ratio_26_weeks": Measure(
        "course_only", 26, _care_contacts_ratio, "GP, nurse and urgent-care contacts, course against no course",
        comparator="no_course"),
}


def arm_params(base: ModelParams, arms) -> dict[str, ModelParams]:
    """Parameters of each arm: ``base`` with the arm's strategy (``configs/strategy``) and changes."""
    from experiments.config import load_population, load_strategy
    from sim.params import with_values

    out = {}
    for arm in sorted(arms):
        strategy, changes = ARMS[arm]
        changes = dict(changes)
        p = with_values(base, {})
        p.strategy = load_strategy(strategy)
        if "population" in changes:
            p.population = load_population(changes.pop("population"))
        out[arm] = with_values(p, changes)
    return out


def arms_needed(measures: list[str]) -> set[str]:
    """The arms the ``measures`` run (their own and their comparators)."""
    arms = set()
    for m in measures:
        arms.add(MEASURES[m].arm)
        if MEASURES[m].comparator:
            arms.add(MEASURES[m].comparator)
    return arms


def measure_all(params_by_arm: dict[str, ModelParams], measures: list[str], seeds: list[int],
                engine: str = "vectorized") -> dict[str, np.ndarray]:
    """Each measure over replicate runs (one per seed): ``{measure: array of len(seeds)}``.

    ``params_by_arm`` gives the parameters of each arm the measures need (:func:`arms_needed`);
    ``engine`` the model's engine (:mod:`sim.engines`).
    Each measure reads runs of exactly its own length (some read the state at the end: QALYs so
    far, the persistent gain); measures on the same arm and length share a run.
    """
    out = {m: np.empty(len(seeds)) for m in measures}
    needed = sorted({(arm, MEASURES[m].weeks) for m in measures for arm in (MEASURES[m].arm, MEASURES[m].comparator) if arm})
    from experiments.evaluate import evaluate  # lazy: the model imports Mesa (most of a second)

    for i, seed in enumerate(seeds):
        runs = {}
        for arm, weeks in needed:
            run = evaluate(params_by_arm[arm], engine, weeks=weeks, seed=seed)
            # the reporters' lists as collected (row = week): no table is built, as none is read
            runs[arm, weeks] = (run.model, run.model.datacollector.model_vars)
        for m in measures:
            spec = MEASURES[m]
            run = runs[spec.arm, spec.weeks]
            out[m][i] = spec.read(run, runs[spec.comparator, spec.weeks]) if spec.comparator else spec.read(run)
    return out
