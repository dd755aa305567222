"""What the three document formats (sequence, scoring model, routing) share.

One error class with its list of problems, the rules every text obeys (no control
characters, locale codes), "did you mean" hints for misspelt keys, and the mapping
from a problem's path (``stages[1].questions[0].type``) to the YAML line it is on,
so a marketer can jump to it. Plain Python: profiling/ and scoring/ both build on it,
and it builds on nothing of theirs.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import yaml

#: Keys of stages, questions, fields, rules and lists: safe in URLs, CSS classes and column names.
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
LOCALE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
#: Control characters (other than tab and newline) do not survive a YAML round trip and
#: never belong in a label: one character class, for the loaders, the JSON Schema and forms/.
CONTROL_CHARACTERS = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
#: The safe loader, in C when PyYAML has libyaml (the same documents, several times faster).
YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: An error makes a document unusable; a warning (a missing translation) does not.
Severity = Literal["error", "warning"]


class ProblemsError(ValueError):
    """A document that cannot be used, with every problem found ("path: message"), in one pass."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def did_you_mean(key: object, known: Iterable[str]) -> str:
    """`` (did you mean 'label'?)`` for a key close to a known one, else nothing."""
    if not isinstance(key, str):
        return ""
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


#: More unknown keys than this in one place are not typos, and hinting each would cost time for nothing.
MAX_HINTS = 20


def missing_translations(texts: Iterable[tuple[str, Mapping[str, str]]]) -> list[str]:
    """``path: no "nb" translation`` for each text that lacks a locale the document uses elsewhere.

    A missing translation is not an error (the form falls back to the default locale), but
    a marketer who added Norwegian wants to hear which labels still show in English.
    """
    listed = [(path, mapping) for path, mapping in texts if mapping]
    used: list[str] = []
    for _, mapping in listed:
        used += [locale for locale in mapping if locale not in used]
    return [
        f'{path}: no "{locale}" translation' for path, mapping in listed for locale in used if locale not in mapping
    ]


_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [int(index) if index else name for name, index in _STEP.findall(path)]


_Index = dict[yaml.Node, dict[str, tuple[yaml.Node, yaml.Node]]]


def _line_of(root: yaml.Node, path: str, indexes: _Index) -> int | None:
    """The 1-based line of the deepest node ``path`` reaches (its parent's, for a missing key)."""
    steps = _steps(path)
    node, line, i = root, None, 0
    while i < len(steps):
        step = steps[i]
        if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node, i = node.value[step], i + 1
            line = node.start_mark.line + 1
        elif isinstance(node, yaml.MappingNode) and step == 0:
            i += 1  # a single condition written as a mapping is read as a list of one
        elif isinstance(node, yaml.MappingNode) and isinstance(step, str):
            found = _key_in(node, steps, i, indexes)
            if found is None:
                break
            key_node, node, i = found
            line = key_node.start_mark.line + 1
        else:
            break
    return line


def _key_in(
    node: yaml.MappingNode, steps: list[str | int], i: int, indexes: _Index
) -> tuple[yaml.Node, yaml.Node, int] | None:
    """The entry of ``node`` named by steps[i:j], longest first: a key may hold dots (acme.com).

    Each mapping is indexed once, so a document with thousands of problems stays linear.
    """
    index = indexes.get(node)
    if index is None:
        index = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                index.setdefault(key_node.value, (key_node, value_node))
        indexes[node] = index
    names = 0
    while i + names < len(steps) and isinstance(steps[i + names], str):
        names += 1
    for j in range(i + names, i, -1):
        entry = index.get(".".join(str(step) for step in steps[i:j]))
        if entry is not None:
            return entry[0], entry[1], j
    return None


@dataclass(frozen=True)
class DocumentProblem:
    """One problem of a document, in parts an editor can place: where, what, and how bad.

    ``path`` is empty for a problem of the whole document (not valid YAML, empty);
    ``line`` is 1-based, or None when the path does not reach the text. A warning
    (a missing translation) leaves the document usable; an error does not.
    """

    path: str
    line: int | None
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        """``line N: path: message``, the way the loaders and ``leadwheel ... validate`` print it."""
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"


def locate(text: str, problems: list[str], severity: Severity = "error") -> list[DocumentProblem]:
    """Split each "path: message" problem and find the line of ``text`` (YAML, or JSON) its path is on.

    Only called once a document has problems, so the second, line-tracking parse costs
    nothing on the happy path.
    """
    try:
        root = yaml.compose(text, Loader=YAML_LOADER)
    except yaml.YAMLError:
        root = None
    located: list[DocumentProblem] = []
    indexes: _Index = {}
    for problem in problems:
        path, separator, message = problem.partition(": ")
        if not separator or " " in path:
            located.append(DocumentProblem("", None, problem, severity))
            continue
        line = _line_of(root, path, indexes) if root is not None else None
        located.append(DocumentProblem(path, line, message, severity))
    return located


_LINED = re.compile(r"line (\d+): (.*)", re.DOTALL)


def parse_problem(problem: str, severity: Severity = "error") -> DocumentProblem:
    """A problem as a loader raised it (``line N: path: message``), back in its parts."""
    lined = _LINED.fullmatch(problem)
    line, rest = (int(lined[1]), lined[2]) if lined else (None, problem)
    path, separator, message = rest.partition(": ")
    if not separator or " " in path:
        return DocumentProblem("", line, rest, severity)
    return DocumentProblem(path, line, message, severity)


def loading_problems(
    load: Callable[[str], object], text: str, error: type[ProblemsError] = ProblemsError
) -> list[DocumentProblem]:
    """The problems ``load`` raises for ``text`` as parts (empty when it loads): what an editor marks."""
    try:
        load(text)
    except error as exc:
        return [parse_problem(problem) for problem in exc.problems]
    return []


def with_lines(text: str, problems: list[str]) -> list[str]:
    """Prefix each problem with ``line N:`` where ``text`` (YAML, or JSON) says where its path is."""
    return [str(problem) for problem in locate(text, problems)]
