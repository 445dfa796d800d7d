"""The interface every support channel shares, and the engagement states of a graduate.

A channel owns its parameters (the strategy's lever block and the behaviour block, declared at
the top of its module and named in its class statement, with its name and place in the week),
the unit costs it uses, its state (one engagement status
per graduate, contact counts) and its results for the week. :mod:`sim.support.registry` finds the
channels; :mod:`sim.params` builds the strategy and dynamics blocks from them. The model calls,
in the order of the week (see :class:`sim.model.SelfManagementModel`):

* ``offer(mask)`` once, in the first week of support: who is offered it, who takes it up;
* ``step(week)`` every week of support: who is reached, who takes part, what each contact adds;
* ``engage(week)`` every week of support: who leaves; groups close; volunteers leave;
* ``close()`` once, when support ends: everyone still enrolled leaves.

The reference engine (:mod:`sim.reference`) runs instead the channel's rules for one graduate at a
time, from :meth:`SupportChannel.one_by_one` (see :mod:`sim.support.one_by_one`).

:mod:`sim.params` imports every channel's module for its parameters, so a channel's module imports
only what imports nothing of :mod:`sim.params` in turn (retention and connectedness declare their
own parameters), and names modules, never the package: ``from ..retention import reinforce``, not
``from .. import retention``, which reads ``sim/__init__.py`` while it is still importing
:mod:`sim.params` (tests/test_architecture.py counts what ``__init__`` files import, and fails on it).
"""

from __future__ import annotations

from enum import IntEnum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..connectedness import connect
from ..fields import ContactEffect, CostItem
from ..retention import reinforce
from .words import EngagementPanel, every

if TYPE_CHECKING:
    from ..model import SelfManagementModel
    from ..params import ModelParams, StrategyParams
    from ..population import Graduates
    from .one_by_one import ChannelRules

#: A unit cost more than one channel uses (peer-group leaders and peer callers are trained alike).
VOLUNTEER_TRAINING = {
    "volunteer_training_per_volunteer": CostItem(100.0, 2010, "design.md: volunteer training ~GBP 100"),
}


class Engagement(IntEnum):
    """A graduate's state in one channel; every graduate is in exactly one per channel."""

    NOT_OFFERED = 0  # the strategy does not offer them this channel (or not yet)
    DECLINED = 1  # offered, but never took it up (or cannot: no phone, not online)
    ENROLLED = 2  # taking part: on the group's register, on the call list, a forum member
    LEFT = 3  # took part, then left (dropped out, group closed, support ended)


def _declared(cls: type) -> set[str]:
    """The identity attributes ``cls`` or a channel it derives from set (not the base's defaults)."""
    return {k for c in cls.__mro__ if c is not SupportChannel and c is not object for k in vars(c)}


class SupportChannel:
    """Base class: engagement status and contact bookkeeping shared by every channel.

    A channel says who it is in its class statement, for example::

        class TelephoneSupport(SupportChannel, name="telephone", label="Telephone support", week_order=20,
                               lever=TelephoneParams, behaviour=TelephoneBehaviour, cost_label="Telephone",
                               tailorable=True):

    and lists its ``unit_costs`` in the body; the attributes below are set from those words.
    """

    #: The key of its blocks in the strategy (``strategy.<name>``) and the dynamics (``dynamics.<name>``).
    name: ClassVar[str] = "channel"
    #: Its name in plots and reports.
    label: ClassVar[str] = "Channel"
    #: The cost category its spending is booked under (a column ``cost_<category>_gbp``; default its name).
    cost_category: ClassVar[str] = "channel"
    #: The cost category's name in plots and reports (default its label).
    cost_label: ClassVar[str] = "Channel"
    #: Where it runs in the week: channels run in increasing order.
    week_order: ClassVar[int] = 0
    #: The dataclass of its levers (``strategy.<name>``); it has an ``enabled`` flag.
    lever_type: ClassVar[type]
    #: The dataclass of its behaviour (``dynamics.<name>``); it has an ``effect`` (ContactEffect).
    behaviour_type: ClassVar[type]
    #: The unit costs it uses, with their default values (:func:`sim.params.default_costs` gathers them).
    unit_costs: ClassVar[dict[str, CostItem]] = {}
    #: Whether a ``tailored`` strategy may match graduates to it (``strategy.tailoring_order``).
    tailorable: ClassVar[bool] = False

    # How it is presented (experiments/labels.py, the report, the dashboard read these). Each has a
    # fallback, so a channel that declares none of them is still named, coloured and drawn.
    #: Its colour in every figure (hex); None: a spare colour (``experiments.labels.SPARE_COLOURS``).
    colour: ClassVar[str | None] = None
    #: Its short name in a list of channels ("groups" in "Groups and calls, free choice"); None: its label.
    noun: ClassVar[str | None] = None
    #: What it offers, for running text ("telephone calls"); None: its label.
    offer_words: ClassVar[str | None] = None
    #: Who a ``tailored`` strategy offers it to ("calls if they have a phone"); None: its label.
    fit_words: ClassVar[str | None] = None
    #: The panels of the report's engagement figure; None: one panel of the share enrolled, drawn
    #: where a strategy offers it; ``()``: no panel.
    engagement_panels: ClassVar[tuple[EngagementPanel, ...] | None] = None
    #: The dashboard's weekly counts of it, ``(column, words)``; None: its contacts this week, drawn
    #: where it is offered; ``()``: none.
    weekly_counts: ClassVar[tuple[tuple[str, str], ...] | None] = None

    @classmethod
    def phrase(cls, lever: Mapping[str, Any]) -> str:
        """Its name in a strategy's name, from its levers (``strategy.<name>`` of a config, as a
        mapping): "Peer support group, fortnightly". Default: its label, with how often when its
        levers have an ``interval_weeks``."""
        interval = lever.get("interval_weeks")
        return cls.label if interval is None else f"{cls.label}, {every(interval)}"

    @classmethod
    def describe(cls, lever: Mapping[str, Any]) -> str:
        """What it offers, as a clause of a sentence, from its levers: "a newsletter every 4 weeks".
        Default: its phrase, in lower case."""
        text = cls.phrase(lever)
        return text[:1].lower() + text[1:]

    @classmethod
    def panels(cls) -> tuple[EngagementPanel, ...]:
        """Its panels of the report's engagement figure (its own, or the share enrolled)."""
        if cls.engagement_panels is not None:
            return tuple(cls.engagement_panels)
        return (EngagementPanel(f"{cls.name}_enrolled_pct", f"{cls.name}_enrolled_share", "share",
                                f"{cls.label}: % of graduates taking part", "% of all graduates enrolled"),)

    @classmethod
    def counts(cls) -> tuple[tuple[str, str], ...]:
        """Its weekly counts on the dashboard, ``(column, words)`` (its own, or its contacts)."""
        if cls.weekly_counts is not None:
            return tuple(cls.weekly_counts)
        return ((f"{cls.name}_contacts", f"{cls.label}: contacts this week"),)

    def __init_subclass__(cls, *, name: str | None = None, label: str | None = None, week_order: int | None = None,
                          lever: type | None = None, behaviour: type | None = None, cost_category: str | None = None,
                          cost_label: str | None = None, tailorable: bool | None = None, **kwargs: Any) -> None:
        """Set a channel's identity from the words of its class statement (a subclass of a
        channel may leave them out: it keeps its parent's)."""
        super().__init_subclass__(**kwargs)
        if name is not None:
            cls.name = cls.cost_category = name  # booked under its own name unless it says otherwise
        if label is not None:
            cls.label = cls.cost_label = label
        for attr, value in (("cost_category", cost_category), ("cost_label", cost_label), ("week_order", week_order),
                            ("lever_type", lever), ("behaviour_type", behaviour), ("tailorable", tailorable)):
            if value is not None:
                setattr(cls, attr, value)
        missing = [k for k in ("name", "label", "lever_type", "behaviour_type") if k not in _declared(cls)]
        if missing:
            raise TypeError(f"{cls.__name__} must say its {', '.join(missing)} in its class statement "
                            "(name=..., label=..., lever=..., behaviour=...)")

    @classmethod
    def check(cls, params: ModelParams) -> None:
        """The channel's own cross-field rules: its blocks (``params.strategy.<name>``,
        ``params.dynamics.<name>``) against the rest of the model's parameters. Raises
        :class:`~sim.fields.ParameterError` naming the key; :func:`sim.params.validate` calls it for
        every channel, after each field's own range is checked. Default: no rule of its own."""

    @classmethod
    def fits(cls, g: Graduates, strategy: StrategyParams) -> np.ndarray:
        """Whether each graduate fits the channel, for tailored matching (default: everyone)."""
        return np.ones(g.n, dtype=bool)

    def __init__(self, model: SelfManagementModel, lever: Any, behaviour: Any, rng: np.random.Generator):
        self.model = model
        self.lever = lever
        self.behaviour = behaviour
        self.rng = rng
        n = model.graduates.n
        self.status = np.zeros(n, dtype=np.int8)
        self.contacts = np.zeros(n, dtype=np.int32)  # contacts per graduate, since week 0
        #: the runs the model holds (:mod:`sim.runs`); counters are per run (numbers with one run)
        self.runs = model.graduates.runs
        self.contacts_this_week = self.runs.zeros()
        self.reached_this_week = self.runs.zeros()  # graduates with at least one contact this week
        self.first_week: int | None = None

    @property
    def enrolled(self) -> np.ndarray:
        return self.status == Engagement.ENROLLED

    def begin_week(self) -> None:
        self.contacts_this_week = self.runs.zeros()
        self.reached_this_week = self.runs.zeros()

    def offer(self, offered: np.ndarray, week: int) -> None:
        """Offer the channel to ``offered``; those who take it up become ENROLLED."""
        self.first_week = week
        takes_up = offered & self.takes_up(offered)
        self.status[offered] = Engagement.DECLINED
        self.status[takes_up] = Engagement.ENROLLED

    def takes_up(self, offered: np.ndarray) -> np.ndarray:
        """Boolean mask of graduates who take the channel up if offered (override per channel)."""
        raise NotImplementedError

    def step(self, week: int) -> None:
        raise NotImplementedError

    def one_by_one(self) -> ChannelRules:
        """The same rules for one graduate at a time, on this channel's state (the reference engine)."""
        raise NotImplementedError

    def engage(self, week: int) -> None:
        """Leaving; default: nothing."""

    def close(self) -> None:
        """Support has ended: everyone still taking part leaves."""
        self.status[self.enrolled] = Engagement.LEFT

    def leave(self, who: np.ndarray) -> None:
        self.status[who] = Engagement.LEFT

    def deliver(
        self,
        who: np.ndarray,
        week: int,
        effect: ContactEffect,
        efficacy_multiplier: np.ndarray | float = 1.0,
        doses: np.ndarray | int = 1,
        social: bool = True,
    ) -> None:
        """Contacts for graduates ``who`` (indices): reinforce gains, build habit, connect."""
        if who.size == 0:
            return
        g, dyn, runs = self.model.graduates, self.model.params.dynamics, self.runs
        effect = runs.view(effect, who)  # each run's own effect, in a batch whose runs differ
        reinforce(
            g, who, week, dyn.retention, effect.efficacy * np.asarray(efficacy_multiplier),
            effect.habit_multiplier, doses,
        )
        if social:
            connect(g, who, effect.connectedness_gain, doses)
        n_doses = np.broadcast_to(np.asarray(doses), who.shape)
        self.contacts[who] += n_doses.astype(np.int32)
        if runs.single:
            self.contacts_this_week += int(n_doses.sum())
        else:
            self.contacts_this_week += np.bincount(runs.of[who], weights=n_doses, minlength=runs.k).astype(np.int64)
        self.reached_this_week += runs.count(who)

    def spend(self, gbp: float, week: int, numpy_scalar: bool = False) -> None:
        """Book ``gbp`` (per run, in a batch) under the channel's cost category (``numpy_scalar``:
        see :meth:`sim.costs.CostLedger.add`)."""
        self.model.ledger.add(self.cost_category, gbp, week, numpy_scalar)

    def results(self) -> dict[str, float]:
        """This week's channel outcomes, for the reporters (shares are of all graduates)."""
        runs = self.runs
        n = self.status.size if runs.single else runs.n
        return {
            f"{self.name}_enrolled_share": runs.share(self.enrolled),
            f"{self.name}_active_share": self.reached_this_week / n,
            f"{self.name}_contacts": self._float(self.contacts_this_week),
        }

    def _float(self, x):
        """A count as the reporters record it: a float (one per run, in a batch)."""
        return float(x) if self.runs.single else np.asarray(x, dtype=float)
