"""Subgroups are declared once, in the model (``sim.reporters.SUBGROUPS``: who they are and their
weekly columns); who belongs to each side (``experiments.evaluate``) and how the report presents
them (``experiments.labels``) are derived from it, with a generic fallback for a subgroup the
presentation does not know."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from experiments import labels
from experiments.evaluate import SUBGROUP_MEMBERS, subgroup_members
from experiments.labels import SUBGROUP_WORDS, report_subgroups, side_words, subgroup_words
from sim.reporters import SUBGROUPS as MODEL_SUBGROUPS
from sim.reporters import weekly_columns
from sim.support import CHANNEL_NAMES

ROOT = Path(__file__).resolve().parents[2]
HEX = re.compile(r"#[0-9A-Fa-f]{6}")
#: A subgroup the model might add (an index of deprivation, say), with no words in experiments/.
DEPRIVED = {"deprived": ("deprived_area", "deprived", "not_deprived")}


def followed_side(name: str) -> str:
    _, yes, no = MODEL_SUBGROUPS[name]
    return yes if subgroup_words(name).follows else no


@pytest.mark.parametrize("name", list(MODEL_SUBGROUPS))
def test_every_subgroup_of_the_model_has_what_the_report_needs(name):
    """Its followed side is one of the report's subgroups, with words, short words, a colour and a
    weekly column the model records; each run records the reach of both its sides."""
    array, yes, no = MODEL_SUBGROUPS[name]
    side = followed_side(name)
    shown = {g.key: g for g in labels.SUBGROUPS}
    assert side in shown
    assert shown[side].label.strip() and labels.SUBGROUP_SHORT[side].strip()
    assert HEX.fullmatch(labels.SUBGROUP_COLOURS[side])
    assert shown[side].column in weekly_columns(list(CHANNEL_NAMES))
    assert SUBGROUP_MEMBERS[yes] == (array, True) and SUBGROUP_MEMBERS[no] == (array, False)
    assert side_words(yes).strip() and side_words(no).strip() and side_words(yes) != side_words(no)


def test_the_report_follows_everyone_first_then_one_side_of_each_model_subgroup_in_its_order():
    keys = [g.key for g in labels.SUBGROUPS]
    assert keys == ["everyone", *[followed_side(n) for n in MODEL_SUBGROUPS]]
    assert len(set(labels.SUBGROUP_COLOURS.values())) == len(keys)  # told apart in every figure
    assert set(keys) <= set(SUBGROUP_MEMBERS)  # each run records the reach the report reads


def test_every_entry_of_the_words_names_a_subgroup_of_the_model():
    """Words for a subgroup the model no longer has would be words nobody reads."""
    assert set(SUBGROUP_WORDS) <= set(MODEL_SUBGROUPS)


def test_a_subgroup_the_model_adds_reaches_the_report_with_generic_words():
    model = {**MODEL_SUBGROUPS, **DEPRIVED}
    groups, short, colours, notes = report_subgroups(model)
    assert groups[-1] == ("deprived", "Deprived", "share_self_managing_deprived")
    assert short["deprived"] == "Deprived" and "deprived" not in notes
    assert colours["deprived"] not in [colours[k] for k, _, _ in groups[:-1]]
    assert side_words("not_deprived", model) == "Not deprived"
    members = subgroup_members(model)
    assert members["deprived"] == ("deprived_area", True) and members["not_deprived"] == ("deprived_area", False)


def test_more_subgroups_than_colours_each_keep_a_panel_row_and_a_colour():
    many = {f"group_{i}": (f"flag_{i}", f"in_{i}", f"out_{i}") for i in range(14)}
    groups, short, colours, _ = report_subgroups(many)
    assert [g.key for g in groups] == ["everyone", *[f"in_{i}" for i in range(14)]]
    assert set(short) == set(colours) == {g.key for g in groups}
    assert all(HEX.fullmatch(c) for c in colours.values())


def test_words_of_a_side_that_is_not_a_subgroup_name_the_side():
    with pytest.raises(KeyError, match="'sleepy'"):
        side_words("sleepy")
    with pytest.raises(KeyError, match="'sleepy'"):
        subgroup_words("sleepy")


#: Modules allowed to spell a subgroup's name: the outcome catalogue describes the graduate
#: table's own columns (``group_averse``, ``online_access``, ``lonely_at_baseline``) by name.
PENDING = {"experiments/outcomes.py"}


def test_no_module_of_experiments_spells_a_subgroup_of_its_own():
    """A subgroup's array, its sides' names and their weekly columns are written in sim/ and, for
    their words, in experiments/labels.py; every other module reads them from there, so a subgroup
    added to the model is never left out of a figure or a table that listed them by hand."""
    words = {w for array, yes, no in MODEL_SUBGROUPS.values() for w in (array, yes, no)} | set(MODEL_SUBGROUPS)
    words -= set(CHANNEL_NAMES)  # "online" is also a channel
    columns = {f"{what}_{side}" for what in ("share_self_managing", "mean_gain_sd", "extra")
               for _, yes, no in MODEL_SUBGROUPS.values() for side in (yes, no)}
    found = {}
    for path in sorted((ROOT / "experiments").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name in ("experiments/labels.py", *PENDING):
            continue
        literals = {n.value for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                    if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        hits = {v for v in literals if v in words or any(v.startswith(c) for c in columns)}
        if hits:
            found[name] = sorted(hits)
    assert not found, f"subgroups spelt outside sim/ and experiments/labels.py: {found}"
