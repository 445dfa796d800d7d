"""Every config composes and runs; bad input fails before any work with a message naming the key."""

from __future__ import annotations

import dataclasses

import pytest
import yaml
from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException

import sim
from experiments.config import CONFIG_DIR, compose_config, config_hash, load_params, to_params
from sim.params import ModelParams, ParameterError, default_costs

GROUPS = {g: sorted(p.stem for p in (CONFIG_DIR / g).glob("*.yaml")) for g in ("population", "strategy", "dynamics", "costs")}


def test_every_group_has_its_documented_choices():
    assert set(GROUPS["strategy"]) >= {"course_only", "peer_group", "telephone", "online", "offer_all", "tailored"}
    assert set(GROUPS["population"]) >= {"clahrc_sample", "general_ltc", "older_75plus"}


@pytest.mark.parametrize(
    "group,choice", [(g, c) for g, choices in GROUPS.items() for c in choices], ids=lambda x: str(x)
)
def test_every_config_composes_and_runs_a_tiny_model(group, choice):
    params = load_params([f"{group}={choice}", "n_graduates=60", "weeks=6"])
    if group in ("population", "strategy"):
        assert getattr(params, group).name == choice  # a file's name matches the name it declares
    model = sim.SelfManagementModel.from_params(params).run()
    table = model.weekly_table()
    assert list(table["week"]) == list(range(7))
    assert table["mean_gain_sd"].notna().all()


@pytest.mark.parametrize("strategy", GROUPS["strategy"])
def test_every_strategy_carries_every_channel_block(strategy):
    text = (CONFIG_DIR / "strategy" / f"{strategy}.yaml").read_text()
    for channel in ("peer_group", "telephone", "online", "booster", "newsletter"):
        assert f"\n{channel}:\n  enabled:" in text


def test_enabled_channels_match_the_strategy_name():
    for name in ("peer_group", "telephone", "online"):
        params = load_params([f"strategy={name}"])
        enabled = {k for k, block in params.strategy.channels.items() if block.enabled}
        assert enabled == {name}
    assert load_params(["strategy=course_only"]).strategy.channels.keys()
    assert not any(b.enabled for b in load_params(["strategy=course_only"]).strategy.channels.values())


def test_any_channel_can_be_switched_on_from_the_command_line():
    params = load_params([
        "strategy=course_only", "strategy.newsletter.enabled=true", "strategy.booster.enabled=true",
        "strategy.booster.week=29", "strategy.peer_group.interval_weeks=4",
    ])
    assert params.strategy.newsletter.enabled and params.strategy.booster.enabled
    assert params.strategy.booster.week == 29 and params.strategy.peer_group.interval_weeks == 4


def test_priors_config_gives_exactly_the_library_defaults():
    """dynamics=priors and costs=uk add nothing to the defaults of sim/params.py."""
    params = load_params(["dynamics=priors"])
    assert params.dynamics == ModelParams().dynamics
    assert params.costs == default_costs()


def test_default_dynamics_are_the_calibrated_values():
    fitted = yaml.safe_load((CONFIG_DIR / "dynamics" / "calibrated.yaml").read_text())
    params = load_params([])
    assert fitted, "configs/dynamics/calibrated.yaml holds fitted values"

    def check(node, values, path):
        for key, value in values.items():
            if isinstance(value, dict):
                check(getattr(node, key), value, f"{path}.{key}")
            else:
                assert getattr(node, key) == pytest.approx(value), f"{path}.{key}"

    check(params.dynamics, fitted, "dynamics")
    prior = ModelParams().dynamics  # everything not fitted keeps its prior
    for block in ("newsletter",):
        assert block not in fitted and getattr(params.dynamics, block) == getattr(prior, block)
    assert params.dynamics.telephone.leave_prob_per_week == prior.telephone.leave_prob_per_week


def test_config_hash_is_stable_and_sensitive():
    assert config_hash(compose_config(["seed=3"])) == config_hash(compose_config(["seed=3"]))
    assert config_hash(compose_config(["seed=3"])) != config_hash(compose_config(["seed=4"]))


# --- bad input --------------------------------------------------------------------------------

RANGE_ERRORS = [
    ("n_graduates=0", "n_graduates"),
    ("weeks=0", "weeks"),
    ("strategy.peer_group.interval_weeks=0", "strategy.peer_group.interval_weeks"),
    ("strategy.telephone.interval_weeks=-2", "strategy.telephone.interval_weeks"),
    ("strategy.telephone.capacity_calls_per_week_per_100_offered=-1", "strategy.telephone.capacity_calls_per_week_per_100_offered"),
    ("strategy.start_week=10 strategy.end_week=5", "strategy.end_week"),
    ("strategy.booster.enabled=true strategy.booster.week=200 strategy.end_week=52", "strategy.booster.week"),
    ("population.group_averse_share=1.5", "population.group_averse_share"),
    ("population.age_band_shares=[0.5,0.5,0.5]", "population.age_band_shares"),
    ("population.age_band_shares=[0.5,0.5]", "population.age_band_shares"),
    ("population.online_access_by_age_band=[0.9,1.2,0.5]", "population.online_access_by_age_band[1]"),
    ("population.cohort_size_min=16 population.cohort_size_max=12", "population.cohort_size_max"),
    ("dynamics.retention.decay_rate_per_week=-0.1", "dynamics.retention.decay_rate_per_week"),
    ("dynamics.retention.spacing_optimal_gap_weeks=0", "dynamics.retention.spacing_optimal_gap_weeks"),
    ("dynamics.telephone.answer_prob=1.01", "dynamics.telephone.answer_prob"),
    ("dynamics.online.leave_prob_per_week_replied=-0.01", "dynamics.online.leave_prob_per_week_replied"),
    ("dynamics.peer_group.effect.efficacy=2", "dynamics.peer_group.effect.efficacy"),
    ("dynamics.outcomes.discount_rate_per_year=-0.035", "dynamics.outcomes.discount_rate_per_year"),
    ("costs.items.gp_surgery_consultation.value_gbp=-45", "costs.items.gp_surgery_consultation.value_gbp"),
    ("costs.items.gp_surgery_consultation.price_year=2031", "costs.items.gp_surgery_consultation.price_year"),
    ("costs.planned_contact_mix.gp_surgery_consultation=0.9", "costs.planned_contact_mix"),
    ("costs.price_year=2019", "price_year"),
]


@pytest.mark.parametrize("overrides,key", RANGE_ERRORS, ids=[k for _, k in RANGE_ERRORS])
def test_out_of_range_values_name_the_key_and_the_allowed_range(overrides, key):
    with pytest.raises(ParameterError) as err:
        load_params(overrides.split())
    message = str(err.value)
    assert key in message
    assert "must" in message or "required" in message  # says what is allowed
    assert "\n" not in message  # one line


TYPE_ERRORS = [
    ("n_graduates=many", "n_graduates"),
    ("strategy.peer_group.delivery=volunteer", "delivery"),
    ("strategy.matching=random", "matching"),
    ("strategy.peer_grup.enabled=true", "peer_grup"),
    ("dynamics.retention.decay_rate=0.1", "decay_rate"),
    ("population.group_averse_share=lots", "group_averse_share"),
    ("strategy=no_such_strategy", "no_such_strategy"),
]


@pytest.mark.parametrize("override,key", TYPE_ERRORS, ids=[k for _, k in TYPE_ERRORS])
def test_unknown_keys_and_wrong_types_fail_while_composing(override, key):
    with pytest.raises((HydraException, OmegaConfBaseException)) as err:
        compose_config([override])
    assert key in str(err.value)


def test_validation_happens_before_the_model_is_built():
    params = load_params(["n_graduates=50"])
    bad = dataclasses.replace(params, weeks=-1)
    with pytest.raises(ParameterError, match="weeks"):
        sim.SelfManagementModel.from_params(bad)
    with pytest.raises(ParameterError, match="weeks"):
        to_params(compose_config(["weeks=-1"]))


def test_with_values_sets_dotted_keys_on_a_copy_and_validates():
    from sim.params import with_values

    base = ModelParams()
    changed = with_values(base, {"dynamics.retention.decay_rate_per_week": 0.015,
                                 "costs.items.gp_surgery_consultation.value_gbp": 50.0,
                                 "strategy.peer_group.interval_weeks": 4.0})
    assert changed.dynamics.retention.decay_rate_per_week == 0.015
    assert changed.costs.items["gp_surgery_consultation"].value_gbp == 50.0
    assert changed.strategy.peer_group.interval_weeks == 4 and isinstance(changed.strategy.peer_group.interval_weeks, int)
    assert base.dynamics.retention.decay_rate_per_week == ModelParams().dynamics.retention.decay_rate_per_week
    # two keys through one block (copied once for both): both set, and the original untouched
    both = with_values(base, {"dynamics.retention.decay_rate_per_week": 0.02,
                              "dynamics.retention.isolation_effect": 0.3,
                              "costs.items.gp_surgery_consultation.value_gbp": 51.0})
    assert (both.dynamics.retention.decay_rate_per_week, both.dynamics.retention.isolation_effect) == (0.02, 0.3)
    assert base.dynamics.retention.isolation_effect == ModelParams().dynamics.retention.isolation_effect
    assert base.costs.items["gp_surgery_consultation"].value_gbp == ModelParams().costs.items[
        "gp_surgery_consultation"].value_gbp
    assert changed.costs.items["gp_surgery_consultation"].value_gbp == 50.0  # an earlier copy untouched too
    with pytest.raises(ParameterError, match="dynamics.retention.decay_rate"):
        with_values(base, {"dynamics.retention.decay_rate": 0.1})
    with pytest.raises(ParameterError, match="must be"):
        with_values(base, {"dynamics.retention.decay_rate_per_week": -1.0})
