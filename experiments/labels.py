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

import dataclasses
import math
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from sim.reporters import SUBGROUPS as MODEL_SUBGROUPS
from sim.support import CHANNEL_NAMES, CHANNEL_TYPES, CHANNELS, TAILORABLE_CHANNELS
from sim.support.words import every, months  # noqa: F401  (re-exported: one "fortnightly" everywhere)

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


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
#: Each cost category's colour in every figure: a channel's spending takes the channel's colour.
COST_COLOURS = {
    "course": "#BBBBBB",
    **{c.cost_category: CHANNEL_COLOURS[c.name] for c in CHANNEL_TYPES},
    "planned_care": "#555555",
    "urgent_care": OKABE_ITO[7],
}
#: Colour of everyone (the whole population) in a figure of subgroups, and of the subgroups the
#: report follows, in the model's order (Okabe-Ito blue, vermillion, reddish purple, then Tol's
#: muted palette, then again from the start: a tenth subgroup repeats a colour, it is never dropped).
EVERYONE_COLOUR = OKABE_ITO[0]
SUBGROUP_PALETTE = (OKABE_ITO[5], OKABE_ITO[6], OKABE_ITO[7], *SPARE_COLOURS)


@dataclass(frozen=True)
class SubgroupWords:
    """How the report presents one of the model's subgroups (:data:`sim.reporters.SUBGROUPS`, the
    one declaration of who they are and of their weekly columns).

    Attributes:
        follows: the side the report follows, the one at risk of being left behind: True for the
            graduates whose flag is set (``group_averse``), False for the others (not ``online``).
        flagged, other: plain words of each side, as a row of a table starts ("People not online").
        short: the followed side's words on a crowded figure axis ("\\n" breaks the line); None:
            its plain words, wrapped.
        note: a sentence a figure's how-to-read adds about the followed side, or None.
    """

    follows: bool
    flagged: str
    other: str
    short: str | None = None
    note: str | None = None


#: The words of each of the model's subgroups, keyed by its name in :data:`sim.reporters.SUBGROUPS`.
#: A subgroup of the model without an entry is followed on its flagged side and named from its
#: sides' names (:func:`subgroup_words`): a new subgroup reaches the report with no edit here.
SUBGROUP_WORDS = {
    "group_averse": SubgroupWords(True, "People who find groups difficult", "People who do not find groups difficult",
                                  "Find groups\ndifficult"),
    "online": SubgroupWords(False, "People online", "People not online", "Not online"),
    "lonely": SubgroupWords(True, "People lonely before the course", "People not lonely before the course",
                            "Lonely before\nthe course", "'Lonely' means usually lonely before the course."),
}


def subgroup_words(name: str, model_subgroups: Mapping[str, tuple[str, str, str]] = MODEL_SUBGROUPS) -> SubgroupWords:
    """The words of the model's subgroup ``name``: its entry in :data:`SUBGROUP_WORDS`, else the
    fallback (its flagged side followed; each side named from its column suffix, ``not_deprived`` ->
    "Not deprived")."""
    if name in SUBGROUP_WORDS:
        return SUBGROUP_WORDS[name]
    if name not in model_subgroups:
        raise KeyError(f"subgroup {name!r}: not a subgroup of the model; one of {sorted(model_subgroups)}")
    _, yes, no = model_subgroups[name]
    return SubgroupWords(True, _upper_first(yes.replace("_", " ")), _upper_first(no.replace("_", " ")))


class Subgroup(NamedTuple):
    """A subgroup the report follows: its key (the side's name, as in each run's ``reached``), its
    plain words and the weekly column of its share self-managing."""

    key: str
    label: str
    column: str


def report_subgroups(model_subgroups: Mapping[str, tuple[str, str, str]] = MODEL_SUBGROUPS
                     ) -> tuple[tuple[Subgroup, ...], dict[str, str], dict[str, str], dict[str, str]]:
    """Everyone, then the followed side of each of the model's subgroups, in the model's order:
    the subgroups, and by key their short words, their colours and their notes."""
    groups = [Subgroup("everyone", "Everyone", "share_self_managing")]
    short, colours, notes = {"everyone": "Everyone"}, {"everyone": EVERYONE_COLOUR}, {}
    for i, (name, (_, yes, no)) in enumerate(model_subgroups.items()):
        words = subgroup_words(name, model_subgroups)
        key, label = (yes, words.flagged) if words.follows else (no, words.other)
        groups.append(Subgroup(key, label, f"share_self_managing_{key}"))
        short[key] = words.short or textwrap.fill(label, 16)
        colours[key] = SUBGROUP_PALETTE[i % len(SUBGROUP_PALETTE)]
        if words.note:
            notes[key] = words.note
    return tuple(groups), short, colours, notes


def side_words(side: str, model_subgroups: Mapping[str, tuple[str, str, str]] = MODEL_SUBGROUPS) -> str:
    """Plain words of either side of a model subgroup, by its column suffix ("offline" -> "People
    not online"), for a data dictionary or a table of every weekly column."""
    for name, (_, yes, no) in model_subgroups.items():
        if side in (yes, no):
            words = subgroup_words(name, model_subgroups)
            return words.flagged if side == yes else words.other
    raise KeyError(f"subgroup side {side!r}: not a side of a subgroup of the model (sim.reporters.SUBGROUPS)")


#: The subgroups the report and the dashboard follow (everyone first), derived from the model's
#: (sim.reporters.SUBGROUPS) and their words above; by key, each one's short words (figure axes),
#: its colour in every figure, and the sentence a figure's how-to-read adds about it.
SUBGROUPS, SUBGROUP_SHORT, SUBGROUP_COLOURS, SUBGROUP_NOTES = report_subgroups()

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
