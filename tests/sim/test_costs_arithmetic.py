"""The cost and QALY ledger (sim/costs.py) against hand-worked cases and identities.

What a cost-effectiveness analysis relies on: the discount factor is ``(1 + r) ** -(week / 52)``
(one year = 52 weeks, week 0 undiscounted), so it multiplies across weeks and a year's factor is
``1 / (1 + r)``; costs are kept undiscounted by category and discounted in total; one year lived
at a gain of ``g`` SD and connectedness ``c`` above one's usual level earns
``qaly_per_sd_year x g + qaly_per_connectedness_year x c`` QALYs (before discounting). Every
expected number below is derived in its comment from these rules and the default parameters.
These tests are the ones `make mutation` runs against sim/costs.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.costs import CARE_CATEGORIES, CATEGORIES, SUPPORT_CATEGORIES, CostLedger
from sim.params import OutcomeParams, default_costs
from sim.support import CHANNEL_TYPES

#: NICE's reference-case discount rate, per year (the model's default).
NICE_RATE = 0.035


def ledger(n_graduates: int = 4, rate: float = NICE_RATE, **outcomes) -> CostLedger:
    """A ledger of the default UK unit costs for ``n_graduates``, discounting at ``rate`` per year."""
    return CostLedger(default_costs(), OutcomeParams(discount_rate_per_year=rate, **outcomes), n_graduates)


# --- discounting -------------------------------------------------------------------------------


def test_discount_factor_by_hand():
    book = ledger(rate=NICE_RATE)
    assert book.discount(0) == 1.0  # the end of the course is the present
    assert book.discount(52) == pytest.approx(1 / 1.035, rel=1e-12)  # one year: 1 / (1 + r)
    assert book.discount(104) == pytest.approx(1 / 1.035**2, rel=1e-12)  # two years
    assert book.discount(26) == pytest.approx(1.035**-0.5, rel=1e-12)  # half a year: the square root


@pytest.mark.parametrize("rate", [NICE_RATE, 0.015, 0.10])
def test_discount_factors_multiply_across_weeks(rate):
    """Continuous-time compounding: d(a + b) = d(a) d(b), and 52 weeks make exactly one year."""
    book = ledger(rate=rate)
    for a, b in [(1, 1), (13, 39), (26, 78), (7, 45)]:
        assert book.discount(a + b) == pytest.approx(book.discount(a) * book.discount(b), rel=1e-12)
    assert book.discount(52) == pytest.approx(1 / (1 + rate), rel=1e-12)
    weekly = np.array([book.discount(w) for w in range(105)])
    assert (np.diff(weekly) < 0).all()  # a later cost counts for less
    assert (weekly > 0).all() and weekly[0] == 1.0


def test_no_discounting_at_a_zero_rate():
    book = ledger(rate=0.0)
    assert [book.discount(w) for w in (0, 1, 52, 104, 520)] == [1.0] * 5


# --- costs -------------------------------------------------------------------------------------


def test_ledger_starts_empty_in_every_category():
    book = ledger(n_graduates=7)
    assert list(book.gbp) == list(CATEGORIES)
    assert all(v == 0.0 for v in book.gbp.values())
    assert book.discounted_gbp == 0.0 and book.total_gbp == 0.0
    assert book.qalys == 0.0 and book.qalys_by_graduate.shape == (7,)
    assert book.n == 7


def test_categories_are_the_course_then_each_channel_then_care():
    assert CATEGORIES[0] == "course"
    assert CATEGORIES[-2:] == CARE_CATEGORIES == ("planned_care", "urgent_care")
    assert SUPPORT_CATEGORIES == tuple(dict.fromkeys(c.cost_category for c in CHANNEL_TYPES))
    assert CATEGORIES == ("course", *SUPPORT_CATEGORIES, *CARE_CATEGORIES)
    assert len(set(CATEGORIES)) == len(CATEGORIES)  # each cost counted in one category only


def test_unit_costs_are_inflated_to_the_price_year():
    costs = default_costs()
    book = CostLedger(costs, OutcomeParams(), 1)
    assert set(book.unit_gbp) == set(costs.items)
    for name in costs.items:
        assert book.unit_gbp[name] == pytest.approx(costs.inflate(name), rel=1e-12)
    # the course: GBP 400 at 2010 prices x 389 / 267 (the index, 2024 over 2010)
    assert book.unit_gbp["course_per_participant"] == pytest.approx(400 * 389 / 267, rel=1e-12)
    # a planned contact: 0.5 GP surgery (45) + 0.2 GP phone (27) + 0.3 nurse (13), at 2013 prices
    assert book.planned_contact_gbp == pytest.approx((0.5 * 45 + 0.2 * 27 + 0.3 * 13) * 389 / 289.1, rel=1e-12)


def test_costs_add_up_undiscounted_by_category_and_discounted_in_total():
    book = ledger(n_graduates=4, rate=NICE_RATE)
    book.add("course", 400.0, 0)
    book.add("urgent_care", 150.0, 52)
    book.add("urgent_care", 150.0, 104)
    book.add("planned_care", 40.0, 26)
    # what a budget holder pays: the sums, whenever they fall
    assert book.gbp["course"] == 400.0 and book.gbp["urgent_care"] == 300.0 and book.gbp["planned_care"] == 40.0
    assert all(book.gbp[c] == 0.0 for c in SUPPORT_CATEGORIES)
    assert book.total_gbp == pytest.approx(740.0)
    # what a cost-effectiveness analysis counts: each payment discounted to week 0
    expected = 400 + 150 / 1.035 + 150 / 1.035**2 + 40 / 1.035**0.5
    assert book.discounted_gbp == pytest.approx(expected, rel=1e-12)
    assert book.discounted_gbp < book.total_gbp
    # per graduate: the category's total over the 4 graduates
    assert book.per_graduate("urgent_care") == pytest.approx(75.0)
    assert book.per_graduate("course") == pytest.approx(100.0)


def test_discounted_total_equals_undiscounted_without_discounting():
    book = ledger(rate=0.0)
    for week, (category, gbp) in enumerate([("course", 400.0), ("planned_care", 42.5), ("urgent_care", 201.0)]):
        book.add(category, gbp, week * 30)
    assert book.discounted_gbp == pytest.approx(book.total_gbp, rel=1e-12)


# --- QALYs -------------------------------------------------------------------------------------


def test_a_year_lived_at_a_constant_gain_earns_the_utility_per_year():
    """52 weeks of 1/52 year each: undiscounted, a year at gain g and company c earns
    qaly_per_sd_year x g + qaly_per_connectedness_year x c (defaults 0.12 and 0.1)."""
    book = ledger(n_graduates=3, rate=0.0)
    gain = np.array([1.0, 0.5, 0.0])
    company = np.array([0.0, 0.2, -0.3])  # the third is lonelier than usual: utility lost
    for week in range(1, 53):
        book.add_qalys(gain, company, week)
    expected = 0.12 * gain + 0.1 * company  # [0.12, 0.08, -0.03]
    np.testing.assert_allclose(book.qalys_by_graduate, expected, rtol=1e-12)
    assert book.qalys == pytest.approx(expected.sum(), rel=1e-12)
    assert isinstance(book.qalys, float)


def test_one_week_of_qalys_is_discounted_like_a_cost_of_that_week():
    book = ledger(n_graduates=2, rate=NICE_RATE, qaly_per_sd_year=0.2, qaly_per_connectedness_year=0.05)
    book.add_qalys(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 52)
    # a week is 1/52 year, discounted by one year's factor 1 / 1.035
    np.testing.assert_allclose(book.qalys_by_graduate, [0.2 / 52 / 1.035, 0.05 / 52 / 1.035], rtol=1e-12)
    # the QALYs accumulate: the same week again doubles them
    book.add_qalys(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 52)
    np.testing.assert_allclose(book.qalys_by_graduate, [0.4 / 52 / 1.035, 0.1 / 52 / 1.035], rtol=1e-12)


def test_no_gain_and_usual_company_earn_no_qalys():
    book = ledger(n_graduates=5)
    for week in range(0, 104, 7):
        book.add_qalys(np.zeros(5), np.zeros(5), week)
    assert book.qalys == 0.0
