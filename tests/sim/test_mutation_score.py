"""The score `make mutation` reports (tests/sim/mutation_score.py): what counts as killed, how the
equivalent mutants are read and left out, and that the shipped list of equivalents is well formed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("mutation_score", HERE / "mutation_score.py")
ms = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ms)

RESULTS = """\
    sim.costs.xǁCostLedgerǁdiscount__mutmut_1: killed
    sim.costs.xǁCostLedgerǁdiscount__mutmut_2: survived
    sim.economics.x_wtp_grid__mutmut_3: timeout
    sim.economics.x_icer__mutmut_4: no tests
    sim.health.xǁHealthEventsǁstep__mutmut_5: killed
"""


def test_results_are_read_name_by_name():
    verdicts = ms.parse_results(RESULTS + "some other line\n")
    assert len(verdicts) == 5
    assert verdicts["sim.economics.x_icer__mutmut_4"] == "no tests"
    assert verdicts["sim.costs.xǁCostLedgerǁdiscount__mutmut_2"] == "survived"


def test_score_counts_timeouts_as_killed_and_untested_as_survived():
    verdicts = ms.parse_results(RESULTS)
    # killed: 2 killed + 1 timeout; survived: 1 survived + 1 no tests -> 3 / 5
    assert ms.score(verdicts, set()) == (3, 2, pytest.approx(60.0))
    # an equivalent mutant leaves both counts: 3 / 4
    assert ms.score(verdicts, {"sim.costs.xǁCostLedgerǁdiscount__mutmut_2"}) == (3, 1, pytest.approx(75.0))
    assert ms.score({}, set())[2] == 100.0


def test_a_diff_is_identified_by_its_changed_lines_only():
    diff = ("--- sim/costs.py\n+++ sim/costs.py\n@@ -1,3 +1,3 @@\n def discount(self, week):\n"
            "-    return 1.0\n+    return 2.0   \n")
    assert ms.changed_lines(diff) == ["-    return 1.0", "+    return 2.0"]


def test_equivalents_need_their_diff(tmp_path):
    good = tmp_path / "good.md"
    good.write_text("# title\n\n### `sim.a.x_f__mutmut_1`\n\nWhy: same value.\n\n```diff\n-    x = 1\n+    x = 1.0\n```\n")
    assert ms.read_equivalents(good) == {"sim.a.x_f__mutmut_1": ["-    x = 1", "+    x = 1.0"]}
    bad = tmp_path / "bad.md"
    bad.write_text("### `sim.a.x_f__mutmut_1`\n\nWhy: trust me.\n")
    with pytest.raises(ValueError, match="sim.a.x_f__mutmut_1 has no ```diff block"):
        ms.read_equivalents(bad)


def test_the_shipped_list_of_equivalents_is_well_formed():
    entries = ms.read_equivalents(HERE / "mutation_equivalents.md")
    text = (HERE / "mutation_equivalents.md").read_text(encoding="utf-8")
    for name in entries:
        assert name.startswith(("sim.costs.", "sim.economics.", "sim.health.")), name
        section = text.split(f"### `{name}`", 1)[1].split("```diff", 1)[0]
        assert len(section.strip()) > 20, f"{name}: no reason given"
