"""The functional core's shape: plain Python, one-way dependencies, no import cycle.

forms/ builds on profiling/'s questions; scoring/ reads profiling/'s conditions; profiling/ builds on
neither; none of them knows the shell (capture/), Flask or a database.
"""

from __future__ import annotations

import ast
from functools import cache

from tests.conftest import ROOT

CORE = ("profiling", "forms", "scoring")
#: what each core package may import of the others
ALLOWED = {"profiling": set(), "forms": {"profiling"}, "scoring": {"profiling"}}
SHELL = ("capture", "flask", "sqlalchemy", "werkzeug", "alembic", "psycopg")


@cache
def imports() -> dict[str, set[str]]:
    """Each core module and the modules it imports (type-only imports included: they are dependencies too)."""
    graph: dict[str, set[str]] = {}
    for package in CORE:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found.add(node.module)
                elif isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
            graph[module] = found
    return graph


def test_the_core_knows_nothing_of_the_shell() -> None:
    graph = imports()
    assert len(graph) > 15
    leaks = sorted((module, name) for module, names in graph.items() for name in names if name.split(".")[0] in SHELL)
    assert leaks == []


def test_the_core_packages_depend_one_way() -> None:
    wrong = sorted(
        (module, name)
        for module, names in imports().items()
        for name in names
        if name.split(".")[0] in CORE
        and name.split(".")[0] != module.split(".")[0]
        and name.split(".")[0] not in ALLOWED[module.split(".")[0]]
    )
    assert wrong == []


def test_no_import_cycle_in_the_core() -> None:
    core = set(imports())
    graph = {module: {name for name in names if name in core} for module, names in imports().items()}
    seen: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        seen[module] = 1
        for name in sorted(graph[module]):
            assert seen.get(name) != 1, " -> ".join([*path, module, name])
            if name not in seen:
                visit(name, [*path, module])
        seen[module] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module, [])


def test_no_folder_of_the_shell_is_a_flat_pile() -> None:
    """A newcomer finds a behaviour by its domain word in one hop: no folder of capture/ holds more than a
    dozen modules (capture/ itself included)."""
    folders = [ROOT / "capture", *(path.parent for path in (ROOT / "capture").rglob("__init__.py"))]
    piles = {
        str(folder.relative_to(ROOT)): count
        for folder in set(folders)
        if (count := len([p for p in folder.glob("*.py") if p.name != "__init__.py"])) > 12
    }
    assert not piles, piles


#: the domain's own words: each names one class, so a reader never asks which ``Stage`` this is
DOMAIN_WORDS = ("Tally", "Stage", "Event", "Snooze", "Lead", "Answer", "Question", "Sequence", "Score", "Profile")


def test_each_domain_word_names_one_class() -> None:
    """A lifecycle stage is a ``LifecycleStage``, a sequence's stage a ``Stage``; a stored behaviour event a
    ``BehaviourEvent``, the one scoring reads an ``Event``."""
    places: dict[str, list[str]] = {}
    for package in (*CORE, "capture"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef) and node.name in DOMAIN_WORDS:
                    places.setdefault(node.name, []).append(str(path.relative_to(ROOT)))
    assert {word: where for word, where in places.items() if len(where) > 1} == {}
    assert {"Tally", "Stage", "Event", "Snooze"} <= places.keys()
