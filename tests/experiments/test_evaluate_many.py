"""Many runs at once (issue 25 item 3): what sweeps, calibration and sensitivity analysis ask of
:func:`experiments.evaluate.evaluate_many`.

Under the batched engine (the default) the runs go in batches of one model each; every run must
give, bit for bit, what the vectorised engine gives it alone, whatever mix of strategies, sizes
and parameter values the list holds; a run that fails is its own failure, the others stand; and
the batches are bounded in size. Calibration's measures over many points and a sweep's config
record written once per run are checked against the one-at-a-time ways they replace.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from experiments.config import load_strategy
from experiments.evaluate import evaluate, evaluate_many
from sim.batched import MAX_BATCH_GRADUATES, batch_key, batches
from sim.calibrated import calibrated_dynamics
from sim.params import ModelParams, ParameterError, with_values

EFFICACY = "dynamics.peer_group.effect.efficacy"


def params_of(strategy: str, seed: int, n: int = 150, weeks: int = 20, **values) -> ModelParams:
    p = ModelParams(n_graduates=n, weeks=weeks, seed=seed, strategy=load_strategy(strategy),
                    dynamics=calibrated_dynamics())
    return with_values(p, values) if values else p


def mixed() -> list[ModelParams]:
    """Two strategies, two sizes, parameter values that differ within a batch, interleaved."""
    out = []
    for i in range(8):
        strategy = ("offer_all", "peer_group")[i % 2]
        out.append(params_of(strategy, seed=10 + i, n=150 if i < 6 else 90, **{EFFICACY: 0.2 + 0.05 * i}))
    return out


def test_every_run_of_a_mixed_list_is_bit_for_bit_its_vectorised_run_alone():
    runs = mixed()
    many = evaluate_many(runs)
    assert len({batch_key(p) for p in runs}) == 4  # two strategies x two sizes: four batches
    for p, got in zip(runs, many):
        alone = evaluate(p, "vectorized")
        assert got.params is p and got.engine == "batched"
        pd.testing.assert_frame_equal(got.weekly, alone.weekly, check_exact=True)
        assert got.reach() == alone.reach() or np.allclose(list(got.reach().values()), list(alone.reach().values()),
                                                           equal_nan=True)
        assert got.at(20) == alone.at(20)


def test_seeds_and_weeks_replace_the_parameters_own():
    p = params_of("telephone", seed=1)
    got = evaluate_many([p, p], seeds=[4, 5], weeks=9)
    assert [g.params.seed for g in got] == [4, 5] and all(g.params.weeks == 9 for g in got)
    alone = evaluate(p, "vectorized", seed=5, weeks=9)
    pd.testing.assert_frame_equal(got[1].weekly, alone.weekly, check_exact=True)


def test_a_failing_run_is_its_own_failure_and_the_others_stand():
    runs = [params_of("peer_group", seed=s) for s in (1, 2, 3)]
    bad = dataclasses.replace(runs[1], dynamics=dataclasses.replace(
        runs[1].dynamics, peer_group=dataclasses.replace(
            runs[1].dynamics.peer_group, effect=dataclasses.replace(runs[1].dynamics.peer_group.effect, efficacy=7.0))))
    runs[1] = bad  # same strategy, size and horizon: it would share the batch
    got = evaluate_many(runs, errors="return")
    assert isinstance(got[1], ParameterError) and "efficacy" in str(got[1])
    for i in (0, 2):
        pd.testing.assert_frame_equal(got[i].weekly, evaluate(runs[i], "vectorized").weekly, check_exact=True)
    with pytest.raises(ParameterError, match="efficacy"):
        evaluate_many(runs)


def test_other_engines_run_one_at_a_time_with_the_same_numbers():
    runs = [params_of("online", seed=s, n=80, weeks=8) for s in (1, 2)]
    batched, one_by_one = evaluate_many(runs), evaluate_many(runs, "vectorized")
    assert [r.engine for r in one_by_one] == ["vectorized"] * 2
    assert not hasattr(batched[0].model, "agents") or len(batched[0].model.agents) == 0
    for a, b in zip(batched, one_by_one):
        pd.testing.assert_frame_equal(a.weekly, b.weekly, check_exact=True)


@pytest.mark.parametrize("runs, n, limit, sizes", [
    (250, 1000, 100_000, [83, 83, 84]),  # near-equal parts of at most limit // n runs
    (7, 1000, 100_000, [7]),
    (5, 300_000, 100_000, [1, 1, 1, 1, 1]),  # a run bigger than the limit still runs, alone
])
def test_batches_are_near_equal_and_bounded_in_graduates(runs, n, limit, sizes):
    p = params_of("course_only", seed=0, n=n, weeks=2)
    groups = batches([p] * runs, limit)
    assert [len(g) for g in groups] == sizes
    assert sorted(i for g in groups for i in g) == list(range(runs))  # every run once, in order
    assert all(len(g) * n <= max(limit, n) for g in groups)
    assert MAX_BATCH_GRADUATES >= 100_000


def test_runs_that_cannot_share_a_batch_are_apart():
    a, b = params_of("course_only", seed=0), params_of("telephone", seed=0)
    longer = dataclasses.replace(a, weeks=30)
    groups = batches([a, b, a, longer, b])
    assert sorted(map(sorted, groups)) == [[0, 2], [1, 4], [3]]


def test_calibration_measures_over_many_points_equal_each_arm_run_alone():
    from experiments.analyses import targets as T

    measures = ["course_completion", "meeting_attendance", "course_qaly_gain_20_weeks", "booster_dropout"]
    base = ModelParams(n_graduates=120, weeks=104, seed=1, dynamics=calibrated_dynamics())
    arms = T.arm_params(base, T.arms_needed(measures))
    got = T.measure_all(arms, measures, [3, 4])
    for i, seed in enumerate([3, 4]):
        runs = {}
        for m in measures:
            spec = T.MEASURES[m]
            for arm in filter(None, (spec.arm, spec.comparator)):
                if (arm, spec.weeks) not in runs:
                    r = evaluate(arms[arm], "vectorized", weeks=spec.weeks, seed=seed)
                    runs[arm, spec.weeks] = (r.model, r.model.datacollector.model_vars)
            run = runs[spec.arm, spec.weeks]
            want = spec.read(run, runs[spec.comparator, spec.weeks]) if spec.comparator else spec.read(run)
            assert got[m][i] == want or (np.isnan(want) and np.isnan(got[m][i])), m


@pytest.mark.parametrize("data", [
    {"a": 1, "b": {"c": "x", "d": [1, 2]}},
    {"a": 1, "b": "${a}", "c": {"d": "${b}"}},  # interpolations: resolved differs from composed
])
def test_a_runs_config_is_written_once_as_yaml_text_writes_it(data):
    from experiments.config import config_texts, model_config
    from experiments.outputs import yaml_text

    cfg = OmegaConf.create(data)
    composed, resolved, plain = config_texts(cfg)
    assert composed == yaml_text(cfg) and resolved == yaml_text(cfg, resolve=True)
    assert model_config(cfg, plain) == model_config(cfg)


def test_runs_differing_in_replicate_alone_reuse_the_first_ones_config_text():
    """A sweep's batch writes each run's config; for runs whose configs differ in ``replicate``
    alone the first one's text is reused with their own replicate line: byte for byte the text
    written afresh."""
    from experiments.config import compose_config, config_texts, model_config
    from experiments.outputs import yaml_text

    key = ("a sweep's signature", 7)
    for replicate in (0, 1, 12, 3):
        cfg = compose_config(["experiment=psa", f"replicate={replicate}", "seed=7"])
        composed, resolved, plain = config_texts(cfg, key)
        assert composed == yaml_text(cfg) and resolved == yaml_text(cfg, resolve=True)
        assert plain == OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
        assert model_config(cfg, plain) == model_config(cfg)
