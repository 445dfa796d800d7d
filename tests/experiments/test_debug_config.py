"""``debug=fast`` (configs/debug/fast.yaml): a quick try of any entry point. It composes after the
experiment and the analysis (its sizes win over theirs), with an analysis it brings that
analysis' tiny design (configs/debug/analysis/), it keeps its outputs away from the committed ones,
and a run with it is small and finishes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from in_process import run_command, sweep

from experiments.config import compose_config, to_params

ROOT = Path(__file__).resolve().parents[2]
FAST = {"n_graduates": 300, "weeks": 12, "replicates": 2}  # configs/debug/fast.yaml
#: Each entry point's command (its overrides), as a user would start it with debug=fast.
COMMANDS = {
    "a run": [],
    "a sweep": ["experiment=compare_strategies"],
    "a PSA": ["experiment=psa"],
    "the calibration": ["analysis=calibrate"],
    "a Morris analysis": ["analysis=sensitivity_morris"],
    "a Sobol analysis": ["analysis=sensitivity_sobol"],
}


@pytest.mark.parametrize("what", list(COMMANDS))
def test_debug_fast_makes_every_entry_point_small(what):
    """Whatever an experiment or an analysis sets, debug=fast wins: a few hundred graduates, a few
    weeks, two replicates (the calibration: 120 graduates a run, each arm as long as its measure reads)."""
    full = compose_config(COMMANDS[what])
    cfg = compose_config([*COMMANDS[what], "debug=fast"])
    calibration = what == "the calibration"
    want = {**FAST, "n_graduates": 120, "weeks": full.weeks} if calibration else FAST
    assert {k: cfg[k] for k in FAST} == want
    assert cfg.n_graduates < full.n_graduates and (calibration or cfg.weeks < full.weeks)
    to_params(cfg)  # a valid model


def test_debug_fast_brings_the_calibrations_tiny_design_and_writes_none_of_the_committed_files():
    full, cfg = compose_config(["analysis=calibrate"]), compose_config(["analysis=calibrate", "debug=fast"])
    c = cfg.calibration
    runs = 2 * (c.wave1_runs + c.wave2_runs + c.wave3_runs + c.noise_points * c.noise_replicates + c.check_draws)
    assert runs <= 60 < 2 * (full.calibration.wave1_runs + full.calibration.wave2_runs)
    assert c.particles < full.calibration.particles and c.candidates < full.calibration.candidates
    assert c.targets == full.calibration.targets and c.parameters == full.calibration.parameters  # the whole problem
    for key in ("runs_dir", "posterior", "output", "report_dir"):
        assert Path(c[key]).parts[:2] == ("outputs", "debug"), key  # never docs/calibration nor configs/dynamics


@pytest.mark.parametrize("analysis,runs_key", [("sensitivity_morris", "trajectories"), ("sensitivity_sobol", "base_samples")])
def test_debug_fast_brings_each_sensitivity_analysis_a_tiny_design(analysis, runs_key):
    full, cfg = compose_config([f"analysis={analysis}"]), compose_config([f"analysis={analysis}", "debug=fast"])
    assert cfg.sensitivity[runs_key] < full.sensitivity[runs_key]
    assert cfg.sensitivity.week == cfg.weeks  # outcomes read within the run
    assert cfg.sensitivity.jobs == 1


def test_without_debug_nothing_changes_and_an_analysis_without_a_tiny_design_still_composes():
    assert compose_config([]).n_graduates == 2000 and compose_config([]).get("calibration") is None
    assert compose_config(["debug=fast"]).get("calibration") is None  # no analysis: no analysis block
    assert compose_config(["debug=fast"]).get("sensitivity") is None


def test_the_command_line_knows_the_debug_group_and_its_choices():
    assert run_command("debug=slow") == 2  # one line naming the group's choices; nothing ran


def test_a_run_with_debug_fast_is_small_and_finishes(tmp_path):
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "experiments.run", "debug=fast", f"hydra.run.dir={tmp_path}"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert time.perf_counter() - started < 60
    weekly = pd.read_parquet(tmp_path / "weekly.parquet")
    assert list(weekly["week"]) == list(range(FAST["weeks"] + 1))
    recorded = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert {k: recorded[k] for k in FAST} == FAST


@pytest.mark.slow
def test_a_sweep_with_debug_fast_runs_two_replicates_of_each_strategy(tmp_path):
    sweep(tmp_path, "experiment=compare_strategies", "debug=fast")
    summaries = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*/summary.json")]
    strategies = {s["strategy"] for s in summaries}
    assert len(strategies) >= 6 and len(summaries) == 2 * len(strategies)
    assert {s["replicate"] for s in summaries} == {0, 1}


def test_the_calibration_entry_point_owns_hydra_and_stops_without_its_block(tmp_path):
    """``python -m experiments.calibrate debug=fast`` without ``analysis=calibrate``: one line and
    exit code 2, nothing recorded (the library's ``main`` is a plain function of the config)."""
    done = subprocess.run([sys.executable, "-m", "experiments.calibrate", "debug=fast", f"hydra.run.dir={tmp_path}"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: no calibration block in the config; run with analysis=calibrate (configs/analysis/)"]
    assert not (tmp_path / ".hydra").exists()
    from experiments.analyses import calibration

    assert not hasattr(calibration.main, "__wrapped__")  # no @hydra.main in the library


@pytest.mark.slow
def test_a_tiny_calibration_with_debug_fast_finishes(tmp_path):
    out = tmp_path / "calibration"
    args = ["analysis=calibrate", "debug=fast", f"calibration.runs_dir={out}/runs",
            f"calibration.posterior={out}/posterior.parquet", f"calibration.output={out}/calibrated.yaml",
            f"calibration.report_dir={out}/report", f"hydra.run.dir={tmp_path}/run"]
    done = subprocess.run([sys.executable, "-m", "experiments.calibrate", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert len(pd.read_parquet(out / "posterior.parquet")) == compose_config(args[:2]).calibration.posterior_draws
    assert (out / "report" / "report.md").is_file() and (tmp_path / "run" / ".hydra" / "config.yaml").is_file()
