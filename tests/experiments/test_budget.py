"""Budget impact for an area (experiments/analyses/budget.py, experiments/report/budget.py) and the
``area`` group (configs/area/, experiments.config.load_area): the arithmetic on small hand-made
frames (model years, cohorts stacking, sums, no discounting in budgets, perspective, horizons),
the area's overrides and their refusal, and the command line on a tiny sweep."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from in_process import sweep

from experiments.analyses import budget as ab
from experiments.config import CONFIG_DIR, check_area_price_year, load_area
from experiments.report import __main__ as report_main
from experiments.report import budget as rb
from experiments.schemas import AreaConfig, Perspective
from sim.params import ParameterError

ROOT = Path(__file__).resolve().parents[2]


# --- model years and one run's weeks ------------------------------------------------------------


def test_weeks_fall_into_model_years_with_week_0_in_year_1():
    assert ab.model_year_of([0, 1, 52, 53, 104, 105]).tolist() == [1, 1, 1, 2, 2, 3]
    assert ab.horizon_years(104) == 2
    assert ab.horizon_years(56) == 2  # a last year cut short still counts, flagged incomplete
    assert ab.horizon_years(52) == 1
    with pytest.raises(ValueError, match="no model year"):
        ab.horizon_years(0)


def weekly_run(weeks: int = 104, rate: float = 0.035, course: float = 100.0, support: float = 1.0,
               care: float = 0.5, utility: float = 0.052, hours: float = 0.1, responders=None) -> pd.DataFrame:
    """A hand-made weekly table of one run, per graduate: the course at week 0, then each week
    ``support`` GBP of support, ``care`` GBP of care, ``utility`` QALYs a year (discounted at
    ``rate`` as the model's ledger does) and ``hours`` of volunteer time."""
    week = np.arange(weeks + 1)
    on = (week >= 1).astype(float)
    d = (1 + rate) ** (-week / 52)
    support_flow = np.where(week == 0, course, support)
    care_flow = care * on
    qaly_flow = utility / 52 * d * on
    total_flow = support_flow + care_flow
    return pd.DataFrame({
        "week": week,
        "cost_course_gbp": np.where(week == 0, course, course),
        "cost_peer_group_gbp": np.cumsum(support_flow) - course,
        "cost_planned_care_gbp": np.cumsum(care_flow),
        "cost_urgent_care_gbp": np.zeros(weeks + 1),
        "cost_total_discounted_gbp": np.cumsum(total_flow * d),
        "qalys_gained": np.cumsum(qaly_flow),
        "share_self_managing": np.linspace(0.3, 0.5, weeks + 1) if responders is None else responders,
        "volunteer_hours": hours * on,
    })


def test_a_run_becomes_model_years_of_undiscounted_flows_and_year_end_stocks():
    w = weekly_run()
    years = ab.run_years(w, 0.035, volunteer_gbp_per_hour=10.0).set_index("model_year")
    assert years.index.tolist() == [1, 2]
    assert years.loc[1, "support_gbp"] == pytest.approx(100 + 52 * 1.0)  # the course (week 0) and 52 weeks
    assert years.loc[2, "support_gbp"] == pytest.approx(52 * 1.0)
    assert years["care_gbp"].tolist() == pytest.approx([26.0, 26.0])
    # QALYs of a year are undiscounted again: 52 weeks of utility/52 each, in both years
    assert years["qalys"].tolist() == pytest.approx([0.052, 0.052])
    assert years["volunteer_hours"].tolist() == pytest.approx([5.2, 5.2])
    assert years["volunteer_gbp"].tolist() == pytest.approx([52.0, 52.0])
    assert years.loc[1, "responders_share"] == pytest.approx(w.loc[52, "share_self_managing"])
    assert years.loc[2, "responders_share"] == pytest.approx(w.loc[104, "share_self_managing"])
    # the discounted columns are the run's own cumulative ones at the year's last week
    assert years.loc[2, "cost_disc_cum_gbp"] == pytest.approx(w["cost_total_discounted_gbp"].iloc[-1])
    assert years.loc[1, "qalys_disc_cum"] == pytest.approx(w.loc[52, "qalys_gained"])
    assert years.loc[2, "qalys_disc_cum"] < years["qalys"].sum()  # discounting lowers the year-2 QALYs
    assert years["complete"].tolist() == [True, True]
    assert years["first_week"].tolist() == [0, 53] and years["last_week"].tolist() == [52, 104]


def test_a_year_cut_short_by_the_run_is_flagged():
    years = ab.run_years(weekly_run(weeks=56), 0.035)
    assert years["complete"].tolist() == [True, False]
    assert years["last_week"].tolist() == [52, 56]
    assert years["support_gbp"].iloc[1] == pytest.approx(4.0)  # weeks 53-56 only


def test_budget_flows_do_not_depend_on_the_discount_rate():
    """Budgets are undiscounted: the same payments and gains under another discount rate give the
    same flows, while the discounted totals differ."""
    a = ab.run_years(weekly_run(rate=0.035), 0.035)
    b = ab.run_years(weekly_run(rate=0.0), 0.0)
    for col in ("support_gbp", "care_gbp", "qalys", "volunteer_hours", "responders_share"):
        assert a[col].tolist() == pytest.approx(b[col].tolist())
    assert a["cost_disc_cum_gbp"].iloc[-1] < b["cost_disc_cum_gbp"].iloc[-1]
    assert a["qalys_disc_cum"].iloc[-1] < b["qalys_disc_cum"].iloc[-1]


def test_a_table_with_a_missing_week_is_refused():
    with pytest.raises(ValueError, match="every week"):
        ab.run_years(weekly_run().drop(index=10), 0.035)


def test_volunteer_hours_count_peer_led_meetings_and_callers_on_duty():
    area = AreaConfig(volunteer_hours_per_meeting=3.0, volunteer_hours_per_caller_week=2.0)
    w = pd.DataFrame({"week": np.arange(6), "peer_group_meetings": [0, 4, 0, 4, 0, 4],
                      "telephone_volunteers": [5.0] * 6})
    peer = {"peer_group": {"enabled": True, "delivery": "peer_led"}, "start_week": 0, "end_week": 3}
    hours = ab.volunteer_hours(w, peer, area, n_graduates=10)
    # meetings x 3 h, plus 5 callers x 2 h in weeks 1-3 (support runs from week 1 to end_week 3)
    assert hours.tolist() == pytest.approx([0.0, 2.2, 1.0, 2.2, 0.0, 1.2])
    facilitated = {**peer, "peer_group": {"enabled": True, "delivery": "facilitated"}}
    assert ab.volunteer_hours(w.assign(telephone_volunteers=0.0), facilitated, area, 10).sum() == 0.0


# --- increments, cohorts, horizons ----------------------------------------------------------------


def test_increments_are_paired_by_seed_and_averaged():
    rows = []
    for seed, base in ((11, 10.0), (22, 20.0)):
        for strategy, extra in (("course_only", 0.0), ("peer_group", 5.0 if seed == 11 else 7.0)):
            for k in (1, 2):
                rows.append({"run_id": f"{strategy}{seed}", "arm": "arm1" if strategy == "peer_group" else "arm0",
                             "strategy": strategy, "population": "p", "seed": str(seed), "model_year": k,
                             "first_week": 0, "last_week": 52 * k, "complete": True,
                             **{c: base + extra * k for c in ab.YEAR_COLUMNS}})
    inc = ab.mean_increments(pd.DataFrame(rows), ["population", "seed"])
    peer = inc[inc["strategy"] == "peer_group"].set_index("model_year")
    assert peer.loc[1, "d_support_gbp"] == pytest.approx(6.0)  # mean of 5 and 7, the seeds' bases cancel
    assert peer.loc[2, "d_support_gbp"] == pytest.approx(12.0)
    assert (peer["pairs"] == 2).all()
    assert (inc.loc[inc["strategy"] == "course_only", "d_support_gbp"] == 0).all()


def per_year(cost=(10.0, 4.0), care=(-1.0, -2.0), responders=(0.05, 0.03), qalys=(0.01, 0.02),
             volunteer=(3.0, 1.0), cost_disc=(9.0, 12.0), qalys_disc=(0.01, 0.028)) -> pd.DataFrame:
    """Per-graduate increments of one arm over 2 model years, as :func:`ab.mean_increments` gives."""
    return pd.DataFrame({
        "population": "p", "arm": "arm1", "strategy": "peer_group", "model_year": [1, 2],
        "first_week": [0, 53], "last_week": [52, 104], "complete": True, "pairs": 2,
        "d_support_gbp": cost, "d_care_gbp": care, "d_volunteer_hours": [0.3, 0.1], "d_volunteer_gbp": volunteer,
        "d_responders_share": responders, "d_qalys": qalys, "d_cost_disc_cum_gbp": cost_disc,
        "d_volunteer_disc_cum_gbp": [2.9, 3.8], "d_qalys_disc_cum": qalys_disc,
    })


def test_cohorts_stack_within_the_model_horizon_and_nothing_beyond_it():
    per = ab.per_graduate_by_year(per_year(), Perspective.nhs_pss)
    b = ab.budget_impact(per, graduates_per_year=100, years=5).set_index("year")
    assert b.index.tolist() == [1, 2, 3, 4, 5]
    assert b["cohorts_counted"].tolist() == [1, 2, 2, 2, 2]
    assert b["graduates_counted"].tolist() == [100, 200, 200, 200, 200]
    # year 1: the first cohort in its year 1; from year 2: a new cohort in year 1 plus one in year 2
    assert b["cost_gbp"].tolist() == pytest.approx([1000, 1400, 1400, 1400, 1400])
    assert b["care_savings_gbp"].tolist() == pytest.approx([100, 300, 300, 300, 300])
    assert b["net_cost_gbp"].tolist() == pytest.approx((b["cost_gbp"] - b["care_savings_gbp"]).tolist())
    assert b["extra_responders"].tolist() == pytest.approx([5, 8, 8, 8, 8])
    assert b["qalys"].tolist() == pytest.approx([1, 3, 3, 3, 3])
    assert b["cost_gbp"].sum() == pytest.approx(1000 + 4 * 1400)


def test_a_longer_horizon_keeps_counting_new_cohorts():
    per = ab.per_graduate_by_year(pd.concat([per_year(), per_year().assign(model_year=[3, 4])]).reset_index(drop=True),
                                  Perspective.nhs_pss)
    b = ab.budget_impact(per, graduates_per_year=10, years=4)
    assert b["cohorts_counted"].tolist() == [1, 2, 3, 4]
    assert b["cost_gbp"].tolist() == pytest.approx([100, 140, 240, 280])


def test_the_budget_scales_linearly_with_graduates():
    per = ab.per_graduate_by_year(per_year(), Perspective.nhs_pss)
    small, large = ab.budget_impact(per, 300, 3), ab.budget_impact(per, 900, 3)
    for col in ab.BUDGET_COLUMNS:
        assert large[col].to_numpy() == pytest.approx(3 * small[col].to_numpy())


def test_the_societal_perspective_adds_volunteer_time_and_prices_re_scale_money_only():
    nhs = ab.per_graduate_by_year(per_year(), "nhs_pss")
    soc = ab.per_graduate_by_year(per_year(), "societal")
    assert (soc["cost_gbp"] - nhs["cost_gbp"]).tolist() == pytest.approx([3.0, 1.0])
    assert (soc["cost_disc_cum_gbp"] - nhs["cost_disc_cum_gbp"]).tolist() == pytest.approx([2.9, 3.8])
    assert soc["care_savings_gbp"].tolist() == pytest.approx(nhs["care_savings_gbp"].tolist())
    repriced = ab.per_graduate_by_year(per_year(), "nhs_pss", price_factor=1.5)
    assert repriced["cost_gbp"].tolist() == pytest.approx((1.5 * nhs["cost_gbp"]).tolist())
    assert repriced["qalys"].tolist() == pytest.approx(nhs["qalys"].tolist())
    with pytest.raises(ValueError):
        ab.per_graduate_by_year(per_year(), "everyone")


def test_economics_by_horizon_count_nothing_beyond_the_model():
    per = ab.per_graduate_by_year(per_year(), Perspective.nhs_pss)
    e = ab.economics_by_horizon(per, (1, 2, 5), wtp_gbp_per_qaly=20000).set_index("horizon_years")
    assert e["years_counted"].tolist() == [1, 2, 2]
    assert e["years_beyond_model"].tolist() == [0, 0, 3]
    assert e.loc[1, "incremental_cost_gbp"] == pytest.approx(9.0)
    assert e.loc[5, "incremental_cost_gbp"] == pytest.approx(e.loc[2, "incremental_cost_gbp"])
    assert e["nmb_20000_gbp"].tolist() == pytest.approx((20000 * e["incremental_qalys"] - e["incremental_cost_gbp"]).tolist())


def test_bad_budget_arguments_are_refused():
    per = ab.per_graduate_by_year(per_year(), Perspective.nhs_pss)
    with pytest.raises(ValueError, match="years"):
        ab.budget_impact(per, 100, 0)
    with pytest.raises(ValueError, match="graduates_per_year"):
        ab.budget_impact(per, -1, 2)
    with pytest.raises(ValueError, match="model years"):
        ab.budget_impact(per.assign(model_year=[1, 3]), 100, 2)


def test_price_factor_uses_the_cost_configs_index():
    costs = {"price_year": 2024, "inflation_index": {2010: 267.0, 2013: 289.1, 2024: 389.0}}
    assert ab.price_factor(costs, None) == 1.0
    assert ab.price_factor(costs, 2013) == pytest.approx(289.1 / 389.0)
    with pytest.raises(ValueError, match="2019"):
        ab.price_factor(costs, 2019)


# --- the area group --------------------------------------------------------------------------------


def test_the_default_area_file_states_the_schemas_defaults():
    given = yaml.safe_load((CONFIG_DIR / "area" / "default.yaml").read_text())
    default = AreaConfig()
    assert {k: getattr(default, k) if k != "perspective" else default.perspective.value for k in given} == given
    assert set(given) == set(AreaConfig.__dataclass_fields__)
    assert load_area() == default


def test_area_overrides_are_applied():
    area = load_area(["area.graduates_per_year=300", "area.years=2", "area.perspective=societal",
                      "area.price_year=2013"])
    assert (area.graduates_per_year, area.years, area.perspective, area.price_year) == (300, 2, Perspective.societal, 2013)


@pytest.mark.parametrize("override, words", [
    ("area.years=0", "area.years=0 is not allowed: must be a whole number from 1 to 30"),
    ("area.years=2.5", "area.years=2.5 is not allowed: must be a whole number from 1 to 30"),
    ("area.graduates_per_year=-5", "must be a whole number from 1 to 10,000,000"),
    ("area.graduates_per_year=abc", "area.graduates_per_year='abc' is not allowed"),
    ("area.perspective=patients", "must be one of ['nhs_pss', 'societal']"),
    ("area.volunteer_value_gbp_per_hour=1000", "must be a number from 0 to 100"),
    ("area.graduate_per_year=300", "did you mean 'graduates_per_year'"),
    ("n_graduates=300", "only the area group can be set"),
    ("area=big_city", "must be one of ['default']"),
    ("area.years=[1,2", "Hydra's override syntax"),
    ("area.years=1,2", "no sweep"),
])
def test_bad_area_values_are_refused_naming_the_key_and_range(override, words):
    with pytest.raises(ParameterError) as err:
        load_area([override])
    assert words in str(err.value)


def test_a_price_year_must_be_in_the_sweeps_index():
    costs = {"price_year": 2024, "inflation_index": {2010: 267.0, 2024: 389.0}}
    check_area_price_year(AreaConfig(price_year=2010), costs)
    with pytest.raises(ParameterError, match=r"area.price_year=2015 is not allowed: .*\[2010, 2024\]"):
        check_area_price_year(AreaConfig(price_year=2015), costs)


def test_the_command_line_splits_area_overrides_from_the_folder(tmp_path):
    folder = tmp_path / "a=b"
    folder.mkdir()
    own, overrides = report_main.split_overrides([str(folder), "--out", "x=y", "area.years=3", "area=default"])
    assert own == [str(folder), "--out", "x=y"] and overrides == ["area.years=3", "area=default"]


def test_the_psa_analysis_is_redone_for_another_area(tmp_path, monkeypatch):
    """The population EVPI takes the area's graduates a year and years, and the model's discount
    rate: a PSA analysed for another area is analysed again with these numbers."""
    sweep_dir = tmp_path / "psa"
    (sweep_dir / "runs" / "r0").mkdir(parents=True)
    (sweep_dir / "runs" / "r0" / "config.yaml").write_text(yaml.safe_dump(
        {"costs": {"price_year": 2024, "inflation_index": {2024: 389.0}},
         "dynamics": {"outcomes": {"discount_rate_per_year": 0.035}}}))
    (sweep_dir / "voi").mkdir()
    (sweep_dir / "voi" / "decision.json").write_text(
        '{"assumptions": {"graduates_per_year": 500, "decision_years": 5, "discount_rate_per_year": 0.035}}')
    calls = []
    monkeypatch.setattr(report_main.decision, "is_psa", lambda d: True)
    monkeypatch.setattr(report_main.decision, "is_stale", lambda d: False)
    monkeypatch.setattr(report_main.decision, "analyse_sweep", lambda d, **kw: calls.append(kw))
    monkeypatch.setattr(report_main.budget, "analyse_sweep", lambda d, area: None)
    monkeypatch.setattr(report_main.build, "main", lambda argv: 0)
    assert report_main.main([str(sweep_dir)]) == 0
    assert calls == []  # made for this very area: not redone
    assert report_main.main([str(sweep_dir), "area.graduates_per_year=300", "area.years=2"]) == 0
    assert calls == [{"graduates_per_year": 300, "years": 2, "discount_rate_per_year": 0.035}]


# --- the command line on a tiny sweep -------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A tiny sweep of 2 strategies (2 replicates of 60 graduates over 56 weeks: two model years,
    the second cut short)."""
    sweep_dir = tmp_path_factory.mktemp("budget_sweep")
    return sweep(sweep_dir, "experiment=compare_strategies", "replicates=2", "n_graduates=60", "weeks=56",
                 "strategy=course_only,offer_all")


def test_the_report_command_writes_the_budget_for_the_area_asked(tiny, tmp_path):
    out = tmp_path / "report300"
    assert report_main.main([str(tiny), "--out", str(out), "area.graduates_per_year=300", "area.years=5"]) == 0
    b = pd.read_csv(out / rb.BUDGET_CSV)
    assert sorted(b["year"].unique()) == [1, 2, 3, 4, 5]
    assert set(b["strategy"]) == {"offer_all"}
    assert (b["graduates_per_year"] == 300).all() and not b["discounted"].any()
    assert b["cohorts_counted"].tolist() == [1, 2, 2, 2, 2]
    html = (out / "index.html").read_text(encoding="utf-8")
    assert re.search(r"<h2 id=['\"]budget['\"]>(\d+\. )?Budget impact for your area</h2>", html)
    assert "300 people finish the course each year" in html
    e = pd.read_csv(out / rb.HORIZON_CSV)
    assert sorted(e["horizon_years"].unique()) == [1, 2, 5]
    assert e["discounted"].all()

    # the same sweep for twice the graduates: every total of the budget doubles, per graduate nothing moves
    assert report_main.main([str(tiny), "--out", str(tmp_path / "report600"), "area.graduates_per_year=600",
                             "area.years=5"]) == 0
    b2 = pd.read_csv(tmp_path / "report600" / rb.BUDGET_CSV)
    for col in ("cost_gbp", "care_savings_gbp", "net_cost_gbp", "extra_responders", "qalys"):
        assert b2[col].to_numpy() == pytest.approx(2 * b[col].to_numpy()), col
    assert b["cost_gbp"].iloc[0] != 0  # offer_all costs something: the check above is not 0 == 0
    e2 = pd.read_csv(tmp_path / "report600" / rb.HORIZON_CSV)
    assert e2["incremental_cost_gbp"].to_numpy() == pytest.approx(e["incremental_cost_gbp"].to_numpy())


def test_a_bad_area_value_stops_the_command_before_any_work(tiny, tmp_path):
    out = tmp_path / "never"
    done = subprocess.run([sys.executable, "-m", "experiments.report", str(tiny), "--out", str(out), "area.years=0"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2
    assert "area.years=0 is not allowed: must be a whole number from 1 to 30" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()
    budget_json = tiny / ab.FOLDER / ab.AREA_JSON
    before = budget_json.stat().st_mtime if budget_json.exists() else None
    assert report_main.main([str(tiny), "area.price_year=2019"]) == 2  # not in the cost config's index
    assert (budget_json.stat().st_mtime if budget_json.exists() else None) == before


def test_the_section_says_how_to_make_its_numbers_when_they_are_missing_or_stale(tmp_path):
    class Data:  # what the section reads of a loaded sweep
        sweep_dir = tmp_path
        runs = pd.DataFrame({"run_id": ["r0", "r1"]})

    (tmp_path / "runs" / "r0").mkdir(parents=True)
    html = rb.sweep_section(Data(), tmp_path / "report")
    assert "Budget impact for your area" in html and "area.json is missing" in html
    (tmp_path / ab.FOLDER).mkdir()
    (tmp_path / ab.FOLDER / ab.AREA_JSON).write_text('{"runs": 2}')
    (tmp_path / "runs" / "r0" / "manifest.json").write_text("{}")  # a run finished after the analysis
    os.utime(tmp_path / ab.FOLDER / ab.AREA_JSON, (0, 0))
    assert "is older than the sweep" in rb.sweep_section(Data(), tmp_path / "report")
    assert not (tmp_path / "report").exists()  # nothing copied from numbers it cannot trust
