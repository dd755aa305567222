"""Scoring model documents: the YAML/JSON form marketers keep in git, beside their sequences.

The format is declared once in :mod:`scoring.schema` (the published JSON Schema and the
keys allowed at each level come from there). ``parse_model`` turns a plain mapping into a
:class:`ScoringModel` and collects *every* problem with a path
(``engagement[2].half_life_days: ...``) so a marketer fixes a file in one pass;
``load_model`` adds the YAML line of each. ``model_document`` is its inverse and writes the
canonical form (every setting written out, whole numbers without a decimal
point): ``parse_model(model_document(m)) == m`` for every valid model, and
``checksum`` of that form tells whether a re-import changed anything.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from profiling.schema_support import (
    CONTROL,
    KEY_PATTERN,
    YAML_LOADER,
    DocumentProblem,
    ProblemsError,
    Reader,
    loading_problems,
    with_lines,
)
from profiling.sequence import Condition, Operator
from scoring.model import (
    BUILT_IN_LISTS,
    HAND_RAISE_EVENTS,
    Check,
    Criterion,
    Disqualifier,
    DomainList,
    EngagementRule,
    FitRule,
    MqlGate,
    ScoringModel,
    Segment,
    SqlGate,
    Thresholds,
    Weights,
    Window,
)
from scoring.schema import (
    EVENT,
    MAX_CONDITIONS,
    MAX_DAYS,
    MAX_DOMAINS,
    MAX_LABEL,
    MAX_LISTS,
    MAX_PATH,
    MAX_POINTS,
    MAX_PROPS,
    MAX_RULES,
    MAX_VALUES,
    MAX_WEIGHT,
    MAX_WINDOW_COUNT,
    DisqualifierDocument,
    EngagementRuleDocument,
    FitRuleDocument,
    ScoringModelDocument,
    SqlGateDocument,
)

FORMAT = "leadwheel/scoring@1"
#: Event types: the same shape the capture side accepts (``page_view``, ``crm:call``).
EVENT_PATTERN = re.compile(EVENT)
DOMAIN_PATTERN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
_TESTS = ("equals", "in", "min", "max", "mentions", "known")
_TOP_KEYS = ScoringModelDocument.keys()
_FIT_KEYS = FitRuleDocument.keys()
_DISQUALIFIER_KEYS = DisqualifierDocument.keys()
_ENGAGEMENT_KEYS = EngagementRuleDocument.keys()
_SQL_GATE_KEYS = ("min_fit", "any_known", "min_intent", "min_engagement", "hand_raises")
assert set(_SQL_GATE_KEYS) == SqlGateDocument.keys() and set(_TESTS) < _FIT_KEYS


class ModelError(ProblemsError):
    """A scoring model document that cannot be used, with every problem found ("path: message")."""


class _Reader(Reader):
    """The shared checks, and the scoring format's bounded numbers, labels and compared values."""

    def number(
        self, raw: Any, path: str, *, low: float, high: float, low_open: bool = False, whole: bool = False
    ) -> float | None:
        """A finite number within [low, high] (or (low, high] with ``low_open``), else a problem."""
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            self.problem(path, "must be a number")
            return None
        if not math.isfinite(raw):
            self.problem(path, "must be a finite number")
            return None
        if whole and not float(raw).is_integer():
            self.problem(path, "must be a whole number")
            return None
        if raw < low or (low_open and raw == low):
            self.problem(path, f"must be {'greater than' if low_open else 'at least'} {_show(low)}")
            return None
        if raw > high:
            self.problem(path, f"must be at most {_show(high)}")
            return None
        return float(raw)

    def text(self, raw: Any, path: str, *, limit: int = MAX_LABEL) -> str:
        if not isinstance(raw, str) or not raw.strip():
            self.problem(path, "must be a non-empty text")
            return ""
        if len(raw) > limit:
            self.problem(path, f"is longer than {limit} characters")
            return ""
        if CONTROL.search(raw):
            self.problem(path, "contains a control character")
            return ""
        return raw.strip()

    def scalar(self, raw: Any, path: str) -> Any:
        """A value a field or property can be compared with: a text, a number or true/false."""
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, (int, float)):
            return self.number(raw, path, low=-1e15, high=1e15)
        if isinstance(raw, str) and raw and len(raw) <= MAX_LABEL and not CONTROL.search(raw):
            return raw
        self.problem(path, "must be a short text, a number or true/false")
        return None


def parse_model(document: Mapping[str, Any]) -> ScoringModel:
    """Validate a raw document and build the model it describes, or raise ModelError with every problem."""
    reader = _Reader()
    if not isinstance(document, Mapping):
        raise ModelError(["the document must be a mapping (a YAML or JSON object)"])
    if not document:
        raise ModelError(["the document is empty"])
    doc = document
    if doc.get("format", FORMAT) != FORMAT:
        reader.problem("format", f"must be '{FORMAT}'")
    name = reader.text(doc["name"], "name") if "name" in doc else ""
    if "name" not in doc:
        reader.problem("name", "is required")
    description = doc.get("description", "")
    if not isinstance(description, str) or len(description) > 2000:
        reader.problem("description", "must be a text of at most 2000 characters")
        description = ""
    reader.unknown(doc, _TOP_KEYS, "", "top-level key")

    thresholds = _thresholds(reader, doc.get("thresholds", {}))
    hysteresis = 10.0
    if "hysteresis" in doc:
        hysteresis = reader.number(doc["hysteresis"], "hysteresis", low=0, high=100) or 0.0
    if hysteresis >= thresholds.mql:
        mql = _show(thresholds.mql)
        given = "must be" if "hysteresis" in doc else f"(default {_show(hysteresis)}) must be"
        reader.problem("hysteresis", f"{given} below thresholds.mql ({mql}): an MQL would never fall back")
    weights = _weights(reader, doc.get("weights", {}))
    domains = _domains(reader, doc.get("domains", {}))
    lists = {entry.name: entry.domains for entry in domains}

    ids: dict[str, str] = {}
    fit_items = enumerate(_rule_items(reader, doc, "fit"))
    fit = tuple(filter(None, (_fit_rule(reader, raw, f"fit[{i}]", lists, ids) for i, raw in fit_items)))
    intent_items = enumerate(_rule_items(reader, doc, "intent"))
    intent = tuple(filter(None, (_fit_rule(reader, raw, f"intent[{i}]", lists, ids) for i, raw in intent_items)))
    engagement_items = enumerate(_rule_items(reader, doc, "engagement"))
    engagement = tuple(
        filter(None, (_engagement_rule(reader, raw, f"engagement[{i}]", ids) for i, raw in engagement_items))
    )
    disqualifier_items = enumerate(_rule_items(reader, doc, "disqualifiers"))
    disqualifiers = tuple(
        filter(None, (_disqualifier(reader, raw, f"disqualifiers[{i}]", lists, ids) for i, raw in disqualifier_items))
    )
    if not (fit or intent or engagement) and not any(
        p.startswith(("fit", "intent", "engagement")) for p in reader.problems
    ):
        reader.problem("", "a model needs at least one fit, intent or engagement rule")
    profile_fields = {rule.criterion.field for rule in (*fit, *intent) if rule.criterion.field is not None}
    mql_gate = _mql_gate(reader, doc.get("mql_gate", {}))
    sql_gate = _sql_gate(reader, doc.get("sql_gate", {}), profile_fields, intent, engagement)
    if reader.problems:
        raise ModelError(reader.problems)
    return ScoringModel(
        name=name,
        description=description,
        thresholds=thresholds,
        hysteresis=hysteresis,
        weights=weights,
        mql_gate=mql_gate,
        sql_gate=sql_gate,
        domains=domains,
        fit=fit,
        intent=intent,
        engagement=engagement,
        disqualifiers=disqualifiers,
    )


def _rule_items(reader: _Reader, doc: Mapping[str, Any], group: str) -> list[Any]:
    raw = doc.get(group)
    if raw is None:
        return []
    return reader.items(raw, group, MAX_RULES)


def _thresholds(reader: _Reader, raw: Any) -> Thresholds:
    doc = reader.mapping(raw, "thresholds")
    reader.unknown(doc, ("mql", "sql"), "thresholds", "threshold (mql, sql)")
    mql = reader.number(doc.get("mql", 25), "thresholds.mql", low=0, high=100, low_open=True)
    sql = reader.number(doc.get("sql", 75), "thresholds.sql", low=0, high=100, low_open=True)
    if mql is not None and sql is not None and mql >= sql:
        reader.problem("thresholds", f"mql ({_show(mql)}) must be below sql ({_show(sql)})")
    return Thresholds(mql=mql if mql is not None else 25.0, sql=sql if sql is not None else 75.0)


def _weights(reader: _Reader, raw: Any) -> Weights:
    doc = reader.mapping(raw, "weights")
    reader.unknown(doc, ("fit", "intent", "engagement"), "weights", "weight (fit, intent, engagement)")
    fit = reader.number(doc.get("fit", 1), "weights.fit", low=0, high=MAX_WEIGHT)
    intent = reader.number(doc.get("intent", 1), "weights.intent", low=0, high=MAX_WEIGHT)
    engagement = reader.number(doc.get("engagement", 1), "weights.engagement", low=0, high=MAX_WEIGHT)
    if fit == 0 and intent == 0 and engagement == 0:
        reader.problem("weights", "fit, intent and engagement cannot all weigh 0: every total would be 0")
    return Weights(
        fit=1.0 if fit is None else fit,
        engagement=1.0 if engagement is None else engagement,
        intent=1.0 if intent is None else intent,
    )


def _domains(reader: _Reader, raw: Any) -> tuple[DomainList, ...]:
    doc = reader.mapping(raw, "domains")
    if len(doc) > MAX_LISTS:
        reader.problem("domains", f"at most {MAX_LISTS} lists")
    lists: list[DomainList] = []
    for name, entries in doc.items():
        path = f"domains.{name}"
        key = reader.key(name, path)
        if key in BUILT_IN_LISTS:
            reader.problem(path, f"'{key}' is a built-in list; give yours another name")
            continue
        domains: list[str] = []
        seen: set[str] = set()
        for i, entry in enumerate(reader.items(entries, path, MAX_DOMAINS)):
            domain = entry.strip().lower().lstrip("@").rstrip(".") if isinstance(entry, str) else ""
            if not DOMAIN_PATTERN.match(domain):
                reader.problem(f"{path}[{i}]", "is not a domain such as acme.com")
            elif domain not in seen:
                seen.add(domain)
                domains.append(domain)
        lists.append(DomainList(name=key, domains=tuple(domains)))
    return tuple(lists)


def _rule_id(reader: _Reader, doc: Mapping[str, Any], path: str, ids: dict[str, str]) -> str:
    rule_id = reader.key(doc.get("id"), f"{path}.id")
    if rule_id in ids:
        reader.problem(f"{path}.id", f"'{rule_id}' is already the id of {ids[rule_id]}")
    else:
        ids[rule_id] = path
    return rule_id


def _points(reader: _Reader, doc: Mapping[str, Any], path: str) -> float:
    if "points" not in doc:
        reader.problem(f"{path}.points", "is required")
        return 0.0
    points = reader.number(doc["points"], f"{path}.points", low=-MAX_POINTS, high=MAX_POINTS)
    return 0.0 if points is None else points


def _fit_rule(
    reader: _Reader, raw: Any, path: str, lists: Mapping[str, tuple[str, ...]], ids: dict[str, str]
) -> FitRule | None:
    """A fit rule, or an intent rule (the same shape): ``path`` starts with its group's name."""
    group = "an intent" if path.startswith("intent") else "a fit"
    doc = reader.mapping(raw, path)
    if not doc:
        if isinstance(raw, Mapping):
            reader.problem(path, f"is empty: {group} rule needs an id, a label, a test and points")
        return None
    rule_id = _rule_id(reader, doc, path, ids)
    label = reader.text(doc.get("label"), f"{path}.label")
    points = _points(reader, doc, path)
    criterion = _criterion(reader, doc, path, lists)
    when = _segment(reader, doc.get("when"), f"{path}.when")
    if "cap" in doc:
        reader.problem(f"{path}.cap", f"{group} rule awards its points once, so it has no cap; lower its points")
    reader.unknown(doc, _FIT_KEYS | {"cap"}, path, f"{group.split()[1]} rule setting")
    if criterion is None:
        return None
    return FitRule(id=rule_id, label=label, points=points, criterion=criterion, when=when)


def _disqualifier(
    reader: _Reader, raw: Any, path: str, lists: Mapping[str, tuple[str, ...]], ids: dict[str, str]
) -> Disqualifier | None:
    doc = reader.mapping(raw, path)
    if not doc:
        if isinstance(raw, Mapping):
            reader.problem(path, "is empty: a disqualifier needs an id, a label (the reason) and a test")
        return None
    rule_id = _rule_id(reader, doc, path, ids)
    label = reader.text(doc.get("label"), f"{path}.label")
    criterion = _criterion(reader, doc, path, lists)
    when = _segment(reader, doc.get("when"), f"{path}.when")
    if "points" in doc:
        reader.problem(f"{path}.points", "a disqualifier blocks MQL and SQL; for points, write a fit rule")
    reader.unknown(doc, _DISQUALIFIER_KEYS | {"points"}, path, "disqualifier setting")
    if criterion is None:
        return None
    return Disqualifier(id=rule_id, label=label, criterion=criterion, when=when)


def _criterion(
    reader: _Reader, doc: Mapping[str, Any], path: str, lists: Mapping[str, tuple[str, ...]]
) -> Criterion | None:
    tests = [key for key in _TESTS if key in doc]
    if "email_domain" in doc:
        if "field" in doc or tests:
            reader.problem(path, "email_domain is a test of its own: no field and no other test beside it")
            return None
        name = doc["email_domain"]
        if not isinstance(name, str) or (name not in lists and name not in BUILT_IN_LISTS):
            declared = ", ".join([*lists, *BUILT_IN_LISTS])
            reader.problem(f"{path}.email_domain", f"{name!r} is not a domain list ({declared})")
            return None
        return Criterion(Check.EMAIL_DOMAIN, domain_list=name, domains=frozenset(lists.get(name, ())))
    if "field" not in doc:
        reader.problem(path, "needs a field and one test (equals, in, min/max, mentions, known), or an email_domain")
        return None
    field_name = reader.key(doc["field"], f"{path}.field")
    kinds = {("range" if key in ("min", "max") else key) for key in tests}
    if len(kinds) != 1:
        reader.problem(path, "needs exactly one test: equals, in, min and/or max, mentions or known")
        return None
    kind = kinds.pop()
    if kind == "equals":
        value = reader.scalar(doc["equals"], f"{path}.equals")
        return None if value is None else Criterion(Check.EQUALS, field=field_name, values=(value,))
    if kind == "in":
        raw_values = reader.items(doc["in"], f"{path}.in", MAX_VALUES)
        values = [reader.scalar(value, f"{path}.in[{i}]") for i, value in enumerate(raw_values)]
        if isinstance(doc["in"], list) and not doc["in"]:
            reader.problem(f"{path}.in", "must list at least one value")
        if any(value is None for value in values) or not values:
            return None
        return Criterion(Check.IN, field=field_name, values=tuple(values))
    if kind == "range":
        low = reader.number(doc["min"], f"{path}.min", low=-1e15, high=1e15) if "min" in doc else None
        high = reader.number(doc["max"], f"{path}.max", low=-1e15, high=1e15) if "max" in doc else None
        if low is not None and high is not None and low > high:
            reader.problem(path, "min is above max")
            return None
        if (low is None and "min" in doc) or (high is None and "max" in doc):
            return None
        return Criterion(Check.RANGE, field=field_name, minimum=low, maximum=high)
    if kind == "mentions":
        words = reader.items(doc["mentions"], f"{path}.mentions", MAX_VALUES)
        cleaned = [reader.text(word, f"{path}.mentions[{i}]", limit=100) for i, word in enumerate(words)]
        if isinstance(doc["mentions"], list) and not words:
            reader.problem(f"{path}.mentions", "must list at least one word")
        if not cleaned or not all(cleaned):
            return None
        return Criterion(Check.MENTIONS, field=field_name, values=tuple(cleaned))
    if doc["known"] is not True:
        reader.problem(f"{path}.known", "must be true")
        return None
    return Criterion(Check.KNOWN, field=field_name)


def _engagement_rule(reader: _Reader, raw: Any, path: str, ids: dict[str, str]) -> EngagementRule | None:
    doc = reader.mapping(raw, path)
    if not doc:
        if isinstance(raw, Mapping):
            reader.problem(path, "is empty: an engagement rule needs an id, a label, an event and points")
        return None
    before = len(reader.problems)
    rule_id = _rule_id(reader, doc, path, ids)
    label = reader.text(doc.get("label"), f"{path}.label")
    event = doc.get("event")
    if not isinstance(event, str) or not EVENT_PATTERN.match(event):
        reader.problem(f"{path}.event", "must be an event type such as page_view (lower-case letters, digits, _.:-)")
        event = ""
    points = _points(reader, doc, path)
    url_path = doc.get("path")
    if url_path is not None:
        if not isinstance(url_path, str) or not url_path.startswith(("/", "*")) or len(url_path) > MAX_PATH:
            reader.problem(f"{path}.path", f"must be a URL path glob such as /pricing* (at most {MAX_PATH} characters)")
            url_path = None
        elif any(char.isspace() for char in url_path):
            reader.problem(f"{path}.path", "must not contain spaces")
            url_path = None
        else:
            try:
                re.compile(fnmatch.translate(url_path))
            except re.error as exc:  # pragma: no cover - fnmatch escapes nearly everything
                reader.problem(f"{path}.path", f"is not a valid pattern: {exc}")
    props: list[tuple[str, Any]] = []
    if "props" in doc:
        wanted = reader.mapping(doc["props"], f"{path}.props")
        if len(wanted) > MAX_PROPS:
            reader.problem(f"{path}.props", f"at most {MAX_PROPS} properties")
        for key, value in wanted.items():
            if not isinstance(key, str) or not 0 < len(key) <= 64:
                reader.problem(f"{path}.props.{key}", "must be a property name of 1 to 64 characters")
                continue
            value = reader.scalar(value, f"{path}.props.{key}")
            if value is not None:
                props.append((key, value))
    cap = None
    if "cap" in doc:
        cap = reader.number(doc["cap"], f"{path}.cap", low=0, high=MAX_POINTS, low_open=True)
    half_life = None
    if "half_life_days" in doc:
        half_life = reader.number(doc["half_life_days"], f"{path}.half_life_days", low=0, high=MAX_DAYS, low_open=True)
    if points < 0 and cap is None and "cap" not in doc and "window" not in doc:
        reader.problem(
            f"{path}.cap", "is required for negative points, so they can never bury a lead that engages again"
        )
    when = _segment(reader, doc.get("when"), f"{path}.when")
    window = None
    if "window" in doc:
        window = _window(reader, doc["window"], f"{path}.window")
        if "half_life_days" in doc:
            reader.problem(
                f"{path}.half_life_days",
                "a window rule does not decay (the window is its recency): remove half_life_days or the window",
            )
    high_intent = doc.get("high_intent", False)
    if not isinstance(high_intent, bool):
        reader.problem(f"{path}.high_intent", "must be true or false")
    reader.unknown(doc, _ENGAGEMENT_KEYS, path, "engagement rule setting")
    if len(reader.problems) > before:
        return None
    return EngagementRule(
        id=rule_id,
        label=label,
        event=event,
        points=points,
        path=url_path,
        props=tuple(sorted(props)),
        cap=cap,
        half_life_days=half_life,
        window=window,
        high_intent=high_intent,
        when=when,
    )


def _segment(reader: _Reader, raw: Any, path: str) -> Segment | None:
    """``when``: one condition, or a list that must all hold, in the sequence format's words."""
    if raw is None:
        return None
    items = [raw] if isinstance(raw, Mapping) else reader.items(raw, path, MAX_CONDITIONS)
    if isinstance(raw, list) and not raw:
        reader.problem(path, "must name at least one condition")
    tests = ", ".join(op.value for op in Operator)
    conditions: list[Condition] = []
    for i, item in enumerate(items):
        cpath = path if isinstance(raw, Mapping) else f"{path}[{i}]"
        doc = reader.mapping(item, cpath)
        if not doc:
            continue
        field_name = reader.key(doc.get("field"), f"{cpath}.field")
        named = [key for key in doc if key != "field"]
        if len(named) != 1:
            reader.problem(cpath, f"needs a field and exactly one test: {tests}")
            continue
        try:
            operator = Operator(named[0])
        except ValueError:
            reader.problem(f"{cpath}.{named[0]}", f"is not a test: {tests}")
            continue
        value = _condition_value(reader, operator, doc[named[0]], f"{cpath}.{operator.value}")
        if value is not _BAD:
            conditions.append(Condition(field=field_name, operator=operator, value=value))
    if len(conditions) != len(items) or not conditions:
        return None
    return Segment(tuple(conditions))


#: a condition value that was refused (a problem is noted)
_BAD = object()


def _condition_value(reader: _Reader, operator: Operator, raw: Any, path: str) -> Any:
    if operator is Operator.KNOWN:
        if raw is not True:
            reader.problem(path, "must be true")
            return _BAD
        return None
    if operator in (Operator.IN, Operator.NOT_IN):
        if not isinstance(raw, list) or not raw or len(raw) > MAX_VALUES:
            reader.problem(path, f"must be a list of 1 to {MAX_VALUES} values")
            return _BAD
        values = [reader.scalar(value, f"{path}[{i}]") for i, value in enumerate(raw)]
        return _BAD if any(value is None for value in values) else tuple(values)
    if operator in (Operator.GT, Operator.GTE, Operator.LT, Operator.LTE):
        number = reader.number(raw, path, low=-1e15, high=1e15)
        return _BAD if number is None else number
    value = reader.scalar(raw, path)
    return _BAD if value is None else value


def _window(reader: _Reader, raw: Any, path: str) -> Window | None:
    doc = reader.mapping(raw, path)
    if not doc:
        if isinstance(raw, Mapping):
            reader.problem(path, "needs count and days")
        return None
    reader.unknown(doc, ("count", "days"), path, "window setting (count, days)")
    count = days = None
    if "count" not in doc:
        reader.problem(f"{path}.count", "is required")
    else:
        count = reader.number(doc["count"], f"{path}.count", low=1, high=MAX_WINDOW_COUNT, whole=True)
    if "days" not in doc:
        reader.problem(f"{path}.days", "is required")
    else:
        days = reader.number(doc["days"], f"{path}.days", low=0, high=MAX_DAYS, low_open=True)
    if count is None or days is None:
        return None
    return Window(count=int(count), days=days)


def _mql_gate(reader: _Reader, raw: Any) -> MqlGate:
    doc = reader.mapping(raw, "mql_gate")
    reader.unknown(doc, ("min_interest",), "mql_gate", "MQL gate setting (min_interest)")
    min_interest = reader.number(
        doc.get("min_interest", 5), "mql_gate.min_interest", low=0, high=100, low_open=True
    )  # above 0: who a lead is must never make it an MQL by itself
    return MqlGate(min_interest=5.0 if min_interest is None else min_interest)


def _sql_gate(
    reader: _Reader,
    raw: Any,
    profile_fields: set[str],
    intent: tuple[FitRule, ...],
    engagement: tuple[EngagementRule, ...],
) -> SqlGate:
    doc = reader.mapping(raw, "sql_gate")
    reader.unknown(doc, _SQL_GATE_KEYS, "sql_gate", f"SQL gate setting ({', '.join(_SQL_GATE_KEYS)})")
    min_fit = reader.number(doc.get("min_fit", 10), "sql_gate.min_fit", low=0, high=100)
    names: list[str] = []
    for i, raw_name in enumerate(reader.items(doc.get("any_known", []), "sql_gate.any_known", MAX_VALUES)):
        name = reader.key(raw_name, f"sql_gate.any_known[{i}]")
        if name not in profile_fields and KEY_PATTERN.match(name):
            reader.problem(f"sql_gate.any_known[{i}]", f"'{name}' is not read by any fit or intent rule")
        elif name not in names:
            names.append(name)
    if min_fit == 0 and not doc.get("any_known"):
        reader.problem("sql_gate", "needs min_fit above 0 or a field in any_known: clicks alone must never make SQL")
    # above 0: an SQL needs evidence of buying intent, whatever its total
    min_intent = reader.number(doc.get("min_intent", 10), "sql_gate.min_intent", low=0, high=100, low_open=True)
    min_engagement = reader.number(doc.get("min_engagement", 0), "sql_gate.min_engagement", low=0, high=100)
    if "hand_raises" in doc:
        rules = {rule.id for rule in intent} | {rule.id for rule in engagement}
        raises: list[str] = []
        for i, raw_id in enumerate(reader.items(doc["hand_raises"], "sql_gate.hand_raises", MAX_VALUES)):
            rule_id = reader.key(raw_id, f"sql_gate.hand_raises[{i}]")
            if rule_id not in rules and KEY_PATTERN.match(rule_id):
                reader.problem(f"sql_gate.hand_raises[{i}]", f"'{rule_id}' is not an intent or engagement rule")
            elif rule_id not in raises:
                raises.append(rule_id)
    else:  # undeclared: the model's rules on the standard hand-raise events
        raises = [rule.id for rule in engagement if rule.event in HAND_RAISE_EVENTS and rule.points > 0]
    return SqlGate(
        min_fit=10.0 if min_fit is None else min_fit,
        any_known=tuple(names),
        min_intent=10.0 if min_intent is None else min_intent,
        min_engagement=0.0 if min_engagement is None else min_engagement,
        hand_raises=tuple(raises),
    )


# --- writing ------------------------------------------------------------------------------------


def model_document(model: ScoringModel) -> dict[str, Any]:
    """The canonical document for ``model``, in the shape :func:`parse_model` reads."""
    doc: dict[str, Any] = {"format": FORMAT, "name": model.name}
    if model.description:
        doc["description"] = model.description
    doc["thresholds"] = {"mql": _num(model.thresholds.mql), "sql": _num(model.thresholds.sql)}
    doc["hysteresis"] = _num(model.hysteresis)
    weights = model.weights
    doc["weights"] = {"fit": _num(weights.fit), "intent": _num(weights.intent), "engagement": _num(weights.engagement)}
    doc["mql_gate"] = {"min_interest": _num(model.mql_gate.min_interest)}
    gate = model.sql_gate
    doc["sql_gate"] = {
        "min_fit": _num(gate.min_fit),
        "any_known": list(gate.any_known),
        "min_intent": _num(gate.min_intent),
        "min_engagement": _num(gate.min_engagement),
        "hand_raises": list(gate.hand_raises),
    }
    if model.domains:
        doc["domains"] = {entry.name: list(entry.domains) for entry in model.domains}
    doc["fit"] = [_profile_rule_document(rule) for rule in model.fit]
    doc["intent"] = [_profile_rule_document(rule) for rule in model.intent]
    doc["engagement"] = [_engagement_document(rule) for rule in model.engagement]
    doc["disqualifiers"] = [
        {"id": rule.id, "label": rule.label, **_criterion_document(rule.criterion), **_segment_document(rule.when)}
        for rule in model.disqualifiers
    ]
    return doc


def _profile_rule_document(rule: FitRule) -> dict[str, Any]:
    criterion = _criterion_document(rule.criterion)
    return {
        "id": rule.id,
        "label": rule.label,
        **criterion,
        "points": _num(rule.points),
        **_segment_document(rule.when),
    }


def _segment_document(segment: Segment | None) -> dict[str, Any]:
    if segment is None:
        return {}
    conditions = [{"field": c.field, c.operator.value: _condition_document(c.value)} for c in segment.conditions]
    return {"when": conditions[0] if len(conditions) == 1 else conditions}


def _condition_document(value: Any) -> Any:
    if value is None:
        return True  # known: true
    if isinstance(value, tuple):
        return [_value(item) for item in value]
    return _value(value)


def _criterion_document(criterion: Criterion) -> dict[str, Any]:
    check = criterion.check
    if check is Check.EMAIL_DOMAIN:
        return {"email_domain": criterion.domain_list}
    doc: dict[str, Any] = {"field": criterion.field}
    if check is Check.EQUALS:
        doc["equals"] = _value(criterion.values[0])
    elif check is Check.IN:
        doc["in"] = [_value(value) for value in criterion.values]
    elif check is Check.RANGE:
        if criterion.minimum is not None:
            doc["min"] = _num(criterion.minimum)
        if criterion.maximum is not None:
            doc["max"] = _num(criterion.maximum)
    elif check is Check.MENTIONS:
        doc["mentions"] = list(criterion.values)
    else:
        doc["known"] = True
    return doc


def _engagement_document(rule: EngagementRule) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": rule.id, "label": rule.label, "event": rule.event}
    if rule.path is not None:
        doc["path"] = rule.path
    if rule.props:
        doc["props"] = {key: _value(value) for key, value in rule.props}
    doc["points"] = _num(rule.points)
    if rule.cap is not None:
        doc["cap"] = _num(rule.cap)
    if rule.half_life_days is not None:
        doc["half_life_days"] = _num(rule.half_life_days)
    if rule.window is not None:
        doc["window"] = {"count": rule.window.count, "days": _num(rule.window.days)}
    if rule.high_intent:
        doc["high_intent"] = True
    doc.update(_segment_document(rule.when))
    return doc


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _value(value: Any) -> Any:
    return value if isinstance(value, (bool, str)) else _num(value)


def _show(value: float) -> str:
    return str(_num(value))


def dump_model(model: ScoringModel, fmt: Literal["yaml", "json"] = "yaml") -> str:
    """The canonical document as YAML or JSON text."""
    document = model_document(model)
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def load_model(text: str) -> ScoringModel:
    """Parse YAML or JSON text; each problem names the line it is on.

    Text that starts with ``{`` is tried as JSON first, for its clearer errors; a YAML flow
    mapping (``{name: x, ...}``) is still read as YAML.
    """
    raw: Any = None
    if text.lstrip().startswith("{"):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            try:
                raw = yaml.load(text, Loader=YAML_LOADER)
            except yaml.YAMLError:
                raise ModelError([f"not valid JSON: {exc}"]) from exc
    else:
        try:
            raw = yaml.load(text, Loader=YAML_LOADER)
        except yaml.YAMLError as exc:
            raise ModelError([f"not valid YAML: {exc}"]) from exc
    if raw is None:
        raise ModelError(["the document is empty"])
    try:
        return parse_model(raw)
    except ModelError as exc:
        raise ModelError(with_lines(text, exc.problems)) from None


def model_problems(text: str) -> list[DocumentProblem]:
    """Every problem of a scoring model's text, with its path and line: what an editor marks.

    Empty for a model that loads; never raises for a bad one.
    """
    return loading_problems(load_model, text, ModelError)


def checksum(document: Mapping[str, Any]) -> str:
    """sha256 of the document as canonical JSON, so re-importing the same model publishes nothing."""
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def model_checksum(model: ScoringModel) -> str:
    return checksum(model_document(model))


@cache
def default_model() -> ScoringModel:
    """The shipped model (``scoring/defaults/default.yaml``), for both paths of the example sequence:
    B2B and B2C leads, each scored by its own segment's rules. Parsed once per process; it is immutable."""
    text = resources.files("scoring").joinpath("defaults/default.yaml").read_text(encoding="utf-8")
    return load_model(text)
