"""Global sensitivity analysis with SALib: which parameters drive the answers?

    python -m experiments.sensitivity analysis=sensitivity_morris     # screening (Morris)
    python -m experiments.sensitivity analysis=sensitivity_sobol      # variance shares (Sobol)

(:mod:`experiments.sensitivity` owns ``@hydra.main``; this module's :func:`sensitivity_command`
takes the composed config.) ``sensitivity.outputs`` are weekly outcomes of the outcome catalogue
(:mod:`experiments.outcomes`), which also gives their words in the figures.

SALib samples the parameters named in ``sensitivity.parameters`` (dotted config keys) over their
priors (``configs/priors/default.yaml``: the calibration's prior box, on a log scale where the
prior is log-uniform); every sample runs, in parallel worker processes, for each strategy in
``sensitivity.strategies``, with the same seed (so samples differ only by their parameters); the
outcomes at ``sensitivity.week`` (12 months by default) are analysed, and so is each strategy's
paired difference from ``course_only`` (what drives its advantage). Writes into the run folder
(``hydra.run.dir``, or ``sensitivity.output_dir``): ``samples.parquet`` (every sample's values and
outcomes), ``indices.csv`` (Morris mu*, sigma with 95% intervals, or Sobol S1 and ST with 95%
intervals), one figure per strategy and difference, and ``failures.csv`` if runs failed. A failed
run is reported and the analysis of its strategy is refused: indices are never computed over
silently missing runs. Runs are saved in parts of ``PART_ROWS`` under ``parts/``: rerunning with
the same ``sensitivity.output_dir`` resumes an interrupted analysis.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402
from SALib.analyze import morris as morris_analyze  # noqa: E402
from SALib.analyze import sobol as sobol_analyze  # noqa: E402
from SALib.sample import morris as morris_sample  # noqa: E402
from SALib.sample import sobol as sobol_sample  # noqa: E402
from tqdm import tqdm  # noqa: E402

from experiments import outcomes  # noqa: E402
from experiments.config import require_block, load_strategy, save_hydra_record, to_params  # noqa: E402
from experiments.outputs import atomic_path, write_table  # noqa: E402
from experiments.labels import OKABE_ITO  # noqa: E402
from experiments.schemas import SensitivityConfig  # noqa: E402
from experiments.uncertainty import Varied, priors_of, varied_parameters  # noqa: E402
from experiments.evaluate import evaluate_many  # noqa: E402
from sim.params import ModelParams, ParameterError, with_values  # noqa: E402

def output_title(output: str) -> str:
    """An outcome's words in a figure's title, from the outcome catalogue (:mod:`experiments.outcomes`)."""
    o = outcomes.get(output)
    return f"{o.label} ({o.unit})"


def check_outputs(names: list[str]) -> None:
    """Every name of ``sensitivity.outputs`` must be a weekly outcome of the catalogue (a column the
    runs report); raises :class:`~sim.params.ParameterError` naming the first that is not."""
    known = [name for name in outcomes.weekly() if name != "week"]
    for i, name in enumerate(names):
        if name not in known:
            raise ParameterError(f"sensitivity.outputs[{i}]", name,
                                 f"must be a weekly outcome (experiments/outcomes.py), one of {known}")


def problem_of(priors: list[Varied]) -> dict:
    """SALib's problem: every parameter sampled on the unit interval, mapped onto its prior's range
    (on a log scale where the prior is log-uniform) by :meth:`Varied.from_unit`."""
    return {"num_vars": len(priors), "names": [p.key for p in priors], "bounds": [[0.0, 1.0]] * len(priors)}


def sample(sens: SensitivityConfig, problem: dict) -> np.ndarray:
    """Points of the unit cube (SALib's Morris trajectories or Sobol's Saltelli design)."""
    if sens.method == "morris":
        return morris_sample.sample(problem, N=sens.trajectories, num_levels=sens.levels, seed=sens.seed)
    return sobol_sample.sample(problem, N=sens.base_samples, calc_second_order=sens.second_order, seed=sens.seed)


def on_priors(unit: np.ndarray, priors: list[Varied]) -> np.ndarray:
    """Unit-cube points as parameter values, column by column."""
    return np.column_stack([p.from_unit(unit[:, i]) for i, p in enumerate(priors)])


def run_samples(base: ModelParams, names: list[str], rows: np.ndarray, outputs: list[str], week: int,
                engine: str = "batched") -> list[dict]:
    """Runs at the parameter values of each of ``rows``, as one batch where the engine allows
    (:func:`experiments.evaluate.evaluate_many`): each one's outcomes at ``week``, or its error."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    params, results = [], []
    for row in rows:
        try:
            params.append(with_values(base, dict(zip(names, row.tolist()))))
        except Exception as err:  # noqa: BLE001 - reported, and the analysis refuses to go on
            params.append(err)
    todo = [p for p in params if not isinstance(p, Exception)]
    runs = iter(evaluate_many(todo, engine, errors="return"))
    for p in params:
        run = p if isinstance(p, Exception) else next(runs)
        if isinstance(run, Exception):
            results.append({"error": f"{type(run).__name__}: {run}"})
        else:
            at = run.at(week)
            results.append({name: at[name] for name in outputs})
    return results


#: Runs per task of the worker processes: one batch of the batched engine each (a few seconds).
TASK_ROWS = 128


def analyse(sens: SensitivityConfig, problem: dict, x: np.ndarray, y: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Indices of one outcome, one row per parameter, with 95% confidence intervals; and Sobol's
    second-order indices, one row per pair of parameters (None for Morris or first order only)."""
    second = None
    if sens.method == "morris":
        res = morris_analyze.analyze(problem, x, y, conf_level=0.95, num_levels=sens.levels, seed=sens.seed)
        df = pd.DataFrame({"parameter": res["names"], "mu_star": res["mu_star"],
                           "mu_star_conf": res["mu_star_conf"], "sigma": res["sigma"], "mu": res["mu"]})
    else:
        res = sobol_analyze.analyze(problem, y, calc_second_order=sens.second_order, conf_level=0.95, seed=sens.seed)
        df = pd.DataFrame({"parameter": problem["names"], "S1": res["S1"], "S1_conf": res["S1_conf"],
                           "ST": res["ST"], "ST_conf": res["ST_conf"]})
        if sens.second_order:  # S2 of each pair of parameters, for indices_second_order.csv
            names = problem["names"]
            second = pd.DataFrame([{"parameter": a, "with": names[j], "S2": res["S2"][i, j],
                                    "S2_conf": res["S2_conf"][i, j]}
                                   for i, a in enumerate(names) for j in range(i + 1, len(names))])
    return df, second


def short_name(key: str) -> str:
    """A parameter's key without the obvious parts: 'peer_group.efficacy', 'retention.decay_rate_per_week'."""
    return key.removeprefix("dynamics.").replace(".effect.", ".")


def plot(sens: SensitivityConfig, indices: pd.DataFrame, strategy: str, out: Path) -> None:
    outputs = list(dict.fromkeys(indices["output"]))
    fig, axes = plt.subplots(1, len(outputs), figsize=(5.2 * len(outputs), 4.6), constrained_layout=True)
    for ax, output in zip(np.atleast_1d(axes), outputs):
        df = indices[indices["output"] == output]
        short = [short_name(p) for p in df["parameter"]]
        if sens.method == "morris":
            ax.errorbar(df["mu_star"], df["sigma"], xerr=df["mu_star_conf"], fmt="o", color=OKABE_ITO[5])
            for xv, yv, name in zip(df["mu_star"], df["sigma"], short):
                ax.annotate(name, (xv, yv), fontsize=7, xytext=(3, 3), textcoords="offset points")
            ax.set(xlabel="mu* (mean absolute effect)", ylabel="sigma (interaction / non-linearity)")
        else:
            pos = np.arange(len(df))
            ax.barh(pos - 0.2, df["S1"], 0.4, xerr=df["S1_conf"], color=OKABE_ITO[2], label="S1 (alone)")
            ax.barh(pos + 0.2, df["ST"], 0.4, xerr=df["ST_conf"], color=OKABE_ITO[6], label="ST (with interactions)")
            ax.set_yticks(pos, short, fontsize=8)
            ax.set(xlabel="Share of the outcome's variance")
            ax.legend(frameon=False, fontsize=8)
        ax.set_title(textwrap.fill(f"{output_title(output)} at week {sens.week}", 50), fontsize=10)
    kind = "Morris screening" if sens.method == "morris" else "Sobol indices"
    what = (f"the difference {strategy.replace('_', ' ')}" if " - " in strategy
            else f"the outcomes under {strategy.replace('_', ' ')}")
    fig.suptitle(f"{kind}: what drives {what}")
    with atomic_path(out / f"{sens.method}_{strategy.replace(' - ', '_vs_')}.png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


#: Runs saved per part: an interrupted analysis keeps every finished part (rerun with the same
#: ``sensitivity.output_dir`` to resume).
PART_ROWS = 1024


def _fingerprint(sens: SensitivityConfig, priors: list[Varied], base: ModelParams) -> str:
    """What the saved parts of an analysis depend on: the design, the priors and the base case."""
    from experiments.config import run_identity

    text = json.dumps({"method": sens.method, "n": [sens.trajectories, sens.levels, sens.base_samples, sens.second_order],
                       "seed": sens.seed, "outputs": sens.outputs, "week": sens.week,
                       "priors": [dataclasses.asdict(p) for p in priors], "base": run_identity(base)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def run_strategy(params: ModelParams, names: list[str], x: np.ndarray, sens: SensitivityConfig, parts: Path,
                 label: str, engine: str = "batched") -> pd.DataFrame:
    """Every sample under one strategy, in parts of ``PART_ROWS`` runs saved as they finish."""
    frames = []
    with tqdm(total=len(x), desc=label, unit="run") as bar:
        for start in range(0, len(x), PART_ROWS):
            path = parts / f"{params.strategy.name}-{start // PART_ROWS:05d}.parquet"
            if path.is_file():
                frames.append(pd.read_parquet(path))
                bar.update(len(frames[-1]))
                continue
            rows = x[start:start + PART_ROWS]
            size = max(1, min(TASK_ROWS, -(-len(rows) // max(1, sens.jobs))))
            jobs = (delayed(run_samples)(params, names, rows[i:i + size], sens.outputs, sens.week, engine)
                    for i in range(0, len(rows), size))
            results = []
            for r in Parallel(n_jobs=sens.jobs, return_as="generator")(jobs):
                results += r
                bar.update(len(r))
            frame = pd.DataFrame(results)
            frame.insert(0, "sample", np.arange(start, start + len(rows)))
            if "error" not in frame:
                write_table(path, frame)  # only complete, error-free parts are kept
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def sensitivity(cfg: DictConfig, out: Path) -> pd.DataFrame:
    sens: SensitivityConfig = OmegaConf.to_object(cfg.sensitivity)
    if sens.method not in ("morris", "sobol"):
        raise ParameterError("sensitivity.method", sens.method, "must be one of ['morris', 'sobol']")
    if sens.week > cfg.weeks:
        raise ParameterError("sensitivity.week", sens.week, f"must be <= weeks ({cfg.weeks})")
    check_outputs(list(sens.outputs))
    base = to_params(cfg)
    priors = priors_of(OmegaConf.to_container(cfg.priors) if cfg.get("priors") else None, sens.parameters,
                       "sensitivity.parameters")
    shape = getattr(base.dynamics.retention.decay_shape, "value", base.dynamics.retention.decay_shape)
    for i, p in enumerate(priors):
        if p.shape and p.shape != shape:  # a rate of the other decay shape moves nothing: indices of 0
            other = [q.key for q in varied_parameters(OmegaConf.to_container(cfg.priors) if cfg.get("priors") else {},
                                                      where="priors") if q.shape == shape]
            raise ParameterError(f"sensitivity.parameters[{i}]", p.key,
                                 f"acts only under {p.shape} decay, and the model runs {shape} decay "
                                 f"(dynamics.retention.decay_shape); vary {other} instead, or set "
                                 f"dynamics.retention.decay_shape={p.shape}")
    for p in priors:  # fail before any run if a key or a bound is invalid
        with_values(base, {p.key: p.low})
        with_values(base, {p.key: p.high})
    problem = problem_of(priors)
    unit = sample(sens, problem)
    x = on_priors(unit, priors)
    out.mkdir(parents=True, exist_ok=True)
    parts = out / "parts" / _fingerprint(sens, priors, base)
    all_indices, frames, failures, outcomes = [], [], [], {}
    for strategy in sens.strategies:
        params = with_values(base, {})
        params.strategy = load_strategy(strategy)
        results = run_strategy(params, problem["names"], x, sens, parts, f"{sens.method} {strategy}", cfg.engine)
        frame = pd.DataFrame(x, columns=problem["names"]).assign(strategy=strategy, sample=np.arange(len(x)))
        frame = pd.concat([frame, results.drop(columns="sample")], axis=1)
        frames.append(frame)
        failed = frame[frame["error"].notna()] if "error" in frame else frame.iloc[:0]
        if len(failed):
            failures.append(failed)
            print(f"error: {len(failed)} of {len(x)} runs failed under {strategy}; no indices computed for it "
                  f"(see failures.csv). First error: {failed['error'].iloc[0]}", file=sys.stderr)
            continue
        outcomes[strategy] = frame
    # each strategy's outcomes and, where the comparator ran, its paired difference from it (same
    # sample, same seed): what drives the strategy's advantage
    comparator, series, pairs = "course_only", [], []
    for strategy, frame in outcomes.items():
        if strategy != comparator and comparator in outcomes:
            series += [(f"{strategy} - {comparator}", o, frame[o].to_numpy() - outcomes[comparator][o].to_numpy())
                       for o in sens.outputs]
        series += [(strategy, o, frame[o].to_numpy()) for o in sens.outputs]
    for label, output, y in series:
        df, second = analyse(sens, problem, unit, y)
        all_indices.append(df.assign(strategy=label, output=output))
        if second is not None:
            pairs.append(second.assign(strategy=label, output=output))
    for label in dict.fromkeys(d["strategy"].iloc[0] for d in all_indices):
        plot(sens, pd.concat([d for d in all_indices if d["strategy"].iloc[0] == label]), label, out)

    write_table(out / "samples.parquet", pd.concat(frames, ignore_index=True))
    indices = pd.concat(all_indices, ignore_index=True) if all_indices else pd.DataFrame()
    if not indices.empty:
        first = ["strategy", "output", "parameter"]
        indices = indices[first + [c for c in indices.columns if c not in first]]
        write_table(out / "indices.csv", indices)
        if pairs:
            write_table(out / "indices_second_order.csv", pd.concat(pairs, ignore_index=True))
    if failures:
        write_table(out / "failures.csv", pd.concat(failures, ignore_index=True))
    return indices


def sensitivity_command(cfg: DictConfig, run_dir: Path) -> int:
    """What ``python -m experiments.sensitivity analysis=...`` does with the composed config
    (:mod:`experiments.sensitivity` owns ``@hydra.main`` and passes Hydra's run folder,
    ``run_dir``): the analysis into ``sensitivity.output_dir`` (default ``run_dir``), the top
    indices printed. Returns the exit code: 0; 2 for a bad parameter (one line); 1 when runs
    failed (``failures.csv``)."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    require_block(cfg, "sensitivity", "analysis=sensitivity_morris or analysis=sensitivity_sobol")
    out = Path(cfg.sensitivity.output_dir or run_dir)
    save_hydra_record(Path(run_dir), cfg)  # Hydra's own no longer writes it
    try:
        indices = sensitivity(cfg, out)
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if (out / "failures.csv").exists():
        return 1
    with pd.option_context("display.width", 200, "display.max_columns", 12, "display.precision", 4):
        key = "mu_star" if cfg.sensitivity.method == "morris" else "ST"
        top = indices.sort_values(key, ascending=False).groupby(["strategy", "output"]).head(3)
        print(top.to_string(index=False))
    print(f"outputs: {out}")
    return 0
