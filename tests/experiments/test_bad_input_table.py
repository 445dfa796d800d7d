"""The bad-input table of issue 22: each case refused before any work with one line naming the key
(and the value and the rule), exit code 2, and nothing written.

Together with tests/experiments/test_bad_input.py (the table of issue 15) these are the cases a
demanding user tried: strategies that contradict their names, "positive" numbers that would make
the arithmetic non-finite, Hydra's own parse and composition errors, empty output folders, empty
or broken files of a ``--config-dir``, wrong types in Python. Command lines run in-process
(``experiments.run.main``), from an empty working folder that must stay empty.
"""

from __future__ import annotations

import dataclasses

import pytest

from in_process import run_command

import sim
from experiments.config import CONFIG_DIR, load_params
from sim.params import (
    SHIPPED_STRATEGIES,
    TAILORABLE_CHANNELS,
    CostItem,
    Matching,
    ModelParams,
    ParameterError,
    PeerGroupParams,
    PopulationParams,
    StrategyParams,
    TelephoneParams,
    check_strategy_name,
    validate,
    with_values,
)

OFF = [f"strategy.{c}.enabled=false" for c in TAILORABLE_CHANNELS]

# (command line, what the one line must contain: the key, the value, and the rule)
CLI_CASES = [
    # --- a strategy is what its name says
    (["strategy=course_only", "strategy.peer_group.enabled=true"], "strategy.peer_group.enabled=True",
     "under strategy.name='course_only'"),
    (["strategy=course_only", "strategy.telephone.enabled=true"], "strategy.telephone.enabled=True", "course_only"),
    (["strategy=course_only", "strategy.online.enabled=true"], "strategy.online.enabled=True", "course_only"),
    (["strategy=course_only", "strategy.course=false"], "strategy.course=False", "must be true"),
    (["strategy=course_only", "strategy.matching=tailored"], "strategy.matching='tailored'", "'offer_all'"),
    (["strategy.name=course_only"], "strategy.name='course_only'", "must be false"),
    (["strategy=peer_group", "strategy.name=course_only"], "strategy.peer_group.enabled=True", "course_only"),
    (["strategy=telephone", "strategy.name=peer_group"], "strategy.peer_group.enabled=False", "must be true"),
    (["strategy=offer_all", *OFF], "strategy.peer_group.enabled=False", "under strategy.name='offer_all'"),
    (["strategy=offer_all", "strategy.online.enabled=false"], "strategy.online.enabled=False", "offer_all"),
    (["strategy=offer_all", "strategy.matching=tailored"], "strategy.matching='tailored'", "offer_all"),
    (["strategy=tailored", "strategy.matching=offer_all"], "strategy.matching='offer_all'", "'tailored'"),
    (["strategy=tailored", "strategy.telephone.enabled=false"], "strategy.telephone.enabled=False", "tailored"),
    (["strategy=peer_group", "strategy.peer_group.enabled=false"], "strategy.peer_group.enabled=False", "peer_group"),
    (["strategy=peer_group", "strategy.online.enabled=true"], "strategy.online.enabled=True", "peer_group"),
    (["strategy=telephone", "strategy.telephone.enabled=false"], "strategy.telephone.enabled=False", "telephone"),
    (["strategy=online", "strategy.peer_group.enabled=true"], "strategy.peer_group.enabled=True", "online"),
    (["strategy=no_course", "strategy.course=true"], "strategy.course=True", "no_course"),
    (["strategy=peer_group", "strategy.course=false"], "strategy.course=False", "peer_group"),
    (["strategy.name=mine"], "strategy.label='All three, free choice'", "needs its own label"),
    (["strategy=course_only", "strategy.name=mine"], "strategy.label='Course only (no follow-on support)'",
     "shipped strategy course_only"),
    (["strategy.name=mine", "strategy.label='Telephone support'"], "strategy.label='Telephone support'",
     "telephone"),
    (["strategy.name=../elsewhere", "strategy.label=x"], "strategy.name='../elsewhere'", "letters, digits"),
    (["strategy.name=''"], "strategy.name=''", "letters, digits"),
    (["strategy.name='a b'", "strategy.label=x"], "strategy.name='a b'", "letters, digits"),
    (["strategy.name=_hidden", "strategy.label=x"], "strategy.name='_hidden'", "starting with a letter"),
    (["-m", "strategy=course_only,peer_group", "strategy.peer_group.enabled=true"],
     "strategy.peer_group.enabled=True", "course_only"),
    (["-m", "strategy=offer_all,tailored", "strategy.name=course_only"], "strategy.peer_group.enabled=True",
     "course_only"),
    # --- "positive" numbers that would make the arithmetic non-finite; numbers too large
    (["dynamics.retention.spacing_optimal_gap_weeks=5e-324"], "spacing_optimal_gap_weeks=5e-324", ">= 1e-06"),
    (["dynamics.retention.spacing_optimal_gap_weeks=0"], "spacing_optimal_gap_weeks=0", ">= 1e-06"),
    (["dynamics.retention.power_law_b_per_week=1e-300"], "power_law_b_per_week=1e-300", ">= 1e-06"),
    (["dynamics.retention.max_gain_sd=1e-9"], "max_gain_sd=1e-09", ">= 1e-06"),
    (["population.group_affinity_concentration=5e-324"], "group_affinity_concentration=5e-324", ">= 1e-06"),
    (["population.digital_confidence_concentration=1e-310"], "digital_confidence_concentration=1e-310", ">= 1e-06"),
    (["population.connectedness_baseline_concentration=0"], "connectedness_baseline_concentration=0", ">= 1e-06"),
    (["population.severity_concentration=-1"], "severity_concentration=-1", ">= 1e-06"),
    (["population.course_attendance_concentration=1e-7"], "course_attendance_concentration=1e-07", ">= 1e-06"),
    (["dynamics.online.critical_mass_posters=5e-324"], "critical_mass_posters=5e-324", ">= 1e-06"),
    (["dynamics.online.poster_propensity_a=1e-320"], "poster_propensity_a=1e-320", ">= 1e-06"),
    (["dynamics.peer_group.attend_novelty_meetings=1e-12"], "attend_novelty_meetings=1e-12", ">= 1e-06"),
    (["costs.items.peer_call.value_gbp=1e308"], "costs.items.peer_call.value_gbp=1e+308", "finite"),
    (["costs.items.course_per_participant.value_gbp=1e13"], "course_per_participant.value_gbp=10000000000000.0", "1e+12"),
    (["costs.inflation_index={2010:267.0,2013:5e-324,2024:389.0}"], "costs.inflation_index[2013]=5e-324",
     ">= 1e-06"),
    (["costs.inflation_index={2010:267.0,2013:289.1,2024:1e300}"], "costs.inflation_index[2024]=1e+300", "finite"),
    (["dynamics.health.self_manage_intercept=-1e300"], "self_manage_intercept=-1e+300", "-1e+12"),
    (["dynamics.health.planned_intercept=1e200"], "planned_intercept=1e+200", "1e+12"),
    (["dynamics.health.severity_effect=1e20"], "severity_effect=1e+20", "1e+12"),
    (["population.ties_per_graduate=1e100"], "ties_per_graduate=1e+100", "1e+12"),
    (["dynamics.outcomes.qaly_per_sd_year=1e308"], "qaly_per_sd_year=1e+308", "1e+12"),
    (["-m", "dynamics.retention.spacing_optimal_gap_weeks=3,5e-324"], "spacing_optimal_gap_weeks=5e-324", ">= 1e-06"),
    # --- output folders
    (["hydra.run.dir=''"], "hydra.run.dir=''", "must name a folder"),
    (["hydra.run.dir="], "hydra.run.dir=''", "must name a folder"),
    (["hydra.run.dir='  '"], "hydra.run.dir='  '", "must name a folder"),
    (["-m", "hydra.sweep.dir=''"], "hydra.sweep.dir=''", "must name a folder"),
    (["-m", "hydra.sweep.dir="], "hydra.sweep.dir=''", "must name a folder"),
    (["hydra.run.dir=/dev/null/x"], "hydra.run.dir='/dev/null/x'", "is a file"),
    # --- Hydra's parser and composer
    (["n_graduates=[1,2"], "n_graduates='[1,2'", "override syntax"),
    (["n_graduates=(1"], "n_graduates='(1'", "override syntax"),
    (["strategy.peer_group.interval_weeks={"], "strategy.peer_group.interval_weeks='{'", "override syntax"),
    (["weeks=1,,2"], "weeks='1,,2'", "override syntax"),
    (["strategy.peer_group.interval_weeks=[1,"], "strategy.peer_group.interval_weeks='[1,'", "override syntax"),
    (["-m", "n_graduates=[1,2"], "n_graduates='[1,2'", "override syntax"),
    (["hydra/launcher=nope"], "hydra/launcher='nope'", "joblib"),
    (["hydra/launcher=slurmm"], "hydra/launcher='slurmm'", "slurm"),
    (["-m", "hydra/launcher=jobllib"], "hydra/launcher='jobllib'", "joblib"),
    (["costs.items.gp_surgry_consultation.value_gbp=4"], "costs.items.gp_surgry_consultation.value_gbp=4",
     "gp_surgery_consultation"),
    (["+costs.items.gp_surgry_consultation.value_gbp=4"], "costs.items.gp_surgry_consultation.value_gbp=4",
     "not a cost item"),
    (["++costs.items.peer_cal.value_gbp=4"], "costs.items.peer_cal.value_gbp=4", "peer_call"),
    (["costs.items.peercall.price_year=2013"], "costs.items.peercall.price_year=2013", "peer_call"),
    (["~strategy.peer_group"], "~strategy.peer_group", "cannot be deleted"),
    (["~n_graduates"], "~n_graduates", "cannot be deleted"),
    (["~dynamics.retention.decay_rate_per_week"], "~dynamics.retention.decay_rate_per_week", "cannot be deleted"),
    (["~strategy.peer_grup"], "strategy.peer_grup", "peer_group"),
    (["strategy.peer_group={enabled:true,bogus:1}"], "strategy.peer_group", "bogus"),
    (["strategy.peer_group={enabled:maybe}"], "strategy.peer_group", "maybe"),
    (["costs.items.peer_call=5"], "costs.items.peer_call=5", "mapping"),
    (["population=[general_ltc]"], "population=['general_ltc']", "must be one of"),
    (["experiment=compare_everything"], "experiment='compare_everything'", "compare_strategies"),
    (["analysis=calibrat"], "analysis='calibrat'", "calibrate"),
    (["psa=nope"], "psa='nope'", "default"),
    # --- wrong types and values (more of issue 15's kind)
    (["strategy.telephone.caller=robot"], "strategy.telephone.caller='robot'", "professional"),
    (["strategy.matching=random"], "strategy.matching='random'", "tailored"),
    (["strategy.tailoring_order=[peer_group,peer_group]"], "strategy.tailoring_order", "at most once"),
    (["strategy.tailoring_order=[]"], "strategy.tailoring_order=[]", "at most once"),
    (["strategy.tailoring_order=[newsletter]"], "strategy.tailoring_order=['newsletter']", "at most once"),
    (["strategy.end_week=1.5"], "strategy.end_week=1.5", "whole number"),
    (["strategy.start_week=-1"], "strategy.start_week=-1", ">= 0"),
    (["strategy.booster.enabled=true", "strategy.booster.sessions=7"], "strategy.booster.sessions=7", "sessions"),
    (["population.online_access_by_age_band=[0.9,0.8]"], "online_access_by_age_band", "exactly 3"),
    (["population.age_band_shares=[0.5,0.5,nan]"], "age_band_shares[2]=nan", "finite"),
    (["dynamics.course.gain_multiplier_by_age_band=[1,1,3]"], "gain_multiplier_by_age_band[2]=3", "between 0"),
    (["dynamics.course.sessions=0"], "dynamics.course.sessions=0", ">= 1"),
    (["costs.planned_contact_mix={gp_surgery_consultation:0.5,gp_phone_consultation:0.6}"],
     "costs.planned_contact_mix", "sum to 1"),
    (["costs.planned_contact_mix={urgent_care_attendance:1.0}"], "costs.planned_contact_mix",
     "urgent_care_attendance"),
    (["seed=2**63"], "seed='2**63'", "whole number"),
    (["seed=9223372036854775808"], "seed=9223372036854775808", "2**63"),
    (["replicate=true"], "replicate=True", "whole number"),
    (["engine=null"], "engine=None", "must not be null"),
    (["outputs.plot=sometimes"], "outputs.plot='sometimes'", "true or false"),
]


@pytest.mark.parametrize("args,key,rule", CLI_CASES, ids=[" ".join(c[0]) for c in CLI_CASES])
def test_bad_command_line(monkeypatch, tmp_path, capsys, args, key, rule):
    monkeypatch.chdir(tmp_path)  # default output folders would land here
    assert run_command(*args, "n_graduates=30", "weeks=4") == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ") and key in lines[0] and rule in lines[0], lines[0]
    assert "Traceback" not in captured.out + captured.err
    assert list(tmp_path.iterdir()) == [], "a refused run wrote something"


# --- files of a user's --config-dir ------------------------------------------------------------------

CONFIG_DIR_CASES = [
    ("population/mine.yaml", "", "population=mine", "empty"),
    ("population/mine.yaml", "# nothing but a comment\n\n", "population=mine", "empty"),
    ("strategy/mine.yaml", "name: course_only\nlabel: x\npeer_group:\n  enabled: true\n", "strategy=mine",
     "strategy.peer_group.enabled=True"),
    ("strategy/mine.yaml", "name: mine\nlabel: Mine\npeer_grup:\n  enabled: true\n", "strategy=mine", "peer_grup"),
    ("strategy/mine.yaml", "name: mine\nlabel: Mine\nstart_week: soon\n", "strategy=mine", "strategy.start_week"),
    ("strategy/mine.yaml", "- just\n- a list\n", "strategy=mine", "strategy"),
    ("population/mine.yaml", "name: mine\nlabel: Mine\ngroup_affinity_concentration: 5.0e-324\n",
     "population=mine", "group_affinity_concentration=5e-324"),
    ("costs/mine.yaml", "price_year: 2019\n", "costs=mine", "costs.price_year=2019"),
]


@pytest.mark.parametrize("path,text,choice,message", CONFIG_DIR_CASES,
                         ids=[f"{c[0]}: {c[1][:30]!r}" for c in CONFIG_DIR_CASES])
def test_bad_files_of_a_config_dir(monkeypatch, tmp_path, capsys, path, text, choice, message):
    own = tmp_path / "own"
    (own / path).parent.mkdir(parents=True)
    (own / path).write_text(text)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert run_command("--config-dir", str(own), choice, "n_graduates=30", "weeks=4") == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], captured.err
    assert list(work.iterdir()) == []


# --- Python ------------------------------------------------------------------------------------------


def _strategy(**values) -> ModelParams:
    return ModelParams(n_graduates=30, weeks=4, seed=1, strategy=StrategyParams(**values))


def _cost(value) -> ModelParams:
    p = ModelParams(n_graduates=30, weeks=4, seed=1)
    items = dict(p.costs.items, peer_call=CostItem(value, 2024, "test"))
    return dataclasses.replace(p, costs=dataclasses.replace(p.costs, items=items))


PYTHON_CASES = [
    ("StrategyParams(name='nonexistent')", lambda: validate(_strategy(name="nonexistent")),
     "strategy.label='Course only (no follow-on support)'", "needs its own label"),
    ("course_only with peer groups", lambda: check_strategy_name(StrategyParams(peer_group=PeerGroupParams(True))),
     "strategy.peer_group.enabled=True", "course_only"),
    ("name offer_all, nothing on", lambda: check_strategy_name(StrategyParams(name="offer_all")),
     "strategy.peer_group.enabled=False", "offer_all"),
    ("name peer_group, telephone", lambda: check_strategy_name(StrategyParams(name="peer_group",
                                                                             telephone=TelephoneParams(True))),
     "strategy.peer_group.enabled=False", "peer_group"),
    ("name tailored, offer_all matching", lambda: check_strategy_name(StrategyParams(
        name="tailored", peer_group=PeerGroupParams(True), telephone=TelephoneParams(True),
        online=sim.params.OnlineParams(True))), "strategy.matching='offer_all'", "tailored"),
    ("name 42", lambda: validate(_strategy(name=42)), "strategy.name=42", "must be text"),
    ("load_params name=course_only on offer_all", lambda: load_params(["strategy.name=course_only"]),
     "strategy.peer_group.enabled=True", "course_only"),
    ("load_params course_only + telephone", lambda: load_params(["strategy=course_only",
                                                                 "strategy.telephone.enabled=true"]),
     "strategy.telephone.enabled=True", "course_only"),
    ("model: a name of its own with a shipped label", lambda: sim.SelfManagementModel(30, 4, strategy=StrategyParams(
        name="mine", label="Peer support groups")), "strategy.label='Peer support groups'", "peer_group"),
    ("model: a name with a slash", lambda: sim.SelfManagementModel(30, 4, strategy=StrategyParams(
        name="a/b", label="x")), "strategy.name='a/b'", "letters"),
    ("with_values spacing 5e-324", lambda: with_values(_strategy(), {
        "dynamics.retention.spacing_optimal_gap_weeks": 5e-324}), "spacing_optimal_gap_weeks=5e-324", ">= 1e-06"),
    ("concentration 5e-324", lambda: sim.SelfManagementModel(30, 4, population=PopulationParams(
        group_affinity_concentration=5e-324)), "group_affinity_concentration=5e-324", ">= 1e-06"),
    ("unit cost 1e308", lambda: validate(_cost(1e308)), "costs.items.peer_call.value_gbp=1e+308", "finite"),
    ("unit cost -1e-300", lambda: validate(_cost(-1e-300)), "costs.items.peer_call.value_gbp=-1e-300", ">= 0"),
]


@pytest.mark.parametrize("name,call,key,rule", PYTHON_CASES, ids=[c[0] for c in PYTHON_CASES])
def test_bad_python_input(monkeypatch, tmp_path, name, call, key, rule):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError) as err:
        call()
    assert key in str(err.value) and rule in str(err.value) and "\n" not in str(err.value), str(err.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("block,value", [("strategy", "peer_group"), ("population", "older_75plus"),
                                          ("dynamics", {"retention": {}}), ("costs", 5)])
def test_a_model_given_a_name_instead_of_a_block_says_so(block, value):
    with pytest.raises(TypeError) as err:
        sim.SelfManagementModel(30, 4, **{block: value})
    assert str(err.value).startswith(f"{block} must be a sim.") and "\n" not in str(err.value)


def test_there_are_at_least_150_bad_inputs_with_issue_15s_table():
    import test_bad_input as issue_15

    ours = len(CLI_CASES) + len(CONFIG_DIR_CASES) + len(PYTHON_CASES) + 4
    theirs = len(issue_15.RUN_CASES) + len(issue_15.TOOL_CASES) + len(issue_15.PYTHON_CASES)
    assert ours + theirs >= 150, (ours, theirs)


# --- what stays legal ---------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["strategy=course_only", "strategy.newsletter.enabled=true"],  # the help's own example
    ["strategy=course_only", "strategy.booster.enabled=true", "strategy.booster.week=3"],
    ["strategy=no_course", "strategy.telephone.enabled=true"],  # README: no_course composes with any channel
    ["strategy=offer_all", "strategy.peer_group.interval_weeks=4", "strategy.end_week=3"],
    ["strategy.name=offer_all_monthly", "strategy.label='All three, monthly'", "strategy.peer_group.interval_weeks=4"],
    ["strategy=course_only", "strategy.name=peer_groups_only", "strategy.label='Groups'",
     "strategy.peer_group.enabled=true"],
])
def test_what_the_name_allows_still_runs(args):
    load_params([*args, "n_graduates=30", "weeks=4"])


def test_the_calibrations_arms_are_legal():
    """experiments/analyses/targets.py builds arms with with_values: a name of one's own with its
    own label and channels, and course_only with a booster course."""
    from experiments.analyses.targets import ARMS, arm_params

    arm_params(load_params(["n_graduates=30", "weeks=104"]), list(ARMS))


def test_the_table_of_names_is_configs_strategy():
    """sim.params.SHIPPED_STRATEGIES says what each file of configs/strategy declares."""
    shipped = {p.stem for p in (CONFIG_DIR / "strategy").glob("*.yaml")}
    assert set(SHIPPED_STRATEGIES) == shipped
    for name, named in SHIPPED_STRATEGIES.items():
        p = load_params([f"strategy={name}"]).strategy
        assert p.name == name and p.label == named.label and p.course == named.course
        if named.matched is not None:
            assert {c for c in TAILORABLE_CHANNELS if getattr(p, c).enabled} == named.matched
        if named.matching is not None:
            assert p.matching == named.matching
        assert p.matching in (Matching.offer_all, Matching.tailored)
