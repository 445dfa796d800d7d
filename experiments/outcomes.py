"""Every number the project writes, declared once: its column code, plain words, unit, direction,
how it is aggregated and the tables it lives in.

    python -m experiments.outcomes            # writes docs/data-dictionary.md from this catalogue
    python -m experiments.outcomes --check    # exit 1 if docs/data-dictionary.md is out of date

What reads it: a run's ``summary.json`` (:func:`experiments.outputs.summarise`: the outcomes marked
``run_summary``), a sweep's tables (:mod:`experiments.sweeps.collect`: the outcomes marked
``summary``, ``summary.csv`` in the units the console prints, ``dictionary.csv``), the report
(:mod:`experiments.report.data` reads its weekly columns by name from here; ``report/dictionary.csv``
describes its CSVs), the sensitivity analyses (which outcomes they may analyse, and their words) and
the dashboard (the words of its headline outcomes).

A new weekly measure is one reporter in :mod:`sim.reporters` (or a key of a channel's ``results()``)
and one :class:`Outcome` below: tests/experiments/test_outcomes.py fails on a weekly column that has
no entry, and tests/experiments/test_data_dictionary.py on any column of a run, a sweep or a report
that the dictionary does not describe. A weekly measure of one's own, outside the package, is the
same two things in one call, :func:`register_outcome` ``(reporter, Outcome(...))``, made on import
by a module named in the environment variable ``AFTER_THE_COURSE_OUTCOMES``
(:data:`sim.reporters.EXTRA_OUTCOMES_VARIABLE`); its column comes last in the weekly table, and
every reader of this catalogue (outputs, collect, the dictionaries, the report, the dashboard)
follows it (tests/experiments/test_toy_outcome.py).

Words of the catalogue:

* **unit**: what one unit of the number is ("share of graduates": 0 to 1; "GBP per graduate";
  "SD of capability": standard deviations of capability before the course).
* **direction**: :data:`HIGHER` (more is better), :data:`LOWER` (less is better) or :data:`NEITHER`.
* **aggregation**: how runs are combined into the number of a strategy (or, for a weekly column,
  what it is within a run, and how :mod:`experiments.sweeps.collect` summarises it).
* **tables**: keys of :data:`TABLES`.

A column name may hold ``<week>`` (a week after the course: digits), matched by :func:`find`.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

HIGHER = "higher is better"
LOWER = "lower is better"
NEITHER = "neither"
DIRECTIONS = (HIGHER, LOWER, NEITHER)

#: Where the generated data dictionary lives (``python -m experiments.outcomes``).
DOCS_PATH = Path(__file__).resolve().parents[1] / "docs" / "data-dictionary.md"
#: The dictionary written beside a folder's CSVs: one row per file and column.
DICTIONARY = "dictionary.csv"
DICTIONARY_COLUMNS = ("file", "column", "label", "unit", "description")


@dataclass(frozen=True)
class Table:
    """A kind of output table: its key, its files (relative to a sweep folder; ``runs/<run>/`` for a
    run's own), what one row is, and who writes it."""

    key: str
    files: tuple[str, ...]
    row: str
    written_by: str


#: Every table the dictionary describes, in the order of docs/data-dictionary.md.
TABLES = {t.key: t for t in (
    Table("weekly", ("runs/<run>/weekly.parquet", "runs/<run>/weekly.csv"),
          "one week of one run (week 0: the end of the course); `weekly.csv` with `outputs.csv=true`",
          "experiments/run.py (the model's reporters, sim/reporters.py)"),
    Table("graduates", ("runs/<run>/graduates.parquet",),
          "one graduate of one run, at its last week (with `outputs.graduates=true`)", "experiments/run.py"),
    Table("results", ("results.parquet", "results.csv"),
          "one week of one run of a sweep: the run's identity, every varied parameter, then every column of "
          "its weekly table; `results.csv` on request (`python -m experiments.collect SWEEP_DIR --csv`)",
          "experiments/sweeps/collect.py"),
    Table("summary", ("summary.csv",),
          "one strategy (with its population and varied parameters) at one summary week (26, 52 and 104, or the "
          "last week), in the units the console prints",
          "experiments/sweeps/collect.py"),
    Table("failures", ("failures.csv",), "one failed run of a sweep (only when runs failed)",
          "experiments/sweeps/collect.py"),
    Table("report_summary", ("report/summary.csv",),
          "one arm of the report (a strategy with its settings, in one population): the numbers of its summary "
          "table, each with its 95% interval (`_lo`, `_hi`)", "experiments/report/build.py"),
    Table("responders_by_threshold", ("report/responders_by_threshold.csv",),
          "one arm at one responder threshold, at the headline week", "experiments/report/build.py"),
    Table("acceptability", ("report/acceptability.csv",),
          "one willingness to pay in one population (a PSA's report only)", "experiments/report/build.py"),
    Table("budget_impact", ("report/budget_impact.csv",),
          "one strategy in one calendar year of the area's budget (a new cohort each year), undiscounted",
          "experiments/analyses/budget.py"),
    Table("economics_by_horizon", ("report/economics_by_horizon.csv",),
          "one strategy over one horizon (1, 2, 5 years and the area's), per graduate, discounted",
          "experiments/analyses/budget.py"),
    Table("voi", ("report/voi.csv",),
          "one value of information (EVPI, or the EVPPI of one group of parameters) at one willingness to pay "
          "(a PSA's report only)", "experiments/analyses/voi.py"),
    Table("tornado", ("report/tornado.csv",),
          "one drawn parameter: the recommended strategy's lead over its rival in the draws where the parameter "
          "is low against those where it is high (a PSA's report only)", "experiments/analyses/decision_curves.py"),
    Table("expected_loss", ("report/expected_loss.csv",),
          "one strategy at one willingness to pay (a PSA's report only)", "experiments/analyses/decision_curves.py"),
    Table("scenarios", ("report/scenarios.csv",),
          "one restricted parameter of one PRIM box (the box's statistics repeated on each of its rows; a PSA's "
          "report only)", "experiments/analyses/scenarios.py"),
)}


@dataclass(frozen=True)
class Outcome:
    """One measured number (or the column that identifies a row) and where it is written.

    Attributes:
        name: the column code (may hold ``<week>``).
        label: plain words, for a table's header or a figure's title.
        unit: what one unit is (see the module's docstring).
        direction: :data:`HIGHER`, :data:`LOWER` or :data:`NEITHER`.
        aggregation: how runs are combined (see the module's docstring).
        tables: keys of :data:`TABLES` holding the column.
        description: what it measures and why, when the label does not say it all.
        summary: summarised by a sweep (``summary.csv``: mean, 95% interval, difference from course only).
        run_summary: written into a run's ``summary.json`` at each summary week.
        console: its place in the sweep's console tables (``python -m experiments.collect``; 1 first);
            0: not printed.
        timepoints: read by the report at each of its time points (6, 12 and 24 months: its
            ``<name>_w<week>`` columns of each run, :mod:`experiments.report.data`).
        interval: a report column with its 95% interval beside it (``<name>_lo``, ``<name>_hi``).
        sheet: its name in ``summary.csv`` (default: :attr:`sheet_name`).
    """

    name: str
    label: str
    unit: str
    direction: str = NEITHER
    aggregation: str = ""
    tables: tuple[str, ...] = ("weekly", "results")
    description: str = ""
    summary: bool = False
    run_summary: bool = False
    console: int = 0
    timepoints: bool = False
    interval: bool = False
    sheet: str | None = None

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"Outcome {self.name!r}: direction={self.direction!r} must be one of {DIRECTIONS}")
        unknown = [t for t in self.tables if t not in TABLES]
        if unknown:
            raise ValueError(f"Outcome {self.name!r}: tables {unknown} must be among {list(TABLES)}")

    @property
    def is_share(self) -> bool:
        """A share (0 to 1), shown to people as a percentage."""
        return self.unit.startswith("share of")

    @property
    def sheet_name(self) -> str:
        """Its column in ``summary.csv``, with the unit in the name: a share is a percentage there,
        ``share_self_managing`` -> ``self_managing_pct``; other names carry their unit already."""
        if self.sheet:
            return self.sheet
        return f"{self.name.removeprefix('share_')}_pct" if self.is_share else self.name

    @property
    def sheet_scale(self) -> float:
        """What ``summary.csv`` multiplies it by: 100 for a share (a percentage), else 1."""
        return 100.0 if self.is_share else 1.0

    @property
    def sheet_unit(self) -> str:
        return f"% of {self.unit.removeprefix('share of ')}" if self.is_share else self.unit

    @property
    def difference_unit(self) -> str:
        """The unit of a difference of two of it: percentage points for a percentage."""
        return "percentage points" if self.is_share else self.unit


# --- words shared by many entries ----------------------------------------------------------------

#: A weekly column of a run: the value that week, not aggregated.
WEEKLY = "one value per run and week"
#: How a sweep summarises an outcome (summary.csv) and the report its weekly bands.
OVER_REPLICATES = ("per run and week; summarised by strategy as the mean over replicates with its 95% t-interval "
                   "(a share's clipped to 0-100%), and the paired difference from course only (same seed)")
#: A report's number of an arm.
REPORT_MEAN = ("mean over the arm's replicate runs, with its 95% t-interval (a PSA: mean over parameter draws, "
               "2.5th-97.5th percentiles)")
REPORT_PAIRED = ("mean of the paired differences from the course-only run with the same seed, with its 95% "
                 "t-interval (a PSA: over draws, 2.5th-97.5th percentiles)")
REPORT = ("report_summary",)
AREA = ("budget_impact", "economics_by_horizon")  # the area's tables (experiments/analyses/budget.py)


def _weekly_outcomes() -> list[Outcome]:
    """The columns of a run's weekly table (:func:`sim.reporters.weekly_columns`), in its order."""
    from experiments import labels
    from experiments.labels import COST_LABELS
    from sim.costs import CATEGORIES
    from sim.measurement import CURVE_THRESHOLDS_SD
    from sim.reporters import SUBGROUPS, responder_column
    from sim.support import CHANNEL_TYPES

    def side(word: str) -> str:
        """A side of a model subgroup in words, for running text: 'offline' -> 'people not online'
        (:func:`experiments.labels.side_words`)."""
        words = labels.side_words(word)
        return words[:1].lower() + words[1:]

    summarised_groups = {g[0] for g in labels.SUBGROUPS[1:]}  # the sides the report follows: in summary.csv
    out = [
        Outcome("week", "Week after the course", "weeks", aggregation="identifies the row (0: the course's last week)",
                tables=("weekly", "results", "summary")),
        Outcome("mean_gain_sd", "Mean gain over the pre-course level", "SD of capability", HIGHER,
                OVER_REPLICATES, description="the course's effect still held (latent capability, not the "
                "questionnaire's score)", summary=True, run_summary=True, console=2, timepoints=True),
        Outcome("share_self_managing", "Still self-managing", "share of graduates", HIGHER, OVER_REPLICATES,
                description="responders: measured self-efficacy up from before the course by at least "
                "dynamics.measurement.responder_threshold_sd", summary=True, run_summary=True, console=1,
                timepoints=True),
        Outcome("mean_habit", "Mean habit strength", "index (0 none to 1 automatic)", HIGHER, WEEKLY,
                description="how automatic self-management routines are"),
        Outcome("mean_connectedness", "Mean connectedness", "index (0 isolated to 1 well connected)", HIGHER, WEEKLY),
        Outcome("share_lonely", "Lonely", "share of graduates", LOWER, OVER_REPLICATES,
                description="connectedness below dynamics.connectedness.lonely_threshold", summary=True,
                run_summary=True),
    ]
    out += [Outcome(responder_column(t), f"Responders at a threshold of {t:g} SD", "share of graduates", HIGHER, WEEKLY,
                    description=f"measured self-efficacy up by at least {t:g} SD of the pre-course score: how the "
                    "count moves with the threshold") for t in CURVE_THRESHOLDS_SD]
    for what, label, unit in (("mean_gain_sd", "Mean gain in capability", "SD of capability"),
                              ("share_self_managing", "Still self-managing", "share of graduates")):
        for _, yes, no in SUBGROUPS.values():
            for word in (yes, no):
                out.append(Outcome(
                    f"{what}_{word}", f"{label}, {side(word)}", unit.replace("graduates", "the subgroup"), HIGHER,
                    OVER_REPLICATES if what == "share_self_managing" and word in summarised_groups else WEEKLY,
                    description="NaN when the subgroup is empty",
                    summary=what == "share_self_managing" and word in summarised_groups))
    for c in CHANNEL_TYPES:
        out += [
            Outcome(f"{c.name}_enrolled_share", f"{c.label}: taking part (enrolled)", "share of graduates", NEITHER,
                    WEEKLY, description="0 where the strategy does not offer it"),
            Outcome(f"{c.name}_active_share", f"{c.label}: reached this week (at least one contact)",
                    "share of graduates", NEITHER, WEEKLY),
            Outcome(f"{c.name}_contacts", f"{c.label}: contacts this week", "contacts per week", NEITHER, WEEKLY),
        ]
        out += CHANNEL_RESULTS.get(c.name, ())
    out += [
        Outcome("flare_ups", "Flare-ups this week", "flare-ups per week (all graduates)", LOWER, WEEKLY),
        Outcome("self_managed_events", "Flare-ups managed without a service contact this week",
                "flare-ups per week (all graduates)", HIGHER, WEEKLY),
        Outcome("planned_contacts", "Planned GP and nurse contacts this week", "contacts per week (all graduates)",
                NEITHER, WEEKLY),
        Outcome("unplanned_contacts", "Unplanned (urgent) contacts this week", "contacts per week (all graduates)",
                LOWER, WEEKLY),
    ]
    out += [Outcome(f"cost_{c}_gbp", f"Cost: {COST_LABELS.get(c, c.replace('_', ' '))}, since the course, undiscounted",
                    "GBP per graduate", LOWER, WEEKLY, description="cumulative from week 0") for c in CATEGORIES]
    out += [
        Outcome("cost_total_gbp", "Cost of everything, since the course, undiscounted", "GBP per graduate", LOWER,
                OVER_REPLICATES, description="cumulative from week 0: the course, support and care", summary=True),
        Outcome("cost_total_discounted_gbp", "Cost of everything, since the course, discounted", "GBP per graduate",
                LOWER, OVER_REPLICATES, description="discounted at costs.discount_rate_per_year (for the ICER)",
                summary=True),
        Outcome("qalys_gained", "QALYs gained since the course, discounted", "QALYs per graduate", HIGHER,
                OVER_REPLICATES, description="over having no gain, cumulative from week 0", summary=True),
    ]
    return out + _registered_outcomes()


#: Catalogue entries of weekly measures of one's own (:func:`register_outcome`), by column.
_REGISTERED: dict[str, Outcome] = {}


def register_outcome(reporter, outcome: Outcome) -> Outcome:
    """Add a weekly measure of one's own: its reporter to the model's weekly record
    (:func:`sim.reporters.register_reporter`: ``reporter(model)`` gives this week's value) and its
    entry to this catalogue (read afresh when the registered measures change). Call it on import
    from a module named in ``AFTER_THE_COURSE_OUTCOMES``, so that every process of a sweep, collect
    and the report find it before they first read the catalogue; returns ``outcome``.

    Raises:
        ValueError: ``outcome`` is not a weekly column (its tables must hold ``weekly``), names
            ``<week>``, or its column is already registered with other words.
    """
    from sim.reporters import register_reporter

    if not isinstance(outcome, Outcome):
        raise TypeError(f"register_outcome: an experiments.outcomes.Outcome expected, got {outcome!r}")
    if "weekly" not in outcome.tables or "<week>" in outcome.name:
        raise ValueError(f"register_outcome({outcome.name!r}): a weekly measure is one column of the weekly "
                         f"table (tables must hold 'weekly', got {outcome.tables}; no '<week>' in its name)")
    known = _REGISTERED.get(outcome.name)
    if known is not None and known != outcome:
        raise ValueError(f"register_outcome: {outcome.name!r} is already registered as {known}")
    register_reporter(outcome.name, reporter)
    _REGISTERED[outcome.name] = outcome
    return outcome


def _registered_outcomes() -> list[Outcome]:
    """The entries of the registered weekly reporters, in their columns' order (last in the table)."""
    from sim.reporters import extra_reporters

    columns = list(extra_reporters())  # imports the modules AFTER_THE_COURSE_OUTCOMES names
    missing = [c for c in columns if c not in _REGISTERED]
    if missing:
        raise ValueError(f"weekly reporters {missing} were registered (sim.reporters.register_reporter) with no "
                         "catalogue entry: register each with experiments.outcomes.register_outcome(reporter, "
                         "Outcome(...))")
    return [_REGISTERED[c] for c in columns]


#: Weekly results of each channel beyond the three every channel has (the keys of its module's
#: ``results()``), by channel name: a channel's new result is one entry here.
CHANNEL_RESULTS = {
    "peer_group": (
        Outcome("groups_open", "Peer groups still meeting", "groups", HIGHER, WEEKLY),
        Outcome("peer_group_survival_share", "Peer groups still meeting, of those formed", "share of groups formed",
                HIGHER, WEEKLY),
        Outcome("peer_group_meetings", "Peer group meetings this week", "meetings per week", NEITHER, WEEKLY),
        Outcome("peer_group_attendance_share", "Attendance at this week's meetings", "share of the registers",
                HIGHER, WEEKLY, description="members present over members on the registers of the groups that met"),
    ),
    "telephone": (
        Outcome("calls_made", "Calls made this week", "calls per week", NEITHER, WEEKLY),
        Outcome("calls_unanswered", "Calls not answered this week", "calls per week", LOWER, WEEKLY),
        Outcome("calls_waiting", "Calls due but not made this week (no capacity)", "calls per week", LOWER, WEEKLY,
                description="they stretch the gap between calls"),
        Outcome("call_capacity", "Call slots a week", "calls per week", NEITHER, WEEKLY,
                description="bought when support starts: strategy.telephone.capacity_calls_per_week_per_100_offered"),
        Outcome("call_gap_weeks", "Mean gap since the last answered call, of this week's answered calls", "weeks",
                NEITHER, WEEKLY),
        Outcome("telephone_volunteers", "Volunteer callers", "volunteers", NEITHER, WEEKLY),
    ),
    "online": (
        Outcome("forum_visitors", "Forum visitors this week", "graduates per week", NEITHER, WEEKLY),
        Outcome("forum_posters", "Forum posters this week", "graduates per week", NEITHER, WEEKLY),
        Outcome("forum_ever_posted_share", "Forum members who have ever posted", "share of those ever members",
                NEITHER, WEEKLY),
        Outcome("forum_newcomers", "Later joiners on the forum's roll", "graduates", NEITHER, WEEKLY,
                description="graduates of later courses in the area, kept as a count"),
        Outcome("forum_newcomer_visitors", "Later joiners visiting this week", "graduates per week", NEITHER, WEEKLY),
        Outcome("forum_newcomer_posters", "Later joiners posting this week", "graduates per week", NEITHER, WEEKLY),
    ),
}


def _identity() -> list[Outcome]:
    """Columns that say which run, graduate or strategy a row is about (no direction)."""
    run = ("results", "failures")
    return [
        Outcome("run_id", "Run", "text", aggregation="the run's folder under runs/", tables=run),
        Outcome("seed", "Model seed", "integer", aggregation="the seed the run used: the same for every strategy "
                "of a replicate (paired)", tables=("results",)),
        Outcome("replicate", "Replicate", "integer", aggregation="0, 1, ...: runs with the same replicate share a "
                "seed", tables=("results",)),
        Outcome("strategy", "Strategy", "config name", aggregation="configs/strategy/<name>.yaml",
                tables=("results", "summary", "report_summary", "responders_by_threshold", *AREA, "tornado",
                        "expected_loss")),
        Outcome("population", "Population", "config name", aggregation="configs/population/<name>.yaml",
                tables=("results", "summary", "report_summary", "responders_by_threshold", "acceptability", *AREA)),
        Outcome("n_runs", "Runs", "runs", aggregation="runs in the row's group (one per replicate)",
                tables=("summary", "report_summary")),
        Outcome("diff_method", "How the difference was taken", "text",
                aggregation="paired: against the course-only run with the same seed; unpaired: Welch's difference "
                "of the two means (runs without a same-seed comparator)", tables=("summary",)),
        Outcome("overrides", "The run's overrides", "text", tables=("failures",)),
        Outcome("error", "The run's error", "text", tables=("failures",)),
    ]


def _graduates() -> list[Outcome]:
    from sim.support import CHANNEL_TYPES

    g = ("graduates",)
    out = [
        Outcome("graduate_id", "Graduate", "integer", tables=g),
        Outcome("cohort", "Course cohort", "integer", tables=g),
        Outcome("baseline", "Capability before the course", "SD of capability", tables=g),
        Outcome("sessions_attended", "Course sessions attended", "sessions (of 6)", tables=g),
        Outcome("capability_final", "Capability at the last week", "SD of capability", HIGHER, tables=g),
        Outcome("gain_final", "Gain over the pre-course level at the last week", "SD of capability", HIGHER, tables=g),
        Outcome("habit_final", "Habit strength at the last week", "index (0 none to 1 automatic)", HIGHER, tables=g),
        Outcome("connectedness_final", "Connectedness at the last week", "index (0 isolated to 1 well connected)",
                HIGHER, tables=g),
        Outcome("group_averse", "Finds groups difficult", "true/false", tables=g),
        Outcome("online_access", "Online", "true/false", tables=g),
        Outcome("lonely_at_baseline", "Lonely before the course", "true/false", tables=g),
        Outcome("age_band", "Age band", "text", tables=g),
    ]
    return out + [Outcome(f"contacts_{c.name}", f"{c.label}: contacts since the course", "contacts", tables=g)
                  for c in CHANNEL_TYPES]


def _report() -> list[Outcome]:
    """The columns of the report's CSVs (:func:`experiments.report.data.arm_summary` and others)."""
    from experiments.labels import COST_LABELS, SUBGROUPS
    from sim.costs import CATEGORIES
    from sim.economics import WTP_THRESHOLDS_GBP
    from sim.measurement import CURVE_THRESHOLDS_SD
    from sim.reporters import responder_column

    h = "at the headline week (12 months, or the last week of a shorter run)"
    vs = "against course only"
    thr = ("responders_by_threshold",)
    out = [
        Outcome("arm", "Arm", "text", aggregation="arm0, arm1, ...: a strategy with its settings in one population",
                tables=(*REPORT, *thr, *AREA)),
        Outcome("description", "The arm in plain words", "text", tables=REPORT),
        Outcome("label", "The arm's name in the report", "text", tables=(*REPORT, *thr, *AREA)),
        Outcome("n_paired", "Runs with a same-seed course-only run", "runs", tables=REPORT),
        Outcome("share_h", f"Still self-managing {h}", "share of graduates", HIGHER, REPORT_MEAN, REPORT,
                interval=True),
        Outcome("extra_per_100_h", f"Extra self-managers per 100 graduates {h}, {vs}", "graduates per 100", HIGHER,
                REPORT_PAIRED, REPORT, interval=True),
        Outcome("smd_h", f"Mean difference in measured self-efficacy {h}, {vs}", "SD of the pre-course score", HIGHER,
                REPORT_PAIRED, REPORT, "the standardised mean difference a trial reports; needs no threshold",
                interval=True),
    ]
    for t in CURVE_THRESHOLDS_SD:
        tag = responder_column(t).removeprefix("share_self_managing_")
        out += [Outcome(f"share_h_{tag}", f"Responders at a threshold of {t:g} SD {h}", "share of graduates", HIGHER,
                        REPORT_MEAN, REPORT, interval=True),
                Outcome(f"extra_per_100_h_{tag}", f"Extra responders per 100 at a threshold of {t:g} SD {h}, {vs}",
                        "graduates per 100", HIGHER, REPORT_PAIRED, REPORT, interval=True)]
    out += [
        Outcome("gain_w<week>", "Mean gain in capability at the week", "SD of capability", HIGHER, REPORT_MEAN, REPORT,
                "weeks 26, 52, 104 where the runs reach them", interval=True),
        Outcome("dgain_w<week>", f"Difference in mean gain at the week, {vs}", "SD of capability", HIGHER,
                REPORT_PAIRED, REPORT, interval=True),
    ]
    for key, words, _ in SUBGROUPS[1:]:
        who = words[:1].lower() + words[1:]
        out += [Outcome(f"share_{key}_h", f"Still self-managing {h}: {who}", "share of the subgroup", HIGHER,
                        REPORT_MEAN, REPORT, interval=True),
                Outcome(f"extra_{key}_per_100_h", f"Extra self-managers per 100 {h}: {who}, {vs}",
                        "people per 100 of the subgroup", HIGHER, REPORT_PAIRED, REPORT, interval=True)]
    money = "GBP per graduate"
    out += [
        Outcome("cost_total", "Cost of everything over the runs' horizon, undiscounted", money, LOWER, REPORT_MEAN,
                REPORT, interval=True),
        Outcome("cost_support", "Cost of follow-on support over the runs' horizon, undiscounted", money, LOWER,
                REPORT_MEAN, REPORT, interval=True),
        Outcome("cost_support_h", f"Cost of follow-on support up to the headline week, undiscounted", money, LOWER,
                REPORT_MEAN, REPORT, interval=True),
        Outcome("dcost_h", f"Net extra cost up to the headline week, undiscounted, {vs}", money, LOWER, REPORT_PAIRED,
                REPORT, "after the GP, nurse and urgent-care contacts avoided", interval=True),
        Outcome("dcost", f"Net extra cost over the runs' horizon, undiscounted, {vs}", money, LOWER, REPORT_PAIRED,
                REPORT, interval=True),
        Outcome("dcare", f"Extra cost of care (GP, nurse, urgent) over the runs' horizon, undiscounted, {vs}", money,
                LOWER, REPORT_PAIRED, REPORT, interval=True),
        Outcome("dcost_disc", f"Net extra cost over the runs' horizon, discounted, {vs}", money, LOWER, REPORT_PAIRED,
                REPORT, "the cost in the ICER and the net monetary benefit", interval=True),
        Outcome("dqaly", f"Extra QALYs over the runs' horizon, discounted, {vs}", "QALYs per graduate", HIGHER,
                REPORT_PAIRED, REPORT, interval=True),
    ]
    for c in CATEGORIES:
        words = COST_LABELS.get(c, c.replace("_", " "))
        out += [Outcome(f"cost_{c}", f"Cost: {words}, over the runs' horizon, undiscounted", money, LOWER,
                        "mean over the arm's runs", REPORT),
                Outcome(f"dcost_{c}", f"Extra cost: {words}, over the runs' horizon, undiscounted, {vs}", money, LOWER,
                        "mean of the paired differences", REPORT)]
    for wtp in WTP_THRESHOLDS_GBP:
        out += [Outcome(f"nmb_{wtp}", f"Net monetary benefit at GBP {wtp:,} per QALY, over the runs' horizon, {vs}",
                        money, HIGHER, REPORT_PAIRED, REPORT, f"{wtp:,} x extra QALYs - net extra cost (discounted)",
                        interval=True),
                Outcome(f"p_nmb_pos_{wtp}", f"Chance the net monetary benefit at GBP {wtp:,} per QALY is positive",
                        "share of replicates (a PSA: of draws)", HIGHER, "share of paired runs", REPORT)]
    out += [
        Outcome("icer", f"ICER: extra cost per QALY gained, over the runs' horizon, discounted, {vs}",
                "GBP per QALY", LOWER, "ratio of the mean differences; interval: percentile bootstrap of paired runs "
                "(NaN unless more effective and more costly)", REPORT, interval=True),
        Outcome("cost_per_extra_h", f"Cost per extra person still self-managing {h} (net cost up to it)",
                "GBP per extra self-manager", LOWER, "ratio of the mean differences; interval: percentile bootstrap",
                REPORT, interval=True),
        Outcome("quadrant", "Quadrant of the cost-effectiveness plane", "text", tables=REPORT,
                description="dominant, dominated, more effective more costly, less effective less costly, same, "
                "or comparator"),
        # responders_by_threshold.csv
        Outcome("headline_week", "The headline week", "weeks", tables=thr),
        Outcome("threshold_sd", "Responder threshold", "SD of the pre-course score", tables=thr),
        Outcome("responders_per_100", "Responders per 100 graduates at the threshold", "graduates per 100", HIGHER,
                REPORT_MEAN, thr, interval=True),
        Outcome("extra_per_100", "Extra responders per 100 graduates at the threshold, against course only",
                "graduates per 100", HIGHER, REPORT_PAIRED, thr, interval=True),
        Outcome("follow_on", "Follow-on support (not a comparator)", "true/false", tables=thr),
        Outcome("rank", "Rank among the follow-on arms of the population by extra responders (1: most)", "rank",
                tables=thr, description="empty for the comparators"),
        # acceptability.csv (its other columns: one per arm, by its label)
        Outcome("wtp_gbp_per_qaly", "Willingness to pay", "GBP per QALY",
                tables=("acceptability", "voi", "tornado", "expected_loss", "scenarios")),
    ]
    return out


#: What the other columns of some tables are: varied parameters, or one column per arm.
OTHER_COLUMNS = {
    "results": Outcome("<parameter>", "A parameter the sweep varied (its dotted config key)", "as in the config",
                       aggregation="its value in the run", tables=("results",)),
    "summary": Outcome("<parameter>", "A parameter the sweep varied (its dotted config key)", "as in the config",
                       aggregation="its value in the row's runs", tables=("summary",)),
    "acceptability": Outcome("<arm label>", "Chance that the arm has the highest net monetary benefit",
                             "probability (0 to 1)", HIGHER, "share of parameter draws", ("acceptability",),
                             "one column per arm, named by its label in the report"),
}


def catalogue() -> tuple[Outcome, ...]:
    """Every entry, weekly outcomes first (built once for each set of registered weekly measures,
    :func:`register_outcome`: it reads the channel registry)."""
    from sim.reporters import extra_reporters

    return _catalogue(tuple(extra_reporters()))


@cache
def _analyses() -> list[Outcome]:
    """The columns of the report's analysis CSVs: the area's budget and economics, the value of
    information, the tornado, the expected loss and PRIM's boxes."""
    b, e, both = ("budget_impact",), ("economics_by_horizon",), AREA
    voi, tor, loss, prim = ("voi",), ("tornado",), ("expected_loss",), ("scenarios",)
    money = "GBP per graduate"
    return [
        # budget_impact.csv (undiscounted, the area's cohorts)
        Outcome("year", "Calendar year of the budget", "years (1 first)", tables=b),
        Outcome("cohorts_started", "Cohorts started by this year", "cohorts", tables=b),
        Outcome("cohorts_counted", "Cohorts within the model's horizon this year", "cohorts", tables=b,
                description="earlier cohorts are past the model's horizon and count nothing"),
        Outcome("graduates_counted", "Graduates counted this year", "graduates", tables=b),
        Outcome("model_years", "Years the model runs", "years", tables=b),
        Outcome("cost_gbp", "Cost of support in the year", "GBP, undiscounted", LOWER, tables=b,
                description="course and support (and volunteer time from the societal perspective), against course only"),
        Outcome("care_savings_gbp", "Care savings in the year", "GBP, undiscounted", HIGHER, tables=b,
                description="planned and urgent care avoided, against course only"),
        Outcome("net_cost_gbp", "Net cost in the year", "GBP, undiscounted", LOWER, tables=b,
                description="cost less care savings"),
        Outcome("extra_responders", "Extra responders at the year's end", "graduates", HIGHER, tables=b,
                description="in the cohorts counted, against course only"),
        Outcome("qalys", "QALYs gained in the year", "QALYs, undiscounted", HIGHER, tables=b),
        Outcome("volunteer_hours", "Volunteer hours in the year", "hours", tables=b),
        # economics_by_horizon.csv (per graduate, discounted)
        Outcome("horizon_years", "Horizon", "years", tables=e),
        Outcome("years_counted", "Years the model counts in the horizon", "years", tables=e),
        Outcome("years_beyond_model", "Years of the horizon beyond the model (count nothing)", "years", tables=e),
        Outcome("last_week", "Last week counted", "weeks", tables=e),
        Outcome("complete", "Whether the run reaches the end of the last year counted", "true/false", tables=e),
        Outcome("incremental_cost_gbp", "Extra cost, after care savings, against course only", f"{money}, discounted",
                LOWER, tables=e),
        Outcome("incremental_qalys", "Extra QALYs against course only", "QALYs per graduate, discounted", HIGHER,
                tables=e),
        Outcome("nmb_<wtp>_gbp", "Net monetary benefit at the willingness to pay in the name",
                f"{money}, discounted", HIGHER, tables=e, description="extra QALYs x willingness to pay - extra cost"),
        # the area's assumptions, repeated on every row of both tables
        Outcome("graduates_per_year", "Graduates a year in the area", "graduates", tables=both),
        Outcome("years", "Years of the budget", "years", tables=both),
        Outcome("perspective", "Perspective", "text", tables=both,
                description="nhs (health and care costs) or societal (plus volunteer time)"),
        Outcome("price_year", "Price year of the money", "year", tables=both),
        Outcome("discount_rate_per_year", "Discount rate", "per year", tables=both),
        Outcome("discounted", "Whether the table's money and QALYs are discounted", "true/false", tables=both),
        # voi.csv
        Outcome("measure", "EVPI or EVPPI", "text", tables=voi),
        Outcome("name", "What would be known", "text", tables=voi),
        Outcome("in_words", "What would be known, in plain words", "text", tables=voi),
        Outcome("parameters", "The parameters of the group", "dotted keys, ';'-separated", tables=voi),
        Outcome("method", "How it was estimated", "text", tables=voi,
                description="bootstrap for the EVPI; the regression (gam, gp or spline) for an EVPPI"),
        Outcome("per_graduate_gbp", "Value of the information per graduate", money, tables=voi),
        Outcome("se_gbp", "Its standard error", money, tables=voi),
        Outcome("population_gbp", "Value for the area's graduates over the decision's years", "GBP, discounted",
                tables=voi),
        Outcome("draws", "PSA draws", "draws", tables=(*voi, *prim)),
        Outcome("graduates_per_year", "Graduates a year in the area", "graduates", tables=voi),
        Outcome("decision_years", "Years the decision holds", "years", tables=voi),
        Outcome("discount_rate_per_year", "Discount rate", "per year", tables=voi),
        Outcome("distinguishable_from_0", "Whether the value is more than twice its standard error", "true/false",
                tables=voi),
        Outcome("capped_at_evpi", "Whether the EVPPI exceeded the EVPI and was capped at it", "true/false",
                tables=voi),
        Outcome("uncapped_gbp", "The EVPPI before the cap", money, tables=voi),
        Outcome("shrinkage", "Mean cross-validated shrinkage of its regressions", "0 to 1", tables=voi,
                description="1 keeps the fit as it is; empty for the EVPI"),
        # tornado.csv
        Outcome("rival", "The runner-up it leads", "config name", tables=tor),
        Outcome("parameter", "The drawn parameter", "dotted key", tables=(*tor, *prim)),
        Outcome("low_gbp", "The lead where the parameter is in its low tail", money, tables=tor),
        Outcome("high_gbp", "The lead where the parameter is in its high tail", money, tables=tor),
        Outcome("low_value", "The parameter's mean in its low tail", "as in the config", tables=tor),
        Outcome("high_value", "The parameter's mean in its high tail", "as in the config", tables=tor),
        Outcome("overall_gbp", "The lead over all draws", money, tables=tor),
        Outcome("draws_per_tail", "Draws in each tail", "draws", tables=tor),
        Outcome("swing_gbp", "How far the lead moves: high tail less low tail", money, tables=tor),
        # expected_loss.csv
        Outcome("expected_loss_gbp", "Expected loss of choosing the strategy", money, LOWER, tables=loss,
                description="the mean over draws of the best strategy's net benefit less this one's"),
        Outcome("lowest", "Whether its expected loss is the lowest", "true/false", tables=loss),
        # scenarios.csv (PRIM)
        Outcome("condition", "What the boxes explain", "text", tables=prim),
        Outcome("box", "Box", "number (1 first)", tables=prim),
        Outcome("coverage", "Share of the draws where the condition holds that fall in the box", "0 to 1",
                tables=prim),
        Outcome("density", "Share of the draws in the box where the condition holds", "0 to 1", tables=prim),
        Outcome("mass", "Share of all draws in the box", "0 to 1", tables=prim),
        Outcome("draws_in_box", "Draws in the box", "draws", tables=prim),
        Outcome("cases_in_box", "Draws in the box where the condition holds", "draws", tables=prim),
        Outcome("cases", "Draws where the condition holds", "draws", tables=prim),
        Outcome("base_rate", "Share of all draws where the condition holds", "0 to 1", tables=prim),
        Outcome("low", "The box's lower end for the parameter", "as in the config", tables=prim),
        Outcome("high", "The box's upper end for the parameter", "as in the config", tables=prim),
        Outcome("range_low", "The parameter's lowest drawn value", "as in the config", tables=prim),
        Outcome("range_high", "The parameter's highest drawn value", "as in the config", tables=prim),
        Outcome("quasi_p", "Quasi-p-value of the restriction (Bryant & Lempert 2010)", "0 to 1", tables=prim),
        Outcome("recommended", "The strategy recommended over all draws", "text", tables=prim),
        Outcome("in_words", "The parameter in plain words", "text", tables=prim),
        Outcome("best_in_box", "The strategy best inside the box", "text", tables=prim),
        Outcome("nb_gain_in_box_gbp", "How far the best strategy in the box leads the recommended one there, on "
                "average", money, tables=prim),
        Outcome("value_of_knowing_box_gbp", "What learning whether the parameters lie in the box would be worth",
                money, tables=prim, description="optimistic: the box was chosen on the same draws"),
    ]


def _catalogue(registered: tuple[str, ...]) -> tuple[Outcome, ...]:
    entries = (*_weekly_outcomes(), *_identity(), *_graduates(), *_report(), *_analyses())
    names = [(e.name, t) for e in entries for t in e.tables]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise ValueError(f"the outcome catalogue names a column twice in one table: {doubled}")
    return entries


def weekly() -> dict[str, Outcome]:
    """The outcomes of a run's weekly table by column, in its order (``week`` first)."""
    return {o.name: o for o in catalogue() if "weekly" in o.tables}


def get(name: str) -> Outcome:
    """The weekly outcome ``name``; ``KeyError`` naming the known ones otherwise."""
    found = weekly().get(name)
    if found is None:
        raise KeyError(f"{name!r} is not a weekly outcome of experiments/outcomes.py; known: {list(weekly())}")
    return found


def summarised() -> tuple[Outcome, ...]:
    """The outcomes a sweep summarises (``summary.csv``), in the weekly table's order."""
    return tuple(o for o in weekly().values() if o.summary)


def run_summary() -> tuple[Outcome, ...]:
    """The outcomes a run writes into ``summary.json`` at each summary week."""
    return tuple(o for o in weekly().values() if o.run_summary)


def at_timepoints() -> tuple[Outcome, ...]:
    """The outcomes the report reads at each of its time points, in the weekly table's order."""
    return tuple(o for o in weekly().values() if o.timepoints)


def console() -> tuple[Outcome, ...]:
    """The outcomes of the sweep's console tables, in their order."""
    return tuple(sorted((o for o in weekly().values() if o.console), key=lambda o: o.console))


# --- the spreadsheet form of a sweep's summary ---------------------------------------------------

#: The statistics of each outcome in ``summary.csv``: column suffix -> words (``{diff}``: the
#: difference's unit).
SHEET_STATISTICS = {
    "": "mean over replicates",
    "_ci_low": "lower end of the 95% interval of the mean",
    "_ci_high": "upper end of the 95% interval of the mean",
    "_diff": "difference from course only (paired by seed unless diff_method says unpaired)",
    "_diff_ci_low": "lower end of the 95% interval of the difference",
    "_diff_ci_high": "upper end of the 95% interval of the difference",
}


# --- the dictionary: every column of every table --------------------------------------------------

@dataclass(frozen=True)
class Column:
    """One row of the data dictionary: a column (or a pattern of columns) of one table."""

    table: str
    column: str
    label: str
    unit: str
    description: str
    direction: str = NEITHER
    aggregation: str = ""
    pattern: re.Pattern = field(default=None, repr=False, compare=False)

    def matches(self, name: str) -> bool:
        return bool(self.pattern.fullmatch(name)) if self.pattern is not None else name == self.column


def _pattern(name: str) -> re.Pattern | None:
    """A column family: ``<week>`` (a week) or ``<wtp>`` (a willingness to pay, GBP) stands for a number."""
    if "<week>" not in name and "<wtp>" not in name:
        return None
    return re.compile(re.escape(name).replace(re.escape("<week>"), r"\d+").replace(re.escape("<wtp>"), r"\d+"))


def _column(table: str, name: str, o: Outcome, label: str, unit: str, description: str) -> Column:
    return Column(table, name, label, unit, description, o.direction, o.aggregation, _pattern(name))


def columns(table: str) -> list[Column]:
    """The dictionary of one table (a key of :data:`TABLES`), in the table's order where it has one."""
    if table not in TABLES:
        raise KeyError(f"table {table!r}: must be one of {list(TABLES)}")
    out = []
    if table == "summary":
        out += [_column(table, o.name, o, o.label, o.unit, o.description)
                for o in catalogue() if table in o.tables and o.name != "diff_method"]
        for o in summarised():
            for suffix, words in SHEET_STATISTICS.items():
                unit = o.difference_unit if "_diff" in suffix else o.sheet_unit
                out.append(_column(table, o.sheet_name + suffix, o, f"{o.label}: {words}", unit, o.description))
        out.append(_column(table, "diff_method", *_diff_method()))
        return out
    for o in catalogue():
        if table not in o.tables:
            continue
        out.append(_column(table, o.name, o, o.label, o.unit, o.description))
        if o.interval:
            out += [_column(table, f"{o.name}_lo", o, f"{o.label}: lower end of the 95% interval", o.unit, ""),
                    _column(table, f"{o.name}_hi", o, f"{o.label}: upper end of the 95% interval", o.unit, "")]
    return out


def _diff_method() -> tuple[Outcome, str, str, str]:
    o = next(o for o in catalogue() if o.name == "diff_method")
    return o, o.label, o.unit, o.aggregation


def find(table: str, name: str, parameters: tuple[str, ...] | list[str] = ()) -> Column | None:
    """The dictionary's row for column ``name`` of ``table``; a varied parameter (``parameters``) or,
    for the acceptability table, an arm gets its table's row for other columns; None when the
    catalogue does not describe the column."""
    for c in columns(table):
        if c.matches(name):
            return c
    other = OTHER_COLUMNS.get(table)
    if other is not None and (table == "acceptability" or name in parameters):
        return Column(table, name, f"{other.label}: {name}", other.unit, other.description, other.direction, other.aggregation)
    return None


#: Which table each CSV of a sweep folder or a report folder is, by file name.
FILE_TABLES = {
    "summary.csv": "summary", "failures.csv": "failures", "results.csv": "results", "results.parquet": "results",
    "report/summary.csv": "report_summary", "report/responders_by_threshold.csv": "responders_by_threshold",
    "report/acceptability.csv": "acceptability", "report/budget_impact.csv": "budget_impact",
    "report/economics_by_horizon.csv": "economics_by_horizon", "report/voi.csv": "voi",
    "report/tornado.csv": "tornado", "report/expected_loss.csv": "expected_loss", "report/scenarios.csv": "scenarios",
}


def dictionary_rows(file: str, table: str | None, names, parameters=()) -> list[dict[str, str]]:
    """Rows of a ``dictionary.csv`` for the columns ``names`` of one file: column, label, unit,
    description (a column the catalogue does not know is listed with that said)."""
    rows = []
    for name in names:
        c = find(table, name, parameters) if table else None
        if c is None:
            rows.append({"file": file, "column": name, "label": "", "unit": "",
                         "description": "not described by the outcome catalogue (experiments/outcomes.py)"})
            continue
        text = "; ".join(p for p in (c.description, c.aggregation) if p)
        rows.append({"file": file, "column": name, "label": c.label, "unit": c.unit, "description": text})
    return rows


def dictionary_table(files: dict[str, tuple[str | None, list[str]]], parameters=()):
    """The rows of a ``dictionary.csv`` as a DataFrame: for each file (name -> (table key, its
    columns)) one row per column, from the catalogue. Written by the caller
    (:func:`experiments.outputs.write_table`: this module writes no file, :mod:`experiments.outputs`
    reads it)."""
    import pandas as pd

    rows = [r for file, (table, names) in files.items() for r in dictionary_rows(file, table, names, parameters)]
    return pd.DataFrame(rows, columns=list(DICTIONARY_COLUMNS))


def folder_dictionary(folder: Path, prefix: str = ""):
    """The ``dictionary.csv`` of every CSV in ``folder`` (its header read), each as the table
    :data:`FILE_TABLES` names for ``prefix + file name`` (``prefix="report/"`` for a report folder);
    a CSV of no known table is listed with its columns said to be undescribed."""
    import pandas as pd

    files = {}
    for path in sorted(Path(folder).glob("*.csv")):
        if path.name == DICTIONARY:
            continue
        files[path.name] = (FILE_TABLES.get(prefix + path.name), list(pd.read_csv(path, nrows=0).columns))
    return dictionary_table(files)


# --- docs/data-dictionary.md ---------------------------------------------------------------------

def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    """The data dictionary (docs/data-dictionary.md): every table, every column, from the catalogue."""
    lines = [
        "# Data dictionary",
        "",
        "Every column of every table a run, a sweep and a report write: its code, plain words, unit, direction "
        "(higher or lower is better) and how runs are combined into it. Generated from the outcome catalogue, "
        "`experiments/outcomes.py`, by `python -m experiments.outcomes`; do not edit "
        "by hand: tests/experiments/test_data_dictionary.py fails when this file differs from what the catalogue "
        "writes, or when a column of a real run, sweep or report is missing here.",
        "",
        "Beside its CSVs, every sweep folder and every report folder holds `dictionary.csv` (file, column, label, "
        "unit, description), written from the same catalogue. `<week>` in a column name stands for a week after "
        "the course (digits).",
        "",
        "The columns listed for the support channels and the cost categories are those of the channels in "
        "`sim/support/` (the registry); a channel of one's own adds its three columns, its cost category and its "
        "own results, described by its entries in the catalogue.",
        "",
    ]
    for t in TABLES.values():
        lines += [f"## {', '.join(f'`{f}`' for f in t.files)}", "", f"One row: {t.row}. Written by {t.written_by}.", ""]
        lines += ["| Column | Label | Unit | Direction | How aggregated | Description |", "|---|---|---|---|---|---|"]
        rows = columns(t.key)
        if t.key in OTHER_COLUMNS:
            o = OTHER_COLUMNS[t.key]
            rows.append(Column(t.key, o.name, o.label, o.unit, o.description, o.direction, o.aggregation))
        for c in rows:
            lines.append("| " + " | ".join(_cell(x) for x in (f"`{c.column}`", c.label, c.unit,
                                                              "" if c.direction == NEITHER else c.direction,
                                                              c.aggregation, c.description)) + " |")
        lines.append("")
    return "\n".join(lines)


def write_docs(path: Path = DOCS_PATH) -> Path:
    """Write the data dictionary to ``path`` (default docs/data-dictionary.md), atomically: a
    temporary file beside it, renamed (as :func:`experiments.outputs.atomic_path` does; not used
    here because :mod:`experiments.outputs` imports this module)."""
    import os
    import tempfile

    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(markdown())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m experiments.outcomes",
                                     description="Write docs/data-dictionary.md from the outcome catalogue.")
    parser.add_argument("--check", action="store_true", help="only check that the file is up to date (exit 1 if not)")
    parser.add_argument("--out", type=Path, default=DOCS_PATH, help=f"where to write (default {DOCS_PATH.name})")
    args = parser.parse_args(argv)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current != markdown():
            print(f"error: {args.out} is out of date: run python -m experiments.outcomes", file=sys.stderr)
            return 1
        print(f"{args.out}: up to date")
        return 0
    print(f"data dictionary: {write_docs(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
