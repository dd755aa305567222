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
import re
from collections.abc import Mapping
from typing import Any

import yaml

from profiling.schema import (
    MAX_FRESHNESS_DAYS,
    MAX_OPTIONS,
    MAX_PATTERN,
    MAX_QUESTIONS,
    MAX_STAGES,
    MAX_TEXT,
    ConditionDocument,
    OptionDocument,
    QuestionDocument,
    SequenceDocument,
    SettingsDocument,
    StageDocument,
)
from profiling.schema_support import (
    CONTROL,
    KEY_PATTERN,
    LOCALE_PATTERN,
    YAML_LOADER,
    DocumentProblem,
    ProblemsError,
    Reader,
    did_you_mean,
    locate,
    missing_translations,
    with_lines,
)
from profiling.schema_types import MAX_NUMBER
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

FORMAT = "leadwheel/sequence@1"

_RULE_KEYS = {
    "required": ("required", bool),
    "min_length": ("min_length", int),
    "max_length": ("max_length", int),
    "min": ("min_value", float),
    "max": ("max_value", float),
    "pattern": ("pattern", str),
    "min_choices": ("min_choices", int),
    "max_choices": ("max_choices", int),
}
_SETTING_KEYS: dict[str, type] = {
    "questions_per_visit": int,
    "email_first": bool,
    "snooze_visits": int,
    "max_reasks": int,
    "more_on_request": bool,
}
_QUESTION_KEYS = QuestionDocument.keys()
assert set(_SETTING_KEYS) == SettingsDocument.keys() and set(_RULE_KEYS) <= _QUESTION_KEYS
_OPTION_KEYS = OptionDocument.keys()
_STAGE_KEYS = StageDocument.keys()
_TOP_KEYS = SequenceDocument.keys()
_TESTS = ConditionDocument.keys() - {"field"}
assert _TESTS == {op.value for op in Operator}

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


class _Reader(Reader):
    """The shared checks, and the sequence format's texts (per locale) and numbers."""

    def problems_under(self, path: str) -> bool:
        return any(p.startswith(f"{path}.") or p.startswith(f"{path}:") for p in self.problems)

    def texts(self, raw: Any, path: str, default_locale: str, *, required: bool) -> dict[str, str]:
        if raw is None:
            if required:
                self.problem(path, "is required")
            return {}
        if isinstance(raw, str):
            raw = {default_locale: raw}
        if not isinstance(raw, Mapping):
            self.problem(path, "must be a text or a mapping of locale to text")
            return {}
        texts: dict[str, str] = {}
        for locale, text in raw.items():
            if not isinstance(locale, str) or not LOCALE_PATTERN.match(locale):
                self.problem(f"{path}.{locale}", "is not a locale code such as en, da, nb or ro")
            elif not isinstance(text, str) or not text.strip():
                self.problem(f"{path}.{locale}", "must be a non-empty text")
            elif len(text) > MAX_TEXT:
                self.problem(f"{path}.{locale}", f"is longer than {MAX_TEXT} characters")
            elif CONTROL.search(text):
                self.problem(f"{path}.{locale}", "contains a control character")
            else:
                texts[locale] = text
        if required and not texts and not self.problems_under(path):
            self.problem(path, "is required")
        elif required and texts and default_locale not in texts:
            self.problem(path, f"needs a text in the default locale '{default_locale}'")
        return texts

    def number(self, raw: Any, path: str, kind: type) -> Any:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            self.problem(path, "must be a number")
            return None
        if not -MAX_NUMBER <= raw <= MAX_NUMBER:
            self.problem(path, f"is out of range (at most {MAX_NUMBER:.0e} either way)")
            return None
        if kind is int and not float(raw).is_integer():
            self.problem(path, "must be a whole number")
            return None
        return kind(raw)


def load(raw: Any) -> Sequence:
    """Validate a raw document and build the sequence it describes."""
    reader = _Reader()
    doc = reader.mapping(raw, "")
    if not doc:
        raise DocumentError(reader.problems or ["the document is empty"])
    if doc.get("format", FORMAT) != FORMAT:
        reader.problem("format", f"must be '{FORMAT}'")
    default_locale = doc.get("default_locale", "en")
    if not isinstance(default_locale, str) or not LOCALE_PATTERN.match(default_locale):
        reader.problem("default_locale", "is not a locale code")
        default_locale = "en"
    name = doc.get("name", "")
    if not isinstance(name, str) or not name.strip():
        reader.problem("name", "is required")
    description = doc.get("description", "")
    if not isinstance(description, str):
        reader.problem("description", "must be a text")
        description = ""
    settings = _settings(reader, doc.get("settings", {}))
    thank_you = reader.texts(doc.get("thank_you"), "thank_you", default_locale, required=False)
    stages = _stages(reader, doc.get("stages"), default_locale)
    reader.unknown(doc, _TOP_KEYS, "", "setting")
    if reader.problems:
        raise DocumentError(reader.problems)
    return Sequence(
        name=name.strip(),
        default_locale=default_locale,
        stages=stages,
        settings=settings,
        thank_you=thank_you,
        description=description,
    )


def _settings(reader: _Reader, raw: Any) -> Settings:
    values: dict[str, Any] = {}
    for key, value in reader.mapping(raw, "settings").items():
        kind = _SETTING_KEYS.get(key)
        if kind is None:
            reader.problem(f"settings.{key}", "is not a known setting" + did_you_mean(key, _SETTING_KEYS))
        elif kind is bool:
            values[key] = reader.flag(value, f"settings.{key}")
        else:
            number = reader.number(value, f"settings.{key}", int)
            if number is not None and number < (1 if key == "questions_per_visit" else 0):
                reader.problem(f"settings.{key}", "is too small")
            elif number is not None and number > 50:
                reader.problem(f"settings.{key}", "is too large (at most 50)")
            else:
                values[key] = number
    return Settings(**values)


def _stages(reader: _Reader, raw: Any, default_locale: str) -> tuple[Stage, ...]:
    items = reader.items(raw, "stages")
    if raw is not None and isinstance(raw, list) and not items:
        reader.problem("stages", "needs at least one stage")
    if len(items) > MAX_STAGES:
        reader.problem("stages", f"at most {MAX_STAGES} stages")
    stages: list[Stage] = []
    stage_keys: set[str] = set()
    question_keys: set[str] = set()
    #: the first question asking each field so far: conditions may only look back
    asked_before: dict[str, Question] = {}
    count = 0
    for i, item in enumerate(items):
        path = f"stages[{i}]"
        stage = reader.mapping(item, path)
        key = reader.key(stage.get("key"), f"{path}.key")
        if key in stage_keys:
            reader.problem(f"{path}.key", f"'{key}' is used by another stage")
        stage_keys.add(key)
        labels = reader.texts(stage.get("label"), f"{path}.label", default_locale, required=True)
        questions: list[Question] = []
        raw_questions = reader.items(stage.get("questions"), f"{path}.questions")
        for j, raw_question in enumerate(raw_questions):
            qpath = f"{path}.questions[{j}]"
            question = _question(reader, raw_question, qpath, default_locale)
            if question is None:
                continue
            if question.key in question_keys:
                reader.problem(f"{qpath}.key", f"'{question.key}' is used by another question")
            question_keys.add(question.key)
            when = "when_any" if question.any_condition else "when"
            _check_conditions_look_back(reader, question, f"{qpath}.{when}", asked_before)
            asked_before.setdefault(question.field, question)
            questions.append(question)
        count += len(raw_questions)
        reader.unknown(stage, _STAGE_KEYS, path, "stage setting")
        stages.append(Stage(key=key, labels=labels, questions=tuple(questions)))
    if count > MAX_QUESTIONS:
        reader.problem("stages", f"at most {MAX_QUESTIONS} questions in a sequence")
    if items and not count:
        reader.problem("stages", "needs at least one question")
    return tuple(stages)


_NUMERIC = (Operator.GT, Operator.GTE, Operator.LT, Operator.LTE)


def _check_conditions_look_back(
    reader: _Reader, question: Question, path: str, asked_before: Mapping[str, Question]
) -> None:
    """A condition must name a field asked *earlier*, and test it with a value that field can have.

    A typo in a field name, or ``equals: enterprise`` on a select without that
    option, would otherwise make the question silently never apply.
    """
    for i, condition in enumerate(question.conditions):
        cpath = f"{path}[{i}]"
        source = asked_before.get(condition.field)
        if source is None:
            reader.problem(f"{cpath}.field", f"'{condition.field}' is not asked by any earlier question")
            continue
        op = condition.operator
        test_path = f"{cpath}.{op.value}"
        if op in _NUMERIC and source.type is not QuestionType.NUMBER:
            reader.problem(test_path, f"compares numbers, but '{condition.field}' is a {source.type.value} question")
        elif op is Operator.CONTAINS and source.type is not QuestionType.MULTI_SELECT:
            reader.problem(test_path, f"applies to multi-select questions, not {source.type.value}")
        elif source.options and op is not Operator.KNOWN:
            wanted = condition.value if op in (Operator.IN, Operator.NOT_IN) else [condition.value]
            unknown = [value for value in wanted if value not in source.option_values]
            if unknown:
                offered = ", ".join(source.option_values)
                reader.problem(test_path, f"{unknown[0]!r} is not an option of '{condition.field}' ({offered})")


def _question(reader: _Reader, raw: Any, path: str, default_locale: str) -> Question | None:
    if isinstance(raw, Mapping) and not raw:
        reader.problem(path, "is empty: a question needs at least a key, a type and a label")
        return None
    doc = reader.mapping(raw, path)
    if not doc:
        return None
    key = reader.key(doc.get("key"), f"{path}.key")
    field_name = reader.key(doc.get("field", key), f"{path}.field")
    try:
        qtype = QuestionType(str(doc.get("type")))
    except ValueError:
        hint = did_you_mean(doc.get("type"), [t.value for t in QuestionType])
        reader.problem(f"{path}.type", "must be one of " + ", ".join(t.value for t in QuestionType) + hint)
        qtype = QuestionType.TEXT
    labels = reader.texts(doc.get("label"), f"{path}.label", default_locale, required=True)
    help_texts = reader.texts(doc.get("help"), f"{path}.help", default_locale, required=False)
    options = _options(reader, doc.get("options"), f"{path}.options", qtype, default_locale)
    rules = _rules(reader, doc, path, qtype)
    if options and rules.min_choices is not None and rules.min_choices > len(options):
        reader.problem(f"{path}.min_choices", f"is more than the {len(options)} options offered")
    any_condition = doc.get("when_any") is not None
    if any_condition and doc.get("when") is not None:
        reader.problem(f"{path}.when_any", "a question has when (all must hold) or when_any (one is enough), not both")
    when = "when_any" if any_condition else "when"
    if any_condition and not isinstance(doc["when_any"], list):
        reader.problem(f"{path}.when_any", "must be a list of conditions")
    conditions = _conditions(reader, doc.get(when), f"{path}.{when}", field_name)
    freshness = None
    if doc.get("freshness_days") is not None:
        freshness = reader.number(doc["freshness_days"], f"{path}.freshness_days", int)
        if freshness is not None and not 1 <= freshness <= MAX_FRESHNESS_DAYS:
            reader.problem(f"{path}.freshness_days", f"must be between 1 and {MAX_FRESHNESS_DAYS} days")
            freshness = None
    consent = None
    if qtype is QuestionType.CONSENT:
        version = doc.get("consent_version")
        if version is None:
            reader.problem(f"{path}.consent_version", "is required for a consent question")
        elif not isinstance(version, str) or not version.strip():
            reader.problem(f"{path}.consent_version", "must be a text; quote it in YAML, e.g. '2026-01-15'")
        else:
            consent = Consent(texts=labels, version=version)
    elif "consent_version" in doc:
        reader.problem(f"{path}.consent_version", "only a consent question has one")
    skippable = reader.flag(doc.get("skippable", True), f"{path}.skippable")
    reader.unknown(doc, _QUESTION_KEYS, path, "question setting")
    return Question(
        key=key,
        field=field_name,
        type=qtype,
        labels=labels,
        help=help_texts,
        options=options,
        rules=rules,
        conditions=conditions,
        freshness_days=freshness,
        consent=consent,
        skippable=skippable,
        any_condition=any_condition and bool(conditions),
    )


def _options(reader: _Reader, raw: Any, path: str, qtype: QuestionType, default_locale: str) -> tuple[Option, ...]:
    if not qtype.has_options:
        if raw is not None:
            reader.problem(path, f"a {qtype.value} question has no options")
        return ()
    items = reader.items(raw, path)
    if raw is not None and not items or raw is None:
        reader.problem(path, f"a {qtype.value} question needs at least one option")
    if len(items) > MAX_OPTIONS:
        reader.problem(path, f"at most {MAX_OPTIONS} options")
    options: list[Option] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        opath = f"{path}[{i}]"
        doc = reader.mapping(item, opath)
        reader.unknown(doc, _OPTION_KEYS, opath, "option key (value, label)")
        value = doc.get("value")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value or len(value) > 100:
            reader.problem(f"{opath}.value", "must be a short text")
            continue
        if value in seen:
            reader.problem(f"{opath}.value", f"'{value}' is listed twice")
        seen.add(value)
        labels = reader.texts(doc.get("label", value), f"{opath}.label", default_locale, required=True)
        options.append(Option(value=value, labels=labels))
    return tuple(options)


def _rules(reader: _Reader, doc: Mapping[str, Any], path: str, qtype: QuestionType) -> Rules:
    values: dict[str, Any] = {}
    for key, (attribute, kind) in _RULE_KEYS.items():
        if key not in doc:
            continue
        rpath = f"{path}.{key}"
        raw = doc[key]
        if kind is bool:
            values[attribute] = reader.flag(raw, rpath)
        elif kind is str:
            if not isinstance(raw, str):
                reader.problem(rpath, "must be a text")
                continue
            if len(raw) > MAX_PATTERN:
                reader.problem(rpath, f"is longer than {MAX_PATTERN} characters")
                continue
            try:
                re.compile(raw)
            except (re.error, OverflowError, RecursionError) as exc:
                reader.problem(rpath, f"is not a valid regular expression: {exc}")
                continue
            values[attribute] = raw
        else:
            number = reader.number(raw, rpath, kind)
            if number is not None and kind is int and number < 0:
                reader.problem(rpath, "must not be negative")
                continue
            values[attribute] = number
    rules = Rules(**values)
    _check_rule_fit(reader, rules, path, qtype)
    return rules


def _check_rule_fit(reader: _Reader, rules: Rules, path: str, qtype: QuestionType) -> None:
    """Reject validators that make no sense for the question type, or each other."""
    texty = qtype in (QuestionType.TEXT, QuestionType.TEXTAREA, QuestionType.EMAIL, QuestionType.TEL)
    if not texty and (rules.min_length is not None or rules.max_length is not None or rules.pattern):
        reader.problem(path, f"length and pattern checks apply to text questions, not {qtype.value}")
    if qtype is not QuestionType.NUMBER and (rules.min_value is not None or rules.max_value is not None):
        reader.problem(path, "min and max apply to number questions")
    if qtype is not QuestionType.MULTI_SELECT and (rules.min_choices is not None or rules.max_choices is not None):
        reader.problem(path, "min_choices and max_choices apply to multi-select questions")
    for low, high, what in (
        (rules.min_length, rules.max_length, "min_length is above max_length"),
        (rules.min_value, rules.max_value, "min is above max"),
        (rules.min_choices, rules.max_choices, "min_choices is above max_choices"),
    ):
        if low is not None and high is not None and low > high:
            reader.problem(path, what)


def _conditions(reader: _Reader, raw: Any, path: str, own_field: str) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if isinstance(raw, Mapping):
        raw = [raw]
    conditions: list[Condition] = []
    for i, item in enumerate(reader.items(raw, path)):
        cpath = f"{path}[{i}]"
        doc = reader.mapping(item, cpath)
        if isinstance(item, Mapping) and not item:
            reader.problem(cpath, "is empty: a condition needs a field and one test")
        if not doc:
            continue
        field_name = reader.key(doc.get("field"), f"{cpath}.field")
        if field_name == own_field:
            reader.problem(f"{cpath}.field", "a question cannot depend on its own answer")
        tests = [key for key in doc if key != "field"]
        if len(tests) != 1:
            reader.problem(cpath, "needs exactly one test: " + ", ".join(op.value for op in Operator))
            continue
        try:
            operator = Operator(tests[0])
        except ValueError:
            tests_named = ", ".join(op.value for op in Operator)
            reader.problem(f"{cpath}.{tests[0]}", f"is not a test: {tests_named}{did_you_mean(tests[0], _TESTS)}")
            continue
        value = doc[tests[0]]
        if operator in (Operator.IN, Operator.NOT_IN) and not isinstance(value, list):
            reader.problem(f"{cpath}.{operator.value}", "must be a list")
            continue
        if operator in (Operator.GT, Operator.GTE, Operator.LT, Operator.LTE):
            value = reader.number(value, f"{cpath}.{operator.value}", float)
            if value is None:
                continue
        if operator is Operator.KNOWN and value is not True:
            reader.problem(f"{cpath}.known", "must be true")
            continue
        conditions.append(Condition(field=field_name, operator=operator, value=value))
    return tuple(conditions)


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
    for key, (attribute, kind) in _RULE_KEYS.items():
        value = getattr(question.rules, attribute)
        if value is None or value is False:
            continue
        doc[key] = int(value) if kind is float and float(value).is_integer() else value
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
