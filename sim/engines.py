"""The engines that compute the same model.

* ``vectorized`` (:class:`sim.model.SelfManagementModel`): every weekly update is a numpy
  operation over all graduates. Fast; the default.
* ``reference`` (:class:`sim.reference.ReferenceModel`): each graduate's week is a method of the
  agent, called one agent at a time through Mesa's ``shuffle_do``. Written for reading, and the
  test oracle of the vectorised engine (tests/sim/test_equivalence.py).
* ``batched`` (:class:`sim.batched.BatchedModel`): the vectorised engine over K independent runs
  of one strategy at once (parameter draws and/or seeds), each bit for bit the run it would be
  alone; :func:`sim.batched.run_batch`. One run (``from_params``) is a batch of one, without
  Mesa agents.
"""

from __future__ import annotations

from enum import Enum

from .params import ParameterError


class Engine(str, Enum):
    vectorized = "vectorized"
    reference = "reference"
    batched = "batched"


def model_class(engine: str | Engine):
    """The model class of ``engine``."""
    if engine == Engine.vectorized:
        from .model import SelfManagementModel

        return SelfManagementModel
    if engine == Engine.reference:
        from .reference import ReferenceModel

        return ReferenceModel
    if engine == Engine.batched:
        from .batched import BatchedModel

        return BatchedModel
    raise ParameterError("engine", engine, f"must be one of {[e.value for e in Engine]}")
