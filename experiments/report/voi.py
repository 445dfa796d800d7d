"""The report's section on decision uncertainty: "What evidence would change the answer".

For a PSA sweep only (the runs drew their parameters). The numbers are not computed here: the
analysis (``python -m experiments.analyses.decision SWEEP_DIR``, which ``python -m experiments.report``
runs first when they are missing or stale) writes them into ``SWEEP_DIR/voi/``, and :func:`read`
takes them from there: per population ``voi.csv`` (EVPI and EVPPI), ``scenarios.csv`` (the PRIM
boxes where the recommendation flips), ``evpi_curve.csv`` (EVPI over willingness to pay) and
``evpi_by_horizon.csv`` (population EVPI against the years the decision holds), and
``decision.json`` (the assumptions used, the strategies' names, the recommendation and how often it
wins). :func:`section` then writes into the report's folder

* ``voi.csv`` and ``scenarios.csv``: the analysis' tables with each parameter in plain words
  (an ``in_words`` column);
* three figures (PNG and SVG): the EVPI curve, EVPPI by parameter group with 95% intervals, and the
  population EVPI against the cost of a study (an explicit, labelled assumption: :class:`Study`);

and returns the HTML fragment, with the flipping conditions in plain words (:func:`describe_box`).

Every value of information is shown with its standard error, and one that is not distinguishable
from 0 (or is exactly 0) says so (the analysis' ``distinguishable_from_0`` and ``capped_at_evpi``
columns: no EVPPI exceeds the EVPI). Each parameter a PRIM box names is shown with its EVPPI and,
where that may be 0, why the two disagree (:func:`prim_and_evppi`).
"""

from __future__ import annotations

import base64
import html
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator

from experiments.report import figures as rf
from experiments.outputs import write_table
from experiments.report.assumptions import COST_ITEM_WORDS, KEY_PARAMETERS
from experiments.labels import gbp, over, q
from sim import economics

#: The two thresholds of the section, GBP per QALY.
THRESHOLDS = tuple(float(w) for w in economics.WTP_THRESHOLDS_GBP)
Z95 = 1.959964
#: Below this value of information per graduate (GBP), the report says that learning does not matter.
MATERIAL_GBP = 1.0
#: Where the analysis writes in a sweep folder (:mod:`experiments.analyses.decision`), and its
#: file written last: the contract between the two, by file names only.
FOLDER = "voi"
DECISION_JSON = "decision.json"


@dataclass(frozen=True)
class Study:
    """The kind of study whose cost the population EVPI is set against: an explicit assumption."""

    kind: str
    cost_gbp: float
    source: str


#: The default study: a pragmatic randomised trial of follow-on support (an assumption, labelled so
#: in the report; pass another :class:`Study` to change it).
DEFAULT_STUDY = Study(
    kind="a pragmatic randomised trial comparing follow-on support strategies (about 600 graduates, "
         "12 months' follow-up)",
    cost_gbp=1_500_000.0,
    source="assumption: the order of cost of a publicly funded pragmatic trial of a service intervention "
           "in the UK, £1 million to £2 million",
)


def parameter_words(key: str) -> str:
    """A drawn parameter in plain words (its dotted key when it has none)."""
    words = {k: w for k, w, *_ in KEY_PARAMETERS}
    if key in words:
        return words[key]
    parts = key.split(".")
    if len(parts) >= 3 and parts[0] == "costs" and parts[1] == "items":
        return "Unit cost: " + _lower_first(COST_ITEM_WORDS.get(parts[2], parts[2].replace("_", " ")))
    return parts[-1].replace("_", " ").capitalize()


def _lower_first(text: str) -> str:
    """'Share of ...' -> 'share of ...', leaving abbreviations ('GP ...') as they are."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


# --- the analysis' files ----------------------------------------------------------------------


@dataclass
class VoiResults:
    """The numbers of one population's section, as the analysis wrote them."""

    table: pd.DataFrame  # voi.csv, with in_words
    curve: pd.DataFrame  # EVPI over willingness to pay (evpi_curve.csv)
    boxes: pd.DataFrame  # scenarios.csv, with in_words
    by_horizon: pd.DataFrame  # population EVPI against the years the decision holds (evpi_by_horizon.csv)
    labels: dict[str, str]  # strategy id -> plain words
    recommended: dict[float, str]  # strategy id with the highest expected net benefit, per threshold
    share_best: dict[float, float]  # share of draws in which the recommended strategy is the best
    draws: int
    rivals: dict[tuple[float, str, str], float]  # (wtp, strategy, rival): share of draws it beats the rival
    assumptions: dict = field(default_factory=dict)  # graduates_per_year, decision_years, ... (decision.json)
    loss: pd.DataFrame = field(default_factory=pd.DataFrame)  # expected_loss.csv (empty: an older analysis)
    tornado: pd.DataFrame = field(default_factory=pd.DataFrame)  # tornado.csv (empty: an older analysis)


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


def read(folder: Path | str, population: str) -> VoiResults:
    """One population's numbers from the analysis' folder (``SWEEP_DIR/voi``), each parameter put
    in plain words. Raises ``FileNotFoundError`` naming the missing file."""
    folder = Path(folder)
    record = json.loads((folder / DECISION_JSON).read_text(encoding="utf-8"))
    pop = record["populations"][population]
    table = _csv(folder / population / "voi.csv")
    table.insert(2, "in_words", [parameter_words(n) if m == "EVPPI parameter" else n
                                 for m, n in zip(table["measure"], table["name"])])
    # files of an analysis older than the flags: say the same from the values and SEs
    if "distinguishable_from_0" not in table.columns:
        table["distinguishable_from_0"] = table["per_graduate_gbp"] > Z95 * table["se_gbp"]
    if "capped_at_evpi" not in table.columns:
        table["capped_at_evpi"] = False
    boxes = _csv(folder / population / "scenarios.csv")
    boxes.insert(list(boxes.columns).index("parameter") + 1, "in_words",
                 [parameter_words(p) for p in boxes["parameter"]])
    return VoiResults(
        table, _csv(folder / population / "evpi_curve.csv"), boxes, _csv(folder / population / "evpi_by_horizon.csv"),
        dict(pop["labels"]),
        {float(r["wtp_gbp_per_qaly"]): r["strategy"] for r in pop["recommended"]},
        {float(r["wtp_gbp_per_qaly"]): float(r["share_best"]) for r in pop["recommended"]},
        int(pop["draws"]),
        {(float(r["wtp_gbp_per_qaly"]), r["strategy"], r["rival"]): float(r["share_beats"]) for r in pop["rivals"]},
        dict(record["assumptions"]), _optional_csv(folder / population / "expected_loss.csv"),
        _optional_csv(folder / population / "tornado.csv"))


def _optional_csv(path: Path) -> pd.DataFrame:
    """A table an older analysis did not write: empty, and the report leaves its figure out."""
    try:
        return _csv(path) if path.is_file() else pd.DataFrame()
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


# --- figures -----------------------------------------------------------------------------------


@rf.styled
def evpi_figure(res: VoiResults, graduates: float) -> rf.Figure:
    c = res.curve
    fig, ax = plt.subplots(figsize=(rf.WIDTH_IN, 4.8), constrained_layout=True)
    w = c["wtp_gbp_per_qaly"]
    lo = np.maximum(c["evpi_per_graduate_gbp"] - Z95 * c["se_gbp"].fillna(0), 0)
    hi = c["evpi_per_graduate_gbp"] + Z95 * c["se_gbp"].fillna(0)
    ax.fill_between(w, lo, hi, color="#0072B2", alpha=0.18, lw=0, label="95% interval")
    ax.plot(w, c["evpi_per_graduate_gbp"], color="#0072B2", lw=2.2, label="Value of perfect information")
    for t, ls in zip(THRESHOLDS, ("--", ":")):
        ax.axvline(t, color="#777777", lw=1, ls=ls)
    ax.set_xlim(0, float(w.max()))
    ax.set_ylim(0, max(float(hi.max()) * 1.1, 1.0))
    rf._gbp_axis(ax, "x")
    digits = 2 if ax.get_ylim()[1] < 5 else 0
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: gbp(v, digits)))
    ax.set_xlabel("Willingness to pay for one QALY (£)")
    ax.set_ylabel(f"Value of perfect information (£ per graduate {_horizon(res)})".replace(" )", ")"))
    sec = ax.secondary_yaxis("right", functions=(lambda v: v * graduates / 1e3, lambda v: v * 1e3 / graduates))
    sec.set_ylabel("For the area's graduates over the decision (£ thousand)")
    # which strategy is best on average along the curve: the value of information peaks where it changes
    best = c["best_strategy"].to_numpy()
    starts = [0] + [i for i in range(1, len(best)) if best[i] != best[i - 1]]
    top = ax.get_ylim()[1]
    for k, i in enumerate(starts):
        j = starts[k + 1] if k + 1 < len(starts) else len(best)
        lo_w, hi_w = float(w.iloc[i]), float(w.iloc[j - 1])
        if k > 0:
            ax.axvline(lo_w, color="#bbbbbb", lw=0.8, ls="-")
        if hi_w - lo_w >= 0.12 * float(w.max()) or len(starts) == 1:
            ax.text((lo_w + hi_w) / 2, top * 0.97, "Best on average:\n" + "\n".join(_wrap(res.labels.get(best[i], best[i]), 22)),
                    ha="center", va="top", fontsize=8.5, color="#333333")
    for t in THRESHOLDS:
        ax.text(t, top, f"£{t:,.0f}", ha="center", va="bottom", fontsize=9, color="#333333")
    ax.legend(loc="center right")
    at = c.set_index("wtp_gbp_per_qaly").loc[THRESHOLDS[0]]
    title = (f"Resolving every uncertainty would be worth {gbp(at['evpi_per_graduate_gbp'], 2)} per graduate at "
             f"£20,000 per QALY: {gbp(at['evpi_population_gbp'])} for the area's graduates over the decision")
    rf._suptitle(fig, title)
    how = ("The expected value of perfect information (EVPI): how much better, on average, the decision would be if "
           "every uncertain parameter were known before choosing, per graduate (left axis) and for all the graduates "
           f"the decision affects (right axis; {res.table['graduates_per_year'].iloc[0]:,.0f} a year for "
           f"{res.table['decision_years'].iloc[0]:g} years, discounted). The band is the 95% interval over "
           f"bootstrap resamples of the {res.draws} parameter draws. Where it is near zero, the same strategy is best "
           "whatever the parameters turn out to be; it peaks where the strategy that is best on average changes "
           "(thin vertical lines; named at the top where the range is wide enough).")
    return rf.Figure("g_evpi", fig, title, how)


@rf.styled
def evppi_figure(res: VoiResults) -> rf.Figure:
    t = res.table[res.table["measure"] == "EVPPI group"]
    names = list(dict.fromkeys(t["name"]))
    fig, ax = plt.subplots(figsize=(rf.WIDTH_IN, 0.75 * len(names) + 1.8), constrained_layout=True)
    y = np.arange(len(names))
    height = 0.38
    for k, (w, colour) in enumerate(zip(THRESHOLDS, ("#0072B2", "#E69F00"))):
        rows = t[t["wtp_gbp_per_qaly"] == w].set_index("name").reindex(names)
        v, se = rows["per_graduate_gbp"].to_numpy(float), rows["se_gbp"].fillna(0).to_numpy(float)
        err = np.vstack([np.minimum(Z95 * se, v), Z95 * se])
        bars = ax.barh(y + (k - 0.5) * height, v, height, xerr=err, color=colour, capsize=3,
                       error_kw={"elinewidth": 1, "ecolor": "#333333"}, label=f"At £{w:,.0f} per QALY")
        for bar, sure in zip(bars, rows["distinguishable_from_0"].fillna(False).astype(bool)):
            if not sure:  # hatched and pale: the value may be 0
                bar.set_hatch("///")
                bar.set_alpha(0.45)
    total = res.table[(res.table["measure"] == "EVPI") & (res.table["wtp_gbp_per_qaly"] == THRESHOLDS[0])]
    evpi20 = float(total["per_graduate_gbp"].iloc[0])
    ax.axvline(evpi20, color="#555555", lw=1, ls="--")
    ax.text(evpi20, -0.9, " all uncertainty\n (EVPI, £20,000)", fontsize=8.5, va="bottom", color="#333333")
    ax.set_yticks(y, ["\n".join(_wrap(n, 38)) for n in names])
    ax.invert_yaxis()
    ax.set_xlim(0, max(float(ax.get_xlim()[1]), 1.0))
    digits = 2 if ax.get_xlim()[1] < 5 else 0
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: gbp(v, digits)))
    ax.set_xlabel("Value of perfect information on the group (£ per graduate)")
    ax.legend(loc="lower right")
    at = t[t["wtp_gbp_per_qaly"] == THRESHOLDS[0]]
    named = at[at["name"] != res.assumptions["all_group"]]
    top = named.sort_values("per_graduate_gbp", ascending=False).iloc[0] if len(named) else None
    if top is None or not top["per_graduate_gbp"] >= MATERIAL_GBP:
        most = 0.0 if top is None else float(top["per_graduate_gbp"])
        title = (f"Learning any group of parameters would be worth at most {gbp(most, 2)} per graduate at £20,000 per "
                 "QALY: the same strategy is best whatever they turn out to be")
    elif not bool(top["distinguishable_from_0"]):
        title = (f"No group of parameters is clearly worth learning: the largest estimate, {gbp(top['per_graduate_gbp'], 2)} "
                 f"per graduate ({_lower_first(top['name'])}, £20,000 per QALY), is not distinguishable from 0")
    else:
        title = (f"Better evidence on {_lower_first(top['name'])} would be worth most: "
                 f"{gbp(top['per_graduate_gbp'], 2)} per graduate at £20,000 per QALY")
    rf._suptitle(fig, title)
    how = ("The expected value of partial perfect information (EVPPI) of each group of uncertain parameters: how much "
           "better the decision would be, per graduate, if that group alone were known. Estimated by regressing each "
           "strategy's net benefit on the group over the parameter draws (Strong, Oakley & Brennan 2014: a Gaussian "
           "process for groups, each fit shrunk by cross-validation so that the chance of single runs is not counted); "
           "the lines are 95% intervals. Pale hatched bars are not distinguishable from 0 (the interval reaches 0). "
           "No bar exceeds the value of resolving all uncertainty (dashed line): an estimate above it is shown as it.")
    return rf.Figure("g_evppi", fig, title, how)


@rf.styled
def expected_loss_figure(res: VoiResults) -> rf.Figure:
    """Each strategy's expected loss over willingness to pay (``expected_loss.csv``)."""
    from experiments.labels import STRATEGY_COLOURS

    fig, ax = plt.subplots(figsize=(rf.WIDTH_IN, 4.8), constrained_layout=True)
    loss = res.loss
    for s, rows in loss.groupby("strategy", sort=False):
        ax.plot(rows["wtp_gbp_per_qaly"], rows["expected_loss_gbp"], lw=2.0,
                color=STRATEGY_COLOURS.get(s, "#777777"), label=res.labels.get(s, s))
    for t, ls in zip(THRESHOLDS, ("--", ":")):
        ax.axvline(t, color="#777777", lw=1, ls=ls)
    ax.set_xlim(0, float(loss["wtp_gbp_per_qaly"].max()))
    ax.set_ylim(0, None)
    rf._gbp_axis(ax, "x")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: gbp(v)))
    ax.set_xlabel("Willingness to pay for one QALY (£)")
    ax.set_ylabel(f"Expected loss, £ per graduate\n({_horizon(res)})".replace("\n()", ""))
    ax.legend(loc="upper left", fontsize=8.5)
    at = loss[loss["wtp_gbp_per_qaly"] == THRESHOLDS[0]].set_index("strategy")["expected_loss_gbp"].sort_values()
    best, runner = at.index[0], at.index[min(1, len(at) - 1)]
    title = (f"At £20,000 per QALY, choosing {q(res.labels.get(best, best))} loses {gbp(at.iloc[0], 2)} per graduate "
             f"on average against hindsight; {q(res.labels.get(runner, runner))} would lose {gbp(at.loc[runner])}")
    rf._suptitle(fig, title)
    how = ("The expected loss of each strategy: how much net benefit, on average over the parameter draws, choosing "
           "it gives up against choosing, draw by draw, the strategy that turns out best (Alarid-Escudero et al. "
           "2019). The lowest curve at a willingness to pay is the strategy with the highest expected net benefit, "
           "and its loss is the value of perfect information there (figure above). Net benefit per graduate "
           f"{_horizon(res)}.")
    return rf.Figure("g_expected_loss", fig, title, how)


@rf.styled
def tornado_figure(res: VoiResults, n: int = 10) -> rf.Figure:
    """The recommended strategy's lead over the runner-up across each parameter's range (``tornado.csv``)."""
    t = res.tornado.head(n).iloc[::-1]
    strategy, rival = res.tornado["strategy"].iloc[0], res.tornado["rival"].iloc[0]
    overall = float(res.tornado["overall_gbp"].iloc[0])
    fig, ax = plt.subplots(figsize=(rf.WIDTH_IN, 0.45 * len(t) + 1.8), constrained_layout=True)
    y = np.arange(len(t))
    for yi, r in zip(y, t.itertuples()):
        ax.plot([r.low_gbp, r.high_gbp], [yi, yi], color="#BBBBBB", lw=6, solid_capstyle="butt", zorder=1)
        ax.scatter([r.low_gbp], [yi], color="#56B4E9", s=40, zorder=2, label="Parameter in its bottom tenth" if yi == 0 else None)
        ax.scatter([r.high_gbp], [yi], color="#D55E00", s=40, zorder=2, label="Parameter in its top tenth" if yi == 0 else None)
    ax.axvline(overall, color="#333333", lw=1, ls="--", label="Over all draws")
    ax.axvline(0, color="#000000", lw=0.8)
    ax.set_yticks(y, ["\n".join(_wrap(parameter_words(p), 38)) for p in t["parameter"]], fontsize=8.5)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: gbp(v)))
    ax.set_xlabel(f"Lead of {res.labels.get(strategy, strategy)} over {res.labels.get(rival, rival)} at £20,000 "
                  f"per QALY\n(net benefit, £ per graduate {_horizon(res)})".replace(" )", ")"))
    ax.legend(loc="lower right", fontsize=8)
    top = res.tornado.iloc[0]
    stays = bool((res.tornado[["low_gbp", "high_gbp"]] > 0).all().all())
    title = (f"{q(res.labels.get(strategy, strategy))} leads {q(res.labels.get(rival, rival))} by {gbp(overall)} per "
             f"graduate; {_lower_first(parameter_words(top['parameter']))} moves the lead most "
             f"({gbp(top['low_gbp'])} to {gbp(top['high_gbp'])})"
             + ("; the lead holds at both ends of every range" if stays else ""))
    rf._suptitle(fig, title)
    how = (f"For each drawn parameter, the mean lead of the recommended strategy over the runner-up in the "
           f"{int(top['draws_per_tail'])} draws where the parameter is in its bottom tenth (blue) and in its top tenth "
           "(orange), every other parameter varying as drawn (a tornado over the PSA, which keeps the correlations "
           "of the calibration's posterior, rather than a one-way analysis at base values); the ten parameters that "
           "move it most. Each tail's mean also carries the chance of its runs. Every parameter is in "
           "tornado.csv.")
    return rf.Figure("g_tornado", fig, title, how)


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [text]


@rf.styled
def study_figure(res: VoiResults, study: Study) -> rf.Figure:
    a = res.assumptions
    graduates_per_year, discount_rate_per_year, years = (a["graduates_per_year"], a["discount_rate_per_year"],
                                                         a["decision_years"])
    fig, ax = plt.subplots(figsize=(rf.WIDTH_IN, 4.8), constrained_layout=True)
    crossing = {}
    for w, colour, ls in zip(THRESHOLDS, ("#0072B2", "#E69F00"), ("-", "--")):
        rows = res.by_horizon[res.by_horizon["wtp_gbp_per_qaly"] == w].sort_values("decision_years")
        horizon, value = rows["decision_years"].to_numpy(int), rows["evpi_population_gbp"].to_numpy(float)
        ax.plot(horizon, value, color=colour, lw=2.2, ls=ls, label=f"Value of perfect information, £{w:,.0f} per QALY")
        above = horizon[value >= study.cost_gbp]
        crossing[w] = int(above[0]) if len(above) else None
    ax.axhline(study.cost_gbp, color="#D55E00", lw=2, ls=":")
    ax.text(horizon[0], study.cost_gbp, f" Cost of the study (assumed): {gbp(study.cost_gbp)}", va="bottom",
            fontsize=9, color="#8a3100")
    ax.axvline(years, color="#999999", lw=1)
    ax.set_xlim(horizon[0], horizon[-1])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(ax.get_ylim()[1], study.cost_gbp * 1.25))
    rf._gbp_axis(ax, "y")
    ax.set_xlabel(f"Years the decision holds ({graduates_per_year:,.0f} graduates a year, discounted at "
                  f"{100 * discount_rate_per_year:g}% a year)")
    ax.set_ylabel("Value for the area's graduates (£)")
    ax.legend(loc="upper left")
    c20 = crossing[THRESHOLDS[0]]
    if c20 is None:
        title = (f"Even perfect information would be worth less than {study.kind.split(' (')[0]} costs "
                 f"({gbp(study.cost_gbp)}, assumed): on these numbers, such a study is not worth doing")
    else:
        title = (f"Perfect information would be worth more than the study costs ({gbp(study.cost_gbp)}, assumed) if "
                 f"the decision holds {c20} years or more, at £20,000 per QALY")
    rf._suptitle(fig, title)
    how = (f"The value of resolving all uncertainty for every graduate the decision affects, against how long it holds, "
           f"and the cost of {study.kind} ({study.source}). A study is worth considering only where the curve is above "
           "the line; real studies resolve only part of the uncertainty, so the curve is an upper limit.")
    return rf.Figure("g_study", fig, title, how)


# --- HTML --------------------------------------------------------------------------------------


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _figure_html(fig: rf.Figure, paths: dict[str, str], number: str) -> str:
    data = base64.b64encode(Path(paths["png"]).read_bytes()).decode("ascii")
    files = " and ".join(f"figures/{Path(p).name}" for p in paths.values())
    return (f'<figure id="fig-{fig.name}"><img src="data:image/png;base64,{data}" alt="{_esc(fig.title)}">'
            f"<figcaption><b>Figure {number}.</b> {_esc(fig.how_to_read)} <span class='files'>({_esc(files)})</span>"
            "</figcaption></figure>")


def _flips_html(res: VoiResults) -> str:
    items = []
    for w in THRESHOLDS:
        rec = res.recommended[w]
        name = res.labels.get(rec, rec)
        share = res.share_best[w]
        boxes = res.boxes[res.boxes["wtp_gbp_per_qaly"] == w]
        head = (f"<b>At £{w:,.0f} per QALY</b>, {_esc(q(name))} has the highest expected net benefit and is the best "
                f"choice in {100 * share:.0f}% of the {res.draws} parameter draws.")
        others = round((1 - share) * res.draws)
        pairs = "".join(
            f" {_esc(q(res.labels[a]))} beats {_esc(q(res.labels[b]))} in {100 * v:.0f}% of draws"
            + ("." if boxes[boxes["condition"].str.contains(" beats ")].empty else " (conditions below).")
            for (ww, a, b), v in res.rivals.items() if ww == w)
        if boxes.empty:
            if others == 0:
                tail = " No combination of parameter values in the draws changes the recommendation."
            elif others >= res.assumptions.get("min_cases", 5):
                tail = (f" Another strategy is best in {others} draws, but scenario discovery finds no range of a few "
                        "parameters in which that clearly happens more often than elsewhere: those draws are spread "
                        "over the parameters' ranges (as many small effects, or the chance of single runs, would "
                        "spread them).")
            else:
                tail = (f" Another strategy is best in only {others} draw{'s' if others != 1 else ''}: too few to find "
                        f"the conditions (at least {res.assumptions['min_cases']} are needed).")
            items.append(f"<li>{head}{tail}{pairs}</li>")
            continue
        parts = []
        for (condition, number), rows in boxes.groupby(["condition", "box"], sort=False):
            words = describe_box(rows, {p: _lower_first(parameter_words(p)) for p in rows["parameter"]})
            parts.append(f"<li><b>{_esc(condition)}</b> {_esc(words)}.</li>")
        items.append(f"<li>{head}{pairs} The conditions, found by scenario discovery:<ul>{''.join(parts)}</ul></li>")
    return "<ul class='plain'>" + "".join(items) + "</ul>"


#: Standard errors below this (GBP per graduate) are rounding: with a value of 0, the estimate is exactly 0.
EXACT_GBP = 1e-9
#: The words for a value of information that is exactly 0 because the decision is never in doubt.
EXACTLY_0 = "exactly 0: the same strategy is best in every draw"
#: The words for an EVPPI that is exactly 0 though the EVPI is not: its regression is flat.
NOTHING_PREDICTED = "0: these parameters predict nothing of which strategy is best"


def _zero_words(value: float, se: float, evpi: float | None = None) -> str | None:
    """The words for an estimate (GBP) that is exactly 0 rather than uncertain (0 with no standard error
    to speak of), None otherwise. ``evpi``: the EVPI at the same willingness to pay (GBP per graduate),
    to tell a decision never in doubt (EVPI 0 too: :data:`EXACTLY_0`) from parameters that predict
    nothing (:data:`NOTHING_PREDICTED`); None means the estimate is the EVPI itself."""
    if not (value == 0 and np.isfinite(se) and abs(se) < EXACT_GBP):
        return None
    return EXACTLY_0 if evpi is None or abs(evpi) < EXACT_GBP else NOTHING_PREDICTED


def _notes(se: float, distinguishable: bool, capped: bool = False, value: float | None = None,
           evpi: float | None = None) -> str:
    """The standard error of an estimate (GBP) in words, and whether it may be 0 (or is exactly 0, when
    ``value`` is given: :func:`_zero_words`) or was capped."""
    zero = _zero_words(value, se, evpi) if value is not None else None
    if zero:
        return zero
    notes = [f"standard error {gbp(se, 2)}"]
    if capped:
        notes.append("capped at the value of perfect information on everything")
    if not distinguishable:
        notes.append("not distinguishable from 0")
    return "; ".join(notes)


def _judged(value: float, se: float, distinguishable: bool, capped: bool = False, evpi: float | None = None) -> str:
    """An estimate in words (GBP) with its standard error, and whether it may be 0 or was capped."""
    return f"{gbp(value, 2)} ({_notes(se, distinguishable, capped, value, evpi)})"


def _evpi_at(res: VoiResults, wtp: float) -> float:
    """The EVPI per graduate (GBP) at ``wtp`` (GBP per QALY)."""
    t = res.table
    at = t.loc[(t["measure"] == "EVPI") & (t["wtp_gbp_per_qaly"] == wtp), "per_graduate_gbp"]
    return float(at.iloc[0]) if len(at) else float("nan")


def _verdict(row, evpi: float | None = None) -> str:
    """The plain-words verdict of one row of voi.csv (``evpi``: see :func:`_zero_words`)."""
    zero = _zero_words(float(row.per_graduate_gbp), float(row.se_gbp), evpi)
    if zero:
        return zero
    if bool(getattr(row, "capped_at_evpi", False)):
        return ("capped at the value of perfect information on everything"
                + ("; not distinguishable from 0" if not bool(row.distinguishable_from_0) else ""))
    return "above 0" if bool(row.distinguishable_from_0) else "not distinguishable from 0"


def _groups_html(res: VoiResults) -> str:
    """Every group's EVPPI at both thresholds, each with its standard error and verdict."""
    t = res.table[res.table["measure"] == "EVPPI group"]
    if t.empty:
        return ""
    cells = []
    for name in dict.fromkeys(t["name"]):
        row = [f"<td>{_esc(name)}</td>"]
        for w in THRESHOLDS:
            r = t[(t["name"] == name) & (t["wtp_gbp_per_qaly"] == w)]
            if r.empty:
                row.append("<td class='n'>n/a</td><td>n/a</td>")
                continue
            r = next(r.itertuples())
            row.append(f"<td class='n'>{gbp(r.per_graduate_gbp, 2)} ± {gbp(r.se_gbp, 2)}</td>"
                       f"<td>{_esc(_verdict(r, _evpi_at(res, w)))}</td>")
        cells.append("<tr>" + "".join(row) + "</tr>")
    heads = "".join(f"<th class='n'>At £{w:,.0f} per QALY (± standard error), per graduate {_horizon(res)}</th><th></th>"
                    for w in THRESHOLDS)
    return (f"<table id='voi-groups'><tr><th>Group of parameters</th>{heads}</tr>{''.join(cells)}</table>"
            "<p class='note'>&ldquo;Not distinguishable from 0&rdquo;: the estimate is less than 1.96 standard errors "
            "from 0, so the data cannot tell it from no value at all. The standard error combines the regression's "
            "uncertainty with a bootstrap over the parameter draws.</p>")


def _horizon(res: VoiResults) -> str:
    """The horizon of the net benefit the values of information are in: 'over 24 months, discounted'
    (the runs' length; the sweep section records it), or '' when not known."""
    weeks = res.assumptions.get("weeks")
    return over(int(weeks), True) if weeks else ""


def _top_parameters_html(res: VoiResults, n: int = 5) -> str:
    t = res.table[(res.table["measure"] == "EVPPI parameter") & (res.table["wtp_gbp_per_qaly"] == THRESHOLDS[0])]
    t = t.sort_values("per_graduate_gbp", ascending=False).head(n)
    if t.empty:
        return ""
    if not t["per_graduate_gbp"].max() >= 0.005:
        return ("<p>No single parameter is worth learning on its own: each would be worth less than £0.01 per graduate "
                "(every parameter's value and standard error is in <code>voi.csv</code>).</p>")
    rows = "".join(
        f"<tr><td>{_esc(parameter_words(r.name))}<br><code>{_esc(r.name)}</code></td>"
        f"<td class='n'>{gbp(r.per_graduate_gbp, 2)}</td><td class='n'>{gbp(r.se_gbp, 2)}</td>"
        f"<td>{_esc(_verdict(r, _evpi_at(res, THRESHOLDS[0])))}</td><td class='n'>{gbp(r.population_gbp)}</td></tr>"
        for r in t.itertuples())
    return ("<h3>The single parameters worth most to learn, at £20,000 per QALY</h3>"
            f"<table><tr><th>Parameter</th><th class='n'>Value of perfect information, per graduate {_horizon(res)}</th>"
            "<th class='n'>Standard error</th><th>Distinguishable from 0?</th>"
            "<th class='n'>For the area's graduates over the decision</th></tr>"
            f"{rows}</table>")


def prim_and_evppi(res: VoiResults) -> list[dict]:
    """For each parameter a PRIM box names (``scenarios.csv``), at each threshold: its EVPPI and, when
    that is not distinguishable from 0, why the two can disagree. One dict per (threshold,
    parameter): ``wtp_gbp_per_qaly``, ``parameter`` (dotted key), ``evppi_gbp``, ``se_gbp``,
    ``distinguishable_from_0`` and ``words`` (the sentence the report shows, HTML).

    PRIM finds where a condition holds in the draws, whatever the margin; EVPPI counts how much net
    benefit learning a parameter would gain. A parameter can bound a box and still be worth little
    to learn: the box holds few draws, or inside it the strategy that wins does so by little (or,
    on average, not at all), or the wins there are partly the chance of single runs. The box's
    columns ``draws_in_box``, ``mass``, ``best_in_box``, ``nb_gain_in_box_gbp`` and
    ``value_of_knowing_box_gbp`` (written by the analysis) say which.
    """
    out = []
    table, boxes = res.table, res.boxes
    for w in THRESHOLDS:
        at = boxes[boxes["wtp_gbp_per_qaly"] == w] if len(boxes) else boxes
        rec = res.labels.get(res.recommended.get(w, ""), res.recommended.get(w, ""))
        for p in dict.fromkeys(at["parameter"]) if len(at) else []:
            row = table[(table["measure"] == "EVPPI parameter") & (table["name"] == p) & (table["wtp_gbp_per_qaly"] == w)]
            what = _esc(_lower_first(parameter_words(p)))
            if row.empty:
                out.append({"wtp_gbp_per_qaly": w, "parameter": p, "evppi_gbp": float("nan"), "se_gbp": float("nan"),
                            "distinguishable_from_0": False,
                            "words": f"PRIM names {what}; its value of information was not estimated."})
                continue
            r = next(row.itertuples())
            sure = bool(r.distinguishable_from_0)
            head = (f"PRIM names {what}; learning it alone would be worth "
                    f"{_judged(r.per_graduate_gbp, r.se_gbp, sure, bool(r.capped_at_evpi), _evpi_at(res, w))} per graduate")
            if sure:
                words = head + ": the two agree that it matters."
            else:
                reasons = []
                for (condition, number), b in at[at["parameter"] == p].groupby(["condition", "box"], sort=False):
                    b0 = b.iloc[0]
                    held = (f"the range of &ldquo;{_esc(condition)}&rdquo; holds {int(b0.draws_in_box)} of the "
                            f"{int(b0.draws)} draws ({100 * b0.mass:.0f}%)")
                    gain = getattr(b0, "nb_gain_in_box_gbp", float("nan"))
                    if not np.isfinite(gain):
                        reasons.append(held)
                    elif gain <= 0:
                        reasons.append(f"{held}, and inside it {_esc(q(rec))} still has the higher net benefit on average: "
                                       "the condition holds in many of its draws, but by less than it fails in the "
                                       "others, so knowing the parameter would not change the choice")
                    else:
                        reasons.append(
                            f"{held}; inside it {_esc(q(str(b0.best_in_box)))} is ahead of {_esc(q(rec))} by "
                            f"{gbp(gain, 2)} per graduate on average, so knowing whether the parameters lie there "
                            f"would be worth about {gbp(b0.value_of_knowing_box_gbp, 2)} per graduate (an optimistic "
                            "figure: the range was chosen on the same draws)")
                words = (head + ". Why PRIM still names it: " + "; ".join(reasons)
                         + ". PRIM finds where a strategy wins in the draws, by any margin and partly by the chance of "
                           "single runs; the value of information counts only net benefit that learning would gain.")
            out.append({"wtp_gbp_per_qaly": w, "parameter": p, "evppi_gbp": float(r.per_graduate_gbp),
                        "se_gbp": float(r.se_gbp), "distinguishable_from_0": sure, "words": words})
    return out


def _prim_evppi_html(res: VoiResults) -> str:
    items = prim_and_evppi(res)
    if not items:
        return ""
    lis = "".join(f"<li><b>At £{i['wtp_gbp_per_qaly']:,.0f} per QALY</b>: {i['words']}</li>" for i in items)
    return ("<h3 id='voi-prim'>The parameters scenario discovery names, and what learning them is worth</h3>"
            f"<ul class='plain'>{lis}</ul>")


def section(res: VoiResults, out_dir: Path | str, figures_dir: Path | str | None = None,
            study: Study = DEFAULT_STUDY, first_figure: int = 8) -> str:
    """Write ``voi.csv``, ``scenarios.csv`` and the section's figures into ``out_dir`` (figures into
    ``figures_dir``, default ``out_dir/figures``); return the section as an HTML fragment.

    ``res``: one population's numbers (:func:`read`), with the population the decision affects
    (graduates a year, years, discount rate) in ``res.assumptions``. ``study``: the kind and cost of
    the study the population value is set against (shown as an assumption).
    """
    out_dir = Path(out_dir)
    figures_dir = Path(figures_dir) if figures_dir else out_dir / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    a = res.assumptions
    graduates_per_year, years, discount_rate_per_year = (a["graduates_per_year"], a["decision_years"],
                                                         a["discount_rate_per_year"])
    write_table(out_dir / "voi.csv", res.table)
    write_table(out_dir / "scenarios.csv", res.boxes)
    for name, table in (("expected_loss.csv", res.loss), ("tornado.csv", res.tornado)):
        if not table.empty:
            write_table(out_dir / name, table)
    figs = [evpi_figure(res, a["population_graduates"]), evppi_figure(res), study_figure(res, study)]
    if not res.loss.empty:
        figs.append(expected_loss_figure(res))
    if not res.tornado.empty:
        figs.append(tornado_figure(res))
    rendered = []
    for i, f in enumerate(figs):
        rendered.append(_figure_html(f, rf.save(f, figures_dir), str(first_figure + i)))
        plt.close(f.fig)

    evpi = res.table[res.table["measure"] == "EVPI"].set_index("wtp_gbp_per_qaly")
    e20, e30 = evpi.loc[THRESHOLDS[0]], evpi.loc[THRESHOLDS[1]]
    pop_value = float(e20["population_gbp"])
    worth = pop_value >= study.cost_gbp
    lead = (
        f"<p>If every uncertain parameter were known before choosing, the decision would be better by "
        f"<b>{gbp(e20['per_graduate_gbp'], 2)} per graduate</b> "
        f"({_notes(e20['se_gbp'], bool(e20['distinguishable_from_0']), value=e20['per_graduate_gbp'])}) at £20,000 per QALY and "
        f"{_judged(e30['per_graduate_gbp'], e30['se_gbp'], bool(e30['distinguishable_from_0']))} at £30,000: "
        "the expected value of perfect information. For "
        f"an area with {graduates_per_year:,.0f} course graduates a year over {years} years (discounted at "
        f"{100 * discount_rate_per_year:g}% a year) that is <b>{gbp(pop_value)}</b> at £20,000 per QALY, the most any "
        f"research could be worth to it. {_esc(study.kind[0].upper() + study.kind[1:])} would cost about "
        f"{gbp(study.cost_gbp)} (assumed): "
        + ("<b>research of that kind could be worth doing</b>, if it targets the parameters below." if worth else
           "<b>more than perfect information could be worth</b>: on these numbers, fund on the current evidence "
           "rather than wait for a study.") + "</p>")
    has_all = (res.table["name"] == a["all_group"]).any()
    caveat = ("<p class='note'>Each parameter draw is also one run of a stochastic model, so part of the spread "
              "between draws is chance rather than uncertainty that research could resolve (much of it cancels "
              "between strategies, which share each run's graduates and events); the value of perfect information "
              "from the raw draws is therefore an upper estimate, and the regression estimates (EVPPI) smooth the "
              "chance away. "
              + (f"The value of perfect information on all parameters together (&ldquo;{_esc(a['all_group'])}&rdquo;) "
                 "is the estimate free of chance." if has_all else
                 f"With fewer than {a['draws_per_parameter']} draws per uncertain parameter, the value of all "
                 "parameters together cannot be estimated free of chance; run more draws "
                 "(<code>replicates=</code>) for it.") + "</p>")
    assumptions = (
        "<p class='note'><b>Assumptions of this section.</b> Graduates a year in the area: "
        f"{graduates_per_year:,.0f} (assumption: about 40 courses of 12 to 14); years the decision holds: {years} "
        f"(assumption); discount rate {100 * discount_rate_per_year:g}% a year (NICE); the study: {_esc(study.kind)}, "
        f"{gbp(study.cost_gbp)} ({_esc(study.source)}). Groups of parameters are by what they describe; every "
        "parameter's own value is in <code>voi.csv</code>, the boxes in <code>scenarios.csv</code>. Methods: EVPI "
        "from the draws with a bootstrap standard error; EVPPI by nonparametric regression of each strategy's net "
        "benefit (Strong, Oakley &amp; Brennan 2014; a penalised spline for one parameter, a Gaussian process for a "
        "group), each fit shrunk by its cross-validated calibration slope (Van Houwelingen &amp; le Cessie 1990) so "
        "that the chance of single runs is not fitted, never above the EVPI (an estimate above it is reported as the "
        "EVPI and flagged in <code>voi.csv</code>), with a standard error from the regression and a bootstrap over "
        "the draws; an estimate within 1.96 standard errors of 0 is called &ldquo;not distinguishable from "
        "0&rdquo;; flipping conditions by PRIM (Friedman &amp; Fisher 1999, the EMA Workbench's "
        "implementation; coverage: the share of the draws where it happens that the range holds; density: the "
        "share of the draws in the range where it happens).</p>")
    return "\n".join([
        "<h2 id='voi'>What evidence would change the answer</h2>",
        lead,
        rendered[0],
        "<h3>Which uncertainties matter</h3>",
        rendered[1],
        _groups_html(res),
        _top_parameters_html(res),
        "<h3>Is a study worth its cost?</h3>",
        rendered[2],
        *(["<h3>What each choice would lose</h3>", rendered[3]] if not res.loss.empty else []),
        *(["<h3>What moves the lead</h3>", rendered[-1]] if not res.tornado.empty else []),
        "<h3>When the recommendation flips</h3>",
        _flips_html(res),
        _prim_evppi_html(res),
        caveat,
        assumptions,
    ])


def missing_note(sweep_dir: Path, why: str) -> str:
    """The section when the analysis' files are missing or stale: a heading and how to make them
    (also said on stderr)."""
    how = (f"run <code>python -m experiments.analyses.decision {_esc(sweep_dir)}</code> and make the report again, or make "
           f"it with <code>python -m experiments.report {_esc(sweep_dir)}</code>, which runs the analysis first")
    print(f"warning: no value-of-information section: {why}; run python -m experiments.analyses.decision {sweep_dir} "
          f"(python -m experiments.report {sweep_dir} runs it first)", file=sys.stderr)
    return ("<h2 id='voi'>What evidence would change the answer</h2>"
            f"<p class='note'>Not in this report: {_esc(why)}. To add it, {how}.</p>")


def sweep_section(data, out_dir: Path | str, figures_dir: Path | str | None = None, first_figure: int = 8,
                  study: Study = DEFAULT_STUDY) -> str:
    """The section for a loaded PSA sweep (:class:`experiments.report.data.SweepData`), from the
    analysis' files in ``SWEEP_DIR/voi``: one part per population ("" when the sweep drew no
    parameters; a note saying how to make them when they are missing or were made from other
    runs). With several populations the files are ``voi_<population>/voi.csv`` and
    ``voi_<population>/scenarios.csv`` beside the combined ``voi.csv`` and ``scenarios.csv``."""
    if not getattr(data, "is_psa", False):
        return ""
    out_dir = Path(out_dir)
    folder = Path(data.sweep_dir) / FOLDER
    pops = data.populations()
    if not (folder / DECISION_JSON).is_file():
        return missing_note(data.sweep_dir, f"{folder / DECISION_JSON} is missing")
    record = json.loads((folder / DECISION_JSON).read_text(encoding="utf-8"))
    if set(pops) - set(record.get("populations", {})) or record.get("runs") not in (None, len(data.runs)):
        return missing_note(data.sweep_dir, f"{folder} was made from other runs than the sweep's "
                                            f"({record.get('runs')} runs, not {len(data.runs)})")
    def read_with_horizon(pop: str) -> VoiResults:
        res = read(folder, pop)
        res.assumptions.setdefault("weeks", data.weeks)  # the net benefit is over the runs' length, discounted
        return res

    if len(pops) == 1:
        return section(read_with_horizon(pops[0]), out_dir, figures_dir, study=study, first_figure=first_figure)
    parts, tables, boxes = [], [], []
    for i, pop in enumerate(pops):
        sub = out_dir / f"voi_{pop}"
        html_part = section(read_with_horizon(pop), sub, study=study, first_figure=first_figure + 5 * i)
        parts.append(html_part.replace("What evidence would change the answer",
                                       f"What evidence would change the answer — {_esc(pop)}", 1))
        tables.append(pd.read_csv(sub / "voi.csv").assign(population=pop))
        boxes.append(pd.read_csv(sub / "scenarios.csv").assign(population=pop))
    write_table(out_dir / "voi.csv", pd.concat(tables, ignore_index=True))
    write_table(out_dir / "scenarios.csv", pd.concat(boxes, ignore_index=True))
    return "\n".join(parts)


# --- a PRIM box in words -------------------------------------------------------------------------


def _value(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def describe_box(rows: pd.DataFrame, names: Mapping[str, str] | None = None) -> str:
    """One box of ``scenarios.csv`` (the rows of one ``condition`` and ``box``) in plain words, e.g.
    "mostly when the share of the lost gain one call restores is above 0.31 and cost is below 12:
    this range holds 42 of the 50 draws in which it happens (84% coverage); ...". "Mostly" when the
    density is at least 80%, "more often" below. ``names``: words for the parameters' dotted keys."""
    names = dict(names or {})
    r0 = rows.iloc[0]
    parts = []
    for r in rows.itertuples():
        what = names.get(r.parameter, r.parameter)
        low_cut, high_cut = r.low > r.range_low, r.high < r.range_high
        if low_cut and high_cut:
            parts.append(f"{what} is between {_value(r.low)} and {_value(r.high)}")
        elif low_cut:
            parts.append(f"{what} is above {_value(r.low)}")
        else:
            parts.append(f"{what} is below {_value(r.high)}")
    lead = "mostly when" if r0.density >= 0.8 else "more often when"
    return (f"{lead} {' and '.join(parts)}: this range holds {r0.cases_in_box} of the {r0.cases} draws in which it "
            f"happens ({100 * r0.coverage:.0f}% coverage); within the range it happens in {100 * r0.density:.0f}% of "
            f"draws (density; {100 * r0.base_rate:.0f}% overall), and the range holds {100 * r0.mass:.0f}% of all draws")
