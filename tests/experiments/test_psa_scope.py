"""What the PSA draws is what the evidence constrains: every parameter it draws is either in the
calibration's posterior (drawn as whole rows) or moves no calibration target (issue 21, item 7).

The PSA's own entries outside the posterior are unit costs: no target reads a cost, which the
second test shows by measuring every target with every unit cost doubled.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from omegaconf import OmegaConf

from experiments.config import compose_config, load_params, run_seed
from experiments.analyses.targets import arm_params, arms_needed, measure_all
from experiments.uncertainty import varied_parameters


def _psa_and_calibration():
    psa = OmegaConf.to_container(compose_config(["experiment=psa"]).psa)
    calibration = OmegaConf.to_container(compose_config(["analysis=calibrate"]).calibration)
    return psa, calibration


def test_every_psa_parameter_is_calibrated_or_a_unit_cost():
    psa, calibration = _psa_and_calibration()
    calibrated = set(calibration["parameters"])
    outside = [v.key for v in varied_parameters(psa["parameters"]) if v.key not in calibrated]
    assert outside, "the PSA draws the unit costs"
    not_costs = [k for k in outside if not k.startswith(("costs.", "population."))]
    assert not not_costs, (f"the PSA draws {not_costs} outside the posterior: calibrate them "
                           "(configs/analysis/calibrate.yaml) or show they move no target")


def test_the_psa_population_reaches_no_target():
    """Who the PSA's graduates are (``population.*``) is the decision's population, not the trials':
    the calibration measures every target on its own populations, whatever the PSA's population says."""
    from experiments.analyses.targets import ARMS

    psa, calibration = _psa_and_calibration()
    drawn = [v.key for v in varied_parameters(psa["parameters"]) if v.key.startswith("population.")]
    assert drawn, "the PSA draws the population's group-averse share"
    cal = compose_config(["analysis=calibrate"])
    assert cal.population.name == "clahrc_sample", "the calibration measures the trials' recruits"
    # the one arm on another population names its preset: a PSA value never reaches it
    assert all("population" not in changes or isinstance(changes["population"], str) for _, changes in ARMS.values())


def test_unit_costs_move_no_target():
    _, calibration = _psa_and_calibration()
    measures = [t["measure"] for t in calibration["targets"]]
    base = load_params(["population=clahrc_sample", "n_graduates=300"])
    dear = dataclasses.replace(base, costs=dataclasses.replace(base.costs, items={
        name: dataclasses.replace(item, value_gbp=2.0 * item.value_gbp + 1.0) for name, item in base.costs.items.items()}))
    seeds = [run_seed(11, 0)]
    a = measure_all(arm_params(base, arms_needed(measures)), measures, seeds)
    b = measure_all(arm_params(dear, arms_needed(measures)), measures, seeds)
    for m in measures:
        np.testing.assert_array_equal(a[m], b[m], err_msg=m)
