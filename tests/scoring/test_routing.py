"""Routing rules: account owner first, then the first matching rule, then the default team."""

from __future__ import annotations

import pytest

from scoring.inputs import Profile
from scoring.routing import RoutingError, load_routing, parse_routing, route, routing_document

DOCUMENT = """
format: leadwheel/routing@1
account_owners: {bigco.example: anna@ours.example}
rules:
  - {field: country, in: [dk, "no"], team: nordics}  # quoted: YAML reads a bare no as false
  - {field: company_size, min: 1000, owner: bo@ours.example}
  - {field: industry, equals: retail, owner: eva@ours.example}
teams: {nordics: [cia@ours.example, dan@ours.example], inbound: [eva@ours.example]}
default_team: inbound
"""


def test_the_order_sales_teams_use() -> None:
    routing = load_routing(DOCUMENT)
    assert route(routing, Profile({"country": "dk"}, "p@eu.bigco.example")).owner == "anna@ours.example"
    nordic = route(routing, Profile({"country": "no", "company_size": 5000}, "p@x.example"))
    assert nordic is not None and (nordic.owner, nordic.team) == (None, "nordics") and "rule 1" in nordic.reason
    big = route(routing, Profile({"country": "se", "company_size": 5000}, None))
    assert big is not None and big.owner == "bo@ours.example"
    assert route(routing, Profile({"industry": ["retail", "b2b"]}, None)).owner == "eva@ours.example"  # type: ignore[union-attr]
    fallback = route(routing, Profile({}, None))
    assert fallback is not None and fallback.team == "inbound" and fallback.reason == "default team"
    assert route(parse_routing({"format": "leadwheel/routing@1"}), Profile({}, None)) is None


def test_unknown_is_not_a_match() -> None:
    routing = load_routing(DOCUMENT)
    assert route(routing, Profile({"company_size": "many"}, None)).team == "inbound"  # type: ignore[union-attr]


def test_every_problem_is_named() -> None:
    with pytest.raises(RoutingError) as refused:
        parse_routing(
            {
                "format": "leadwheel/routing@2",
                "rules": [{"field": "country", "team": "nowhere", "in": ["dk"]}, {"field": "x", "owner": "a"}],
                "teams": {"empty": []},
                "default_team": "ghosts",
                "colour": "blue",
            }
        )
    problems = "\n".join(refused.value.problems)
    for expected in [
        "format:",
        "colour: is not a known setting",
        "rules[0].team",
        "rules[1]: needs",
        "teams.empty",
        "default_team",
    ]:
        assert expected in problems


def test_the_document_round_trips() -> None:
    routing = load_routing(DOCUMENT)
    assert parse_routing(routing_document(routing)) == routing


def test_true_is_not_a_size_and_an_empty_list_matches_nothing() -> None:
    with pytest.raises(RoutingError) as refused:
        parse_routing(
            {
                "format": "leadwheel/routing@1",
                "rules": [
                    {"field": "company_size", "min": True, "team": "inbound"},
                    {"field": "c", "in": [], "team": "inbound"},
                ],
                "teams": {"inbound": ["eva@ours.example"]},
            }
        )
    assert refused.value.problems == ["rules[0].min: must be a number", "rules[1].in: must list at least 1 value"]


def test_a_whole_bound_stays_whole_in_the_export() -> None:
    exported = routing_document(load_routing(DOCUMENT))
    assert any(rule.get("min") == 1000 and isinstance(rule["min"], int) for rule in exported["rules"])
