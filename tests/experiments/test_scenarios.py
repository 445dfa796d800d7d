"""Scenario discovery (experiments/analyses/scenarios.py): PRIM finds a box planted in synthetic data, leaves
irrelevant parameters unrestricted, and finds where a strategy wins in a synthetic PSA (the box in
plain words: tests/experiments/test_report_voi.py).

Tolerances: PRIM peels ``peel_alpha`` = 5% of the draws left in the box at a time, so on a
parameter uniform on [0, 1] an edge can miss by about one peel of the box's width; with 2,000
draws the empirical quantiles themselves are within about 0.01 of the true ones. An edge within
0.05 of the planted one is found; coverage and density are checked against the noise planted
(5% of draws inside the box are not cases, 3% outside are).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.analyses import scenarios

EDGE_TOLERANCE = 0.05


def planted(n: int = 2000, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """Four uniform parameters; the condition holds (95%) inside 0.2 < a < 0.6 and b > 0.7, and
    rarely (3%) elsewhere."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(0, 1, (n, 4)), columns=["a", "b", "c", "d"])
    inside = ((x["a"] > 0.2) & (x["a"] < 0.6) & (x["b"] > 0.7)).to_numpy()
    y = np.where(inside, rng.uniform(size=n) < 0.95, rng.uniform(size=n) < 0.03)
    return x, y


def test_prim_finds_the_planted_box():
    x, y = planted()
    table = scenarios.prim_boxes(x, y, "planted")
    assert list(table.columns) == list(scenarios.COLUMNS)
    first = table[table["box"] == 1].set_index("parameter")
    assert set(first.index) == {"a", "b"}  # c and d do not matter and are not restricted
    assert first.loc["a", "low"] == pytest.approx(0.2, abs=EDGE_TOLERANCE)
    assert first.loc["a", "high"] == pytest.approx(0.6, abs=EDGE_TOLERANCE)
    assert first.loc["b", "low"] == pytest.approx(0.7, abs=EDGE_TOLERANCE)
    assert first.loc["b", "high"] == pytest.approx(x["b"].max())  # open at the top
    # the box holds most of the cases, and most of it is cases
    expected_density = 0.95
    expected_coverage = 0.95 * 0.12 / (0.95 * 0.12 + 0.03 * 0.88)  # 12% of draws are inside
    row = first.iloc[0]
    assert row["density"] >= 0.8 and row["density"] == pytest.approx(expected_density, abs=0.1)
    assert row["coverage"] == pytest.approx(expected_coverage, abs=0.15)
    assert row["base_rate"] == pytest.approx(y.mean())
    assert row["quasi_p"] < 1e-6
    # the statistics are what they say: recount them from the box
    inside = np.ones(len(x), bool)
    for p, r in first.iterrows():
        inside &= (x[p] >= r["low"]).to_numpy() & (x[p] <= r["high"]).to_numpy()
    assert row["draws_in_box"] == inside.sum() and row["cases_in_box"] == y[inside].sum()
    assert row["mass"] == pytest.approx(inside.mean()) and row["density"] == pytest.approx(y[inside].mean())


def test_among_many_irrelevant_parameters_prim_still_finds_the_planted_box():
    """Twenty parameters that do not matter are screened out before PRIM peels."""
    x, y = planted()
    noise = pd.DataFrame(np.random.default_rng(9).uniform(0, 1, (len(x), 20)), columns=[f"z{i}" for i in range(20)])
    table = scenarios.prim_boxes(pd.concat([x, noise], axis=1), y, "planted")
    first = table[table["box"] == 1].set_index("parameter")
    assert set(first.index) == {"a", "b"}
    assert first.loc["a", "low"] == pytest.approx(0.2, abs=EDGE_TOLERANCE)
    assert first.loc["a", "high"] == pytest.approx(0.6, abs=EDGE_TOLERANCE)
    assert first.loc["b", "low"] == pytest.approx(0.7, abs=EDGE_TOLERANCE)
    assert scenarios.screen(pd.concat([x, noise], axis=1), y)[:2] in (["a", "b"], ["b", "a"])


def test_no_box_when_the_condition_never_or_always_holds_or_is_noise():
    x, _ = planted(500)
    assert scenarios.prim_boxes(x, np.zeros(500, bool), "never").empty
    assert scenarios.prim_boxes(x, np.ones(500, bool), "always").empty
    noise = np.random.default_rng(1).uniform(size=500) < 0.3
    table = scenarios.prim_boxes(x, noise, "noise")
    # a box no denser than chance (+10 points) is not reported
    assert table.empty or (table["density"] >= table["base_rate"] + 0.1).all()


def synthetic_psa(n: int = 400, seed: int = 5) -> pd.DataFrame:
    """Three strategies; telephone support wins where its efficacy is high and calls are cheap."""
    rng = np.random.default_rng(seed)
    eff, call, other = rng.uniform(0, 1, (3, n))
    rep = np.arange(n)
    q = {"course_only": np.zeros(n), "peer_group": np.full(n, 0.02), "telephone": 0.03 * eff}
    c = {"course_only": np.zeros(n), "peer_group": np.full(n, 200.0), "telephone": 100 + 200 * call}
    rows = [pd.DataFrame({"replicate": rep, "strategy": k, "cost_gbp": c[k], "qalys": q[k]}) for k in q]
    drawn = pd.DataFrame({"replicate": rep, "dynamics.telephone.effect.efficacy": eff,
                          "costs.items.peer_call.value_gbp": call, "dynamics.retention.decay_rate_per_week": other})
    return pd.concat(rows, ignore_index=True).merge(drawn, on="replicate")


def test_where_a_named_strategy_wins_and_where_peer_groups_beat_telephone():
    frame = synthetic_psa()
    wtp = 20_000
    wins = scenarios.strategy_wins(frame, "telephone", wtp)
    # by hand: telephone's NB 600 eff - 100 - 200 call beats peer groups' 200 and course only's 0
    nb_tel = 600 * frame.drop_duplicates("replicate").set_index("replicate")["dynamics.telephone.effect.efficacy"] \
        - 100 - 200 * frame.drop_duplicates("replicate").set_index("replicate")["costs.items.peer_call.value_gbp"]
    assert (wins == (nb_tel >= 200)).all()
    beat = scenarios.beats(frame, "peer_group", "telephone", wtp)
    assert (beat == (nb_tel < 200)).all()

    table = scenarios.flipping_conditions(frame, wtp, labels={"telephone": "Telephone support",
                                                              "peer_group": "Peer support groups"})
    assert set(table["recommended"]) == {"Peer support groups"}
    tel = table[(table["condition"] == "Telephone support is the best choice") & (table["box"] == 1)]
    assert "dynamics.retention.decay_rate_per_week" not in set(tel["parameter"])
    lims = tel.set_index("parameter")
    # telephone wins when 600 eff - 200 call >= 300: efficacy above 0.5 at the very least
    assert lims.loc["dynamics.telephone.effect.efficacy", "low"] >= 0.5 - EDGE_TOLERANCE
    assert (tel["density"] >= 0.8).all()
    assert {"Peer support groups beats Telephone support"} <= set(table["condition"])
