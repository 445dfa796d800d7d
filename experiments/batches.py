"""Batched sweeps: many runs per Hydra job, each run still its own folder, identity and resume.

Composing this project's typed config costs about 0.3 s and a fresh process about 3 s of imports,
more than a run of 2,000 graduates (0.13 s). So a sweep does not give every run a Hydra job:

* the sweeper (``hydra_plugins/after_the_course``) checks every run (:func:`experiments.sweep.check_sweep`),
  skips those whose folder already holds a finished run of the same identity (milliseconds each:
  a manifest read and a few files hashed), and groups the rest into batches of runs that share their
  config-group choices (``strategy=peer_group``), see :func:`plan_batches`;
* it writes each batch's plan to ``SWEEP_DIR/batches/<k>/plan.json`` and launches one Hydra job per
  batch, with the batch's shared overrides and ``hydra.sweep.subdir=batches/<k>``;
* the job (:func:`run_batch`) composes once (Hydra did), derives each run's config by applying its
  own overrides (``replicate=3``) exactly as Hydra applies overrides, and runs it into
  ``SWEEP_DIR/runs/<overrides>``, the folder Hydra would have given it.

The batch size is chosen from the number of runs and workers (:func:`auto_batch_size`) or set with
``hydra.sweeper.batch_size=N``; ``batch_size=1`` is one run per Hydra job.
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from omegaconf import DictConfig

from experiments.outputs import read_json, write_json

#: The run folder of a sweep, as ``configs/config.yaml`` names it: by the run's own overrides, so
#: rerunning the same command finds the same folders whatever the launcher, batches and order.
RUN_SUBDIR = "runs/${hydra:job.override_dirname}"
BATCHES = "batches"
PLAN = "plan.json"

#: Batches per worker when the size is chosen automatically: enough that a slow batch does not keep
#: one worker busy long after the others finished, few enough that composing (0.3 s a job) is noise.
BATCHES_PER_WORKER = 4


@dataclass
class PlannedRun:
    """One run of a sweep: its overrides as Hydra gives them, split into config-group choices
    (composed once per batch) and values (applied per run), and its folder under ``runs/``."""

    overrides: list[str]
    groups: list[str]
    values: list[str]
    name: str
    identity: str | None = None  # None when seed=null: only the run itself can tell


@dataclass
class Batch:
    """Runs that one Hydra job runs one after another: ``job`` is what the launcher composes."""

    index: int
    job: list[str]
    runs: list[PlannedRun] = field(default_factory=list)

    def plan(self) -> dict:
        shared = set(self.job)
        return {"runs": [{"name": r.name, "overrides": r.overrides,
                          "values": [v for v in r.values if v not in shared]} for r in self.runs]}


def workers_of(launcher: DictConfig) -> int:
    """How many runs the launcher runs at once: joblib's ``n_jobs`` (-1 every core, -2 all but
    one...), submitit's ``array_parallelism``; 1 for Hydra's basic launcher (one after another)."""
    n_jobs = launcher.get("n_jobs")
    if isinstance(n_jobs, int) and not isinstance(n_jobs, bool) and n_jobs != 0:
        return n_jobs if n_jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    parallel = launcher.get("array_parallelism")
    if isinstance(parallel, int) and not isinstance(parallel, bool) and parallel > 0:
        return parallel
    return 1


def auto_batch_size(runs: int, workers: int) -> int:
    """Runs per batch: everything of one config-group choice in one job when runs go one after
    another; otherwise about ``BATCHES_PER_WORKER`` batches per worker."""
    if runs <= 0:
        return 1
    if workers <= 1:
        return runs
    return max(1, math.ceil(runs / (workers * BATCHES_PER_WORKER)))


def plan_batches(runs: list[PlannedRun], size: int) -> list[Batch]:
    """Group ``runs`` by their config-group choices, keeping the sweep's order, and split each group
    into near-equal batches of at most ``size`` runs. A batch's job holds the group choices and
    every value its runs share."""
    by_groups: dict[tuple[str, ...], list[PlannedRun]] = {}
    for run in runs:
        by_groups.setdefault(tuple(run.groups), []).append(run)
    batches: list[Batch] = []
    for groups, members in by_groups.items():
        parts = math.ceil(len(members) / max(1, size))
        for i in range(parts):
            chunk = members[i * len(members) // parts:(i + 1) * len(members) // parts]
            shared = [v for v in chunk[0].values if all(v in r.values for r in chunk[1:])]
            batches.append(Batch(len(batches), [*groups, *shared], chunk))
    return batches


def write_plans(sweep_dir: Path, batches: list[Batch]) -> list[list[str]]:
    """Write every batch's ``plan.json`` (atomically) and return the launcher's job list."""
    jobs = []
    for batch in batches:
        write_json(Path(sweep_dir) / BATCHES / str(batch.index) / PLAN, batch.plan())
        jobs.append([*batch.job, f"hydra.sweep.subdir={BATCHES}/{batch.index}"])
    return jobs


def is_batch_dir(out_dir: Path) -> bool:
    return Path(out_dir).parent.name == BATCHES and (Path(out_dir) / PLAN).is_file()


def run_batch(cfg: DictConfig, batch_dir: Path, run: Callable[..., Any]) -> list[str]:
    """Run every run of a batch's plan in this process (a Hydra job). ``cfg`` is the job's composed
    config; each run's config is a copy with the run's own overrides applied as Hydra applies them.
    ``run(cfg, out_dir, params, overrides)`` does one run. Returns the runs' statuses."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from experiments.sweep import run_in_sweep

    batch_dir = Path(batch_dir)
    plan = read_json(batch_dir / PLAN)
    sweep_dir = batch_dir.parent.parent
    parser = OverridesParser.create()
    statuses = []
    for entry in plan["runs"]:
        run_cfg = copy.deepcopy(cfg)
        if entry["values"]:
            # Hydra's own step from overrides to config (the same call its composition makes)
            ConfigLoaderImpl._apply_overrides_to_config(parser.parse_overrides(entry["values"]), run_cfg)
        statuses.append(run_in_sweep(run_cfg, sweep_dir / "runs" / entry["name"],
                                     lambda c, d, p, o=entry["overrides"]: run(c, d, p, o),
                                     overrides=entry["overrides"]))
    return statuses
