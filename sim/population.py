"""The graduates at week 0, the end of the course: who they are and what the course left them.

All graduate state lives in :class:`Graduates`, a set of numpy arrays indexed by graduate id
(0..n-1). Components update whole arrays each week; the Mesa ``Graduate`` agents only read them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from .params import DynamicsParams, PopulationParams
from .runs import ONE, Runs
from .streams import beta_by_mean, logistic, logit

AGE_BANDS = ("under_65", "65_to_74", "75_plus")


@dataclass(eq=False)
class Graduates:
    """State of every graduate, one array entry each (units in the comments).

    ``capability`` is derived (``baseline + persistent + transient + supported``), never stored twice.
    """

    baseline: np.ndarray  # SD units of the population's pre-course score
    transient: np.ndarray  # SD units, >= 0: the part of the course's gain that fades without use
    supported: np.ndarray  # SD units, >= 0: gain made by support (restored or built), not yet routine
    persistent: np.ndarray  # SD units, >= 0: the part that has become routine
    habit: np.ndarray  # 0..1: how automatic self-management routines are
    practice_habit: np.ndarray  # 0..1, <= habit: the part the course's practice left, fading as habit fades
    connectedness: np.ndarray  # 0..1: social contact and support; low = lonely
    connectedness_baseline: np.ndarray  # 0..1: each person's usual connectedness
    group_affinity: np.ndarray  # 0..1: liking for group settings
    group_averse: np.ndarray  # bool: finds groups difficult
    phone_access: np.ndarray  # bool
    online_access: np.ndarray  # bool: uses the internet
    digital_confidence: np.ndarray  # 0..1 (0 when offline)
    age_band: np.ndarray  # int8 index into AGE_BANDS
    severity: np.ndarray  # 0..1: drives the rate of flare-ups
    cohort: np.ndarray  # int: the course cohort graduated with
    sessions_attended: np.ndarray  # int: course sessions attended (of 6)
    lonely_at_baseline: np.ndarray  # bool: usual connectedness below the lonely threshold
    course_gain: np.ndarray  # SD units: the gain the course left at week 0 (support restores toward it)
    transient_age: np.ndarray  # weeks: gain-weighted mean age of the transient gain (power-law decay)
    last_contact_week: np.ndarray  # int: week of the last reinforcing contact (0 = the course)
    contacted: np.ndarray  # bool: had any reinforcing contact this week
    social_contact: np.ndarray  # bool: had a contact with other people this week
    flare: np.ndarray  # bool: has a flare-up this week
    ties: sp.csr_matrix  # symmetric 0/1 friendships within course cohorts
    #: the runs these arrays hold (:mod:`sim.runs`): one, unless a batch stacked several
    runs: ClassVar[Runs] = ONE

    @property
    def n(self) -> int:
        return self.baseline.size

    @property
    def gain(self) -> np.ndarray:
        """Capability above baseline, SD units: what the course and support made, still held."""
        return self.transient + self.persistent + self.supported

    @property
    def capability(self) -> np.ndarray:
        return self.baseline + self.gain


def assign_cohorts(rng: np.random.Generator, n: int, size_min: int, size_max: int) -> np.ndarray:
    """Cohort id for each graduate: consecutive cohorts of 12 to 16 people (the last may be smaller)."""
    sizes = rng.integers(size_min, size_max + 1, size=n // size_min + 1)
    ends = np.cumsum(sizes)
    return np.searchsorted(ends, np.arange(n), side="right")


def cohort_ties(rng: np.random.Generator, cohort: np.ndarray, ties_per_graduate: float) -> sp.csr_matrix:
    """Random friendships within each cohort (an Erdos-Renyi graph per cohort), as a sparse matrix.

    Each pair in a cohort of size m is tied with probability ``ties_per_graduate / (m - 1)``, so each
    graduate has about ``ties_per_graduate`` friends from the course. Vectorised over all cohorts.
    """
    n = cohort.size
    sizes = np.bincount(cohort)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    max_size = sizes.max()
    iu, ju = np.triu_indices(max_size, k=1)
    # candidate pairs (i<j) inside each cohort, vectorised: pairs of local indices valid for its size
    rows, cols = [], []
    for m in np.unique(sizes):
        if m < 2:
            continue
        cohorts_m = np.flatnonzero(sizes == m)
        valid = ju < m
        li, lj = iu[valid], ju[valid]
        p = min(1.0, ties_per_graduate / (m - 1))
        keep = rng.random((cohorts_m.size, li.size)) < p
        base = starts[cohorts_m][:, None]
        rows.append((base + li)[keep])
        cols.append((base + lj)[keep])
    r = np.concatenate(rows) if rows else np.empty(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.empty(0, dtype=np.int64)
    data = np.ones(2 * r.size, dtype=np.float32)
    ties = sp.csr_matrix((data, (np.concatenate([r, c]), np.concatenate([c, r]))), shape=(n, n))
    return ties


def shift_keeping_mean(p: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Probabilities ``p`` moved by ``shift`` on the log-odds scale, plus one common offset chosen
    (by bisection) so that their mean is unchanged: the shift moves probability between people."""
    if not np.any(shift):
        return p
    base, target = logit(p) + shift, p.mean()
    lo, hi = -20.0, 20.0
    for _ in range(60):  # the mean rises with the offset; 60 halvings reach float precision
        mid = 0.5 * (lo + hi)
        if logistic(base + mid).mean() < target:
            lo = mid
        else:
            hi = mid
    return logistic(base + 0.5 * (lo + hi))


def age_gradient(age_band: np.ndarray, gradient: float) -> np.ndarray:
    """Each graduate's multiplier of the course gain by age: ``1 + gradient`` under 65, 1 at
    65-74, ``1 - gradient`` at 75 and over (Reeves 2008: younger people benefited more),
    divided by its mean over these graduates so that the population's mean gain is unchanged."""
    m = 1.0 + gradient * (1.0 - age_band.astype(float))
    return m / m.mean() if m.size else m


def create_graduates(
    n: int,
    population: PopulationParams,
    dynamics: DynamicsParams,
    rng: np.random.Generator,
    course_rng: np.random.Generator,
    took_course: bool = True,
) -> Graduates:
    """Draw ``n`` graduates of ``population`` and what the course left them at week 0.

    ``rng`` draws who people are (the same for every strategy under one seed); ``course_rng`` draws
    what the course did for them (sessions attended, immediate gain). With ``took_course=False``
    (the no-course comparator) the same people are drawn, with the same random numbers, but
    attend no session: no gain, no habit from practice, no company from the course.
    """
    p, course = population, dynamics.course
    baseline = rng.standard_normal(n)
    group_averse = rng.random(n) < p.group_averse_share
    affinity = np.where(
        group_averse,
        beta_by_mean(rng, p.group_affinity_averse_mean, p.group_affinity_concentration, n),
        beta_by_mean(rng, p.group_affinity_other_mean, p.group_affinity_concentration, n),
    )
    age_band = rng.choice(3, size=n, p=np.asarray(p.age_band_shares) / sum(p.age_band_shares)).astype(np.int8)
    online = rng.random(n) < np.asarray(p.online_access_by_age_band)[age_band]
    phone = rng.random(n) < p.phone_access_share
    digital = np.where(online, beta_by_mean(rng, p.digital_confidence_mean, p.digital_confidence_concentration, n), 0.0)
    conn_base = beta_by_mean(rng, p.connectedness_baseline_mean, p.connectedness_baseline_concentration, n)
    severity = beta_by_mean(rng, p.severity_mean, p.severity_concentration, n)
    cohort = assign_cohorts(rng, n, p.cohort_size_min, p.cohort_size_max)
    ties = cohort_ties(rng, cohort, p.ties_per_graduate)

    # The course: sessions attended, and the gain, larger for more sessions and lower baselines.
    # People who find groups difficult come to fewer sessions of a group course and gain less from
    # it: shifts that move attendance and gain between people, keeping the population's means.
    attend_p = beta_by_mean(course_rng, p.course_attendance_prob_mean, p.course_attendance_concentration, n)
    centre = affinity.mean()  # n >= 1 (validated)
    attend_p = shift_keeping_mean(attend_p, course.attendance_affinity_coef * (affinity - centre))
    sessions = course_rng.binomial(course.sessions, attend_p)
    if not took_course:
        sessions = np.zeros_like(sessions)
    dose = sessions / course.sessions
    suits = np.maximum(1.0 + course.gain_affinity_coef * (affinity - centre), 0.0)
    by_age = np.asarray(course.gain_multiplier_by_age_band)[age_band] * age_gradient(age_band, course.gain_age_gradient)
    gain = course.immediate_gain_mean_sd * dose * (1.0 - course.low_baseline_gain_boost * baseline)
    gain = gain + course.immediate_gain_spread_sd * dose * course_rng.standard_normal(n)
    gain = np.clip(gain * suits * by_age, 0.0, dynamics.retention.max_gain_sd)  # the ceiling holds from week 0
    # six weeks of practice: the same habit gain per session as per follow-on contact
    habit = 1.0 - (1.0 - dynamics.retention.habit_gain_per_contact) ** sessions
    conn = conn_base + course.connectedness_boost * dose * (1.0 - conn_base)

    return Graduates(
        baseline=baseline,
        transient=gain * (1.0 - course.initial_persistent_share),
        supported=np.zeros(n),
        persistent=gain * course.initial_persistent_share,
        habit=habit,
        practice_habit=habit.copy(),
        connectedness=conn,
        connectedness_baseline=conn_base,
        group_affinity=affinity,
        group_averse=group_averse,
        phone_access=phone,
        online_access=online,
        digital_confidence=digital,
        age_band=age_band,
        severity=severity,
        cohort=cohort,
        sessions_attended=sessions,
        lonely_at_baseline=conn_base < dynamics.connectedness.lonely_threshold,
        course_gain=gain,
        transient_age=np.zeros(n),
        last_contact_week=np.zeros(n, dtype=np.int64),
        contacted=np.zeros(n, dtype=bool),
        social_contact=np.zeros(n, dtype=bool),
        flare=np.zeros(n, dtype=bool),
        ties=ties,
    )


def stack_graduates(each_run: list[Graduates]) -> Graduates:
    """The graduates of several runs in one set of arrays, run after run (:mod:`sim.runs`): each
    array concatenated, cohort ids offset so that no two runs share a cohort, the friendships a
    block-diagonal matrix (nobody has a friend in another run)."""
    first = each_run[0]
    arrays = {}
    for f in fields(Graduates):
        if f.name == "ties":
            arrays[f.name] = sp.block_diag([g.ties for g in each_run], format="csr", dtype=first.ties.dtype)
        elif f.name == "cohort":
            offsets = np.cumsum([0] + [int(g.cohort.max()) + 1 for g in each_run[:-1]])
            arrays[f.name] = np.concatenate([g.cohort + off for g, off in zip(each_run, offsets)])
        else:
            arrays[f.name] = np.concatenate([getattr(g, f.name) for g in each_run])
    stacked = Graduates(**arrays)
    stacked.runs = Runs(len(each_run), first.n)
    return stacked
