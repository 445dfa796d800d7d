"""Parameters of the model: typed, documented, with units and allowed ranges.

Every number the model uses is a dataclass field with a default (the prior from ``design.md``)
and, where it has one, an allowed range in the field's metadata (the helpers of
:mod:`sim.fields`). The whole model's parameters are assembled here; each support channel's
blocks are declared at the top of its own module in :mod:`sim.support` (``PeerGroupParams`` and
``PeerGroupBehaviour`` in ``sim/support/peer_group.py``, ...) and joined in as
``strategy.<channel>`` and ``dynamics.<channel>`` from the channel registry
(:mod:`sim.support.registry`), in the order the channels run. They are re-exported here, so
``from sim.params import PeerGroupParams`` keeps working. The same dataclasses are the Hydra
schema (``experiments/config.py`` registers them), so a YAML file or a command-line override
with an unknown key or a wrong type fails before anything runs, and :func:`validate` checks every
range and cross-field rule with one clear message.

Three kinds of parameter are kept apart (EMA Workbench's levers / uncertainties):

* :class:`StrategyParams` -- levers: what a commissioner funds (channels, how often, by whom).
* :class:`PopulationParams` -- who the graduates are.
* :class:`DynamicsParams` -- uncertain behaviour: decay, reinforcement, engagement (calibrated).
* :class:`CostParams` -- unit costs with their price year and source (:func:`inflate_gbp`).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import numbers
import os
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Optional

from .connectedness import ConnectednessParams  # noqa: F401
from .fields import MAX_MAGNITUDE, POSITIVE_FLOOR, ContactEffect, CostItem, count, list_of, nonneg, positive, prob, real  # noqa: F401
from .fields import ParameterError  # noqa: F401  (raised by every check; channels raise it too)
from .retention import DecayShape, RetentionParams  # noqa: F401
from .measurement import MeasurementParams  # noqa: F401
from .support.registry import CHANNEL_NAMES, CHANNEL_TYPES, TAILORABLE_CHANNELS, channel_unit_costs  # noqa: F401

# Re-exported for ``from sim.params import PeerGroupParams`` (experiments, tests, notebooks); the
# model itself takes every channel from the registry, and a new channel need not be added here.
from .support.booster import BoosterBehaviour, BoosterParams  # noqa: F401, E402
from .support.newsletter import NewsletterBehaviour, NewsletterParams  # noqa: F401, E402
from .support.online import OnlineBehaviour, OnlineParams  # noqa: F401, E402
from .support.peer_group import GroupDelivery, GroupFormation, PeerGroupBehaviour, PeerGroupParams  # noqa: F401, E402
from .support.telephone import Caller, TelephoneBehaviour, TelephoneParams  # noqa: F401, E402



# --- enums -------------------------------------------------------------------------------------


class Matching(str, Enum):
    """How graduates are matched to the channels a strategy offers."""

    offer_all = "offer_all"  # everyone may use every enabled channel
    tailored = "tailored"  # each graduate is offered the one channel that fits them


def channel_blocks(block_type: str, before: str | None = None):
    """Class decorator, applied before ``@dataclass``: one field per support channel, named after
    it (``peer_group``, ...), of the channel's ``block_type`` (``"lever_type"`` or
    ``"behaviour_type"``), with its defaults; inserted before field ``before`` (default: at the end),
    in the order the channels run (:data:`sim.support.registry.CHANNEL_TYPES`)."""

    def add(cls: type) -> type:
        own = dict(cls.__dict__.get("__annotations__", {}))
        blocks = {c.name: getattr(c, block_type) for c in CHANNEL_TYPES}
        if clash := set(own) & set(blocks):
            raise TypeError(f"{cls.__name__}: channel names {sorted(clash)} clash with its own fields")
        ordered: dict[str, Any] = {}
        for name, annotation in own.items():
            if name == before:
                ordered.update(blocks)
            ordered[name] = annotation
        if before is None:
            ordered.update(blocks)
        cls.__annotations__ = ordered
        for name, block in blocks.items():
            setattr(cls, name, field(default_factory=block))
        return cls

    return add


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
    age_band_shares: list[float] = list_of([0.45, 0.35, 0.20])
    online_access_by_age_band: list[float] = list_of([0.90, 0.80, 0.54])
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
@channel_blocks("lever_type")
class StrategyParams:
    """Which follow-on support is offered, to whom, and when (weeks after the course ends).

    After the fields below come the channels' lever blocks, one per channel in the order they run
    (``peer_group``: :class:`PeerGroupParams`, ``telephone``, ``online``, ``booster``,
    ``newsletter``), each with its ``enabled`` flag.
    """

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
        default_factory=lambda: list(TAILORABLE_CHANNELS),
        metadata={"doc": "tailored: channels in order of preference; each graduate gets the first that fits"},
    )
    @property
    def channels(self) -> dict[str, Any]:
        """The channel blocks by name, in the order they run each week."""
        return {name: getattr(self, name) for name in CHANNEL_NAMES}

    def active(self, week: int) -> bool:
        """Whether support runs in ``week``."""
        return week >= self.start_week and (self.end_week is None or week <= self.end_week)


@dataclass(frozen=True)
class NamedStrategy:
    """What the name of a shipped strategy (``configs/strategy/<name>.yaml``) promises.

    ``matched``: the matched channels (:data:`TAILORABLE_CHANNELS`: peer groups, telephone, the
    forum) it offers, exactly; None: any (``no_course`` composes with any channel). ``matching``:
    its matching rule; None: any. The other channels (a booster course, a newsletter) go to
    everyone either way and may be added to any strategy. tests/experiments/test_strategy_names.py
    checks that this table and ``configs/strategy/`` agree.
    """

    label: str
    course: bool = True
    matched: Optional[frozenset] = frozenset()
    matching: Optional[Matching] = Matching.offer_all


_ALL_MATCHED = frozenset(TAILORABLE_CHANNELS)

#: The strategies shipped in ``configs/strategy/``, by name. A strategy of another name is one of
#: the user's own: its channels are whatever is set, and it needs its own label.
SHIPPED_STRATEGIES: dict[str, NamedStrategy] = {
    "course_only": NamedStrategy("Course only (no follow-on support)"),
    "no_course": NamedStrategy("No course (referred, did not take it)", course=False, matched=None, matching=None),
    "peer_group": NamedStrategy("Peer support groups", matched=frozenset({"peer_group"})),
    "telephone": NamedStrategy("Telephone support", matched=frozenset({"telephone"})),
    "online": NamedStrategy("Online group", matched=frozenset({"online"})),
    "offer_all": NamedStrategy("All three, free choice", matched=_ALL_MATCHED),
    "tailored": NamedStrategy("All three, matched to each person", matched=_ALL_MATCHED, matching=Matching.tailored),
}

_STRATEGY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def check_strategy_name(strat: "StrategyParams", channels: bool = True) -> None:
    """A strategy is what its name says: a shipped name (:data:`SHIPPED_STRATEGIES`) offers
    exactly the matched channels, the matching and the course of its config (a booster course or
    a newsletter may be added to any); any other name is a strategy of the user's own, with its
    own label. Raises :class:`ParameterError` naming the first key that contradicts the name.

    ``channels=False`` checks only the name and, for a name of one's own, the label: what
    :func:`validate` checks for every model. Configs (the command line, sweeps, ``load_params``)
    are checked in full (``experiments.config.params_of``); in Python a variant of a shipped
    strategy (``dataclasses.replace(StrategyParams(), peer_group=...)``, an analysis taking a
    channel away) is a model's business, and its name is checked here on request."""
    name = strat.name
    if not isinstance(name, str) or not _STRATEGY_NAME.fullmatch(name):
        raise ParameterError("strategy.name", name, "must be 1-100 letters, digits, '_', '-' or '.', starting with a "
                                                    "letter or digit (it names the run's folder)")
    named = SHIPPED_STRATEGIES.get(name)
    if named is None:
        owner = next((n for n, s in SHIPPED_STRATEGIES.items() if s.label == strat.label), None)
        if owner is not None:
            raise ParameterError("strategy.label", strat.label,
                                 f"is the label of the shipped strategy {owner}; a strategy of your own "
                                 f"(strategy.name={name!r}) needs its own label")
        return
    if not channels:
        return
    where = f"configs/strategy/{name}.yaml"
    rule = (f"must be {{}} under strategy.name={name!r} ({where}); booster and newsletter may be added to any "
            "strategy, anything else needs a strategy.name and strategy.label of your own")
    if strat.course != named.course:
        raise ParameterError("strategy.course", strat.course, rule.format(str(named.course).lower()))
    if named.matching is not None and strat.matching != named.matching:
        raise ParameterError("strategy.matching", getattr(strat.matching, "value", strat.matching),
                             rule.format(repr(named.matching.value)))
    if named.matched is not None:
        for channel in TAILORABLE_CHANNELS:
            on = getattr(strat, channel).enabled
            if on != (channel in named.matched):
                raise ParameterError(f"strategy.{channel}.enabled", on, rule.format(str(not on).lower()))


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
    gain_multiplier_by_age_band: list[float] = list_of([1.0, 1.0, 1.0])
    gain_age_gradient: float = nonneg(
        0.0, 0.9, "relative extra gain under 65 and shortfall at 75+ (Reeves 2008: younger gain more); mean kept"
    )


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
class OutcomeParams:
    qaly_per_sd_year: float = nonneg(0.12, doc="utility per SD of gain, so the course yields ~0.02 QALY in 6 months")
    qaly_per_connectedness_year: float = nonneg(
        0.1, doc="utility per unit of connectedness above one's usual level (Konig & Hajek 2024; Munford 2020)"
    )
    discount_rate_per_year: float = prob(0.035, "NICE reference case, costs and QALYs")


@dataclass
@channel_blocks("behaviour_type", before="outcomes")
class DynamicsParams:
    """Uncertain behaviour. Between ``health`` and ``outcomes`` come the channels' behaviour
    blocks, one per channel in the order they run (``peer_group``: :class:`PeerGroupBehaviour`, ...)."""

    course: CourseParams = field(default_factory=CourseParams)
    retention: RetentionParams = field(default_factory=RetentionParams)
    connectedness: ConnectednessParams = field(default_factory=ConnectednessParams)
    health: HealthParams = field(default_factory=HealthParams)
    outcomes: OutcomeParams = field(default_factory=OutcomeParams)
    measurement: MeasurementParams = field(default_factory=MeasurementParams)


# --- costs -------------------------------------------------------------------------------------


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


def _course_and_care_costs() -> dict[str, CostItem]:
    """The unit costs of the course and of care (the channels price their own: ``unit_costs``)."""
    return {
        "course_per_participant": CostItem(400.0, 2010, "EPP cost per participant (design.md)"),
        "gp_surgery_consultation": CostItem(45.0, 2013, "PSSRU 2013, GP surgery consultation"),
        "gp_phone_consultation": CostItem(27.0, 2013, "PSSRU 2013, GP telephone consultation"),
        "practice_nurse_consultation": CostItem(13.0, 2013, "PSSRU 2013, practice nurse consultation"),
        "urgent_care_attendance": CostItem(150.0, 2013, "assumed: urgent care / A&E attendance", True),
    }


#: The cost items the model uses; a costs config must price each of them.
REQUIRED_COST_ITEMS = (*_course_and_care_costs(), *channel_unit_costs())


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
    _check_number_in_range(key, value, lo, hi, integer, meta)
    if hi is None and value > MAX_MAGNITUDE or lo is None and value < -MAX_MAGNITUDE:
        raise ParameterError(key, value, f"must be {'a whole number' if integer else 'a number'} between "
                                         f"{-MAX_MAGNITUDE if lo is None else lo:g} and {MAX_MAGNITUDE:g} "
                                         "(beyond that the arithmetic is no longer finite)")


def _check_number_in_range(key: str, value: Any, lo: Any, hi: Any, integer: bool, meta: dict) -> None:
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


@functools.cache
def _checks(cls: type) -> tuple[tuple[str, str, bool, Any], ...]:
    """What :func:`_walk` checks in each field of a parameter dataclass, worked out once per class
    (validating is then a loop over plain tuples: a sweep validates every run's parameters):
    ``(field, kind, may be None, detail)``, kind one of enum (detail: the allowed values), bool,
    number (detail: the range, as the field's metadata gives it), text, other (by its value)."""
    enums = _enum_fields(cls)
    types = _field_types(cls)
    out = []
    for f in dataclasses.fields(cls):
        t, optional = types.get(f.name, (Any, False))
        if f.name in enums:
            out.append((f.name, "enum", optional, [m.value for m in enums[f.name]]))
        elif t is bool:
            out.append((f.name, "bool", optional, None))
        elif t in (int, float) or f.metadata.get("lo") is not None or f.metadata.get("hi") is not None:
            out.append((f.name, "number", optional, {**f.metadata, "integer": f.metadata.get("integer") or t is int}))
        elif t is str:
            out.append((f.name, "text", optional, None))
        else:
            out.append((f.name, "other", optional, None))
    return tuple(out)


def _walk(obj: Any, prefix: str) -> None:
    """Check every field of a (nested) parameter dataclass: numbers finite and in range, whole
    numbers ints, flags bools (``enabled="false"`` is text, not false), text text, enums valid."""
    for name, kind, optional, detail in _checks(type(obj)):
        value = getattr(obj, name)
        if value is None and optional:
            continue
        if kind == "enum":
            if value not in detail:  # str enums equal their values, so "tailored" is fine
                raise ParameterError(f"{prefix}{name}", value, f"must be one of {detail}")
        elif dataclasses.is_dataclass(value):
            _walk(value, f"{prefix}{name}.")
        elif isinstance(value, dict):
            for k, v in value.items():
                if dataclasses.is_dataclass(v):
                    _walk(v, f"{prefix}{name}.{k}.")
        elif kind == "bool":
            if not isinstance(value, bool):
                raise ParameterError(f"{prefix}{name}", value,
                                     "must be True or False (a bool; the text 'false' is not false)")
        elif kind == "number":
            _check_number(f"{prefix}{name}", value, detail)
        elif kind == "text" and not isinstance(value, str):
            raise ParameterError(f"{prefix}{name}", value, "must be text")


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

    Called by the model before any work, and by the command line before a run starts. A channel's
    rules that join its blocks to the rest of the model (the booster's week within support and the
    run) are its own: :meth:`~sim.support.base.SupportChannel.check`, called here for every channel.
    """
    _walk(params, "")
    check_strategy_name(params.strategy, channels=False)
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
    for channel in CHANNEL_TYPES:  # each channel's own cross-field rules, in its module (the booster's week)
        channel.check(params)
    if strat.start_week > params.weeks:
        raise ParameterError(
            "strategy.start_week", strat.start_week,
            f"must be <= weeks ({params.weeks}): support would start after the run ends",
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
        _check_number(f"costs.inflation_index[{year}]", index, {"lo": POSITIVE_FLOOR})
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
    # a researcher edits. tests/experiments/test_config.py checks that the two agree. Each
    # channel's items come from its module (``unit_costs``), copied so that no run shares them.
    items = {**_course_and_care_costs(), **channel_unit_costs()}
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


def with_values(params: ModelParams, values: dict[str, object]) -> ModelParams:
    """A copy of ``params`` with the parameters named by dotted keys set, validated (``params``
    itself is not changed; blocks no key reaches are shared with it, and are never changed in place).

    ``with_values(p, {"dynamics.retention.decay_rate_per_week": 0.015})``: the keys are the
    command line's (``costs.items.X.value_gbp`` reaches into the cost items). Used by sensitivity
    analysis, calibration and probabilistic sensitivity analysis (``experiments/``), where composing
    a config per sample would cost more than the run.
    """
    # copied along each key's path only (the blocks and dicts it passes through): ``params`` is
    # left as it was, and the untouched blocks are shared, which a deep copy of everything would
    # cost several times more for (a PSA sets a dozen values in each run's parameters)
    params = copy.copy(params)
    copied = {id(params)}  # the blocks this call copied: each once, however many keys pass through it
    for key, value in values.items():
        *path, last = key.split(".")
        node = params
        try:
            for part in path:
                child = node[part] if isinstance(node, dict) else getattr(node, part)
                if id(child) not in copied:
                    child = copy.copy(child)
                    copied.add(id(child))
                    if isinstance(node, dict):
                        node[part] = child
                    else:
                        setattr(node, part, child)
                node = child
            if isinstance(node, dict):
                if last not in node:
                    raise KeyError(last)
                node[last] = value
            else:
                if not hasattr(node, last):
                    raise AttributeError(last)
                current = getattr(node, last)
                if isinstance(current, int) and not isinstance(current, bool) and float(value).is_integer():
                    value = int(value)  # e.g. a sampled 4.0 for a whole-number parameter
                elif isinstance(current, Enum) and not isinstance(value, Enum):
                    try:
                        value = type(current)(value)  # e.g. a decay shape named in a posterior table
                    except ValueError:
                        raise ParameterError(key, value, f"must be one of {[e.value for e in type(current)]}") from None
                setattr(node, last, value)
        except (KeyError, AttributeError) as err:
            raise ParameterError(key, value, f"is not a parameter of the model (no {err.args[0]!r})") from None
    return validate(params)
