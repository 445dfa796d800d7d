"""The batched engine (``engine=batched``): one model object advances K independent runs.

A PSA, a calibration wave or a set of replicates runs the same strategy many times, each time with
its own parameter draw and/or seed. :class:`BatchedModel` holds all of them in one set of arrays,
``K * n`` graduates run after run (:mod:`sim.runs`), and steps them together, one weekly loop
for the batch: the fixed cost of Python and numpy calls each week (most of a 1,000-graduate run,
issue 25) is paid once per batch, not once per run.

It is the vectorised engine's own rules (:class:`sim.core.ArrayModel`, which
:class:`sim.model.SelfManagementModel` adds Mesa agents to), not a copy of them: every rule is
written once, over arrays of any number of runs. It imports neither Mesa nor pandas (a table is
built only when asked for), so a batch's process needs about 180 MB less memory. What differs between runs
is kept per run:

* **Parameters**: each run's dynamics (and unit costs) are its own; a value the runs share stays
  one number, a value that differs becomes an array of one per run (:func:`sim.runs.stack`).
  The **strategy, the number of graduates and the weeks are the same for the whole batch** (a
  ``ParameterError`` names the first that is not); so are the few behaviour choices that are
  not numbers (the decay shape).
* **Random numbers**: each run draws from its own streams of its own seed (:mod:`sim.streams`),
  the same numbers in the same order as it would alone. So **run k of a batch is bit for bit the
  run of its parameters alone** (tests/sim/test_batched.py), and common random numbers across
  strategies hold as before: the same seed gives the same people and health shocks.
* **Services**: each run has its own peer groups (group ids run after run), call capacity and
  waiting list, forum and its later joiners, and its own costs, QALYs and weekly record.

Mesa agents are not built for a batch (one run's model, :class:`sim.model.SelfManagementModel`,
still has them). :func:`run_batch` runs a batch and returns one :class:`RunView` per run, read
like a single model: ``params``, ``seed``, ``week_gain``, ``graduates``, ``channels[name].status``,
``ledger`` (costs and QALYs), ``datacollector.model_vars``, ``weekly_table()``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np

from .core import ArrayModel, NonFiniteOutput
from .params import ModelParams, ParameterError, validate
from .population import Graduates
from .reporters import WeeklyRecord
from .runs import Runs

if TYPE_CHECKING:
    import pandas as pd


class BatchedModel(ArrayModel):
    """K independent runs of one strategy, stepped together (see the module docstring).

    Args:
        runs: each run's complete parameters (:class:`~sim.params.ModelParams`, each with its
            seed), all of the same strategy, ``n_graduates`` and ``weeks``.
    """

    def __init__(self, runs: Sequence[ModelParams]):
        each_run = list(runs)
        if not each_run:
            raise ParameterError("runs", each_run, "must hold at least one run's parameters")
        for i, p in enumerate(each_run):
            if not isinstance(p, ModelParams):
                raise TypeError(f"runs[{i}] must be a sim.params.ModelParams, not {type(p).__name__}")
            if p.seed is None:
                raise ParameterError(f"runs[{i}].seed", None, "must be a whole number >= 0 and < 2**63: a run "
                                                              "of a batch is repeated from its seed")
            validate(p)
        first = each_run[0]
        for i, p in enumerate(each_run[1:], start=1):
            for key in ("n_graduates", "weeks"):
                if getattr(p, key) != getattr(first, key):
                    raise ParameterError(f"runs[{i}].{key}", getattr(p, key), f"must be the same in every run of a "
                                                                            f"batch (runs[0] has {getattr(first, key)})")
            if p.strategy != first.strategy:
                key = _first_difference(first.strategy, p.strategy, "strategy")
                raise ParameterError(f"runs[{i}].{key}", _get(p.strategy, key), "must be the same in every run of "
                                     f"a batch (runs[0] has {_get(first.strategy, key)!r}): one batch per strategy")
        #: each run's own parameters, as given
        self.params_list = each_run
        self._build(each_run)

    @classmethod
    def from_params(cls, params: ModelParams) -> BatchedModel:
        """A batch of one run (read like a single model; ``engine=batched`` for one run)."""
        return cls([params])

    @property
    def k(self) -> int:
        """The number of runs in the batch."""
        return self.runs.k

    def _new_record(self, columns: list[str]) -> WeeklyRecord:
        return WeeklyRecord(columns) if self.runs.single else _BatchRecord(columns)

    def run(self) -> BatchedModel:
        """Run every run to the horizon; returns the model. Checks each run's outputs are finite
        (:class:`~sim.model.NonFiniteOutput` names the run)."""
        while self.running:
            self.step()
        self.check_finite()
        return self

    def check_finite(self) -> None:
        if self.runs.single:
            return super().check_finite()
        for k, view in enumerate(self.results()):
            try:
                ArrayModel.check_finite(view)
            except NonFiniteOutput as err:
                raise NonFiniteOutput(f"run {k} of the batch (seed {view.seed}): {err}") from None

    def results(self) -> list[RunView]:
        """One view per run, read like a single model (:class:`RunView`)."""
        return [RunView(self, k) for k in range(self.runs.k)]


def run_batch(params_list: Sequence[ModelParams], seeds: Sequence[int] | None = None,
              weeks: int | None = None) -> list[RunView]:
    """Run a batch and return each run's results, read like a single model.

    Args:
        params_list: each run's parameters (one strategy for the whole batch); a single
            :class:`~sim.params.ModelParams` is repeated for every seed.
        seeds: each run's seed (replacing the parameters' own); None keeps them.
        weeks: the weeks every run simulates (replacing the parameters' own); None keeps them.
    """
    if isinstance(params_list, ModelParams):
        if seeds is None:
            raise ParameterError("seeds", None, "must be given when one parameter set is run for several seeds")
        params_list = [params_list] * len(seeds)
    params_list = list(params_list)
    if seeds is not None:
        if len(seeds) != len(params_list):
            raise ParameterError("seeds", list(seeds), f"must give one seed per parameter set ({len(params_list)})")
        params_list = [dataclasses.replace(p, seed=int(s)) for p, s in zip(params_list, seeds)]
    if weeks is not None:
        params_list = [dataclasses.replace(p, weeks=int(weeks)) for p in params_list]
    return BatchedModel(params_list).run().results()


def batch_key(params: ModelParams) -> tuple:
    """What the runs of one batch must share (:class:`BatchedModel`): the number of graduates, the
    weeks, the strategy and every behaviour choice that is not a number (the decay shape). Two
    parameter sets with the same key can run in one batch; :func:`batches` groups by it."""
    return (params.n_graduates, params.weeks, repr(params.strategy), _choices(params.dynamics))


def _choices(block: Any) -> tuple:
    """Every field of a parameter block (nested blocks walked) that is not a number, as a tuple."""
    out = []
    for f in dataclasses.fields(block):
        value = getattr(block, f.name)
        if dataclasses.is_dataclass(value):
            out.append((f.name, _choices(value)))
        elif isinstance(value, (bool, Enum)) or not isinstance(value, (int, float)):
            out.append((f.name, repr(value)))
    return tuple(out)


#: Graduates a batch holds at most (runs x graduates): about 150 MB of arrays. Past a few hundred
#: runs of 1,000 graduates a bigger batch is no faster (the arithmetic dominates) and needs more memory.
MAX_BATCH_GRADUATES = 200_000


def batches(params_list: Sequence[ModelParams], max_graduates: int = MAX_BATCH_GRADUATES) -> list[list[int]]:
    """The runs ``params_list`` describe, grouped into batches (lists of their positions, in order):
    runs that can share a batch (:func:`batch_key`), at most ``max_graduates`` graduates each."""
    groups: dict[tuple, list[int]] = {}
    for i, p in enumerate(params_list):
        groups.setdefault(batch_key(p), []).append(i)
    out = []
    for members in groups.values():
        size = max(1, max_graduates // max(1, params_list[members[0]].n_graduates))
        parts = -(-len(members) // size)  # near-equal batches of at most ``size`` runs
        out += [members[j * len(members) // parts:(j + 1) * len(members) // parts] for j in range(parts)]
    return out


class _BatchRecord(WeeklyRecord):
    """The weekly record of a batch: each week one row of every column for every run."""

    def __init__(self, columns: list[str]):
        super().__init__(columns)
        self.rows: list[np.ndarray] = []  # one (columns, runs) array a week

    def collect(self, model: BatchedModel) -> None:
        values = self.row(model)
        if len(values) != len(self.columns):
            raise ValueError(f"row: {len(values)} values for {len(self.columns)} columns ({self.columns})")
        k = model.runs.k  # a value every run shares (a disabled channel's constant) is each run's
        self.rows.append(np.array([np.broadcast_to(v, (k,)) for v in values], dtype=float))

    def of_run(self, k: int) -> dict[str, list[float]]:
        """Run ``k``'s record, as one run's ``model_vars``: column -> its values, week 0 first."""
        table = np.stack(self.rows)[:, :, k]  # (weeks, columns)
        return {name: table[:, j].tolist() for j, name in enumerate(self.columns)}


class _RunRecord:
    """One run's weekly record, read like one run's (``model_vars``, ``get_model_vars_dataframe``)."""

    def __init__(self, model_vars: dict[str, list[float]]):
        self.model_vars = model_vars

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        return WeeklyRecord.get_model_vars_dataframe(self)


class RunView:
    """Run ``k`` of a batch, read like a single model: its parameters, seed, end state, costs and
    QALYs and weekly record (arrays are views into the batch's, or copies where a run's entries
    are not contiguous). For the analyses' reading interface: ``experiments/analyses/targets.py``."""

    def __init__(self, model: BatchedModel, k: int):
        runs = model.runs
        self.batch, self.k = model, k
        n = runs.n
        self._slice = slice(k * n, (k + 1) * n)
        self.params: ModelParams = model.params_list[k]
        self.seed = self.params.seed
        self.week = model.week
        self.running = model.running
        s = self._slice
        self.week_gain = model.week_gain[s]
        self.week_self_managing = model.week_self_managing[s]
        self.graduates = _run_graduates(model.graduates, s, n)
        self.channels = {name: _ChannelView(channel, model, k) for name, channel in model.channels.items()}
        self.channel_results = {key: runs.value(v, k) if runs.k > 1 else v for key, v in model.channel_results.items()}
        self.health = _PerRun(model.health, model, k)
        self.measurement = _PerRun(model.measurement, model, k)
        self.ledger = _LedgerView(model.ledger, model, k)
        record = model.datacollector
        self.datacollector = _RunRecord(record.of_run(k) if isinstance(record, _BatchRecord) else record.model_vars)

    def weekly_table(self) -> pd.DataFrame:
        """One row per recorded week (0..week), column ``week`` and every reporter."""
        return ArrayModel.weekly_table(self)

    def graduate_table(self) -> pd.DataFrame:
        """One row per graduate of this run (as :meth:`SelfManagementModel.graduate_table`)."""
        return ArrayModel.graduate_table(self)


def _run_graduates(g: Graduates, s: slice, n: int) -> Graduates:
    """Run ``s``'s graduates: array views, cohort ids as the run numbers them alone."""
    arrays = {}
    for f in dataclasses.fields(Graduates):
        if f.name == "ties":
            arrays[f.name] = g.ties[s, s] if g.ties.shape[0] != n else g.ties
        else:
            arrays[f.name] = getattr(g, f.name)[s]
    arrays["cohort"] = arrays["cohort"] - arrays["cohort"].min() if n else arrays["cohort"]
    out = Graduates(**arrays)
    out.runs = Runs(1, n)
    return out


class _PerRun:
    """One run's part of a batch's object: an array over every graduate is sliced, a per-run value
    (an array of one per run) read at the run; anything else is shared."""

    def __init__(self, obj: Any, model: BatchedModel, k: int):
        self._obj, self._runs, self._k = obj, model.runs, k

    def _pick(self, name: str, value: Any) -> Any:
        runs, k = self._runs, self._k
        if runs.single:
            return value
        if isinstance(value, np.ndarray):
            if value.ndim >= 1 and value.shape[0] == runs.k * runs.n:
                return value[k * runs.n:(k + 1) * runs.n]
            if value.ndim >= 1 and value.shape[0] == runs.k:
                return value[k].item() if value.ndim == 1 else value[k]
        if isinstance(value, tuple):
            return tuple(self._pick(name, v) for v in value)
        if isinstance(value, list) and len(value) == runs.k and name == "rng":
            return value[k]
        return value

    def __getattr__(self, name: str) -> Any:
        return self._pick(name, getattr(self._obj, name))


class _ChannelView(_PerRun):
    """One run's view of a channel: its status and contacts, its groups, its counts, its own
    behaviour parameters, its ``results()``."""

    def __init__(self, channel: Any, model: BatchedModel, k: int):
        super().__init__(channel, model, k)
        self._model = model
        runs = model.runs
        groups = getattr(channel, "group_arrays", ())
        self._groups = None
        if groups and not runs.single:
            self._groups = np.flatnonzero(channel.group_run == k)
        self._group_names = set(groups)

    def __getattr__(self, name: str) -> Any:
        channel, k = self._obj, self._k
        value = getattr(channel, name)
        if self._runs.single:
            return value
        if name == "behaviour":
            return getattr(self._model.params_list[k].dynamics, channel.name)
        if name in self._group_names:
            return value[self._groups]
        if name == "group_of":
            mine = value[self._slice()].copy()
            if self._groups.size:
                mine[mine >= 0] -= self._groups[0]
            return mine
        return self._pick(name, value)

    def _slice(self) -> slice:
        n = self._runs.n
        return slice(self._k * n, (self._k + 1) * n)

    def results(self) -> dict[str, float]:
        """The channel's results this week, this run's."""
        return {key: self._runs.value(v, self._k) if not self._runs.single else v
                for key, v in self._obj.results().items()}


class _LedgerView(_PerRun):
    """One run's costs and QALYs: totals by category, discounted, QALYs per graduate."""

    @property
    def gbp(self) -> dict[str, float]:
        return {c: float(self._runs.value(v, self._k)) for c, v in self._obj.gbp.items()}

    @property
    def unit_gbp(self) -> dict[str, float]:
        return {c: float(self._runs.value(v, self._k)) for c, v in self._obj.unit_gbp.items()}

    @property
    def discounted_gbp(self) -> float:
        return float(self._runs.value(self._obj.discounted_gbp, self._k))

    @property
    def qalys(self) -> float:
        return float(self.qalys_by_graduate.sum())

    @property
    def total_gbp(self) -> float:
        return sum(self.gbp.values())

    def per_graduate(self, category: str) -> float:
        return self.gbp[category] / self._obj.n


def _first_difference(a: Any, b: Any, key: str) -> str:
    """The dotted key of the first field in which dataclasses ``a`` and ``b`` differ."""
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if x != y:
            if dataclasses.is_dataclass(x) and dataclasses.is_dataclass(y):
                return _first_difference(x, y, f"{key}.{f.name}")
            return f"{key}.{f.name}"
    return key


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split(".")[1:]:
        obj = getattr(obj, part)
    return obj
