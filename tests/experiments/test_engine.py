"""``engine=reference`` on the command line: the same files, with the same columns, as the default engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.slow  # builds sweeps or runs the reference engine: started first (conftest.py)

ROOT = Path(__file__).resolve().parents[2]
ARGS = ("strategy=offer_all", "n_graduates=200", "weeks=10", "seed=3")


def _run(out: Path, engine: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    cmd = [sys.executable, "-m", "experiments.run", f"engine={engine}", *ARGS, f"hydra.run.dir={out}"]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for engine in ("vectorized", "reference"):
        out[engine] = tmp_path_factory.mktemp(engine)
        done = _run(out[engine], engine)
        assert done.returncode == 0, done.stderr
    return out


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_both_engines_write_the_same_files(runs):
    assert _files(runs["reference"]) == _files(runs["vectorized"])
    for name in ("config.yaml", "weekly.parquet", "weekly.csv", "graduates.parquet", "summary.json",
                 "trajectories.png"):
        assert (runs["reference"] / name).stat().st_size > 0, name


@pytest.mark.parametrize("name", ["weekly.parquet", "weekly.csv", "graduates.parquet"])
def test_tables_have_the_same_columns_and_rows(runs, name):
    read = pd.read_parquet if name.endswith(".parquet") else pd.read_csv
    vec, ref = read(runs["vectorized"] / name), read(runs["reference"] / name)
    assert list(ref.columns) == list(vec.columns)
    assert dict(ref.dtypes) == dict(vec.dtypes)
    assert len(ref) == len(vec)
    assert list(ref.iloc[:, 0]) == list(vec.iloc[:, 0])  # the weeks, or the graduate ids


def test_same_week_0_and_same_graduates(runs):
    """Both engines start from the same population and course (only the dynamics differ)."""
    vec = pd.read_parquet(runs["vectorized"] / "weekly.parquet")
    ref = pd.read_parquet(runs["reference"] / "weekly.parquet")
    pd.testing.assert_series_equal(ref.iloc[0], vec.iloc[0])
    grads_vec = pd.read_parquet(runs["vectorized"] / "graduates.parquet")
    grads_ref = pd.read_parquet(runs["reference"] / "graduates.parquet")
    for col in ("graduate_id", "cohort", "baseline", "sessions_attended", "group_averse", "online_access"):
        pd.testing.assert_series_equal(grads_ref[col], grads_vec[col])
    assert grads_ref["contacts_peer_group"].sum() > 0 and grads_ref["contacts_online"].sum() > 0


def test_summary_and_config_differ_only_by_the_engine(runs):
    def keys(d, prefix=""):
        return {prefix + k for k in d} | {
            kk for k, v in d.items() if isinstance(v, dict) for kk in keys(v, prefix + k + ".")
        }

    s_vec = json.loads((runs["vectorized"] / "summary.json").read_text())
    s_ref = json.loads((runs["reference"] / "summary.json").read_text())
    assert keys(s_ref) == keys(s_vec)
    assert s_ref["seed"] == s_vec["seed"] == 3
    c_vec = yaml.safe_load((runs["vectorized"] / "config.yaml").read_text())
    c_ref = yaml.safe_load((runs["reference"] / "config.yaml").read_text())
    assert c_ref.pop("engine") == "reference" and c_vec.pop("engine") == "vectorized"
    assert c_ref == c_vec
