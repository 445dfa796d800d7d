"""The three floors of the project (docs/architecture.md), checked on the source's imports.

* ``sim/`` is the model library: it imports nothing of ``experiments`` and nothing of Hydra.
* ``experiments/`` has a core (its top-level modules) that every part may use, and subpackages
  (``sweeps``, ``analyses``, ``report``, ``dashboard``) that import each other only through the
  core and ``sweeps.collect``. The core imports no subpackage.
* Entry points (``python -m experiments.X``: ``run``, ``collect``, ``calibrate``, ``sensitivity``,
  ``report/__main__``) are the roof: they may import anything, and nothing imports them.
* No cycle, counting imports inside functions too, and the imports ``__init__`` files make.

Imports are read with ``ast`` (every ``import`` and ``from ... import`` anywhere in a module), so a
lazy import inside a function counts as much as one at the top. The graph is the one Python walks:
a package's ``__init__`` importing its own modules is an edge (``sim`` -> ``sim.params``); importing
``a.b.c`` runs ``a.b/__init__.py`` first unless the importer is inside ``a.b`` (an edge to ``a.b``);
``from .. import x`` reads the package's namespace, so it is an edge to the package even from inside
it (that namespace is half-built while its ``__init__`` is still importing); and
:mod:`sim.support.registry` imports every module of its package by name (``importlib``).
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


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
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


#: Imports made by name at run time, which ``ast`` cannot see: module -> the package all of whose
#: modules it imports (the channel registry finds every channel module).
DYNAMIC_IMPORTS = {"sim.support.registry": "sim.support"}


def edges(name: str, imported: set[str], mods: set[str]) -> set[str]:
    """What importing ``name`` runs, given the names its source imports: each imported module, and
    each package above one that ``name`` is not inside (inside it, the package is already loading).
    A package named itself (``from .. import x``, ``import sim``) stays an edge: its namespace is read."""
    out = set()
    for i in imported:
        parts = i.split(".")
        for k in range(1, len(parts)):
            above = ".".join(parts[:k])
            if above in mods and not name.startswith(above + "."):
                out.add(above)
        if i in mods:
            out.add(i)
    out.discard(name)
    return out


def graph(package: str, root: Path | None = None) -> dict[str, set[str]]:
    """Module -> the project's modules importing it runs (only modules of ``package``), ``__init__``
    files included (see :func:`edges`); ``root`` is the project's folder (default: this project)."""
    root = ROOT if root is None else root
    mods = {module_name(p, root): p for p in (root / package).rglob("*.py")}
    g = {name: edges(name, imports_of(path, name), set(mods)) for name, path in mods.items()}
    for name, pkg in DYNAMIC_IMPORTS.items():
        if name in g:
            g[name] |= {m for m in mods if m.startswith(pkg + ".") and m != name}
    return g


def cycle(g: dict[str, set[str]]) -> list[str] | None:
    """The first import cycle of ``g`` (``[a, b, ..., a]``), or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for d in sorted(g.get(m, ())):
            if state.get(d) == 1:
                return path[path.index(d):] + [d]
            if not state.get(d) and (found := visit(d)):
                return found
        path.pop()
        state[m] = 2
        return None

    for m in sorted(g):
        if not state.get(m) and (found := visit(m)):
            return found
    return None


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
    found = cycle(graph(package))
    assert found is None, "import cycle: " + " -> ".join(found)


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    return tmp_path


#: The shape of the model's package: ``sim/__init__`` imports the parameters, which import the
#: channel registry, which (through ``sim/support/__init__``) imports the channels' base.
_PACKAGE = {
    "sim/__init__.py": "from .params import ParameterError\n",
    "sim/params.py": "from .fields import count\nfrom .support.registry import CHANNEL_TYPES\n",
    "sim/fields.py": "",
    "sim/retention.py": "from .fields import count\n",
    "sim/support/__init__.py": "from .base import SupportChannel\nfrom .registry import CHANNEL_TYPES\n",
    "sim/support/registry.py": "from .base import SupportChannel\n",
    "sim/support/base.py": "from ..retention import reinforce\n",
    "sim/support/booster.py": "from ..fields import count\nfrom .base import SupportChannel\n",
}


def test_the_cycle_check_sees_a_loop_through_package_init_files(tmp_path):
    """The loop of issue 23: ``from .. import retention`` in base.py re-enters ``sim/__init__.py``
    while it is importing ``sim.params``; so does a channel reading ``ParameterError`` from the
    package, or from ``sim.params`` (the registry imports every channel module)."""
    assert cycle(graph("sim", _tree(tmp_path / "ok", _PACKAGE))) is None
    loop = cycle(graph("sim", _tree(tmp_path / "loop", {**_PACKAGE, "sim/support/base.py": "from .. import retention\n"})))
    assert loop and loop[0] == loop[-1] and {"sim", "sim.params", "sim.support.base"} <= set(loop), loop
    bad = {**_PACKAGE, "sim/support/booster.py": "from .. import ParameterError\n"}
    assert cycle(graph("sim", _tree(tmp_path / "pkg", bad))) is not None
    bad = {**_PACKAGE, "sim/support/booster.py": "from ..params import ParameterError\n"}
    assert cycle(graph("sim", _tree(tmp_path / "params", bad))) is not None


def test_a_module_inside_a_package_may_import_its_siblings_by_name(tmp_path):
    """``from .fields import x`` inside ``sim`` does not re-run ``sim/__init__.py`` (it is already
    loading): not an edge to ``sim``, so the ordinary layout has no cycle."""
    g = graph("sim", _tree(tmp_path, _PACKAGE))
    assert "sim" not in g["sim.params"] and "sim.support" in g["sim.params"]
    assert "sim.support.booster" in g["sim.support.registry"]  # found by name at run time
