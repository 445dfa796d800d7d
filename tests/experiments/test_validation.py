"""Validation: with the default parameters, the model reproduces the evidence it was calibrated to.

Each target of configs/analysis/calibrate.yaml (the design's calibration table) is measured on
course-only runs of the population the trials recruited (and on peer-group and forum runs for the
engagement targets), averaged over replicates. A target is met when the model's mean lies within
2 of the study's standard errors of its value, allowing for the replicate spread: 3 standard
errors of the model's mean either side. Every target must also test something: the arm without the
study's intervention must not already meet it (a target held by construction).
"""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from experiments.config import compose_config, load_params, run_seed
from experiments.schemas import CalibrationConfig
from experiments.analyses.targets import MEASURES, arm_params, arms_needed, measure_all, without_intervention

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
        assert t.low <= t.value <= t.high and t.source and t.standard_error > 0


@pytest.mark.parametrize("measure", sorted(MEASURES))
def test_default_parameters_reproduce_the_target(calibration, measured, measure):
    target = next(t for t in calibration.targets if t.measure == measure)
    values = measured[measure]
    mean, se = values.mean(), values.std(ddof=1) / np.sqrt(values.size)
    band = 2 * target.standard_error + Z * se
    assert abs(mean - target.value) <= band, (
        f"{measure}: model {mean:.3f} (SE {se:.3f}) further than 2 SE ({target.standard_error:.3g}) "
        f"from {target.value} ({target.source})"
    )


def test_no_target_is_held_by_construction(calibration):
    """A target the arm meets without the study's intervention (the course, or the support) tests
    nothing: the model must move from outside 2 SE of it to meet it. A null target (value within
    2 SE of no effect: 0 for a difference, 1 for a ratio) is met by any arm without the
    intervention; there the arm must at least deliver it."""
    population = compose_config(["analysis=calibrate"]).population.name
    base = load_params([f"population={population}", "n_graduates=1000"])
    for t in calibration.targets:
        spec = MEASURES[t.measure]
        if spec.intervention is None:
            continue  # a level (a share of people, of meetings): no control arm, nothing to be held by
        arms = arm_params(base, arms_needed([t.measure]))
        stripped = without_intervention(arms[spec.arm], spec.intervention)
        assert stripped != arms[spec.arm], f"{t.measure}: the arm has no {spec.intervention} to take away"
        if abs(t.value - spec.no_effect) <= 2 * t.standard_error:
            continue  # a null: the arm delivers the intervention (above), the trial found it does nothing
        arms[spec.arm] = stripped
        value = measure_all(arms, [t.measure], [run_seed(7, 0)])[t.measure][0]
        assert np.isfinite(value), f"{t.measure}: the arm without its {spec.intervention} gives {value}"
        assert not abs(value - t.value) <= 2 * t.standard_error, (
            f"{t.measure}: the arm without its {spec.intervention} gives {value:.3f}, already within 2 SE of "
            f"{t.value}: the target is held by construction")
