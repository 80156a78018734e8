"""Each name says one thing: no two modules of the package define the same public name.

A class, function or constant defined at the top of two modules either means two things
(rename one) or is the same knowledge copied (keep one owner and import it). Read from the
source with `ast`, like tests/test_imports.py.
"""
from __future__ import annotations

import ast
from collections import defaultdict

from test_imports import module_files

# Names that say the same kind of thing wherever they stand.
CONVENTIONS = {"main", "T"}
# Names left for another branch, each with why. The test fails when one is resolved too, so
# that this list only shrinks.
KNOWN: dict[str, str] = {}  # a name defined twice on purpose, with why (none now)


def public_definitions() -> dict[str, list[str]]:
    """Top-level public classes, functions and constants -> the modules that define them."""
    where: dict[str, list[str]] = defaultdict(list)
    for module, path in module_files().items():
        if ".migrations." in module:
            continue  # Alembic's revisions all define `upgrade`/`downgrade` by contract
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names = [node.target.id]
            else:
                continue
            where.update({n: [*where[n], module] for n in names if not n.startswith("_") and n != "log"})
    return where


def test_no_public_name_is_defined_in_two_modules() -> None:
    twice = {name: modules for name, modules in public_definitions().items()
             if len(modules) > 1 and name not in CONVENTIONS}
    new = {name: modules for name, modules in twice.items() if name not in KNOWN}
    assert not new, "defined in two modules (rename one, or import it from one owner):\n" + "\n".join(
        f"  {name}: {', '.join(modules)}" for name, modules in sorted(new.items()))
    assert set(KNOWN) <= set(twice), f"resolved since: remove them from KNOWN: {set(KNOWN) - set(twice)}"
