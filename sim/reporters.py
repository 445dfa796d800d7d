"""Weekly outcomes: small module-level functions of the model, shared by the DataCollector, the
dashboard, the notebooks and the reports.

Every reporter is vectorised over all graduates. Channel outcomes are computed once a week by
the model (``model.channel_results``) and read here, so every strategy's table has the same
columns (zeros for channels the strategy does not offer).

The reporters define the columns; the model records them with :class:`WeeklyRecord`, which
computes a week's row in one pass (:func:`weekly_row`) instead of calling each reporter through
Mesa's ``DataCollector`` (which deep-copies every value it is given). Both record the same table,
bit for bit (tests/sim/test_weekly_record.py).

A weekly measure of one's own, outside the package, is one reporter registered here
(:func:`register_reporter`, or with its catalogue entry by
:func:`experiments.outcomes.register_outcome`) from a module named in the environment variable
``AFTER_THE_COURSE_OUTCOMES``: its column comes last in the weekly table
(tests/experiments/test_toy_outcome.py).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from .costs import CATEGORIES
from .measurement import CURVE_THRESHOLDS_SD

if TYPE_CHECKING:
    import pandas as pd
    from .model import SelfManagementModel


def mean_gain_sd(model: SelfManagementModel) -> float:
    """Mean capability above baseline, SD units: the course's effect still held."""
    return float(model.week_gain.mean())


def share_self_managing(model: SelfManagementModel) -> float:
    """Share of graduates who are responders this week: measured self-efficacy up from before the
    course by at least ``dynamics.measurement.responder_threshold_sd`` (sim.measurement)."""
    return float(np.count_nonzero(model.week_self_managing)) / model.week_self_managing.size


def share_responders_at(model: SelfManagementModel, threshold_sd: float) -> float:
    """Share of responders at another threshold (SD of the measured score): how the count moves with it."""
    return float(np.count_nonzero(model.measurement.responders(threshold_sd))) / model.graduates.n


def responder_column(threshold_sd: float) -> str:
    """The weekly column of responders at ``threshold_sd``: ``share_self_managing_at_050sd`` for 0.5."""
    return f"share_self_managing_at_{round(100 * threshold_sd):03d}sd"


def mean_habit(model: SelfManagementModel) -> float:
    return float(model.graduates.habit.mean())


def mean_connectedness(model: SelfManagementModel) -> float:
    return float(model.graduates.connectedness.mean())


def share_lonely(model: SelfManagementModel) -> float:
    """Share whose connectedness is below the lonely threshold this week."""
    lonely = model.graduates.connectedness < model.params.dynamics.connectedness.lonely_threshold
    return float(np.count_nonzero(lonely)) / lonely.size


def flare_ups(model: SelfManagementModel) -> float:
    return float(model.health.flare_ups)


def self_managed_events(model: SelfManagementModel) -> float:
    """Flare-ups managed without a service contact this week."""
    return float(model.health.self_managed)


def planned_contacts(model: SelfManagementModel) -> float:
    return float(model.health.planned_contacts)


def unplanned_contacts(model: SelfManagementModel) -> float:
    return float(model.health.unplanned_contacts)


def cost_per_graduate_gbp(model: SelfManagementModel, category: str) -> float:
    """Cumulative undiscounted cost of ``category`` per graduate since week 0, GBP."""
    return model.ledger.per_graduate(category)


def cost_total_per_graduate_gbp(model: SelfManagementModel) -> float:
    return model.ledger.total_gbp / model.ledger.n


def cost_discounted_per_graduate_gbp(model: SelfManagementModel) -> float:
    return model.ledger.discounted_gbp / model.ledger.n


def qalys_gained_per_graduate(model: SelfManagementModel) -> float:
    """Cumulative discounted QALYs gained per graduate over having no gain since week 0."""
    return model.ledger.qalys / model.ledger.n


def channel_result(model: SelfManagementModel, key: str) -> float:
    return model.channel_results[key]


#: Subgroups reported separately: name -> (array name, label when true, label when false).
SUBGROUPS = {
    "group_averse": ("group_averse", "group_averse", "not_group_averse"),
    "online": ("online_access", "online", "offline"),
    "lonely": ("lonely_at_baseline", "lonely", "not_lonely"),
}


def _subgroup_mean(model: SelfManagementModel, array: str, value: bool, what: str) -> float:
    return model.subgroup_outcomes[what][(array, value)]


def subgroup_outcomes(g, gain: np.ndarray, self_managing: np.ndarray) -> dict[str, dict[tuple[str, bool], float]]:
    """Mean gain (SD) and share self-managing of every subgroup this week, by ``(array, value)``;
    NaN for an empty subgroup. Computed once a week for all twelve reporters: one membership
    matrix (a row per subgroup, flags read afresh because agents may change them) times the
    gains and the self-managing flags. In a batch (:mod:`sim.runs`), each value is an array of
    one per run, each computed as that run alone computes it."""
    keys = [(array, value) for array, _, _ in SUBGROUPS.values() for value in (True, False)]
    members = np.empty((len(keys), gain.size))
    for row, (array, value) in enumerate(keys):
        np.equal(getattr(g, array), value, out=members[row], casting="unsafe")
    runs = g.runs
    with np.errstate(invalid="ignore", divide="ignore"):
        if runs.single:
            size = members.sum(axis=1)
            mean_gain = members @ gain / size
            share = members @ self_managing.astype(float) / size
            convert = float
        else:  # (k, subgroups, n) @ (k, n, 1): each run's own matrix product
            by_run = members.reshape(len(keys), runs.k, runs.n).transpose(1, 0, 2)
            size = by_run.sum(axis=2)
            mean_gain = (by_run @ gain.reshape(runs.k, runs.n, 1))[:, :, 0] / size
            share = (by_run @ self_managing.astype(float).reshape(runs.k, runs.n, 1))[:, :, 0] / size
            mean_gain, share, convert = mean_gain.T, share.T, np.asarray
    return {"mean_gain_sd": dict(zip(keys, map(convert, mean_gain))),
            "share_self_managing": dict(zip(keys, map(convert, share)))}


def model_reporters(channel_keys: list[str]) -> dict[str, Callable]:
    """All weekly reporters by column name, for ``mesa.DataCollector(model_reporters=...)``."""
    reporters: dict[str, Callable] = {
        f.__name__: f
        for f in (mean_gain_sd, share_self_managing, mean_habit, mean_connectedness, share_lonely)
    }
    for t in CURVE_THRESHOLDS_SD:
        reporters[responder_column(t)] = partial(share_responders_at, threshold_sd=t)
    for what in ("mean_gain_sd", "share_self_managing"):
        for array, yes, no in SUBGROUPS.values():
            reporters[f"{what}_{yes}"] = partial(_subgroup_mean, array=array, value=True, what=what)
            reporters[f"{what}_{no}"] = partial(_subgroup_mean, array=array, value=False, what=what)
    for key in channel_keys:
        reporters[key] = partial(channel_result, key=key)
    for f in (flare_ups, self_managed_events, planned_contacts, unplanned_contacts):
        reporters[f.__name__] = f
    for category in CATEGORIES:
        reporters[f"cost_{category}_gbp"] = partial(cost_per_graduate_gbp, category=category)
    reporters["cost_total_gbp"] = cost_total_per_graduate_gbp
    reporters["cost_total_discounted_gbp"] = cost_discounted_per_graduate_gbp
    reporters["qalys_gained"] = qalys_gained_per_graduate
    reporters.update(extra_reporters())  # weekly measures of one's own (register_reporter): last
    return reporters


def weekly_columns(channel_keys: list[str]) -> list[str]:
    """The weekly table's columns (but ``week``), in order: those of :func:`model_reporters`."""
    return list(model_reporters(channel_keys))


def weekly_row(model: SelfManagementModel) -> list[float]:
    """This week's value of every column of :func:`weekly_columns`, in that order, as plain floats.

    The same arithmetic as the reporters above, one expression per column, in one pass: no function
    call per column, nothing copied. ``model.channel_results`` is in the order of its columns (the
    model fills it in registry order, every channel's ``results()`` in its own order).
    """
    g, ledger = model.graduates, model.ledger
    runs = g.runs  # one run, or a batch (sim.runs): then every value is an array of one per run
    num = float if runs.single else np.asarray
    responders = model.week_self_managing
    lonely = g.connectedness < runs.each(model.params.dynamics.connectedness.lonely_threshold)
    measurement = model.measurement
    row = [
        runs.mean(model.week_gain),
        runs.share(responders),
        runs.mean(g.habit),
        runs.mean(g.connectedness),
        runs.share(lonely),
    ]
    row += [runs.share(measurement.responders(t)) for t in CURVE_THRESHOLDS_SD]
    for what in ("mean_gain_sd", "share_self_managing"):
        row += model.subgroup_outcomes[what].values()  # keyed in SUBGROUPS order, True then False
    row += map(num, model.channel_results.values())
    health = model.health
    row += (num(health.flare_ups), num(health.self_managed), num(health.planned_contacts),
            num(health.unplanned_contacts))
    gbp, graduates = ledger.gbp, ledger.n
    row += [num(gbp[category] / graduates) for category in CATEGORIES]
    row += (num(ledger.total_gbp / graduates), num(ledger.discounted_gbp / graduates),
            num(ledger.qalys / graduates))
    if _EXTRA_REPORTERS:  # registered by extra_reporters(), which weekly_columns() called first
        row += [_extra_value(name, reporter, model, runs) for name, reporter in _EXTRA_REPORTERS.items()]
    return row


# --- weekly measures of one's own ---------------------------------------------------------------

#: The environment variable naming modules that register weekly measures of their own
#: (importable module names, comma-separated), as ``AFTER_THE_COURSE_CHANNELS`` names channels.
EXTRA_OUTCOMES_VARIABLE = "AFTER_THE_COURSE_OUTCOMES"

#: Reporters registered by :func:`register_reporter`, by column, in the order registered.
_EXTRA_REPORTERS: dict[str, Callable[[SelfManagementModel], float]] = {}
_extra_modules_loaded = False


def register_reporter(name: str, reporter: Callable[[SelfManagementModel], float]) -> None:
    """Add a weekly column ``name``: ``reporter(model)``, this week's value (one number), recorded
    after every built-in column by every model built from now on.

    One run: a float. In a batch (:mod:`sim.runs`; ``engine=batched``) the model holds several
    runs and the reporter must give one value per run: written with ``model.graduates.runs``
    (``share(mask)``, ``mean(values)``, ``count_true(mask)``) it gives either, as the built-in
    reporters do. Its catalogue entry (label, unit, direction) is
    :func:`experiments.outcomes.register_outcome`, which calls this: use that one, from a module
    named in :data:`EXTRA_OUTCOMES_VARIABLE`, so that every process of a sweep and the report see it.

    Raises:
        ValueError: ``name`` is already registered to another reporter (the same one again is a no-op).
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"register_reporter: the column name must be a plain identifier, got {name!r}")
    if not callable(reporter):
        raise TypeError(f"register_reporter({name!r}): the reporter must be a function of the model, "
                        f"got {reporter!r}")
    known = _EXTRA_REPORTERS.get(name)
    if known is not None and known is not reporter:
        raise ValueError(f"register_reporter: {name!r} is already registered to {known!r}")
    _EXTRA_REPORTERS[name] = reporter


def extra_reporters() -> dict[str, Callable[[SelfManagementModel], float]]:
    """The registered weekly reporters by column, in the order registered; the first call imports
    the modules :data:`EXTRA_OUTCOMES_VARIABLE` names (each registers its own on import)."""
    global _extra_modules_loaded
    if not _extra_modules_loaded:
        _extra_modules_loaded = True  # before importing: a module that reads the record does not re-enter
        names = [m.strip() for m in os.environ.get(EXTRA_OUTCOMES_VARIABLE, "").split(",") if m.strip()]
        for module in dict.fromkeys(names):
            before, fresh = len(_EXTRA_REPORTERS), module not in sys.modules
            try:
                importlib.import_module(module)
            except ImportError as err:
                raise ImportError(f"{EXTRA_OUTCOMES_VARIABLE} names the module {module!r}, which cannot be "
                                  f"imported ({err}); give importable module names, comma-separated") from err
            if fresh and len(_EXTRA_REPORTERS) == before:
                raise TypeError(f"{EXTRA_OUTCOMES_VARIABLE} names the module {module!r}, which registers no "
                                "weekly reporter (experiments.outcomes.register_outcome(reporter, Outcome(...)))")
    return dict(_EXTRA_REPORTERS)


def _extra_value(name: str, reporter: Callable, model: SelfManagementModel, runs) -> float | np.ndarray:
    """A registered reporter's value this week: a float for one run, one per run for a batch."""
    value = reporter(model)
    if runs.single:
        return float(value)
    value = np.asarray(value, dtype=float)
    if value.shape != (runs.k,):
        raise ValueError(f"the weekly reporter {name!r} gave a value of shape {value.shape} for a batch of "
                         f"{runs.k} runs: one per run expected (use model.graduates.runs.share or .mean)")
    return value


class WeeklyRecord:
    """The weekly table as it is recorded: one list of plain floats per column, one value a week.

    It stands in for ``mesa.DataCollector(model_reporters=model_reporters(...))`` and keeps the part
    of its interface the project reads: ``model_vars`` (column -> the list of its values, week 0
    first), ``collect(model)`` and ``get_model_vars_dataframe()``. Why: the DataCollector calls one
    reporter per column (67 a week) and deep-copies each value; that was a quarter of an offer_all
    run of 1,000 graduates (issue 25). Here a week is one :func:`weekly_row` (values are immutable
    floats: nothing to copy), appended column by column.

    Args:
        columns: the column names, in the order ``row`` returns their values.
        row: the function of the model that returns one week's values (default :func:`weekly_row`).
    """

    def __init__(self, columns: list[str], row: Callable[[SelfManagementModel], list[float]] = weekly_row):
        if len(set(columns)) != len(columns):
            raise ValueError(f"columns: each name once, got duplicates in {columns}")
        self.columns = list(columns)
        self.row = row
        self.model_vars: dict[str, list[float]] = {name: [] for name in self.columns}

    def collect(self, model: SelfManagementModel) -> None:
        """Record this week's row (one value appended to every column)."""
        values = self.row(model)
        if len(values) != len(self.model_vars):
            raise ValueError(f"row: {len(values)} values for {len(self.model_vars)} columns ({self.columns})")
        for column, value in zip(self.model_vars.values(), values):
            column.append(value)

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """The record as a DataFrame, one row per recorded week (index 0, 1, ...), as Mesa's
        (``pd.DataFrame(model_vars)``), built from one float array: a fifth of the time at 67
        columns x 105 weeks, the same values."""
        values = np.array(list(self.model_vars.values()), dtype=float)
        import pandas as pd  # lazy: the command line's --help reads the subgroups and must not pay for pandas

        return pd.DataFrame(values.T, columns=list(self.model_vars))
