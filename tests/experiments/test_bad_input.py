"""Bad input, from the command line and from Python: one line naming the key, the value and what is
allowed; exit code 2; nothing written (issue 15).

Command lines run in-process (``experiments.run.main`` with ``sys.argv`` set), from an empty
working folder that must still be empty afterwards; a few run as real subprocesses at the end.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from in_process import run_command

import sim
from experiments.config import load_params
from sim.params import with_values
from sim.params import (
    CostItem,
    ModelParams,
    OnlineParams,
    ParameterError,
    PeerGroupParams,
    PopulationParams,
    StrategyParams,
    validate,
)

ROOT = Path(__file__).resolve().parents[2]

# (command line, what the one line must contain: "key=value is not allowed: ..." and the rule)
RUN_CASES = [
    (["+strategy.peer_grup.enabled=true"], "strategy.peer_grup.enabled=True is not allowed", "peer_group"),
    (["strategy.peer_grup.enabled=true"], "strategy.peer_grup.enabled=True is not allowed", "peer_group"),
    (["+foo=1"], "foo=1 is not allowed", "not a parameter"),
    (["foo=1"], "foo=1 is not allowed", "not a parameter"),
    (["weeks.x=1"], "weeks.x=1 is not allowed", "single value"),
    (["outputs.pdf=true"], "outputs.pdf=True is not allowed", "not a parameter"),
    (["costs.items.gp_surgery_consultation.valu_gbp=4"], "valu_gbp=4 is not allowed", "value_gbp"),
    (["dynamics.measurement.responder_threshold_sd=nan"], "responder_threshold_sd=nan is not allowed",
     "finite"),
    (["dynamics.health.self_manage_intercept=inf"], "self_manage_intercept=inf is not allowed", "finite"),
    (["dynamics.health.self_manage_intercept=-inf"], "self_manage_intercept=-inf is not allowed", "finite"),
    (["strategy.start_week=200", "weeks=52"], "strategy.start_week=200 is not allowed", "<= weeks (52)"),
    (["seed=-1"], "seed=-1 is not allowed", ">= 0"),
    (["seed=1.5"], "seed=1.5 is not allowed", "whole number"),
    (["seed=abc"], "seed='abc' is not allowed", "whole number"),
    (["n_graduates=1000000000"], "n_graduates=1000000000 is not allowed", "between 1 and 10000000"),
    (["n_graduates=0"], "n_graduates=0 is not allowed", ">= 1"),
    (["n_graduates=many"], "n_graduates='many' is not allowed", "whole number"),
    (["n_graduates=100.0"], "n_graduates=100.0 is not allowed", "whole number"),
    (["weeks=0"], "weeks=0 is not allowed", ">= 1 and <= 5200"),
    (["weeks=5201"], "weeks=5201 is not allowed", "between 1 and 5200"),
    (["weeks=-1"], "weeks=-1 is not allowed", ">= 1 and <= 5200"),
    (["hydra.run.dir=/proc/x"], "hydra.run.dir='/proc/x' is not allowed", "created and written"),
    (["strategy=peer_grp"], "strategy='peer_grp' is not allowed", "peer_group"),
    (["population=nowhere"], "population='nowhere' is not allowed", "general_ltc"),
    (["dynamics=fitted"], "dynamics='fitted' is not allowed", "calibrated"),
    (["costs=us"], "costs='us' is not allowed", "uk"),
    (["engine=fast"], "engine='fast' is not allowed", "vectorized"),
    (["replicate=-1"], "replicate=-1 is not allowed", ">= 0"),
    (["replicates=0"], "replicates=0 is not allowed", ">= 1"),
    (["strategy.peer_group.enabled=maybe"], "strategy.peer_group.enabled='maybe' is not allowed", "true or false"),
    (["strategy.peer_group.interval_weeks=0"], "strategy.peer_group.interval_weeks=0 is not allowed", ">= 1"),
    (["strategy.peer_group.interval_weeks=two"], "interval_weeks='two' is not allowed", "whole number"),
    (["strategy.telephone.capacity_calls_per_week_per_100_offered=-1"], "capacity_calls_per_week_per_100_offered=-1.0 is not",
     ">= 0"),
    (["strategy.end_week=-3"], "strategy.end_week=-3 is not allowed", ">= 0"),
    (["strategy.start_week=10", "strategy.end_week=5"], "strategy.end_week=5 is not allowed", "start_week"),
    (["strategy.booster.enabled=true", "strategy.booster.week=200"], "strategy.booster.week=200 is not allowed",
     "weeks"),
    (["population.group_averse_share=1.5"], "population.group_averse_share=1.5 is not allowed", "between 0"),
    (["population.group_averse_share=nan"], "population.group_averse_share=nan is not allowed", "finite"),
    (["population.age_band_shares=[0.5,0.5,0.5]"], "population.age_band_shares=[0.5, 0.5, 0.5] is not",
     "sum to 1"),
    (["population.age_band_shares=0.5"], "population.age_band_shares=0.5 is not allowed", "list"),
    (["population.cohort_size_min=16", "population.cohort_size_max=12"], "cohort_size_max=12 is not allowed",
     "cohort_size_min"),
    (["dynamics.retention.decay_rate_per_week=-0.1"], "decay_rate_per_week=-0.1 is not allowed", ">= 0"),
    (["dynamics.retention.decay_rate_per_week=inf"], "decay_rate_per_week=inf is not allowed", "finite"),
    (["dynamics.telephone.answer_prob=1.01"], "dynamics.telephone.answer_prob=1.01 is not allowed", "and 1"),
    (["dynamics.outcomes.discount_rate_per_year=-0.035"], "discount_rate_per_year=-0.035 is not", ">= 0"),
    (["costs.items.gp_surgery_consultation.value_gbp=-45"], "value_gbp=-45.0 is not allowed", ">= 0"),
    (["costs.items.gp_surgery_consultation.value_gbp=nan"], "value_gbp=nan is not allowed", "finite"),
    (["costs.items.gp_surgery_consultation.price_year=2031"], "price_year=2031 is not allowed", "inflation_index"),
    (["costs.price_year=2019"], "costs.price_year=2019 is not allowed", "inflation_index"),
    (["outputs.csv=perhaps"], "outputs.csv='perhaps' is not allowed", "true or false"),
    # sweeps: every point is checked before the first run
    (["-m", "experiment=compare_strategies", "replicates=0"], "replicates=0 is not allowed", ">= 1"),
    (["-m", "experiment=compare_strategies", "hydra/launcher=joblib", "hydra.launcher.n_jobs=0"],
     "hydra.launcher.n_jobs=0 is not allowed", "-1 for one per core"),
    (["-m", "strategy.peer_group.interval_weeks=2,0"], "strategy.peer_group.interval_weeks=0 is not allowed",
     ">= 1"),
    (["-m", "seed=1,-1"], "seed=-1 is not allowed", ">= 0"),
    (["-m", "replicate=0,-1"], "replicate=-1 is not allowed", ">= 0"),
    (["-m", "+foo=1,2"], "foo=1 is not allowed", "not a parameter"),
    (["-m", "strategy=course_only,peer_grp"], "strategy='peer_grp' is not allowed", "peer_group"),
    (["-m", "hydra.sweep.dir=/proc/x/y"], "hydra.sweep.dir='/proc/x/y' is not allowed", "created and written"),
    (["-m", "weeks=52", "strategy.start_week=10,60"], "strategy.start_week=60 is not allowed", "<= weeks (52)"),
]




@pytest.mark.parametrize("args,message,rule", RUN_CASES, ids=[" ".join(c[0]) for c in RUN_CASES])
def test_bad_command_line_gives_one_line_exit_2_and_writes_nothing(monkeypatch, tmp_path, capsys, args, message,
                                                                  rule):
    monkeypatch.chdir(tmp_path)  # default output folders would land here
    assert run_command(*args) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ") and message in lines[0] and rule in lines[0], lines[0]
    assert "Traceback" not in captured.out + captured.err
    assert list(tmp_path.iterdir()) == [], "a refused run wrote something"


# (tool, arguments, what the one line must contain)
TOOL_CASES = [
    ("report", ["{sweep}"], "holds no runs/ folder"),
    ("collect", ["{sweep}"], "holds no runs/ folder"),
]


@pytest.mark.parametrize("tool,args,message", TOOL_CASES)
def test_bad_arguments_of_collect_and_report(tmp_path, capsys, tool, args, message):
    from experiments import collect
    from experiments.report import build as report

    main = {"report": report.main, "collect": collect.main}[tool]
    sweep = tmp_path / "nothing_here"
    assert main([a.format(sweep=sweep) for a in args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert not sweep.exists()


def _retention(**values) -> ModelParams:
    p = ModelParams(n_graduates=50, weeks=5, seed=1)
    return dataclasses.replace(p, dynamics=dataclasses.replace(
        p.dynamics, retention=dataclasses.replace(p.dynamics.retention, **values)))


def _measurement(**values) -> ModelParams:
    p = ModelParams(n_graduates=50, weeks=5, seed=1)
    return dataclasses.replace(p, dynamics=dataclasses.replace(
        p.dynamics, measurement=dataclasses.replace(p.dynamics.measurement, **values)))


def _health(**values) -> ModelParams:
    p = ModelParams(n_graduates=50, weeks=5, seed=1)
    return dataclasses.replace(p, dynamics=dataclasses.replace(
        p.dynamics, health=dataclasses.replace(p.dynamics.health, **values)))


def _cost(value) -> ModelParams:
    p = ModelParams(n_graduates=50, weeks=5, seed=1)
    items = dict(p.costs.items)
    items["peer_call"] = CostItem(value, 2024, "test")
    return dataclasses.replace(p, costs=dataclasses.replace(p.costs, items=items))


# (what to call, what the message must contain)
PYTHON_CASES = [
    ("model(100.0, 5)", lambda: sim.SelfManagementModel(100.0, 5), "n_graduates=100.0 is not allowed: must be a whole"),
    ("model(100, 5.0)", lambda: sim.SelfManagementModel(100, 5.0), "weeks=5.0 is not allowed: must be a whole"),
    ("model(True, 5)", lambda: sim.SelfManagementModel(True, 5), "n_graduates=True is not allowed"),
    ("model(rng=-1)", lambda: sim.SelfManagementModel(100, 5, rng=-1), "rng=-1 is not allowed: must be a whole"),
    ("model(10**9)", lambda: sim.SelfManagementModel(10**9, 5), "n_graduates=1000000000 is not allowed"),
    ("peer_group enabled='false'", lambda: sim.SelfManagementModel(50, 5, strategy=StrategyParams(
        name="peer_group", peer_group=PeerGroupParams(enabled="false"))), "strategy.peer_group.enabled='false'"),
    ("online moderated='yes'", lambda: sim.SelfManagementModel(50, 5, strategy=StrategyParams(
        online=OnlineParams(enabled=True, moderated="yes"))), "strategy.online.moderated='yes' is not allowed"),
    ("start_week beyond weeks", lambda: sim.SelfManagementModel(50, 52, strategy=StrategyParams(start_week=200)),
     "strategy.start_week=200 is not allowed: must be <= weeks (52)"),
    ("population label 5", lambda: sim.SelfManagementModel(50, 5, population=PopulationParams(label=5)),
     "population.label=5 is not allowed: must be text"),
    ("threshold nan", lambda: validate(_measurement(responder_threshold_sd=float("nan"))),
     "dynamics.measurement.responder_threshold_sd=nan is not allowed: must be a finite"),
    ("intercept inf", lambda: validate(_health(self_manage_intercept=float("inf"))),
     "dynamics.health.self_manage_intercept=inf is not allowed: must be a finite"),
    ("cost item inf", lambda: validate(_cost(float("inf"))), "costs.items.peer_call.value_gbp=inf is not allowed"),
    ("seed -1", lambda: validate(ModelParams(seed=-1)), "seed=-1 is not allowed: must be a whole number >= 0"),
    ("seed 2.0", lambda: validate(ModelParams(seed=2.0)), "seed=2.0 is not allowed: must be a whole number"),
    ("load_params +foo", lambda: load_params(["+foo=1"]), "foo=1 is not allowed: not a parameter"),
    ("load_params +peer_grup", lambda: load_params(["+strategy.peer_grup.enabled=true"]),
     "strategy.peer_grup='{...}' is not allowed: not a parameter"),
    ("load_params seed=-1", lambda: load_params(["seed=-1"]), "seed=-1 is not allowed"),
    ("with_values nan", lambda: with_values(ModelParams(), {"dynamics.measurement.responder_threshold_sd":
                                                            float("nan")}), "responder_threshold_sd=nan"),
    ("with_values 'false'", lambda: with_values(ModelParams(), {"strategy.peer_group.enabled": "false"}),
     "strategy.peer_group.enabled='false' is not allowed"),
]


@pytest.mark.parametrize("name,call,message", PYTHON_CASES, ids=[c[0] for c in PYTHON_CASES])
def test_bad_python_input_raises_one_clear_parameter_error(monkeypatch, tmp_path, name, call, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError) as err:
        call()
    assert message in str(err.value) and "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_there_are_at_least_60_bad_inputs():
    assert len(RUN_CASES) + len(TOOL_CASES) + len(PYTHON_CASES) >= 60


def test_the_memory_estimate_refuses_a_run_that_would_not_fit(monkeypatch):
    import sim.params as params

    monkeypatch.setattr(params, "_available_memory_bytes", lambda: 2 * 2**30)  # a 2 GiB machine
    with pytest.raises(ParameterError, match=r"n_graduates=5000000 is not allowed: needs about 4\.9 GiB"):
        validate(ModelParams(n_graduates=5_000_000))
    validate(ModelParams(n_graduates=1_000_000))  # fits


@pytest.mark.parametrize("args,message", [
    (["strategy.peer_grup.enabled=true"], "strategy.peer_grup.enabled=True is not allowed"),
    (["seed=-1"], "seed=-1 is not allowed"),
    (["-m", "replicates=0"], "replicates=0 is not allowed"),
])
def test_bad_input_through_the_real_command(tmp_path, args, message):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-m", "experiments.run", *args], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and message in done.stderr
    assert list(tmp_path.iterdir()) == []
