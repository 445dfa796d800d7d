"""The building blocks of the parameter dataclasses: fields with a default and an allowed range.

Shared by :mod:`sim.params` (which assembles the whole model's parameters) and each channel's
module in :mod:`sim.support` (which declares its own lever and behaviour blocks at its top). It
imports nothing of the model, so that both may import it without a cycle. Also here: the error
every check raises (:class:`ParameterError`) and the two small records every channel uses,
:class:`ContactEffect` (what one contact adds) and :class:`CostItem`
(one unit cost with its price year and source).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ParameterError(ValueError):
    """A parameter is outside its allowed range; names the key, the value and what is allowed.

    Defined here, not in :mod:`sim.params`, so that a channel's module can raise it from its own
    checks (:meth:`sim.support.base.SupportChannel.check`) without importing the parameters that
    import it; :mod:`sim.params` and :mod:`sim` re-export it."""

    def __init__(self, key: str, value: Any, allowed: str):
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key}={value!r} is not allowed: {allowed}")


#: The smallest value a "positive" field takes: it divides, scales a Beta distribution's shapes or
#: sets a time scale, and a subnormal such as 5e-324 would make that arithmetic NaN or infinite.
POSITIVE_FLOOR = 1e-6
#: The largest magnitude of any number without a bound of its own (a unit cost, a log-odds, a
#: count): far beyond any real value, and small enough that sums and products over 10 million
#: graduates and 5,200 weeks stay finite. :func:`sim.params.validate` applies it.
MAX_MAGNITUDE = 1e12


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
    """A number > 0, in fact >= :data:`POSITIVE_FLOOR`, so that what it divides stays finite."""
    return _num(default, POSITIVE_FLOOR, hi, doc=doc)


def count(default: int, lo: int = 0, hi: int | None = None, doc: str = ""):
    return _num(default, lo, hi, integer=True, doc=doc)


def real(default: float, doc: str = ""):
    return _num(default, doc=doc)


def list_of(default: list):
    """A list field; each instance gets its own copy of ``default``."""
    return field(default_factory=lambda: list(default))


@dataclass
class ContactEffect:
    """What one contact through a channel adds (retention.reinforce)."""

    efficacy: float = prob(0.1, "share of what was lost since the course recovered by one contact")
    connectedness_gain: float = prob(0.05, "share of the gap to 1 closed by one contact")
    habit_multiplier: float = nonneg(1.0, doc="habit gain relative to a full contact")


def contact_effect(efficacy: float, connectedness_gain: float, habit_multiplier: float = 1.0):
    """A channel's :class:`ContactEffect` field with these defaults."""
    return field(default_factory=lambda: ContactEffect(efficacy, connectedness_gain, habit_multiplier))


@dataclass
class CostItem:
    """One unit cost: its value in its own price year, where it comes from, whether it is assumed."""

    value_gbp: float = nonneg(0.0)
    price_year: int = count(2024, lo=1990, hi=2100)
    source: str = ""
    assumption: bool = False
