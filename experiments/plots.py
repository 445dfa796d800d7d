"""Figures of one run, readable without the code: labelled axes with units, plain-word titles,
a colour-blind-safe palette (Okabe-Ito)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from experiments.labels import CHANNEL_LABELS, COST_LABELS, OKABE_ITO
from sim.costs import CATEGORIES

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure



def plot_trajectories(weekly: pd.DataFrame, title: str, threshold_sd: float) -> Figure:
    """Four panels: who is self-managing (overall and groups at risk), the mean gain, who takes
    part in each channel, and the cumulative cost per graduate."""
    from matplotlib.figure import Figure  # lazy, and no pyplot: a figure for a file, not a window

    fig = Figure(figsize=(12, 8), layout="constrained")
    axes = fig.subplots(2, 2)
    weeks = weekly["week"]

    ax = axes[0, 0]
    for (col, label), colour in zip(
        [
            ("share_self_managing", "Everyone"),
            ("share_self_managing_group_averse", "People who find groups difficult"),
            ("share_self_managing_offline", "People not online"),
            ("share_self_managing_lonely", "People lonely before the course"),
        ],
        OKABE_ITO[:1] + OKABE_ITO[5:8],
    ):
        ax.plot(weeks, 100 * weekly[col], label=label, color=colour, lw=2 if label == "Everyone" else 1.3)
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
    for (name, label), colour in zip(CHANNEL_LABELS.items(), OKABE_ITO[1:]):
        col = f"{name}_enrolled_share"
        if col in weekly and weekly[col].max() > 0:
            ax.plot(weeks, 100 * weekly[col], label=label, color=colour, lw=1.8)
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
        colors=[OKABE_ITO[(i + 1) % len(OKABE_ITO)] for i in range(len(present))],
        alpha=0.85,
    )
    ax.set(ylabel="Cumulative cost per graduate (GBP)", xlabel="Weeks after the course",
           title="What it costs, per graduate")
    ax.legend(frameon=False, fontsize=8, loc="upper left")

    fig.suptitle(title, fontsize=13)
    return fig
