"""The data dictionary (docs/data-dictionary.md, generated from experiments/outcomes.py) covers every
column of a real run, sweep and report, and the committed file is what the generator writes now."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from in_process import run_command, sweep

from experiments import outcomes
from experiments.collect import main as collect_main
from experiments.report import build as report

pytestmark = pytest.mark.slow  # a run, a sweep and its report: a few seconds, started first (conftest.py)


def test_the_committed_dictionary_is_what_the_catalogue_writes():
    assert outcomes.DOCS_PATH.read_text(encoding="utf-8") == outcomes.markdown(), \
        "docs/data-dictionary.md is out of date: run python -m experiments.outcomes"
    assert outcomes.main(["--check"]) == 0


def test_the_check_fails_on_a_stale_file(tmp_path, capsys):
    stale = tmp_path / "data-dictionary.md"
    stale.write_text(outcomes.markdown().replace("`qalys_gained`", "`qalys`"), encoding="utf-8")
    assert outcomes.main(["--check", "--out", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert outcomes.main(["--out", str(stale)]) == 0 and stale.read_text(encoding="utf-8") == outcomes.markdown()


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    """A run with every file it can write, a small sweep collected with --csv, and its report."""
    base = tmp_path_factory.mktemp("dictionary")
    run = base / "run"
    assert run_command("strategy=offer_all", "n_graduates=60", "weeks=6", "outputs.csv=true",
                       "outputs.graduates=true", f"hydra.run.dir={run}") == 0
    swept = sweep(base / "sweep", "experiment=peer_group_frequency", "replicates=2", "n_graduates=60", "weeks=6",
                  "strategy.peer_group.interval_weeks=1,4")
    assert collect_main([str(swept), "--csv"]) == 0
    report.build(swept)
    return {"run": run, "sweep": swept}


def _tables(made: dict[str, Path]) -> list[tuple[str, Path, list[str]]]:
    """(table key, file, its varied parameters) of every table the run, the sweep and the report wrote."""
    run, swept = made["run"], made["sweep"]
    parameters = sorted({p for s in (swept / "runs").glob("*/summary.json")
                         for p in (o.partition("=")[0] for o in json.loads(s.read_text())["overrides"])})
    found = [("weekly", run / "weekly.parquet", []), ("weekly", run / "weekly.csv", []),
             ("graduates", run / "graduates.parquet", []),
             ("results", swept / "results.parquet", parameters), ("results", swept / "results.csv", parameters),
             ("summary", swept / "summary.csv", parameters)]
    found += [(outcomes.FILE_TABLES[f"report/{p.name}"], p, [])
              for p in sorted((swept / "report").glob("*.csv")) if p.name != outcomes.DICTIONARY]
    return found


def _read_columns(path: Path) -> list[str]:
    return list(pd.read_parquet(path).columns if path.suffix == ".parquet" else pd.read_csv(path, nrows=0).columns)


def test_every_column_of_a_run_a_sweep_and_a_report_is_in_the_dictionary(made):
    docs = outcomes.DOCS_PATH.read_text(encoding="utf-8")
    tables = _tables(made)
    assert {t for t, _, _ in tables} >= {"weekly", "graduates", "results", "summary", "report_summary",
                                         "responders_by_threshold"}
    missing = []
    for table, path, parameters in tables:
        for column in _read_columns(path):
            entry = outcomes.find(table, column, parameters)
            if entry is None or (entry.column not in parameters and f"`{entry.column}`" not in docs):
                missing.append(f"{path.name}: {column}")
    assert not missing, "columns missing from docs/data-dictionary.md: " + ", ".join(missing)


def test_every_csv_of_the_sweep_and_the_report_has_its_dictionary_beside_it(made):
    for folder in (made["sweep"], made["sweep"] / "report"):
        d = pd.read_csv(folder / outcomes.DICTIONARY)
        assert list(d.columns) == list(outcomes.DICTIONARY_COLUMNS)
        for csv in sorted(p for p in folder.glob("*.csv") if p.name != outcomes.DICTIONARY):
            listed = d.loc[d["file"] == csv.name]
            assert list(listed["column"]) == _read_columns(csv), csv
            assert listed["label"].notna().all() and listed["unit"].notna().all(), csv


def test_results_csv_holds_the_rows_of_results_parquet_and_goes_when_not_asked_for(made, tmp_path):
    swept = made["sweep"]
    pd.testing.assert_frame_equal(pd.read_csv(swept / "results.csv"), pd.read_parquet(swept / "results.parquet"),
                                  check_dtype=False)
    summary = pd.read_csv(swept / "summary.csv")
    results = pd.read_parquet(swept / "results.parquet")
    last = results[results["week"] == 6].groupby(["strategy", "strategy.peer_group.interval_weeks"])
    shares = summary.set_index(["strategy", "strategy.peer_group.interval_weeks"])["self_managing_pct"]
    pd.testing.assert_series_equal(shares.sort_index(), 100 * last["share_self_managing"].mean().sort_index(),
                                   check_names=False)
    assert collect_main([str(swept)]) == 0  # without --csv: no results.csv left that could go stale
    assert not (swept / "results.csv").exists()
    assert "results.csv" not in set(pd.read_csv(swept / outcomes.DICTIONARY)["file"])
