"""Two views of a PSA's decision uncertainty that need no regression: expected loss and a tornado.

* :func:`expected_loss_curve`: for each strategy and willingness to pay, the **expected loss** of
  choosing it, ``E[max_s NB_s] - E[NB_strategy]`` (GBP per graduate): what is given up, on average
  over the draws, against always picking the strategy that turns out best. The strategy with the
  lowest expected loss is the one with the highest expected net benefit, and its loss is the EVPI
  at that willingness to pay (Eckermann & Willan 2008; Alarid-Escudero et al. 2019, "expected loss
  curves"), so the curve and the EVPI figure agree by construction.
* :func:`tornado`: how the lead of one strategy over another moves along each drawn parameter's
  range. For each parameter, the mean incremental net benefit in the draws where that parameter
  lies in its bottom tenth and in its top tenth (conditional means over the PSA draws, every other
  parameter varying as drawn; a "PSA tornado", not a one-way analysis with the rest at base values,
  which would ignore the correlations the calibration's posterior carries). Bars are sorted by the
  distance between the two means.

Both take the frame of :func:`experiments.analyses.decision.psa_frame` (one row per draw and
strategy: cost and QALYs per graduate, discounted, and every drawn parameter).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from experiments.analyses import voi
from sim.economics import wtp_grid

#: Share of the draws in each tail of a parameter for the tornado.
TAIL = 0.1


def expected_loss_curve(frame: pd.DataFrame, wtp_gbp_per_qaly: Sequence[float] | None = None) -> pd.DataFrame:
    """Expected loss (GBP per graduate) of each strategy over willingness to pay (GBP per QALY).

    One row per willingness to pay and strategy: ``expected_loss_gbp`` and ``lowest`` (whether it is
    the strategy with the lowest expected loss there, i.e. the highest expected net benefit).
    """
    wtp = wtp_grid() if wtp_gbp_per_qaly is None else np.atleast_1d(np.asarray(wtp_gbp_per_qaly, dtype=float))
    rows = []
    for w in wtp:
        nb = voi.net_benefit(frame, w)
        loss = nb.max(axis=1).mean() - nb.mean()
        low = loss.idxmin()
        rows += [{"wtp_gbp_per_qaly": float(w), "strategy": s, "expected_loss_gbp": float(v), "lowest": s == low}
                 for s, v in loss.items()]
    return pd.DataFrame(rows)


def tornado(frame: pd.DataFrame, wtp_gbp_per_qaly: float, strategy: str, rival: str,
            tail: float = TAIL) -> pd.DataFrame:
    """Mean net benefit of ``strategy`` over ``rival`` (GBP per graduate, at ``wtp_gbp_per_qaly``) in
    the draws where each parameter is in its bottom and top ``tail`` (a share of the draws).

    One row per drawn parameter that varies: ``low_gbp`` and ``high_gbp`` (the two conditional
    means, over the draws in which the parameter was drawn: a parameter of one decay shape is empty in
    the other's), ``low_value`` and ``high_value`` (the parameter's mean in each tail), ``swing_gbp``
    (``high_gbp - low_gbp``), ``overall_gbp`` (the mean over all draws) and ``draws_per_tail``;
    sorted by ``|swing_gbp|``, largest first. Raises ``ValueError`` when ``tail`` is not in (0, 0.5].
    """
    if not 0 < tail <= 0.5:
        raise ValueError(f"tail={tail}: the share of draws in each tail must be in (0, 0.5]")
    nb = voi.net_benefit(frame, wtp_gbp_per_qaly, [strategy, rival])
    lead = (nb[strategy] - nb[rival]).dropna()
    params = frame.drop_duplicates(voi.DRAW).set_index(voi.DRAW)
    rows = []
    for p in voi.parameter_columns(frame):
        # a parameter of one decay shape is empty in the other shape's draws: its tails are of its own draws
        x = params[p].reindex(lead.index).dropna()
        if x.nunique() < 2:
            continue
        k = max(1, int(round(tail * len(x))))
        order = np.argsort(x.to_numpy(), kind="stable")
        low, high = x.index[order[:k]], x.index[order[-k:]]
        rows.append({"parameter": p, "low_gbp": float(lead.loc[low].mean()), "high_gbp": float(lead.loc[high].mean()),
                     "low_value": float(x.loc[low].mean()), "high_value": float(x.loc[high].mean()),
                     "overall_gbp": float(lead.mean()), "draws_per_tail": k})
    out = pd.DataFrame(rows, columns=["parameter", "low_gbp", "high_gbp", "low_value", "high_value",
                                      "overall_gbp", "draws_per_tail"])
    out["swing_gbp"] = out["high_gbp"] - out["low_gbp"]
    return out.reindex(out["swing_gbp"].abs().sort_values(ascending=False).index).reset_index(drop=True)
