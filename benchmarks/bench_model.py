#!/usr/bin/env python
"""Speed and memory of the model: build time, run time and peak memory for several sizes.

A script, not a test: it prints a table and exits 0 whether or not the speed target is met.

    python benchmarks/bench_model.py                     # N = 1,000 / 10,000 / 100,000 x 104 weeks
    python benchmarks/bench_model.py --sizes 10000 --repeats 5
    make bench

Each size is measured in its own fresh Python process, so that the peak resident memory of one size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, a high-water mark) is not inflated by an earlier,
larger one. ``ru_maxrss`` is used rather than ``tracemalloc`` because it sees everything the process
holds (numpy buffers, the Mesa agent objects, the interpreter and its imports) and costs nothing,
whereas ``tracemalloc`` slows down Python allocation (of which building one Mesa agent per graduate
does a lot) and would distort the very timings measured here. The peak is taken after one build and
one run; the import-only baseline of the same process is shown alongside, so that the model's own
share is the difference.

Times are wall-clock (``time.perf_counter``), best of ``--repeats``: *build* is
``SelfManagementModel(...)`` (population, one Mesa agent per graduate, channels, the first data
collection), *run* is ``model.run()`` (every week, including the weekly data collection).
Throughput is graduate-weeks of run time per second.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The target: 10,000 graduates x 104 weeks in at most 0.5 s of run time (``model.run()``).
TARGET_N, TARGET_WEEKS, TARGET_RUN_S = 10_000, 104, 0.5

STRATEGIES = ("course_only", "offer_all")
DEFAULT_SIZES = (1_000, 10_000, 100_000)
SMALL_SIZE_LIMIT = 10_000  # best of 3 at or below this size, 1 run above it (by default)


def _import_sim():
    """Import ``sim``; from a source tree that is not installed, from the repository root."""
    try:
        import sim
    except ModuleNotFoundError as exc:
        if exc.name != "sim":
            raise
        sys.path.insert(0, str(ROOT))
        import sim
    return sim


def make_strategy(name: str):
    """The strategy block for ``name``: ``course_only`` (no follow-on support) or ``offer_all``
    (peer group, telephone and online enabled, offered to everyone)."""
    from sim.params import Matching, OnlineParams, PeerGroupParams, StrategyParams, TelephoneParams

    if name == "course_only":
        return StrategyParams()
    if name == "offer_all":
        return StrategyParams(
            name="offer_all",
            label="Offer all: peer group, telephone and online",
            matching=Matching.offer_all,
            peer_group=PeerGroupParams(enabled=True),
            telephone=TelephoneParams(enabled=True),
            online=OnlineParams(enabled=True),
        )
    raise ValueError(f"unknown strategy {name!r}; choose from {STRATEGIES}")


# --- measuring one size (in a fresh process) ---------------------------------------------------


def _maxrss_mb() -> float:
    """Peak resident set size of this process so far, MB (ru_maxrss: KiB on Linux, bytes on macOS)."""
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


def measure(n: int, weeks: int, repeats: int, strategy_name: str, seed: int) -> dict:
    """Build and run the model ``repeats`` times; best times, and the peak memory of the first round."""
    _import_sim()
    from sim import SelfManagementModel

    strategy = make_strategy(strategy_name)
    baseline_mb = _maxrss_mb()  # interpreter + numpy, scipy, pandas, mesa, sim
    builds, runs, peak_mb = [], [], None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        model = SelfManagementModel(n, weeks, strategy=strategy, rng=seed)
        t1 = time.perf_counter()
        model.run()
        t2 = time.perf_counter()
        if model.week != weeks:
            raise RuntimeError(f"model stopped at week {model.week}, expected {weeks}")
        builds.append(t1 - t0)
        runs.append(t2 - t1)
        if peak_mb is None:
            peak_mb = _maxrss_mb()  # one build + one run, nothing else alive
        del model  # the agents and the model form reference cycles: collect before the next round
        gc.collect()
    totals = [b + r for b, r in zip(builds, runs)]
    return {
        "n": n,
        "weeks": weeks,
        "repeats": repeats,
        "build_s": min(builds),
        "run_s": min(runs),
        "total_s": min(totals),
        "peak_mb": peak_mb,
        "baseline_mb": baseline_mb,
    }


def run_worker(args: argparse.Namespace) -> int:
    result = measure(args.worker, args.weeks, args.repeats or 1, args.strategy, args.seed)
    print(json.dumps(result), flush=True)
    return 0


def measure_in_subprocess(n: int, repeats: int, args: argparse.Namespace) -> dict:
    """Measure size ``n`` in a fresh interpreter (same Python, same environment, same ``sim``)."""
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--_worker", str(n),
        "--weeks", str(args.weeks), "--repeats", str(repeats), "--strategy", args.strategy,
        "--seed", str(args.seed),
    ]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        return {"n": n, "error": f"exit code {proc.returncode}" + (f": {tail}" if tail else "")}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- the report -------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_lines() -> list[str]:
    import mesa
    import numpy as np

    sim = _import_sim()
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    now = _dt.datetime.now().astimezone()
    return [
        f"date      {now:%Y-%m-%d %H:%M:%S %Z}",
        f"machine   {platform.system()} {platform.release()} {platform.machine()}, CPU: {_cpu_model()}",
        f"CPUs      {cpus} ({usable} usable by this process)",
        f"python    {platform.python_version()} ({platform.python_implementation()}, {sys.executable})",
        f"numpy     {np.__version__}   mesa {mesa.__version__}",
        f"sim       {Path(sim.__file__).resolve().parent}",
    ]


def _fmt_rate(x: float) -> str:
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.0f} k"


def print_report(results: list[dict], args: argparse.Namespace) -> None:
    header = (
        f"{'graduates':>10} {'weeks':>5} {'reps':>4} {'build s':>8} {'run s':>8} {'total s':>8} "
        f"{'grad-wk/s (run)':>15} {'peak MB':>8} {'import MB':>9} {'model MB':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        if "error" in r:
            print(f"{r['n']:>10,} {args.weeks:>5}  FAILED: {r['error']}")
            continue
        rate = r["n"] * r["weeks"] / r["run_s"] if r["run_s"] > 0 else float("inf")
        print(
            f"{r['n']:>10,} {r['weeks']:>5} {r['repeats']:>4} {r['build_s']:>8.3f} {r['run_s']:>8.3f} "
            f"{r['total_s']:>8.3f} {_fmt_rate(rate):>15} {r['peak_mb']:>8.0f} {r['baseline_mb']:>9.0f} "
            f"{r['peak_mb'] - r['baseline_mb']:>8.0f}"
        )
    print()
    print("build = SelfManagementModel(...) (one Mesa agent per graduate); run = model.run();")
    print("times are the best of 'reps' rounds; grad-wk/s = graduates x weeks / run s; peak MB = ru_maxrss")
    print("of a fresh process after imports + one build + one run; import MB = the same process before building.")
    print()
    target = f"{TARGET_N:,} graduates x {TARGET_WEEKS} weeks in at most {TARGET_RUN_S} s of run time (model.run())"
    print(f"target    {target}")
    hit = [r for r in results if r.get("n") == TARGET_N and r.get("weeks") == TARGET_WEEKS and "error" not in r]
    if hit:
        run_s = hit[0]["run_s"]
        verdict = "PASS" if run_s <= TARGET_RUN_S else "MISS"
        print(f"result    {verdict}: {run_s:.3f} s ({args.strategy}, best of {hit[0]['repeats']})")
    else:
        print(f"result    not measured (needs --sizes including {TARGET_N} and --weeks {TARGET_WEEKS})")


def positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show defaults, except where there is none (the help text then says what happens)."""

    def _get_help_string(self, action):
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench_model.py",
        description=(
            "Benchmark the model: wall time (split into build and run), graduate-weeks per second and "
            "peak memory for each number of graduates. Each size runs in a fresh subprocess so that its "
            f"peak memory (ru_maxrss) is its own. Target: {TARGET_N:,} graduates x {TARGET_WEEKS} weeks "
            f"in at most {TARGET_RUN_S} s of run time; PASS/MISS is printed, not enforced."
        ),
        epilog=(
            "Exit status: 0 whether the target is met or missed; 1 if a size failed to run. "
            "To benchmark another copy of the package, put it first on PYTHONPATH; the 'sim' line of "
            "the header shows which one was measured."
        ),
        formatter_class=_HelpFormatter,
    )
    parser.add_argument(
        "--sizes", type=positive_int, nargs="+", default=list(DEFAULT_SIZES), metavar="N",
        help="numbers of graduates to benchmark, each in a fresh process (1_000 and 1,000 are accepted)",
    )
    parser.add_argument("--weeks", type=positive_int, default=104, help="weeks simulated per run")
    parser.add_argument(
        "--repeats", type=positive_int, default=None, metavar="K",
        help=f"rounds per size, best time kept (default: 3 for sizes <= {SMALL_SIZE_LIMIT:,}, 1 above)",
    )
    parser.add_argument(
        "--strategy", choices=STRATEGIES, default="offer_all",
        help="course_only: no follow-on support; offer_all: peer group, telephone and online offered to all",
    )
    parser.add_argument("--seed", type=int, default=1, help="base seed of every run")
    parser.add_argument("--_worker", dest="worker", type=positive_int, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker is not None:
        return run_worker(args)

    print(f"bench_model: SelfManagementModel, strategy {args.strategy}, {args.weeks} weeks, seed {args.seed}")
    for line in machine_lines():
        print(line)
    print(flush=True)

    results = []
    for n in args.sizes:
        repeats = args.repeats or (3 if n <= SMALL_SIZE_LIMIT else 1)
        print(f"  measuring {n:,} graduates x {args.weeks} weeks ({repeats} round{'s' * (repeats > 1)}) ...",
              file=sys.stderr, flush=True)
        results.append(measure_in_subprocess(n, repeats, args))
    print_report(results, args)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
