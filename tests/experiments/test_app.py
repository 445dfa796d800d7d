"""The dashboard without a browser: the model it builds and its course-only reference, its controls, its
figures (what they draw, in which colours, and that blitting draws what a full redraw would), its page."""

from __future__ import annotations

import inspect
import io

import ipyvuetify as v
import ipywidgets
import numpy as np
import pandas as pd
import pytest
import solara
from PIL import Image

from experiments.config import CONFIG_DIR, load_params
from experiments.dashboard import app
from experiments.dashboard.figures import GROUP_OPEN_COLOUR, GraduatesChart, png
from experiments.labels import STRATEGY_COLOURS
from sim import SelfManagementModel


def test_seeded_model_steps_like_the_command_line():
    """The page's model (DashboardModel from the controls) is the command line's model, number for number."""
    model = app.DashboardModel(strategy="peer_group", n_graduates=300, seed=7, peer_group_interval_weeks=1)
    assert "strategy.peer_group.interval_weeks=1" in model.overrides
    cli = SelfManagementModel.from_params(load_params(model.overrides))
    for _ in range(12):
        model.step()
        cli.step()
    assert model.week == 12 and model.steps == 12
    weekly = model.weekly_table()
    assert len(weekly) == 13  # week 0 and twelve steps
    assert weekly["peer_group_enrolled_share"].iloc[-1] > 0
    pd.testing.assert_frame_equal(weekly, cli.weekly_table())

    again = app.DashboardModel(strategy="peer_group", n_graduates=300, seed=7, peer_group_interval_weeks=1)
    for _ in range(12):
        again.step()
    pd.testing.assert_frame_equal(weekly, again.weekly_table())  # seeded: repeatable


def test_controls_reach_the_parameters():
    configured = load_params(["population=older_75plus"]).dynamics.retention
    model = app.DashboardModel(
        strategy="Telephone support",  # a label, as the page's select sends it
        population="older_75plus",
        n_graduates=200,
        weeks=30,
        seed=3,
        capacity_calls_per_week_per_100_offered=10.0,
        decay_rate_factor=1.5000000000000002,  # as a float slider may send it
        isolation_effect_factor=0.0,
    )
    p = model.params
    assert (p.strategy.name, p.population.name, p.n_graduates, p.weeks, model.seed) == (
        "telephone", "older_75plus", 200, 30, 3,
    )
    assert p.strategy.telephone.capacity_calls_per_week_per_100_offered == 10.0
    rate = "power_law_b_per_week" if configured.decay_shape == "power_law" else "decay_rate_per_week"  # the shape in use
    assert getattr(p.dynamics.retention, rate) == pytest.approx(1.5 * getattr(configured, rate), rel=1e-5)
    assert p.dynamics.retention.isolation_effect == 0.0
    model.run()
    assert model.week == 30 and not model.running


def test_defaults_are_the_command_lines():
    """Left alone, the controls add nothing to the config but the dashboard's smaller model."""
    model = app.DashboardModel()
    cli = load_params(["n_graduates=1000"])
    assert model.params == cli
    assert model.overrides[2:] == ["n_graduates=1000", f"weeks={cli.weeks}", f"seed={cli.seed}"]


def test_sliders_start_on_their_grid():
    """A slider snaps a value off its grid and sends the snapped value back: Reset would then
    build another model than the one first shown."""
    for name, control in app.controls().items():
        if isinstance(control, app.SliderControl):
            steps = (control.value - control.min) / control.step
            assert control.min <= control.value <= control.max, name
            assert steps == pytest.approx(round(steps)), f"{name}={control.value} is not on its slider's grid"


def test_slider_labels_show_their_values():
    shown = {name: c.text(c.value) for name, c in app.controls(n_graduates=1200, weeks=52,
                                                               decay_rate_factor=1.5).items()
             if isinstance(c, app.SliderControl)}
    assert shown["n_graduates"] == "Graduates: 1,200"
    assert shown["weeks"] == "Weeks: 52 (12 months)"
    assert shown["decay_rate_factor"] == "Gains fade: 1.5 x usual"
    assert shown["peer_group_interval_weeks"].endswith("fortnightly")  # the configured 2 weeks, in words


def test_every_choice_is_offered_with_plain_words():
    assert set(app.STRATEGIES) == {f.stem for f in (CONFIG_DIR / "strategy").glob("*.yaml")}
    assert set(app.POPULATIONS) == {f.stem for f in (CONFIG_DIR / "population").glob("*.yaml")}
    for labels in (app.strategy_labels(), app.population_labels()):
        assert all(label and "_" not in label for label in labels.values())
    params = app.controls(strategy="tailored")
    assert params["strategy"]["value"] == app.strategy_labels()["tailored"]
    accepted = inspect.signature(app.DashboardModel.__init__).parameters
    assert set(params) == set(app.CONTROLS) == set(accepted) - {"self"}  # Reset passes every control


def test_bad_values_fail_clearly():
    with pytest.raises(ValueError, match="strategy='peer_groups'"):
        app.DashboardModel(strategy="peer_groups")
    with pytest.raises(TypeError, match="unknown control"):
        app.overrides(colour="red")
    with pytest.raises(TypeError, match=r"unknown control\(s\) \['colour'\]"):
        app.make_page(colour="red")


def _values(**values):
    return app.control_values(**{"n_graduates": 200, "weeks": 26, "seed": 4, **values})


@pytest.mark.parametrize("strategy", ["peer_group", "no_course", "course_only"])
def test_reference_is_course_only_with_the_same_graduates(strategy):
    """The dashed lines: the command line's course-only model of the run's overrides, stepped
    alongside (same seed, population, graduates and dynamics, factors included)."""
    run = app.Run(_values(strategy=strategy, population="older_75plus", decay_rate_factor=1.5))
    model, reference = run.model, run.reference
    assert reference.params.strategy.name == "course_only"
    assert reference.params.dynamics == model.params.dynamics  # the factor applies to both lines
    assert (reference.params.population, reference.seed, reference.params.weeks) == (
        model.params.population, model.seed, model.params.weeks)
    np.testing.assert_array_equal(reference.graduates.cohort, model.graduates.cohort)
    for _ in range(8):
        run.step()
    cli = SelfManagementModel.from_params(load_params(app.reference_overrides(model.overrides)))
    for _ in range(8):
        cli.step()
    pd.testing.assert_frame_equal(reference.weekly_table(), cli.weekly_table())
    if strategy == "course_only":  # the run is its own reference
        pd.testing.assert_frame_equal(model.weekly_table(), reference.weekly_table())
    else:
        assert not model.weekly_table()["mean_gain_sd"].equals(reference.weekly_table()["mean_gain_sd"])


def test_every_plot_draws_the_run_and_its_reference_in_the_channels_colours():
    run = app.Run(_values(strategy="offer_all"))
    for _ in range(6):
        run.step()
    weekly, ref_weekly = run.model.weekly_table(), run.reference.weekly_table()
    colours = {}
    for chart in run.charts:
        for series, solid, dashed in chart.lines:
            assert solid.get_linestyle() == "-" and dashed.get_linestyle() == "--", series.label
            assert solid.get_color() == dashed.get_color() == series.colour
            np.testing.assert_allclose(solid.get_ydata(), weekly[series.column])
            np.testing.assert_allclose(dashed.get_ydata(), ref_weekly[series.column])
            colours[series.column] = series.colour
    channel = STRATEGY_COLOURS  # each channel's measures in its single-channel strategy's colour
    assert colours["forum_visitors"] == colours["online_enrolled_share"] == channel["online"]
    assert colours["calls_made"] == colours["telephone_enrolled_share"] == channel["telephone"]
    assert colours["groups_open"] == colours["peer_group_enrolled_share"] == channel["peer_group"]


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)


def test_blitted_figures_are_what_a_full_redraw_shows():
    """Only the lines are redrawn each week, over a static layer drawn once: the picture must be
    the one a complete redraw of the same data makes (up to the spines, drawn under the lines)."""
    run = app.Run(_values(strategy="peer_group", weeks=52))
    for _ in range(30):
        frame = run.step()
    assert [c.full_draws for c in run.charts[:4]] == [1, 1, 1, 1]  # fixed axes: drawn once
    assert run.charts[4].full_draws <= 4  # a count's axis grew a few times at most
    for chart, image in zip(run.charts, frame.images):
        for _, solid, dashed in chart.lines:
            solid.set_animated(False)
            dashed.set_animated(False)
        chart.fig.canvas.draw()
        differ = np.any(_pixels(png(chart.fig)) != _pixels(image), axis=2)
        assert differ.mean() < 0.005, f"{chart.spec.title}: {differ.mean():.2%} of pixels differ"


def test_a_run_never_steps_past_its_last_week():
    run = app.Run(_values(weeks=26))
    for _ in range(30):
        frame = run.step()
    assert (frame.week, run.model.week, run.reference.week) == (26, 26, 26)
    assert run.finished and len(run.model.weekly_table()) == 27


@pytest.mark.parametrize(
    "overrides",
    [["strategy=course_only"], ["strategy=peer_group", "strategy.peer_group.formation=cohort"], ["strategy=tailored"]],
)
def test_graduates_view_draws_any_strategy(overrides):
    model = SelfManagementModel.from_params(load_params([*overrides, "n_graduates=250", "weeks=10"]))
    view = GraduatesChart(model)
    for _ in range(6):
        model.step()
    picture = _pixels(view.draw(model))
    assert view.ax.get_title() == "Week 6: each dot a graduate, by course cohort"
    assert picture.shape[:2] == (440, 660)
    open_colour = np.array([int(GROUP_OPEN_COLOUR[i:i + 2], 16) for i in (1, 3, 5)])
    has_open_groups = bool(np.all(picture == open_colour, axis=2).any())
    assert has_open_groups == ("strategy.peer_group.formation=cohort" in overrides)


def _shows(rc, text: str) -> bool:
    """Whether the page shows a widget whose only child is ``text``."""
    return bool(rc.find(children=[text]).widgets)


def _page(**values):
    @solara.component
    def Wrapped():  # the server wraps pages in an AppLayout; the sidebar needs one
        with solara.AppLayout():
            app.make_page(**values)

    return Wrapped()


def _button(rc, name: str):
    """The button whose text is ``name`` (an icon beside it or not)."""
    (button,) = [w for w in rc.find(v.Btn).widgets if name in w.children]
    return button


def _images(rc) -> list[bytes]:
    return [w.value for w in rc.find(ipywidgets.Image).widgets]


def test_page_steps_and_resets_its_model():
    box, rc = solara.render(_page(strategy="peer_group", n_graduates=300, seed=5), handle_error=False)
    try:
        assert _shows(rc, "Week 0 of 104")
        command = rc.find(v.Html, class_="dashboard-command").widget.children[0]  # this run from the command line
        assert "strategy=peer_group" in command and "seed=5" in command
        before = _images(rc)
        assert len(before) == 6  # five plots and the graduates view
        rc.find(v.Btn, children=["Step"]).widget.click()
        assert _shows(rc, "Week 1 of 104")
        after = _images(rc)
        assert all(a != b for a, b in zip(before, after))  # every figure moved on a week
        assert rc.find(v.Html, class_="dashboard-step-time").widget.children[0].startswith("Last step: ")
        rc.find(v.Btn, children=["Reset"]).widget.click()  # a new model from the controls
        assert _shows(rc, "Week 0 of 104")
        assert _images(rc) == before  # the same settings: the same run again
        command = rc.find(v.Html, class_="dashboard-command").widget.children[0]
        assert "strategy=peer_group" in command and "seed=5" in command
    finally:
        rc.close()


def test_page_has_no_mesa_defaults_and_names_its_buttons():
    box, rc = solara.render(_page(n_graduates=200), handle_error=False)
    try:
        texts = " ".join(str(w.children) for w in rc.find(v.Html).widgets)
        labels = [w.label for w in rc.find(v.Slider).widgets]
        for mesa_default in ("Page 0", "Use Threads", "Play Interval", "Render Interval", "Time: "):
            assert mesa_default not in texts + " ".join(labels)
        buttons = [w.children for w in rc.find(v.Btn).widgets]
        assert {"Reset", "Play", "Step"} <= {c for children in buttons for c in children if isinstance(c, str)}
        assert "Graduates: 200" in labels and len(labels) == 7
    finally:
        rc.close()


def test_page_stops_at_the_last_week():
    box, rc = solara.render(_page(n_graduates=100, weeks=26), handle_error=False)
    try:
        step = rc.find(v.Btn, children=["Step"]).widget
        for _ in range(26):
            step.click()
        assert _shows(rc, "Week 26 of 26")
        assert step.disabled and _button(rc, "Play").disabled
        step.click()  # a click that arrives anyway changes nothing
        assert _shows(rc, "Week 26 of 26")
    finally:
        rc.close()


def test_two_models_do_not_share_state():
    a = app.DashboardModel(n_graduates=200, seed=1)
    b = app.DashboardModel(n_graduates=200, seed=1)
    for _ in range(5):
        a.step()
    assert b.week == 0
    assert np.array_equal(b.week_gain, b.graduates.gain)
    assert a.agents is not b.agents


@pytest.mark.parametrize("shape", ["exponential", "power_law"])
def test_the_fade_slider_moves_the_decay_of_the_shape_in_use(shape, monkeypatch):
    """'Gains fade' x2 speeds the decay under either shape (the rate of the other shape does
    nothing: under the power law, the calibrated default since December 2026, the slider once did)."""
    from experiments.dashboard import model as dashboard_model

    real = dashboard_model._load
    monkeypatch.setattr(dashboard_model, "_load",
                        lambda overrides: real((*overrides, f"dynamics.retention.decay_shape={shape}")))

    def gain_at_26(factor):
        m = app.DashboardModel(strategy="course_only", n_graduates=400, weeks=26, seed=3, decay_rate_factor=factor)
        while m.running:
            m.step()
        return float(m.weekly_table()["mean_gain_sd"].iloc[-1])

    assert gain_at_26(2.0) < gain_at_26(1.0) - 0.01
