"""Support effects that match the evidence (issue 10): the no-course comparator, the course for those
who find groups difficult, peer-group life (rolling intake, novelty, relative minimum, succession),
telephone sized to demand, and one set of defaults everywhere.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from sim import DynamicsParams, Engagement, SelfManagementModel
from sim.calibrated import CALIBRATED_FILE, calibrated_dynamics
from sim.params import PeerGroupParams, PopulationParams

SEED = 4242
ROOT = Path(__file__).resolve().parents[2]


def _no_course(make_strategy, **channels):
    return dataclasses.replace(make_strategy("course_only"), name="no_course", course=False, **channels)


# --- the no-course comparator -----------------------------------------------------------------


@pytest.fixture(scope="module")
def paired_course_runs(make_strategy):
    """The same seed with and without the course, 26 weeks."""
    with_course = SelfManagementModel(2000, 26, strategy=make_strategy("course_only"), rng=SEED).run()
    without = SelfManagementModel(2000, 26, strategy=_no_course(make_strategy), rng=SEED).run()
    return with_course, without


def test_no_course_means_no_gain_no_habit_no_company_no_cost(paired_course_runs):
    with_course, without = paired_course_runs
    g = without.graduates
    assert (g.sessions_attended == 0).all() and (g.course_gain == 0).all()
    assert (without.weekly_table()["mean_gain_sd"] == 0).all(), "without course or support nobody gains"
    # without any gain, responders are measurement error alone (sim.measurement), as in a control arm:
    # P(e_t - e_0 >= k * score_sd), e ~ N(0, sd^2); the mean over 27 weekly readings of 2,000 people
    from scipy.stats import norm

    m = without.measurement
    k = without.params.dynamics.measurement.responder_threshold_sd
    expected = norm.sf(k * m.score_sd / (np.sqrt(2.0) * m.sd))
    share = without.weekly_table()["share_self_managing"]
    assert share.mean() == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / 2000))
    assert (with_course.weekly_table()["share_self_managing"] > share).all()
    assert without.ledger.gbp["course"] == 0 and with_course.ledger.gbp["course"] > 0
    # the same people (common random numbers): only what the course did differs
    np.testing.assert_array_equal(g.baseline, with_course.graduates.baseline)
    np.testing.assert_array_equal(g.connectedness_baseline, with_course.graduates.connectedness_baseline)
    assert without.weekly_table()["mean_habit"].iloc[0] == 0.0


def test_the_course_changes_service_use_only_a_little(paired_course_runs):
    """Trials found no significant change in GP visits or routine service use (Kennedy 2007;
    Foster 2007): the course cuts contacts with services by well under a fifth over 26 weeks."""
    with_course, without = paired_course_runs

    def contacts(model):
        w = model.weekly_table()
        return w["planned_contacts"].iloc[1:].sum() + w["unplanned_contacts"].iloc[1:].sum()

    ratio = contacts(with_course) / contacts(without)
    # about 2,000 x 26 x 0.05 = 2,600 contacts per arm: a Poisson ratio has SE about 0.03
    assert 0.8 < ratio <= 1.03, ratio


def test_support_that_only_restores_gives_no_course_at_most_the_margin(make_strategy):
    """``strategy=no_course`` composes with a channel; calls that only restore (no building) do
    not act as a second course."""
    strategy = _no_course(make_strategy, telephone=dataclasses.replace(make_strategy("telephone").telephone))
    dyn = calibrated_dynamics()  # calls that do something (the calibrated efficacy is about nil)
    dyn = dataclasses.replace(dyn, telephone=dataclasses.replace(
        dyn.telephone, effect=dataclasses.replace(dyn.telephone.effect, efficacy=0.3)),
        retention=dataclasses.replace(dyn.retention, support_build_share=0.0))
    model = SelfManagementModel(1000, 52, strategy=strategy, dynamics=dyn, rng=SEED).run()
    margin = model.params.dynamics.retention.reinforcement_margin_sd
    assert model.channels["telephone"].contacts.sum() > 500, "calls were made"
    assert model.graduates.gain.max() <= margin + 1e-12
    assert model.weekly_table()["mean_gain_sd"].max() > 0.2 * margin, "and they did something"


# --- the unheard: a group course suits those who like groups -----------------------------------


@pytest.fixture(scope="module")
def course_graduates():
    population = dataclasses.replace(PopulationParams(), group_averse_share=0.4)
    return SelfManagementModel(20000, 1, population=population, rng=SEED).graduates


def test_group_averse_attend_fewer_sessions_and_gain_less(course_graduates):
    g = course_graduates
    averse, others = g.group_averse, ~g.group_averse
    completion = [np.mean(g.sessions_attended[m] >= 4) for m in (averse, others)]
    se = np.sqrt(0.25 / averse.sum() + 0.25 / others.sum())
    assert completion[1] - completion[0] > 5 * se, completion
    assert g.course_gain[averse].mean() < 0.85 * g.course_gain[others].mean()


def test_affinity_shifts_move_the_course_between_people_not_on_average():
    """The shifts are centred on the population's mean affinity: completion stays about 75%."""
    population = dataclasses.replace(PopulationParams(), group_averse_share=0.4)

    def completion(coef):
        dyn = DynamicsParams()
        dyn = dataclasses.replace(dyn, course=dataclasses.replace(dyn.course, attendance_affinity_coef=coef))
        g = SelfManagementModel(20000, 1, population=population, dynamics=dyn, rng=SEED).graduates
        return np.mean(g.sessions_attended >= 4)

    # the mean attendance probability is kept exactly; completion (4 of 6) moves a little with the
    # spread of it: allow 1.5 points beside 3 binomial SEs
    assert abs(completion(3.0) - completion(0.0)) < 0.015 + 3 * np.sqrt(2 * 0.19 / 20000)


def test_gain_by_age_band_multiplies_the_course_gain():
    dyn = DynamicsParams()
    halved = dataclasses.replace(dyn, course=dataclasses.replace(dyn.course, gain_multiplier_by_age_band=[1, 1, 0.5]))
    a = SelfManagementModel(3000, 1, dynamics=dyn, rng=SEED).graduates
    b = SelfManagementModel(3000, 1, dynamics=halved, rng=SEED).graduates
    old = a.age_band == 2
    unclipped = a.course_gain < DynamicsParams().retention.max_gain_sd  # the ceiling applies after the multiplier
    assert old.sum() > 300 and (~unclipped).sum() > 0
    old &= unclipped
    np.testing.assert_allclose(b.course_gain[old], 0.5 * a.course_gain[old], rtol=1e-12)
    young = a.age_band < 2
    np.testing.assert_array_equal(b.course_gain[young], a.course_gain[young])


# --- peer-group life ---------------------------------------------------------------------------


def _peer_model(make_strategy, weeks=52, n=2000, lever=None, behaviour=None, seed=SEED):
    strategy = make_strategy("peer_group")
    if lever:
        strategy = dataclasses.replace(strategy, peer_group=dataclasses.replace(strategy.peer_group, **lever))
    dyn = calibrated_dynamics()
    if behaviour:
        dyn = dataclasses.replace(dyn, peer_group=dataclasses.replace(dyn.peer_group, **behaviour))
    return SelfManagementModel(n, weeks, strategy=strategy, dynamics=dyn, rng=seed)


def test_groups_are_pooled_by_area_by_default(make_strategy):
    model = _peer_model(make_strategy, weeks=1).run()
    ch = model.channels["peer_group"]
    registers = np.bincount(ch.group_of[ch.group_of >= 0])
    assert PeerGroupParams().formation == "pooled"
    assert (registers[:-1] == ch.lever.pooled_group_size).all()  # the last takes the remainder


def test_attendance_starts_high_and_settles(make_strategy):
    """A new group's first meetings draw more of the register than its later ones."""
    novelty = []
    for coef in (0.0, 1.5):
        table = _peer_model(make_strategy, weeks=30, behaviour={"attend_novelty_coef": coef}).run().weekly_table()
        share = table.loc[table["peer_group_meetings"] > 0, "peer_group_attendance_share"].to_numpy()
        novelty.append(share[0] - share[6:12].mean())
    # about 1,200 members: the SE of a share is about 0.014, of a difference about 0.02
    assert novelty[1] > 0.1 and novelty[1] > novelty[0] + 0.08, novelty


def test_too_small_is_relative_to_the_register(make_strategy):
    ch = _peer_model(make_strategy, lever={"min_attendance": 2, "min_attendance_share": 0.2}).channels["peer_group"]
    present = np.array([1, 2, 3, 4, 5, 2])  # too small: under 2, or under 20% of the register
    register = np.array([5, 5, 20, 20, 20, 0])
    np.testing.assert_array_equal(ch.too_small(present, register), [True, False, True, False, False, False])


def test_a_lively_group_finds_a_successor(make_strategy):
    """Every leader leaves every week: with nobody to step up every group closes at once; when each
    member present steps up for sure, only groups whose last meeting was empty close."""
    leaving = {"volunteer_leave_prob_per_week": 1.0}
    nobody = _peer_model(make_strategy, weeks=1, behaviour=dict(leaving, successor_prob_per_attender=0.0)).run()
    assert nobody.channels["peer_group"].groups_open == 0
    everyone = _peer_model(make_strategy, weeks=3, behaviour=dict(leaving, successor_prob_per_attender=1.0)).run()
    ch = everyone.channels["peer_group"]
    np.testing.assert_array_equal(ch.group_open, ch.present_last > 0)
    assert ch.groups_open > 0.9 * ch.groups_formed
    # a successor comes from those present: when nobody came, nobody steps up, however willing
    empty = _peer_model(make_strategy, weeks=1, behaviour=dict(leaving, successor_prob_per_attender=1.0,
                                                               attend_intercept=-30.0)).run()
    assert (empty.channels["peer_group"].present_last == 0).all()
    assert empty.channels["peer_group"].groups_open == 0


def test_rolling_intake_brings_newcomers_every_interval(make_strategy):
    model = _peer_model(make_strategy, weeks=40, lever={"intake_interval_weeks": 13, "newcomers_per_intake": 5.0})
    ch = model.channels["peer_group"]
    totals = []
    for _ in range(40):
        model.step()
        totals.append(int(ch.newcomers.sum()))
    totals = np.asarray(totals)
    arrivals = np.flatnonzero(np.diff(totals) > 0) + 2  # weeks (1-based) when the count rose
    assert set(arrivals) <= {14, 27, 40}, arrivals  # support began in week 1: courses at +13, +26, +39
    first = totals[13]  # after the first intake: Poisson(5) per open group
    open_groups = ch.groups_formed
    assert abs(first - 5.0 * open_groups) < 4 * np.sqrt(5.0 * open_groups) + 0.1 * 5.0 * open_groups


def test_newcomers_keep_groups_alive_and_share_the_costs(make_strategy):
    runs = {}
    for newcomers in (0.0, 6.0):
        lever = {"intake_interval_weeks": 13, "newcomers_per_intake": newcomers}
        survival, cost = [], []
        for seed in (1, 2, 3):
            model = _peer_model(make_strategy, weeks=78, lever=lever, seed=seed).run()
            survival.append(model.weekly_table()["peer_group_survival_share"].iloc[-1])
            cost.append(model.ledger.gbp["peer_group"] / max(model.channels["peer_group"].contacts.sum(), 1))
        runs[newcomers] = (np.mean(survival), np.mean(cost))
    assert runs[6.0][0] > runs[0.0][0] + 0.1, runs  # more groups still meeting at 18 months
    # a meeting's cost is shared with newcomers: less per contact of a modelled graduate
    assert runs[6.0][1] < runs[0.0][1], runs


def test_group_survival_is_reported_and_never_rises(make_strategy):
    table = _peer_model(make_strategy, weeks=104).run().weekly_table()
    survival = table["peer_group_survival_share"].to_numpy()
    assert survival[0] == 0.0 and survival[1] == 1.0 or survival[1] > 0.95
    assert (np.diff(survival[1:]) <= 1e-12).all()
    assert 0.0 < survival[-1] < survival[1]


# --- telephone sized to demand ------------------------------------------------------------------


def test_telephone_cost_scales_with_those_who_take_it_up(make_strategy):
    """Volunteers and capacity follow the number who accept calls, not the modelled population:
    offering calls to a tenth of graduates (tailored) costs about a tenth of offering them to all."""
    full = SelfManagementModel(2000, 26, strategy=make_strategy("telephone"), rng=SEED).run()
    few = SelfManagementModel(2000, 26, strategy=make_strategy(
        "tailored", tailoring_order=["peer_group", "telephone"], tailoring_group_affinity_threshold=0.1),
        rng=SEED).run()
    took = {k: np.count_nonzero(m.channels["telephone"].status >= Engagement.ENROLLED) for k, m in
            (("full", full), ("few", few))}
    assert took["few"] < 0.3 * took["full"]
    per_taker = {k: m.ledger.gbp["telephone"] / took[k] for k, m in (("full", full), ("few", few))}
    assert per_taker["few"] == pytest.approx(per_taker["full"], rel=0.25), per_taker


# --- one set of defaults -----------------------------------------------------------------------


def test_python_defaults_are_the_calibrated_values():
    from experiments.config import load_params

    assert SelfManagementModel(10, 1, rng=1).params.dynamics == load_params([]).dynamics
    assert calibrated_dynamics() != DynamicsParams(), "the fitted values differ from the priors"


def test_the_two_copies_of_the_fitted_values_agree():
    packaged = (ROOT / "sim" / CALIBRATED_FILE).read_text(encoding="utf-8")
    assert packaged == (ROOT / "configs" / "dynamics" / "calibrated.yaml").read_text(encoding="utf-8")


def test_calls_with_every_route_off_change_nothing(make_strategy):
    """A call acts through its efficacy (restoring and building), habit and company (and through
    company, isolation). With every route off, calls are made and change nobody's gain."""
    dyn = calibrated_dynamics()
    off = dataclasses.replace(dyn.telephone.effect, efficacy=0.0, habit_multiplier=0.0, connectedness_gain=0.0)
    dyn = dataclasses.replace(dyn, telephone=dataclasses.replace(dyn.telephone, effect=off))
    calls = SelfManagementModel(1000, 26, strategy=make_strategy("telephone"), dynamics=dyn, rng=SEED).run()
    none = SelfManagementModel(1000, 26, strategy=make_strategy("course_only"), dynamics=dyn, rng=SEED).run()
    assert calls.channels["telephone"].contacts.sum() > 500, "calls were made"
    assert abs(calls.graduates.gain.mean() - none.graduates.gain.mean()) < 0.005


def test_peer_groups_help_people_without_the_course(make_strategy):
    """Peers teach: groups offered to people who took no course raise their gain above what the
    margin alone allows (building), against the same people without groups."""
    groups = _no_course(make_strategy, peer_group=dataclasses.replace(make_strategy("peer_group").peer_group))
    dyn = calibrated_dynamics()
    with_groups = SelfManagementModel(1000, 26, strategy=groups, dynamics=dyn, rng=SEED).run()
    without = SelfManagementModel(1000, 26, strategy=_no_course(make_strategy), dynamics=dyn, rng=SEED).run()
    effect = with_groups.graduates.gain.mean() - without.graduates.gain.mean()
    assert effect > dyn.retention.reinforcement_margin_sd, effect  # restoring alone gives at most the margin
