"""Global sensitivity analysis with SALib: which parameters drive the answers?

    python -m experiments.sensitivity experiment=sensitivity_morris     # screening (Morris)
    python -m experiments.sensitivity experiment=sensitivity_sobol      # variance shares (Sobol)

SALib samples the parameters named in ``sensitivity.parameters`` (dotted config keys, each with
bounds); every sample runs, in parallel worker processes, for each strategy in
``sensitivity.strategies``, with the same seed (so samples differ only by their parameters); the
outcomes at ``sensitivity.week`` (12 months by default) are analysed. Writes into the run folder
(``hydra.run.dir``): ``samples.parquet`` (every sample's values and outcomes), ``indices.csv``
(Morris mu*, sigma with 95% intervals, or Sobol S1 and ST with 95% intervals), one figure per
strategy and ``failures.csv`` if runs failed. A failed run is reported and the analysis of its
strategy is refused: indices are never computed over silently missing runs.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from hydra.core.hydra_config import HydraConfig  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402
from SALib.analyze import morris as morris_analyze  # noqa: E402
from SALib.analyze import sobol as sobol_analyze  # noqa: E402
from SALib.sample import morris as morris_sample  # noqa: E402
from SALib.sample import sobol as sobol_sample  # noqa: E402
from tqdm import tqdm  # noqa: E402

from experiments.config import check_config_dir, load_strategy, save_hydra_record, to_params, with_values  # noqa: E402
from experiments.outputs import atomic_path, write_table  # noqa: E402
from experiments.plots import OKABE_ITO  # noqa: E402
from experiments.schemas import SensitivityConfig  # noqa: E402
from sim.model import SelfManagementModel  # noqa: E402
from sim.params import ModelParams, ParameterError  # noqa: E402

OUTPUT_LABELS = {
    "mean_gain_sd": "mean gain (SD)",
    "share_self_managing": "share self-managing",
    "cost_total_gbp": "cost per graduate (GBP)",
    "qalys_gained": "QALYs gained per graduate",
    "share_lonely": "share lonely",
}


def problem_of(sens: SensitivityConfig) -> dict:
    """SALib's problem definition from the config's parameters."""
    return {
        "num_vars": len(sens.parameters),
        "names": [p.key for p in sens.parameters],
        "bounds": [[p.low, p.high] for p in sens.parameters],
    }


def sample(sens: SensitivityConfig, problem: dict) -> np.ndarray:
    if sens.method == "morris":
        return morris_sample.sample(problem, N=sens.trajectories, num_levels=sens.levels, seed=sens.seed)
    return sobol_sample.sample(problem, N=sens.base_samples, calc_second_order=False, seed=sens.seed)


def run_sample(base: ModelParams, names: list[str], row: np.ndarray, outputs: list[str], week: int) -> dict:
    """One run at the parameter values ``row``: the outcomes at ``week``, or the error."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        params = with_values(base, dict(zip(names, row.tolist())))
        model = SelfManagementModel.from_params(params).run()
        table = model.weekly_table().set_index("week")
        return {name: float(table.loc[week, name]) for name in outputs}
    except Exception as err:  # noqa: BLE001 - reported, and the analysis refuses to go on
        return {"error": f"{type(err).__name__}: {err}"}


def analyse(sens: SensitivityConfig, problem: dict, x: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Indices of one outcome, one row per parameter, with 95% confidence intervals."""
    if sens.method == "morris":
        res = morris_analyze.analyze(problem, x, y, conf_level=0.95, num_levels=sens.levels, seed=sens.seed)
        df = pd.DataFrame({"parameter": res["names"], "mu_star": res["mu_star"],
                           "mu_star_conf": res["mu_star_conf"], "sigma": res["sigma"], "mu": res["mu"]})
    else:
        res = sobol_analyze.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=sens.seed)
        df = pd.DataFrame({"parameter": problem["names"], "S1": res["S1"], "S1_conf": res["S1_conf"],
                           "ST": res["ST"], "ST_conf": res["ST_conf"]})
    return df


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
        ax.set_title(f"{OUTPUT_LABELS.get(output, output)} at week {sens.week}", fontsize=10)
    kind = "Morris screening" if sens.method == "morris" else "Sobol indices"
    fig.suptitle(f"{kind}: what drives the outcomes under {strategy.replace('_', ' ')}")
    with atomic_path(out / f"{sens.method}_{strategy}.png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def sensitivity(cfg: DictConfig, out: Path) -> pd.DataFrame:
    sens: SensitivityConfig = OmegaConf.to_object(cfg.sensitivity)
    if sens.method not in ("morris", "sobol"):
        raise ParameterError("sensitivity.method", sens.method, "must be one of ['morris', 'sobol']")
    if sens.week > cfg.weeks:
        raise ParameterError("sensitivity.week", sens.week, f"must be <= weeks ({cfg.weeks})")
    base = to_params(cfg)
    problem = problem_of(sens)
    for p in sens.parameters:  # fail before any run if a key or a bound is invalid
        with_values(base, {p.key: p.low})
        with_values(base, {p.key: p.high})
    x = sample(sens, problem)
    out.mkdir(parents=True, exist_ok=True)
    all_indices, frames, failures = [], [], []
    for strategy in sens.strategies:
        params = with_values(base, {})
        params.strategy = load_strategy(strategy)
        jobs = (delayed(run_sample)(params, problem["names"], row, sens.outputs, sens.week) for row in x)
        results = list(tqdm(Parallel(n_jobs=sens.jobs, return_as="generator")(jobs), total=len(x),
                            desc=f"{sens.method} {strategy}", unit="run"))
        frame = pd.DataFrame(x, columns=problem["names"]).assign(strategy=strategy, sample=np.arange(len(x)))
        frame = pd.concat([frame, pd.DataFrame(results)], axis=1)
        frames.append(frame)
        failed = frame[frame["error"].notna()] if "error" in frame else frame.iloc[:0]
        if len(failed):
            failures.append(failed)
            print(f"error: {len(failed)} of {len(x)} runs failed under {strategy}; no indices computed for it "
                  f"(see failures.csv). First error: {failed['error'].iloc[0]}", file=sys.stderr)
            continue
        for output in sens.outputs:
            df = analyse(sens, problem, x, frame[output].to_numpy())
            all_indices.append(df.assign(strategy=strategy, output=output))
        plot(sens, pd.concat([d for d in all_indices if d["strategy"].iloc[0] == strategy]), strategy, out)

    write_table(out / "samples.parquet", pd.concat(frames, ignore_index=True))
    indices = pd.concat(all_indices, ignore_index=True) if all_indices else pd.DataFrame()
    if not indices.empty:
        first = ["strategy", "output", "parameter"]
        indices = indices[first + [c for c in indices.columns if c not in first]]
        write_table(out / "indices.csv", indices)
    if failures:
        write_table(out / "failures.csv", pd.concat(failures, ignore_index=True))
    return indices


@hydra.main(version_base="1.3", config_path=str(check_config_dir()), config_name="config")
def main(cfg: DictConfig) -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)
    if cfg.get("sensitivity") is None:
        print("error: no sensitivity block in the config; run with experiment=sensitivity_morris or "
              "experiment=sensitivity_sobol (configs/experiment/)", file=sys.stderr)
        sys.exit(2)
    out = Path(cfg.sensitivity.output_dir or HydraConfig.get().runtime.output_dir)
    save_hydra_record(Path(HydraConfig.get().runtime.output_dir), cfg)  # Hydra's own no longer writes it
    try:
        indices = sensitivity(cfg, out)
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    if (out / "failures.csv").exists():
        sys.exit(1)
    with pd.option_context("display.width", 200, "display.max_columns", 12, "display.precision", 4):
        key = "mu_star" if cfg.sensitivity.method == "morris" else "ST"
        top = indices.sort_values(key, ascending=False).groupby(["strategy", "output"]).head(3)
        print(top.to_string(index=False))
    print(f"outputs: {out}")


if __name__ == "__main__":
    main()
