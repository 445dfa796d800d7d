"""Calibration targets as trial emulations: what the evidence says, and how the model reproduces it.

A target (in ``configs/analysis/calibrate.yaml``) names a measure, the value the evidence gives
with its standard error, its 95% interval and its source. :data:`MEASURES` says how each measure
emulates its study: the study's arms (:data:`ARMS`: a strategy, with or without the course, when
support starts and stops), when the outcome is measured (``weeks``: the run's length; readings
at earlier weeks say so) and how (a standardised mean difference on a self-efficacy score with
its measurement error, :mod:`sim.measurement`; QALYs, contacts, a share); and what the
study's intervention was (``intervention``: "course" or "support"), so that a test can check
that the arm without it does not already meet the target (a target held by construction,
tests/experiments/test_validation.py). An effect is a paired difference from the comparator arm
run with the same seeds (the same people and health shocks), as a trial compares its arms.
The validation tests and the calibration use this one module, so they measure the same thing.
"""

from __future__ import annotations

import dataclasses

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
    #: what the study tested: "course", "support", or None for a level (a share, a rate) with no control arm
    intervention: str | None = None
    #: the measure's value when the intervention does nothing (0 for a difference, 1 for a ratio)
    no_effect: float = 0.0


#: How often the peer-support trials' groups met, weeks. The trials pooled by Liang 2021 and Zhang
#: 2016 delivered support as a protocol, mostly weekly in its first months (of the schedules read in
#: Zhang 2016's table: weekly for 7 weeks, Cade 2009; at least weekly calls for 6 months,
#: Gagliardino 2013; weekly for 6 weeks, Lorig 2008; against 9 meetings in 2 years, Smith 2011), and
#: programmes with weekly or frequent contact did better (Qi 2015; Azmiardi 2021). A community group
#: commissioned here meets every 2 weeks (configs/strategy/peer_group.yaml); Munford 2020's
#: community groups are emulated as those.
TRIAL_MEETING_INTERVAL_WEEKS = 1

#: The arms the targets need: a strategy (a name of ``configs/strategy``) and changes to it; a change
#: ``population`` names a ``configs/population`` preset to use instead of the calibration's.
ARMS: dict[str, tuple[str, dict]] = {
    "no_course": ("no_course", {}),
    "course_only": ("course_only", {}),
    "peer_group": ("peer_group", {}),
    # Munford 2020: community groups for people who did not take a course, against none
    "peer_group_without_course": ("no_course", {
        "strategy.name": "peer_group_without_course", "strategy.label": "Peer groups without the course",
        "strategy.peer_group.enabled": True}),
    # Liang 2021: peer support as the trials gave it (meeting weekly) without a course, against usual care
    "peer_support_trial": ("no_course", {
        "strategy.name": "peer_support_trial", "strategy.label": "Peer-support trial arm (weekly groups, no course)",
        "strategy.peer_group.enabled": True, "strategy.peer_group.interval_weeks": TRIAL_MEETING_INTERVAL_WEEKS}),
    # Zhang 2016: the trials' peer support for 6 months, then followed up after it ended
    "peer_support_trial_26_weeks": ("no_course", {
        "strategy.name": "peer_support_trial_26_weeks", "strategy.label": "Peer-support trial arm for 26 weeks",
        "strategy.peer_group.enabled": True, "strategy.peer_group.interval_weeks": TRIAL_MEETING_INTERVAL_WEEKS,
        "strategy.end_week": 26}),
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


def _smd(run: Run, latent: float) -> float:
    """A latent difference as the trials report it: an SMD on a self-efficacy score (sim.measurement)."""
    from sim.measurement import smd  # lazy, as the model's other modules

    return float(smd(latent, run[0].params.dynamics.measurement))


def _gain_at(week: int):
    """The mean gain at ``week`` as an SMD on the measured score (against no course, whose gain is 0)."""
    def read(run: Run) -> float:
        return _smd(run, run[1]["mean_gain_sd"][week])

    return read


def _gain_difference_among_joiners(channel: str):
    """The paired difference in gain at the run's end among those who took ``channel`` up, as an SMD.

    A trial randomises people who agreed to take part; those who would decline the offer are not in
    it. So the trial's population is, in the model, those who accept the offer (enrolled at any
    time, including those who later stopped: intention to treat among the consenters), read
    against the same people in the comparator arm (same seeds: the same people and health shocks).
    """
    def read(run: Run, comparator: Run) -> float:
        from sim.support.base import Engagement  # lazy: the model's modules pull in scipy

        joined = run[0].channels[channel].status >= Engagement.ENROLLED
        if not joined.any():  # nobody took it up (or it was not offered): the difference over everyone
            joined = np.ones_like(joined)
        return _smd(run, float((run[0].week_gain[joined] - comparator[0].week_gain[joined]).mean()))

    return read


def _fade_ratio(end_week: int, later_week: int):
    """The effect ``later_week`` (after support ended) as a share of the effect at ``end_week``."""
    def read(run: Run, comparator: Run) -> float:
        diff = np.asarray(run[1]["mean_gain_sd"]) - np.asarray(comparator[1]["mean_gain_sd"])
        return float(diff[later_week] / diff[end_week]) if diff[end_week] > 0 else float("nan")

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
    if not joined.any():  # nobody joined (or groups were not offered): the difference over everyone
        joined = np.ones_like(joined)
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
    "gain_week_20": Measure("course_only", 104, _gain_at(20), "Mean gain at week 20 (6 months after the course began), SD",
                            intervention="course"),
    "gain_week_46": Measure("course_only", 104, _gain_at(46), "Mean gain at week 46 (12 months after the course began), SD",
                            intervention="course"),
    "persistent_share": Measure("course_only", 104, _persistent_share, "Persistent share of the immediate gain"),
    "course_completion": Measure("course_only", 104, _course_completion, "Share attending at least 4 of 6 sessions"),
    "meeting_attendance": Measure("peer_group", 26, _meeting_attendance, "Share of a group's register at a meeting"),
    "group_survival_week_52": Measure("peer_group_general_ltc", 52, _group_survival_at(52),
                                      "Peer groups still meeting at 12 months (general population)"),
    "online_ever_posted": Measure("online", 52, _ever_posted, "Share of forum members who ever post"),
    "online_retention_12_weeks": Measure("online", 26, _online_retention_12_weeks, "Forum members still there at 12 weeks"),
    "peer_support_effect_week_26": Measure(
        "peer_support_trial", 26, _gain_difference_among_joiners("peer_group"),
        "Peer support as the trials gave it (weekly groups), no course, at 6 months, against none, SD", comparator="no_course",
        intervention="support"),
    "peer_support_fade_15_weeks_after": Measure(
        "peer_support_trial_26_weeks", 41, _fade_ratio(26, 41),
        "Trial peer support ended at week 26: effect 15 weeks later over the effect at the end", comparator="no_course",
        intervention="support"),
    "peer_support_fade_39_weeks_after": Measure(
        "peer_support_trial_26_weeks", 65, _fade_ratio(26, 65),
        "Trial peer support ended at week 26: effect 39 weeks later over the effect at the end", comparator="no_course",
        intervention="support"),
    "peer_telephone_effect_week_26": Measure(
        "telephone", 26, _gain_difference_among_joiners("telephone"), "Peer calls for 6 months: gain against course only, SD",
        comparator="course_only", intervention="support"),
    "professional_calls_effect_week_52": Measure(
        "professional_calls_monthly", 52, _gain_difference_among_joiners("telephone"),
        "Monthly nurse calls for 12 months: gain against course only, SD", comparator="course_only",
        intervention="support"),
    "group_joiner_qaly_gain_26_weeks": Measure(
        "peer_group_without_course", 26, _group_member_qaly_gain,
        "QALYs gained in 6 months by those who joined a group (no course)", comparator="no_course",
        intervention="support"),
    "group_joiner_qaly_gain_78_weeks": Measure(
        "peer_group_without_course", 78, _group_member_qaly_gain,
        "QALYs gained in 18 months by those who joined a group (no course)", comparator="no_course",
        intervention="support"),
    "booster_dropout": Measure(
        "booster_three_sessions", 14, _booster_dropout, "Share invited to 3 booster sessions who missed one or more"),
    "course_qaly_gain_20_weeks": Measure(
        "course_only", 20, _qaly_difference_per_graduate, "QALYs gained by the course against no course, to week 20",
        comparator="no_course", intervention="course"),
    "course_care_contacts_ratio_26_weeks": Measure(
        "course_only", 26, _care_contacts_ratio, "GP, nurse and urgent-care contacts, course against no course",
        comparator="no_course", intervention="course", no_effect=1.0),
}


def without_intervention(params: ModelParams, intervention: str) -> ModelParams:
    """``params`` with the study's intervention taken away: no course, or no support channel.

    What is left is the arm's own design without what the study tested; if that already meets a
    target, the target is held by construction and tests nothing.
    """
    from sim.params import with_values

    if intervention == "course":
        return with_values(params, {"strategy.course": False})
    return with_values(params, {f"strategy.{name}.enabled": False for name in params.strategy.channels})


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
                engine: str = "batched") -> dict[str, np.ndarray]:
    """Each measure over replicate runs (one per seed): ``{measure: array of len(seeds)}``.

    ``params_by_arm`` gives the parameters of each arm the measures need (:func:`arms_needed`);
    ``engine`` the model's engine (:mod:`sim.engines`). See :func:`measure_points`.
    """
    rows = measure_points([(params_by_arm, seed) for seed in seeds], measures, engine)
    return {m: np.array([row[m] for row in rows], dtype=float) for m in measures}


def measure_points(points: list[tuple[dict[str, ModelParams], int]], measures: list[str],
                   engine: str = "batched") -> list[dict[str, float]]:
    """Every measure at each point (the parameters of each arm, and the seed every arm of the point
    runs with): one ``{measure: value}`` per point, in order.

    Each measure reads runs of exactly its own length (some read the state at the end: QALYs so
    far, the persistent gain); measures on the same arm and length share a run. Every point's runs
    are evaluated together (:func:`experiments.evaluate.evaluate_many`): the runs of one arm and
    length across the points are one batch of the batched engine.
    """
    from experiments.evaluate import evaluate_many  # lazy: the model's modules load with it

    needed = sorted({(arm, MEASURES[m].weeks) for m in measures for arm in (MEASURES[m].arm, MEASURES[m].comparator)
                     if arm})
    todo = [dataclasses.replace(params_by_arm[arm], weeks=weeks, seed=int(seed))
            for params_by_arm, seed in points for arm, weeks in needed]
    runs = iter(evaluate_many(todo, engine))
    out = []
    for _ in points:
        # the reporters' lists as collected (row = week): no table is built, as none is read
        runs_of_point = {key: (run.model, run.model.datacollector.model_vars)
                         for key, run in zip(needed, runs)}
        row = {}
        for m in measures:
            spec = MEASURES[m]
            run = runs_of_point[spec.arm, spec.weeks]
            row[m] = float(spec.read(run, runs_of_point[spec.comparator, spec.weeks]) if spec.comparator
                           else spec.read(run))
        out.append(row)
    return out
