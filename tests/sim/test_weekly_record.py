"""The lean week (issue 25 item 2): the weekly record is what Mesa's DataCollector records, bit for bit.

The model records its week with :class:`sim.reporters.WeeklyRecord` (one pass of plain arithmetic,
no deep copies) and leaves the channels it does not offer alone (no ``begin_week``, no
``results()``: their results are constants). The oracle here is the model as it was: every
channel's counters reset and its results refreshed every week, and ``mesa.DataCollector`` calling
every reporter of :func:`sim.reporters.model_reporters`. Both run the same seed; the tables must be
identical, value by value down to the bit (NaN where a subgroup is empty), on every strategy and
on both engines.
"""

from __future__ import annotations

import math

import mesa
import numpy as np
import pandas as pd
import pytest

from sim import SelfManagementModel
from sim.reference import ReferenceModel
from sim.reporters import WeeklyRecord, model_reporters, weekly_columns

N, WEEKS, SEED = 150, 40, 2025  # small and short: every channel busy, support ending mid-run below
REFERENCE_N, REFERENCE_WEEKS = 60, 35  # the per-agent engine is slow: fewer graduates

#: Strategies of tests/sim/conftest.py's build_strategy, with changes: every channel alone, all of
#: them at once, the matched three, support that ends mid-run, and no course.
CASES = {
    "course_only": ("course_only", {}),
    "no_course": ("course_only", {"course": False}),
    "peer_group": ("peer_group", {}),
    "telephone": ("telephone", {}),
    "online": ("online", {}),
    "booster": ("booster", {}),
    "newsletter": ("newsletter", {}),
    "offer_all": ("offer_all", {}),
    "tailored": ("tailored", {}),
    "everything_ending_at_week_30": ("everything", {"end_week": 30}),
}


class _AsMesaRecorded:
    """The week as it was recorded before issue 25: every channel reset and asked for its results
    every week, and a ``mesa.DataCollector`` calling every reporter (deep-copying each value)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mesa_record = mesa.DataCollector(model_reporters=model_reporters(list(self.channel_results)))
        self.mesa_record.collect(self)  # week 0: nothing has changed since the lean record's

    def _begin_week(self):
        week = super()._begin_week()
        for channel in self.channels.values():
            channel.begin_week()
        return week

    def _update_channel_results(self):
        for channel in self.channels.values():
            self.channel_results.update(channel.results())

    def _record_week(self, week):
        super()._record_week(week)
        self.mesa_record.collect(self)


class MesaRecordedModel(_AsMesaRecorded, SelfManagementModel):
    pass


class MesaRecordedReferenceModel(_AsMesaRecorded, ReferenceModel):
    pass


def _bits(values: list) -> np.ndarray:
    """The values as float64 bit patterns, so that equality is bit for bit (NaN equal to NaN)."""
    return np.asarray(values, dtype=np.float64).view(np.int64)


def _assert_same_record(lean: SelfManagementModel, oracle: _AsMesaRecorded) -> None:
    assert list(lean.datacollector.model_vars) == list(oracle.mesa_record.model_vars)
    for column, values in oracle.mesa_record.model_vars.items():
        mine = lean.datacollector.model_vars[column]
        assert len(mine) == len(values) == lean.week + 1, column
        assert np.array_equal(_bits(mine), _bits(values)), column
        assert all(type(v) is float for v in mine), f"{column}: not plain floats"
    frame = oracle.mesa_record.get_model_vars_dataframe().reset_index(drop=True)
    frame.insert(0, "week", np.arange(len(frame)))
    pd.testing.assert_frame_equal(lean.weekly_table(), frame, check_exact=True)


@pytest.mark.parametrize("case", list(CASES))
def test_the_lean_record_is_the_data_collectors_bit_for_bit(make_strategy, case):
    name, changes = CASES[case]
    strategy = make_strategy(name, **changes)
    lean = SelfManagementModel(N, WEEKS, strategy=strategy, rng=SEED).run()
    oracle = MesaRecordedModel(N, WEEKS, strategy=strategy, rng=SEED).run()
    _assert_same_record(lean, oracle)
    if case != "course_only":  # something happened: the comparison is not of zeros alone
        assert lean.ledger.total_gbp != SelfManagementModel(N, WEEKS, rng=SEED).run().ledger.total_gbp


@pytest.mark.parametrize("case", ["offer_all", "everything_ending_at_week_30"])
def test_the_reference_engine_records_the_data_collectors_table_too(make_strategy, case):
    name, changes = CASES[case]
    strategy = make_strategy(name, **changes)
    lean = ReferenceModel(REFERENCE_N, REFERENCE_WEEKS, strategy=strategy, rng=SEED).run()
    oracle = MesaRecordedReferenceModel(REFERENCE_N, REFERENCE_WEEKS, strategy=strategy, rng=SEED).run()
    _assert_same_record(lean, oracle)


def test_an_empty_subgroup_is_recorded_as_nan_as_before(make_strategy):
    lean = SelfManagementModel(N, 3, strategy=make_strategy("offer_all"), rng=SEED)
    oracle = MesaRecordedModel(N, 3, strategy=make_strategy("offer_all"), rng=SEED)
    for model in (lean, oracle):
        model.step()
        model.graduates.lonely_at_baseline[:] = False  # the subgroup 'lonely' is empty from week 2
        model.run()
    assert math.isnan(lean.datacollector.model_vars["mean_gain_sd_lonely"][-1])
    _assert_same_record(lean, oracle)


def test_a_channel_not_offered_does_no_work_in_any_week(make_strategy, monkeypatch):
    """Neither reset nor asked for its results after week 0; its recorded results stay those of week 0."""
    model = SelfManagementModel(N, 10, strategy=make_strategy("peer_group"), rng=SEED)
    idle = [c for c in model.channels.values() if c not in model.active_channels]
    assert {c.name for c in idle} == set(model.channels) - {"peer_group"}

    def no_work(*_):
        raise AssertionError("a channel the strategy does not offer was asked to work")

    for channel in idle:
        monkeypatch.setattr(channel, "begin_week", no_work)
        monkeypatch.setattr(channel, "results", no_work)
    model.run()
    assert model.week == 10
    record = model.datacollector.model_vars
    assert record["calls_made"] == [0.0] * 11 and record["forum_visitors"] == [0.0] * 11
    assert max(record["peer_group_contacts"]) > 0  # the offered channel was recorded every week


def test_the_record_keeps_the_data_collectors_interface():
    """model_vars is a dict of lists that can be read and replaced (tests and the dashboard do)."""
    model = SelfManagementModel(40, 4, rng=1)
    record = model.datacollector
    assert list(record.model_vars) == weekly_columns(list(model.channel_results))
    model.run()
    assert [len(v) for v in record.model_vars.values()] == [5] * len(record.model_vars)
    pd.testing.assert_frame_equal(record.get_model_vars_dataframe(), pd.DataFrame(record.model_vars),
                                  check_exact=True)


def test_a_row_that_does_not_fit_the_columns_is_refused():
    model = SelfManagementModel(40, 2, rng=1)
    with pytest.raises(ValueError, match=r"columns: each name once"):
        WeeklyRecord(["a", "b", "a"])
    short = WeeklyRecord(["a", "b"], row=lambda m: [1.0])
    with pytest.raises(ValueError, match=r"row: 1 values for 2 columns"):
        short.collect(model)
    assert short.model_vars == {"a": [], "b": []}  # nothing half-recorded
