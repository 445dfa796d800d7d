"""The Mesa ``Graduate`` agents (sim/agents.py): a readable view onto the model's arrays."""

from __future__ import annotations

import numpy as np
import pytest

from sim import Engagement, Graduate, SelfManagementModel

N = 600
SEED = 4711


@pytest.fixture(scope="module")
def model(make_strategy):
    """A model stepped a few weeks, so that arrays have moved away from their week-0 values."""
    m = SelfManagementModel(N, 12, strategy=make_strategy("offer_all"), rng=SEED)
    for _ in range(12):
        m.step()
    return m


@pytest.fixture
def fresh_model():
    return SelfManagementModel(200, 5, rng=SEED)


def _by_index(m):
    return sorted(m.agents, key=lambda a: a.index)


def test_one_agent_per_graduate(model):
    assert len(model.agents) == N
    agents = _by_index(model)
    assert [a.index for a in agents] == list(range(N))
    assert all(isinstance(a, Graduate) for a in agents)
    assert len({a.unique_id for a in agents}) == N


def test_agents_are_made_when_first_asked_for_and_read_the_arrays_as_they_are_then(make_strategy):
    """A run that never looks at its agents does not make them (issue 25: a sweep's runs pay
    nothing for them); made after 12 weeks, they read the arrays of week 12, and the run's numbers
    are those of a run whose agents were made at the start."""
    late = SelfManagementModel(N, 12, strategy=make_strategy("offer_all"), rng=SEED)
    early = SelfManagementModel(N, 12, strategy=make_strategy("offer_all"), rng=SEED)
    assert len(early.agents) == N
    late.run()
    early.run()
    assert not late._agents_made
    assert late.datacollector.model_vars == early.datacollector.model_vars
    agents = _by_index(late)
    assert len(agents) == N and late._agents_made
    np.testing.assert_allclose([a.capability for a in agents], late.graduates.capability, rtol=1e-12)  # a scalar sum


def test_agent_reads_its_arrays(model):
    g = model.graduates
    for a in _by_index(model)[::37]:
        i = a.index
        assert a.capability == pytest.approx(g.baseline[i] + g.persistent[i] + g.transient[i] + g.supported[i], abs=1e-15)
        assert a.capability == pytest.approx(g.capability[i], abs=1e-12)
        assert a.gain == pytest.approx(g.gain[i], abs=1e-12)
        assert a.habit == g.habit[i] and a.connectedness == g.connectedness[i]
        assert a.group_averse == bool(g.group_averse[i]) and a.cohort == g.cohort[i]
        m = model.measurement
        assert a.measured_change == m.change[i]
        assert a.self_managing == bool(m.change[i] >= model.params.dynamics.measurement.responder_threshold_sd * m.score_sd)


def test_agent_values_are_python_scalars(model):
    a = next(iter(model.agents))
    assert type(a.baseline) is float and type(a.group_averse) is bool and type(a.cohort) is int


def test_select_matches_arrays(model):
    g = model.graduates
    assert len(model.agents.select(lambda a: a.group_averse)) == int(g.group_averse.sum())
    assert len(model.agents.select(lambda a: a.online_access)) == int(g.online_access.sum())
    assert len(model.agents.select(lambda a: a.self_managing)) == int(np.sum(model.week_self_managing))
    assert 0 < g.group_averse.sum() < N


def test_agent_reads_arrays_updated_by_a_step(fresh_model):
    a = _by_index(fresh_model)[7]
    before = a.transient
    fresh_model.step()
    assert a.transient == fresh_model.graduates.transient[7]
    assert a.transient != before  # the step decayed it and the agent sees it


def test_setting_an_agent_attribute_writes_the_array(fresh_model):
    a = _by_index(fresh_model)[3]
    a.habit = 0.123
    a.transient = 0.0
    a.group_averse = True
    g = fresh_model.graduates
    assert g.habit[3] == 0.123 and g.transient[3] == 0.0 and g.group_averse[3]
    assert g.habit[4] != 0.123  # only that graduate


def test_engagement_reads_the_channel_status(model):
    for a in _by_index(model)[:50]:
        for name, ch in model.channels.items():
            state = a.engagement(name)
            assert isinstance(state, Engagement) and state == ch.status[a.index]


def test_repr_names_the_graduate(model):
    a = _by_index(model)[5]
    assert "Graduate 5" in repr(a)


def test_two_models_do_not_share_state():
    a_model = SelfManagementModel(300, 5, rng=1)
    agent = _by_index(a_model)[10]
    baseline, habit = agent.baseline, agent.habit
    b_model = SelfManagementModel(300, 5, rng=2)  # built after, with another seed
    b_model.step()
    assert agent.model is a_model
    assert agent.baseline == a_model.graduates.baseline[10] == baseline
    assert agent.habit == habit
    assert agent.baseline != b_model.graduates.baseline[10]
    _by_index(b_model)[10].habit = 0.999
    assert agent.habit == habit and a_model.graduates.habit[10] == habit
    assert len(a_model.agents) == 300 and len(b_model.agents) == 300
