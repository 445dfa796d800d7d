"""Calibrate the model's uncertain parameters to published evidence, with Optuna.

    python -m experiments.calibrate experiment=calibrate [calibration.trials=200] [calibration.jobs=2]

For each trial Optuna proposes values of the free parameters (``calibration.parameters``); the
model runs ``calibration.replicates`` times for each arm the targets need (with the same
seeds in every trial, so trials differ only by their parameters), and the loss is

    sum over targets of weight * ((mean over replicates - value) / half-width of its range)^2
    + prior_weight * sum over parameters of ((x - prior) / (high - low))^2

The small prior term keeps parameters the targets cannot identify near their priors. Trials run
in ``calibration.jobs`` processes sharing one Optuna journal file (``calibration.storage``):
rerunning the command resumes the study and runs only the trials still missing.

Writes the fitted values to ``calibration.output`` (``configs/dynamics/calibrated.yaml``, which
the default config uses) and a report to ``calibration.report_dir`` (``docs/calibration``): ``report.md`` (each target
against the model with intervals, fitted values with their ranges), ``targets.png``, ``loss.png``,
``trials.csv``.
"""

from __future__ import annotations

import datetime
import logging
import sys
from pathlib import Path

import hydra
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import optuna  # noqa: E402
import yaml  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402

import sim  # noqa: E402
from experiments.config import check_config_dir, run_seed, save_hydra_record, to_params, with_values  # noqa: E402
from hydra.core.hydra_config import HydraConfig  # noqa: E402
from experiments.outputs import atomic_path, write_table, write_text  # noqa: E402
from experiments.schemas import CalibrationConfig, FreeParameter  # noqa: E402
from experiments.stats import mean_ci  # noqa: E402
from experiments.targets import MEASURES, Target, arm_params, arms_needed, measure_all  # noqa: E402
from sim.calibrated import CALIBRATED_FILE  # noqa: E402
from sim.params import ModelParams, ParameterError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _prior(params: ModelParams, key: str) -> float:
    node = params
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return float(node)


class Problem:
    """The calibration problem: base parameters per arm, free parameters, targets."""

    def __init__(self, base: ModelParams, calib: CalibrationConfig):
        self.calib = calib
        self.targets: list[Target] = list(calib.targets)
        for t in self.targets:
            if t.measure not in MEASURES:
                raise ParameterError("calibration.targets.measure", t.measure, f"must be one of {sorted(MEASURES)}")
            if not t.low < t.high:
                raise ParameterError(f"calibration.targets[{t.measure}].high", t.high, f"must be > low ({t.low})")
        self.free: list[FreeParameter] = list(calib.parameters)
        for p in self.free:
            with_values(base, {p.key: p.low})  # fails early, naming the key, if a bound is invalid
            with_values(base, {p.key: p.high})
        self.base = arm_params(base, arms_needed([t.measure for t in self.targets]))
        self.prior = {p.key: _prior(base, p.key) for p in self.free}
        self.seeds = [run_seed(calib.seed, r) for r in range(calib.replicates)]

    def simulate(self, values: dict[str, float]) -> dict[str, np.ndarray]:
        params = {s: with_values(p, values) for s, p in self.base.items()}
        return measure_all(params, [t.measure for t in self.targets], self.seeds)

    def loss(self, values: dict[str, float], measured: dict[str, np.ndarray]) -> float:
        fit = sum(t.weight * ((measured[t.measure].mean() - t.value) / ((t.high - t.low) / 2)) ** 2
                  for t in self.targets)
        prior = sum(((values[p.key] - self.prior[p.key]) / (p.high - p.low)) ** 2 for p in self.free)
        return float(fit + self.calib.prior_weight * prior)

    def objective(self, trial: optuna.Trial) -> float:
        values = {p.key: trial.suggest_float(p.key, p.low, p.high, log=p.log) for p in self.free}
        measured = self.simulate(values)
        for name, v in measured.items():
            trial.set_user_attr(name, float(v.mean()))
        return self.loss(values, measured)


def _storage(path: Path) -> optuna.storages.BaseStorage:
    path.parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))


def _worker(problem: Problem, storage_path: Path, study_name: str, n_trials: int, seed: int) -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=study_name, storage=_storage(storage_path),
                              sampler=optuna.samplers.TPESampler(seed=seed, multivariate=True))
    study.optimize(problem.objective, n_trials=n_trials, callbacks=[_progress(n_trials)])


def _progress(total: int):
    def report(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        done = sum(t.state.is_finished() for t in study.trials)
        print(f"trial {trial.number}: loss {trial.value:.3f} (best {study.best_value:.3f}); {done} trials in the study",
              flush=True)

    return report


def calibrate(cfg: DictConfig) -> dict:
    """Run (or resume) the study, write the fitted config and the report; return the best values."""
    calib: CalibrationConfig = OmegaConf.to_object(cfg.calibration)
    problem = Problem(to_params(cfg), calib)
    storage_path = ROOT / calib.storage
    study = optuna.create_study(study_name=calib.study_name, storage=_storage(storage_path),
                                direction="minimize", load_if_exists=True)
    missing = calib.trials - sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    if missing > 0:
        jobs = max(1, min(calib.jobs, missing))
        shares = [missing // jobs + (i < missing % jobs) for i in range(jobs)]
        print(f"Calibration: {missing} trials to run in {jobs} process(es); study {calib.study_name} at {storage_path}")
        Parallel(n_jobs=jobs)(
            delayed(_worker)(problem, storage_path, calib.study_name, n, calib.seed + 1000 * (i + len(study.trials)))
            for i, n in enumerate(shares) if n
        )
    else:
        print(f"Calibration: the study already has {calib.trials} complete trials; writing the results")
    study = optuna.load_study(study_name=calib.study_name, storage=_storage(storage_path))
    best, polish_note = study.best_params, ""
    if calib.polish_evaluations > 0:
        best, loss, evaluations = polish(problem, best, calib.polish_evaluations)
        polish_note = (f"The study's best (loss {study.best_value:.4f}) was then polished by Powell's method "
                       f"({evaluations} evaluations, the same seeds) to loss {loss:.4f}.")
        print(polish_note)
    write_calibrated_config(ROOT / calib.output, best, study, problem, polish_note)
    write_report(ROOT / calib.report_dir, study, problem, best, polish_note)
    return best


def polish(problem: Problem, start: dict[str, float], evaluations: int) -> tuple[dict[str, float], float, int]:
    """Refine ``start`` by Powell's method on the same loss and seeds; return (values, loss, evaluations).

    TPE finds the region; in 15 dimensions it converges slowly, and it leaves parameters that only
    one or two targets inform (a channel's efficacy, a coefficient of service use) where chance put
    them. Powell's method searches along one direction at a time (first each parameter's own axis),
    with bounded line searches over the whole searched range, in the unit cube of the ranges (on a
    log scale where a parameter is searched on one): suited to a loss that is nearly a sum of parts.
    With the same seeds in every evaluation the loss is a deterministic function of the values.
    """
    from scipy.optimize import minimize

    free = problem.free

    def to_unit(value: float, p: FreeParameter) -> float:
        if p.log:
            return (np.log(value) - np.log(p.low)) / (np.log(p.high) - np.log(p.low))
        return (value - p.low) / (p.high - p.low)

    def from_unit(u: float, p: FreeParameter) -> float:
        u = min(max(float(u), 0.0), 1.0)
        if p.log:
            return float(np.exp(np.log(p.low) + u * (np.log(p.high) - np.log(p.low))))
        return float(p.low + u * (p.high - p.low))

    def values_of(u) -> dict[str, float]:
        return {p.key: from_unit(ui, p) for ui, p in zip(u, free)}

    def loss(u) -> float:
        values = values_of(u)
        return problem.loss(values, problem.simulate(values))

    x0 = np.clip(np.array([to_unit(start[p.key], p) for p in free]), 0.0, 1.0)
    result = minimize(loss, x0, method="Powell", bounds=[(0.0, 1.0)] * len(free),
                      options={"maxfev": evaluations, "xtol": 1e-3, "ftol": 1e-4})
    start_loss = loss(x0)
    if result.fun >= start_loss:  # never worse than where it started
        return dict(start), float(start_loss), int(result.nfev) + 1
    return values_of(result.x), float(result.fun), int(result.nfev) + 1


def write_calibrated_config(path: Path, best: dict[str, float], study: optuna.Study, problem: Problem,
                            polish_note: str = "") -> None:
    """The fitted values as a ``dynamics`` config group file, with where they came from."""
    nested: dict = {}
    for key, value in best.items():
        if not key.startswith("dynamics."):
            continue
        *path_parts, last = key.split(".")[1:]
        node = nested
        for part in path_parts:
            node = node.setdefault(part, {})
        node[last] = round(float(value), 6)
    header = [
        "# Calibrated behaviour parameters: written by experiments/calibrate.py; do not edit by hand.",
        f"# Study '{problem.calib.study_name}', {len(study.trials)} trials, best loss {study.best_value:.4f},"
        f" {problem.calib.replicates} replicates of {next(iter(problem.base.values())).n_graduates} graduates"
        f" on population {next(iter(problem.base.values())).population.name}, "
        f"{datetime.date.today().isoformat()}, package {sim.__version__}.",
        *([f"# {polish_note}"] if polish_note else []),
        "# Targets: " + "; ".join(f"{t.measure} {t.value:g} ({t.low:g}-{t.high:g})" for t in problem.targets),
        "# Every other parameter keeps its prior (sim/params.py). Report: "
        f"{problem.calib.report_dir}/report.md",
    ]
    text = "\n".join(header) + "\n" + yaml.safe_dump(nested, sort_keys=True)
    write_text(path, text)
    if path.resolve() == (ROOT / "configs/dynamics/calibrated.yaml").resolve():  # the defaults: Python's too
        write_text(ROOT / "sim" / CALIBRATED_FILE, text)
    print(f"fitted values: {path}")


def write_report(out: Path, study: optuna.Study, problem: Problem, best: dict[str, float], polish_note: str = "") -> None:
    out.mkdir(parents=True, exist_ok=True)
    trials = study.trials_dataframe(attrs=("number", "value", "params", "user_attrs", "state"))
    write_table(out / "trials.csv", trials)
    # the best values, re-run with more replicates for intervals
    check = Problem.__new__(Problem)
    check.__dict__.update(problem.__dict__)
    check.seeds = [run_seed(problem.calib.seed + 1, r) for r in range(max(5, problem.calib.replicates))]
    measured = check.simulate(best)
    prior_measured = check.simulate({})

    rows = []
    for t in problem.targets:
        m, lo, hi = mean_ci(measured[t.measure])
        p, _, _ = mean_ci(prior_measured[t.measure])
        inside = t.low <= m <= t.high
        rows.append((t, m, lo, hi, p, inside))

    fig, axes = plt.subplots(1, len(rows), figsize=(2.3 * len(rows), 3.4), constrained_layout=True)
    for ax, (t, m, lo, hi, p, inside) in zip(np.atleast_1d(axes), rows):
        ax.axhspan(t.low, t.high, color="#56B4E9", alpha=0.3, label="evidence range")
        ax.axhline(t.value, color="#0072B2", lw=1.5, label="evidence")
        ax.errorbar([0], [m], yerr=[[m - lo], [hi - m]], fmt="o", color="#D55E00", label="model, fitted")
        ax.plot([0.3], [p], "s", color="#999999", label="model, priors")
        ax.set_xlim(-0.6, 0.9)
        ax.set_xticks([])
        ax.set_title(MEASURES[t.measure].label, fontsize=8, wrap=True)
    np.atleast_1d(axes)[0].legend(fontsize=7, frameon=False, loc="best")
    fig.suptitle("Calibration targets: evidence (blue) against the model (orange: fitted, grey: priors)")
    with atomic_path(out / "targets.png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)

    complete = trials[trials["state"] == "COMPLETE"].sort_values("number")
    fig, ax = plt.subplots(figsize=(6, 3.5), constrained_layout=True)
    ax.plot(complete["number"], complete["value"], ".", color="#999999", label="trial")
    ax.plot(complete["number"], complete["value"].cummin(), color="#D55E00", lw=2, label="best so far")
    ax.set(xlabel="Trial", ylabel="Loss", yscale="log", title="Calibration loss over trials")
    ax.legend(frameon=False)
    with atomic_path(out / "loss.png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)

    lines = [
        "# Calibration report", "",
        f"Study `{problem.calib.study_name}`: {len(complete)} complete trials, best loss {study.best_value:.4f} "
        f"(trial {study.best_trial.number}). Package {sim.__version__}, {datetime.date.today().isoformat()}."
        + (f" {polish_note}" if polish_note else ""),
        f"Each trial: {problem.calib.replicates} replicates per strategy; the check below re-runs the fitted "
        f"and the prior values with {len(check.seeds)} fresh replicates (95% intervals over replicates).", "",
        "## Targets", "",
        "| target | evidence (range) | model, fitted (95% CI) | model, priors | within range | source |",
        "|---|---|---|---|---|---|",
    ]
    for t, m, lo, hi, p, inside in rows:
        lines.append(f"| {MEASURES[t.measure].label} | {t.value:g} ({t.low:g} to {t.high:g}) | {m:.3f} "
                     f"({lo:.3f} to {hi:.3f}) | {p:.3f} | {'yes' if inside else '**no**'} | {t.source} |")
    lines += ["", "## Fitted values", "", "| parameter | prior | fitted | range searched |", "|---|---|---|---|"]
    for p in problem.free:
        lines.append(f"| `{p.key}` | {problem.prior[p.key]:g} | {best[p.key]:.4g} | {p.low:g} to {p.high:g}"
                     f"{' (log)' if p.log else ''} |")
    lines += ["", "![targets](targets.png)", "", "![loss](loss.png)", ""]
    write_text(out / "report.md", "\n".join(lines))
    print(f"report: {out / 'report.md'}")


@hydra.main(version_base="1.3", config_path=str(check_config_dir()), config_name="config")
def main(cfg: DictConfig) -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)
    if cfg.get("calibration") is None:
        print("error: no calibration block in the config; run with experiment=calibrate "
              "(configs/experiment/calibrate.yaml)", file=sys.stderr)
        sys.exit(2)
    save_hydra_record(Path(HydraConfig.get().runtime.output_dir), cfg)  # Hydra's own no longer writes it
    try:
        calibrate(cfg)
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
