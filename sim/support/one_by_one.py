"""A channel's rules for one graduate at a time: the interface the reference engine runs.

Each channel's module defines, beside its vectorised class, a subclass of :class:`ChannelRules`
that restates the channel's rules for one graduate (``docs/odd.md``, section 7) in plain Python
scalars. They are restated on purpose: the reference engine (:mod:`sim.reference`) is the test
oracle of the vectorised one, so these rules never call the vectorised class's weekly methods, and
a slip in either engine shows up as a disagreement (``tests/sim/test_equivalence.py``). What the
rules do share with the vectorised class is what is no rule: the channel's state (its arrays and
counters), its parameters, its random stream, the prices of what it does and their booking
(``spend``, the cost of a meeting or of a week of the forum, training volunteers), leaving
(``leave``) and ``results()``.

The reference model calls, in the order of the week:

* in the first week of support, ``consider_offer(agent)`` for each graduate offered the channel
  (through :meth:`sim.reference.ReferenceGraduate.consider_offer`), then ``set_up(offered, week)``;
* every week of support, ``step(week)``: one pass or more over the agents, in random order;
* every week of support, ``engage(week)``: each enrolled graduate considers leaving (``leaves``),
  then what belongs to the channel as a whole happens (groups close).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .base import Engagement, SupportChannel

if TYPE_CHECKING:
    from ..reference import ReferenceGraduate, ReferenceModel


def logistic(x: float) -> float:
    """The inverse logit of one number (without overflow for large negative ``x``)."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


class ChannelRules:
    """Base class: taking up an offer and leaving, for one graduate; the rest per channel."""

    def __init__(self, channel: SupportChannel):
        self.channel = channel
        self.model: ReferenceModel = channel.model

    # --- first week of support --------------------------------------------------------------------

    def consider_offer(self, agent: ReferenceGraduate) -> None:
        """``agent`` is offered the channel: they take it up (ENROLLED) or decline it."""
        joins = self.wants_to_join(agent)
        self.channel.status[agent.index] = Engagement.ENROLLED if joins else Engagement.DECLINED

    def wants_to_join(self, agent: ReferenceGraduate) -> bool:
        raise NotImplementedError

    def set_up(self, offered: np.ndarray, week: int) -> None:
        """What the channel sets up once everyone offered (``offered`` mask) has answered."""

    # --- every week of support ----------------------------------------------------------------------

    def step(self, week: int) -> None:
        """The week's support, graduate by graduate."""
        raise NotImplementedError

    def leaves(self, agent: ReferenceGraduate) -> bool:
        """Whether ``agent``, taking part, leaves this week (default: nobody leaves)."""
        return False

    def engage(self, week: int) -> None:
        """Each graduate taking part stays or leaves (in id order: each decides alone)."""
        self.model.agents.do("consider_leaving", self)
