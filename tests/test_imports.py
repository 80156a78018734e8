"""No import circle in the `intake` package, hidden or not.

The graph is built from the source with `ast`, not by importing: every `import` and
`from ... import` counts wherever it stands, at the top of a module or inside a function
(a function-level import hides a circle from Python's import machinery, not from the
reader). Imports under `if TYPE_CHECKING:` are left out: they never run, so they cannot
make a runtime circle, and annotations may name a type from the module that uses them.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The installed package's folders (pyproject.toml's package-dir).
FOLDERS = {"processor": "intake.processor", "parsers": "intake.parsers", "store": "intake.store",
           "templates": "intake.templates"}

Graph = dict[str, set[str]]

# Circles left for another branch to break, each with why. The test fails when one is gone
# too, so that this list only shrinks.
KNOWN: dict[tuple[str, ...], str] = {}


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its `__init__`)."""
    modules: dict[str, Path] = {}
    for folder, package in FOLDERS.items():
        for path in sorted((root / folder).rglob("*.py")):
            parts = list(path.relative_to(root / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([package, *parts])] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in the tree, at any depth, except under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _runtime_imports(ast.Module(body=[child], type_ignores=[]))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _runtime_imports(node)


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> Iterator[str]:
    """The package's modules an import statement runs: `from a import b` runs `a.b` when it is a
    module, else `a` (b is a name defined there)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                yield name
        return
    base = node.module or ""
    if node.level:
        anchor = module if is_package else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            anchor = anchor.rpartition(".")[0]
        base = f"{anchor}.{base}" if base else anchor
    for alias in node.names:
        if f"{base}.{alias.name}" in known:
            yield f"{base}.{alias.name}"
        elif base in known:
            yield base


def import_graph(root: Path = ROOT) -> Graph:
    files = module_files(root)
    known = set(files)
    graph: Graph = {name: set() for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _runtime_imports(tree):
            graph[name].update(t for t in _targets(node, name, path.name == "__init__.py", known) if t != name)
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """One circle through each strongly connected group of modules (Tarjan), shortest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(v: str) -> None:  # recursion depth is bounded by the package's ~200 modules
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted((_circle_in(graph, g) for g in groups), key=lambda c: (len(c), c))


def _circle_in(graph: Graph, group: set[str]) -> list[str]:
    """The shortest circle through the group's first module (breadth-first inside the group)."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(graph[v] & group):
                if w == start:
                    return [*paths[v], start]
                if w not in paths:
                    paths[w] = [*paths[v], w]
                    following.append(w)
        frontier = following
    raise AssertionError(f"no circle in a strongly connected group: {sorted(group)}")


def test_the_package_has_no_import_circle() -> None:
    found = [tuple(c) for c in cycles(import_graph())]
    new = [c for c in found if c not in KNOWN]
    assert not new, "import circles (function-level imports count):\n" + "\n".join(
        "  " + " -> ".join(c) for c in new)
    assert set(KNOWN) <= set(found), f"circles broken since: remove them from KNOWN: {set(KNOWN) - set(found)}"


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The checker itself: a circle through a function-level relative import is found and named;
    one through TYPE_CHECKING is not."""
    for folder in FOLDERS:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "parsers" / "a.py").write_text("from intake.parsers.b import x\n")
    (tmp_path / "parsers" / "b.py").write_text("def x():\n    from .a import y\n")
    (tmp_path / "store" / "c.py").write_text("import typing\nif typing.TYPE_CHECKING:\n    import intake.store.d\n")
    (tmp_path / "store" / "d.py").write_text("from intake.store import c\n")
    assert cycles(import_graph(tmp_path)) == [["intake.parsers.a", "intake.parsers.b", "intake.parsers.a"]]


@pytest.mark.parametrize(("statement", "expected"), [
    ("from intake.store import db", {"intake.store.db"}),
    ("from intake.store.db import Database", {"intake.store.db"}),
    ("import intake.store.db.nothing", {"intake.store.db"}),
    ("from . import db", {"intake.store.db"}),
    ("from .. import parsers", {"intake.parsers"}),
    ("from intake.store import NotAModule", {"intake.store"}),
])
def test_an_import_names_the_module_it_runs(statement: str, expected: set[str]) -> None:
    known = {"intake.store", "intake.store.db", "intake.store.repository", "intake.parsers"}
    node = ast.parse(statement).body[0]
    assert isinstance(node, ast.Import | ast.ImportFrom)
    assert set(_targets(node, "intake.store.repository", False, known)) == expected


def test_every_package_folder_is_installed() -> None:
    """pyproject.toml lists the packages by name: a new folder left out works from the source tree and in
    the editable install, yet is missing from a real install (the contract check's `pip install .`)."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    folders = {name for name, path in module_files().items() if path.name == "__init__.py"}
    assert folders - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
