"""The scoring-model (``leadwheel/scoring@1``) and routing (``leadwheel/routing@1``) formats, declared once.

These models are the published JSON Schemas (docs/schemas/scoring-model.schema.json and
routing.schema.json) and the validators :mod:`scoring.document` and :mod:`scoring.routing`
load with. Each part checks its own fields and what they say together (a criterion has
exactly one test, a disqualifier no points); what spans parts (ids are unique, gates and
``email_domain`` name rules and lists that exist) is read from the raw document first and
passed in the validation context (:meth:`ScoringModelDocument.check`), so that it is
reported beside every other problem. Conditions (``when``) are the sequence format's, so
they are imported from it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    StrictFloat,
    StrictInt,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from profiling.schema import ConditionDocument, sequence_schema
from profiling.schema_support import KEY_PATTERN
from profiling.schema_types import (
    NO_CONTROL,
    SCALAR_WORDS,
    Compared,
    Declared,
    Key,
    Number,
    Where,
    again,
    json_schema,
    not_blank,
    refuse,
    shown,
    worded,
)
from profiling.sequence import Operator
from scoring.model import BUILT_IN_LISTS

MODEL_SCHEMA_ID = "https://leadwheel.example/schemas/scoring-model.schema.json"
ROUTING_SCHEMA_ID = "https://leadwheel.example/schemas/routing.schema.json"
FORMAT = "leadwheel/scoring@1"
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
DOMAIN_PATTERN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
#: The rule groups, in the order their ids are taken (a later duplicate is the one refused).
RULE_GROUPS = ("fit", "intent", "engagement", "disqualifiers")
#: the groups whose rules score (a model needs at least one such rule)
SCORING_GROUPS = ("fit", "intent", "engagement")
_NO_RULE = "a model needs at least one fit, intent or engagement rule"


def _context(info: ValidationInfo) -> Mapping[str, Any]:
    """What :meth:`ScoringModelDocument.check` read across parts (:func:`_spanning`); empty when a part
    is validated on its own, and then what depends on other parts is not checked."""
    return info.context if isinstance(info.context, Mapping) else {}


def _a_domain_list(name: str, info: ValidationInfo) -> str:
    lists = _context(info).get("lists")
    if lists is not None and name not in lists and name not in BUILT_IN_LISTS:
        raise ValueError(f"{name!r} is not a domain list ({', '.join([*lists, *BUILT_IN_LISTS])})")
    return name


def _read_by_a_rule(name: str, info: ValidationInfo) -> str:
    fields = _context(info).get("fields")
    if fields is not None and name not in fields:
        raise ValueError(f"'{name}' is not read by any fit or intent rule")
    return name


def _a_hand_raise(rule_id: str, info: ValidationInfo) -> str:
    rules = _context(info).get("hand_raises")
    if rules is not None and rule_id not in rules:
        raise ValueError(f"'{rule_id}' is not an intent or engagement rule")
    return rule_id


def _not_built_in(name: str) -> str:
    if name in BUILT_IN_LISTS:
        raise ValueError(f"'{name}' is a built-in list; give yours another name")
    return name


def _a_domain(entry: str) -> str:
    """``@ACME.com.`` is acme.com: the form a domain is matched in."""
    domain = entry.strip().lower().lstrip("@").rstrip(".")
    if not DOMAIN_PATTERN.match(domain):
        raise ValueError("is not a domain")
    return domain


def _no_spaces(path: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if isinstance(path, str) and path.startswith(("/", "*")) and any(char.isspace() for char in path):
        raise PydanticCustomError("glob", "must not contain spaces")
    return handler(path)


def _refused_if_null(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """``equals:`` with no value is a mistake, not "no test" (the schema's null is the absent test)."""
    if value is None:
        raise PydanticCustomError("scalar", SCALAR_WORDS)
    return handler(value)


Label = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_LABEL, pattern=NO_CONTROL), AfterValidator(not_blank)
]
Word = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NO_CONTROL), AfterValidator(not_blank)]
Points = Annotated[float, Field(ge=-MAX_POINTS, le=MAX_POINTS, allow_inf_nan=False)]
Share = Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]
Days = Annotated[float, Field(gt=0, le=MAX_DAYS, allow_inf_nan=False)]
Values = Annotated[
    list[Compared], Field(min_length=1, max_length=MAX_VALUES), worded(too_short="must list at least one value")
]
DomainName = Annotated[str, AfterValidator(_a_domain), worded(any="is not a domain such as acme.com")]
DomainListName = Annotated[Key, AfterValidator(_not_built_in)]
#: a field some fit or intent rule reads (the SQL gate's any_known), an intent or engagement rule (its hand_raises)
ReadField = Annotated[Key, AfterValidator(_read_by_a_rule)]
HandRaise = Annotated[Key, AfterValidator(_a_hand_raise)]

_CONDITION = TypeAdapter(ConditionDocument)
_CONDITIONS = TypeAdapter(
    Annotated[
        list[ConditionDocument],
        Field(min_length=1, max_length=MAX_CONDITIONS),
        worded(too_short="must name at least one condition"),
    ],
    config=ConfigDict(strict=True),
)
#: a test given no value is told what its value must be
_NULL_WORDS = {
    Operator.IN: "must be a list",
    Operator.NOT_IN: "must be a list",
    Operator.GT: "must be a number",
    Operator.GTE: "must be a number",
    Operator.LT: "must be a number",
    Operator.LTE: "must be a number",
    Operator.KNOWN: "must be true",
}


def _one_or_all(when: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    """A condition, or a list of them, each read as what it is: pydantic's union would report a
    mapping's problems once for each reading (and a single condition keeps its path, ``when.field``).

    Stricter than a sequence's conditions: every test has a value, and ``in`` lists 1 to 100.
    """
    if isinstance(when, Mapping):
        condition = _CONDITION.validate_python(when, strict=True, context=info.context)
        refuse(_valueless([condition], single=True))
        return condition
    conditions = _CONDITIONS.validate_python(when, strict=True, context=info.context)
    refuse(_valueless(conditions, single=False))
    return conditions


def _valueless(conditions: list[ConditionDocument], *, single: bool) -> Iterator[tuple[Where, str]]:
    """Tests without a value (``equals:``), which a sequence allows, and ``in`` lists of no value or too many."""
    for i, condition in enumerate(conditions):
        op, value, where = condition.operator, condition.value, () if single else (i,)
        if value is None:
            yield (*where, op.value), _NULL_WORDS.get(op, SCALAR_WORDS)
        elif op in (Operator.IN, Operator.NOT_IN) and not 0 < len(value) <= MAX_VALUES:
            yield (*where, op.value), f"must be a list of 1 to {MAX_VALUES} values"


Segment = Annotated[
    ConditionDocument | Annotated[list[ConditionDocument], Field(min_length=1, max_length=MAX_CONDITIONS)],
    Field(description="Applies only to leads for which this condition (or every one of these) holds"),
    WrapValidator(_one_or_all),
]


class CriterionKeys(Declared):
    """A test of one profile field, or of the lead's e-mail domain (``email_domain``)."""

    field: Key | None = None
    email_domain: Annotated[Key, AfterValidator(_a_domain_list)] | None = Field(
        None, description="A list under domains, or a built-in list"
    )
    equals: Annotated[Compared | None, WrapValidator(_refused_if_null)] = None
    in_: Values | None = Field(None, alias="in")
    min: Number | None = None
    max: Number | None = None
    mentions: (
        Annotated[
            list[Word], Field(min_length=1, max_length=MAX_VALUES), worded(too_short="must list at least one word")
        ]
        | None
    ) = None
    known: Literal[True] | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Self:
        refuse(((), problem) for problem in self._test_problems())
        return self

    @property
    def tests(self) -> set[str]:
        """The tests given: equals, in, range (min and/or max), mentions, known."""
        given = {"equals": self.equals, "in": self.in_, "mentions": self.mentions, "known": self.known}
        return {test for test, value in given.items() if value is not None} | (
            {"range"} if self.min is not None or self.max is not None else set()
        )

    def _test_problems(self) -> Iterator[str]:
        if self.email_domain is not None:
            if self.field is not None or self.tests:
                yield "email_domain is a test of its own: no field and no other test beside it"
        elif self.field is None:
            yield "needs a field and one test (equals, in, min/max, mentions, known), or an email_domain"
        elif len(self.tests) != 1:
            yield "needs exactly one test: equals, in, min and/or max, mentions or known"
        elif self.min is not None and self.max is not None and self.min > self.max:
            yield "min is above max"


class FitRuleDocument(CriterionKeys):
    """Points for who the lead is (fit) or what they say they want (intent), awarded once."""

    #: an intent rule is one of these in the intent group: the words are the fit group's (see ``_for_intent``)
    unknown_key: ClassVar[str] = "is not a known fit rule setting"
    not_here: ClassVar[Mapping[str, str]] = {
        "cap": "a fit rule awards its points once, so it has no cap; lower its points"
    }
    empty: ClassVar[str] = "is empty: a fit rule needs an id, a label, a test and points"

    id: Key
    label: Label
    points: Points
    when: Segment | None = None


class DisqualifierDocument(CriterionKeys):
    """A reason a lead must never become MQL or SQL, whatever its score."""

    unknown_key: ClassVar[str] = "is not a known disqualifier setting"
    not_here: ClassVar[Mapping[str, str]] = {
        "points": "a disqualifier blocks MQL and SQL; for points, write a fit rule"
    }
    empty: ClassVar[str] = "is empty: a disqualifier needs an id, a label (the reason) and a test"

    id: Key
    label: Label
    when: Segment | None = None


class WindowDocument(Declared):
    unknown_key: ClassVar[str] = "is not a known window setting (count, days)"
    empty: ClassVar[str] = "needs count and days"

    count: Annotated[int, Field(ge=1, le=MAX_WINDOW_COUNT)]
    days: Days


class EngagementRuleDocument(Declared):
    """Points for what the lead does: page views, downloads, hand-raises."""

    unknown_key: ClassVar[str] = "is not a known engagement rule setting"
    empty: ClassVar[str] = "is empty: an engagement rule needs an id, a label, an event and points"

    id: Key
    label: Label
    event: Annotated[
        str,
        Field(pattern=EVENT),
        worded(any="must be an event type such as page_view (lower-case letters, digits, _.:-)"),
    ]
    path: (
        Annotated[
            str,
            Field(max_length=MAX_PATH, pattern=r"^[/*]\S*$"),
            worded(any=f"must be a URL path glob such as /pricing* (at most {MAX_PATH} characters)"),
            WrapValidator(_no_spaces),
        ]
        | None
    ) = None
    props: Annotated[
        dict[
            Annotated[
                str, Field(min_length=1, max_length=64), worded(any="must be a property name of 1 to 64 characters")
            ],
            Compared,
        ],
        Field(max_length=MAX_PROPS),
        worded(too_long="at most {max_length} properties"),
    ] = {}
    points: Points
    cap: Annotated[float, Field(gt=0, le=MAX_POINTS, allow_inf_nan=False)] | None = None
    half_life_days: Days | None = None
    window: WindowDocument | None = None
    high_intent: bool = False
    when: Segment | None = None

    @model_validator(mode="after")
    def _settings_agree(self) -> Self:
        refuse(self._disagreements())
        return self

    def _disagreements(self) -> Iterator[tuple[Where, str]]:
        if self.points < 0 and self.cap is None and self.window is None:
            yield ("cap",), "is required for negative points, so they can never bury a lead that engages again"
        if self.window is not None and self.half_life_days is not None:
            yield (
                ("half_life_days",),
                "a window rule does not decay (the window is its recency): remove half_life_days or the window",
            )


class ThresholdsDocument(Declared):
    unknown_key: ClassVar[str] = "is not a known threshold (mql, sql)"

    mql: Share = 25
    sql: Share = 75

    @model_validator(mode="after")
    def _mql_below_sql(self) -> Self:
        if self.mql >= self.sql:
            refuse([((), f"mql ({shown(self.mql)}) must be below sql ({shown(self.sql)})")])
        return self


class WeightsDocument(Declared):
    unknown_key: ClassVar[str] = "is not a known weight (fit, intent, engagement)"

    fit: Annotated[float, Field(ge=0, le=MAX_WEIGHT, allow_inf_nan=False)] = 1
    intent: Annotated[float, Field(ge=0, le=MAX_WEIGHT, allow_inf_nan=False)] = 1
    engagement: Annotated[float, Field(ge=0, le=MAX_WEIGHT, allow_inf_nan=False)] = 1

    @model_validator(mode="after")
    def _not_all_zero(self) -> Self:
        if self.fit == self.intent == self.engagement == 0:
            refuse([((), "fit, intent and engagement cannot all weigh 0: every total would be 0")])
        return self


class MqlGateDocument(Declared):
    unknown_key: ClassVar[str] = "is not a known MQL gate setting (min_interest)"

    #: above 0: who a lead is must never make it an MQL by itself
    min_interest: Share = 5


class SqlGateDocument(Declared):
    unknown_key: ClassVar[str] = (
        "is not a known SQL gate setting (min_fit, any_known, min_intent, min_engagement, hand_raises)"
    )

    min_fit: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 10
    any_known: Annotated[list[ReadField], Field(max_length=MAX_VALUES)] = []
    #: above 0: an SQL needs evidence of buying intent, whatever its total
    min_intent: Share = 10
    min_engagement: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 0
    hand_raises: Annotated[list[HandRaise], Field(max_length=MAX_VALUES)] | None = None

    @model_validator(mode="after")
    def _not_clicks_alone(self) -> Self:
        if self.min_fit == 0 and not self.any_known:
            refuse([((), "needs min_fit above 0 or a field in any_known: clicks alone must never make SQL")])
        return self


Rules = Annotated[list[FitRuleDocument], Field(max_length=MAX_RULES)]
#: Where a model's problems are listed, by the top-level key they are under: a key the format does
#: not know (None) after the name, a problem of the whole model ("") after the rules, and the gates,
#: which name rules, last.
_READING_ORDER = (
    *("format", "name", "description", None, "thresholds", "hysteresis", "weights", "domains"),
    *(*RULE_GROUPS, "", "mql_gate", "sql_gate"),
)


def _reading_order(error: Any) -> int:
    head = error["loc"][0] if error["loc"] else ""
    return _READING_ORDER.index(head if head in _READING_ORDER else None)


def _for_intent(error: Any) -> Any:
    """A fit rule's words for a rule of the intent group (the same shape, another name)."""
    message = (
        str(error["msg"]).replace("a fit rule", "an intent rule").replace("fit rule setting", "intent rule setting")
    )
    return {**error, "msg": message}


class ScoringModelDocument(Declared):
    """A lead-scoring model: fit, intent and engagement rules, disqualifiers and the MQL/SQL gates."""

    unknown_key: ClassVar[str] = "is not a known top-level key"

    format: Literal["leadwheel/scoring@1"] = "leadwheel/scoring@1"
    name: Label
    description: Annotated[str, Field(max_length=2000), worded(any="must be a text of at most 2000 characters")] = ""
    thresholds: ThresholdsDocument = ThresholdsDocument()
    hysteresis: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False, validate_default=True)] = 10
    weights: WeightsDocument = WeightsDocument()
    mql_gate: MqlGateDocument = MqlGateDocument()
    sql_gate: SqlGateDocument = SqlGateDocument()
    domains: Annotated[
        dict[DomainListName, Annotated[list[DomainName], Field(max_length=MAX_DOMAINS)]],
        Field(max_length=MAX_LISTS),
        worded(too_long="at most {max_length} lists"),
    ] = {}
    fit: Rules = []
    intent: Rules = []
    engagement: Annotated[list[EngagementRuleDocument], Field(max_length=MAX_RULES)] = []
    disqualifiers: Annotated[list[DisqualifierDocument], Field(max_length=MAX_RULES)] = []

    @classmethod
    def check(cls, document: Mapping[str, Any]) -> ScoringModelDocument:
        """Validate in one pass, with what spans parts read from the raw document as the context."""
        return cls.model_validate(document, context=_spanning(document))

    @field_validator("hysteresis")
    @classmethod
    def _below_mql(cls, hysteresis: float, info: ValidationInfo) -> float:
        thresholds = info.data.get("thresholds")
        if isinstance(thresholds, ThresholdsDocument) and hysteresis >= thresholds.mql:
            written = _context(info).get("written")
            defaulted = written is not None and "hysteresis" not in written
            given = f"(default {shown(hysteresis)}) must be" if defaulted else "must be"
            raise ValueError(f"{given} below thresholds.mql ({shown(thresholds.mql)}): an MQL would never fall back")
        return hysteresis

    @field_validator(*RULE_GROUPS, mode="wrap")
    @classmethod
    def _ids_unique(cls, rules: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        """An id an earlier rule (of any group) has is refused beside the rules' own problems, each
        under its rule. The intent group's rules are fit rules by another name, and told so."""
        group = info.field_name or ""
        taken: Mapping[int, str] = _context(info).get("taken", {}).get(group, {})
        errors: list[Any] = [{"type": "problem", "loc": (i, "id"), "msg": message} for i, message in taken.items()]
        try:
            checked = handler([] if rules is None else rules)  # a group left empty (``fit:``) has no rules
        except ValidationError as exc:
            errors += exc.errors(include_url=False)
        if not errors:
            return checked
        errors.sort(key=lambda error: error["loc"][0] if error["loc"] else -1)  # by rule, a clash first
        if group == "intent":
            errors = [_for_intent(error) for error in errors]
        raise ValidationError.from_exception_data(group, [again(error) for error in errors])

    @model_validator(mode="wrap")
    @classmethod
    def _in_reading_order(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        """Every problem, in the order a reader fixes them; and a model has a rule to score with
        (unless a rule group has problems of its own: then it may well have one)."""
        errors: list[Any] = []
        try:
            document = handler(data)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        if (
            isinstance(data, Mapping)
            and not any(data.get(group) for group in SCORING_GROUPS)
            and not any(error["loc"] and error["loc"][0] in SCORING_GROUPS for error in errors)
        ):
            errors.append({"type": "problem", "loc": (), "msg": _NO_RULE})
        if not errors:
            return document
        errors.sort(key=_reading_order)
        raise ValidationError.from_exception_data(cls.__name__, [again(error) for error in errors])


def _spanning(document: Mapping[str, Any]) -> dict[str, Any]:
    """What checks across parts need, read from the raw document before it is validated.

    The declared domain lists (``email_domain`` names one), the ids each rule would take twice
    (``taken``, by group and index), the fields fit and intent rules read (the SQL gate's
    ``any_known``) and the ids of intent and engagement rules (its ``hand_raises``). A part that
    is malformed is passed over: its own problems are reported where it is.
    """
    domains = document.get("domains")
    lists = [name for name in domains if isinstance(name, str)] if isinstance(domains, Mapping) else []
    rules = {group: _mappings(document.get(group)) for group in RULE_GROUPS}
    first: dict[str, str] = {}
    taken: dict[str, dict[int, str]] = {}
    for group, entries in rules.items():
        for i, rule in entries:
            rule_id = rule.get("id")
            if not isinstance(rule_id, str) or not KEY_PATTERN.match(rule_id):
                continue
            if rule_id in first:
                taken.setdefault(group, {})[i] = f"'{rule_id}' is already the id of {first[rule_id]}"
            else:
                first[rule_id] = f"{group}[{i}]"
    return {
        "written": frozenset(document),
        "lists": tuple(name for name in lists if name not in BUILT_IN_LISTS),
        "taken": taken,
        "fields": frozenset(rule.get("field") for group in ("fit", "intent") for _, rule in rules[group]) - {None},
        "hand_raises": frozenset(rule.get("id") for group in ("intent", "engagement") for _, rule in rules[group]),
    }


def _mappings(entries: Any) -> list[tuple[int, Mapping[str, Any]]]:
    """The entries of a rule group that are mappings, with their indexes (none if it is no list)."""
    if not isinstance(entries, list):
        return []
    return [(i, entry) for i, entry in enumerate(entries) if isinstance(entry, Mapping)]


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
