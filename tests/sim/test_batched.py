"""The batched engine (issue 25 item 1): a batch of K runs is K separate vectorised runs, bit for bit.

:class:`sim.batched.BatchedModel` steps K runs of one strategy together over one set of arrays,
each run drawing from its own seed's streams the numbers it would draw alone. So the comparison
with the vectorised engine is exact, not in distribution: for every strategy of
``configs/strategy/``, run k of a batch has the weekly record, the end state (gains, persistent
gains, every channel's engagement) and the costs and QALYs of the vectorised run of its own
parameters and seed. Parameter sets that differ within a batch each give their own run's results;
the same seed under two strategies gives the same people and health shocks; a batch repeats bit
for bit from its seeds; and what cannot be batched (two strategies, two sizes, two decay shapes)
is refused with the key named.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import SelfManagementModel
from sim.batched import BatchedModel, run_batch
from sim.calibrated import calibrated_dynamics
from sim.engines import model_class
from sim.params import DecayShape, ModelParams, ParameterError

N, WEEKS = 200, 30  # small and short: every channel opens, meets, calls, posts and closes groups
SEEDS = (5, 17, 23)
STRATEGIES = sorted(p.stem for p in (Path(__file__).parents[2] / "configs" / "strategy").glob("*.yaml"))


def load_strategy(name):
    from experiments.config import load_strategy as load  # as tests/sim/test_measurement.py does

    return load(name)


def params_of(strategy, seed, dynamics=None, **changes) -> ModelParams:
    return ModelParams(n_graduates=N, weeks=WEEKS, seed=seed, strategy=strategy,
                       dynamics=dynamics or calibrated_dynamics(), **changes)


def assert_same_run(single, view) -> None:
    """Everything the analyses read of a run, equal bit for bit."""
    pd.testing.assert_frame_equal(single.weekly_table(), view.weekly_table(), check_exact=True)
    np.testing.assert_array_equal(single.week_gain, view.week_gain)
    np.testing.assert_array_equal(single.graduates.persistent, view.graduates.persistent)
    np.testing.assert_array_equal(single.graduates.cohort, view.graduates.cohort)
    for name, channel in single.channels.items():
        np.testing.assert_array_equal(channel.status, view.channels[name].status, err_msg=name)
        np.testing.assert_array_equal(channel.contacts, view.channels[name].contacts, err_msg=name)
    np.testing.assert_array_equal(single.ledger.qalys_by_graduate, view.ledger.qalys_by_graduate)
    assert single.ledger.gbp == view.ledger.gbp
    assert single.ledger.discounted_gbp == view.ledger.discounted_gbp
    assert single.datacollector.model_vars == view.datacollector.model_vars


def test_the_strategies_are_found():
    assert {"course_only", "no_course", "offer_all", "tailored"} <= set(STRATEGIES)


@pytest.mark.parametrize("name", STRATEGIES)
def test_a_batch_is_its_runs_bit_for_bit(name):
    """Run k of a batch of seeds is the vectorised run of seed k."""
    strategy = load_strategy(name)
    views = run_batch([params_of(strategy, seed) for seed in SEEDS])
    assert [v.seed for v in views] == list(SEEDS)
    for seed, view in zip(SEEDS, views):
        assert_same_run(SelfManagementModel(N, WEEKS, strategy=strategy, rng=seed).run(), view)


def scarce_everything(make_strategy):
    """Every channel at once, calls a third of the usual capacity (a waiting list), support ending."""
    strategy = make_strategy("everything")
    return dataclasses.replace(strategy, end_week=24, booster=dataclasses.replace(strategy.booster, week=10),
                               telephone=dataclasses.replace(strategy.telephone,
                                                             capacity_calls_per_week_per_100_offered=12.0))


def differing_dynamics(k: int):
    """Dynamics that differ in every block a week reads (run k's own values)."""
    d = calibrated_dynamics()
    r = dataclasses.replace
    return r(d,
             retention=r(d.retention, decay_rate_per_week=0.01 * (k + 1), habit_gain_per_contact=0.1 + 0.1 * k),
             health=r(d.health, flare_prob_per_week=0.03 + 0.02 * k),
             measurement=r(d.measurement, reliability=0.7 + 0.1 * k),
             connectedness=r(d.connectedness, drift_rate_per_week=0.05 * (k + 1)),
             peer_group=r(d.peer_group, attend_intercept=-3.8 + 0.4 * k, volunteer_leave_prob_per_week=0.02 * k,
                          effect=r(d.peer_group.effect, efficacy=0.05 * (k + 1))),
             telephone=r(d.telephone, answer_prob=0.5 + 0.2 * k, max_missed_calls=1 + k),
             online=r(d.online, critical_mass_posters=2.0 + k, read_efficacy=0.01 * k),
             booster=r(d.booster, attend_prob_per_session=0.3 + 0.3 * k),
             newsletter=r(d.newsletter, read_prob=0.2 + 0.3 * k),
             outcomes=r(d.outcomes, discount_rate_per_year=0.015 * (k + 1)))


def test_each_run_gets_its_own_parameters(make_strategy):
    """Parameter sets that differ (every block, and unit costs) each give their own run's results."""
    strategy = scarce_everything(make_strategy)
    costs = calibrated = params_of(strategy, 1).costs
    dearer = dataclasses.replace(costs, items={**costs.items, "peer_call": dataclasses.replace(
        costs.items["peer_call"], value_gbp=9.0)})
    runs = [params_of(strategy, 40 + k, differing_dynamics(k), costs=dearer if k == 1 else calibrated)
            for k in range(3)]
    views = BatchedModel(runs).run().results()
    for p, view in zip(runs, views):
        assert_same_run(SelfManagementModel.from_params(p).run(), view)
        assert view.channels["telephone"].behaviour == p.dynamics.telephone
    gains = [v.datacollector.model_vars["mean_gain_sd"][-1] for v in views]
    assert len(set(gains)) == 3  # three parameter sets, three results


def test_a_run_with_no_effect_is_that_run(make_strategy):
    """Run k with every channel's efficacy 0 is the single run with efficacy 0, and keeps less gain
    than its neighbour with the usual efficacy (the same seed: the same people)."""
    strategy = scarce_everything(make_strategy)
    d = calibrated_dynamics()
    none = dataclasses.replace(d, **{c: dataclasses.replace(getattr(d, c), effect=dataclasses.replace(
        getattr(d, c).effect, efficacy=0.0)) for c in ("peer_group", "telephone", "online", "booster", "newsletter")})
    runs = [params_of(strategy, 9, d), params_of(strategy, 9, none)]
    usual, without = BatchedModel(runs).run().results()
    assert_same_run(SelfManagementModel.from_params(runs[1]).run(), without)
    assert without.datacollector.model_vars["mean_gain_sd"][-1] < usual.datacollector.model_vars["mean_gain_sd"][-1]
    np.testing.assert_array_equal(usual.graduates.baseline, without.graduates.baseline)


def test_the_same_seed_gives_the_same_people_and_shocks_under_two_strategies():
    """Common random numbers hold within batches: a seed's people and flare-ups are the same
    under course only and under all three channels."""
    alone = run_batch([params_of(load_strategy("course_only"), s) for s in SEEDS])
    supported = run_batch([params_of(load_strategy("offer_all"), s) for s in SEEDS])
    for a, b in zip(alone, supported):
        for name in ("baseline", "severity", "group_affinity", "cohort", "sessions_attended", "course_gain"):
            np.testing.assert_array_equal(getattr(a.graduates, name), getattr(b.graduates, name), err_msg=name)
        assert a.datacollector.model_vars["flare_ups"] == b.datacollector.model_vars["flare_ups"]
        assert a.datacollector.model_vars["mean_gain_sd"] != b.datacollector.model_vars["mean_gain_sd"]
    assert alone[0].datacollector.model_vars["flare_ups"] != alone[1].datacollector.model_vars["flare_ups"]


def test_a_batch_repeats_bit_for_bit(make_strategy):
    strategy = scarce_everything(make_strategy)
    runs = [params_of(strategy, s, differing_dynamics(k)) for k, s in enumerate(SEEDS)]
    first, again = BatchedModel(runs).run().results(), BatchedModel(runs).run().results()
    for a, b in zip(first, again):
        assert_same_run(a, b)


def test_one_parameter_set_for_several_seeds():
    p = params_of(load_strategy("peer_group"), 0)
    views = run_batch(p, seeds=[3, 4], weeks=8)
    assert [v.seed for v in views] == [3, 4] and views[0].week == 8
    assert_same_run(SelfManagementModel(N, 8, strategy=p.strategy, rng=4).run(), views[1])


def test_a_batch_of_one_is_the_vectorised_engine():
    """``engine=batched`` for one run: the vectorised model's results, without Mesa agents."""
    p = params_of(load_strategy("offer_all"), 8)
    assert model_class("batched") is BatchedModel
    one = model_class("batched").from_params(p).run()
    assert not hasattr(one, "agents")  # not a Mesa model: no agents, no Mesa
    assert_same_run(SelfManagementModel.from_params(p).run(), one.results()[0])


def test_a_batch_runs_without_importing_mesa_or_pandas():
    """The batched engine is the rules over arrays (sim.core) without Mesa's agents: a process that
    runs a batch never imports Mesa or pandas (about 180 MB of memory and most of a second), unless
    it asks for a table."""
    import subprocess
    import sys

    code = ("import sys, dataclasses\n"
            "from sim.params import ModelParams\n"
            "from sim.calibrated import calibrated_dynamics\n"
            "from sim.batched import run_batch\n"
            "p = ModelParams(n_graduates=50, weeks=6, seed=1, dynamics=calibrated_dynamics())\n"
            "views = run_batch(p, seeds=[1, 2])\n"
            "assert len(views[1].datacollector.model_vars['mean_gain_sd']) == 7\n"
            "print(sorted(m for m in ('mesa', 'pandas') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("change, key", [
    ({"n_graduates": N + 1}, "n_graduates"),
    ({"weeks": WEEKS + 1}, "weeks"),
    ({"strategy": "offer_all"}, "strategy.name"),
    ({"dynamics": "the other shape"}, "dynamics.retention.decay_shape"),
    ({"seed": None}, "seed"),
])
def test_what_cannot_be_batched_is_refused(change, key):
    first = params_of(load_strategy("course_only"), 1)
    if change.get("strategy"):
        change = {"strategy": load_strategy(change["strategy"])}
    if change.get("dynamics"):
        d = calibrated_dynamics()
        other = DecayShape.exponential if d.retention.decay_shape == DecayShape.power_law else DecayShape.power_law
        change = {"dynamics": dataclasses.replace(d, retention=dataclasses.replace(d.retention, decay_shape=other))}
    second = dataclasses.replace(first, seed=2, **{k: v for k, v in change.items() if k != "seed"})
    if "seed" in change:
        second = dataclasses.replace(second, seed=None)
    with pytest.raises(ParameterError, match=key.replace(".", r"\.")):
        BatchedModel([first, second])
