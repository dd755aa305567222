"""The core packages build on each other one way: forms/ and scoring/ on profiling/, none on capture/.

A cycle (scoring/engine.py and scoring/model.py importing each other, as they once did)
makes the import order matter and the modules impossible to read alone; the direction is
the one docs/sequence-format.md describes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ("profiling", "forms", "scoring")
#: What each core package may import of the others (capture/, the shell, never).
ALLOWED = {"profiling": set(), "forms": {"profiling"}, "scoring": {"profiling"}}


def _runtime_imports(path: Path) -> set[str]:
    """The modules ``path`` imports when it runs: imports only for type checkers are left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(inner) for statement in node.body for inner in ast.walk(statement)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def _graph() -> dict[str, set[str]]:
    modules = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts): path
        for package in CORE
        for path in (ROOT / package).glob("*.py")
    }
    return {name: _runtime_imports(path) for name, path in modules.items()}


@pytest.mark.parametrize("package", CORE)
def test_a_core_package_imports_only_the_packages_it_builds_on(package: str) -> None:
    strays = {
        f"{module} imports {imported}"
        for module, imports in _graph().items()
        if module.split(".")[0] == package
        for imported in imports
        if imported.split(".")[0] in {*CORE, "capture"} - {package} - ALLOWED[package]
    }
    assert not strays


def test_no_core_modules_import_each_other_in_a_cycle() -> None:
    graph = _graph()
    edges = {module: {name for name in imports if name in graph} for module, imports in graph.items()}
    cycles = []
    for start in edges:
        stack, seen = [(start, [start])], set()
        while stack:
            module, trail = stack.pop()
            for imported in edges[module]:
                if imported == start:
                    cycles.append(" -> ".join([*trail, start]))
                elif imported not in seen:
                    seen.add(imported)
                    stack.append((imported, [*trail, imported]))
    assert not cycles
