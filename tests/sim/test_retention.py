"""Decay, consolidation and reinforcement with spacing (sim/retention.py), on graduates' arrays."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from sim import SelfManagementModel
from sim.params import DecayShape, RetentionParams
from sim.retention import reinforce, retain, spacing

SEED = 97


@pytest.fixture
def g():
    """Fresh graduates (200 of them) to set up by hand; the model only supplies valid arrays."""
    return SelfManagementModel(200, 1, rng=SEED).graduates


def _set(g, *, transient=None, persistent=None, habit=None, connectedness=None, last_contact_week=None,
         course_gain=None):
    for name, value in dict(transient=transient, persistent=persistent, habit=habit, connectedness=connectedness,
                            last_contact_week=last_contact_week, course_gain=course_gain).items():
        if value is not None:
            getattr(g, name)[:] = value


# --- 15. spacing: rises then falls with the gap ------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [RetentionParams(), RetentionParams(spacing_optimal_gap_weeks=2.0, spacing_floor=0.2),
     RetentionParams(spacing_optimal_gap_weeks=4.0, spacing_floor=0.0)],
    ids=["default", "gap2_floor0.2", "gap4_floor0"],
)
def test_spacing_rises_to_1_at_the_optimal_gap_then_falls(params):
    opt = params.spacing_optimal_gap_weeks
    gaps = np.linspace(0.0, 104.0, 4161)
    s = spacing(gaps, params)
    assert spacing(np.array([opt]), params)[0] == pytest.approx(1.0, abs=1e-12)
    assert s.max() <= 1.0 + 1e-12
    assert (s >= params.spacing_floor - 1e-12).all()
    assert spacing(np.array([0.0]), params)[0] == pytest.approx(params.spacing_floor)
    rising, falling = s[gaps < opt], s[gaps > opt]
    assert np.all(np.diff(rising) > 0), "spacing should rise up to the optimal gap"
    assert np.all(np.diff(falling) <= 0), "spacing should fall after the optimal gap"
    visible = falling > params.spacing_floor + 1e-9  # far out, the fall is below float resolution
    assert np.all(np.diff(falling[visible]) < 0)
    assert s[-1] < 0.5 * (1.0 + params.spacing_floor), "a two-year gap should be far from the best"


def test_spacing_accepts_integer_week_arrays():
    weeks = np.arange(0, 10, dtype=np.int64)
    np.testing.assert_allclose(spacing(weeks, RetentionParams()), spacing(weeks.astype(float), RetentionParams()))


# --- 15. reinforcement: maintains one's own post-course level, doses that compound --------------


@pytest.mark.parametrize("efficacy", [0.05, 0.5, 1.0, 3.0])
@pytest.mark.parametrize("doses", [1, 3, 20])
def test_reinforce_never_lifts_gain_above_own_post_course_level(g, efficacy, doses):
    """Restoring maintains what the course built: without building, a contact never lifts anyone
    above their own post-course gain plus the margin, and never lowers a gain."""
    params = RetentionParams(support_build_share=0.0)
    rng = np.random.default_rng(SEED)
    course_gain = rng.uniform(0.0, 0.9, g.n)
    own_level = course_gain + params.reinforcement_margin_sd
    total = own_level * rng.uniform(0.0, 0.999, g.n)
    split = rng.uniform(0.0, 1.0, g.n)
    _set(g, transient=total * split, persistent=total * (1 - split), last_contact_week=0, course_gain=course_gain)
    week = int(params.spacing_optimal_gap_weeks)
    reinforce(g, np.arange(g.n), week, params, efficacy, doses=doses)
    assert (g.gain <= own_level + 1e-12).all()
    assert (g.gain >= total - 1e-12).all()
    if efficacy >= 1.0:  # a full recovery reaches the own level exactly
        np.testing.assert_allclose(g.gain, own_level, rtol=1e-12)


@pytest.mark.parametrize("efficacy", [0.05, 0.5, 1.0])
def test_building_never_lifts_gain_above_the_ceiling_or_own_level(g, efficacy):
    """With building, a contact lifts nobody above the higher of their own level and the ceiling."""
    params = RetentionParams(support_build_share=1.0, support_ceiling_sd=0.6)
    rng = np.random.default_rng(SEED)
    course_gain = rng.uniform(0.0, 0.9, g.n)
    total = rng.uniform(0.0, 0.9, g.n)
    _set(g, transient=total, persistent=0.0, last_contact_week=0, course_gain=course_gain)
    for week in range(3, 300, 3):
        reinforce(g, np.arange(g.n), week, params, efficacy)
    top = np.maximum(np.maximum(course_gain + params.reinforcement_margin_sd, 0.6), total)
    assert (g.gain <= top + 1e-12).all()
    below = total < 0.6 - 1e-9
    assert (g.gain[below] > 0.6 - 0.01).all(), "enough contacts bring everyone near the ceiling"


def test_reinforce_leaves_gain_above_own_level_where_it_was(g):
    params = RetentionParams(support_ceiling_sd=0.6)
    _set(g, transient=0.9, persistent=0.0, course_gain=0.5)
    reinforce(g, np.arange(g.n), 3, params, 0.5)
    np.testing.assert_allclose(g.gain, 0.9)


def test_support_that_only_restores_gives_no_course_at_most_the_margin(g):
    """Without building, someone who took no course (course gain 0) gets at most the margin from
    any amount of support: restoring is not a second course."""
    params = RetentionParams(reinforcement_margin_sd=0.07, support_build_share=0.0)
    _set(g, transient=0.0, persistent=0.0, last_contact_week=0, course_gain=0.0)
    for week in range(2, 200, 2):
        reinforce(g, np.arange(g.n), week, params, 0.5)
    assert g.gain.max() <= 0.07 + 1e-12
    assert g.gain.min() > 0.069  # and support does bring them there


def test_building_lets_support_help_without_the_course(g):
    """Peers teach: with building, someone without the course gains toward the ceiling, each
    contact closing ``build_share * e`` of the gap that restoring left."""
    params = RetentionParams(reinforcement_margin_sd=0.05, support_build_share=0.5, support_ceiling_sd=0.8)
    _set(g, transient=0.0, persistent=0.0, last_contact_week=0, course_gain=0.0)
    week = int(params.spacing_optimal_gap_weeks)
    reinforce(g, np.arange(g.n), week, params, 0.2)
    restored = 0.2 * 0.05
    expected = restored + 0.5 * 0.2 * (0.8 - restored)
    np.testing.assert_allclose(g.gain, expected, rtol=1e-12)
    np.testing.assert_allclose(g.supported, expected, rtol=1e-12)  # all of it support-made
    assert (g.transient == 0).all() and (g.persistent == 0).all()


@pytest.mark.parametrize("k", [1, 2, 5])
def test_k_doses_compound(g, k):
    """k doses at once recover 1 - (1 - e)^k of what was lost since the course (e = efficacy * spacing)."""
    params = RetentionParams(support_build_share=0.0)
    e, week = 0.2, 10
    gap = 7  # not the optimal gap, so spacing < 1 enters the formula
    _set(g, transient=0.3, persistent=0.1, habit=0.4, last_contact_week=week - gap, course_gain=0.6)
    who = np.arange(g.n)
    reinforce(g, who, week, params, e, doses=k)
    share = e * spacing(np.array([gap]), params)[0]
    assert 0 < share < e
    own_level = 0.6 + params.reinforcement_margin_sd
    expected = 0.4 + (1.0 - (1.0 - share) ** k) * (own_level - 0.4)
    np.testing.assert_allclose(g.gain, expected, rtol=1e-12)
    h = params.habit_gain_per_contact
    np.testing.assert_allclose(g.habit, 1.0 - 0.6 * (1.0 - h) ** k, rtol=1e-12)
    assert (g.last_contact_week == week).all() and g.contacted.all()


def test_per_graduate_doses_and_efficacy(g):
    """Arrays of doses (e.g. booster sessions attended) apply per graduate; 0 doses add nothing."""
    params = RetentionParams(support_build_share=0.0)
    _set(g, transient=0.2, persistent=0.0, last_contact_week=0, course_gain=0.7)
    doses = np.arange(g.n) % 4
    reinforce(g, np.arange(g.n), 3, params, 0.3, doses=doses)
    expected = 0.2 + (1.0 - (1.0 - 0.3) ** doses) * (0.7 + params.reinforcement_margin_sd - 0.2)
    np.testing.assert_allclose(g.gain, expected, rtol=1e-12)


def test_larger_gain_for_those_who_lost_most(g):
    params = RetentionParams()
    _set(g, persistent=0.0, last_contact_week=0, course_gain=0.9)
    g.transient[:] = np.linspace(0.0, 0.9, g.n)
    before = g.gain.copy()
    reinforce(g, np.arange(g.n), 3, params, 0.2)
    assert np.all(np.diff(g.gain - before) < 0)


def test_reinforce_only_touches_who(g):
    params = RetentionParams()
    _set(g, transient=0.3, persistent=0.0, last_contact_week=0, course_gain=0.6)
    who = np.arange(0, g.n, 2)
    reinforce(g, who, 5, params, 0.5)
    others = np.ones(g.n, dtype=bool)
    others[who] = False
    assert (g.supported[others] == 0).all() and (g.last_contact_week[others] == 0).all()
    assert (g.supported[who] > 0).all() and not g.contacted[others].any()
    assert (g.transient == 0.3).all(), "a contact adds support-made gain; the course's own part is untouched"


def test_information_only_contact_does_not_count_as_practice(g):
    params = RetentionParams()
    _set(g, transient=0.3, persistent=0.0, habit=0.5, last_contact_week=0)
    reinforce(g, np.arange(g.n), 5, params, 0.02, habit_multiplier=0.0)
    assert (g.habit == 0.5).all() and not g.contacted.any()
    assert (g.last_contact_week == 5).all()


def test_ten_weekly_contacts_reach_95_percent_of_habit():
    """design.md: habit reaches 95% of its ceiling after roughly 10 weeks of regular practice."""
    h = RetentionParams().habit_gain_per_contact
    assert 1 - (1 - h) ** 9 < 0.95 <= 1 - (1 - h) ** 11


# --- decay and consolidation --------------------------------------------------------------------


def test_exponential_decay_with_isolation(g):
    params = dataclasses.replace(RetentionParams(), consolidation_rate_per_week=0.0)
    conn = np.linspace(0.0, 1.0, g.n)
    _set(g, transient=0.5, persistent=0.2, habit=0.3, connectedness=conn, last_contact_week=0)
    retain(g, 1, params)
    isolation = 1 + params.isolation_effect * (1 - conn)
    np.testing.assert_allclose(g.transient, 0.5 * np.exp(-params.decay_rate_per_week * isolation), rtol=1e-12)
    np.testing.assert_allclose(g.persistent, 0.2 * math.exp(-params.persistent_decay_rate_per_week), rtol=1e-12)
    assert np.all(np.diff(g.transient) > 0), "the isolated should lose more"


def test_consolidation_moves_gain_without_changing_the_total(g):
    params = dataclasses.replace(RetentionParams(), decay_rate_per_week=0.0, persistent_decay_rate_per_week=0.0)
    habit = np.linspace(0.0, 1.0, g.n)
    _set(g, transient=0.5, persistent=0.1, habit=habit)
    g.practice_habit[:] = habit  # all of the habit from the course's practice
    retain(g, 1, params)
    np.testing.assert_allclose(g.gain, 0.6, rtol=1e-12)
    np.testing.assert_allclose(g.persistent, 0.1 + params.consolidation_rate_per_week * habit * 0.5, rtol=1e-12)


@pytest.mark.parametrize("share", [0.0, 0.3, 1.0])
def test_support_made_gain_and_habit_consolidate_at_their_share(g, share):
    """Support-made gain, and the course's gain through the habit support added, consolidate at
    ``support_consolidation_share`` of course practice's rate; support-made gain decays at its own rate."""
    params = RetentionParams(decay_rate_per_week=0.0, persistent_decay_rate_per_week=0.0, isolation_effect=0.0,
                             support_consolidation_share=share, support_decay_rate_per_week=0.05)
    _set(g, transient=0.4, persistent=0.0, habit=0.8)
    g.practice_habit[:] = 0.2  # 0.6 of the habit was added by support
    g.supported[:] = 0.3
    retain(g, 1, params)
    c = params.consolidation_rate_per_week
    supported = 0.3 * math.exp(-0.05)
    expected = c * (0.2 + share * 0.6) * 0.4 + c * share * 0.8 * supported
    np.testing.assert_allclose(g.persistent, expected, rtol=1e-12)
    np.testing.assert_allclose(g.supported, supported * (1 - c * share * 0.8), rtol=1e-12)
    np.testing.assert_allclose(g.practice_habit, 0.2 * math.exp(-params.habit_decay_rate_per_week), rtol=1e-12)


@pytest.mark.parametrize("shape", list(DecayShape))
def test_retain_never_raises_gain(g, shape):
    params = dataclasses.replace(RetentionParams(), decay_shape=shape)
    rng = np.random.default_rng(SEED)
    _set(g, transient=rng.uniform(0, 1, g.n), persistent=rng.uniform(0, 0.5, g.n), habit=rng.uniform(0, 1, g.n),
         connectedness=rng.uniform(0, 1, g.n), last_contact_week=rng.integers(0, 30, g.n))
    g.supported[:] = rng.uniform(0, 0.5, g.n)
    g.practice_habit[:] = g.habit * rng.uniform(0, 1, g.n)
    for week in range(30, 60):
        before = g.gain.copy()
        retain(g, week, params)
        assert (g.gain <= before + 1e-12).all() and (g.transient >= 0).all() and (g.persistent >= 0).all()
        assert (g.supported >= 0).all() and (g.practice_habit <= g.habit + 1e-15).all()


def test_power_law_decays_fast_early_then_slowly(g):
    params = dataclasses.replace(RetentionParams(), decay_shape=DecayShape.power_law, consolidation_rate_per_week=0.0,
                                 isolation_effect=0.0)
    _set(g, transient=1.0, persistent=0.0, last_contact_week=0)
    kept = []
    for week in range(1, 53):
        before = g.transient[0]
        retain(g, week, params)
        kept.append(g.transient[0] / before)
    assert np.all(np.diff(kept) > 0), "the weekly share kept should rise as the last contact recedes"
    b, psi = params.power_law_b_per_week, params.power_law_psi
    # the weekly factors telescope: over weeks 1..52 the transient gain ages from 0 to 52 weeks
    np.testing.assert_allclose(np.prod(kept), (1 + b * 52) ** -psi, rtol=1e-9)
    assert kept[0] < math.exp(-RetentionParams().decay_rate_per_week) < kept[-1], "fast early loss, long tail"


def test_habit_fades_only_without_practice(g):
    params = RetentionParams()
    _set(g, habit=0.5)
    g.contacted[:] = False
    g.contacted[::2] = True
    retain(g, 1, params)
    assert (g.habit[::2] == 0.5).all()
    np.testing.assert_allclose(g.habit[1::2], 0.5 * math.exp(-params.habit_decay_rate_per_week))


@pytest.mark.parametrize("shape", list(DecayShape))
def test_a_weak_contact_never_leaves_less_gain_than_none(shape):
    """A contact (here a newsletter read long after the course) must not make a graduate worse off.

    Two identical graduates, 50 weeks after their last contact: one reads a newsletter (efficacy
    0.015, a quarter of a contact's habit), the other does not. Then both have the same weeks.
    """
    params = dataclasses.replace(RetentionParams(), decay_shape=shape)
    model = SelfManagementModel(2, 1, rng=SEED)
    g = model.graduates
    _set(g, transient=0.4, persistent=0.1, habit=0.3, connectedness=0.5, last_contact_week=0)
    g.contacted[:] = False
    reinforce(g, np.array([0]), 50, params, 0.015, habit_multiplier=0.25)
    for week in range(50, 53):
        retain(g, week, params)
        assert g.gain[0] >= g.gain[1] - 1e-12, (
            f"{shape.value}: week {week}, with the contact {g.gain[0]:.4f} SD < without {g.gain[1]:.4f} SD"
        )
        g.contacted[:] = False
