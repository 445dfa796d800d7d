"""Plain words and colours, in one place: strategies (named from their configs), channels and cost
categories (from the model's channel registry), subgroups, money and numbers. Figures, tables,
the report and the dashboard take their words from here.

A strategy's name in every figure and table is derived from what it does (its config), never its
config key: ``peer_group`` with ``interval_weeks: 2`` is "Peer support group, fortnightly", and
the same preset meeting every 4 weeks is "Peer support group, every 4 weeks".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sim.support import CHANNEL_TYPES

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]

#: The named strategies (configs/strategy/), in the order tables and figures show them.
STRATEGIES = ("no_course", "course_only", "peer_group", "telephone", "online", "offer_all", "tailored")
#: Each channel's name in words (declared by the channel, sim/support/<channel>.py).
CHANNEL_LABELS = {c.name: c.label for c in CHANNEL_TYPES}
#: Each cost category's name in words (the ledger's categories, sim.costs.CATEGORIES).
COST_LABELS = {
    "course": "The course",
    **{c.cost_category: c.cost_label for c in CHANNEL_TYPES},
    "planned_care": "GP and nurse visits",
    "urgent_care": "Urgent care",
}
#: Subgroups the report follows: (key, plain words, weekly column of its share self-managing).
#: Who belongs to each: experiments.evaluate.SUBGROUP_MEMBERS.
SUBGROUPS = (
    ("everyone", "Everyone", "share_self_managing"),
    ("group_averse", "People who find groups difficult", "share_self_managing_group_averse"),
    ("offline", "People not online", "share_self_managing_offline"),
    ("lonely", "People lonely before the course", "share_self_managing_lonely"),
)

#: One Okabe-Ito colour per named strategy, the same in every figure (course only is black).
STRATEGY_COLOURS = {
    "no_course": "#999999",  # grey: the people who did not take the course
    "course_only": OKABE_ITO[0],  # black
    "peer_group": OKABE_ITO[1],  # orange
    "telephone": OKABE_ITO[2],  # sky blue
    "online": OKABE_ITO[3],  # bluish green
    "offer_all": OKABE_ITO[5],  # blue
    "tailored": OKABE_ITO[6],  # vermillion
}
#: Colours for arms beyond the named strategies (variants of one strategy in a sweep), in order.
EXTRA_COLOURS = [OKABE_ITO[7], OKABE_ITO[1], OKABE_ITO[2], OKABE_ITO[3], OKABE_ITO[5], OKABE_ITO[6], "#999999",
                 OKABE_ITO[4]]
MATCHED = ("peer_group", "telephone", "online")
CHANNEL_NOUNS = {"peer_group": "groups", "telephone": "calls", "online": "online group"}


def every(weeks: int) -> str:
    """'weekly', 'fortnightly', 'every 4 weeks'."""
    return {1: "weekly", 2: "fortnightly"}.get(int(weeks), f"every {int(weeks)} weeks")


def months(weeks: int) -> str:
    """Weeks as months in words: 26 -> '6 months', 52 -> '12 months', 104 -> '24 months'."""
    m = weeks * 12 / 52
    return f"{m:.0f} months" if abs(m - round(m)) < 0.05 else f"{weeks} weeks"


def _enabled(strategy: Mapping[str, Any], channel: str) -> bool:
    return bool((strategy.get(channel) or {}).get("enabled"))


def _peer_phrase(pg: Mapping[str, Any]) -> str:
    name = "Facilitated peer group" if pg.get("delivery") == "facilitated" else "Peer support group"
    pooled = " (one group per cohort)" if pg.get("formation") == "cohort" else ""
    return f"{name}{pooled}, {every(pg.get('interval_weeks', 2))}"


def _phone_phrase(tel: Mapping[str, Any]) -> str:
    who = " from professionals" if tel.get("caller") == "professional" else ""
    return f"Telephone support{who}, {every(tel.get('interval_weeks', 2))}"


def _online_phrase(on: Mapping[str, Any]) -> str:
    return "Online group" if on.get("moderated", True) else "Online group, unmoderated"


def strategy_label(strategy: Mapping[str, Any]) -> str:
    """A short plain-words name of a strategy (for legends and tables), from its config."""
    if strategy.get("course") is False:  # people referred who did not take the course
        rest = strategy_label(dict(strategy, course=True))
        return "No course" if rest == "Course only" else f"No course, {rest[0].lower()}{rest[1:]}"
    channels = [c for c in MATCHED if _enabled(strategy, c)]
    if len(channels) == 1:
        c = channels[0]
        text = {"peer_group": _peer_phrase, "telephone": _phone_phrase, "online": _online_phrase}[c](strategy[c])
    elif channels:
        which = "All three" if len(channels) == 3 else " and ".join(CHANNEL_NOUNS[c] for c in channels).capitalize()
        how = "matched to each person" if strategy.get("matching") == "tailored" else "free choice"
        text = f"{which}, {how}"
        odd = [f"{CHANNEL_NOUNS[c]} {every(strategy[c]['interval_weeks'])}" for c in ("peer_group", "telephone")
               if c in channels and int(strategy[c].get("interval_weeks", 2)) != 2]
        if odd:
            text += f" ({', '.join(odd)})"
    else:
        text = ""
    extras = []
    if _enabled(strategy, "booster"):
        extras.append(f"booster course at {months(strategy['booster']['week'])}")
    if _enabled(strategy, "newsletter"):
        extras.append(f"newsletter {every(strategy['newsletter'].get('interval_weeks', 4))}")
    if not text:
        text = (extras.pop(0).capitalize() if extras else "Course only")
    if extras:
        text += " + " + " + ".join(extras)
    if text != "Course only":
        if strategy.get("start_week"):
            text += f", from {months(strategy['start_week'])}"
        if strategy.get("end_week") is not None:
            text += f", stopping at {months(int(strategy['end_week']))}"
    return text


def strategy_description(strategy: Mapping[str, Any], population_label: str = "", weeks: int = 104) -> str:
    """One or two sentences saying what a strategy offers, to whom and for how long."""
    channels = [c for c in MATCHED if _enabled(strategy, c)]
    parts = []
    if _enabled(strategy, "peer_group"):
        pg = strategy["peer_group"]
        led = "led by a paid facilitator" if pg.get("delivery") == "facilitated" else "led by a volunteer"
        formed = ("formed from each course cohort" if pg.get("formation") == "cohort"
                  else "pooled by area from several courses, with newcomers from later courses")
        parts.append(f"support groups {formed}, {led}, meeting {every(pg.get('interval_weeks', 2))}")
    if _enabled(strategy, "telephone"):
        tel = strategy["telephone"]
        who = "staff" if tel.get("caller") == "professional" else "trained peer volunteers"
        parts.append(f"calls from {who} {every(tel.get('interval_weeks', 2))}, within a capacity of "
                     f"{tel.get('capacity_calls_per_week_per_100_offered', 37):g} calls a week per 100 offered calls")
    if _enabled(strategy, "online"):
        mod = "a moderated" if strategy["online"].get("moderated", True) else "an unmoderated"
        parts.append(f"{mod} online group for graduates who use the internet")
    if _enabled(strategy, "booster"):
        b = strategy["booster"]
        parts.append(f"a {b.get('sessions', 2)}-session booster course at {months(b['week'])}")
    if _enabled(strategy, "newsletter"):
        parts.append(f"a newsletter {every(strategy['newsletter'].get('interval_weeks', 4))}")
    if not parts and strategy.get("course") is False:
        return "People referred who did not take the course: no course, no support."
    if not parts:
        return "The six-week course and nothing after it: the comparator for every other strategy."
    listed = parts[0] if len(parts) == 1 else "; ".join(parts[:-1]) + "; and " + parts[-1]
    if len(channels) > 1 and strategy.get("matching") == "tailored":
        fit = {"peer_group": "a group if they like groups", "telephone": "calls if they have a phone",
               "online": "the online group if they are online and confident"}
        order = [c for c in strategy.get("tailoring_order", ["peer_group", "telephone", "online"]) if c in channels]
        first, *rest = [fit[c] for c in order] or ["none"]
        which = first + "".join(f", else {r}" for r in rest)
        text = f"Each graduate is offered the one channel that fits them: {which}. Channels: {listed}."
    elif len(channels) > 1:
        text = f"Everyone is offered all of these and uses any they choose: {listed}."
    else:
        text = f"Offered to every graduate: {listed}."
    start, end = int(strategy.get("start_week") or 0), strategy.get("end_week")
    if end is None:
        text += f" Support runs for the whole {months(weeks)} modelled" + (f", from {months(start)}." if start else ".")
    else:
        text += f" Support stops after week {int(end)} ({months(int(end))})."
    return text


def gbp(value: float, digits: int = 0, sign: bool = False) -> str:
    """Money in words and figures: 1234.5 -> '£1,235'; NaN -> 'n/a'."""
    if value is None or not math.isfinite(value):
        return "n/a"
    s = f"{abs(value):,.{digits}f}"
    if value < 0 and float(s.replace(",", "")) != 0:
        return f"−£{s}"
    return f"{'+' if sign else ''}£{s}"


def num(value: float, digits: int = 0, sign: bool = False) -> str:
    """A number with thousands separators; a true minus sign; NaN -> 'n/a'."""
    if value is None or not math.isfinite(value):
        return "n/a"
    s = f"{value:{'+' if sign else ''},.{digits}f}"
    return s.replace("-", "−")


#: Decimal places of QALYs, always per graduate (the report's one QALY unit): follow-on support
#: gains hundredths to thousandths of a QALY per graduate over two years.
QALY_DIGITS = 4


def qalys(value: float, sign: bool = False) -> str:
    """QALYs per graduate, the one QALY unit of every table, figure and sentence: 0.0808 -> '0.0808'."""
    return num(value, QALY_DIGITS, sign=sign)


def over(weeks: int, discounted: bool) -> str:
    """The horizon and the discounting every money figure says: 'over 24 months, discounted'."""
    return f"over {months(weeks)}, {'discounted' if discounted else 'undiscounted'}"


def first(weeks: int) -> str:
    """The horizon of a cost counted from the end of the course to ``weeks`` (never discounted in the
    report): 'in the first 12 months, undiscounted'."""
    return f"in the first {months(weeks)}, undiscounted"


def interval(low: float, high: float, fmt=num, **kw) -> str:
    """'(a to b)' for a 95% interval; '' when it does not exist."""
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return ""
    return f"({fmt(low, **kw)} to {fmt(high, **kw)})"


def q(label: str) -> str:
    """A strategy's name quoted for running text and titles: “All three, free choice”."""
    return f"\u201c{label}\u201d"


def strategy_gist(strategy: Mapping[str, Any]) -> str:
    """A few words on what a multi-channel strategy offers ('' for a single channel, whose name says it)."""
    channels = [c for c in MATCHED if _enabled(strategy, c)]
    if len(channels) < 2:
        return ""
    words = {"peer_group": "peer groups", "telephone": "telephone calls", "online": "an online group"}
    listed = ", ".join(words[c] for c in channels[:-1]) + " and " + words[channels[-1]]
    if strategy.get("matching") == "tailored":
        return f"each graduate is offered the one of {listed.replace(' and ', ' or ')} that fits them"
    return f"{listed}, all offered to everyone"
