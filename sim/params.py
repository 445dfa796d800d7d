"""Parameters of the model: typed, documented, with units and allowed ranges.

Every number the model uses lives here as a dataclass field with a default (the prior from
``design.md``) and, where it has one, an allowed range in the field's metadata. The same
dataclasses are the Hydra schema (``experiments/config.py`` registers them), so a YAML file or a
command-line override with an unknown key or a wrong type fails before anything runs, and
:func:`validate` checks every range and cross-field rule with one clear message.

Three kinds of parameter are kept apart (EMA Workbench's levers / uncertainties):

* :class:`StrategyParams` -- levers: what a commissioner funds (channels, how often, by whom).
* :class:`PopulationParams` -- who the graduates are.
* :class:`DynamicsParams` -- uncertain behaviour: decay, reinforcement, engagement (calibrated).
* :class:`CostParams` -- unit costs with their price year and source (:func:`inflate_gbp`).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Optional


class ParameterError(ValueError):
    """A parameter is outside its allowed range; names the key, the value and what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str):
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key}={value!r} is not allowed: {allowed}")


# --- field helpers: a default plus its allowed range -------------------------------------------


def _num(default, lo=None, hi=None, *, lo_open=False, integer=False, doc=""):
    return field(
        default=default,
        metadata={"lo": lo, "hi": hi, "lo_open": lo_open, "integer": integer, "doc": doc},
    )


def prob(default: float, doc: str = ""):
    """A probability (per week, per meeting, ...: the name says per what), in [0, 1]."""
    return _num(default, 0.0, 1.0, doc=doc)


def nonneg(default: float, hi: float | None = None, doc: str = ""):
    return _num(default, 0.0, hi, doc=doc)


def positive(default: float, hi: float | None = None, doc: str = ""):
    return _num(default, 0.0, hi, lo_open=True, doc=doc)


def count(default: int, lo: int = 0, hi: int | None = None, doc: str = ""):
    return _num(default, lo, hi, integer=True, doc=doc)


def real(default: float, doc: str = ""):
    return _num(default, doc=doc)


def _list(default: list):
    return field(default_factory=lambda: list(default))


# --- enums -------------------------------------------------------------------------------------


class Matching(str, Enum):
    """How graduates are matched to the channels a strategy offers."""

    offer_all = "offer_all"  # everyone may use every enabled channel
    tailored = "tailored"  # each graduate is offered the one channel that fits them


class GroupDelivery(str, Enum):
    peer_led = "peer_led"  # a volunteer leader from the group; free but volunteers leave
    facilitated = "facilitated"  # a paid facilitator; costs more, never loses its leader


class GroupFormation(str, Enum):
    cohort = "cohort"  # each course cohort continues as its own group
    pooled = "pooled"  # members of an area's cohorts are pooled into groups of a target register size


class Caller(str, Enum):
    peer = "peer"  # trained volunteer graduates
    professional = "professional"  # staff (nurse, health trainer)


class DecayShape(str, Enum):
    exponential = "exponential"  # constant hazard: transient *= exp(-rate)
    power_law = "power_law"  # (1 + b t)^-psi, t = weeks since last contact: fast early loss, long tail


#: The support channels, in the order they run each week (and the order of their parameter blocks).
CHANNEL_NAMES = ("peer_group", "telephone", "online", "booster", "newsletter")
#: Channels a ``tailored`` strategy matches one per graduate.
TAILORABLE_CHANNELS = ("peer_group", "telephone", "online")


# --- population --------------------------------------------------------------------------------


@dataclass
class PopulationParams:
    """Who the graduates are. Shares are of graduates; age bands are under 65, 65-74, 75 and over."""

    name: str = "general_ltc"
    label: str = "People with long-term conditions"
    group_averse_share: float = prob(0.3, "share who find groups difficult (20-40%, design.md)")
    group_affinity_averse_mean: float = prob(0.1, "mean group affinity of the group-averse")
    group_affinity_other_mean: float = prob(0.65, "mean group affinity of everyone else")
    group_affinity_concentration: float = positive(6.0, doc="Beta concentration (a + b)")
    age_band_shares: list[float] = _list([0.45, 0.35, 0.20])
    online_access_by_age_band: list[float] = _list([0.90, 0.80, 0.54])
    phone_access_share: float = prob(0.97)
    digital_confidence_mean: float = prob(0.6, "mean digital confidence of those online")
    digital_confidence_concentration: float = positive(4.0)
    connectedness_baseline_mean: float = prob(0.55, "mean of each person's usual connectedness")
    connectedness_baseline_concentration: float = positive(6.0)
    severity_mean: float = prob(0.5)
    severity_concentration: float = positive(4.0)
    course_attendance_prob_mean: float = prob(
        0.733, "mean probability of attending each of the 6 course sessions: 75% attend >= 4 (beta-binomial)"
    )
    course_attendance_concentration: float = positive(6.0)
    cohort_size_min: int = count(12, lo=1, doc="course cohorts have 12 to 16 people")
    cohort_size_max: int = count(16, lo=1)
    ties_per_graduate: float = nonneg(3.0, doc="mean friendships each graduate makes in the cohort")


# --- strategy (levers) -------------------------------------------------------------------------


@dataclass
class PeerGroupParams:
    """Follow-on peer support groups: by default pooled by area from the graduates of several courses."""

    enabled: bool = False
    interval_weeks: int = count(2, lo=1, hi=52, doc="weeks between meetings (1, 2 or 4)")
    delivery: GroupDelivery = GroupDelivery.peer_led
    formation: GroupFormation = GroupFormation.pooled
    pooled_group_size: int = count(16, lo=2, doc="target register size when pooling an area's cohorts")
    min_attendance: int = count(2, lo=0, doc="a meeting with fewer present counts as too small")
    min_attendance_share: float = prob(
        0.10, "a meeting with fewer present than this share of the register counts as too small"
    )
    close_after_meetings: int = count(3, lo=1, doc="consecutive too-small meetings before closing")
    intake_interval_weeks: int = count(
        13, lo=0, hi=52, doc="weeks between later courses in the area whose graduates join open groups; 0: none"
    )
    newcomers_per_intake: float = nonneg(4.0, doc="mean newcomers each open group gets from each later course")


@dataclass
class TelephoneParams:
    """Scheduled support calls to enrolled graduates."""

    enabled: bool = False
    interval_weeks: int = count(2, lo=1, hi=52, doc="weeks between scheduled calls to a graduate")
    caller: Caller = Caller.peer
    calls_per_week_per_100_enrolled: float = nonneg(
        70.0, doc="call capacity per week, per 100 who accepted calls: a call each 2 weeks, with retries"
    )
    calls_per_volunteer_per_week: float = positive(5.0, doc="peer callers needed = capacity / this")


@dataclass
class OnlineParams:
    """An online group (forum) with a moderator."""

    enabled: bool = False
    moderated: bool = True
    moderator_hours_per_week_per_1000_graduates: float = nonneg(5.0)


@dataclass
class BoosterParams:
    """A one-off short repeat of the course at a set week."""

    enabled: bool = False
    week: int = count(26, lo=1, doc="the week the booster is held (1 = the first week after the course)")
    sessions: int = count(2, lo=1, hi=6, doc="number of booster sessions")


@dataclass
class NewsletterParams:
    """Low-dose information sent to every graduate every few weeks."""

    enabled: bool = False
    interval_weeks: int = count(4, lo=1, hi=52)


@dataclass
class StrategyParams:
    """Which follow-on support is offered, to whom, and when (weeks after the course ends)."""

    name: str = "course_only"
    label: str = "Course only (no follow-on support)"
    course: bool = field(
        default=True, metadata={"doc": "graduates took the six-week course; false: the no-course comparator"}
    )
    matching: Matching = Matching.offer_all
    start_week: int = count(0, lo=0, doc="first week of support")
    end_week: Optional[int] = field(default=None, metadata={"doc": "last week of support; null: never ends"})
    tailoring_group_affinity_threshold: float = prob(0.5, "tailored: offer a group at this affinity or more")
    tailoring_digital_confidence_threshold: float = prob(0.4, "tailored: offer the forum at this or more")
    tailoring_order: list[str] = field(
        default_factory=lambda: ["peer_group", "telephone", "online"],
        metadata={"doc": "tailored: channels in order of preference; each graduate gets the first that fits"},
    )
    peer_group: PeerGroupParams = field(default_factory=PeerGroupParams)
    telephone: TelephoneParams = field(default_factory=TelephoneParams)
    online: OnlineParams = field(default_factory=OnlineParams)
    booster: BoosterParams = field(default_factory=BoosterParams)
    newsletter: NewsletterParams = field(default_factory=NewsletterParams)

    @property
    def channels(self) -> dict[str, Any]:
        """The channel blocks by name, in the order they run each week."""
        return {name: getattr(self, name) for name in CHANNEL_NAMES}

    def active(self, week: int) -> bool:
        """Whether support runs in ``week``."""
        return week >= self.start_week and (self.end_week is None or week <= self.end_week)


# --- dynamics (uncertain behaviour; calibrated) ------------------------------------------------


@dataclass
class CourseParams:
    """What the six-week course leaves at week 0."""

    sessions: int = count(6, lo=1, doc="sessions in the course")
    immediate_gain_mean_sd: float = nonneg(0.7, doc="mean gain after a full course, SD units (prior 0.5-0.9)")
    immediate_gain_spread_sd: float = nonneg(0.2, doc="between-person SD of the gain, SD units")
    low_baseline_gain_boost: float = nonneg(
        0.15, doc="extra gain per SD of baseline below the mean (Reeves 2008), fraction"
    )
    initial_persistent_share: float = prob(0.0, "share of the immediate gain already persistent")
    connectedness_boost: float = prob(0.3, "rise towards 1 of connectedness after a full course")
    attendance_affinity_coef: float = real(
        1.5, "log-odds of attending each course session per unit of group affinity above the mean"
    )
    gain_affinity_coef: float = nonneg(
        0.5, doc="relative change in the course gain per unit of group affinity above the mean"
    )
    gain_multiplier_by_age_band: list[float] = _list([1.0, 1.0, 1.0])


@dataclass
class RetentionParams:
    """Decay, consolidation and reinforcement of the course's gains (retention.py)."""

    decay_shape: DecayShape = DecayShape.exponential
    decay_rate_per_week: float = nonneg(0.025, 1.0, "transient decay rate; half-life 6.5-13 months")
    power_law_b_per_week: float = positive(0.2, doc="time scale of the power-law decay")
    power_law_psi: float = nonneg(0.5, doc="power-law exponent")
    isolation_effect: float = nonneg(0.5, doc="extra decay at connectedness 0, fraction of the rate")
    consolidation_rate_per_week: float = prob(0.03, "share of transient made persistent at habit 1")
    persistent_decay_rate_per_week: float = nonneg(0.001, 1.0, "slow decay of persistent gains")
    max_gain_sd: float = positive(1.0, doc="ceiling of the course's immediate gain over baseline, SD units")
    reinforcement_margin_sd: float = nonneg(
        0.05, doc="support may lift a person this far above their own post-course gain, SD units"
    )
    spacing_optimal_gap_weeks: float = positive(3.0, doc="gap between contacts with most effect")
    spacing_floor: float = prob(0.4, "spacing factor for very short or very long gaps")
    habit_gain_per_contact: float = prob(0.26, "95% of the habit ceiling after ~10 weekly contacts")
    habit_decay_rate_per_week: float = nonneg(0.02, 1.0, "habit fades without practice")
    self_managing_threshold_sd: float = real(0.2, "gain that counts as self-managing, SD units")


@dataclass
class ConnectednessParams:
    drift_rate_per_week: float = prob(0.1, "share of the gap to one's baseline closed each week")
    lonely_threshold: float = prob(0.3, "connectedness below this counts as lonely")


@dataclass
class HealthParams:
    """Flare-ups and the contacts they cause ('on tap, not on top')."""

    flare_prob_per_week: float = prob(0.04, "flare-up probability per week at severity 0.5")
    severity_effect: float = nonneg(1.5, doc="log rate ratio per unit of severity")
    self_manage_intercept: float = real(-0.2, "log-odds of managing a flare alone at capability 0")
    self_manage_capability_coef: float = real(
        0.2, "per SD of capability (weak: trials found service use barely changed, Kennedy 2007)"
    )
    self_manage_connectedness_coef: float = real(0.2, "per unit of connectedness")
    planned_intercept: float = real(1.0, "log-odds that a contact is planned, not urgent")
    planned_capability_coef: float = real(0.2, "per SD of capability")


@dataclass
class ContactEffect:
    """What one contact through a channel adds (retention.reinforce)."""

    efficacy: float = prob(0.1, "share of what was lost since the course recovered by one contact")
    connectedness_gain: float = prob(0.05, "share of the gap to 1 closed by one contact")
    habit_multiplier: float = nonneg(1.0, doc="habit gain relative to a full contact")


def _effect(efficacy, connectedness_gain, habit_multiplier=1.0):
    return field(default_factory=lambda: ContactEffect(efficacy, connectedness_gain, habit_multiplier))


@dataclass
class PeerGroupBehaviour:
    effect: ContactEffect = _effect(0.10, 0.15)
    join_intercept: float = real(0.7, "log-odds of joining at group affinity 0.5 (a third never attend)")
    join_affinity_coef: float = real(6.0, "per unit of group affinity")
    attend_intercept: float = real(-3.8, "log-odds of attending a meeting (about 1/3 of the register)")
    attend_affinity_coef: float = real(2.5)
    attend_habit_coef: float = real(1.0)
    attend_friends_coef: float = real(1.5, "per share of one's cohort friends present last time")
    attend_need_coef: float = real(1.0, "per unit of (1 - connectedness)")
    attend_flare_coef: float = real(-1.5, "during a flare-up")
    attend_novelty_coef: float = real(1.0, "extra log-odds at a group's first meeting (attendance settles)")
    attend_novelty_meetings: float = positive(3.0, doc="meetings over which the novelty fades (e-folding)")
    leave_prob_per_week: float = prob(0.014, "5-6% a month")
    leave_friends_effect: float = nonneg(1.0, doc="log hazard ratio per share of friends attending")
    leave_benefit_effect: float = nonneg(1.0, doc="log hazard ratio per SD of gain")
    vicarious_effect: float = nonneg(0.5, doc="efficacy rise per SD of mean gain of others present")
    facilitated_efficacy_multiplier: float = positive(1.2)
    volunteer_leave_prob_per_week: float = prob(0.013, "half of volunteers leave within a year")
    successor_prob_per_attender: float = prob(
        0.25, "when the leader leaves, each member at the last meeting steps up with this probability"
    )


@dataclass
class TelephoneBehaviour:
    effect: ContactEffect = _effect(0.07, 0.08)
    join_prob: float = prob(0.6, "share of those offered who accept calls")
    answer_prob: float = prob(0.7, "a scheduled call is answered")
    professional_efficacy_multiplier: float = positive(1.2)
    leave_prob_per_week: float = prob(0.01)
    max_missed_calls: int = count(3, lo=1, doc="consecutive unanswered calls before being dropped")
    volunteer_leave_prob_per_week: float = prob(0.013, "peer callers: half leave within a year")


@dataclass
class OnlineBehaviour:
    effect: ContactEffect = _effect(0.05, 0.05)
    read_efficacy: float = prob(0.02, "reading without posting: information only")
    join_intercept: float = real(-0.5, "log-odds of joining at digital confidence 0.5")
    join_confidence_coef: float = real(3.0)
    visit_intercept: float = real(-0.4, "log-odds of visiting in a week")
    visit_confidence_coef: float = real(1.5)
    visit_habit_coef: float = real(1.0)
    visit_critical_mass_coef: float = real(1.5, "per unit of posters/(posters + critical mass)")
    critical_mass_posters: float = positive(5.0, doc="active posters at which the forum feels half-alive")
    poster_propensity_a: float = positive(0.25, doc="Beta shape a of the propensity to post")
    poster_propensity_b: float = positive(3.5, doc="Beta shape b: fewer than a quarter ever post")
    reply_half_saturation_visitors: float = positive(10.0, doc="visitors at which half of posts get a reply")
    moderator_reply_prob: float = prob(0.5, "a moderator replies to a post nobody answered")
    leave_prob_per_week_no_reply: float = prob(0.12)
    leave_prob_per_week_replied: float = prob(0.03)
    leave_prob_per_week_reader: float = prob(0.12)


@dataclass
class BoosterBehaviour:
    effect: ContactEffect = _effect(0.1, 0.1)
    attend_prob_per_session: float = prob(0.6, "at group affinity 0.5")
    attend_affinity_coef: float = real(3.0, "log-odds per unit of group affinity")


@dataclass
class NewsletterBehaviour:
    effect: ContactEffect = _effect(0.015, 0.0, 0.25)
    read_prob: float = prob(0.5)


@dataclass
class OutcomeParams:
    qaly_per_sd_year: float = nonneg(0.12, doc="utility per SD of gain, so the course yields ~0.02 QALY in 6 months")
    discount_rate_per_year: float = prob(0.035, "NICE reference case, costs and QALYs")


@dataclass
class DynamicsParams:
    course: CourseParams = field(default_factory=CourseParams)
    retention: RetentionParams = field(default_factory=RetentionParams)
    connectedness: ConnectednessParams = field(default_factory=ConnectednessParams)
    health: HealthParams = field(default_factory=HealthParams)
    peer_group: PeerGroupBehaviour = field(default_factory=PeerGroupBehaviour)
    telephone: TelephoneBehaviour = field(default_factory=TelephoneBehaviour)
    online: OnlineBehaviour = field(default_factory=OnlineBehaviour)
    booster: BoosterBehaviour = field(default_factory=BoosterBehaviour)
    newsletter: NewsletterBehaviour = field(default_factory=NewsletterBehaviour)
    outcomes: OutcomeParams = field(default_factory=OutcomeParams)


# --- costs -------------------------------------------------------------------------------------


@dataclass
class CostItem:
    """One unit cost: its value in its own price year, where it comes from, whether it is assumed."""

    value_gbp: float = nonneg(0.0)
    price_year: int = count(2024, lo=1990, hi=2100)
    source: str = ""
    assumption: bool = False


@dataclass
class CostParams:
    """Unit costs (GBP), each in its own price year, inflated to ``price_year`` by ``inflation_index``."""

    price_year: int = count(2024, lo=1990, hi=2100)
    inflation_index: dict[int, float] = field(default_factory=dict)
    inflation_index_source: str = ""
    items: dict[str, CostItem] = field(default_factory=dict)
    planned_contact_mix: dict[str, float] = field(default_factory=dict)

    def inflate(self, name: str) -> float:
        """Value of item ``name`` in GBP at ``price_year`` prices."""
        item = self.items[name]
        return inflate_gbp(item.value_gbp, item.price_year, self.price_year, self.inflation_index)

    def planned_contact_gbp(self) -> float:
        """GBP of one planned contact: the ``planned_contact_mix`` average, at ``price_year`` prices."""
        return sum(share * self.inflate(item) for item, share in self.planned_contact_mix.items())


def inflate_gbp(value_gbp: float, from_year: int, to_year: int, index: Mapping[int, float]) -> float:
    """``value_gbp`` at ``from_year`` prices, expressed at ``to_year`` prices through ``index``.

    ``index`` maps a year to a price index (any base): the value is scaled by
    index[to_year] / index[from_year]. Raises ``KeyError`` naming a year the index lacks.
    """
    for year in (from_year, to_year):
        if year not in index:
            raise KeyError(f"no price index for {year} (the index has {sorted(index)})")
    return float(value_gbp * index[to_year] / index[from_year])


#: The cost items the model uses; a costs config must price each of them.
REQUIRED_COST_ITEMS = (
    "course_per_participant",
    "gp_surgery_consultation",
    "gp_phone_consultation",
    "practice_nurse_consultation",
    "urgent_care_attendance",
    "peer_group_venue_per_meeting",
    "peer_group_coordination_per_meeting",
    "facilitator_per_meeting",
    "volunteer_training_per_volunteer",
    "peer_call",
    "professional_call",
    "online_platform_per_1000_graduates_per_year",
    "moderator_per_hour",
    "booster_per_participant",
    "newsletter_per_issue",
)


# --- the whole model ---------------------------------------------------------------------------

#: The most graduates one model may hold (about 10 GB of memory; see :func:`memory_estimate_bytes`).
MAX_GRADUATES = 10_000_000


@dataclass
class ModelParams:
    """Everything one run needs: who, what support, how people behave, what it costs, how long."""

    n_graduates: int = count(1000, lo=1, hi=MAX_GRADUATES, doc="graduates in the model")
    weeks: int = count(104, lo=1, hi=5200, doc="weeks simulated after the course")
    seed: Optional[int] = field(default=None, metadata={"lo": 0, "hi": 2**63 - 1, "integer": True,
                                                        "doc": "base seed; null draws one and records it"})
    population: PopulationParams = field(default_factory=PopulationParams)
    strategy: StrategyParams = field(default_factory=StrategyParams)
    dynamics: DynamicsParams = field(default_factory=DynamicsParams)
    costs: CostParams = field(default_factory=lambda: default_costs())


# --- validation --------------------------------------------------------------------------------


def _check_number(key: str, value: Any, meta: dict) -> None:
    lo, hi, integer = meta.get("lo"), meta.get("hi"), meta.get("integer", False)
    if integer:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            shown = f"an int such as {int(value)}, not {value!r}" if isinstance(value, float) and value.is_integer() \
                else "an int"
            raise ParameterError(key, value, f"must be a whole number ({shown})")
    elif isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(key, value, "must be a number")
    if not math.isfinite(value):
        rng = f" between {lo} and {hi}" if lo is not None and hi is not None else \
            f" >= {lo}" if lo is not None else f" <= {hi}" if hi is not None else ""
        raise ParameterError(key, value, f"must be a finite number{rng} (not nan or inf)")
    kind = "a whole number" if integer else "a number"
    if lo is not None and (value < lo or (meta.get("lo_open") and value == lo)):
        sign = ">" if meta.get("lo_open") else ">="
        rng = f"{sign} {lo}" + (f" and <= {hi}" if hi is not None else "")
        raise ParameterError(key, value, f"must be {kind} {rng}")
    if hi is not None and value > hi:
        rng = f"between {lo} and {hi}" if lo is not None else f"<= {hi}"
        raise ParameterError(key, value, f"must be {kind} {rng}")


@functools.cache
def _enum_fields(cls: type) -> dict[str, type[Enum]]:
    hints = typing.get_type_hints(cls)
    return {name: t for name, t in hints.items() if isinstance(t, type) and issubclass(t, Enum)}


@functools.cache
def _field_types(cls: type) -> dict[str, tuple[Any, bool]]:
    """{field: (type, may be None)} of a parameter dataclass, ``Optional[X]`` unwrapped."""
    out = {}
    for name, t in typing.get_type_hints(cls).items():
        optional = False
        if typing.get_origin(t) is typing.Union:
            args = [a for a in typing.get_args(t) if a is not type(None)]
            optional, t = True, (args[0] if len(args) == 1 else Any)
        out[name] = (t, optional)
    return out


def _walk(obj: Any, prefix: str) -> None:
    """Check every field of a (nested) parameter dataclass: numbers finite and in range, whole
    numbers ints, flags bools (``enabled="false"`` is text, not false), text text, enums valid."""
    enums = _enum_fields(type(obj))
    types = _field_types(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}{f.name}"
        t, optional = types.get(f.name, (Any, False))
        if value is None and optional:
            continue
        if f.name in enums:
            allowed = [m.value for m in enums[f.name]]
            if value not in allowed:  # str enums equal their values, so "tailored" is fine
                raise ParameterError(key, value, f"must be one of {allowed}")
        elif dataclasses.is_dataclass(value):
            _walk(value, key + ".")
        elif isinstance(value, dict):
            for k, v in value.items():
                if dataclasses.is_dataclass(v):
                    _walk(v, f"{key}.{k}.")
        elif t is bool:
            if not isinstance(value, bool):
                raise ParameterError(key, value, "must be True or False (a bool; the text 'false' is not false)")
        elif t in (int, float) or f.metadata.get("lo") is not None or f.metadata.get("hi") is not None:
            _check_number(key, value, {**f.metadata, "integer": f.metadata.get("integer") or t is int})
        elif t is str and not isinstance(value, str):
            raise ParameterError(key, value, "must be text")


def memory_estimate_bytes(params: ModelParams) -> int:
    """Peak memory one run of ``params`` needs: about 600 bytes per graduate measured (offer_all,
    104 weeks; 1,000 allowed here) on top of about 250 MB of libraries."""
    return 250 * 2**20 + 1000 * params.n_graduates


def _available_memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _check_shares(key: str, shares: list[float], n: int | None = None, must_sum_to_1: bool = False) -> None:
    if n is not None and len(shares) != n:
        raise ParameterError(key, shares, f"must list exactly {n} values")
    for i, s in enumerate(shares):
        _check_number(f"{key}[{i}]", s, {"lo": 0.0, "hi": 1.0})
    if must_sum_to_1 and abs(sum(shares) - 1.0) > 1e-6:
        raise ParameterError(key, shares, f"shares must sum to 1 (they sum to {sum(shares):.4g})")


def validate(params: ModelParams) -> ModelParams:
    """Check every range and cross-field rule; raise :class:`ParameterError` on the first failure.

    Called by the model before any work, and by the command line before a run starts.
    """
    _walk(params, "")
    pop, strat, costs = params.population, params.strategy, params.costs
    need, free = memory_estimate_bytes(params), _available_memory_bytes()
    if free is not None and need > free:
        raise ParameterError(
            "n_graduates", params.n_graduates,
            f"needs about {need / 2**30:.1f} GiB of memory and {free / 2**30:.1f} GiB is available; "
            f"at most about {max(0, (free - 250 * 2**20) // 1000):,} graduates fit",
        )
    _check_shares("population.age_band_shares", pop.age_band_shares, 3, must_sum_to_1=True)
    _check_shares("population.online_access_by_age_band", pop.online_access_by_age_band, 3)
    multipliers = params.dynamics.course.gain_multiplier_by_age_band
    if len(multipliers) != 3:
        raise ParameterError("dynamics.course.gain_multiplier_by_age_band", multipliers, "must list exactly 3 values")
    for i, m in enumerate(multipliers):
        _check_number(f"dynamics.course.gain_multiplier_by_age_band[{i}]", m, {"lo": 0.0, "hi": 2.0})
    order = list(strat.tailoring_order)
    if not order or len(set(order)) != len(order) or not set(order) <= set(TAILORABLE_CHANNELS):
        raise ParameterError(
            "strategy.tailoring_order", order,
            f"must list each of {list(TAILORABLE_CHANNELS)} at most once, in order of preference",
        )
    if pop.cohort_size_max < pop.cohort_size_min:
        raise ParameterError(
            "population.cohort_size_max", pop.cohort_size_max,
            f"must be >= population.cohort_size_min ({pop.cohort_size_min})",
        )
    if strat.end_week is not None:
        _check_number("strategy.end_week", strat.end_week, {"lo": 0, "integer": True})
        if strat.end_week < strat.start_week:
            raise ParameterError(
                "strategy.end_week", strat.end_week,
                f"must be >= strategy.start_week ({strat.start_week}) or null (never ends)",
            )
    if strat.booster.enabled and not strat.active(strat.booster.week):
        raise ParameterError(
            "strategy.booster.week", strat.booster.week,
            f"must fall within support (strategy.start_week={strat.start_week}, "
            f"strategy.end_week={strat.end_week})",
        )
    if strat.booster.enabled and strat.booster.week > params.weeks:
        raise ParameterError(
            "strategy.booster.week", strat.booster.week, f"must be <= weeks ({params.weeks}), or the booster never happens"
        )
    if strat.start_week > params.weeks:
        raise ParameterError(
            "strategy.start_week", strat.start_week,
            f"must be <= weeks ({params.weeks}): support would start after the run ends",
        )
    if params.dynamics.course.sessions > 0 and strat.booster.sessions > params.dynamics.course.sessions:
        raise ParameterError(
            "strategy.booster.sessions", strat.booster.sessions,
            f"must be <= dynamics.course.sessions ({params.dynamics.course.sessions})",
        )
    for name in REQUIRED_COST_ITEMS:
        if name not in costs.items:
            raise ParameterError(f"costs.items.{name}", None, "is required: give value_gbp, price_year, source")
    indexed = sorted(costs.inflation_index)
    if costs.price_year not in costs.inflation_index:
        raise ParameterError("costs.price_year", costs.price_year, f"must be a year of costs.inflation_index {indexed}")
    for name, item in costs.items.items():
        if item.price_year not in costs.inflation_index:
            raise ParameterError(
                f"costs.items.{name}.price_year", item.price_year,
                f"must be a year of costs.inflation_index {indexed}",
            )
    for year, index in costs.inflation_index.items():
        _check_number(f"costs.inflation_index[{year}]", index, {"lo": 0.0, "lo_open": True})
    mix = costs.planned_contact_mix
    allowed = {"gp_surgery_consultation", "gp_phone_consultation", "practice_nurse_consultation"}
    for k in mix:
        if k not in allowed:
            raise ParameterError(f"costs.planned_contact_mix.{k}", mix[k], f"keys must be among {sorted(allowed)}")
    _check_shares("costs.planned_contact_mix", list(mix.values()), must_sum_to_1=True)
    return params


def default_costs() -> CostParams:
    """Unit costs used when no costs config is given (the same values as ``configs/costs/uk.yaml``)."""
    # Kept here so that the model runs without Hydra (notebooks, tests); the YAML is the version
    # a researcher edits. tests/experiments/test_config.py checks that the two agree.
    items = {
        "course_per_participant": CostItem(400.0, 2010, "EPP cost per participant (design.md)"),
        "gp_surgery_consultation": CostItem(45.0, 2013, "PSSRU 2013, GP surgery consultation"),
        "gp_phone_consultation": CostItem(27.0, 2013, "PSSRU 2013, GP telephone consultation"),
        "practice_nurse_consultation": CostItem(13.0, 2013, "PSSRU 2013, practice nurse consultation"),
        "urgent_care_attendance": CostItem(150.0, 2013, "assumed: urgent care / A&E attendance", True),
        "peer_group_venue_per_meeting": CostItem(40.0, 2024, "assumed: community room hire, 2 hours", True),
        "peer_group_coordination_per_meeting": CostItem(25.0, 2024, "assumed: 1 hour coordinator time", True),
        "facilitator_per_meeting": CostItem(90.0, 2024, "assumed: 3 hours paid facilitator incl. preparation", True),
        "volunteer_training_per_volunteer": CostItem(100.0, 2010, "design.md: volunteer training ~GBP 100"),
        "peer_call": CostItem(4.0, 2024, "assumed: coordination per peer call", True),
        "professional_call": CostItem(12.0, 2024, "assumed: 20 min of a band-5 nurse", True),
        "online_platform_per_1000_graduates_per_year": CostItem(
            3000.0, 2024, "assumed: hosted forum licence per year, per 1,000 graduates offered", True
        ),
        "moderator_per_hour": CostItem(25.0, 2024, "assumed: moderator cost per hour", True),
        "booster_per_participant": CostItem(60.0, 2024, "assumed: 2 sessions at course cost per session", True),
        "newsletter_per_issue": CostItem(1.0, 2024, "assumed: print and post, per graduate", True),
    }
    return CostParams(
        price_year=2024,
        inflation_index={2010: 267.0, 2013: 289.1, 2024: 389.0},
        inflation_index_source=(
            "assumed: approximate NHS cost inflation (PSSRU HCHS pay and prices index / NHSCII); "
            "replace with the published series"
        ),
        items=items,
        planned_contact_mix={
            "gp_surgery_consultation": 0.5,
            "gp_phone_consultation": 0.2,
            "practice_nurse_consultation": 0.3,
        },
    )
