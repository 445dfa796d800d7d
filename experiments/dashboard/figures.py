"""The dashboard's figures, drawn fast enough to follow the model week by week.

Each figure is a matplotlib figure kept for the whole run, drawn in two layers: the static layer
(axes, ticks, grid, labels, legend, the whole horizon of weeks on the x axis) is drawn once, and
each week only what moves (the lines, the dots) is drawn over a copy of it ("blitting"), then
encoded as a PNG. A week's figure costs a few milliseconds instead of the 0.1 s of a full
``savefig(bbox_inches="tight")``; the static layer is drawn again only when a count outgrows its
y axis (the axis then grows to the next round number above 1.25 times the peak, so that happens a
handful of times in a run).

Every time series is drawn twice: solid for the run, dashed in the same colour for its course-only
reference (:func:`experiments.dashboard.model.course_only_reference`), so the gap between the two
lines is what the strategy adds. Colours come from :mod:`experiments.labels`: a channel's measures
take its colour (declared in its module, sim/support/<channel>.py: peer groups orange, telephone
sky blue, online group green; a channel that declares none, a spare one), a subgroup's from
``labels.SUBGROUP_COLOURS``. The channels drawn and their weekly counts are the registry's (every
matched channel, and any other the model offers), the subgroups the model's
(:data:`sim.reporters.SUBGROUPS`): nothing is drawn from a fixed list that a new one would outgrow.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib.ticker as mticker
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from PIL import Image

from experiments.labels import CHANNEL_COLOURS, CHANNEL_LABELS, MATCHED, OKABE_ITO, SUBGROUP_COLOURS, SUBGROUPS
from sim import SelfManagementModel
from sim.measurement import responder_gain_sd
from sim.params import GroupFormation
from sim.support import CHANNEL_TYPES

WEEKS_LABEL = "Weeks after the course"
#: The legend entry of every dashed line.
REFERENCE_LABEL = "Dashed: course only (same graduates)"
#: Size of each time-series figure, inches at :data:`DPI` (640 x 440 pixels).
FIGSIZE_IN = (6.4, 4.4)
DPI = 100
#: Legend entries longer than this (characters) take a row each: two would not fit side by side.
LONG_LABEL = 42
#: Cohorts drawn in the graduates view (more would make the dots too small to read).
MAX_COHORTS_SHOWN = 24
#: zlib level of the PNGs: 1 encodes a figure in about 5 ms, 6 (matplotlib's) about 8 ms for
#: 5% fewer bytes, which a local websocket does not notice.
PNG_COMPRESS_LEVEL = 1
#: Colours of the cohort's peer group in the graduates view.
GROUP_OPEN_COLOUR, GROUP_CLOSED_COLOUR = "#cfe8f7", "#d9d9d9"


def png(fig: Figure) -> bytes:
    """The figure's canvas as it stands (nothing redrawn) as PNG bytes."""
    canvas = fig.canvas
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


@dataclass(frozen=True)
class Series:
    """One weekly measure on a figure: its weekly-table column, its words and its colour."""

    column: str
    label: str
    colour: str


@dataclass(frozen=True)
class ChartSpec:
    """What a time-series figure shows.

    Attributes:
        title, ylabel: words on the figure.
        series: the measures drawn (each solid for the run, dashed for the course-only reference).
        percent: the y axis as % (the measures are shares, 0 to 1).
        ylim: the y axis; ``None`` as its top grows with the data (counts), starting at ``min_top``.
        hline: a fixed horizontal line (value, legend words), e.g. the gain a responder needs.
    """

    title: str
    ylabel: str
    series: tuple[Series, ...]
    percent: bool = False
    ylim: tuple[float, float | None] = (0.0, None)
    min_top: float = 1.0
    hline: tuple[float, str] | None = None


def chart_specs(model: SelfManagementModel) -> list[ChartSpec]:
    """The time-series figures of the page, in order (words and thresholds from ``model``'s params)."""
    dyn = model.params.dynamics
    threshold = responder_gain_sd(dyn.measurement)  # the true gain a responder needs, on average
    # every matched channel, and any other the model offers; each in its colour (experiments.labels)
    shown = [c for c in CHANNEL_TYPES if c.name in MATCHED or model.params.strategy.channels[c.name].enabled]
    return [
        ChartSpec(
            "Who is still self-managing?", "% of graduates self-managing",
            tuple(Series(column, words, SUBGROUP_COLOURS[key]) for key, words, column in SUBGROUPS),
            percent=True, ylim=(0.0, 1.0),
        ),
        ChartSpec(
            "What is left of the course's gain", "Mean gain over pre-course level (SD)",
            (Series("mean_gain_sd", "Mean gain", OKABE_ITO[0]),),
            min_top=max(0.5, 1.25 * threshold),
            hline=(threshold, f"Gain a responder needs on average ({threshold:.2f} SD)"),
        ),
        ChartSpec(
            "Company and loneliness", "Connectedness, or share lonely (0 to 1)",
            (Series("mean_connectedness", "Mean connectedness (0 isolated, 1 well connected)", OKABE_ITO[3]),
             Series("share_lonely", f"Share lonely (connectedness below {dyn.connectedness.lonely_threshold:g})",
                    OKABE_ITO[6])),
            ylim=(0.0, 1.0),
        ),
        ChartSpec(
            "Who takes part in follow-on support", "% of graduates enrolled",
            tuple(Series(f"{c.name}_enrolled_share", CHANNEL_LABELS[c.name], CHANNEL_COLOURS[c.name]) for c in shown),
            percent=True, ylim=(0.0, 1.0),
        ),
        ChartSpec(
            "What happens each week", "Number",
            tuple(Series(column, words, CHANNEL_COLOURS[c.name]) for c in shown
                  if c.weekly_counts is not None or model.params.strategy.channels[c.name].enabled
                  for column, words in c.counts()),
            min_top=10.0,
        ),
    ]


def _weekly(model: SelfManagementModel, column: str) -> np.ndarray:
    """A weekly measure so far (week 0 to now), from the model's DataCollector, without a DataFrame."""
    return np.asarray(model.datacollector.model_vars[column], dtype=float)


def _nice_top(value: float) -> float:
    """The next 1, 2 or 5 times a power of ten at or above ``value`` (an axis top that reads well)."""
    power = 10.0 ** np.floor(np.log10(value))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= value))


@dataclass
class LineChart:
    """A time-series figure of a run and its course-only reference, redrawn by blitting.

    ``draw(run, reference)`` returns the PNG of the weeks so far; ``full_draws`` counts the
    times the static layer was drawn (once, plus once per growth of the y axis).
    """

    spec: ChartSpec
    weeks: int
    fig: Figure = field(init=False)
    full_draws: int = field(init=False, default=0)

    def __post_init__(self):
        spec = self.spec
        self.fig = Figure(figsize=FIGSIZE_IN, dpi=DPI, layout="constrained")
        FigureCanvasAgg(self.fig)
        ax = self.ax = self.fig.subplots()
        self.lines = []  # (series, run's line, reference's line)
        for s in spec.series:
            ref = ax.plot([], [], color=s.colour, lw=1.3, ls=(0, (4, 2.5)), animated=True)[0]
            run = ax.plot([], [], color=s.colour, lw=2.2 if s.label == "Everyone" else 1.7, animated=True)[0]
            self.lines.append((s, run, ref))
        handles = [Line2D([], [], color=s.colour, lw=2) for s in spec.series]
        labels = [s.label for s in spec.series]
        if spec.hline is not None:
            ax.axhline(spec.hline[0], color="grey", ls=":", lw=1.2)
            handles.append(Line2D([], [], color="grey", ls=":", lw=1.2))
            labels.append(spec.hline[1])
        handles.append(Line2D([], [], color="#555555", lw=1.3, ls=(0, (4, 2.5))))
        labels.append(REFERENCE_LABEL)
        # below the axes, never over the lines (blitted lines would be drawn over a legend inside)
        ncols = 1 if max(len(text) for text in labels) > LONG_LABEL else 2
        self.fig.legend(handles, labels, loc="outside lower center", ncols=ncols, frameon=False, fontsize=8.5)
        ax.set_xlim(0, max(self.weeks, 1))  # the whole horizon from the start: the axes never move
        ax.xaxis.set_major_locator(mticker.MultipleLocator(13 if self.weeks <= 104 else 26))  # quarters
        bottom, top = spec.ylim
        self.top = top if top is not None else spec.min_top
        ax.set_ylim(bottom, self.top)
        if spec.percent:
            ax.yaxis.set_major_formatter(mticker.PercentFormatter(xmax=1.0, decimals=0))
        ax.set_title(spec.title, fontsize=12)
        ax.set_ylabel(spec.ylabel)
        ax.set_xlabel(WEEKS_LABEL)
        ax.grid(alpha=0.3)
        self._background = None

    def _draw_static(self) -> None:
        self.fig.canvas.draw()  # animated artists (the lines) are left out
        self._background = self.fig.canvas.copy_from_bbox(self.fig.bbox)
        self.full_draws += 1

    def draw(self, run: SelfManagementModel, reference: SelfManagementModel) -> bytes:
        """The figure at the run's current week, as PNG bytes."""
        data = [(_weekly(run, s.column), _weekly(reference, s.column)) for s, _, _ in self.lines]
        if self.spec.ylim[1] is None:  # a count: grow the axis when the data outgrow it
            peak = max(float(np.nanmax(np.concatenate(pair))) for pair in data)
            if peak > self.top:
                self.top = _nice_top(1.25 * peak)
                self.ax.set_ylim(self.spec.ylim[0], self.top)
                self._background = None
        if self._background is None:
            self._draw_static()
        canvas = self.fig.canvas
        canvas.restore_region(self._background)
        for (_, run_line, ref_line), (y_run, y_ref) in zip(self.lines, data):
            ref_line.set_data(np.arange(y_ref.size), y_ref)
            run_line.set_data(np.arange(y_run.size), y_run)
            self.ax.draw_artist(ref_line)  # the reference first: the run's line on top
            self.ax.draw_artist(run_line)
        return png(self.fig)


class GraduatesChart:
    """Graduates as dots by course cohort, coloured by their gain; their cohort's peer group open or
    closed, and who came to its last meeting. Blitted like :class:`LineChart`: the dots, the
    circles, the groups' bands and the title (its week) are redrawn each week."""

    def __init__(self, model: SelfManagementModel):
        g = model.graduates
        self.shown = min(int(g.cohort.max()) + 1, MAX_COHORTS_SHOWN)
        self.idx = np.flatnonzero(g.cohort < self.shown)
        cohort = g.cohort[self.idx]
        rank = np.zeros(self.idx.size, dtype=int)
        for c in range(self.shown):
            members = cohort == c
            rank[members] = np.arange(1, np.count_nonzero(members) + 1)
        threshold = responder_gain_sd(model.params.dynamics.measurement)  # a responder's true gain, on average
        max_gain = model.params.dynamics.retention.max_gain_sd
        self.n_cohorts = int(g.cohort.max()) + 1
        strategy = model.params.strategy
        self.peer_groups = strategy.peer_group.enabled

        self.fig = fig = Figure(figsize=(6.6, 4.4), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        ax = self.ax = fig.subplots()
        handles = []
        self.bands = []  # (band, the cohort's graduates' rows in idx)
        if self.peer_groups and strategy.peer_group.formation == GroupFormation.cohort:
            for c in range(self.shown):
                band = ax.axvspan(c + 0.5, c + 1.5, color=GROUP_CLOSED_COLOUR, lw=0, zorder=0, animated=True)
                self.bands.append((band, self.idx[cohort == c]))
            handles += [Patch(color=GROUP_OPEN_COLOUR, label="Peer group open"),
                        Patch(color=GROUP_CLOSED_COLOUR, label="Peer group closed")]
        self.came = None
        if self.peer_groups:
            self.came = ax.scatter(cohort + 1, rank, s=95, facecolors="none", edgecolors="none", lw=1.2,
                                   zorder=2, animated=True)
            handles.append(Line2D([], [], marker="o", ls="", mfc="none", mec="black", ms=9,
                                  label="Came to the last group meeting"))
        self.dots = ax.scatter(cohort + 1, rank, c=model.week_gain[self.idx], cmap="viridis", vmin=0.0,
                               vmax=max_gain, s=36, zorder=3, animated=True)
        bar = fig.colorbar(self.dots, ax=ax, pad=0.01)
        bar.set_label(f"Gain over pre-course level (SD)\nwhite line: a responder's gain on average ({threshold:.2f} SD)")
        bar.ax.axhline(threshold, color="white", lw=2.5)
        ax.set_xlabel("Course cohort" + (f" (the first {self.shown} of {self.n_cohorts})"
                                         if self.shown < self.n_cohorts else ""))
        ax.set_ylabel("Graduate in the cohort")
        ax.set_xlim(0.5, self.shown + 0.5)
        ax.set_ylim(0.2, max(int(rank.max()), 1) + 0.8)
        ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(mticker.MaxNLocator(integer=True))
        if handles:
            fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False, fontsize=9)
        ax.set_title("Week 0: each dot a graduate, by course cohort", fontsize=12)
        ax.title.set_animated(True)
        fig.canvas.draw()
        self._background = fig.canvas.copy_from_bbox(fig.bbox)

    def title(self, model: SelfManagementModel) -> str:
        return f"Week {model.week}: each dot a graduate, by course cohort"

    def draw(self, model: SelfManagementModel) -> bytes:
        """The graduates at the model's current week, as PNG bytes."""
        ax, canvas = self.ax, self.fig.canvas
        canvas.restore_region(self._background)
        pg = model.channels["peer_group"]
        for band, members in self.bands:
            groups = pg.group_of[members]
            groups = groups[groups >= 0]
            is_open = bool(groups.size and pg.group_open[groups[0]])
            band.set_color(GROUP_OPEN_COLOUR if is_open else GROUP_CLOSED_COLOUR)
            ax.draw_artist(band)
        if self.came is not None:
            came = np.asarray(pg.attended_last[self.idx], dtype=bool)
            edges = np.zeros((self.idx.size, 4))
            edges[:, 3] = came  # black where they came, transparent where not
            self.came.set_edgecolors(edges)
            ax.draw_artist(self.came)
        self.dots.set_array(model.week_gain[self.idx])
        ax.draw_artist(self.dots)
        ax.title.set_text(self.title(model))
        ax.draw_artist(ax.title)
        return png(self.fig)


def draw_all(charts: Sequence[LineChart], graduates: GraduatesChart, run: SelfManagementModel,
             reference: SelfManagementModel) -> tuple[bytes, ...]:
    """Every figure of the page at the run's current week, in the page's order."""
    return (*(chart.draw(run, reference) for chart in charts), graduates.draw(run))
