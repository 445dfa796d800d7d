"""The support channels: the one place the model learns which channels exist, and in what order.

A channel is a module of this package (``sim/support/<channel>.py``) that defines a subclass of
:class:`~sim.support.base.SupportChannel` whose class statement says its ``name``, ``label``,
``week_order``, ``lever`` and ``behaviour`` dataclasses (declared at the top of the same module),
with its ``unit_costs`` and, for the reference engine, its rules for one graduate (``one_by_one``). The
registry finds them by importing every module of the package, and orders them by
``week_order``.
Everything else is derived from :data:`CHANNEL_TYPES`: the blocks ``strategy.<name>`` and
``dynamics.<name>`` (:mod:`sim.params`), the cost items a costs config must price, the ledger's
cost categories (:mod:`sim.costs`), the tailored matching (:mod:`sim.strategy`), the channels a
model runs, their reporter columns and the reference engine's rules.

Adding a channel therefore touches, in the model, its own module and nothing else: then a config
that offers it (``configs/strategy/*.yaml``) and its tests. A channel may also live outside the
package, in a module of one's own: name it in the environment variable
``AFTER_THE_COURSE_CHANNELS`` (importable module names, comma-separated) before ``sim`` is first
imported, and it is found with the others (tests/experiments/test_toy_channel.py runs a run, a
sweep, the report and the dashboard with one). How a channel is presented (its colour, its
phrase, its panels) is said in its module too (:class:`~sim.support.base.SupportChannel`).
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import pkgutil
from pathlib import Path

from ..fields import CostItem
from .base import SupportChannel


#: The environment variable naming channel modules outside this package (comma-separated).
EXTRA_CHANNELS_VARIABLE = "AFTER_THE_COURSE_CHANNELS"


def _channel_modules() -> list[str]:
    """The modules to search: every module of this package, then those the environment names."""
    own = [f"{__package__}.{info.name}" for info in pkgutil.iter_modules([str(Path(__file__).parent)])]
    extra = [m.strip() for m in os.environ.get(EXTRA_CHANNELS_VARIABLE, "").split(",") if m.strip()]
    return own + [m for m in extra if m not in own]


def _find_channels() -> tuple[type[SupportChannel], ...]:
    """Every channel class defined in a module of this package (or one named by
    :data:`EXTRA_CHANNELS_VARIABLE`), in the order they run."""
    found = []
    own = f"{__package__}."
    for name in _channel_modules():
        try:
            module = importlib.import_module(name)
        except ImportError as err:
            if name.startswith(own):
                raise
            raise ImportError(f"{EXTRA_CHANNELS_VARIABLE} names the module {name!r}, which cannot be imported "
                              f"({err}); give importable module names, comma-separated") from err
        defined = [
            obj for obj in vars(module).values()
            if isinstance(obj, type) and issubclass(obj, SupportChannel) and obj.__module__ == module.__name__
            and obj is not SupportChannel
        ]
        if not defined and not name.startswith(own):
            raise TypeError(f"{EXTRA_CHANNELS_VARIABLE} names the module {name!r}, which defines no support "
                            "channel (a subclass of sim.support.base.SupportChannel)")
        found += defined
    found.sort(key=lambda c: c.week_order)
    for key in ("name", "week_order"):
        values = [getattr(c, key) for c in found]
        if len(set(values)) != len(values):
            raise TypeError(f"two support channels share a {key}: {sorted(map(str, values))}")
    return tuple(found)


#: The channel classes, in the order they run each week (and of their parameter blocks).
CHANNEL_TYPES: tuple[type[SupportChannel], ...] = _find_channels()
#: Their names: the keys of their blocks in the strategy and the dynamics.
CHANNEL_NAMES: tuple[str, ...] = tuple(c.name for c in CHANNEL_TYPES)
#: Channel classes by name, in the order they run.
CHANNELS: dict[str, type[SupportChannel]] = {c.name: c for c in CHANNEL_TYPES}
#: Channels a ``tailored`` strategy matches one per graduate (the default ``tailoring_order``).
TAILORABLE_CHANNELS: tuple[str, ...] = tuple(c.name for c in CHANNEL_TYPES if c.tailorable)


def channel_unit_costs() -> dict[str, CostItem]:
    """Every channel's unit costs with their default values, in channel order, as fresh copies.

    An item two channels use (volunteer training) must be priced alike by both.
    """
    items: dict[str, CostItem] = {}
    for channel in CHANNEL_TYPES:
        for name, item in channel.unit_costs.items():
            if name in items and items[name] != item:
                raise TypeError(f"{channel.__name__} prices {name} as {item}, another channel as {items[name]}")
            items.setdefault(name, dataclasses.replace(item))
    return items
