"""One run of the model from the command line.

    python -m experiments.run strategy=peer_group population=general_ltc n_graduates=2000 weeks=104 seed=7

Writes into Hydra's output folder (choose it with ``hydra.run.dir=...``): ``config.yaml`` (the
resolved config), ``weekly.parquet`` and ``weekly.csv`` (one row per week), ``graduates.parquet``
(one row per graduate), ``summary.json`` (main outcomes at 6, 12 and 24 months, costs, QALYs, the
seed, the package version, the config hash) and ``trajectories.png``. See ``--help``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

import sim
from experiments import config as config_module
from experiments.config import (
    check_command_line,
    check_config_dir,
    config_hash,
    fix_seed,
    run_identity,
    save_hydra_record,
    to_params,
)
from experiments.outputs import EXIT_BAD_INPUT, atomic_path, summarise, write_json, write_manifest, write_table, write_text, yaml_text
from experiments.evaluate import evaluate
from experiments.sweeps.batches import run_batch
from experiments.sweeps.callback import pop_exit_code, remove_created
from sim.costs import SUPPORT_CATEGORIES
from sim.params import ModelParams, ParameterError


def run_one(cfg: DictConfig, out_dir: Path, overrides: list[str] | None = None,
            params: ModelParams | None = None, in_sweep: bool = False) -> dict:
    """Validate ``cfg``, run the model it describes and write every output into ``out_dir``.

    ``manifest.json`` (every file's size and SHA-256) is written last: a run is finished when its
    manifest is there and every file still matches it. ``outputs.plot=null`` (the default) draws
    ``trajectories.png`` for a single run and not for the runs of a sweep.
    """
    if params is None:
        fix_seed(cfg, out_dir)  # seed=null: a concrete seed, recorded in config.yaml below
        params = to_params(cfg)  # raises ParameterError before any simulation
    identity = run_identity(params, cfg.engine)
    out_dir.mkdir(parents=True, exist_ok=True)
    hydra_record = save_hydra_record(out_dir, cfg, overrides if in_sweep else None)
    # the resolved config, with the concrete seed, before the run: an interrupted run is repeatable
    write_text(out_dir / "config.yaml", yaml_text(cfg, resolve=True))
    run = evaluate(params, cfg.engine)
    written = [*hydra_record, "config.yaml", "weekly.parquet"]
    weekly = run.weekly
    write_table(out_dir / "weekly.parquet", weekly)
    if cfg.outputs.csv:
        write_table(out_dir / "weekly.csv", weekly)
        written.append("weekly.csv")
    if cfg.outputs.graduates:
        write_table(out_dir / "graduates.parquet", run.graduates)
        written.append("graduates.parquet")
    if cfg.outputs.plot or (cfg.outputs.plot is None and not in_sweep):
        from experiments.plots import plot_trajectories  # lazy: matplotlib only when plotting

        written.append("trajectories.png")
        title = f"{params.strategy.label} - {params.population.label} ({params.n_graduates:,} graduates)"
        fig = plot_trajectories(weekly, title, params.dynamics.measurement.responder_threshold_sd)
        with atomic_path(out_dir / "trajectories.png") as tmp:
            fig.savefig(tmp, dpi=110, format="png")
    summary = {
        "strategy": params.strategy.name,
        "population": params.population.name,
        "n_graduates": params.n_graduates,
        "weeks": params.weeks,
        **summarise(weekly, params.weeks),
        "reached": run.reach(),  # share with any contact with follow-on support, by subgroup
        "seed": run.model.seed,
        "base_seed": cfg.seed,
        "replicate": cfg.replicate,
        "overrides": list(overrides or []),
        "package_version": sim.__version__,
        "config_hash": config_hash(cfg),
        "identity": identity,
        "code_hash": config_module.code_hash(),
        "model_seconds": round(run.seconds, 3),
    }
    write_json(out_dir / "summary.json", summary)
    write_manifest(out_dir, [*written, "summary.json"], identity)  # last: marks the run finished
    return summary


def _print_summary(summary: dict, out_dir: Path) -> None:
    print(f"{summary['strategy']} on {summary['population']}: {summary['n_graduates']:,} graduates, "
          f"{summary['weeks']} weeks, seed {summary['seed']} ({summary['model_seconds']:.2f} s)")
    for week, row in summary["outcomes"].items():
        print(f"  {week:>8}: mean gain {row['mean_gain_sd']:.3f} SD, "
              f"{100 * row['share_self_managing']:.1f}% self-managing")
    costs = summary["cost_per_graduate_gbp"]
    print(f"  cost per graduate GBP {costs['total']:.0f} (follow-on support "
          f"{sum(costs[c] for c in SUPPORT_CATEGORIES):.0f}), "
          f"QALYs gained per graduate {summary['qalys_gained_per_graduate']:.4f}")
    print(f"outputs: {out_dir}")


@hydra.main(version_base="1.3", config_path=str(check_config_dir()), config_name="config")
def _hydra_main(cfg: DictConfig) -> None:
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    overrides = list(hydra_cfg.overrides.task)
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    if hydra_cfg.mode == RunMode.MULTIRUN:  # a job of a sweep: a batch of runs (experiments.sweeps.batches)
        run_batch(cfg, out_dir, lambda c, d, p, o: run_one(c, d, o, p, in_sweep=True))
        return
    try:
        summary = run_one(cfg, out_dir, overrides)
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        remove_created(out_dir)
        sys.exit(EXIT_BAD_INPUT)
    _print_summary(summary, out_dir)


def print_help() -> None:
    """``--help``, written from ``configs/`` directly: Hydra's own help composes every config
    group's options (several seconds with this schema); this takes milliseconds."""
    import yaml

    config_dir = check_config_dir()
    main_cfg = yaml.safe_load((config_dir / "config.yaml").read_text(encoding="utf-8"))
    help_cfg = main_cfg["hydra"]["help"]
    defaults = {k: v for d in main_cfg["defaults"] if isinstance(d, dict) for k, v in d.items()}
    lines = [help_cfg["header"].rstrip(), "", "== Configuration groups ==",
             "Choose one option of each group (group=option); * marks the default.", ""]
    for group in sorted(p for p in config_dir.iterdir() if p.is_dir() and p.name != "hydra"):
        options = sorted(f.stem for f in group.glob("*.yaml"))
        lines.append(f"{group.name}: " + ", ".join(o + ("*" if defaults.get(group.name) == o else "") for o in options))
    launchers = sorted(f.stem for f in (config_dir / "hydra" / "launcher").glob("*.yaml"))
    lines.append(f"hydra/launcher: {', '.join(launchers)}, joblib, submitit_local, submitit_slurm "
                 "(default: one run after another)")
    lines += ["", "== Parameters ==",
              "Set any parameter by its dotted key, e.g. strategy.peer_group.interval_weeks=4 weeks=52. Top level:", ""]
    for key in ("n_graduates", "weeks", "seed", "replicate", "replicates", "engine"):
        lines.append(f"  {key}: {main_cfg.get(key)}")
    lines += ["", "Exit codes: 0 ok; 2 bad input (nothing written); 3 some runs of a sweep failed;"
              " 4 an output file is unreadable.", "", help_cfg["footer"].rstrip()]
    print("\n".join(lines))


def main() -> None:
    """The command: check the command line, run Hydra's main, exit with the README's exit code."""
    if any(a in ("--help", "-h") for a in sys.argv[1:]):
        print_help()
        return
    try:
        check_command_line(sys.argv[1:])
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    _hydra_main()
    code = pop_exit_code()
    if code:
        sys.exit(code)


if __name__ == "__main__":
    main()
