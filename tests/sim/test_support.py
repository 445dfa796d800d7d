"""Support channels inside a running model (sim/support/*.py, sim/strategy.py): who is reached,
capacity, closing groups, the strategy's start and end weeks, tailored matching.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim import Engagement, PopulationParams, SelfManagementModel
from sim.params import BoosterParams, Matching, TelephoneParams
from sim.support import CHANNELS

SEED = 31337
CONTACT_COLUMNS = [f"{name}_contacts" for name in CHANNELS]
COST_COLUMNS = [f"cost_{name}_gbp" for name in CHANNELS]


def _statuses(model):
    return {name: ch.status.copy() for name, ch in model.channels.items()}


# --- 6. group-averse graduates rarely attend groups --------------------------------------------


@pytest.fixture(scope="module")
def peer_group_model(make_strategy):
    population = dataclasses.replace(PopulationParams(), group_averse_share=0.3)
    return SelfManagementModel(3000, 52, strategy=make_strategy("peer_group"), population=population,
                               rng=SEED).run()


def test_group_averse_rarely_attend_groups(peer_group_model):
    table = peer_group_model.graduate_table()
    averse = table.loc[table["group_averse"], "contacts_peer_group"].mean()
    others = table.loc[~table["group_averse"], "contacts_peer_group"].mean()
    assert others > 1.0, "others barely attend: the comparison would be vacuous"
    assert averse < 0.25 * others, f"group-averse {averse:.3f} vs others {others:.3f} contacts per person"


# --- 7. offline graduates never visit the forum ------------------------------------------------


@pytest.fixture(scope="module")
def offer_all_model(make_strategy):
    population = dataclasses.replace(PopulationParams(), age_band_shares=[0.2, 0.3, 0.5])  # many offline
    return SelfManagementModel(2000, 52, strategy=make_strategy("offer_all"), population=population,
                               rng=SEED).run()


def test_offline_graduates_never_visit_the_forum(offer_all_model):
    table = offer_all_model.graduate_table()
    offline = ~table["online_access"]
    assert offline.sum() > 100 and table.loc[~offline, "contacts_online"].sum() > 0
    assert (table.loc[offline, "contacts_online"] == 0).all()
    status = offer_all_model.channels["online"].status
    assert not np.any(status[offline.to_numpy()] == Engagement.ENROLLED)


def test_graduates_without_a_phone_get_no_calls(offer_all_model):
    g = offer_all_model.graduates
    assert (~g.phone_access).sum() > 0
    assert (offer_all_model.channels["telephone"].contacts[~g.phone_access] == 0).all()


# --- 8. calls never exceed capacity ------------------------------------------------------------


def _telephone_model(make_strategy, calls_per_100, n=1000, weeks=52):
    strategy = make_strategy("telephone")
    strategy = dataclasses.replace(strategy, telephone=dataclasses.replace(
        strategy.telephone, capacity_calls_per_week_per_100_offered=calls_per_100))
    return SelfManagementModel(n, weeks, strategy=strategy, rng=SEED).run()


@pytest.mark.parametrize("calls_per_100", [37.0, 5.0, 100.0], ids=["default", "scarce", "ample"])
def test_calls_made_never_exceed_capacity(make_strategy, calls_per_100):
    model = _telephone_model(make_strategy, calls_per_100)
    table = model.weekly_table()
    phone = model.channels["telephone"]
    took_up = np.count_nonzero((phone.status == Engagement.ENROLLED) | (phone.status == Engagement.LEFT))
    assert 400 < took_up < 700  # about 55% of 1,000 accept calls
    offered = np.count_nonzero(phone.status != Engagement.NOT_OFFERED)
    expected_capacity = int(np.ceil(offered * calls_per_100 / 100 - 1e-9))  # bought for those offered
    assert (table["call_capacity"].iloc[1:] == expected_capacity).all()
    assert phone.volunteers == int(np.ceil(expected_capacity / phone.lever.calls_per_volunteer_per_week))
    assert (table["calls_made"] <= table["call_capacity"]).all()
    assert (table["telephone_contacts"] <= table["calls_made"]).all()  # only answered calls are contacts
    assert table["calls_made"].sum() > 0


def test_scarce_capacity_leaves_people_waiting(make_strategy):
    table = _telephone_model(make_strategy, 5.0).weekly_table()
    assert (table["calls_waiting"] > 0).any()
    busy = table["calls_waiting"] > 0
    assert (table.loc[busy, "calls_made"] == table.loc[busy, "call_capacity"]).all(), "waiting while lines are idle"


def test_zero_capacity_means_no_telephone_contacts(make_strategy):
    model = _telephone_model(make_strategy, 0.0)
    table = model.weekly_table()
    assert (table["calls_made"] == 0).all()
    assert (table["telephone_contacts"] == 0).all()
    assert (model.channels["telephone"].contacts == 0).all()
    assert (table["calls_waiting"] > 0).any(), "people were enrolled and due, so they should be waiting"


# --- 9. closed groups hold no meetings ---------------------------------------------------------


@pytest.fixture(scope="module")
def group_weeks(make_strategy):
    """A peer-group run stepped by hand, recording the open groups and the enrolled before each week."""
    model = SelfManagementModel(2000, 104, strategy=make_strategy("peer_group"), rng=SEED)
    ch = model.channels["peer_group"]
    weeks = []
    for _ in range(104):
        open_before = ch.group_open.copy()
        enrolled_before = ch.enrolled.copy()
        contacts_before = ch.contacts.copy()
        model.step()
        weeks.append(dict(
            week=model.week, open_before=open_before, enrolled_before=enrolled_before,
            open_after=ch.group_open.copy(), present=ch.contacts > contacts_before,
            status=ch.status.copy(), meetings=ch.meetings_this_week,
            friend_share=ch.friend_share.copy(),
        ))
    return model, weeks


def test_meetings_equal_groups_open_before_the_week(group_weeks):
    model, weeks = group_weeks
    ch = model.channels["peer_group"]
    interval, first = ch.lever.interval_weeks, ch.first_week
    table = model.weekly_table().set_index("week")
    for w in weeks:
        meeting_week = (w["week"] - first) % interval == 0
        if w["week"] == first:
            expected = ch.group_open.size  # every group formed this week meets
        else:
            expected = int(w["open_before"].sum()) if meeting_week else 0
        assert w["meetings"] == expected == table.loc[w["week"], "peer_group_meetings"], f"week {w['week']}"


def test_groups_close_and_groups_open_never_increases(group_weeks):
    model, _ = group_weeks
    open_ = model.weekly_table()["groups_open"].to_numpy()[1:]  # from the week groups are formed
    assert np.all(np.diff(open_) <= 0)
    assert open_[-1] < open_[0], "no group closed in two years: the checks on closing are vacuous"


def test_members_of_closed_groups_are_not_enrolled(group_weeks):
    model, weeks = group_weeks
    group_of = model.channels["peer_group"].group_of
    for w in weeks:
        enrolled = w["status"] == Engagement.ENROLLED
        assert (group_of[enrolled] >= 0).all()
        assert w["open_after"][group_of[enrolled]].all(), f"week {w['week']}: enrolled in a closed group"


def test_only_members_of_open_groups_attend(group_weeks):
    model, weeks = group_weeks
    group_of = model.channels["peer_group"].group_of
    for w in weeks[1:]:  # after the week groups were formed
        present = w["present"]
        assert w["enrolled_before"][present].all(), f"week {w['week']}: non-member present"
        assert w["open_before"][group_of[present]].all(), f"week {w['week']}: a closed group met"


def test_friend_share_counts_friends_present_at_the_last_meeting(group_weeks):
    """Attendance and leaving use "the share of one's course friends who came last time".

    A friend counts only if they were present at the group's previous meeting. Whether a friend
    who came last time and has since left still counts is a modelling choice, so both are allowed:
    the share lies between (friends present last time and still members) and (friends present last time).
    """
    model, weeks = group_weeks
    ties = model.graduates.ties
    degree = np.asarray(ties.sum(axis=1)).ravel()

    def share(mask):
        return np.divide(ties @ mask.astype(float), degree, out=np.zeros(degree.size), where=degree > 0)

    meetings = [w for w in weeks if w["meetings"] > 0]
    assert len(meetings) > 10
    for prev, cur in zip(meetings, meetings[1:]):
        members = cur["enrolled_before"]
        upper = share(prev["present"])
        lower = share(prev["present"] & cur["enrolled_before"])
        fs = cur["friend_share"]
        wrong = np.flatnonzero(members & ((fs > upper + 1e-6) | (fs < lower - 1e-6)))  # ties are float32
        assert wrong.size == 0, (
            f"week {cur['week']}: friend_share of {wrong.size} members is not the share of friends at the "
            f"meeting of week {prev['week']} (e.g. graduate {wrong[0]}: {fs[wrong[0]]:.3f}, "
            f"expected {lower[wrong[0]]:.3f} to {upper[wrong[0]]:.3f})"
        )


# --- 10 and 11. support runs only between start_week and end_week -----------------------------


@pytest.fixture(scope="module")
def ending_run(make_strategy):
    strategy = make_strategy("everything", end_week=20)
    strategy = dataclasses.replace(strategy, booster=BoosterParams(enabled=True, week=10))
    model = SelfManagementModel(1500, 40, strategy=strategy, rng=SEED)
    statuses = {}
    while model.running:
        model.step()
        statuses[model.week] = _statuses(model)
    return model, statuses


def test_end_week_stops_all_contacts(ending_run):
    model, _ = ending_run
    table = model.weekly_table()
    before, after = table[table["week"] <= 20], table[table["week"] > 20]
    for col in CONTACT_COLUMNS:
        assert before[col].sum() > 0, f"{col}: no contacts before the end either"
        assert (after[col] == 0).all(), f"{col} after end_week: {after.loc[after[col] != 0, ['week', col]]}"
    assert model.graduates.last_contact_week.max() <= 20
    for name, ch in model.channels.items():
        assert ch.contacts.sum() == before[f"{name}_contacts"].sum()


def test_end_week_leaves_nobody_enrolled(ending_run):
    _, statuses = ending_run
    assert any((s == Engagement.ENROLLED).any() for s in statuses[20].values())
    for week, by_channel in statuses.items():
        if week >= 21:
            for name, status in by_channel.items():
                assert not (status == Engagement.ENROLLED).any(), f"{name} has ENROLLED in week {week}"


def test_end_week_stops_channel_costs(ending_run):
    table = ending_run[0].weekly_table()
    after = table[table["week"] >= 20][COST_COLUMNS]
    assert (after.diff().iloc[1:].abs() < 1e-9).all().all(), "channel costs kept accruing after end_week"


@pytest.fixture(scope="module")
def starting_run(make_strategy):
    strategy = make_strategy("everything", start_week=10)  # booster at its default week 26
    model = SelfManagementModel(1500, 30, strategy=strategy, rng=SEED)
    statuses, last_contact = {}, {}
    while model.running:
        model.step()
        statuses[model.week] = _statuses(model)
        last_contact[model.week] = model.graduates.last_contact_week.copy()
    return model, statuses, last_contact


def test_start_week_no_contacts_before_it(starting_run):
    model, statuses, last_contact = starting_run
    table = model.weekly_table()
    early = table[table["week"] < 10]
    assert (early[CONTACT_COLUMNS] == 0).all().all()
    assert (early[COST_COLUMNS] == 0).all().all()
    for week in range(1, 10):
        assert (last_contact[week] == 0).all(), f"a contact in week {week}"
        for name, status in statuses[week].items():
            assert (status == Engagement.NOT_OFFERED).all(), f"{name} offered in week {week}"
    week10 = table.loc[table["week"] == 10, CONTACT_COLUMNS].sum(axis=1).item()
    assert week10 > 0, "support did not start at start_week"
    assert (last_contact[10] == 10).any()


# --- 17. tailored matching ---------------------------------------------------------------------


@pytest.fixture(scope="module", params=[0.5, 0.2], ids=["threshold_0.5", "threshold_0.2"])
def tailored_run(request, make_strategy):
    strategy = make_strategy("tailored", tailoring_group_affinity_threshold=request.param)
    assert strategy.matching is Matching.tailored
    model = SelfManagementModel(2000, 30, strategy=strategy, rng=SEED)
    statuses = {}
    while model.running:
        model.step()
        statuses[model.week] = _statuses(model)
    return model, statuses


def test_tailored_offers_at_most_one_channel(tailored_run):
    _, statuses = tailored_run
    for week, by_channel in statuses.items():
        offered = np.stack([by_channel[name] != Engagement.NOT_OFFERED for name in ("peer_group", "telephone", "online")])
        assert (offered.sum(axis=0) <= 1).all(), f"week {week}: someone offered several channels"
    final = statuses[max(statuses)]
    for name in ("peer_group", "telephone"):
        assert (final[name] != Engagement.NOT_OFFERED).any(), f"nobody offered {name}"


@pytest.mark.parametrize("order", [["peer_group", "telephone", "online"], ["online", "telephone", "peer_group"],
                                   ["telephone", "peer_group"]])
def test_tailored_follows_the_configured_order(make_strategy, order):
    """Each graduate is offered the first channel in ``tailoring_order`` that fits them, and only that."""
    from sim.strategy import fits, offers

    strategy = make_strategy("tailored", tailoring_order=order)
    model = SelfManagementModel(1500, 1, strategy=strategy, rng=SEED)
    g = model.graduates
    offered = offers(g, strategy)
    taken = np.zeros(g.n, dtype=bool)
    for name in order:
        expected = fits(g, name, strategy) & ~taken
        assert np.array_equal(offered[name], expected), name
        assert expected.any(), f"nobody gets {name}: the check is vacuous"
        taken |= expected
    for name in {"peer_group", "telephone", "online"} - set(order):
        assert not offered[name].any(), f"{name} is not in the order but was offered"


def test_tailored_never_offers_a_group_below_the_affinity_threshold(tailored_run):
    model, statuses = tailored_run
    g, threshold = model.graduates, model.params.strategy.tailoring_group_affinity_threshold
    below = g.group_affinity < threshold
    averse_below = g.group_averse & below
    assert averse_below.sum() > 100
    for week, by_channel in statuses.items():
        assert (by_channel["peer_group"][below] == Engagement.NOT_OFFERED).all(), f"week {week}"
    assert (model.channels["peer_group"].contacts[averse_below] == 0).all()


def test_tailored_offers_only_channels_people_can_use(tailored_run):
    model, statuses = tailored_run
    g, final = model.graduates, statuses[max(statuses)]
    assert (final["online"][~g.online_access] == Engagement.NOT_OFFERED).all()
    assert (final["telephone"][~g.phone_access] == Engagement.NOT_OFFERED).all()


def test_offer_all_offers_every_enabled_channel_to_everyone(offer_all_model):
    for name in ("peer_group", "telephone", "online"):
        assert (offer_all_model.channels[name].status != Engagement.NOT_OFFERED).all(), name
    for name in ("booster", "newsletter"):  # not enabled: never offered
        assert (offer_all_model.channels[name].status == Engagement.NOT_OFFERED).all(), name


# --- engagement transitions --------------------------------------------------------------------


def test_nobody_returns_once_they_have_left_or_declined(ending_run, starting_run):
    for statuses in (ending_run[1], starting_run[1]):
        weeks = sorted(statuses)
        for w0, w1 in zip(weeks, weeks[1:]):
            for name in statuses[w0]:
                s0, s1 = statuses[w0][name], statuses[w1][name]
                offered_before = s0 != Engagement.NOT_OFFERED
                assert not (offered_before & (s1 == Engagement.NOT_OFFERED)).any(), (name, w1)
                assert not ((s0 == Engagement.LEFT) & (s1 != Engagement.LEFT)).any(), (name, w1)
                if name != "booster":  # booster invitees are DECLINED or ENROLLED on the booster week only
                    assert not ((s0 == Engagement.DECLINED) & (s1 == Engagement.ENROLLED)).any(), (name, w1)


def test_nobody_waits_when_capacity_covers_everyone(make_strategy):
    """With capacity for everyone, nobody waits; calls every interval_weeks to the enrolled."""
    strategy = make_strategy("telephone")
    strategy = dataclasses.replace(strategy, telephone=TelephoneParams(enabled=True, interval_weeks=2,
                                                                      capacity_calls_per_week_per_100_offered=100.0))
    table = SelfManagementModel(500, 20, strategy=strategy, rng=SEED).run().weekly_table()
    assert (table["calls_waiting"] == 0).all()


def test_a_channel_says_who_it_is_in_its_class_statement():
    """The words of the class statement set the identity the registry and the reports read; what a
    channel leaves out defaults sensibly, and a channel that forgets who it is fails at once."""
    from sim.support.base import SupportChannel

    @dataclasses.dataclass
    class LetterParams:
        enabled: bool = False

    @dataclasses.dataclass
    class LetterBehaviour:
        pass

    class Letter(SupportChannel, name="letter", label="Monthly letter", week_order=60, lever=LetterParams,
                 behaviour=LetterBehaviour):
        pass

    assert (Letter.name, Letter.label, Letter.week_order) == ("letter", "Monthly letter", 60)
    assert (Letter.lever_type, Letter.behaviour_type) == (LetterParams, LetterBehaviour)
    assert (Letter.cost_category, Letter.cost_label, Letter.tailorable) == ("letter", "Monthly letter", False)

    class SlowLetter(Letter, week_order=70):  # a variant keeps its parent's identity but what it changes
        pass

    assert (SlowLetter.name, SlowLetter.week_order, SlowLetter.lever_type) == ("letter", 70, LetterParams)

    class PostedLetter(Letter, cost_category="post"):  # a variant booked elsewhere keeps its name
        pass

    assert (PostedLetter.name, PostedLetter.cost_category, Letter.cost_category) == ("letter", "post", "letter")
    with pytest.raises(TypeError, match="lever_type, behaviour_type"):
        class Nameless(SupportChannel, name="nameless", label="Nameless"):
            pass
    # the model's channels: cost categories are their names unless they say otherwise
    assert {c.cost_category for c in CHANNELS.values()} == set(CHANNELS)
    assert CHANNELS["telephone"].cost_label == "Telephone" and CHANNELS["online"].cost_label == "Online group"
