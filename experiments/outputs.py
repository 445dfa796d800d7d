"""Writing a run's outputs: atomically, with the provenance that makes them repeatable.

Every file is first written under a temporary name in the same folder, then renamed: a reader (or
an interrupted sweep) never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

_UMASK = os.umask(0)
os.umask(_UMASK)

#: Weeks at which summaries report outcomes: 6, 12 and 24 months after the course.
SUMMARY_WEEKS = (26, 52, 104)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``, else remove it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the file the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: Path, data: dict) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def write_table(path: Path, df: pd.DataFrame) -> None:
    """Parquet or CSV by the file's suffix."""
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False)


def summary_weeks(weeks: int) -> list[int]:
    """Weeks 26, 52 and 104 where the run reaches them, else the last week."""
    chosen = [w for w in SUMMARY_WEEKS if w <= weeks]
    if weeks < SUMMARY_WEEKS[-1] and weeks not in chosen:
        chosen.append(weeks)  # a shorter run reports its last week too
    return chosen


def summarise(weekly: pd.DataFrame, weeks: int) -> dict:
    """Main outcomes at the summary weeks, end-of-run costs by category and QALYs (per graduate)."""
    by_week = weekly.set_index("week")
    outcomes = {}
    for w in summary_weeks(weeks):
        row = by_week.loc[w]
        outcomes[f"week_{w}"] = {
            "mean_gain_sd": float(row["mean_gain_sd"]),
            "share_self_managing": float(row["share_self_managing"]),
            "share_lonely": float(row["share_lonely"]),
        }
    last = by_week.loc[weeks]
    costs = {c[len("cost_"):-len("_gbp")]: float(last[c]) for c in weekly.columns if c.startswith("cost_")}
    return {
        "outcomes": outcomes,
        "cost_per_graduate_gbp": costs,
        "qalys_gained_per_graduate": float(last["qalys_gained"]),
    }
