#!/usr/bin/env python
"""Sweep throughput: the default comparison as a sweep, against the same runs called directly.

A script, not a test: it prints runs per second and whether the targets of issue 13 are met, and
exits 0 either way.

    python benchmarks/bench_sweep.py                       # 6 strategies x 30 replicates x 2,000 x 104
    python benchmarks/bench_sweep.py --replicates 10 --workers 1 2
    python benchmarks/bench_sweep.py --replicates 5 --workers 2 --main-replicates 10
    make bench-sweep

Measured, each wall-clock:

* **direct**: the same runs in this one process, the way a script would call the model: compose
  each strategy's config once, then for every run validate its parameters, build the model, run it
  and make its weekly table (``SelfManagementModel.from_params(params).run().weekly_table()``).
  No files, no imports (done before the clock starts): the floor a sweep can approach.
* **sweep, W workers**: ``python -m experiments.run -m experiment=compare_strategies`` with the
  same strategies, replicates and size, ``hydra/launcher=local hydra.launcher.n_jobs=W`` (W=1:
  Hydra's basic launcher, one process), into a fresh folder: everything a user waits for, from
  the interpreter's start to the aggregated tables, every run's files and manifest written.
* **rerun**: the same command again on the finished folder (every run skipped).
* **collect**: ``python -m experiments.collect`` on the finished folder (every manifest verified,
  every summary and weekly table read): what aggregation costs per run, beyond the runs.

* **main comparison** (``--main-replicates``, default 10; 0 leaves it out): the main job as
  ``make run`` runs it, ``experiment=compare_strategies replicates=R hydra/launcher=local`` (7
  strategies with no course, 2,000 graduates x 104 weeks, one worker per core), and the same runs
  called directly in one process.

Every row that runs the model prints graduate-weeks per second (runs x graduates x weeks / its
seconds, start-up and files included for a sweep), so that an engine is compared on the same
workloads: ``--engine vectorized OTHER`` runs each workload on each engine (``engine=...``) and
prints each one's speed against the vectorised engine measured in the same invocation.

Targets (issue 13, on the 2-core machine): the sweep on 2 workers in under 60 s, and within 1.5x
of *direct* (one process). Issue 25's target for the main comparison: under 6 s.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STRATEGIES = ("course_only", "peer_group", "telephone", "online", "offer_all", "tailored")
TARGET_SECONDS = 60.0
TARGET_RATIO = 1.5
MAIN_EXPERIMENT = "compare_strategies"  # what `make run` sweeps
MAIN_TARGET_SECONDS = 6.0  # issue 25: the main comparison, 70 runs, after the venv
BASE_ENGINE = "vectorized"


def engine_names() -> tuple[str, ...]:
    """The engines of ``sim`` (:class:`sim.engines.Engine`), the vectorised one first."""
    from sim.engines import Engine

    return tuple(sorted((e.value for e in Engine), key=lambda e: e != BASE_ENGINE))


def main_experiment() -> tuple[list[str], int, int]:
    """The strategies, graduates and weeks of the main comparison, read from its experiment file."""
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(ROOT / "configs" / "experiment" / f"{MAIN_EXPERIMENT}.yaml")
    strategies = [s.strip() for s in str(cfg.hydra.sweeper.params.strategy).split(",")]
    weeks = OmegaConf.load(ROOT / "configs" / "config.yaml").get("weeks", 104)
    return strategies, int(cfg.n_graduates), int(weeks)


def direct(strategies: list[str], replicates: int, n: int, weeks: int, engine: str = BASE_ENGINE) -> float:
    """Seconds to run every (strategy, replicate) in this process, configs composed once per strategy."""
    from omegaconf import OmegaConf

    from experiments.config import compose_config, params_of
    from sim.engines import model_class

    model_cls = model_class(engine)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    configs = {s: OmegaConf.to_object(compose_config([f"strategy={s}", f"n_graduates={n}", f"weeks={weeks}"]))
               for s in strategies}
    model_cls.from_params(params_of(configs[strategies[0]], 0)).run()  # warm the caches
    started = time.perf_counter()
    for s in strategies:
        for r in range(replicates):
            model_cls.from_params(params_of(configs[s], r)).run().weekly_table()
    return time.perf_counter() - started


def _run(cmd: list[str]) -> float:
    """Wall seconds of a command, from the interpreter's start to its exit; stops the script if it fails."""
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"sweep failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


def sweep(sweep_dir: Path, strategies: list[str], replicates: int, n: int, weeks: int, workers: int,
          engine: str = BASE_ENGINE) -> float:
    """Wall seconds of the sweep command, from the interpreter's start to its exit."""
    launcher = ["hydra/launcher=local", f"hydra.launcher.n_jobs={workers}"] if workers > 1 else []
    cmd = [sys.executable, "-m", "experiments.run", "-m", f"experiment={MAIN_EXPERIMENT}",
           f"replicates={replicates}", f"n_graduates={n}", f"weeks={weeks}", f"engine={engine}",
           f"hydra.sweeper.params.strategy='{','.join(strategies)}'", *launcher, f"hydra.sweep.dir={sweep_dir}"]
    return _run(cmd)


def main_sweep(sweep_dir: Path, replicates: int, engine: str = BASE_ENGINE) -> float:
    """Wall seconds of the main job as ``make run`` runs it (without the report)."""
    return _run([sys.executable, "-m", "experiments.run", "-m", f"experiment={MAIN_EXPERIMENT}",
                 f"replicates={replicates}", f"engine={engine}", "hydra/launcher=local",
                 f"hydra.sweep.dir={sweep_dir}"])


class Row:
    """One measured line: what ran, on which engine, its seconds, and how many runs of what size."""

    def __init__(self, label: str, engine: str, seconds: float, runs: int, graduate_weeks: int | None,
                 workload: str):
        self.label, self.engine, self.seconds, self.runs = label, engine, seconds, runs
        self.graduate_weeks = graduate_weeks  # None: the row runs no model (rerun, collect)
        self.workload = workload  # rows of one workload share their direct baseline
        self.is_direct = label.startswith("direct")


def _fmt_rate(x: float) -> str:
    """Graduate-weeks per second, in millions (M) or thousands (k)."""
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.0f} k"


def print_rows(rows: list[Row], engines: list[str]) -> None:
    """The table: seconds, runs and graduate-weeks per second, against direct (the same workload and
    engine in one process), and with several engines against the vectorised one."""
    several = len(engines) > 1
    width = max(len(f"{r.label} [{r.engine}]" if several else r.label) for r in rows) + 2
    head = f"{'':<{width}}{'seconds':>9}{'runs/s':>9}{'grad-wk/s':>11}{'x direct':>10}"
    print("\n" + head + (f"{'x ' + BASE_ENGINE[:4]:>8}" if several else ""))
    for r in rows:
        base = next((b for b in rows if b.is_direct and b.workload == r.workload and b.engine == r.engine), None)
        same = next((b for b in rows if b.label == r.label and b.workload == r.workload and b.engine == BASE_ENGINE),
                    None)
        label = f"{r.label} [{r.engine}]" if several else r.label
        rate = _fmt_rate(r.graduate_weeks / r.seconds) if r.graduate_weeks else ""
        ratio = f"{r.seconds / base.seconds:.2f}" if base is not None and r.graduate_weeks else ""
        line = f"{label:<{width}}{r.seconds:>9.2f}{r.runs / r.seconds:>9.1f}{rate:>11}{ratio:>10}"
        if several and same is not None and r.engine != BASE_ENGINE:
            line += f"{same.seconds / r.seconds:>7.2f}x"
        print(line)
    if several:
        print(f"x {BASE_ENGINE[:4]}: the engine's speed relative to {BASE_ENGINE} on the same line "
              f"({BASE_ENGINE}'s seconds / its seconds)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicates", type=int, default=30, help="replicates per strategy (default 30)")
    parser.add_argument("--n-graduates", type=int, default=2000, help="graduates per run (default 2,000)")
    parser.add_argument("--weeks", type=int, default=104, help="weeks per run (default 104)")
    parser.add_argument("--strategies", default=",".join(STRATEGIES),
                        help="comma-separated strategies (default: the six support strategies)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="sweep with each number of workers (default: 1 2)")
    parser.add_argument("--main-replicates", type=int, default=10,
                        help=f"replicates of the main comparison (experiment={MAIN_EXPERIMENT} as `make run` runs "
                             "it, and directly in one process; default 10); 0 leaves it out")
    parser.add_argument("--engine", nargs="+", default=[BASE_ENGINE], choices=engine_names(),
                        help=f"engines to measure every workload on (default {BASE_ENGINE}); with more than one, "
                             f"each is compared with {BASE_ENGINE}")
    args = parser.parse_args(argv)
    for name in ("replicates", "n_graduates", "weeks"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.main_replicates < 0:
        parser.error(f"--main-replicates must be 0 (leave it out) or more, got {args.main_replicates}")
    if any(w < 1 for w in args.workers):
        parser.error(f"--workers must each be at least 1, got {args.workers}")
    engines = list(dict.fromkeys(args.engine))
    strategies = args.strategies.split(",")
    runs = len(strategies) * args.replicates
    gw = runs * args.n_graduates * args.weeks
    print(f"{len(strategies)} strategies x {args.replicates} replicates = {runs} runs of "
          f"{args.n_graduates:,} graduates x {args.weeks} weeks; {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)

    rows: list[Row] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        for engine in engines:
            workload = "comparison"
            base = direct(strategies, args.replicates, args.n_graduates, args.weeks, engine)
            rows.append(Row("direct, one process (no files)", engine, base, runs, gw, workload))
            print(f"  direct [{engine}]: {base:.1f} s", flush=True)
            for w in args.workers:
                sweep_dir = tmp / f"{engine}-w{w}"
                seconds = sweep(sweep_dir, strategies, args.replicates, args.n_graduates, args.weeks, w, engine)
                rows.append(Row(f"sweep, {w} worker{'s' if w > 1 else ''}", engine, seconds, runs, gw, workload))
                print(f"  sweep, {w} workers [{engine}]: {seconds:.1f} s", flush=True)
                again = sweep(sweep_dir, strategies, args.replicates, args.n_graduates, args.weeks, w, engine)
                rows.append(Row(f"rerun, {w} worker{'s' if w > 1 else ''} (all skipped)", engine, again, runs, None,
                                workload))
            if args.workers:
                started = time.perf_counter()
                subprocess.run([sys.executable, "-m", "experiments.collect", str(sweep_dir)], cwd=ROOT, check=True,
                               capture_output=True)
                rows.append(Row("collect (a fresh process)", engine, time.perf_counter() - started, runs, None,
                                workload))
                files = sum(1 for p in (sweep_dir / "runs").rglob("*") if p.is_file())
                print(f"  files per run: {files / runs:.1f}", flush=True)
            if args.main_replicates:
                main_strategies, main_n, main_weeks = main_experiment()
                main_runs = len(main_strategies) * args.main_replicates
                main_gw = main_runs * main_n * main_weeks
                label = f"main comparison ({main_runs} runs of {main_n:,} x {main_weeks})"
                seconds = direct(main_strategies, args.main_replicates, main_n, main_weeks, engine)
                rows.append(Row("direct, " + label, engine, seconds, main_runs, main_gw, "main"))
                seconds = main_sweep(tmp / f"{engine}-main", args.main_replicates, engine)
                rows.append(Row("sweep, " + label, engine, seconds, main_runs, main_gw, "main"))
                print(f"  main comparison [{engine}]: {seconds:.1f} s", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print_rows(rows, engines)
    two = [r.seconds for r in rows if r.label.startswith("sweep, 2 ") and r.engine == engines[0]]
    if two:
        base = next(r.seconds for r in rows if r.is_direct and r.workload == "comparison" and r.engine == engines[0])
        print(f"\ntarget: sweep on 2 workers under {TARGET_SECONDS:.0f} s: {two[0]:.1f} s "
              f"({'met' if two[0] < TARGET_SECONDS else 'NOT met'}); within {TARGET_RATIO}x of direct: "
              f"{two[0] / base:.2f}x ({'met' if two[0] <= TARGET_RATIO * base else 'NOT met'})")
    for r in rows:
        if r.workload == "main" and r.label.startswith("sweep"):
            print(f"target: main comparison under {MAIN_TARGET_SECONDS:.0f} s [{r.engine}]: {r.seconds:.1f} s "
                  f"({'met' if r.seconds < MAIN_TARGET_SECONDS else 'NOT met'})")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
