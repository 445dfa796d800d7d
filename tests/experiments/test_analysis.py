"""Calibration and sensitivity analysis, each in a tiny but complete run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import experiments.sensitivity as sensitivity_module
from experiments.calibrate import Problem
from experiments.config import compose_config, to_params
from experiments.schemas import CalibrationConfig
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[2]


def run(module: str, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


def test_a_tiny_calibration_fits_writes_a_dynamics_config_and_resumes(tmp_path):
    args = ["experiment=calibrate", "calibration.trials=3", "calibration.replicates=1", "calibration.jobs=1",
            "calibration.polish_evaluations=3",
            "n_graduates=200", f"calibration.storage={tmp_path}/study.journal",
            f"calibration.output={tmp_path}/calibrated.yaml", f"calibration.report_dir={tmp_path}/report",
            f"hydra.run.dir={tmp_path}/run"]
    run("experiments.calibrate", *args)
    fitted = yaml.safe_load((tmp_path / "calibrated.yaml").read_text())
    assert set(fitted) <= {"course", "retention", "connectedness", "health", "peer_group", "telephone", "online",
                           "booster", "newsletter", "outcomes"}
    assert 0.012 <= fitted["retention"]["decay_rate_per_week"] <= 0.04
    report = (tmp_path / "report" / "report.md").read_text()
    assert "| Mean gain at week 20" in report and "Fitted values" in report
    assert "polished by Powell" in report
    assert (tmp_path / "report" / "targets.png").stat().st_size > 0
    assert len(pd.read_csv(tmp_path / "report" / "trials.csv")) == 3
    # rerunning resumes: the study already has its trials, none is added
    done = run("experiments.calibrate", *args)
    assert "already has 3 complete trials" in done.stdout
    assert len(pd.read_csv(tmp_path / "report" / "trials.csv")) == 3


def test_polish_finds_the_minimum_of_a_known_loss():
    """Powell's method from a poor start reaches a known minimum, on linear and log ranges, within bounds."""
    from types import SimpleNamespace

    from experiments.calibrate import polish
    from experiments.schemas import FreeParameter

    free = [FreeParameter(key="a", low=0.0, high=1.0), FreeParameter(key="b", low=0.01, high=1.0, log=True),
            FreeParameter(key="c", low=-5.0, high=5.0)]
    best = {"a": 0.3, "b": 0.05, "c": 5.0}  # c's best lies on its upper bound

    def simulate(values):
        return values

    def loss(values, measured):
        return ((measured["a"] - best["a"]) ** 2 + (np.log(measured["b"] / best["b"])) ** 2
                + (measured["c"] - 7.0) ** 2 / 100)

    problem = SimpleNamespace(free=free, simulate=simulate, loss=loss)
    values, value, evaluations = polish(problem, {"a": 0.9, "b": 0.5, "c": 0.0}, 400)
    assert values["a"] == pytest.approx(0.3, abs=0.01) and values["b"] == pytest.approx(0.05, rel=0.05)
    assert values["c"] == pytest.approx(5.0, abs=0.05) and -5.0 <= values["c"] <= 5.0
    assert value < loss({"a": 0.9, "b": 0.5, "c": 0.0}, {"a": 0.9, "b": 0.5, "c": 0.0}) and evaluations <= 401
    # never worse than the start: from the optimum it stays there
    values, _, _ = polish(problem, {"a": 0.3, "b": 0.05, "c": 5.0}, 50)
    assert values == pytest.approx({"a": 0.3, "b": 0.05, "c": 5.0}, rel=1e-2)


def test_calibration_loss_is_zero_at_the_targets_and_grows_with_distance():
    cfg = compose_config(["experiment=calibrate", "calibration.replicates=1"])
    calib: CalibrationConfig = OmegaConf.to_object(cfg.calibration)
    problem = Problem(to_params(cfg), calib)
    at_prior = {p.key: problem.prior[p.key] for p in problem.free}
    exact = {t.measure: np.array([t.value]) for t in problem.targets}
    assert problem.loss(at_prior, exact) == pytest.approx(0.0)
    off = dict(exact)
    t = problem.targets[0]
    off[t.measure] = np.array([t.high])  # one half-width away: contributes weight * 1
    assert problem.loss(at_prior, off) == pytest.approx(t.weight)


@pytest.mark.parametrize("method", ["morris", "sobol"])
def test_a_tiny_sensitivity_analysis_gives_indices_with_intervals(method, tmp_path):
    size = ["sensitivity.trajectories=2"] if method == "morris" else ["sensitivity.base_samples=4"]
    run("experiments.sensitivity", f"experiment=sensitivity_{method}", *size, "n_graduates=80", "weeks=10",
        "sensitivity.week=10", "sensitivity.jobs=2", "sensitivity.strategies=[course_only]", f"hydra.run.dir={tmp_path}")
    indices = pd.read_csv(tmp_path / "indices.csv")
    columns = ["mu_star", "mu_star_conf", "sigma"] if method == "morris" else ["S1", "S1_conf", "ST", "ST_conf"]
    for col in ["strategy", "output", "parameter", *columns]:
        assert col in indices
    assert len(indices) == 10 * 3  # 10 parameters x 3 outcomes
    assert indices[columns].notna().all().all()
    assert (tmp_path / f"{method}_course_only.png").stat().st_size > 0
    samples = pd.read_parquet(tmp_path / "samples.parquet")
    assert len(samples) == (2 * 11 if method == "morris" else 4 * 12)


def test_a_failed_run_is_reported_and_no_indices_are_computed(tmp_path, monkeypatch):
    real = sensitivity_module.run_sample
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        return {"error": "RuntimeError: injected"} if calls["n"] == 5 else real(*args, **kwargs)

    monkeypatch.setattr(sensitivity_module, "run_sample", flaky)
    cfg = compose_config(["experiment=sensitivity_morris", "sensitivity.trajectories=2", "n_graduates=60",
                          "weeks=6", "sensitivity.week=6", "sensitivity.jobs=1", "sensitivity.strategies=[course_only]"])
    indices = sensitivity_module.sensitivity(cfg, tmp_path)
    assert indices.empty and not (tmp_path / "indices.csv").exists()
    failures = pd.read_csv(tmp_path / "failures.csv")
    assert len(failures) == 1 and "injected" in failures.loc[0, "error"]
