"""The numbers of the report: a sweep folder read into arms, runs, weekly bands and economics.

An *arm* is what a commissioner could fund: a strategy with its settings (one per strategy in
``compare_strategies``; one per strategy and meeting interval in ``peer_group_frequency``), in
one population. Each arm is compared with ``course_only`` in the same population and with the
same other parameters, replicate by replicate (same seed: paired).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments import outcomes
from experiments.sweeps.collect import COMPARATOR, arms_of, collect, newer_than_every_run, read_yaml
from experiments.outputs import OutputError, read_json
from experiments.uncertainty import listed_parameters, run_draws
from experiments.labels import EXTRA_COLOURS, STRATEGY_COLOURS, SUBGROUPS, strategy_description
from experiments.stats import mean_ci, t_quantile
from sim import economics
from sim.costs import CARE_CATEGORIES, CATEGORIES, SUPPORT_CATEGORIES
from sim.measurement import CURVE_THRESHOLDS_SD, MeasurementParams, smd
from sim.reporters import responder_column

#: Weeks of the gains figure: 6, 12 and 24 months after the course.
TIMEPOINTS = (26, 52, 104)
#: The week of the headline numbers (12 months), or the last week of shorter runs.
HEADLINE_WEEK = 52
#: The strategy of people who did not take the course (configs/strategy/no_course.yaml).
NO_COURSE = "no_course"
#: Bootstrap resamples for the intervals of ratios (ICER, cost per extra self-manager).
BOOTSTRAP = 2000


@dataclass
class Arm:
    """One thing to fund: a strategy with its settings, in one population."""

    key: str
    strategy: str
    population: str
    params: dict[str, Any]
    label: str
    description: str
    colour: str
    config: dict = field(repr=False, default_factory=dict)

    @property
    def is_comparator(self) -> bool:
        return self.strategy == COMPARATOR

    @property
    def is_no_course(self) -> bool:
        """The other comparator: people referred who did not take the course."""
        return self.strategy == NO_COURSE

    @property
    def is_follow_on(self) -> bool:
        """Follow-on support after the course: what the report ranks."""
        return not (self.is_comparator or self.is_no_course)


@dataclass
class SweepData:
    sweep_dir: Path
    runs: pd.DataFrame  # one row per run: ids, arm, outcomes at the time points, costs, QALYs, increments
    weekly: pd.DataFrame  # results.parquet with an ``arm`` column
    arms: list[Arm]
    parameters: list[str]  # varied parameters (besides strategy and population)
    pair_on: list[str]  # what pairs a run with its comparator run
    weeks: int
    n_graduates: int
    timepoints: list[int]
    headline_week: int
    is_psa: bool
    psa_parameters: list = field(default_factory=list)  # experiments.uncertainty.Varied entries
    psa_draws: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per replicate
    base_config: dict = field(default_factory=dict)  # the resolved config of the comparator's first run
    dynamics_choice: str = ""

    def arm(self, key: str) -> Arm:
        return next(a for a in self.arms if a.key == key)

    def populations(self) -> list[str]:
        return list(dict.fromkeys(a.population for a in self.arms))

    def arms_in(self, population: str) -> list[Arm]:
        return [a for a in self.arms if a.population == population]

    def comparator_of(self, arm: Arm) -> Arm | None:
        """The course-only arm in the same population with the same non-strategy parameters."""
        for a in self.arms:
            if a.is_comparator and a.population == arm.population and all(
                    _same(a.params.get(p), arm.params.get(p)) for p in self.parameters if not p.startswith("strategy.")):
                return a
        return None


def _same(a, b) -> bool:
    return (a is None and b is None) or str(a) == str(b)


def load(sweep_dir: Path | str) -> SweepData:
    """Read a finished sweep folder (collecting it first if its tables are missing or stale)."""
    sweep_dir = Path(sweep_dir)
    if not newer_than_every_run(sweep_dir / "results.parquet", sweep_dir):
        collect(sweep_dir)
    grouped = arms_of(sweep_dir)
    ids, parameters = grouped.ids, grouped.parameters
    # a run's comparator ran with the same seed (the seed actually used, not the replicate number)
    pair_on = ["population", *[p for p in parameters if not p.startswith("strategy.")], "seed"]
    _check_pairs(ids, pair_on)
    arms = []
    for key, (strategy, population, params) in grouped.keys.items():
        cfg = grouped.configs[key]
        weeks = int(ids.loc[ids["arm"] == key, "weeks"].max())
        arms.append(Arm(
            key=key, strategy=strategy, population=population, params={p: v for p, v in params if v is not None},
            label=grouped.labels[key],
            description=strategy_description(cfg.get("strategy", {}), cfg.get("population", {}).get("label", ""), weeks),
            colour="", config=cfg,
        ))
    _colour(arms)

    weekly = pd.read_parquet(sweep_dir / "results.parquet")
    weekly = weekly.merge(ids[["run_id", "arm"]], on="run_id", how="inner")
    weeks = int(ids["weeks"].max())
    timepoints = [w for w in TIMEPOINTS if w <= weeks] or [weeks]
    headline = HEADLINE_WEEK if weeks >= HEADLINE_WEEK else weeks
    if headline not in timepoints:
        timepoints = sorted({*timepoints, headline})

    runs = _run_table(ids, weekly, timepoints, headline, weeks)
    _add_measured_gain(runs, sweep_dir, timepoints)
    runs = economics.paired_increments(runs, COMPARATOR, pair_on, columns=_increment_columns(runs))

    comparator_first = next((a for a in arms if a.is_comparator), arms[0])
    base = comparator_first.config
    psa = base.get("psa") or {}
    is_psa = bool(psa.get("enabled"))
    psa_parameters, draws = [], pd.DataFrame()
    if is_psa:
        psa_parameters = listed_parameters(psa)
        firsts = ids[ids["arm"] == comparator_first.key].sort_values("replicate")
        draws = pd.DataFrame([{"replicate": r.replicate, **run_draws(sweep_dir / "runs" / r.run_id)}
                              for r in firsts.itertuples()])
    choice = ""
    hydra_yaml = sweep_dir / "runs" / ids.iloc[0]["run_id"] / ".hydra" / "hydra.yaml"
    if hydra_yaml.is_file():
        choice = ((read_yaml(hydra_yaml).get("hydra") or {}).get("runtime", {}).get("choices", {}) or {}).get("dynamics", "")
    return SweepData(sweep_dir, runs, weekly, arms, parameters, pair_on, weeks, int(ids["n_graduates"].max()),
                     timepoints, headline, is_psa, psa_parameters, draws, base, choice or "")


class SweepError(ValueError):
    """A sweep the report cannot answer from (no comparator, or runs without a same-seed comparator)."""


def _check_pairs(ids: pd.DataFrame, pair_on: list[str]) -> None:
    """Every run needs a course-only run with the same seed (and population, parameters): the
    report's increments are paired."""
    if not (ids["strategy"] == COMPARATOR).any():
        raise SweepError(f"strategy={COMPARATOR!r} is not in the sweep: the report compares every strategy "
                         f"with {COMPARATOR}; add it (e.g. hydra.sweeper.params.strategy='{COMPARATOR},...')")
    control = ids[ids["strategy"] == COMPARATOR][pair_on].astype(str).drop_duplicates()
    keyed = ids[pair_on].astype(str).merge(control, on=pair_on, how="left", indicator=True)
    unpaired = ids.loc[(keyed["_merge"] == "left_only").to_numpy(), "run_id"]
    if len(unpaired):
        raise SweepError(f"run {unpaired.iloc[0]!r} has no {COMPARATOR} run with the same seed "
                         f"({len(unpaired)} such runs): the report needs paired runs; sweep with a fixed seed, not seed=null")


def _colour(arms: list[Arm]) -> None:
    """Named strategies keep their own colour when each appears once per population; variants take
    colours in turn. Course only is black either way."""
    per_pop: dict[tuple, int] = {}
    for a in arms:
        per_pop[(a.population, a.strategy)] = per_pop.get((a.population, a.strategy), 0) + 1
    named = all(n == 1 for n in per_pop.values()) and all(a.strategy in STRATEGY_COLOURS for a in arms)
    for pop in dict.fromkeys(a.population for a in arms):
        i = 0
        for a in (x for x in arms if x.population == pop):
            if a.is_comparator:
                a.colour = STRATEGY_COLOURS[COMPARATOR]
            elif named:
                a.colour = STRATEGY_COLOURS[a.strategy]
            else:
                a.colour = EXTRA_COLOURS[i % len(EXTRA_COLOURS)]
                i += 1


def _run_table(ids: pd.DataFrame, weekly: pd.DataFrame, timepoints: list[int], headline: int, weeks: int) -> pd.DataFrame:
    """One row per run: outcomes at the time points, costs at 12 months and at the end, QALYs."""
    at = weekly.set_index(["run_id", "week"])
    rows = ids.set_index("run_id")
    out = rows.copy()
    for w in timepoints:
        sub = at.xs(w, level="week")
        for o in outcomes.at_timepoints():  # the outcome catalogue's (experiments.outcomes)
            out[f"{o.name}_w{w}"] = sub[o.name]
    head = at.xs(headline, level="week")
    for _, _, col in SUBGROUPS[1:]:
        out[f"{col}_w{headline}"] = head[col]
    for t in CURVE_THRESHOLDS_SD:  # responders at other thresholds (runs made before they were counted: absent)
        col = responder_column(t)
        if col in head.columns:
            out[f"{col}_w{headline}"] = head[col]
    out["cost_total_gbp_headline"] = head["cost_total_gbp"]
    out["cost_support_gbp_headline"] = head[[f"cost_{c}_gbp" for c in SUPPORT_CATEGORIES]].sum(axis=1)
    end = at.groupby(level="run_id").tail(1).reset_index("week", drop=True)
    for c in CATEGORIES:
        out[f"cost_{c}_gbp"] = end[f"cost_{c}_gbp"]
    out["cost_support_gbp"] = end[[f"cost_{c}_gbp" for c in SUPPORT_CATEGORIES]].sum(axis=1)
    out["cost_care_gbp"] = end[[f"cost_{c}_gbp" for c in CARE_CATEGORIES]].sum(axis=1)
    for c in ("cost_total_gbp", economics.COST_COLUMN, economics.QALY_COLUMN):
        out[c] = end[c]
    return out.reset_index()


def _add_measured_gain(runs: pd.DataFrame, sweep_dir: Path, timepoints: list[int]) -> None:
    """Add each run's measurement reliability and its mean gain on the measured scale,
    ``measured_gain_sd_w<week>``: the latent mean gain (SD of true capability) as a standardised
    mean difference on the questionnaire score (SD of the measured pre-course score,
    :func:`sim.measurement.smd`), the scale trials report. The reliability is the one the run used
    (``summary.json``'s ``parameters``: a PSA draws it with the posterior); paired runs share it, so
    the paired difference of this column is the SMD against course only, independent of any
    responder threshold."""
    default = MeasurementParams().reliability
    reliability = []
    for run_id in runs["run_id"]:
        given = read_json(sweep_dir / "runs" / run_id / "summary.json").get("parameters") or {}
        value = ((given.get("dynamics") or {}).get("measurement") or {}).get("reliability", default)
        reliability.append(float(value))
    runs["reliability"] = reliability
    for w in timepoints:
        runs[f"measured_gain_sd_w{w}"] = [smd(g, MeasurementParams(reliability=r))
                                          for g, r in zip(runs[f"mean_gain_sd_w{w}"], reliability)]


def _increment_columns(runs: pd.DataFrame) -> list[str]:
    return [c for c in runs.columns
            if c.startswith(("share_self_managing", "mean_gain_sd", "measured_gain_sd", "cost_", "qalys"))]


# --- summaries ---------------------------------------------------------------------------------


def _ci(x, percentile: bool = False, bounds: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """Mean and 95% interval: of the mean over replicates (t, clipped to ``bounds``: a share's
    interval stays within 0-100%), or, for a PSA, of the outcome itself over parameter draws (2.5th
    and 97.5th percentiles: the uncertainty a decision faces)."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    if percentile and x.size:
        return float(x.mean()), float(np.percentile(x, 2.5)), float(np.percentile(x, 97.5))
    return mean_ci(x, bounds=bounds)


#: Bounds of a share (0 to 1) and of a difference of shares per 100 graduates (-100 to 100).
SHARE = (0.0, 1.0)
PER_100 = (-100.0, 100.0)


def _ratio_ci(num, den, seed: int = 12345) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(num) / mean(den) over paired replicates; NaN if the
    denominator's interval includes 0 (the ratio is then unbounded)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    if num.size < 2:
        return float("nan"), float("nan")
    _, lo, hi = mean_ci(den)
    if not (lo > 0 or hi < 0):
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, num.size, size=(BOOTSTRAP, num.size))
    ratios = num[idx].mean(axis=1) / den[idx].mean(axis=1)
    return float(np.percentile(ratios, 2.5)), float(np.percentile(ratios, 97.5))


def arm_summary(data: SweepData) -> pd.DataFrame:
    """One row per arm: every headline number of the report with its 95% interval.

    Costs per graduate are undiscounted (what is paid) except ``dcost_disc`` (for the ICER and net
    monetary benefit, with the QALYs, discounted at the rate in the config). Increments are paired
    differences from course only; ratios are ratios of means with bootstrap intervals.
    """
    h = data.headline_week
    rows = []
    for arm in data.arms:
        r = data.runs[data.runs["arm"] == arm.key]
        paired = r.dropna(subset=[f"delta_{economics.COST_COLUMN}"])
        row: dict[str, Any] = {"arm": arm.key, "label": arm.label, "strategy": arm.strategy,
                               "population": arm.population, "n_runs": len(r), "n_paired": len(paired)}

        def put(name, values, bounds=None):
            row[name], row[f"{name}_lo"], row[f"{name}_hi"] = _ci(values, data.is_psa, bounds)

        put("share_h", r[f"share_self_managing_w{h}"], SHARE)
        put("extra_per_100_h", 100 * paired[f"delta_share_self_managing_w{h}"], PER_100)
        # the headline that needs no threshold: the standardised mean difference on the measured score
        put("smd_h", paired[f"delta_measured_gain_sd_w{h}"])
        for t in CURVE_THRESHOLDS_SD:
            col = f"{responder_column(t)}_w{h}"
            if col in r.columns:
                put(f"share_h_{threshold_tag(t)}", r[col], SHARE)
                put(f"extra_per_100_h_{threshold_tag(t)}", 100 * paired[f"delta_{col}"], PER_100)
        for w in data.timepoints:
            put(f"gain_w{w}", r[f"mean_gain_sd_w{w}"])
            put(f"dgain_w{w}", paired[f"delta_mean_gain_sd_w{w}"])
        for key, _, col in SUBGROUPS[1:]:
            put(f"share_{key}_h", r[f"{col}_w{h}"], SHARE)
            put(f"extra_{key}_per_100_h", 100 * paired[f"delta_{col}_w{h}"], PER_100)
        put("cost_total", r["cost_total_gbp"])
        put("cost_support", r["cost_support_gbp"])
        put("cost_support_h", r["cost_support_gbp_headline"])
        put("dcost_h", paired["delta_cost_total_gbp_headline"])
        put("dcost", paired["delta_cost_total_gbp"])
        put("dcare", paired["delta_cost_care_gbp"])
        put("dcost_disc", paired[f"delta_{economics.COST_COLUMN}"])
        put("dqaly", paired[f"delta_{economics.QALY_COLUMN}"])
        for c in CATEGORIES:
            row[f"cost_{c}"] = float(r[f"cost_{c}_gbp"].mean())
            row[f"dcost_{c}"] = float(paired[f"delta_cost_{c}_gbp"].mean()) if len(paired) else float("nan")
        for wtp in economics.WTP_THRESHOLDS_GBP:
            put(f"nmb_{wtp}", paired[f"nmb_{wtp}"])
            row[f"p_nmb_pos_{wtp}"] = float((paired[f"nmb_{wtp}"] > 0).mean()) if len(paired) else float("nan")
        if arm.is_comparator:
            row["icer"] = row["cost_per_extra_h"] = float("nan")
            row["icer_lo"] = row["icer_hi"] = row["cost_per_extra_h_lo"] = row["cost_per_extra_h_hi"] = float("nan")
            row["quadrant"] = "comparator"
        else:
            row["icer"] = economics.icer(row["dcost_disc"], row["dqaly"])
            row["quadrant"] = economics.quadrant(row["dcost_disc"], row["dqaly"])
            if row["quadrant"] == "more effective, more costly" and not data.is_psa:
                row["icer_lo"], row["icer_hi"] = _ratio_ci(paired[f"delta_{economics.COST_COLUMN}"],
                                                           paired[f"delta_{economics.QALY_COLUMN}"])
            else:
                row["icer_lo"] = row["icer_hi"] = float("nan")
            extra = row["extra_per_100_h"] / 100
            row["cost_per_extra_h"] = economics.cost_per_extra(row["dcost_h"], extra)
            if math.isfinite(row["cost_per_extra_h"]) and row["dcost_h"] > 0 and not data.is_psa:
                row["cost_per_extra_h_lo"], row["cost_per_extra_h_hi"] = _ratio_ci(
                    paired["delta_cost_total_gbp_headline"], paired[f"delta_share_self_managing_w{h}"])
            else:
                row["cost_per_extra_h_lo"] = row["cost_per_extra_h_hi"] = float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def threshold_tag(threshold_sd: float) -> str:
    """The suffix of the arm summary's columns at one responder threshold: 0.5 -> 'at_050sd'."""
    return responder_column(threshold_sd).removeprefix("share_self_managing_")


def responders_by_threshold(data: SweepData, summary: pd.DataFrame) -> pd.DataFrame:
    """Responders per 100 graduates at the headline week as the responder threshold moves over
    :data:`sim.measurement.CURVE_THRESHOLDS_SD` (SD of the measured pre-course score), per arm: the
    share (``responders_per_100``) and the paired difference from course only (``extra_per_100``),
    each with its 95% interval, and ``rank`` among the follow-on strategies of the population
    (1 = most extra responders; NaN for the comparators). The rows of ``responders_by_threshold.csv``
    and the report's threshold figure: how much the plain-words count depends on the threshold, and
    whether the ranking does. Raises :class:`SweepError` for runs made before the model counted
    responders at these thresholds (rerun the sweep)."""
    missing = [responder_column(t) for t in CURVE_THRESHOLDS_SD
               if f"extra_per_100_h_{threshold_tag(t)}" not in summary.columns]
    if missing:
        raise SweepError(f"the runs have no weekly column {missing[0]!r} (made by an older version): rerun the "
                         "sweep to count responders at every threshold")
    rows = []
    s = summary.set_index("arm")
    for t in CURVE_THRESHOLDS_SD:
        tag = threshold_tag(t)
        for a in data.arms:
            r = s.loc[a.key]
            rows.append({
                "population": a.population, "arm": a.key, "strategy": a.strategy, "label": a.label,
                "headline_week": data.headline_week, "threshold_sd": t,
                "responders_per_100": 100 * r[f"share_h_{tag}"],
                "responders_per_100_lo": 100 * r[f"share_h_{tag}_lo"],
                "responders_per_100_hi": 100 * r[f"share_h_{tag}_hi"],
                "extra_per_100": r[f"extra_per_100_h_{tag}"],
                "extra_per_100_lo": r[f"extra_per_100_h_{tag}_lo"],
                "extra_per_100_hi": r[f"extra_per_100_h_{tag}_hi"],
                "follow_on": a.is_follow_on,
            })
    out = pd.DataFrame(rows)
    follow = out["follow_on"]
    out["rank"] = np.nan
    out.loc[follow, "rank"] = (out[follow].groupby(["population", "threshold_sd"])["extra_per_100"]
                               .rank(ascending=False, method="min"))
    return out


def ranking_holds(table: pd.DataFrame, population: str) -> bool:
    """Whether the follow-on strategies come in the same order (by extra responders per 100) at
    every threshold of :func:`responders_by_threshold`'s ``table``."""
    t = table[(table["population"] == population) & table["follow_on"]]
    orders = {tuple(g.sort_values(["rank", "arm"])["arm"]) for _, g in t.groupby("threshold_sd")}
    return len(orders) <= 1


#: What the efficiency frontier says of a strategy at one willingness to pay (:func:`frontier_verdicts`).
COST_EFFECTIVE = "cost-effective"
ABOVE_THRESHOLD = "above the threshold"
DOMINATED = "dominated"
EXTENDEDLY_DOMINATED = "extendedly dominated"
REFERENCE = "the cheapest option"
#: The verdicts that rule a strategy out at that willingness to pay.
RULED_OUT = (ABOVE_THRESHOLD, DOMINATED, EXTENDEDLY_DOMINATED)


def frontier(data: SweepData, summary: pd.DataFrame, population: str) -> pd.DataFrame:
    """The efficiency frontier of what to add to the course in ``population`` (course only and the
    follow-on strategies; not the no-course arm): :func:`sim.economics.efficiency_frontier` on the
    mean discounted extra cost per graduate and extra QALYs per graduate against course only over
    the runs' horizon. The one frontier every verdict, table and figure of the report uses."""
    arms = [a for a in data.arms_in(population) if not a.is_no_course]
    s = summary.set_index("arm")
    return economics.efficiency_frontier([a.key for a in arms], [s.loc[a.key, "dcost_disc"] for a in arms],
                                         [s.loc[a.key, "dqaly"] for a in arms])


def frontier_verdicts(front: pd.DataFrame, wtp_gbp_per_qaly: float) -> dict[str, str]:
    """Each strategy of :func:`frontier`'s table at a willingness to pay (GBP per QALY), in the one
    meaning "cost-effective" has in the report: **on the efficiency frontier with its ICER against
    the next cheaper frontier strategy at most the willingness to pay** (:data:`COST_EFFECTIVE`).
    Otherwise :data:`ABOVE_THRESHOLD` (on the frontier, its step costs more per QALY),
    :data:`DOMINATED`, :data:`EXTENDEDLY_DOMINATED`, or :data:`REFERENCE` for the cheapest
    strategy on the frontier (what the others are compared with). Raises ``ValueError`` for a
    willingness to pay that is not a positive finite number."""
    wtp = float(wtp_gbp_per_qaly)
    if not (math.isfinite(wtp) and wtp > 0):
        raise ValueError(f"wtp_gbp_per_qaly must be a positive finite number of GBP per QALY, got {wtp_gbp_per_qaly!r}")
    out = {}
    for r in front.itertuples():
        if r.status == "dominated":
            out[r.name] = DOMINATED
        elif r.status == "extendedly dominated":
            out[r.name] = EXTENDEDLY_DOMINATED
        elif not isinstance(r.compared_with, str):
            out[r.name] = REFERENCE
        else:
            out[r.name] = COST_EFFECTIVE if r.icer_vs_previous <= wtp else ABOVE_THRESHOLD
    return out


def weekly_bands(data: SweepData, column: str, scale: float = 1.0) -> pd.DataFrame:
    """Per arm and week: mean of ``column`` x ``scale`` over replicates with its 95% interval (of the
    mean; for a PSA, the 2.5th to 97.5th percentiles over draws). The interval of a share
    (``share_*``, ``*_share``: 0-1; ``*_pct``: 0-100) is clipped to its range."""
    w = data.weekly[["arm", "run_id", "week", column]].drop_duplicates(["arm", "run_id", "week"])
    g = w.groupby(["arm", "week"])[column]
    if data.is_psa:
        out = g.agg(mean="mean", lo=lambda v: _percentile(v, 2.5), hi=lambda v: _percentile(v, 97.5))
        return (out * scale).reset_index()
    out = g.agg(["mean", "std", "count"]).reset_index()
    t = t_quantile(0.975, np.maximum(out["count"] - 1, 1).to_numpy(dtype=float))
    half = np.where(out["count"] > 1, t * out["std"].fillna(0) / np.sqrt(out["count"]), np.nan)
    out["mean"] *= scale
    out["lo"] = out["mean"] - half * scale
    out["hi"] = out["mean"] + half * scale
    top = 100.0 if column.endswith("_pct") else scale if (column.startswith("share_") or column.endswith("_share")) \
        else None
    if top is not None:
        out["lo"] = out["lo"].clip(lower=0.0)
        out["hi"] = out["hi"].clip(upper=top)
    return out


def _percentile(values, q: float) -> float:
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    return float(np.percentile(v, q)) if v.size else float("nan")


def acceptability_table(data: SweepData, population: str, wtp=None) -> tuple[pd.DataFrame, int]:
    """The acceptability curve of one population's arms: one row per willingness to pay, one column
    per arm (probability it is the most cost-effective), and the number of draws used."""
    wtp = economics.wtp_grid() if wtp is None else np.asarray(wtp, dtype=float)
    arms = data.arms_in(population)
    r = data.runs[data.runs["population"] == population].copy()
    r["strategy"] = r["arm"]  # rank arms, not strategy names (variants of a strategy compete too)
    c, q, draws = economics.draws_by_strategy(r, [a.key for a in arms])
    probs = economics.acceptability(c, q, wtp)
    table = pd.DataFrame(probs, columns=[a.key for a in arms])
    table.insert(0, "wtp_gbp_per_qaly", wtp)
    return table, len(draws)


def reach_by_subgroup(data: SweepData) -> pd.DataFrame:
    """Share of each subgroup reached (at least one contact with follow-on support), per arm: the
    mean over the arm's runs of what each run recorded (``summary.json``'s ``reached``, written by
    :mod:`experiments.evaluate`). Returns arm, subgroup, its label, reached (share) and the number
    of runs. Runs made before runs recorded their reach raise :class:`OutputError` naming one:
    rerunning the sweep writes it (the report never runs the model)."""
    rows = []
    for arm in data.arms:
        if arm.is_comparator:
            continue
        shares: dict[str, list[float]] = {k: [] for k, _, _ in SUBGROUPS}
        for run_id in data.runs.loc[data.runs["arm"] == arm.key, "run_id"]:
            path = data.sweep_dir / "runs" / run_id / "summary.json"
            reached = read_json(path).get("reached")
            if not isinstance(reached, dict):
                raise OutputError(path, "has no 'reached' (made by an older version): rerun the sweep to record it")
            for k in shares:
                value = reached.get(k)
                if value is not None and math.isfinite(value):
                    shares[k].append(float(value))
        for k, label, _ in SUBGROUPS:
            if shares[k]:
                rows.append({"arm": arm.key, "subgroup": k, "subgroup_label": label,
                             "reached": float(np.mean(shares[k])), "runs": len(shares[k])})
    return pd.DataFrame(rows)


def _shown_path(path: Path) -> str:
    """A sweep folder as a report shows it: relative to the working folder when inside it (the
    project's ``outputs/main``), else its own name; never a machine's absolute path."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name


def provenance(data: SweepData) -> dict[str, Any]:
    """What identifies the inputs: config hashes, seeds, versions, dates."""
    import hashlib
    import platform
    import subprocess
    import time
    from importlib.metadata import PackageNotFoundError, version

    import sim

    r = data.runs
    digest = hashlib.sha256("\n".join(sorted(r["config_hash"].astype(str))).encode()).hexdigest()[:16]
    hashes = {}
    for a in data.arms:
        first = r[r["arm"] == a.key].sort_values("replicate").iloc[0]
        hashes[a.label] = first["config_hash"]
    versions = {"after-the-course": sim.__version__}
    for pkg in ("mesa", "numpy", "pandas", "matplotlib", "hydra-core"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    commit = ""
    try:
        from experiments.config import ROOT as root
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=5)
        if done.returncode == 0:
            commit = done.stdout.strip()
            dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, timeout=5)
            if dirty.returncode == 0 and dirty.stdout.strip():
                commit += " (with uncommitted changes)"
    except (OSError, subprocess.SubprocessError):
        pass
    started = None
    try:
        started = json.loads((data.sweep_dir / "sweep.json").read_text()).get("started")
    except (OSError, json.JSONDecodeError):
        pass
    run_versions = sorted(set(r["package_version"].astype(str)))
    seeds = r.drop_duplicates("replicate").sort_values("replicate")
    return {
        "sweep_dir": _shown_path(data.sweep_dir),
        "runs": len(r),
        "sweep_digest": digest,
        "config_hashes": hashes,
        "base_seeds": sorted({int(s) for s in r["base_seed"].dropna()}),
        "replicates": int(r["replicate"].nunique()),
        "seeds": [int(s) for s in seeds["seed"]],
        "run_package_versions": run_versions,
        "versions": versions,
        "python": platform.python_version(),
        "git_commit": commit,
        "sweep_started": time.strftime("%Y-%m-%d %H:%M", time.localtime(started)) if started else "",
        "report_written": time.strftime("%Y-%m-%d %H:%M"),
    }
