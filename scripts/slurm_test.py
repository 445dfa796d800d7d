"""Sweeps on a real (single-node) SLURM cluster give the same tables as on this machine: `make slurm-test`.

    python scripts/slurm_test.py        (starts the cluster with scripts/slurm-local.sh, stops it at the end)

1. The same small sweep through ``hydra/launcher=slurm`` and ``hydra/launcher=local``: the collected
   tables (results.parquet, summary.csv) must be identical.
2. A larger SLURM sweep is cancelled (``scancel``) part-way and its command rerun: the runs finished
   before the cancel must not be redone (their files untouched), and the completed sweep's tables must
   equal those of the same sweep run locally.
3. The small sweep submitted with ``hydra.sweeper.detach=true``: the command must end once the array
   is submitted (before its runs finish), printing the job id and the command that collects; that
   command (``experiments.collect SWEEP_DIR --wait``) must wait for the jobs and give the local tables.

Only the README's command lines (``python -m experiments.run -m ...``, ``python -m experiments.collect``)
and the collected tables are used; the sweep's progress is read from its run folders' manifests.
Exits 1 with a message on the first failure. Sweep folders are kept in $SLURM_TEST_DIR (default
outputs/slurm-test) for inspection. KEEP_CLUSTER=1 leaves the cluster running.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
OUT = Path(os.environ.get("SLURM_TEST_DIR", ROOT / "outputs" / "slurm-test")).resolve()
CLUSTER = ["bash", str(ROOT / "scripts" / "slurm-local.sh")]

SMALL = ["experiment=compare_strategies", "strategy=course_only,peer_group,telephone", "replicates=2",
         "n_graduates=200", "weeks=26"]
SMALL_RUNS = 3 * 2
LARGE = ["experiment=compare_strategies", "replicates=4", "n_graduates=1000", "weeks=52"]
LARGE_RUNS = 7 * 4
# array_parallelism: the cores this cluster has (2), as a user sets it to what they may use; it also
# sizes the batches (runs per job: experiments.batches)
SLURM = ["hydra/launcher=slurm", "hydra.launcher.partition=debug", "hydra.launcher.mem_gb=1",
         "hydra.launcher.timeout_min=10", "hydra.launcher.array_parallelism=2"]
LOCAL = ["hydra/launcher=local"]
SWEEP_TIMEOUT = 900  # seconds: no sweep of this test takes more than a minute or two

#: Lines of submitit's that say the cluster keeps no accounting (sacct): expected here, not shown.
NOISE = ("Bypassing sacct error", "Slurm accounting storage is disabled")

# the jobs (which inherit this environment through sbatch) import this checkout's code
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


class Failed(Exception):
    pass


def check(ok: bool, message: str) -> None:
    if not ok:
        raise Failed(message)


def say(text: str) -> None:
    print(f"\n== slurm-test: {text}", flush=True)


def sweep_command(sweep_dir: Path, sweep: list[str], launcher: list[str]) -> list[str]:
    return [PY, "-m", "experiments.run", "-m", *sweep, *launcher, f"hydra.sweep.dir={sweep_dir}"]


def start(cmd: list[str], log: Path) -> subprocess.Popen:
    """Start ``cmd`` in its own process group, its output going to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as f:
        return subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=f, stderr=subprocess.STDOUT,
                                start_new_session=True)


def show(log: Path, tail: int | None = None) -> None:
    lines = [line for line in log.read_text(errors="replace").splitlines() if not any(n in line for n in NOISE)]
    for line in lines[-tail:] if tail else lines:
        print(f"   | {line}")


def run(cmd: list[str], log: Path, expect: int | None = 0) -> tuple[int, float]:
    """Run ``cmd`` to the end (with a time limit); returns (exit code, seconds)."""
    print("$ " + " ".join(cmd[1:] if cmd[0] == PY else cmd), flush=True)
    t0 = time.perf_counter()
    proc = start(cmd, log)
    try:
        code = proc.wait(timeout=SWEEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        stop_group(proc)
        show(log, 40)
        raise Failed(f"no result after {SWEEP_TIMEOUT} s (output: {log})") from None
    except BaseException:  # interrupted: end the command too
        stop_group(proc)
        raise
    seconds = time.perf_counter() - t0
    if expect is not None and code != expect:
        show(log, 40)
        raise Failed(f"exit code {code}, expected {expect} (output: {log})")
    return code, seconds


def stop_group(proc: subprocess.Popen) -> None:
    """End a process started by :func:`start`, and its children (its own process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def manifests(sweep_dir: Path) -> list[Path]:
    """The manifests of the finished runs in a sweep folder."""
    return sorted((sweep_dir / "runs").rglob("manifest.json"))


def run_files(sweep_dir: Path) -> dict[Path, int]:
    """{file: modification time} of every file of every finished run (beside its manifest)."""
    return {f: f.stat().st_mtime_ns for m in manifests(sweep_dir) for f in m.parent.iterdir() if f.is_file()}


def collect(sweep_dir: Path):
    """Collect a sweep folder and read its tables: (results, summary) as data frames."""
    import pandas as pd

    run([PY, "-m", "experiments.collect", str(sweep_dir)], sweep_dir.parent / f"collect-{sweep_dir.name}.log")
    results = pd.read_parquet(sweep_dir / "results.parquet")
    summary = pd.read_csv(sweep_dir / "summary.csv")
    return results, summary


def same_tables(a: Path, b: Path, runs: int) -> None:
    """The collected tables of two sweep folders are identical (every row and every number)."""
    import pandas as pd

    (res_a, sum_a), (res_b, sum_b) = collect(a), collect(b)
    for name, ta in (("results.parquet", res_a), ("summary.csv", sum_a)):
        check(not ta.empty, f"{a / name} is empty")
    n_a, n_b = res_a["run_id"].nunique(), res_b["run_id"].nunique()
    check(n_a == runs and n_b == runs, f"{runs} runs expected; {a} has {n_a}, {b} has {n_b}")
    for name, ta, tb, keys in (("results.parquet", res_a, res_b, ["run_id", "week"]),
                               ("summary.csv", sum_a, sum_b, list(sum_a.columns[:4]))):
        check(list(ta.columns) == list(tb.columns), f"{name}: the columns differ between {a} and {b}")
        ta = ta.sort_values(keys, kind="stable").reset_index(drop=True)
        tb = tb.sort_values(keys, kind="stable").reset_index(drop=True)
        try:
            pd.testing.assert_frame_equal(ta, tb, check_exact=True)
        except AssertionError as err:
            raise Failed(f"{name} differs between {a} and {b}:\n{err}") from None
        print(f"   {name}: {len(ta)} rows x {len(ta.columns)} columns, identical")


def wait_partly_done(proc: subprocess.Popen, sweep_dir: Path, log: Path, least: int, total: int) -> int:
    """Wait until at least ``least`` runs of the sweep have finished (a manifest each); the count."""
    deadline = time.monotonic() + SWEEP_TIMEOUT
    while True:
        done = len(manifests(sweep_dir))
        if done >= least:
            return done
        if proc.poll() is not None:
            show(log, 40)
            raise Failed(f"the sweep ended (exit code {proc.returncode}) with {done} of {total} runs done")
        check(time.monotonic() < deadline, f"only {done} runs done after {SWEEP_TIMEOUT} s (output: {log})")
        time.sleep(0.05)


def squeue() -> list[str]:
    out = subprocess.run(["squeue", "-h", "-u", user(), "-o", "%i %T"], capture_output=True, text=True, check=True)
    return out.stdout.split("\n")[:-1]


def user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def same_as_local(timings: dict) -> None:
    say(f"the same sweep ({SMALL_RUNS} runs) on SLURM and locally gives identical tables")
    a, b = OUT / "A-slurm", OUT / "B-local"
    _, t_slurm = run(sweep_command(a, SMALL, SLURM), OUT / "A-slurm.log")
    show(OUT / "A-slurm.log", 12)
    # submitit's folder per SLURM job (hydra.launcher.submitit_folder: <sweep>/.submitit/<job id>)
    jobs = [p.name for p in (a / ".submitit").glob("[0-9]*")] if (a / ".submitit").is_dir() else []
    check(bool(jobs), f"no SLURM job folder in {a / '.submitit'}: did the sweep go through SLURM?")
    print(f"   SLURM jobs: {' '.join(sorted(jobs))}")
    _, t_local = run(sweep_command(b, SMALL, LOCAL), OUT / "B-local.log")
    same_tables(a, b, SMALL_RUNS)
    timings["small sweep on SLURM"] = (t_slurm, SMALL_RUNS)
    timings["small sweep locally"] = (t_local, SMALL_RUNS)


def cancel_and_resume(timings: dict) -> None:
    say(f"a SLURM sweep of {LARGE_RUNS} runs cancelled part-way, then rerun: resumes, redoes nothing")
    c, d = OUT / "C-slurm-cancelled", OUT / "D-local"
    cmd = sweep_command(c, LARGE, SLURM)
    print("$ " + " ".join(cmd[1:]) + "   (in the background)", flush=True)
    t0 = time.perf_counter()
    proc = start(cmd, OUT / "C-first.log")
    try:
        seen = wait_partly_done(proc, c, OUT / "C-first.log", least=4, total=LARGE_RUNS)
        subprocess.run(["scancel", "-u", user()], check=True)
        print(f"   {seen} runs done: scancel -u {user()}")
        deadline = time.monotonic() + 60
        while squeue():
            check(time.monotonic() < deadline, f"jobs still queued 60 s after scancel: {squeue()}")
            time.sleep(0.2)
    finally:
        # without SLURM accounting (sacct), submitit cannot tell a cancelled job from a running one
        # and would wait for ever: the sweep's command is ended here (as a closed login session would)
        stop_group(proc)
    t_first = time.perf_counter() - t0
    before = run_files(c)
    done = len(manifests(c))
    started = sum(1 for p in (c / "runs").iterdir() if p.is_dir()) if (c / "runs").is_dir() else 0
    print(f"   after the cancel: {done} of {LARGE_RUNS} runs finished ({len(before)} files), "
          f"{started - done} interrupted")
    check(0 < done < LARGE_RUNS, f"the cancel should leave the sweep part-done; {done} of {LARGE_RUNS} runs "
          "finished (if all: the sweep was too fast to cancel, make LARGE larger)")
    results, _ = collect(c)
    collected = results["run_id"].nunique()
    # (a run killed between writing its manifest and logging its end is not taken: at most `done`)
    check(0 < collected <= done, f"collect took {collected} runs of the cancelled sweep; {done} have finished")
    print(f"   collected the cancelled sweep: {collected} of {LARGE_RUNS} runs")

    print("   rerunning the same command")
    _, t_rerun = run(cmd, OUT / "C-rerun.log")
    show(OUT / "C-rerun.log", 4)
    after = run_files(c)
    touched = sorted(str(f.relative_to(c)) for f, mtime in before.items() if after.get(f) != mtime)
    check(not touched, f"the rerun rewrote {len(touched)} files of runs finished before the cancel, e.g. "
          f"{touched[:3]}")
    check(len(manifests(c)) == LARGE_RUNS, f"{len(manifests(c))} of {LARGE_RUNS} runs finished after the rerun")
    print(f"   the {done} runs finished before the cancel were kept (their {len(before)} files untouched); "
          f"{LARGE_RUNS - done} were run")

    _, t_local = run(sweep_command(d, LARGE, LOCAL), OUT / "D-local.log")
    same_tables(c, d, LARGE_RUNS)
    timings["large sweep on SLURM, until cancelled"] = (t_first, done)
    timings["large sweep on SLURM, rerun"] = (t_rerun, LARGE_RUNS - done)
    timings["large sweep locally"] = (t_local, LARGE_RUNS)


def submit_and_leave(timings: dict) -> None:
    say(f"a SLURM sweep ({SMALL_RUNS} runs) submitted with hydra.sweeper.detach=true: the command leaves, "
        "collect --wait finishes it")
    import shlex

    e, log = OUT / "E-slurm-detached", OUT / "E-submit.log"
    _, t_submit = run(sweep_command(e, SMALL, [*SLURM, "hydra.sweeper.detach=true"]), log)
    finished_at_exit = len(manifests(e))
    show(log, 6)
    text = log.read_text()
    check("Submitted" in text and "SLURM job" in text, f"the command printed no job id (output: {log})")
    check(finished_at_exit < SMALL_RUNS, f"all {SMALL_RUNS} runs had finished when the command ended: it waited")
    check(not (e / "results.parquet").exists(), "the detached command aggregated: it should have left")
    print(f"   the command ended after {t_submit:.1f} s with {finished_at_exit} of {SMALL_RUNS} runs finished")
    line = next((x for x in text.splitlines() if "-m experiments.collect" in x and "--wait" in x), None)
    check(line is not None, f"the command printed no 'experiments.collect ... --wait' line (output: {log})")
    command = shlex.split(line.strip())
    command[0] = str((ROOT / command[0]) if not Path(command[0]).is_absolute() else command[0])
    _, t_wait = run(command, OUT / "E-wait.log")
    show(OUT / "E-wait.log", 4)
    check(len(manifests(e)) == SMALL_RUNS, f"{len(manifests(e))} of {SMALL_RUNS} runs finished after collect --wait")
    same_tables(e, OUT / "B-local", SMALL_RUNS)
    timings["small sweep on SLURM, submitted and left"] = (t_submit, 0)
    timings["... then collect --wait"] = (t_wait, SMALL_RUNS)


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def main() -> int:
    t_all = time.perf_counter()
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    timings: dict[str, tuple[float, int]] = {}
    failed = None
    # SIGTERM (e.g. from a CI time limit) ends the test through the same clean-up as a failure
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        say("starting the single-node cluster (scripts/slurm-local.sh start)")
        t0 = time.perf_counter()
        subprocess.run(CLUSTER + ["start"], check=True)
        timings["cluster start"] = (time.perf_counter() - t0, 0)
        subprocess.run(CLUSTER + ["status"], check=True)
        same_as_local(timings)
        submit_and_leave(timings)
        cancel_and_resume(timings)
    except Failed as err:
        failed = str(err)
    except subprocess.CalledProcessError as err:
        failed = f"{' '.join(map(str, err.cmd))} failed (exit code {err.returncode})"
    except KeyboardInterrupt:
        failed = "interrupted"
    finally:
        if os.environ.get("KEEP_CLUSTER") == "1":
            print("\nslurm-test: KEEP_CLUSTER=1: the cluster is left running (bash scripts/slurm-local.sh stop)")
        else:
            say("stopping the cluster")
            subprocess.run(CLUSTER + ["stop"], check=False)
    timings["whole test"] = (time.perf_counter() - t_all, 0)

    say("timings (2-CPU single-node cluster; a SLURM sweep includes sbatch, queueing and polling)")
    for name, (seconds, runs) in timings.items():
        rate = f", {runs} runs, {runs / seconds:.2f} runs/s" if runs else ""
        print(f"   {name}: {seconds:.1f} s{rate}")
    print(f"   sweep folders and logs: {OUT}")
    if failed:
        print(f"\nslurm-test: FAILED: {failed}", file=sys.stderr)
        return 1
    print("\nslurm-test: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
