"""A Hydra sweeper that checks every run before the first starts and runs many runs per Hydra job.

Hydra's basic sweeper composes the config of every job twice (to check the batch, then in the
launcher), and gives every run a job of its own. Composing this project's typed config takes
0.1-0.3 s and a fresh worker 3 s of imports, more than a run of 2,000 graduates, so that capped a
sweep at a third of the model's speed. This sweeper

* composes once per distinct choice of config groups (``strategy=...``, ``population=...``),
  applies each run's other overrides to a copy and validates every run's parameters
  (:func:`experiments.sweeps.callback.check_sweep`): a bad value anywhere stops the sweep with one line and
  exit code 2 before anything is written;
* skips at once every run whose folder holds a finished run of the same identity;
* launches one Hydra job per batch of runs (:mod:`experiments.sweeps.batches`); with the in-process
  launcher, a batch's job config is a copy of the check's composition with the batch's folder set
  (:class:`ComposedOnce`), instead of a second composition.

Hydra only loads sweepers from the ``hydra_plugins`` package, hence this module's place.
"""

from __future__ import annotations

import copy
import re
import sys
import time
from pathlib import Path
from typing import Any, Optional

from hydra._internal.core_plugins.basic_launcher import BasicLauncher
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser


class ComposedOnce:
    """A sweep's config loader that composes each choice of config groups once (in one process).

    The check composes one config per choice of config groups (``strategy=...``); the launcher then
    asks for each batch's job config: the same overrides plus the batch's folder,
    ``hydra.sweep.subdir=batches/N``. That job config is the check's composition with the folder
    set and the override recorded in ``hydra.overrides.hydra``, which is what Hydra composes (a
    test compares the two on a real sweep), for a deep copy (a few milliseconds) instead of a
    composition (0.1-0.3 s). Any other request goes to Hydra's loader unchanged.
    """

    BATCH_FOLDER = re.compile(r"^hydra\.sweep\.subdir=(batches/\d+)$")

    def __init__(self, loader: Any) -> None:
        self._loader = loader
        self._composed: dict[tuple[str, ...], Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def load_sweep_config(self, master_config: Any, sweep_overrides: list[str]) -> Any:
        from omegaconf import OmegaConf, open_dict

        folders = [o for o in sweep_overrides if self.BATCH_FOLDER.match(o)]
        own = tuple(o for o in sweep_overrides if o not in folders)
        if len(folders) > 1 or (folders and sweep_overrides[-1] != folders[0]):
            return self._loader.load_sweep_config(master_config, list(sweep_overrides))
        if own not in self._composed:
            self._composed[own] = self._loader.load_sweep_config(master_config, list(own))
        config = copy.deepcopy(self._composed[own])
        OmegaConf.copy_cache(from_config=master_config, to_config=config)
        if folders:
            with open_dict(config):
                config.hydra.sweep.subdir = self.BATCH_FOLDER.match(folders[0]).group(1)
                config.hydra.overrides.hydra.append(folders[0])
        return config


class BatchedSweeper(BasicSweeper):
    """Hydra's basic sweeper (same grammar), validating every run up front, skipping finished runs
    and running ``batch_size`` runs per Hydra job (None: chosen from the runs and the workers)."""

    def __init__(self, max_batch_size: Optional[int] = None, params: Optional[dict[str, str]] = None,
                 batch_size: Optional[int] = None, design: Any = None, detach: Any = False) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.batch_size = batch_size
        self.design = design  # a sampled design crossed with the grid (experiments.sweeps.design)
        self.detach = detach  # submit to the cluster and return (experiments.sweeps.submit)

    def sweep(self, arguments: list[str]) -> Any:
        from hydra._internal.config_loader_impl import get_overrides_dirname
        from omegaconf import OmegaConf

        from experiments.sweeps.batches import RUN_SUBDIR, PlannedRun, auto_batch_size, plan_batches, workers_of, write_plans
        from experiments.outputs import EXIT_BAD_INPUT, write_text
        from experiments.sweeps.callback import CachedParser, append_progress, check_sweep, finished, start_sweep
        from sim.params import ParameterError

        assert self.config is not None and self.launcher is not None and self.hydra_context is not None
        context = self.hydra_context
        if isinstance(self.launcher, BasicLauncher) and not isinstance(context.config_loader, ComposedOnce):
            # in-process jobs: the launcher shares this context, so it reuses the check's compositions
            context.config_loader = ComposedOnce(context.config_loader)
        loader = self.hydra_context.config_loader
        params_conf = self._parse_config()
        params_conf.extend(arguments)
        parser = CachedParser(OverridesParser.create(config_loader=loader))
        self.overrides = self.split_arguments(parser.parse_overrides(params_conf), None)
        jobs = [list(job) for batch in self.overrides for job in batch]
        try:
            subdir = OmegaConf.to_container(self.config.hydra.sweep, resolve=False).get("subdir")
            if subdir != RUN_SUBDIR:
                raise ParameterError("hydra.sweep.subdir", subdir,
                                     f"must stay {RUN_SUBDIR}: a rerun finds each run's folder by its overrides")
            bs = self.batch_size
            if bs is not None and (isinstance(bs, bool) or not isinstance(bs, int) or bs < 1):
                raise ParameterError("hydra.sweeper.batch_size", bs, "must be a whole number >= 1, or null (automatic)")
            jobs = self._with_design(jobs)
            if self.detach is not False:
                from experiments.sweeps.submit import check_detach

                check_detach(self.detach, self.config.hydra.launcher)
            identities = check_sweep(self.config, jobs, loader, parser)
        except ParameterError as err:
            print(f"error: {err}", file=sys.stderr, flush=True)
            sys.exit(EXIT_BAD_INPUT)

        sweep_dir = Path(self.config.hydra.sweep.dir)
        naming = self.config.hydra.job.config.override_dirname
        planned = []
        for job, identity in zip(jobs, identities):
            parsed = parser.parse_overrides(job)
            groups = [o.input_line for o in parsed if loader.repository.group_exists(o.key_or_group)]
            name = get_overrides_dirname(parsed, exclude_keys=list(naming.exclude_keys),
                                         item_sep=naming.item_sep, kv_sep=naming.kv_sep)
            planned.append(PlannedRun(job, groups, [o for o in job if o not in groups], name, identity))

        info = start_sweep(sweep_dir, len(jobs), list(self.config.hydra.overrides.task))
        write_text(sweep_dir / "multirun.yaml", OmegaConf.to_yaml(self.config))
        started = time.perf_counter()
        done = [r for r in planned if r.identity and finished(sweep_dir / "runs" / r.name, r.identity)]
        if done:
            append_progress(sweep_dir, info["id"], "skipped", [(r.name, 0.0) for r in done])
            print(f"{len(done)} of {len(planned)} runs already finished, skipped "
                  f"({time.perf_counter() - started:.1f} s to check)", flush=True)
        skipped = {r.name for r in done}
        todo = [r for r in planned if r.name not in skipped]
        if not todo:
            return []
        workers, per_worker = workers_of(self.config.hydra.launcher)
        size = self.batch_size or auto_batch_size(len(todo), workers, per_worker)
        batches = plan_batches(todo, size)
        print(f"{len(todo)} runs in {len(batches)} jobs of up to {max(len(b.runs) for b in batches)} runs "
              f"({workers} at a time)", flush=True)
        jobs, returns = write_plans(sweep_dir, batches, info["id"]), []
        if self.detach:  # submit the array and leave: experiments.collect SWEEP_DIR --wait finishes it
            from experiments.sweeps.submit import submit_and_leave

            submit_and_leave(self.launcher, jobs, sweep_dir, info, len(todo))
            return []
        step = self.max_batch_size or len(jobs)  # Hydra's: how many jobs are handed to the launcher at a time
        for start in range(0, len(jobs), step):
            results = self.launcher.launch(jobs[start:start + step], initial_job_idx=start)
            for r in results:
                _ = r.return_value  # raises if the job itself raised
            returns.append(results)
        return returns

    def _with_design(self, jobs: list[list[str]]) -> list[list[str]]:
        """``jobs`` crossed with the points of ``hydra.sweeper.design``, if any (raises ParameterError)."""
        if not self.design:
            return jobs
        from omegaconf import OmegaConf

        from experiments.sweeps.design import cross

        priors = self.config.get("priors")
        node = OmegaConf.to_container(self.design, resolve=True) if OmegaConf.is_config(self.design) else self.design
        return cross(jobs, node, OmegaConf.to_container(priors, resolve=True) if priors is not None else None)
