"""The interactive dashboard: watch graduates' gains fade, or hold, week by week under a strategy,
beside the same graduates with the course only.

Serve it with ``make dashboard`` (``PORT=NNNN`` to choose the port), which runs::

    .venv/bin/python -m solara run experiments/dashboard/app.py --host 127.0.0.1 --port 8765 --production

It works offline: Solara's JavaScript comes from the ``solara-assets`` package, and the Vuetify
components from ``ipyvue``/``ipyvuetify`` < 3. It listens on 127.0.0.1 only.

What it shows: controls for the support strategy, the population and a few key parameters, each
with its value in its label (Reset builds a new run from them); Reset, Play/Pause and Step; plots
of the share still self-managing (everyone and the groups at risk), the mean gain, connectedness
and loneliness, who takes part in each channel and how much happens each week (groups open,
forum visitors, calls); and the graduates by course cohort, coloured by their gain, with their
peer groups open or closed and who came to the last meeting. Every plot has a dashed course-only
line: a course-only model of the same graduates (same seed, population and dynamics,
:func:`~experiments.dashboard.model.course_only_reference`) steps alongside the run.

A step is quick: the model steps in about a millisecond, and the figures are redrawn by blitting
(:mod:`~experiments.dashboard.figures`: only the lines and dots, over a static layer drawn once),
so a week costs some tens of milliseconds of server time, not the second a full redraw of six
figures took. The page shows the server time of the last step. Play draws every week, at most
one every :data:`PLAY_FRAME_S`, so two years take under half a minute; nothing steps past ``weeks``.

The page is built from Solara components around the project's Mesa model, not from Mesa's
``SolaraViz``: SolaraViz shows controls that mean nothing here ("Use Threads", play and render
intervals, "Page 0" tabs), names its play button only "▶", hides slider values and lets its Render
Interval step past the last week.

The model is built exactly as the command line builds it (:mod:`~experiments.dashboard.model`), so
``DashboardModel(strategy="peer_group", seed=7)`` is the model of
``python -m experiments.run strategy=peer_group seed=7 ...`` with the same numbers. The page
shows those overrides ("This run").

Every browser session gets its own run (:func:`Dashboard` creates it per session with
``solara.use_memo``).

In a notebook::

    from experiments.dashboard.app import DashboardModel, make_page
    make_page(strategy="peer_group", population="older_75plus", seed=7)   # the dashboard, inline

    model = DashboardModel(strategy="telephone", n_graduates=500, seed=3)  # or just the model
    for _ in range(52):
        model.step()
    model.weekly_table()

``make_page(**values)`` takes the keywords of :class:`DashboardModel` and returns the dashboard
component (the controls start at those values); :data:`CONTROLS` lists the keywords.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import solara

from experiments.dashboard.figures import GraduatesChart, LineChart, chart_specs, draw_all
from experiments.dashboard.model import (
    CONTROLS,
    DASHBOARD_DEFAULTS,
    FACTORS,
    POPULATIONS,
    DashboardModel,
    _config_name,
    course_only_reference,
    defaults,
    overrides,
    population_labels,
    reference_overrides,
    strategy_labels,
)
from experiments import outcomes
from experiments.labels import STRATEGIES, every, months
from sim import reporters
from sim.params import DecayShape, RetentionParams

__all__ = [
    "CONTROLS", "DASHBOARD_DEFAULTS", "FACTORS", "POPULATIONS", "STRATEGIES", "DashboardModel", "Frame", "Run",
    "SliderControl", "controls", "course_only_reference", "defaults", "make_page", "overrides",
    "population_labels", "reference_overrides", "strategy_labels",
]

NAME = "After the course: who keeps self-managing?"
#: Shortest time between two weeks drawn by Play, seconds: slow enough to watch, quick enough that
#: two years (104 weeks) take under 30 s when a step takes less (a step takes some tens of ms).
PLAY_FRAME_S = 0.25


# --- the controls -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SliderControl:
    """A slider of the page: its words, range and grid, and how its value reads in its label.

    ``text(value)`` is the label the page shows, the value in it ("Number of graduates: 1,000"),
    so the value is visible without touching the slider.
    """

    label: str
    value: float
    min: float
    max: float
    step: float
    show: Callable[[float], str]

    @property
    def is_float(self) -> bool:
        return any(isinstance(x, float) for x in (self.value, self.min, self.max, self.step))

    def text(self, value: float) -> str:
        return f"{self.label}: {self.show(value)}"


def _times(value: float) -> str:
    """A factor of the calibrated value in words: 1.5 -> '1.5 x usual'."""
    return f"{value:g} x usual"


def controls(**values) -> dict[str, SliderControl | dict]:
    """The page's controls by keyword of :class:`DashboardModel`, starting at ``values`` (missing
    ones take :func:`defaults`): selects (dicts of label, value, values) for the strategy and the
    population, :class:`SliderControl` for the numbers."""
    v = {**defaults(), **{k: val for k, val in values.items() if val is not None}}
    strategies, populations = strategy_labels(), population_labels()
    return {
        "strategy": {"label": "Support after the course", "values": list(strategies.values()),
                     "value": strategies[_config_name(v["strategy"], strategies, "strategy")]},
        "population": {"label": "Who the graduates are", "values": list(populations.values()),
                       "value": populations[_config_name(v["population"], populations, "population")]},
        "n_graduates": SliderControl("Graduates", int(v["n_graduates"]), 100, 5000, 100,
                                     lambda x: f"{int(x):,}"),
        "weeks": SliderControl("Weeks", int(v["weeks"]), 26, 156, 26,
                               lambda x: f"{int(x)} ({months(int(x))})"),
        "seed": SliderControl("Random seed", int(v["seed"]), 1, 100, 1, lambda x: f"{int(x)}"),
        "peer_group_interval_weeks": SliderControl(
            "Peer groups meet", int(v["peer_group_interval_weeks"]), 1, 8, 1, lambda x: every(int(x))),
        "capacity_calls_per_week_per_100_offered": SliderControl(
            "Calls a week per 100 offered", float(v["capacity_calls_per_week_per_100_offered"]),
            0.0, 100.0, 1.0, lambda x: f"{x:g}"),
        "decay_rate_factor": SliderControl(
            "Gains fade", float(v["decay_rate_factor"]), 0.25, 3.0, 0.25, _times),
        "isolation_effect_factor": SliderControl(
            "Extra fading if lonely", float(v["isolation_effect_factor"]), 0.0, 3.0, 0.25, _times),
    }


def control_values(**values) -> dict[str, object]:
    """The controls' starting values (what Reset would pass to :class:`DashboardModel`)."""
    return {name: c["value"] if isinstance(c, dict) else c.value for name, c in controls(**values).items()}


# --- one run: the model, its course-only reference and their figures ------------------------------

@dataclass(frozen=True)
class Frame:
    """What the page shows of a run at one week, fixed when the week was drawn (the play thread may
    step the models on while the page renders).

    Attributes:
        week, weeks: the week shown and the horizon.
        images: PNG bytes of each figure, in the page's order.
        step_seconds: server time of the step that made this frame (both models and every figure),
            seconds; None for the run's first frame.
        share, share_reference: share self-managing (0 to 1), the run and its course-only reference.
        gain, gain_reference: mean gain over the pre-course level, SD units.
    """

    week: int
    weeks: int
    images: tuple[bytes, ...]
    step_seconds: float | None
    share: float
    share_reference: float
    gain: float
    gain_reference: float


class Run:
    """One run of the page: :class:`DashboardModel` from the controls' values, its course-only
    reference, and their figures, stepped together (a lock keeps Step and Play from overlapping).

    Args:
        values: keywords of :class:`DashboardModel` (the controls' values).
    """

    def __init__(self, values: dict | None = None):
        self.values = dict(values or {})
        self.model = DashboardModel(**self.values)
        self.reference = course_only_reference(self.model)
        self.charts = [LineChart(spec, self.model.params.weeks) for spec in chart_specs(self.model)]
        self.graduates = GraduatesChart(self.model)
        self._lock = threading.Lock()
        self.frame = self._draw(None)

    @property
    def weeks(self) -> int:
        return self.model.params.weeks

    @property
    def finished(self) -> bool:
        """The run has reached its last week (``weeks``): no step goes past it."""
        return self.model.week >= self.weeks

    def _draw(self, started: float | None) -> Frame:
        """The frame of the current week; ``started`` (``time.perf_counter()``) times the step."""
        m, r = self.model, self.reference
        images = draw_all(self.charts, self.graduates, m, r)
        return Frame(
            m.week, self.weeks, images, None if started is None else time.perf_counter() - started,
            reporters.share_self_managing(m), reporters.share_self_managing(r),
            reporters.mean_gain_sd(m), reporters.mean_gain_sd(r),
        )

    def step(self) -> Frame:
        """One week on for the run and its reference, figures redrawn; the frame of that week.
        At the last week, nothing happens and the last frame is returned."""
        with self._lock:
            if not self.finished:
                start = time.perf_counter()
                self.model.step()
                self.reference.step()
                self.frame = self._draw(start)
            return self.frame


# --- the page -----------------------------------------------------------------------------------

def fading_text(r: RetentionParams) -> str:
    """How fast unpractised gains fade, in plain words."""
    if r.decay_shape == DecayShape.exponential:
        alone = 1.0 - math.exp(-r.decay_rate_per_week * (1.0 + r.isolation_effect))
        return (f"Unpractised gains fade {1.0 - math.exp(-r.decay_rate_per_week):.1%} a week for someone "
                f"with plenty of company, {alone:.1%} for someone with none.")
    return (f"Unpractised gains fade fast at first, then slowly (power law); "
            f"{1.0 + r.isolation_effect:.1f} times as fast for someone with no company.")


SMALL = {"font-size": "0.85em"}


def _value(outcome: outcomes.Outcome, value: float) -> str:
    """A value in the dashboard's words: a share as a percentage, else with its unit's first word."""
    return f"{value:.0%}" if outcome.is_share else f"{value:.2f} {outcome.unit.split()[0]}"


def headline_text(frame: Frame) -> str:
    """The run's headline outcomes against course only, named by the outcome catalogue
    (:mod:`experiments.outcomes`): "Still self-managing: 31% (course only: 28%); ...". """
    values = {"share_self_managing": (frame.share, frame.share_reference),
              "mean_gain_sd": (frame.gain, frame.gain_reference)}
    parts = []
    for name, (run, reference) in values.items():
        o = outcomes.get(name)
        parts.append(f"{o.label}: {_value(o, run)} (course only: {_value(o, reference)})")
    return "; ".join(parts) + "."


@solara.component
def Controller(frame: Frame, playing: solara.Reactive[bool], on_reset, on_step):
    """Reset, Play/Pause and Step, each named in words (what a screen reader says), and the week."""
    finished = frame.week >= frame.weeks
    with solara.Card("Run"), solara.Column(gap="8px"):
        solara.Text(f"Week {frame.week} of {frame.weeks}", classes=["dashboard-week"],
                    style={"font-weight": "bold", "font-size": "1.1em"})
        with solara.Row(justify="space-between"):
            solara.Button("Reset", on_click=on_reset, color="primary", outlined=True,
                          attributes={"title": "Start a new run with the settings below"})
            solara.Button("Pause" if playing.value else "Play", icon_name="mdi-pause" if playing.value else "mdi-play",
                          on_click=lambda: playing.set(not playing.value), color="primary", disabled=finished,
                          attributes={"title": "Stop at this week" if playing.value else "Run week after week"})
            solara.Button("Step", on_click=on_step, color="primary", disabled=playing.value or finished,
                          attributes={"title": "One week on"})
        if finished:
            solara.Text(f"The run has reached its last week ({frame.weeks}). Press Reset for a new one.",
                        classes=["dashboard-finished"], style=SMALL)
        if frame.step_seconds is not None:
            solara.Text(f"Last step: {frame.step_seconds:.3f} s on the server (both models and every figure)",
                        classes=["dashboard-step-time"], style={"font-size": "0.75em", "color": "#666"})


@solara.component
def Status(run: Run, frame: Frame):
    """The strategy in plain words against course only, and the command line of the same model."""
    m = run.model
    with solara.Card("This run"):
        # plain text, not Markdown: solara's Markdown fetches KaTeX from a CDN (the page must work offline)
        with solara.Column(gap="6px"):
            solara.Text(f"{m.params.strategy.label}; {m.params.population.label.lower()}.")
            solara.Text(headline_text(frame), classes=["dashboard-outcome"])
            solara.Text("Dashed lines: the same graduates with the course only (same seed).", style=SMALL)
            solara.Text(fading_text(m.params.dynamics.retention), style=SMALL)
            solara.Text("This run from the command line:", style={"font-size": "0.8em"})
            # wraps anywhere: a long line would widen the sidebar
            solara.Text(
                "python -m experiments.run \\\n  " + " \\\n  ".join(m.overrides),
                classes=["dashboard-command"],
                style={"font-family": "monospace", "font-size": "0.75em", "white-space": "pre-wrap",
                       "overflow-wrap": "anywhere"},
            )


@solara.component
def Settings(settings: solara.Reactive[dict], applied: dict):
    """The controls, each with its value in its label; they take effect on Reset."""

    def set_value(name, value):
        settings.set({**settings.value, name: value})

    with solara.Card("Settings"):
        for name, control in controls(**settings.value).items():
            value = settings.value[name]
            if isinstance(control, dict):
                solara.Select(control["label"], values=control["values"], value=control["value"],
                              on_value=lambda v, name=name: set_value(name, v))
            else:
                slider = solara.SliderFloat if control.is_float else solara.SliderInt
                slider(control.text(value), value=value, min=control.min, max=control.max, step=control.step,
                       on_value=lambda v, name=name: set_value(name, v))
        if settings.value != applied:
            solara.Text("Settings changed: press Reset to start a run with them.", classes=["dashboard-pending"],
                        style={**SMALL, "font-weight": "bold"})
        else:
            solara.Text("Change the settings, then press Reset to start a new run with them.", style=SMALL)


@solara.component
def Figures(images: tuple[bytes, ...]):
    """The figures, two a row."""
    with solara.GridFixed(columns=2, column_gap="12px", row_gap="12px"):
        for image in images:
            solara.Image(image, width="100%")


@solara.component
def Dashboard(values: dict | None = None):
    """The whole dashboard with its own run, built from ``values`` (keywords of DashboardModel)."""
    start = solara.use_memo(lambda: control_values(**dict(values or {})), [])  # once per session
    first = solara.use_memo(lambda: Run(start), [])
    run = solara.use_reactive(first)
    frame = solara.use_reactive(first.frame)
    settings = solara.use_reactive(start)
    playing = solara.use_reactive(False)
    session_lock = solara.use_memo(threading.Lock, [])  # a frame of an old run never replaces a new one

    def show(current: Run, new: Frame) -> None:
        with session_lock:
            if run.value is current:
                frame.set(new)

    def on_step():
        if not playing.value:
            show(run.value, run.value.step())

    def on_reset():
        playing.set(False)
        new = Run(settings.value)
        with session_lock:
            run.set(new)
            frame.set(new.frame)

    def play(cancel: threading.Event):
        """While playing: a week, then wait for the rest of PLAY_FRAME_S; stops at the last week."""
        current = run.value
        if not playing.value:
            return
        while playing.value and not cancel.is_set() and not current.finished:
            began = time.monotonic()
            show(current, current.step())
            cancel.wait(max(0.0, PLAY_FRAME_S - (time.monotonic() - began)))
        if current.finished and run.value is current:
            playing.set(False)

    # not intrusive: a Pause never interrupts a week half-way (the models stay consistent)
    solara.use_thread(play, dependencies=[playing.value, run.value], intrusive_cancel=False)

    solara.Title(NAME)
    with solara.AppBar():
        solara.AppBarTitle(NAME)
    with solara.Sidebar():
        with solara.Column():
            Controller(frame.value, playing, on_reset, on_step)
            Status(run.value, frame.value)
            Settings(settings, run.value.values)
    Figures(frame.value.images)


@solara.component
def Page():
    """The page ``solara run`` serves: each browser session renders it, and gets its own run."""
    Dashboard()


def make_page(**values):
    """The dashboard for a notebook cell: ``make_page(strategy="peer_group", seed=7)``."""
    unknown = set(values) - set(CONTROLS)
    if unknown:
        raise TypeError(f"unknown control(s) {sorted(unknown)}; the controls are {list(CONTROLS)}")
    return Dashboard(values=values)
