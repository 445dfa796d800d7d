#!/usr/bin/env python
"""Sweep throughput: the default comparison as a sweep, against the same runs called directly.

A script, not a test: it prints runs per second and whether the targets of issue 13 are met, and
exits 0 either way.

    python benchmarks/bench_sweep.py                       # 6 strategies x 30 replicates x 2,000 x 104
    python benchmarks/bench_sweep.py --replicates 10 --workers 1 2
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

Targets (issue 13, on the 2-core machine): the sweep on 2 workers in under 60 s, and within 1.5x
of *direct* (one process).
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


def direct(strategies: list[str], replicates: int, n: int, weeks: int) -> float:
    """Seconds to run every (strategy, replicate) in this process, configs composed once per strategy."""
    from omegaconf import OmegaConf

    from experiments.config import compose_config, params_of
    from sim.model import SelfManagementModel

    logging.getLogger("MESA").setLevel(logging.WARNING)
    configs = {s: OmegaConf.to_object(compose_config([f"strategy={s}", f"n_graduates={n}", f"weeks={weeks}"]))
               for s in strategies}
    SelfManagementModel.from_params(params_of(configs[strategies[0]], 0)).run()  # warm the caches
    started = time.perf_counter()
    for s in strategies:
        for r in range(replicates):
            SelfManagementModel.from_params(params_of(configs[s], r)).run().weekly_table()
    return time.perf_counter() - started


def sweep(sweep_dir: Path, strategies: list[str], replicates: int, n: int, weeks: int, workers: int) -> float:
    """Wall seconds of the sweep command, from the interpreter's start to its exit."""
    launcher = ["hydra/launcher=local", f"hydra.launcher.n_jobs={workers}"] if workers > 1 else []
    cmd = [sys.executable, "-m", "experiments.run", "-m", "experiment=compare_strategies",
           f"replicates={replicates}", f"n_graduates={n}", f"weeks={weeks}",
           f"hydra.sweeper.params.strategy='{','.join(strategies)}'", *launcher, f"hydra.sweep.dir={sweep_dir}"]
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"sweep failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


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
    args = parser.parse_args(argv)
    strategies = args.strategies.split(",")
    runs = len(strategies) * args.replicates
    print(f"{len(strategies)} strategies x {args.replicates} replicates = {runs} runs of "
          f"{args.n_graduates:,} graduates x {args.weeks} weeks; {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)

    rows = []
    base = direct(strategies, args.replicates, args.n_graduates, args.weeks)
    rows.append(("direct, one process (no files)", base))
    print(f"  direct: {base:.1f} s", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        for w in args.workers:
            sweep_dir = tmp / f"w{w}"
            seconds = sweep(sweep_dir, strategies, args.replicates, args.n_graduates, args.weeks, w)
            rows.append((f"sweep, {w} worker{'s' if w > 1 else ''}", seconds))
            print(f"  sweep, {w} workers: {seconds:.1f} s", flush=True)
            again = sweep(sweep_dir, strategies, args.replicates, args.n_graduates, args.weeks, w)
            rows.append((f"rerun, {w} worker{'s' if w > 1 else ''} (all skipped)", again))
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "experiments.collect", str(sweep_dir)], cwd=ROOT, check=True,
                       capture_output=True)
        rows.append(("collect (a fresh process)", time.perf_counter() - started))
        files = sum(1 for p in (sweep_dir / "runs").rglob("*") if p.is_file())
        print(f"  files per run: {files / runs:.1f}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\n{'':<38}{'seconds':>9}{'runs/s':>9}{'x direct':>10}")
    for label, seconds in rows:
        print(f"{label:<38}{seconds:>9.1f}{runs / seconds:>9.1f}{seconds / base:>10.2f}")
    two = [s for label, s in rows if label.startswith("sweep, 2 ")]
    if two:
        print(f"\ntarget: sweep on 2 workers under {TARGET_SECONDS:.0f} s: {two[0]:.1f} s "
              f"({'met' if two[0] < TARGET_SECONDS else 'NOT met'}); within {TARGET_RATIO}x of direct: "
              f"{two[0] / base:.2f}x ({'met' if two[0] <= TARGET_RATIO * base else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
