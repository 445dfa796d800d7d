"""The single run from the command line: every promised file, provenance, clear errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

import sim
from experiments.config import compose_config
from experiments.run import run_one

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, console_script: bool = False) -> subprocess.CompletedProcess:
    if console_script:
        exe = shutil.which("after-the-course", path=str(Path(sys.executable).parent))
        assert exe, "console script after-the-course is not installed beside the interpreter"
        cmd = [exe, *args]
    else:
        cmd = [sys.executable, "-m", "experiments.run", *args]
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    done = cli("strategy=peer_group", "population=general_ltc", "n_graduates=400", "weeks=60", "seed=7",
               f"hydra.run.dir={out}")
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout  # says where the outputs are
    return out


def test_a_run_writes_every_promised_file(run_dir):
    for name in ("config.yaml", "weekly.parquet", "weekly.csv", "graduates.parquet", "summary.json", "trajectories.png"):
        assert (run_dir / name).stat().st_size > 0, name
    assert not list(run_dir.glob("*.tmp")) and not list(run_dir.glob(".*.tmp"))  # no temporary left over


def test_weekly_table_has_a_row_per_week_and_every_reporter(run_dir):
    weekly = pd.read_parquet(run_dir / "weekly.parquet")
    assert list(weekly["week"]) == list(range(61))
    for col in ("mean_gain_sd", "share_self_managing", "mean_habit", "share_lonely", "groups_open",
                "peer_group_enrolled_share", "peer_group_active_share", "peer_group_contacts",
                "forum_visitors", "forum_posters", "calls_made", "calls_unanswered", "calls_waiting",
                "self_managed_events", "planned_contacts", "unplanned_contacts", "cost_peer_group_gbp",
                "qalys_gained", "mean_gain_sd_group_averse", "share_self_managing_offline",
                "share_self_managing_lonely"):
        assert col in weekly, col
    csv = pd.read_csv(run_dir / "weekly.csv")
    pd.testing.assert_frame_equal(csv, weekly, check_dtype=False, rtol=1e-9)


def test_graduate_table_has_one_row_per_graduate(run_dir):
    grads = pd.read_parquet(run_dir / "graduates.parquet")
    assert len(grads) == 400 and grads["graduate_id"].is_unique
    for col in ("graduate_id", "cohort", "baseline", "capability_final", "habit_final", "connectedness_final",
                "group_averse", "online_access", "lonely_at_baseline", "contacts_peer_group",
                "contacts_telephone", "contacts_online"):
        assert col in grads, col
    assert grads["contacts_peer_group"].sum() > 0 and grads["contacts_telephone"].sum() == 0


def test_summary_holds_outcomes_costs_and_provenance(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text())
    assert set(summary["outcomes"]) == {"week_26", "week_52", "week_60"}
    assert summary["seed"] == 7
    assert summary["package_version"] == sim.__version__
    assert len(summary["config_hash"]) == 16
    assert summary["cost_per_graduate_gbp"]["peer_group"] > 0
    weekly = pd.read_parquet(run_dir / "weekly.parquet").set_index("week")
    assert summary["outcomes"]["week_52"]["mean_gain_sd"] == weekly.loc[52, "mean_gain_sd"]
    assert summary["qalys_gained_per_graduate"] == weekly.loc[60, "qalys_gained"]


def test_resolved_config_is_saved_and_reproduces_the_run(run_dir, tmp_path):
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["seed"] == 7 and saved["strategy"]["name"] == "peer_group"
    # the same config run again in-process gives the same numbers, bit for bit
    again = run_one(compose_config(["strategy=peer_group", "n_graduates=400", "weeks=60", "seed=7"]), tmp_path)
    first = json.loads((run_dir / "summary.json").read_text())
    assert again["outcomes"] == first["outcomes"] and again["config_hash"] == first["config_hash"]


def test_console_script_runs_like_the_module(tmp_path):
    done = cli("n_graduates=50", "weeks=4", f"hydra.run.dir={tmp_path}", console_script=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "summary.json").exists()


@pytest.mark.parametrize(
    "override,key",
    [("strategy.peer_group.interval_weeks=0", "strategy.peer_group.interval_weeks"),
     ("strategy.peer_grup.enabled=true", "peer_grup"),
     ("n_graduates=many", "n_graduates")],
)
def test_bad_input_gives_one_clear_error_and_no_traceback(override, key, tmp_path):
    done = cli(override, f"hydra.run.dir={tmp_path}")
    assert done.returncode != 0
    assert key in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "weekly.parquet").exists()  # nothing ran


def test_help_explains_usage():
    done = cli("--help")
    assert done.returncode == 0
    assert "strategy: course_only" in done.stdout and "python -m experiments.run" in done.stdout
    # issue 24: sweeps are explained (-m, the folder that resumes) and every experiment is listed
    assert "-m runs a sweep" in done.stdout and "hydra.sweep.dir=" in done.stdout
    for path in (ROOT / "configs" / "experiment").glob("*.yaml"):
        assert f"  {path.stem}: " in done.stdout, path.stem
    assert max(len(line) for line in done.stdout.splitlines()) <= 120


def test_the_command_imports_no_heavy_library_before_it_needs_one():
    """--help and the start of every run stay fast: Mesa, scipy, matplotlib, networkx, pandas and
    pyarrow are imported only when a model runs or a file is written (issue 15: 5-8 s before)."""
    code = ("import sys, runpy, io, contextlib\n"
            "sys.argv = ['experiments.run', '--help']\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    runpy.run_module('experiments.run', run_name='__main__')\n"
            "heavy = ('mesa', 'scipy', 'matplotlib', 'networkx', 'pandas', 'pyarrow')\n"
            "print(sorted(m for m in heavy if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
