"""Scenario discovery: the parameter ranges under which the recommendation flips.

From a PSA (or any sweep that draws parameters: the tidy frame of :mod:`experiments.analyses.voi`), mark
each draw by whether a condition holds, e.g.

* a named strategy has the highest net monetary benefit (:func:`strategy_wins`), or
* one strategy beats another (:func:`beats`: peer groups beat telephone support),

and find with **PRIM** (the patient rule induction method, Friedman & Fisher 1999, as used for
scenario discovery by Bryant & Lempert 2010; the maintained implementation of the EMA Workbench,
``ema_workbench.analysis.prim``) the boxes (a range for each of a few parameters) inside which the
condition mostly holds. Each box is judged by

* **coverage**: the share of all draws where the condition holds that fall inside the box (how
  much of the story the box tells);
* **density**: the share of draws inside the box where the condition holds (how sure the box is);
* **mass**: the share of all draws inside the box (how likely the box is, under the PSA's
  distributions).

The result is a tidy table (:data:`COLUMNS`): one row per box and restricted parameter, with the
box's statistics repeated on each row (the report says a box in plain words:
:func:`experiments.report.voi.describe_box`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from experiments.analyses.voi import DRAW, best_strategy, net_benefit, parameter_columns

#: Columns of the scenario table.
COLUMNS = ("condition", "box", "coverage", "density", "mass", "draws_in_box", "cases_in_box", "cases", "draws",
           "base_rate", "parameter", "low", "high", "range_low", "range_high", "quasi_p")


def _prim():
    """``ema_workbench.analysis.prim``, imported quietly (it warns about optional extras it lacks)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    logging.getLogger("EMA").setLevel(logging.WARNING)
    return prim


# --- conditions --------------------------------------------------------------------------------


def strategy_wins(frame: pd.DataFrame, strategy: str, wtp_gbp_per_qaly: float) -> pd.Series:
    """Per draw (indexed by replicate): whether ``strategy`` has the highest net monetary benefit
    at ``wtp`` (GBP per QALY); a tie counts as a win."""
    nb = net_benefit(frame, wtp_gbp_per_qaly)
    if strategy not in nb.columns:
        raise KeyError(f"no strategy {strategy!r} in the PSA frame (it has {list(nb.columns)})")
    return nb[strategy] >= nb.max(axis=1)


def beats(frame: pd.DataFrame, strategy: str, rival: str, wtp_gbp_per_qaly: float) -> pd.Series:
    """Per draw (indexed by replicate): whether ``strategy`` has a higher net monetary benefit than
    ``rival`` at ``wtp`` (GBP per QALY)."""
    nb = net_benefit(frame, wtp_gbp_per_qaly, [strategy, rival])
    return nb[strategy] > nb[rival]


def drawn_parameters(frame: pd.DataFrame, parameters: Sequence[str] | None = None) -> pd.DataFrame:
    """The drawn parameter values, one row per draw (indexed by replicate), as floats; parameters
    that take one value only are left out (they cannot bound a box)."""
    params = list(parameters) if parameters is not None else parameter_columns(frame)
    x = frame.drop_duplicates(DRAW).set_index(DRAW)[params].astype(float)
    return x.loc[:, x.nunique() > 1]


# --- PRIM --------------------------------------------------------------------------------------


def _choose(trajectory: pd.DataFrame, density_threshold: float, max_restricted: int) -> int | None:
    """The box to keep from a peeling trajectory, among those restricting 1 to ``max_restricted``
    parameters: the one with the highest coverage among those whose density reaches
    ``density_threshold``; if none does, the densest (then widest) one; None if there is none."""
    t = trajectory[(trajectory["res_dim"] >= 1) & (trajectory["res_dim"] <= max_restricted)]
    if t.empty:
        return None
    ok = t[t["density"] >= density_threshold]
    if len(ok):
        return int(ok.sort_values(["coverage", "density"], ascending=False).index[0])
    return int(t.sort_values(["density", "coverage"], ascending=False).index[0])


def screen(x: pd.DataFrame, cases, keep: int = 5, max_p: float = 0.05) -> list[str]:
    """The parameters whose values differ most between the draws where the condition holds and the
    rest: at most ``keep``, each with a two-sample Kolmogorov-Smirnov p-value below ``max_p``
    (smallest first). KS, unlike a test of the mean, also sees a condition that holds in a middle
    range of a parameter."""
    from scipy import stats

    y = np.asarray(cases, dtype=bool)
    if y.all() or not y.any():
        return []
    p = {c: float(stats.ks_2samp(x[c].to_numpy()[y], x[c].to_numpy()[~y]).pvalue) for c in x.columns}
    return [c for c in sorted(p, key=p.get) if p[c] < max_p][:keep]


def prim_boxes(x: pd.DataFrame, cases, condition: str, max_boxes: int = 3, density_threshold: float = 0.8,
               min_density_gain: float = 0.1, max_restricted: int = 3, max_quasi_p: float = 0.05,
               screen_to: int | None = 5, mass_min: float = 0.05, peel_alpha: float = 0.05,
               paste_alpha: float = 0.05) -> pd.DataFrame:
    """Find up to ``max_boxes`` PRIM boxes of ``x`` (draws x parameters) where ``cases`` (a boolean
    per draw) mostly holds; return them as a tidy table (:data:`COLUMNS`).

    With more than ``screen_to`` parameters, PRIM sees only those that :func:`screen` keeps (at most
    ``screen_to``, each associated with the condition at p < 0.05): with a few hundred draws and
    dozens of parameters, PRIM would otherwise peel on chance differences (each peel removes only
    a handful of draws, and among many parameters one always removes few cases by chance).

    Each box is chosen from PRIM's peeling trajectory by :func:`_choose`, among boxes that restrict
    at most ``max_restricted`` parameters (a box a reader can hold in mind, and fewer chances to fit
    noise: a PSA has few draws). Restrictions whose quasi-p-value (the one-sided binomial test of
    Bryant & Lempert 2010, the larger of the restriction's two ends) exceeds ``max_quasi_p`` are
    then dropped: they do not really raise the density. Coverage, density and mass are those of the
    final box over all draws. The search stops when that density is not at least
    ``min_density_gain`` above the share of draws where the condition holds (the base rate: a box no
    better than chance), no restriction is left, or no case is left. Boxes after the first are
    found among the draws outside the earlier boxes (PRIM's covering). ``mass_min``: the smallest
    share of draws a box may hold; ``peel_alpha``/``paste_alpha``: the share peeled or pasted per step.
    """
    y = np.asarray(cases, dtype=bool)
    if len(y) != len(x):
        raise ValueError(f"{len(y)} cases for {len(x)} draws")
    n, total = len(y), int(y.sum())
    base_rate = total / n if n else float("nan")
    rows: list[dict] = []
    if n == 0 or total == 0 or total == n or x.shape[1] == 0:
        return pd.DataFrame(rows, columns=list(COLUMNS))
    if screen_to is not None and x.shape[1] > screen_to:
        x = x[screen(x, y, screen_to)]
        if x.shape[1] == 0:
            return pd.DataFrame(rows, columns=list(COLUMNS))
    prim = _prim()
    data = x.reset_index(drop=True).astype(float)
    with warnings.catch_warnings():  # pandas deprecations inside the workbench, not ours
        warnings.simplefilter("ignore")
        finder = prim.Prim(data, y.astype(int), peel_alpha=peel_alpha, paste_alpha=paste_alpha, mass_min=mass_min)
    full = data.agg(["min", "max"])
    for number in range(1, max_boxes + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            box = finder.find_box()
        if box is None:
            break
        i = _choose(box.peeling_trajectory, density_threshold, max_restricted)
        if i is None:
            break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            box.select(i)
        limits = box.box_lims[i]
        qp = box.p_values[i] if i < len(box.p_values) else {}
        restricted = []
        for p in data.columns:
            lo, hi = float(limits.loc[0, p]), float(limits.loc[1, p])
            if lo > full.loc["min", p] or hi < full.loc["max", p]:
                ends = [v for v in qp.get(p, []) if v is not None and v >= 0]
                q = float(max(ends)) if ends else float("nan")
                if not q > max_quasi_p:  # keep significant restrictions (and any without a p-value)
                    restricted.append((p, lo, hi, q))
        inside = np.ones(n, dtype=bool)
        for p, lo, hi, _ in restricted:
            inside &= (data[p].to_numpy() >= lo) & (data[p].to_numpy() <= hi)
        in_box, hits = int(inside.sum()), int(y[inside].sum())
        density = hits / in_box if in_box else 0.0
        if not restricted or density < base_rate + min_density_gain:
            break
        for p, lo, hi, q in restricted:
            rows.append({
                "condition": condition, "box": number, "coverage": hits / total, "density": density,
                "mass": in_box / n, "draws_in_box": in_box, "cases_in_box": hits, "cases": total, "draws": n,
                "base_rate": base_rate, "parameter": p, "low": lo, "high": hi,
                "range_low": float(full.loc["min", p]), "range_high": float(full.loc["max", p]), "quasi_p": q,
            })
        if hits == total:
            break
    return pd.DataFrame(rows, columns=list(COLUMNS))


def discover(frame: pd.DataFrame, condition: str, cases: pd.Series, parameters: Sequence[str] | None = None,
             **options) -> pd.DataFrame:
    """PRIM boxes for ``cases`` (a boolean per draw, indexed by replicate, e.g. from
    :func:`strategy_wins` or :func:`beats`) over the drawn parameters of ``frame``."""
    x = drawn_parameters(frame, parameters)
    x = x.loc[x.index.intersection(cases.index)]
    return prim_boxes(x, cases.reindex(x.index).to_numpy(bool), condition, **options)


def flipping_conditions(frame: pd.DataFrame, wtp_gbp_per_qaly: float, labels: Mapping[str, str] | None = None,
                        rivals: Sequence[tuple[str, str]] = (("peer_group", "telephone"),),
                        min_cases: int = 5, **options) -> pd.DataFrame:
    """The conditions under which the recommendation at ``wtp`` (GBP per QALY) flips, as PRIM boxes.

    * for every strategy other than the best on average (the recommendation) that has the highest
      net monetary benefit in at least ``min_cases`` draws: where it does (``"<label> is the best
      choice"``);
    * for each (strategy, rival) pair of ``rivals`` present in the frame: where the strategy has the
      higher net monetary benefit (``"<label> beats <rival label>"``), if that happens in at least
      ``min_cases`` draws and fails in at least ``min_cases`` (otherwise there is nothing to find).

    ``labels`` maps strategy ids to plain words (default: the ids). Returns the tidy table of
    :func:`prim_boxes` with two more columns: ``wtp_gbp_per_qaly`` and ``recommended`` (the label
    of the strategy with the highest expected net benefit).
    """
    labels = dict(labels or {})
    name: Callable[[str], str] = lambda s: labels.get(s, s)  # noqa: E731
    best = best_strategy(frame, wtp_gbp_per_qaly)
    nb = net_benefit(frame, wtp_gbp_per_qaly)
    tables = []
    for s in nb.columns:
        if s == best:
            continue
        wins = strategy_wins(frame, s, wtp_gbp_per_qaly)
        if wins.sum() >= min_cases:
            tables.append(discover(frame, f"{name(s)} is the best choice", wins, **options))
    for s, rival in rivals:
        if s in nb.columns and rival in nb.columns:
            won = beats(frame, s, rival, wtp_gbp_per_qaly)
            if min_cases <= won.sum() <= len(won) - min_cases:
                tables.append(discover(frame, f"{name(s)} beats {name(rival)}", won, **options))
    out = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=list(COLUMNS))
    return out.assign(wtp_gbp_per_qaly=float(wtp_gbp_per_qaly), recommended=name(best))

