"""Value of information from a probabilistic sensitivity analysis: what better evidence is worth.

Pure functions on a tidy frame of PSA draws (no model runs; :mod:`experiments.analyses.decision` applies
them to a PSA sweep and writes the files the report reads). The frame has one row per draw x
strategy (:func:`experiments.analyses.decision.psa_frame` builds it from a PSA sweep folder):

================  ===========================================================================
column            meaning
================  ===========================================================================
``replicate``     the PSA draw (every strategy of a draw ran with the same parameter values and
                  the same seed: a paired PSA)
``strategy``      what a commissioner could fund (an id); ``label`` its name in plain words
``cost_gbp``      discounted cost per graduate, GBP (absolute, or incremental against a comparator)
``qalys``         discounted QALYs per graduate (absolute, or incremental, like the cost)
other numbers     the drawn parameter values of the draw, one column per parameter, by dotted key
                  (whatever the PSA drew: :func:`parameter_columns` finds them)
================  ===========================================================================

Absolute and incremental numbers give the same answers: every quantity here depends on net
benefits only through differences between strategies within a draw.

Quantities (``wtp``: willingness to pay, GBP per QALY; NB: net monetary benefit
``wtp x QALYs - cost``, GBP per graduate):

* **EVPI** (expected value of perfect information), GBP per graduate:
  ``E_draws[max_strategy NB] - max_strategy E_draws[NB]``: what a decision maker would pay, per
  graduate, to learn every uncertain parameter before choosing. :func:`evpi_per_graduate` also
  gives a bootstrap standard error over draws.
* **Population EVPI**, GBP for a population: per-graduate EVPI x the discounted number of
  graduates the decision affects (:func:`population_graduates`: graduates a year in an area, over
  the years the decision holds, discounted). The most a study that resolved all the uncertainty
  could be worth to that population; a study that costs more is not worth doing.
* **EVPPI** (partial: one parameter or a group of parameters), GBP per graduate:
  ``E_phi[max_strategy E(NB | phi)] - max_strategy E(NB)``, estimated by the nonparametric
  regression method of Strong, Oakley & Brennan (2014, Med Decis Making 34:311-326): regress each
  strategy's net benefit (relative to a reference strategy) on the parameters ``phi`` over the PSA
  draws; the fitted values estimate ``E(NB | phi)`` for each draw. See
  :func:`conditional_net_benefit` for the smoothers (a GAM for one parameter, a Gaussian process
  for a group), why the net benefit is fitted at each willingness to pay and why each fit is
  shrunk by cross-validation (so that run-to-run noise is not fitted as value of information).

**EVPPI <= EVPI, always.** Learning some parameters cannot be worth more than learning all of them;
an estimate above the EVPI of the same draws is reported as the EVPI and flagged
(``capped_at_evpi`` in :func:`voi_table`). Every EVPPI has a standard error that combines the
regression's uncertainty with a bootstrap over the draws, and an estimate not above 1.96 standard
errors is flagged ``distinguishable_from_0`` False: it may be 0.

Cross-checks: on a two-strategy linear-Gaussian PSA of 2,000 draws and on a 100-draw PSA of this
model, EVPI equals that of the ``voiage`` package (2.2.0) to rounding, and the eight EVPPIs tried
agreed with voiage's within 1.2 of the standard errors (before the shrinkage; voiage could not be a
test dependency: it requires pandas < 3). The tests check EVPPI against closed forms and against
nested Monte Carlo (tests/experiments/test_voi.py).

Caveat: each PSA draw here is also one stochastic run of an agent-based model, so the net benefit of
a draw carries Monte Carlo noise besides parameter uncertainty. EVPI from the raw draws counts that
noise as if it were learnable and so overstates the EVPI (less so with common random numbers, which
cancel most of the noise in differences between strategies). The regression EVPPI smooths the noise
away; the EVPPI of all parameters together is the noise-free estimate of the EVPI.
"""

from __future__ import annotations

import fnmatch
import json
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.schemas import AreaConfig
from sim.economics import WTP_THRESHOLDS_GBP, wtp_grid
from sim.params import OutcomeParams

DRAW, STRATEGY, LABEL, POPULATION = "replicate", "strategy", "label", "population"
COST, QALY = "cost_gbp", "qalys"
#: Columns of the frame that are not drawn parameters.
NOT_PARAMETERS = frozenset({DRAW, STRATEGY, LABEL, POPULATION, COST, QALY, "run_id", "seed", "arm"})

#: Graduates of a self-management course a year in one area: the ``area`` config's default
#: (``configs/area/default.yaml``, :class:`experiments.schemas.AreaConfig`; an assumption: about 40
#: courses of 12 to 14 graduates). ``python -m experiments.report SWEEP_DIR area.graduates_per_year=N``
#: passes an area's own number.
GRADUATES_PER_YEAR = AreaConfig().graduates_per_year
#: Years the decision holds before new evidence or new services change it: the area's ``years``
#: (the same years as its budget impact; an assumption).
DECISION_YEARS = AreaConfig().years
#: Discount rate per year for future graduates: the model's default
#: (``dynamics.outcomes.discount_rate_per_year``, NICE's reference case, 3.5%).
DISCOUNT_RATE_PER_YEAR = OutcomeParams().discount_rate_per_year

#: Groups of parameters for EVPPI: plain-words name -> glob patterns on dotted keys. A parameter
#: goes to the first group with a matching pattern, else to "Other parameters".
PARAMETER_GROUPS: dict[str, tuple[str, ...]] = {
    "Effect of each contact with support (channel efficacies)": ("*.effect.efficacy", "*efficacy*"),
    "How fast gains fade and consolidate": ("dynamics.retention.*", "dynamics.course.*"),
    "Engagement: who joins, attends, answers and stays": (
        "dynamics.peer_group.*", "dynamics.telephone.*", "dynamics.online.*", "*join*", "*attend*", "*answer*",
        "*leave*", "*engage*"),
    "Health events and the value of a QALY gain": ("dynamics.health.*", "dynamics.outcomes.*"),
    "Unit costs": ("costs.*",),
}
OTHER_GROUP = "Other parameters"
ALL_GROUP = "All uncertain parameters"
#: Draws needed per parameter before the EVPPI of all parameters together is estimated (a rule of
#: thumb for a Gaussian process in that many dimensions; below it the fit is too smooth and the
#: EVPPI too low).
DRAWS_PER_PARAMETER = 10


# --- the frame ---------------------------------------------------------------------------------


def parameter_columns(frame: pd.DataFrame) -> list[str]:
    """The drawn parameters of a PSA frame: numeric columns that are not ids or outcomes.

    Generic: whatever the PSA drew (independent priors, or draws from a calibration posterior)
    becomes a column, and every such column is a parameter here.
    """
    return [c for c in frame.columns if c not in NOT_PARAMETERS and pd.api.types.is_numeric_dtype(frame[c])]


def _one_population(frame: pd.DataFrame) -> None:
    if POPULATION in frame.columns and frame[POPULATION].nunique() > 1:
        raise ValueError(f"the frame holds {frame[POPULATION].nunique()} populations: value of information is for "
                         "one decision, so pass one population's rows")


def strategies_of(frame: pd.DataFrame) -> list[str]:
    """The strategies in the order they first appear."""
    return list(dict.fromkeys(frame[STRATEGY]))


def _wide(frame: pd.DataFrame, column: str, strategies: Sequence[str]) -> pd.DataFrame:
    """(draws, strategies) table of ``column``, keeping only draws in which every strategy ran."""
    _one_population(frame)
    dup = frame.duplicated([DRAW, STRATEGY])
    if dup.any():
        raise ValueError(f"{int(dup.sum())} rows repeat a (replicate, strategy) pair: one row per draw and strategy")
    wide = frame.pivot(index=DRAW, columns=STRATEGY, values=column).reindex(columns=list(strategies))
    return wide.dropna()


def net_benefit(frame: pd.DataFrame, wtp_gbp_per_qaly: float, strategies: Sequence[str] | None = None) -> pd.DataFrame:
    """Net monetary benefit per draw and strategy, GBP per graduate: ``wtp x QALYs - cost``.

    Returns a (draws, strategies) table indexed by replicate, one column per strategy, keeping only
    draws in which every strategy ran.
    """
    strategies = list(strategies or strategies_of(frame))
    c = _wide(frame, COST, strategies)
    q = _wide(frame, QALY, strategies).reindex(index=c.index)
    return float(wtp_gbp_per_qaly) * q - c


def net_monetary_benefit(frame: pd.DataFrame, wtp_gbp_per_qaly: Iterable[float] = WTP_THRESHOLDS_GBP) -> pd.DataFrame:
    """The frame with ``nmb_<wtp>`` (GBP per graduate) for every ``wtp`` (GBP per QALY), row by row."""
    out = frame.copy()
    for wtp in wtp_gbp_per_qaly:
        out[f"nmb_{int(wtp)}"] = float(wtp) * out[QALY] - out[COST]
    return out


# --- EVPI --------------------------------------------------------------------------------------


def evpi(nb) -> float:
    """EVPI from a (draws, strategies) array of net benefits: ``mean(max) - max(mean)``, same units."""
    nb = np.asarray(nb, dtype=float)
    if nb.ndim != 2 or nb.shape[0] == 0:
        raise ValueError(f"net benefits must be a non-empty (draws, strategies) array, got shape {nb.shape}")
    # >= 0 by Jensen's inequality; rounding error (a decision never in doubt) is returned as 0
    value = float(nb.max(axis=1).mean() - nb.mean(axis=0).max())
    return value if value > 1e-12 * max(1.0, float(np.abs(nb).max())) else 0.0


#: The two-sided 95% normal quantile: an estimate whose value is not above this many standard errors
#: is "not distinguishable from 0".
Z95 = 1.959964


@dataclass(frozen=True)
class Estimate:
    """A value with its standard error (same units), and how many PSA draws it used.

    For an EVPPI also: ``uncapped`` (the regression's own estimate, same units; None when it is
    ``value``), ``capped_at_evpi`` (True when that exceeded the EVPI and ``value`` is the EVPI
    instead: partial information cannot be worth more than perfect information) and ``shrinkage``
    (the mean cross-validated shrinkage factor of its regressions, 0 to 1: 1 keeps the fit as it
    is, 0 flattens it to a constant because it only fitted noise; None when no regression was needed).
    """

    value: float
    se: float
    draws: int
    uncapped: float | None = None
    capped_at_evpi: bool = False
    shrinkage: float | None = None

    @property
    def distinguishable_from_0(self) -> bool:
        """Whether the value is above :data:`Z95` standard errors (False with no standard error)."""
        return bool(distinguishable_from_0(self.value, self.se))


def distinguishable_from_0(value, se):
    """Whether a value of information (>= 0) is above :data:`Z95` times its standard error (same
    units), elementwise: a 95% interval that excludes 0. A missing (NaN) standard error gives False:
    nothing says the value is not chance."""
    value, se = np.asarray(value, dtype=float), np.asarray(se, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.abs(value) > Z95 * se


def evpi_per_graduate(frame: pd.DataFrame, wtp_gbp_per_qaly: float, bootstrap: int = 1000,
                      seed: int = 20140301) -> Estimate:
    """EVPI per graduate, GBP, at ``wtp`` (GBP per QALY), with a bootstrap standard error over draws.

    The standard error is the SD of the EVPI over ``bootstrap`` resamples of the draws (with
    replacement); 0 resamples gives NaN.
    """
    nb = net_benefit(frame, wtp_gbp_per_qaly).to_numpy()
    value = evpi(nb)
    se = float("nan")
    if bootstrap > 0 and len(nb) > 1:
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, len(nb), size=(bootstrap, len(nb)))
        boot = nb[idx]  # (bootstrap, draws, strategies)
        values = boot.max(axis=2).mean(axis=1) - boot.mean(axis=1).max(axis=1)
        se = float(values.std(ddof=1))
    return Estimate(value, se, len(nb))


def population_graduates(graduates_per_year: float = GRADUATES_PER_YEAR, years: int = DECISION_YEARS,
                         discount_rate_per_year: float = DISCOUNT_RATE_PER_YEAR) -> float:
    """Discounted number of graduates the decision affects: ``sum_{t=0}^{years-1} N / (1 + r)^t``.

    ``graduates_per_year`` (N) in one area, for ``years`` years, the first year undiscounted. The
    factor that turns a per-graduate value (GBP per graduate) into a population value (GBP). (Some
    tools, e.g. the ``voiage`` package, discount the first year too: their factor is this one
    divided by ``1 + r``.)
    """
    if graduates_per_year < 0 or years < 0 or discount_rate_per_year <= -1:
        raise ValueError("graduates_per_year and years must be >= 0 and the discount rate > -1")
    t = np.arange(int(years))
    return float(graduates_per_year * np.sum((1.0 + discount_rate_per_year) ** -t))


def population_evpi(per_graduate_gbp: float, graduates_per_year: float = GRADUATES_PER_YEAR,
                    years: int = DECISION_YEARS, discount_rate_per_year: float = DISCOUNT_RATE_PER_YEAR) -> float:
    """Population EVPI, GBP: per-graduate EVPI (GBP per graduate) x :func:`population_graduates`."""
    return float(per_graduate_gbp) * population_graduates(graduates_per_year, years, discount_rate_per_year)


def evpi_curve(frame: pd.DataFrame, wtp_gbp_per_qaly=None, bootstrap: int = 200,
               graduates_per_year: float = GRADUATES_PER_YEAR, years: int = DECISION_YEARS,
               discount_rate_per_year: float = DISCOUNT_RATE_PER_YEAR) -> pd.DataFrame:
    """EVPI over a grid of willingness to pay (default 0 to 50,000 GBP per QALY in steps of 500).

    One row per ``wtp_gbp_per_qaly``: ``evpi_per_graduate_gbp`` (GBP per graduate) and its
    ``se_gbp``, ``evpi_population_gbp`` (GBP, for the population of :func:`population_graduates`)
    and ``best_strategy`` (the highest expected net benefit there).
    """
    wtp = wtp_grid() if wtp_gbp_per_qaly is None else np.atleast_1d(np.asarray(wtp_gbp_per_qaly, dtype=float))
    pop = population_graduates(graduates_per_year, years, discount_rate_per_year)
    rows = []
    for w in wtp:
        e = evpi_per_graduate(frame, w, bootstrap=bootstrap)
        nb = net_benefit(frame, w)
        rows.append({"wtp_gbp_per_qaly": float(w), "evpi_per_graduate_gbp": e.value, "se_gbp": e.se,
                     "evpi_population_gbp": e.value * pop, "best_strategy": nb.mean().idxmax(), "draws": e.draws})
    return pd.DataFrame(rows)


# --- EVPPI by nonparametric regression -------------------------------------------------------------


@dataclass
class _Smooth:
    """A regression fit at the training draws: the fitted ``E(y | phi)`` and samples from its
    posterior (the regression function, without the noise), in the units of ``y``."""

    mean: np.ndarray  # (draws,)
    samples: np.ndarray  # (n_samples, draws)
    signal_sd: float  # SD of the fitted function over the draws
    noise_sd: float  # SD of the residual noise
    loo: np.ndarray | None = None  # (draws,) leave-one-out predictions: each draw's fit without that draw


def _constant(y: np.ndarray, n_samples: int) -> _Smooth:
    n, m = len(y), float(np.mean(y))
    return _Smooth(np.full(n, m), np.full((n_samples, n), m), 0.0, float(np.std(y)), np.full(n, m))


def _leave_one_out(fitted: np.ndarray, y: np.ndarray, hat_diagonal: np.ndarray) -> np.ndarray:
    """Exact leave-one-out predictions of a linear smoother ``fitted = H y`` (penalised spline or
    Gaussian-process mean at fixed smoothness): ``(fitted_i - H_ii y_i) / (1 - H_ii)``."""
    return (fitted - hat_diagonal * y) / np.maximum(1.0 - hat_diagonal, 1e-9)


def shrinkage_factor(y, loo) -> float:
    """The cross-validated shrinkage factor of a regression, 0 to 1 (Van Houwelingen & le Cessie
    1990, Stat Med 9:1303-1325): the slope of ``y`` on its leave-one-out predictions ``loo`` (same
    units), clipped to [0, 1].

    A fit that found a real function of the parameters predicts left-out draws (slope about 1); one
    that fitted the run-to-run noise of the draws does not (slope about 0, or negative). Scaling
    the predictions about their mean by this factor removes what the fit cannot predict, so
    noise is not mistaken for value of information."""
    y, loo = np.asarray(y, dtype=float), np.asarray(loo, dtype=float)
    var = float(np.var(loo))
    if not var > 1e-12 * max(float(np.var(y)), 1e-300):
        return 0.0
    slope = float(np.mean((loo - loo.mean()) * (y - y.mean()))) / var
    return float(np.clip(slope, 0.0, 1.0))


def _shrink(fit: _Smooth, y: np.ndarray) -> tuple[_Smooth, float]:
    """The fit's leave-one-out predictions, recalibrated: ``mean(y) + b (loo - mean(loo))`` with ``b``
    the :func:`shrinkage_factor`; each posterior sample moved alike (its deviation from the fitted
    mean, times ``b``); and ``b``.

    Why not the in-sample fit: a flexible smoother that can nearly interpolate the draws (a Gaussian
    process of a dozen parameters and a few dozen draws, whose marginal likelihood prefers little
    noise) returns each draw's own net benefit, noise included, and its EVPPI is then the EVPI of
    the raw draws. A draw's leave-one-out prediction cannot contain that draw's noise; recalibrated
    on the draws (the linear regression of ``y`` on it) it keeps only what the parameters predict out
    of sample, and is flat (``b = 0``) when they predict nothing. With a smooth fit and many draws
    the leave-one-out and in-sample fits are nearly the same and ``b`` is about 1."""
    if fit.loo is None:
        return fit, 1.0
    b = shrinkage_factor(y, fit.loo)
    mean = float(np.mean(y)) + b * (fit.loo - float(np.mean(fit.loo)))
    samples = mean[None, :] + b * (fit.samples - fit.mean[None, :])
    return _Smooth(mean, samples, float(mean.std()), fit.noise_sd, fit.loo), b


def _spline_smooth(x: np.ndarray, y: np.ndarray, n_samples: int, rng: np.random.Generator,
                   segments: int = 20) -> _Smooth:
    """Fit ``y ~ s(x)`` for one parameter: a one-dimensional GAM, as a penalised cubic regression
    spline (P-spline: cubic B-splines on ``segments`` equal segments with a second-difference
    penalty, Eilers & Marx 1996), its smoothness chosen by generalised cross-validation; posterior
    samples from the Bayesian covariance of the coefficients ``sigma^2 (B'B + lambda P)^-1`` (as
    mgcv's, which Strong et al. 2014 use). Fully penalised it is a straight line, so a parameter
    without effect gets a nearly flat fit."""
    from scipy.interpolate import BSpline

    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float)
    n = len(x)
    y_mean, y_sd = float(y.mean()), float(y.std())
    lo, hi = float(x.min()), float(x.max())
    if not y_sd > 0 or not hi > lo:
        return _constant(y, n_samples)
    t = (y - y_mean) / y_sd
    degree = 3
    width = (hi - lo) / segments
    knots = lo + width * np.arange(-degree, segments + degree + 1)
    basis = BSpline.design_matrix(np.clip(x, knots[degree], knots[-degree - 1]), knots, degree).toarray()  # (n, segments + 3)
    k = basis.shape[1]
    diff = np.diff(np.eye(k), n=2, axis=0)
    penalty = diff.T @ diff
    btb, bty = basis.T @ basis, basis.T @ t
    scale = np.trace(btb) / np.trace(penalty)
    best = None
    for lam in np.logspace(-6, 6, 49):
        inv = np.linalg.inv(btb + lam * scale * penalty)
        beta = inv @ bty
        rss = float(np.sum((t - basis @ beta) ** 2))
        edf = float(np.trace(inv @ btb))
        gcv = n * rss / max(n - edf, 1e-9) ** 2
        if best is None or gcv < best[0]:
            best = (gcv, beta, inv, rss, edf)
    _, beta, inv, rss, edf = best
    sigma2 = rss / max(n - edf, 1.0)
    cov = sigma2 * (inv + inv.T) / 2
    coefs = rng.multivariate_normal(beta, cov, size=n_samples, method="eigh")
    mean = basis @ beta
    hat = np.einsum("ij,jk,ik->i", basis, inv, basis)  # diagonal of the smoother B (B'B + lambda P)^-1 B'
    loo = _leave_one_out(mean, t, hat)
    return _Smooth(y_mean + y_sd * mean, y_mean + y_sd * (coefs @ basis.T), y_sd * float(mean.std()),
                   y_sd * float(np.sqrt(sigma2)), y_mean + y_sd * loo)


#: Shortest length scale of the Gaussian process, in SDs of each parameter. Shorter ones let the
#: kernel mimic noise (each draw its own bump): on a PSA of 100 agent-based runs the marginal
#: likelihood then prefers fitting the noise, and the EVPPI of any group comes out equal to the
#: EVPI. A PSA's parameters act smoothly over their range, so half an SD loses nothing real.
GP_MIN_LENGTH_SCALE_SD = 0.5
#: Most draws used to choose a Gaussian process's hyperparameters (each step of the optimiser costs
#: O(draws^3)); the posterior itself always uses every draw.
GP_FIT_DRAWS = 400


def _gp_smooth(x: np.ndarray, y: np.ndarray, n_samples: int, rng: np.random.Generator) -> _Smooth:
    """Fit ``y ~ GP(x)`` (squared-exponential kernel with one length scale per parameter, at least
    :data:`GP_MIN_LENGTH_SCALE_SD`, plus white noise; parameters standardised; hyperparameters by
    maximum marginal likelihood with scikit-learn, on at most
    :data:`GP_FIT_DRAWS` draws chosen at random) and return the posterior of the latent function at
    every draw."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(y)
    y_mean, y_sd = float(y.mean()), float(y.std())
    x_sd = x.std(axis=0)
    keep = x_sd > 0
    if not y_sd > 0 or not keep.any():
        return _constant(y, n_samples)
    z = (x[:, keep] - x[:, keep].mean(axis=0)) / x_sd[keep]
    t = (y - y_mean) / y_sd
    kernel = (ConstantKernel(0.5, (1e-4, 1e2)) * RBF(np.ones(z.shape[1]), (GP_MIN_LENGTH_SCALE_SD, 1e3))
              + WhiteKernel(0.5, (1e-4, 2.0)))
    gp = GaussianProcessRegressor(kernel, normalize_y=False, n_restarts_optimizer=0,
                                  random_state=int(rng.integers(2**31)))
    fit = rng.choice(n, GP_FIT_DRAWS, replace=False) if n > GP_FIT_DRAWS else slice(None)
    with warnings.catch_warnings():  # a length scale at its bound (an irrelevant parameter) is expected
        warnings.simplefilter("ignore")
        gp.fit(z[fit], t[fit])
    k_f = gp.kernel_.k1(z)  # the latent function's covariance at the draws
    s2 = float(gp.kernel_.k2.noise_level)
    # posterior of the latent f at the training points: with K_f = U diag(lam) U^T,
    # mean = U diag(lam / (lam + s2)) U^T t, cov = U diag(lam s2 / (lam + s2)) U^T
    lam, u = np.linalg.eigh(k_f)
    lam = np.clip(lam, 0.0, None)
    mean = u @ ((lam / (lam + s2)) * (u.T @ t))
    sd = np.sqrt(lam * s2 / (lam + s2))
    draws = mean[None, :] + (rng.standard_normal((n_samples, n)) * sd[None, :]) @ u.T
    # leave-one-out predictions at these hyperparameters (Rasmussen & Williams 2006, eq. 5.12):
    # t_i - [K^-1 t]_i / [K^-1]_ii with K = K_f + s2 I; stable where the fit nearly interpolates
    inv_diag = (u**2) @ (1.0 / (lam + s2))
    alpha = u @ ((u.T @ t) / (lam + s2))
    loo = t - alpha / inv_diag
    return _Smooth(y_mean + y_sd * mean, y_mean + y_sd * draws, y_sd * float(mean.std()), y_sd * float(np.sqrt(s2)),
                   y_mean + y_sd * loo)


def _evppi_from_incremental(inb: np.ndarray) -> float:
    """EVPPI from fitted incremental net benefits (strategies - 1, draws); the reference is 0."""
    full = np.vstack([np.zeros((1, inb.shape[1])), inb])
    return max(0.0, float(full.max(axis=0).mean() - full.mean(axis=1).max()))


#: Bootstrap resamples of the draws for the standard error of an EVPPI.
BOOTSTRAP = 500


def _bootstrap_evppi(inb: np.ndarray, bootstrap: int, rng: np.random.Generator) -> np.ndarray:
    """The EVPPI of ``bootstrap`` resamples (with replacement) of the draws of fitted incremental
    net benefits ``inb`` (strategies - 1, draws), same units: the sampling error of the outer
    expectation over a finite PSA."""
    full = np.vstack([np.zeros((1, inb.shape[1])), inb])
    n = inb.shape[1]
    out = np.empty(bootstrap)
    for start in range(0, bootstrap, 100):  # in blocks, to bound memory: (strategies, 100, draws)
        idx = rng.integers(0, n, size=(min(100, bootstrap - start), n))
        boot = full[:, idx]
        out[start:start + len(idx)] = boot.max(axis=0).mean(axis=1) - boot.mean(axis=2).max(axis=0)
    return out


@dataclass
class IncrementalFit:
    """The fitted ``E(NB_s - NB_ref | phi)`` of each rival ``s`` of the reference at one willingness
    to pay, at every PSA draw (GBP per graduate), shrunk by cross-validation, with samples from the
    regressions' posteriors (shrunk alike)."""

    rivals: list[str]  # the strategies fitted: those that beat the reference in at least one draw
    inb: np.ndarray  # (rivals, draws), GBP per graduate
    samples: np.ndarray  # (samples, rivals, draws)
    shrinkage: np.ndarray  # (rivals,): each regression's shrinkage factor, 0 to 1


@dataclass
class ConditionalNetBenefit:
    """``E(NB | phi)`` of each strategy relative to a reference strategy at every PSA draw, at each
    willingness to pay the fit serves (:class:`IncrementalFit`): what the EVPPI of ``phi`` needs."""

    parameters: list[str]
    strategies: list[str]  # the reference first, then every strategy fitted at some willingness to pay
    draws: int
    method: str  # "spline" (a GAM of one parameter) or "gp"
    fits: dict[float, IncrementalFit]  # by willingness to pay, GBP per QALY

    @property
    def valid_at(self) -> tuple[float, ...]:
        """The willingness-to-pay values (GBP per QALY) the fit serves."""
        return tuple(self.fits)

    def evppi(self, wtp_gbp_per_qaly: float, evpi_gbp: float | None = None, bootstrap: int = BOOTSTRAP,
              seed: int = 20140301) -> Estimate:
        """EVPPI per graduate, GBP, at ``wtp`` (GBP per QALY), with its standard error.

        The standard error combines, in quadrature, the regressions' own uncertainty (the SD of the
        EVPPI over their posterior samples) and the sampling error of a finite PSA (the SD over
        ``bootstrap`` resamples of the draws). ``evpi_gbp``: the EVPI at the same willingness to pay
        (GBP per graduate); if given, an estimate above it is reported as the EVPI, flagged
        ``capped_at_evpi`` (learning part of the uncertainty cannot be worth more than learning all of it).
        """
        w = float(wtp_gbp_per_qaly)
        if w not in self.fits:
            raise ValueError(f"this fit was made at {self.valid_at} GBP per QALY (it left out strategies that never "
                             f"beat the reference there): it holds at those only, not at {w:g}")
        fit = self.fits[w]
        if fit.inb.shape[0] == 0:  # the reference is best in every draw: nothing to learn
            return Estimate(0.0, 0.0, self.draws)
        value = _evppi_from_incremental(fit.inb)
        full = np.concatenate([np.zeros((fit.samples.shape[0], 1, fit.samples.shape[2])), fit.samples], axis=1)
        per_sample = full.max(axis=1).mean(axis=1) - full.mean(axis=2).max(axis=1)
        se_fit = float(per_sample.std(ddof=1)) if len(per_sample) > 1 else 0.0
        se_draws = (float(_bootstrap_evppi(fit.inb, bootstrap, np.random.default_rng(seed)).std(ddof=1))
                    if bootstrap > 1 and self.draws > 1 else 0.0)
        se = float(np.hypot(se_fit, se_draws)) if bootstrap > 1 or len(per_sample) > 1 else float("nan")
        capped = evpi_gbp is not None and value > float(evpi_gbp)
        return Estimate(float(evpi_gbp) if capped else value, se, self.draws, uncapped=value, capped_at_evpi=capped,
                        shrinkage=float(fit.shrinkage.mean()))


def best_strategy(frame: pd.DataFrame, wtp_gbp_per_qaly: float) -> str:
    """The strategy with the highest expected net benefit at ``wtp`` (GBP per QALY)."""
    return str(net_benefit(frame, wtp_gbp_per_qaly).mean().idxmax())


def conditional_net_benefit(frame: pd.DataFrame, parameters: str | Sequence[str], samples: int = 300,
                            seed: int = 20140301, method: str = "auto", reference: str | None = None,
                            only_at: Iterable[float] | None = None, shrink: bool = True) -> ConditionalNetBenefit:
    """Regress each strategy's net benefit, relative to a reference strategy, on ``parameters``, at
    each willingness to pay of ``only_at`` (GBP per QALY; default the two thresholds).

    The nonparametric regression method of Strong, Oakley & Brennan (2014), with their own choice
    of smoother by the number of parameters (``method="auto"``):

    * **one parameter: a GAM** (a penalised cubic regression spline, smoothness by generalised
      cross-validation: :func:`_spline_smooth`). Fast (linear in the number of draws), and fully
      penalised it is a straight line, so a parameter without effect gets a nearly flat fit;
      its posterior samples come from the Bayesian posterior of its coefficients.
    * **a group: a Gaussian process** (squared-exponential kernel with one length scale per
      parameter plus white noise, hyperparameters by maximum marginal likelihood, with
      scikit-learn: :func:`_gp_smooth`). A GAM of a group needs a tensor-product basis whose size
      grows exponentially with the number of parameters; a GP models any smooth function of many
      parameters and their interactions, chooses its own smoothness, and does well with few draws
      (a PSA of an agent-based model has few: each is a run of every strategy). O(draws^3).

    ``method="gp"`` or ``"spline"`` forces one (the spline takes exactly one parameter).

    **Why the net benefit itself, at each willingness to pay, and why shrunk.** Each draw of an
    agent-based PSA is one stochastic run, and the run-to-run noise moves a strategy's QALYs and
    cost together (more engagement: more cost and more QALYs), so it largely cancels in the net
    benefit. Regressing QALYs and costs separately (as this module once did) lets two independent
    fits each pick up some of that noise, which then no longer cancels: on a 200-draw PSA that made
    the EVPPI of the unit costs (GBP 3.07) exceed the EVPI (GBP 2.55). Here the incremental net
    benefit is fitted directly, and the fitted values are each draw's leave-one-out prediction
    (exact for these smoothers at their chosen smoothness), recalibrated by the cross-validated
    shrinkage factor (:func:`_shrink`, :func:`shrinkage_factor`): a draw's own noise cannot enter
    its own fitted value, and a fit that cannot predict left-out draws is flattened
    (``shrink=False`` keeps the in-sample fit, for comparison). The EVPPI is still an estimate;
    :func:`evppi` and :func:`voi_table` cap it at the EVPI and say so.

    The ``reference`` (default: the strategy with the highest expected net benefit at GBP 20,000
    per QALY, :func:`best_strategy`) should be the best strategy at the willingness to pay of
    interest: each strategy's difference from it is then fitted directly (with paired,
    common-random-number draws the differences between close rivals vary far less than either
    varies against a distant reference). A strategy whose net benefit is below the reference's in
    every draw at a willingness to pay is left out there (if ``NB_s <= NB_ref`` in every draw,
    ``E(NB_s - NB_ref | phi) <= 0`` for every ``phi``: it can never be the best choice given
    ``phi``): exact, faster, and free of the fitting noise it would add; with none left the EVPPI
    is exactly 0. Correlated parameters (e.g. drawn from a calibration posterior) are fine: the
    regression estimates the conditional expectation given ``phi`` whatever the joint distribution.
    """
    params = [parameters] if isinstance(parameters, str) else list(parameters)
    missing = [p for p in params if p not in frame.columns]
    if missing or not params:
        raise KeyError(f"no parameter column {missing[0] if missing else '(none given)'} in the PSA frame")
    if method == "auto":
        method = "spline" if len(params) == 1 else "gp"
    if method not in ("spline", "gp") or (method == "spline" and len(params) != 1):
        raise ValueError(f"method must be 'auto', 'gp' or (for one parameter) 'spline', got {method!r}")
    smooth = _spline_smooth if method == "spline" else _gp_smooth
    strategies = strategies_of(frame)
    if len(strategies) < 2:
        raise ValueError("value of information needs at least two strategies")
    reference = best_strategy(frame, WTP_THRESHOLDS_GBP[0]) if reference is None else reference
    if reference not in strategies:
        raise KeyError(f"no strategy {reference!r} in the PSA frame (it has {strategies})")
    wtps = tuple(dict.fromkeys(float(w) for w in (WTP_THRESHOLDS_GBP if only_at is None else only_at)))
    if not wtps or not all(np.isfinite(w) and w >= 0 for w in wtps):
        raise ValueError(f"only_at must hold willingness-to-pay values >= 0 (GBP per QALY), got {wtps}")
    strategies = [reference, *(x for x in strategies if x != reference)]
    q = _wide(frame, QALY, strategies)
    c = _wide(frame, COST, strategies).reindex(index=q.index)
    x = frame.drop_duplicates(DRAW).set_index(DRAW).reindex(index=q.index)[params].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    n = len(q)
    fits, fitted = {}, []
    for w in wtps:
        inb = {s: (w * (q[s] - q[reference]) - (c[s] - c[reference])).to_numpy() for s in strategies[1:]}
        rivals = [s for s in strategies[1:] if (inb[s] > 0).any()]
        means, draws, factors = [], [], []
        for s in rivals:
            fit = smooth(x, inb[s], samples, rng)
            fit, b = _shrink(fit, inb[s]) if shrink else (fit, 1.0)
            means.append(fit.mean)
            draws.append(fit.samples)
            factors.append(b)
        fits[w] = IncrementalFit(rivals, np.array(means).reshape(len(rivals), n),
                                 np.stack(draws, axis=1) if draws else np.zeros((samples, 0, n)), np.array(factors))
        fitted += rivals
    return ConditionalNetBenefit(params, [reference, *(s for s in strategies[1:] if s in fitted)], n, method, fits)


def evppi(frame: pd.DataFrame, parameters: str | Sequence[str], wtp_gbp_per_qaly: float = WTP_THRESHOLDS_GBP[0],
          samples: int = 300, seed: int = 20140301, method: str = "auto", cap: bool = True,
          shrink: bool = True, bootstrap: int = BOOTSTRAP) -> Estimate:
    """EVPPI per graduate, GBP, of one parameter or a group, at ``wtp`` (GBP per QALY), with its SE.

    See :func:`conditional_net_benefit` for the method and :meth:`ConditionalNetBenefit.evppi` for
    the standard error; the reference is the best strategy at ``wtp``. ``cap``: report at most the
    EVPI (:func:`evpi`) of the same draws, flagged ``capped_at_evpi`` when the regression exceeded
    it; ``shrink``: see :func:`conditional_net_benefit` (both True but to compare with a naive fit).
    """
    reference = best_strategy(frame, wtp_gbp_per_qaly)
    fit = conditional_net_benefit(frame, parameters, samples, seed, method, reference, only_at=[wtp_gbp_per_qaly],
                                  shrink=shrink)
    total = evpi(net_benefit(frame, wtp_gbp_per_qaly).to_numpy()) if cap else None
    return fit.evppi(wtp_gbp_per_qaly, total, bootstrap=bootstrap, seed=seed)


def parameter_groups(parameters: Sequence[str],
                     patterns: Mapping[str, Sequence[str]] = PARAMETER_GROUPS) -> dict[str, list[str]]:
    """Each parameter in the first group whose glob pattern matches its dotted key; the rest in
    :data:`OTHER_GROUP`. Groups left empty are dropped."""
    out: dict[str, list[str]] = {name: [] for name in patterns}
    out[OTHER_GROUP] = []
    for p in parameters:
        name = next((g for g, pats in patterns.items() if any(fnmatch.fnmatchcase(p, pat) for pat in pats)), OTHER_GROUP)
        out[name].append(p)
    return {k: v for k, v in out.items() if v}


def voi_table(frame: pd.DataFrame, groups: Mapping[str, Sequence[str]] | None = None,
              singles: bool = True, wtp_gbp_per_qaly: Iterable[float] = WTP_THRESHOLDS_GBP,
              graduates_per_year: float = GRADUATES_PER_YEAR, years: int = DECISION_YEARS,
              discount_rate_per_year: float = DISCOUNT_RATE_PER_YEAR, samples: int = 300,
              seed: int = 20140301, bootstrap: int = BOOTSTRAP) -> pd.DataFrame:
    """The value-of-information table of one decision (one population), tidy, for ``voi.csv``.

    One row per measure x willingness to pay: ``measure`` (``EVPI``; ``EVPPI group``, one per group
    of :func:`parameter_groups`, and one for :data:`ALL_GROUP` when there are at least
    :data:`DRAWS_PER_PARAMETER` draws per parameter, fewer being too few for a Gaussian process
    in that many dimensions; ``EVPPI parameter``, one per parameter when ``singles``), ``name``,
    ``parameters`` (dotted keys, ``;``-separated), ``method`` (``bootstrap``, ``spline`` or
    ``gp``), ``wtp_gbp_per_qaly``, ``per_graduate_gbp`` and ``se_gbp`` (GBP per graduate; every
    EVPPI at most the EVPI at the same willingness to pay), ``population_gbp`` (GBP, for
    ``graduates_per_year`` graduates a year over ``years`` years discounted at
    ``discount_rate_per_year``, which are columns too), ``draws``, and how far to trust each:

    * ``distinguishable_from_0``: the value is above 1.96 standard errors (:func:`distinguishable_from_0`);
      where it is not, the value may be 0 and the report says so;
    * ``capped_at_evpi``: the regression's estimate (``uncapped_gbp``, GBP per graduate) exceeded
      the EVPI and ``per_graduate_gbp`` is the EVPI instead;
    * ``shrinkage``: the mean cross-validated shrinkage factor of the EVPPI's regressions (0 to 1;
      near 0: the parameters predict nothing beyond noise; empty for the EVPI).
    """
    wtps = [float(w) for w in wtp_gbp_per_qaly]
    params = [p for p in parameter_columns(frame) if frame[p].nunique() > 1]
    groups = dict(groups) if groups is not None else parameter_groups(params)
    if 1 < len(params) and frame[DRAW].nunique() >= DRAWS_PER_PARAMETER * len(params):
        groups[ALL_GROUP] = params
    pop = population_graduates(graduates_per_year, years, discount_rate_per_year)
    rows = []

    def add(measure, name, keys, method, est, wtp):
        rows.append({"measure": measure, "name": name, "parameters": ";".join(keys), "method": method,
                     "wtp_gbp_per_qaly": wtp, "per_graduate_gbp": est.value, "se_gbp": est.se,
                     "population_gbp": est.value * pop, "draws": est.draws, "graduates_per_year": graduates_per_year,
                     "decision_years": years, "discount_rate_per_year": discount_rate_per_year,
                     "distinguishable_from_0": est.distinguishable_from_0, "capped_at_evpi": est.capped_at_evpi,
                     "uncapped_gbp": est.value if est.uncapped is None else est.uncapped,
                     "shrinkage": float("nan") if est.shrinkage is None else est.shrinkage})

    total = {}
    for w in wtps:
        total[w] = evpi_per_graduate(frame, w, bootstrap=bootstrap)
        add("EVPI", "Perfect information on everything", [], "bootstrap", total[w], w)
    jobs = [("EVPPI group", name, list(keys)) for name, keys in groups.items()]
    if singles:
        jobs += [("EVPPI parameter", p, [p]) for p in params]
    best = {w: best_strategy(frame, w) for w in wtps}
    for i, (measure, name, keys) in enumerate(jobs):
        fits = {ref: conditional_net_benefit(frame, keys, samples, seed + i, reference=ref,
                                             only_at=[w for w in wtps if best[w] == ref])
                for ref in dict.fromkeys(best.values())}
        for w in wtps:
            fit = fits[best[w]]
            add(measure, name, keys, fit.method, fit.evppi(w, total[w].value, bootstrap=bootstrap, seed=seed + i), w)
    return pd.DataFrame(rows)


# --- loading a PSA sweep -------------------------------------------------------------------------

#: Keys under which a run's summary.json may record the values its PSA drew (first found wins);
#: when none is present they are derived again from the run's resolved config
#: (:func:`experiments.uncertainty.run_draws`).
DRAW_KEYS = ("psa_draws", "drawn_parameters", "draws")


def run_parameters(run_dir: Path | str, summary: Mapping | None = None) -> dict[str, float]:
    """The parameter values one run of a PSA drew, by dotted key ({} if the run is not a PSA)."""
    run_dir = Path(run_dir)
    summary = summary if summary is not None else json.loads((run_dir / "summary.json").read_text())
    for key in DRAW_KEYS:
        if isinstance(summary.get(key), Mapping):
            return {k: float(v) for k, v in summary[key].items()}
    from experiments.uncertainty import run_draws

    return run_draws(run_dir)


def numeric_draws(draws: pd.DataFrame) -> pd.DataFrame:
    """Draws ready for regression: a drawn choice (the calibration posterior's ``decay_shape``) becomes
    one 0/1 column per value but the first, and a parameter that only acts under some choices (the
    exponential rate, the power law's time scale and exponent) is 0 where it does not act, so that
    every draw has a value and the regression can tell the choices apart by the 0/1 column."""
    draws = draws.copy()
    for col in [c for c in draws.columns if c != DRAW and not pd.api.types.is_numeric_dtype(draws[c])]:
        values = sorted(draws[col].dropna().astype(str).unique())
        for value in values[1:]:
            draws[f"{col}={value}"] = (draws[col].astype(str) == value).astype(float)
    numeric = [c for c in draws.columns if c != DRAW and pd.api.types.is_numeric_dtype(draws[c])]
    draws[numeric] = draws[numeric].fillna(0.0)
    return draws
