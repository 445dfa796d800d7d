"""Value of information (experiments/analyses/voi.py): EVPI and EVPPI agree with the closed form of a
two-strategy linear-Gaussian PSA; EVPI bounds every EVPPI and every EVPPI is >= 0; a parameter
that does not enter net benefit has EVPPI about 0; population EVPI is a hand-checked discounted
sum; the loader reads whatever parameters a PSA drew.

Closed form: with strategy A as the reference (net benefit 0) and strategy B's incremental net
benefit INB ~ N(mu, s^2), EVPI = E[max(0, INB)] - max(0, mu) = s phi(mu/s) + mu Phi(mu/s) - max(0, mu).
For a parameter phi with E(INB | phi) ~ N(mu, s_phi^2), the EVPPI is the same formula with s_phi.
Tolerances are 4 standard errors, the SE from the sample size (Monte Carlo) and from the estimator.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments.analyses import decision, voi
from experiments.outputs import write_manifest

WTP = 20_000.0
Q0, Q1 = 0.0075, 0.02  # B's incremental QALYs: Q0 + Q1 * theta1
C0, C2 = 150.0, 300.0  # B's incremental cost, GBP: C0 + C2 * theta2
MU = WTP * Q0 - C0  # 0: the decision is as uncertain as it can be


def normal_evpi(mu: float, s: float) -> float:
    """E[max(0, X)] - max(0, mu) for X ~ N(mu, s^2)."""
    if s == 0:
        return 0.0
    return float(s * stats.norm.pdf(mu / s) + mu * stats.norm.cdf(mu / s) - max(mu, 0.0))


def linear_gaussian(n: int, seed: int, q0: float = Q0) -> tuple[pd.DataFrame, np.ndarray]:
    """Two strategies, three standard normal parameters; theta3 does not enter net benefit."""
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal((3, n))
    dq, dc = q0 + Q1 * theta[0], C0 + C2 * theta[1]
    rep = np.arange(n)
    a = pd.DataFrame({"replicate": rep, "strategy": "course_only", "cost_gbp": 0.0, "qalys": 0.0})
    b = pd.DataFrame({"replicate": rep, "strategy": "peer_group", "cost_gbp": dc, "qalys": dq})
    drawn = pd.DataFrame({"replicate": rep, "dynamics.peer_group.effect.efficacy": theta[0],
                          "costs.items.facilitator_per_meeting.value_gbp": theta[1],
                          "dynamics.online.effect.efficacy": theta[2]})
    return pd.concat([a, b], ignore_index=True).merge(drawn, on="replicate"), theta


EFFICACY, COST_ITEM, UNUSED = ("dynamics.peer_group.effect.efficacy", "costs.items.facilitator_per_meeting.value_gbp",
                               "dynamics.online.effect.efficacy")


def test_evpi_matches_the_closed_form():
    n = 20_000
    frame, _ = linear_gaussian(n, seed=1)
    s = np.hypot(WTP * Q1, C2)
    est = voi.evpi_per_graduate(frame, WTP, bootstrap=300)
    # the bootstrap SE agrees with the sampling SD of max(0, INB) / sqrt(n) (the max of means is exact here)
    inb = voi.net_benefit(frame, WTP).to_numpy() @ np.array([-1.0, 1.0])
    assert est.se == pytest.approx(np.maximum(inb, 0).std() / np.sqrt(n), rel=0.25)
    assert est.value == pytest.approx(normal_evpi(MU, s), abs=4 * est.se)
    # the whole curve: at each willingness to pay, its own mu and s
    curve = voi.evpi_curve(frame, [0.0, 10_000.0, 30_000.0], bootstrap=200)
    for row in curve.itertuples():
        w = row.wtp_gbp_per_qaly
        assert row.evpi_per_graduate_gbp == pytest.approx(normal_evpi(w * Q0 - C0, np.hypot(w * Q1, C2)),
                                                          abs=4 * row.se_gbp)
    assert (curve["evpi_population_gbp"] == curve["evpi_per_graduate_gbp"] * voi.population_graduates()).all()


@pytest.mark.parametrize(("parameter", "s_phi"), [(EFFICACY, WTP * Q1), (COST_ITEM, C2)])
def test_evppi_of_a_parameter_with_a_linear_effect_matches_the_closed_form(parameter, s_phi):
    n = 3000
    frame, _ = linear_gaussian(n, seed=2)
    est = voi.evppi(frame, parameter, WTP)
    # Monte Carlo SE of the estimator from the sample size: SD of max(0, E(INB | phi)) / sqrt(n)
    mc_se = np.sqrt(stats.norm.expect(lambda z: max(0.0, MU + s_phi * z) ** 2) - normal_evpi(MU, s_phi) ** 2) / np.sqrt(n)
    assert est.value == pytest.approx(normal_evpi(MU, s_phi), abs=4 * np.hypot(mc_se, est.se))
    assert 0 < est.se < 0.2 * est.value


def test_evppi_of_a_group_by_gaussian_process_matches_the_closed_form():
    n = 400  # a Gaussian process costs O(n^3)
    frame, _ = linear_gaussian(n, seed=3)
    s_phi = WTP * Q1  # the unused parameter adds nothing
    est = voi.evppi(frame, [EFFICACY, UNUSED], WTP)
    mc_se = np.sqrt(stats.norm.expect(lambda z: max(0.0, MU + s_phi * z) ** 2) - normal_evpi(MU, s_phi) ** 2) / np.sqrt(n)
    assert est.value == pytest.approx(normal_evpi(MU, s_phi), abs=4 * np.hypot(mc_se, est.se))
    # both parameters that matter: the whole EVPI
    both = voi.evppi(frame, [EFFICACY, COST_ITEM], WTP)
    assert both.value == pytest.approx(voi.evpi_per_graduate(frame, WTP).value, rel=0.05)


def test_a_parameter_that_does_not_enter_net_benefit_has_evppi_about_0():
    frame, _ = linear_gaussian(2000, seed=4)
    total = voi.evpi_per_graduate(frame, WTP)
    est = voi.evppi(frame, UNUSED, WTP)
    assert est.value >= 0
    # about 0: within 3 of its SEs, and a tiny fraction of the EVPI
    assert est.value <= 3 * est.se + 1e-9
    assert est.value < 0.03 * total.value


def three_strategies(n: int, seed: int) -> pd.DataFrame:
    """A non-linear three-strategy PSA with noise, four parameters (one unused)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (4, n))
    rep = np.arange(n)
    noise = rng.normal(0, 0.002, (3, n))
    q = {"course_only": 0.0 * x[0] + noise[0], "peer_group": 0.02 * np.sqrt(x[0]) + noise[1],
         "telephone": 0.015 * x[1] ** 2 + 0.004 + noise[2]}
    c = {"course_only": 0.0 * x[0], "peer_group": 200 + 150 * x[2], "telephone": 120 + 50 * x[2] * x[1]}
    rows = [pd.DataFrame({"replicate": rep, "strategy": k, "cost_gbp": c[k], "qalys": q[k]}) for k in q]
    drawn = pd.DataFrame({"replicate": rep, "a.efficacy": x[0], "b.answer_prob": x[1], "costs.call": x[2],
                          "unused.thing": x[3]})
    return pd.concat(rows, ignore_index=True).merge(drawn, on="replicate")


def test_evpi_bounds_every_evppi_and_every_evppi_is_non_negative():
    frame = three_strategies(300, seed=5)
    table = voi.voi_table(frame, wtp_gbp_per_qaly=(20_000, 30_000), samples=200)
    assert set(table["measure"]) == {"EVPI", "EVPPI group", "EVPPI parameter"}
    for wtp, rows in table.groupby("wtp_gbp_per_qaly"):
        total = rows[rows["measure"] == "EVPI"].iloc[0]
        assert total["per_graduate_gbp"] > 0
        partial = rows[rows["measure"] != "EVPI"]
        assert len(partial) == 4 + 5  # 4 parameters; 3 named groups, other and all
        se = np.hypot(partial["se_gbp"], total["se_gbp"])
        assert (partial["per_graduate_gbp"] >= -2 * partial["se_gbp"] - 1e-9).all()
        assert (partial["per_graduate_gbp"] <= total["per_graduate_gbp"] + 2 * se).all()
        # the unused parameter is worth (about) nothing; every parameter together is worth about the EVPI
        unused = partial[partial["name"] == "unused.thing"].iloc[0]
        assert unused["per_graduate_gbp"] <= 3 * unused["se_gbp"] + 0.02 * total["per_graduate_gbp"]
        everything = partial[partial["name"] == voi.ALL_GROUP].iloc[0]
        assert everything["per_graduate_gbp"] == pytest.approx(total["per_graduate_gbp"], abs=4 * se.max())
    assert np.allclose(table["population_gbp"], table["per_graduate_gbp"] * voi.population_graduates())


def test_evpi_is_the_same_from_absolute_and_incremental_numbers():
    frame = three_strategies(500, seed=6)
    shifted = frame.copy()
    rng = np.random.default_rng(0)
    per_draw = pd.Series(rng.normal(600, 50, frame["replicate"].nunique()))  # e.g. the course's own cost
    shifted["cost_gbp"] += shifted["replicate"].map(per_draw)
    shifted["qalys"] += shifted["replicate"].map(per_draw / 1e5)
    for w in (0, 20_000, 30_000):
        assert voi.evpi_per_graduate(shifted, w).value == pytest.approx(voi.evpi_per_graduate(frame, w).value)


def test_population_evpi_is_the_discounted_number_of_graduates_times_the_per_graduate_evpi():
    assert voi.population_graduates(500, 1, 0.035) == pytest.approx(500)
    assert voi.population_graduates(500, 3, 0.035) == pytest.approx(500 + 500 / 1.035 + 500 / 1.035**2)
    assert voi.population_graduates(200, 10, 0.0) == pytest.approx(2000)
    assert voi.population_evpi(12.5, 500, 2, 0.035) == pytest.approx(12.5 * (500 + 500 / 1.035))
    with pytest.raises(ValueError):
        voi.population_graduates(-1)


def test_net_monetary_benefit_per_draw_and_strategy():
    frame, _ = linear_gaussian(10, seed=7)
    nmb = voi.net_monetary_benefit(frame, (20_000, 30_000))
    row = nmb[nmb["strategy"] == "peer_group"].iloc[0]
    assert row["nmb_20000"] == pytest.approx(20_000 * row["qalys"] - row["cost_gbp"])
    wide = voi.net_benefit(frame, 30_000)
    assert list(wide.columns) == ["course_only", "peer_group"] and len(wide) == 10
    # a draw missing a strategy is left out, a repeated pair is an error
    assert len(voi.net_benefit(frame.iloc[1:], 30_000)) == 9
    with pytest.raises(ValueError, match="repeat"):
        voi.net_benefit(pd.concat([frame, frame.iloc[:1]]), 30_000)


def test_parameter_groups_take_whatever_the_psa_drew():
    groups = voi.parameter_groups([EFFICACY, COST_ITEM, "dynamics.retention.decay_rate_per_week",
                                   "dynamics.telephone.answer_prob", "posterior.sample_weight"])
    assert groups["Effect of each contact with support (channel efficacies)"] == [EFFICACY]
    assert groups["Unit costs"] == [COST_ITEM]
    assert groups["How fast gains fade and consolidate"] == ["dynamics.retention.decay_rate_per_week"]
    assert groups["Engagement: who joins, attends, answers and stays"] == ["dynamics.telephone.answer_prob"]
    assert groups[voi.OTHER_GROUP] == ["posterior.sample_weight"]


def test_the_loader_reads_the_drawn_values_a_run_records(tmp_path):
    """Generic: a run whose summary.json records its draws (e.g. from a calibration posterior) is
    read as it is, whatever the parameters are called."""
    for rep in range(3):
        for strategy, cost in (("course_only", 600.0), ("telephone", 650.0 + rep)):
            run = tmp_path / "runs" / f"replicate={rep},strategy={strategy}"
            run.mkdir(parents=True)
            (run / "summary.json").write_text(json.dumps({
                "strategy": strategy, "population": "general_ltc", "replicate": rep, "seed": 1,
                "cost_per_graduate_gbp": {"total": cost, "total_discounted": cost - 1},
                "qalys_gained_per_graduate": 0.01 * rep,
                "psa_draws": {"posterior.theta_a": 0.1 * rep, "dynamics.retention.decay_rate_per_week": 0.02},
                "overrides": [f"strategy={strategy}", f"replicate={rep}"],
            }))
            (run / "config.yaml").write_text(f"strategy: {{name: {strategy}}}\n")
            write_manifest(run, ["summary.json", "config.yaml"], "test")
    frame = decision.psa_frame(tmp_path)
    assert len(frame) == 6
    assert voi.parameter_columns(frame) == ["posterior.theta_a", "dynamics.retention.decay_rate_per_week"]
    tel = frame[(frame["strategy"] == "telephone") & (frame["replicate"] == 2)].iloc[0]
    assert tel["cost_gbp"] == 651.0 and tel["posterior.theta_a"] == pytest.approx(0.2)
    with pytest.raises(FileNotFoundError):
        decision.psa_frame(tmp_path / "nothing")


def test_a_strategy_never_better_than_the_best_is_left_out_exactly():
    """A strategy whose net benefit is below the best's in every draw cannot be the best given any
    parameter: leaving it out of the regressions changes nothing but the noise, and a decision in
    which one strategy is best in every draw has EVPPI exactly 0."""
    frame, _ = linear_gaussian(1000, seed=8)
    worse = frame[frame["strategy"] == "course_only"].assign(strategy="online", cost_gbp=lambda d: d["cost_gbp"] + 50)
    with_worse = pd.concat([frame, worse], ignore_index=True)
    fit = voi.conditional_net_benefit(with_worse, EFFICACY, reference=voi.best_strategy(with_worse, WTP),
                                      only_at=[WTP])
    assert "online" not in fit.strategies and len(fit.strategies) == 2
    assert voi.evppi(with_worse, EFFICACY, WTP).value == pytest.approx(voi.evppi(frame, EFFICACY, WTP).value)
    with pytest.raises(ValueError, match="holds at those only"):
        fit.evppi(30_000)
    # peer groups better in every draw at a high enough willingness to pay: nothing to learn
    dominant = frame.assign(qalys=lambda d: np.where(d["strategy"] == "peer_group", 1.0, 0.0))
    assert voi.evppi(dominant, [EFFICACY, COST_ITEM], WTP) == voi.Estimate(0.0, 0.0, 1000)
    assert voi.evpi_per_graduate(dominant, WTP).value == 0.0
