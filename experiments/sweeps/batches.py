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
  ``SWEEP_DIR/runs/<overrides>``, the folder Hydra would have given it; the typed config is turned
  into parameter objects once per batch and per set of values other than the replicate.

The batch size is chosen from the number of runs and workers (:func:`auto_batch_size`) or set with
``hydra.sweeper.batch_size=N``; ``batch_size=1`` is one run per Hydra job.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from omegaconf import DictConfig, OmegaConf, open_dict

from experiments.outputs import BATCHES, PLAN, read_json, write_json

#: The run folder of a sweep, as ``configs/config.yaml`` names it: by the run's own overrides, so
#: rerunning the same command finds the same folders whatever the launcher, batches and order.
RUN_SUBDIR = "runs/${hydra:job.override_dirname}"

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


def workers_of(launcher: DictConfig) -> tuple[int, int]:
    """How many runs the launcher runs at once, and how many batches to give each worker.

    joblib (``n_jobs``: -1 every core, -2 all but one...) keeps its worker processes: about
    ``BATCHES_PER_WORKER`` batches each balance the load. submitit (``array_parallelism``) starts a
    fresh process per job, which imports the model (3-4 s): one batch per worker. Hydra's basic
    launcher runs jobs one after another in its own process: one worker.
    """
    n_jobs = launcher.get("n_jobs")
    if isinstance(n_jobs, int) and not isinstance(n_jobs, bool) and n_jobs != 0:
        return (n_jobs if n_jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + n_jobs)), BATCHES_PER_WORKER
    parallel = launcher.get("array_parallelism")
    if isinstance(parallel, int) and not isinstance(parallel, bool) and parallel > 0:
        return parallel, 1
    return 1, 1


def auto_batch_size(runs: int, workers: int, per_worker: int = BATCHES_PER_WORKER) -> int:
    """Runs per batch: about ``per_worker`` batches per worker; everything of one config-group
    choice in one job when runs go one after another (one worker)."""
    if runs <= 0:
        return 1
    if workers <= 1:
        return runs
    return max(1, math.ceil(runs / (workers * per_worker)))


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


def write_plans(sweep_dir: Path, batches: list[Batch], sweep_id: str | None = None) -> list[list[str]]:
    """Write every batch's ``plan.json`` (atomically) and return the launcher's job list.

    Each plan names the sweep it belongs to (``sweep_id``, as in ``sweep.json``), so that the runs
    a sweep launched can be told from those in an earlier sweep's leftover plans
    (:func:`experiments.outputs.planned_run_names`)."""
    jobs = []
    for batch in batches:
        write_json(Path(sweep_dir) / BATCHES / str(batch.index) / PLAN, {"sweep": sweep_id, **batch.plan()})
        jobs.append([*batch.job, f"hydra.sweep.subdir={BATCHES}/{batch.index}"])
    return jobs


#: Runs of a batch whose models are run together (:func:`experiments.evaluate.evaluate_many`)
#: before their folders are written: enough that the batched engine's weekly loop is shared by
#: many runs, few enough that their results (held until written) stay small.
RUNS_TOGETHER = 100


def run_batch(cfg: DictConfig, batch_dir: Path, run: Callable[..., Any]) -> list[str]:
    """Run every run of a batch's plan in this process (a Hydra job). ``cfg`` is the job's composed
    config; each run's own overrides are applied to it as Hydra applies them, and undone after the
    run (:func:`applied`). ``run(cfg, out_dir, params, overrides, evaluation, like)`` does one run
    (``evaluation``: its model already run, or None to run it; ``like``: a key its config shares
    with the runs that differ from it in ``replicate`` alone, :func:`experiments.config.config_texts`).
    Returns the runs' statuses.

    The runs go ``RUNS_TOGETHER`` at a time: first every one's parameters, and the models of those
    not finished yet run together (:func:`experiments.evaluate.evaluate_many`: batches of the
    batched engine, each run bit for bit the run alone); then each run in turn as before
    (:func:`~experiments.sweeps.callback.run_in_sweep`: skipped if finished, its folder written,
    its failure recorded). A run whose model failed in the first pass runs again alone in the
    second, so its failure is recorded as its own."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from experiments.sweeps.callback import CachedParser, run_in_sweep, watch_sweep

    watch_sweep()  # a worker whose sweep is killed ends, even while its runs' models run together
    batch_dir = Path(batch_dir)
    plan = read_json(batch_dir / PLAN)
    sweep_dir = batch_dir.parent.parent
    parser = CachedParser(OverridesParser.create())
    params_for = _ParamsOfBatch()
    entries = []
    for entry in plan["runs"]:
        parsed = parser.parse_overrides(entry["values"])
        signature = tuple(o.input_line for o in parsed if o.key_or_group != "replicate")
        entries.append((entry, parsed, sweep_dir / "runs" / entry["name"], signature,
                        lambda c, s=signature: params_for(c, s)))
    statuses = []
    for start in range(0, len(entries), RUNS_TOGETHER):
        chunk = entries[start:start + RUNS_TOGETHER]
        ready = _run_models(cfg, chunk)
        for i, (entry, parsed, out_dir, signature, params_of_run) in enumerate(chunk):
            def one(c, d, p, o, i=i, signature=signature):  # runs differing in replicate alone share a key
                return run(c, d, p, o, ready.pop(i, None), (str(batch_dir), signature, c.seed))

            with applied(cfg, parsed):
                statuses.append(run_in_sweep(cfg, out_dir, one, entry["overrides"], params_of_run))
    return statuses


def _run_models(cfg: DictConfig, chunk: list) -> dict[int, Any]:
    """The models of the runs of ``chunk`` that are not finished, run together: their position in
    the chunk -> :class:`~experiments.evaluate.Evaluation`. Left out (run alone later): finished
    runs, runs whose parameters fail, runs whose model failed, runs drawing their seed
    (``seed=null``), and every run of an engine other than ``batched`` (one run at a time)."""
    from experiments.config import run_identity
    from experiments.evaluate import evaluate_many
    from experiments.sweeps.callback import finished

    if cfg.engine != "batched":
        return {}
    todo: dict[int, Any] = {}
    for i, (_, parsed, out_dir, _, params_of_run) in enumerate(chunk):
        with applied(cfg, parsed):
            if cfg.seed is None:
                continue
            try:
                params = params_of_run(cfg)
                if not finished(out_dir, run_identity(params, cfg.engine)):
                    todo[i] = params
            except Exception:  # noqa: BLE001 - the run itself reports it, in its own folder
                continue
    if not todo:
        return {}
    results = evaluate_many(list(todo.values()), cfg.engine, errors="return")
    return {i: r for i, r in zip(todo, results) if not isinstance(r, Exception)}


_ABSENT = object()


@contextmanager
def applied(cfg: DictConfig, overrides: list) -> Iterator[DictConfig]:
    """``cfg`` with ``overrides`` (parsed Hydra overrides) applied by Hydra's own step from overrides
    to config, and everything they changed (and the seed, which ``seed=null`` fills in) put back
    afterwards: a run of a batch sees exactly the config Hydra would have composed for it alone,
    without a copy of the whole config per run (a deep copy costs more than 20 ms)."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    saved = []
    for o in overrides:
        value = OmegaConf.select(cfg, o.key_or_group, default=_ABSENT, throw_on_missing=False)
        saved.append((o.key_or_group, copy.deepcopy(value) if OmegaConf.is_config(value) else value))
    seed = cfg.seed
    try:
        ConfigLoaderImpl._apply_overrides_to_config(overrides, cfg)
        yield cfg
    finally:
        with open_dict(cfg):
            for key, value in reversed(saved):
                parent, _, leaf = key.rpartition(".")
                node = OmegaConf.select(cfg, parent) if parent else cfg
                if value is _ABSENT:
                    node.pop(leaf, None)
                else:
                    node[leaf] = value
            cfg.seed = seed


class _ParamsOfBatch:
    """Runs' validated parameters, converting the typed config to objects once per distinct set of
    overrides other than ``replicate`` (its ``signature``; the slow step), since the replicate only
    changes the seed and PSA draws, which :func:`~experiments.config.params_of` applies."""

    def __init__(self) -> None:
        self._runs: dict[tuple, Any] = {}
        self._params: dict[tuple, Any] = {}  # each run's, asked for twice (run_batch's two passes)

    def __call__(self, cfg: DictConfig, signature: tuple[str, ...]) -> Any:
        from experiments.config import check_keys, params_of

        key = (signature, cfg.seed)  # the base seed (drawn per run under seed=null) is in the object
        if key not in self._runs:
            check_keys(cfg)
            self._runs[key] = OmegaConf.to_object(cfg)
        run = (key, cfg.replicate)
        if run not in self._params:
            if len(self._params) >= 4 * RUNS_TOGETHER:
                self._params.clear()
            self._params[run] = params_of(self._runs[key], cfg.replicate)
        return self._params[run]
