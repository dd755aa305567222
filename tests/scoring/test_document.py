"""Scoring model documents: canonical round trips in YAML and JSON, and every problem reported with its path."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings

from scoring.document import (
    ModelError,
    checksum,
    default_model,
    dump_model,
    load_model,
    model_checksum,
    model_document,
    parse_model,
)
from tests.scoring.strategies import model_documents

MINIMAL: dict[str, Any] = {
    "name": "Minimal",
    "fit": [{"id": "big", "label": "Big company", "field": "company_size", "min": 200, "points": 20}],
    "engagement": [{"id": "demo", "label": "Demo request", "event": "demo_request", "points": 40}],
}


def problems(document: Any) -> list[str]:
    with pytest.raises(ModelError) as refused:
        parse_model(document)
    return refused.value.problems


def changed(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(MINIMAL)
    document.update(changes)
    return document


def with_fit(**rule: Any) -> dict[str, Any]:
    return changed(fit=[{"id": "r", "label": "Rule", "points": 10, **rule}])


def with_engagement(**rule: Any) -> dict[str, Any]:
    return changed(engagement=[{"id": "r", "label": "Rule", "event": "page_view", "points": 10, **rule}])


# --- round trips --------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(model_documents())
def test_the_canonical_document_gives_the_model_back(document: dict[str, Any]) -> None:
    model = parse_model(document)
    canonical = model_document(model)
    assert parse_model(canonical) == model
    assert model_document(parse_model(canonical)) == canonical
    for fmt in ("yaml", "json"):
        text = dump_model(model, fmt)  # type: ignore[arg-type]
        assert load_model(text) == model
        assert dump_model(load_model(text), fmt) == text  # type: ignore[arg-type]
    assert model_checksum(model) == checksum(json.loads(dump_model(model, "json")))


def test_the_default_model_round_trips_in_yaml_and_json() -> None:
    model = default_model()
    yaml_text = dump_model(model, "yaml")
    json_text = dump_model(model, "json")
    assert load_model(yaml_text) == model == load_model(json_text)
    assert yaml.safe_load(yaml_text) == json.loads(json_text) == model_document(model)
    assert default_model() is model  # parsed once per process


def test_the_canonical_form_writes_every_setting_and_whole_numbers_plainly() -> None:
    model = parse_model(
        changed(
            engagement=[
                {"id": "pricing", "label": "Pricing", "event": "page_view", "path": "/pricing*", "points": 10.0,
                 "cap": 30.0, "half_life_days": 14, "props": {"b": 1, "a": "x"}},
                {"id": "burst", "label": "Burst", "event": "page_view", "points": 2.5,
                 "window": {"count": 3, "days": 7}},
            ],
            domains={"targets": ["@ACME.com", "acme.com", "globex.com."]},
        )
    )  # fmt: skip
    document = model_document(model)
    assert list(document) == [
        "format", "name", "thresholds", "hysteresis", "weights", "mql_gate", "sql_gate", "domains", "fit", "intent",
        "engagement", "disqualifiers",
    ]  # fmt: skip
    assert document["thresholds"] == {"mql": 25, "sql": 75}
    assert document["hysteresis"] == 10
    assert document["weights"] == {"fit": 1, "intent": 1, "engagement": 1}
    assert document["mql_gate"] == {"min_interest": 5}
    assert document["sql_gate"] == {
        "min_fit": 10, "any_known": [], "min_intent": 10, "min_engagement": 0, "hand_raises": []
    }  # fmt: skip
    assert document["intent"] == []
    assert document["domains"] == {"targets": ["acme.com", "globex.com"]}
    assert document["engagement"][0] == {
        "id": "pricing", "label": "Pricing", "event": "page_view", "path": "/pricing*", "props": {"a": "x", "b": 1},
        "points": 10, "cap": 30, "half_life_days": 14,
    }  # fmt: skip
    assert document["engagement"][1]["window"] == {"count": 3, "days": 7}
    assert document["engagement"][1]["points"] == 2.5


def test_the_checksum_changes_with_content_not_with_layout() -> None:
    model = parse_model(MINIMAL)
    reordered = parse_model(dict(reversed(list(copy.deepcopy(MINIMAL).items()))))
    assert model_checksum(reordered) == model_checksum(model)
    repriced = copy.deepcopy(MINIMAL)
    repriced["engagement"][0]["points"] = 41
    assert model_checksum(parse_model(repriced)) != model_checksum(model)
    assert len(model_checksum(model)) == 64


def test_the_version_belongs_to_the_publisher_not_the_document() -> None:
    model = parse_model(MINIMAL)
    published = model.with_version(3)
    assert published.version == 3 and model.version is None
    assert published == model
    assert "version" not in model_document(published)
    assert problems(changed(version=3)) == ["version: is not a known top-level key"]


def test_a_model_knows_the_event_types_and_fields_it_reads() -> None:
    model = parse_model(
        changed(
            disqualifiers=[{"id": "no", "label": "Opted out", "field": "contact_ok", "equals": False}],
            engagement=[
                {"id": "a", "label": "A", "event": "page_view", "points": 1},
                {"id": "b", "label": "B", "event": "crm:call", "points": 1},
            ],
        )
    )
    assert model.event_types == frozenset({"page_view", "crm:call"})
    assert model.fields == frozenset({"company_size", "contact_ok"})


# --- text ---------------------------------------------------------------------------------------


def test_load_model_reads_yaml_and_json_text() -> None:
    assert load_model(json.dumps(MINIMAL)) == parse_model(MINIMAL) == load_model(yaml.safe_dump(MINIMAL))
    flow = yaml.safe_dump(MINIMAL, default_flow_style=True)
    assert flow.startswith("{") and load_model(flow) == parse_model(MINIMAL)


def test_a_rule_group_left_empty_has_no_rules() -> None:
    """A marketer who comments out every rule of a group leaves ``intent:`` with nothing under it."""
    text = yaml.safe_dump(MINIMAL) + "intent:\ndisqualifiers:\n"
    assert load_model(text) == parse_model(MINIMAL)


@pytest.mark.parametrize(
    ("text", "problem"),
    [("name: [", "not valid YAML"), ('{"name": ', "not valid JSON"), ("{name: [", "not valid JSON"),
     ("", "the document is empty"),
     ("- a list", "the document must be a mapping"), ("{}", "the document is empty")],
)  # fmt: skip
def test_unreadable_text_is_a_model_error(text: str, problem: str) -> None:
    with pytest.raises(ModelError) as refused:
        load_model(text)
    assert refused.value.problems[0].startswith(problem)


# --- every problem, with its path -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        # the document
        (changed(format="leadwheel/scoring@2"), "format: must be 'leadwheel/scoring@1'"),
        ({k: v for k, v in MINIMAL.items() if k != "name"}, "name: is required"),
        (changed(name="  "), "name: must be a non-empty text"),
        (changed(name="a\x00b"), "name: contains a control character"),
        (changed(description=3), "description: must be a text of at most 2000 characters"),
        (changed(colour="blue"), "colour: is not a known top-level key"),
        (changed(fit=[], engagement=[]), "a model needs at least one fit, intent or engagement rule"),
        (changed(fit={"id": "x"}), "fit: must be a list"),
        (changed(engagement=[{"id": f"e{i}", "label": "E", "event": "call", "points": 1} for i in range(201)]),
         "engagement: at most 200 entries"),
        # thresholds, hysteresis, weights
        (changed(thresholds={"mql": 80, "sql": 75}), "thresholds: mql (80) must be below sql (75)"),
        (changed(thresholds={"mql": 30, "sql": 30}), "thresholds: mql (30) must be below sql (30)"),
        (changed(thresholds={"mql": 0}), "thresholds.mql: must be greater than 0"),
        (changed(thresholds={"sql": 101}), "thresholds.sql: must be at most 100"),
        (changed(thresholds={"mql": "25"}), "thresholds.mql: must be a number"),
        (changed(thresholds={"mql": float("nan")}), "thresholds.mql: must be a finite number"),
        (changed(thresholds={"mql": True}), "thresholds.mql: must be a number"),
        (changed(thresholds={"hot": 90}), "thresholds.hot: is not a known threshold (mql, sql)"),
        (changed(thresholds=[25, 75]), "thresholds: must be a mapping"),
        (changed(hysteresis=-1), "hysteresis: must be at least 0"),
        (changed(hysteresis=25), "hysteresis: must be below thresholds.mql (25): an MQL would never fall back"),
        (changed(thresholds={"mql": 5}), "hysteresis: (default 10) must be below thresholds.mql (5)"),
        (changed(weights={"fit": -1}), "weights.fit: must be at least 0"),
        (changed(weights={"engagement": 11}), "weights.engagement: must be at most 10"),
        (changed(weights={"fit": 0, "intent": 0, "engagement": 0}),
         "weights: fit, intent and engagement cannot all weigh 0"),
        (changed(weights={"interest": 1}), "weights.interest: is not a known weight (fit, intent, engagement)"),
        (changed(weights={"intent": -1}), "weights.intent: must be at least 0"),
        # the MQL gate
        (changed(mql_gate={"min_interest": 0}), "mql_gate.min_interest: must be greater than 0"),
        (changed(mql_gate={"min_fit": 10}), "mql_gate.min_fit: is not a known MQL gate setting (min_interest)"),
        (changed(weights=1), "weights: must be a mapping"),
        # the SQL gate
        (changed(sql_gate={"min_fit": 0}), "sql_gate: needs min_fit above 0 or a field in any_known"),
        (changed(sql_gate={"min_fit": 101}), "sql_gate.min_fit: must be at most 100"),
        (changed(sql_gate={"any_known": ["timeline"]}),
         "sql_gate.any_known[0]: 'timeline' is not read by any fit or intent rule"),
        (changed(sql_gate={"min_intent": 0}), "sql_gate.min_intent: must be greater than 0"),
        (changed(sql_gate={"min_engagement": -1}), "sql_gate.min_engagement: must be at least 0"),
        (changed(sql_gate={"hand_raises": ["demo_form"]}),
         "sql_gate.hand_raises[0]: 'demo_form' is not an intent or engagement"),
        (changed(sql_gate={"hand_raises": "x"}), "sql_gate.hand_raises: must be a list"),
        (changed(sql_gate={"any_known": ["Timeline"]}), "sql_gate.any_known[0]: must be lower-case letters"),
        (changed(sql_gate={"any_known": "company_size"}), "sql_gate.any_known: must be a list"),
        (changed(sql_gate={"fields": []}),
         "sql_gate.fields: is not a known SQL gate setting (min_fit, any_known, min_intent"),
        # domain lists
        (changed(domains={"targets": ["acme"]}), "domains.targets[0]: is not a domain such as acme.com"),
        (changed(domains={"targets": ["a b.com"]}), "domains.targets[0]: is not a domain such as acme.com"),
        (changed(domains={"targets": [3]}), "domains.targets[0]: is not a domain such as acme.com"),
        (changed(domains={"targets": "acme.com"}), "domains.targets: must be a list"),
        (changed(domains={"free_mail": ["x.com"]}), "domains.free_mail: 'free_mail' is a built-in list"),
        (changed(domains={"Top": []}), "domains.Top: must be lower-case letters"),
        (changed(domains=["acme.com"]), "domains: must be a mapping"),
        (changed(domains={f"list_{i}": [] for i in range(51)}), "domains: at most 50 lists"),
        (changed(domains={"big": [f"d{i}.com" for i in range(10_001)]}), "domains.big: at most 10000 entries"),
        # rule ids and labels
        (changed(engagement=[{"id": "big", "label": "B", "event": "call", "points": 1}]),
         "engagement[0].id: 'big' is already the id of fit[0]"),
        (with_fit(field="x", known=True, id="Big"), "fit[0].id: must be lower-case letters"),
        (with_fit(field="x", known=True, label=""), "fit[0].label: must be a non-empty text"),
        (with_fit(field="x", known=True, label="x" * 201), "fit[0].label: is longer than 200 characters"),
        (changed(fit=[{}]), "fit[0]: is empty: a fit rule needs an id, a label, a test and points"),
        (changed(fit=["big"]), "fit[0]: must be a mapping"),
        # fit rules
        (with_fit(field="x", known=True, points=101), "fit[0].points: must be at most 100"),
        (with_fit(field="x", known=True, points="ten"), "fit[0].points: must be a number"),
        (changed(fit=[{"id": "r", "label": "R", "field": "x", "known": True}]), "fit[0].points: is required"),
        (with_fit(field="x", known=True, cap=5), "fit[0].cap: a fit rule awards its points once, so it has no cap"),
        (with_fit(field="x", known=True, weight=2), "fit[0].weight: is not a known fit rule setting"),
        (with_fit(equals="x"), "fit[0]: needs a field and one test"),
        (with_fit(field="x"), "fit[0]: needs exactly one test"),
        (with_fit(field="x", equals="a", known=True), "fit[0]: needs exactly one test"),
        (with_fit(field="x", equals=None), "fit[0].equals: must be a short text, a number or true/false"),
        (with_fit(field="x", equals=["a"]), "fit[0].equals: must be a short text, a number or true/false"),
        (with_fit(field="x", **{"in": []}), "fit[0].in: must list at least one value"),
        (with_fit(field="x", **{"in": "a"}), "fit[0].in: must be a list"),
        (with_fit(field="x", **{"in": ["a", {"b": 1}]}), "fit[0].in[1]: must be a short text, a number or true/false"),
        (with_fit(field="x", min=10, max=5), "fit[0]: min is above max"),
        (with_fit(field="x", min="10"), "fit[0].min: must be a number"),
        (with_fit(field="x", mentions=[]), "fit[0].mentions: must list at least one word"),
        (with_fit(field="x", mentions=["head", ""]), "fit[0].mentions[1]: must be a non-empty text"),
        (with_fit(field="x", known=False), "fit[0].known: must be true"),
        (with_fit(field="X-size", known=True), "fit[0].field: must be lower-case letters"),
        (with_fit(email_domain="targets"), "fit[0].email_domain: 'targets' is not a domain list (free_mail, student)"),
        (with_fit(email_domain="free_mail", field="x"), "fit[0]: email_domain is a test of its own"),
        # engagement rules
        (with_engagement(event="Page View"), "engagement[0].event: must be an event type such as page_view"),
        (with_engagement(event=None), "engagement[0].event: must be an event type such as page_view"),
        (with_engagement(path="pricing*"), "engagement[0].path: must be a URL path glob such as /pricing*"),
        (with_engagement(path="/a b"), "engagement[0].path: must not contain spaces"),
        (with_engagement(path="/" + "a" * 500), "engagement[0].path: must be a URL path glob such as /pricing*"),
        (with_engagement(props={"campaign": None}), "engagement[0].props.campaign: must be a short text"),
        (with_engagement(props=["campaign"]), "engagement[0].props: must be a mapping"),
        (with_engagement(props={"k" * 65: 1}), f"engagement[0].props.{'k' * 65}: must be a property name"),
        (with_engagement(props={"campaign": "x" * 201}), "engagement[0].props.campaign: must be a short text"),
        (with_engagement(props={"campaign": "a\x01b"}), "engagement[0].props.campaign: must be a short text"),
        (with_engagement(props={f"k{i}": 1 for i in range(21)}), "engagement[0].props: at most 20 properties"),
        (with_engagement(cap=-5), "engagement[0].cap: must be greater than 0"),
        (with_engagement(cap=0), "engagement[0].cap: must be greater than 0"),
        (with_engagement(half_life_days=-14), "engagement[0].half_life_days: must be greater than 0"),
        (with_engagement(half_life_days=0), "engagement[0].half_life_days: must be greater than 0"),
        (with_engagement(half_life_days=3651), "engagement[0].half_life_days: must be at most 3650"),
        (with_engagement(points=-10), "engagement[0].cap: is required for negative points"),
        (with_engagement(window={"count": 0, "days": 7}), "engagement[0].window.count: must be at least 1"),
        (with_engagement(window={"count": 2.5, "days": 7}), "engagement[0].window.count: must be a whole number"),
        (with_engagement(window={"count": 101, "days": 7}), "engagement[0].window.count: must be at most 100"),
        (with_engagement(window={"count": 3, "days": -7}), "engagement[0].window.days: must be greater than 0"),
        (with_engagement(window={"count": 3}), "engagement[0].window.days: is required"),
        (with_engagement(window={"days": 3}), "engagement[0].window.count: is required"),
        (with_engagement(window={}), "engagement[0].window: needs count and days"),
        (with_engagement(window={"count": 3, "days": 7, "from": "now"}),
         "engagement[0].window.from: is not a known window setting (count, days)"),
        (with_engagement(window={"count": 3, "days": 7}, half_life_days=14),
         "engagement[0].half_life_days: a window rule does not decay"),
        (with_engagement(decay=14), "engagement[0].decay: is not a known engagement rule setting"),
        (changed(engagement=[{}]),
         "engagement[0]: is empty: an engagement rule needs an id, a label, an event and points"),
        # intent rules
        (changed(intent=[{"id": "big", "label": "I", "field": "x", "known": True, "points": 5}]),
         "intent[0].id: 'big' is already the id of fit[0]"),
        (changed(intent=[{}]), "intent[0]: is empty: an intent rule needs an id, a label, a test and points"),
        (changed(intent=[{"id": "i", "label": "I", "field": "x", "known": True, "points": 5, "cap": 5}]),
         "intent[0].cap: an intent rule awards its points once, so it has no cap"),
        (changed(intent=[{"id": "i", "label": "I", "field": "x", "known": True, "points": 5, "decay": 5}]),
         "intent[0].decay: is not a known intent rule setting"),
        (changed(intent={"id": "i"}), "intent: must be a list"),
        # segments
        (with_fit(field="x", known=True, when={"field": "customer_type"}),
         "fit[0].when: needs exactly one test: equals, not_equals, in"),
        (with_fit(field="x", known=True, when={"field": "customer_type", "is": "b2c"}),
         "fit[0].when.is: is not a test: equals, not_equals"),
        (with_fit(field="x", known=True, when={"field": "Customer", "equals": "b2c"}),
         "fit[0].when.field: must be lower-case letters"),
        (with_fit(field="x", known=True, when={"field": "t", "in": "b2c"}), "fit[0].when.in: must be a list"),
        (with_fit(field="x", known=True, when={"field": "t", "gte": "5"}), "fit[0].when.gte: must be a number"),
        (with_fit(field="x", known=True, when={"field": "t", "known": False}), "fit[0].when.known: must be true"),
        (with_fit(field="x", known=True, when=[]), "fit[0].when: must name at least one condition"),
        (with_fit(field="x", known=True, when=[{"field": "t", "known": True}, 3]), "fit[0].when[1]: must be a mapping"),
        (with_fit(field="x", known=True, when="b2c"), "fit[0].when: must be a list"),
        (with_engagement(when={"field": "t", "equals": None}), "engagement[0].when.equals: must be a short text"),
        (changed(disqualifiers=[{"id": "d", "label": "D", "email_domain": "student", "when": {"field": "t"}}]),
         "disqualifiers[0].when: needs exactly one test"),
        # disqualifiers
        (changed(disqualifiers=[{"id": "d", "label": "D", "email_domain": "free_mail", "points": -5}]),
         "disqualifiers[0].points: a disqualifier blocks MQL and SQL; for points, write a fit rule"),
        (changed(disqualifiers=[{"id": "d", "label": "D"}]), "disqualifiers[0]: needs a field and one test"),
        (changed(disqualifiers=[{}]), "disqualifiers[0]: is empty"),
        (changed(disqualifiers=[{"id": "big", "label": "D", "email_domain": "student"}]),
         "disqualifiers[0].id: 'big' is already the id of fit[0]"),
        (changed(disqualifiers=[{"id": "d", "label": "D", "email_domain": "student", "note": 1}]),
         "disqualifiers[0].note: is not a known disqualifier setting"),
    ],
)  # fmt: skip
def test_a_bad_document_is_refused_with_the_path_of_the_problem(document: Any, expected: str) -> None:
    found = problems(document)
    assert any(problem.startswith(expected) for problem in found), found


def test_every_problem_is_reported_in_one_pass() -> None:
    document = changed(
        thresholds={"mql": 80, "sql": 75},
        sql_gate={"any_known": ["timeline"]},
        fit=[
            {"id": "a", "label": "A", "field": "size", "min": 10, "max": 5, "points": 10},
            {"id": "a", "label": "A again", "email_domain": "nowhere", "points": 10},
        ],
        engagement=[{"id": "b", "label": "B", "event": "page_view", "points": 5, "cap": -1, "half_life_days": -2}],
    )
    assert problems(document) == [
        "thresholds: mql (80) must be below sql (75)",
        "fit[0]: min is above max",
        "fit[1].id: 'a' is already the id of fit[0]",
        "fit[1].email_domain: 'nowhere' is not a domain list (free_mail, student)",
        "engagement[0].cap: must be greater than 0",
        "engagement[0].half_life_days: must be greater than 0",
        "sql_gate.any_known[0]: 'timeline' is not read by any fit or intent rule",
    ]


def test_a_model_error_is_a_value_error_listing_its_problems() -> None:
    with pytest.raises(ValueError, match="thresholds.mql: must be greater than 0"):
        parse_model(changed(thresholds={"mql": -1}))


def test_the_format_reference_examples_are_valid() -> None:
    """Every YAML block of docs/scoring-format.md that is a whole model or a rule list loads."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "scoring-format.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    whole = [block for block in blocks if block.startswith("format: leadwheel/scoring@1")]
    assert len(whole) == 1
    model = load_model(whole[0])
    assert model.thresholds.mql == 25 and len(model.engagement) == 4 and len(model.intent) == 3
    checked = 0
    for block in blocks:
        raw = yaml.safe_load(block)
        if isinstance(raw, dict) and set(raw) <= {
            "fit", "intent", "engagement", "disqualifiers", "domains", "mql_gate", "sql_gate"
        }:  # fmt: skip
            document = {"name": "Doc", **copy.deepcopy(MINIMAL), **raw}
            document.setdefault("domains", {}).update({"competitors": ["rival.example"]})
            if "sql_gate" in raw:
                document["fit"] = [
                    {"id": f"f_{name}", "label": name, "field": name, "known": True, "points": 10}
                    for name in raw["sql_gate"]["any_known"]
                ] or MINIMAL["fit"]
                document["intent"] = [
                    {"id": name, "label": name, "field": name, "equals": True, "points": 10}
                    for name in raw["sql_gate"]["hand_raises"]
                    if name not in {rule["id"] for rule in MINIMAL["engagement"]}
                ]
            parse_model(document)
            checked += 1
        elif isinstance(raw, list) or (isinstance(raw, dict) and "id" in raw):
            rules = raw if isinstance(raw, list) else [raw]
            parse_model(changed(engagement=[rule for rule in rules if "event" in rule] or MINIMAL["engagement"]))
            checked += 1
    assert checked == len(blocks) - 1
