"""The report's value-of-information section (experiments/report/voi.py), end to end: a tiny PSA
sweep (2 strategies, 8 parameter draws, 60 graduates, 30 weeks) through the loader, the analysis'
files (experiments/analyses/decision.py), the section and the report with its acceptability
curves (probabilities that sum to 1); a sweep that drew no
parameters gets no section; the report imports nothing from experiments.analyses. Issue 26: no
EVPPI above the EVPI in voi.csv, every group's estimate with its SE and verdict in the section, and
each parameter PRIM names shown with its EVPPI and, where that may be 0, why."""

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
    for name in ("voi.csv", "scenarios.csv", "evpi_curve.csv", "evpi_by_horizon.csv", "expected_loss.csv",
                 "tornado.csv"):
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
    for name in ("g_evpi", "g_evppi", "g_study", "g_expected_loss", "g_tornado"):
        assert (tmp_path / "figures" / f"{name}.png").is_file() and (tmp_path / "figures" / f"{name}.svg").is_file()
    assert fragment.count("data:image/png;base64,") == 5
    assert "What each choice would lose" in fragment and "What moves the lead" in fragment
    # the lowest expected loss at GBP 20,000 is the EVPI there, as the section's table says
    loss = pd.read_csv(tmp_path / "expected_loss.csv")
    at = loss[loss["wtp_gbp_per_qaly"] == 20_000]
    evpi = table[(table["measure"] == "EVPI") & (table["wtp_gbp_per_qaly"] == 20_000)]["per_graduate_gbp"].item()
    assert at["expected_loss_gbp"].min() == pytest.approx(evpi, abs=1e-6)
    tornado = pd.read_csv(tmp_path / "tornado.csv")
    assert (tornado["swing_gbp"].abs().diff().dropna() <= 1e-9).all()  # largest swing first
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
    # the report numbers its sections (experiments/report/build.py); the section keeps its id
    assert re.search(r"<h2 id='voi'>(\d+\. )?What evidence would change the answer</h2>", html)
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


# --- issue 26: every estimate with its SE, "not distinguishable from 0", PRIM and EVPPI reconciled --------


def test_the_voi_csv_never_has_an_evppi_above_the_evpi_and_says_which_may_be_0(analysed, tmp_path):
    folder, population = analysed
    res = report_voi.read(folder, population)
    fragment = report_voi.section(res, tmp_path)
    table = pd.read_csv(tmp_path / "voi.csv")
    assert {"distinguishable_from_0", "capped_at_evpi", "uncapped_gbp", "shrinkage"} <= set(table.columns)
    for w, rows in table.groupby("wtp_gbp_per_qaly"):
        evpi = rows.loc[rows["measure"] == "EVPI", "per_graduate_gbp"].iloc[0]
        assert (rows.loc[rows["measure"] != "EVPI", "per_graduate_gbp"] <= evpi).all(), w
    assert (table["distinguishable_from_0"] == (table["per_graduate_gbp"] > voi.Z95 * table["se_gbp"])).all()
    # every group's estimate is in the section's table with its standard error and its verdict
    groups = table[(table["measure"] == "EVPPI group") & table["wtp_gbp_per_qaly"].isin(report_voi.THRESHOLDS)]
    block = fragment[fragment.index("id='voi-groups'"):]
    block = block[:block.index("</table>")]
    for r in groups.itertuples():
        assert report_voi.html.escape(r.name) in block
        assert f"{report_voi.gbp(r.per_graduate_gbp, 2)} ± {report_voi.gbp(r.se_gbp, 2)}" in block
    verdicts = re.findall(r"<td>(above 0|not distinguishable from 0|capped at[^<]*|exactly 0[^<]*|0: these[^<]*)</td>",
                          block)
    assert len(verdicts) == len(groups)
    exact = (groups["per_graduate_gbp"] == 0) & (groups["se_gbp"] < report_voi.EXACT_GBP)
    assert verdicts.count(report_voi.EXACTLY_0) + verdicts.count(report_voi.NOTHING_PREDICTED) == int(exact.sum())
    assert verdicts.count("not distinguishable from 0") == int((~groups["distinguishable_from_0"]
                                                                & ~groups["capped_at_evpi"] & ~exact).sum())
    # the lead gives the EVPI at both thresholds with its standard error
    lead = fragment[:fragment.index("<figure")]
    assert lead.count("standard error") + lead.count(report_voi.EXACTLY_0) == 2


def _voi_results(boxes: pd.DataFrame, table_rows: list[dict]) -> report_voi.VoiResults:
    table = pd.DataFrame(table_rows)
    return report_voi.VoiResults(table, pd.DataFrame(), boxes, pd.DataFrame(),
                                 {"offer_all": "All three, free choice", "peer_group": "Peer groups"},
                                 {20_000.0: "offer_all", 30_000.0: "offer_all"}, {20_000.0: 0.9, 30_000.0: 0.9}, 200,
                                 {}, {"min_cases": 5})


def test_each_parameter_prim_names_is_shown_with_its_evppi_and_why_it_may_be_0():
    """A parameter PRIM names whose EVPPI is clearly above 0 is said to agree; one whose EVPPI may be 0
    is explained by its box: how many draws it holds and what net benefit is at stake there."""
    def evppi(name, w, value, se):
        return {"measure": "EVPPI parameter", "name": name, "wtp_gbp_per_qaly": w, "per_graduate_gbp": value,
                "se_gbp": se, "distinguishable_from_0": value > voi.Z95 * se, "capped_at_evpi": False}

    def box(condition, number, parameter, draws_in_box, gain, value, best="Peer groups"):
        return {"condition": condition, "box": number, "parameter": parameter, "low": 0.0, "high": 0.12,
                "range_low": 0.0, "range_high": 0.3, "coverage": 0.6, "density": 0.7, "mass": draws_in_box / 200,
                "draws_in_box": draws_in_box, "cases_in_box": 9, "cases": 15, "draws": 200, "base_rate": 0.075,
                "wtp_gbp_per_qaly": 20_000.0, "recommended": "All three, free choice", "best_in_box": best,
                "nb_gain_in_box_gbp": gain, "value_of_knowing_box_gbp": value}

    efficacy, cost, attend = ("dynamics.peer_group.effect.efficacy", "costs.items.peer_call.value_gbp",
                              "dynamics.peer_group.attend_intercept")
    boxes = pd.DataFrame([box("Peer groups is the best choice", 1, efficacy, 12, 25.0, 0.6),
                          box("Peer groups is the best choice", 1, cost, 12, 25.0, 0.6),
                          box("Peer groups beats Telephone", 1, attend, 30, 0.0, 0.0, best="All three, free choice")])
    rows = [evppi(efficacy, 20_000.0, 0.27, 1.01), evppi(cost, 20_000.0, 4.0, 0.5), evppi(attend, 20_000.0, 0.0, 0.0)]
    res = _voi_results(boxes, rows)
    items = {(i["wtp_gbp_per_qaly"], i["parameter"]): i for i in report_voi.prim_and_evppi(res)}
    assert set(items) == {(20_000.0, efficacy), (20_000.0, cost), (20_000.0, attend)}
    weak = items[(20_000.0, efficacy)]["words"]
    assert "£0.27" in weak and "standard error £1.01" in weak and "not distinguishable from 0" in weak
    assert "12 of the 200 draws (6%)" in weak and "£25.00" in weak and "£0.60" in weak
    assert "agree" not in weak
    strong = items[(20_000.0, cost)]["words"]
    assert "£4.00" in strong and "agree" in strong and "not distinguishable" not in strong
    flat = items[(20_000.0, attend)]["words"]
    assert "still has the higher net benefit on average" in flat and "30 of the 200 draws" in flat
    fragment = report_voi._prim_evppi_html(res)
    assert "id='voi-prim'" in fragment and fragment.count("<li>") == 3
    # no box, nothing to reconcile
    assert report_voi._prim_evppi_html(_voi_results(boxes.iloc[:0], rows)) == ""


def test_the_report_reconciles_every_parameter_prim_names(psa_report):
    """End to end: for every parameter in the report's scenarios.csv, at its threshold, the section
    shows its EVPPI, and a reason where that is not distinguishable from 0."""
    html = psa_report.read_text(encoding="utf-8")
    boxes = pd.read_csv(psa_report.parent / "scenarios.csv")
    table = pd.read_csv(psa_report.parent / "voi.csv")
    for (w, p), _ in boxes.groupby(["wtp_gbp_per_qaly", "parameter"]):
        row = table[(table["measure"] == "EVPPI parameter") & (table["name"] == p) & (table["wtp_gbp_per_qaly"] == w)]
        words = report_voi.html.escape(report_voi._lower_first(report_voi.parameter_words(p)))
        assert f"PRIM names {words}; learning it alone would be worth {report_voi.gbp(row['per_graduate_gbp'].iloc[0], 2)}" in html
    if len(boxes):
        assert "id='voi-prim'" in html
    assert {"best_in_box", "nb_gain_in_box_gbp", "value_of_knowing_box_gbp"} <= set(boxes.columns)


def test_an_exact_0_is_told_from_an_uncertain_one():
    """0 with no standard error is exactly 0: because the decision is never in doubt (the EVPI is 0
    too) or because the parameters predict nothing (the EVPI is not); 0 with a standard error may be
    more, and 0.27 with SE 1.01 is not distinguishable from 0."""
    assert report_voi._zero_words(0.0, 0.0, 0.0) == report_voi.EXACTLY_0
    assert report_voi._zero_words(0.0, 0.0, 12.5) == report_voi.NOTHING_PREDICTED
    assert report_voi._zero_words(0.0, 0.13, 12.5) is None and report_voi._zero_words(0.27, 0.0, 12.5) is None
    assert report_voi._judged(0.27, 1.01, False, evpi=12.5) == "£0.27 (standard error £1.01; not distinguishable from 0)"
    assert report_voi._judged(3.0, 0.5, True, capped=True, evpi=3.0) == \
        "£3.00 (standard error £0.50; capped at the value of perfect information on everything)"


def test_no_box_with_enough_draws_is_not_called_too_few():
    """Another strategy best in 20 of 200 draws, and no PRIM box: the words say the draws are spread
    over the parameters, not that there are too few of them (at least 5 are needed); with 3 they do."""
    boxes = pd.DataFrame(columns=["wtp_gbp_per_qaly", "condition", "box", "parameter"])
    res = _voi_results(boxes, [])
    text = report_voi._flips_html(res)
    assert "best in 20 draws" in text and "finds no range" in text and "too few" not in text
    res.share_best = {20_000.0: 1 - 3 / 200, 30_000.0: 1 - 3 / 200}
    assert "too few" in report_voi._flips_html(res)
