"""Aggregate a sweep folder into tidy tables (runs at the end of every sweep, or on demand).

    python -m experiments.collect SWEEP_DIR [--csv]

Writes into SWEEP_DIR:

* ``results.parquet``: one row per run x week, with ``run_id``, ``seed``, ``replicate``,
  ``strategy``, ``population``, every varied parameter and every weekly reporter. Built by
  streaming one run at a time, so memory stays flat however many runs there are. With ``--csv``
  (``collect(..., results_csv=True)``), the same table as ``results.csv`` for a spreadsheet.
* ``summary.csv``: per strategy, population and varied parameter, at weeks 26, 52 and 104 (or
  the last week), for each outcome the catalogue marks ``summary`` (:mod:`experiments.outcomes`):
  the mean and its 95% interval over replicates, and the paired difference against
  ``course_only`` (same population, replicate and other parameters, hence the same seed) with its
  95% interval; in the units the console prints, the unit in each column's name (a share as a
  percentage: ``self_managing_pct``, ``self_managing_pct_ci_low``, ``self_managing_pct_diff``...).
* ``failures.csv`` when runs failed: each run's overrides and error.
* ``dictionary.csv``: every column of the tables above (file, column, label, unit, description),
  from the outcome catalogue.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from experiments import outcomes
from experiments.labels import STRATEGIES, strategy_label
from experiments.outputs import (
    EXIT_BAD_INPUT,
    EXIT_BAD_OUTPUT,
    EXIT_OK,
    EXIT_RUNS_FAILED,
    MANIFEST,
    OutputError,
    atomic_path,
    planned_run_names,
    progress_of,
    read_json,
    read_arrow,
    read_sweep,
    summary_weeks,
    verify_run,
    write_table,
)
from experiments.stats import SHARE_BOUNDS, mean_ci, paired_diff_ci, unpaired_diff_ci

#: Outcomes summarised per strategy (columns of the weekly table): those the outcome catalogue
#: marks ``summary`` (:func:`experiments.outcomes.summarised`).
SUMMARY_METRICS = tuple(o.name for o in outcomes.summarised())
COMPARATOR = "course_only"
#: Rows per row group of results.parquet (runs are buffered up to this, then written).
ROW_GROUP_ROWS = 65_536
#: Overrides that organise a sweep rather than define a run's inputs.
NOT_PARAMETERS = ("experiment", "replicates", "replicate", "seed", "strategy", "population")


@dataclass
class Collected:
    sweep_dir: Path
    runs: int
    failures: int
    summary: pd.DataFrame
    parameters: list[str]


def varied_parameters(overrides: list[str]) -> dict[str, object]:
    """The run-defining overrides of a run as {dotted key: value}, sweep plumbing left out."""
    params = {}
    for item in overrides:
        key, _, value = item.lstrip("+~").partition("=")
        if key in NOT_PARAMETERS or key.startswith(("hydra", "outputs")):
            continue
        params[key] = yaml.safe_load(value) if value else None
    return params


def _run_dirs(sweep_dir: Path, marker: str) -> list[Path]:
    return sorted(p.parent for p in (sweep_dir / "runs").glob(f"*/{marker}"))


def sweep_members(sweep_dir: Path) -> dict[str, str] | None:
    """{run folder: status} of the latest sweep into ``sweep_dir`` (from ``sweep.json``'s id and
    ``progress.log``); None for a folder without that record (then every run is taken)."""
    sweep_id = read_sweep(sweep_dir).get("id")
    return progress_of(sweep_dir, sweep_id) if sweep_id else None


class MissingRuns(OutputError):
    """Runs of the latest sweep that have no finished run in the folder: a run folder or its
    manifest was deleted, or the runs never reported back (the sweep was interrupted). Like any
    missing output, exit code 4: tables of part of a sweep would pass for the whole of it."""


#: Run folders named in the message about missing runs (the others are counted).
NAMES_SHOWN = 5


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")


def check_complete(sweep_dir: Path, members: dict[str, str], runs: list[Path]) -> None:
    """Raise :class:`MissingRuns` (one line) unless every run of the latest sweep is accounted for:
    finished (``runs``) or recorded as failed.

    The sweep's own record says what to expect: ``sweep.json`` the number of runs it launched,
    ``progress.log`` each run's status (``members``), the batches' plans the runs it launched. A
    run logged as done or skipped whose manifest is gone was deleted (an error); runs with no line
    in the log have not finished (a sweep still running or cancelled): a warning, and the tables
    hold the runs that did.
    """
    info = read_sweep(sweep_dir)
    expected = info.get("runs") if isinstance(info.get("runs"), int) else None
    have = {r.name for r in runs}
    deleted = sorted(n for n, status in members.items() if status in ("done", "skipped") and n not in have)
    unlogged = max(0, expected - len(members)) if expected is not None else 0
    if unlogged:  # a sweep still running, or cancelled: what finished is collected, and said to be part
        never = sorted(set(planned_run_names(sweep_dir, info.get("id"))) - set(members))
        print(f"warning: {sweep_dir / 'runs'}: {unlogged} of {expected} runs of the latest sweep have not finished"
              + (f": {_names(never)}" if never else "") + " (no line in progress.log: still running or interrupted?); "
              "the tables hold the others; rerun the sweep's command to finish it", file=sys.stderr)
    if deleted:
        raise MissingRuns(sweep_dir / "runs", f"{len(deleted)} of {expected or len(members)} runs of the latest "
                          f"sweep are missing: {_names(deleted)} (logged as finished, no {MANIFEST}: deleted?); "
                          "rerun the sweep's command to redo them")


def finished_runs(sweep_dir: Path) -> list[Path]:
    """The finished runs of the latest sweep into a folder: those with a manifest, every file verified.

    Runs left in the folder by earlier sweeps (other seeds, other values) are not taken. Raises
    :class:`~experiments.outputs.OutputError` naming a file that no longer matches its manifest
    (rerunning the sweep redoes that run), and :class:`MissingRuns` when runs of the sweep are
    missing (:func:`check_complete`).
    """
    sweep_dir = Path(sweep_dir)
    runs = _run_dirs(sweep_dir, MANIFEST)
    members = sweep_members(sweep_dir)
    if members is not None:
        runs = [r for r in runs if members.get(r.name) in ("done", "skipped")]
        check_complete(sweep_dir, members, runs)
    for run in runs:
        verify_run(run)
    return runs


def newer_than_every_run(path: Path, sweep_dir: Path | str) -> bool:
    """Whether ``path`` exists and was written after every finished run of the sweep (no run
    finished, or was redone, since): what decides if a table or an analysis made from the runs is
    still current."""
    path = Path(path)
    if not path.is_file():
        return False
    newest = max((p.stat().st_mtime for p in (Path(sweep_dir) / "runs").glob("*/manifest.json")), default=0.0)
    return path.stat().st_mtime >= newest


def collect(sweep_dir: Path | str, results_csv: bool = False) -> Collected:
    """Write results.parquet, summary.csv, dictionary.csv and (if any run failed) failures.csv into
    ``sweep_dir``; with ``results_csv``, results.csv too (every run's weekly table, for a
    spreadsheet; an earlier results.csv is removed otherwise, so none is left that does not match).

    Raises :class:`~experiments.outputs.OutputError` naming the file when an output is unreadable
    or runs of the sweep are missing (:class:`MissingRuns`). When it raises (for any reason), no
    table is left in ``sweep_dir``.
    """
    sweep_dir = Path(sweep_dir)
    try:
        return _collect(sweep_dir, results_csv)
    except BaseException:
        # whatever went wrong (an unreadable file, a bug, an interrupt), no table may be left that
        # does not match the runs: neither the previous aggregation nor half of this one
        remove_tables(sweep_dir)
        raise


#: The tables aggregation writes into a sweep folder.
TABLES = ("results.parquet", "results.csv", "summary.csv", "failures.csv", outcomes.DICTIONARY)


def remove_tables(sweep_dir: Path) -> None:
    """Remove a sweep folder's tables: done when they would no longer match its runs (a new sweep
    starts, or aggregating failed), so that no stale table is ever read as current."""
    for name in TABLES:
        (Path(sweep_dir) / name).unlink(missing_ok=True)


def _collect(sweep_dir: Path, results_csv: bool = False) -> Collected:
    runs = finished_runs(sweep_dir)
    meta = []
    for run in runs:
        s = read_json(run / "summary.json")
        meta.append({
            "run_id": run.name,
            "seed": s["seed"],
            "replicate": s.get("replicate", 0),
            "strategy": s["strategy"],
            "population": s["population"],
            **varied_parameters(s.get("overrides", [])),
        })
    ids = pd.DataFrame(meta)
    # parameters that differ between runs (constant overrides stay in results.parquet only)
    parameters = [c for c in ids.columns if c not in ("run_id", "seed", "replicate", "strategy", "population")
                  and ids[c].astype(str).nunique() > 1]

    picked = []  # the weekly rows at the summary weeks: small, kept in memory
    results_columns: list[str] = []
    (sweep_dir / "results.csv").unlink(missing_ok=True)  # written again below, if asked for
    if runs:
        with ExitStack() as stack:
            tmp = stack.enter_context(atomic_path(sweep_dir / "results.parquet"))
            csv = stack.enter_context(atomic_path(sweep_dir / "results.csv")) if results_csv else None
            writer, schema, buffer, buffered = None, None, [], 0
            id_table = pa.Table.from_pandas(ids, preserve_index=False)  # each run's identity, typed once
            for i, run in enumerate(runs):
                # in Arrow throughout (a pandas round trip per run cost most of aggregating a PSA)
                weekly = read_arrow(run / "weekly.parquet")
                if writer is None:  # the schema, with pandas' metadata, as pandas writes the frame
                    first = pd.concat([ids.iloc[[i] * weekly.num_rows].reset_index(drop=True),
                                       weekly.to_pandas()], axis=1)
                    schema = pa.Table.from_pandas(first, preserve_index=False).schema
                    writer = pq.ParquetWriter(tmp, schema)
                    results_columns = list(schema.names)
                ident = id_table.take(pa.array(np.full(weekly.num_rows, i)))
                columns = [*ident.columns, *weekly.columns]
                names = [*ident.column_names, *weekly.column_names]
                if names == schema.names and all(c.type == f.type for c, f in zip(columns, schema)):
                    table = pa.Table.from_arrays(columns, schema=schema)  # already the schema's types
                else:
                    table = pa.Table.from_arrays(columns, names=names).cast(schema)
                buffer.append(table)
                buffered += table.num_rows
                if buffered >= ROW_GROUP_ROWS:  # few, large row groups: bounded memory and metadata
                    writer.write_table(pa.concat_tables(buffer))
                    buffer, buffered = [], 0
                if csv is not None:  # the same rows, appended run by run (memory stays flat)
                    table.to_pandas().reindex(columns=results_columns).to_csv(csv, mode="a", header=i == 0,
                                                                              index=False)
                week = weekly.column("week")
                weeks = summary_weeks(int(week[-1].as_py()))
                rows = weekly.filter(pc.is_in(week, pa.array(weeks, type=week.type))).select(["week", *SUMMARY_METRICS])
                picked.extend({**meta[i], **row} for row in rows.to_pylist())
            if buffer:
                writer.write_table(pa.concat_tables(buffer))
            writer.close()
    else:  # no finished run (all failed): an earlier sweep's table must not stay
        (sweep_dir / "results.parquet").unlink(missing_ok=True)

    summary = summarise_runs(pd.DataFrame(picked), parameters) if picked else pd.DataFrame()
    sheet = spreadsheet_summary(summary, parameters) if not summary.empty else pd.DataFrame()
    if not sheet.empty:
        write_table(sweep_dir / "summary.csv", sheet)
    else:
        (sweep_dir / "summary.csv").unlink(missing_ok=True)

    failed = _run_dirs(sweep_dir, "error.json")
    members = sweep_members(sweep_dir)
    if members is not None:  # only this sweep's failures, not those of an earlier sweep
        failed = [r for r in failed if members.get(r.name) == "failed"]
    records = [(run.name, run / "error.json") for run in failed]
    # a run whose own folder could not be written left its error in the sweep folder (callback.UNWRITABLE)
    seen = {name for name, _ in records}
    for path in sorted((sweep_dir / "unwritable_runs").glob("*.json")):
        if path.stem not in seen and (members is None or members.get(path.stem) == "failed"):
            records.append((path.stem, path))
    failures = []
    for name, path in records:
        err = read_json(path)
        failures.append({"run_id": name, "overrides": " ".join(err["overrides"]), "error": err["error"]})
    if failures:
        write_table(sweep_dir / "failures.csv", pd.DataFrame(failures))
    else:
        (sweep_dir / "failures.csv").unlink(missing_ok=True)

    described = {}  # dictionary.csv: the columns of every table just written
    if results_columns:
        described["results.parquet"] = ("results", results_columns)
        if results_csv:
            described["results.csv"] = ("results", results_columns)
    if not sheet.empty:
        described["summary.csv"] = ("summary", list(sheet.columns))
    if failures:
        described["failures.csv"] = ("failures", list(failures[0]))
    if described:
        parameters_in_results = [c for c in ids.columns if c not in RUN_ID_COLUMNS]
        write_table(sweep_dir / outcomes.DICTIONARY, outcomes.dictionary_table(described, parameters_in_results))
    else:
        (sweep_dir / outcomes.DICTIONARY).unlink(missing_ok=True)
    return Collected(sweep_dir, len(runs), len(failures), summary, parameters)


#: The columns that identify a run in results.parquet (the others before ``week``: its overrides).
RUN_ID_COLUMNS = ("run_id", "seed", "replicate", "strategy", "population")


def spreadsheet_summary(summary: pd.DataFrame, parameters: list[str]) -> pd.DataFrame:
    """``summary.csv``: the long summary of :func:`summarise_runs` as one row per strategy,
    population, varied parameter and week, in the units the console prints.

    For each summarised outcome (:func:`experiments.outcomes.summarised`) six columns, named with
    its unit (:attr:`~experiments.outcomes.Outcome.sheet_name`, a share as a percentage:
    ``self_managing_pct``): the mean, ``_ci_low``, ``_ci_high``, and the difference from course only
    ``_diff``, ``_diff_ci_low``, ``_diff_ci_high`` (percentage points for a percentage); then
    ``diff_method`` (paired or unpaired; the same for every outcome of a row, which come from the
    same runs). ``n_runs`` follows the keys.
    """
    keys = ["strategy", "population", *parameters, "week"]
    stats = {"mean": "", "ci_low": "_ci_low", "ci_high": "_ci_high", "diff_vs_course_only": "_diff",
             "diff_ci_low": "_diff_ci_low", "diff_ci_high": "_diff_ci_high"}
    shown = [o for o in outcomes.summarised() if o.name in set(summary["metric"])]
    rows = []
    for group, df in summary.groupby(keys, dropna=False, sort=True):  # a row per metric in each group
        by_metric = df.set_index("metric")
        row = {**dict(zip(keys, group)), "n_runs": int(df["n_runs"].max())}
        for o in shown:
            for stat, suffix in stats.items():
                row[o.sheet_name + suffix] = by_metric.at[o.name, stat] * o.sheet_scale
        row["diff_method"] = "/".join(sorted(set(df["diff_method"]) - {""}))
        rows.append(row)
    return pd.DataFrame(rows, columns=[*keys, "n_runs", *[o.sheet_name + s for o in shown for s in stats.values()],
                                       "diff_method"])


def summarise_runs(rows: pd.DataFrame, parameters: list[str]) -> pd.DataFrame:
    """Mean and 95% interval per group, and the difference against the comparator.

    ``rows``: one row per run x summary week, with the id columns and the metric columns. The
    difference is *paired* when every run of the group has a comparator run with the same seed
    (the seed actually used), the same population and the same non-strategy parameters; otherwise
    (e.g. ``seed=null``: every run drew its own seed) it is the *unpaired* (Welch) difference of
    the two means, and ``diff_method`` says which.
    """
    keys = ["strategy", "population", *parameters]
    long = rows.melt(id_vars=[*keys, "replicate", "seed", "week"], value_vars=list(SUMMARY_METRICS),
                     var_name="metric", value_name="value")
    context = ["population", *[p for p in parameters if not p.startswith("strategy")], "week", "metric"]
    match = [*context, "seed"]
    controls = long[long["strategy"] == COMPARATOR]
    control = (controls.drop_duplicates(subset=match)[[*match, "value"]]
               .rename(columns={"value": "control"}))
    long = long.merge(control, on=match, how="left")
    by_context = {k: df["value"].to_numpy() for k, df in
                  controls.groupby(context, dropna=False, sort=False)} if len(controls) else {}

    out = []
    for group, df in long.groupby([*keys, "week", "metric"], dropna=False, sort=True):
        bounds = SHARE_BOUNDS if group[-1].startswith("share_") else None
        mean, low, high = mean_ci(df["value"], bounds=bounds)
        diff_bounds = (-SHARE_BOUNDS[1], SHARE_BOUNDS[1]) if bounds else None
        method = ""
        d_mean = d_low = d_high = float("nan")
        if df["control"].notna().all():
            d_mean, d_low, d_high = paired_diff_ci(df["value"], df["control"], bounds=diff_bounds)
            method = "paired"
        else:
            ctx = tuple(df.iloc[0][c] for c in context)
            comparator = by_context.get(ctx)
            if comparator is not None and len(comparator):
                d_mean, d_low, d_high = unpaired_diff_ci(df["value"], comparator, bounds=diff_bounds)
                method = "unpaired"
        out.append((*group, len(df), mean, low, high, d_mean, d_low, d_high, method))
    columns = [*keys, "week", "metric", "n_runs", "mean", "ci_low", "ci_high",
               "diff_vs_course_only", "diff_ci_low", "diff_ci_high", "diff_method"]
    return pd.DataFrame(out, columns=columns)


#: The order strategies are listed in (others follow, alphabetically).


def summary_table(
    result: Collected, metric: str = "share_self_managing", scale: float = 100.0, digits: int = 1
) -> pd.DataFrame:
    """A readable table: one row per strategy (and population, parameters), one column per week."""
    s = result.summary
    if s.empty:
        return s
    s = s[s["metric"] == metric]
    keys = ["strategy", "population", *result.parameters]

    d = digits

    def interval(low, high, runs, sign=""):
        """'(a to b)'; with a single replicate there is none: say so instead of '(nan to nan)'."""
        if pd.isna(low) or pd.isna(high):
            return "(one run: no interval)" if runs < 2 else "(no interval)"
        return f"({scale * low:{sign}.{d}f} to {scale * high:{sign}.{d}f})"

    def fmt(r):
        runs = int(r["n_runs"])
        text = f"{scale * r['mean']:.{d}f} {interval(r['ci_low'], r['ci_high'], runs)}"
        if r["strategy"] != COMPARATOR and pd.notna(r["diff_vs_course_only"]):
            text += (f"; {scale * r['diff_vs_course_only']:+.{d}f} "
                     f"{interval(r['diff_ci_low'], r['diff_ci_high'], runs, '+')}")
            if r.get("diff_method") == "unpaired":
                text += " unpaired"
        return text

    s = s.assign(cell=s.apply(fmt, axis=1), week=s["week"].map(lambda w: f"week {w}"))
    table = s.pivot_table(index=keys, columns="week", values="cell", aggfunc="first", dropna=False)
    table = table[sorted(table.columns, key=lambda c: int(c.split()[1]))]
    rank = {name: i for i, name in enumerate(STRATEGIES)}
    order = sorted(range(len(table)), key=lambda i: (rank.get(table.index[i][0], len(rank)), table.index[i]))
    return table.iloc[order]


def print_summary(result: Collected) -> None:
    print(f"\nCollected {result.runs} runs from {result.sweep_dir}"
          + (f"; {result.failures} failed (see failures.csv)" if result.failures else ""))
    if result.summary.empty:
        return
    for o in outcomes.console():  # the catalogue's console outcomes, in summary.csv's units
        print("\n" + console_table(result, o.name, o.sheet_scale, 1 if o.is_share else 3, console_title(o)))
    csv = result.sweep_dir / "results.csv"
    print(f"\nresults: {result.sweep_dir / 'results.parquet'}" + (f" and {csv}" if csv.is_file() else "")
          + f"\nsummary: {result.sweep_dir / 'summary.csv'}\ncolumns: {result.sweep_dir / outcomes.DICTIONARY}")


#: The console's width: every line of the tables a sweep prints fits in it (characters).
CONSOLE_WIDTH = 100
#: Rows of one outcome's console table at most (a large design has hundreds; summary.csv has all).
CONSOLE_ROWS = 42


def console_table(result: Collected, metric: str, scale: float = 1.0, digits: int = 3, title: str = "",
                  width: int = CONSOLE_WIDTH, max_rows: int = CONSOLE_ROWS) -> str:
    """One outcome's table for the console, no line wider than ``width``: a row per strategy
    (population and varied parameters, where they vary) and summary week, with the mean and its 95%
    interval and the difference from course only with its interval ("(one run: no interval)" with
    a single replicate), in ``scale`` units with ``digits`` decimals.

    What is the same in every row (one population) goes into the title; a varied parameter is shown
    by the shortest end of its dotted key that tells it from the others. When even that is too
    wide (many varied parameters), each row's settings get a line of their own above its weeks.
    At most ``max_rows`` rows (a note says how many more are in summary.csv).
    """
    import textwrap

    s = result.summary
    s = s[s["metric"] == metric] if not s.empty else s
    if s.empty:
        return title
    d = digits

    def interval(low, high, runs, sign=""):
        if pd.isna(low) or pd.isna(high):
            return "(one run: no interval)" if runs < 2 else "(no interval)"
        return f"({scale * low:{sign}.{d}f} to {scale * high:{sign}.{d}f})"

    def difference(r) -> str:
        if r["strategy"] == COMPARATOR or pd.isna(r["diff_vs_course_only"]):
            return ""
        return (f"{scale * r['diff_vs_course_only']:+.{d}f} {interval(r['diff_ci_low'], r['diff_ci_high'], int(r['n_runs']), '+')}"
                + (" unpaired" if r.get("diff_method") == "unpaired" else ""))

    populations = s["population"].unique()
    keys = ["strategy", *(["population"] if len(populations) > 1 else []), *result.parameters]
    names = _short_names(result.parameters)
    rank = {name: i for i, name in enumerate(STRATEGIES)}
    s = s.assign(_rank=s["strategy"].map(lambda x: rank.get(x, len(rank)))).sort_values(
        ["_rank", *keys[1:], "strategy", "week"], kind="stable")
    table = pd.DataFrame({**{names.get(k, k): s[k].map(lambda v: "" if pd.isna(v) else f"{v:g}" if isinstance(v, float) else str(v))
                             for k in keys},
                          "week": s["week"].astype(int).astype(str),
                          "mean (95% interval)": [f"{scale * m:.{d}f} {interval(lo, hi, int(n))}" for m, lo, hi, n in
                                                  zip(s["mean"], s["ci_low"], s["ci_high"], s["n_runs"])],
                          "vs course only (95% interval)": [difference(r) for _, r in s.iterrows()]})
    more = max(0, len(table) - max_rows)
    table = table.iloc[:max_rows]
    heading = title + (f" ({populations[0]})" if len(populations) == 1 else "")
    note = "mean (95% interval); difference from course only (95% interval; paired by seed unless marked unpaired)"
    lines = textwrap.wrap(f"{heading}: {note}" if heading else note, width)
    widths = {c: max(len(c), *(len(v) for v in table[c])) for c in table.columns}
    rows = ["  ".join(c.ljust(widths[c]) for c in table.columns).rstrip()]
    rows += ["  ".join(v.ljust(widths[c]) for c, v in zip(table.columns, row)).rstrip()
             for row in table.itertuples(index=False)]
    if max(len(row) for row in rows) > width:  # too many settings: a line of their own for each row
        label_columns = [names.get(k, k) for k in keys]
        rows = []
        for label, part in table.groupby(label_columns, sort=False):
            label = label if isinstance(label, tuple) else (label,)
            rows += textwrap.wrap(", ".join(f"{c}={v}" if c != "strategy" else str(v)
                                            for c, v in zip(label_columns, label)), width)
            for _, r in part.iterrows():
                diff = r["vs course only (95% interval)"]
                rows += textwrap.wrap(f"week {r['week']}: {r['mean (95% interval)']}" + (f"; {diff}" if diff else ""),
                                      width, initial_indent="    ", subsequent_indent="      ")
    lines += rows
    if more:
        lines.append(f"... and {more} more rows (all in {result.sweep_dir / 'summary.csv'})")
    return "\n".join(lines)


def _short_names(keys: list[str]) -> dict[str, str]:
    """Each dotted key's shortest end that no other key shares (``interval_weeks``,
    ``peer_group.effect.efficacy`` beside ``telephone.effect.efficacy``)."""
    out = {}
    for key in keys:
        parts = key.split(".")
        for n in range(1, len(parts) + 1):
            end = ".".join(parts[-n:])
            if not any(other != key and (other == end or other.endswith("." + end)) for other in keys):
                break
        out[key] = end
    return out


def console_title(o: outcomes.Outcome) -> str:
    """An outcome's title in the console: '% still self-managing', 'mean gain ... (SD of capability)'."""
    words = o.label[:1].lower() + o.label[1:]
    return f"% {words}" if o.is_share else f"{words} ({o.unit})"


def read_yaml(path: Path) -> dict:
    """A YAML file of a run (its resolved ``config.yaml``), with libyaml's C loader where built in."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(Path(path).read_text(), Loader=loader) or {}


#: What every run's summary tells besides its varied parameters (one column each in :class:`Arms`).
RUN_FIELDS = ("strategy", "population", "replicate", "seed", "base_seed", "config_hash", "package_version",
              "n_graduates", "weeks")


@dataclass
class Arms:
    """The finished runs of a sweep grouped into *arms*: what a commissioner could fund, a strategy
    with its varied settings in one population (course only ignores strategy settings)."""

    ids: pd.DataFrame  # one row per run: run_id, RUN_FIELDS, the varied parameters, arm
    parameters: list[str]  # the varied parameters (dotted keys)
    keys: dict[str, tuple]  # arm id -> (strategy, population, ((parameter, value), ...)), in display order
    labels: dict[str, str]  # arm id -> plain words, distinct within a population
    configs: dict[str, dict]  # arm id -> the resolved config of its first run


def arms_of(sweep_dir: Path | str) -> Arms:
    """Group the finished runs of the latest sweep into arms (the report's and the value of
    information's unit). Arms are ordered by population, then as :data:`STRATEGIES`; ids are
    ``arm0``, ``arm1``... Raises ``FileNotFoundError`` when no run finished."""
    sweep_dir = Path(sweep_dir)
    runs = finished_runs(sweep_dir)  # every file checked against its manifest
    if not runs:
        raise FileNotFoundError(f"{sweep_dir} holds no finished runs (runs/*/manifest.json)")
    meta = []
    for run in runs:
        s = read_json(run / "summary.json")
        meta.append({"run_id": run.name, **{f: s.get(f) for f in RUN_FIELDS},
                     **varied_parameters(s.get("overrides", []))})
    ids = pd.DataFrame(meta)
    ids["replicate"] = ids["replicate"].fillna(0).astype(int)
    parameters = [c for c in ids.columns if c not in ("run_id", *RUN_FIELDS) and c not in NOT_PARAMETERS
                  and ids[c].astype(str).nunique() > 1]

    def arm_key(row) -> tuple:
        ps = tuple((p, None if (row["strategy"] == COMPARATOR and p.startswith("strategy."))
                    or pd.isna(row.get(p)) else row.get(p)) for p in parameters)
        return (row["strategy"], row["population"], ps)

    keys = ids.apply(arm_key, axis=1)
    rank = {name: i for i, name in enumerate(STRATEGIES)}
    ordered = sorted(keys.unique(), key=lambda k: (k[1], rank.get(k[0], len(rank)), k[0], str(k[2])))
    arm_ids = {k: f"arm{i}" for i, k in enumerate(ordered)}
    ids["arm"] = keys.map(arm_ids)
    configs, labels = {}, {}
    for k in ordered:
        first = ids[ids["arm"] == arm_ids[k]].sort_values("replicate").iloc[0]
        configs[arm_ids[k]] = read_yaml(sweep_dir / "runs" / first["run_id"] / "config.yaml")
        labels[arm_ids[k]] = strategy_label(configs[arm_ids[k]].get("strategy", {}))
    by_id = {arm_ids[k]: k for k in ordered}
    seen: dict[tuple, list[str]] = {}
    for a, k in by_id.items():  # the varied settings added where labels would repeat in a population
        seen.setdefault((k[1], labels[a]), []).append(a)
    for group in seen.values():
        for a in group if len(group) > 1 else []:
            extra = ", ".join(f"{p.rsplit('.', 1)[-1].replace('_', ' ')} {v}" for p, v in by_id[a][2] if v is not None)
            if extra:
                labels[a] = f"{labels[a]} ({extra})"
    return Arms(ids, parameters, by_id, labels, configs)


def collect_command(sweep_dir: Path, results_csv: bool = False) -> int:
    """What ``python -m experiments.collect SWEEP_DIR [--csv]`` does (:mod:`experiments.collect`
    parses the command line): aggregate, print the console tables, and return the exit code: 0;
    2 for a folder that is not a sweep or holds no finished run; 3 when runs failed; 4 for an
    unreadable or missing output (one line naming it)."""
    sweep_dir = Path(sweep_dir)
    if not (sweep_dir / "runs").is_dir():
        print(f"error: {sweep_dir} holds no runs/ folder: not a sweep folder", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        result = collect(sweep_dir, results_csv=results_csv)
    except OutputError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_OUTPUT
    if not result.runs and not result.failures:
        print(f"error: {sweep_dir} holds no finished runs (no runs/*/{MANIFEST}): nothing to collect",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    print_summary(result)
    return EXIT_RUNS_FAILED if result.failures else EXIT_OK
