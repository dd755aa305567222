"""Scoring model documents: the YAML/JSON form marketers keep in git, beside their sequences.

The format is declared once in :mod:`scoring.schema`: the published JSON Schema and the
validator. ``parse_model`` validates a plain mapping with that declaration, collecting
*every* problem with a path (``engagement[2].half_life_days: ...``) so a marketer fixes a
file in one pass, and builds the frozen :class:`ScoringModel`; ``load_model`` adds the YAML
line of each problem. ``model_document`` is its inverse and writes the
canonical form (every setting written out, whole numbers without a decimal
point): ``parse_model(model_document(m)) == m`` for every valid model, and
``checksum`` of that form tells whether a re-import changed anything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from profiling.schema import ConditionDocument
from profiling.schema_support import (
    YAML_LOADER,
    DocumentProblem,
    ProblemsError,
    loading_problems,
    with_lines,
)
from profiling.schema_types import problems_of
from profiling.sequence import Condition, Operator
from scoring.model import (
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
    DOMAIN_PATTERN,
    FORMAT,
    CriterionKeys,
    DisqualifierDocument,
    EngagementRuleDocument,
    FitRuleDocument,
    ScoringModelDocument,
    SqlGateDocument,
)

__all__ = [  # DOMAIN_PATTERN and FORMAT are declared in scoring.schema, and read from here too
    "DOMAIN_PATTERN",
    "FORMAT",
    "ModelError",
    "parse_model",
    "model_document",
    "dump_model",
    "load_model",
    "model_problems",
    "checksum",
    "model_checksum",
    "default_model",
]


class ModelError(ProblemsError):
    """A scoring model document that cannot be used, with every problem found ("path: message")."""


def parse_model(document: Mapping[str, Any]) -> ScoringModel:
    """Validate a raw document with its declaration (:class:`ScoringModelDocument`) and build the model it
    describes, or raise ModelError with every problem."""
    if not isinstance(document, Mapping):
        raise ModelError(["the document must be a mapping (a YAML or JSON object)"])
    if not document:
        raise ModelError(["the document is empty"])
    try:
        checked = ScoringModelDocument.check(document)
    except ValidationError as exc:
        raise ModelError(problems_of(exc)) from None
    lists = {name: tuple(dict.fromkeys(domains)) for name, domains in checked.domains.items()}
    intent = tuple(_fit_rule(rule, lists) for rule in checked.intent)
    engagement = tuple(_engagement_rule(rule) for rule in checked.engagement)
    thresholds, weights = checked.thresholds, checked.weights
    return ScoringModel(
        name=checked.name.strip(),
        description=checked.description,
        thresholds=Thresholds(mql=float(thresholds.mql), sql=float(thresholds.sql)),
        hysteresis=float(checked.hysteresis),
        weights=Weights(fit=float(weights.fit), engagement=float(weights.engagement), intent=float(weights.intent)),
        mql_gate=MqlGate(min_interest=float(checked.mql_gate.min_interest)),
        sql_gate=_sql_gate(checked.sql_gate, engagement),
        domains=tuple(DomainList(name=name, domains=domains) for name, domains in lists.items()),
        fit=tuple(_fit_rule(rule, lists) for rule in checked.fit),
        intent=intent,
        engagement=engagement,
        disqualifiers=tuple(_disqualifier(rule, lists) for rule in checked.disqualifiers),
    )


def _fit_rule(rule: FitRuleDocument, lists: Mapping[str, tuple[str, ...]]) -> FitRule:
    """A fit rule, or an intent rule (the same shape)."""
    return FitRule(
        id=rule.id,
        label=rule.label.strip(),
        points=float(rule.points),
        criterion=_criterion(rule, lists),
        when=_segment(rule.when),
    )


def _disqualifier(rule: DisqualifierDocument, lists: Mapping[str, tuple[str, ...]]) -> Disqualifier:
    return Disqualifier(
        id=rule.id, label=rule.label.strip(), criterion=_criterion(rule, lists), when=_segment(rule.when)
    )


def _criterion(rule: CriterionKeys, lists: Mapping[str, tuple[str, ...]]) -> Criterion:
    """The one test a rule's declaration has (it checked there is exactly one)."""
    if rule.email_domain is not None:
        name = rule.email_domain
        return Criterion(Check.EMAIL_DOMAIN, domain_list=name, domains=frozenset(lists.get(name, ())))
    field = rule.field
    if rule.equals is not None:
        return Criterion(Check.EQUALS, field=field, values=(_scalar(rule.equals),))
    if rule.in_ is not None:
        return Criterion(Check.IN, field=field, values=tuple(_scalar(value) for value in rule.in_))
    if rule.mentions is not None:
        return Criterion(Check.MENTIONS, field=field, values=tuple(word.strip() for word in rule.mentions))
    if rule.known is not None:
        return Criterion(Check.KNOWN, field=field)
    low, high = rule.min, rule.max
    return Criterion(
        Check.RANGE,
        field=field,
        minimum=None if low is None else float(low),
        maximum=None if high is None else float(high),
    )


def _engagement_rule(rule: EngagementRuleDocument) -> EngagementRule:
    window = rule.window
    return EngagementRule(
        id=rule.id,
        label=rule.label.strip(),
        event=rule.event,
        points=float(rule.points),
        path=rule.path,
        props=tuple(sorted((key, _scalar(value)) for key, value in rule.props.items())),
        cap=None if rule.cap is None else float(rule.cap),
        half_life_days=None if rule.half_life_days is None else float(rule.half_life_days),
        window=None if window is None else Window(count=window.count, days=float(window.days)),
        high_intent=rule.high_intent,
        when=_segment(rule.when),
    )


def _segment(when: ConditionDocument | list[ConditionDocument] | None) -> Segment | None:
    """``when``: one condition, or a list that must all hold."""
    if when is None:
        return None
    conditions = [when] if isinstance(when, ConditionDocument) else when
    return Segment(tuple(_condition(condition) for condition in conditions))


def _condition(condition: ConditionDocument) -> Condition:
    op, value = condition.operator, condition.value
    if op is Operator.KNOWN:
        value = None
    elif op in (Operator.IN, Operator.NOT_IN):
        value = tuple(_scalar(item) for item in value)
    else:
        value = _scalar(value)
    return Condition(field=condition.field, operator=op, value=value)


def _scalar(value: Any) -> Any:
    """A compared value as the model holds it: a number is a float (a whole one is written back without its point)."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _sql_gate(gate: SqlGateDocument, engagement: tuple[EngagementRule, ...]) -> SqlGate:
    if gate.hand_raises is not None:
        raises = tuple(dict.fromkeys(gate.hand_raises))
    else:  # undeclared: the model's rules on the standard hand-raise events
        raises = tuple(rule.id for rule in engagement if rule.event in HAND_RAISE_EVENTS and rule.points > 0)
    return SqlGate(
        min_fit=float(gate.min_fit),
        any_known=tuple(dict.fromkeys(gate.any_known)),
        min_intent=float(gate.min_intent),
        min_engagement=float(gate.min_engagement),
        hand_raises=raises,
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
