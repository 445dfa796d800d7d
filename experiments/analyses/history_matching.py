"""Bayesian history matching with Gaussian-process emulators, and a posterior sampled through them.

The method of :mod:`experiments.calibrate`, kept apart from the model so that it can be tested on a
simulator whose posterior is known (tests/experiments/test_calibration_bayes.py). Everything here
works in the **unit cube** of the free parameters (each range mapped to 0..1, on a log scale where
a parameter is searched on one); :class:`Box` converts.

The steps (Vernon, Goldstein & Bower 2010; Andrianakis et al. 2015):

1. **Design**: a Latin hypercube of runs over the prior box (:func:`latin_hypercube`).
2. **Emulate**: one emulator per target (:class:`Emulator`): a linear regression on the
   parameters plus a Gaussian process (squared-exponential kernel, one length scale per
   parameter) on its residuals. The run-to-run noise of the model (its *replicate variance*,
   estimated from repeated runs at a few design points) enters the GP as known noise, so the GP
   fits the model's expected output, and its predictive variance is the emulator's own
   uncertainty about that expectation.
3. **Rule out**: the implausibility of a point for target ``j`` is
   ``|z_j - E[f_j(x)]| / sqrt(h_j^2 + emulator variance + replicate variance)`` with ``z_j`` the
   evidence and ``h_j`` the half-width of its interval; points whose largest implausibility
   exceeds the cut-off (3) are ruled out (:func:`implausibility`). A second wave of runs fills the
   space not ruled out (the NROY space) and the emulators are refitted on both waves.
4. **Posterior**: the likelihood of a point is Gaussian in each target with the same variance,
   ``N(z_j; E[f_j(x)], h_j^2 + emulator variance + replicate variance)``: the interval's
   half-width is read as **one standard deviation** of the evidence about the quantity the model
   computes (for Dale 2009 and Mons 2013 it is the trial's standard error; for ranges marked
   "assumed" it says how far we believe the truth may lie from the value). The prior is uniform on
   the box (log-uniform on a log range). :func:`smc_posterior` samples it by sequential Monte
   Carlo on the emulators (likelihood tempering with adaptive steps, resampling, random-walk
   Metropolis moves), which also estimates the marginal likelihood (the evidence ``Z``) used to
   compare the two decay shapes.

Only the last step's draws are checked against the real model (posterior predictive, in
:mod:`experiments.calibrate`): an emulator is an approximation, and the check says how good.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp
from scipy.stats import qmc
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel


@dataclass(frozen=True)
class Box:
    """The prior box: parameter names, ranges and which are searched on a log scale."""

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    log: np.ndarray  # bool per parameter

    @classmethod
    def of(cls, names, low, high, log=None) -> "Box":
        log = np.zeros(len(names), bool) if log is None else np.asarray(log, bool)
        return cls(tuple(names), np.asarray(low, float), np.asarray(high, float), log)

    @property
    def dim(self) -> int:
        return len(self.names)

    def to_natural(self, u: np.ndarray) -> np.ndarray:
        u = np.clip(np.asarray(u, float), 0.0, 1.0)
        lin = self.low + u * (self.high - self.low)
        logv = np.exp(np.log(np.where(self.log, self.low, 1.0))
                      + u * (np.log(np.where(self.log, self.high, 1.0)) - np.log(np.where(self.log, self.low, 1.0))))
        return np.where(self.log, logv, lin)

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, float)
        lin = (x - self.low) / (self.high - self.low)
        safe = np.where(self.log, x, 1.0)
        logu = (np.log(np.maximum(safe, 1e-300)) - np.log(np.where(self.log, self.low, 1.0))) / (
            np.log(np.where(self.log, self.high, 2.0)) - np.log(np.where(self.log, self.low, 1.0)))
        return np.where(self.log, logu, lin)

    def prior_sd(self, n: int = 200_000, seed: int = 0) -> np.ndarray:
        """Standard deviation of each parameter under the prior (uniform or log-uniform), natural units."""
        return self.to_natural(np.random.default_rng(seed).random((n, self.dim))).std(axis=0)


def latin_hypercube(n: int, dim: int, seed: int) -> np.ndarray:
    """``n`` points of a Latin hypercube in the unit cube (scipy.stats.qmc), reproducible by ``seed``."""
    return qmc.LatinHypercube(d=dim, seed=seed).random(n)


class Emulator:
    """One emulator per output: linear regression plus a GP on the residuals, in the unit cube.

    Args:
        X: (n, d) design points in the unit cube.
        Y: (n, m) model outputs, one column per target; NaN where a run gives no value.
        noise_var: (m,) the model's replicate variance per output (its run-to-run noise), or None
            to let a white-noise term estimate it.
        seed: for the GP optimiser's restarts.
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray, noise_var: np.ndarray | None = None, seed: int = 0,
                 restarts: int = 1, start: "Emulator | None" = None, jobs: int = 1):
        X, Y = np.asarray(X, float), np.asarray(Y, float)
        self.dim, self.m = X.shape[1], Y.shape[1]
        self.noise_var = np.zeros(self.m) if noise_var is None else np.asarray(noise_var, float)
        kernels = [None] * self.m if start is None else [gp.kernel_ for _, _, gp in start.parts]
        args = [(X, Y[:, j], self.noise_var[j], seed + j, restarts, kernels[j]) for j in range(self.m)]
        if jobs > 1:
            from joblib import Parallel, delayed

            self.parts = Parallel(n_jobs=jobs)(delayed(_fit_one)(*a) for a in args)
        else:
            self.parts = [_fit_one(*a) for a in args]

    def predict(self, X: np.ndarray, chunk: int = 4000) -> tuple[np.ndarray, np.ndarray]:
        """(mean, variance) of each output's expected value at ``X``: arrays of shape (n, m).

        The variance is the emulator's uncertainty about the expected output only: the GP's
        white-noise term (scatter of single runs that the replicate variance does not explain,
        :attr:`white`) is taken out of scikit-learn's predictive variance, which includes it. A
        single run scatters about the mean by ``var + white + noise_var`` (:meth:`run_variance`).
        """
        X = np.asarray(X, float)
        mean, var = np.empty((len(X), self.m)), np.empty((len(X), self.m))
        for j in range(self.m):
            mean[:, j], var[:, j] = self.predict_output(X, j, chunk=chunk)
        return mean, var

    def predict_output(self, X: np.ndarray, j: int, variance: bool = True,
                       chunk: int = 4000) -> tuple[np.ndarray, np.ndarray | None]:
        """(mean, variance) of output ``j``'s expected value at ``X`` (as :meth:`predict`); with
        ``variance=False`` the mean only (and None): a product with the fitted weights, where the
        variance needs a triangular solve against every training run, most of a prediction's time."""
        X = np.asarray(X, float)
        beta, scale, gp = self.parts[j]
        white = self.white[j]
        mean, var = np.empty(len(X)), np.empty(len(X)) if variance else None
        for s in range(0, len(X), chunk):
            x = X[s:s + chunk]
            A = np.column_stack([np.ones(len(x)), x])
            if variance:
                mu, sd = gp.predict(x, return_std=True)
                var[s:s + chunk] = np.maximum((scale * sd) ** 2 - white, 0.0)
            else:
                mu = gp.predict(x)
            mean[s:s + chunk] = A @ beta + scale * mu
        return mean, var

    @property
    def white(self) -> np.ndarray:
        """(m,) the fitted white-noise variance of each output, in its own units."""
        return np.array([scale**2 * _white_level(gp.kernel_) for _, scale, gp in self.parts])

    def run_variance(self, var: np.ndarray) -> np.ndarray:
        """How far one run may fall from the predicted mean: emulator, unexplained and replicate variance."""
        return var + self.white + self.noise_var


def _white_level(kernel) -> float:
    """The noise level of the WhiteKernel inside a fitted kernel (0 if there is none)."""
    if isinstance(kernel, WhiteKernel):
        return float(kernel.noise_level)
    return sum(_white_level(k) for k in (getattr(kernel, "k1", None), getattr(kernel, "k2", None)) if k is not None)


def _fit_one(X, y, noise_var, seed, restarts, kernel=None):
    """(regression coefficients, residual scale, fitted GP) of one output; ``kernel``: a fitted
    kernel to start the hyperparameter search from (the previous wave's), else a default."""
    ok = np.isfinite(y)
    x, y = X[ok], y[ok]
    A = np.column_stack([np.ones(len(x)), x])
    beta, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ beta
    scale = float(resid.std()) or 1e-9
    noise = max(noise_var / scale**2, 1e-6)
    if kernel is None:
        kernel = (ConstantKernel(1.0, (1e-3, 1e2)) * RBF(np.full(x.shape[1], 0.5), (0.05, 1e3))
                  + WhiteKernel(1e-3, (1e-8, 1.0)))  # what the replicate variance does not explain
    target = resid / scale
    optimizer = _lbfgs_on(x, target, noise) if _is_emulator_kernel(kernel) else "fmin_l_bfgs_b"
    gp = GaussianProcessRegressor(kernel, alpha=noise, normalize_y=False, random_state=seed,
                                  n_restarts_optimizer=restarts, optimizer=optimizer)
    from threadpoolctl import threadpool_limits

    # one BLAS thread: at a few hundred runs, threads cost more than they give (10 against 25 ms
    # an evaluation on 2 cores), and the emulators are fitted in parallel processes anyway
    with warnings.catch_warnings(), threadpool_limits(1, user_api="blas"):
        warnings.simplefilter("ignore")  # a length scale at its bound: that parameter does not matter
        gp.fit(x, target)
    return beta, scale, gp


# --- the hyperparameter search, without scikit-learn's gradient tensor ---------------------------


def _is_emulator_kernel(kernel) -> bool:
    """Whether ``kernel`` is the emulators' ``ConstantKernel * RBF + WhiteKernel`` (one length scale
    per parameter), every hyperparameter free: the kernel :func:`log_marginal_likelihood` is for."""
    product = getattr(kernel, "k1", None)
    return (isinstance(kernel.k2 if hasattr(kernel, "k2") else None, WhiteKernel)
            and isinstance(getattr(product, "k1", None), ConstantKernel) and isinstance(getattr(product, "k2", None), RBF)
            and not any(h.fixed for h in kernel.hyperparameters))


def log_marginal_likelihood(theta: np.ndarray, X: np.ndarray, y: np.ndarray, alpha: float) -> tuple[float, np.ndarray]:
    """The log marginal likelihood of a GP with kernel ``c * RBF(l) + white`` (plus ``alpha`` on
    the diagonal) and its gradient in ``theta = log(c, l_1..l_d, white)``, scikit-learn's order:
    the function scikit-learn's ``GaussianProcessRegressor.log_marginal_likelihood`` computes.

    scikit-learn builds the kernel's gradient as an (n, n, d + 2) tensor, stacked twice, about
    four fifths of an evaluation with 33 parameters and 500 runs. The length scales' part is a
    contraction that never needs it: with ``M = (a a' - K^-1) * c R`` (``a = K^-1 y``, ``R`` the
    RBF part), d lml / d log l_k = (sum_i x_ik^2 (M 1)_i - x_k' M x_k) / l_k^2, two products with
    ``X`` (tests/experiments/test_calibration_bayes.py checks it against scikit-learn's).
    """
    from scipy.linalg import cho_solve, cholesky
    from scipy.spatial.distance import pdist, squareform

    n = len(X)
    c, length, white = np.exp(theta[0]), np.exp(theta[1:-1]), np.exp(theta[-1])
    R = squareform(np.exp(-0.5 * pdist(X / length, metric="sqeuclidean")))  # as sklearn's RBF
    np.fill_diagonal(R, 1.0)
    K = c * R
    K[np.diag_indices_from(K)] += white + alpha
    try:
        L = cholesky(K, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return -np.inf, np.zeros_like(theta)
    a = cho_solve((L, True), y, check_finite=False)
    lml = -0.5 * y @ a - np.log(np.diag(L)).sum() - 0.5 * n * np.log(2 * np.pi)
    inner = np.outer(a, a) - cho_solve((L, True), np.eye(n), check_finite=False)
    M = inner * (c * R)
    grad = np.empty_like(theta)
    grad[0] = 0.5 * M.sum()
    grad[1:-1] = ((X * X).T @ M.sum(axis=1) - np.einsum("ik,ik->k", X, M @ X)) / length**2
    grad[-1] = 0.5 * white * np.trace(inner)
    return float(lml), grad


def _lbfgs_on(X: np.ndarray, y: np.ndarray, alpha: float):
    """scikit-learn's default hyperparameter search (L-BFGS-B from the kernel's values, within its
    bounds), on :func:`log_marginal_likelihood` of the data it fits: an optimizer callable."""
    from scipy.optimize import minimize

    def objective(theta):
        lml, grad = log_marginal_likelihood(theta, X, y, alpha)
        return -lml, -grad

    def optimizer(_obj_func, initial_theta, bounds):
        result = minimize(objective, initial_theta, method="L-BFGS-B", jac=True, bounds=bounds)
        return result.x, result.fun

    return optimizer


def implausibility(mean: np.ndarray, var: np.ndarray, z: np.ndarray, half_width: np.ndarray,
                   noise_var: np.ndarray) -> np.ndarray:
    """Implausibility per point and target, (n, m): standardised distance of evidence from emulator."""
    return np.abs(z - mean) / np.sqrt(half_width**2 + var + noise_var)


def gaussian_loglik(mean: np.ndarray, var: np.ndarray, z: np.ndarray, half_width: np.ndarray) -> np.ndarray:
    """Log-likelihood per point, (n,): independent Gaussians, variance SE^2 + emulator variance.

    The evidence is compared with the model's *expected* output (what the emulator predicts): the
    study's own sampling error is its SE, and the run-to-run scatter of a finite simulated
    population is not evidence, so it does not widen the likelihood (until 3 December 2026 it
    was added, with the GP's white noise, and the posterior was wider than the evidence allows).
    """
    s2 = half_width**2 + var
    return np.sum(-0.5 * (z - mean) ** 2 / s2 - 0.5 * np.log(2 * np.pi * s2), axis=1)


def _systematic(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    positions = (rng.random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(np.cumsum(weights), positions), len(weights) - 1)


@dataclass
class SmcResult:
    particles: np.ndarray  # (n, d) equally weighted posterior draws in the unit cube
    loglik: np.ndarray  # (n,)
    log_evidence: float  # log marginal likelihood under the uniform prior on the unit cube
    temperatures: list[float]
    acceptance: list[float]


def smc_posterior(loglik, dim: int, n: int, seed: int, moves: int = 5, ess_fraction: float = 0.5,
                  max_steps: int = 200) -> SmcResult:
    """Sample ``prior(x) * exp(loglik(x))`` on the unit cube (uniform prior) by tempered SMC.

    ``loglik`` maps (k, dim) points to (k,) log-likelihoods (here: through the emulators). Each
    step raises the temperature as far as keeps the effective sample size at ``ess_fraction * n``,
    reweights, resamples (systematic), and moves every particle by ``moves`` random-walk
    Metropolis steps with the particles' own covariance scaled by 2.38^2/dim (proposals outside
    the cube are rejected: the prior is zero there). The evidence is the product over steps of the
    mean incremental weight.
    """
    rng = np.random.default_rng(seed)
    x = rng.random((n, dim))
    ll = loglik(x)
    phi, log_z, temps, acc = 0.0, 0.0, [0.0], []
    for _ in range(max_steps):
        if phi >= 1.0:
            break

        def ess(dphi):
            lw = dphi * ll
            w = np.exp(lw - lw.max())
            return w.sum() ** 2 / (w**2).sum()

        if ess(1.0 - phi) >= ess_fraction * n:
            dphi = 1.0 - phi
        else:
            lo, hi = 0.0, 1.0 - phi
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if ess(mid) >= ess_fraction * n else (lo, mid)
            dphi = max(lo, 1e-12)
        lw = dphi * ll
        log_z += float(logsumexp(lw) - np.log(n))
        w = np.exp(lw - lw.max())
        idx = _systematic(w / w.sum(), n, rng)
        x, ll = x[idx], ll[idx]
        phi = min(1.0, phi + dphi)
        temps.append(phi)
        cov = np.cov(x.T) + 1e-10 * np.eye(dim)
        chol = np.linalg.cholesky(cov * 2.38**2 / dim)
        accepted = 0
        for _ in range(moves):
            prop = x + rng.standard_normal((n, dim)) @ chol.T
            inside = np.all((prop >= 0.0) & (prop <= 1.0), axis=1)
            llp = np.full(n, -np.inf)
            if inside.any():
                llp[inside] = loglik(prop[inside])
            ok = np.log(rng.random(n)) < phi * (llp - ll)
            ok &= inside
            x[ok], ll[ok] = prop[ok], llp[ok]
            accepted += int(ok.sum())
        acc.append(accepted / (moves * n))
    return SmcResult(x, ll, log_z, temps, acc)


def nroy(emulator: Emulator, z, half_width, noise_var, candidates: np.ndarray, cutoff: float = 3.0,
         exact: bool = False):
    """The candidates not ruled out (largest implausibility <= cutoff), and each candidate's largest.

    Screened target by target, as history matching does: a candidate ruled out by one target is not
    predicted for the next, and a target's emulator variance (most of a prediction's time) is
    computed only where the mean alone might rule the candidate out: with no emulator variance the
    implausibility can only be larger, so a candidate within the cutoff without it is within it with
    it, in floating point too. The candidates kept are exactly those of a full prediction. Their
    largest implausibility is then an upper bound for those kept and, for those ruled out, the first
    value found above the cutoff; ``exact=True`` predicts every target in full and returns it exactly
    (to rank candidates when too few are kept).
    """
    z, half_width, noise_var = (np.asarray(a, float) for a in (z, half_width, noise_var))
    white = emulator.white
    if exact:
        mean, var = emulator.predict(candidates)
        # ruling out is conservative, as in history matching: a run's whole scatter counts
        worst = implausibility(mean, var + white, z, half_width, noise_var).max(axis=1)
        return candidates[worst <= cutoff], worst
    worst = np.zeros(len(candidates))
    alive = np.arange(len(candidates))
    for j in range(emulator.m):
        if not alive.size:
            break
        x = candidates[alive]
        mean, _ = emulator.predict_output(x, j, variance=False)
        value = implausibility(mean, white[j], z[j], half_width[j], noise_var[j])  # emulator variance 0
        unsure = np.flatnonzero(value > cutoff)
        if unsure.size:
            mean_u, var_u = emulator.predict_output(x[unsure], j)
            value[unsure] = implausibility(mean_u, var_u + white[j], z[j], half_width[j], noise_var[j])
        worst[alive] = np.maximum(worst[alive], value)
        alive = alive[value <= cutoff]
    return candidates[alive], worst
