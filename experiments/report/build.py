"""The report for commissioners: which follow-on support to fund, for whom, at what cost.

    python -m experiments.report SWEEP_DIR

Reads a finished sweep (``python -m experiments.run -m experiment=...``; collects it first if its
tables are missing or stale) and writes ``SWEEP_DIR/report/``:

* ``index.html``: one self-contained page (every image inside it) that opens without a server:
  the answer in brief, led by what needs no responder threshold (the mean difference in measured
  self-efficacy, SD, and QALYs per graduate); a summary table in plain words (those two, then
  extra self-managers per 100 graduates at 12 months, cost per graduate, cost per extra
  self-manager, ICER, net monetary benefit); figures (a) share self-managing over time and how the
  count of extra responders moves with the threshold, (b) gains at 6, 12 and 24 months, (c) who is
  reached and who benefits, (d) engagement per channel, (e) cost per graduate by category, (f) the
  cost-effectiveness plane with the efficiency frontier and, for a PSA (``experiment=psa``), the
  acceptability curve; (h) every cost and key parameter with value, source and price year,
  assumptions marked; (i) provenance.
* ``figures/*.png`` and ``figures/*.svg``: each figure on its own.
* ``summary.csv``: the summary table's numbers with their 95% intervals;
  ``responders_by_threshold.csv``: responders per 100 at 12 months at each threshold of
  :data:`sim.measurement.CURVE_THRESHOLDS_SD`, against course only; ``acceptability.csv`` for a PSA;
  ``dictionary.csv``: every column of every CSV of the folder (file, column, label, unit,
  description), from the outcome catalogue (:mod:`experiments.outcomes`).

The report says one thing one way: every money figure says its horizon and whether it is
discounted (:func:`experiments.labels.over`, :func:`experiments.labels.first`); "cost-effective"
means on the efficiency frontier with a step under the threshold
(:func:`experiments.report.data.frontier_verdicts`), and strategies are listed along the frontier;
QALYs are per graduate everywhere (:func:`experiments.labels.qalys`); sections, the contents list
and figures are numbered from the page's own headings (:func:`number_sections`).

The numbers come from :mod:`experiments.report.data` (using :mod:`sim.economics`), the figures
from :mod:`experiments.report.figures`.
"""

from __future__ import annotations

import argparse
import base64
import html
import math
import re
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from experiments.report import data as rd
from experiments.report import figures as rf
from experiments.report import voi as report_voi
from experiments.report import budget as report_budget
from experiments import outcomes
from experiments.outputs import EXIT_BAD_INPUT, EXIT_BAD_OUTPUT, OutputError, write_table, write_text
from experiments.report.assumptions import calibrated_keys, cost_rows, parameter_rows
from experiments.uncertainty import resolve
from experiments.labels import first, gbp, interval, months, num, over, q, qalys, strategy_gist
from sim import economics

CSS = """
body { font-family: "Segoe UI", Helvetica, Arial, sans-serif; color: #1d1d1d; max-width: 1080px; margin: 0 auto;
       padding: 24px 28px 48px; line-height: 1.5; font-size: 16px; background: #fff; }
h1 { font-size: 1.75em; margin: 0.2em 0 0.1em; line-height: 1.25; }
h2 { font-size: 1.3em; margin-top: 2.2em; border-bottom: 2px solid #0072B2; padding-bottom: 0.2em; }
h3 { font-size: 1.08em; margin-top: 1.6em; }
.sub { color: #555; margin-top: 0; }
.brief { background: #f3f8fc; border-left: 6px solid #0072B2; padding: 0.6em 1.3em 0.8em; margin: 1.4em 0; }
.brief li { margin: 0.45em 0; }
.brief h2 { border: none; margin-top: 0.5em; }
figure { margin: 1.2em 0 2em; }
figure img { width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #333; font-size: 0.93em; margin-top: 0.4em; }
figcaption .files { color: #666; font-size: 0.9em; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; margin: 0.8em 0 1.2em; }
th, td { border-bottom: 1px solid #ddd; padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; font-weight: 600; }
td.n { text-align: right; white-space: nowrap; }
th.n { text-align: right; font-size: 0.86em; }
td.v, th.v { text-align: right; }
code { word-break: break-all; }
table.summary td:first-child { min-width: 9em; }
table.summary { font-size: 0.86em; }
ul.plain li { margin: 0.5em 0; }
td .ci { display: block; color: #666; font-size: 0.88em; }
td .what { display: block; color: #555; font-size: 0.88em; margin-top: 0.2em; }
.swatch { display: inline-block; width: 0.85em; height: 0.85em; border-radius: 2px; margin-right: 0.4em;
          vertical-align: -0.05em; }
.yes { color: #a04000; font-weight: 600; }
.note { color: #444; font-size: 0.93em; }
code { font-size: 0.88em; background: #f6f6f6; padding: 0 3px; border-radius: 3px; }
nav ol { columns: 2; padding-left: 1.4em; }
footer { margin-top: 3em; border-top: 1px solid #ccc; padding-top: 0.8em; color: #444; font-size: 0.86em; }
footer dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.15em 1em; }
footer dt { font-weight: 600; }
footer dd { margin: 0; word-break: break-all; }
"""


def esc(text) -> str:
    return html.escape(str(text), quote=True)


# --- the answer in brief -----------------------------------------------------------------------


def brief(data: rd.SweepData, summary: pd.DataFrame, population: str, frontier: pd.DataFrame,
          ceac: pd.DataFrame | None, reach: pd.DataFrame) -> list[str]:
    """The three answers (what to fund, for whom, at what cost) and how sure, as HTML list items.

    It leads with what needs no responder threshold (the mean difference in measured self-efficacy,
    SD, and QALYs per graduate); responders per 100 are the plain-words count. "Cost-effective" has
    the one meaning of :func:`experiments.report.data.frontier_verdicts`, and strategies are listed
    along the efficiency frontier, never by a cost-per-responder ratio."""
    arms = data.arms_in(population)
    s = summary.set_index("arm")
    h, end = months(data.headline_week), data.weeks
    wtp, wtp_hi = economics.WTP_THRESHOLDS_GBP
    comp = next((a for a in arms if a.is_comparator), None)
    others = [a for a in arms if a.is_follow_on]
    no_course = next((a for a in arms if a.is_no_course), None)
    items = [_course_itself(data, s, no_course)] if no_course is not None and comp is not None else []
    if not others or comp is None:
        return items + ["<li>This sweep has no follow-on support to compare with course only.</li>"]
    verdicts = rd.frontier_verdicts(frontier, wtp)
    by_smd = sorted(others, key=lambda a: -s.loc[a.key, "smd_h"])
    items.append(
        f"<li><b>What follow-on support changes, with no threshold needed.</b> Mean difference in measured "
        f"self-efficacy at {h} against the course alone (standardised, SD of the pre-course score, as a trial would "
        "report it): " + "; ".join(
            f"{esc(q(a.label))} {num(s.loc[a.key, 'smd_h'], 2, sign=True)} SD "
            f"{esc(interval(s.loc[a.key, 'smd_h_lo'], s.loc[a.key, 'smd_h_hi'], digits=2, sign=True))}"
            for a in by_smd)
        + f". Extra QALYs per graduate {over(end, True)}: " + "; ".join(
            f"{esc(q(a.label))} {qalys(s.loc[a.key, 'dqaly'], sign=True)}" for a in by_smd) + ".</li>")

    fundable = [a for a in others if verdicts.get(a.key) == rd.COST_EFFECTIVE
                or (verdicts.get(a.key) == rd.REFERENCE and s.loc[a.key, f"nmb_{wtp}"] > 0)]
    if fundable:
        best = max(fundable, key=lambda a: s.loc[a.key, f"nmb_{wtp}"])
        b = s.loc[best.key]
        gist = strategy_gist(best.config.get("strategy", {}))
        top_hi = max(others, key=lambda a: s.loc[a.key, f"nmb_{wtp_hi}"])
        items.append(
            f"<li><b>Fund: {esc(q(best.label))}</b>{' (' + esc(gist) + ')' if gist else ''}. It raises measured "
            f"self-efficacy at {h} by <b>{num(b['smd_h'], 2, sign=True)} SD</b> "
            f"{esc(interval(b['smd_h_lo'], b['smd_h_hi'], digits=2, sign=True))} against the course alone and gains "
            f"<b>{qalys(b['dqaly'], sign=True)} QALYs per graduate</b> {over(end, True)}, at "
            f"{rf._icer_words(b)} against the course alone. In plain words: of every 100 graduates, "
            f"{100 * b['share_h']:.0f} are still self-managing at {h}, against {100 * s.loc[comp.key, 'share_h']:.0f} "
            f"with the course alone: {num(b['extra_per_100_h'])} more "
            f"{esc(interval(b['extra_per_100_h_lo'], b['extra_per_100_h_hi']))}. Support costs "
            f"{gbp(b['cost_support_h'])} per graduate {first(data.headline_week)} ({gbp(b['dcost_h'])} after savings "
            f"in GP and urgent care); the net extra cost {over(end, True)}, is {gbp(b['dcost_disc'])} per graduate. "
            + (f"It is cost-effective at £{wtp:,} per QALY (on the efficiency frontier, its step under £{wtp:,} per "
               f"QALY) with the highest net monetary benefit, {gbp(b[f'nmb_{wtp}'])} per graduate {over(end, True)}"
               if verdicts.get(best.key) == rd.COST_EFFECTIVE else
               f"It is the cheapest option on the efficiency frontier, with the highest net monetary benefit at "
               f"£{wtp:,} per QALY, {gbp(b[f'nmb_{wtp}'])} per graduate {over(end, True)}")
            + (f", and the highest at £{wtp_hi:,} too ({gbp(b[f'nmb_{wtp_hi}'])})" if top_hi.key == best.key else
               f"; at £{wtp_hi:,} per QALY {esc(q(top_hi.label))} has the highest")
            + ".</li>")
        # the next option down the efficiency frontier: what to fund if the best is out of reach
        step = frontier[(frontier["name"] == best.key) & (frontier["status"] == "frontier")]
        below = step["compared_with"].iloc[0] if len(step) else None
        if isinstance(below, str) and below != comp.key:
            c, nxt = s.loc[below], data.arm(below)
            items.append(
                f"<li><b>On a tighter budget: {esc(q(nxt.label))}</b>, the next option down the efficiency frontier: "
                f"{num(c['smd_h'], 2, sign=True)} SD in measured self-efficacy and {qalys(c['dqaly'], sign=True)} "
                f"QALYs per graduate ({num(c['extra_per_100_h'], sign=True)} self-managing per 100 at {h}), for "
                f"{gbp(c['dcost_disc'])} per graduate net {over(end, True)}. Stepping up from it to "
                f"{esc(q(best.label))} costs {gbp(step['icer_vs_previous'].iloc[0])} per extra QALY.</li>")
    else:
        best = max(others, key=lambda a: s.loc[a.key, f"nmb_{wtp}"])
        items.append(f"<li><b>No follow-on support is cost-effective at £{wtp:,} per QALY</b> in this sweep (none is "
                     f"on the efficiency frontier with its step under £{wtp:,} per QALY); the closest is "
                     f"{esc(q(best.label))} (net monetary benefit {gbp(s.loc[best.key, f'nmb_{wtp}'])} per graduate "
                     f"{over(end, True)}).</li>")
    items.append(_along_the_frontier(data, s, frontier, verdicts, wtp))

    items.append("<li><b>For whom</b> (extra people self-managing against the course alone):"
                 + _for_whom(data, s, others, reach) + "</li>")

    if data.is_psa and ceac is not None:
        at = ceac.set_index("wtp_gbp_per_qaly").loc[float(wtp)]
        top = max(arms, key=lambda a: at[a.key])
        items.append(f"<li><b>How sure.</b> Drawing every uncertain parameter {len(data.psa_draws)} times, "
                     f"{esc(q(top.label))} has the highest net monetary benefit (the most cost-effective choice) in "
                     f"{100 * at[top.key]:.0f}% of draws at £{wtp:,} per QALY; {esc(q(best.label))} has a positive net "
                     f"monetary benefit against the course alone in {100 * s.loc[best.key, f'p_nmb_pos_{wtp}']:.0f}% "
                     "of draws.</li>")
    else:
        items.append(f"<li><b>How sure.</b> The intervals show chance variation between {int(summary['n_runs'].max())} "
                     "replicate runs only, with every parameter at its base value. How much the answer depends on "
                     "uncertain parameters is what the probabilistic sensitivity analysis shows "
                     "(<code>experiment=psa</code>, which adds an acceptability curve to this report).</li>")
    assumed_costs = sum(r["assumption"] for r in cost_rows(data.base_config))
    n_costs = len(cost_rows(data.base_config))
    fitted = {"priors": "the priors of the design, hand-tuned to the trial results",
              "calibrated": "calibrated to the trial results, including the trials of peer and telephone support, "
                            "and to engagement figures (docs/calibration/report.md)"}
    items.append(f"<li><b>Caveats.</b> These are model results for {esc(_population_label(data, population))}, not "
                 f"trial results. {assumed_costs} of the {n_costs} unit costs are assumptions (section "
                 f"{section_ref('assumptions')}); the behaviour parameters are "
                 + esc(fitted.get(data.dynamics_choice, f"the '{data.dynamics_choice or 'default'}' set")) + ". "
                 "<b>Isolation</b>, the study's central claim (without company, people could not keep up what they "
                 "had learnt), is not pinned down by any evidence we found: the model cannot tell it from a faster "
                 "fade for everyone, and the answer for support that brings company (groups, calls) rests on it. The "
                 "probabilistic sensitivity analysis draws it over its whole plausible range.</li>")
    return items


def _along_the_frontier(data: rd.SweepData, s: pd.DataFrame, frontier: pd.DataFrame, verdicts: dict[str, str],
                        wtp: float) -> str:
    """The strategies in order along the efficiency frontier, each step's price per extra QALY, and
    those the frontier rules out (dominated, or a mix of neighbours would do better), as an HTML item."""
    end = data.weeks
    steps, out = [], []
    for r in frontier.itertuples():
        a = data.arm(r.name)
        if r.status == "frontier" and a.is_comparator:
            steps.append(esc(q(a.label)))
        elif r.status == "frontier":
            price = (f", {gbp(r.icer_vs_previous)} per extra QALY" if isinstance(r.compared_with, str) else "")
            above = f", above £{wtp:,}" if verdicts.get(r.name) == rd.ABOVE_THRESHOLD else ""
            steps.append(f"{esc(q(a.label))} ({gbp(r.cost_gbp, sign=True)}, {qalys(r.qalys, sign=True)} QALYs"
                         f"{price}{above})")
        else:
            why = "dominated" if r.status == "dominated" else "extendedly dominated"
            out.append(f"{esc(q(a.label))} ({why}; {num(s.loc[r.name, 'extra_per_100_h'], sign=True)} self-managing "
                       f"per 100 at {months(data.headline_week)})")
    text = (f"<li><b>Along the efficiency frontier</b>, from the cheapest (extra cost and QALYs per graduate against "
            f"the course alone, {over(end, True)}; each step's price against the one before): "
            + " → ".join(steps) + ".")
    good = [data.arm(k).label for k, v in verdicts.items() if v == rd.COST_EFFECTIVE]
    text += (f" Cost-effective at £{wtp:,} per QALY (each step up to it under £{wtp:,}): "
             + ", ".join(esc(q(g)) for g in good) + "." if good else
             f" None is cost-effective at £{wtp:,} per QALY: every step costs more.")
    if out:
        text += " Ruled out, whatever the threshold: " + "; ".join(out) + "."
    return text + "</li>"


def _course_itself(data: rd.SweepData, s: pd.DataFrame, no_course: rd.Arm) -> str:
    """The course against no course: the no-course arm's increments are the course's, reversed."""
    r, h = s.loc[no_course.key], months(data.headline_week)
    lost = -r["extra_per_100_h"]
    icer = economics.icer(-r["dcost_disc"], -r["dqaly"])
    quadrant = economics.quadrant(-r["dcost_disc"], -r["dqaly"])
    value = (f"{gbp(icer)} per QALY gained" if quadrant == "more effective, more costly"
             else {"dominant": "it saves money and gains QALYs", "dominated": "it costs more for no gain"}.get(
                 quadrant, quadrant))
    return (f"<li><b>The course itself</b>, against people referred who did not take it: measured self-efficacy "
            f"{num(-r['smd_h'], 2, sign=True)} SD at {h} {esc(interval(-r['smd_h_hi'], -r['smd_h_lo'], digits=2, sign=True))}"
            f" and {qalys(-r['dqaly'], sign=True)} QALYs per graduate {over(data.weeks, True)}, for "
            f"{gbp(-r['dcost_disc'])} per graduate {over(data.weeks, True)}, after care savings ({gbp(r['dcare'])} "
            f"{over(data.weeks, False)}): {value}. In plain words, {num(lost)} more in 100 self-managing at {h} "
            f"{esc(interval(-r['extra_per_100_h_hi'], -r['extra_per_100_h_lo']))}. The rest of this summary is about "
            "what to add after the course.</li>")


def _for_whom(data, s, others, reach) -> str:
    parts = []
    r = reach.pivot(index="arm", columns="subgroup", values="reached") if len(reach) else pd.DataFrame()
    for key, label, _ in rd.SUBGROUPS[1:]:
        col = f"extra_{key}_per_100_h"
        ok = [a for a in others if math.isfinite(s.loc[a.key, col])]
        if not ok:
            continue
        # a channel that cannot reach the group at all (the forum, people not online) is said apart
        unreached = [a for a in ok if key in r.columns and a.key in r.index and r.loc[a.key, key] == 0]
        ok = [a for a in ok if a not in unreached] or ok
        top = max(ok, key=lambda a: s.loc[a.key, col])
        low = min(ok, key=lambda a: s.loc[a.key, col])
        text = (f"<b>{label}:</b> {esc(q(top.label))} helps most ({num(s.loc[top.key, col], sign=True)} "
                f"self-managing per 100 at {months(data.headline_week)})")
        if low.key != top.key:
            text += f"; {esc(q(low.label))} least ({num(s.loc[low.key, col], sign=True)}"
            if key in r.columns and low.key in r.index:
                text += f"; it reaches {100 * r.loc[low.key, key]:.0f}% of them"
            text += ")"
        if unreached:
            text += "; " + " and ".join(esc(q(a.label)) for a in unreached) + " cannot reach them"
        parts.append(f"<li>{text}.</li>")
    return f"<ul>{''.join(parts)}</ul>" if parts else "No subgroup results."


def _population_label(data: rd.SweepData, population: str) -> str:
    cfg = next(a.config for a in data.arms if a.population == population)
    return (cfg.get("population") or {}).get("label", population).lower()


# --- tables ------------------------------------------------------------------------------------


def summary_table(data: rd.SweepData, summary: pd.DataFrame, population: str, ceac: pd.DataFrame | None,
                  frontier: pd.DataFrame | None = None) -> str:
    """The summary table (HTML): first what needs no responder threshold (mean difference in measured
    self-efficacy, SD; QALYs per graduate), then responders per 100 and the costs, every money
    column saying its horizon and whether it is discounted; then each strategy in plain words, its
    verdict read from the efficiency frontier (``frontier``; computed when not given)."""
    arms = data.arms_in(population)
    s = summary.set_index("arm")
    h, end = months(data.headline_week), data.weeks
    wtp, wtp_hi = economics.WTP_THRESHOLDS_GBP
    cols = [
        f"Mean difference in measured self-efficacy at {h} against course only (SD)",
        f"Extra QALYs per graduate against course only, {over(end, True)}",
        f"Still self-managing at {h}, per 100 graduates",
        f"Extra self-managers per 100 graduates at {h}, against course only",
        f"Cost of support per graduate, {first(data.headline_week)}",
        f"Net extra cost per graduate, {first(data.headline_week)}, after care savings",
        f"Cost per extra person still self-managing at {h} (net cost {first(data.headline_week)})",
        f"Net extra cost per graduate, {over(end, True)}, after care savings",
        f"ICER against course only: extra cost per QALY gained, {over(end, True)}",
        f"Net monetary benefit per graduate, {over(end, True)}, at £{wtp:,} / £{wtp_hi:,} per QALY",
    ]
    if data.is_psa and ceac is not None:
        cols.append(f"Chance of the highest net monetary benefit (most cost-effective) at £{wtp:,} per QALY")
    head = "<tr><th>Strategy</th>" + "".join(f'<th class="n">{esc(c)}</th>' for c in cols) + "</tr>"
    rows = []
    at = ceac.set_index("wtp_gbp_per_qaly").loc[float(wtp)] if ceac is not None else None
    for a in arms:
        r = s.loc[a.key]
        share = _cell(num(100 * r["share_h"]), interval(100 * r["share_h_lo"], 100 * r["share_h_hi"]))
        if a.is_comparator:
            cells = [_cell("—", "the comparator"), _cell("—"), share] + [_cell("—")] * (len(cols) - 3 - (at is not None))
        else:
            cells = [
                _cell(num(r["smd_h"], 2, sign=True), interval(r["smd_h_lo"], r["smd_h_hi"], digits=2, sign=True)),
                _cell(qalys(r["dqaly"], sign=True), interval(r["dqaly_lo"], r["dqaly_hi"], fmt=qalys, sign=True)),
                share,
                _cell(num(r["extra_per_100_h"], sign=True), interval(r["extra_per_100_h_lo"], r["extra_per_100_h_hi"], sign=True)),
                _cell(gbp(r["cost_support_h"])),
                _cell(gbp(r["dcost_h"]), interval(r["dcost_h_lo"], r["dcost_h_hi"], fmt=gbp)),
                _cell(gbp(r["cost_per_extra_h"]), interval(r["cost_per_extra_h_lo"], r["cost_per_extra_h_hi"], fmt=gbp)),
                _cell(gbp(r["dcost_disc"]), interval(r["dcost_disc_lo"], r["dcost_disc_hi"], fmt=gbp)),
                _cell(_icer_cell(r), interval(r["icer_lo"], r["icer_hi"], fmt=gbp)),
                _cell(f"{gbp(r[f'nmb_{wtp}'])} / {gbp(r[f'nmb_{wtp_hi}'])}",
                      f"positive in {100 * r[f'p_nmb_pos_{wtp}']:.0f}% / {100 * r[f'p_nmb_pos_{wtp_hi}']:.0f}% of "
                      f"{'draws' if data.is_psa else 'replicates'}"),
            ]
        if at is not None:
            cells.append(_cell(f"{100 * at[a.key]:.0f}%"))
        name = f'<td><span class="swatch" style="background:{a.colour}"></span><b>{esc(a.label)}</b></td>'
        rows.append("<tr>" + name + "".join(cells) + "</tr>")
    front = rd.frontier(data, summary, population) if frontier is None else frontier
    verdicts = {w: rd.frontier_verdicts(front, w) for w in (wtp, wtp_hi)}
    words = "".join(f'<li><span class="swatch" style="background:{a.colour}"></span><b>{esc(a.label)}.</b> '
                    f"{esc(_verdict(a, s.loc[a.key], data, front, verdicts))}</li>" for a in arms)
    return (f"<table class='summary'>{head}{''.join(rows)}</table>"
            f"<h3>Each strategy in plain words</h3><ul class='plain'>{words}</ul>")


def group_survival_table(data: rd.SweepData, population: str) -> str:
    """Peer groups still meeting, month by month, for the strategies that run groups (HTML)."""
    if "peer_group_survival_share" not in data.weekly.columns:
        return ""
    arms = [a for a in data.arms_in(population) if a.is_follow_on]
    bands = rd.weekly_bands(data, "peer_group_survival_share", 100.0)
    bands = bands[bands["arm"].isin([a.key for a in arms])]
    with_groups = [a for a in arms if (bands.loc[bands["arm"] == a.key, "mean"] > 0).any()]
    if not with_groups:
        return ""
    weeks = [w for w in (13, 26, 39, 52, 78, 104) if w <= data.weeks]
    head = "<tr><th>Strategy</th>" + "".join(f'<th class="n">{months(w)}</th>' for w in weeks) + "</tr>"
    rows = []
    for a in with_groups:
        b = bands[bands["arm"] == a.key].set_index("week")
        cells = "".join(_cell(f"{b.loc[w, 'mean']:.0f}%", interval(b.loc[w, "lo"], b.loc[w, "hi"])) for w in weeks)
        rows.append(f'<tr><td><span class="swatch" style="background:{a.colour}"></span>{esc(a.label)}</td>{cells}</tr>')
    return ("<h3>Peer groups still meeting</h3><p class='note'>Share of the groups formed that still meet, by months "
            "since the course. Self-help groups close mostly for poor attendance and loss of leaders (Wituk et al. "
            "2002); about 7 in 10 still meet a year on (docs/odd.md, section 6).</p>"
            f"<table class='summary'>{head}{''.join(rows)}</table>")


def _cell(value: str, ci: str = "") -> str:
    return f'<td class="n">{esc(value)}' + (f'<span class="ci">{esc(ci)}</span>' if ci else "") + "</td>"


def _icer_cell(r) -> str:
    q = r["quadrant"]
    if q == "more effective, more costly":
        return gbp(r["icer"])
    return {"dominant": "Saves money, gains QALYs", "dominated": "Costs more, no gain",
            "less effective, less costly": f"Saves {gbp(r['icer'])} per QALY lost", "same": "No difference"}.get(q, "")


def _verdict(arm, r, data, front: pd.DataFrame, verdicts: dict[float, dict[str, str]]) -> str:
    """One or two sentences in plain words for a strategy's row; "cost-effective" read from the
    efficiency frontier (``front``) at each threshold (``verdicts``: threshold -> arm -> verdict)."""
    if arm.is_comparator:
        return (f"The course and nothing after it. {100 * r['share_h']:.0f} in 100 graduates are still self-managing "
                f"at {months(data.headline_week)}.")
    if arm.is_no_course:
        return ("People referred who did not take the course (the waiting-list arm of the EPP trial): no course, "
                "no support; nobody's self-management changes. Its row is the course's effect, reversed.")
    h = months(data.headline_week)
    text = (f"{arm.description} Measured self-efficacy at {h} {num(r['smd_h'], 2, sign=True)} SD against the course "
            f"alone; {qalys(r['dqaly'], sign=True)} QALYs per graduate {over(data.weeks, True)}. ")
    if r["extra_per_100_h"] > 0 and math.isfinite(r["cost_per_extra_h"]):
        text += (f"Keeps {num(r['extra_per_100_h'])} more in 100 self-managing at {h}, for "
                 f"{gbp(r['cost_per_extra_h'])} each (net cost {first(data.headline_week)}). ")
    wtp, wtp_hi = economics.WTP_THRESHOLDS_GBP
    low, high = verdicts[wtp].get(arm.key), verdicts[wtp_hi].get(arm.key)
    row = front.set_index("name").loc[arm.key] if arm.key in set(front["name"]) else None
    step = ""
    if row is not None and isinstance(row["compared_with"], str):
        step = (f"its step up from {q(data.arm(row['compared_with']).label)} costs {gbp(row['icer_vs_previous'])} per "
                f"extra QALY ({over(data.weeks, True)})")
    if low == rd.DOMINATED:
        text += ("Ruled out: dominated (another strategy costs less and gains more QALYs), so not cost-effective at "
                 "any threshold.")
    elif low == rd.EXTENDEDLY_DOMINATED:
        text += ("Ruled out by extended dominance: a mix of its neighbours on the efficiency frontier would gain more "
                 "QALYs for the same money, so not cost-effective at any threshold"
                 + (f", although its net monetary benefit against the course alone is {gbp(r[f'nmb_{wtp}'])} per "
                    f"graduate at £{wtp:,} per QALY" if r[f"nmb_{wtp}"] > 0 else "") + ".")
    elif low == rd.COST_EFFECTIVE:
        text += f"On the efficiency frontier: {step}. Cost-effective at £{wtp:,} per QALY."
    elif low == rd.ABOVE_THRESHOLD and high == rd.COST_EFFECTIVE:
        text += f"On the efficiency frontier: {step}. Cost-effective at £{wtp_hi:,} per QALY, not at £{wtp:,}."
    elif low == rd.ABOVE_THRESHOLD:
        text += f"On the efficiency frontier, but {step}: not cost-effective at £{wtp_hi:,} per QALY."
    elif low == rd.REFERENCE:
        text += "The cheapest option on the efficiency frontier: the others are compared with it."
    return text


def assumptions_tables(data: rd.SweepData) -> str:
    cfg = data.base_config
    psa = {u.key: u for u in resolve(data.psa_parameters, data.base_config)}
    costs = cfg.get("costs") or {}
    year = costs.get("price_year", 2024)
    out = [f"<h3>Unit costs (GBP), inflated to {esc(year)} prices</h3>"]
    head = ("<tr><th>Item</th><th class='n'>Value as given</th><th class='n'>Price year</th>"
            f"<th class='n'>At {esc(year)} prices</th><th>Source</th><th>Assumption?</th>"
            + ("<th>PSA distribution</th>" if psa else "") + "</tr>")
    rows = []
    for r in cost_rows(cfg):
        u = psa.get(f"{r['key']}.value_gbp")
        rows.append(
            f"<tr><td>{esc(r['item'])}<br><code>{esc(r['key'])}</code></td><td class='n'>{gbp(r['value_gbp'], 2)}</td>"
            f"<td class='n'>{r['price_year']}</td><td class='n'>{gbp(r['value_at_price_year_gbp'], 2)}</td>"
            f"<td>{esc(r['source'])}</td><td>{_yes(r['assumption'])}</td>"
            + (f"<td>{esc(u.describe()) if u else 'fixed'}</td>" if psa else "") + "</tr>")
    out.append(f"<table class='prices'>{head}{''.join(rows)}</table>")  # unit prices: no horizon, not discounted
    index = costs.get("inflation_index") or {}
    out.append("<p class='note'>Price index: " + ", ".join(f"{y}: {v:g}" for y, v in index.items())
               + f". Source: {esc(costs.get('inflation_index_source', ''))}. A value is inflated as value × "
               f"index[{esc(year)}] / index[its price year].</p>")

    varied: dict[str, list] = {}
    for p in data.parameters:
        varied[p] = sorted(data.runs[p].dropna().unique().tolist(), key=str)
    out.append("<h3>Key parameters</h3>")
    head = ("<tr><th>Parameter</th><th class='v'>Value</th><th>Units</th><th>Source</th><th>Assumption?</th>"
            + ("<th>PSA distribution</th>" if psa else "") + "</tr>")
    rows = []
    listed = set()
    for r in parameter_rows(cfg, varied, calibrated_keys(data.dynamics_choice)):
        u = psa.get(r["key"])
        listed.add(r["key"])
        rows.append(
            f"<tr><td>{esc(r['parameter'])}<br><code>{esc(r['key'])}</code></td><td class='v'>{esc(r['value'])}</td>"
            f"<td>{esc(r['units'])}</td><td>{esc(r['source'])}</td><td>{_status(r['status'])}</td>"
            + (f"<td>{esc(u.describe()) if u else 'fixed'}</td>" if psa else "") + "</tr>")
    for key, u in psa.items():  # uncertain parameters not listed above
        if key in listed or key.startswith("costs.items."):
            continue
        base = _lookup(cfg, key)
        rows.append(f"<tr><td>{esc(key.rsplit('.', 1)[-1].replace('_', ' '))}<br><code>{esc(key)}</code></td>"
                    f"<td class='v'>{esc(base)}</td><td></td><td>{esc(u.source)}</td><td>{_yes(u.assumption)}</td>"
                    f"<td>{esc(u.describe())}</td></tr>")
    out.append(f"<table>{head}{''.join(rows)}</table>")
    out.append("<p class='note'>Every parameter, its units, range and source: <code>docs/odd.md</code> and "
               "<code>sim/params.py</code>; the resolved configuration of every run is in "
               "<code>runs/&lt;run&gt;/config.yaml</code>. In a PSA, the value shown is the base case; each replicate "
               "draws its own value from the distribution.</p>")
    return "\n".join(out)


def _lookup(cfg, key):
    node = cfg
    for part in key.split("."):
        node = (node or {}).get(part) if isinstance(node, dict) else None
    return "" if node is None else (f"{node:g}" if isinstance(node, float) else node)


def _yes(flag: bool) -> str:
    return "<span class='yes'>Assumption</span>" if flag else "Sourced"


def _status(status: str) -> str:
    return "<span class='yes'>Assumption</span>" if status == "Assumption" else esc(status)


def provenance_footer(data: rd.SweepData) -> str:
    p = rd.provenance(data)
    seeds = p["seeds"]
    seed_text = ", ".join(str(s) for s in seeds[:6]) + (f", … ({len(seeds)} in all)" if len(seeds) > 6 else "")
    hashes = "; ".join(f"{esc(k)}: <code>{esc(v)}</code>" for k, v in p["config_hashes"].items())
    versions = ", ".join(f"{esc(k)} {esc(v)}" for k, v in p["versions"].items())
    rows = [
        ("Sweep", f"<code>{esc(p['sweep_dir'])}</code>, {p['runs']} runs"
                  + (f", started {esc(p['sweep_started'])}" if p["sweep_started"] else "")),
        ("Config hashes (replicate 0)", hashes),
        ("Sweep digest", f"<code>{esc(p['sweep_digest'])}</code> (hash of every run's config hash)"),
        ("Seeds", f"base seed {', '.join(map(str, p['base_seeds']))}; {p['replicates']} replicates with model seeds "
                  f"{esc(seed_text)} (every strategy of a replicate uses the same seed)"),
        ("Package", f"after-the-course {esc(', '.join(p['run_package_versions']))} (runs); {versions}; Python {esc(p['python'])}"
                    + (f"; git {esc(p['git_commit'])}" if p["git_commit"] else "")),
        ("Report written", esc(p["report_written"])),
    ]
    return "<footer><dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl></footer>"


# --- assembly ---------------------------------------------------------------------------------


def figure_html(fig: rf.Figure, paths: dict[str, str], number: str = "") -> str:
    """A figure with its caption; its number is given by number_sections (``number``: a placeholder)."""
    png = Path(paths["png"]).read_bytes()
    data = base64.b64encode(png).decode("ascii")
    files = " and ".join(f"figures/{Path(p).name}" for p in paths.values())
    return (f'<figure id="fig-{fig.name}"><img src="data:image/png;base64,{data}" alt="{esc(fig.title)}">'
            f"<figcaption><b>Figure {number}.</b> {esc(fig.how_to_read)} <span class='files'>({esc(files)})</span>"
            "</figcaption></figure>")


def build(sweep_dir: Path | str, out_dir: Path | str | None = None) -> Path:
    """Write the report of ``sweep_dir`` into ``out_dir`` (default ``sweep_dir/report``); return index.html."""
    sweep_dir = Path(sweep_dir)
    out_dir = Path(out_dir) if out_dir else sweep_dir / "report"
    figures_dir = out_dir / "figures"
    data = rd.load(sweep_dir)  # first: a sweep that cannot be read leaves no report folder behind
    figures_dir.mkdir(parents=True, exist_ok=True)
    summary = rd.arm_summary(data)
    reach = rd.reach_by_subgroup(data)
    pops = data.populations()
    many = len(pops) > 1

    by_threshold = rd.responders_by_threshold(data, summary)
    sections, briefs, tables, ceacs = [], [], [], []
    for pi, pop in enumerate(pops):
        frontier = rd.frontier(data, summary, pop)  # the frontier of what to add to the course
        ceac = None
        suffix = f"_{pop}" if many else ""
        figs = [
            rf.self_managing(data, summary, pop),
            rf.thresholds(data, summary, by_threshold, pop),
            rf.gains(data, summary, pop),
            rf.subgroups(data, summary, reach, pop),
            rf.engagement(data, pop),
            rf.costs(data, summary, pop),
            rf.ce_plane(data, summary, pop),
        ]
        if data.is_psa:
            fig, ceac = rf.acceptability(data, pop)
            figs.append(fig)
            ceac.columns = ["wtp_gbp_per_qaly", *[data.arm(k).label for k in ceac.columns[1:]]]
            ceacs.append(ceac.assign(population=pop))
            ceac_by_key = ceac.copy()
            ceac_by_key.columns = ["wtp_gbp_per_qaly", *[a.key for a in data.arms_in(pop)]]
        else:
            ceac_by_key = None
        rendered = []
        for f in figs:
            f.name += suffix
            paths = rf.save(f, figures_dir)
            rendered.append((f, paths))
            plt.close(f.fig)
        pop_label = _population_label(data, pop)
        head = f" — {esc(pop_label)}" if many else ""
        briefs.append((pop_label, brief(data, summary, pop, frontier, ceac_by_key, reach)))
        tables.append((pop_label, summary_table(data, summary, pop, ceac_by_key, frontier)))
        by = {f.name.removesuffix(suffix): (f, p) for f, p in rendered}
        # headings and figures are numbered once the page is whole (number_sections), in page order
        block = [
            f"<h2 id='a{pi}'>Who is still self-managing, month by month{head}</h2>",
            figure_html(*by["a_self_managing"]),
            "<h3>How the count depends on the threshold, and the ranking on it</h3>",
            figure_html(*by["a_thresholds"]),
            f"<h2 id='b{pi}'>How much of the course's gain is kept{head}</h2>",
            figure_html(*by["b_gains"]),
            f"<h2 id='c{pi}'>Who is reached and who benefits{head}</h2>",
            figure_html(*by["c_subgroups"]),
            f"<h2 id='d{pi}'>Engagement with each kind of support{head}</h2>",
            figure_html(*by["d_engagement"]),
            group_survival_table(data, pop),
            f"<h2 id='e{pi}'>What it costs{head}</h2>",
            figure_html(*by["e_costs"]),
            f"<h2 id='f{pi}'>Value for money{head}</h2>",
            figure_html(*by["f_ce_plane"]),
        ]
        if "f_acceptability" in by:
            block += [figure_html(*by["f_acceptability"])]
        else:
            block.append("<p class='note'>The acceptability curve (the chance that each strategy is the most "
                         "cost-effective, against willingness to pay) needs the uncertainty in the parameters: run "
                         "<code>python -m experiments.run -m experiment=psa</code> and build its report.</p>")
        block.append(_frontier_html(data, frontier, pi))
        sections.append("\n".join(block))

    write_table(out_dir / "summary.csv", _summary_csv(data, summary))
    write_table(out_dir / "responders_by_threshold.csv", by_threshold)
    if ceacs:
        write_table(out_dir / "acceptability.csv", pd.concat(ceacs, ignore_index=True))
    # a PSA (drawn parameters) adds "What evidence would change the answer", voi.csv and scenarios.csv, read from
    # SWEEP_DIR/voi (python -m experiments.analyses.decision; python -m experiments.report runs it first)
    voi_html = report_voi.sweep_section(data, out_dir, figures_dir) if data.is_psa else ""
    # the area's budget impact and economics by horizon, read from SWEEP_DIR/budget (python -m experiments.report
    # SWEEP_DIR area.KEY=VALUE ... computes it first); writes budget_impact.csv and economics_by_horizon.csv
    budget_html = report_budget.sweep_section(data, out_dir)
    # every CSV of the report folder, column by column, from the outcome catalogue
    write_table(out_dir / outcomes.DICTIONARY, outcomes.folder_dictionary(out_dir, prefix="report/"))

    title = "Follow-on support after a self-management course: what to fund, for whom, at what cost"
    reps = int(summary["n_runs"].max())
    kind = (f"a probabilistic sensitivity analysis of {len(data.psa_draws)} parameter draws" if data.is_psa
            else f"{reps} replicate runs per strategy")
    sub = (f"Model results for {data.n_graduates:,} graduates of a six-week self-management course "
           f"({', '.join(esc(_population_label(data, p)) for p in pops)}), followed for {months(data.weeks)} after the "
           f"course; {kind}. Costs in GBP at {rf._price_year(data)} prices.")
    brief_html = "".join(
        (f"<h3>{esc(label)}</h3>" if many else "") + "<ul>" + "".join(items) + "</ul>" for label, items in briefs)
    table_html = "".join((f"<h3>{esc(label)}</h3>" if many else "") + t for label, t in tables)
    nav = CONTENTS  # written by number_sections from the page's own headings
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{esc(title)}</title><style>{CSS}</style></head>
<body>
<h1>{esc(title)}</h1>
<p class="sub">{sub}</p>
<div class="brief"><h2>The answer in brief</h2>{brief_html}</div>
{nav}
<h2 id="summary">Summary table</h2>
<p class="note">Per strategy, in the population modelled. The first two columns need no threshold: the mean
difference in measured self-efficacy against course only, in SD of the pre-course score (the standardised mean
difference a trial reports: the model's mean gain in capability times the square root of the questionnaire's
reliability), and the QALYs gained per graduate. "Self-managing" counts <em>responders</em>, as a trial
would: people whose measured self-efficacy (a questionnaire score, with its measurement error) is at least
{rf._threshold(data):g} SD above their score before the course. Measurement error alone makes some people responders
without any real gain (about {_error_only_per_100(data):.0f} in 100 with no course at all), so differences between strategies, not the shares
themselves, are the answer: the count moves with the threshold (section {section_ref("a0")}). Costs per graduate include everyone
offered support, whether or not they took it up; "net" subtracts the GP, nurse and urgent-care contacts avoided.
QALYs and the costs in the ICER and net monetary benefit are counted {over(data.weeks, True)} at {rf._discount_pct(data):g}% a year;
the other costs are what is paid in the first {months(data.headline_week)}, undiscounted; each column says which.
{_interval_words(data)}; "—": not applicable.</p>
{table_html}
{''.join(sections)}
{budget_html}
{voi_html}
<h2 id="assumptions">Costs and key parameters: values, sources and assumptions</h2>
{assumptions_tables(data)}
{provenance_footer(data)}
</body></html>
"""
    index = out_dir / "index.html"
    write_text(index, number_sections(page))
    return index


#: Where the contents list goes in the page; :func:`number_sections` writes it.
CONTENTS = "<!-- contents -->"
#: A heading of a section: an ``<h2>`` with an id (the brief's heading has none and is not numbered).
_SECTION = re.compile(r"<h2 id=(['\"])(?P<id>[^'\"]+)\1>(?P<text>.*?)</h2>", re.S)
#: A figure's number in its caption.
_FIGURE = re.compile(r"<figcaption><b>Figure [^<]*?\.</b>")
#: The short names of the sections in the contents list, by id (without a population's index);
#: a section not listed (another module's) is listed by its heading.
SHORT_NAMES = {"summary": "Summary table", "a": "Still self-managing", "b": "Gain kept",
               "c": "Who is reached, who benefits", "d": "Engagement", "e": "Costs", "f": "Value for money",
               "budget": "Budget impact", "voi": "What evidence would change the answer",
               "assumptions": "Assumptions"}


def section_ref(section_id: str) -> str:
    """A placeholder for the number of the section whose heading has ``id=section_id``, replaced by
    :func:`number_sections` (text can say "section 9" without knowing what comes before it)."""
    return f"<!-- section:{section_id} -->"


def number_sections(page: str) -> str:
    """Number the page's sections and figures in the order they appear, from one list: its headings.

    Every ``<h2 id=...>`` (whichever module wrote it: this one, the budget impact, the value of
    information) gets the number of its place, a number it already had replaced; the contents list
    (:data:`CONTENTS`) is written from the same headings, so its numbers are the headings' numbers;
    each :func:`section_ref` becomes the number of its section; figures are numbered 1, 2, ... in
    page order. Raises ``ValueError`` naming a reference to a section the page does not have."""
    numbers: dict[str, int] = {}
    entries: list[str] = []

    def heading(match: re.Match) -> str:
        sid, text = match.group("id"), re.sub(r"^\s*\d+\.\s*", "", match.group("text"))
        numbers[sid] = n = len(numbers) + 1
        key = re.sub(r"\d+$", "", sid)
        short = SHORT_NAMES.get(sid) or SHORT_NAMES.get(key) or re.sub(r"<[^>]+>", "", text)
        if " — " in text and sid != key:  # a population's own sections say whose they are
            short += " — " + text.split(" — ", 1)[1]
        entries.append(f"<li value='{n}'><a href='#{sid}'>{short}</a></li>")
        quote = match.group(1)  # as the section's module wrote it
        return f"<h2 id={quote}{sid}{quote}>{n}. {text}</h2>"

    page = _SECTION.sub(heading, page)
    count = iter(range(1, 10_000))
    page = _FIGURE.sub(lambda m: f"<figcaption><b>Figure {next(count)}.</b>", page)
    for sid in re.findall(r"<!-- section:([^ ]+) -->", page):
        if sid not in numbers:
            raise ValueError(f"section_ref({sid!r}): the page has no section with id {sid!r} "
                             f"(its sections: {', '.join(numbers)})")
        page = page.replace(section_ref(sid), str(numbers[sid]))
    return page.replace(CONTENTS, "<nav><ol>" + "".join(entries) + "</ol></nav>", 1)


def _error_only_per_100(data: rd.SweepData) -> float:
    """Responders per 100 by measurement error alone, under the runs' measurement parameters."""
    from sim.measurement import MeasurementParams, error_only_responder_share

    given = (data.base_config.get("dynamics") or {}).get("measurement") or {}
    return 100 * error_only_responder_share(MeasurementParams(**given))


def _interval_words(data: rd.SweepData) -> str:
    if data.is_psa:
        return (f"Figures are means over {len(data.psa_draws)} parameter draws; in brackets, the 2.5th to 97.5th "
                "percentiles over the draws (95% uncertainty intervals)")
    return ("Figures in brackets are 95% confidence intervals of the mean over replicate runs (chance variation "
            "only; parameters at their base values; intervals of percentages are clipped to 0-100%)")


#: The words of each frontier verdict in the frontier table's threshold columns.
VERDICT_WORDS = {rd.COST_EFFECTIVE: "Cost-effective", rd.ABOVE_THRESHOLD: "Not cost-effective: its step costs more",
                 rd.DOMINATED: "Ruled out: dominated", rd.EXTENDEDLY_DOMINATED: "Ruled out: extendedly dominated",
                 rd.REFERENCE: "The reference (the cheapest)"}


def _frontier_html(data: rd.SweepData, frontier: pd.DataFrame, index: int = 0) -> str:
    """The step-by-step table of the efficiency frontier (HTML, ``<table class='frontier'>``): each
    strategy's extra cost and QALYs per graduate over the horizon, discounted, the price of its step,
    and its verdict at each threshold: the table every "cost-effective" of the report agrees with."""
    end = data.weeks
    verdicts = {w: rd.frontier_verdicts(frontier, w) for w in economics.WTP_THRESHOLDS_GBP}
    rows = []
    for r in frontier.itertuples():
        a = data.arm(r.name)
        if r.status == "frontier":
            what = (f"{gbp(r.icer_vs_previous)} per extra QALY against {esc(data.arm(r.compared_with).label)}"
                    if isinstance(r.compared_with, str) else "the cheapest option")
        elif r.status == "dominated":
            what = "dominated: another strategy costs less and gains more"
        else:
            what = "extendedly dominated: a mix of its neighbours would gain more for the same money"
        cells = "".join(f"<td>{VERDICT_WORDS[verdicts[w][r.name]]}</td>" for w in economics.WTP_THRESHOLDS_GBP)
        rows.append(f"<tr><td><span class='swatch' style='background:{a.colour}'></span>{esc(a.label)}</td>"
                    f"<td class='n'>{gbp(r.cost_gbp)}</td><td class='n'>{qalys(r.qalys)}</td><td>{what}</td>{cells}</tr>")
    heads = "".join(f"<th>At £{w:,} per QALY</th>" for w in economics.WTP_THRESHOLDS_GBP)
    return ("<h3>Step by step from the cheapest option: the price of each extra QALY</h3>"
            f"<p class='note'>Strategies in order of extra cost against the course alone, with their extra QALYs, "
            f"both per graduate {over(end, True)}; each option worth considering is compared with the next cheaper "
            "one worth considering. A strategy is <b>cost-effective</b> at a willingness to pay when it is on this "
            "frontier and its step costs less than that per QALY; fund the most effective of those. This is the one "
            "meaning of cost-effective in this report.</p>"
            f"<table class='frontier' id='frontier-{index}'><tr><th>Strategy</th>"
            f"<th class='n'>Extra cost per graduate, {over(end, True)}</th>"
            f"<th class='n'>Extra QALYs per graduate, {over(end, True)}</th>"
            f"<th>Incremental cost per QALY, {over(end, True)}</th>{heads}</tr>" + "".join(rows) + "</table>")


def _summary_csv(data: rd.SweepData, summary: pd.DataFrame) -> pd.DataFrame:
    out = summary.copy()
    out.insert(1, "description", [data.arm(k).description for k in out["arm"]])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.report",
        description="Write SWEEP_DIR/report/index.html (self-contained) with its figures as PNG and SVG: which "
                    "follow-on support to fund, for whom, and at what cost.",
    )
    parser.add_argument("sweep_dir", type=Path, help="a finished sweep folder (hydra.sweep.dir), holding runs/")
    parser.add_argument("--out", type=Path, default=None, help="where to write (default: SWEEP_DIR/report)")
    args = parser.parse_args(argv)
    if not (args.sweep_dir / "runs").is_dir():
        print(f"error: {args.sweep_dir} holds no runs/ folder: not a sweep folder", file=sys.stderr)
        return EXIT_BAD_INPUT
    plt.switch_backend("Agg")  # files only, no window
    started = time.perf_counter()
    try:
        index = build(args.sweep_dir, args.out)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OutputError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_OUTPUT
    except rd.SweepError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"report ({time.perf_counter() - started:.0f} s): {index.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
