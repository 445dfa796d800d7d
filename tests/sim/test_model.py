"""Whole-model behaviour of :class:`sim.SelfManagementModel`: invariants checked every week,
gains that cannot rise without a contact, common random numbers across strategies, reproducibility.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from sim import Engagement, SelfManagementModel
from sim.params import BoosterParams, DecayShape
from sim.population import Graduates
from sim.reporters import SUBGROUPS

N = 2000  # graduates per run: enough for every channel to be busy, small enough to be quick
WEEKS = 104  # the default two-year horizon
SEED = 20240611
TOL = 1e-12  # slack for floating-point comparisons of state after arithmetic
UNIT_INTERVAL_ARRAYS = ("habit", "connectedness", "connectedness_baseline", "group_affinity", "digital_confidence",
                        "severity")
NON_NEGATIVE_ARRAYS = ("transient", "persistent", "supported", "practice_habit")
ENGAGEMENT_VALUES = {int(e) for e in Engagement}


def _float_arrays(g: Graduates) -> dict[str, np.ndarray]:
    out = {}
    for f in dataclasses.fields(g):
        value = getattr(g, f.name)
        if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating):
            out[f.name] = value
    out["ties.data"] = g.ties.data
    return out


def _week_problems(model: SelfManagementModel, rec) -> dict[str, list]:
    """Every invariant of one week, as lists of what broke (empty lists: all held)."""
    g = model.graduates
    r = model.params.dynamics.retention
    # the highest a contact may take anyone: their own post-course level, or the ceiling support builds to
    own_level = np.maximum(g.course_gain + r.reinforcement_margin_sd, r.support_ceiling_sd)
    reinforced = g.last_contact_week == model.week
    problems: dict[str, list] = {
        "nan": [name for name, a in _float_arrays(g).items() if np.isnan(a).any()],
        "outside_0_1": [name for name in UNIT_INTERVAL_ARRAYS
                        if ((getattr(g, name) < 0.0) | (getattr(g, name) > 1.0)).any()],
        "negative": [name for name in NON_NEGATIVE_ARRAYS if (getattr(g, name) < 0.0).any()],
        # support restores what the course built and builds toward a ceiling: nobody's gain is ever
        # above the higher of their own post-course gain plus the margin and that ceiling
        "above_own_level": np.flatnonzero(g.gain > own_level + TOL).tolist(),
        "habit_of_practice_above_habit": np.flatnonzero(g.practice_habit > g.habit + TOL).tolist(),
        # what reinforcement itself may do: never lift a gain above one's own level (or above where it was)
        "lifted_above_own_level": np.flatnonzero(
            reinforced & (rec.gain_after > np.maximum(own_level, rec.gain_before) + TOL)
        ).tolist(),
        "bad_status": [name for name, ch in model.channels.items()
                       if not set(np.unique(ch.status).tolist()) <= ENGAGEMENT_VALUES],
    }
    return {k: v for k, v in problems.items() if v}


def _run_checked(make_strategy, stepper, name: str):
    model = SelfManagementModel(N, WEEKS, strategy=make_strategy(name), rng=SEED)
    g0 = model.graduates
    problems_by_week = {0: {k: v for k, v in _week_problems(model, _Week0(g0)).items()
                            if k not in ("reinforced_above_ceiling", "lifted_above_ceiling")}}
    records = stepper(model, WEEKS, lambda m, rec: problems_by_week.__setitem__(m.week, _week_problems(m, rec)))
    return model, records, problems_by_week


class _Week0:
    """Stand-in record for week 0 (nothing stepped yet)."""

    def __init__(self, g: Graduates):
        self.gain_before = self.gain_after = g.gain.copy()


@pytest.fixture(scope="module")
def offer_all_run(make_strategy, stepper):
    return _run_checked(make_strategy, stepper, "offer_all")


@pytest.fixture(scope="module")
def tailored_run(make_strategy, stepper):
    return _run_checked(make_strategy, stepper, "tailored")


@pytest.fixture(scope="module")
def course_only_run(make_strategy, stepper):
    model = SelfManagementModel(N, 52, strategy=make_strategy("course_only"), rng=SEED)
    return model, stepper(model, 52)


@pytest.fixture(scope="module")
def everything_run(make_strategy, stepper):
    model = SelfManagementModel(N, 52, strategy=make_strategy("everything"), rng=SEED)
    return model, stepper(model, 52)


@pytest.fixture(params=["offer_all", "tailored"])
def checked_run(request):
    return request.getfixturevalue(f"{request.param}_run")


def _weeks_with(problems_by_week: dict, kind: str) -> dict[int, list]:
    return {w: p[kind] for w, p in problems_by_week.items() if kind in p}


# --- 1. bounds and invariants, every week ------------------------------------------------------


def test_runs_to_the_horizon(checked_run):
    model, records, _ = checked_run
    assert model.week == WEEKS and not model.running
    assert len(model.weekly_table()) == WEEKS + 1
    assert [r.week for r in records] == list(range(1, WEEKS + 1))


def test_no_nan_in_graduate_arrays_any_week(checked_run):
    bad = _weeks_with(checked_run[2], "nan")
    assert not bad, f"NaN in graduate arrays (week: arrays): {dict(list(bad.items())[:5])}"


def test_unit_interval_states_stay_in_0_1_every_week(checked_run):
    bad = _weeks_with(checked_run[2], "outside_0_1")
    assert not bad, f"state outside [0, 1] (week: arrays): {dict(list(bad.items())[:5])}"


def test_transient_and_persistent_never_negative(checked_run):
    bad = _weeks_with(checked_run[2], "negative")
    assert not bad, f"negative gains (week: arrays): {dict(list(bad.items())[:5])}"


def test_reinforcement_never_lifts_gain_above_own_level(checked_run):
    bad = _weeks_with(checked_run[2], "lifted_above_own_level")
    assert not bad, f"graduates lifted above their own level by a contact (week: ids): {dict(list(bad.items())[:3])}"


def test_nobody_ever_exceeds_their_own_post_course_level(checked_run):
    """Every week, every gain is at most max(course gain + margin, the ceiling support builds to)."""
    model = checked_run[0]
    bad = _weeks_with(checked_run[2], "above_own_level")
    n_bad = sorted({i for ids in bad.values() for i in ids})
    assert not bad, (
        f"{len(n_bad)} graduates above max(course_gain + reinforcement_margin_sd, support_ceiling_sd) "
        f"(first weeks: {sorted(bad)[:5]})"
    )


def test_the_course_s_habit_is_never_more_than_habit(checked_run):
    """What the course's practice left of habit fades with habit: it is always part of it."""
    bad = _weeks_with(checked_run[2], "habit_of_practice_above_habit")
    assert not bad, f"practice_habit > habit (week: ids): {dict(list(bad.items())[:3])}"


def test_channel_status_only_takes_engagement_values(checked_run):
    bad = _weeks_with(checked_run[2], "bad_status")
    assert not bad, f"status values outside sim.Engagement (week: channels): {bad}"


def test_enrolled_share_reporters_match_status(checked_run):
    model = checked_run[0]
    last = model.weekly_table().iloc[-1]
    for name, ch in model.channels.items():
        assert ch.status.shape == (N,)
        assert last[f"{name}_enrolled_share"] == pytest.approx(np.mean(ch.status == Engagement.ENROLLED))


def test_weekly_table_has_no_nan_outside_empty_subgroups(checked_run):
    model = checked_run[0]
    table = model.weekly_table()
    g = model.graduates
    allowed_nan = set()
    for what in ("mean_gain_sd", "share_self_managing"):
        for array, yes, no in SUBGROUPS.values():
            mask = getattr(g, array)
            if not mask.any():
                allowed_nan.add(f"{what}_{yes}")
            if mask.all():
                allowed_nan.add(f"{what}_{no}")
    nan_cols = set(table.columns[table.isna().any()])
    assert nan_cols <= allowed_nan, f"NaN in columns {sorted(nan_cols - allowed_nan)}"
    # and a subgroup that has members reports a number every week
    for col in table.columns:
        if col not in allowed_nan:
            assert table[col].notna().all(), col


def test_subgroup_reporters_are_each_subgroups_own_mean_and_share(checked_run):
    """The twelve subgroup columns, computed together once a week, equal each subgroup's own
    mean gain and share self-managing computed graduate by graduate."""
    model = checked_run[0]
    last = model.weekly_table().iloc[-1]
    gain = model.graduates.gain
    measured = model.measurement.change
    threshold = model.params.dynamics.measurement.responder_threshold_sd * model.measurement.score_sd
    checked = 0
    for array, yes, no in SUBGROUPS.values():
        flag = getattr(model.graduates, array)
        for label, members in ((yes, flag), (no, ~flag)):
            if members.any():
                assert last[f"mean_gain_sd_{label}"] == pytest.approx(gain[members].mean(), rel=1e-12, abs=1e-15)
                assert last[f"share_self_managing_{label}"] == np.count_nonzero(measured[members] >= threshold) / members.sum()
                checked += 1
    assert checked == 6


def test_a_graduate_whose_flag_changes_is_counted_in_the_new_subgroup_that_week():
    model = SelfManagementModel(300, 3, rng=5)
    model.step()
    assert not np.isnan(model.weekly_table().iloc[-1]["mean_gain_sd_lonely"])
    model.graduates.lonely_at_baseline[:] = False  # as a student might, through the agents
    model.step()
    row = model.weekly_table().iloc[-1]
    assert np.isnan(row["mean_gain_sd_lonely"]) and np.isnan(row["share_self_managing_lonely"])
    assert row["mean_gain_sd_not_lonely"] == pytest.approx(row["mean_gain_sd"], rel=1e-12)


def test_weekly_table_shares_in_unit_interval(checked_run):
    table = checked_run[0].weekly_table()
    cols = [c for c in table.columns if "share" in c] + ["mean_habit", "mean_connectedness"]
    assert len(cols) > 10
    values = table[cols]
    low, high = values.lt(0.0).any(), values.gt(1.0).any()
    assert not low.any() and not high.any(), f"outside [0, 1]: {sorted(low[low].index) + sorted(high[high].index)}"


def test_weekly_table_counts_and_costs_non_negative_and_costs_cumulative(checked_run):
    table = checked_run[0].weekly_table()
    count_cols = [c for c in table.columns if c.endswith("_contacts") or c.startswith("calls_")
                  or c in ("flare_ups", "groups_open", "peer_group_meetings", "forum_visitors", "forum_posters")]
    assert (table[count_cols] >= 0).all().all()
    cost_cols = [c for c in table.columns if c.startswith("cost_")]
    assert (table[cost_cols].diff().iloc[1:] >= -1e-9).all().all(), "cumulative costs fell"


# --- 2. gains never rise without a contact -----------------------------------------------------


@pytest.mark.parametrize("run", ["offer_all_run", "course_only_run", "everything_run"])
def test_last_contact_week_marks_exactly_the_contacted(request, run):
    """A graduate had a reinforcing contact in week w iff last_contact_week == w after the step."""
    records = request.getfixturevalue(run)[1]
    for rec in records:
        marked = rec.last_contact_week == rec.week
        np.testing.assert_array_equal(marked, rec.contacted_any, err_msg=f"week {rec.week}")


@pytest.mark.parametrize("run", ["offer_all_run", "course_only_run", "everything_run"])
def test_gain_never_rises_without_a_contact(request, run):
    records = request.getfixturevalue(run)[1]
    for rec in records:
        quiet = rec.last_contact_week != rec.week
        rose = quiet & (rec.gain_after > rec.gain_before + TOL)
        assert not rose.any(), f"week {rec.week}: gain rose without a contact for ids {np.flatnonzero(rose)[:10]}"


def test_offer_all_has_contacts_and_course_only_has_none(offer_all_run, course_only_run):
    """Guards the two tests above against passing vacuously."""
    assert sum(rec.contacted_any.sum() for rec in offer_all_run[1]) > N
    assert sum(rec.contacted_any.sum() for rec in course_only_run[1]) == 0
    # and without contacts, gains do fall (the <= above is not trivially an equality)
    assert (course_only_run[1][-1].gain_after < course_only_run[1][0].gain_before).mean() > 0.9


# --- 3. zero decay keeps gains -----------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        dict(decay_rate_per_week=0.0, persistent_decay_rate_per_week=0.0),
        dict(decay_shape=DecayShape.power_law, power_law_psi=0.0, persistent_decay_rate_per_week=0.0),
    ],
    ids=["exponential_rate_0", "power_law_psi_0"],
)
def test_zero_decay_keeps_each_graduates_gain(make_strategy, retention_dynamics, changes):
    model = SelfManagementModel(1000, 52, strategy=make_strategy("course_only"),
                                dynamics=retention_dynamics(**changes), rng=SEED)
    gain0, persistent0 = model.graduates.gain.copy(), model.graduates.persistent.copy()
    model.run()
    np.testing.assert_allclose(model.graduates.gain, gain0, rtol=1e-10, atol=1e-12)
    # consolidation still ran (the gain moved to persistent): the test is not vacuous
    assert model.graduates.persistent.sum() > persistent0.sum() + 0.1


# --- 4. no strategy does worse than the course alone (common random numbers) -------------------

DOMINATING = ["peer_group", "telephone", "online", "offer_all", "tailored", "booster", "newsletter"]


def _mean_gain_by_week(make_strategy, name, dynamics=None, weeks=WEEKS):
    model = SelfManagementModel(N, weeks, strategy=make_strategy(name), dynamics=dynamics, rng=SEED).run()
    return model.weekly_table()["mean_gain_sd"].to_numpy()


@pytest.fixture(scope="module")
def course_only_mean_gain(make_strategy):
    return _mean_gain_by_week(make_strategy, "course_only")


@pytest.mark.parametrize("name", DOMINATING)
def test_no_strategy_lowers_mean_gain_below_course_only(make_strategy, course_only_mean_gain, name):
    """Same seed, same people, same shocks: extra support can only add to the mean gain, every week."""
    gain = _mean_gain_by_week(make_strategy, name)
    worse = np.flatnonzero(gain < course_only_mean_gain - TOL)
    assert worse.size == 0, (
        f"{name} below course_only in weeks {worse[:10].tolist()} "
        f"(largest shortfall {np.max(course_only_mean_gain - gain):.4g} SD)"
    )
    assert gain[-1] > course_only_mean_gain[-1], f"{name} never added anything: the test would be vacuous"


def test_no_strategy_lowers_mean_gain_below_course_only_under_power_law_decay(make_strategy, retention_dynamics):
    """The same property under the other named decay shape (power law, t = weeks since the last contact)."""
    dynamics = retention_dynamics(decay_shape=DecayShape.power_law)
    base = _mean_gain_by_week(make_strategy, "course_only", dynamics)
    shortfalls = {}
    for name in DOMINATING:
        gain = _mean_gain_by_week(make_strategy, name, dynamics)
        if (gain < base - TOL).any():
            shortfalls[name] = round(float(np.max(base - gain)), 4)
    assert not shortfalls, f"strategies whose mean gain falls below course_only (max shortfall, SD): {shortfalls}"


# --- 5. paired design: same people, same shocks -----------------------------------------------


@pytest.fixture(scope="module")
def paired_models(make_strategy):
    names = ["course_only", "offer_all", "tailored", "everything"]
    booster = BoosterParams(enabled=True, week=5)  # within the 10 weeks stepped
    return {
        name: SelfManagementModel(
            N, 10, strategy=make_strategy(name, booster=booster) if name == "everything" else make_strategy(name),
            rng=SEED,
        )
        for name in names
    }


@pytest.mark.parametrize(
    "array", ["baseline", "group_averse", "online_access", "cohort", "sessions_attended", "transient",
              "severity", "group_affinity", "digital_confidence", "connectedness"]
)
def test_same_seed_gives_same_graduates_under_every_strategy(paired_models, array):
    reference = getattr(paired_models["course_only"].graduates, array)
    for name, model in paired_models.items():
        np.testing.assert_array_equal(getattr(model.graduates, array), reference, err_msg=name)


def test_same_seed_gives_same_health_shocks_under_every_strategy(paired_models):
    models = list(paired_models.values())
    for week in range(1, 11):
        for m in models:
            m.step()
        flares = [m.graduates.flare.copy() for m in models]
        counts = [m.weekly_table()["flare_ups"].iloc[-1] for m in models]
        assert len(set(counts)) == 1, f"week {week}: flare_ups differ {counts}"
        for f in flares[1:]:
            np.testing.assert_array_equal(f, flares[0], err_msg=f"week {week}")
        if week == 1:
            assert counts[0] > 0, "no flare-ups in week 1: comparison would be vacuous"


def test_another_seed_gives_other_graduates(make_strategy):
    a = SelfManagementModel(500, 1, rng=1).graduates
    b = SelfManagementModel(500, 1, rng=2).graduates
    assert not np.array_equal(a.baseline, b.baseline)


# --- 12. reproducibility ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def three_runs(make_strategy):
    def run(seed):
        return SelfManagementModel(1000, 40, strategy=make_strategy("everything"), rng=seed).run()
    return run(SEED), run(SEED), run(SEED + 1)


def test_same_seed_reproduces_tables_exactly(three_runs):
    a, b, _ = three_runs
    pd.testing.assert_frame_equal(a.weekly_table(), b.weekly_table(), check_exact=True)
    pd.testing.assert_frame_equal(a.graduate_table(), b.graduate_table(), check_exact=True)


def test_other_seed_gives_other_tables(three_runs):
    a, _, c = three_runs
    assert not a.weekly_table().equals(c.weekly_table())
    assert not a.graduate_table().equals(c.graduate_table())


def test_seed_is_recorded_and_none_draws_one(make_strategy):
    assert SelfManagementModel(10, 1, rng=123).seed == 123
    m = SelfManagementModel(10, 1, rng=None)
    assert isinstance(m.seed, int) and m.params.seed == m.seed


def test_graduate_table_has_one_row_per_graduate(offer_all_run):
    model = offer_all_run[0]
    table = model.graduate_table()
    assert len(table) == N and table["graduate_id"].tolist() == list(range(N))
    np.testing.assert_allclose(table["gain_final"], table["capability_final"] - table["baseline"], atol=1e-12)
    for name, ch in model.channels.items():
        np.testing.assert_array_equal(table[f"contacts_{name}"], ch.contacts)
