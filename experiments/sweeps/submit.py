"""A cluster sweep that submits and leaves: ``hydra.sweeper.detach=true``, then ``collect --wait``.

    python -m experiments.run -m experiment=compare_populations replicates=50 hydra/launcher=slurm \\
        hydra.sweeper.detach=true hydra.sweep.dir=/shared/me/who_is_left_behind
    python -m experiments.collect /shared/me/who_is_left_behind --wait

Hydra's submitit launcher submits the sweep's job array and then waits for every job, so the
command must stay alive on the login node for the whole sweep. With ``hydra.sweeper.detach=true``
the sweeper checks every run and skips the finished ones as always, then :func:`submit_and_leave`
submits the same job array (the same jobs, the same callable: submitit's launcher itself, which
runs each batch as ever), records the job ids in ``SWEEP_DIR/submitted.json``, prints them with
the command that collects, and the command ends (exit code 0) without aggregating.

The jobs write their runs and ``progress.log`` as in any sweep. Later, ``python -m
experiments.collect SWEEP_DIR --wait`` waits (:func:`wait_for_jobs`) until every run of the sweep
has reported (done, skipped or failed), printing progress, and then aggregates; when the jobs have
left the queue with runs still unreported (cancelled, out of time), it stops waiting, says how
many, and aggregates what finished (exit code 3); rerunning the sweep's command redoes only those.
Without ``--wait``, ``collect`` aggregates what has finished so far, with a warning naming the rest.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from experiments.outputs import EXIT_RUNS_FAILED, OutputError, progress_of, read_json, read_sweep, write_json
from sim.params import ParameterError

#: The record of a detached sweep's submission, in the sweep folder.
SUBMITTED = "submitted.json"
#: The launchers whose jobs run on after this command ends (a cluster's scheduler runs them).
DETACHABLE = ("hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher",)
#: How often ``--wait`` looks at the progress log and the queue, seconds.
POLL_SECONDS = 10.0


def check_detach(detach: Any, launcher: Any) -> None:
    """``hydra.sweeper.detach`` is true or false, and true only with a SLURM launcher: raise
    :class:`ParameterError` (one line, before anything is written) otherwise."""
    if not isinstance(detach, bool):
        raise ParameterError("hydra.sweeper.detach", detach, "must be true or false")
    target = str(launcher.get("_target_", "")) if launcher is not None else ""
    if detach and target not in DETACHABLE:
        raise ParameterError("hydra.sweeper.detach", detach, "needs hydra/launcher=slurm (or submitit_slurm): only a "
                             "cluster's scheduler runs the jobs once this command has ended")


def make_executor(launcher: Any) -> Any:
    """The submitit executor that Hydra's submitit ``launcher`` builds in its ``launch`` (the same
    folder and parameters: ``hydra.launcher.*``), which then submits and waits; here it only submits."""
    import submitit
    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
    from omegaconf import OmegaConf

    params, cluster = launcher.params, launcher._EXECUTOR
    init_keys = {"max_num_timeout"}
    executor = submitit.AutoExecutor(cluster=cluster, folder=params["submitit_folder"],
                                     **{f"{cluster}_{k}": v for k, v in params.items() if k in init_keys})
    base = set(OmegaConf.structured(BaseQueueConf).keys())
    executor.update_parameters(**{k if k in base else f"{cluster}_{k}": v for k, v in params.items()
                                  if k not in init_keys | {"submitit_folder"}})
    return executor


def collect_command(sweep_dir: Path) -> str:
    """The command that waits for a detached sweep and aggregates it, as one can paste it."""
    python = Path(sys.executable)
    try:
        python = python.relative_to(Path.cwd())
    except ValueError:
        pass
    return shlex.join([str(python), "-m", "experiments.collect", str(Path(sweep_dir).absolute()), "--wait"])


def submit_and_leave(launcher: Any, jobs: list[list[str]], sweep_dir: Path, info: dict, runs: int) -> list[str]:
    """Submit the sweep's jobs (each a batch of runs: ``jobs`` are their overrides) as one job
    array through ``launcher``'s executor, record them in ``SWEEP_DIR/submitted.json``, print the
    job id and the command that collects, and return the job ids without waiting for any job.

    The array's jobs call ``launcher`` itself, as Hydra's submitit launcher has them do, so each
    runs its batch exactly as in a sweep that waits."""
    from hydra.core.singleton import Singleton

    sweep_dir = Path(sweep_dir)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    executor = make_executor(launcher)
    state = Singleton.get_state()
    arguments = [(list(job), "hydra.sweep.dir", i, f"job_id_for_{i}", state) for i, job in enumerate(jobs)]
    submitted = executor.map_array(launcher, *zip(*arguments))
    job_ids = [str(j.job_id) for j in submitted]
    arrays = sorted({j.partition("_")[0] for j in job_ids})
    command = collect_command(sweep_dir)
    write_json(sweep_dir / SUBMITTED, {"sweep": info["id"], "job_ids": job_ids, "arrays": arrays,
                                       "jobs": len(jobs), "runs": runs, "submitted": time.time(),
                                       "collect": command})
    print(f"Submitted {runs} runs in {len(jobs)} jobs: SLURM job {' '.join(arrays)}; this command ends now, "
          f"the jobs run on.\n  squeue -j {','.join(arrays)}      (their state)\n"
          f"  {command}\n      (waits for the jobs, then aggregates; without --wait: what has finished so far)",
          flush=True)
    return job_ids


def detached_sweep(sweep_dir: Path) -> dict | None:
    """The submission record of the latest sweep into ``sweep_dir`` if it was detached, else None."""
    path = Path(sweep_dir) / SUBMITTED
    if not path.is_file():
        return None
    try:
        record = read_json(path)
    except OutputError:
        return None
    return record if record.get("sweep") and record.get("sweep") == read_sweep(sweep_dir).get("id") else None


def jobs_left(record: dict) -> int | None:
    """How many of a detached sweep's jobs are still queued or running (``squeue``; a pending
    array's tasks count once), 0 once none is, None when the queue cannot be asked (no ``squeue``)."""
    arrays = record.get("arrays") or []
    if not arrays:
        return 0
    try:
        done = subprocess.run(["squeue", "-h", "-j", ",".join(arrays), "-o", "%i"], capture_output=True,
                              text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode:  # "Invalid job id specified": the jobs have left SLURM's memory
        return 0 if "invalid job id" in done.stderr.lower() else None
    return len(done.stdout.split())


def wait_for_jobs(sweep_dir: Path, poll_seconds: float = POLL_SECONDS, timeout_seconds: float | None = None) -> int:
    """Wait until every run of a detached sweep has reported in ``progress.log``; the exit code.

    Prints a line whenever the count changes. Returns 0 when every run reported (done, skipped or
    failed: aggregation then says which failed) or the folder holds no detached sweep (nothing to
    wait for); :data:`~experiments.outputs.EXIT_RUNS_FAILED` when the jobs have left the queue
    with runs unreported, or ``timeout_seconds`` passed. Ctrl-C stops waiting, not the jobs.
    """
    sweep_dir = Path(sweep_dir)
    record = detached_sweep(sweep_dir)
    if record is None:
        return 0
    total = int(read_sweep(sweep_dir).get("runs") or 0)
    started, shown = time.monotonic(), None
    while True:
        reported = len(progress_of(sweep_dir, record["sweep"]))
        if reported >= total:
            print(f"[{reported}/{total}] every run of SLURM job {' '.join(record['arrays'])} has reported", flush=True)
            return 0
        left = jobs_left(record)
        if left == 0:
            reported = len(progress_of(sweep_dir, record["sweep"]))  # a last line may have come meanwhile
            if reported >= total:
                continue
            print(f"warning: the jobs of SLURM job {' '.join(record['arrays'])} have left the queue with "
                  f"{total - reported} of {total} runs unreported (cancelled, or out of time?); aggregating the "
                  "others; rerun the sweep's command to finish them", file=sys.stderr, flush=True)
            return EXIT_RUNS_FAILED
        if (reported, left) != shown:
            jobs = "state unknown (no squeue)" if left is None else f"{left} job{'s' if left != 1 else ''} queued or running"
            print(f"[{reported}/{total}] waiting for SLURM job {' '.join(record['arrays'])}: {jobs}", flush=True)
            shown = (reported, left)
        if timeout_seconds is not None and time.monotonic() - started > timeout_seconds:
            print(f"warning: {total - reported} of {total} runs still unreported after {timeout_seconds:.0f} s; "
                  "aggregating the others", file=sys.stderr, flush=True)
            return EXIT_RUNS_FAILED
        time.sleep(poll_seconds)
