"""The three floors of the project (docs/architecture.md), checked on the source's imports.

* ``sim/`` is the model library: it imports nothing of ``experiments`` and nothing of Hydra.
* ``experiments/`` has a core (its top-level modules) that every part may use, and subpackages
  (``sweeps``, ``analyses``, ``report``, ``dashboard``) that import each other only through the
  core and ``sweeps.collect``. The core imports no subpackage.
* Entry points (``python -m experiments.X``: ``run``, ``collect``, ``calibrate``, ``sensitivity``,
  ``report/__main__``) are the roof: they may import anything, and nothing imports them.
* No cycle, counting imports inside functions too.

Imports are read with ``ast`` (every ``import`` and ``from ... import`` anywhere in a module), so a
lazy import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUBPACKAGES = ("sweeps", "analyses", "report", "dashboard")
ENTRY_POINTS = {"experiments.run", "experiments.collect", "experiments.calibrate", "experiments.sensitivity",
                "experiments.report.__main__"}
SHARED = {"experiments.sweeps.collect"}  # the one module of a subpackage the others may read through


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: str) -> dict[str, Path]:
    return {module_name(p): p for p in (ROOT / package).rglob("*.py")}


def imports_of(path: Path, name: str) -> set[str]:
    """Every module ``path`` imports (absolute names; relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
                   for n in ast.walk(block)}  # imports for type checkers only: never executed
    out = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            out.add(stem)
            out.update(f"{stem}.{a.name}" for a in node.names)  # from pkg import module
    return out


def graph(package: str) -> dict[str, set[str]]:
    """Module -> the project's modules it imports (only names that are modules of ``package``)."""
    mods = modules(package)
    return {name: {i for i in imports_of(path, name) if i in mods and i != name} for name, path in mods.items()}


def floor(name: str) -> str:
    parts = name.split(".")
    if name in ENTRY_POINTS:
        return "entry"
    return parts[1] if len(parts) > 2 and parts[1] in SUBPACKAGES else "core"


def test_the_model_library_imports_neither_experiments_nor_hydra():
    for name, path in modules("sim").items():
        bad = {i for i in imports_of(path, name) if i.split(".")[0] in ("experiments", "hydra", "omegaconf")}
        assert not bad, f"{name} imports {sorted(bad)}"


def violations(g: dict[str, set[str]]) -> list[str]:
    """Imports that break the dependency rule, in words."""
    problems = []
    for name, deps in g.items():
        mine = floor(name)
        for dep in deps:
            theirs = floor(dep)
            if theirs == "entry":
                problems.append(f"{name} imports the entry point {dep}")
            elif mine == "core" and theirs != "core":
                problems.append(f"the core module {name} imports {dep} (of {theirs}/)")
            elif mine in SUBPACKAGES and theirs in SUBPACKAGES and theirs != mine and dep not in SHARED \
                    and dep != f"experiments.{theirs}":
                problems.append(f"{name} ({mine}/) imports {dep} ({theirs}/)")
    return sorted(problems)


def test_subpackages_meet_only_through_the_core_and_sweeps_collect():
    problems = violations(graph("experiments"))
    assert not problems, "\n".join(problems)


def test_the_rule_sees_each_kind_of_violation():
    assert violations({"experiments.report.data": {"experiments.analyses.voi"}})  # across subpackages
    assert violations({"experiments.config": {"experiments.sweeps.batches"}})  # the core upwards
    assert violations({"experiments.analyses.voi": {"experiments.run"}})  # an entry point
    assert not violations({"experiments.report.data": {"experiments.sweeps.collect", "experiments.labels"},
                           "experiments.run": {"experiments.sweeps.batches", "experiments.report.build"}})


@pytest.mark.parametrize("package", ["sim", "experiments"])
def test_the_import_graph_has_no_cycle(package):
    g = graph(package)
    # a package imports its own modules' names when it re-exports them: drop package -> its own child
    g = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in g.items()}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for d in sorted(g.get(m, ())):
            if state.get(d) == 1:
                cycle = path[path.index(d):] + [d]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if not state.get(d):
                visit(d)
        path.pop()
        state[m] = 2

    for m in sorted(g):
        if not state.get(m):
            visit(m)
