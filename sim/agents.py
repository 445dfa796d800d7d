"""The graduate as a Mesa agent: a readable view onto the model's arrays.

A ``Graduate`` holds only its index; every attribute reads (and writes) the model's numpy arrays,
so students can write ``model.agents.select(lambda a: a.group_averse)`` or ``agent.capability``
while the model updates everyone at once, vectorised. The properties are defined per class from
the array names and read through ``self.model``, so two models in one process never share state.
"""

from __future__ import annotations

import dataclasses

import mesa

from .population import Graduates
from .support import Engagement


class _ArrayField:
    """A property reading ``model.graduates.<name>[index]``."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, agent, owner=None):
        if agent is None:
            return self
        return getattr(agent.model.graduates, self.name).item(agent.index)  # a Python scalar

    def __set__(self, agent, value):
        getattr(agent.model.graduates, self.name)[agent.index] = value


class Graduate(mesa.Agent):
    """A person who has just finished a six-week self-management course.

    Attributes mirror :class:`~sim.population.Graduates` (``baseline``, ``transient``,
    ``persistent``, ``habit``, ``connectedness``, ``group_affinity``, ``online_access``, ...),
    plus ``capability``, ``gain`` and ``self_managing``.
    """

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = int(index)

    @property
    def capability(self) -> float:
        """Self-management capability, SD units: baseline + gain."""
        return self.baseline + self.gain

    @property
    def gain(self) -> float:
        """Capability above the person's own pre-course baseline, SD units: transient + supported + persistent."""
        return self.transient + self.supported + self.persistent

    @property
    def measured_change(self) -> float:
        """This week's measured self-efficacy change since before the course (sim.measurement), latent SD units."""
        return float(self.model.measurement.change[self.index])

    @property
    def self_managing(self) -> bool:
        """A responder this week: measured change at least the threshold (sim.measurement)."""
        return bool(self.model.week_self_managing[self.index])

    def engagement(self, channel: str) -> Engagement:
        """This graduate's state in ``channel`` ('peer_group', 'telephone', 'online', ...)."""
        return Engagement(int(self.model.channels[channel].status[self.index]))

    def __repr__(self) -> str:
        return f"<Graduate {self.index}: gain {self.gain:+.2f} SD, habit {self.habit:.2f}>"


for _f in dataclasses.fields(Graduates):
    if _f.name != "ties":
        setattr(Graduate, _f.name, _ArrayField(_f.name))
