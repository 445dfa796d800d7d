"""A new weekly measure reaches every floor with no edit outside its own files (issue 23, item 3).

The toy outcome is tests/experiments/toy_outcome/toy_flaring.py: the share of graduates with a
flare-up this week, one reporter and one catalogue entry registered on import through
``experiments.outcomes.register_outcome`` (the module named in ``AFTER_THE_COURSE_OUTCOMES``,
sim/reporters.py). It is registered with the toy "buddy" channel of test_toy_channel.py (its module
through ``AFTER_THE_COURSE_CHANNELS``, its strategy config through ``--config-dir``), as the issue asks.

One subprocess (the registries are read once per interpreter) runs a single run, a batch, a small
sweep of course only and the buddy (2 replicates of 120 graduates over 12 weeks), builds the report,
writes the data dictionary and renders the dashboard's page and steps it, and prints what it saw.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from test_toy_channel import write_toy_channel

ROOT = Path(__file__).resolve().parents[2]
TOY_DIR = Path(__file__).resolve().parent / "toy_outcome"
COLUMN = "share_flaring"

DRIVER = r'''
import json, sys
from pathlib import Path

sys.path.insert(0, str(Path("tests/experiments").resolve()))
from in_process import run_command, sweep

out, config_dir = Path(sys.argv[1]), sys.argv[2]
seen = {}

# a run (weekly.parquet, weekly.csv, summary.json)
seen["run"] = run_command("--config-dir", config_dir, "strategy=buddy", "n_graduates=100", "weeks=12", "seed=3",
                          "outputs.csv=true", f"hydra.run.dir={out / 'run'}")

# a batch: each run's value is the one it has alone
import dataclasses
from sim import SelfManagementModel
from sim.batched import run_batch
from sim.params import ModelParams
p = ModelParams(n_graduates=100, weeks=6)
seen["batch"] = [v.datacollector.model_vars["share_flaring"] for v in run_batch(p, seeds=[1, 2])]
seen["alone"] = [SelfManagementModel.from_params(dataclasses.replace(p, seed=s)).run()
                 .datacollector.model_vars["share_flaring"] for s in (1, 2)]

# a sweep (results.parquet, summary.csv, dictionary.csv) and its report
sweep(out / "sweep", "--config-dir", config_dir, "strategy=course_only,buddy", "replicate=0,1",
      "n_graduates=120", "weeks=12", "outputs.csv=false", "outputs.graduates=false", "outputs.plot=false")
from experiments.report.__main__ import main as report
seen["report"] = report([str(out / "sweep")])

# the catalogue and the generated data dictionary
from experiments import outcomes
seen["weekly_last"] = list(outcomes.weekly())[-1]
seen["summarised"] = [o.name for o in outcomes.summarised()]
seen["run_summary"] = [o.name for o in outcomes.run_summary()]
(out / "data-dictionary.md").write_text(outcomes.markdown(), encoding="utf-8")

# the dashboard: its model records the toy, and its page renders and steps with it
from experiments.dashboard import app
model = app.DashboardModel(n_graduates=100, weeks=6, seed=5)
for _ in range(3):
    model.step()
seen["dashboard_model"] = model.datacollector.model_vars["share_flaring"]
seen["dashboard_flare_ups"] = model.datacollector.model_vars["flare_ups"]

import ipywidgets, solara
import ipyvuetify as v

@solara.component
def Wrapped():
    with solara.AppLayout():
        app.make_page(n_graduates=100, weeks=6, seed=5)

box, rc = solara.render(Wrapped(), handle_error=False)
try:
    before = [w.value for w in rc.find(ipywidgets.Image).widgets]
    rc.find(v.Btn, children=["Step"]).widget.click()
    seen["page_week"] = bool(rc.find(children=["Week 1 of 6"]).widgets)
    after = [w.value for w in rc.find(ipywidgets.Image).widgets]
    seen["page_images"] = [len(before), sum(a != b for a, b in zip(before, after))]
finally:
    rc.close()
(out / "seen.json").write_text(json.dumps(seen))
'''


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> tuple[Path, dict]:
    """The toys' files, the run, batch, sweep, report and dashboard made with them, and what was seen."""
    base = tmp_path_factory.mktemp("toy_outcome")
    write_toy_channel(base)
    env = {**os.environ, "AFTER_THE_COURSE_CHANNELS": "toy_buddy", "AFTER_THE_COURSE_OUTCOMES": "toy_flaring",
           "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join([str(base / "plugins"), str(TOY_DIR), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", DRIVER, str(base / "out"), str(base / "configs")],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return base / "out", json.loads((base / "out" / "seen.json").read_text())


@pytest.mark.slow
def test_a_run_records_the_toy_last_in_its_weekly_tables_and_summary(toy):
    out, seen = toy
    assert seen["run"] == 0 and (out / "run" / "manifest.json").is_file()
    weekly = pd.read_parquet(out / "run" / "weekly.parquet")
    assert list(weekly.columns)[-1] == COLUMN  # after every built-in column: theirs keep their places
    assert "buddy_enrolled_share" in weekly.columns  # the toy channel is there too
    # the reporter is what it says: this week's flare-ups over the graduates, every week
    assert (weekly[COLUMN] == weekly["flare_ups"] / 100).all() and weekly[COLUMN].iloc[1:].gt(0).any()
    csv = pd.read_csv(out / "run" / "weekly.csv")
    assert list(csv.columns) == list(weekly.columns) and csv[COLUMN].tolist() == pytest.approx(weekly[COLUMN].tolist())
    summary = json.loads((out / "run" / "summary.json").read_text())
    assert summary["outcomes"]["week_12"][COLUMN] == weekly.set_index("week").loc[12, COLUMN]  # run_summary=True


@pytest.mark.slow
def test_each_run_of_a_batch_reports_its_own_value(toy):
    _, seen = toy
    assert seen["batch"] == seen["alone"] and seen["batch"][0] != seen["batch"][1]


@pytest.mark.slow
def test_a_sweep_has_the_toy_in_results_and_summary_described_by_its_dictionary(toy):
    out, seen = toy
    results = pd.read_parquet(out / "sweep" / "results.parquet")
    assert COLUMN in results.columns and results["strategy"].nunique() == 2 and len(results["run_id"].unique()) == 4
    assert results[COLUMN].notna().all()
    summary = pd.read_csv(out / "sweep" / "summary.csv")  # summary=True: mean, interval and difference
    assert {"flaring_pct", "flaring_pct_ci_low", "flaring_pct_diff"} <= set(summary.columns)
    runs = results[results["week"] == 12].groupby("strategy")[COLUMN].mean() * 100
    by_strategy = summary.set_index("strategy")["flaring_pct"]
    assert by_strategy["buddy"] == pytest.approx(runs["buddy"]) and by_strategy["course_only"] == pytest.approx(
        runs["course_only"])
    dictionary = pd.read_csv(out / "sweep" / "dictionary.csv")
    row = dictionary[(dictionary["file"] == "summary.csv") & (dictionary["column"] == "flaring_pct")].iloc[0]
    assert row["label"] == "Had a flare-up this week: mean over replicates" and row["unit"] == "% of graduates"
    undescribed = dictionary[dictionary["description"].str.startswith("not described", na=False)]
    assert undescribed.empty, undescribed
    assert COLUMN in seen["summarised"] and COLUMN in seen["run_summary"] and seen["weekly_last"] == COLUMN


@pytest.mark.slow
def test_the_data_dictionary_describes_the_toy_with_its_label_and_unit(toy):
    out, _ = toy
    text = (out / "data-dictionary.md").read_text(encoding="utf-8")
    row = "| `share_flaring` | Had a flare-up this week | share of graduates | lower is better |"
    assert text.count(row) == 2  # the weekly table and results.parquet
    assert "| `flaring_pct_diff` | Had a flare-up this week: difference from course only" in text
    assert "share_flaring" not in (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_report_builds_with_the_toy_and_describes_every_column(toy):
    out, seen = toy
    assert seen["report"] == 0
    report = out / "sweep" / "report"
    assert (report / "index.html").is_file() and "Buddy support" in (report / "index.html").read_text()
    # the report shows no weekly measure but those it names (the catalogue's timepoints: gain and
    # share self-managing); the toy is not in its tables, and every column of its summary is described
    assert COLUMN not in pd.read_csv(report / "summary.csv").columns
    dictionary = pd.read_csv(report / "dictionary.csv")
    assert not dictionary[dictionary["file"] == "summary.csv"]["description"].str.startswith(
        "not described", na=False).any()
    assert not dictionary["column"].str.contains("flaring").any()


@pytest.mark.slow
def test_the_dashboard_records_the_toy_and_its_page_steps(toy):
    _, seen = toy
    assert seen["dashboard_model"] == [f / 100 for f in seen["dashboard_flare_ups"]]
    assert len(seen["dashboard_model"]) == 4  # week 0 and three steps
    assert seen["page_week"] and seen["page_images"][0] == 6 and seen["page_images"][1] == 6


def test_without_the_variable_the_weekly_table_and_catalogue_have_no_toy():
    """The hook adds nothing unless asked: this process names no module (the dictionary in docs/ and
    the bit-for-bit record of tests/sim/test_weekly_record.py stay as they were)."""
    from experiments import outcomes
    from sim.reporters import EXTRA_OUTCOMES_VARIABLE, extra_reporters, weekly_columns

    assert EXTRA_OUTCOMES_VARIABLE not in os.environ or not os.environ[EXTRA_OUTCOMES_VARIABLE]
    assert extra_reporters() == {} and COLUMN not in weekly_columns([])
    assert list(outcomes.weekly())[-1] == "qalys_gained"


def test_registering_checks_what_it_is_given(monkeypatch):
    """A reporter under a taken name, an entry that is not weekly, or a reporter without an entry fail
    clearly, naming what to do (the registries are restored afterwards)."""
    from experiments import outcomes
    from sim import reporters

    monkeypatch.setattr(reporters, "_EXTRA_REPORTERS", {})
    monkeypatch.setattr(outcomes, "_REGISTERED", {})
    try:
        entry = outcomes.Outcome("share_toy_check", "A check", "share of graduates")
        outcomes.register_outcome(lambda m: 0.5, entry)
        assert list(outcomes.weekly())[-1] == "share_toy_check"
        assert reporters.weekly_columns([])[-1] == "share_toy_check"
        with pytest.raises(ValueError, match="already registered"):
            reporters.register_reporter("share_toy_check", lambda m: 0.1)
        with pytest.raises(ValueError, match="tables must hold 'weekly'"):
            outcomes.register_outcome(lambda m: 0.0, outcomes.Outcome("toy_report", "x", "y", tables=("summary",)))
        reporters.register_reporter("share_toy_bare", lambda m: 0.2)
        with pytest.raises(ValueError, match=r"\['share_toy_bare'\] were registered .* no catalogue entry"):
            outcomes.catalogue()
    finally:
        monkeypatch.undo()
    assert COLUMN not in outcomes.weekly() and "share_toy_check" not in outcomes.weekly()


def test_a_module_named_that_registers_nothing_or_cannot_be_imported_is_refused(tmp_path):
    (tmp_path / "toy_empty.py").write_text("x = 1\n", encoding="utf-8")
    check = ("from sim.reporters import extra_reporters\n"
             "try:\n    extra_reporters()\n"
             "except (ImportError, TypeError) as err:\n    print(type(err).__name__, err)\n")
    for module, expected in (("toy_empty", "TypeError AFTER_THE_COURSE_OUTCOMES names the module 'toy_empty', "
                                           "which registers no weekly reporter"),
                             ("toy_missing", "ImportError AFTER_THE_COURSE_OUTCOMES names the module 'toy_missing', "
                                             "which cannot be imported")):
        env = {**os.environ, "AFTER_THE_COURSE_OUTCOMES": module,
               "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
        done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT, env=env,
                              timeout=120)
        assert done.returncode == 0 and done.stdout.startswith(expected), done.stdout + done.stderr


def test_the_toy_needed_no_edit_outside_its_own_files():
    """Nothing of the project's source or docs names the toy: it reached every floor through the hook."""
    for folder in ("sim", "experiments", "configs", "hydra_plugins", "docs"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".yaml", ".md") and path.is_file():
                text = path.read_text(encoding="utf-8").lower()
                assert "flaring" not in text and "toy_flaring" not in text, path
