"""Sampled designs (experiments.sweeps.design): Latin hypercube and Sobol points over the priors'
ranges, reproducible with their seed, crossed with every strategy of the grid, checked up front."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from in_process import run_command

from experiments.config import CONFIG_DIR
from experiments.sweeps.design import Design, cross, points
from experiments.uncertainty import priors_of
from sim.params import ParameterError

PRIORS = yaml.safe_load((CONFIG_DIR / "priors" / "default.yaml").read_text())
EXAMPLE = yaml.safe_load((CONFIG_DIR / "experiment" / "uncertain_support.yaml").read_text())
KEYS = EXAMPLE["hydra"]["sweeper"]["design"]["uncertainties"]


@pytest.mark.parametrize("method,size", [("lhs", 20), ("sobol", 16)])
def test_points_lie_within_their_priors_and_repeat_with_the_seed(method, size):
    design = Design(method=method, size=size, seed=3, uncertainties=KEYS)
    first = points(design, PRIORS)
    assert len(first) == size and all(list(p) == KEYS for p in first)
    for prior in priors_of(PRIORS, KEYS, "test"):
        values = [p[prior.key] for p in first]
        assert all(prior.low <= v <= prior.high for v in values), prior.key
        assert len(set(values)) == size  # spread over the range, no point repeated
    assert points(design, PRIORS) == first  # the same seed, the same points
    assert points(Design(method=method, size=size, seed=4, uncertainties=KEYS), PRIORS) != first


def test_a_latin_hypercube_puts_one_point_in_each_stratum_of_every_range():
    design = Design(method="lhs", size=10, seed=11, uncertainties=KEYS)
    for prior in priors_of(PRIORS, KEYS, "test"):
        units = sorted(float(prior.to_unit(p[prior.key])) for p in points(design, PRIORS))
        assert [int(u * 10) for u in units] == list(range(10)), prior.key  # log-uniform ranges on their log scale


def test_every_point_is_crossed_with_every_job_of_the_grid():
    jobs = [["strategy=course_only", "replicate=0"], ["strategy=peer_group", "replicate=0"],
            ["strategy=course_only", "replicate=1"], ["strategy=peer_group", "replicate=1"]]
    node = {"method": "lhs", "size": 3, "seed": 1, "uncertainties": KEYS}
    crossed = cross(jobs, node, PRIORS)
    assert len(crossed) == 12
    by_point: dict[tuple, list] = {}
    for job in crossed:
        by_point.setdefault(tuple(job[2:]), []).append(job[:2])
    assert len(by_point) == 3 and all(sorted(grid) == sorted(jobs) for grid in by_point.values())
    assert cross(jobs, None, PRIORS) == jobs  # no design: the grid unchanged


@pytest.mark.parametrize("node,key", [
    ({"method": "halton", "size": 4, "seed": 1, "uncertainties": KEYS}, "hydra.sweeper.design.method"),
    ({"method": "lhs", "size": 0, "seed": 1, "uncertainties": KEYS}, "hydra.sweeper.design.size"),
    ({"method": "sobol", "size": 12, "seed": 1, "uncertainties": KEYS}, "hydra.sweeper.design.size"),
    ({"method": "lhs", "size": 4, "seed": -1, "uncertainties": KEYS}, "hydra.sweeper.design.seed"),
    ({"method": "lhs", "size": 4, "seed": 1, "uncertainties": []}, "hydra.sweeper.design.uncertainties"),
    ({"method": "lhs", "size": 4, "seed": 1, "uncertainties": ["dynamics.retention.no_such_rate"]},
     "hydra.sweeper.design.uncertainties[0]"),
    ({"method": "lhs", "size": 4, "seed": 1, "points": 3, "uncertainties": KEYS}, "hydra.sweeper.design.points"),
])
def test_a_bad_design_is_refused_naming_the_field(node, key):
    with pytest.raises(ParameterError) as err:
        cross([["strategy=course_only"]], node, PRIORS)
    assert err.value.key == key


def test_a_parameter_both_swept_and_sampled_is_refused():
    node = {"method": "lhs", "size": 2, "seed": 1, "uncertainties": KEYS}
    with pytest.raises(ParameterError, match="sample it or set it"):
        cross([["strategy=peer_group", f"{KEYS[0]}=0.2"]], node, PRIORS)


TINY = ["replicates=1", "n_graduates=60", "weeks=6", "hydra.sweeper.design.size=3",
        "hydra.sweeper.params.strategy='course_only,peer_group,telephone'"]


def test_a_design_sweep_runs_every_strategy_at_every_point(tmp_path):
    assert run_command("-m", "experiment=uncertain_support", *TINY, f"hydra.sweep.dir={tmp_path}") == 0
    results = pd.read_parquet(tmp_path / "results.parquet")
    runs = results.drop_duplicates("run_id")
    assert len(runs) == 9  # 3 points x 3 strategies x 1 replicate
    expected = pd.DataFrame(points(Design(method="lhs", size=3, seed=7, uncertainties=KEYS), PRIORS))
    got = runs.groupby(KEYS)["strategy"].apply(sorted)
    assert sorted(got.index) == sorted(map(tuple, expected[KEYS].to_numpy()))  # the seed's points, as sampled
    assert all(s == ["course_only", "peer_group", "telephone"] for s in got)
    assert runs.groupby(KEYS)["seed"].nunique().eq(1).all()  # paired within a point
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert set(KEYS) <= set(summary.columns)  # each point summarised, against course only at that point


def test_a_bad_design_on_the_command_line_stops_before_anything_is_written(tmp_path, capsys):
    code = run_command("-m", "experiment=uncertain_support", *TINY, "hydra.sweeper.design.method=grid",
                       f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "hydra.sweeper.design.method='grid' is not allowed" in err and "lhs" in err
    assert not (tmp_path / "sweep").exists()
