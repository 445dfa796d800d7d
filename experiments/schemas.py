"""Typed schemas of the analysis blocks of a config: calibration and sensitivity analysis.

They sit beside the model's parameters in the run config (``experiments/config.py``), empty
unless an analysis config fills them (``configs/analysis/calibrate.yaml``,
``sensitivity_morris.yaml``, ``sensitivity_sobol.yaml``). Both name the parameters they vary by
key; the ranges are the priors, declared once in ``configs/priors/default.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Target:
    """One calibration target: ``value`` with standard error ``se`` and 95% interval ``low`` to ``high``.

    ``se`` is what the likelihood uses: the study's standard error (the 95% interval's half-width
    / 1.96, or from the arms' sizes). Left at 0 it is read off the interval, ``(high - low) / 3.92``.
    """

    measure: str = ""
    value: float = 0.0
    low: float = 0.0
    high: float = 0.0
    se: float = 0.0
    source: str = ""
    weight: float = 1.0

    @property
    def standard_error(self) -> float:
        return self.se if self.se > 0 else (self.high - self.low) / 3.92


@dataclass
class CalibrationConfig:
    """Bayesian history matching with GP emulators (experiments/analyses/calibration.py, history_matching.py)."""

    parameters: list[str] = field(default_factory=list)  # dotted keys; their priors are in configs/priors/
    targets: list[Target] = field(default_factory=list)
    shapes: list[str] = field(default_factory=lambda: ["exponential", "power_law"])  # decay shapes fitted
    wave1_runs: int = 300  # space-filling design over the prior box, per shape
    wave2_runs: int = 200  # runs in the space wave 1 did not rule out, per shape
    noise_points: int = 10  # design points re-run to estimate the replicate variance
    noise_replicates: int = 3  # runs at each of those points (with the design's own run)
    cutoff: float = 3.0  # implausibility above which a point is ruled out
    candidates: int = 100000  # emulator evaluations to find the space not ruled out
    particles: int = 2000  # SMC particles on the emulators, per shape
    moves: int = 4  # Metropolis moves per SMC step
    posterior_draws: int = 2000  # rows of the posterior table (shapes mixed by their posterior probability)
    check_draws: int = 100  # posterior draws re-run with the real model (posterior predictive)
    gp_restarts: int = 1  # restarts of the GP hyperparameter optimiser
    jobs: int = 1  # worker processes for the runs and the emulator fits
    seed: int = 2024  # base seed: designs, run seeds, SMC
    runs_dir: str = "outputs/calibration"  # one parquet per chunk of runs: rerun to resume
    posterior: str = "docs/calibration/posterior.parquet"
    output: str = "configs/dynamics/calibrated.yaml"  # the posterior median, as a dynamics config
    report_dir: str = "docs/calibration"  # kept in the repository: the evidence for the defaults


@dataclass
class SensitivityConfig:
    method: str = "morris"  # morris or sobol
    parameters: list[str] = field(default_factory=list)  # dotted keys; their ranges: the priors (configs/priors/)
    strategies: list[str] = field(default_factory=lambda: ["course_only", "offer_all"])
    outputs: list[str] = field(default_factory=lambda: ["mean_gain_sd", "share_self_managing", "cost_total_gbp"])
    week: int = 52  # outcomes read at this week (12 months)
    trajectories: int = 10  # Morris: number of trajectories
    levels: int = 4  # Morris: grid levels
    base_samples: int = 64  # Sobol: N, a power of 2 (runs per strategy: N (2 D + 2), or N (D + 2) without second order)
    second_order: bool = True  # Sobol: also the second-order indices S2 (indices_second_order.csv)
    jobs: int = -1  # worker processes (-1: every core)
    seed: int = 7
    output_dir: Optional[str] = None  # default: the Hydra run folder
