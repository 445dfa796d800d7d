"""Every notebook ends with exercises whose worked solutions are hidden (issue 24 item 7).

The notebooks themselves run in the suite (nbmake); this checks their shape: an "Exercises" section
after the lesson, two or three exercises, each followed by a solution code cell that is tagged
``solution`` and collapsed in Jupyter (``metadata.jupyter.source_hidden``), and no stored outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def _text(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_notebook_ends_with_exercises_and_hidden_solutions(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    heads = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and _text(c).startswith("## Exercises")]
    assert len(heads) == 1, f"{path.name}: one '## Exercises' section"
    tail = cells[heads[0]:]
    exercises = [i for i, c in enumerate(tail) if c["cell_type"] == "markdown" and _text(c).startswith("### Exercise")]
    assert 2 <= len(exercises) <= 3, f"{path.name}: two or three exercises, found {len(exercises)}"
    for k, start in enumerate(exercises):
        end = exercises[k + 1] if k + 1 < len(exercises) else len(tail)
        solutions = [c for c in tail[start:end] if c["cell_type"] == "code"
                     and "solution" in c.get("metadata", {}).get("tags", [])]
        assert solutions, f"{path.name}: exercise {k + 1} has no solution cell tagged 'solution'"
        for c in solutions:
            assert c["metadata"].get("jupyter", {}).get("source_hidden") is True, (
                f"{path.name}: exercise {k + 1}'s solution is not collapsed (metadata.jupyter.source_hidden)")
            assert _text(c).strip(), f"{path.name}: exercise {k + 1}'s solution is empty"
    assert not any(c.get("outputs") for c in cells if c["cell_type"] == "code"), f"{path.name}: outputs are stored"
