"""Typed schemas of the analysis blocks of a config: calibration and sensitivity analysis.

They sit beside the model's parameters in the run config (``experiments/config.py``), empty
unless an experiment config fills them (``configs/experiment/calibrate.yaml``,
``sensitivity_morris.yaml``, ``sensitivity_sobol.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from experiments.targets import Target


@dataclass
class FreeParameter:
    """A parameter to vary, by its dotted config key, within ``low`` .. ``high``."""

    key: str = ""
    low: float = 0.0
    high: float = 1.0
    log: bool = False  # sample on a log scale (calibration only)


@dataclass
class CalibrationConfig:
    parameters: list[FreeParameter] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    trials: int = 60  # trials in the study in all (a resumed study runs only the missing ones)
    replicates: int = 3  # runs per strategy per trial; the loss uses their mean
    jobs: int = 1  # worker processes sharing the study
    seed: int = 2024  # base seed of the replicate runs (the same seeds in every trial)
    prior_weight: float = 0.05  # pull towards the prior defaults, per squared range
    polish_evaluations: int = 0  # then refine the study's best by Powell's method with this many evaluations
    storage: str = "outputs/calibration/study.journal"  # Optuna journal: rerun to resume
    study_name: str = "after_the_course"
    output: str = "configs/dynamics/calibrated.yaml"  # the fitted values, as a dynamics config
    report_dir: str = "docs/calibration"  # kept in the repository: the evidence for the defaults


@dataclass
class SensitivityConfig:
    method: str = "morris"  # morris or sobol
    parameters: list[FreeParameter] = field(default_factory=list)
    strategies: list[str] = field(default_factory=lambda: ["course_only", "offer_all"])
    outputs: list[str] = field(default_factory=lambda: ["mean_gain_sd", "share_self_managing", "cost_total_gbp"])
    week: int = 52  # outcomes read at this week (12 months)
    trajectories: int = 10  # Morris: number of trajectories
    levels: int = 4  # Morris: grid levels
    base_samples: int = 64  # Sobol: N (runs = N * (2 D + 2)); a power of 2
    jobs: int = -1  # worker processes (-1: every core)
    seed: int = 7
    output_dir: Optional[str] = None  # default: the Hydra run folder
