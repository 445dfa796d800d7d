#!/usr/bin/env python
"""The project's analysis workloads as whole commands, each on two engines in the same invocation.

A script, not a test: it prints one table and exits 0 whether or not the targets are met (2 if the
workloads' configs do not compose with the given overrides).

    python benchmarks/bench_workloads.py                        # every workload, quick sizes
    python benchmarks/bench_workloads.py --full                 # the sizes the targets are set for
    python benchmarks/bench_workloads.py --workloads main memory --graduates 20000
    python benchmarks/bench_workloads.py --workloads psa --extra n_graduates=100 weeks=10   # tiny runs
    python benchmarks/bench_workloads.py --workloads psa sobol --extra weeks=10 sobol:sensitivity.week=10

**What is timed.** Each workload is one command, started as a fresh subprocess (this interpreter,
``cwd`` the repository root, ``PYTHONPATH`` the root), once per engine: ``engine=vectorized`` (one
run at a time) and ``engine=batched`` (many runs of the sweep or analysis in one model; the
default), which give bit for bit the same numbers. Seconds are wall clock (``time.perf_counter``)
from the interpreter's start to its exit: imports, config composition, every run, every file
written and the aggregation, everything a user waits for. Each command writes into a fresh
temporary folder (removed afterwards unless ``--keep``), its stdout and stderr into a log file
beside it. The engines run one after the other, workload by workload, so that load from other
processes on a shared machine falls on both alike.

**Workloads** (quick size, then ``--full``):

* ``main``: ``python -m experiments.run -m experiment=compare_strategies replicates=10
  hydra/launcher=local``: 7 strategies x 10 replicates of 2,000 graduates x 104 weeks, as ``make
  run`` runs it (the same at both sizes). Target < 6 s.
* ``psa``: ``python -m experiments.run -m experiment=psa replicates=R n_graduates=2000
  hydra/launcher=local``: 6 strategies x R parameter draws (R = 100; 1,000) of 2,000 x 104.
  Target < 150 s.
* ``sobol``: ``python -m experiments.sensitivity analysis=sensitivity_sobol
  sensitivity.base_samples=N`` (N = 64; 1,024): strategies x N x (2 D + 2) runs (D parameters; N x
  (D + 2) without second-order indices) of 1,000 x 52. Target < 300 s.
* ``calibration``: ``python -m experiments.calibrate analysis=calibrate calibration.jobs=2`` from
  nothing (a fresh ``calibration.runs_dir``); quick: a quarter of the waves, noise points and
  posterior checks of ``configs/analysis/calibrate.yaml``. Its posterior, calibrated defaults and
  report are written into the temporary folder too: by default they would overwrite
  ``docs/calibration/`` and ``configs/dynamics/calibrated.yaml``. Its runs are counted from its log
  (the "N of M runs to do" lines: points, each running every arm the targets need). Target < 300 s.
* ``memory``: the peak resident memory (``VmHWM``, MB = 2**20 bytes) of a fresh process that builds
  and runs one model of ``--graduates`` (1,000,000) x 104 weeks under offer_all (``ModelParams``
  with the calibrated dynamics, as ``bench_batched.py``): ``BatchedModel.from_params`` (a batch of
  one) or ``SelfManagementModel.from_params``. The interpreter and its imports count. Target
  < 450 MB.

**Columns.** Per engine its seconds (MB for memory); the ratio of the first engine's figure to each
other's (with the default engines, vectorized / batched: the batched engine's speed-up, or its
memory saving); graduate-weeks per second per engine (runs x graduates x weeks / the command's
seconds, start-up and files included); the target, and the batched figure against it (met or
MISSED; failed if a command failed) where the workload ran at the target's size. Quick sizes are
not comparable with the targets: psa, sobol and calibration without ``--full``, memory with other
``--graduates``, and any workload its ``--extra`` overrides reach read "(full: < target)" in the
target column and get no verdict (main's quick size is its full size). Targets are for the 2-core
machine; the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORKLOADS = ("main", "psa", "sobol", "calibration", "memory")
ENGINES = ("vectorized", "batched")  # the first is the baseline of the ratio
TARGETS = {"main": 6.0, "psa": 150.0, "sobol": 300.0, "calibration": 300.0, "memory": 450.0}  # s; memory MB
PSA_DRAWS = {"quick": 100, "full": 1000}
PSA_GRADUATES = 2000
SOBOL_BASE_SAMPLES = {"quick": 64, "full": 1024}
MAIN_REPLICATES = 10
CALIBRATION_JOBS = 2
CALIBRATION_QUICK_SHARE = 4  # quick: a quarter of each of the keys below
CALIBRATION_QUICK_KEYS = ("wave1_runs", "wave2_runs", "wave3_runs", "noise_points", "check_draws")
MEMORY_GRADUATES = 1_000_000
MEMORY_WEEKS = 104
MEMORY_STRATEGY = "offer_all"
LOG_TAIL = 20  # lines of a failed command's log printed
SHORT = {"vectorized": "vect", "batched": "batch", "reference": "ref"}  # engines in column heads


@dataclasses.dataclass
class Plan:
    """One workload at one size: its command on each engine, and how much model it runs."""

    name: str
    size: str  # the size, in words
    comparable: bool  # run at the size its target is set for
    command: Callable[[str, Path], list[str]]  # (engine, output folder) -> argv
    runs: int | None = None  # model runs; None: read from the log (count)
    graduate_weeks: int | None = None  # graduates x weeks summed over the runs
    count: Callable[[str], tuple[int, int]] | None = None  # log -> (runs, graduate-weeks)
    memory: bool = False  # the figure is the child's peak memory (MB), not its seconds


@dataclasses.dataclass
class Result:
    """One command on one engine: seconds (MB for memory; None if it failed), runs and graduate-weeks."""

    value: float | None
    runs: int | None = None
    graduate_weeks: int | None = None


# --- the workloads' sizes, from their config files ------------------------------------------------


def compose(overrides: list[str]):
    """The config the command composes (Hydra's own overrides left out)."""
    from experiments.config import compose_config

    return compose_config([o for o in overrides if not o.lstrip("+~").startswith("hydra")])


def sweep_strategies(experiment: str) -> list[str]:
    """The strategies an experiment sweeps (``hydra.sweeper.params.strategy`` of its file)."""
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(ROOT / "configs" / "experiment" / f"{experiment}.yaml")
    return [s.strip() for s in str(cfg.hydra.sweeper.params.strategy).split(",")]


def extras_for(workload: str, extra: list[str]) -> list[str]:
    """The ``--extra`` overrides of one workload: those without a prefix, and ``WORKLOAD:KEY=VALUE``."""
    out = []
    for o in extra:
        prefix, _, rest = o.partition(":")
        if prefix not in WORKLOADS:
            out.append(o)
        elif prefix == workload:
            out.append(rest)
    return out


def override_key(override: str) -> str:
    """The key a Hydra override sets (``+a.b=1``, ``a.b=1``: ``a.b``)."""
    return override.split("=", 1)[0].lstrip("+~")


def merged(overrides: list[str], extra: list[str]) -> list[str]:
    """``overrides`` with ``extra`` added, an extra override replacing one of the same key."""
    extra_keys = {override_key(o) for o in extra}
    return [o for o in overrides if override_key(o) not in extra_keys] + list(extra)


def python(module: str, overrides: list[str]) -> list[str]:
    return [sys.executable, "-m", module, *overrides]


def sweep_plan(name: str, experiment: str, overrides: list[str], extra: list[str], per: str,
               at_target_size: bool) -> Plan:
    """A sweep of ``experiment`` (``python -m experiments.run -m``): every strategy of its grid times
    its replicates (``per`` names them: replicates, draws), on the local launcher."""
    overrides = merged([f"experiment={experiment}", *overrides], extra)
    cfg, strategies = compose(overrides), sweep_strategies(experiment)
    runs = len(strategies) * cfg.replicates
    return Plan(name, f"{len(strategies)} strategies x {cfg.replicates:,} {per} = {runs:,} runs of "
                f"{cfg.n_graduates:,} x {cfg.weeks} weeks", at_target_size and not extra,
                lambda e, out: python("experiments.run", ["-m", *overrides, "hydra/launcher=local",
                                                          f"hydra.sweep.dir={out}", f"engine={e}"]),
                runs, runs * cfg.n_graduates * cfg.weeks)


def main_plan(args: argparse.Namespace) -> Plan:
    """The main comparison, as ``make run`` runs it: the same at both sizes."""
    return sweep_plan("main", "compare_strategies", [f"replicates={MAIN_REPLICATES}"], extras_for("main", args.extra),
                      "replicates", True)


def psa_plan(args: argparse.Namespace) -> Plan:
    """The probabilistic sensitivity analysis: every strategy at each parameter draw."""
    size = "full" if args.full else "quick"
    return sweep_plan("psa", "psa", [f"replicates={PSA_DRAWS[size]}", f"n_graduates={PSA_GRADUATES}"],
                      extras_for("psa", args.extra), "draws", args.full)


def sobol_plan(args: argparse.Namespace) -> Plan:
    """Sobol indices: every Saltelli sample under each strategy."""
    size = "full" if args.full else "quick"
    extra = extras_for("sobol", args.extra)
    overrides = merged(["analysis=sensitivity_sobol", f"sensitivity.base_samples={SOBOL_BASE_SAMPLES[size]}"],
                       extra)
    cfg = compose(overrides)
    sens = cfg.sensitivity
    d, n = len(sens.parameters), sens.base_samples
    per_sample = 2 * d + 2 if sens.second_order else d + 2
    runs = len(sens.strategies) * n * per_sample
    return Plan("sobol", f"{len(sens.strategies)} strategies x N={n} x {per_sample} (D={d}"
                f"{', second order' if sens.second_order else ''}) = {runs:,} runs of {cfg.n_graduates:,} x "
                f"{cfg.weeks} weeks", args.full and not extra,
                lambda e, out: python("experiments.sensitivity", [*overrides, f"hydra.run.dir={out}", f"engine={e}"]),
                runs, runs * cfg.n_graduates * cfg.weeks)


def calibration_arms(cfg) -> list[tuple[str, int]]:
    """The (arm, weeks) runs each calibration point makes: those its targets read (as
    :func:`experiments.analyses.targets.measure_points` runs them)."""
    from experiments.analyses.targets import MEASURES

    specs = [MEASURES[t.measure] for t in cfg.calibration.targets]
    return sorted({(arm, s.weeks) for s in specs for arm in (s.arm, s.comparator) if arm})


def count_calibration_runs(log: str, arms: list[tuple[str, int]], n_graduates: int) -> tuple[int, int]:
    """Model runs and graduate-weeks of a calibration, from its "name: N of M runs to do" lines."""
    points = sum(int(n) for n in re.findall(r"^\s*\S+: (\d+) of \d+ runs to do\s*$", log, flags=re.M))
    return points * len(arms), points * n_graduates * sum(weeks for _, weeks in arms)


def calibration_plan(args: argparse.Namespace) -> Plan:
    """History matching from nothing; every file it writes into the output folder."""
    base = compose(["analysis=calibrate"]).calibration
    quick = [] if args.full else [f"calibration.{k}={max(1, base[k] // CALIBRATION_QUICK_SHARE) if base[k] else 0}"
                                  for k in CALIBRATION_QUICK_KEYS]
    extra = extras_for("calibration", args.extra)
    overrides = merged(["analysis=calibrate", f"calibration.jobs={CALIBRATION_JOBS}", *quick], extra)
    cfg = compose(overrides)
    c, arms = cfg.calibration, calibration_arms(cfg)

    def command(engine: str, out: Path) -> list[str]:
        return python("experiments.calibrate", [
            *overrides, f"calibration.runs_dir={out / 'runs'}", f"calibration.posterior={out / 'posterior.parquet'}",
            f"calibration.output={out / 'calibrated.yaml'}", f"calibration.report_dir={out / 'report'}",
            f"hydra.run.dir={out}", f"engine={engine}"])

    return Plan("calibration", f"{len(c.shapes)} shapes x ({c.wave1_runs}+{c.wave2_runs}+{c.wave3_runs} wave runs, "
                f"{c.noise_points} noise points x {c.noise_replicates}), {c.check_draws} checks; each point "
                f"{len(arms)} runs of {cfg.n_graduates:,} graduates", args.full and not extra, command,
                count=lambda log: count_calibration_runs(log, arms, cfg.n_graduates))


def memory_plan(args: argparse.Namespace) -> Plan:
    """One big model in a fresh process: its peak memory."""
    return Plan("memory", f"1 run of {args.graduates:,} x {MEMORY_WEEKS} weeks, {MEMORY_STRATEGY} (peak MB)",
                args.graduates == MEMORY_GRADUATES,
                lambda e, out: [sys.executable, str(Path(__file__).resolve()), "--memory-child", e,
                                "--graduates", str(args.graduates)],
                1, args.graduates * MEMORY_WEEKS, memory=True)


PLANS = {"main": main_plan, "psa": psa_plan, "sobol": sobol_plan, "calibration": calibration_plan,
         "memory": memory_plan}


# --- the memory child: runs in its own process ----------------------------------------------------


def peak_resident_kb() -> int:
    """This process's peak resident memory (kB): ``VmHWM`` of /proc/self/status, else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux


def memory_child(engine: str, graduates: int) -> int:
    """Build and run one model on ``engine``, then print ``VmHWM_kB <peak>`` (what the parent reads)."""
    import logging

    from experiments.config import load_strategy
    from sim.calibrated import calibrated_dynamics
    from sim.engines import model_class
    from sim.params import ModelParams

    logging.getLogger("MESA").setLevel(logging.WARNING)
    params = ModelParams(n_graduates=graduates, weeks=MEMORY_WEEKS, seed=1, strategy=load_strategy(MEMORY_STRATEGY),
                         dynamics=calibrated_dynamics())
    model_class(engine).from_params(params).run()
    print(f"VmHWM_kB {peak_resident_kb()}", flush=True)
    return 0


def read_peak_mb(log: str) -> float | None:
    found = re.findall(r"^VmHWM_kB (\d+)$", log, flags=re.M)
    return int(found[-1]) / 1024 if found else None


# --- running and timing ---------------------------------------------------------------------------


def run_logged(cmd: list[str], log: Path) -> tuple[float, int]:
    """Wall seconds of a command (interpreter start to exit) and its exit code; its output in ``log``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    with log.open("w") as f:
        code = subprocess.run(cmd, cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT).returncode
    return time.perf_counter() - started, code


def measure(plan: Plan, engine: str, tmp: Path, keep: bool) -> Result:
    """Run the plan's command on ``engine`` into a fresh folder; what it measured, or a failure."""
    out, log = tmp / f"{plan.name}-{engine}", tmp / f"{plan.name}-{engine}.log"
    cmd = plan.command(engine, out)
    print(f"[{plan.name} / {engine}] {shlex.join(cmd)}", file=sys.stderr, flush=True)
    seconds, code = run_logged(cmd, log)
    text = log.read_text(errors="replace")
    if not keep:
        shutil.rmtree(out, ignore_errors=True)
    value = read_peak_mb(text) if plan.memory else seconds
    if code != 0 or value is None:
        tail = "\n".join(text.splitlines()[-LOG_TAIL:])
        print(f"  failed (exit {code}) after {seconds:.1f} s; the last {LOG_TAIL} lines of its log:\n{tail}",
              file=sys.stderr, flush=True)
        return Result(None)
    runs, gw = plan.count(text) if plan.count else (plan.runs, plan.graduate_weeks)
    print(f"  {value:.1f} {'MB' if plan.memory else 's'}", file=sys.stderr, flush=True)
    return Result(value, runs, gw)


# --- the table ------------------------------------------------------------------------------------


def fmt_rate(gw_per_s: float) -> str:
    """Graduate-weeks per second, in millions (M) or thousands (k)."""
    return f"{gw_per_s / 1e6:.2f} M" if gw_per_s >= 1e6 else f"{gw_per_s / 1e3:.0f} k"


def fmt_target(plan: Plan) -> str:
    unit = "MB" if plan.memory else "s"
    target = f"< {TARGETS[plan.name]:g} {unit}"
    return target if plan.comparable else f"(full: {target})"


def verdict(plan: Plan, results: dict[str, Result]) -> str:
    """The batched figure against the target: met or MISSED (blank where not comparable); failed if
    any engine's command failed."""
    if any(r.value is None for r in results.values()):
        return "failed"
    batched = results.get("batched")
    if batched is None or not plan.comparable:
        return ""
    return "met" if batched.value < TARGETS[plan.name] else "MISSED"


def row_cells(plan: Plan, results: dict[str, Result], engines: list[str]) -> list[str]:
    """One workload's cells: runs, each engine's figure, the ratios, each engine's rate, target, verdict."""
    unit = "MB" if plan.memory else "s"
    runs = next((r.runs for r in results.values() if r.value is not None), plan.runs)
    cells = [plan.name, f"{runs:,}" if runs else ""]
    cells += [f"{results[e].value:.{0 if plan.memory else 2}f} {unit}" if results[e].value is not None else "failed"
              for e in engines]
    base = results[engines[0]].value
    cells += [f"{base / results[e].value:.2f}x" if base is not None and results[e].value is not None else ""
              for e in engines[1:]]
    cells += [fmt_rate(r.graduate_weeks / r.value) if r.value is not None and r.graduate_weeks and not plan.memory
              else "" for r in (results[e] for e in engines)]
    return cells + [fmt_target(plan), verdict(plan, results)]


def print_table(plans: list[Plan], results: dict[str, dict[str, Result]], engines: list[str]) -> None:
    """The aligned table, then what each workload's size was."""
    short = [SHORT.get(e, e) for e in engines]
    head = (["workload", "runs"] + engines + [f"{short[0]}/{s}" for s in short[1:]]
            + [f"{s} gw/s" for s in short] + ["target", "batched vs target"])
    rows = [head] + [row_cells(p, results[p.name], engines) for p in plans]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for k, r in enumerate(rows):
        line = "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        print(line.rstrip())
        if k == 0:
            print("-" * len(line))
    print()
    for p in plans:
        print(f"{p.name:<12} {p.size}{'' if p.comparable else '  [not the target size: no verdict]'}")
    print(f"figures: wall seconds of the whole command (memory: peak resident MB of its process); "
          f"{SHORT.get(engines[0], engines[0])}/e: {engines[0]}'s figure over engine e's; gw/s: graduate-weeks "
          "per second")


# --- the command line -----------------------------------------------------------------------------


def positive_int(text: str) -> int:
    value = int(text.replace("_", "").replace(",", ""))
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def engine_names() -> tuple[str, ...]:
    """The engines of ``sim`` (:class:`sim.engines.Engine`)."""
    from sim.engines import Engine

    return tuple(e.value for e in Engine)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench_workloads.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__,
        epilog="Targets on the 2-core machine (printed, not enforced): "
               + ", ".join(f"{w} < {t:g} {'MB' if w == 'memory' else 's'}" for w, t in TARGETS.items()) + ".")
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS), metavar="W",
                        help=f"which workloads, among {' '.join(WORKLOADS)} (default: all)")
    parser.add_argument("--full", action="store_true",
                        help=f"the sizes the targets are set for (psa R={PSA_DRAWS['full']}, sobol "
                             f"N={SOBOL_BASE_SAMPLES['full']}, the calibration's own waves); default: quick sizes "
                             f"(psa R={PSA_DRAWS['quick']}, sobol N={SOBOL_BASE_SAMPLES['quick']}, a quarter of "
                             "the calibration's waves), not comparable with the targets")
    parser.add_argument("--engines", nargs="+", choices=engine_names(), default=list(ENGINES), metavar="E",
                        help=f"engines to run every workload on, among {' '.join(engine_names())} (default: "
                             f"{' '.join(ENGINES)}); the first is the baseline of the ratio")
    parser.add_argument("--graduates", type=positive_int, default=MEMORY_GRADUATES,
                        help=f"graduates of the memory workload's model (default {MEMORY_GRADUATES:,}; its target "
                             "is for that size)")
    parser.add_argument("--extra", nargs="+", default=[], metavar="KEY=VALUE",
                        help="Hydra overrides added to every command but memory's, replacing one of the same key "
                             "(e.g. n_graduates=100 weeks=10 for a quick check); WORKLOAD:KEY=VALUE adds one to that "
                             "workload only (e.g. sobol:sensitivity.base_samples=2); no verdict where any applies")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (outputs and logs)")
    parser.add_argument("--memory-child", choices=engine_names(), help=argparse.SUPPRESS)  # the memory child
    args = parser.parse_args(argv)
    args.workloads = list(dict.fromkeys(args.workloads))
    args.engines = list(dict.fromkeys(args.engines))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_child:
        return memory_child(args.memory_child, args.graduates)
    print(f"bench_workloads: {', '.join(args.workloads)} on {', '.join(args.engines)}; "
          f"{'full' if args.full else 'quick'} sizes{'; extra ' + ' '.join(args.extra) if args.extra else ''}")
    print(f"machine   {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} before", flush=True)
    plans = []
    for w in args.workloads:
        try:
            plans.append(PLANS[w](args))
        except Exception as err:  # a config that does not compose: the command would fail the same way
            print(f"error: the {w} workload's config does not compose with the overrides "
                  f"{extras_for(w, args.extra)}: {type(err).__name__}: {err}", file=sys.stderr)
            return 2
    tmp = Path(tempfile.mkdtemp(prefix="bench-workloads-"))
    results: dict[str, dict[str, Result]] = {}
    try:
        for plan in plans:
            results[plan.name] = {e: measure(plan, e, tmp, args.keep) for e in args.engines}
    finally:
        if args.keep:
            print(f"outputs and logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    print_table(plans, results, args.engines)
    print(f"machine   load average {os.getloadavg()[0]:.2f} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
