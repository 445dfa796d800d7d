"""Parameter validation (sim/params.py) as seen through the model: a bad value fails before anything
runs, with a :class:`sim.ParameterError` naming the full dotted key.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pandas as pd
import pytest

import sim
from sim import ModelParams, ParameterError, SelfManagementModel
from sim.params import (
    Caller,
    CostItem,
    DecayShape,
    GroupDelivery,
    GroupFormation,
    Matching,
    PeerGroupParams,
    TelephoneParams,
)


def replace_path(obj: Any, path: str, value: Any) -> Any:
    """A copy of the (nested) dataclass ``obj`` with the field at dotted ``path`` set to ``value``.

    Dict-valued fields are traversed by key (``costs.items.peer_call.value_gbp``); setting a dict
    entry to the sentinel ``DELETE`` removes it.
    """
    head, _, rest = path.partition(".")
    if isinstance(obj, dict):
        new = dict(obj)
        if rest:
            new[head] = replace_path(obj[head], rest, value)
        elif value is DELETE:
            del new[head]
        else:
            new[head] = value
        return new
    if not rest:
        return dataclasses.replace(obj, **{head: value})
    return dataclasses.replace(obj, **{head: replace_path(getattr(obj, head), rest, value)})


DELETE = object()


def defaults() -> ModelParams:
    return ModelParams(n_graduates=50, weeks=5, seed=1)


def build_model(params: ModelParams) -> SelfManagementModel:
    """Through the public constructor, as a user would."""
    return SelfManagementModel(
        params.n_graduates, params.weeks, strategy=params.strategy, population=params.population,
        dynamics=params.dynamics, costs=params.costs, rng=params.seed,
    )


# (id, expected key in the message, changes applied in order as (dotted path, value))
BAD = [
    ("n_graduates_zero", "n_graduates", [("n_graduates", 0)]),
    ("n_graduates_fraction", "n_graduates", [("n_graduates", 10.5)]),
    ("n_graduates_bool", "n_graduates", [("n_graduates", True)]),
    ("weeks_zero", "weeks", [("weeks", 0)]),
    ("weeks_too_many", "weeks", [("weeks", 5201)]),
    ("group_interval_zero", "strategy.peer_group.interval_weeks", [("strategy.peer_group.interval_weeks", 0)]),
    ("group_interval_fraction", "strategy.peer_group.interval_weeks",
     [("strategy.peer_group.interval_weeks", 1.5)]),
    ("call_interval_over_52", "strategy.telephone.interval_weeks", [("strategy.telephone.interval_weeks", 53)]),
    ("start_week_negative", "strategy.start_week", [("strategy.start_week", -1)]),
    ("end_week_before_start", "strategy.end_week", [("strategy.start_week", 10), ("strategy.end_week", 5)]),
    ("end_week_fraction", "strategy.end_week", [("strategy.end_week", 20.5)]),
    ("negative_call_capacity", "strategy.telephone.capacity_calls_per_week_per_100_offered",
     [("strategy.telephone.capacity_calls_per_week_per_100_offered", -1.0)]),
    ("call_capacity_over_100", "strategy.telephone.capacity_calls_per_week_per_100_offered",
     [("strategy.telephone.capacity_calls_per_week_per_100_offered", 101.0)]),
    ("zero_calls_per_volunteer", "strategy.telephone.calls_per_volunteer_per_week",
     [("strategy.telephone.calls_per_volunteer_per_week", 0.0)]),
    ("negative_forum_newcomers", "strategy.online.newcomers_per_intake_per_100_founding_members",
     [("strategy.online.newcomers_per_intake_per_100_founding_members", -1.0)]),
    ("forum_intake_interval_over_52", "strategy.online.intake_interval_weeks",
     [("strategy.online.intake_interval_weeks", 53)]),
    ("forum_intake_interval_fraction", "strategy.online.intake_interval_weeks",
     [("strategy.online.intake_interval_weeks", 6.5)]),
    ("negative_moderator_hours", "strategy.online.moderator_hours_per_week_per_1000_members",
     [("strategy.online.moderator_hours_per_week_per_1000_members", -1.0)]),
    ("negative_min_attendance", "strategy.peer_group.min_attendance",
     [("strategy.peer_group.min_attendance", -2)]),
    ("booster_after_end_week", "strategy.booster.week",
     [("strategy.booster.enabled", True), ("strategy.booster.week", 30), ("strategy.end_week", 20)]),
    ("booster_before_start_week", "strategy.booster.week",
     [("strategy.booster.enabled", True), ("strategy.booster.week", 5), ("strategy.start_week", 10)]),
    ("booster_after_horizon", "strategy.booster.week",
     [("strategy.booster.enabled", True), ("strategy.booster.week", 30)]),  # weeks is 5
    ("booster_week_zero", "strategy.booster.week", [("strategy.booster.week", 0)]),
    ("booster_sessions_over_6", "strategy.booster.sessions", [("strategy.booster.sessions", 7)]),
    ("tailoring_threshold_over_1", "strategy.tailoring_group_affinity_threshold",
     [("strategy.tailoring_group_affinity_threshold", 1.2)]),
    ("group_averse_share_over_1", "population.group_averse_share", [("population.group_averse_share", 1.5)]),
    ("age_shares_not_summing_to_1", "population.age_band_shares",
     [("population.age_band_shares", [0.5, 0.5, 0.5])]),
    ("age_shares_two_bands", "population.age_band_shares", [("population.age_band_shares", [0.5, 0.5])]),
    ("age_share_negative", "population.age_band_shares", [("population.age_band_shares", [1.2, -0.2, 0.0])]),
    ("online_access_over_1", "population.online_access_by_age_band",
     [("population.online_access_by_age_band", [0.9, 1.1, 0.5])]),
    ("cohort_size_min_zero", "population.cohort_size_min", [("population.cohort_size_min", 0)]),
    ("cohort_max_below_min", "population.cohort_size_max", [("population.cohort_size_max", 10)]),
    ("negative_ties", "population.ties_per_graduate", [("population.ties_per_graduate", -1.0)]),
    ("decay_rate_negative", "dynamics.retention.decay_rate_per_week",
     [("dynamics.retention.decay_rate_per_week", -0.01)]),
    ("decay_rate_nan", "dynamics.retention.decay_rate_per_week",
     [("dynamics.retention.decay_rate_per_week", math.nan)]),
    ("decay_rate_text", "dynamics.retention.decay_rate_per_week",
     [("dynamics.retention.decay_rate_per_week", "0.02")]),
    ("max_gain_zero", "dynamics.retention.max_gain_sd", [("dynamics.retention.max_gain_sd", 0.0)]),
    ("efficacy_over_1", "dynamics.peer_group.effect.efficacy", [("dynamics.peer_group.effect.efficacy", 1.5)]),
    ("answer_prob_negative", "dynamics.telephone.answer_prob", [("dynamics.telephone.answer_prob", -0.1)]),
    ("course_sessions_zero", "dynamics.course.sessions", [("dynamics.course.sessions", 0)]),
    ("poster_propensity_zero", "dynamics.online.poster_propensity_a", [("dynamics.online.poster_propensity_a", 0.0)]),
    ("missing_cost_item", "costs.items.peer_call", [("costs.items.peer_call", DELETE)]),
    ("negative_unit_cost", "costs.items.gp_surgery_consultation.value_gbp",
     [("costs.items.gp_surgery_consultation.value_gbp", -5.0)]),
    ("unindexed_price_year", "costs.items.peer_call.price_year", [("costs.items.peer_call.price_year", 2001)]),
    ("zero_inflation_index", "costs.inflation_index[2024]", [("costs.inflation_index.2024", 0.0)]),
    ("planned_mix_bad_key", "costs.planned_contact_mix.hospital", [("costs.planned_contact_mix.hospital", 0.0)]),
    ("planned_mix_not_summing_to_1", "costs.planned_contact_mix",
     [("costs.planned_contact_mix.gp_surgery_consultation", 0.9)]),
    # enum-valued fields: a typo must fail too, not silently pick a default branch
    ("matching_typo", "strategy.matching", [("strategy.matching", "tailor")]),
    ("decay_shape_typo", "dynamics.retention.decay_shape", [("dynamics.retention.decay_shape", "powerlaw")]),
]


def _apply(changes) -> ModelParams:
    params = defaults()
    for path, value in changes:
        if path == "costs.inflation_index.2024":  # dict keyed by int
            params = dataclasses.replace(
                params, costs=dataclasses.replace(params.costs, inflation_index={**params.costs.inflation_index,
                                                                                 2024: value})
            )
        else:
            params = replace_path(params, path, value)
    return params


def test_enough_distinct_bad_values():
    assert len({case_id for case_id, _, _ in BAD}) == len(BAD) >= 20
    assert len({key for _, key, _ in BAD}) >= 20


@pytest.mark.parametrize(("key", "changes"), [(k, c) for _, k, c in BAD], ids=[i for i, _, _ in BAD])
def test_bad_value_raises_parameter_error_naming_the_key(key, changes):
    params = _apply(changes)
    with pytest.raises(ParameterError) as info:
        build_model(params)
    assert key in str(info.value), f"message {str(info.value)!r} does not name {key!r}"
    assert info.value.key.startswith(key.split("[")[0])
    assert isinstance(info.value, ValueError)  # callers catching ValueError still catch it


@pytest.mark.parametrize(("key", "changes"), [(k, c) for _, k, c in BAD[:8]], ids=[i for i, _, _ in BAD[:8]])
def test_validate_raises_the_same_error_without_a_model(key, changes):
    with pytest.raises(ParameterError, match=key.replace("[", r"\[").replace("]", r"\]")):
        sim.validate(_apply(changes))


# --- values at the edge of their range are allowed ---------------------------------------------

GOOD_EDGES = [
    ("probability_1", [("population.group_averse_share", 1.0)]),
    ("probability_0", [("population.group_averse_share", 0.0)]),
    ("interval_52", [("strategy.peer_group.interval_weeks", 52)]),
    ("end_week_equals_start", [("strategy.start_week", 3), ("strategy.end_week", 3)]),
    ("zero_call_capacity", [("strategy.telephone.capacity_calls_per_week_per_100_offered", 0.0)]),
    ("call_capacity_100", [("strategy.telephone.capacity_calls_per_week_per_100_offered", 100.0)]),
    ("no_forum_intake", [("strategy.online.intake_interval_weeks", 0)]),
    ("booster_on_end_week", [("strategy.booster.enabled", True), ("strategy.booster.week", 4),
                             ("strategy.end_week", 4)]),
    ("one_graduate", [("n_graduates", 1)]),
    ("all_75_plus", [("population.age_band_shares", [0.0, 0.0, 1.0])]),
]


@pytest.mark.parametrize("changes", [c for _, c in GOOD_EDGES], ids=[i for i, _ in GOOD_EDGES])
def test_edge_values_are_accepted_and_run(changes):
    model = build_model(_apply(changes)).run()
    assert model.week == model.params.weeks


def test_defaults_validate_and_error_carries_key_value_and_rule():
    assert sim.validate(defaults()) is not None
    with pytest.raises(ParameterError) as info:
        build_model(_apply([("population.group_averse_share", 1.5)]))
    err = info.value
    assert (err.key, err.value) == ("population.group_averse_share", 1.5)
    assert "1.5" in str(err) and "between 0.0 and 1.0" in str(err)


def test_cost_item_defaults_cover_every_required_item():
    from sim.params import REQUIRED_COST_ITEMS, default_costs

    costs = default_costs()
    assert set(REQUIRED_COST_ITEMS) <= set(costs.items)
    assert all(isinstance(item, CostItem) and item.source for item in costs.items.values())
    assert costs.inflate("course_per_participant") == pytest.approx(400.0 * 389.0 / 267.0)


# --- enum fields given as their string values ----------------------------------------------------

ENUM_FIELDS = [
    ("strategy.matching", Matching),
    ("strategy.peer_group.delivery", GroupDelivery),
    ("strategy.peer_group.formation", GroupFormation),
    ("strategy.telephone.caller", Caller),
    ("dynamics.retention.decay_shape", DecayShape),
]


def test_enum_fields_given_as_strings_mean_the_enum_or_are_rejected():
    """Every enum here is a ``str`` Enum, so a string is a natural input (a YAML value, a notebook).

    A field given as the string of a valid member must either behave exactly like that member or
    be rejected with a ParameterError naming the field; it must never silently mean something else.
    """
    base = defaults()
    base = dataclasses.replace(base, n_graduates=300, weeks=20, strategy=dataclasses.replace(
        base.strategy, peer_group=PeerGroupParams(enabled=True), telephone=TelephoneParams(enabled=True),
        online=dataclasses.replace(base.strategy.online, enabled=True),
    ))
    misread = []
    for path, enum in ENUM_FIELDS:
        for member in enum:
            as_enum = build_model(replace_path(base, path, member)).run().weekly_table()
            try:
                as_text = build_model(replace_path(base, path, member.value)).run().weekly_table()
            except ParameterError as err:
                assert path in str(err)
                continue
            if not as_text.equals(as_enum):
                misread.append(f"{path}={member.value!r}")
    assert not misread, f"string values silently run as something else: {misread}"


def test_same_table_for_the_same_enum_member():
    """Guard for the test above: equal inputs give equal tables (so a difference means a misreading)."""
    base = dataclasses.replace(defaults(), n_graduates=300, weeks=20)
    a = build_model(base).run().weekly_table()
    b = build_model(base).run().weekly_table()
    pd.testing.assert_frame_equal(a, b)
