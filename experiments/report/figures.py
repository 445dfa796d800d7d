"""The report's figures: each a function of the sweep's numbers, returning the figure and its title.

Every title states the finding, computed from the numbers; axes carry their units; each strategy
keeps its colour (Okabe-Ito, colour-blind safe) in every figure; names are plain words.
"""

from __future__ import annotations

import functools
import itertools
import math
import textwrap
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, MultipleLocator

from experiments.labels import (COST_COLOURS, COST_LABELS, MATCHED, SUBGROUP_NOTES, SUBGROUP_SHORT, SUBGROUPS, first,
                                 gbp, months, over, q, qalys)
from experiments.plots import grid_shape, used_axes
from experiments.report.data import (COST_EFFECTIVE, RULED_OUT, SweepData, acceptability_table, frontier,
                                     frontier_verdicts, ranking_holds, weekly_bands)
from sim import economics
from sim.costs import CATEGORIES
from sim.support import CHANNEL_TYPES

WIDTH_IN = 10.0  # figure width, inches (1,500 px at the report's 150 dpi)
#: Line styles of the willingness-to-pay thresholds (economics.WTP_THRESHOLDS_GBP), in turn: a
#: third threshold takes the first style again, it is never left out.
WTP_LINE_STYLES = ("--", ":", "-.")

#: The report's style, applied while each figure is drawn and saved (not globally).
STYLE = {
    "font.size": 10.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e4e4e4",
    "grid.linewidth": 0.8,
    "legend.frameon": False,
    "figure.dpi": 100,
    "svg.fonttype": "none",  # text stays text in the SVGs (searchable, smaller)
}


def styled(func):
    """Draw the figure under the report's style (rcParams are left as they were)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with plt.rc_context(STYLE):
            return func(*args, **kwargs)
    return wrapper


@dataclass
class Figure:
    """A finished figure: the file stem, the title that states the finding, how to read it."""

    name: str
    fig: plt.Figure
    title: str
    how_to_read: str


def _months_axis(ax, weeks: int) -> None:
    ax.set_xlim(0, weeks * 12 / 52)
    ax.xaxis.set_major_locator(MultipleLocator(3 if weeks > 26 else 1))
    ax.set_xlabel("Months since the course ended")


def _suptitle(fig, text: str) -> None:
    """The finding, as the figure's title, wrapped to the figure's width (matplotlib's own wrapping is slow)."""
    width = int(fig.get_figwidth() * 9.4)  # characters per line at 12.5 pt bold
    fig.suptitle(textwrap.fill(text, width), fontsize=12.5, fontweight="bold", x=0.01, ha="left")


def _summary(summary: pd.DataFrame, arm_key: str) -> pd.Series:
    return summary.set_index("arm").loc[arm_key]


def _gbp_axis(ax, axis: str = "y") -> None:
    fmt = FuncFormatter(lambda v, _: gbp(v))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


# --- (a) share self-managing over time --------------------------------------------------------


@styled
def self_managing(data: SweepData, summary: pd.DataFrame, population: str) -> Figure:
    arms = data.arms_in(population)
    bands = weekly_bands(data, "share_self_managing", 100.0)
    s = summary.set_index("arm")
    h = data.headline_week
    order = sorted(arms, key=lambda a: -s.loc[a.key, "share_h"])
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 5.2), constrained_layout=True)
    best, comp = order[0], data.comparator_of(order[0])
    for a in order:
        b = bands[bands["arm"] == a.key]
        x = b["week"] * 12 / 52
        # a PSA's bands (95% of draws) are wide: shown for the best strategy and the comparator only
        if not data.is_psa or a.key in (best.key, comp.key if comp else None):
            ax.fill_between(x, b["lo"], b["hi"], color=a.colour, alpha=0.18 if data.is_psa else 0.22, lw=0)
        ax.plot(x, b["mean"], color=a.colour, lw=2.4 if a.is_comparator else 2.0,
                ls="--" if a.is_comparator else "-",
                label=f"{a.label}: {100 * s.loc[a.key, 'share_h']:.0f}%")
    ax.axvline(h * 12 / 52, color="#777777", lw=0.9, ls=":")
    ax.text(h * 12 / 52, 2, f" {months(h)}", color="#555555", fontsize=9, va="bottom")
    _months_axis(ax, data.weeks)
    ax.set_ylim(0, 100)
    ax.set_ylabel("Graduates still self-managing (%)")
    ax.legend(title=f"Still self-managing at {months(h)}", loc="center left", bbox_to_anchor=(1.01, 0.5),
              fontsize=9.5, title_fontsize=9.5, alignment="left")
    title = (f"{q(best.label)} keeps the most graduates self-managing: {100 * s.loc[best.key, 'share_h']:.0f} in 100 "
             f"at {months(h)}")
    if comp is not None and comp.key != best.key:
        title += f", against {100 * s.loc[comp.key, 'share_h']:.0f} with the course alone"
    _suptitle(fig, title)
    band = (f"the shaded bands hold 95% of the parameter draws for {q(best.label)} and the course alone"
            if data.is_psa else
             "the shaded band is the 95% confidence interval of the mean")
    how = (f"Each line is the share of graduates who are responders: their measured self-efficacy (a "
           f"questionnaire score, with its measurement error) is at least {_threshold(data):g} SD above their "
           f"score before the course, week by week, averaged over "
           f"{int(summary['n_runs'].max())} {'parameter draws' if data.is_psa else 'replicate runs'}; {band}. "
           f"The legend gives each strategy's share at {months(h)}, highest first.")
    return Figure("a_self_managing", fig, title, how)


def _threshold(data: SweepData) -> float:
    """The responder threshold the runs used, SD of the measured pre-course score."""
    return float(((data.base_config.get("dynamics") or {}).get("measurement") or {}).get("responder_threshold_sd", 0.5))


@styled
def thresholds(data: SweepData, summary: pd.DataFrame, table: pd.DataFrame, population: str) -> Figure:
    """Extra responders per 100 graduates at the headline week against course only, for each
    follow-on strategy, as the responder threshold moves (``table``:
    :func:`experiments.report.data.responders_by_threshold`); the legend gives each strategy's
    standardised mean difference, which needs no threshold."""
    arms = [a for a in data.arms_in(population) if a.is_follow_on]
    t = table[table["population"] == population]
    s = summary.set_index("arm")
    h = months(data.headline_week)
    xs = sorted(t["threshold_sd"].unique())
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 5.0), constrained_layout=True)
    n = max(len(arms), 1)
    step = 0.012  # SD: strategies side by side at each threshold, so their whiskers do not overlap
    for i, a in enumerate(sorted(arms, key=lambda a: -s.loc[a.key, "smd_h"])):
        r = t[t["arm"] == a.key].sort_values("threshold_sd")
        x = r["threshold_sd"].to_numpy() + (i - (n - 1) / 2) * step
        m = r["extra_per_100"].to_numpy()
        ax.plot(x, m, color=a.colour, lw=2.0, marker="o", ms=5,
                label=f"{a.label}: {s.loc[a.key, 'smd_h']:+.2f} SD")
        lo, hi = r["extra_per_100_lo"].to_numpy(), r["extra_per_100_hi"].to_numpy()
        if np.isfinite(lo).all() and np.isfinite(hi).all():
            ax.errorbar(x, m, yerr=[m - lo, hi - m], fmt="none", ecolor=a.colour, elinewidth=1, capsize=2)
    used = _threshold(data)
    ax.axvline(used, color="#777777", lw=0.9, ls=":")
    ax.text(used, 0.98, f" the report's threshold, {used:g} SD", transform=ax.get_xaxis_transform(), va="top",
            fontsize=9, color="#555555")
    ax.axhline(0, color="#444444", lw=0.8)
    ax.set_xticks(xs, [f"{x:g} SD" for x in xs])
    ax.set_xlabel("Responder threshold: measured rise in self-efficacy since before the course\n"
                  "(SD of the pre-course score)")
    ax.set_ylabel(f"Extra responders at {h} against course only,\nper 100 graduates")
    ax.legend(title=f"Mean difference in measured\nself-efficacy at {h} (no threshold)", loc="center left",
              bbox_to_anchor=(1.01, 0.5), fontsize=9.5, title_fontsize=9.5, alignment="left")
    if arms:
        best = max(arms, key=lambda a: s.loc[a.key, "smd_h"])
        r = t[t["arm"] == best.key].set_index("threshold_sd")["extra_per_100"]
        title = (f"The count of extra responders at {h} depends on the threshold ({q(best.label)}: "
                 f"{r.loc[xs[0]]:+.0f} per 100 at {xs[0]:g} SD, {r.loc[xs[-1]]:+.0f} at {xs[-1]:g} SD); ")
        if ranking_holds(table, population):
            title += "the order of the strategies is the same at every threshold"
        else:
            lead = {x: t[(t["threshold_sd"] == x) & t["follow_on"]].sort_values("rank").iloc[0]["label"] for x in xs}
            title += ("the order of the strategies changes with it: " +
                      ", ".join(f"{q(lead[x])} first at {x:g} SD" for x in (xs[0], xs[-1])))
    else:
        title = "No follow-on support in this sweep"
    _suptitle(fig, title)
    how = (f"Each line is one strategy's extra responders per 100 graduates at {h} against the course alone (the "
           "same graduates and measurement errors, compared replicate by replicate), counting as a responder anyone "
           "whose measured self-efficacy rose by at least the threshold on the horizontal axis; whiskers are 95% "
           "intervals. The threshold is a convention (no minimal important difference is published for the "
           f"questionnaire; these runs use {used:g} SD, 0.5 SD being Park 2013's rule): the count moves with it, "
           "while the mean difference in the legend, the standardised mean difference a trial would report, needs no "
           "threshold. The numbers are in responders_by_threshold.csv.")
    return Figure("a_thresholds", fig, title, how)


# --- (b) gain at 6, 12, 24 months -------------------------------------------------------------


@styled

def _bars_by_time(ax, arms, summary: pd.DataFrame, column: str, weeks) -> None:
    """One bar per arm at each time point (``<column>_w<week>`` of the arm summary), with its 95%
    interval (``_lo``, ``_hi``)."""
    n = max(len(arms), 1)
    width = 0.8 / n
    for i, a in enumerate(arms):
        x = np.arange(len(weeks)) + (i - (n - 1) / 2) * width
        m = [summary.loc[a.key, f"{column}_w{w}"] for w in weeks]
        lo = [summary.loc[a.key, f"{column}_w{w}_lo"] for w in weeks]
        hi = [summary.loc[a.key, f"{column}_w{w}_hi"] for w in weeks]
        ax.bar(x, m, width * 0.92, color=a.colour, label=a.label)
        ax.errorbar(x, m, yerr=[np.subtract(m, lo), np.subtract(hi, m)], fmt="none", ecolor="#222222",
                    elinewidth=1, capsize=2)

def gains(data: SweepData, summary: pd.DataFrame, population: str) -> Figure:
    arms = data.arms_in(population)
    s = summary.set_index("arm")
    tps = data.timepoints
    fig, (left, right) = plt.subplots(1, 2, figsize=(WIDTH_IN, 4.8), constrained_layout=True,
                                      gridspec_kw={"width_ratios": [1, 1]})
    _bars_by_time(left, arms, s, "gain", tps)
    left.set_xticks(range(len(tps)), [months(w) for w in tps])
    left.set_xlabel("Time since the course ended")
    left.set_ylabel("Mean gain over pre-course level (SD units)")
    left.set_title("Gain still held", loc="left")
    left.grid(axis="x", visible=False)

    others = [a for a in arms if a.is_follow_on]  # extra gain from follow-on support
    _bars_by_time(right, others, s, "dgain", tps)
    right.axhline(0, color="#444444", lw=0.8)
    right.set_xticks(range(len(tps)), [months(w) for w in tps])
    right.set_xlabel("Time since the course ended")
    right.set_ylabel("Extra gain over course only (SD units)")
    right.set_title("Extra gain from follow-on support", loc="left")
    right.grid(axis="x", visible=False)
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(3, len(labels)), fontsize=9.5)

    last = tps[-1]
    comp = next((a for a in arms if a.is_comparator), None)
    fade = ""
    if comp is not None and len(tps) > 1:
        fade = (f"With the course alone the gain falls from {s.loc[comp.key, f'gain_w{tps[0]}']:.2f} SD at "
                f"{months(tps[0])} to {s.loc[comp.key, f'gain_w{last}']:.2f} SD at {months(last)}")
    if others:
        best = max(others, key=lambda a: s.loc[a.key, f"dgain_w{last}"])
        title = (f"{fade}; {q(best.label)} keeps {s.loc[best.key, f'dgain_w{last}']:.2f} SD more by then" if fade else
                 f"{q(best.label)} keeps the most gain: {s.loc[best.key, f'dgain_w{last}']:.2f} SD more than the course alone"
                 f" at {months(last)}")
    else:
        title = fade or "Gain over the pre-course level"
    _suptitle(fig, title)
    how = ("Left: the mean gain in self-management capability over each graduate's pre-course level, in standard "
           "deviations (SD) of the pre-course score; right: how much more each strategy keeps than the course alone "
           "(the same graduates and health events, compared replicate by replicate). Whiskers are 95% intervals.")
    return Figure("b_gains", fig, title, how)


# --- (c) who is reached and who benefits ------------------------------------------------------


@styled
def subgroups(data: SweepData, summary: pd.DataFrame, reach: pd.DataFrame, population: str) -> Figure:
    arms = [a for a in data.arms_in(population) if a.is_follow_on]
    s = summary.set_index("arm")
    groups = list(SUBGROUPS)
    fig, (left, right) = plt.subplots(1, 2, figsize=(WIDTH_IN, 5.6), constrained_layout=True, sharey=True)
    n = max(len(arms), 1)
    height = 0.8 / n
    y0 = np.arange(len(groups))[::-1]
    for i, a in enumerate(arms):
        y = y0 + ((n - 1) / 2 - i) * height
        r = reach[reach["arm"] == a.key].set_index("subgroup") if len(reach) else pd.DataFrame()
        vals = [100 * r.loc[k, "reached"] if k in r.index else np.nan for k, _, _ in groups]
        left.barh(y, vals, height * 0.92, color=a.colour, label=a.label)
        for yi, v in zip(y, vals):
            if np.isfinite(v):
                left.text(v + 1, yi, f"{v:.0f}%", va="center", fontsize=8, color="#333333")
        ext = ["extra_per_100_h" if k == "everyone" else f"extra_{k}_per_100_h" for k, _, _ in groups]
        m = [s.loc[a.key, e] for e in ext]
        lo = [s.loc[a.key, f"{e}_lo"] for e in ext]
        hi = [s.loc[a.key, f"{e}_hi"] for e in ext]
        right.barh(y, m, height * 0.92, color=a.colour)
        right.errorbar(m, y, xerr=[np.subtract(m, lo), np.subtract(hi, m)], fmt="none", ecolor="#222222",
                       elinewidth=1, capsize=2)
        for yi, v, top in zip(y, m, hi):
            if np.isfinite(v):
                right.text((top if np.isfinite(top) else v) + 0.6, yi, f"{v:+.0f}", va="center", fontsize=8,
                           color="#333333")
    left.set_yticks(y0, [SUBGROUP_SHORT[k] for k, _, _ in groups])
    left.set_xlim(0, 100)
    left.set_xlabel(f"Had any follow-on contact in {months(data.weeks)} (% of group)")
    left.set_title("Who is reached", loc="left")
    left.grid(axis="y", visible=False)
    right.axvline(0, color="#444444", lw=0.8)
    right.set_xlabel(f"Extra self-managing at {months(data.headline_week)}, per 100 in group")
    right.set_title("Who benefits (against course only)", loc="left")
    right.grid(axis="y", visible=False)
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(3, len(labels)), fontsize=9.5)

    title = _subgroup_finding(arms, s, reach)
    _suptitle(fig, title)
    reps = int(reach["runs"].max()) if len(reach) else 0
    how = (f"Left: the share of each group who had at least one contact with follow-on support (from {reps} "
           f"replicate run{'s' if reps != 1 else ''} per strategy, re-run with a record of every graduate). Right: "
           f"how many more people in each group are still self-managing at {months(data.headline_week)} than with the "
           "course alone, per 100 people in the group, with 95% intervals."
           + "".join(f" {SUBGROUP_NOTES[k]}" for k, _, _ in groups if k in SUBGROUP_NOTES))
    return Figure("c_subgroups", fig, title, how)


def _subgroup_finding(arms, s: pd.DataFrame, reach: pd.DataFrame) -> str:
    if not arms:
        return "No follow-on support in this sweep"
    parts = []
    if len(reach):
        r = reach.pivot(index="arm", columns="subgroup", values="reached")
        gaps = []
        for a in arms:
            if a.key in r.index:
                for k, label, _ in SUBGROUPS[1:]:
                    # a channel that cannot reach a group at all (the forum, people not online) is no finding
                    if k in r.columns and r.loc[a.key, "everyone"] > 0.2 and r.loc[a.key, k] > 0.01:
                        gaps.append((r.loc[a.key, k] / r.loc[a.key, "everyone"], a, k, label))
        if gaps:
            ratio, a, k, label = min(gaps, key=lambda g: g[0])
            if ratio < 0.6:
                parts.append(f"{q(a.label)} reaches only {100 * r.loc[a.key, k]:.0f}% of {label.lower()} "
                             f"(against {100 * r.loc[a.key, 'everyone']:.0f}% of everyone)")
    best = {}
    for k, label, _ in SUBGROUPS[1:]:
        col = f"extra_{k}_per_100_h"
        b = max(arms, key=lambda a: s.loc[a.key, col] if math.isfinite(s.loc[a.key, col]) else -np.inf)
        best[k] = b
    if len({b.key for b in best.values()}) == 1:
        b = next(iter(best.values()))
        k, label, _ = SUBGROUPS[1]  # the first subgroup the report follows, for the size of the help
        parts.append(f"{q(b.label)} helps every group most ({s.loc[b.key, f'extra_{k}_per_100_h']:+.0f} per "
                     f"100 {label[:1].lower()}{label[1:]})")
    else:
        words = "; ".join(f"{label.lower()}: {q(best[k].label)} ({s.loc[best[k].key, f'extra_{k}_per_100_h']:+.0f} "
                          "per 100)" for k, label, _ in SUBGROUPS[1:])
        parts.append(f"most help for {words}")
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


# --- (d) engagement per channel ---------------------------------------------------------------


@styled
def engagement(data: SweepData, population: str) -> Figure:
    """Each channel's engagement panels (declared in its module, sim/support/<channel>.py: its
    own, or the share enrolled where a strategy offers a channel that declares none), in the order
    the channels run; the grid is sized from the panels."""
    arms = [a for a in data.arms_in(population) if a.is_follow_on]
    w = data.weekly
    n = w["run_id"].map(data.runs.set_index("run_id")["n_graduates"])
    offered = {c for a in arms for c in _channels(a, every_channel=True)}
    panels = [(p, c.name) for c in CHANNEL_TYPES for p in c.panels()
              if c.engagement_panels is not None or c.name in offered]
    derived = {}
    for p, _ in panels:
        for key, measure in ((p.key, p.measure), (f"{p.key}_dashed", p.dashed)):
            if measure is None:
                continue
            m = w.eval(measure) if measure not in w.columns else w[measure]
            if p.scale == "share":
                derived[key] = 100 * m
            elif p.scale == "graduates":
                derived[key] = 100 * m / n
            else:  # "peak": of its largest value in the run
                derived[key] = 100 * m / m.groupby(w["run_id"]).transform("max").replace(0, np.nan)
    w = w.assign(**derived)
    view = SweepData(**{**data.__dict__, "weekly": w})
    rows, cols = grid_shape(len(panels), 2)
    fig, axes = plt.subplots(rows, cols, figsize=(WIDTH_IN, 3.7 * rows), constrained_layout=True, squeeze=False)
    facts = {}
    shown_arms = {}
    for ax, (panel, channel) in zip(used_axes(axes, len(panels)), panels):
        col, title, ylabel = panel.key, panel.title, panel.ylabel
        offering = [a for a in arms if channel in _channels(a, every_channel=True)]
        bands = weekly_bands(view, col) if offering else None
        for a in sorted(offering, key=lambda a: len(_channels(a, every_channel=True))):
            b = bands[(bands["arm"] == a.key) & (bands["week"] >= 1)]
            x = b["week"] * 12 / 52
            ax.fill_between(x, b["lo"], b["hi"], color=a.colour, alpha=0.2, lw=0)
            # one channel alone drawn wide underneath, so a mix that tracks it stays visible on top
            ax.plot(x, b["mean"], color=a.colour, lw=4.0 if len(_channels(a, every_channel=True)) == 1 else 1.6,
                    label=a.label)
            shown_arms[a.key] = a
        if panel.dashed is not None and offering:
            pb = weekly_bands(view, f"{col}_dashed")
            for a in offering:
                b = pb[(pb["arm"] == a.key) & (pb["week"] >= 1)]
                ax.plot(b["week"] * 12 / 52, b["mean"], color=a.colour, lw=1.2, ls="--")
            ax.text(0.98, 0.95, panel.dashed_note, transform=ax.transAxes, ha="right", va="top",
                    fontsize=8.5, color="#444444")
        if not offering:
            ax.text(0.5, 0.5, "No strategy in this sweep offers this", ha="center", va="center",
                    transform=ax.transAxes, color="#666666")
        else:
            solo = next((a for a in offering if _channels(a, every_channel=True) == [channel]),
                        next((a for a in offering if _channels(a) == [channel]), offering[0]))
            b = bands[bands["arm"] == solo.key].set_index("week")["mean"]
            first = b.loc[b.index >= 1]
            if len(first):
                below = first[first < 0.5 * first.iloc[0]]
                half = float(below.index[0]) if len(below) else None
                if panel.fact is not None:
                    facts[col] = panel.fact(float(first.iloc[0]), float(first.iloc[-1]), half, months(data.weeks))
        _months_axis(ax, data.weeks)
        ax.set_ylim(bottom=0)
        if panel.scale in ("share", "peak"):
            ax.set_ylim(0, 100)
        ax.set_title(title, loc="left")
        ax.set_ylabel(ylabel)
    handles = [plt.Line2D([], [], color=a.colour, lw=2, label=a.label) for a in arms if a.key in shown_arms]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(3, max(len(handles), 1)), fontsize=9.5)
    bits = list(facts.values())  # each panel's own words (its fact), in the order of the panels
    title = ("Engagement fades: " + "; ".join(bits)) if bits else "Engagement with follow-on support"
    _suptitle(fig, title)
    how = ("Each panel follows one channel for the strategies that offer it (mean over replicates, 95% band). "
           "Attendance is the share of a group's members at its latest meeting; groups close when meetings stay too "
           "small or a volunteer leader leaves; forum and call figures are per week.")
    return Figure("d_engagement", fig, title, how)


def _channels(arm, every_channel: bool = False) -> list[str]:
    """The matched channels an arm offers (peer groups, telephone, online group, ...), or with
    ``every_channel`` every channel it offers (a booster, a newsletter too)."""
    st = arm.config.get("strategy", {})
    names = [c.name for c in CHANNEL_TYPES] if every_channel else MATCHED
    return [c for c in names if (st.get(c) or {}).get("enabled")]


# --- (e) costs per graduate by category -------------------------------------------------------


@styled
def costs(data: SweepData, summary: pd.DataFrame, population: str) -> Figure:
    arms = data.arms_in(population)
    s = summary.set_index("arm")
    fig, (left, right) = plt.subplots(1, 2, figsize=(WIDTH_IN, 0.55 * len(arms) + 3.2), constrained_layout=True,
                                      sharey=True, gridspec_kw={"width_ratios": [1.1, 1]})
    y = np.arange(len(arms))[::-1]
    present = [c for c in CATEGORIES if any(s.loc[a.key, f"cost_{c}"] > 0 for a in arms)]
    base = np.zeros(len(arms))
    for c in present:
        v = np.array([s.loc[a.key, f"cost_{c}"] for a in arms])
        left.barh(y, v, 0.7, left=base, color=COST_COLOURS[c], label=COST_LABELS[c], edgecolor="white", lw=0.5)
        base += v
    for yi, total in zip(y, base):
        left.text(total, yi, f" {gbp(total)}", va="center", fontsize=9)
    left.set_yticks(y, [a.label for a in arms])
    left.set_xlim(0, base.max() * 1.18 if base.max() > 0 else 1)
    _gbp_axis(left, "x")
    left.set_xlabel(f"Cost per graduate {over(data.weeks, False)} (£, {_price_year(data)} prices)")
    left.set_title("What is spent, by category", loc="left")
    left.grid(axis="y", visible=False)

    others = [a for a in arms if not a.is_comparator]
    pos = np.zeros(len(arms))
    neg = np.zeros(len(arms))
    changed = [c for c in CATEGORIES if c != "course" and any(abs(s.loc[a.key, f"dcost_{c}"]) > 1e-9 for a in others)]
    for c in changed:
        v = np.array([0.0 if a.is_comparator else s.loc[a.key, f"dcost_{c}"] for a in arms])
        start = np.where(v >= 0, pos, neg)
        right.barh(y, v, 0.7, left=start, color=COST_COLOURS[c], edgecolor="white", lw=0.5,
                   label=None if c in present else COST_LABELS[c])
        pos += np.where(v >= 0, v, 0)
        neg += np.where(v < 0, v, 0)
    for yi, a in zip(y, arms):
        if a.is_comparator:
            right.text(0, yi, "  the comparator", va="center", fontsize=9, color="#555555")
            continue
        net = s.loc[a.key, "dcost"]
        right.plot([net], [yi], marker="D", color="black", ms=6, zorder=5)
        right.text(max(pos[list(y).index(yi)], net), yi, f"  net {gbp(net, sign=True)}", va="center", fontsize=9)
    right.axvline(0, color="#444444", lw=0.8)
    _gbp_axis(right, "x")
    lo = min(neg.min(), 0)
    hi = max(pos.max(), 1)
    right.set_xlim(lo * 1.15 - 5, hi * 1.45)
    right.set_xlabel(f"Difference from course only, per graduate {over(data.weeks, False)} (£)")
    right.set_title("Extra spending and savings; ◆ = net", loc="left")
    right.grid(axis="y", visible=False)
    handles, labels = [], []
    for ax in (left, right):
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    fig.legend(handles, labels, loc="outside lower center", ncol=min(4, len(labels)), fontsize=9.5)

    follow_on = [a for a in others if a.is_follow_on]  # not the no-course arm: it offers no support
    sup = [s.loc[a.key, "cost_support"] for a in follow_on]
    save = [-s.loc[a.key, "dcare"] for a in follow_on]
    if follow_on:
        title = (f"Follow-on support costs {gbp(min(sup))} to {gbp(max(sup))} per graduate {over(data.weeks, False)}; "
                 f"fewer GP and urgent-care visits give back {gbp(min(save))} to {gbp(max(save))} of it")
    else:
        title = f"Cost per graduate {over(data.weeks, False)}"
    _suptitle(fig, title)
    how = (f"Left: everything spent per graduate over {months(data.weeks)}, undiscounted, at {_price_year(data)} prices "
           "(every item inflated from its own price year). The course itself is the same for every strategy. Right: each "
           "strategy's spending minus the course-only spending, by category: support costs to the right, savings on GP, "
           "nurse and urgent-care contacts (from flare-ups managed without help) to the left; the diamond is the net "
           f"extra cost {over(data.weeks, False)}. The value-for-money section uses the same costs "
           f"{over(data.weeks, True)} (at {_discount_pct(data):g}% a year), so its figures are a little lower; the "
           f"summary table also gives the costs {first(data.headline_week)}.")
    return Figure("e_costs", fig, title, how)


def _discount_pct(data: SweepData) -> float:
    """The annual discount rate of costs and QALYs the runs used, percent."""
    outcomes = (data.base_config.get("dynamics") or {}).get("outcomes") or {}
    return 100 * float(outcomes.get("discount_rate_per_year", 0.035))


def _price_year(data: SweepData) -> int:
    return int((data.base_config.get("costs") or {}).get("price_year", 2024))


# --- (f) cost-effectiveness plane and acceptability curve -------------------------------------


@styled
def ce_plane(data: SweepData, summary: pd.DataFrame, population: str) -> Figure:
    arms = data.arms_in(population)
    others = [a for a in arms if a.is_follow_on]  # what to add to the course (the course itself: the summary)
    s = summary.set_index("arm")
    r = data.runs
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 5.6), constrained_layout=True)
    dq_col, dc_col = f"delta_{economics.QALY_COLUMN}", f"delta_{economics.COST_COLUMN}"
    pts = r[r["arm"].isin([a.key for a in others])]
    xmax = max(pts[dq_col].max() if len(pts) else 0, 1e-4) * 1.15
    xmin = min(pts[dq_col].min() if len(pts) else 0, 0) * 1.15
    ymax = max(pts[dc_col].max() if len(pts) else 0, 1) * 1.15
    ymin = min(pts[dc_col].min() if len(pts) else 0, 0) * 1.15
    for a in others:
        p = r[r["arm"] == a.key]
        ax.scatter(p[dq_col], p[dc_col], s=12, color=a.colour, alpha=0.35, lw=0)
        ax.scatter([s.loc[a.key, "dqaly"]], [s.loc[a.key, "dcost_disc"]], s=90, color=a.colour, edgecolor="black",
                   lw=1.0, zorder=5, label=f"{a.label}: {_icer_words(s.loc[a.key])}")
    front = frontier(data, summary, population)
    on = front[front["status"] == "frontier"]
    if len(on) > 1:  # the efficiency frontier: the strategies worth considering, joined in order of cost
        ax.plot(on["qalys"], on["cost_gbp"], color="#222222", lw=1.0, zorder=4, label="Efficiency frontier")
    xs = np.array([min(xmin, 0), xmax])
    for wtp, ls in zip(economics.WTP_THRESHOLDS_GBP, itertools.cycle(WTP_LINE_STYLES)):
        ax.plot(xs, wtp * xs, color="#555555", lw=1.2, ls=ls, label=f"£{wtp:,} per QALY line")
    ax.axhline(0, color="#444444", lw=0.8)
    ax.axvline(0, color="#444444", lw=0.8)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_xlabel(f"Extra QALYs per graduate against course only, {over(data.weeks, True)}")
    ax.set_ylabel(f"Extra cost per graduate against course only\n(£, {over(data.weeks, True)})")
    _gbp_axis(ax, "y")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9.5,
              title="Mean (large dot): cost per QALY\ngained against course only", title_fontsize=9.5,
              alignment="left")
    ax.text(0.99, 0.02, "below a line: QALYs bought for less than that price, against course only",
            transform=ax.transAxes, ha="right", va="bottom", fontsize=9, color="#333333")
    title = _ce_finding(data, summary, front, others)
    _suptitle(fig, title)
    kind = "parameter draw" if data.is_psa else "replicate"
    how = (f"Each small dot is one {kind}: a strategy's extra cost and extra QALYs per graduate against the course "
           f"alone, {over(data.weeks, True)} at {_discount_pct(data):g}% a year, on the same graduates. Large dots are "
           "the means. Below a line a strategy buys QALYs for less than that price against the course alone (NICE's "
           "thresholds are £20,000 and £30,000 per QALY); right of zero it gains health, above zero it costs more. "
           "The black line joins the strategies on the efficiency frontier. Being below a dashed line is not enough "
           "to be cost-effective: a strategy is cost-effective when it is on the efficiency frontier and its step from "
           "the next cheaper strategy on the frontier costs less than the threshold (the table below).")
    return Figure("f_ce_plane", fig, title, how)


def _ce_finding(data: SweepData, summary: pd.DataFrame, front: pd.DataFrame, others) -> str:
    """The plane's title, in the report's one meaning of "cost-effective" (the efficiency frontier and
    the £20,000 threshold, :func:`experiments.report.data.frontier_verdicts`)."""
    if not others:
        return "Cost-effectiveness plane"
    wtp = economics.WTP_THRESHOLDS_GBP[0]
    verdicts = frontier_verdicts(front, wtp)
    s = summary.set_index("arm")
    good = [a for a in others if verdicts.get(a.key) == COST_EFFECTIVE]
    out = [a for a in others if verdicts.get(a.key) in RULED_OUT]
    if not good:
        return f"No follow-on support is cost-effective at £{wtp:,} per QALY against the course alone"
    best = max(good, key=lambda a: s.loc[a.key, f"nmb_{wtp}"])
    text = (f"At £{wtp:,} per QALY, {len(good)} of {len(others)} strategies are cost-effective (on the efficiency "
            f"frontier, each step under £{wtp:,} per QALY); {q(best.label)} gives the most net benefit, "
            f"{gbp(s.loc[best.key, f'nmb_{wtp}'])} per graduate {over(data.weeks, True)}")
    if out:
        text += "; ruled out: " + ", ".join(q(a.label) for a in out)
    return text


def _icer_words(row: pd.Series) -> str:
    q = row["quadrant"]
    if q == "more effective, more costly":
        return f"{gbp(row['icer'])} per QALY"
    if q == "dominant":
        return "saves money and gains QALYs"
    if q == "dominated":
        return "costs more, gains nothing"
    if q == "less effective, less costly":
        return f"saves {gbp(row['icer'])} per QALY lost"
    return "no difference"


@styled
def acceptability(data: SweepData, population: str) -> tuple[Figure, pd.DataFrame]:
    arms = data.arms_in(population)
    table, draws = acceptability_table(data, population)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 5.0), constrained_layout=True)
    wtp = table["wtp_gbp_per_qaly"]
    for a in arms:
        ax.plot(wtp, table[a.key], color=a.colour, lw=2.2, ls="--" if a.is_comparator else "-", label=a.label)
    for w, ls in zip(economics.WTP_THRESHOLDS_GBP, itertools.cycle(WTP_LINE_STYLES)):
        ax.axvline(w, color="#777777", lw=1, ls=ls)
        ax.text(w, 1.02, f"£{w:,}", ha="center", va="bottom", fontsize=9, color="#333333")
    ax.set_ylim(0, 1.0)
    ax.set_xlim(0, wtp.max())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))
    _gbp_axis(ax, "x")
    ax.set_xlabel("Willingness to pay for one QALY (£)")
    ax.set_ylabel("Probability of being the most cost-effective")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9.5)
    at = table.set_index("wtp_gbp_per_qaly").loc[float(economics.WTP_THRESHOLDS_GBP[0])]
    best = max(arms, key=lambda a: at[a.key])
    title = (f"At £20,000 per QALY, {q(best.label)} is the most cost-effective choice in {100 * at[best.key]:.0f}% "
             f"of {draws} parameter draws")
    _suptitle(fig, title)
    how = (f"For each willingness to pay, the share of the {draws} draws of the uncertain parameters in which each "
           "strategy gives the highest net monetary benefit (value of QALYs gained minus cost). At every willingness to "
           "pay the curves add up to 100%.")
    return Figure("f_acceptability", fig, title, how), table


def save(figure: Figure, folder, dpi: int = 150) -> dict[str, str]:
    """Write the figure as PNG and SVG into ``folder``; return their paths."""
    from experiments.outputs import atomic_path

    paths = {}
    for ext in ("png", "svg"):
        path = folder / f"{figure.name}.{ext}"
        with atomic_path(path) as tmp, plt.rc_context(STYLE):
            figure.fig.savefig(tmp, format=ext, dpi=dpi, metadata={"Date": None} if ext == "svg" else None)
        paths[ext] = str(path)
    return paths
