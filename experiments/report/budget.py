"""The report's section "Budget impact for your area": what the support costs an area year by year,
and its economics over 1, 2 and 5 years.

The numbers are not computed here: the analysis (:mod:`experiments.analyses.budget`, which
``python -m experiments.report SWEEP_DIR [area.KEY=VALUE ...]`` runs first, for the area given)
writes them into ``SWEEP_DIR/budget/``: ``budget_impact.csv`` (per strategy and calendar year,
undiscounted), ``economics_by_horizon.csv`` (per graduate, discounted) and ``area.json`` (the area,
perspective, price year and discount rate used). :func:`sweep_section` reads them, copies both
tables into the report's folder (``budget_impact.csv``, ``economics_by_horizon.csv``, with the
area's settings as columns) and returns the HTML fragment.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from experiments.labels import gbp, num, qalys
from experiments.outputs import write_table
from experiments.sweeps.collect import newer_than_every_run
from experiments.schemas import AreaConfig

#: Where the analysis writes in a sweep folder and its file written last: the contract between the
#: two, by file names only (as experiments.analyses.budget).
FOLDER = "budget"
AREA_JSON = "area.json"
BUDGET_CSV = "budget_impact.csv"
HORIZON_CSV = "economics_by_horizon.csv"
HEADING = '<h2 id="budget">Budget impact for your area</h2>'
PERSPECTIVE_WORDS = {
    "nhs_pss": "from the perspective of the NHS and personal social services (NICE's reference case): the course "
               "and support the model costs, and the GP, nurse and urgent care avoided; volunteers' time is not costed",
    "societal": "from a societal perspective: the NHS and personal social services' costs and savings, plus the time "
                "volunteers give (peer-group leaders and peer callers), valued at {value} an hour ({source})",
}
#: Columns of the area's settings added to both CSVs of the report.
SETTINGS = ("graduates_per_year", "years", "perspective", "price_year", "discount_rate_per_year")


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def note(text: str) -> str:
    """The section when its numbers are missing or stale: the heading and how to make them."""
    return (f"{HEADING}<p class='note'>{esc(text)}: run <code>python -m experiments.report SWEEP_DIR</code> "
            "(add <code>area.graduates_per_year=N area.years=Y</code> for your area) to compute this section.</p>")


def sweep_section(data, out_dir: Path | str) -> str:
    """The section for a loaded sweep (:class:`experiments.report.data.SweepData`) from
    ``SWEEP_DIR/budget``; writes ``budget_impact.csv`` and ``economics_by_horizon.csv`` into
    ``out_dir``. A note instead when the files are missing or older than the sweep's runs."""
    sweep_dir = Path(data.sweep_dir)
    folder = sweep_dir / FOLDER
    done = folder / AREA_JSON
    if not done.is_file():
        return note(f"{done} is missing")
    if not newer_than_every_run(done, sweep_dir):
        return note(f"{folder} is older than the sweep's runs")
    area = json.loads(done.read_text(encoding="utf-8"))
    if area.get("runs") not in (None, len(data.runs)):
        return note(f"{folder} was made from {area.get('runs')} runs, not the sweep's {len(data.runs)}")
    budget = pd.read_csv(folder / BUDGET_CSV)
    econ = pd.read_csv(folder / HORIZON_CSV)
    settings = {k: area.get(k) for k in SETTINGS}
    out_dir = Path(out_dir)
    write_table(out_dir / BUDGET_CSV, budget.assign(**settings, discounted=False))
    write_table(out_dir / HORIZON_CSV, econ.assign(**settings, discounted=True))
    return section(data, area, budget, econ)


def _default(key: str, value) -> bool:
    return value == getattr(AreaConfig(), key)


def intro(area: dict) -> str:
    """What the numbers are for: the area, how cohorts stack, what is not counted, the perspective."""
    n, years, weeks, k = area["graduates_per_year"], area["years"], area["weeks"], area["model_years"]
    assumed = (" (an assumption of the default area: about 40 courses of 12 to 14 graduates; set your own with "
               "<code>area.graduates_per_year=N</code>)") if _default("graduates_per_year", n) else ""
    value = gbp(area.get("volunteer_gbp_per_hour_at_price_year", 0.0), 2)
    source = ("an assumption, range £0 to £25 an hour: no UK figure for the value of volunteer time is in this "
              "model's sources" if _default("volunteer_value_gbp_per_hour", area.get("volunteer_value_gbp_per_hour"))
              else "set for this report")
    perspective = PERSPECTIVE_WORDS.get(area["perspective"], area["perspective"]).format(value=value, source=source)
    prices = f"GBP at {esc(area['price_year'])} prices"
    if area.get("sweep_price_year") not in (None, area["price_year"]):
        prices += (f" (re-priced from the sweep's {esc(area['sweep_price_year'])} prices, those of the rest of this "
                   f"report, by the cost config's price index: × {area.get('price_factor', 1):.3f})")
    beyond = (f"From year {k + 1} on, the cohorts that finished the course more than {k} years before are past the "
              "model's horizon and drop out of the count." if years > k else "")
    return (
        f"<p>For an area where <b>{n:,} people finish the course each year</b>{assumed}, over <b>{years} "
        f"year{'s' if years != 1 else ''}</b>, {perspective}. {prices}. Every "
        "figure is against the course alone.</p>"
        f"<p class='note'><b>How cohorts stack.</b> A new cohort of {n:,} graduates starts each year. Each year counts "
        "that year's new graduates and the support continuing for earlier cohorts within the model's horizon of "
        f"{k} year{'s' if k != 1 else ''} ({weeks} weeks after the course: model year 1 is weeks 0-52, year 2 weeks "
        "53-104). <b>Nothing beyond the model's horizon is counted</b> (an assumption): a strategy's cost, the care "
        f"it saves and the gain it leaves after week {weeks} are not in these numbers. {beyond} "
        "<b>Budgets are undiscounted</b> (NICE's budget impact convention: what is paid in each year). "
        "\"Extra responders\" are the people in the cohorts counted who are responders at the year's end and would "
        "not be with the course alone; QALYs are those gained in the year, undiscounted.</p>")


def _by_strategy(data, sub: pd.DataFrame, order: str):
    """Each strategy's rows of ``sub`` sorted by ``order``, with the cell that names the strategy
    (its colour and label) on its first row and an empty cell below it, so the columns align."""
    for arm, rows_arm in sub.groupby("arm", sort=False):
        a = data.arm(arm)
        rows_arm = rows_arm.sort_values(order)
        name = f"<td><span class='swatch' style='background:{a.colour}'></span><b>{esc(a.label)}</b></td>"
        yield rows_arm, [(name if i == 0 else "<td></td>", r) for i, r in enumerate(rows_arm.itertuples())]


def budget_table(data, budget: pd.DataFrame, population: str) -> str:
    """Per strategy, one row per year and a total: cost, care savings, net, extra responders, QALYs."""
    sub = budget[budget["population"] == population]
    head = ("<tr><th>Strategy</th><th class='n'>Year</th><th class='n'>Graduates counted (cohorts)</th>"
            "<th class='n'>Cost of support in the year, undiscounted</th>"
            "<th class='n'>Care savings in the year, undiscounted</th>"
            "<th class='n'>Net cost in the year, undiscounted</th>"
            "<th class='n'>Extra responders at the year's end</th>"
            "<th class='n'>QALYs gained in the year, undiscounted</th></tr>")
    rows = []
    for rows_arm, cells in _by_strategy(data, sub, "year"):
        for name, r in cells:
            rows.append("<tr>" + name
                        + f"<td class='n'>{r.year}</td><td class='n'>{num(r.graduates_counted)} ({r.cohorts_counted})</td>"
                        f"<td class='n'>{gbp(r.cost_gbp)}</td><td class='n'>{gbp(r.care_savings_gbp)}</td>"
                        f"<td class='n'>{gbp(r.net_cost_gbp)}</td><td class='n'>{num(r.extra_responders, sign=True)}</td>"
                        f"<td class='n'>{num(r.qalys, 1, sign=True)}</td></tr>")
        total = rows_arm[["cost_gbp", "care_savings_gbp", "net_cost_gbp", "qalys"]].sum()
        rows.append(f"<tr><td></td><td class='n'><b>Years 1-{len(rows_arm)}</b></td><td class='n'></td>"
                    f"<td class='n'><b>{gbp(total['cost_gbp'])}</b></td><td class='n'><b>{gbp(total['care_savings_gbp'])}</b></td>"
                    f"<td class='n'><b>{gbp(total['net_cost_gbp'])}</b></td><td class='n'>—</td>"
                    f"<td class='n'><b>{num(total['qalys'], 1, sign=True)}</b></td></tr>")
    return f"<table class='summary'>{head}{''.join(rows)}</table>"


def horizon_table(data, econ: pd.DataFrame, area: dict, population: str) -> str:
    """Per strategy and horizon: incremental cost, QALYs and net monetary benefit, discounted."""
    sub = econ[econ["population"] == population]
    wtp = float(area.get("wtp_gbp_per_qaly", 20000))
    nmb = f"nmb_{int(wtp)}_gbp"
    n = area["graduates_per_year"]
    head = ("<tr><th>Strategy</th><th class='n'>Horizon</th>"
            "<th class='n'>Extra cost per graduate, after care savings, discounted</th>"
            "<th class='n'>Extra QALYs per graduate, discounted</th>"
            f"<th class='n'>Net monetary benefit per graduate at {gbp(wtp)} per QALY, discounted</th>"
            f"<th class='n'>Net monetary benefit of one year's cohort ({n:,} graduates) at {gbp(wtp)} per QALY, "
            "discounted</th></tr>")
    rows = []
    for _, cells in _by_strategy(data, sub, "horizon_years"):
        for name, r in cells:
            h = int(r.horizon_years)
            what = f"{h} year{'s' if h != 1 else ''}"
            if r.years_beyond_model > 0:
                what += (f"<span class='ci'>as {r.years_counted} year{'s' if r.years_counted != 1 else ''}: years "
                         f"{r.years_counted + 1}-{h} are beyond the model and not counted</span>")
            elif not r.complete:
                what += f"<span class='ci'>the run ends at week {r.last_week}: only weeks 0-{r.last_week}</span>"
            value = getattr(r, nmb)
            rows.append("<tr>" + name + f"<td class='n'>{what}</td>"
                        f"<td class='n'>{gbp(r.incremental_cost_gbp)}</td>"
                        f"<td class='n'>{qalys(r.incremental_qalys, sign=True)}</td>"
                        f"<td class='n'>{gbp(value)}</td><td class='n'>{gbp(n * value)}</td></tr>")
    return (f"<h3>Economics over 1, 2 and 5 years</h3><p class='note'>One cohort's incremental cost (support less "
            f"the care it saves{', plus volunteer time' if area['perspective'] == 'societal' else ''}) and QALYs "
            f"against the course alone, discounted at {100 * float(area['discount_rate_per_year']):g}% a year, over "
            f"each horizon from the end of the course. The model runs {area['weeks']} weeks: a longer horizon counts "
            f"nothing after week {area['weeks']} (an assumption, neither the support nor the gain that remains).</p>"
            f"<table class='summary'>{head}{''.join(rows)}</table>")


def evpi_words(data, area: dict) -> str:
    """For a PSA: the population EVPI rests on the same area (its section says the value)."""
    if not getattr(data, "is_psa", False):
        return ""
    return (f"<p class='note'>The population value of information below uses the same area: "
            f"{area['graduates_per_year']:,} graduates a year over {area['years']} years, each year's cohort "
            f"discounted at {100 * float(area['discount_rate_per_year']):g}% a year.</p>")


def section(data, area: dict, budget: pd.DataFrame, econ: pd.DataFrame) -> str:
    """The HTML fragment: heading, what is counted, the budget table and the economics by horizon,
    per population."""
    pops = [p for p in data.populations() if p in set(budget["population"])]
    parts = [HEADING, intro(area)]
    if not pops:
        parts.append("<p class='note'>This sweep has no follow-on support to budget for against course only.</p>")
    for pop in pops:
        if len(pops) > 1:
            parts.append(f"<h3>{esc(pop)}</h3>")
        parts.append(budget_table(data, budget, pop))
        parts.append(horizon_table(data, econ, area, pop))
    parts.append("<p class='note'>Files: <code>budget_impact.csv</code> (per strategy and year, undiscounted) and "
                 "<code>economics_by_horizon.csv</code> (per graduate, discounted), beside this page.</p>")
    parts.append(evpi_words(data, area))
    return "\n".join(parts)
