"""Expected-loss curves and the PSA tornado (experiments/analyses/decision_curves.py) on PSA-like
frames whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.analyses import decision_curves as dc
from experiments.analyses import voi


def _frame(n: int = 2000, seed: int = 3) -> pd.DataFrame:
    """Three strategies over ``n`` draws: B's lead over A is 100 * x1 (GBP at any WTP, through cost)
    plus noise; C is A minus 50; x2 moves nothing; x3 is drawn in half the draws only (as a
    parameter of one decay shape)."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    x3 = np.where(np.arange(n) % 2 == 0, rng.uniform(0, 1, n), np.nan)
    noise = rng.normal(0, 20, n)
    qalys = rng.normal(0.05, 0.01, n)
    rows = []
    for s, cost in (("A", 100.0 + 0 * x1), ("B", 100.0 - 100 * x1 + 50 + noise), ("C", 150.0 + 0 * x1)):
        rows.append(pd.DataFrame({voi.DRAW: np.arange(n), voi.STRATEGY: s, voi.COST: cost, voi.QALY: qalys,
                                  "x1": x1, "x2": x2, "x3": x3}))
    return pd.concat(rows, ignore_index=True)


def test_the_lowest_expected_loss_is_the_evpi_and_the_best_on_average():
    frame = _frame()
    loss = dc.expected_loss_curve(frame, [0.0, 20_000.0])
    assert (loss["expected_loss_gbp"] >= -1e-9).all()
    for w, rows in loss.groupby("wtp_gbp_per_qaly"):
        best = rows.loc[rows["lowest"], "strategy"].item()
        nb = voi.net_benefit(frame, w)
        assert best == nb.mean().idxmax()
        evpi = voi.evpi_per_graduate(frame, w, bootstrap=0).value
        assert rows.loc[rows["lowest"], "expected_loss_gbp"].item() == pytest.approx(evpi, abs=1e-9)
        # C is A minus 50 in every draw: its loss is A's plus 50
        by = rows.set_index("strategy")["expected_loss_gbp"]
        assert by["C"] - by["A"] == pytest.approx(50.0)


def test_the_tornado_ranks_the_parameter_that_moves_the_lead_first():
    frame = _frame()
    t = dc.tornado(frame, 20_000.0, "B", "A")
    assert list(t["parameter"][:1]) == ["x1"]
    x1 = t.set_index("parameter").loc["x1"]
    # the lead is 100 * x1 - 50 + noise: its mean over the tails is 100 * (mean x1 there) - 50, up to the
    # noise's SE over 200 draws (20 / sqrt(200) = 1.4 GBP); 5 GBP is over 3 SE
    assert x1["low_gbp"] == pytest.approx(100 * x1["low_value"] - 50, abs=5)
    assert x1["high_gbp"] == pytest.approx(100 * x1["high_value"] - 50, abs=5)
    assert x1["low_value"] < 0.06 and x1["high_value"] > 0.94  # bottom and top tenths of U(0, 1)
    # x2 moves nothing: its two tails differ by chance only (SE of a difference of two 200-draw means of a
    # lead with SD about 33: 3.3 GBP); against x1's swing of about 90
    x2 = t.set_index("parameter").loc["x2"]
    assert abs(x2["swing_gbp"]) < 15 and x1["swing_gbp"] > 80
    assert (t["draws_per_tail"].to_numpy()[t["parameter"] != "x3"] == 200).all()


def test_a_parameter_drawn_in_some_draws_only_has_tails_of_its_own_draws():
    t = dc.tornado(_frame(), 20_000.0, "B", "A").set_index("parameter")
    assert t.loc["x3", "draws_per_tail"] == 100  # a tenth of the 1,000 draws that have it
    assert np.isfinite(t.loc["x3", ["low_gbp", "high_gbp", "low_value", "high_value"]].to_numpy(float)).all()


@pytest.mark.parametrize("tail", [0.0, 0.6, -0.1])
def test_a_tail_outside_its_range_is_refused(tail):
    with pytest.raises(ValueError, match="tail="):
        dc.tornado(_frame(100), 20_000.0, "B", "A", tail=tail)
