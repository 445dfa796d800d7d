"""The report for commissioners: which follow-on support to fund, for whom, at what cost.

    python -m experiments.report SWEEP_DIR

Reads a finished sweep (``python -m experiments.run -m experiment=...``; collects it first if its
tables are missing or stale) and writes ``SWEEP_DIR/report/``:

* ``index.html``: one self-contained page (every image inside it) that opens without a server:
  the answer in brief; a summary table in plain words (extra self-managers per 100 graduates at
  12 months, cost per graduate, cost per extra self-manager, ICER, net monetary benefit); figures
  (a) share self-managing over time, (b) gains at 6, 12 and 24 months, (c) who is reached and who
  benefits, (d) engagement per channel, (e) cost per graduate by category, (f) the
  cost-effectiveness plane and, for a PSA (``experiment=psa``), the acceptability curve; (h) every
  cost and key parameter with value, source and price year, assumptions marked; (i) provenance.
* ``figures/*.png`` and ``figures/*.svg``: each figure on its own.
* ``summary.csv``: the summary table's numbers with their 95% intervals; ``acceptability.csv``
  for a PSA.

The numbers come from :mod:`experiments.report.data` (using :mod:`sim.economics`), the figures
from :mod:`experiments.report.figures`.
"""

from __future__ import annotations

import argparse
import base64
import html
import math
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from experiments.report import data as rd
from experiments.report import figures as rf
from experiments.report import voi as report_voi
from experiments.outputs import EXIT_BAD_INPUT, EXIT_BAD_OUTPUT, OutputError, write_table, write_text
from experiments.report.assumptions import calibrated_keys, cost_rows, parameter_rows
from experiments.uncertainty import resolve
from experiments.labels import gbp, interval, months, num, q, strategy_gist
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
    """The three answers (what to fund, for whom, at what cost) and how sure, as HTML list items."""
    arms = data.arms_in(population)
    s = summary.set_index("arm")
    h, end = months(data.headline_week), months(data.weeks)
    comp = next((a for a in arms if a.is_comparator), None)
    others = [a for a in arms if a.is_follow_on]
    no_course = next((a for a in arms if a.is_no_course), None)
    items = [_course_itself(data, s, no_course)] if no_course is not None and comp is not None else []
    if not others or comp is None:
        return items + ["<li>This sweep has no follow-on support to compare with course only.</li>"]
    base = 100 * s.loc[comp.key, "share_h"]
    best = max(others, key=lambda a: s.loc[a.key, "nmb_20000"])
    b = s.loc[best.key]
    gist = strategy_gist(best.config.get("strategy", {}))
    if b["nmb_20000"] > 0:
        items.append(
            f"<li><b>Fund: {esc(q(best.label))}</b>{' (' + esc(gist) + ')' if gist else ''}. Of every 100 graduates, {100 * b['share_h']:.0f} are still "
            f"self-managing at {h}, against {base:.0f} with the course alone: <b>{num(b['extra_per_100_h'])} more</b> "
            f"{esc(interval(b['extra_per_100_h_lo'], b['extra_per_100_h_hi']))}. Support costs {gbp(b['cost_support_h'])} "
            f"per graduate in the first {h} ({gbp(b['dcost_h'])} after savings in GP and urgent care): "
            f"<b>{gbp(b['cost_per_extra_h'])} per extra person still self-managing</b>. Over {end} it gains "
            f"{num(1000 * b['dqaly'], 0)} QALYs per 1,000 graduates at {rf._icer_words(b)}, and it has the highest net "
            f"monetary benefit at £20,000 per QALY ({gbp(b['nmb_20000'])} per graduate)"
            + (f" and at £30,000 ({gbp(b['nmb_30000'])})" if b["nmb_30000"] >= max(s.loc[a.key, "nmb_30000"] for a in others)
               else "") + ".</li>")
    else:
        items.append(f"<li><b>No follow-on support is cost-effective at £20,000 per QALY</b> in this sweep; the "
                     f"closest is {esc(q(best.label))} (net monetary benefit {gbp(b['nmb_20000'])} per graduate).</li>")

    finite = [a for a in others if math.isfinite(s.loc[a.key, "cost_per_extra_h"])]
    # the next option down the efficiency frontier: what to fund if the best is out of reach
    step = frontier[(frontier["name"] == best.key) & (frontier["status"] == "frontier")]
    below = step["compared_with"].iloc[0] if len(step) else None
    if isinstance(below, str) and below != comp.key and b["nmb_20000"] > 0:
        c, nxt = s.loc[below], data.arm(below)
        items.append(
            f"<li><b>On a tighter budget: {esc(q(nxt.label))}</b> is the best value below it: "
            f"{num(c['extra_per_100_h'], sign=True)} self-managing per 100 graduates at {h}, for {gbp(c['dcost_h'])} per "
            f"graduate net ({gbp(c['cost_per_extra_h'])} per extra self-manager). Stepping up from it to "
            f"{esc(q(best.label))} costs {gbp(step['icer_vs_previous'].iloc[0])} per extra QALY.</li>")
    if finite:
        ranked = sorted(finite, key=lambda a: s.loc[a.key, "cost_per_extra_h"])
        items.append("<li><b>Cost per extra person still self-managing at " + h + ",</b> cheapest first: " + "; ".join(
            f"{esc(q(a.label))} {gbp(s.loc[a.key, 'cost_per_extra_h'])} "
            f"({num(s.loc[a.key, 'extra_per_100_h'], sign=True)} per 100)" for a in ranked) + ".</li>")

    items.append("<li><b>For whom</b> (extra people self-managing against the course alone):"
                 + _for_whom(data, s, others, reach) + "</li>")

    if data.is_psa and ceac is not None:
        at = ceac.set_index("wtp_gbp_per_qaly").loc[float(economics.WTP_THRESHOLDS_GBP[0])]
        top = max(arms, key=lambda a: at[a.key])
        items.append(f"<li><b>How sure.</b> Drawing every uncertain parameter {len(data.psa_draws)} times, "
                     f"{esc(q(top.label))} is the most cost-effective choice in {100 * at[top.key]:.0f}% of draws at "
                     f"£20,000 per QALY; {esc(q(best.label))} has a positive net monetary benefit in "
                     f"{100 * b['p_nmb_pos_20000']:.0f}% of draws.</li>")
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
                 f"trial results. {assumed_costs} of the {n_costs} unit costs are assumptions (section 8); the "
                 "behaviour parameters are "
                 + esc(fitted.get(data.dynamics_choice, f"the '{data.dynamics_choice or 'default'}' set")) + ". "
                 "<b>Isolation</b>, the study's central claim (without company, people could not keep up what they "
                 "had learnt), is not pinned down by any evidence we found: the model cannot tell it from a faster "
                 "fade for everyone, and the answer for support that brings company (groups, calls) rests on it. The "
                 "probabilistic sensitivity analysis draws it over its whole plausible range.</li>")
    return items


def _course_itself(data: rd.SweepData, s: pd.DataFrame, no_course: rd.Arm) -> str:
    """The course against no course: the no-course arm's increments are the course's, reversed."""
    r, h, end = s.loc[no_course.key], months(data.headline_week), months(data.weeks)
    lost = -r["extra_per_100_h"]
    icer = economics.icer(-r["dcost_disc"], -r["dqaly"])
    quadrant = economics.quadrant(-r["dcost_disc"], -r["dqaly"])
    value = (f"{gbp(icer)} per QALY gained" if quadrant == "more effective, more costly"
             else {"dominant": "it saves money and gains QALYs", "dominated": "it costs more for no gain"}.get(
                 quadrant, quadrant))
    return (f"<li><b>The course itself</b>, against people referred who did not take it: {num(lost)} more in 100 "
            f"self-managing at {h} {esc(interval(-r['extra_per_100_h_hi'], -r['extra_per_100_h_lo']))}; "
            f"{num(-1000 * r['dqaly'], 0)} QALYs per 1,000 over {end} for {gbp(-r['dcost_disc'])} per person "
            f"(discounted, after care savings of {gbp(r['dcare'])}): {value}. The rest of this summary is about "
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


def summary_table(data: rd.SweepData, summary: pd.DataFrame, population: str, ceac: pd.DataFrame | None) -> str:
    arms = data.arms_in(population)
    s = summary.set_index("arm")
    h, end = months(data.headline_week), months(data.weeks)
    cols = [
        f"Still self-managing at {h}, per 100 graduates",
        f"Extra self-managers per 100 graduates at {h}, against course only",
        f"Cost of support per graduate, first {h}",
        f"Net extra cost per graduate, first {h}, after care savings",
        f"Cost per extra person still self-managing at {h}",
        f"Extra QALYs per 1,000 graduates over {end}",
        f"ICER: extra cost per QALY gained over {end}",
        "Net monetary benefit per graduate at £20,000 / £30,000 per QALY",
    ]
    if data.is_psa and ceac is not None:
        cols.append("Chance most cost-effective at £20,000 per QALY")
    head = "<tr><th>Strategy</th>" + "".join(f'<th class="n">{esc(c)}</th>' for c in cols) + "</tr>"
    rows = []
    at = ceac.set_index("wtp_gbp_per_qaly").loc[float(economics.WTP_THRESHOLDS_GBP[0])] if ceac is not None else None
    for a in arms:
        r = s.loc[a.key]
        cells = [
            _cell(num(100 * r["share_h"]), interval(100 * r["share_h_lo"], 100 * r["share_h_hi"])),
        ]
        if a.is_comparator:
            cells += [_cell("—", "the comparator")] + [_cell("—")] * 6
        else:
            cells += [
                _cell(num(r["extra_per_100_h"], sign=True), interval(r["extra_per_100_h_lo"], r["extra_per_100_h_hi"], sign=True)),
                _cell(gbp(r["cost_support_h"])),
                _cell(gbp(r["dcost_h"]), interval(r["dcost_h_lo"], r["dcost_h_hi"], fmt=gbp)),
                _cell(gbp(r["cost_per_extra_h"]), interval(r["cost_per_extra_h_lo"], r["cost_per_extra_h_hi"], fmt=gbp)),
                _cell(num(1000 * r["dqaly"], 1, sign=True), interval(1000 * r["dqaly_lo"], 1000 * r["dqaly_hi"], digits=1, sign=True)),
                _cell(_icer_cell(r), interval(r["icer_lo"], r["icer_hi"], fmt=gbp)),
                _cell(f"{gbp(r['nmb_20000'])} / {gbp(r['nmb_30000'])}",
                      f"positive in {100 * r['p_nmb_pos_20000']:.0f}% / {100 * r['p_nmb_pos_30000']:.0f}% of "
                      f"{'draws' if data.is_psa else 'replicates'}"),
            ]
        if at is not None:
            cells.append(_cell(f"{100 * at[a.key]:.0f}%"))
        name = f'<td><span class="swatch" style="background:{a.colour}"></span><b>{esc(a.label)}</b></td>'
        rows.append("<tr>" + name + "".join(cells) + "</tr>")
    words = "".join(f'<li><span class="swatch" style="background:{a.colour}"></span><b>{esc(a.label)}.</b> '
                    f"{esc(_verdict(a, s.loc[a.key], data))}</li>" for a in arms)
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


def _verdict(arm, r, data) -> str:
    """One sentence in plain words for a strategy's row."""
    if arm.is_comparator:
        return (f"The course and nothing after it. {100 * r['share_h']:.0f} in 100 graduates are still self-managing "
                f"at {months(data.headline_week)}.")
    if arm.is_no_course:
        return ("People referred who did not take the course (the waiting-list arm of the EPP trial): no course, "
                "no support; nobody's self-management changes. Its row is the course's effect, reversed.")
    text = arm.description + " "
    if r["extra_per_100_h"] > 0 and math.isfinite(r["cost_per_extra_h"]):
        text += (f"Keeps {num(r['extra_per_100_h'])} more in 100 self-managing at {months(data.headline_week)}, for "
                 f"{gbp(r['cost_per_extra_h'])} each. ")
    if r["nmb_20000"] > 0:
        text += "Cost-effective at £20,000 per QALY."
    elif r["nmb_30000"] > 0:
        text += "Cost-effective at £30,000 but not £20,000 per QALY."
    else:
        text += "Not cost-effective at £30,000 per QALY."
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
    out.append(f"<table>{head}{''.join(rows)}</table>")
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


def figure_html(fig: rf.Figure, paths: dict[str, str], number: str) -> str:
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

    sections, briefs, tables, ceacs = [], [], [], []
    for pi, pop in enumerate(pops):
        arms = [a for a in data.arms_in(pop) if not a.is_no_course]  # the frontier of what to add to the course
        s = summary.set_index("arm")
        frontier = economics.efficiency_frontier([a.key for a in arms], [s.loc[a.key, "dcost_disc"] for a in arms],
                                                 [s.loc[a.key, "dqaly"] for a in arms])
        ceac = None
        suffix = f"_{pop}" if many else ""
        figs = [
            rf.self_managing(data, summary, pop),
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
        tables.append((pop_label, summary_table(data, summary, pop, ceac_by_key)))
        by = {f.name.removesuffix(suffix): (f, p) for f, p in rendered}
        block = [
            f"<h2 id='a{pi}'>2. Who is still self-managing, month by month{head}</h2>",
            figure_html(*by["a_self_managing"], "1"),
            f"<h2 id='b{pi}'>3. How much of the course's gain is kept{head}</h2>",
            figure_html(*by["b_gains"], "2"),
            f"<h2 id='c{pi}'>4. Who is reached and who benefits{head}</h2>",
            figure_html(*by["c_subgroups"], "3"),
            f"<h2 id='d{pi}'>5. Engagement with each kind of support{head}</h2>",
            figure_html(*by["d_engagement"], "4"),
            group_survival_table(data, pop),
            f"<h2 id='e{pi}'>6. What it costs{head}</h2>",
            figure_html(*by["e_costs"], "5"),
            f"<h2 id='f{pi}'>7. Value for money{head}</h2>",
            figure_html(*by["f_ce_plane"], "6"),
        ]
        if "f_acceptability" in by:
            block += [figure_html(*by["f_acceptability"], "7")]
        else:
            block.append("<p class='note'>The acceptability curve (the chance that each strategy is the most "
                         "cost-effective, against willingness to pay) needs the uncertainty in the parameters: run "
                         "<code>python -m experiments.run -m experiment=psa</code> and build its report.</p>")
        block.append(_frontier_html(data, frontier))
        sections.append("\n".join(block))

    write_table(out_dir / "summary.csv", _summary_csv(data, summary))
    if ceacs:
        write_table(out_dir / "acceptability.csv", pd.concat(ceacs, ignore_index=True))
    # a PSA (drawn parameters) adds "What evidence would change the answer", voi.csv and scenarios.csv, read from
    # SWEEP_DIR/voi (python -m experiments.analyses.decision; python -m experiments.report runs it first)
    voi_html = report_voi.sweep_section(data, out_dir, figures_dir) if data.is_psa else ""

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
    nav = ("<nav><ol><li><a href='#summary'>Summary table</a></li><li><a href='#a0'>Still self-managing</a></li>"
           "<li><a href='#b0'>Gain kept</a></li><li><a href='#c0'>Who is reached, who benefits</a></li>"
           "<li><a href='#d0'>Engagement</a></li><li><a href='#e0'>Costs</a></li><li><a href='#f0'>Value for money</a></li>"
           + ("<li><a href='#voi'>What evidence would change the answer</a></li>" if voi_html else "")
           + "<li><a href='#assumptions'>Assumptions</a></li></ol></nav>")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{esc(title)}</title><style>{CSS}</style></head>
<body>
<h1>{esc(title)}</h1>
<p class="sub">{sub}</p>
<div class="brief"><h2>The answer in brief</h2>{brief_html}</div>
{nav}
<h2 id="summary">1. Summary table</h2>
<p class="note">Per strategy, in the population modelled. "Self-managing" counts <em>responders</em>, as a trial
would: people whose measured self-efficacy (a questionnaire score, with its measurement error) is at least
{rf._threshold(data):g} SD above their score before the course. Measurement error alone makes some people responders
without any real gain (about {_error_only_per_100(data):.0f} in 100 with no course at all), so differences between strategies, not the shares
themselves, are the answer. Costs per graduate include everyone
offered support, whether or not they took it up; "net" subtracts the GP, nurse and urgent-care contacts avoided.
QALYs and the costs in the ICER and net monetary benefit are discounted at
{100 * float(((data.base_config.get('dynamics') or {{}}).get('outcomes') or {{}}).get('discount_rate_per_year', 0.035)):g}% a
year. {_interval_words(data)}; "—": not applicable.</p>
{table_html}
{''.join(sections)}
{voi_html}
<h2 id="assumptions">8. Costs and key parameters: values, sources and assumptions</h2>
{assumptions_tables(data)}
{provenance_footer(data)}
</body></html>
"""
    index = out_dir / "index.html"
    write_text(index, page)
    return index


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


def _frontier_html(data: rd.SweepData, frontier: pd.DataFrame) -> str:
    rows = []
    for r in frontier.itertuples():
        a = data.arm(r.name)
        if r.status == "frontier":
            what = (f"{gbp(r.icer_vs_previous)} per extra QALY against {esc(data.arm(r.compared_with).label)}"
                    if isinstance(r.compared_with, str) else "the cheapest option")
        elif r.status == "dominated":
            what = "dominated: another strategy costs less and gains more"
        else:
            what = "ruled out: a mix of its neighbours would gain more for the same money"
        rows.append(f"<tr><td><span class='swatch' style='background:{a.colour}'></span>{esc(a.label)}</td>"
                    f"<td class='n'>{gbp(r.cost_gbp)}</td><td class='n'>{num(1000 * r.qalys, 1)}</td><td>{what}</td></tr>")
    return ("<h3>Step by step from the cheapest option: the price of each extra QALY</h3>"
            "<p class='note'>Strategies in order of extra cost (per graduate, discounted) with their extra QALYs (per "
            "1,000 graduates); each option worth considering is compared with the next cheaper one worth considering. "
            "Fund the most effective option whose step costs less than the willingness to pay per QALY.</p>"
            "<table><tr><th>Strategy</th><th class='n'>Extra cost per graduate</th><th class='n'>Extra QALYs per "
            "1,000 graduates</th><th>Incremental cost per QALY</th></tr>" + "".join(rows) + "</table>")


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
