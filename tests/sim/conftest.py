"""Shared fixtures for the model-level tests: named strategies, a manual stepper, binomial tolerances.

The helpers are handed to tests as (session-scoped) fixtures rather than imported, so that test
modules never ``import conftest`` (which breaks once another test folder has its own conftest).
Everything uses the public API of :mod:`sim`; seeds are fixed so that every test is repeatable,
and statistical tolerances are derived from the sample size (see ``binomial_se``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import pytest

from sim import DynamicsParams, SelfManagementModel, StrategyParams
from sim.params import Matching
from sim.support import CHANNEL_TYPES

#: The channels matched one-per-graduate under tailored matching.
MATCHED_CHANNELS = ("peer_group", "telephone", "online")


def build_strategy(name: str, **overrides) -> StrategyParams:
    """A :class:`StrategyParams` for a named strategy, with optional top-level field overrides.

    Names: ``course_only``, ``peer_group``, ``telephone``, ``online``, ``offer_all`` (peer group +
    telephone + online, everyone offered everything), ``tailored`` (the same three channels, each
    graduate offered the one that fits), ``booster`` (booster course only), ``newsletter``
    (newsletter only), ``everything`` (every channel of the registry, offer_all).
    """
    on = {channel.name: channel.lever_type(enabled=True) for channel in CHANNEL_TYPES}
    three = {k: on[k] for k in MATCHED_CHANNELS}
    blocks: dict[str, dict] = {
        "course_only": {},
        "peer_group": {"peer_group": on["peer_group"]},
        "telephone": {"telephone": on["telephone"]},
        "online": {"online": on["online"]},
        "booster": {"booster": on["booster"]},
        "newsletter": {"newsletter": on["newsletter"]},
        "offer_all": dict(three, matching=Matching.offer_all),
        "tailored": dict(three, matching=Matching.tailored),
        "everything": dict(on, matching=Matching.offer_all),
    }
    if name not in blocks:
        raise KeyError(f"unknown strategy name {name!r}; known: {sorted(blocks)}")
    strategy = StrategyParams(name=name, label=name.replace("_", " "), **blocks[name])
    return dataclasses.replace(strategy, **overrides) if overrides else strategy


def build_retention_dynamics(**changes) -> DynamicsParams:
    """Default dynamics with some retention parameters replaced."""
    dyn = DynamicsParams()
    return dataclasses.replace(dyn, retention=dataclasses.replace(dyn.retention, **changes))


def _binomial_se(p: float, n: int) -> float:
    """Standard error of a sample proportion: sqrt(p (1 - p) / n)."""
    return math.sqrt(p * (1.0 - p) / n)


def channel_contacts(model: SelfManagementModel) -> dict[str, np.ndarray]:
    """Copies of every channel's per-graduate contact counts (since week 0)."""
    return {name: ch.contacts.copy() for name, ch in model.channels.items()}


class WeekRecord:
    """What one manual step changed: state before and after, and who had a contact this week."""

    def __init__(self, model: SelfManagementModel, before: dict):
        g = model.graduates
        self.week = model.week
        self.gain_before = before["gain"]
        self.gain_after = g.gain.copy()
        self.last_contact_week = g.last_contact_week.copy()
        self.contacts_before = before["contacts"]
        self.contacts_after = channel_contacts(model)

    def contacted_by(self, channel: str) -> np.ndarray:
        """Boolean mask of graduates with at least one contact through ``channel`` this week."""
        return self.contacts_after[channel] > self.contacts_before[channel]

    @property
    def contacted_any(self) -> np.ndarray:
        mask = np.zeros(self.gain_after.size, dtype=bool)
        for name in self.contacts_after:
            mask |= self.contacted_by(name)
        return mask


def step_and_record(
    model: SelfManagementModel, weeks: int, check: Callable[[SelfManagementModel, WeekRecord], None] | None = None
) -> list[WeekRecord]:
    """Step ``model`` ``weeks`` times by hand, recording each week; call ``check`` after each step."""
    records = []
    for _ in range(weeks):
        before = {"gain": model.graduates.gain.copy(), "contacts": channel_contacts(model)}
        model.step()
        rec = WeekRecord(model, before)
        if check is not None:
            check(model, rec)
        records.append(rec)
    return records


@pytest.fixture(scope="session")
def make_strategy():
    """``make_strategy(name, **overrides)``: a StrategyParams per named strategy (see build_strategy)."""
    return build_strategy


@pytest.fixture(scope="session")
def retention_dynamics():
    """``retention_dynamics(**changes)``: default DynamicsParams with retention fields replaced."""
    return build_retention_dynamics


@pytest.fixture(scope="session")
def stepper():
    """``stepper(model, weeks, check=None)``: step by hand, returning one WeekRecord per week."""
    return step_and_record


@pytest.fixture(scope="session")
def binomial_se():
    """``binomial_se(p, n)``: the standard error of a sample proportion."""
    return _binomial_se
