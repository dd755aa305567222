"""Sequence documents: the YAML/JSON form marketers keep in git.

The format is declared once in :mod:`profiling.schema` (the published JSON Schema and the
keys allowed at each level come from there). ``load`` turns a plain mapping into a
:class:`Sequence` and collects *every* problem with a path
(``stages[1].questions[0].type: ...``) so a marketer fixes a file in one pass instead of
one error per import; ``loads`` adds the YAML line of each, and ``check`` the texts that
lack a translation. ``dump`` is its inverse: ``load(dump(s)) == s`` for every valid sequence.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml
from pydantic import ValidationError

from profiling.schema import (
    FORMAT,
    MAX_FRESHNESS_DAYS,
    MAX_OPTIONS,
    MAX_PATTERN,
    MAX_QUESTIONS,
    MAX_STAGES,
    MAX_TEXT,
    ConditionDocument,
    QuestionDocument,
    SequenceDocument,
)
from profiling.schema_support import (
    CONTROL,
    KEY_PATTERN,
    LOCALE_PATTERN,
    YAML_LOADER,
    DocumentProblem,
    ProblemsError,
    locate,
    missing_translations,
    with_lines,
)
from profiling.schema_types import MAX_NUMBER, problems_of
from profiling.sequence import (
    Condition,
    Consent,
    Operator,
    Option,
    Question,
    QuestionType,
    Rules,
    Sequence,
    Settings,
    Stage,
)

#: the rules of a question as a document names them, and as :class:`Rules` does
_RULE_KEYS = {
    "required": "required",
    "min_length": "min_length",
    "max_length": "max_length",
    "min": "min_value",
    "max": "max_value",
    "pattern": "pattern",
    "min_choices": "min_choices",
    "max_choices": "max_choices",
}

__all__ = [  # the limits and patterns others read from here, though declared in profiling.schema
    "CONTROL",
    "KEY_PATTERN",
    "LOCALE_PATTERN",
    "MAX_FRESHNESS_DAYS",
    "MAX_NUMBER",
    "MAX_OPTIONS",
    "MAX_PATTERN",
    "MAX_QUESTIONS",
    "MAX_STAGES",
    "MAX_TEXT",
    "FORMAT",
    "DocumentError",
    "parse_text",
    "load",
    "loads",
    "check",
    "translation_warnings",
    "problems",
    "DocumentProblem",
    "dump",
    "dumps",
]


class DocumentError(ProblemsError):
    """A sequence document that cannot be used, with every problem found."""


def parse_text(text: str, filename: str = "") -> Any:
    """Read YAML or JSON text (JSON is valid YAML, but its errors are clearer)."""
    try:
        if filename.endswith(".json"):
            return json.loads(text)
        return yaml.load(text, Loader=YAML_LOADER)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise DocumentError([f"not valid {'JSON' if filename.endswith('.json') else 'YAML'}: {exc}"]) from exc


def loads(text: str, filename: str = "") -> Sequence:
    """Read a sequence from YAML or JSON text; each problem names the line it is on."""
    raw = parse_text(text, filename)
    try:
        return load(raw)
    except DocumentError as exc:
        raise DocumentError(with_lines(text, exc.problems)) from None


def check(text: str, filename: str = "") -> tuple[Sequence, list[str]]:
    """``loads``, and the warnings a marketer should see (texts missing a translation)."""
    sequence = loads(text, filename)
    return sequence, with_lines(text, translation_warnings(sequence))


def problems(text: str, filename: str = "") -> list[DocumentProblem]:
    """Every problem of a sequence document's text, each with its path, line and severity.

    What an editor needs to mark a document as it is typed: the errors that stop it
    loading, or, once it loads, the warnings (missing translations) ``check`` gives.
    Never raises for a bad document.
    """
    try:
        raw = parse_text(text, filename)
        sequence = load(raw)
    except DocumentError as exc:
        return locate(text, exc.problems)
    return locate(text, translation_warnings(sequence), "warning")


def translation_warnings(sequence: Sequence) -> list[str]:
    """``stages[0].questions[2].label: no "nb" translation``, for each locale the sequence uses elsewhere.

    Options without a label of their own show their value, which needs no translation.
    """
    texts: list[tuple[str, Mapping[str, str]]] = [("thank_you", sequence.thank_you)]
    for i, stage in enumerate(sequence.stages):
        texts.append((f"stages[{i}].label", stage.labels))
        for j, question in enumerate(stage.questions):
            path = f"stages[{i}].questions[{j}]"
            texts += [(f"{path}.label", question.labels), (f"{path}.help", question.help)]
            texts += [
                (f"{path}.options[{k}].label", option.labels)
                for k, option in enumerate(question.options)
                if dict(option.labels) != {sequence.default_locale: option.value}
            ]
    return missing_translations(texts)


def dumps(sequence: Sequence, fmt: str = "yaml") -> str:
    document = dump(sequence)
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def load(raw: Any) -> Sequence:
    """Validate a raw document with its declaration (:class:`SequenceDocument`) and build the sequence."""
    if isinstance(raw, Mapping) and not raw:
        raise DocumentError(["the document is empty"])
    try:
        checked = SequenceDocument.check(raw) if isinstance(raw, Mapping) else SequenceDocument.model_validate(raw)
    except ValidationError as exc:
        raise DocumentError(problems_of(exc)) from None
    settings = checked.settings
    return Sequence(
        name=checked.name.strip(),
        default_locale=checked.default_locale,
        stages=tuple(
            Stage(
                key=stage.key,
                labels=stage.label,
                questions=tuple(_question(q, checked.default_locale) for q in stage.questions),
            )
            for stage in checked.stages
        ),
        settings=Settings(**{key: getattr(settings, key) for key in settings.model_fields_set}),
        thank_you=checked.thank_you or {},
        description=checked.description,
    )


def _question(question: QuestionDocument, default_locale: str) -> Question:
    qtype = QuestionType(question.type)
    written, conditions = question.conditions
    return Question(
        key=question.key,
        field=question.asks,
        type=qtype,
        labels=question.label,
        help=question.help or {},
        options=tuple(
            Option(value=option.value, labels=option.label or {default_locale: option.value})
            for option in question.options or ()
        ),
        rules=Rules(
            **{attribute: _as_read(getattr(question, key), attribute) for key, attribute in _RULE_KEYS.items()}
        ),
        conditions=tuple(_condition(condition) for condition in conditions),
        freshness_days=question.freshness_days,
        consent=Consent(question.label, question.consent_version) if question.consent_version is not None else None,
        skippable=question.skippable,
        any_condition=written == "when_any" and bool(conditions),
    )


def _condition(condition: ConditionDocument) -> Condition:
    value = condition.value
    if condition.operator in (Operator.GT, Operator.GTE, Operator.LT, Operator.LTE):
        value = float(value)  # compared as a number, and written back as one
    return Condition(field=condition.field, operator=condition.operator, value=value)


def _as_read(value: Any, attribute: str) -> Any:
    """min and max are read as floats (a whole number is written back without its point)."""
    return float(value) if attribute in ("min_value", "max_value") and value is not None else value


def dump(sequence: Sequence) -> dict[str, Any]:
    """The document for ``sequence``, in the same shape :func:`load` reads."""
    return {
        "format": FORMAT,
        "name": sequence.name,
        **({"description": sequence.description} if sequence.description else {}),
        "default_locale": sequence.default_locale,
        "settings": {
            "questions_per_visit": sequence.settings.questions_per_visit,
            "email_first": sequence.settings.email_first,
            "snooze_visits": sequence.settings.snooze_visits,
            "max_reasks": sequence.settings.max_reasks,
            "more_on_request": sequence.settings.more_on_request,
        },
        **({"thank_you": dict(sequence.thank_you)} if sequence.thank_you else {}),
        "stages": [
            {
                "key": stage.key,
                "label": dict(stage.labels),
                "questions": [_dump_question(question) for question in stage.questions],
            }
            for stage in sequence.stages
        ],
    }


def _dump_question(question: Question) -> dict[str, Any]:
    doc: dict[str, Any] = {"key": question.key}
    if question.field != question.key:
        doc["field"] = question.field
    doc["type"] = question.type.value
    doc["label"] = dict(question.labels)
    if question.help:
        doc["help"] = dict(question.help)
    for key, attribute in _RULE_KEYS.items():
        value = getattr(question.rules, attribute)
        if value is None or value is False:
            continue
        doc[key] = int(value) if isinstance(value, float) and value.is_integer() else value
    if question.options:
        doc["options"] = [{"value": o.value, "label": dict(o.labels)} for o in question.options]
    if question.conditions:
        written = [{"field": c.field, c.operator.value: c.value} for c in question.conditions]
        doc["when_any" if question.any_condition else "when"] = written
    if question.freshness_days is not None:
        doc["freshness_days"] = question.freshness_days
    if question.consent is not None:
        doc["consent_version"] = question.consent.version
    if not question.skippable:
        doc["skippable"] = False
    return doc
