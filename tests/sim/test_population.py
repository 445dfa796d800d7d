"""The graduates at week 0 (sim/population.py): who they are and what the course left them.

Statistical checks use fixed seeds and tolerances of 4 standard errors computed from the sample size.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from sim import DynamicsParams, PopulationParams, SelfManagementModel

SEED = 20240611
N = 5000
Z = 4.0  # tolerance in standard errors


def graduates(population: PopulationParams | None = None, n: int = N, seed: int = SEED, dynamics=None):
    return SelfManagementModel(n, 1, population=population, dynamics=dynamics, rng=seed).graduates


@pytest.fixture(scope="module")
def default_graduates():
    return graduates()


# --- 14. shares match their parameters within sampling error ------------------------------------


def test_course_completion_is_75_percent(default_graduates, binomial_se):
    """About 75% attend at least 4 of the 6 sessions (CDSMP national roll-out; design.md)."""
    completed = float(np.mean(default_graduates.sessions_attended >= 4))
    tolerance = Z * binomial_se(0.75, N)  # 4 * sqrt(0.75 * 0.25 / 5000) = 0.0245
    assert abs(completed - 0.75) <= tolerance, f"completion {completed:.4f}, allowed 0.75 +- {tolerance:.4f}"


def test_sessions_attended_within_course(default_graduates):
    s = default_graduates.sessions_attended
    assert s.min() >= 0 and s.max() <= DynamicsParams().course.sessions
    assert len(np.unique(s)) >= 5  # a spread of attendance, not everyone the same


def test_group_averse_share_matches_parameter(default_graduates, binomial_se):
    p = PopulationParams().group_averse_share
    share = float(np.mean(default_graduates.group_averse))
    assert abs(share - p) <= Z * binomial_se(p, N), f"{share:.4f} vs {p}"


@pytest.mark.parametrize("p", [0.0, 0.1, 0.4])
def test_group_averse_share_follows_the_parameter(binomial_se, p):
    population = dataclasses.replace(PopulationParams(), group_averse_share=p)
    share = float(np.mean(graduates(population, n=3000).group_averse))
    assert abs(share - p) <= Z * binomial_se(p, 3000), f"{share:.4f} vs {p}"  # exact when p is 0


def test_online_access_of_the_75_plus_matches_its_band(binomial_se):
    population = dataclasses.replace(PopulationParams(), age_band_shares=[0.0, 0.0, 1.0])
    g = graduates(population)
    assert (g.age_band == 2).all()
    p = population.online_access_by_age_band[2]
    share = float(np.mean(g.online_access))
    assert abs(share - p) <= Z * binomial_se(p, N), f"{share:.4f} vs {p}"


def test_age_band_shares_match_parameter(default_graduates, binomial_se):
    shares = PopulationParams().age_band_shares
    counts = np.bincount(default_graduates.age_band, minlength=3) / N
    for band, (p, observed) in enumerate(zip(shares, counts)):
        assert abs(observed - p) <= Z * binomial_se(p, N), f"band {band}: {observed:.4f} vs {p}"


def test_phone_access_share_matches_parameter(default_graduates, binomial_se):
    p = PopulationParams().phone_access_share
    assert abs(np.mean(default_graduates.phone_access) - p) <= Z * binomial_se(p, N)


def test_group_affinity_means_by_aversion(default_graduates):
    """Beta(mean m, concentration c) has variance m (1 - m) / (c + 1); SE of a mean = sd / sqrt(n)."""
    pop, g = PopulationParams(), default_graduates
    c = pop.group_affinity_concentration
    for mask, m in ((g.group_averse, pop.group_affinity_averse_mean), (~g.group_averse, pop.group_affinity_other_mean)):
        se = math.sqrt(m * (1 - m) / (c + 1) / mask.sum())
        assert abs(g.group_affinity[mask].mean() - m) <= Z * se


def test_baseline_is_standard_normal(default_graduates):
    b = default_graduates.baseline
    assert abs(b.mean()) <= Z / math.sqrt(N)
    assert abs(b.std(ddof=1) - 1.0) <= Z / math.sqrt(2 * (N - 1))  # SE of a normal sample SD


def test_offline_graduates_have_no_digital_confidence(default_graduates):
    g = default_graduates
    assert (g.digital_confidence[~g.online_access] == 0.0).all()
    assert (g.digital_confidence[g.online_access] > 0.0).all()


# --- cohorts and ties -------------------------------------------------------------------------


def test_cohorts_are_consecutive_and_12_to_16_people(default_graduates):
    pop, cohort = PopulationParams(), default_graduates.cohort
    assert cohort[0] == 0 and np.all(np.diff(cohort) >= 0) and np.all(np.diff(cohort) <= 1)
    sizes = np.bincount(cohort)
    assert (sizes[:-1] >= pop.cohort_size_min).all() and (sizes[:-1] <= pop.cohort_size_max).all()
    assert 1 <= sizes[-1] <= pop.cohort_size_max  # the last cohort may be smaller


def test_ties_are_symmetric_within_cohorts_without_self_ties(default_graduates):
    g = default_graduates
    ties = g.ties.tocoo()
    assert (g.ties != g.ties.T).nnz == 0
    assert (ties.row != ties.col).all()
    assert (g.cohort[ties.row] == g.cohort[ties.col]).all()
    assert set(np.unique(ties.data).tolist()) == {1.0}


def test_mean_ties_per_graduate_matches_parameter(default_graduates):
    """Each pair in a cohort of m is tied with p = t / (m - 1); mean degree 2E/n, E a sum of Bernoullis."""
    t, g = PopulationParams().ties_per_graduate, default_graduates
    sizes = np.bincount(g.cohort)
    pairs = sizes * (sizes - 1) / 2
    p = np.where(sizes > 1, np.minimum(1.0, t / np.maximum(sizes - 1, 1)), 0.0)
    expected = 2 * np.sum(pairs * p) / N
    se = 2 * math.sqrt(np.sum(pairs * p * (1 - p))) / N
    degree = np.asarray(g.ties.sum(axis=1)).ravel()
    assert abs(degree.mean() - expected) <= Z * se, f"{degree.mean():.3f} vs {expected:.3f} +- {Z * se:.3f}"


# --- what the course left ---------------------------------------------------------------------


def test_gain_grows_with_sessions_attended(default_graduates):
    g = default_graduates
    assert (g.gain[g.sessions_attended == 0] == 0.0).all()
    means = [g.gain[g.sessions_attended == k].mean() for k in range(1, 7) if (g.sessions_attended == k).sum() > 30]
    assert len(means) >= 4 and np.all(np.diff(means) > 0), means


def test_lower_baseline_gains_more(default_graduates):
    """Reeves 2008: a negative slope of gain on baseline among full attenders, 4 SE clear of zero."""
    g = default_graduates
    full = g.sessions_attended == 6
    x, y = g.baseline[full], g.gain[full]
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    se = math.sqrt(resid.var(ddof=2) / ((x - x.mean()) ** 2).sum())
    assert slope + Z * se < 0, f"slope {slope:.4f} (SE {se:.4f})"


def test_initial_gain_is_transient_and_non_negative(default_graduates):
    g = default_graduates
    assert (g.transient >= 0).all() and (g.persistent == 0).all()  # initial_persistent_share defaults to 0
    mean_full = g.gain[g.sessions_attended == 6].mean()
    assert 0.5 <= mean_full <= 0.9, "the immediate gain of a full course should lie in the design's 0.5-0.9 SD"


def test_initial_persistent_share_splits_the_gain():
    dyn = DynamicsParams()
    dyn = dataclasses.replace(dyn, course=dataclasses.replace(dyn.course, initial_persistent_share=0.25))
    a, b = graduates(n=1000, dynamics=DynamicsParams()), graduates(n=1000, dynamics=dyn)
    np.testing.assert_allclose(b.gain, a.gain, rtol=1e-12)
    np.testing.assert_allclose(b.persistent, 0.25 * a.gain, rtol=1e-12)


def test_habit_reflects_sessions_practised(default_graduates):
    g, h = default_graduates, DynamicsParams().retention.habit_gain_per_contact
    np.testing.assert_allclose(g.habit, 1.0 - (1.0 - h) ** g.sessions_attended)


def test_connectedness_starts_above_usual_level_and_lonely_flag(default_graduates):
    g = default_graduates
    assert (g.connectedness >= g.connectedness_baseline).all()
    attended = g.sessions_attended > 0
    assert (g.connectedness[attended] > g.connectedness_baseline[attended]).all()
    threshold = DynamicsParams().connectedness.lonely_threshold
    np.testing.assert_array_equal(g.lonely_at_baseline, g.connectedness_baseline < threshold)
    assert 0 < g.lonely_at_baseline.sum() < N


def test_single_graduate_population():
    g = graduates(n=1)
    assert g.n == 1 and g.ties.shape == (1, 1) and g.ties.nnz == 0
