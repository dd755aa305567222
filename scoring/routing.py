"""Routing: who in sales is responsible for a lead that is handed off.

The seeds ask for the CRM to create a task for *the* responsible salesperson
when a lead turns hot. The order is the one sales teams use: a target account
belongs to its account owner; otherwise the first rule that matches an answer
(country, company size, ...) names a person or a team; otherwise the default
team. A team is served round-robin, which needs a counter, so this module only
says which team and the capture side keeps the turns.

A routing document::

    format: leadwheel/routing@1
    account_owners: {acme.com: anna@ours.example}
    rules:
      - {field: country, in: [dk, no], team: nordics}
      - {field: company_size, min: 1000, owner: bo@ours.example}
    teams: {nordics: [cia@ours.example, dan@ours.example], inbound: [eva@ours.example]}
    default_team: inbound
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from profiling.schema_support import YAML_LOADER, ProblemsError, unknown_keys, with_lines
from scoring.model import email_domain, listed_domain, same_value
from scoring.profile import Profile
from scoring.schema import RoutingDocument, RoutingRuleDocument

FORMAT = "leadwheel/routing@1"


class RoutingError(ProblemsError):
    """A routing document that cannot be used, with every problem found ("path: message")."""


@dataclass(frozen=True)
class RoutingRule:
    field: str
    #: the answer equals one of these (any of them, for a multi-select answer)
    values: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    owner: str | None = None
    team: str | None = None

    def matches(self, profile: Profile) -> bool:
        known = profile.fields.get(self.field)
        if known is None:
            return False
        if self.values:
            chosen = known if isinstance(known, list) else [known]
            return any(same_value(item, wanted) for item in chosen for wanted in self.values)
        if isinstance(known, bool) or not isinstance(known, (int, float)):
            return False
        return (self.minimum is None or known >= self.minimum) and (self.maximum is None or known <= self.maximum)


@dataclass(frozen=True)
class Routing:
    account_owners: Mapping[str, str]
    rules: tuple[RoutingRule, ...]
    teams: Mapping[str, tuple[str, ...]]
    default_team: str | None


@dataclass(frozen=True)
class Assignment:
    """Either a person, or a team to pick the next person from; ``reason`` says which rule decided."""

    owner: str | None
    team: str | None
    reason: str


def route(routing: Routing, profile: Profile) -> Assignment | None:
    """Who should have this lead; None when nothing applies and there is no default team."""
    domain = email_domain(profile.email)
    if domain is not None:
        account = listed_domain(domain, frozenset(routing.account_owners))
        if account is not None:
            return Assignment(routing.account_owners[account], None, f"target account {account}")
    for number, rule in enumerate(routing.rules, 1):
        if rule.matches(profile):
            return Assignment(rule.owner, rule.team, f"rule {number} ({rule.field})")
    if routing.default_team is not None:
        return Assignment(None, routing.default_team, "default team")
    return None


def load_routing(text: str) -> Routing:
    """A routing document from YAML or JSON text."""
    try:
        document = yaml.load(text, Loader=YAML_LOADER)
    except yaml.YAMLError as exc:
        raise RoutingError([f"not YAML or JSON: {exc}"]) from None
    try:
        return parse_routing(document)
    except RoutingError as exc:
        raise RoutingError(with_lines(text, exc.problems)) from None


def parse_routing(document: Any) -> Routing:
    """Check everything at once, so a marketer sees every problem in one go."""
    problems: list[str] = []
    if not isinstance(document, Mapping):
        raise RoutingError(["the document must be a mapping (a YAML or JSON object)"])
    if document.get("format") != FORMAT:
        problems.append(f"format: must be '{FORMAT}'")
    problems += unknown_keys(document, RoutingDocument.keys(), "", "is not a known setting")

    teams: dict[str, tuple[str, ...]] = {}
    raw_teams = document.get("teams") or {}
    if not isinstance(raw_teams, Mapping):
        problems.append("teams: must map a team name to a list of people")
    else:
        for name, members in raw_teams.items():
            if not isinstance(members, list) or not members or not all(_person(m) for m in members):
                problems.append(f"teams.{name}: must be a non-empty list of people (e-mail addresses or CRM ids)")
            else:
                teams[str(name)] = tuple(members)

    owners: dict[str, str] = {}
    raw_owners = document.get("account_owners") or {}
    if not isinstance(raw_owners, Mapping):
        problems.append("account_owners: must map an e-mail domain to a person")
    else:
        for domain, person in raw_owners.items():
            if not isinstance(domain, str) or "." not in domain or not _person(person):
                problems.append(f"account_owners.{domain}: must map a domain such as acme.com to a person")
            else:
                owners[domain.lower().strip(".")] = person

    rules: list[RoutingRule] = []
    raw_rules = document.get("rules") or []
    if not isinstance(raw_rules, list):
        problems.append("rules: must be a list")
        raw_rules = []
    for index, raw in enumerate(raw_rules):
        rule = _rule(raw, f"rules[{index}]", teams, problems)
        if rule is not None:
            rules.append(rule)

    default_team = document.get("default_team")
    if default_team is not None and default_team not in teams:
        problems.append(f"default_team: '{default_team}' is not one of the teams")
    if problems:
        raise RoutingError(problems)
    return Routing(owners, tuple(rules), teams, default_team)


def _person(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value.strip()) <= 254


def _rule(raw: Any, path: str, teams: Mapping[str, Any], problems: list[str]) -> RoutingRule | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{path}: must be a mapping")
        return None
    before = len(problems)
    problems += unknown_keys(raw, RoutingRuleDocument.keys(), path, "is not a known setting")
    field = raw.get("field")
    if not isinstance(field, str) or not field:
        problems.append(f"{path}.field: names the profile field the rule reads")
    values: tuple[Any, ...] = ()
    if "equals" in raw:
        values = (raw["equals"],)
    elif "in" in raw:
        if not isinstance(raw["in"], list) or not raw["in"]:
            problems.append(f"{path}.in: must be a non-empty list")
        else:
            values = tuple(raw["in"])
    bounds = [raw.get("min"), raw.get("max")]
    if any(b is not None and (isinstance(b, bool) or not isinstance(b, (int, float))) for b in bounds):
        problems.append(f"{path}: min and max must be numbers")
    if not values and bounds == [None, None]:
        problems.append(f"{path}: needs equals, in, or min/max")
    owner, team = raw.get("owner"), raw.get("team")
    if (owner is None) == (team is None):
        problems.append(f"{path}: names either an owner or a team")
    elif owner is not None and not _person(owner):
        problems.append(f"{path}.owner: must be a person (an e-mail address or CRM id)")
    elif team is not None and team not in teams:
        problems.append(f"{path}.team: '{team}' is not one of the teams")
    if len(problems) > before:
        return None
    return RoutingRule(str(field), values, bounds[0], bounds[1], owner, team)


def routing_document(routing: Routing) -> dict[str, Any]:
    """The canonical document (what is stored and exported)."""
    rules = []
    for rule in routing.rules:
        entry: dict[str, Any] = {"field": rule.field}
        if len(rule.values) == 1:
            entry["equals"] = rule.values[0]
        elif rule.values:
            entry["in"] = list(rule.values)
        if rule.minimum is not None:
            entry["min"] = rule.minimum
        if rule.maximum is not None:
            entry["max"] = rule.maximum
        entry["owner" if rule.owner is not None else "team"] = rule.owner or rule.team
        rules.append(entry)
    document: dict[str, Any] = {
        "format": FORMAT,
        "account_owners": dict(routing.account_owners),
        "rules": rules,
        "teams": {name: list(members) for name, members in routing.teams.items()},
    }
    if routing.default_team is not None:
        document["default_team"] = routing.default_team
    return document


def dump_routing(routing: Routing) -> str:
    return json.dumps(routing_document(routing), indent=2, ensure_ascii=False) + "\n"
