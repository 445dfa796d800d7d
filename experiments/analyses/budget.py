"""Budget impact and economics by horizon for an area: the arithmetic (no Hydra).

    python -m experiments.report SWEEP_DIR area.graduates_per_year=300 area.years=5

runs :func:`analyse_sweep` on the sweep's weekly tables and writes ``SWEEP_DIR/budget/``, which the
report's budget section (:mod:`experiments.report.budget`) reads:

* ``per_graduate_by_year.csv``: per strategy and *model year* (year 1 = weeks 0-52 after the
  course, year 2 = weeks 53-104, ...), the mean paired increment per graduate against course only;
* ``budget_impact.csv``: per strategy and *calendar year* 1..``area.years``, for an area where
  ``area.graduates_per_year`` new graduates finish the course each year;
* ``economics_by_horizon.csv``: incremental cost, QALYs and net monetary benefit per graduate over
  1, 2 and 5 years (and ``area.years``), discounted;
* ``area.json`` last (its presence means the tables are complete): the area, the perspective, the
  price year, the discount rate and the model's horizon used.

How the numbers are made (every figure per graduate first, then scaled to the area):

* **Model years.** Each run's weekly table holds cumulative cost per graduate by category
  (undiscounted), the cumulative discounted total, cumulative discounted QALYs and the share of
  responders each week. A model year's cost is the rise of the cumulative cost over its weeks
  (year 1 includes week 0, when the course ends and support starts up); its QALYs are the weekly
  QALYs of its weeks *undiscounted* again (each week's discounted QALYs divided by the model's own
  discount factor ``(1 + r)^(-week/52)``); its responders are the share at its last week. A run of
  104 weeks has 2 model years; a last year cut short by the run (56 weeks: year 2 is weeks 53-56) is
  kept and flagged ``complete = False``.
* **Increments** against course only, run by run, paired by population, the other varied
  parameters and the seed (the report's pairing); then the mean over replicates (or PSA draws).
* **Cohorts stack.** Each calendar year a new cohort of ``graduates_per_year`` starts; in calendar
  year ``t`` the cohort that started in year ``j <= t`` is in its model year ``k = t - j + 1``, so
  year ``t`` counts ``N * sum_{k=1..min(t, K)} x_k`` for a model horizon of ``K`` years: each year's
  new graduates plus the support continuing for earlier cohorts within the model's horizon. **Beyond
  the model's horizon nothing is counted** (an assumption, labelled in the report): a cohort's cost
  and effect after the run's last week (week 104 by default) are not counted, neither the support
  that may go on, nor the care it saves, nor the gain that remains.
* **Budgets are undiscounted** (NICE's budget impact convention: what is paid each year); the
  economics by horizon and the population EVPI are discounted at the model's
  ``dynamics.outcomes.discount_rate_per_year`` (3.5%, NICE's reference case).
* **Perspective.** ``nhs_pss`` (NHS and personal social services, NICE's reference case): the
  course and support that the model costs (venues, coordination, facilitators, calls, the forum,
  volunteers' training) and the GP, nurse and urgent care avoided. ``societal``: also the time
  volunteers give, valued at ``area.volunteer_value_gbp_per_hour``: a peer-led group's leader
  ``volunteer_hours_per_meeting`` for every meeting of the modelled groups (newcomers from later
  courses share these groups: an upper bound on the time attributable to these graduates), and each
  peer caller on the rota ``volunteer_hours_per_caller_week`` for every week support runs. The
  graduates' own time is not costed from either perspective.
* **Prices.** The runs' costs are at the sweep's ``costs.price_year``; ``area.price_year`` re-prices
  every figure by ``index[area year] / index[sweep year]`` of the cost config's ``inflation_index``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.outputs import read_json, write_json, write_table
from experiments.schemas import AreaConfig, Perspective
from experiments.sweeps.collect import COMPARATOR, arms_of, collect, newer_than_every_run
from sim import economics
from sim.costs import CARE_CATEGORIES, SUPPORT_CATEGORIES

#: Weeks in a model year.
WEEKS_PER_YEAR = 52
#: Horizons of the economics table, years (``area.years`` is added when it is not among them).
HORIZONS_YEARS = (1, 2, 5)
#: The willingness to pay of the economics table, GBP per QALY (NICE's lower threshold).
WTP_GBP_PER_QALY = float(economics.WTP_THRESHOLDS_GBP[0])
#: The strategy of people who did not take the course: not something to add to it, so not budgeted.
NO_COURSE = "no_course"
#: The folder of a sweep that holds these files, and the file written last.
FOLDER = "budget"
BUDGET_CSV = "budget_impact.csv"
HORIZON_CSV = "economics_by_horizon.csv"
PER_YEAR_CSV = "per_graduate_by_year.csv"
AREA_JSON = "area.json"

#: Support categories paid for: the course and every channel (course only and the others all take the course).
PAID = ("course", *SUPPORT_CATEGORIES)
#: Per-graduate columns of a run's model year (see :func:`run_years`).
YEAR_COLUMNS = ("support_gbp", "care_gbp", "volunteer_hours", "volunteer_gbp", "responders_share", "qalys",
                "cost_disc_cum_gbp", "volunteer_disc_cum_gbp", "qalys_disc_cum")


# --- model years ---------------------------------------------------------------------------------


def model_year_of(week) -> np.ndarray:
    """The model year of each week: 1 for weeks 0-52, 2 for 53-104, ... (week 0, the end of the
    course, belongs to year 1)."""
    w = np.asarray(week, dtype=int)
    if (w < 0).any():
        raise ValueError("weeks must be >= 0 (week 0 is the end of the course)")
    return np.maximum(1, -(-w // WEEKS_PER_YEAR))


def horizon_years(weeks: int) -> int:
    """Model years a run of ``weeks`` weeks covers, a last year cut short included (104 -> 2, 56 -> 2)."""
    if weeks < 1:
        raise ValueError(f"a run of {weeks} weeks covers no model year")
    return int(model_year_of(weeks))


# --- one run's weeks into model years --------------------------------------------------------------


def volunteer_hours(weekly: pd.DataFrame, strategy: Mapping, area: AreaConfig, n_graduates: int) -> np.ndarray:
    """Volunteer hours per graduate in each week of one run's weekly table (rows in week order).

    A peer-led group's leader gives ``area.volunteer_hours_per_meeting`` for each meeting held
    (``peer_group_meetings``); each peer caller on the rota (``telephone_volunteers``) gives
    ``area.volunteer_hours_per_caller_week`` in every week support runs (``strategy.start_week`` to
    ``strategy.end_week``; week 0 has no support). Facilitated groups and professional callers
    have no volunteers. ``strategy``: the run's resolved ``strategy`` block.
    """
    if n_graduates < 1:
        raise ValueError(f"n_graduates must be >= 1, got {n_graduates}")
    week = weekly["week"].to_numpy(int)
    hours = np.zeros(len(weekly))
    pg = strategy.get("peer_group") or {}
    if pg.get("enabled") and pg.get("delivery", "peer_led") == "peer_led" and "peer_group_meetings" in weekly:
        hours += weekly["peer_group_meetings"].to_numpy(float) * area.volunteer_hours_per_meeting
    if "telephone_volunteers" in weekly:
        start, end = strategy.get("start_week", 0) or 0, strategy.get("end_week")
        on = (week >= max(1, start)) & (week <= (end if end is not None else week.max()))
        hours += np.where(on, weekly["telephone_volunteers"].to_numpy(float), 0.0) * area.volunteer_hours_per_caller_week
    return hours / n_graduates


def run_years(weekly: pd.DataFrame, discount_rate_per_year: float, volunteer_gbp_per_hour: float = 0.0) -> pd.DataFrame:
    """One run's weekly table as model years, per graduate.

    ``weekly``: one row per week of one run (week 0 first) with ``week``, cumulative undiscounted
    ``cost_<category>_gbp`` for the course, support and care categories, the cumulative discounted
    ``cost_total_discounted_gbp`` and ``qalys_gained``, ``share_self_managing`` and
    ``volunteer_hours`` (per graduate that week: :func:`volunteer_hours`). ``volunteer_gbp_per_hour``
    values that time (GBP at the costs' price year).

    Returns one row per model year: ``model_year``, ``first_week``, ``last_week``, ``complete``
    (the run reaches the year's end), undiscounted ``support_gbp`` (course and support), ``care_gbp``
    (planned and urgent care), ``volunteer_hours`` and ``volunteer_gbp`` of the year,
    ``responders_share`` at its last week, ``qalys`` of the year undiscounted, and at its last week
    the cumulative discounted ``cost_disc_cum_gbp`` (every category), ``volunteer_disc_cum_gbp``
    and ``qalys_disc_cum``.
    """
    w = weekly.sort_values("week")
    week = w["week"].to_numpy(int)
    if len(week) == 0 or week[0] != 0 or (np.diff(week) != 1).any():
        raise ValueError("a run's weekly table must hold every week from 0 on, once each")
    if not discount_rate_per_year > -1:
        raise ValueError(f"discount_rate_per_year must be > -1, got {discount_rate_per_year}")
    discount = (1.0 + discount_rate_per_year) ** (-week / WEEKS_PER_YEAR)

    def flow(cum: np.ndarray) -> np.ndarray:  # what each week adds to a cumulative column (week 0: all of it)
        return np.diff(cum, prepend=0.0)

    support = flow(w[[f"cost_{c}_gbp" for c in PAID if f"cost_{c}_gbp" in w]].sum(axis=1).to_numpy(float))
    care = flow(w[[f"cost_{c}_gbp" for c in CARE_CATEGORIES]].sum(axis=1).to_numpy(float))
    qalys = flow(w["qalys_gained"].to_numpy(float)) / discount
    hours = w["volunteer_hours"].to_numpy(float)
    vol_gbp = hours * volunteer_gbp_per_hour
    frame = pd.DataFrame({
        "model_year": model_year_of(week), "week": week, "support_gbp": support, "care_gbp": care,
        "volunteer_hours": hours, "volunteer_gbp": vol_gbp, "qalys": qalys,
        "responders_share": w["share_self_managing"].to_numpy(float),
        "cost_disc_cum_gbp": w[economics.COST_COLUMN].to_numpy(float),
        "volunteer_disc_cum_gbp": np.cumsum(vol_gbp * discount),
        "qalys_disc_cum": w[economics.QALY_COLUMN].to_numpy(float),
    })
    g = frame.groupby("model_year", sort=True)
    out = g[["support_gbp", "care_gbp", "volunteer_hours", "volunteer_gbp", "qalys"]].sum()
    last = g.tail(1).set_index("model_year")
    out["first_week"] = g["week"].min()
    out["last_week"] = last["week"]
    out["complete"] = out.index.to_numpy() * WEEKS_PER_YEAR <= week.max()
    for c in ("responders_share", "cost_disc_cum_gbp", "volunteer_disc_cum_gbp", "qalys_disc_cum"):
        out[c] = last[c]
    return out.reset_index()[["model_year", "first_week", "last_week", "complete", *YEAR_COLUMNS]]


def mean_increments(run_years_frame: pd.DataFrame, pair_on: Sequence[str]) -> pd.DataFrame:
    """Mean paired increment per graduate against course only, per arm and model year.

    ``run_years_frame``: one row per run and model year (:func:`run_years` with ``run_id``,
    ``arm``, ``strategy``, ``population`` and the ``pair_on`` columns). A run's increment is its
    value minus that of the course-only run with the same ``pair_on`` values and model year (the
    same seed: paired); runs without such a comparator are left out. Returns ``population``,
    ``arm``, ``strategy``, ``model_year``, ``first_week``, ``last_week``, ``complete``, ``pairs``
    and ``d_<column>`` for every column of :data:`YEAR_COLUMNS`.
    """
    keys = [*pair_on, "model_year"]
    paired = economics.paired_increments(run_years_frame, COMPARATOR, keys, columns=list(YEAR_COLUMNS))
    paired = paired.dropna(subset=[f"delta_{c}" for c in YEAR_COLUMNS])
    g = paired.groupby(["population", "arm", "strategy", "model_year"], sort=False)
    out = g[[f"delta_{c}" for c in YEAR_COLUMNS]].mean()
    out.columns = [f"d_{c}" for c in YEAR_COLUMNS]
    out["first_week"] = g["first_week"].min()
    out["last_week"] = g["last_week"].max()
    out["complete"] = g["complete"].all()
    out["pairs"] = g.size()
    return out.reset_index()[["population", "arm", "strategy", "model_year", "first_week", "last_week",
                              "complete", "pairs", *[f"d_{c}" for c in YEAR_COLUMNS]]]


# --- the area: perspective, cohorts stacking, horizons ---------------------------------------------


def per_graduate_by_year(increments: pd.DataFrame, perspective: Perspective | str,
                         price_factor: float = 1.0) -> pd.DataFrame:
    """The increments of :func:`mean_increments` in the budget's terms, per graduate and model year.

    Adds ``cost_gbp`` (course and support; from the ``societal`` perspective plus volunteer time),
    ``care_savings_gbp`` (care avoided: minus the care increment), ``net_cost_gbp`` (cost less
    savings), ``extra_responders`` (share, at the year's last week) and ``qalys`` (undiscounted,
    of the year), all undiscounted; ``cost_disc_cum_gbp`` (every category, plus volunteer time
    when societal) and ``qalys_disc_cum``, discounted, cumulative to the year's end. Money is
    multiplied by ``price_factor`` (re-pricing to the area's price year).
    """
    societal = Perspective(perspective) == Perspective.societal
    out = increments.copy()
    vol = out["d_volunteer_gbp"] if societal else 0.0
    vol_disc = out["d_volunteer_disc_cum_gbp"] if societal else 0.0
    out["cost_gbp"] = price_factor * (out["d_support_gbp"] + vol)
    out["care_savings_gbp"] = -price_factor * out["d_care_gbp"]
    out["net_cost_gbp"] = out["cost_gbp"] - out["care_savings_gbp"]
    out["extra_responders"] = out["d_responders_share"]
    out["qalys"] = out["d_qalys"]
    out["volunteer_hours"] = out["d_volunteer_hours"]
    out["cost_disc_cum_gbp"] = price_factor * (out["d_cost_disc_cum_gbp"] + vol_disc)
    out["qalys_disc_cum"] = out["d_qalys_disc_cum"]
    return out


#: Budget columns that are flows (summed over a year's cohorts) and the one that is a stock.
BUDGET_COLUMNS = ("cost_gbp", "care_savings_gbp", "net_cost_gbp", "extra_responders", "qalys", "volunteer_hours")


def budget_impact(per_year: pd.DataFrame, graduates_per_year: int, years: int) -> pd.DataFrame:
    """The budget of an area, per strategy and calendar year 1..``years``, undiscounted.

    ``per_year``: :func:`per_graduate_by_year` (one row per arm and model year 1..K, per graduate).
    A new cohort of ``graduates_per_year`` starts each calendar year; in year ``t`` the cohorts of
    years ``t - K + 1 .. t`` are within the model's horizon, in their model years ``min(t, K) .. 1``,
    and each adds ``graduates_per_year`` x its model year's per-graduate value; earlier cohorts are
    past the horizon and add nothing (nothing beyond the model is counted). ``extra_responders`` is
    the number of extra responders at the year's end among the cohorts counted; ``qalys`` the
    QALYs of the year (undiscounted); money in GBP of the year, undiscounted.

    Returns ``population``, ``arm``, ``strategy``, ``year``, ``cohorts_started`` (t),
    ``cohorts_counted`` (min(t, K)), ``graduates_counted``, ``model_years`` (K), and the
    :data:`BUDGET_COLUMNS` for the area.
    """
    if isinstance(graduates_per_year, bool) or graduates_per_year < 0:
        raise ValueError(f"graduates_per_year must be >= 0, got {graduates_per_year}")
    if isinstance(years, bool) or int(years) != years or years < 1:
        raise ValueError(f"years must be a whole number >= 1, got {years}")
    rows = []
    for (population, arm, strategy), sub in per_year.groupby(["population", "arm", "strategy"], sort=False):
        sub = sub.sort_values("model_year")
        k = sub["model_year"].to_numpy(int)
        if not np.array_equal(k, np.arange(1, len(k) + 1)):
            raise ValueError(f"arm {arm}: model years must run 1..K once each, got {k.tolist()}")
        K = len(k)
        values = sub[list(BUDGET_COLUMNS)].to_numpy(float)  # (K, columns), per graduate
        for t in range(1, int(years) + 1):
            counted = min(t, K)
            total = graduates_per_year * values[:counted].sum(axis=0)
            rows.append({"population": population, "arm": arm, "strategy": strategy, "year": t,
                         "cohorts_started": t, "cohorts_counted": counted,
                         "graduates_counted": graduates_per_year * counted, "model_years": K,
                         **dict(zip(BUDGET_COLUMNS, map(float, total)))})
    return pd.DataFrame(rows)


def economics_by_horizon(per_year: pd.DataFrame, horizons: Sequence[int] = HORIZONS_YEARS,
                         wtp_gbp_per_qaly: float = WTP_GBP_PER_QALY) -> pd.DataFrame:
    """Incremental cost, QALYs and net monetary benefit per graduate over each horizon, discounted.

    For a horizon of ``h`` years the numbers are those of the run's first ``min(h, K)`` model
    years (``years_counted``); ``years_beyond_model`` (``h - K`` when positive) are not modelled
    and count nothing, so a horizon past the model repeats the model's last year. ``complete`` is
    False when the last year counted was cut short by the run. Returns ``population``, ``arm``,
    ``strategy``, ``horizon_years``, ``years_counted``, ``years_beyond_model``, ``last_week``,
    ``complete``, ``incremental_cost_gbp``, ``incremental_qalys`` and ``nmb_<wtp>_gbp``.
    """
    rows = []
    for (population, arm, strategy), sub in per_year.groupby(["population", "arm", "strategy"], sort=False):
        sub = sub.sort_values("model_year").reset_index(drop=True)
        K = len(sub)
        for h in horizons:
            if int(h) != h or h < 1:
                raise ValueError(f"a horizon must be a whole number of years >= 1, got {h}")
            r = sub.iloc[min(int(h), K) - 1]
            cost, qalys = float(r["cost_disc_cum_gbp"]), float(r["qalys_disc_cum"])
            rows.append({"population": population, "arm": arm, "strategy": strategy, "horizon_years": int(h),
                         "years_counted": min(int(h), K), "years_beyond_model": max(0, int(h) - K),
                         "last_week": int(r["last_week"]), "complete": bool(r["complete"]),
                         "incremental_cost_gbp": cost, "incremental_qalys": qalys,
                         f"nmb_{int(wtp_gbp_per_qaly)}_gbp": wtp_gbp_per_qaly * qalys - cost})
    return pd.DataFrame(rows)


def price_factor(costs: Mapping, to_year: int | None, from_year: int | None = None) -> float:
    """``index[to_year] / index[from_year]`` of a resolved ``costs`` block's ``inflation_index``
    (``from_year`` default: its ``price_year``; ``to_year`` None: 1). Raises ``ValueError`` for a
    year not in the index."""
    from_year = costs.get("price_year") if from_year is None else from_year
    if to_year is None or int(to_year) == int(from_year):
        return 1.0
    index = {int(y): float(v) for y, v in (costs.get("inflation_index") or {}).items()}
    for year in (to_year, from_year):
        if int(year) not in index:
            raise ValueError(f"price year {year} is not in the cost config's inflation_index {sorted(index)}")
    return index[int(to_year)] / index[int(from_year)]


# --- a sweep ---------------------------------------------------------------------------------------


@dataclass
class Budget:
    """The area's numbers of one sweep (the three tables and what they assumed)."""

    per_year: pd.DataFrame
    budget: pd.DataFrame
    horizons: pd.DataFrame
    assumptions: dict




def compute(sweep_dir: Path | str, area: AreaConfig) -> Budget:
    """The area's budget impact and economics by horizon of a finished sweep (collected first if
    its tables are missing or stale). Raises ``FileNotFoundError`` if no run finished and
    ``ValueError`` if the sweep has no course-only run to compare with or a price year is not in
    its price index."""
    sweep_dir = Path(sweep_dir)
    if not newer_than_every_run(sweep_dir / "results.parquet", sweep_dir):
        collect(sweep_dir)
    grouped = arms_of(sweep_dir)
    ids = grouped.ids
    if not (ids["strategy"] == COMPARATOR).any():
        raise ValueError(f"strategy={COMPARATOR!r} is not in the sweep: the budget impact is against {COMPARATOR}")
    pair_on = ["population", *[p for p in grouped.parameters if not p.startswith("strategy.")], "seed"]
    base = grouped.configs[ids.loc[ids["strategy"] == COMPARATOR, "arm"].iloc[0]]
    costs = base.get("costs") or {}
    sweep_year = int(costs.get("price_year"))
    shown_year = sweep_year if area.price_year is None else int(area.price_year)
    factor = price_factor(costs, shown_year)
    vol_gbp = area.volunteer_value_gbp_per_hour * price_factor(costs, sweep_year, area.volunteer_value_price_year)
    weekly = pd.read_parquet(sweep_dir / "results.parquet")
    weekly = weekly[weekly["run_id"].isin(ids["run_id"])]
    info = ids.set_index("run_id")
    frames = []
    for run_id, w in weekly.groupby("run_id", sort=False):
        row = info.loc[run_id]
        cfg = grouped.configs[row["arm"]]
        rate = float(((cfg.get("dynamics") or {}).get("outcomes") or {}).get("discount_rate_per_year", 0.035))
        w = w.sort_values("week").assign(
            volunteer_hours=lambda d: volunteer_hours(d, cfg.get("strategy") or {}, area, int(row["n_graduates"])))
        years = run_years(w, rate, vol_gbp)
        years["run_id"] = run_id
        for c in ("arm", "strategy", *pair_on):
            years[c] = row[c] if c in info.columns else None
        frames.append(years)
    runs = pd.concat(frames, ignore_index=True)
    for c in pair_on:
        runs[c] = runs[c].astype(str)  # as the report pairs: by text, a missing value as 'None'
    inc = mean_increments(runs, pair_on)
    inc = inc[~inc["strategy"].isin([COMPARATOR, NO_COURSE])]
    order = {arm: i for i, arm in enumerate(grouped.keys)}  # the report's order of arms
    inc = inc.sort_values(["arm", "model_year"], key=lambda s: s.map(order) if s.name == "arm" else s,
                          ignore_index=True)
    per_year = per_graduate_by_year(inc, area.perspective, factor)
    per_year.insert(2, "label", per_year["arm"].map(grouped.labels))
    horizons = sorted({*HORIZONS_YEARS, int(area.years)})
    budget = budget_impact(per_year, area.graduates_per_year, area.years)
    budget.insert(2, "label", budget["arm"].map(grouped.labels))
    econ = economics_by_horizon(per_year, horizons)
    econ.insert(2, "label", econ["arm"].map(grouped.labels))
    weeks = int(ids["weeks"].max())
    rate = float(((base.get("dynamics") or {}).get("outcomes") or {}).get("discount_rate_per_year", 0.035))
    assumptions = {
        **{k: (v.value if hasattr(v, "value") else v) for k, v in asdict(area).items()},
        "price_year": shown_year, "price_year_given": area.price_year, "sweep_price_year": sweep_year,
        "price_factor": factor, "volunteer_gbp_per_hour_at_price_year": vol_gbp * factor,
        "discount_rate_per_year": rate, "weeks": weeks, "model_years": horizon_years(weeks),
        "horizons_years": horizons, "wtp_gbp_per_qaly": WTP_GBP_PER_QALY,
        "budget_discounted": False, "comparator": COMPARATOR,
        "runs": int(len(ids)),
    }
    return Budget(per_year, budget, econ, assumptions)


def write(result: Budget, out_dir: Path | str) -> Path:
    """Write the tables into ``out_dir`` and ``area.json`` last; return the latter."""
    out_dir = Path(out_dir)
    write_table(out_dir / PER_YEAR_CSV, result.per_year)
    write_table(out_dir / BUDGET_CSV, result.budget)
    write_table(out_dir / HORIZON_CSV, result.horizons)
    write_json(out_dir / AREA_JSON, result.assumptions)
    return out_dir / AREA_JSON


def analyse_sweep(sweep_dir: Path | str, area: AreaConfig, out_dir: Path | str | None = None) -> Budget:
    """:func:`compute` and :func:`write` (default into ``SWEEP_DIR/budget``)."""
    result = compute(sweep_dir, area)
    write(result, Path(out_dir) if out_dir else Path(sweep_dir) / FOLDER)
    return result


def read_assumptions(sweep_dir: Path | str) -> dict | None:
    """``SWEEP_DIR/budget/area.json``, or None when the analysis has not been written."""
    path = Path(sweep_dir) / FOLDER / AREA_JSON
    return read_json(path) if path.is_file() else None

