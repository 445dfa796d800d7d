"""The interactive dashboard: watch graduates' gains fade, or hold, week by week under a strategy.

Serve it with ``make dashboard`` (``PORT=NNNN`` to choose the port), which runs::

    .venv/bin/python -m solara run experiments/dashboard/app.py --host 127.0.0.1 --port 8765 --production

It works offline: Solara's JavaScript comes from the ``solara-assets`` package, and Mesa's layout
from ``ipyvue``/``ipyvuetify`` < 3. It listens on 127.0.0.1 only.

What it shows (Mesa's ``SolaraViz``): controls for the support strategy, the population and a few
key parameters (Reset builds a new model from them); plots of the share still self-managing
(everyone and the groups at risk), the mean gain, connectedness and loneliness, who takes part in
each channel and how much happens each week (groups open, forum visitors, calls); and a view of
the graduates by course cohort, coloured by their gain, with their peer groups open or closed and
who came to the last meeting. The plots are Mesa's ``PlotMatplotlib`` components, drawn once per
week of the model (see :func:`_plot`); the figures use the weekly reporters of :mod:`sim.reporters`.

The model is built exactly as the command line builds it: the controls become Hydra overrides
(:func:`overrides`) for :func:`experiments.config.load_params`, so
``DashboardModel(strategy="peer_group", seed=7)`` is the model of
``python -m experiments.run strategy=peer_group seed=7 ...`` with the same numbers. The page
shows those overrides ("This run"). The two dynamics controls are factors of the configured
(calibrated) values, so that 1 is exactly the command line's value.

Every browser session gets its own model (:func:`Page` creates it per session with
``solara.use_memo``); a module-level ``SolaraViz(model)`` would share one model between sessions.

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
from functools import cache

import matplotlib.ticker as mticker
import numpy as np
import reacton
import solara
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from mesa.visualization import Slider, SolaraViz
from mesa.visualization.components.matplotlib_components import PlotMatplotlib
from mesa.visualization.utils import update_counter
from omegaconf import OmegaConf

from experiments.config import CONFIG_DIR, load_params
from experiments.labels import CHANNEL_LABELS, OKABE_ITO, STRATEGIES
from sim import SelfManagementModel, reporters
from sim.params import DecayShape, GroupFormation, RetentionParams
from sim.measurement import responder_gain_sd

#: The strategies and populations offered, in this order (names of ``configs/strategy`` and
#: ``configs/population`` files).
POPULATIONS = ("general_ltc", "clahrc_sample", "older_75plus")

#: The dashboard's controls: keyword of :class:`DashboardModel` -> dotted key of the config.
CONTROLS = {
    "strategy": "strategy",
    "population": "population",
    "n_graduates": "n_graduates",
    "weeks": "weeks",
    "seed": "seed",
    "peer_group_interval_weeks": "strategy.peer_group.interval_weeks",
    "capacity_calls_per_week_per_100_offered": "strategy.telephone.capacity_calls_per_week_per_100_offered",
    "decay_rate_factor": "dynamics.retention.decay_rate_per_week",
    "isolation_effect_factor": "dynamics.retention.isolation_effect",
}
#: Controls that multiply the config's value (1 = as configured, e.g. calibrated). The calibrated
#: values (0.017832 per week, ...) lie on no slider's grid: a slider holding them would snap them
#: to a rounded value, and Reset would then build a different model from the one first shown.
FACTORS = ("decay_rate_factor", "isolation_effect_factor")
#: The dashboard's own starting values where they differ from the command line's.
DASHBOARD_DEFAULTS = {"n_graduates": 1000}  # a smaller model, so that the page stays quick

#: Cohorts drawn in the graduates view (more would make the dots too small to read).
MAX_COHORTS_SHOWN = 24

# Hydra's compose uses process-wide state; sessions build models in parallel threads.
_HYDRA_LOCK = threading.Lock()


@cache
def _label(group: str, name: str) -> str:
    """The plain-word label of a config choice (its ``label`` field)."""
    return str(OmegaConf.load(CONFIG_DIR / group / f"{name}.yaml").label)


def strategy_labels() -> dict[str, str]:
    """Config name -> plain words, e.g. ``peer_group`` -> ``Peer support groups``."""
    return {name: _label("strategy", name) for name in STRATEGIES}


def population_labels() -> dict[str, str]:
    return {name: _label("population", name) for name in POPULATIONS}


def _config_name(value: str, labels: dict[str, str], what: str) -> str:
    """Accept a config name (``peer_group``) or its label (``Peer support groups``)."""
    if value in labels:
        return value
    for name, label in labels.items():
        if value == label:
            return name
    raise ValueError(f"{what}={value!r} is not one of {list(labels)} (or their labels {list(labels.values())})")


def _load(overrides: tuple[str, ...]):
    with _HYDRA_LOCK:
        return load_params(list(overrides))


@cache
def _config_defaults():
    return _load(())


def defaults() -> dict[str, object]:
    """The controls' starting values: the command line's defaults (``configs/config.yaml``), but
    1,000 graduates (:data:`DASHBOARD_DEFAULTS`)."""
    p = _config_defaults()
    return {
        "strategy": p.strategy.name,
        "population": p.population.name,
        "n_graduates": p.n_graduates,
        "weeks": p.weeks,
        "seed": p.seed,
        "peer_group_interval_weeks": p.strategy.peer_group.interval_weeks,
        "capacity_calls_per_week_per_100_offered": p.strategy.telephone.capacity_calls_per_week_per_100_offered,
        "decay_rate_factor": 1.0,
        "isolation_effect_factor": 1.0,
        **DASHBOARD_DEFAULTS,
    }


def _plain(value):
    """A slider's number as the command line would write it (0.030000000000000002 -> 0.03, 4.0 -> 4)."""
    if isinstance(value, float):
        value = float(f"{value:.6g}")
        return int(value) if value.is_integer() else value
    return value


def overrides(**values) -> list[str]:
    """The command-line overrides that build the model of these controls' values.

    A control left out (or None) keeps the config's value, except the dashboard's own
    :data:`DASHBOARD_DEFAULTS`; a factor of 1 adds nothing. For example ``overrides(seed=7)`` ->
    ``["strategy=offer_all", "population=general_ltc", "n_graduates=1000", "weeks=104", "seed=7"]``.
    """
    unknown = set(values) - set(CONTROLS)
    if unknown:
        raise TypeError(f"unknown control(s) {sorted(unknown)}; the controls are {list(CONTROLS)}")
    start = defaults()
    given = {k: val for k, val in values.items() if val is not None}
    v = {k: given.get(k, start[k]) for k in ("strategy", "population", "n_graduates", "weeks", "seed")}
    v["strategy"] = _config_name(v["strategy"], strategy_labels(), "strategy")
    v["population"] = _config_name(v["population"], population_labels(), "population")
    out = [f"{CONTROLS[k]}={_plain(val)}" for k, val in v.items()]
    for name in ("peer_group_interval_weeks", "capacity_calls_per_week_per_100_offered"):
        if name in given:
            out.append(f"{CONTROLS[name]}={_plain(given[name])}")
    if any(float(given.get(name, 1.0)) != 1.0 for name in FACTORS):
        base = _load(tuple(out))  # the configured values for this strategy and population
        for name in FACTORS:
            factor = float(given.get(name, 1.0))
            if factor != 1.0:
                *path, last = CONTROLS[name].split(".")
                node = base
                for part in path:
                    node = getattr(node, part)
                out.append(f"{CONTROLS[name]}={_plain(factor * getattr(node, last))}")
    return out


class DashboardModel(SelfManagementModel):
    """The model as the dashboard builds it: simple keywords in, config composed as on the command line.

    Every keyword left at None keeps the config's value (``configs/config.yaml`` and the chosen
    strategy and population), except ``n_graduates`` (1,000 here).

    Args:
        strategy: a name of ``configs/strategy`` (``course_only``, ``peer_group``, ``telephone``,
            ``online``, ``offer_all``, ``tailored``) or its plain-word label.
        population: a name of ``configs/population`` (``general_ltc``, ``clahrc_sample``,
            ``older_75plus``) or its label.
        n_graduates: graduates in the model.
        weeks: weeks after the course to simulate.
        seed: the base seed (replicate 0 keeps it).
        peer_group_interval_weeks: weeks between peer group meetings.
        capacity_calls_per_week_per_100_offered: telephone call capacity bought, calls a week per 100 graduates offered calls.
        decay_rate_factor: multiplies ``dynamics.retention.decay_rate_per_week`` (how fast the
            unpractised part of the gain fades); 1 keeps the configured (calibrated) rate.
        isolation_effect_factor: multiplies ``dynamics.retention.isolation_effect`` (the extra
            fading of someone with no company); 1 keeps the configured value.

    ``model.overrides`` holds the command-line overrides that build the same model.
    """

    def __init__(
        self,
        strategy: str | None = None,
        population: str | None = None,
        n_graduates: int | None = None,
        weeks: int | None = None,
        seed: int | None = None,
        peer_group_interval_weeks: int | None = None,
        capacity_calls_per_week_per_100_offered: float | None = None,
        decay_rate_factor: float = 1.0,
        isolation_effect_factor: float = 1.0,
    ):
        self.overrides = overrides(
            strategy=strategy,
            population=population,
            n_graduates=n_graduates,
            weeks=weeks,
            seed=seed,
            peer_group_interval_weeks=peer_group_interval_weeks,
            capacity_calls_per_week_per_100_offered=capacity_calls_per_week_per_100_offered,
            decay_rate_factor=decay_rate_factor,
            isolation_effect_factor=isolation_effect_factor,
        )
        p = _load(tuple(self.overrides))
        super().__init__(
            p.n_graduates, p.weeks, strategy=p.strategy, population=p.population,
            dynamics=p.dynamics, costs=p.costs, rng=p.seed,
        )


def model_params(**values) -> dict:
    """SolaraViz's controls, starting at ``values`` (missing ones take :func:`defaults`)."""
    v = {**defaults(), **{k: val for k, val in values.items() if val is not None}}
    strategies, populations = strategy_labels(), population_labels()
    strategy = strategies[_config_name(v["strategy"], strategies, "strategy")]
    population = populations[_config_name(v["population"], populations, "population")]
    return {
        "strategy": {"type": "Select", "label": "Support after the course", "value": strategy,
                     "values": list(strategies.values())},
        "population": {"type": "Select", "label": "Who the graduates are", "value": population,
                       "values": list(populations.values())},
        "n_graduates": Slider("Number of graduates", int(v["n_graduates"]), 100, 5000, 100),
        "weeks": Slider("Weeks to simulate", int(v["weeks"]), 26, 156, 26),
        "seed": Slider("Random seed", int(v["seed"]), 1, 100, 1),
        "peer_group_interval_weeks": Slider(
            "Groups meet every ... weeks", int(v["peer_group_interval_weeks"]), 1, 8, 1
        ),
        "capacity_calls_per_week_per_100_offered": Slider(
            "Phone calls bought a week per 100 offered", float(v["capacity_calls_per_week_per_100_offered"]),
            0.0, 100.0, 1.0,
        ),
        "decay_rate_factor": Slider(
            "Gains fade (x usual speed)", float(v["decay_rate_factor"]), 0.25, 3.0, 0.25
        ),
        "isolation_effect_factor": Slider(
            "Extra fading if lonely (x usual)", float(v["isolation_effect_factor"]), 0.0, 3.0, 0.25
        ),
    }


# --- plots ------------------------------------------------------------------------------------

WEEKS_LABEL = "Weeks after the course"


def _styled(title: str, ylabel: str, labels: dict[str, str], *, percent: bool = False,
            ylim: tuple[float, float] | None = None, hline: tuple[float, str] | None = None):
    """A ``post_process`` for Mesa's plot component: title, axis labels, plain-word legend."""

    def post_process(ax):
        ax.figure.set_size_inches(6.4, 4.2)  # wider than Mesa's 4:3, to fit the page's cards
        for line in ax.get_lines():
            line.set_label(labels.get(line.get_label(), line.get_label()))
            line.set_linewidth(2.2 if line.get_label() == "Everyone" else 1.6)
        if hline is not None:
            ax.axhline(hline[0], color="grey", ls="--", lw=1, label=hline[1])
        if percent:
            ax.yaxis.set_major_formatter(mticker.PercentFormatter(xmax=1.0, decimals=0))
        if ylim is not None:
            ax.set_ylim(*ylim)
        weeks = max((len(line.get_xdata()) for line in ax.get_lines()), default=1) - 1
        ax.set_xlim(0, max(weeks, 1))  # week 0 alone: an axis from 0 to 1, not -0.05 to 0.05
        ax.set_title(title, fontsize=12)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=9, loc="best")
        ax.set_xlabel(WEEKS_LABEL)
        # Mesa labels the x axis "Step" after post_process; on this figure's axes keep ours.
        ax.set_xlabel = lambda *args, **kwargs: None

    return post_process


def _plot(measure: dict[str, str], post_process):
    """One time-series plot: Mesa's ``PlotMatplotlib``, the component ``make_plot_component`` makes.

    Not ``make_plot_component`` itself, because it cannot pass ``dependencies``: Mesa's grid
    re-renders its cards when the browser reports their layout, and without dependencies every
    figure is then drawn again; with them a figure is drawn once per week of the model.
    """

    @reacton.component  # solara.component's hook check cannot read the source of a nested function
    def Plot(model: SelfManagementModel):
        update_counter.get()  # redraw after every step
        return PlotMatplotlib(model, measure, post_process=post_process, dependencies=[model, model.steps])

    return Plot


def plot_components() -> list:
    """The time-series plots, one figure each."""
    subgroups = {
        "share_self_managing": "Everyone",
        "share_self_managing_group_averse": "People who find groups difficult",
        "share_self_managing_offline": "People not online",
        "share_self_managing_lonely": "People lonely before the course",
    }
    channels = {f"{name}_enrolled_share": CHANNEL_LABELS[name] for name in ("peer_group", "telephone", "online")}
    activity = {
        "groups_open": "Peer groups still open",
        "forum_visitors": "Forum visitors this week",
        "calls_made": "Telephone calls made this week",
    }
    dynamics = _config_defaults().dynamics  # thresholds are not controls: the config's
    threshold = responder_gain_sd(dynamics.measurement)  # the true gain a responder needs, on average
    connected = {
        "mean_connectedness": "Mean connectedness (0 = isolated, 1 = well connected)",
        "share_lonely": f"Share lonely (connectedness below {dynamics.connectedness.lonely_threshold:g})",
    }
    return [
        _plot(
            dict(zip(subgroups, OKABE_ITO[:1] + OKABE_ITO[5:8])),
            post_process=_styled("Who is still self-managing?", "% of graduates self-managing", subgroups,
                                 percent=True, ylim=(0, 1)),
        ),
        _plot(
            {"mean_gain_sd": OKABE_ITO[0]},
            post_process=_styled(
                "What is left of the course's gain", "Mean gain over pre-course level (SD)",
                {"mean_gain_sd": "Mean gain"}, hline=(threshold, f"Gain a responder needs on average ({threshold:.2f} SD)"),
                ylim=(0, None),
            ),
        ),
        _plot(
            dict(zip(connected, [OKABE_ITO[3], OKABE_ITO[6]])),
            post_process=_styled("Company and loneliness", "Connectedness, or share lonely (0 to 1)", connected,
                                 ylim=(0, 1)),
        ),
        _plot(
            dict(zip(channels, OKABE_ITO[1:4])),
            post_process=_styled("Who takes part in follow-on support", "% of graduates enrolled", channels,
                                 percent=True, ylim=(0, 1)),
        ),
        _plot(
            dict(zip(activity, OKABE_ITO[1:4])),
            post_process=_styled("What happens each week", "Number", activity, ylim=(0, None)),
        ),
    ]


def graduates_figure(model: SelfManagementModel) -> Figure:
    """Graduates as dots by course cohort, coloured by their gain; their peer group open or closed,
    and who came to its last meeting."""
    g = model.graduates
    shown = min(int(g.cohort.max()) + 1, MAX_COHORTS_SHOWN)
    idx = np.flatnonzero(g.cohort < shown)
    cohort = g.cohort[idx]
    rank = np.zeros(idx.size, dtype=int)
    for c in range(shown):
        members = cohort == c
        rank[members] = np.arange(1, np.count_nonzero(members) + 1)
    gain = model.week_gain[idx]
    threshold = responder_gain_sd(model.params.dynamics.measurement)  # the true gain a responder needs, on average
    max_gain = model.params.dynamics.retention.max_gain_sd

    fig = Figure(figsize=(6.6, 4.0))
    ax = fig.subplots()
    handles = []
    pg = model.channels["peer_group"]
    if model.params.strategy.peer_group.enabled and pg.group_open.size:
        if model.params.strategy.peer_group.formation == GroupFormation.cohort:
            for c in range(shown):  # the cohort's group: open (light blue) or closed (grey)
                groups = pg.group_of[idx[cohort == c]]
                groups = groups[groups >= 0]
                if groups.size:
                    is_open = pg.group_open[groups[0]]
                    ax.axvspan(c + 0.5, c + 1.5, color="#cfe8f7" if is_open else "#d9d9d9", lw=0, zorder=0)
            handles += [Patch(color="#cfe8f7", label="Peer group open"), Patch(color="#d9d9d9", label="Peer group closed")]
        came = pg.attended_last[idx]
        ax.scatter(cohort[came] + 1, rank[came], s=95, facecolors="none", edgecolors="black", lw=1.2, zorder=2)
        handles.append(Line2D([], [], marker="o", ls="", mfc="none", mec="black", ms=9,
                              label="Came to the last group meeting"))
    dots = ax.scatter(cohort + 1, rank, c=gain, cmap="viridis", vmin=0.0, vmax=max_gain, s=36, zorder=3)
    bar = fig.colorbar(dots, ax=ax, pad=0.01)
    bar.set_label(f"Gain over pre-course level (SD)\nwhite line: a responder's gain on average ({threshold:.2f} SD)")
    bar.ax.axhline(threshold, color="white", lw=2.5)

    n_cohorts = int(g.cohort.max()) + 1
    ax.set_title(f"Week {model.week}: each dot a graduate, by course cohort", fontsize=12)
    ax.set_xlabel("Course cohort" + (f" (the first {shown} of {n_cohorts})" if shown < n_cohorts else ""))
    ax.set_ylabel("Graduate in the cohort")
    ax.set_xlim(0.5, shown + 0.5)
    ax.set_ylim(0.2, max(rank.max(), 1) + 0.8)
    ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(mticker.MaxNLocator(integer=True))
    if handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2,
                  frameon=False, fontsize=9)
    return fig


@solara.component
def GraduatesView(model: SelfManagementModel):
    """:func:`graduates_figure`, drawn once per week of the model."""
    update_counter.get()  # redraw after every step
    fig = solara.use_memo(lambda: graduates_figure(model), [model, model.steps])
    return solara.FigureMatplotlib(fig, format="png", bbox_inches="tight", dependencies=[model, model.steps])


@cache
def _components() -> tuple:
    return (*[(plot, 0) for plot in plot_components()], (GraduatesView, 0))


def components() -> list:
    """Everything on the page, in order: the plots, then the graduates view (as SolaraViz takes
    them: (component, page)). Built once, so that the components keep their state between renders."""
    return list(_components())


def fading_text(r: RetentionParams) -> str:
    """How fast unpractised gains fade, in plain words."""
    if r.decay_shape == DecayShape.exponential:
        alone = 1.0 - math.exp(-r.decay_rate_per_week * (1.0 + r.isolation_effect))
        return (f"Unpractised gains fade {1.0 - math.exp(-r.decay_rate_per_week):.1%} a week for someone "
                f"with plenty of company, {alone:.1%} for someone with none.")
    return (f"Unpractised gains fade fast at first, then slowly (power law); "
            f"{1.0 + r.isolation_effect:.1f} times as fast for someone with no company.")


@solara.component
def Status(model: solara.Reactive[SelfManagementModel]):
    """The week, the strategy in plain words, and the command line that builds the same model."""
    update_counter.get()  # redraw after every step
    m = model.value
    share = reporters.share_self_managing(m)
    with solara.Card("This run"):
        # plain text, not Markdown: solara's Markdown fetches KaTeX from a CDN (the page must work offline)
        with solara.Column(gap="6px"):
            solara.Text(f"Week {m.week} of {m.params.weeks}", classes=["dashboard-week"],
                        style={"font-weight": "bold", "font-size": "1.1em"})
            solara.Text(f"{m.params.strategy.label}; {m.params.population.label.lower()}.")
            solara.Text(f"{share:.0%} self-managing, mean gain {float(m.week_gain.mean()):.2f} SD.")
            solara.Text(fading_text(m.params.dynamics.retention), style={"font-size": "0.85em"})
            solara.Text("Change the settings below, then press Reset to start a new run with them.",
                        style={"font-size": "0.85em"})
            solara.Text("This run from the command line:", style={"font-size": "0.8em"})
            # wraps anywhere: a long line would widen the sidebar, and Mesa's grid of figures
            # does not follow a change of width after it is drawn
            solara.Text(
                "python -m experiments.run \\\n  " + " \\\n  ".join(m.overrides),
                classes=["dashboard-command"],
                style={"font-family": "monospace", "font-size": "0.75em", "white-space": "pre-wrap",
                       "overflow-wrap": "anywhere"},
            )


@solara.component
def Dashboard(values: dict | None = None):
    """The whole dashboard with its own model, built from ``values`` (keywords of DashboardModel)."""
    values = dict(values or {})
    initial = solara.use_memo(lambda: DashboardModel(**values), [])  # once per session
    model = solara.use_reactive(initial)
    SolaraViz(
        model,
        components=components(),
        model_params=model_params(**values),
        name="After the course: who keeps self-managing?",
        play_interval=150,
    )
    with solara.Sidebar():
        Status(model)


@solara.component
def Page():
    """The page ``solara run`` serves: each browser session renders it, and gets its own model."""
    Dashboard()


def make_page(**values):
    """The dashboard for a notebook cell: ``make_page(strategy="peer_group", seed=7)``."""
    return Dashboard(values=values)

