"""The report's value-of-information section (experiments/report/voi.py), end to end: a tiny PSA
sweep (2 strategies, 8 parameter draws, 60 graduates, 30 weeks) through the loader, the section
and the report; a sweep that drew no parameters gets no section."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from experiments.report import build as report
from experiments.report import voi as report_voi
from experiments.analyses import voi

ROOT = Path(__file__).resolve().parents[2]
REPLICATES = 8
VOI_COLUMNS = {"measure", "name", "in_words", "parameters", "method", "wtp_gbp_per_qaly", "per_graduate_gbp",
               "se_gbp", "population_gbp", "draws", "graduates_per_year", "decision_years", "discount_rate_per_year"}


@pytest.fixture(scope="module")
def tiny_psa(tmp_path_factory) -> Path:
    sweep_dir = tmp_path_factory.mktemp("tiny_psa_voi")
    done = subprocess.run(
        [sys.executable, "-m", "experiments.run", "-m", "experiment=psa", f"replicates={REPLICATES}", "n_graduates=60",
         "weeks=30", "strategy=course_only,telephone", f"hydra.sweep.dir={sweep_dir}"],
        capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return sweep_dir


def test_the_loader_builds_the_psa_frame_from_a_sweep(tiny_psa):
    frame = voi.load_psa_frame(tiny_psa)
    assert len(frame) == 2 * REPLICATES
    assert set(frame["strategy"]) == {"course_only", "telephone"}
    params = voi.parameter_columns(frame)
    assert "dynamics.retention.decay_rate_per_week" in params and "costs.items.peer_call.value_gbp" in params
    # one set of draws per replicate, the same for both strategies, different between replicates
    # (a parameter every posterior row has, whatever its decay shape)
    per_rep = frame.groupby("replicate")["dynamics.course.immediate_gain_mean_sd"].nunique()
    assert (per_rep == 1).all()
    assert frame.drop_duplicates("replicate")["dynamics.course.immediate_gain_mean_sd"].nunique() == REPLICATES
    assert not frame[params].isna().any().any(), "every draw has a value for every parameter (0 where it does not act)"
    assert (frame["cost_gbp"] > 0).all()


def test_the_section_writes_voi_and_scenarios_csv_and_figures(tiny_psa, tmp_path):
    frame = voi.load_psa_frame(tiny_psa)
    fragment = report_voi.section(frame, tmp_path, samples=50)
    assert "What evidence would change the answer" in fragment
    table = pd.read_csv(tmp_path / "voi.csv")
    assert VOI_COLUMNS <= set(table.columns)
    assert {"EVPI", "EVPPI group", "EVPPI parameter"} == set(table["measure"])
    assert {20_000, 30_000} <= set(table["wtp_gbp_per_qaly"])
    assert (table["per_graduate_gbp"] >= 0).all()
    boxes = pd.read_csv(tmp_path / "scenarios.csv")
    assert {"condition", "box", "coverage", "density", "mass", "parameter", "in_words", "low", "high",
            "wtp_gbp_per_qaly", "recommended"} <= set(boxes.columns)
    for name in ("g_evpi", "g_evppi", "g_study"):
        assert (tmp_path / "figures" / f"{name}.png").is_file() and (tmp_path / "figures" / f"{name}.svg").is_file()
    assert fragment.count("data:image/png;base64,") == 3
    # the study's cost is shown as an assumption
    assert "(assumed)" in fragment and "Assumptions of this section" in fragment


def test_a_psa_report_includes_the_section_and_its_files(tiny_psa):
    index = report.build(tiny_psa, reach_replicates=1)
    html = index.read_text(encoding="utf-8")
    assert "<h2 id='voi'>What evidence would change the answer</h2>" in html
    assert "href='#voi'" in html
    assert html.index("id='voi'") < html.index('id="assumptions"')
    for name in ("voi.csv", "scenarios.csv"):
        assert (index.parent / name).is_file()
    text = re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]*"', " ", html))
    assert "When the recommendation flips" in text


def test_no_section_for_a_sweep_that_drew_no_parameters(tmp_path):
    data = SimpleNamespace(is_psa=False)
    assert report_voi.sweep_section(data, tmp_path) == ""
    assert not (tmp_path / "voi.csv").exists()


def test_parameters_in_plain_words():
    assert report_voi.parameter_words("dynamics.telephone.effect.efficacy") == \
        "Share of the lost gain one answered call restores"
    assert report_voi.parameter_words("costs.items.gp_phone_consultation.value_gbp") == \
        "Unit cost: GP consultation by telephone"
    assert report_voi.parameter_words("posterior.some_new_thing") == "Some new thing"


def test_a_report_of_a_sweep_without_drawn_parameters_has_no_section(tmp_path):
    sweep_dir = tmp_path / "sweep"
    done = subprocess.run(
        [sys.executable, "-m", "experiments.run", "-m", "experiment=compare_strategies", "replicates=1",
         "n_graduates=40", "weeks=30", "strategy=course_only,telephone", f"hydra.sweep.dir={sweep_dir}"],
        capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    index = report.build(sweep_dir, reach_replicates=1)
    html = index.read_text(encoding="utf-8")
    assert "id='voi'" not in html and "What evidence would change the answer" not in html
    assert not (index.parent / "voi.csv").exists() and not (index.parent / "scenarios.csv").exists()
