"""Sensitivity analysis in a tiny but complete run (the calibration's: test_calibration_bayes.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import experiments.sensitivity as sensitivity_module
from experiments.config import compose_config

ROOT = Path(__file__).resolve().parents[2]


def run(module: str, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


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
