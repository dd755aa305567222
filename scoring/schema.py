"""The scoring-model (``leadwheel/scoring@1``) and routing (``leadwheel/routing@1``) formats, declared once.

These models are the published JSON Schemas (docs/schemas/scoring-model.schema.json and
routing.schema.json) and the keys :mod:`scoring.document` and :mod:`scoring.routing`
accept at each level. The loaders there add what a schema cannot say (ids are unique,
gates name rules that exist, a disqualifier has no points) and build the frozen domain
objects. Conditions (``when``) are the sequence format's, so they are imported from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictFloat,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    model_validator,
)

from profiling.schema import ConditionDocument, sequence_schema
from profiling.schema_types import NO_CONTROL, Declared, Key, Number, Scalar, json_schema

MODEL_SCHEMA_ID = "https://leadwheel.example/schemas/scoring-model.schema.json"
ROUTING_SCHEMA_ID = "https://leadwheel.example/schemas/routing.schema.json"
#: Upper bounds that keep a model (and every lead's tally) small.
MAX_RULES = 200
MAX_LISTS = 50
MAX_DOMAINS = 10_000
MAX_LABEL = 200
MAX_VALUES = 100
MAX_PROPS = 20
MAX_PATH = 500
#: A single rule worth more than the whole 0–100 scale is a typo.
MAX_POINTS = 100.0
MAX_DAYS = 3650.0
#: Window rules keep this many timestamps per lead, so it bounds the tally's size.
MAX_WINDOW_COUNT = 100
MAX_WEIGHT = 10.0
#: At most this many conditions in one segment.
MAX_CONDITIONS = 10

#: Event types: the same shape the capture side accepts (``page_view``, ``crm:call``).
EVENT = r"^[a-z][a-z0-9_.:-]{0,63}$"
Label = Annotated[str, StringConstraints(min_length=1, max_length=MAX_LABEL, pattern=NO_CONTROL)]
Word = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NO_CONTROL)]
Points = Annotated[float, Field(ge=-MAX_POINTS, le=MAX_POINTS, allow_inf_nan=False)]
Share = Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]
Days = Annotated[float, Field(gt=0, le=MAX_DAYS, allow_inf_nan=False)]
Segment = Annotated[
    ConditionDocument | Annotated[list[ConditionDocument], Field(min_length=1, max_length=MAX_CONDITIONS)],
    Field(description="Applies only to leads for which this condition (or every one of these) holds"),
]
Values = Annotated[list[Scalar], Field(min_length=1, max_length=MAX_VALUES)]


class CriterionKeys(Declared):
    """A test of one profile field, or of the lead's e-mail domain (``email_domain``)."""

    field: Key | None = None
    email_domain: Key | None = Field(None, description="A list under domains, or a built-in list")
    equals: Scalar | None = None
    in_: Values | None = Field(None, alias="in")
    min: Number | None = None
    max: Number | None = None
    mentions: Annotated[list[Word], Field(min_length=1, max_length=MAX_VALUES)] | None = None
    known: Literal[True] | None = None


class FitRuleDocument(CriterionKeys):
    """Points for who the lead is (fit) or what they say they want (intent), awarded once."""

    id: Key
    label: Label
    points: Points
    when: Segment | None = None


class DisqualifierDocument(CriterionKeys):
    """A reason a lead must never become MQL or SQL, whatever its score."""

    id: Key
    label: Label
    when: Segment | None = None


class WindowDocument(Declared):
    count: Annotated[int, Field(ge=1, le=MAX_WINDOW_COUNT)]
    days: Days


class EngagementRuleDocument(Declared):
    """Points for what the lead does: page views, downloads, hand-raises."""

    id: Key
    label: Label
    event: Annotated[str, Field(pattern=EVENT)]
    path: Annotated[str, Field(max_length=MAX_PATH, pattern=r"^[/*]\S*$")] | None = None
    props: Annotated[dict[Annotated[str, Field(min_length=1, max_length=64)], Scalar], Field(max_length=MAX_PROPS)] = {}
    points: Points
    cap: Annotated[float, Field(gt=0, le=MAX_POINTS, allow_inf_nan=False)] | None = None
    half_life_days: Days | None = None
    window: WindowDocument | None = None
    high_intent: bool = False
    when: Segment | None = None


class ThresholdsDocument(Declared):
    mql: Share = 25
    sql: Share = 75


class WeightsDocument(Declared):
    fit: Annotated[float, Field(ge=0, le=MAX_WEIGHT)] = 1
    intent: Annotated[float, Field(ge=0, le=MAX_WEIGHT)] = 1
    engagement: Annotated[float, Field(ge=0, le=MAX_WEIGHT)] = 1


class MqlGateDocument(Declared):
    min_interest: Share = 5


class SqlGateDocument(Declared):
    min_fit: Annotated[float, Field(ge=0, le=100)] = 10
    any_known: Annotated[list[Key], Field(max_length=MAX_VALUES)] = []
    min_intent: Share = 10
    min_engagement: Annotated[float, Field(ge=0, le=100)] = 0
    hand_raises: Annotated[list[Key], Field(max_length=MAX_VALUES)] | None = None


Rules = Annotated[list[FitRuleDocument], Field(max_length=MAX_RULES)]


class ScoringModelDocument(Declared):
    """A lead-scoring model: fit, intent and engagement rules, disqualifiers and the MQL/SQL gates."""

    format: Literal["leadwheel/scoring@1"] = "leadwheel/scoring@1"
    name: Label
    description: Annotated[str, Field(max_length=2000)] = ""
    thresholds: ThresholdsDocument = ThresholdsDocument()
    hysteresis: Annotated[float, Field(ge=0, le=100)] = 10
    weights: WeightsDocument = WeightsDocument()
    mql_gate: MqlGateDocument = MqlGateDocument()
    sql_gate: SqlGateDocument = SqlGateDocument()
    domains: Annotated[dict[Key, Annotated[list[str], Field(max_length=MAX_DOMAINS)]], Field(max_length=MAX_LISTS)] = {}
    fit: Rules = []
    intent: Rules = []
    engagement: Annotated[list[EngagementRuleDocument], Field(max_length=MAX_RULES)] = []
    disqualifiers: Annotated[list[DisqualifierDocument], Field(max_length=MAX_RULES)] = []


# --- routing -------------------------------------------------------------------------------------


def _person(value: str) -> str:
    if not 0 < len(value.strip()) <= 254:
        raise ValueError("must be a person (an e-mail address or CRM id)")
    return value


def _domain(value: str) -> str:
    if "." not in value:
        raise ValueError("must map a domain such as acme.com to a person")
    return value


def _people(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("must be a non-empty list of people (e-mail addresses or CRM ids)")
    return value


def _a_team(value: str | None, info: ValidationInfo) -> str | None:
    """A team a rule or the default names must be declared under ``teams`` (passed as context)."""
    if value is not None and info.context is not None and value not in info.context.get("teams", ()):
        raise ValueError(f"'{value}' is not one of the teams")
    return value


#: the schema's bounds are written out, so that the loader's message is its own ("must be a person")
Person = Annotated[
    str,
    Field(description="An e-mail address or CRM id", json_schema_extra={"minLength": 1, "maxLength": 254}),
    AfterValidator(_person),
]
Team = Annotated[str, AfterValidator(_a_team)]


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a number")
    return value


#: kept as written (1000 stays 1000 in an export); true/false is not a number here
Bound = Annotated[StrictInt | StrictFloat, BeforeValidator(_number)]


class RoutingRuleDocument(Declared):
    """The first rule whose test matches the lead's answer names its owner or team."""

    field: Annotated[str, Field(min_length=1, description="The profile field the rule reads")]
    equals: Any = None
    in_: Annotated[list[Any], Field(min_length=1)] | None = Field(None, alias="in")
    min: Bound | None = None
    max: Bound | None = None
    owner: Person | None = None
    team: Team | None = None

    @model_validator(mode="after")
    def _one_test_and_one_target(self) -> RoutingRuleDocument:
        if self.equals is None and not self.in_ and self.min is None and self.max is None:
            raise ValueError("needs equals, in, or min/max")
        if (self.owner is None) == (self.team is None):
            raise ValueError("names either an owner or a team")
        return self


class RoutingDocument(Declared):
    """Who in sales gets a lead that is handed off: account owners, then rules, then the default team."""

    format: Literal["leadwheel/routing@1"]
    account_owners: dict[Annotated[str, AfterValidator(_domain)], Person] = {}
    rules: list[RoutingRuleDocument] = []
    teams: dict[str, Annotated[list[Person], Field(json_schema_extra={"minItems": 1}), AfterValidator(_people)]] = {}
    default_team: Team | None = None

    @classmethod
    def check(cls, document: Mapping[str, Any]) -> RoutingDocument:
        """Validate in one pass: the teams' names are the context that rule and default teams are checked in."""
        teams = document.get("teams")
        names = {str(name) for name in teams} if isinstance(teams, Mapping) else set()
        return cls.model_validate(document, context={"teams": names})


def model_schema() -> dict[str, Any]:
    return json_schema(ScoringModelDocument, MODEL_SCHEMA_ID, "Leadwheel scoring model (leadwheel/scoring@1)")


def routing_schema() -> dict[str, Any]:
    return json_schema(RoutingDocument, ROUTING_SCHEMA_ID, "Leadwheel routing (leadwheel/routing@1)")


def schema_files() -> dict[str, str]:
    """The published schemas (docs/schemas/), by file name, as scripts/build-schemas writes them."""
    schemas = {
        "sequence.schema.json": sequence_schema(),
        "scoring-model.schema.json": model_schema(),
        "routing.schema.json": routing_schema(),
    }
    return {name: json.dumps(schema, indent=2, ensure_ascii=False) + "\n" for name, schema in schemas.items()}
