"""Sensitivity analysis in a tiny but complete run (the calibration's: test_calibration_bayes.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import experiments.analyses.sensitivity as sensitivity_module
from experiments.config import compose_config
from sim.params import ParameterError

ROOT = Path(__file__).resolve().parents[2]


def run(module: str, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


@pytest.mark.parametrize("method", ["morris", "sobol"])
def test_a_tiny_sensitivity_analysis_gives_indices_with_intervals(method, tmp_path):
    size = ["sensitivity.trajectories=2"] if method == "morris" else ["sensitivity.base_samples=4"]
    run("experiments.sensitivity", f"analysis=sensitivity_{method}", *size, "n_graduates=80", "weeks=10",
        "sensitivity.week=10", "sensitivity.jobs=2", "sensitivity.strategies=[course_only]", f"hydra.run.dir={tmp_path}")
    indices = pd.read_csv(tmp_path / "indices.csv")
    columns = ["mu_star", "mu_star_conf", "sigma"] if method == "morris" else ["S1", "S1_conf", "ST", "ST_conf"]
    for col in ["strategy", "output", "parameter", *columns]:
        assert col in indices
    d = len(compose_config([f"analysis=sensitivity_{method}"]).sensitivity.parameters)  # the parameters varied
    assert d >= 10 and len(indices) == d * 3  # every parameter x 3 outcomes
    assert indices[columns].notna().all().all()
    assert (tmp_path / f"{method}_course_only.png").stat().st_size > 0
    samples = pd.read_parquet(tmp_path / "samples.parquet")
    # Morris: trajectories x (D + 1) runs; Sobol: N (2 D + 2), second order on
    assert len(samples) == (2 * (d + 1) if method == "morris" else 4 * (2 * d + 2))


def test_a_failed_run_is_reported_and_no_indices_are_computed(tmp_path, monkeypatch):
    real = sensitivity_module.evaluate_many
    calls = {"n": 0}

    def flaky(*args, **kwargs):  # the fifth run of the analysis fails; the others stand
        out = real(*args, **kwargs)
        for i in range(len(out)):
            calls["n"] += 1
            if calls["n"] == 5:
                out[i] = RuntimeError("injected")
        return out

    monkeypatch.setattr(sensitivity_module, "evaluate_many", flaky)
    cfg = compose_config(["analysis=sensitivity_morris", "sensitivity.trajectories=2", "n_graduates=60",
                          "weeks=6", "sensitivity.week=6", "sensitivity.jobs=1", "sensitivity.strategies=[course_only]"])
    indices = sensitivity_module.sensitivity(cfg, tmp_path)
    assert indices.empty and not (tmp_path / "indices.csv").exists()
    failures = pd.read_csv(tmp_path / "failures.csv")
    assert len(failures) == 1 and "injected" in failures.loc[0, "error"]


# --- one declaration of a varied parameter: the priors --------------------------------------------


def test_calibration_and_sensitivity_read_their_ranges_from_the_same_priors():
    from omegaconf import OmegaConf

    from experiments.uncertainty import priors_of

    def ranges(analysis, block, *extra):
        cfg = compose_config([f"analysis={analysis}", *extra])
        keys = list(cfg[block].parameters)
        return {p.key: (p.low, p.high, p.log) for p in priors_of(OmegaConf.to_container(cfg.priors), keys, block)}

    cal, sob = ranges("calibrate", "calibration"), ranges("sensitivity_sobol", "sensitivity")
    shared = set(cal) & set(sob)
    assert len(shared) >= 7 and all(cal[k] == sob[k] for k in shared)
    key = "dynamics.retention.isolation_effect"
    wider = [f"priors.{key}.high=2.0"]
    assert ranges("calibrate", "calibration", *wider)[key][1] == ranges("sensitivity_sobol", "sensitivity", *wider)[key][1] == 2.0


def test_a_log_uniform_prior_is_sampled_on_a_log_scale():
    from experiments.uncertainty import Varied

    v = Varied(key="k", low=0.005, high=0.08, log=True)
    assert v.from_unit(0.5) == pytest.approx((0.005 * 0.08) ** 0.5)
    assert v.to_unit(v.from_unit(0.3)) == pytest.approx(0.3)
    u = Varied(key="k", low=0.0, high=1.5)
    assert u.from_unit(0.5) == pytest.approx(0.75)


def test_a_parameter_without_a_prior_is_refused_naming_its_place(tmp_path):
    cfg = compose_config(["analysis=sensitivity_morris", "sensitivity.parameters=[dynamics.course.immediate_gain_mean_sd,nope.x]",
                          "n_graduates=60", "weeks=6", "sensitivity.week=6"])
    with pytest.raises(ParameterError, match=r"sensitivity.parameters\[1\]"):
        sensitivity_module.sensitivity(cfg, tmp_path)


@pytest.mark.parametrize("shape, idle", [("exponential", "dynamics.retention.power_law_b_per_week"),
                                         ("power_law", "dynamics.retention.decay_rate_per_week")])
def test_a_rate_of_the_decay_shape_not_in_use_is_refused(shape, idle, tmp_path):
    """Under one decay shape the other shape's rate moves nothing: its indices would read 0 and
    say the fade does not matter. Refused before any run, naming the parameters to vary instead."""
    cfg = compose_config(["analysis=sensitivity_morris", f"sensitivity.parameters=[{idle}]",
                          f"dynamics.retention.decay_shape={shape}", "n_graduates=60", "weeks=6", "sensitivity.week=6"])
    with pytest.raises(ParameterError, match=r"sensitivity.parameters\[0\].*acts only under") as err:
        sensitivity_module.sensitivity(cfg, tmp_path)
    assert ("decay_rate_per_week" if shape == "exponential" else "power_law_b_per_week") in str(err.value)
    assert not any(tmp_path.iterdir())


def test_sobol_explains_the_paired_difference_and_resumes_from_saved_parts(tmp_path):
    args = ["analysis=sensitivity_sobol", "sensitivity.base_samples=4", "sensitivity.second_order=false",
            "n_graduates=60", "weeks=6", "sensitivity.week=6", "sensitivity.jobs=1",
            "sensitivity.strategies=[course_only,offer_all]", "sensitivity.outputs=[share_self_managing]"]
    first = sensitivity_module.sensitivity(compose_config(args), tmp_path)
    assert set(first["strategy"]) == {"course_only", "offer_all", "offer_all - course_only"}
    samples = pd.read_parquet(tmp_path / "samples.parquet")
    a, b = (samples[samples.strategy == s].sort_values("sample") for s in ("offer_all", "course_only"))
    d = len(compose_config(args).sensitivity.parameters)
    assert len(a) == len(b) == 4 * (d + 2)  # N (D + 2) without second order
    parts = sorted((tmp_path / "parts").glob("*/*.parquet"))
    assert len(parts) == 2
    stamps = [p.stat().st_mtime_ns for p in parts]
    again = sensitivity_module.sensitivity(compose_config(args), tmp_path)
    assert [p.stat().st_mtime_ns for p in parts] == stamps  # every part read back, none rerun
    pd.testing.assert_frame_equal(first, again)
