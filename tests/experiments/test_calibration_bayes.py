"""The Bayesian calibration (experiments/analyses/history_matching.py, experiments/analyses/calibration.py) and the PSA
that draws from its posterior: a toy simulator with a known posterior is recovered, a model that
cannot reach the evidence has a lower marginal likelihood, the PSA takes whole posterior rows
shared by every strategy of a replicate, and a tiny calibration runs end to end and resumes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.analyses import history_matching as hm
from experiments.config import compose_config, to_params
from experiments.uncertainty import posterior_row

ROOT = Path(__file__).resolve().parents[2]

# a linear-Gaussian toy: f(theta) = A theta + c, evidence z with half-widths h (one SD each)
A = np.array([[1.0, 0.5, 0.0], [0.0, 1.0, -0.3], [0.2, 0.0, 1.0], [0.5, 0.5, 0.5]])
C = np.array([0.1, -0.2, 0.0, 0.3])
BOX = hm.Box.of(["a", "b", "c"], [-3.0, -3.0, -3.0], [3.0, 3.0, 3.0])
TRUTH = np.array([0.5, -0.4, 0.8])
H = np.array([0.15, 0.2, 0.15, 0.3])
Z = A @ TRUTH + C


def _toy(offset: float = 0.0):
    def simulate(u: np.ndarray) -> np.ndarray:
        return BOX.to_natural(u) @ A.T + C + offset

    return simulate


def _fit(simulate, n: int = 80, seed: int = 1):
    U = hm.latin_hypercube(n, BOX.dim, seed=seed)
    em = hm.Emulator(U, simulate(U), noise_var=np.zeros(len(Z)), seed=seed, restarts=0)

    def loglik(u):
        mean, var = em.predict(u)
        return hm.gaussian_loglik(mean, var, Z, H)

    return em, hm.smc_posterior(loglik, BOX.dim, 2000, seed=seed, moves=4)


def test_a_linear_gaussian_posterior_is_recovered_with_its_evidence():
    _, smc = _fit(_toy())
    precision = A.T @ np.diag(H**-2) @ A
    cov = np.linalg.inv(precision)
    mean = cov @ A.T @ np.diag(H**-2) @ (Z - C)
    draws = BOX.to_natural(smc.particles)
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 0.15 * sd + 0.01)
    assert draws.std(axis=0) == pytest.approx(sd, rel=0.15)
    corr = np.corrcoef(draws.T)
    exact = cov / np.outer(sd, sd)
    assert np.abs(corr - exact).max() < 0.1
    # evidence: the Gaussian integral over theta, times the uniform prior density 1/volume
    resid = Z - C - A @ mean
    log_z = (-0.5 * resid @ np.diag(H**-2) @ resid - 0.5 * len(Z) * np.log(2 * np.pi) - np.log(H).sum()
             + 0.5 * BOX.dim * np.log(2 * np.pi) + 0.5 * np.linalg.slogdet(cov)[1] - BOX.dim * np.log(6.0))
    assert smc.log_evidence == pytest.approx(log_z, abs=0.3)


def _sparse_nonlinear_emulator():
    """An emulator of a curved toy on 14 runs: far from its runs its own variance is large, so
    whether a candidate is ruled out often turns on it."""
    U = hm.latin_hypercube(14, BOX.dim, seed=7)

    def simulate(u):
        x = BOX.to_natural(u)
        return np.column_stack([np.sin(x @ A[j]) + C[j] for j in range(len(Z))])

    return hm.Emulator(U, simulate(U), noise_var=np.zeros(len(Z)), seed=7, restarts=0)


@pytest.mark.parametrize("offset, cutoff, sparse", [(0.0, 3.0, False), (0.0, 1.0, False), (3.0, 3.0, False),
                                                    (0.0, 1.0, True), (0.0, 2.0, True)])
def test_screening_keeps_exactly_the_candidates_a_full_prediction_keeps(offset, cutoff, sparse):
    """NROY screened target by target, with the emulator variance only where the mean alone might
    rule a candidate out: the same candidates, in the same order, as predicting every target in
    full; the largest implausibility of those kept is at least the exact one, and those ruled out
    are above the cutoff. On the sparse emulator the variance decides some candidates (the check
    that it is computed where it matters)."""
    em = _sparse_nonlinear_emulator() if sparse else _fit(_toy(offset=offset))[0]
    cand = hm.latin_hypercube(4000, BOX.dim, seed=5)
    noise = np.full(len(Z), 0.01)
    kept, worst = hm.nroy(em, Z, H, noise, cand, cutoff)
    kept_full, worst_full = hm.nroy(em, Z, H, noise, cand, cutoff, exact=True)
    np.testing.assert_array_equal(kept, kept_full)
    assert 0 < len(kept_full) < len(cand) or offset  # the cutoff really splits the candidates
    inside = worst_full <= cutoff
    assert np.all(worst[inside] >= worst_full[inside]) and np.all(worst[~inside] > cutoff)
    mean, var = em.predict(cand)
    np.testing.assert_allclose(worst_full, hm.implausibility(mean, var + em.white, Z, H, noise).max(axis=1))
    if sparse:  # without the emulator variance fewer would be kept: the screening had to compute it
        without = hm.implausibility(mean, np.zeros_like(var) + em.white, Z, H, noise).max(axis=1) <= cutoff
        assert without.sum() < len(kept_full)


def test_a_model_that_cannot_reach_the_evidence_has_lower_evidence_and_is_ruled_out():
    em_good, good = _fit(_toy())
    em_bad, bad = _fit(_toy(offset=3.0))  # every output 3 too high: the box cannot undo it
    assert good.log_evidence - bad.log_evidence > 10
    cand = hm.latin_hypercube(5000, BOX.dim, seed=3)
    kept_good, _ = hm.nroy(em_good, Z, H, np.zeros(len(Z)), cand)
    kept_bad, _ = hm.nroy(em_bad, Z, H, np.zeros(len(Z)), cand)
    assert len(kept_good) > 0 and len(kept_bad) < len(kept_good) / 5
    # the truth is never ruled out
    truth_u = BOX.to_unit(TRUTH)[None, :]
    mean, var = em_good.predict(truth_u)
    assert hm.implausibility(mean, var, Z, H, np.zeros(len(Z))).max() < 3


def test_a_noisy_simulator_emulates_its_expected_output():
    rng = np.random.default_rng(5)
    U = hm.latin_hypercube(120, 2, seed=5)
    truth = np.sin(3 * U[:, 0]) + 2 * (U[:, 1] - 0.5) ** 2
    noise_sd = 0.05
    em = hm.Emulator(U, (truth + rng.normal(0, noise_sd, len(U)))[:, None], noise_var=np.array([noise_sd**2]),
                     seed=5, restarts=0)
    test = hm.latin_hypercube(200, 2, seed=6)
    mean, var = em.predict(test)
    err = mean[:, 0] - (np.sin(3 * test[:, 0]) + 2 * (test[:, 1] - 0.5) ** 2)
    assert np.sqrt(np.mean(err**2)) < noise_sd / 2  # better than one noisy run
    assert np.mean(np.abs(err) <= 3 * np.sqrt(var[:, 0])) > 0.9


def test_run_to_run_noise_does_not_widen_the_posterior():
    """The evidence is compared with the expected output: a simulator whose single runs scatter as
    much as the evidence's own SE gives the posterior of the noise-free one, not one sqrt(2) wider
    (as when the likelihood added the replicate variance to the SE)."""
    rng = np.random.default_rng(11)
    U = hm.latin_hypercube(160, BOX.dim, seed=11)
    noisy = _toy()(U) + rng.normal(0.0, H, (len(U), len(H)))
    em = hm.Emulator(U, noisy, noise_var=H**2, seed=11, restarts=0)
    assert np.all(em.run_variance(em.predict(U[:5])[1]) >= H**2)  # a single run does scatter

    def loglik(u):
        mean, var = em.predict(u)
        return hm.gaussian_loglik(mean, var, Z, H)

    smc = hm.smc_posterior(loglik, BOX.dim, 2000, seed=11, moves=4)
    sd = np.sqrt(np.diag(np.linalg.inv(A.T @ np.diag(H**-2) @ A)))
    assert BOX.to_natural(smc.particles).std(axis=0) == pytest.approx(sd, rel=0.2)


def test_the_box_maps_linear_and_log_ranges_both_ways():
    box = hm.Box.of(["x", "y"], [0.0, 0.01], [2.0, 1.0], [False, True])
    u = np.array([[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]])
    x = box.to_natural(u)
    assert x[1] == pytest.approx([1.0, 0.1])
    assert box.to_unit(x) == pytest.approx(u)


# --- the PSA draws whole posterior rows -----------------------------------------------------------


@pytest.fixture(scope="module")
def posterior_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("posterior") / "posterior.parquet"
    rng = np.random.default_rng(0)
    n = 50
    table = pd.DataFrame({
        "dynamics.retention.decay_rate_per_week": np.where(np.arange(n) % 2, np.nan, rng.uniform(0.015, 0.035, n)),
        "dynamics.retention.power_law_b_per_week": np.where(np.arange(n) % 2, rng.uniform(0.05, 0.5, n), np.nan),
        "dynamics.retention.power_law_psi": np.where(np.arange(n) % 2, rng.uniform(0.2, 0.8, n), np.nan),
        "dynamics.retention.isolation_effect": rng.uniform(0, 1.5, n),
        "dynamics.telephone.effect.efficacy": rng.uniform(0, 0.4, n),
        "dynamics.retention.decay_shape": np.where(np.arange(n) % 2, "power_law", "exponential"),
    })
    table.to_parquet(path, index=False)
    return path, table


def _psa_params(posterior, strategy, replicate):
    return to_params(compose_config(["experiment=psa", f"strategy={strategy}", f"replicate={replicate}",
                                     f"psa.posterior={posterior}", "seed=11"]))


def test_the_psa_takes_whole_posterior_rows_shared_by_every_strategy(posterior_file):
    path, table = posterior_file
    seen = set()
    for replicate in range(6):
        row, values, _ = posterior_row(str(path), 11, replicate)
        seen.add(row)
        expected = table.iloc[row]
        runs = {s: _psa_params(path, s, replicate) for s in ("course_only", "telephone", "peer_group")}
        first = runs["course_only"]
        for p in runs.values():
            r = p.dynamics.retention
            assert r.decay_shape.value == expected["dynamics.retention.decay_shape"]
            assert r.isolation_effect == pytest.approx(expected["dynamics.retention.isolation_effect"])
            assert p.dynamics.telephone.effect.efficacy == pytest.approx(expected["dynamics.telephone.effect.efficacy"])
            if expected["dynamics.retention.decay_shape"] == "power_law":
                assert r.power_law_psi == pytest.approx(expected["dynamics.retention.power_law_psi"])
            else:
                assert r.decay_rate_per_week == pytest.approx(expected["dynamics.retention.decay_rate_per_week"])
            # the rest: the same independent draws, and the same seed, for every strategy
            assert p.costs.items["peer_call"].value_gbp == first.costs.items["peer_call"].value_gbp
            assert p.dynamics.retention.consolidation_rate_per_week == first.dynamics.retention.consolidation_rate_per_week
            assert p.seed == first.seed
    assert len(seen) >= 4  # replicates take different rows


def test_a_posterior_column_is_never_drawn_independently(posterior_file):
    path, _ = posterior_file
    base = to_params(compose_config(["experiment=psa", "strategy=course_only", "psa.posterior=null", "seed=11"]))
    drawn = _psa_params(path, "course_only", 0)
    # the cost items are still drawn from their own distributions
    assert drawn.costs.items["peer_call"].value_gbp != pytest.approx(to_params(compose_config(
        ["strategy=course_only"])).costs.items["peer_call"].value_gbp)
    # with the posterior off, the fallback distributions apply (isolation uniform 0-1.5)
    assert 0.0 <= base.dynamics.retention.isolation_effect <= 1.5


def test_the_committed_posterior_is_a_usable_table():
    table = pd.read_parquet(ROOT / "docs" / "calibration" / "posterior.parquet")
    assert len(table) >= 500
    assert "dynamics.retention.decay_shape" in table
    assert set(table["dynamics.retention.decay_shape"]) <= {"exponential", "power_law"}
    assert table["dynamics.telephone.effect.efficacy"].min() >= 0.0


# --- the tiny CI calibration --------------------------------------------------------------------

TINY = ["analysis=calibrate", "n_graduates=120", "calibration.wave1_runs=10", "calibration.wave2_runs=4",
        "calibration.wave3_runs=3",
        "calibration.noise_points=2", "calibration.noise_replicates=2", "calibration.candidates=2000",
        "calibration.particles=200", "calibration.moves=2", "calibration.posterior_draws=500",
        "calibration.check_draws=2", "calibration.gp_restarts=0", "calibration.jobs=1"]


@pytest.mark.slow
def test_a_tiny_calibration_runs_end_to_end(tmp_path):
    args = [*TINY, f"calibration.runs_dir={tmp_path}/runs", f"calibration.posterior={tmp_path}/posterior.parquet",
            f"calibration.output={tmp_path}/calibrated.yaml", f"calibration.report_dir={tmp_path}/report",
            f"hydra.run.dir={tmp_path}/run"]
    done = subprocess.run([sys.executable, "-m", "experiments.calibrate", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "runs to do" in done.stdout and "runs already done" not in done.stdout
    posterior = pd.read_parquet(tmp_path / "posterior.parquet")
    assert len(posterior) == 500 and "dynamics.retention.decay_shape" in posterior
    assert "dynamics.retention.power_law_psi" in posterior and "dynamics.peer_group.effect.efficacy" in posterior
    fitted = yaml.safe_load((tmp_path / "calibrated.yaml").read_text())
    assert fitted["retention"]["decay_shape"] in ("exponential", "power_law")
    assert 0.0 <= fitted["telephone"]["effect"]["efficacy"] <= 0.4
    report = (tmp_path / "report" / "report.md").read_text()
    for section in ("## Decay shape", "## Targets against the posterior predictive", "posterior sd / prior sd",
                    "| Mean gain at week 20"):
        assert section in report
    for png in ("predictive.png", "marginals.png", "pairs.png"):
        assert (tmp_path / "report" / png).stat().st_size > 0
    # every run is saved where a rerun of the same command looks for it (a folder named by the
    # problem's fingerprint, which the next test shows is the same for the same command)
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name == _problem(TINY).fingerprint()
    assert len(list(folder.glob("*.parquet"))) >= 4
    # wave 3 ran at posterior particles, and the report's emulator check reads it
    assert list(folder.glob("*_wave3_*.parquet")) and "wave-3 runs (in the posterior)" in report


def _problem(overrides):
    from omegaconf import OmegaConf

    from experiments.analyses.calibration import Problem
    from experiments.schemas import CalibrationConfig

    cfg = compose_config(list(overrides))
    calib: CalibrationConfig = OmegaConf.to_object(cfg.calibration)
    return Problem(to_params(cfg), calib, OmegaConf.to_container(cfg.priors), cfg.engine)


def test_the_same_calibration_command_finds_the_same_runs_folder_and_a_changed_one_does_not():
    fingerprint = _problem(TINY).fingerprint()
    assert _problem(TINY).fingerprint() == fingerprint  # nothing of the moment in it
    for change in ("n_graduates=121", "priors.dynamics.telephone.effect.efficacy.high=0.5"):
        assert _problem([*TINY, change]).fingerprint() != fingerprint, change


def test_calibration_runs_resume_from_their_saved_batches(tmp_path, monkeypatch):
    """Rerunning runs only the batches that are not saved: a batch lost (an interrupted
    calibration writes none half-way) is run again, the others are read back."""
    from experiments.analyses import calibration

    calls = []

    class Counting:
        def simulate(self, values, seed):
            calls.append(seed)
            return {"y": values["x"] * 2.0 + seed}

        def simulate_many(self, values, seeds):  # a batch's points at once, as Problem does
            return [self.simulate(v, s) for v, s in zip(values, seeds)]

    rows = [{"point": i, "seed": 100 + i, "x": float(i)} for i in range(25)]
    first = calibration.run_points(Counting(), "wave1", rows, tmp_path, jobs=1, batch=10)
    assert len(calls) == 25 and sorted(p.name for p in tmp_path.iterdir()) == \
        ["wave1_0000.parquet", "wave1_0001.parquet", "wave1_0002.parquet"]
    assert first["y"].tolist() == [2.0 * i + 100 + i for i in range(25)]
    (tmp_path / "wave1_0001.parquet").unlink()
    calls.clear()
    again = calibration.run_points(Counting(), "wave1", rows, tmp_path, jobs=1, batch=10)
    assert calls == [100 + i for i in range(10, 20)]
    pd.testing.assert_frame_equal(again, first)
    calls.clear()
    calibration.run_points(Counting(), "wave1", rows, tmp_path, jobs=1, batch=10)
    assert calls == []


@pytest.mark.parametrize("n, d, seed", [(60, 3, 0), (150, 12, 1)])
def test_the_emulators_likelihood_and_its_gradient_are_scikit_learns(n, d, seed):
    """hm.log_marginal_likelihood computes the length scales' gradient without scikit-learn's
    (n, n, d) tensor: the same value and gradient as GaussianProcessRegressor's, at any
    hyperparameters."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    y = np.sin(X @ rng.normal(size=d)) + 0.1 * rng.standard_normal(n)
    kernel = ConstantKernel(1.7) * RBF(rng.uniform(0.1, 3.0, d)) + WhiteKernel(0.02)
    gp = GaussianProcessRegressor(kernel, alpha=1e-4, optimizer=None).fit(X, y)
    for theta in (gp.kernel_.theta, gp.kernel_.theta + rng.normal(0, 0.5, len(gp.kernel_.theta))):
        want, want_grad = gp.log_marginal_likelihood(theta, eval_gradient=True)
        got, got_grad = hm.log_marginal_likelihood(theta, X, y, 1e-4)
        assert got == pytest.approx(want, rel=1e-10)
        np.testing.assert_allclose(got_grad, want_grad, rtol=1e-7, atol=1e-8 * np.abs(want_grad).max())


def test_the_emulators_fit_finds_the_likelihood_scikit_learns_own_search_finds():
    """The faster search (the same L-BFGS-B on the same likelihood) ends where scikit-learn's does."""
    from sklearn.gaussian_process import GaussianProcessRegressor

    rng = np.random.default_rng(4)
    X = rng.random((120, 6))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2 + 0.05 * rng.standard_normal(120)
    beta, scale, gp = hm._fit_one(X, y, 0.0025, 0, 0)
    assert gp.optimizer is not None and callable(gp.optimizer)
    default = GaussianProcessRegressor(gp.kernel, alpha=gp.alpha, random_state=0).fit(X, gp.y_train_)
    assert gp.log_marginal_likelihood_value_ == pytest.approx(default.log_marginal_likelihood_value_, abs=1e-3)
