"""Health economics (sim/economics.py) against hand-worked cases: inflation, ICER, net monetary
benefit, cost per extra self-manager, paired increments, the efficiency frontier and the
acceptability curve (probabilities that sum to 1)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from sim import economics as ec
from sim.params import default_costs


# --- inflation ---------------------------------------------------------------------------------


def test_inflation_by_hand():
    index = {2010: 267.0, 2013: 289.1, 2024: 389.0}
    # the course: GBP 400 at 2010 prices is 400 x 389 / 267 at 2024 prices
    assert ec.inflate_gbp(400, 2010, 2024, index) == pytest.approx(582.7715, abs=1e-4)
    # a GP consultation: GBP 45 at 2013 prices
    assert ec.inflate_gbp(45, 2013, 2024, index) == pytest.approx(45 * 389 / 289.1)
    assert ec.inflate_gbp(45, 2013, 2024, index) == pytest.approx(60.5500, abs=1e-4)
    # same year: unchanged; there and back: unchanged
    assert ec.inflate_gbp(12.5, 2024, 2024, index) == 12.5
    assert ec.inflate_gbp(ec.inflate_gbp(100, 2010, 2024, index), 2024, 2010, index) == pytest.approx(100)
    # deflating works too
    assert ec.inflate_gbp(389, 2024, 2010, index) == pytest.approx(267)


def test_inflation_needs_both_years():
    with pytest.raises(KeyError, match="2015"):
        ec.inflate_gbp(10, 2015, 2024, {2010: 1.0, 2024: 1.5})


def test_unit_costs_list_every_item_with_price_year_and_agree_with_the_ledger():
    costs = default_costs()
    items = {u.name: u for u in ec.unit_costs(costs)}
    assert set(items) == set(costs.items)
    course = items["course_per_participant"]
    assert (course.value_gbp, course.price_year) == (400.0, 2010)
    assert course.value_at_price_year_gbp == pytest.approx(400 * 389 / 267)
    for name, u in items.items():
        assert u.value_at_price_year_gbp == pytest.approx(costs.inflate(name))
        assert u.assumption == costs.items[name].assumption
    assert items["urgent_care_attendance"].assumption and not items["gp_surgery_consultation"].assumption


def test_planned_contact_cost_is_the_mix_average():
    costs = default_costs()
    f = 389 / 289.1
    expected = 0.5 * 45 * f + 0.2 * 27 * f + 0.3 * 13 * f  # GBP 42.79 at 2024 prices
    assert ec.planned_contact_gbp(costs) == pytest.approx(expected)
    assert ec.planned_contact_gbp(costs) == pytest.approx(42.79, abs=0.005)


# --- increments --------------------------------------------------------------------------------


def test_icer_and_net_monetary_benefit_by_hand():
    # GBP 500 more for 0.05 QALYs more: GBP 10,000 per QALY
    assert ec.icer(500, 0.05) == pytest.approx(10_000)
    # NMB = wtp x dQ - dC: 20,000 x 0.05 - 500 = 500; 30,000 x 0.05 - 500 = 1,000
    assert ec.net_monetary_benefit(500, 0.05, 20_000) == pytest.approx(500)
    assert ec.net_monetary_benefit(500, 0.05, 30_000) == pytest.approx(1_000)
    # at the ICER itself the NMB is zero: cost-effective exactly at that price
    assert ec.net_monetary_benefit(500, 0.05, ec.icer(500, 0.05)) == pytest.approx(0)
    # a strategy that costs GBP 1,200 more for 0.04 QALYs: ICER 30,000, NMB -400 at 20,000
    assert ec.icer(1200, 0.04) == pytest.approx(30_000)
    assert ec.net_monetary_benefit(1200, 0.04, 20_000) == pytest.approx(-400)
    # vectorised
    nmb = ec.net_monetary_benefit(np.array([500.0, 1200.0]), np.array([0.05, 0.04]), 20_000)
    np.testing.assert_allclose(nmb, [500, -400])


def test_icer_without_a_qaly_difference_is_nan():
    assert math.isnan(ec.icer(100, 0.0))


@pytest.mark.parametrize(("dc", "dq", "where"), [
    (100, 0.01, "more effective, more costly"),
    (-50, 0.01, "dominant"),
    (0, 0.01, "dominant"),
    (100, -0.01, "dominated"),
    (100, 0.0, "dominated"),
    (-100, -0.01, "less effective, less costly"),
    (0, 0, "same"),
])
def test_quadrant(dc, dq, where):
    assert ec.quadrant(dc, dq) == where


def test_cost_per_extra_self_manager_by_hand():
    # GBP 60 more per graduate, 0.24 more of them self-managing: GBP 250 per extra self-manager
    assert ec.cost_per_extra(60, 0.24) == pytest.approx(250)
    assert math.isnan(ec.cost_per_extra(60, 0.0))
    assert math.isnan(ec.cost_per_extra(60, -0.1))


def test_paired_increments_pair_by_replicate():
    runs = pd.DataFrame({
        "strategy": ["course_only", "course_only", "phone", "phone", "phone"],
        "replicate": [0, 1, 0, 1, 2],
        ec.COST_COLUMN: [700.0, 710.0, 760.0, 780.0, 999.0],
        ec.QALY_COLUMN: [0.05, 0.06, 0.08, 0.08, 0.1],
        "share": [0.5, 0.4, 0.7, 0.6, 0.9],
    })
    out = ec.paired_increments(runs, "course_only", ["replicate"], [ec.COST_COLUMN, ec.QALY_COLUMN, "share"])
    phone = out[out["strategy"] == "phone"].set_index("replicate")
    assert phone.loc[0, f"delta_{ec.COST_COLUMN}"] == pytest.approx(60)
    assert phone.loc[1, f"delta_{ec.COST_COLUMN}"] == pytest.approx(70)
    assert phone.loc[0, f"delta_{ec.QALY_COLUMN}"] == pytest.approx(0.03)
    assert phone.loc[1, "delta_share"] == pytest.approx(0.2)
    # NMB at 20,000: 20,000 x 0.03 - 60 = 540; 20,000 x 0.02 - 70 = 330
    assert phone.loc[0, "nmb_20000"] == pytest.approx(540)
    assert phone.loc[1, "nmb_20000"] == pytest.approx(330)
    assert phone.loc[1, "nmb_30000"] == pytest.approx(530)
    assert math.isnan(phone.loc[2, "nmb_20000"])  # no comparator run in replicate 2
    control = out[out["strategy"] == "course_only"]
    assert (control[f"delta_{ec.COST_COLUMN}"] == 0).all() and (control["nmb_20000"] == 0).all()


# --- efficiency frontier ---------------------------------------------------------------------


def test_frontier_by_hand():
    # B is extendedly dominated (A->B 10,000, B->C 5,000 per QALY); E is dominated by C
    f = ec.efficiency_frontier(["A", "B", "C", "D", "E"], [0, 100, 150, 300, 200], [0, 0.01, 0.02, 0.025, 0.015])
    status = dict(zip(f["name"], f["status"]))
    assert status == {"A": "frontier", "B": "extendedly dominated", "C": "frontier", "D": "frontier",
                      "E": "dominated"}
    icers = dict(zip(f["name"], f["icer_vs_previous"]))
    assert icers["C"] == pytest.approx(7_500)  # 150 / 0.02 against A
    assert icers["D"] == pytest.approx(30_000)  # 150 / 0.005 against C
    assert math.isnan(icers["A"]) and math.isnan(icers["B"])
    assert list(f["name"]) == ["A", "B", "C", "E", "D"]  # in order of cost


def test_frontier_with_a_dominant_strategy():
    f = ec.efficiency_frontier(["old", "new"], [100, 80], [0.01, 0.02])
    status = dict(zip(f["name"], f["status"]))
    assert status == {"new": "frontier", "old": "dominated"}


# --- acceptability -----------------------------------------------------------------------------


def test_acceptability_by_hand():
    # two draws; A costs nothing and gains nothing; B costs 100 and gains 0.01 or 0.002 QALYs
    costs = [[0.0, 100.0], [0.0, 100.0]]
    qalys = [[0.0, 0.01], [0.0, 0.002]]
    p = ec.acceptability(costs, qalys, [0, 20_000, 60_000])
    # at 0: A in both draws; at 20,000: B only in draw 1 (200 - 100 > 0; 40 - 100 < 0); at 60,000: B in both
    np.testing.assert_allclose(p, [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])


def test_acceptability_ties_share_the_draw():
    p = ec.acceptability([[10.0, 10.0, 50.0]], [[0.01, 0.01, 0.0]], [0.0, 20_000])
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])


def test_acceptability_curves_are_probabilities_summing_to_one():
    rng = np.random.default_rng(3)
    costs = rng.normal(100, 40, size=(500, 6))
    qalys = rng.normal(0.01, 0.01, size=(500, 6))
    wtp = ec.wtp_grid(50_000, 1_000)
    p = ec.acceptability(costs, qalys, wtp)
    assert p.shape == (len(wtp), 6)
    assert ((p >= 0) & (p <= 1)).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    # absolute and incremental net benefits rank strategies alike
    p2 = ec.acceptability(costs - costs[:, [0]], qalys - qalys[:, [0]], wtp)
    np.testing.assert_allclose(p, p2)


def test_acceptability_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        ec.acceptability([[1.0, 2.0]], [[1.0]], [0])
    with pytest.raises(ValueError, match="NaN"):
        ec.acceptability([[1.0, np.nan]], [[1.0, 2.0]], [0])


def test_expected_net_benefit_by_hand():
    enb = ec.expected_net_benefit([[0.0, 100.0], [0.0, 120.0]], [[0.0, 0.01], [0.0, 0.012]], [20_000])
    np.testing.assert_allclose(enb, [[0.0, 20_000 * 0.011 - 110]])


def test_draws_by_strategy_keeps_complete_draws_only():
    runs = pd.DataFrame({
        "strategy": ["a", "b", "a", "b", "a"],
        "replicate": [0, 0, 1, 1, 2],
        ec.COST_COLUMN: [1.0, 2.0, 3.0, 4.0, 5.0],
        ec.QALY_COLUMN: [0.1, 0.2, 0.3, 0.4, 0.5],
    })
    c, q, draws = ec.draws_by_strategy(runs, ["b", "a"])
    np.testing.assert_array_equal(draws, [0, 1])
    np.testing.assert_allclose(c, [[2.0, 1.0], [4.0, 3.0]])
    np.testing.assert_allclose(q, [[0.2, 0.1], [0.4, 0.3]])


# --- boundaries and identities (the cases `make mutation` showed untested) ----------------------


def test_unit_costs_keep_their_source():
    costs = default_costs()
    for u in ec.unit_costs(costs):
        assert u.source == costs.items[u.name].source and u.source  # every price says where it is from


@pytest.mark.parametrize(("dc", "dq", "where"), [
    (0.5, 0.01, "more effective, more costly"),  # 50p more is still more costly
    (0, -0.01, "dominated"),  # fewer QALYs at the same cost
    (0.5, -0.01, "dominated"),
    (-0.5, -0.01, "less effective, less costly"),
])
def test_quadrant_at_small_and_zero_differences(dc, dq, where):
    assert ec.quadrant(dc, dq) == where


@pytest.mark.parametrize("dc", [-100, -0.5, 0.5, 100])
def test_no_qaly_gain_is_never_called_more_effective(dc):
    assert not ec.quadrant(dc, 0.0).startswith("more effective")


def test_the_comparator_of_a_dominated_strategy_is_dominant():
    # seen from the comparator (costs and QALYs reversed) a dominated strategy's comparator dominates
    for dc, dq in [(100, -0.01), (0, -0.01), (100, 0.0)]:
        assert ec.quadrant(dc, dq) == "dominated"
        assert ec.quadrant(-dc, -dq) == "dominant", (dc, dq)


def _two_arms():
    return pd.DataFrame({
        "strategy": ["course_only", "course_only", "phone", "phone"],
        "replicate": [0, 1, 0, 1],
        ec.COST_COLUMN: [700.0, 710.0, 760.0, 780.0],
        ec.QALY_COLUMN: [0.05, 0.06, 0.08, 0.08],
    })


def test_paired_increments_default_to_course_only_by_replicate_at_nices_thresholds():
    runs = _two_arms()
    explicit = ec.paired_increments(runs, "course_only", ["replicate"], [ec.COST_COLUMN, ec.QALY_COLUMN],
                                    ec.WTP_THRESHOLDS_GBP)
    pd.testing.assert_frame_equal(ec.paired_increments(runs), explicit)
    assert {"nmb_20000", "nmb_30000"} <= set(explicit.columns)


def test_a_duplicated_comparator_run_is_counted_once():
    # the same comparator run recorded twice (a rerun): the first is the pair, and no run is doubled
    runs = pd.concat([_two_arms(), pd.DataFrame({"strategy": ["course_only"], "replicate": [0],
                                                 ec.COST_COLUMN: [705.0], ec.QALY_COLUMN: [0.07]})],
                     ignore_index=True)
    out = ec.paired_increments(runs)
    assert len(out) == len(runs)
    phone = out[out["strategy"] == "phone"].set_index("replicate")
    assert phone.loc[0, f"delta_{ec.COST_COLUMN}"] == pytest.approx(760 - 700)
    # draws_by_strategy takes the same (first) run of a draw
    c, q, _ = ec.draws_by_strategy(runs, ["course_only", "phone"])
    np.testing.assert_allclose(c[:, 0], [700.0, 710.0])
    np.testing.assert_allclose(q[:, 0], [0.05, 0.06])


def test_increments_of_costs_alone_have_no_net_benefit():
    out = ec.paired_increments(_two_arms(), columns=[ec.COST_COLUMN])
    assert f"delta_{ec.COST_COLUMN}" in out and not any(c.startswith("nmb_") for c in out.columns)


def test_the_default_wtp_grid_reads_nices_thresholds_exactly():
    wtp = ec.wtp_grid()
    assert wtp[0] == 0.0 and wtp[-1] == 50_000.0
    np.testing.assert_allclose(np.diff(wtp), 500.0)
    assert set(ec.WTP_THRESHOLDS_GBP) <= set(wtp.tolist())


@pytest.mark.parametrize(("max_gbp", "step_gbp", "expected"), [
    (1000, 250, [0, 250, 500, 750, 1000]),  # max a multiple of the step: included
    (1000, 300, [0, 300, 600, 900]),  # not a multiple: the last step below it
    (0.3, 0.1, [0, 0.1, 0.2, 0.3]),  # 3 x 0.1 rounds above 0.3, yet 0.3 is in
])
def test_wtp_grid_by_hand(max_gbp, step_gbp, expected):
    np.testing.assert_allclose(ec.wtp_grid(max_gbp, step_gbp), expected)


def test_wtp_grid_never_passes_its_maximum():
    assert ec.wtp_grid(1080, 300).max() <= 1080
    assert list(ec.wtp_grid(1080, 300)) == [0.0, 300.0, 600.0, 900.0]


def test_wtp_grid_is_float_whatever_the_types_given():
    # whole-pound ints in, GBP per QALY as floats out (a grid of ints would floor-divide downstream)
    grid = ec.wtp_grid(1000, 500)
    assert grid.dtype == np.float64 and list(grid) == [0.0, 500.0, 1000.0]


def test_acceptability_refuses_no_draws_naming_the_inputs():
    with pytest.raises(ValueError, match=r"^costs and qalys must be the same \(draws, strategies\) shape"):
        ec.acceptability(np.zeros((0, 2)), np.zeros((0, 2)), [0])
    with pytest.raises(ValueError, match=r"^costs and qalys must not hold NaN"):
        ec.acceptability([[1.0, np.nan]], [[1.0, 2.0]], [0])


def test_acceptability_ties_are_relative_to_the_size_of_the_net_benefit():
    # net benefits of GBP -1,000,000: a 1e-4 difference (1e-10 relative, rounding) is a tie,
    # a GBP 1 difference (1e-6 relative) is not
    np.testing.assert_allclose(ec.acceptability([[1e6, 1e6 + 1e-4]], [[0.0, 0.0]], [0]), [[0.5, 0.5]])
    np.testing.assert_allclose(ec.acceptability([[1e6, 1e6 + 1.0]], [[0.0, 0.0]], [0]), [[1.0, 0.0]])


def test_nullable_pandas_tables_give_float_results():
    """Tables read with pandas' nullable dtypes (``Float64``, as from parquet) work like plain floats
    and give float arrays (not arrays of Python objects)."""
    costs = pd.DataFrame({"a": [0.0, 0.0], "b": [100.0, 120.0]}, dtype="Float64")
    qalys = pd.DataFrame({"a": [0.0, 0.0], "b": [0.01, 0.012]}, dtype="Float64")
    wtp = pd.Series([0.0, 20_000.0], dtype="Float64")
    plain = (costs.to_numpy(float), qalys.to_numpy(float), wtp.to_numpy(float))
    for f in (ec.acceptability, ec.expected_net_benefit):
        got = f(costs, qalys, wtp)
        assert got.dtype == np.float64, f.__name__
        np.testing.assert_allclose(got, f(*plain))


# --- efficiency frontier: ties and edges -----------------------------------------------------------


def _status(f):
    return dict(zip(f["name"], f["status"]))


def test_frontier_table_columns_and_comparisons():
    f = ec.efficiency_frontier(["A", "B", "C", "D", "E"], [0, 100, 150, 300, 200], [0, 0.01, 0.02, 0.025, 0.015])
    assert list(f.columns) == ["name", "cost_gbp", "qalys", "status", "compared_with", "icer_vs_previous"]
    compared = {name: None if pd.isna(other) else other for name, other in zip(f["name"], f["compared_with"])}
    assert compared == {"A": None, "B": None, "C": "A", "D": "C", "E": None}
    row = f.set_index("name").loc["E"]
    assert (row["cost_gbp"], row["qalys"]) == (200.0, 0.015)


def test_frontier_at_the_same_cost_keeps_the_more_effective():
    f = ec.efficiency_frontier(["none", "less", "more"], [0, 100, 100], [0.0, 0.01, 0.02])
    assert _status(f) == {"none": "frontier", "less": "dominated", "more": "frontier"}
    assert list(f["name"]) == ["none", "more", "less"]  # same cost: the more effective first


def test_frontier_at_the_same_qalys_keeps_the_cheaper():
    f = ec.efficiency_frontier(["cheap", "dear"], [50, 100], [0.01, 0.01])
    assert _status(f) == {"cheap": "frontier", "dear": "dominated"}


def test_identical_strategies_do_not_dominate_each_other():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0 / 0 between the twins
        f = ec.efficiency_frontier(["none", "twin1", "twin2"], [0, 100, 100], [0.0, 0.01, 0.01])
    assert _status(f) == {"none": "frontier", "twin1": "frontier", "twin2": "frontier"}


def test_extended_dominance_at_the_end_of_the_frontier():
    # A -> B costs 10,000 per QALY, B -> C 5,000: B is extendedly dominated, C compared with A
    f = ec.efficiency_frontier(["A", "B", "C"], [0, 100, 150], [0.0, 0.01, 0.02])
    assert _status(f) == {"A": "frontier", "B": "extendedly dominated", "C": "frontier"}
    assert f.set_index("name").loc["C", "icer_vs_previous"] == pytest.approx(7_500)


def test_strategies_on_one_line_all_stay_on_the_frontier():
    # equal ICERs (4,000 per QALY, exact in binary): the middle one is not extendedly dominated
    f = ec.efficiency_frontier(["A", "B", "C"], [0, 1000, 2000], [0.0, 0.25, 0.5])
    assert _status(f) == {"A": "frontier", "B": "frontier", "C": "frontier"}


def test_whole_pound_costs_give_float_columns():
    f = ec.efficiency_frontier(["A", "B"], [0, 100], [0, 1])
    assert f["cost_gbp"].dtype == np.float64 and f["qalys"].dtype == np.float64
    assert f.set_index("name").loc["B", "icer_vs_previous"] == pytest.approx(100.0)
