"""Health economics of the strategies: prices, increments against a comparator, acceptability.

Pure arithmetic on the numbers the model's ledger (:mod:`sim.costs`) records, used by the report
(``experiments/report/build.py``), the probabilistic sensitivity analysis and the notebooks:

* **Prices.** Every unit cost has its own price year and is inflated to one price year through an
  index (:func:`unit_costs`; :func:`inflate_gbp`, from :mod:`sim.params`): value x index[to] / index[from].
* **Increments.** Against the comparator (``course_only``) on the same seed: incremental cost
  (GBP per graduate), incremental QALYs (per graduate), the ICER (GBP per QALY gained) and the net
  monetary benefit ``NMB = wtp x dQALY - dCost`` at a willingness to pay ``wtp`` (GBP per QALY;
  NICE's thresholds are 20,000 and 30,000). A strategy with a positive NMB is cost-effective at
  that ``wtp``. The ICER alone is ambiguous when dQALY <= 0 (:func:`quadrant` says which case).
* **Acceptability.** Over draws (replicates of a PSA, each with its own parameter values, every
  strategy run with the same draw): the probability that each strategy has the highest NMB, at
  each willingness to pay (:func:`acceptability`). The probabilities sum to 1 at every ``wtp``.

Costs and QALYs for cost-effectiveness are the discounted ones (``cost_total_discounted_gbp``,
``qalys_gained``); what a budget holder pays is the undiscounted cost by category.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .params import CostParams, inflate_gbp  # noqa: F401 - inflate_gbp: imported from here by experiments

#: NICE's willingness-to-pay thresholds, GBP per QALY gained.
WTP_THRESHOLDS_GBP = (20_000, 30_000)

#: Which outcome is which, in the ledger's weekly table.
COST_COLUMN = "cost_total_discounted_gbp"
QALY_COLUMN = "qalys_gained"


# --- prices ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitCost:
    """One priced item: as its source gives it, and at the analysis's price year."""

    name: str
    value_gbp: float  # as given by the source, at ``price_year`` prices
    price_year: int
    value_at_price_year_gbp: float  # inflated to the analysis's price year
    source: str
    assumption: bool


def unit_costs(costs: CostParams) -> list[UnitCost]:
    """Every cost item with its own price year, inflated to ``costs.price_year``."""
    return [
        UnitCost(name, item.value_gbp, item.price_year,
                 costs.inflate(name),
                 item.source, item.assumption)
        for name, item in costs.items.items()
    ]


def planned_contact_gbp(costs: CostParams) -> float:
    """Cost of one planned contact: the ``planned_contact_mix`` average, at ``costs.price_year``
    (:meth:`sim.params.CostParams.planned_contact_gbp`, which the ledger uses too)."""
    return costs.planned_contact_gbp()


# --- increments --------------------------------------------------------------------------------


def net_monetary_benefit(delta_cost_gbp, delta_qalys, wtp_gbp_per_qaly):
    """Net monetary benefit, GBP: ``wtp x dQALY - dCost`` (arrays broadcast)."""
    return np.multiply(wtp_gbp_per_qaly, delta_qalys) - np.asarray(delta_cost_gbp)


def icer(delta_cost_gbp: float, delta_qalys: float) -> float:
    """Incremental cost-effectiveness ratio, GBP per QALY gained: ``dCost / dQALY``.

    NaN when dQALY is 0 (no ratio exists). Read it with :func:`quadrant`: a negative ICER means
    either cheaper and better (dominant) or dearer and worse (dominated), and a positive one in
    the south-west quadrant is money saved per QALY lost.
    """
    if delta_qalys == 0:
        return float("nan")
    return float(delta_cost_gbp) / float(delta_qalys)


def quadrant(delta_cost_gbp: float, delta_qalys: float) -> str:
    """Where a strategy lies on the cost-effectiveness plane against the comparator.

    ``"dominant"`` (more or equal QALYs for less or equal cost), ``"dominated"`` (fewer or equal QALYs for
    more or equal cost), ``"more effective, more costly"`` (the ICER is the price of a QALY),
    ``"less effective, less costly"`` (the ICER is the saving per QALY lost), or ``"same"``.
    """
    dc, dq = float(delta_cost_gbp), float(delta_qalys)
    if dq == 0 and dc == 0:
        return "same"
    if dq >= 0 and dc <= 0:  # as effective or more, and cheaper or the same (not both: "same" above)
        return "dominant"
    if dq <= 0 and dc >= 0:
        return "dominated"
    if dq > 0:
        return "more effective, more costly"
    return "less effective, less costly"


def cost_per_extra(delta_cost_gbp: float, delta_outcome: float) -> float:
    """Incremental cost per extra unit of outcome (e.g. per extra person self-managing).

    ``delta_cost_gbp`` and ``delta_outcome`` per graduate (a share for people): GBP per extra
    person. NaN when the strategy gives no extra outcome (dOutcome <= 0): no price buys it.
    """
    if not delta_outcome > 0:
        return float("nan")
    return float(delta_cost_gbp) / float(delta_outcome)


def paired_increments(
    runs: pd.DataFrame,
    comparator: str = "course_only",
    pair_on: Sequence[str] = ("replicate",),
    columns: Iterable[str] = (COST_COLUMN, QALY_COLUMN),
    wtp_gbp_per_qaly: Iterable[float] = WTP_THRESHOLDS_GBP,
) -> pd.DataFrame:
    """Each run's difference from its comparator run (same ``pair_on`` values, hence same seed).

    ``runs``: one row per run with a ``strategy`` column, the ``pair_on`` columns and
    ``columns``. Returns the same rows with ``delta_<column>`` for every column, and (when the
    cost and QALY columns are present) ``nmb_<wtp>`` for every ``wtp``. The comparator's own rows
    have zero increments. A run without a comparator run gets NaN.
    """
    columns, pair_on = list(columns), list(pair_on)
    control = (runs[runs["strategy"] == comparator]
               .drop_duplicates(subset=pair_on)[[*pair_on, *columns]]
               .rename(columns={c: f"_control_{c}" for c in columns}))
    out = runs.merge(control, on=pair_on, how="left")
    for c in columns:
        out[f"delta_{c}"] = out[c] - out.pop(f"_control_{c}")
    if COST_COLUMN in columns and QALY_COLUMN in columns:
        for wtp in wtp_gbp_per_qaly:
            out[f"nmb_{int(wtp)}"] = net_monetary_benefit(
                out[f"delta_{COST_COLUMN}"], out[f"delta_{QALY_COLUMN}"], wtp)
    return out


# --- acceptability -----------------------------------------------------------------------------


def wtp_grid(max_gbp: float = 50_000, step_gbp: float = 500) -> np.ndarray:
    """Willingness-to-pay values for an acceptability curve: 0 to ``max_gbp`` per QALY in steps of
    ``step_gbp``, never past ``max_gbp`` (the last step may fall short of it)."""
    steps = int(np.floor(max_gbp / step_gbp + 1e-9))
    return step_gbp * np.arange(steps + 1, dtype=float)


def acceptability(costs_gbp, qalys, wtp_gbp_per_qaly) -> np.ndarray:
    """Probability that each strategy is the most cost-effective, at each willingness to pay.

    Args:
        costs_gbp: (draws, strategies) costs per graduate; each row one draw with every strategy
            (a paired PSA: the same parameter values and seed in a row).
        qalys: (draws, strategies) QALYs per graduate, the same shape.
        wtp_gbp_per_qaly: the willingness-to-pay values, GBP per QALY.

    Returns:
        (len(wtp), strategies): the share of draws in which each strategy has the highest net
        benefit ``wtp x QALYs - cost``; ties share the draw equally, so each row sums to 1.
        Absolute and incremental net benefits rank strategies alike, so either may be passed.
    """
    c = np.asarray(costs_gbp, dtype=float)
    q = np.asarray(qalys, dtype=float)
    if c.shape != q.shape or c.ndim != 2 or c.shape[0] == 0:
        raise ValueError(f"costs and qalys must be the same (draws, strategies) shape, got {c.shape} and {q.shape}")
    if np.isnan(c).any() or np.isnan(q).any():
        raise ValueError("costs and qalys must not hold NaN: drop draws missing a strategy first")
    wtp = np.atleast_1d(np.asarray(wtp_gbp_per_qaly, dtype=float))
    nb = wtp[:, None, None] * q[None] - c[None]  # (wtp, draws, strategies)
    best = nb.max(axis=2, keepdims=True)
    # equal to the best within rounding: ties (e.g. identical strategies) share the draw
    tol = 1e-9 * np.maximum(1.0, np.abs(best))
    winners = (nb >= best - tol).astype(float)
    winners /= winners.sum(axis=2, keepdims=True)
    return winners.mean(axis=1)


def expected_net_benefit(costs_gbp, qalys, wtp_gbp_per_qaly) -> np.ndarray:
    """Mean net benefit ``wtp x QALYs - cost`` over draws: (len(wtp), strategies), GBP.

    The strategy with the highest expected net benefit is the one to fund at that ``wtp`` (the
    acceptability frontier), which need not be the one most often best.
    """
    c = np.asarray(costs_gbp, dtype=float)
    q = np.asarray(qalys, dtype=float)
    wtp = np.atleast_1d(np.asarray(wtp_gbp_per_qaly, dtype=float))
    return wtp[:, None] * q.mean(axis=0)[None] - c.mean(axis=0)[None]


def draws_by_strategy(
    runs: pd.DataFrame, strategies: Sequence[str], draw: str = "replicate",
    cost: str = COST_COLUMN, qaly: str = QALY_COLUMN,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Costs and QALYs as (draws, strategies) arrays, keeping only draws where every strategy ran.

    Returns (costs, qalys, draw ids) in the order of ``strategies``.
    """
    wide_c = runs.pivot_table(index=draw, columns="strategy", values=cost, aggfunc="first")
    wide_q = runs.pivot_table(index=draw, columns="strategy", values=qaly, aggfunc="first")
    wide_c = wide_c.reindex(columns=list(strategies)).dropna()
    wide_q = wide_q.reindex(index=wide_c.index, columns=list(strategies))
    return wide_c.to_numpy(), wide_q.to_numpy(), wide_c.index.to_numpy()


def efficiency_frontier(names: Sequence[str], costs_gbp, qalys) -> pd.DataFrame:
    """The incremental analysis of several strategies: which are worth considering, at what price.

    Strategies are ranked by cost. A strategy is **dominated** if another costs no more and gives
    at least as many QALYs (and is better in one); **extendedly dominated** if a mix of the next
    cheaper and next dearer strategies on the frontier would beat it (its ICER against the next
    cheaper is higher than the next dearer's). The rest form the frontier, each with its ICER against
    the next cheaper strategy on the frontier: the price of each extra QALY when moving up to it.

    Returns one row per strategy, in order of cost: ``name``, ``cost_gbp``, ``qalys``, ``status``
    (``"frontier"``, ``"dominated"``, ``"extendedly dominated"``), ``compared_with`` and
    ``icer_vs_previous`` (NaN off the frontier and for the cheapest).
    """
    c = np.asarray(costs_gbp, dtype=float)
    q = np.asarray(qalys, dtype=float)
    order = sorted(range(len(c)), key=lambda i: (c[i], -q[i]))
    status = {i: "frontier" for i in order}
    for i in order:
        for j in order:
            if j != i and c[j] <= c[i] and q[j] >= q[i] and (c[j] < c[i] or q[j] > q[i]):
                status[i] = "dominated"
                break
    while True:
        front = [i for i in order if status[i] == "frontier"]
        ratios = [(c[b] - c[a]) / (q[b] - q[a]) if q[b] != q[a] else np.inf for a, b in zip(front, front[1:])]
        worse = next((k for k in range(len(ratios) - 1) if ratios[k] > ratios[k + 1]), None)
        if worse is None:
            break
        status[front[worse + 1]] = "extendedly dominated"
    front = [i for i in order if status[i] == "frontier"]
    rows = []
    for i in order:
        prev = None
        if status[i] == "frontier" and front.index(i) > 0:
            prev = front[front.index(i) - 1]
        rows.append({
            "name": names[i], "cost_gbp": c[i], "qalys": q[i], "status": status[i],
            "compared_with": names[prev] if prev is not None else None,
            "icer_vs_previous": icer(c[i] - c[prev], q[i] - q[prev]) if prev is not None else float("nan"),
        })
    return pd.DataFrame(rows)
