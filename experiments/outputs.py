"""Writing a run's outputs: atomically, with the provenance that makes them repeatable.

Every file is first written under a temporary name in the same folder, then renamed: a reader (or
an interrupted sweep) never sees half a file.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

#: Exit codes of every command (documented in the README).
EXIT_OK = 0  # every run succeeded
EXIT_BAD_INPUT = 2  # a bad parameter, override or argument: nothing ran, nothing was written
EXIT_RUNS_FAILED = 3  # some runs of a sweep failed (failures.csv); the others were aggregated
EXIT_BAD_OUTPUT = 4  # an output file is missing, truncated or unreadable (the message names it)
EXIT_ERROR = 1  # anything else: an unexpected error

#: Weeks at which summaries report outcomes: 6, 12 and 24 months after the course.
SUMMARY_WEEKS = (26, 52, 104)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``, else remove it.

    The temporary is created inside the ``try``, so that an interrupt arriving at any moment (a
    sweep's worker interrupted because its sweep was killed) leaves no temporary behind. Its name
    carries 64 random bits, so no two writers ever pick the same one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # the usual permissions (umask)
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def yaml_text(cfg, resolve: bool = False) -> str:
    """A config (or plain data) as YAML, as ``OmegaConf.to_yaml`` writes it (strings that would read
    back as numbers or booleans quoted), with libyaml's C emitter: 5-10 times faster, which matters
    when every run of a sweep writes its config. ``resolve``: interpolations resolved."""
    import yaml
    from omegaconf import OmegaConf

    data = OmegaConf.to_container(cfg, resolve=resolve, enum_to_str=True) if OmegaConf.is_config(cfg) else cfg
    return yaml.dump(data, Dumper=_yaml_dumper(), default_flow_style=False, allow_unicode=True, sort_keys=False)


@functools.cache
def _yaml_dumper() -> type:
    import yaml
    from omegaconf._utils import OmegaConfDumper

    class Dumper(getattr(yaml, "CDumper", yaml.Dumper)):  # the C emitter where libyaml is built in
        pass

    Dumper.add_representer(str, OmegaConfDumper.str_representer)
    return Dumper


def write_json(path: Path, data: dict) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def write_table(path: Path, df: pd.DataFrame) -> None:
    """Parquet or CSV by the file's suffix. Parquet as ``df.to_parquet(index=False)`` writes it
    (pandas' metadata included, so it reads back the same frame), through :func:`arrow_table`."""
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            pq.write_table(arrow_table(df), tmp)
        else:
            df.to_csv(tmp, index=False)


#: The Arrow schema (with pandas' metadata) of each kind of numeric table written: by its columns'
#: names and dtypes (a sweep writes thousands of weekly tables of the same columns).
_SCHEMAS: dict[tuple, Any] = {}


def arrow_table(df: pd.DataFrame):
    """``df`` as the Arrow table pandas would make of it (``pa.Table.from_pandas(df,
    preserve_index=False)``, schema and metadata included). A table of plain numeric columns is
    converted column by column against a schema worked out once per set of columns and dtypes:
    pandas' conversion inspects every column of every table, 4-5 ms for a run's weekly table."""
    import numpy as np
    import pyarrow as pa

    names = list(df.columns)
    dtypes = df.dtypes.tolist()
    if len(set(names)) != len(names) or not all(isinstance(n, str) for n in names) or not all(
            isinstance(t, np.dtype) and t.kind in "biuf" for t in dtypes):
        return pa.Table.from_pandas(df, preserve_index=False)
    key = tuple(zip(names, (t.str for t in dtypes)))
    schema = _SCHEMAS.get(key)
    if schema is None:
        schema = _SCHEMAS[key] = pa.Table.from_pandas(df.iloc[:0], preserve_index=False).schema
    return pa.Table.from_arrays([pa.array(df[name].to_numpy(), type=f.type) for name, f in zip(names, schema)],
                                schema=schema)


def summary_weeks(weeks: int) -> list[int]:
    """Weeks 26, 52 and 104 where the run reaches them, else the last week."""
    chosen = [w for w in SUMMARY_WEEKS if w <= weeks]
    if weeks < SUMMARY_WEEKS[-1] and weeks not in chosen:
        chosen.append(weeks)  # a shorter run reports its last week too
    return chosen


def summarise(weekly: pd.DataFrame, weeks: int) -> dict:
    """Main outcomes at the summary weeks (those the outcome catalogue marks ``run_summary``:
    :func:`experiments.outcomes.run_summary`), end-of-run costs by category and QALYs (per graduate)."""
    from experiments.outcomes import run_summary

    row_of = {int(w): i for i, w in enumerate(weekly["week"].to_numpy())}  # columns read as arrays: no row objects
    names = [o.name for o in run_summary()]
    column = {name: weekly[name].to_numpy() for name in names}
    outcomes = {}
    for w in summary_weeks(weeks):
        outcomes[f"week_{w}"] = {name: float(column[name][row_of[w]]) for name in names}
    last = row_of[weeks]
    costs = {c[len("cost_"):-len("_gbp")]: float(weekly[c].to_numpy()[last]) for c in weekly.columns
             if c.startswith("cost_")}
    return {
        "outcomes": outcomes,
        "cost_per_graduate_gbp": costs,
        "qalys_gained_per_graduate": float(weekly["qalys_gained"].to_numpy()[last]),
    }


# --- the manifest: what makes a run finished ------------------------------------------------------

#: Written last into a run's folder: every output file with its size and SHA-256. A run is finished
#: when its manifest is there and every file it lists still has that size and checksum.
MANIFEST = "manifest.json"


class OutputError(Exception):
    """An output file is missing, truncated or unreadable; names the file."""

    def __init__(self, path: Path, problem: str):
        self.path, self.problem = Path(path), problem
        super().__init__(f"{path}: {problem}")


def with_exit_code(func, *args, **kwargs):
    """``func(*args, **kwargs)`` for a command: ``(result, 0)``; or, printing one line instead of a
    traceback, ``(None, EXIT_BAD_INPUT)`` for a missing sweep or a bad value (``FileNotFoundError``,
    ``ValueError``) and ``(None, EXIT_BAD_OUTPUT)`` for an unreadable output (:class:`OutputError`)."""
    import sys

    try:
        return func(*args, **kwargs), EXIT_OK
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return None, EXIT_BAD_INPUT
    except OutputError as err:
        print(f"error: {err}", file=sys.stderr)
        return None, EXIT_BAD_OUTPUT


def sha256_file(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(out_dir: Path, names: list[str], identity: str) -> None:
    """Record size and checksum of each of ``names`` (files in ``out_dir``), atomically, last."""
    files = {}
    for name in names:
        path = out_dir / name
        files[name] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
    write_json(out_dir / MANIFEST, {"identity": identity, "files": files})


def read_manifest(out_dir: Path) -> dict | None:
    """The run's manifest, or None when there is none (the run never finished)."""
    path = Path(out_dir) / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data.get("files"), dict):
            raise ValueError("no files listed")
        return data
    except (OSError, ValueError, AttributeError) as err:
        raise OutputError(path, f"unreadable manifest ({err})") from None


def verify_run(out_dir: Path) -> dict | None:
    """The manifest of a finished run whose files all verify; None when the run has no manifest.

    Raises :class:`OutputError` naming the first file that is missing or changed.
    """
    out_dir = Path(out_dir)
    manifest = read_manifest(out_dir)
    if manifest is None:
        return None
    for name, want in manifest["files"].items():
        path = out_dir / name
        if not path.is_file():
            raise OutputError(path, "missing (listed in manifest.json)")
        size = path.stat().st_size
        if size != want.get("bytes"):
            raise OutputError(path, f"{size} bytes, manifest.json says {want.get('bytes')} (truncated or changed)")
        if sha256_file(path) != want.get("sha256"):
            raise OutputError(path, "checksum differs from manifest.json (changed after the run)")
    return manifest


def read_arrow(path: Path):
    """A parquet file as an Arrow table; :class:`OutputError` naming the file when it cannot be read."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path).read(use_threads=False)  # a small file: a quarter of read_table's time
    except Exception as err:  # noqa: BLE001 - pyarrow raises many types; all mean "unreadable"
        raise OutputError(path, f"not a readable parquet file ({type(err).__name__}: {err})") from None


def read_parquet(path: Path):
    """A parquet file as a DataFrame; :class:`OutputError` naming the file when it cannot be read."""
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except Exception as err:  # noqa: BLE001 - pyarrow raises many types; all mean "unreadable"
        raise OutputError(path, f"not a readable parquet file ({type(err).__name__}: {err})") from None


def read_json(path: Path) -> dict:
    """A JSON file as a dict; :class:`OutputError` naming the file when it is not readable JSON."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise OutputError(path, f"not readable JSON ({err})") from None
    if not isinstance(data, dict):
        raise OutputError(path, "not a JSON object")
    return data


# --- a sweep's record: sweep.json and progress.log ------------------------------------------------

#: One line per run of a sweep: ``sweep id<TAB>status<TAB>seconds<TAB>run folder`` (appended).
PROGRESS = "progress.log"


def read_sweep(sweep_dir: Path) -> dict:
    """``sweep.json`` of a sweep folder ({} when missing or unreadable)."""
    try:
        info = json.loads((Path(sweep_dir) / "sweep.json").read_text())
        return info if isinstance(info, dict) else {}
    except (OSError, ValueError):
        return {}


#: Where a sweep writes each batch's plan (``SWEEP_DIR/batches/<k>/plan.json``, see
#: :mod:`experiments.sweeps.batches`): the runs one Hydra job runs, and the sweep's id.
BATCHES = "batches"
PLAN = "plan.json"


def planned_run_names(sweep_dir: Path, sweep_id: str | None) -> list[str]:
    """The run folders that the sweep ``sweep_id`` launched, from its batches' plans.

    Used to name the runs of an interrupted sweep that never reported back; a plan that cannot be
    read, or that belongs to another sweep, is passed over (it only names runs, it decides nothing).
    """
    names = []
    for plan in sorted((Path(sweep_dir) / BATCHES).glob(f"*/{PLAN}")):
        try:
            data = read_json(plan)
        except OutputError:
            continue
        if sweep_id and data.get("sweep") == sweep_id:
            names.extend(r["name"] for r in data.get("runs", []) if isinstance(r, dict) and "name" in r)
    return names


def progress_of(sweep_dir: Path, sweep_id: str | None) -> dict[str, str]:
    """{run folder name: status} of the sweep ``sweep_id`` from ``progress.log`` (its last word
    on each run). Lines are ``id<TAB>status<TAB>seconds<TAB>run``."""
    return ProgressLog(sweep_dir, sweep_id).read()


class ProgressLog:
    """The statuses of one sweep's runs in ``progress.log``, read incrementally: each :meth:`read`
    parses only the whole lines appended since the last one, so a worker reporting every run of a
    large sweep does not reread the whole log each time (100,000 runs would mean 5e9 lines)."""

    def __init__(self, sweep_dir: Path, sweep_id: str | None) -> None:
        self.path, self.sweep_id = Path(sweep_dir) / PROGRESS, sweep_id
        self.offset = 0
        self.status: dict[str, str] = {}

    def read(self) -> dict[str, str]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except OSError:
            return self.status
        whole = chunk[:chunk.rfind(b"\n") + 1]  # a line another worker is writing waits for the next read
        self.offset += len(whole)
        # a damaged line (bytes that are not UTF-8) is read, replaced, and matches no run: that
        # run then counts as missing, which aggregation reports, instead of crashing every reader
        for line in whole.decode("utf-8", errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) == 4 and parts[0] == self.sweep_id:
                self.status[parts[3]] = parts[1]
        return self.status
