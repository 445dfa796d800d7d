"""Typed schemas of the analysis blocks of a config: calibration and sensitivity analysis.

They sit beside the model's parameters in the run config (``experiments/config.py``), empty
unless an analysis config fills them (``configs/analysis/calibrate.yaml``,
``sensitivity_morris.yaml``, ``sensitivity_sobol.yaml``). Both name the parameters they vary by
key; the ranges are the priors, declared once in ``configs/priors/default.yaml``.

:class:`AreaConfig` is the schema of the ``area`` group (``configs/area/``): the area a report is
sized for (graduates a year, years, price year, perspective). It is not part of a run (no model
parameter depends on it): ``python -m experiments.report SWEEP_DIR area.KEY=VALUE`` reads it
(:func:`experiments.config.load_area`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
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
    wave3_runs: int = 0  # runs at posterior particles (refocusing), then refitted and resampled; 0: none
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


class Perspective(str, Enum):
    """Whose costs count in the budget impact and the economics of an area."""

    nhs_pss = "nhs_pss"  # the NHS and personal social services: NICE's reference case
    societal = "societal"  # also the time volunteers give (peer-group leaders, peer callers), valued per hour


@dataclass
class AreaConfig:
    """The area a report is sized for (``configs/area/default.yaml``; ranges in :data:`AREA_RANGES`).

    ``graduates_per_year``: graduates of the self-management course a year in the area, each year's
    new cohort offered the follow-on support (an assumption: about 40 courses of 12 to 14 graduates,
    the scale of an Expert Patients Programme in a large clinical commissioning area). ``years``:
    years of the budget impact, and the years the decision holds for the population EVPI.
    ``price_year``: the year of the prices shown (null: the sweep's ``costs.price_year``), re-priced
    with the cost config's ``inflation_index``. ``perspective``: :class:`Perspective`. The
    volunteer fields value volunteer time, used only from the ``societal`` perspective:
    ``volunteer_value_gbp_per_hour`` at ``volunteer_value_price_year`` prices (an assumption: no
    UK figure is in this repository's docs or configs), ``volunteer_hours_per_meeting`` of a
    peer-led group's volunteer leader (an assumption: as the 3 hours, preparation included, of the
    paid facilitator, ``costs.items.facilitator_per_meeting``) and ``volunteer_hours_per_caller_week``
    of a peer caller on the rota (an assumption: the "about 2 hours a week" behind
    ``strategy.telephone.calls_per_volunteer_per_week``). Discounting is the model's
    (``dynamics.outcomes.discount_rate_per_year``), not the area's.
    """

    graduates_per_year: int = 500
    years: int = 5
    price_year: Optional[int] = None
    perspective: Perspective = Perspective.nhs_pss
    volunteer_value_gbp_per_hour: float = 11.44
    volunteer_value_price_year: int = 2024
    volunteer_hours_per_meeting: float = 3.0
    volunteer_hours_per_caller_week: float = 2.0


#: Allowed range of each number of :class:`AreaConfig`: (lowest, highest, whole number?). A price
#: year must also be a year of the sweep's ``costs.inflation_index`` (checked against the sweep).
AREA_RANGES: dict[str, tuple[float, float, bool]] = {
    "graduates_per_year": (1, 10_000_000, True),
    "years": (1, 30, True),
    "price_year": (1900, 2100, True),
    "volunteer_value_gbp_per_hour": (0.0, 100.0, False),
    "volunteer_value_price_year": (1900, 2100, True),
    "volunteer_hours_per_meeting": (0.0, 24.0, False),
    "volunteer_hours_per_caller_week": (0.0, 40.0, False),
}
