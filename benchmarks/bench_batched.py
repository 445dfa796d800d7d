#!/usr/bin/env python
"""Speed of the batched engine against the vectorised one, in the same process and the same minute.

A script, not a test: it prints a table and exits 0 whether or not the target is met.

    python benchmarks/bench_batched.py                       # offer_all, 100 runs of 1,000 x 104 weeks
    python benchmarks/bench_batched.py --runs 20 --graduates 2000 --strategy course_only --repeats 3

**Workload** (issue 25's): "one offer_all run of 1,000 graduates, as part of a batch of 100": one
:class:`sim.batched.BatchedModel` of ``--runs`` runs (the same parameters, seeds ``seed ..
seed + runs - 1``), against the same runs one after another with the vectorised engine
(:class:`sim.model.SelfManagementModel`, each built and run). Times are wall clock
(``time.perf_counter``): *run* is ``model.run()`` (every week and its record), *build* the
model's construction; per run = the batch's time / runs. The vectorised engine is measured on
``--single-runs`` of the runs (the median per run), so that a batch of 100 need not wait for 100
single runs. Graduate-weeks per second = graduates x weeks x runs / run seconds. Each round runs
the two engines alternately, so that load from other processes on a shared machine falls on both;
the median of ``--repeats`` rounds is printed, with the load average before and after.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_MS_PER_RUN = 15.0  # issue 25: one offer_all run of 1,000 graduates, as part of a batch of 100
STRATEGIES = ("course_only", "offer_all")


def strategy_params(name: str):
    """The strategy as ``configs/strategy/<name>.yaml`` gives it."""
    from experiments.config import load_strategy

    return load_strategy(name)


def measure(args: argparse.Namespace) -> dict[str, list[float]]:
    """Per round: batched build and run seconds per run, vectorised build and run seconds per run."""
    from sim.batched import BatchedModel
    from sim.calibrated import calibrated_dynamics
    from sim.model import SelfManagementModel
    from sim.params import ModelParams

    base = ModelParams(n_graduates=args.graduates, weeks=args.weeks, seed=args.seed,
                       strategy=strategy_params(args.strategy), dynamics=calibrated_dynamics())
    runs = [dataclasses.replace(base, seed=args.seed + k) for k in range(args.runs)]
    out: dict[str, list[float]] = {"batched_build": [], "batched_run": [], "vectorised_build": [],
                                   "vectorised_run": []}
    for round_ in range(args.repeats):
        print(f"  round {round_ + 1}/{args.repeats}: batched, {args.runs} runs ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        batch = BatchedModel(runs)
        t1 = time.perf_counter()
        batch.run()
        t2 = time.perf_counter()
        out["batched_build"].append((t1 - t0) / args.runs)
        out["batched_run"].append((t2 - t1) / args.runs)
        del batch
        print(f"  round {round_ + 1}/{args.repeats}: vectorised, {args.single_runs} runs ...", file=sys.stderr,
              flush=True)
        builds, runs_s = [], []
        for p in runs[:args.single_runs]:
            t0 = time.perf_counter()
            model = SelfManagementModel.from_params(p)
            t1 = time.perf_counter()
            model.run()
            builds.append(t1 - t0)
            runs_s.append(time.perf_counter() - t1)
        out["vectorised_build"].append(statistics.median(builds))
        out["vectorised_run"].append(statistics.median(runs_s))
    return out


def positive_int(text: str) -> int:
    value = int(text.replace("_", "").replace(",", ""))
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench_batched.py", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="The batched engine (one model, many runs) against the vectorised engine (one model per run): "
                    f"ms per run and graduate-weeks per second. Target: under {TARGET_MS_PER_RUN:g} ms per offer_all "
                    "run of 1,000 graduates x 104 weeks in a batch of 100 (printed, not enforced).")
    parser.add_argument("--strategy", choices=STRATEGIES, default="offer_all")
    parser.add_argument("--graduates", type=positive_int, default=1000, help="graduates per run")
    parser.add_argument("--weeks", type=positive_int, default=104)
    parser.add_argument("--runs", type=positive_int, default=100, help="runs in the batch")
    parser.add_argument("--single-runs", type=positive_int, default=10,
                        help="of them, how many the vectorised engine runs one by one (its median is used)")
    parser.add_argument("--repeats", type=positive_int, default=3, help="rounds; the median round is printed")
    parser.add_argument("--seed", type=int, default=1, help="the first run's seed (then seed + 1, ...)")
    args = parser.parse_args(argv)
    args.single_runs = min(args.single_runs, args.runs)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()
    figures = measure(args)
    load_after = os.getloadavg()
    med = {key: statistics.median(values) for key, values in figures.items()}
    gw = args.graduates * args.weeks
    print(f"bench_batched: {args.strategy}, {args.graduates:,} graduates x {args.weeks} weeks, a batch of "
          f"{args.runs} runs against {args.single_runs} vectorised runs, median of {args.repeats} rounds")
    print(f"machine   {os.cpu_count()} CPUs; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
          "(a shared machine: other load slows both engines alike, not their ratio)")
    print()
    header = f"{'engine':<12} {'build ms/run':>13} {'run ms/run':>11} {'grad-wk/s':>11} {'x vect.':>8}"
    print(header)
    print("-" * len(header))
    for engine in ("vectorised", "batched"):
        run_s = med[f"{engine}_run"]
        ratio = med["vectorised_run"] / run_s
        print(f"{engine:<12} {1e3 * med[f'{engine}_build']:>13.1f} {1e3 * run_s:>11.1f} {gw / run_s / 1e6:>10.2f}M "
              f"{ratio:>7.2f}x")
    print()
    batched_ms = 1e3 * med["batched_run"]
    print(f"target    one {args.strategy} run of {args.graduates:,} graduates x {args.weeks} weeks in a batch of "
          f"{args.runs}: < {TARGET_MS_PER_RUN:g} ms of run time (issue 25 asks it of offer_all, 1,000, 104, 100)")
    verdict = "PASS" if batched_ms < TARGET_MS_PER_RUN else "MISS"
    print(f"result    {verdict}: {batched_ms:.1f} ms per run ({med['vectorised_run'] / med['batched_run']:.2f}x the "
          "vectorised engine in this invocation)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
