"""One run of the model from the command line.

    python -m experiments.run strategy=peer_group population=general_ltc n_graduates=2000 weeks=104 seed=7

Writes into Hydra's output folder (choose it with ``hydra.run.dir=...``): ``config.yaml`` (the
resolved config), ``weekly.parquet`` and ``weekly.csv`` (one row per week), ``graduates.parquet``
(one row per graduate), ``summary.json`` (main outcomes at 6, 12 and 24 months, costs, QALYs, the
seed, the package version, the config hash) and ``trajectories.png``. See ``--help``.
"""

from __future__ import annotations

import dataclasses
import enum
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
    config_texts,
    fix_seed,
    run_identity,
    save_hydra_record,
    to_params,
)
from experiments.outputs import EXIT_BAD_INPUT, EXIT_ERROR, atomic_path, summarise, write_json, write_manifest, write_table, write_text
from experiments.api import with_default_sweep_dir
from experiments.evaluate import Evaluation, evaluate
from experiments.sweeps.batches import run_batch
from experiments.sweeps.callback import pop_exit_code, remove_created
from sim.costs import SUPPORT_CATEGORIES
from sim.params import ModelParams, ParameterError


def run_one(cfg: DictConfig, out_dir: Path, overrides: list[str] | None = None,
            params: ModelParams | None = None, in_sweep: bool = False, evaluation: Evaluation | None = None,
            config_key=None) -> dict:
    """Validate ``cfg``, run the model it describes and write every output into ``out_dir``.

    ``evaluation``: the model of these very parameters already run (a sweep runs its runs' models
    together, :func:`experiments.sweeps.batches.run_batch`); used only if its parameters are
    ``params`` exactly, else the model is run here. ``config_key``: shared by the runs whose configs
    differ in ``replicate`` alone, whose config texts are then written once
    (:func:`experiments.config.config_texts`).

    ``manifest.json`` (every file's size and SHA-256) is written last: a run is finished when its
    manifest is there and every file still matches it. ``outputs.plot=null`` (the default) draws
    ``trajectories.png`` for a single run and not for the runs of a sweep.
    """
    if params is None:
        fix_seed(cfg, out_dir)  # seed=null: a concrete seed, recorded in config.yaml below
        params = to_params(cfg)  # raises ParameterError before any simulation
    identity = run_identity(params, cfg.engine)
    out_dir.mkdir(parents=True, exist_ok=True)
    composed_text, resolved_text, resolved = config_texts(cfg, config_key)
    hydra_record = save_hydra_record(out_dir, cfg, overrides if in_sweep else None, composed_text)
    # the resolved config, with the concrete seed, before the run: an interrupted run is repeatable
    write_text(out_dir / "config.yaml", resolved_text)
    run = evaluation if evaluation is not None and evaluation.params == params else evaluate(params, cfg.engine)
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
        "config_hash": config_hash(cfg, resolved),
        "identity": identity,
        "code_hash": config_module.code_hash(),
        "model_seconds": round(run.seconds, 3),
        # every value the run used, as it used them (a PSA's draws applied): what --replay runs again
        "parameters": _plain(dataclasses.asdict(params)),
    }
    write_json(out_dir / "summary.json", summary)
    write_manifest(out_dir, [*written, "summary.json"], identity)  # last: marks the run finished
    return summary


def _plain(data):
    """``data`` with every enum replaced by its value (for YAML)."""
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_plain(v) for v in data]
    return data.value if isinstance(data, enum.Enum) else data


def load_parameters(recorded: dict) -> ModelParams:
    """The :class:`ModelParams` a run recorded (``parameters`` of its ``summary.json``), validated."""
    from omegaconf import OmegaConf

    from sim.params import validate

    def keys_back(node):  # JSON made the year keys of costs.inflation_index text
        if isinstance(node, dict):
            return {int(k) if isinstance(k, str) and k.isdigit() else k: keys_back(v) for k, v in node.items()}
        return node

    data = OmegaConf.create(keys_back(recorded))
    return validate(OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(ModelParams), data)))


def replay(run_dir: Path, out_dir: Path | None = None) -> int:
    """Run a finished run again from what its folder recorded (``config.yaml``, and the
    ``parameters`` of ``summary.json``: every value it used, a PSA's draws included) into ``out_dir`` (default: a
    temporary folder, removed afterwards), and compare the outputs with the run's manifest: every
    file byte for byte (``summary.json`` without its timing, ``model_seconds``; Hydra's record
    ``.hydra/`` is not rewritten). Prints one line; returns the exit code (0 identical, 1 a file
    differs, 2 not a finished run, 4 the run's own files do not match its manifest)."""
    import json
    import shutil
    import tempfile

    from omegaconf import OmegaConf

    from experiments.config import RunConfig
    from experiments.outputs import EXIT_BAD_OUTPUT, EXIT_ERROR, OutputError, verify_run

    run_dir = Path(run_dir)
    try:
        manifest = verify_run(run_dir) if run_dir.is_dir() else None
    except OutputError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_OUTPUT
    if manifest is None:
        print(f"error: --replay {run_dir} is not allowed: must be the folder of a finished run (with its "
              "manifest.json)", file=sys.stderr)
        return EXIT_BAD_INPUT
    files = manifest["files"]
    cfg = OmegaConf.merge(OmegaConf.structured(RunConfig), OmegaConf.load(run_dir / "config.yaml"))
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    params = load_parameters(summary["parameters"]) if "parameters" in summary else None
    temporary = out_dir is None
    out = Path(tempfile.mkdtemp(prefix="replay-")) if temporary else Path(out_dir)
    try:
        if params is None:
            params = to_params(cfg)
        run_one(cfg, out, summary.get("overrides") or None, params, in_sweep="trajectories.png" not in files)
        for name in files:
            if name.startswith(".hydra/"):
                continue
            old, new = run_dir / name, out / name
            if name == "summary.json":
                same = {**summary, "model_seconds": None} == {
                    **json.loads(new.read_text(encoding="utf-8")), "model_seconds": None}
            else:
                same = new.is_file() and old.read_bytes() == new.read_bytes()
            if not same:
                print(f"error: the replay of {run_dir} differs in {name} (replayed into {out})", file=sys.stderr)
                temporary = False  # keep it to look at
                return EXIT_ERROR
    except ParameterError as err:
        print(f"error: {err} (recorded in {run_dir})", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        if temporary:
            shutil.rmtree(out, ignore_errors=True)
    compared = [n for n in files if not n.startswith(".hydra/")]
    print(f"replayed {run_dir}: {len(compared)} files identical"
          f"{' (summary.json but for its timing)' if 'summary.json' in compared else ''}"
          f"{'' if temporary else f'; outputs in {out}'}")
    return 0


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
    _STARTED.add("run")
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    overrides = list(hydra_cfg.overrides.task)
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    if hydra_cfg.mode == RunMode.MULTIRUN:  # a job of a sweep: a batch of runs (experiments.sweeps.batches)
        run_batch(cfg, out_dir, lambda c, d, p, o, e, k: run_one(c, d, o, p, in_sweep=True, evaluation=e, config_key=k))
        return
    try:
        summary = run_one(cfg, out_dir, overrides)
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        remove_created(out_dir)
        sys.exit(EXIT_BAD_INPUT)
    except ArithmeticError as err:  # the run is not finished (no manifest); the line names the measure
        from sim.core import NonFiniteOutput  # lazy: the model's modules load with it

        if not isinstance(err, NonFiniteOutput):
            raise
        print(f"error: {err} (outputs so far in {out_dir})", file=sys.stderr)
        sys.exit(EXIT_ERROR)
    _print_summary(summary, out_dir)


def print_help() -> None:
    """``--help``, written from ``configs/`` directly: Hydra's own help composes every config
    group's options (several seconds with this schema); this takes milliseconds."""
    import textwrap

    import yaml

    config_dir = check_config_dir()
    main_cfg = yaml.safe_load((config_dir / "config.yaml").read_text(encoding="utf-8"))
    help_cfg = main_cfg["hydra"]["help"]
    defaults = {k: v for d in main_cfg["defaults"] if isinstance(d, dict) for k, v in d.items()}
    lines = [help_cfg["header"].rstrip(), "", "== Configuration groups ==",
             "Choose one option of each group (group=option); * marks the default.", ""]
    # groups a run composes (area is read by the report only)
    for group in sorted(p for p in config_dir.iterdir() if p.is_dir() and p.name not in ("hydra", "area")):
        options = sorted(f.stem for f in group.glob("*.yaml"))
        lines += textwrap.wrap(f"{group.name}: " + ", ".join(o + ("*" if defaults.get(group.name) == o else "")
                                                          for o in options), 100, subsequent_indent="    ")
    launchers = sorted(f.stem for f in (config_dir / "hydra" / "launcher").glob("*.yaml"))
    lines.append(f"hydra/launcher: {', '.join(launchers)}, joblib, submitit_local, submitit_slurm "
                 "(default: one run after another)")
    lines += ["", "== Sweeps ==",
              "-m runs a sweep: an experiment's grid (or sampled design) of runs, in parallel with a launcher.",
              "Its folder is hydra.sweep.dir (default: outputs/sweeps/EXPERIMENT/OVERRIDES, named by the",
              "command); the same command resumes: finished runs are found and skipped.", "",
              "  python -m experiments.run -m experiment=compare_strategies replicates=10 \\",
              "      hydra/launcher=local hydra.sweep.dir=outputs/main", "",
              "On SLURM, hydra/launcher=slurm hydra.sweeper.detach=true submits the job array and exits;",
              "python -m experiments.collect SWEEP_DIR --wait aggregates once the jobs are done.", "",
              "Experiments (experiment=...):"]
    for path in sorted((config_dir / "experiment").glob("*.yaml")):
        what = next((line.lstrip("# ").strip() for line in path.read_text(encoding="utf-8").splitlines()
                     if line.startswith("#") and "@package" not in line), "")
        lines.append(f"  {path.stem}: {what}")
    lines += ["Then: python -m experiments.report SWEEP_DIR (the report; area.graduates_per_year=... for your area)."]
    lines += ["", "== Parameters ==",
              "Set any parameter by its dotted key, e.g. strategy.peer_group.interval_weeks=4 weeks=52. Top level:", ""]
    for key in ("n_graduates", "weeks", "seed", "replicate", "replicates", "engine"):
        lines.append(f"  {key}: {main_cfg.get(key)}")
    lines += ["", "Exit codes: 0 ok; 2 bad input (nothing written); 3 some runs of a sweep failed;"
              " 4 an output file is unreadable.", "", help_cfg["footer"].rstrip()]
    print("\n".join(lines))


#: Set once Hydra has composed the config and called the run (what fails after that is not bad input).
_STARTED: set[str] = set()


def _is_config_error(err: BaseException) -> bool:
    """Whether ``err`` is Hydra's or OmegaConf's complaint about the command line or a config file
    (a syntax error, an unknown option, a key not in the schema, a wrong type)."""
    from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException
    from omegaconf.errors import OmegaConfBaseException

    return isinstance(err, (ConfigCompositionException, MissingConfigException, OverrideParseException,
                            OmegaConfBaseException))


def _one_line(err: BaseException) -> str:
    """Hydra's message (and the OmegaConf error it wraps), as one line."""
    parts = []
    for e in (err, err.__cause__):
        if e is not None:
            lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
            key = next((line.partition(":")[2].strip() for line in lines if line.startswith("full_key:")), "")
            text = " ".join(line for line in lines if not line.startswith(
                ("full_key:", "object_type=", "reference_type=", "See https://")))
            if key:
                text += f" (key {key})"
            if text and text not in parts:
                parts.append(text)
    return ": ".join(parts) or type(err).__name__


class _config_errors_as_bad_input:
    """While Hydra composes the config (before the run starts), its composition and parse errors
    are bad input: one line and exit code 2, instead of Hydra's several lines and exit code 1.
    Hydra's own reporting (``run_and_report``) is wrapped for the duration; what fails once the
    run has started is reported by Hydra as before (exit code 1)."""

    def __enter__(self):
        import hydra._internal.utils as hydra_utils

        self._module, self._original = hydra_utils, hydra_utils.run_and_report
        original = self._original

        def run_and_report(func):
            try:
                return func()
            except Exception as err:  # noqa: BLE001 - sorted below
                if not _STARTED and _is_config_error(err):
                    print(f"error: {_one_line(err)}", file=sys.stderr)
                    sys.exit(EXIT_BAD_INPUT)

                def again():
                    raise err
                return original(again)

        hydra_utils.run_and_report = run_and_report
        return self

    def __exit__(self, *exc):
        self._module.run_and_report = self._original
        return False


def main() -> None:
    """The command: check the command line, run Hydra's main, exit with the README's exit code."""
    if any(a in ("--help", "-h") for a in sys.argv[1:]):
        print_help()
        return
    if sys.argv[1:2] == ["--replay"] or any(a.startswith("--replay=") for a in sys.argv[1:2]):
        args = sys.argv[2:] if sys.argv[1] == "--replay" else [sys.argv[1].partition("=")[2], *sys.argv[2:]]
        if len(args) not in (1, 3) or (len(args) == 3 and args[1] != "--out"):
            print("error: --replay takes a run's folder and, optionally, --out FOLDER "
                  "(python -m experiments.run --replay RUN_DIR [--out FOLDER])", file=sys.stderr)
            sys.exit(EXIT_BAD_INPUT)
        sys.exit(replay(Path(args[0]), Path(args[2]) if len(args) == 3 else None))
    # a sweep without hydra.sweep.dir: a folder named by the experiment and overrides, so that the
    # same command resumes (Hydra's default, a timestamped folder, never does)
    sys.argv[1:] = with_default_sweep_dir(sys.argv[1:])
    try:
        check_command_line(sys.argv[1:])
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    _STARTED.clear()
    with _config_errors_as_bad_input():
        _hydra_main()
    code = pop_exit_code()
    if code:
        sys.exit(code)


if __name__ == "__main__":
    main()
