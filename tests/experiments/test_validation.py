"""Validation: with the default parameters, the model reproduces the evidence it was calibrated to.

Each target of configs/analysis/calibrate.yaml (the design's calibration table) is measured on
course-only runs of the population the trials recruited (and on peer-group and forum runs for the
engagement targets), averaged over replicates. A target is met when its stated range contains the
model's mean, allowing for the replicate spread: 3 standard errors of the mean either side.
"""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from experiments.config import compose_config, load_params, run_seed
from experiments.schemas import CalibrationConfig
from experiments.analyses.targets import MEASURES, arm_params, arms_needed, measure_all

REPLICATES = 8
Z = 3.0


@pytest.fixture(scope="module")
def calibration() -> CalibrationConfig:
    return OmegaConf.to_object(compose_config(["analysis=calibrate"]).calibration)


@pytest.fixture(scope="module")
def measured(calibration):
    population = compose_config(["analysis=calibrate"]).population.name
    base = load_params([f"population={population}", "n_graduates=2000"])
    params = arm_params(base, arms_needed([t.measure for t in calibration.targets]))
    return measure_all(params, [t.measure for t in calibration.targets], [run_seed(99, r) for r in range(REPLICATES)])


def test_every_design_target_is_calibrated(calibration):
    assert {t.measure for t in calibration.targets} == set(MEASURES)
    for t in calibration.targets:
        assert t.low <= t.value <= t.high and t.source


@pytest.mark.parametrize("measure", sorted(MEASURES))
def test_default_parameters_reproduce_the_target(calibration, measured, measure):
    target = next(t for t in calibration.targets if t.measure == measure)
    values = measured[measure]
    mean, se = values.mean(), values.std(ddof=1) / np.sqrt(values.size)
    assert target.low - Z * se <= mean <= target.high + Z * se, (
        f"{measure}: model {mean:.3f} (SE {se:.3f}) outside {target.low}..{target.high} ({target.source})"
    )
