"""The vectorised engine: one run of the model, with a Mesa agent per graduate.

The week's rules are :class:`sim.core.ArrayModel`'s (no Mesa there); this adds what students
inspect one by one: a :class:`sim.agents.Graduate` per graduate, reading the arrays.
"""

from __future__ import annotations

import mesa
import numpy as np

from .agents import Graduate
from .calibrated import calibrated_dynamics
from .core import ArrayModel, NonFiniteOutput
from .params import (
    CostParams,
    DynamicsParams,
    ModelParams,
    ParameterError,
    PopulationParams,
    StrategyParams,
    default_costs,
    validate,
)
from .reporters import WeeklyRecord

__all__ = ["NonFiniteOutput", "SelfManagementModel"]


class SelfManagementModel(ArrayModel, mesa.Model):
    """Graduates of a six-week self-management course, week by week after it ends: the vectorised
    engine, one run, with a Mesa agent per graduate (``model.agents``, reading the arrays, made
    when first asked for) for students to inspect one by one. The week, in order, is
    :class:`sim.core.ArrayModel`'s.

    Args:
        n_graduates: graduates in the model.
        weeks: weeks to simulate (``run()`` stops there).
        strategy, population, dynamics, costs: parameter blocks (defaults: course only, a general
            population with long-term conditions, the calibrated behaviour parameters
            (:func:`sim.calibrated.calibrated_dynamics`; ``DynamicsParams()`` for the priors of
            ``design.md``), UK unit costs).
        rng: the base seed (an int). ``None`` draws one from the operating system; it is kept in
            ``model.seed`` so that the run can be repeated.
    """

    #: The agent class; an engine that steps agents one by one uses its own subclass.
    agent_class: type[Graduate] = Graduate

    def __init__(
        self,
        n_graduates: int = 1000,
        weeks: int = 104,
        *,
        strategy: StrategyParams | None = None,
        population: PopulationParams | None = None,
        dynamics: DynamicsParams | None = None,
        costs: CostParams | None = None,
        rng: int | None = None,
    ):
        for key, value, kind in (("strategy", strategy, StrategyParams), ("population", population, PopulationParams),
                                 ("dynamics", dynamics, DynamicsParams), ("costs", costs, CostParams)):
            if value is not None and not isinstance(value, kind):
                hint = (f"; for a named one use experiments.config.load_{key}({value!r})"
                        if isinstance(value, str) and key in ("strategy", "population") else "")
                raise TypeError(f"{key} must be a sim.{kind.__name__} or None, not {type(value).__name__} "
                                f"{value!r}{hint}")
        if rng is None:
            rng = int(np.random.SeedSequence().entropy % (2**63))
        if isinstance(rng, bool) or not isinstance(rng, (int, np.integer)):
            raise TypeError(f"rng must be an int seed or None, got {type(rng).__name__}")
        if not 0 <= int(rng) < 2**63:
            raise ParameterError("rng", rng, "must be a whole number >= 0 and < 2**63, or None (draw one)")
        params = ModelParams(
            n_graduates=n_graduates,
            weeks=weeks,
            seed=int(rng),
            strategy=strategy or StrategyParams(),
            population=population or PopulationParams(),
            dynamics=dynamics or calibrated_dynamics(),
            costs=costs or default_costs(),
        )
        validate(params)  # before any work: a clear error naming the parameter
        self._agents_made = False  # the Mesa agents are made when first asked for (agents)
        mesa.Model.__init__(self, rng=int(rng))
        self._build([params])

    @property
    def agents(self):
        """One Mesa agent per graduate (:class:`sim.agents.Graduate`, reading the arrays), made when
        first asked for: a run that never looks at them (a sweep's, an analysis's) does not pay
        for them (about 5 microseconds and 200 bytes each). Mesa's own ``AgentSet``."""
        if not self._agents_made:
            self._agents_made = True
            for i in range(self.graduates.n):  # registers itself with the model; no throw-away AgentSet
                self.agent_class(self, i)
        return mesa.Model.agents.fget(self)

    @property
    def agents_by_type(self):
        """Mesa's agents by type (the agents made first, as :attr:`agents`)."""
        self.agents  # noqa: B018 - made on first use
        return mesa.Model.agents_by_type.fget(self)

    def _new_record(self, columns: list[str]) -> WeeklyRecord:
        """The record of the weekly reporters (a batch keeps one of its own)."""
        return WeeklyRecord(columns)

    @classmethod
    def from_params(cls, params: ModelParams) -> SelfManagementModel:
        """Build a model from a complete :class:`~sim.params.ModelParams` (e.g. from a config)."""
        return cls(
            params.n_graduates,
            params.weeks,
            strategy=params.strategy,
            population=params.population,
            dynamics=params.dynamics,
            costs=params.costs,
            rng=params.seed,
        )

