#!/usr/bin/env python
"""Speed and memory of the model: build time, run time, graduate-weeks per second and peak memory.

A script, not a test: it prints tables and exits 0 whether or not the speed targets are met.

    python benchmarks/bench_model.py                     # the workloads below, each engine given
    python benchmarks/bench_model.py --sizes 10000 --repeats 5 --strategy offer_all
    python benchmarks/bench_model.py --engine both       # and the reference engine, with the speed-up
    make bench

**Workloads** (the default): ``course_only`` and ``offer_all`` at 1,000, 2,000, 10,000 and
100,000 graduates x 104 weeks (1,000 and 2,000 are the sizes the PSA, the calibration and the main
comparison run; 10,000 is the speed target). Every workload is printed with its milliseconds per
run and graduate-weeks per second for each engine measured (``--engine``, any of
:class:`sim.engines.Engine` or ``both``), and with more than one engine, the ratio of each to the
vectorised engine in the same invocation: an engine added later is compared with today's by
naming both.

Each (engine, strategy, size) is measured in its own fresh Python process, so that the peak
resident memory of one (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, a high-water mark) is not
inflated by an earlier, larger one. ``ru_maxrss`` is used rather than ``tracemalloc`` because it
sees everything the process holds (numpy buffers, the Mesa agent objects, the interpreter and its
imports) and costs nothing, whereas ``tracemalloc`` slows down Python allocation (of which building
one Mesa agent per graduate does a lot) and would distort the very timings measured here. The peak
is taken after one build and one run; the import-only baseline of the same process is shown
alongside, so that the model's own share is the difference.

Times are wall-clock (``time.perf_counter``) over ``--repeats`` rounds: *build* is
``SelfManagementModel(...)`` (population, one Mesa agent per graduate, channels, the week-0
record), *run* is ``model.run()`` (every week, including the weekly record). The tables give the
best round (as before) and the median round (what to quote on a shared machine: one lucky or one
slow round does not move it). Throughput is graduate-weeks of run time per second, from the median.

The reference engine is skipped at a size where one build and run is estimated to take more than
``REFERENCE_LIMIT_S`` (about a minute): its time grows in proportion to graduates x weeks, so the
estimate scales the largest smaller size measured, or a short probe run (500 graduates, 10 weeks)
when there is none.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The target: 10,000 graduates x 104 weeks in at most 0.5 s of run time (``model.run()``).
TARGET_N, TARGET_WEEKS, TARGET_RUN_S = 10_000, 104, 0.5

#: The speed-up target of issue 4: the vectorised engine at least this many times faster than the
#: reference engine at ``TARGET_N`` graduates (run time).
TARGET_SPEEDUP = 50.0

STRATEGIES = ("course_only", "offer_all")
BASE_ENGINE = "vectorized"  # every other engine is compared with this one
DEFAULT_SIZES = (1_000, 2_000, 10_000, 100_000)
SMALL_SIZE_LIMIT = 10_000  # 5 rounds at or below this size, 1 above it (by default)
SMALL_SIZE_REPEATS = 5
REFERENCE_SMALL_SIZE_LIMIT = 1_000  # the reference engine: 3 rounds at or below this size, 1 above
REFERENCE_LIMIT_S = 60.0  # skip the reference engine where one build + run would take longer than this
PROBE_N, PROBE_WEEKS = 500, 10  # a short reference run to estimate its speed when nothing smaller ran


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


def measure(n: int, weeks: int, repeats: int, strategy_name: str, seed: int, engine: str = BASE_ENGINE) -> dict:
    """Build and run the model ``repeats`` times: best and median times (s), and the peak memory
    (MB) of the first round."""
    _import_sim()
    from sim.engines import model_class

    model_cls = model_class(engine)
    strategy = make_strategy(strategy_name)
    baseline_mb = _maxrss_mb()  # interpreter + numpy, scipy, pandas, mesa, sim
    builds, runs, run_cpus, peak_mb = [], [], [], None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        model = model_cls(n, weeks, strategy=strategy, rng=seed)
        t1 = time.perf_counter()
        c1 = time.process_time()
        model.run()
        t2 = time.perf_counter()
        c2 = time.process_time()
        if model.week != weeks:
            raise RuntimeError(f"model stopped at week {model.week}, expected {weeks}")
        builds.append(t1 - t0)
        runs.append(t2 - t1)
        run_cpus.append(c2 - c1)
        if peak_mb is None:
            peak_mb = _maxrss_mb()  # one build + one run, nothing else alive
        del model  # the agents and the model form reference cycles: collect before the next round
        gc.collect()
    totals = [b + r for b, r in zip(builds, runs)]
    return {
        "engine": engine,
        "strategy": strategy_name,
        "n": n,
        "weeks": weeks,
        "repeats": repeats,
        "build_s": min(builds),
        "run_s": min(runs),
        "run_median_s": statistics.median(runs),
        "run_cpu_s": min(run_cpus),  # CPU time of this process: less sensitive to other load
        "total_s": min(totals),
        "total_median_s": statistics.median(totals),
        "peak_mb": peak_mb,
        "baseline_mb": baseline_mb,
    }


def run_worker(args: argparse.Namespace) -> int:
    result = measure(args.worker, args.weeks, args.repeats or 1, args.strategy[0], args.seed, args.engine[0])
    print(json.dumps(result), flush=True)
    return 0


def measure_in_subprocess(n: int, repeats: int, args: argparse.Namespace, strategy: str, engine: str = BASE_ENGINE,
                          weeks: int | None = None) -> dict:
    """Measure size ``n`` in a fresh interpreter (same Python, same environment, same ``sim``)."""
    weeks = weeks or args.weeks
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--_worker", str(n),
        "--weeks", str(weeks), "--repeats", str(repeats), "--strategy", strategy,
        "--seed", str(args.seed), "--engine", engine,
    ]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        return {"engine": engine, "strategy": strategy, "n": n,
                "error": f"exit code {proc.returncode}" + (f": {tail}" if tail else "")}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def estimate_seconds(n: int, weeks: int, measured: list[dict]) -> float:
    """Estimated build + run time of the reference engine at ``n`` graduates (linear in n x weeks),
    from the largest size measured so far."""
    done = [r for r in measured if "error" not in r]
    base = max(done, key=lambda r: r["n"] * r["weeks"])
    return base["total_s"] * (n * weeks) / (base["n"] * base["weeks"])


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
        load_line(),
    ]


def load_line() -> str:
    """The load averages now (runnable processes, 1, 5 and 15 minutes): how shared the machine was."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load      unknown"
    return f"load      {one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min averages; {os.cpu_count()} CPUs)"


def _fmt_rate(x: float) -> str:
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.0f} k"


MODEL_CLASS = {"vectorized": "SelfManagementModel", "reference": "ReferenceModel"}


def model_class_name(engine: str) -> str:
    return MODEL_CLASS.get(engine, f"engine={engine}")


def rate(r: dict) -> float:
    """Graduate-weeks per second of a measured row, from its median run time."""
    seconds = r["run_median_s"]
    return r["n"] * r["weeks"] / seconds if seconds > 0 else float("inf")


def print_table(results: list[dict], args: argparse.Namespace) -> None:
    header = (
        f"{'graduates':>10} {'weeks':>5} {'reps':>4} {'build s':>8} {'run s':>8} {'run ms med':>10} "
        f"{'total s':>8} {'grad-wk/s':>10} {'peak MB':>8} {'import MB':>9} {'model MB':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        if "skipped" in r:
            print(f"{r['n']:>10,} {args.weeks:>5}  skipped: {r['skipped']}")
            continue
        if "error" in r:
            print(f"{r['n']:>10,} {args.weeks:>5}  FAILED: {r['error']}")
            continue
        print(
            f"{r['n']:>10,} {r['weeks']:>5} {r['repeats']:>4} {r['build_s']:>8.3f} {r['run_s']:>8.3f} "
            f"{1e3 * r['run_median_s']:>10.1f} {r['total_s']:>8.3f} {_fmt_rate(rate(r)):>10} {r['peak_mb']:>8.0f} "
            f"{r['baseline_mb']:>9.0f} {r['peak_mb'] - r['baseline_mb']:>8.0f}"
        )


def _ok(r: dict) -> bool:
    return "error" not in r and "skipped" not in r


def print_workloads(results: dict[str, dict[str, list[dict]]], args: argparse.Namespace) -> None:
    """One line per workload (strategy x graduates): each engine's median ms per run (model.run())
    and graduate-weeks per second, and with several engines each one's speed against the
    vectorised engine measured in the same invocation (its median run time over theirs)."""
    engines = list(results)
    print(f"workloads {args.weeks} weeks; ms/run = median of the rounds of model.run(); "
          "grad-wk/s = graduates x weeks / that")
    header = f"{'strategy':<12} {'graduates':>10}"
    for engine in engines:
        header += f" | {engine[:13]:>13} ms/run {'grad-wk/s':>9}"
        if engine != BASE_ENGINE and BASE_ENGINE in engines:
            header += f" {'x ' + BASE_ENGINE[:4]:>7}"
    print(header)
    print("-" * len(header))
    for strategy in args.strategy:
        for n in args.sizes:
            line = f"{strategy:<12} {n:>10,}"
            rows = {e: next((r for r in results[e][strategy] if r["n"] == n), None) for e in engines}
            base = rows.get(BASE_ENGINE)
            for engine, r in rows.items():
                compared = engine != BASE_ENGINE and BASE_ENGINE in engines
                if r is None or not _ok(r):
                    why = "skipped" if r is not None and "skipped" in r else "failed"
                    line += f" | {why:>20} {'':>9}" + (f" {'':>7}" if compared else "")
                    continue
                line += f" | {1e3 * r['run_median_s']:>20.1f} {_fmt_rate(rate(r)):>9}"
                if compared:
                    ratio = base["run_median_s"] / r["run_median_s"] if base is not None and _ok(base) else None
                    line += f" {ratio:>6.2f}x" if ratio is not None else f" {'':>7}"
            print(line)
    if len(engines) > 1 and BASE_ENGINE in engines:
        print(f"x {BASE_ENGINE[:4]} = an engine's speed relative to {BASE_ENGINE} in this invocation "
              f"({BASE_ENGINE}'s median run time / the engine's)")
    print()


def print_report(results: dict[str, dict[str, list[dict]]], args: argparse.Namespace) -> None:
    """The workloads, one table per engine and strategy, the speed target, and the speed-up where
    the reference engine ran too."""
    print_workloads(results, args)
    engines = list(results)
    for engine in engines:
        for strategy in args.strategy:
            print(f"engine    {engine} ({model_class_name(engine)}), strategy {strategy}")
            print_table(results[engine][strategy], args)
            print()
    built = " or ".join(f"{model_class_name(e)}(...)" for e in engines)
    print(f"build = {built} (one Mesa agent per graduate); run = model.run(); 'build s', 'run s' and")
    print("'total s' are the best of 'reps' rounds, 'run ms med' their median; grad-wk/s = graduates x weeks /")
    print("median run s; peak MB = ru_maxrss of a fresh process after imports + one build + one run;")
    print("import MB = the same process before building.")
    if "reference" in results:
        print(f"The reference engine is skipped where one build + run is estimated to take over "
              f"{REFERENCE_LIMIT_S:.0f} s.")
    print()
    target = f"{TARGET_N:,} graduates x {TARGET_WEEKS} weeks in at most {TARGET_RUN_S} s of run time (model.run())"
    print(f"target    {target}")
    if BASE_ENGINE not in results:
        print(f"result    not measured (the {BASE_ENGINE} engine did not run)")
    for strategy in args.strategy if BASE_ENGINE in results else ():
        hit = [r for r in results[BASE_ENGINE][strategy]
               if r.get("n") == TARGET_N and r.get("weeks") == TARGET_WEEKS and _ok(r)]
        if hit:
            run_s = hit[0]["run_s"]
            verdict = "PASS" if run_s <= TARGET_RUN_S else "MISS"
            print(f"result    {verdict}: {run_s:.3f} s ({strategy}, best of {hit[0]['repeats']})")
        else:
            print(f"result    not measured for {strategy} (needs --sizes including {TARGET_N} and --weeks "
                  f"{TARGET_WEEKS})")
    if BASE_ENGINE in results and "reference" in results:
        for strategy in args.strategy:
            print_speedup(results, args, strategy)


def print_speedup(results: dict[str, dict[str, list[dict]]], args: argparse.Namespace, strategy: str) -> None:
    """Reference run time over vectorised run time, at every size where both ran (wall clock, and
    CPU time of the measuring process, which other load on the machine disturbs less)."""
    reference = {r["n"]: r for r in results["reference"][strategy] if _ok(r)}
    pairs = [(v, reference[v["n"]]) for v in results[BASE_ENGINE][strategy] if _ok(v) and v["n"] in reference]
    print()
    print(f"speed-up  vectorized vs reference, {strategy}: reference run s / vectorized run s (model.run(), "
          "best rounds);")
    print("          wall clock, and CPU time of the measuring process")
    header = (f"{'graduates':>10} {'weeks':>5} {'vectorized s':>12} {'reference s':>12} {'speed-up':>9} "
              f"{'CPU: vect. s':>12} {'ref. s':>8} {'speed-up':>9}")
    print(header)
    print("-" * len(header))
    for v, r in pairs:
        print(f"{v['n']:>10,} {v['weeks']:>5} {v['run_s']:>12.3f} {r['run_s']:>12.3f} {r['run_s'] / v['run_s']:>8.1f}x "
              f"{v['run_cpu_s']:>12.3f} {r['run_cpu_s']:>8.3f} {r['run_cpu_s'] / v['run_cpu_s']:>8.1f}x")
    if not pairs:
        print("(no size where both engines ran)")
    print()
    print(f"target    vectorized at least {TARGET_SPEEDUP:.0f}x faster than reference at {TARGET_N:,} graduates "
          f"x {TARGET_WEEKS} weeks (run time)")
    hit = [(v, r) for v, r in pairs if v["n"] == TARGET_N and v["weeks"] == TARGET_WEEKS]
    if hit:
        v, r = hit[0]
        ratio, cpu_ratio = r["run_s"] / v["run_s"], r["run_cpu_s"] / v["run_cpu_s"]
        print(f"result    {'PASS' if ratio >= TARGET_SPEEDUP else 'MISS'}: {ratio:.1f}x wall clock "
              f"({'PASS' if cpu_ratio >= TARGET_SPEEDUP else 'MISS'}: {cpu_ratio:.1f}x CPU time; {strategy})")
    else:
        print(f"result    not measured (needs both engines at {TARGET_N:,} graduates and --weeks {TARGET_WEEKS})")


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


def engine_names() -> tuple[str, ...]:
    """The engines the measured ``sim`` has (:class:`sim.engines.Engine`), the vectorised one first."""
    _import_sim()
    from sim.engines import Engine

    # the batched engine advances many runs at once: benchmarks/bench_batched.py measures it
    names = [e.value for e in Engine if e.value != "batched"]
    return tuple(sorted(names, key=lambda e: e != BASE_ENGINE))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    engines = engine_names()
    parser = argparse.ArgumentParser(
        prog="bench_model.py",
        description=(
            "Benchmark the model: wall time (split into build and run), ms per run, graduate-weeks per "
            "second and peak memory for each strategy and number of graduates, for each engine, with "
            "each engine's speed against the vectorised one. Each (engine, strategy, size) runs in a "
            "fresh subprocess so that its peak memory (ru_maxrss) is its own. Target: "
            f"{TARGET_N:,} graduates x {TARGET_WEEKS} weeks in at most {TARGET_RUN_S} s of run time, and "
            f"(with --engine both) at least {TARGET_SPEEDUP:.0f}x faster than the reference engine there; "
            "PASS/MISS is printed, not enforced."
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
        help=f"rounds per size (default: {SMALL_SIZE_REPEATS} for sizes <= {SMALL_SIZE_LIMIT:,}, 1 above; "
             f"reference engine: 3 for sizes <= {REFERENCE_SMALL_SIZE_LIMIT:,}, 1 above)",
    )
    parser.add_argument(
        "--strategy", choices=STRATEGIES, nargs="+", default=list(STRATEGIES),
        help="course_only: no follow-on support; offer_all: peer group, telephone and online offered to all",
    )
    parser.add_argument("--seed", type=int, default=1, help="base seed of every run")
    parser.add_argument(
        "--engine", choices=(*engines, "both"), nargs="+", default=[BASE_ENGINE],
        help="engines to measure (sim.engines): vectorized: numpy over all graduates; reference: one agent "
             f"at a time (sim.reference), skipped where a run would take over {REFERENCE_LIMIT_S:.0f} s; "
             "both: vectorized and reference. With more than one, each is compared with vectorized. "
             "The batched engine (many runs at once): benchmarks/bench_batched.py",
    )
    parser.add_argument("--_worker", dest="worker", type=positive_int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    chosen = [e for name in args.engine for e in ((BASE_ENGINE, "reference") if name == "both" else (name,))]
    args.engine = list(dict.fromkeys(chosen))  # each once, in the order given
    args.strategy = list(dict.fromkeys(args.strategy))
    return args


def measure_engine(args: argparse.Namespace, engine: str, strategy: str) -> list[dict]:
    """Every size of one strategy on an engine that runs any size (all but the reference)."""
    results = []
    for n in args.sizes:
        repeats = args.repeats or (SMALL_SIZE_REPEATS if n <= SMALL_SIZE_LIMIT else 1)
        print(f"  measuring {engine}, {strategy}, {n:,} graduates x {args.weeks} weeks "
              f"({repeats} round{'s' * (repeats > 1)}) ...", file=sys.stderr, flush=True)
        results.append(measure_in_subprocess(n, repeats, args, strategy, engine))
    return results


def measure_reference(args: argparse.Namespace, strategy: str) -> list[dict]:
    """The reference engine, smallest size first, skipping sizes estimated to take too long."""
    by_n: dict[int, dict] = {}
    measured: list[dict] = []
    for n in sorted(set(args.sizes)):
        if not any(_ok(r) for r in measured):  # nothing to scale from yet: a short probe run
            print(f"  probing the reference engine ({PROBE_N:,} graduates x {PROBE_WEEKS} weeks) ...",
                  file=sys.stderr, flush=True)
            probe = measure_in_subprocess(PROBE_N, 1, args, strategy, "reference", weeks=PROBE_WEEKS)
            if not _ok(probe):
                by_n[n] = dict(probe, n=n)
                continue
            measured.append(probe)
        estimate = estimate_seconds(n, args.weeks, measured)
        if estimate > REFERENCE_LIMIT_S:
            by_n[n] = {"engine": "reference", "strategy": strategy, "n": n,
                       "skipped": f"estimated {estimate:,.0f} s for one build + run (over {REFERENCE_LIMIT_S:.0f} s)"}
            continue
        repeats = args.repeats or (3 if n <= REFERENCE_SMALL_SIZE_LIMIT else 1)
        print(f"  measuring the reference engine, {strategy}, {n:,} graduates x {args.weeks} weeks "
              f"({repeats} round{'s' * (repeats > 1)}, about {estimate * repeats:,.0f} s) ...",
              file=sys.stderr, flush=True)
        by_n[n] = measure_in_subprocess(n, repeats, args, strategy, "reference")
        measured.append(by_n[n])
    return [by_n[n] for n in args.sizes]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker is not None:
        return run_worker(args)

    names = " and ".join(model_class_name(e) for e in args.engine)
    print(f"bench_model: {names}, strategies {', '.join(args.strategy)}, {args.weeks} weeks, seed {args.seed}")
    for line in machine_lines():
        print(line)
    print(flush=True)

    results: dict[str, dict[str, list[dict]]] = {}
    for engine in args.engine:
        results[engine] = {s: measure_reference(args, s) if engine == "reference" else measure_engine(args, engine, s)
                           for s in args.strategy}
    print_report(results, args)
    print(f"\nat the end: {load_line()}")
    return 1 if any("error" in r for rows in results.values() for runs in rows.values() for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
