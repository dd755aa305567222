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
from pydantic import ValidationError

from profiling.schema_support import YAML_LOADER, DocumentProblem, ProblemsError, loading_problems, with_lines
from profiling.schema_types import problems_of
from scoring.inputs import Profile
from scoring.model import email_domain, listed_domain, same_value
from scoring.schema import RoutingDocument

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


def routing_problems(text: str) -> list[DocumentProblem]:
    """Every problem of a routing document's text, with its path and line (empty when it loads)."""
    return loading_problems(load_routing, text, RoutingError)


def parse_routing(document: Any) -> Routing:
    """Check everything at once, so a marketer sees every problem in one go.

    The declaration (:class:`scoring.schema.RoutingDocument`) does the checking; this builds
    the frozen :class:`Routing` from what it accepted.
    """
    if not isinstance(document, Mapping):
        raise RoutingError(["the document must be a mapping (a YAML or JSON object)"])
    try:
        checked = RoutingDocument.check(document)
    except ValidationError as exc:
        raise RoutingError(problems_of(exc)) from None
    rules = tuple(
        RoutingRule(
            rule.field,
            (rule.equals,) if rule.equals is not None else tuple(rule.in_ or ()),
            rule.min,
            rule.max,
            rule.owner,
            rule.team,
        )
        for rule in checked.rules
    )
    owners = {domain.lower().strip("."): person for domain, person in checked.account_owners.items()}
    teams = {name: tuple(members) for name, members in checked.teams.items()}
    return Routing(owners, rules, teams, checked.default_team)


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
