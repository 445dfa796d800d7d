"""The report's value-of-information section (experiments/report/voi.py), end to end: a tiny PSA
sweep (2 strategies, 8 parameter draws, 60 graduates, 30 weeks) through the loader, the analysis'
files (experiments/analyses/decision.py), the section and the report with its acceptability
curves (probabilities that sum to 1); a sweep that drew no
parameters gets no section; the report imports nothing from experiments.analyses."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from in_process import sweep

from experiments.analyses import decision
from experiments.analyses import voi
from experiments.report import build as report
from experiments.report import data as report_data
from experiments.report import voi as report_voi
from experiments.report.__main__ import main as report_main

pytestmark = pytest.mark.slow  # builds sweeps or runs the reference engine: started first (conftest.py)

ROOT = Path(__file__).resolve().parents[2]
REPLICATES = 8
VOI_COLUMNS = {"measure", "name", "in_words", "parameters", "method", "wtp_gbp_per_qaly", "per_graduate_gbp",
               "se_gbp", "population_gbp", "draws", "graduates_per_year", "decision_years", "discount_rate_per_year"}


@pytest.fixture(scope="module")
def tiny_psa(tmp_path_factory) -> Path:
    return sweep(tmp_path_factory.mktemp("tiny_psa_voi"), "experiment=psa", f"replicates={REPLICATES}",
                 "n_graduates=60", "weeks=30", "strategy=course_only,telephone")


def test_the_loader_builds_the_psa_frame_from_a_sweep(tiny_psa):
    frame = decision.psa_frame(tiny_psa)
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


@pytest.fixture(scope="module")
def analysed(tiny_psa, tmp_path_factory) -> tuple[Path, str]:
    """The decision analysis of the tiny PSA (50 samples): its folder and the population analysed."""
    folder = tmp_path_factory.mktemp("voi")
    (population,) = decision.analyse_sweep(tiny_psa, folder, samples=50)
    return folder, population


def test_the_section_writes_voi_and_scenarios_csv_and_figures(analysed, tmp_path):
    folder, population = analysed
    for name in ("voi.csv", "scenarios.csv", "evpi_curve.csv", "evpi_by_horizon.csv"):
        assert (folder / population / name).is_file()
    fragment = report_voi.section(report_voi.read(folder, population), tmp_path)
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


def test_the_analysis_files_give_the_report_the_numbers_computed_directly(tiny_psa, analysed):
    folder, population = analysed
    (frame_population, frame), = decision.psa_frames(tiny_psa).items()
    assert frame_population == population
    direct = decision.compute(frame, samples=50)
    read = report_voi.read(folder, population)
    # a CSV cannot tell an empty text from a missing one: the EVPI rows name no parameters
    pd.testing.assert_frame_equal(read.table.drop(columns="in_words").fillna({"parameters": ""}), direct.table,
                                  check_dtype=False)
    pd.testing.assert_frame_equal(read.curve, direct.curve, check_dtype=False)
    pd.testing.assert_frame_equal(read.by_horizon, direct.by_horizon, check_dtype=False)
    if len(direct.boxes):
        pd.testing.assert_frame_equal(read.boxes.drop(columns="in_words"), direct.boxes, check_dtype=False)
    assert (read.labels, read.recommended, read.share_best, read.draws, read.rivals) == \
        (direct.labels, direct.recommended, direct.share_best, direct.draws, direct.rivals)
    assert read.assumptions["graduates_per_year"] == voi.GRADUATES_PER_YEAR
    assert read.assumptions["population_graduates"] == pytest.approx(voi.population_graduates())
    # the frame the analysis builds from the runs' files is the loader's, but for its own labels and
    # the drawn values as drawn
    loaded = decision.psa_frame(tiny_psa).sort_values(["replicate", "strategy"], ignore_index=True)
    mine = frame.sort_values(["replicate", "strategy"], ignore_index=True)
    pd.testing.assert_frame_equal(mine[["replicate", "strategy", "cost_gbp", "qalys"]],
                                  loaded[["replicate", "strategy", "cost_gbp", "qalys"]])


@pytest.fixture(scope="module")
def psa_report(tiny_psa) -> Path:
    """The report of the tiny PSA, made by the command (the decision analysis first); its index.html."""
    assert report_main([str(tiny_psa)]) == 0
    return tiny_psa / "report" / "index.html"


def test_a_psa_report_includes_the_section_and_its_files(tiny_psa, psa_report):
    assert (tiny_psa / "voi" / "decision.json").is_file() and not decision.is_stale(tiny_psa)
    index = psa_report
    html = index.read_text(encoding="utf-8")
    assert "<h2 id='voi'>What evidence would change the answer</h2>" in html
    assert "href='#voi'" in html
    assert html.index("id='voi'") < html.index('id="assumptions"')
    for name in ("voi.csv", "scenarios.csv"):
        assert (index.parent / name).is_file()
    text = re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]*"', " ", html))
    assert "When the recommendation flips" in text


def test_a_psa_report_adds_acceptability_curves_that_sum_to_one(tiny_psa, psa_report):
    html = psa_report.read_text(encoding="utf-8")
    assert 'id="fig-f_acceptability"' in html and "PSA distribution" in html
    assert (psa_report.parent / "figures" / "f_acceptability.svg").is_file()
    curves = pd.read_csv(psa_report.parent / "acceptability.csv")
    probs = curves.drop(columns=["wtp_gbp_per_qaly", "population"])
    assert probs.shape[1] == 2  # course only and telephone
    assert ((probs >= 0) & (probs <= 1)).all().all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert curves["wtp_gbp_per_qaly"].iloc[0] == 0 and {20_000, 30_000} <= set(curves["wtp_gbp_per_qaly"])
    # the PSA draws differ between replicates and are the same across the strategies of one
    data = report_data.load(tiny_psa)
    assert data.is_psa and len(data.psa_draws) == REPLICATES
    assert data.psa_draws["dynamics.course.immediate_gain_mean_sd"].nunique() == REPLICATES  # in every posterior row


def test_a_psa_report_without_the_analysis_says_how_to_make_it(tiny_psa, tmp_path, capsys):
    sweep_dir = tmp_path / "psa"
    shutil.copytree(tiny_psa, sweep_dir, ignore=shutil.ignore_patterns("voi", "report"))
    index = report.build(sweep_dir)
    html = index.read_text(encoding="utf-8")
    assert "python -m experiments.analyses.decision" in html and "python -m experiments.analyses.decision" in capsys.readouterr().err
    assert not (index.parent / "voi.csv").exists()


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
    sweep_dir = sweep(tmp_path / "sweep", "experiment=compare_strategies", "replicates=1", "n_graduates=40",
                      "weeks=30", "strategy=course_only,telephone")
    index = report.build(sweep_dir)
    html = index.read_text(encoding="utf-8")
    assert "id='voi'" not in html and "What evidence would change the answer" not in html
    assert not (index.parent / "voi.csv").exists() and not (index.parent / "scenarios.csv").exists()


def test_a_box_in_plain_words():
    rows = pd.DataFrame([
        {"condition": "c", "box": 1, "coverage": 0.84, "density": 0.91, "mass": 0.23, "draws_in_box": 46,
         "cases_in_box": 42, "cases": 50, "draws": 200, "base_rate": 0.25, "parameter": "eff", "low": 0.31,
         "high": 0.9, "range_low": 0.0, "range_high": 0.9, "quasi_p": 0.001},
        {"condition": "c", "box": 1, "coverage": 0.84, "density": 0.91, "mass": 0.23, "draws_in_box": 46,
         "cases_in_box": 42, "cases": 50, "draws": 200, "base_rate": 0.25, "parameter": "cost", "low": 5.0,
         "high": 12.0, "range_low": 5.0, "range_high": 30.0, "quasi_p": 0.01},
    ])
    text = report_voi.describe_box(rows, {"eff": "the share of the lost gain one call restores"})
    assert text.startswith("mostly when the share of the lost gain one call restores is above 0.31 and cost is below 12")
    assert "42 of the 50 draws" in text and "84% coverage" in text and "91% of draws" in text and "23% of all" in text


def test_the_report_imports_nothing_from_the_analyses():
    """Issue 14: the report reads outputs only; its entry point (__main__) is the roof and may."""
    package = ROOT / "experiments" / "report"
    for path in sorted(package.glob("*.py")):
        if path.name == "__main__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            bad = [n for n in names if n == "experiments.analyses" or n.startswith("experiments.analyses.")]
            assert not bad, f"{path.name}:{node.lineno} imports {bad[0]}"
