"""Figures of one run, readable without the code: labelled axes with units, plain-word titles,
a colour-blind-safe palette (Okabe-Ito); and the panel grid every figure of many panels uses.

Nothing here has a fixed number of items: the subgroups, the channels and the cost categories
drawn are the model's (:mod:`experiments.labels`), each in its own colour, and a grid of panels is
sized from the number of panels (:func:`grid_shape`), never the other way round.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from experiments.labels import (CHANNEL_COLOURS, CHANNEL_LABELS, COST_COLOURS, COST_LABELS, OKABE_ITO, SUBGROUP_COLOURS,
                                 SUBGROUPS)
from sim.costs import CATEGORIES

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def grid_shape(panels: int, max_columns: int) -> tuple[int, int]:
    """Rows and columns of a grid holding ``panels`` panels, at most ``max_columns`` a row:
    ``ceil(panels / columns)`` rows, so a sixteenth target or a sixth channel adds a row rather than
    falling off a fixed grid (one empty panel when there is nothing to draw, for its message)."""
    if isinstance(panels, bool) or not isinstance(panels, int) or panels < 0:
        raise ValueError(f"panels={panels!r}: must be a whole number >= 0")
    if isinstance(max_columns, bool) or not isinstance(max_columns, int) or max_columns < 1:
        raise ValueError(f"max_columns={max_columns!r}: must be a whole number >= 1")
    columns = max(1, min(max_columns, panels))
    return max(1, math.ceil(panels / columns)), columns


def used_axes(axes, panels: int) -> list[Axes]:
    """The first ``panels`` axes of a grid (``plt.subplots``' array), in reading order; the others,
    the end of the last row, are hidden. Raises ValueError when the grid holds fewer: a panel is
    never silently dropped."""
    flat = list(np.ravel(axes))
    if len(flat) < panels:
        raise ValueError(f"panels={panels}: a grid of {len(flat)} axes cannot hold them (size it with grid_shape)")
    for ax in flat[panels:]:
        ax.set_visible(False)
    return flat[:panels]


def plot_trajectories(weekly: pd.DataFrame, title: str, threshold_sd: float) -> Figure:
    """Four panels: who is self-managing (overall and groups at risk), the mean gain, who takes
    part in each channel, and the cumulative cost per graduate."""
    from matplotlib.figure import Figure  # lazy, and no pyplot: a figure for a file, not a window

    fig = Figure(figsize=(12, 8), layout="constrained")
    axes = fig.subplots(2, 2)
    weeks = weekly["week"]

    ax = axes[0, 0]
    for key, label, col in SUBGROUPS:  # everyone, then each subgroup the report follows
        ax.plot(weeks, 100 * weekly[col], label=label, color=SUBGROUP_COLOURS[key], lw=2 if key == "everyone" else 1.3)
    ax.set(ylabel="% responders", xlabel="Weeks after the course", ylim=(0, 100),
           title=f"Responders: measured self-efficacy up at least {threshold_sd:g} SD")
    ax.legend(frameon=False, fontsize=8)

    ax = axes[0, 1]
    ax.plot(weeks, weekly["mean_gain_sd"], color=OKABE_ITO[0], lw=2, label="Mean gain")
    ax.set(ylabel="Gain over pre-course level (SD)", xlabel="Weeks after the course",
           title="What the course gave, and what is left of it")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=8)

    ax = axes[1, 0]
    shown = False
    for name, label in CHANNEL_LABELS.items():  # every channel of the registry, in its own colour
        col = f"{name}_enrolled_share"
        if col in weekly and weekly[col].max() > 0:
            ax.plot(weeks, 100 * weekly[col], label=label, color=CHANNEL_COLOURS[name], lw=1.8)
            shown = True
    if not shown:
        ax.text(0.5, 0.5, "No follow-on support offered", ha="center", va="center", transform=ax.transAxes)
    ax.set(ylabel="% of graduates taking part", xlabel="Weeks after the course", ylim=(0, 100),
           title="Who takes part in follow-on support")
    if shown:
        ax.legend(frameon=False, fontsize=8)

    ax = axes[1, 1]
    present = [c for c in CATEGORIES if weekly[f"cost_{c}_gbp"].max() > 0]
    ax.stackplot(
        weeks,
        [weekly[f"cost_{c}_gbp"] for c in present],
        labels=[COST_LABELS[c] for c in present],
        colors=[COST_COLOURS[c] for c in present],
        alpha=0.85,
    )
    ax.set(ylabel="Cumulative cost per graduate (GBP)", xlabel="Weeks after the course",
           title="What it costs, per graduate")
    ax.legend(frameon=False, fontsize=8, loc="upper left")

    fig.suptitle(title, fontsize=13)
    return fig
