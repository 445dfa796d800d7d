"""The dashboard's module without a browser: the model it builds, its controls, its page."""

from __future__ import annotations

import inspect

import ipyvuetify as v
import ipywidgets
import numpy as np
import pandas as pd
import pytest
import solara

from experiments.dashboard import app
from experiments.config import CONFIG_DIR, load_params
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
    assert p.dynamics.retention.decay_rate_per_week == pytest.approx(1.5 * configured.decay_rate_per_week, rel=1e-5)
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
    for name, control in app.model_params().items():
        if isinstance(control, app.Slider):
            steps = (control.value - control.min) / control.step
            assert control.min <= control.value <= control.max, name
            assert steps == pytest.approx(round(steps)), f"{name}={control.value} is not on its slider's grid"


def test_every_choice_is_offered_with_plain_words():
    assert set(app.STRATEGIES) == {f.stem for f in (CONFIG_DIR / "strategy").glob("*.yaml")}
    assert set(app.POPULATIONS) == {f.stem for f in (CONFIG_DIR / "population").glob("*.yaml")}
    for labels in (app.strategy_labels(), app.population_labels()):
        assert all(label and "_" not in label for label in labels.values())
    params = app.model_params(strategy="tailored")
    assert params["strategy"]["value"] == app.strategy_labels()["tailored"]
    accepted = inspect.signature(app.DashboardModel.__init__).parameters
    assert set(params) <= set(accepted)  # Reset passes every control to the model class
    assert set(app.CONTROLS) == set(accepted) - {"self"}


def test_bad_values_fail_clearly():
    with pytest.raises(ValueError, match="strategy='peer_groups'"):
        app.DashboardModel(strategy="peer_groups")
    with pytest.raises(TypeError, match="unknown control"):
        app.overrides(colour="red")


@pytest.mark.parametrize(
    "overrides",
    [["strategy=course_only"], ["strategy=peer_group", "strategy.peer_group.formation=pooled"], ["strategy=tailored"]],
)
def test_graduates_view_draws_any_strategy(overrides):
    model = SelfManagementModel.from_params(load_params([*overrides, "n_graduates=250", "weeks=10"]))
    for _ in range(6):
        model.step()
    figure = app.graduates_figure(model)
    assert "Week 6" in figure.axes[0].get_title()


def _shows(rc, text: str) -> bool:
    """Whether the page shows a widget whose only child is ``text``."""
    return bool(rc.find(children=[text]).widgets)


def _page(**values):
    @solara.component
    def Wrapped():  # the server wraps pages in an AppLayout; the sidebar needs one
        with solara.AppLayout():
            app.make_page(**values)

    return Wrapped()


def test_page_steps_and_resets_its_model():
    box, rc = solara.render(_page(strategy="peer_group", n_graduates=300, seed=5), handle_error=False)
    try:
        assert _shows(rc, "Week 0 of 104")
        command = rc.find(v.Html, class_="dashboard-command").widget.children[0]  # this run from the command line
        assert "strategy=peer_group" in command and "seed=5" in command
        rc.find(v.Btn, children=["Step"]).widget.click()
        assert _shows(rc, "Week 1 of 104")
        assert _shows(rc, "Time: 1.0")  # Mesa's own counter agrees
        assert len(rc.find(ipywidgets.Image).widgets) == 6  # five plots and the graduates view
        rc.find(v.Btn, children=["Reset"]).widget.click()  # a new model from the controls
        assert _shows(rc, "Week 0 of 104")
        command = rc.find(v.Html, class_="dashboard-command").widget.children[0]
        assert "strategy=peer_group" in command and "seed=5" in command
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
