"""Interval arithmetic: agrees with scipy; pairing by seed narrows the intervals of differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from experiments.sweeps.collect import summarise_runs
from experiments.config import load_params, run_seed
from experiments.stats import mean_ci, paired_diff_ci, t_quantile, unpaired_diff_ci


def test_mean_ci_matches_scipy_one_sample_t_interval():
    x = np.random.default_rng(1).normal(0.3, 0.05, 12)
    mean, low, high = mean_ci(x)
    ci = stats.ttest_1samp(x, 0.0).confidence_interval(0.95)
    assert mean == pytest.approx(x.mean(), rel=1e-12)
    assert (low, high) == pytest.approx((ci.low, ci.high), rel=1e-10)


def test_t_quantile_is_scipys_t_ppf_for_arrays_of_degrees_of_freedom():
    dof = np.array([1.0, 2.0, 5.0, 30.0, 1000.0])
    for p in (0.9, 0.975, 0.995):
        assert t_quantile(p, dof) == pytest.approx(stats.t.ppf(p, dof), rel=1e-12)


def test_paired_interval_is_the_one_sample_interval_of_differences():
    rng = np.random.default_rng(2)
    a, b = rng.normal(1, 1, 9), rng.normal(0.8, 1, 9)
    ci = stats.ttest_rel(a, b).confidence_interval(0.95)
    assert paired_diff_ci(a, b)[1:] == pytest.approx((ci.low, ci.high), rel=1e-10)


def test_unpaired_interval_matches_scipy_welch():
    rng = np.random.default_rng(3)
    a, b = rng.normal(1, 1, 8), rng.normal(0.5, 2, 11)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert unpaired_diff_ci(a, b)[1:] == pytest.approx((ci.low, ci.high), rel=1e-10)


def test_one_value_has_no_interval():
    mean, low, high = mean_ci([0.4])
    assert mean == 0.4 and np.isnan(low) and np.isnan(high)


def test_pairing_by_seed_narrows_the_interval_of_a_difference():
    """Same runs, two analyses: the paired interval (common random numbers) is narrower.

    Pairing cancels what both arms share: the people and what the course gave them. It helps most
    where that dominates, as in the mean gain over the first weeks of support (here week 8, 600
    graduates, 8 replicates); later the strategy's own chance events (who comes to which meeting)
    weigh more and the gain from pairing is smaller (the README says so)."""
    base = load_params(["n_graduates=600", "weeks=8"])
    outcome = {}
    for strategy in ("course_only", "peer_group"):
        params = load_params([f"strategy={strategy}", "n_graduates=600", "weeks=8"])
        outcome[strategy] = [
            sim.SelfManagementModel(600, 8, strategy=params.strategy, population=base.population,
                                    rng=run_seed(11, r)).run().weekly_table()["mean_gain_sd"].iloc[-1]
            for r in range(8)
        ]
    _, p_low, p_high = paired_diff_ci(outcome["peer_group"], outcome["course_only"])
    _, u_low, u_high = unpaired_diff_ci(outcome["peer_group"], outcome["course_only"])
    # 0.82 measured with the seeds here and today's calibration (0.71 with the previous one); 0.9
    # still asks pairing to narrow the interval by a tenth, not by chance
    assert p_high - p_low < 0.9 * (u_high - u_low)


def test_summary_pairs_each_run_with_its_own_comparator():
    rows = []
    for replicate in range(4):
        for interval in (2, 4):
            for strategy, value in (("course_only", 10.0 + replicate), ("peer_group", 12.0 + replicate + interval)):
                rows.append({"strategy": strategy, "population": "p", "strategy.peer_group.interval_weeks": interval,
                             "replicate": replicate, "seed": 100 + replicate, "week": 52,
                             **{m: value for m in ("mean_gain_sd", "share_self_managing",
                                                   "share_self_managing_group_averse", "share_self_managing_offline",
                                                   "share_self_managing_lonely", "share_lonely", "cost_total_gbp",
                                                   "cost_total_discounted_gbp", "qalys_gained")}})
    summary = summarise_runs(pd.DataFrame(rows), ["strategy.peer_group.interval_weeks"])
    gain = summary[summary["metric"] == "mean_gain_sd"].set_index(["strategy", "strategy.peer_group.interval_weeks"])
    # each peer_group run is 2 + interval above the course_only run of its replicate, exactly
    assert gain.loc[("peer_group", 2), "diff_vs_course_only"] == pytest.approx(4.0)
    assert gain.loc[("peer_group", 4), "diff_vs_course_only"] == pytest.approx(6.0)
    assert gain.loc[("peer_group", 4), "diff_ci_low"] == pytest.approx(6.0)  # no spread in differences
    assert gain.loc[("course_only", 2), "n_runs"] == 4
    assert gain.loc[("peer_group", 2), "mean"] == pytest.approx(12.0 + 1.5 + 2)


# --- intervals of shares stay within their range (issue 15: 100.5% with two replicates) ------------

from experiments.stats import SHARE_BOUNDS  # noqa: E402

METRICS = ("mean_gain_sd", "share_self_managing", "share_self_managing_group_averse", "share_self_managing_offline",
           "share_self_managing_lonely", "share_lonely", "cost_total_gbp", "cost_total_discounted_gbp",
           "qalys_gained")


def test_a_share_interval_is_clipped_to_0_1_and_other_intervals_are_not():
    _, low, high = mean_ci([0.97, 1.0])
    assert high > 1  # the t-interval of two values near 1 leaves [0, 1] ...
    _, low, high = mean_ci([0.97, 1.0], bounds=SHARE_BOUNDS)
    assert 0 <= low <= high == 1.0  # ... a share's does not
    _, low, high = mean_ci([0.0, 0.02], bounds=SHARE_BOUNDS)
    assert low == 0.0 <= high


def test_summary_intervals_of_shares_stay_within_0_and_100_percent():
    rows = [{"strategy": s, "population": "p", "replicate": r, "seed": 10 + r, "week": 52,
             **{m: v for m in METRICS}}
            for r, v in enumerate((0.97, 1.0)) for s in ("course_only", "peer_group")]
    rows[3]["share_self_managing"] = 0.02  # peer_group, replicate 1: a large difference
    summary = summarise_runs(pd.DataFrame(rows), [])
    shares = summary[summary["metric"].str.startswith("share_")]
    assert (shares["ci_low"] >= 0).all() and (shares["ci_high"] <= 1).all()
    assert (shares["diff_ci_low"].dropna() >= -1).all() and (shares["diff_ci_high"].dropna() <= 1).all()
    gain = summary[summary["metric"] == "mean_gain_sd"]
    assert (gain["ci_high"] > 1).all()  # not a share: not clipped


def test_report_bands_and_headline_intervals_of_shares_are_clipped():
    from types import SimpleNamespace

    from experiments.report import data as report_data

    weekly = pd.DataFrame({"arm": ["a", "a"], "run_id": ["r0", "r1"], "week": [1, 1],
                           "share_self_managing": [0.97, 1.0], "attendance_pct": [97.0, 100.0]})
    data = SimpleNamespace(weekly=weekly, is_psa=False)
    bands = report_data.weekly_bands(data, "share_self_managing", 100.0)
    assert bands["hi"].iloc[0] == 100.0 and bands["lo"].iloc[0] < 98.5
    assert report_data.weekly_bands(data, "attendance_pct")["hi"].iloc[0] == 100.0
    _, low, high = report_data._ci([0.97, 1.0], bounds=report_data.SHARE)
    assert high == 1.0 and low >= 0
