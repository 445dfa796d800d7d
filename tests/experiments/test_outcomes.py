"""The outcome catalogue (experiments/outcomes.py): every weekly column of the model has one entry,
the readers take their lists from it, and summary.csv is in the units the console prints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import outcomes
from experiments.outputs import summarise
from experiments.sweeps.collect import SUMMARY_METRICS, spreadsheet_summary, summarise_runs
from sim.model import SelfManagementModel
from sim.params import ModelParams, ParameterError


@pytest.fixture(scope="module")
def weekly() -> pd.DataFrame:
    """The weekly table of a tiny run (every channel's columns are there, offered or not)."""
    return SelfManagementModel.from_params(ModelParams(n_graduates=60, weeks=3, seed=2)).run().weekly_table()


def test_every_weekly_column_has_one_entry_in_the_tables_order(weekly):
    # a new reporter (sim/reporters.py) or channel result without its catalogue entry fails here
    assert list(outcomes.weekly()) == list(weekly.columns)
    for o in outcomes.weekly().values():
        assert o.label and o.unit and o.aggregation, o.name
        assert {"weekly", "results"} <= set(o.tables)


def test_an_entry_refuses_a_direction_or_table_it_does_not_know():
    with pytest.raises(ValueError, match="direction"):
        outcomes.Outcome("x", "X", "GBP per graduate", direction="up")
    with pytest.raises(ValueError, match="tables"):
        outcomes.Outcome("x", "X", "GBP per graduate", tables=("nowhere",))
    with pytest.raises(KeyError, match="not a weekly outcome"):
        outcomes.get("share_happy")


def test_the_sweep_summarises_what_the_catalogue_marks():
    assert SUMMARY_METRICS == tuple(o.name for o in outcomes.summarised())
    assert {"share_self_managing", "mean_gain_sd", "cost_total_gbp", "qalys_gained"} <= set(SUMMARY_METRICS)
    names = [o.sheet_name for o in outcomes.summarised()]
    assert len(set(names)) == len(names)
    for o in outcomes.summarised():  # the unit is in the name: a share is a percentage
        assert o.sheet_name.endswith("_pct") == o.is_share
        assert o.sheet_name.endswith(("_pct", "_sd", "_gbp", "qalys_gained")), o.sheet_name


def test_a_runs_summary_json_holds_the_catalogues_run_summary_outcomes(weekly):
    written = summarise(weekly, 3)["outcomes"]["week_3"]
    assert list(written) == [o.name for o in outcomes.run_summary()]
    assert written["share_self_managing"] == weekly.loc[3, "share_self_managing"]


def _long_summary() -> pd.DataFrame:
    """summarise_runs on two strategies x three replicates with known values."""
    rows = []
    for replicate in range(3):
        for strategy, shift in (("course_only", 0.0), ("peer_group", 0.1)):
            rows.append({"strategy": strategy, "population": "p", "replicate": replicate, "seed": 10 + replicate,
                         "week": 52, **{m: 0.2 + shift + 0.01 * replicate for m in SUMMARY_METRICS}})
    return summarise_runs(pd.DataFrame(rows), [])


def test_summary_csv_is_one_row_per_strategy_and_week_in_the_consoles_units():
    long = _long_summary()
    sheet = spreadsheet_summary(long, [])
    assert list(sheet["strategy"]) == ["course_only", "peer_group"] and (sheet["n_runs"] == 3).all()
    assert set(sheet["diff_method"]) == {"paired"}
    peer = sheet.set_index("strategy").loc["peer_group"]
    share = long[(long["metric"] == "share_self_managing") & (long["strategy"] == "peer_group")].iloc[0]
    cost = long[(long["metric"] == "cost_total_gbp") & (long["strategy"] == "peer_group")].iloc[0]
    # a share as a percentage (as the console prints it), its difference in percentage points
    assert peer["self_managing_pct"] == pytest.approx(100 * share["mean"])
    assert peer["self_managing_pct_ci_high"] == pytest.approx(100 * share["ci_high"])
    assert peer["self_managing_pct_diff"] == pytest.approx(10.0)
    # money as it was
    assert peer["cost_total_gbp"] == cost["mean"] and peer["cost_total_gbp_diff"] == pytest.approx(0.1)
    assert "share_self_managing" not in sheet and "metric" not in sheet


def test_every_summary_csv_column_is_in_the_dictionary():
    sheet = spreadsheet_summary(_long_summary(), [])
    missing = [c for c in sheet.columns if outcomes.find("summary", c) is None]
    assert not missing
    pct = outcomes.find("summary", "self_managing_pct_diff")
    assert pct.unit == "percentage points" and outcomes.find("summary", "self_managing_pct").unit == "% of graduates"


def test_week_patterns_and_interval_columns_are_found_and_nothing_else():
    assert outcomes.find("report_summary", "gain_w26").column == "gain_w<week>"
    assert outcomes.find("report_summary", "dgain_w104_hi").column == "dgain_w<week>_hi"
    assert outcomes.find("report_summary", "gain_wx") is None
    assert outcomes.find("report_summary", "share_h_lo").label.endswith("lower end of the 95% interval")
    assert outcomes.find("results", "strategy.peer_group.interval_weeks") is None
    assert outcomes.find("results", "strategy.peer_group.interval_weeks",
                         ["strategy.peer_group.interval_weeks"]) is not None
    with pytest.raises(KeyError, match="table"):
        outcomes.columns("nowhere")


def test_sensitivity_refuses_an_output_the_catalogue_does_not_know():
    from experiments.analyses.sensitivity import check_outputs, output_title

    check_outputs(["share_self_managing", "cost_total_gbp"])
    with pytest.raises(ParameterError, match=r"sensitivity.outputs\[1\]"):
        check_outputs(["share_self_managing", "share_happy"])
    assert output_title("qalys_gained").startswith(outcomes.get("qalys_gained").label)


@pytest.mark.parametrize("report", ["main", "psa"])
def test_every_column_of_the_committed_reports_csvs_is_described(report):
    """The committed reports (docs/report: the main job's, and a PSA's with its value of information,
    tornado, expected loss, PRIM boxes, budget and economics) have no column the catalogue does not know."""
    d = outcomes.folder_dictionary(Path(__file__).resolve().parents[2] / "docs" / "report" / report, prefix="report/")
    assert {"budget_impact.csv", "economics_by_horizon.csv"} <= set(d["file"])
    if report == "psa":
        assert {"voi.csv", "tornado.csv", "expected_loss.csv", "scenarios.csv", "acceptability.csv"} <= set(d["file"])
    undescribed = d[d["description"].str.contains("not described")]
    assert undescribed.empty, undescribed[["file", "column"]].values.tolist()
    assert (d["label"] != "").all()


def test_the_folder_dictionary_describes_every_column_of_every_csv(tmp_path):
    pd.DataFrame({"arm": ["arm0"], "share_h": [0.5], "share_h_lo": [0.4], "mystery": [1]}).to_csv(
        tmp_path / "summary.csv", index=False)
    pd.DataFrame({"x": [np.nan]}).to_csv(tmp_path / "elsewhere.csv", index=False)
    d = outcomes.folder_dictionary(tmp_path, prefix="report/")
    assert list(d.columns) == list(outcomes.DICTIONARY_COLUMNS)
    assert list(d["file"]) == ["elsewhere.csv", *["summary.csv"] * 4]
    by = d.set_index(["file", "column"])
    assert by.loc[("summary.csv", "share_h"), "unit"] == "share of graduates"
    for unknown in (("summary.csv", "mystery"), ("elsewhere.csv", "x")):  # said, not invented
        assert "not described" in by.loc[unknown, "description"]
