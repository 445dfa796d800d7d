"""Plain words and colours, in one place: strategies (named from their configs), channels and cost
categories (from the model's channel registry), subgroups, money and numbers. Figures, tables,
the report and the dashboard take their words from here.

A channel presents itself from its own module (``sim/support/<channel>.py``: its label, colour,
short noun, the phrase and the clause built from its levers, its engagement panels); what it does
not declare falls back to its label and a spare colour, so a new channel is named and drawn with
no edit here.

A strategy's name in every figure and table is derived from what it does (its config), never its
config key: ``peer_group`` with ``interval_weeks: 2`` is "Peer support group, fortnightly", and
the same preset meeting every 4 weeks is "Peer support group, every 4 weeks".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import dataclasses

from experiments.evaluate import SUBGROUP_MEMBERS
from sim.reporters import SUBGROUPS as MODEL_SUBGROUPS
from sim.support import CHANNEL_NAMES, CHANNEL_TYPES, CHANNELS, TAILORABLE_CHANNELS
from sim.support.words import every, months  # noqa: F401  (re-exported: one "fortnightly" everywhere)

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]

#: The named strategies (configs/strategy/), in the order tables and figures show them.
STRATEGIES = ("no_course", "course_only", "peer_group", "telephone", "online", "offer_all", "tailored")
#: Each channel's name in words (declared by the channel, sim/support/<channel>.py).
CHANNEL_LABELS = {c.name: c.label for c in CHANNEL_TYPES}
#: Colours for channels that declare none, in registry order (Tol's muted palette, colour-blind
#: safe; none is an Okabe-Ito colour above, so a new channel never takes a named strategy's).
SPARE_COLOURS = ("#882255", "#44AA99", "#332288", "#AA4499", "#117733", "#999933")
#: Each channel's colour in every figure: its own (sim/support/<channel>.py), else a spare one.
_UNCOLOURED = [c.name for c in CHANNEL_TYPES if c.colour is None]
CHANNEL_COLOURS = {c.name: c.colour or SPARE_COLOURS[_UNCOLOURED.index(c.name) % len(SPARE_COLOURS)]
                   for c in CHANNEL_TYPES}
#: Each cost category's name in words (the ledger's categories, sim.costs.CATEGORIES).
COST_LABELS = {
    "course": "The course",
    **{c.cost_category: c.cost_label for c in CHANNEL_TYPES},
    "planned_care": "GP and nurse visits",
    "urgent_care": "Urgent care",
}
#: Each subgroup's words, (plain words, short words for a crowded axis); a subgroup without an
#: entry is named from its key. Who belongs to each: experiments.evaluate.SUBGROUP_MEMBERS.
SUBGROUP_WORDS = {
    "everyone": ("Everyone", "Everyone"),
    "group_averse": ("People who find groups difficult", "Find groups\ndifficult"),
    "offline": ("People not online", "Not online"),
    "lonely": ("People lonely before the course", "Lonely before\nthe course"),
}


def _subgroup_column(member: tuple[str, bool] | None) -> str:
    """The weekly column of a subgroup's share self-managing, from the model's own subgroups
    (:data:`sim.reporters.SUBGROUPS`: the graduates' array, and the names of its two sides)."""
    if member is None:
        return "share_self_managing"
    array, value = member
    yes, no = next((y, n) for a, y, n in MODEL_SUBGROUPS.values() if a == array)
    return f"share_self_managing_{yes if value else no}"


#: Subgroups the report follows: (key, plain words, weekly column of its share self-managing),
#: derived from who belongs to each (experiments.evaluate.SUBGROUP_MEMBERS) and the model's columns.
SUBGROUPS = tuple((key, SUBGROUP_WORDS.get(key, (key.replace("_", " ").capitalize(),))[0], _subgroup_column(member))
                  for key, member in SUBGROUP_MEMBERS.items())
#: Each subgroup's short words (figure axes).
SUBGROUP_SHORT = {key: SUBGROUP_WORDS.get(key, (label, label))[-1] for key, label, _ in SUBGROUPS}

#: One colour per named strategy, the same in every figure (course only is black); a strategy named
#: after one channel (``peer_group``, or a new channel's own config) takes that channel's colour.
STRATEGY_COLOURS = {
    "no_course": "#999999",  # grey: the people who did not take the course
    "course_only": OKABE_ITO[0],  # black
    "peer_group": CHANNEL_COLOURS["peer_group"],  # orange
    "telephone": CHANNEL_COLOURS["telephone"],  # sky blue
    "online": CHANNEL_COLOURS["online"],  # bluish green
    "offer_all": OKABE_ITO[5],  # blue
    "tailored": OKABE_ITO[6],  # vermillion
    **{name: colour for name, colour in CHANNEL_COLOURS.items()
       if name not in ("peer_group", "telephone", "online", "booster", "newsletter")},
}
#: Colours for arms beyond the named strategies (variants of one strategy in a sweep), in order.
EXTRA_COLOURS = [OKABE_ITO[7], OKABE_ITO[1], OKABE_ITO[2], OKABE_ITO[3], OKABE_ITO[5], OKABE_ITO[6], "#999999",
                 OKABE_ITO[4]]
#: The channels a strategy matches to people (its name says which); the others are added to any.
MATCHED = TAILORABLE_CHANNELS
#: The channels added to any strategy (booster, newsletter, ...), named after "+" in its name.
ADDED = tuple(c for c in CHANNEL_NAMES if c not in MATCHED)
#: Each channel's short name in a list ("Groups and calls, free choice"): its own, else its label.
CHANNEL_NOUNS = {c.name: c.noun or c.label for c in CHANNEL_TYPES}
_COUNT_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _lever_default(channel: str, key: str) -> Any:
    """The default of a channel's lever ``key`` (its dataclass), or None when it has none."""
    for f in dataclasses.fields(CHANNELS[channel].lever_type):
        if f.name == key:
            return f.default
    return None


def _enabled(strategy: Mapping[str, Any], channel: str) -> bool:
    return bool((strategy.get(channel) or {}).get("enabled"))


def strategy_label(strategy: Mapping[str, Any]) -> str:
    """A short plain-words name of a strategy (for legends and tables), from its config."""
    if strategy.get("course") is False:  # people referred who did not take the course
        rest = strategy_label(dict(strategy, course=True))
        return "No course" if rest == "Course only" else f"No course, {rest[0].lower()}{rest[1:]}"
    channels = [c for c in MATCHED if _enabled(strategy, c)]
    if len(channels) == 1:
        c = channels[0]
        text = CHANNELS[c].phrase(strategy[c])
    elif channels:
        which = (f"All {_COUNT_WORDS.get(len(channels), len(channels))}" if len(channels) == len(MATCHED)
                 else _upper_first(" and ".join(CHANNEL_NOUNS[c] for c in channels).lower()))
        how = "matched to each person" if strategy.get("matching") == "tailored" else "free choice"
        text = f"{which}, {how}"
        odd = [f"{CHANNEL_NOUNS[c]} {every(strategy[c]['interval_weeks'])}" for c in channels
               if strategy[c].get("interval_weeks") is not None
               and int(strategy[c]["interval_weeks"]) != _lever_default(c, "interval_weeks")]
        if odd:
            text += f" ({', '.join(odd)})"
    else:
        text = ""
    extras = [_lower_first(CHANNELS[c].phrase(strategy[c])) for c in ADDED if _enabled(strategy, c)]
    if not text:
        text = (_upper_first(extras.pop(0)) if extras else "Course only")
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
    parts = [CHANNELS[c].describe(strategy[c]) for c in CHANNEL_NAMES if _enabled(strategy, c)]
    if not parts and strategy.get("course") is False:
        return "People referred who did not take the course: no course, no support."
    if not parts:
        return "The six-week course and nothing after it: the comparator for every other strategy."
    listed = parts[0] if len(parts) == 1 else "; ".join(parts[:-1]) + "; and " + parts[-1]
    if len(channels) > 1 and strategy.get("matching") == "tailored":
        fit = {c.name: c.fit_words or _lower_first(c.label) for c in CHANNEL_TYPES}
        order = [c for c in strategy.get("tailoring_order", list(MATCHED)) if c in channels]
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
    words = {c.name: c.offer_words or _lower_first(c.label) for c in CHANNEL_TYPES}
    listed = ", ".join(words[c] for c in channels[:-1]) + " and " + words[channels[-1]]
    if strategy.get("matching") == "tailored":
        return f"each graduate is offered the one of {listed.replace(' and ', ' or ')} that fits them"
    return f"{listed}, all offered to everyone"
