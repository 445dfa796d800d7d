"""Plain words a channel uses to present itself (its phrase in a strategy's name, its panels' facts).

A channel's module says how the channel is shown (its colour, the phrase built from its levers, the
engagement panels of the report: :class:`EngagementPanel`), so that a new channel reaches the
report and the dashboard without an edit elsewhere; :mod:`experiments.labels` reads those words and
re-exports the helpers below (one definition of "fortnightly" for the model and the report).
This module defines no channel; the registry finds none here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def every(weeks: int) -> str:
    """How often, from weeks between contacts: 1 -> 'weekly', 2 -> 'fortnightly', 4 -> 'every 4 weeks'."""
    return {1: "weekly", 2: "fortnightly"}.get(int(weeks), f"every {int(weeks)} weeks")


def months(weeks: int) -> str:
    """Weeks as months in words: 26 -> '6 months', 52 -> '12 months', 104 -> '24 months'."""
    m = weeks * 12 / 52
    return f"{m:.0f} months" if abs(m - round(m)) < 0.05 else f"{weeks} weeks"


def pct(value: float) -> str:
    """A percentage in words for a sentence: 12.3 -> '12%'; above 0 and below 0.5 -> 'under 1%'."""
    return "under 1%" if 0 < value < 0.5 else f"{value:.0f}%"


def month_words(week: float) -> str:
    """A week after the course as a time in words: 26 -> '6 months', 2 -> 'week 2'."""
    m = week * 12 / 52
    return f"{m:.0f} month{'s' if round(m) != 1 else ''}" if m >= 1 else f"week {week:.0f}"


#: How a panel scales its measure. ``share``: a share (0 to 1) shown as a percentage (axis 0-100);
#: ``graduates``: a count shown per 100 graduates of the run (a percentage of them);
#: ``peak``: a count shown as a percentage of its largest value in the run (axis 0-100).
PANEL_SCALES = ("share", "graduates", "peak")


@dataclass(frozen=True)
class EngagementPanel:
    """One panel of the report's engagement figure: a weekly measure of a channel, drawn for every
    strategy that offers the channel (mean over replicates, 95% band).

    Args:
        key: the panel's name (unique over all channels; the derived column's name).
        measure: the weekly measure, an expression of the weekly table's columns
            (``"calls_made - calls_unanswered"``; read by :meth:`pandas.DataFrame.eval`).
        scale: one of :data:`PANEL_SCALES`.
        title: the panel's title, in plain words.
        ylabel: its y-axis label, with the unit.
        dashed: a second measure drawn dashed in the same panel (same scale), or None.
        dashed_note: the note saying which line is which, when ``dashed`` is given.
        fact: the figure title's words for this panel, from the measure in the strategy offering the
            channel alone: ``fact(first, last, halved, horizon)`` with the measure in the first and
            last weeks, the first week it is below half its first value (None: never) and the run's
            horizon in words; None: the panel adds no words to the title.
    """

    key: str
    measure: str
    scale: str
    title: str
    ylabel: str
    dashed: str | None = None
    dashed_note: str = ""
    fact: Callable[[float, float, float | None, str], str] | None = None

    def __post_init__(self) -> None:
        if self.scale not in PANEL_SCALES:
            raise ValueError(f"EngagementPanel {self.key!r}: scale={self.scale!r} must be one of {PANEL_SCALES}")
