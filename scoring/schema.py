"""The scoring-model (``leadwheel/scoring@1``) and routing (``leadwheel/routing@1``) formats, declared once.

These models are the published JSON Schemas (docs/schemas/scoring-model.schema.json and
routing.schema.json) and the keys :mod:`scoring.document` and :mod:`scoring.routing`
accept at each level. The loaders there add what a schema cannot say (ids are unique,
gates name rules that exist, a disqualifier has no points) and build the frozen domain
objects. Conditions (``when``) are the sequence format's, so they are imported from it.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

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

Person = Annotated[str, Field(min_length=1, max_length=254, description="An e-mail address or CRM id")]


class RoutingRuleDocument(Declared):
    """The first rule whose test matches the lead's answer names its owner or team."""

    field: Annotated[str, Field(min_length=1)]
    equals: Any = None
    in_: Annotated[list[Any], Field(min_length=1)] | None = Field(None, alias="in")
    min: float | None = None
    max: float | None = None
    owner: Person | None = None
    team: str | None = None


class RoutingDocument(Declared):
    """Who in sales gets a lead that is handed off: account owners, then rules, then the default team."""

    format: Literal["leadwheel/routing@1"]
    account_owners: dict[str, Person] = {}
    rules: list[RoutingRuleDocument] = []
    teams: dict[str, Annotated[list[Person], Field(min_length=1)]] = {}
    default_team: str | None = None


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
