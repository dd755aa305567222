"""The sequence editor's operations, as plain functions over the document the CLI imports.

A draft is that document (profiling/document.py's format), edited in place of YAML: each
operation takes it and returns a changed copy, and never checks more than it must to apply.
What the result means — a reference to a deleted question, a condition on a later one, a
missing translation — is the same parser's job (profiling.document.problems), so the editor
and ``leadwheel sequence validate`` can never disagree.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

import yaml

#: the languages the product speaks; a card says how many of them its texts have
LOCALES = ("en", "da", "nb", "ro")
TYPES = ("text", "textarea", "email", "tel", "number", "radio", "select", "multi-select", "checkbox", "consent")


class EditError(ValueError):
    """An operation that cannot apply: an unknown question or stage, a key already taken."""


class StageNotEmpty(EditError):
    """A stage that still has questions is not deleted with them: they are moved or deleted first."""


Document = dict[str, Any]


def _find(document: Document, key: str) -> tuple[list[Any], int]:
    for stage in document.get("stages", []):
        questions = stage.get("questions", [])
        for index, question in enumerate(questions):
            if question.get("key") == key:
                return questions, index
    raise EditError(f"no question '{key}'")


def question(document: Document, key: str) -> dict[str, Any]:
    questions, index = _find(document, key)
    return dict(questions[index])


def move(document: Document, key: str, where: str) -> Document:
    """Move a question ``up`` or ``down`` (across into the next stage at an edge), or to the ``top`` of its stage."""
    changed = copy.deepcopy(document)
    stages = changed.get("stages", [])
    questions, index = _find(changed, key)
    here = next(i for i, stage in enumerate(stages) if stage.get("questions") is questions)
    item = questions.pop(index)
    if where == "top":
        questions.insert(0, item)
    elif where == "up" and index > 0:
        questions.insert(index - 1, item)
    elif where == "up" and here > 0:
        stages[here - 1].setdefault("questions", []).append(item)
    elif where == "down" and index < len(questions):
        questions.insert(index + 1, item)
    elif where == "down" and here < len(stages) - 1:
        stages[here + 1].setdefault("questions", []).insert(0, item)
    else:
        questions.insert(index, item)  # already first (or last) of all: stays
    return changed


def delete(document: Document, key: str) -> Document:
    changed = copy.deepcopy(document)
    questions, index = _find(changed, key)
    questions.pop(index)
    return changed


def update(document: Document, key: str, changes: dict[str, Any]) -> Document:
    """Set a question's labels (by locale: an empty text removes it), required, skippable and freshness."""
    changed = copy.deepcopy(document)
    questions, index = _find(changed, key)
    item = questions[index]
    if "label" in changes:
        item["label"] = {locale: text for locale, text in changes["label"].items() if text}
    for name in ("required", "skippable"):
        if name in changes:
            flag = bool(changes[name])
            default = name == "skippable"  # a question may be skipped unless said otherwise
            if flag == default:
                item.pop(name, None)
            else:
                item[name] = flag
    if "freshness_days" in changes:
        if changes["freshness_days"]:
            item["freshness_days"] = int(changes["freshness_days"])
        else:
            item.pop("freshness_days", None)
    return changed


#: the tests a condition can make, as the document names them
OPERATORS = ("equals", "not_equals", "in", "not_in", "gte", "gt", "lte", "lt", "contains", "known")
#: a question's validators, by the document's key, and whether each is a whole number
VALIDATORS = {"min_length": True, "max_length": True, "min": False, "max": False, "pattern": None,
              "min_choices": True, "max_choices": True}  # fmt: skip


def earlier_fields(document: Document, key: str) -> list[str]:
    """The fields of the questions before ``key``: what its conditions may test."""
    fields: list[str] = []
    for stage in document.get("stages", []):
        for item in stage.get("questions", []):
            if item.get("key") == key:
                return fields
            field = item.get("field") or item.get("key")
            if field not in fields:
                fields.append(field)
    raise EditError(f"no question '{key}'")


def set_options(document: Document, key: str, options: list[dict[str, Any]]) -> Document:
    """Replace a question's options (value and labels by locale, in order); an empty value drops the row."""
    changed = copy.deepcopy(document)
    questions, index = _find(changed, key)
    kept = [
        {"value": o["value"], "label": {locale: text for locale, text in o["label"].items() if text}}
        for o in options
        if o.get("value")
    ]
    if kept:
        questions[index]["options"] = kept
    else:
        questions[index].pop("options", None)
    return changed


def set_conditions(document: Document, key: str, conditions: list[dict[str, str]], any_of: bool) -> Document:
    """Replace a question's conditions: (field, operator, value as typed), all of them or ``any_of``."""
    changed = copy.deepcopy(document)
    questions, index = _find(changed, key)
    item = questions[index]
    item.pop("when", None)
    item.pop("when_any", None)
    written = [{"field": c["field"], c["operator"]: _condition_value(c["operator"], c.get("value", ""))}
               for c in conditions if c.get("field") and c.get("operator") in OPERATORS]  # fmt: skip
    if written:
        item["when_any" if any_of and len(written) > 1 else "when"] = written
    return changed


def _condition_value(operator: str, typed: str) -> Any:
    """What a typed value means for its test: a list for in/not_in, a number for comparisons, true for known."""
    text = typed.strip()
    if operator == "known":
        return True
    if operator in ("in", "not_in"):
        return [part.strip() for part in text.split(",") if part.strip()]
    if operator in ("gte", "gt", "lte", "lt"):
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            return text  # the parser says what is wrong, on the card
        return int(number) if number.is_integer() else number
    return {"true": True, "false": False}.get(text.lower(), text)


def set_validators(document: Document, key: str, values: dict[str, Any]) -> Document:
    """Set (or, with None or empty, remove) a question's validators: lengths, bounds, pattern, choices."""
    changed = copy.deepcopy(document)
    questions, index = _find(changed, key)
    item = questions[index]
    for name in VALIDATORS:
        if name in values:
            if values[name] in (None, ""):
                item.pop(name, None)
            else:
                item[name] = values[name]
    return changed


def set_settings(document: Document, settings: dict[str, Any]) -> Document:
    """The per-visit settings at the top of the sequence."""
    changed = copy.deepcopy(document)
    changed.setdefault("settings", {}).update(settings)
    return changed


def delete_stage(document: Document, key: str) -> Document:
    """Remove an empty stage (a stage with questions keeps them safe: move or delete them first)."""
    changed = copy.deepcopy(document)
    stages = changed.get("stages", [])
    stage = next((s for s in stages if s.get("key") == key), None)
    if stage is None:
        raise EditError(f"no stage '{key}'")
    if stage.get("questions"):
        raise StageNotEmpty(f"stage '{key}' still has questions")
    stages.remove(stage)
    return changed


def add_question(document: Document, stage_key: str, key: str, kind: str, label: str, locale: str) -> Document:
    """A new question at the end of a stage; options, if its type has them, are added on its card."""
    changed = copy.deepcopy(document)
    if any(q.get("key") == key for stage in changed.get("stages", []) for q in stage.get("questions", [])):
        raise EditError(f"a question '{key}' exists already")
    stage = next((s for s in changed.get("stages", []) if s.get("key") == stage_key), None)
    if stage is None:
        raise EditError(f"no stage '{stage_key}'")
    item: dict[str, Any] = {"key": key, "type": kind, "label": {locale: label}}
    if kind in ("radio", "select", "multi-select"):
        item["options"] = [{"value": "yes", "label": {locale: "Yes"}}, {"value": "no", "label": {locale: "No"}}]
    stage.setdefault("questions", []).append(item)
    return changed


def add_stage(document: Document, key: str, label: str, locale: str) -> Document:
    changed = copy.deepcopy(document)
    if any(stage.get("key") == key for stage in changed.get("stages", [])):
        raise EditError(f"a stage '{key}' exists already")
    changed.setdefault("stages", []).append({"key": key, "label": {locale: label}, "questions": []})
    return changed


def coverage(item: dict[str, Any]) -> int:
    """How many of the product's languages a question's texts (label, help, options) all have."""
    texts = [item.get("label") or {}] + ([item["help"]] if item.get("help") else [])
    texts += [option.get("label") or {} for option in item.get("options", [])]
    return sum(1 for locale in LOCALES if all(locale in text for text in texts))


def texts(document: Document) -> list[tuple[str, dict[str, str]]]:
    """Every translatable text of the document, by a path a translator's file can name it with."""
    found: list[tuple[str, dict[str, str]]] = []
    if document.get("thank_you"):
        found.append(("thank_you", dict(document["thank_you"])))
    for stage in document.get("stages", []):
        found.append((f"stage:{stage.get('key')}", dict(stage.get("label") or {})))
        for item in stage.get("questions", []):
            key = item.get("key")
            found.append((f"question:{key}", dict(item.get("label") or {})))
            if item.get("help"):
                found.append((f"help:{key}", dict(item["help"])))
            for option in item.get("options", []):
                found.append((f"option:{key}:{option.get('value')}", dict(option.get("label") or {})))
    return found


def set_texts(document: Document, rows: dict[str, dict[str, str]]) -> tuple[Document, list[str]]:
    """The document with the texts of ``rows`` (by path, by locale; an empty cell leaves the text as it was),
    and the paths it does not have."""
    changed = copy.deepcopy(document)
    holders: dict[str, dict[str, str]] = {}
    if changed.get("thank_you"):
        holders["thank_you"] = changed["thank_you"]
    for stage in changed.get("stages", []):
        holders[f"stage:{stage.get('key')}"] = stage.setdefault("label", {})
        for item in stage.get("questions", []):
            key = item.get("key")
            holders[f"question:{key}"] = item.setdefault("label", {})
            if item.get("help"):
                holders[f"help:{key}"] = item["help"]
            for option in item.get("options", []):
                holders[f"option:{key}:{option.get('value')}"] = option.setdefault("label", {})
    unknown = [path for path in rows if path not in holders]
    for path, cells in rows.items():
        if path in holders:
            holders[path].update({locale: text for locale, text in cells.items() if locale in LOCALES and text})
    return changed, unknown


def shared_fields(document: Document) -> dict[str, list[str]]:
    """By question key, the other questions that fill the same field.

    Allowed (a B2B and a B2C wording of one question, each with its condition), but worth a look:
    both could apply to one visitor, and the later answer replaces the earlier.
    """
    by_field: dict[str, list[str]] = {}
    for stage in document.get("stages", []):
        for item in stage.get("questions", []):
            by_field.setdefault(item.get("field") or item.get("key"), []).append(item.get("key"))
    return {
        key: [other for other in keys if other != key] for keys in by_field.values() if len(keys) > 1 for key in keys
    }


def as_yaml(document: Document) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def diff(live: Document | None, draft: Document) -> list[str]:
    """The draft against the live version, line by line as YAML (what a reviewer reads)."""
    before = as_yaml(live).splitlines() if live is not None else []
    return list(difflib.unified_diff(before, as_yaml(draft).splitlines(), "live", "draft", lineterm="", n=2))
