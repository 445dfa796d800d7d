"""The report for commissioners (experiments/report/build.py): every section is present in a report built
from a tiny sweep, the numbers agree with hand-worked cases, names are plain words, and index.html
opens in headless Chromium without console errors with every image loaded. A PSA's report (its
acceptability curves and value of information) is tested in test_report_voi.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from in_process import sweep

from experiments.report import build as report
from experiments.report import data as report_data
from experiments.outputs import write_manifest
from experiments.labels import OKABE_ITO
from experiments.labels import STRATEGY_COLOURS, gbp, strategy_description, strategy_label

pytestmark = pytest.mark.slow  # builds sweeps or runs the reference engine: started first (conftest.py)

ROOT = Path(__file__).resolve().parents[2]
STRATEGIES = ("no_course", "course_only", "peer_group", "telephone", "online", "offer_all", "tailored")
FIGURES = ("a_self_managing", "a_thresholds", "b_gains", "c_subgroups", "d_engagement", "e_costs", "f_ce_plane")
CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A tiny compare_strategies sweep (2 replicates of 80 graduates over 56 weeks) and its report,
    written by the command line."""
    sweep_dir = tmp_path_factory.mktemp("tiny_sweep")
    sweep(sweep_dir, "experiment=compare_strategies", "replicates=2", "n_graduates=80", "weeks=56")
    done = subprocess.run([sys.executable, "-m", "experiments.report", str(sweep_dir)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    index = sweep_dir / "report" / "index.html"
    assert str(index.resolve()) in done.stdout  # it says where the report is
    return sweep_dir


def run_dir(sweep_dir: Path, strategy: str, replicate: int) -> Path:
    """The folder of one run of a sweep (named by all its overrides)."""
    for summary in (sweep_dir / "runs").glob("*/summary.json"):
        s = json.loads(summary.read_text())
        if s["strategy"] == strategy and s["replicate"] == replicate:
            return summary.parent
    raise FileNotFoundError(f"no run of {strategy}, replicate {replicate} in {sweep_dir}")


def page(sweep_dir: Path) -> str:
    return (sweep_dir / "report" / "index.html").read_text(encoding="utf-8")


def visible_text(html: str) -> str:
    """The page's words as a reader sees them, leaving out code (config keys shown on purpose) and
    the file names of the figures."""
    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    html = re.sub(r"<code>.*?</code>", " ", html, flags=re.S)
    html = re.sub(r"<span class='files'>.*?</span>", " ", html, flags=re.S)
    html = re.sub(r'src="data:[^"]*"', " ", html)
    return re.sub(r"<[^>]+>", " ", html)


# --- the report of a tiny sweep ------------------------------------------------------------------


def test_every_section_is_present(tiny):
    html = page(tiny)
    assert "The answer in brief" in html
    for anchor in ("summary", "a0", "b0", "c0", "d0", "e0", "f0", "assumptions"):
        assert f"id='{anchor}'" in html or f'id="{anchor}"' in html, anchor
    for name in FIGURES:
        assert f'id="fig-{name}"' in html, name
    # (g) summary table in plain words, with every column a commissioner asked for
    for words in ("Extra self-managers per 100 graduates at 12 months", "Cost of support per graduate",
                  "Cost per extra person still self-managing", "ICER",
                  "Net monetary benefit per graduate, over", "at £20,000 / £30,000 per QALY",
                  "Each strategy in plain words"):
        assert words in html, words
    # the efficiency frontier under the plane; no acceptability curve without a PSA, and it says so
    assert "Step by step from the cheapest option" in html
    assert 'id="fig-f_acceptability"' not in html and "experiment=psa" in html
    # (h) assumptions: every cost item with its price year, marked as assumption or not
    assert "Unit costs (GBP), inflated to 2024 prices" in html and "Key parameters" in html
    for item in ("course_per_participant", "gp_surgery_consultation", "peer_call", "moderator_per_hour"):
        assert f"costs.items.{item}" in html
    assert html.count(">Assumption<") >= 10 and "Sourced" in html
    assert "2010" in html and "2013" in html and "£582.77" in html  # the course, inflated from 2010
    # (i) provenance: config hash, seeds, package version, date
    summary = json.loads((run_dir(tiny, "telephone", 0) / "summary.json").read_text())
    footer = html[html.index("<footer>"):]
    assert summary["config_hash"] in footer
    assert "base seed 1" in footer and "2 replicates" in footer
    assert f"after-the-course {summary['package_version']}" in footer
    assert re.search(r"Report written</dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d", footer)
    assert str(tiny.resolve()) not in html, "a report never shows a machine's absolute path"


def test_figures_are_written_as_png_and_svg_and_embedded(tiny):
    html = page(tiny)
    figures = tiny / "report" / "figures"
    for name in FIGURES:
        png, svg = figures / f"{name}.png", figures / f"{name}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        ET.parse(svg)  # a well-formed SVG
    images = re.findall(r'<img src="([^"]+)" alt="([^"]*)"', html)
    assert len(images) == len(FIGURES)
    assert all(src.startswith("data:image/png;base64,") for src, _ in images)
    # self-contained: nothing is fetched from elsewhere
    assert not re.search(r'(src|href)="(?!data:|#)', html)
    assert "http://" not in html and "https://" not in html
    # every title states a finding: it carries a number
    for _, alt in images:
        assert re.search(r"\d", alt), alt


def test_strategy_names_are_plain_words_never_config_keys(tiny):
    text = visible_text(page(tiny))
    for key in ("course_only", "peer_group", "offer_all", "strategy=", "_gbp", "_sd"):
        assert key not in text, key
    assert "tailored" not in text
    for label in ("Course only", "Peer support group, fortnightly", "Telephone support, fortnightly",
                  "Online group", "All three, free choice", "All three, matched to each person"):
        assert label in text, label


def test_each_strategy_keeps_its_colour_in_every_figure(tiny):
    data = report_data.load(tiny)
    assert {a.strategy: a.colour for a in data.arms} == {s: STRATEGY_COLOURS[s] for s in STRATEGIES}
    assert set(STRATEGY_COLOURS.values()) - {"#999999"} <= set(OKABE_ITO)  # colour-blind safe (and grey)
    for name in ("a_self_managing", "b_gains", "f_ce_plane"):
        svg = (tiny / "report" / "figures" / f"{name}.svg").read_text().lower()
        for s in STRATEGIES[2:]:
            assert STRATEGY_COLOURS[s].lower() in svg, (name, s)


def test_summary_csv_has_a_row_per_strategy_with_intervals(tiny):
    s = pd.read_csv(tiny / "report" / "summary.csv")
    assert sorted(s["strategy"]) == sorted(STRATEGIES)
    for col in ("extra_per_100_h", "extra_per_100_h_lo", "extra_per_100_h_hi", "cost_support_h", "cost_per_extra_h",
                "icer", "nmb_20000", "nmb_30000", "description"):
        assert col in s
    comp = s[s["strategy"] == "course_only"].iloc[0]
    assert comp["extra_per_100_h"] == 0 and comp["nmb_20000"] == 0


def test_the_report_command_rejects_a_folder_that_is_not_a_sweep(tmp_path):
    done = subprocess.run([sys.executable, "-m", "experiments.report", str(tmp_path)], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and "not a sweep folder" in done.stderr


# --- hand-worked numbers through the whole pipeline -----------------------------------------------


def test_icer_nmb_and_cost_per_extra_self_manager_agree_with_a_hand_worked_case(tiny, tmp_path):
    """Overwrite two strategies' costs, QALYs and outcomes with round numbers and read them back."""
    copy = tmp_path / "sweep"
    shutil.copytree(tiny, copy, ignore=shutil.ignore_patterns("report", "results.parquet"))
    runs = {(s, r): run_dir(copy, s, r) for s in ("course_only", "telephone") for r in (0, 1)}
    # per replicate: (cost at 12 months, discounted cost at the end, QALYs, share self-managing at 12 months)
    hand = {
        ("course_only", 0): (650.0, 700.0, 0.05, 0.5), ("course_only", 1): (650.0, 710.0, 0.06, 0.4),
        ("telephone", 0): (690.0, 760.0, 0.08, 0.7), ("telephone", 1): (710.0, 780.0, 0.08, 0.6),
    }
    for (strategy, rep), (c52, cost, qalys, share) in hand.items():
        path = runs[strategy, rep] / "weekly.parquet"
        w = pd.read_parquet(path)
        last = w.index[-1]
        w.loc[last, "cost_total_discounted_gbp"] = cost
        w.loc[last, "qalys_gained"] = qalys
        w.loc[w["week"] == 52, "cost_total_gbp"] = c52
        w.loc[w["week"] == 52, "share_self_managing"] = share
        w.to_parquet(path, index=False)
        # the run's outputs were changed on purpose: record them as its outputs again
        manifest = json.loads((path.parent / "manifest.json").read_text())
        write_manifest(path.parent, list(manifest["files"]), manifest["identity"])
    data = report_data.load(copy)
    s = report_data.arm_summary(data).set_index("strategy").loc["telephone"]
    # dCost 60 and 70 (mean 65); dQALY 0.03 and 0.02 (mean 0.025)
    assert s["dcost_disc"] == pytest.approx(65)
    assert s["dqaly"] == pytest.approx(0.025)
    assert s["icer"] == pytest.approx(65 / 0.025)  # GBP 2,600 per QALY
    assert s["nmb_20000"] == pytest.approx(20_000 * 0.025 - 65)  # 435
    assert s["nmb_30000"] == pytest.approx(30_000 * 0.025 - 65)  # 685
    assert s["p_nmb_pos_20000"] == 1.0
    # 20 more self-managing per 100 at 12 months, for GBP 40 and 60 more (mean 50): GBP 250 each
    assert s["extra_per_100_h"] == pytest.approx(20)
    assert s["dcost_h"] == pytest.approx(50)
    assert s["cost_per_extra_h"] == pytest.approx(250)
    assert s["quadrant"] == "more effective, more costly"
    # and the page says so
    index = report.build(copy)
    html = index.read_text(encoding="utf-8")
    assert gbp(2600) in html and gbp(435) in html and gbp(250) in html


# --- labels --------------------------------------------------------------------------------------


def _strategy(**channels):
    base = {"matching": "offer_all", "start_week": 0, "end_week": None}
    for c in ("peer_group", "telephone", "online", "booster", "newsletter"):
        base[c] = {"enabled": False}
    for c, extra in channels.items():
        base[c] = {"enabled": True, **extra}
    return base


@pytest.mark.parametrize(("strategy", "label"), [
    (_strategy(), "Course only"),
    (_strategy(peer_group={"interval_weeks": 2}), "Peer support group, fortnightly"),
    (_strategy(peer_group={"interval_weeks": 1}), "Peer support group, weekly"),
    (_strategy(peer_group={"interval_weeks": 4, "delivery": "facilitated"}), "Facilitated peer group, every 4 weeks"),
    (_strategy(telephone={"interval_weeks": 2, "caller": "professional"}),
     "Telephone support from professionals, fortnightly"),
    (_strategy(online={"moderated": True}), "Online group"),
    (_strategy(peer_group={"interval_weeks": 2}, telephone={"interval_weeks": 2}, online={}), "All three, free choice"),
    ({**_strategy(peer_group={"interval_weeks": 2}, telephone={"interval_weeks": 2}, online={}), "matching": "tailored"},
     "All three, matched to each person"),
    ({**_strategy(peer_group={"interval_weeks": 2}, telephone={"interval_weeks": 2}, online={}), "end_week": 26},
     "All three, free choice, stopping at 6 months"),
    (_strategy(booster={"week": 26}), "Booster course at 6 months"),
])
def test_strategy_labels_are_derived_from_what_the_strategy_does(strategy, label):
    assert strategy_label(strategy) == label


def test_descriptions_say_what_is_offered():
    text = strategy_description(_strategy(peer_group={"interval_weeks": 2}))
    assert "meeting fortnightly" in text and "24 months" in text
    assert "comparator" in strategy_description(_strategy())


# --- PSA: the acceptability curve ------------------------------------------------------------


# --- the page in a browser ---------------------------------------------------------------------


def test_index_html_opens_in_headless_chromium_with_every_image_loaded(tiny):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (make browser installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
    index = (tiny / "report" / "index.html").resolve()
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            view = browser.new_page()
            view.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            view.on("pageerror", lambda e: errors.append(str(e)))
            view.goto(index.as_uri())
            view.wait_for_load_state("load")
            images = view.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
            title = view.title()
        finally:
            browser.close()
    assert errors == []
    assert len(images) == len(FIGURES)
    assert all(done and width > 0 for done, width in images)
    assert "what to fund" in title


def test_the_course_itself_is_said_apart_from_follow_on_support(tiny):
    """With the no-course arm in the sweep, the brief opens with what the course itself does, and the
    follow-on ranking never picks 'no course'."""
    text = visible_text(page(tiny))
    brief = text[text.index("The answer in brief"):text.index("Summary table")]
    assert "The course itself" in brief and "did not take it" in brief
    assert "Fund: \u201cNo course" not in brief and "tighter budget: \u201cNo course" not in brief


def test_the_report_shows_peer_group_survival_by_month(tiny):
    text = visible_text(page(tiny))
    assert "Peer groups still meeting" in text
    section = text[text.index("Peer groups still meeting"):]
    assert re.search(r"\d+%", section[:600]), section[:600]
