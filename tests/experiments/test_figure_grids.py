"""Figures sized from the data: with more items than any fixed grid or list of colours held (a
ninth channel, a fourteenth subgroup, a sixteenth panel), every item still gets its visible panel,
line or bar. Synthetic inputs, no model run: each test takes well under a second."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from experiments import plots  # noqa: E402
from experiments.labels import report_subgroups  # noqa: E402
from experiments.plots import grid_shape, used_axes  # noqa: E402
from experiments.report import figures as rf  # noqa: E402
from experiments.report.data import Arm, SweepData  # noqa: E402
from sim.costs import CATEGORIES  # noqa: E402
from sim.support.words import EngagementPanel  # noqa: E402

WEEKS = 12
#: Fourteen subgroups of a model that had many (today's report follows three).
MANY_SUBGROUPS = {f"group_{i}": (f"flag_{i}", f"in_{i}", f"out_{i}") for i in range(14)}
#: Nine channels (today's registry has five), each with its one engagement panel.
MANY_CHANNELS = [f"channel_{i}" for i in range(9)]


@pytest.mark.parametrize("panels", [0, 1, 2, 5, 15, 16, 17, 40])
@pytest.mark.parametrize("max_columns", [1, 2, 3, 5])
def test_a_grid_holds_every_panel_and_has_no_empty_row(panels, max_columns):
    rows, columns = grid_shape(panels, max_columns)
    assert rows * columns >= panels and columns <= max_columns
    assert rows == max(1, math.ceil(panels / columns))
    assert panels == 0 or rows * columns - panels < columns  # at most the end of the last row is empty


@pytest.mark.parametrize("panels,max_columns,name", [(-1, 2, "panels"), (2.5, 2, "panels"), (True, 2, "panels"),
                                                     (3, 0, "max_columns"), (3, None, "max_columns")])
def test_a_grid_of_a_bad_size_names_the_parameter(panels, max_columns, name):
    with pytest.raises(ValueError, match=rf"{name}=.*must be a whole number"):
        grid_shape(panels, max_columns)


def test_used_axes_hides_only_the_unused_ones_and_never_drops_a_panel():
    rows, columns = grid_shape(16, 5)  # a sixteenth calibration target on a grid of five a row
    fig, axes = plt.subplots(rows, columns, squeeze=False)
    used = used_axes(axes, 16)
    assert len(used) == 16 and all(ax.get_visible() for ax in used)
    assert sum(ax.get_visible() for ax in fig.axes) == 16
    with pytest.raises(ValueError, match="panels=21"):
        used_axes(axes, 21)
    plt.close(fig)


def _sweep(tmp_path: Path, weekly: pd.DataFrame, strategy: dict) -> SweepData:
    """A one-arm sweep's numbers, as report.data.load would give them."""
    arm = Arm(key="many", strategy="many", population="p", params={}, label="Many things", description="",
              colour="#E69F00", config={"strategy": strategy})
    return SweepData(sweep_dir=tmp_path, runs=pd.DataFrame({"run_id": ["r0"], "n_graduates": [100]}), weekly=weekly,
                     arms=[arm], parameters=[], pair_on=[], weeks=WEEKS, n_graduates=100, timepoints=[WEEKS],
                     headline_week=WEEKS, is_psa=False)


def test_the_engagement_figure_gives_every_channel_its_panel(tmp_path, monkeypatch):
    panels = {name: EngagementPanel(f"{name}_pct", f"{name}_enrolled_share", "share", f"Panel of {name}", "%")
              for name in MANY_CHANNELS}
    types = [SimpleNamespace(name=name, engagement_panels=(panel,), panels=lambda panel=panel: (panel,))
             for name, panel in panels.items()]
    monkeypatch.setattr(rf, "CHANNEL_TYPES", types)
    weeks = np.arange(WEEKS + 1)
    weekly = pd.DataFrame({"run_id": "r0", "arm": "many", "week": weeks,
                           **{f"{n}_enrolled_share": np.linspace(0.5, 0.1, weeks.size) for n in MANY_CHANNELS}})
    figure = rf.engagement(_sweep(tmp_path, weekly, {n: {"enabled": True} for n in MANY_CHANNELS}), "p")
    shown = [ax for ax in figure.fig.axes if ax.get_visible()]
    assert sorted(ax.get_title(loc="left") for ax in shown) == sorted(p.title for p in panels.values())
    assert all(ax.lines for ax in shown)  # each panel draws its channel's line
    plt.close(figure.fig)


def test_the_subgroups_figure_gives_every_subgroup_its_bars(tmp_path, monkeypatch):
    groups, short, _, notes = report_subgroups(MANY_SUBGROUPS)
    monkeypatch.setattr(rf, "SUBGROUPS", groups)
    monkeypatch.setattr(rf, "SUBGROUP_SHORT", short)
    monkeypatch.setattr(rf, "SUBGROUP_NOTES", notes)
    row = {"arm": "many"}
    for i, (key, _, _) in enumerate(groups):
        col = "extra_per_100_h" if key == "everyone" else f"extra_{key}_per_100_h"
        row.update({col: float(i), f"{col}_lo": i - 1.0, f"{col}_hi": i + 1.0})
    reach = pd.DataFrame([{"arm": "many", "subgroup": key, "reached": 0.5, "runs": 2} for key, _, _ in groups])
    data = _sweep(tmp_path, pd.DataFrame(), {"peer_group": {"enabled": True}})
    figure = rf.subgroups(data, pd.DataFrame([row]), reach, "p")
    left, right = figure.fig.axes[:2]
    assert [t.get_text() for t in left.get_yticklabels()] == [short[k] for k, _, _ in groups]
    assert len(left.patches) == len(right.patches) == len(groups)  # one bar each, reached and helped
    plt.close(figure.fig)


def _weekly_of_many(channels: list[str], subgroups) -> pd.DataFrame:
    weeks = np.arange(WEEKS + 1)
    columns = {"week": weeks, "mean_gain_sd": np.linspace(0.3, 0.1, weeks.size)}
    columns |= {col: np.full(weeks.size, 0.4) for _, _, col in subgroups}
    columns |= {f"{c}_enrolled_share": np.full(weeks.size, 0.2) for c in channels}
    columns |= {f"cost_{c}_gbp": np.linspace(0, 10, weeks.size) for c in CATEGORIES}
    return pd.DataFrame(columns)


def test_a_runs_trajectories_draw_every_subgroup_and_every_channel(monkeypatch):
    groups, _, colours, _ = report_subgroups(MANY_SUBGROUPS)
    palette = ["#000001", "#000002", "#000003"]  # fewer named colours than channels: they repeat, never drop
    monkeypatch.setattr(plots, "SUBGROUPS", groups)
    monkeypatch.setattr(plots, "SUBGROUP_COLOURS", colours)
    monkeypatch.setattr(plots, "CHANNEL_LABELS", {c: f"Channel {c}" for c in MANY_CHANNELS})
    monkeypatch.setattr(plots, "CHANNEL_COLOURS", {c: palette[i % 3] for i, c in enumerate(MANY_CHANNELS)})
    fig = plots.plot_trajectories(_weekly_of_many(MANY_CHANNELS, groups), "A run", 0.5)
    responders, _, taking_part, _ = fig.axes
    assert [line.get_label() for line in responders.lines] == [label for _, label, _ in groups]
    assert [line.get_label() for line in taking_part.lines] == [f"Channel {c}" for c in MANY_CHANNELS]


def test_the_dashboard_draws_every_subgroup(monkeypatch):
    from experiments.config import load_params
    from experiments.dashboard import figures as df
    from sim import SelfManagementModel

    groups, _, colours, _ = report_subgroups(MANY_SUBGROUPS)
    monkeypatch.setattr(df, "SUBGROUPS", groups)
    monkeypatch.setattr(df, "SUBGROUP_COLOURS", colours)
    model = SelfManagementModel.from_params(load_params(["n_graduates=30", "weeks=2"]))
    spec = df.chart_specs(model)[0]
    assert [s.column for s in spec.series] == [col for _, _, col in groups]
    assert [s.colour for s in spec.series] == [colours[k] for k, _, _ in groups]
    chart = df.LineChart(spec, weeks=2)
    legend = [t.get_text() for t in chart.fig.legends[0].get_texts()]
    assert all(label in legend for _, label, _ in groups)
