"""The measured score and responders (sim.measurement): the reliability it is built with, errors
that pair across strategies, and responders that behave as a trial's would."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim import SelfManagementModel
from sim.measurement import Measurement, MeasurementParams, error_only_responder_share, error_sd, smd
from sim.params import ModelParams, ParameterError, validate
from sim.streams import stream


@pytest.mark.parametrize("reliability", [0.7, 0.85, 0.95])
def test_the_score_has_the_reliability_it_is_built_with(reliability):
    """True variance over observed variance at baseline: 1 / (1 + error variance)."""
    n = 200_000
    rng = np.random.default_rng(3)
    true = rng.normal(0.0, 1.0, n)
    m = Measurement(MeasurementParams(reliability=reliability), n, rng)
    observed = true + m.baseline_error
    # the sample variance ratio has SE about sqrt(2/n) relative: 0.003 at n=200,000
    assert np.var(true) / np.var(observed) == pytest.approx(reliability, abs=0.01)
    assert m.score_sd == pytest.approx(np.sqrt(1.0 / reliability))


def test_without_any_gain_some_are_responders_by_error_alone_as_in_a_control_arm():
    n = 100_000
    params = MeasurementParams(reliability=0.85, responder_threshold_sd=0.5)
    m = Measurement(params, n, np.random.default_rng(1))
    m.read(np.zeros(n))
    from scipy.stats import norm

    expected = norm.sf(0.5 * m.score_sd / (np.sqrt(2.0) * error_sd(params)))
    assert error_only_responder_share(params) == pytest.approx(expected, rel=1e-12)
    share = m.responders().mean()
    assert share == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / n))
    assert 0.1 < share < 0.3


def test_responders_rise_with_gain_and_fall_with_the_threshold():
    n = 20_000
    m = Measurement(MeasurementParams(), n, np.random.default_rng(2))
    shares = []
    for gain in (0.0, 0.3, 0.6, 1.0):
        m.rng = np.random.default_rng(9)  # the same errors at each gain
        m.read(np.full(n, gain))
        shares.append([m.responders(t).mean() for t in (0.25, 0.5, 1.0)])
    shares = np.array(shares)
    assert (np.diff(shares, axis=0) > 0).all(), "more gain, more responders"
    assert (np.diff(shares, axis=1) < 0).all(), "a higher threshold, fewer responders"


def test_a_perfect_score_counts_the_latent_threshold():
    m = Measurement(MeasurementParams(reliability=1.0, responder_threshold_sd=0.2), 5, np.random.default_rng(0))
    m.read(np.array([0.0, 0.19, 0.2, 0.21, 1.0]))
    assert m.responders().tolist() == [False, False, True, True, True]


def test_smd_is_the_latent_difference_on_the_observed_scale():
    assert smd(0.4, MeasurementParams(reliability=0.81)) == pytest.approx(0.36)


def test_strategies_read_the_same_people_with_the_same_errors():
    """Errors come from their own stream: the comparison stays paired."""
    from experiments.config import load_strategy

    a = SelfManagementModel(400, 10, strategy=load_strategy("course_only"), rng=4).run()
    b = SelfManagementModel(400, 10, strategy=load_strategy("offer_all"), rng=4).run()
    np.testing.assert_array_equal(a.measurement.baseline_error, b.measurement.baseline_error)
    # this week's error is the same too: measured change minus gain
    np.testing.assert_allclose(a.measurement.change - a.week_gain, b.measurement.change - b.week_gain, atol=1e-12)
    ref = Measurement(a.params.dynamics.measurement, 400, stream(4, "measurement"))
    np.testing.assert_array_equal(ref.baseline_error, a.measurement.baseline_error)


def test_bad_reliability_is_refused_naming_the_key():
    p = ModelParams(n_graduates=10, weeks=2, seed=1)
    bad = dataclasses.replace(p, dynamics=dataclasses.replace(p.dynamics, measurement=MeasurementParams(reliability=0.1)))
    with pytest.raises(ParameterError, match="dynamics.measurement.reliability"):
        validate(bad)
