"""Probabilistic sensitivity analysis (experiments/uncertainty.py, configs/psa/, experiment=psa): the draws
are valid parameters, paired across strategies, reproducible, keyed by name, follow their
distributions, and malformed entries fail with the key named."""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest
from omegaconf import OmegaConf

from experiments.config import compose_config, load_params, to_params
from experiments.uncertainty import PsaOptions, Varied, apply, draw, resolve, varied_parameters
from sim.params import ModelParams, ParameterError, default_costs


@functools.cache
def _psa_parameters() -> dict:  # composing is slow: once per test process
    return OmegaConf.to_container(compose_config(["experiment=psa"]).psa.parameters)


def psa_parameters() -> dict:
    return copy.deepcopy(_psa_parameters())


def test_the_psa_experiment_composes_with_its_varied_parameters():
    cfg = compose_config(["experiment=psa", "replicates=3"])
    assert cfg.psa.enabled and cfg.replicates == 3
    keys = {u.key for u in varied_parameters(cfg.psa.parameters)}
    assert "dynamics.retention.decay_rate_per_week" in keys
    assert "costs.items.peer_call.value_gbp" in keys
    assert len(keys) >= 15
    # a single run is unaffected by the psa group unless asked for
    assert compose_config([]).psa is None


def test_every_draw_is_a_valid_parameter_set():
    base = load_params(["n_graduates=50"])
    psa = PsaOptions(enabled=True, parameters=psa_parameters())
    for replicate in range(25):  # with_values validates every range
        params = apply(base, psa, seed=1, replicate=replicate)
        assert isinstance(params, ModelParams)


def test_draws_are_the_same_for_every_strategy_of_a_replicate():
    values = {}
    for strategy in ("course_only", "peer_group", "telephone"):
        p = to_params(compose_config(["experiment=psa", f"strategy={strategy}", "replicate=4"]))
        values[strategy] = (p.seed, p.dynamics.retention.isolation_effect, p.costs.items["peer_call"].value_gbp,
                            p.dynamics.telephone.effect.efficacy)
    assert values["course_only"] == values["peer_group"] == values["telephone"]
    other = to_params(compose_config(["experiment=psa", "strategy=telephone", "replicate=5"]))
    assert other.dynamics.retention.isolation_effect != values["telephone"][1]  # a posterior column of both shapes


def test_draws_are_reproducible_and_keyed_by_name():
    params = psa_parameters()
    base = load_params([])
    a, b = draw(params, 7, 3, base), draw(params, 7, 3, base)
    assert a == b
    assert draw(params, 8, 3, base) != a
    # removing one parameter leaves every other draw as it was
    fewer = {k: v for k, v in params.items() if k != "costs"}
    c = draw(fewer, 7, 3, base)
    assert c == {k: v for k, v in a.items() if not k.startswith("costs.")}


def test_distributions_are_centred_on_the_base_case():
    base = load_params([])
    entries = {u.key: u for u in resolve(psa_parameters(), base)}
    decay = entries["dynamics.retention.decay_rate_per_week"]
    assert decay.mode == pytest.approx(base.dynamics.retention.decay_rate_per_week)
    qaly = entries["dynamics.outcomes.qaly_per_sd_year"]
    assert qaly.mean == pytest.approx(base.dynamics.outcomes.qaly_per_sd_year)
    assert qaly.sd == pytest.approx(0.25 * qaly.mean)  # cv 0.25
    # a different base case moves the centre with it
    priors = load_params(["dynamics=priors"])
    moved = {u.key: u for u in resolve(psa_parameters(), priors)}
    assert moved["dynamics.retention.decay_rate_per_week"].mode == pytest.approx(
        priors.dynamics.retention.decay_rate_per_week)


@pytest.mark.parametrize("node", [
    {"distribution": "beta", "mean": 0.3, "sd": 0.1},
    {"distribution": "gamma", "mean": 40.0, "sd": 10.0},
    {"distribution": "lognormal", "mean": 2.0, "sd": 0.5},
    {"distribution": "normal", "mean": -3.8, "sd": 0.3},
    {"distribution": "uniform", "low": 2.0, "high": 4.0},
    {"distribution": "triangular", "low": 0.012, "mode": 0.025, "high": 0.03},
])
def test_draws_follow_their_distribution(node):
    entries = varied_parameters({"x": node})
    values = np.array([draw(entries, 11, r)["x"] for r in range(2000)])
    if node["distribution"] == "uniform":
        mean, sd = 3.0, 2.0 / np.sqrt(12)
        assert values.min() >= 2.0 and values.max() <= 4.0
    elif node["distribution"] == "triangular":
        lo, mo, hi = 0.012, 0.025, 0.03
        mean = (lo + mo + hi) / 3
        sd = np.sqrt((lo**2 + mo**2 + hi**2 - lo * mo - lo * hi - mo * hi) / 18)
        assert values.min() >= lo and values.max() <= hi
    else:
        mean, sd = node["mean"], node["sd"]
    assert values.mean() == pytest.approx(mean, abs=4 * sd / np.sqrt(len(values)))
    assert values.std() == pytest.approx(sd, rel=0.08)
    if node["distribution"] in ("beta",):
        assert ((values > 0) & (values < 1)).all()
    if node["distribution"] in ("gamma", "lognormal"):
        assert (values > 0).all()


def test_a_truncated_normal_stays_within_its_bounds():
    entries = varied_parameters({"x": {"distribution": "normal", "mean": 0.1, "sd": 0.3, "low": 0.0}})
    values = np.array([draw(entries, 2, r)["x"] for r in range(500)])
    assert values.min() >= 0.0


@pytest.mark.parametrize(("node", "key"), [
    ({"distribution": "poisson", "mean": 1.0, "sd": 1.0}, "psa.parameters.x.distribution"),
    ({"distribution": "beta", "mean": 0.3}, "psa.parameters.x.sd"),
    ({"distribution": "uniform", "low": 1.0}, "psa.parameters.x.high"),
    ({"distribution": "gamma", "mean": 1.0, "sd": 0.5, "sigma": 2.0}, "psa.parameters.x.sigma"),
    ({"distribution": "gamma", "mean": "a lot", "sd": 0.5}, "psa.parameters.x.mean"),
])
def test_malformed_entries_name_their_key(node, key):
    with pytest.raises(ParameterError) as err:
        varied_parameters({"x": node})
    assert err.value.key == key


@pytest.mark.parametrize(("node", "key"), [
    ({"distribution": "beta", "mean": 0.5, "sd": 0.6}, "psa.parameters.x.sd"),  # too wide for a beta
    ({"distribution": "triangular", "low": 0.0, "mode": 2.0, "high": 1.0}, "psa.parameters.x.mode"),
    ({"distribution": "uniform", "low": 2.0, "high": 1.0}, "psa.parameters.x.high"),
    ({"distribution": "gamma", "cv": 0.2}, "psa.parameters.x.mean"),  # no base value to centre on
])
def test_impossible_distributions_fail_before_any_run(node, key):
    with pytest.raises(ParameterError) as err:
        draw({"x": node}, 1, 0, base=None)
    assert err.value.key == key


def test_an_unknown_parameter_fails_naming_it():
    psa = PsaOptions(enabled=True, parameters={"dynamics": {"retention": {"decay_rate_per_month": {
        "distribution": "uniform", "low": 0.1, "high": 0.2}}}})
    with pytest.raises(ParameterError, match="decay_rate_per_month"):
        apply(ModelParams(costs=default_costs()), psa, seed=1, replicate=0)


def test_a_draw_outside_a_parameter_range_is_caught():
    psa = PsaOptions(enabled=True, parameters={"dynamics": {"telephone": {"answer_prob": {
        "distribution": "uniform", "low": 1.5, "high": 2.0}}}})
    with pytest.raises(ParameterError, match="dynamics.telephone.answer_prob"):
        apply(ModelParams(costs=default_costs()), psa, seed=1, replicate=0)


def test_a_psa_needs_a_seed_and_does_nothing_when_off():
    with pytest.raises(ParameterError, match="seed"):
        draw({"x": {"distribution": "uniform", "low": 0, "high": 1}}, None, 0)
    base = ModelParams(costs=default_costs())
    assert apply(base, None, 1, 0) is base
    assert apply(base, PsaOptions(enabled=False, parameters=psa_parameters()), 1, 0) is base


def test_describe_says_the_distribution_in_words():
    u = Varied(key="k", distribution="beta", cv=0.3).around(0.1)
    assert u.describe() == "Beta, mean 0.1, SD 0.03"
    t = Varied(key="k", distribution="triangular", low=0.012, high=0.03).around(0.025)
    assert t.describe() == "Triangular, 0.012 to 0.03, most likely 0.025"
    n = Varied(key="k", distribution="normal", sd=0.2, low=0.0).around(0.8)
    assert n.describe() == "Normal, mean 0.8, SD 0.2, at least 0"
