"""Calibrate the uncertain behaviour parameters to published evidence: a joint posterior.

    python -m experiments.calibrate analysis=calibrate [calibration.jobs=2]

**Method: Bayesian history matching with Gaussian-process emulators, then a posterior sampled
through the emulators and checked with the real model** (:mod:`experiments.history_matching`).
Why this and not ABC-SMC: one evaluation of the 15 targets costs about 0.6 s (eight arms of the
model), and the calibration must finish in well under an hour on two shared cores, so about two
thousand model runs in all. ABC-SMC (pyabc) needs tens of thousands of runs for 15 summaries in
16-17 dimensions at a useful tolerance; an emulator needs a few hundred runs per decay shape,
gives the posterior of the model's *expected* output (replicate noise modelled, not mistaken for
evidence), and its likelihood has the scale the targets state. Its approximation is checked by
re-running posterior draws with the real model.

For each decay shape in ``calibration.shapes`` (exponential with its rate; power law with its
time scale and exponent; the other free parameters shared):

1. wave 1: a Latin hypercube of ``wave1_runs`` runs over the prior box (``calibration.parameters``,
   uniform, or log-uniform where ``log: true``); ``noise_points`` of them re-run
   ``noise_replicates`` times with other seeds for the replicate variance of each target;
2. one emulator per target; ``candidates`` points of the box whose largest implausibility exceeds
   ``cutoff`` are ruled out; wave 2 runs ``wave2_runs`` points of the space not ruled out;
3. the emulators refitted on both waves; the posterior (Gaussian likelihood per target, variance the
   target's squared standard error plus the emulator's variance of the expected output; a run's
   replicate scatter is not evidence) sampled by SMC with ``particles``
   particles, with the shape's marginal likelihood;
4. wave 3 (``wave3_runs``, refocusing): runs at distinct particles of that posterior, where the
   emulators' errors matter; the emulators of waves 1-2 are checked against them (the report's
   emulator check), refitted on all three waves, and the posterior sampled again. Without it, an
   emulator that is loose inside the posterior (its variance inflates the likelihood's scale)
   leaves posterior-predictive draws wider than the evidence allows.

The two shapes' marginal likelihoods give their posterior probabilities (equal prior odds); the
posterior table (``calibration.posterior``, ``posterior_draws`` rows) mixes them in those
proportions, one column per parameter plus ``decay_shape`` (a parameter of the other shape is
empty). The default (``calibration.output``, and ``sim/data/calibrated_dynamics.yaml`` with the
same content) is the posterior median of the shape the targets favour. Then ``check_draws`` rows
of the posterior are re-run with the real model (posterior predictive), and the report
(``calibration.report_dir``) gives each target against it, the marginal and pairwise posterior
plots and the posterior sd over the prior sd of each parameter.

Every batch of runs is saved atomically as its own parquet under ``calibration.runs_dir`` (in a
folder named by a fingerprint of the problem): rerunning the command skips what is done. Runs go
in ``calibration.jobs`` processes (joblib).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import math
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402

import sim  # noqa: E402
from experiments.analyses import history_matching as hm  # noqa: E402
from experiments.config import ROOT, code_hash, require_block, run_seed, to_params  # noqa: E402
from experiments.outputs import atomic_path, write_table, write_text  # noqa: E402
from experiments.schemas import CalibrationConfig, Target  # noqa: E402
from experiments.uncertainty import Varied, priors_of  # noqa: E402
from experiments.analyses.targets import ARMS, MEASURES, arm_params, arms_needed, measure_points  # noqa: E402
from sim.calibrated import CALIBRATED_FILE  # noqa: E402
from sim.params import ModelParams, ParameterError, with_values  # noqa: E402

SHAPE_KEY = "dynamics.retention.decay_shape"
SHAPES = ("exponential", "power_law")
RUNS = {"done": 0, "reused": 0}  # model runs of this invocation, and runs found saved by an earlier one


def _value(params: ModelParams, key: str) -> float:
    node = params
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return float(node)


def _path(p: str | Path) -> Path:
    p = Path(p)
    return p if p.is_absolute() else ROOT / p


class Problem:
    """The calibration problem: base parameters per arm, free parameters per shape, targets."""

    def __init__(self, base: ModelParams, calib: CalibrationConfig, priors: dict | None, engine: str = "batched"):
        self.calib = calib
        self.engine = getattr(engine, "value", str(engine))
        self.targets: list[Target] = list(calib.targets)
        for t in self.targets:
            if t.measure not in MEASURES:
                raise ParameterError("calibration.targets.measure", t.measure, f"must be one of {sorted(MEASURES)}")
            if not t.low < t.high:
                raise ParameterError(f"calibration.targets[{t.measure}].high", t.high, f"must be > low ({t.low})")
        for s in calib.shapes:
            if s not in SHAPES:
                raise ParameterError("calibration.shapes", s, f"must be among {list(SHAPES)}")
        self.free: list[Varied] = priors_of(priors, list(calib.parameters), "calibration.parameters")
        for p in self.free:
            if p.shape is not None and p.shape not in SHAPES:
                raise ParameterError(f"calibration.parameters[{p.key}].shape", p.shape, f"must be one of {SHAPES}")
            if not p.low < p.high or (p.log and p.low <= 0):
                raise ParameterError(f"calibration.parameters[{p.key}].high", p.high,
                                     f"must be > low ({p.low}), and low > 0 on a log scale")
            with_values(base, {p.key: p.low})  # fails early, naming the key, if a bound is invalid
            with_values(base, {p.key: p.high})
        self.base = arm_params(base, arms_needed(self.measures))
        self.prior = {p.key: _value(base, p.key) for p in self.free}
        self.n_graduates = next(iter(self.base.values())).n_graduates
        self.population = next(iter(self.base.values())).population.name

    @property
    def measures(self) -> list[str]:
        return [t.measure for t in self.targets]

    def free_for(self, shape: str) -> list[Varied]:
        return [p for p in self.free if p.shape in (None, shape)]

    def box(self, shape: str) -> hm.Box:
        free = self.free_for(shape)
        return hm.Box.of([p.key for p in free], [p.low for p in free], [p.high for p in free], [p.log for p in free])

    def evidence(self) -> tuple[np.ndarray, np.ndarray]:
        """(value, standard error) of each target."""
        return (np.array([t.value for t in self.targets]), np.array([t.standard_error for t in self.targets]))

    def simulate(self, values: dict, seed: int) -> dict[str, float]:
        """Every target's measure in one run of each arm (the same seed), with ``values`` set."""
        return self.simulate_many([values], [seed])[0]

    def simulate_many(self, values: list[dict], seeds: list[int]) -> list[dict[str, float]]:
        """:meth:`simulate` at several points at once (each arm's runs across the points are one
        batch of the batched engine: :func:`experiments.analyses.targets.measure_points`)."""
        points = [({s: with_values(p, v) for s, p in self.base.items()}, seed) for v, seed in zip(values, seeds)]
        return measure_points(points, self.measures, self.engine)

    def fingerprint(self) -> str:
        c = self.calib
        spec = dict(free=[(p.key, p.low, p.high, p.log, p.shape) for p in self.free], measures=self.measures,
                    n=self.n_graduates, population=self.population, seed=c.seed, w1=c.wave1_runs, w2=c.wave2_runs,
                    **({"w3": c.wave3_runs} if c.wave3_runs else {}),
                    noise=(c.noise_points, c.noise_replicates), cutoff=c.cutoff, candidates=c.candidates,
                    targets=[(t.value, t.low, t.high, t.standard_error) for t in self.targets], version=sim.__version__,
                    code=code_hash(),  # runs saved by other model code are not this calibration's
                    arms={m: (MEASURES[m].arm, MEASURES[m].comparator, MEASURES[m].weeks, ARMS.get(MEASURES[m].arm))
                          for m in self.measures},
                    **({"engine": self.engine} if self.engine not in ("vectorized", "batched") else {}))
        return hashlib.sha1(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:10]


# --- runs, in resumable batches -----------------------------------------------------------------


def _run_batch(problem: Problem, rows: list[dict], path: Path) -> None:
    """Run the rows of one batch (every arm of each, one batch of the batched engine per arm) and
    save their measures in ``path``."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    values = [{k: v for k, v in row.items() if k not in ("point", "seed") and not _missing(v)} for row in rows]
    measured = problem.simulate_many(values, [int(row["seed"]) for row in rows])
    write_table(path, pd.DataFrame([{**row, **m} for row, m in zip(rows, measured)]))


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def run_points(problem: Problem, name: str, rows: list[dict], folder: Path, jobs: int, batch: int = 25) -> pd.DataFrame:
    """Run every row (parameter values, ``point`` and ``seed``), in batches saved as
    ``folder/<name>_<k>.parquet``; batches already saved are not run again."""
    folder.mkdir(parents=True, exist_ok=True)
    batches = [(rows[i:i + batch], folder / f"{name}_{i // batch:04d}.parquet") for i in range(0, len(rows), batch)]
    todo = [(r, p) for r, p in batches if not p.exists()]
    RUNS["done"] += sum(len(r) for r, _ in todo)
    RUNS["reused"] += len(rows) - sum(len(r) for r, _ in todo)
    if todo:
        print(f"  {name}: {sum(len(r) for r, _ in todo)} of {len(rows)} runs to do", flush=True)
        Parallel(n_jobs=max(1, min(jobs, len(todo))))(delayed(_run_batch)(problem, r, p) for r, p in todo)
    else:
        print(f"  {name}: {len(rows)} runs already done", flush=True)
    return pd.concat([pd.read_parquet(p) for _, p in batches], ignore_index=True)


def _rows(box: hm.Box, shape: str, U: np.ndarray, seeds: list[int], points: list[int]) -> list[dict]:
    X = box.to_natural(U)
    return [{"point": int(pt), "seed": int(sd), SHAPE_KEY: shape, **dict(zip(box.names, map(float, x)))}
            for x, sd, pt in zip(X, seeds, points)]


# --- one decay shape ----------------------------------------------------------------------------


def fit_shape(problem: Problem, shape: str, folder: Path) -> dict:
    """History match one decay shape and sample its posterior on the emulators."""
    c = problem.calib
    k = SHAPES.index(shape)
    box = problem.box(shape)
    z, h = problem.evidence()
    measures = problem.measures
    t0 = time.time()
    # wave 1, and the replicates that give the run-to-run noise
    U1 = hm.latin_hypercube(c.wave1_runs, box.dim, seed=c.seed + 10 * k + 1)
    seeds1 = [run_seed(c.seed, 1_000_000 * (k + 1) + i) for i in range(len(U1))]
    wave1 = run_points(problem, f"{shape}_wave1", _rows(box, shape, U1, seeds1, list(range(len(U1)))), folder, c.jobs)
    n_noise = min(c.noise_points, len(U1))
    reps = [(i, r) for i in range(n_noise) for r in range(1, c.noise_replicates)]
    noise_rows = _rows(box, shape, U1[[i for i, _ in reps]],
                       [run_seed(c.seed, 1_000_000 * (k + 1) + 100_000 * r + i) for i, r in reps], [i for i, _ in reps])
    noise = run_points(problem, f"{shape}_noise", noise_rows, folder, c.jobs) if reps else wave1.iloc[:0]
    both = pd.concat([wave1[wave1["point"] < n_noise], noise])
    noise_var = np.array([np.nanmean(both.groupby("point")[m].var(ddof=1)) if len(noise) else 0.0 for m in measures])
    noise_var = np.nan_to_num(noise_var)
    Y1 = wave1[measures].to_numpy(float)
    em1 = hm.Emulator(U1, Y1, noise_var, seed=c.seed, restarts=c.gp_restarts, jobs=c.jobs)
    print(f"  {shape}: wave-1 emulators fitted ({time.time() - t0:.0f} s)", flush=True)
    # rule out, and wave 2 in what is left
    cand = hm.latin_hypercube(c.candidates, box.dim, seed=c.seed + 10 * k + 2)
    kept, _ = hm.nroy(em1, z, h, noise_var, cand, c.cutoff)
    nroy1 = len(kept) / len(cand)
    rng = np.random.default_rng(c.seed + 10 * k + 3)
    if len(kept) >= c.wave2_runs:
        U2 = kept[rng.choice(len(kept), c.wave2_runs, replace=False)]
    else:  # too little left: the least implausible candidates (ranked by their exact implausibility)
        _, worst = hm.nroy(em1, z, h, noise_var, cand, c.cutoff, exact=True)
        U2 = cand[np.argsort(worst)[:c.wave2_runs]]
    seeds2 = [run_seed(c.seed, 1_000_000 * (k + 1) + 500_000 + i) for i in range(len(U2))]
    rows2 = _rows(box, shape, U2, seeds2, list(range(len(U2))))
    tag = hashlib.sha1(pd.DataFrame(rows2).to_csv().encode()).hexdigest()[:8]  # a new design: new runs
    wave2 = run_points(problem, f"{shape}_wave2_{tag}", rows2, folder, c.jobs)
    Y2 = wave2[measures].to_numpy(float)
    # how well wave 1's emulators predicted wave 2's runs (standardised errors)
    m2, v2 = em1.predict(U2)
    std_err = (Y2 - m2) / np.sqrt(em1.run_variance(v2))
    # refitted on both waves, its search starting from wave 1's hyperparameters
    em = hm.Emulator(np.vstack([U1, U2]), np.vstack([Y1, Y2]), noise_var, seed=c.seed, restarts=0, start=em1,
                     jobs=c.jobs)
    kept2, _ = hm.nroy(em, z, h, noise_var, cand, c.cutoff)

    def sample(emulator: hm.Emulator, step: int) -> hm.SmcResult:
        def loglik(u):
            mean, var = emulator.predict(u)
            return hm.gaussian_loglik(mean, var, z, h)

        return hm.smc_posterior(loglik, box.dim, c.particles, seed=c.seed + 10 * k + step, moves=c.moves)

    smc = sample(em, 4)
    U, Y, wave3 = np.vstack([U1, U2]), np.vstack([Y1, Y2]), wave2.iloc[:0]
    if c.wave3_runs:
        # wave 3 refocuses on the posterior: runs at distinct particles, where the emulators matter
        # most (outside it, a poor emulator costs nothing); what the emulators of waves 1-2 predicted
        # there is the emulator check the report gives; then refitted on all three waves and resampled
        distinct = np.unique(smc.particles, axis=0)
        U3 = distinct[rng.choice(len(distinct), min(c.wave3_runs, len(distinct)), replace=False)]
        seeds3 = [run_seed(c.seed, 1_000_000 * (k + 1) + 700_000 + i) for i in range(len(U3))]
        rows3 = _rows(box, shape, U3, seeds3, list(range(len(U3))))
        tag3 = hashlib.sha1(pd.DataFrame(rows3).to_csv().encode()).hexdigest()[:8]
        wave3 = run_points(problem, f"{shape}_wave3_{tag3}", rows3, folder, c.jobs)
        Y3 = wave3[measures].to_numpy(float)
        m3, v3 = em.predict(U3)
        std_err = (Y3 - m3) / np.sqrt(em.run_variance(v3))
        U, Y = np.vstack([U, U3]), np.vstack([Y, Y3])
        em = hm.Emulator(U, Y, noise_var, seed=c.seed, restarts=0, start=em, jobs=c.jobs)
        smc = sample(em, 5)
    print(f"  {shape}: NROY {nroy1:.3%} after wave 1, {len(kept2) / len(cand):.3%} after wave 2; "
          f"{len(wave3)} runs in the posterior (wave 3); log evidence {smc.log_evidence:.2f}; "
          f"{len(smc.temperatures) - 1} SMC steps; {time.time() - t0:.0f} s", flush=True)
    return dict(shape=shape, box=box, particles=smc.particles, log_evidence=smc.log_evidence, nroy1=nroy1,
                nroy2=len(kept2) / len(cand), noise_var=noise_var, std_err=std_err,
                runs=len(wave1) + len(noise) + len(wave2) + len(wave3), checked_by="wave 3" if len(wave3) else "wave 2",
                steps=len(smc.temperatures) - 1, acceptance=smc.acceptance, emulator=em, wave1=wave1, wave2=wave2,
                wave3=wave3)


# --- the whole calibration ----------------------------------------------------------------------


def calibrate(cfg: DictConfig) -> dict:
    """Fit every shape, write the posterior, the default values and the report; return the medians."""
    started = time.time()
    calib: CalibrationConfig = OmegaConf.to_object(cfg.calibration)
    problem = Problem(to_params(cfg), calib, OmegaConf.to_container(cfg.priors) if cfg.get("priors") else None,
                      cfg.engine)
    folder = _path(calib.runs_dir) / problem.fingerprint()
    print(f"Calibration: history matching of {len(calib.shapes)} decay shape(s), runs in {folder}", flush=True)
    fits = {s: fit_shape(problem, s, folder) for s in calib.shapes}
    log_z = np.array([fits[s]["log_evidence"] for s in calib.shapes])
    prob = np.exp(log_z - log_z.max())
    prob /= prob.sum()
    probability = dict(zip(calib.shapes, map(float, prob)))
    winner = max(probability, key=probability.get)
    posterior = posterior_table(problem, fits, probability, calib.posterior_draws, calib.seed)
    write_table(_path(calib.posterior), posterior)
    medians = posterior_median(problem, posterior, winner)
    # the posterior predictive: draws re-run with the real model (resumable like the waves)
    check = posterior.iloc[:calib.check_draws]
    params = [c for c in posterior.columns if c.startswith("dynamics.")]
    rows = [{"point": i, "seed": run_seed(calib.seed + 7, i), **{k: r[k] for k in params}} for i, r in check.iterrows()]
    tag = hashlib.sha1(pd.DataFrame(rows).to_csv().encode()).hexdigest()[:8]  # a new posterior: new runs
    predictive = run_points(problem, f"posterior_check_{tag}", rows, folder, calib.jobs)
    elapsed = time.time() - started
    write_calibrated_config(_path(calib.output), medians, problem, winner, probability, len(posterior))
    write_report(_path(calib.report_dir), problem, fits, probability, winner, posterior, predictive, medians, elapsed)
    print(f"Calibration done in {elapsed / 60:.1f} min; the targets favour {winner} ({probability[winner]:.3f})")
    return medians


def posterior_table(problem: Problem, fits: dict, probability: dict, n: int, seed: int) -> pd.DataFrame:
    """``n`` rows: each shape's SMC particles in proportion to its posterior probability, shuffled."""
    rng = np.random.default_rng(seed + 99)
    shapes = list(fits)
    counts = np.floor(np.array([probability[s] for s in shapes]) * n).astype(int)
    counts[int(np.argmax(counts))] += n - counts.sum()
    keys = [p.key for p in problem.free]
    parts = []
    for s, count in zip(shapes, counts):
        if count == 0:
            continue
        fit = fits[s]
        idx = rng.choice(len(fit["particles"]), count, replace=count > len(fit["particles"]))
        X = fit["box"].to_natural(fit["particles"][idx])
        df = pd.DataFrame(X, columns=list(fit["box"].names))
        for key in keys:
            if key not in df:
                df[key] = np.nan  # a parameter of the other shape
        df[SHAPE_KEY] = s
        parts.append(df[[*keys, SHAPE_KEY]])
    table = pd.concat(parts, ignore_index=True)
    return table.iloc[rng.permutation(len(table))].reset_index(drop=True)


def posterior_median(problem: Problem, posterior: pd.DataFrame, winner: str) -> dict:
    rows = posterior[posterior[SHAPE_KEY] == winner]
    out = {p.key: float(rows[p.key].median()) for p in problem.free_for(winner)}
    out[SHAPE_KEY] = winner
    return out


def write_calibrated_config(path: Path, medians: dict, problem: Problem, winner: str, probability: dict,
                            draws: int) -> None:
    """The posterior median as a ``dynamics`` config group file, with where it came from."""
    nested: dict = {}
    for key, value in medians.items():
        if not key.startswith("dynamics."):
            continue
        *path_parts, last = key.split(".")[1:]
        node = nested
        for part in path_parts:
            node = node.setdefault(part, {})
        node[last] = value if isinstance(value, str) else round(float(value), 6)
    c = problem.calib
    header = [
        "# Calibrated behaviour parameters: written by experiments/analyses/calibration.py; do not edit by hand.",
        f"# Posterior median of Bayesian history matching with GP emulators ({c.wave1_runs}+{c.wave2_runs}"
        + (f"+{c.wave3_runs}" if c.wave3_runs else "") + " runs per"
        f" decay shape, {problem.n_graduates} graduates on population {problem.population}), {draws} posterior draws"
        f" in {c.posterior}, {datetime.date.today().isoformat()}, package {sim.__version__}.",
        "# Decay shape: " + "; ".join(f"{s} posterior probability {p:.3f}" for s, p in probability.items())
        + f"; the default follows {winner}.",
        "# Targets: " + "; ".join(f"{t.measure} {t.value:g} ({t.low:g}-{t.high:g})" for t in problem.targets),
        "# Every other parameter keeps its prior (sim/params.py). Report: "
        f"{c.report_dir}/report.md",
    ]
    text = "\n".join(header) + "\n" + yaml.safe_dump(nested, sort_keys=True)
    write_text(path, text)
    if path.resolve() == (ROOT / "configs/dynamics/calibrated.yaml").resolve():  # the defaults: Python's too
        write_text(ROOT / "sim" / CALIBRATED_FILE, text)
    print(f"posterior median: {path}")


def _short(key: str) -> str:
    return key.removeprefix("dynamics.")


def _savefig(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def write_report(out: Path, problem: Problem, fits: dict, probability: dict, winner: str, posterior: pd.DataFrame,
                 predictive: pd.DataFrame, medians: dict, elapsed: float) -> None:
    c = problem.calib
    out.mkdir(parents=True, exist_ok=True)
    win = posterior[posterior[SHAPE_KEY] == winner]
    free = problem.free_for(winner)
    box = fits[winner]["box"]
    prior_sd = dict(zip(box.names, box.prior_sd()))
    # the posterior predictive against each target
    pred_rows = []
    for t in problem.targets:
        v = predictive[t.measure].dropna().to_numpy()
        q5, q50, q95 = np.quantile(v, [0.05, 0.5, 0.95])
        pred_rows.append((t, q5, q50, q95, float(np.mean(np.abs(v - t.value) <= 2 * t.standard_error))))
    ncols = 5
    nrows = max(1, math.ceil(len(pred_rows) / ncols))  # every target gets a panel
    fig, axes = plt.subplots(nrows, ncols, figsize=(14, 2.7 * nrows), constrained_layout=True, squeeze=False)
    for ax in axes.flat[len(pred_rows):]:
        ax.set_visible(False)
    for ax, (t, q5, q50, q95, _) in zip(axes.flat, pred_rows):
        v = predictive[t.measure].dropna()
        ax.axvspan(t.value - 2 * t.standard_error, t.value + 2 * t.standard_error, color="#56B4E9", alpha=0.3,
                   label="evidence: value +- 2 SE")
        ax.axvline(t.value, color="#0072B2", lw=1.5)
        ax.hist(v, bins=20, color="#D55E00", alpha=0.7, label="posterior predictive")
        ax.set_title(MEASURES[t.measure].label, fontsize=7, wrap=True)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=6, frameon=False)
    fig.suptitle(f"Posterior predictive ({len(predictive)} draws re-run with the model) against the evidence")
    _savefig(fig, out / "predictive.png")
    # marginals
    cols = 4
    rowsn = math.ceil(len(free) / cols)
    fig, axes = plt.subplots(rowsn, cols, figsize=(3.2 * cols, 2.4 * rowsn), constrained_layout=True)
    for ax, p in zip(axes.flat, free):
        bins = np.geomspace(p.low, p.high, 30) if p.log else np.linspace(p.low, p.high, 30)
        ax.hist(win[p.key], bins=bins, density=True, color="#D55E00", alpha=0.75)
        if p.log:
            ax.set_xscale("log")
            ax.plot(bins, 1 / (bins * np.log(p.high / p.low)), color="#999999", lw=1)
        else:
            ax.axhline(1 / (p.high - p.low), color="#999999", lw=1)
        ax.set_title(_short(p.key), fontsize=7)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(free):]:
        ax.axis("off")
    fig.suptitle(f"Marginal posteriors ({winner} decay; grey: the prior density)")
    _savefig(fig, out / "marginals.png")
    # pairwise, for the parameters the data inform most
    ratio = {p.key: float(win[p.key].std() / prior_sd[p.key]) for p in free}
    top = sorted(ratio, key=ratio.get)[:6]
    fig, axes = plt.subplots(len(top), len(top), figsize=(2.1 * len(top), 2.1 * len(top)), constrained_layout=True)
    for i, a in enumerate(top):
        for j, b in enumerate(top):
            ax = axes[i, j]
            if i == j:
                ax.hist(win[a], bins=30, color="#D55E00", alpha=0.75)
            elif i > j:
                ax.plot(win[b], win[a], ".", ms=1, alpha=0.3, color="#0072B2")
            else:
                r = np.corrcoef(win[a], win[b])[0, 1]
                ax.text(0.5, 0.5, f"r = {r:.2f}", ha="center", va="center", fontsize=9)
                ax.set_xticks([])
                ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(_short(a).split(".")[-1], fontsize=6)
            if i == len(top) - 1:
                ax.set_xlabel(_short(b).split(".")[-1], fontsize=6)
            ax.tick_params(labelsize=5)
    fig.suptitle("Pairwise posterior of the six best-informed parameters (lower: draws; upper: correlation)")
    _savefig(fig, out / "pairs.png")
    # the text
    z, h = problem.evidence()
    lines = [
        "# Calibration report", "",
        f"Bayesian history matching with Gaussian-process emulators, then a posterior sampled on the emulators by "
        f"SMC and checked with the real model (`experiments/analyses/calibration.py`, `experiments/analyses/history_matching.py`; "
        f"docs/odd.md 6). Package {sim.__version__}, {datetime.date.today().isoformat()}; "
        f"{problem.n_graduates} graduates per run on population `{problem.population}`; wall time "
        f"{elapsed / 60:.1f} min with {c.jobs} process(es), {RUNS['done']} model runs"
        + (f" ({RUNS['reused']} more saved by an earlier, interrupted invocation)" if RUNS["reused"] else "")
        + ".", "",
        "Each target emulates its study (arms, timing, measure: docs/odd.md 6). The likelihood of each target is "
        "Gaussian with standard deviation the study's standard error (the 95% interval's half-width / 1.96), plus "
        "the emulator's uncertainty about the model's expected output (a run's run-to-run scatter is not evidence and "
        "does not widen it). The prior of each parameter is uniform on its "
        "range (log-uniform where searched on a log scale).", "",
        "## Decay shape", "",
        "| shape | runs | NROY after wave 1 | after wave 2 | SMC steps | Metropolis acceptance (last step) | "
        "distinct particles | log marginal likelihood | posterior probability |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s, f in fits.items():
        distinct = len(np.unique(f["particles"], axis=0))
        lines.append(f"| {s} | {f['runs']} | {f['nroy1']:.2%} | {f['nroy2']:.2%} | {f['steps']} | "
                     f"{f['acceptance'][-1]:.2f} | {distinct} of {len(f['particles'])} | "
                     f"{f['log_evidence']:.2f} | {probability[s]:.3f} |")
    if len(fits) > 1:
        other = [s for s in fits if s != winner]
        bf = fits[winner]["log_evidence"] - max(fits[s]["log_evidence"] for s in other)
        lines += ["", f"The targets favour **{winner}** decay: log Bayes factor {bf:.2f} against the other shape "
                      f"(equal prior odds). The defaults follow it; `posterior.parquet` mixes the shapes in proportion "
                      f"to their posterior probability."]
    check_runs = ("wave-3 runs (in the posterior)" if fits[winner]["checked_by"] == "wave 3"
                  else "wave-2 runs (in the space wave 1 did not rule out)")
    lines += ["", "## Targets against the posterior predictive", "",
              f"{len(predictive)} draws of the posterior re-run with the model (one run of every arm each, fresh seeds).", "",
              "| target | evidence (95% interval; SE) | posterior predictive median (90% interval) | share of draws within 2 SE | "
              f"emulator check: {check_runs} within 3 SD of the emulators before them | source |",
              "|---|---|---|---|---|---|"]
    for j, (t, q5, q50, q95, share) in enumerate(pred_rows):
        se = fits[winner]["std_err"][:, j]
        se = se[np.isfinite(se)]
        lines.append(f"| {MEASURES[t.measure].label} | {t.value:g} ({t.low:g} to {t.high:g}; {t.standard_error:.3g}) | {q50:.3f} "
                     f"({q5:.3f} to {q95:.3f}) | {share:.0%} | {np.mean(np.abs(se) <= 3):.0%} | {t.source} |")
    lines += ["", "![predictive](predictive.png)", "",
              f"## Parameters ({winner} decay)", "",
              "Posterior sd over prior sd: below 0.5 the targets inform the parameter; above 0.8 it stays at its prior.", "",
              "| parameter | prior (range) | prior source | posterior median (90% interval) | posterior sd / prior sd | |",
              "|---|---|---|---|---|---|"]
    for p in free:
        q5, q50, q95 = np.quantile(win[p.key], [0.05, 0.5, 0.95])
        r = ratio[p.key]
        verdict = "informed" if r < 0.5 else ("partly informed" if r < 0.8 else "stays at its prior")
        lines.append(f"| `{_short(p.key)}` | {'log-' if p.log else ''}uniform {p.low:g} to {p.high:g} | {p.source} | "
                     f"{q50:.4g} ({q5:.4g} to {q95:.4g}) | {r:.2f} | {verdict} |")
    for s, f in fits.items():
        if s == winner:
            continue
        rows = posterior[posterior[SHAPE_KEY] == s]
        if len(rows):
            lines += ["", f"Under {s} decay ({len(rows)} rows of the table): medians "
                      + ", ".join(f"`{_short(k)}` {rows[k].median():.4g}" for k in f["box"].names)]
    lines += ["", "![marginals](marginals.png)", "", "![pairs](pairs.png)", "",
              "## Replicate variance (run-to-run sd of each measure at one parameter set)", "",
              "| target | standard error | replicate sd |", "|---|---|---|"]
    for t, hw, nv in zip(problem.targets, h, fits[winner]["noise_var"]):
        lines.append(f"| {t.measure} | {hw:.3g} | {math.sqrt(nv):.3g} |")
    lines.append("")
    write_text(out / "report.md", "\n".join(lines))
    print(f"report: {out / 'report.md'}")


def main(cfg: DictConfig) -> dict:
    """The calibration a composed config describes (``analysis=calibrate``, which gives its
    ``calibration`` block; exits with code 2 and one line without it): :func:`calibrate`, its
    posterior medians returned. Hydra is the entry point's (:mod:`experiments.calibrate` composes the
    config and records it); a notebook calls this with ``experiments.config.compose_config``'s.
    Raises :class:`sim.params.ParameterError` for a bad value."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    require_block(cfg, "calibration", "analysis=calibrate")
    return calibrate(cfg)
