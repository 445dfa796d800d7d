"""The one place in ``experiments/`` where a model is built and run.

Every part that needs the model's answers asks here: a run of the command line or of a sweep
(:mod:`experiments.run`), calibration's targets (:mod:`experiments.analyses.targets`), the
sensitivity analyses (:mod:`experiments.analyses.sensitivity`). Each gets an :class:`Evaluation`:
the run model and its tables, computed once when first asked for. The engine
(``vectorized``, ``batched`` or ``reference``, :mod:`sim.engines`) is honoured everywhere, so any
analysis can be repeated with the one-agent-at-a-time engine.

Many runs at once (a sweep's batch, a calibration wave, a sensitivity design) go through
:func:`evaluate_many`: under the batched engine (the default) it runs them as batches of one
model each (:mod:`sim.batched`), whose every run is bit for bit the vectorised engine's run alone.

What the report needs from a run beyond its weekly table (who was reached, by subgroup) is
computed here too (:meth:`Evaluation.reach`) and written by each run into its ``summary.json``,
so the report reads outputs and never runs a model.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.engines import Engine, model_class
from sim.params import ModelParams
from sim.reporters import SUBGROUPS

if TYPE_CHECKING:
    import pandas as pd


def subgroup_members(model_subgroups: Mapping[str, tuple[str, str, str]] = SUBGROUPS
                     ) -> dict[str, tuple[str, bool] | None]:
    """Who belongs to each side of each of the model's subgroups (:data:`sim.reporters.SUBGROUPS`,
    the one declaration): the side's name (``offline``) -> the graduates' array and its value
    (``("online_access", False)``); ``everyone`` (None) is every graduate."""
    members: dict[str, tuple[str, bool] | None] = {"everyone": None}
    for array, yes, no in model_subgroups.values():
        members[yes], members[no] = (array, True), (array, False)
    return members


#: The subgroups whose reach each run records (its ``summary.json``): every side of every
#: subgroup of the model, and everyone. Which of them the report shows, in what words:
#: experiments.labels.SUBGROUPS.
SUBGROUP_MEMBERS = subgroup_members()


@dataclass
class Evaluation:
    """A model run to its last week, and its tables (each made once, when first asked for)."""

    params: ModelParams
    engine: str
    model: Any = field(repr=False)
    seconds: float  # building and running the model, wall-clock

    @cached_property
    def weekly(self) -> pd.DataFrame:
        """One row per week (week 0 is the end of the course): the model's reporters."""
        return self.model.weekly_table()

    @cached_property
    def graduates(self) -> pd.DataFrame:
        """One row per graduate, at the end of the run."""
        return self.model.graduate_table()

    def at(self, week: int) -> dict[str, float]:
        """Every weekly reporter at ``week``."""
        rows = self.model.datacollector.model_vars  # row = week: no table is built for one row
        return {k: float(v[week]) for k, v in rows.items()}

    def reach(self) -> dict[str, float]:
        """Share of each subgroup (:data:`SUBGROUP_MEMBERS`) with at least one contact with
        follow-on support (0 to 1; NaN for a subgroup with no members). Read from the model's arrays: a few milliseconds, where
        the graduate table would cost a third of a run."""
        people = self.model.graduates
        contacts = sum((np.asarray(c.contacts) for c in self.model.channels.values()), np.zeros(people.n))
        out = {}
        for key, member in SUBGROUP_MEMBERS.items():
            mask = np.ones(people.n, bool) if member is None else np.asarray(getattr(people, member[0]), bool) == member[1]
            out[key] = float((contacts[mask] > 0).mean()) if mask.any() else float("nan")
        return out


def evaluate(params: ModelParams, engine: str | Engine = Engine.vectorized, *, weeks: int | None = None,
             seed: int | None = None) -> Evaluation:
    """Build the model ``params`` describe and run it to the end.

    ``weeks`` and ``seed`` replace the parameters' own (calibration runs each arm for exactly as
    long as its measure reads, with its own seeds).
    """
    changes = {k: v for k, v in (("weeks", weeks), ("seed", seed)) if v is not None}
    if changes:
        params = dataclasses.replace(params, **changes)
    cls = model_class(engine)  # imports the model (and Mesa): not part of its run time
    logging.getLogger("MESA").setLevel(logging.WARNING)
    started = time.perf_counter()
    model = cls.from_params(params).run()
    return Evaluation(params, getattr(engine, "value", str(engine)), model, time.perf_counter() - started)


def evaluate_many(params_list: Sequence[ModelParams], engine: str | Engine = Engine.batched, *,
                  weeks: int | None = None, seeds: Sequence[int] | None = None,
                  errors: str = "raise") -> list[Evaluation | Exception]:
    """Build and run every model ``params_list`` describes; each one's :class:`Evaluation`, in order.

    Under the batched engine (the default), runs that can share a batch (one strategy, size,
    horizon and decay shape: :func:`sim.batched.batch_key`) run as one
    :class:`~sim.batched.BatchedModel`, the week's fixed cost of Python and numpy calls paid once
    per batch. Each run's results are bit for bit those of :func:`evaluate` on its own
    (tests/sim/test_batched.py), so nothing but the time differs; each one's ``seconds`` is its
    share of its batch's. The vectorised and the reference engine run them one at a time (the
    vectorised engine's numbers are the same; only the time differs: ``make bench-sweep``).

    ``weeks`` and ``seeds`` (one per run) replace the parameters' own. ``errors="return"`` puts a
    failed run's exception in its place and lets the others stand: a batch that fails (one run's
    output not finite) is run again one run at a time, so the failure is its own run's; with
    ``"raise"`` (the default) the first failure is raised.
    """
    if errors not in ("raise", "return"):
        raise ValueError(f"errors must be 'raise' or 'return', not {errors!r}")
    params_list = list(params_list)
    if seeds is not None:
        if len(seeds) != len(params_list):
            raise ValueError(f"seeds: {len(seeds)} for {len(params_list)} parameter sets")
        params_list = [dataclasses.replace(p, seed=int(s)) for p, s in zip(params_list, seeds)]
    if weeks is not None:
        params_list = [dataclasses.replace(p, weeks=int(weeks)) for p in params_list]
    name = getattr(engine, "value", str(engine))

    def alone(params: ModelParams) -> Evaluation | Exception:
        try:
            return evaluate(params, engine)
        except Exception as err:  # noqa: BLE001 - returned in its run's place when asked for
            if errors == "raise":
                raise
            return err

    if name != Engine.batched.value:
        return [alone(p) for p in params_list]
    from sim.batched import BatchedModel, batches  # lazy: the model's modules (numpy, scipy.sparse)

    logging.getLogger("MESA").setLevel(logging.WARNING)
    out: list[Evaluation | Exception | None] = [None] * len(params_list)
    for members in batches(params_list):
        group = [params_list[i] for i in members]
        if len(group) == 1:
            out[members[0]] = alone(group[0])
            continue
        started = time.perf_counter()
        try:
            views = BatchedModel(group).run().results()
        except Exception as err:  # noqa: BLE001 - one run's failure: each run alone says whose it is
            # a non-finite output (an ArithmeticError) or a parameter a run refuses (a ValueError)
            # is one run's; anything else is a bug, raised as it is
            if errors == "raise" and not isinstance(err, (ArithmeticError, ValueError)):
                raise
            for i, p in zip(members, group):
                out[i] = alone(p)
            continue
        each = (time.perf_counter() - started) / len(group)
        for i, p, view in zip(members, group, views):
            out[i] = Evaluation(p, name, view, each)
    return out

