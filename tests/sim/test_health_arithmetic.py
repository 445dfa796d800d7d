"""Flare-ups and the care they cause (sim/health.py) against hand-worked thresholds.

The rules (sim/health.py): a graduate of severity ``s`` has a flare-up in a week with probability
``1 - (1 - p) ** exp(k (s - 0.5))`` (``p`` = ``flare_prob_per_week``, the probability at severity
0.5; ``k`` = ``severity_effect``, a log rate ratio per unit of severity: proportional hazards).
They manage it alone with probability ``logistic(a + b x capability + c x connectedness)``,
otherwise the contact is planned with probability ``logistic(a' + b' x capability)``, else urgent.
Capability is baseline + persistent + transient + supported (SD units).

The tests hand the events a scripted generator, so each uniform draw is chosen to fall just below
or just above the threshold worked out by hand; the margin (0.005 or less in probability) is
smaller than any change a wrong sign, a dropped term or a shifted constant makes. These tests are
the ones `make mutation` runs against sim/health.py.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from sim import DynamicsParams, PopulationParams
from sim.health import HealthEvents
from sim.params import HealthParams
from sim.population import create_graduates


def logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class ScriptedDraws:
    """A stand-in for the health stream: hands out the (3, n) uniforms given, once per week,
    and checks that exactly three draws per graduate are asked for (common random numbers)."""

    def __init__(self, *weeks: np.ndarray):
        self.weeks = [np.asarray(u, dtype=float) for u in weeks]

    def random(self, size):
        u = self.weeks.pop(0)
        assert size == u.shape, f"asked for {size} uniforms, the script has {u.shape}"
        return u


def graduates(n: int, *, severity=0.5, parts=(0.0, 0.0, 0.0, 0.0), connectedness=0.0):
    """``n`` real graduates with their severity, capability parts (baseline, persistent, transient,
    supported; SD units) and connectedness (0..1) set to the values given (scalars or arrays)."""
    rng = np.random.default_rng(0)
    g = create_graduates(n, PopulationParams(), DynamicsParams(), rng, rng)
    g.severity[:] = severity
    g.baseline[:], g.persistent[:], g.transient[:], g.supported[:] = parts
    g.connectedness[:] = connectedness
    g.flare[:] = False
    return g


def week(params: HealthParams, g, u0, u1=0.99, u2=0.99) -> HealthEvents:
    """One week of health events for ``g`` with the scripted draws: flare-up (u0), managed alone
    (u1), planned if care is needed (u2). Defaults: no one self-manages, any care is urgent."""
    n = g.n
    u = np.vstack([np.broadcast_to(np.asarray(x, dtype=float), (n,)) for x in (u0, u1, u2)])
    events = HealthEvents(params, ScriptedDraws(u))
    events.begin_week(g)
    events.step(g)
    return events


# --- flare-ups ---------------------------------------------------------------------------------


def test_at_severity_one_half_the_weekly_probability_is_flare_prob_per_week():
    p = 0.04  # the default
    g = graduates(2, severity=0.5)
    events = week(HealthParams(flare_prob_per_week=p), g, u0=[p - 0.0005, p + 0.0005])
    assert g.flare.tolist() == [True, False]
    assert events.flare_ups == 1


@pytest.mark.parametrize("severity", [0.0, 1.0, 0.8])
def test_severity_scales_the_weekly_hazard(severity):
    p, k = 0.04, 1.5  # the defaults
    # hazard -ln(1 - p) times the rate ratio exp(k (s - 0.5)); at s = 1: 1 - 0.96 ** e^0.75 = 0.0828
    p_s = 1 - (1 - p) ** math.exp(k * (severity - 0.5))
    g = graduates(2, severity=severity)
    week(HealthParams(flare_prob_per_week=p, severity_effect=k), g, u0=[p_s * 0.99, p_s * 1.01])
    assert g.flare.tolist() == [True, False]


def test_severity_has_no_effect_when_its_effect_is_zero():
    p = 0.1
    g = graduates(4, severity=np.array([0.0, 0.3, 0.7, 1.0]))
    week(HealthParams(flare_prob_per_week=p, severity_effect=0.0), g, u0=p - 0.001)
    assert g.flare.all()
    week(HealthParams(flare_prob_per_week=p, severity_effect=0.0), g, u0=p + 0.001)
    assert not g.flare.any()


def test_a_certain_flare_up_stays_finite_and_happens_to_everyone():
    # flare_prob_per_week = 1 is clipped to 1 - 1e-12, so the hazard -ln(1e-12) = 27.6 stays
    # finite at any severity: no division by zero, no inf x 0 at a severity far below 0.5
    g = graduates(3, severity=np.array([0.0, 0.5, 1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a log of 0 would warn
        events = week(HealthParams(flare_prob_per_week=1.0), g, u0=0.999)
    assert g.flare.all() and events.flare_ups == 3


def test_a_zero_probability_never_happens_even_at_a_draw_of_zero():
    # the generator's uniforms lie in [0, 1): a draw of exactly 0 must not count as a flare-up
    g = graduates(2)
    events = week(HealthParams(flare_prob_per_week=0.0), g, u0=0.0)
    assert not g.flare.any() and events.flare_ups == 0


def test_nothing_is_counted_before_the_first_week():
    events = HealthEvents(HealthParams(), np.random.default_rng(0))
    assert (events.flare_ups, events.self_managed, events.planned_contacts, events.unplanned_contacts) == (0, 0, 0, 0)


def test_no_flare_up_no_care():
    g = graduates(3)
    events = week(HealthParams(flare_prob_per_week=0.04), g, u0=0.5, u1=0.0, u2=0.0)
    assert (events.flare_ups, events.self_managed, events.planned_contacts, events.unplanned_contacts) == (0, 0, 0, 0)


# --- who manages alone, who needs care -----------------------------------------------------------


def test_self_managing_at_the_default_coefficients_by_hand():
    """Defaults a = -0.2, b = 0.2, c = 0.2: capability 1 (split over its four parts) and
    connectedness 0 give log-odds -0.2 + 0.2 = 0, probability 1/2; so do capability 0 and
    connectedness 1."""
    h = HealthParams(flare_prob_per_week=1.0)
    for parts, conn in [((0.4, 0.3, 0.2, 0.1), 0.0), ((0.0, 0.0, 0.0, 0.0), 1.0)]:
        g = graduates(2, parts=parts, connectedness=conn)
        events = week(h, g, u0=0.0, u1=[0.495, 0.505])
        assert (events.self_managed, events.planned_contacts + events.unplanned_contacts) == (1, 1), parts


def test_each_part_of_capability_counts_in_self_managing():
    # a = 0, c = 0, b = 1: capability 1 from any one part gives logistic(1) = 0.731
    h = HealthParams(flare_prob_per_week=1.0, self_manage_intercept=0.0, self_manage_capability_coef=1.0,
                     self_manage_connectedness_coef=0.0)
    for part in range(4):
        parts = [0.0] * 4
        parts[part] = 1.0
        g = graduates(2, parts=tuple(parts))
        events = week(h, g, u0=0.0, u1=[logistic(1.0) - 0.005, logistic(1.0) + 0.005])
        assert events.self_managed == 1, f"capability part {part} ignored"


def test_planned_or_urgent_by_hand():
    """a' = -0.2, b' = 0.2 and capability 1: log-odds 0, so half of the contacts are planned;
    at the defaults (a' = 1.0) and capability 0 the share planned is logistic(1) = 0.731."""
    h = HealthParams(flare_prob_per_week=1.0, planned_intercept=-0.2, planned_capability_coef=0.2)
    g = graduates(2, parts=(0.25, 0.25, 0.25, 0.25))
    events = week(h, g, u0=0.0, u1=0.99, u2=[0.495, 0.505])
    assert (events.planned_contacts, events.unplanned_contacts) == (1, 1)
    g = graduates(2)
    events = week(HealthParams(flare_prob_per_week=1.0), g, u0=0.0, u1=0.99,
                  u2=[logistic(1.0) - 0.005, logistic(1.0) + 0.005])
    assert (events.planned_contacts, events.unplanned_contacts) == (1, 1)


def test_only_those_needing_care_make_contacts_and_the_counts_add_up():
    # six graduates, all at probability 1/2 of self-managing and of a planned contact (as above):
    # 0 and 1 have no flare-up (whatever their other draws); 2 and 3 self-manage (even with a
    # low u2); 4 needs care, planned; 5 needs care, urgent
    h = HealthParams(flare_prob_per_week=0.5, severity_effect=0.0, planned_intercept=-0.2,
                     planned_capability_coef=0.2)
    g = graduates(6, parts=(1.0, 0.0, 0.0, 0.0))
    events = week(h, g, u0=[0.9, 0.6, 0.1, 0.2, 0.3, 0.4], u1=[0.0, 0.0, 0.1, 0.2, 0.9, 0.9],
                  u2=[0.0, 0.0, 0.0, 0.1, 0.1, 0.9])
    assert g.flare.tolist() == [False, False, True, True, True, True]
    counts = (events.flare_ups, events.self_managed, events.planned_contacts, events.unplanned_contacts)
    assert counts == (4, 2, 1, 1)
    assert events.flare_ups == events.self_managed + events.planned_contacts + events.unplanned_contacts


def test_a_new_week_clears_the_flare_ups_and_the_counts():
    g = graduates(3)
    events = week(HealthParams(flare_prob_per_week=1.0), g, u0=0.0, u1=[0.0, 0.99, 0.99], u2=[0.0, 0.0, 0.99])
    assert (events.flare_ups, events.self_managed, events.planned_contacts, events.unplanned_contacts) == (3, 1, 1, 1)
    events.begin_week(g)
    assert not g.flare.any()
    assert (events.flare_ups, events.self_managed, events.planned_contacts, events.unplanned_contacts) == (0, 0, 0, 0)


def test_three_draws_per_graduate_every_week_whatever_happens():
    """Common random numbers: the stream advances by exactly 3 n uniforms a week, flare-up or not,
    so the next week's draws are the same under any strategy."""
    n = 50
    for p in (0.0001, 0.5, 1.0):
        rng, twin = np.random.default_rng(11), np.random.default_rng(11)
        events = HealthEvents(HealthParams(flare_prob_per_week=p), rng)
        g = graduates(n)
        events.begin_week(g)
        events.step(g)
        twin.random((3, n))
        assert rng.random() == twin.random(), f"flare_prob_per_week={p}"
