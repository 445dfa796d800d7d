"""A new channel reaches every floor with no edit outside its own files (issue 23, item 3).

The toy is a "buddy" channel written by this test into a folder of its own: its module (found by
the channel registry through ``AFTER_THE_COURSE_CHANNELS``, sim/support/registry.py) and a
strategy config offering it (found through ``--config-dir``). It declares only what a channel must
(name, label, run order, levers, behaviour, a unit cost) and one cross-field rule of its own, and
nothing of how it is presented, so every presentation below comes from the generic fallbacks.

One subprocess (the registry is read once per interpreter) runs a single run, a small sweep of
course only, peer groups and the toy (2 replicates of 120 graduates over 30 weeks), builds the
report and draws the dashboard's figures for a model offering the toy, and prints what it saw.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

TOY_MODULE = '''
"""A toy channel: each graduate who takes it up is paired with a buddy who calls every few weeks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.fields import ContactEffect, CostItem, ParameterError, contact_effect, count, prob
from sim.support.base import SupportChannel


@dataclass
class BuddyParams:
    enabled: bool = False
    interval_weeks: int = count(2, lo=1, hi=52, doc="weeks between a buddy's calls")


@dataclass
class BuddyBehaviour:
    effect: ContactEffect = contact_effect(0.05, 0.05)
    take_up_prob: float = prob(0.5, "assumed: toy")


class BuddySupport(SupportChannel, name="buddy", label="Buddy support", week_order=35,
                   lever=BuddyParams, behaviour=BuddyBehaviour):
    unit_costs = {"buddy_per_call": CostItem(5.0, 2024, "assumed: toy", True)}

    @classmethod
    def check(cls, params):
        buddy = params.strategy.buddy
        if buddy.enabled and buddy.interval_weeks > params.weeks:
            raise ParameterError("strategy.buddy.interval_weeks", buddy.interval_weeks,
                                 f"must be <= weeks ({params.weeks}), or no buddy ever calls")

    def takes_up(self, offered):
        return self.rng.random(offered.size) < self.behaviour.take_up_prob

    def step(self, week):
        if (week - self.first_week) % self.lever.interval_weeks:
            return
        called = np.flatnonzero(self.enrolled)
        self.deliver(called, week, self.behaviour.effect)
        self.spend(called.size * self.model.ledger.unit_gbp["buddy_per_call"], week)
'''

TOY_STRATEGY = """\
name: buddy
label: Buddy support for everyone
matching: offer_all
start_week: 0
end_week: null
peer_group:
  enabled: false
telephone:
  enabled: false
online:
  enabled: false
booster:
  enabled: false
newsletter:
  enabled: false
buddy:
  enabled: true
"""

DRIVER = r'''
import json, sys
from pathlib import Path

sys.path.insert(0, str(Path("tests/experiments").resolve()))
from in_process import run_command, sweep

out, config_dir = Path(sys.argv[1]), sys.argv[2]
seen = {}

from sim.support import CHANNELS
seen["channels"] = list(CHANNELS)

# a run, and the toy's own rule refusing a bad value before anything runs
seen["run"] = run_command("--config-dir", config_dir, "strategy=buddy", "n_graduates=100", "weeks=20", "seed=3",
                          f"hydra.run.dir={out / 'run'}")
seen["bad_run"] = run_command("--config-dir", config_dir, "strategy=buddy", "strategy.buddy.interval_weeks=30",
                              "n_graduates=100", "weeks=20", f"hydra.run.dir={out / 'bad_run'}")
import sim
from sim.params import ModelParams, validate
params = ModelParams(weeks=20)
params.strategy.buddy.enabled, params.strategy.buddy.interval_weeks = True, 30
try:
    validate(params)
except sim.ParameterError as err:
    seen["bad_key"] = err.key

# a sweep and its report
sweep(out / "sweep", "--config-dir", config_dir, "strategy=course_only,peer_group,buddy", "replicate=0,1",
      "n_graduates=120", "weeks=30", "outputs.csv=false", "outputs.graduates=false", "outputs.plot=false")
from experiments.report.__main__ import main as report
seen["report"] = report([str(out / "sweep")])

from experiments.labels import CHANNEL_COLOURS, SPARE_COLOURS, strategy_label
from experiments.report import data as rd
from experiments.report.figures import COST_COLOURS
data = rd.load(out / "sweep")
seen["arms"] = {a.strategy: [a.label, a.colour] for a in data.arms}
seen["colour"], seen["spare"], seen["cost_colour"] = CHANNEL_COLOURS["buddy"], list(SPARE_COLOURS), COST_COLOURS["buddy"]
seen["label_added"] = strategy_label({"peer_group": {"enabled": True, "interval_weeks": 2},
                                      "buddy": {"enabled": True, "interval_weeks": 4}})

# the dashboard's figures, for a model offering the toy, stepped a few weeks
from experiments.config import load_params
from experiments.dashboard.figures import GraduatesChart, LineChart, chart_specs, draw_all
from sim import SelfManagementModel
p = load_params(["strategy=offer_all", "strategy.buddy.enabled=true", "strategy.name=offer_all_buddy",
                 "strategy.label=All three and a buddy", "n_graduates=150", "weeks=8", "seed=5"])
run = SelfManagementModel(p.n_graduates, p.weeks, strategy=p.strategy, population=p.population,
                          dynamics=p.dynamics, costs=p.costs, rng=p.seed)
from experiments.dashboard.model import course_only_reference
reference = course_only_reference(run)
charts = [LineChart(spec, p.weeks) for spec in chart_specs(run)]
graduates = GraduatesChart(run)
for _ in range(3):
    run.step(); reference.step()
pngs = draw_all(charts, graduates, run, reference)
seen["dashboard_pngs"] = [len(b) for b in pngs]
seen["dashboard_series"] = {s.column: s.colour for spec in chart_specs(run) for s in spec.series}
(out / "seen.json").write_text(json.dumps(seen))
'''


def write_toy_channel(base: Path) -> None:
    """The toy channel's own files under ``base``: its module in ``plugins/``, its strategy in ``configs/``."""
    (base / "plugins").mkdir()
    (base / "plugins" / "toy_buddy.py").write_text(textwrap.dedent(TOY_MODULE), encoding="utf-8")
    (base / "configs" / "strategy").mkdir(parents=True)
    (base / "configs" / "strategy" / "buddy.yaml").write_text(TOY_STRATEGY, encoding="utf-8")


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> tuple[Path, dict]:
    """The toy's own files, the run, sweep, report and dashboard made with them, and what was seen."""
    base = tmp_path_factory.mktemp("toy")
    write_toy_channel(base)
    env = {**os.environ, "AFTER_THE_COURSE_CHANNELS": "toy_buddy", "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join([str(base / "plugins"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", DRIVER, str(base / "out"), str(base / "configs")],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return base / "out", json.loads((base / "out" / "seen.json").read_text())


def test_the_registry_finds_the_toy_and_a_run_with_it_is_written(toy):
    out, seen = toy
    assert seen["channels"][-1] == "newsletter" and "buddy" in seen["channels"]
    assert seen["channels"].index("buddy") == seen["channels"].index("online") + 1  # week_order 35: after the forum
    assert seen["run"] == 0 and (out / "run" / "manifest.json").is_file()
    weekly = __import__("pandas").read_parquet(out / "run" / "weekly.parquet")
    assert weekly["buddy_enrolled_share"].iloc[-1] > 0 and weekly["cost_buddy_gbp"].iloc[-1] > 0


def test_the_toys_own_rule_is_checked_by_validate_and_the_command_line(toy):
    out, seen = toy
    assert seen["bad_key"] == "strategy.buddy.interval_weeks"
    assert seen["bad_run"] == 2 and not (out / "bad_run").exists()  # refused before anything is written


def test_the_report_names_colours_and_draws_the_toy_from_the_fallbacks(toy):
    out, seen = toy
    assert seen["report"] == 0
    label, colour = seen["arms"]["buddy"]
    assert label == "Buddy support, fortnightly"  # its phrase: the label, how often from its levers
    labels = [a[0] for a in seen["arms"].values()]
    assert len(set(labels)) == len(labels)  # no second "Course only"
    assert seen["colour"] in seen["spare"] and colour == seen["colour"] == seen["cost_colour"]
    assert seen["label_added"] == "Peer support group, fortnightly + buddy support, every 4 weeks"
    html = (out / "sweep" / "report" / "index.html").read_text(encoding="utf-8")
    assert "Buddy support, fortnightly" in html
    engagement = (out / "sweep" / "report" / "figures" / "d_engagement.svg").read_text(encoding="utf-8")
    assert "Buddy support: % of graduates taking part" in engagement  # the generic panel
    assert "Peer groups still meeting" in engagement  # the declared panels stay
    assert re.search(r"Buddy support", (out / "sweep" / "report" / "figures" / "e_costs.svg").read_text())


def test_the_dashboard_draws_the_toy_in_its_colour(toy):
    _, seen = toy
    series = seen["dashboard_series"]
    assert series["buddy_enrolled_share"] == series["buddy_contacts"] == seen["colour"]
    assert series["peer_group_enrolled_share"] != seen["colour"]
    assert all(n > 1000 for n in seen["dashboard_pngs"])  # every figure drawn


def test_the_toy_needed_no_edit_outside_its_own_files():
    """Nothing of the project's source names the toy: it reached every floor through the registry."""
    for folder in ("sim", "experiments", "configs", "hydra_plugins"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".yaml") and path.is_file():
                assert "buddy" not in path.read_text(encoding="utf-8").lower(), path
