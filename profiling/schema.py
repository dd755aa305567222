"""The sequence format (``leadwheel/sequence@1``), declared once.

These models are the published JSON Schema (docs/schemas/sequence.schema.json, for
editors and the admin UI) and the validator :mod:`profiling.document` loads with: each
part checks its own fields and what depends on its type (a consent question has a
version, a select has options, rules fit the question type), and the whole sequence
what spans parts (conditions look back, keys are unique). The loader turns the problems
into "path: message" and builds the frozen :class:`~profiling.sequence.Sequence`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    model_validator,
)

from profiling.schema_types import (
    MAX_NUMBER,
    NO_CONTROL,
    Compared,
    Declared,
    Key,
    Locale,
    Number,
    Where,
    json_schema,
    not_blank,
    refuse,
    worded,
)
from profiling.sequence import Operator, QuestionType

SCHEMA_ID = "https://leadwheel.example/schemas/sequence.schema.json"
FORMAT = "leadwheel/sequence@1"
MAX_STAGES = 20
MAX_QUESTIONS = 200
MAX_OPTIONS = 100
MAX_TEXT = 2000
#: A century: any longer freshness is "never stale" and would overflow date arithmetic.
MAX_FRESHNESS_DAYS = 36_500
#: Long or deeply nested patterns can exhaust the regex compiler; real validators are short.
MAX_PATTERN = 500


def _in_default_locale(texts: Any, info: ValidationInfo) -> Any:
    """A text alone is the default locale's (:meth:`SequenceDocument.check` says which; English if unsaid)."""
    return {(info.context or {}).get("default_locale", "en"): texts} if isinstance(texts, str) else texts


def _with_default_locale(texts: dict[str, str], info: ValidationInfo) -> dict[str, str]:
    if not texts:
        raise ValueError("is required")
    locale = (info.context or {}).get("default_locale")
    if locale is not None and locale not in texts:
        raise ValueError(f"needs a text in the default locale '{locale}'")
    return texts


Text = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_TEXT, pattern=NO_CONTROL), AfterValidator(not_blank)
]
#: One text in the default locale, or a text per locale; read as a text per locale.
Texts = Annotated[
    dict[Locale, Text],
    BeforeValidator(_in_default_locale, json_schema_input_type=Text | dict[Locale, Text]),
    worded(dict_type="must be a text or a mapping of locale to text"),
    Field(description="A text in the default locale, or a mapping of locale (en, da, nb, ro) to text"),
]
#: A text shown in every locale: the default locale's at least.
Label = Annotated[Texts, AfterValidator(_with_default_locale)]
QuestionTypeName = Literal[
    "text", "textarea", "email", "tel", "number", "select", "multi-select", "radio", "checkbox", "consent"
]
WholeNumber = Annotated[
    int, Field(ge=0, le=50), worded(greater_than_equal="is too small", less_than_equal="is too large (at most {le})")
]


def _not_huge(number: int) -> int:
    if number > MAX_NUMBER:
        raise ValueError(f"is out of range (at most {MAX_NUMBER:.0e} either way)")
    return number


Count = Annotated[int, Field(ge=0), worded(greater_than_equal="must not be negative"), AfterValidator(_not_huge)]


def _regular_expression(pattern: str) -> str:
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        raise ValueError(f"is not a valid regular expression: {exc}") from None
    return pattern


def _number_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _one_as_list(conditions: Any) -> Any:
    """A single condition is read as a list of one (problems name it ``when[0]``)."""
    return [conditions] if isinstance(conditions, Mapping) else conditions


Conditions = Annotated[
    list["ConditionDocument"] | None,
    BeforeValidator(_one_as_list, json_schema_input_type="ConditionDocument | list[ConditionDocument] | None"),
]


class SettingsDocument(Declared):
    questions_per_visit: Annotated[
        int,
        Field(ge=1, le=50),
        worded(greater_than_equal="is too small", less_than_equal="is too large (at most {le})"),
    ] = 3
    email_first: bool = True
    snooze_visits: WholeNumber = 2
    max_reasks: WholeNumber = 1
    more_on_request: bool = True


class OptionDocument(Declared):
    unknown_key: ClassVar[str] = "is not a known option key (value, label)"

    #: a number is an option's value as text
    value: Annotated[
        str,
        Field(min_length=1, max_length=100),
        BeforeValidator(
            _number_as_text, json_schema_input_type=Annotated[str, Field(min_length=1, max_length=100)] | Number
        ),
        worded(any="must be a short text"),
    ]
    label: Texts | None = None


class ConditionDocument(Declared):
    """A field asked earlier and exactly one test of its answer."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 2, "maxProperties": 2})
    unknown_key: ClassVar[str] = "is not a test: " + ", ".join(op.value for op in Operator)

    field: Key
    equals: Compared | None = None
    not_equals: Compared | None = None
    in_: list[Compared] | None = Field(None, alias="in")
    not_in: list[Compared] | None = None
    gte: Number | None = None
    gt: Number | None = None
    lte: Number | None = None
    lt: Number | None = None
    contains: Compared | None = None
    known: Literal[True] | None = None

    @model_validator(mode="after")
    def _one_test(self) -> ConditionDocument:
        if len(self.model_fields_set - {"field"}) != 1:
            refuse([((), "needs exactly one test: " + ", ".join(op.value for op in Operator))])
        return self

    @property
    def operator(self) -> Operator:
        (test,) = self.model_fields_set - {"field"}
        return Operator(type(self).model_fields[test].alias or test)

    @property
    def value(self) -> Any:
        return getattr(self, next(iter(self.model_fields_set - {"field"})))


class QuestionDocument(Declared):
    unknown_key: ClassVar[str] = "is not a known question setting"
    empty: ClassVar[str] = "is empty: a question needs at least a key, a type and a label"

    key: Key
    field: Key | None = Field(None, description="The profile field the answer is stored in (default: the key)")
    type: QuestionTypeName
    label: Label
    help: Texts | None = None
    options: Annotated[list[OptionDocument], Field(min_length=1, max_length=MAX_OPTIONS)] | None = None
    when: Annotated[Conditions, Field(description="Asked only when every condition holds")] = None
    when_any: list[ConditionDocument] | None = Field(
        None, description="Asked when at least one condition holds (instead of when)"
    )
    freshness_days: (
        Annotated[
            int,
            Field(ge=1, le=MAX_FRESHNESS_DAYS),
            worded(any=f"must be between 1 and {MAX_FRESHNESS_DAYS} days", int_type="must be a whole number"),
        ]
        | None
    ) = None
    consent_version: (
        Annotated[
            str,
            Field(min_length=1),
            AfterValidator(not_blank),
            worded(any="must be a text; quote it in YAML, e.g. '2026-01-15'"),
        ]
        | None
    ) = None
    skippable: bool = True
    required: bool = False
    min_length: Count | None = None
    max_length: Count | None = None
    min: Number | None = None
    max: Number | None = None
    pattern: Annotated[str, Field(max_length=MAX_PATTERN), AfterValidator(_regular_expression)] | None = None
    min_choices: Count | None = None
    max_choices: Count | None = None

    @model_validator(mode="after")
    def _fits_its_type(self) -> QuestionDocument:
        refuse(self._misfits())
        return self

    @property
    def question_type(self) -> QuestionType:
        return QuestionType(self.type)

    @property
    def asks(self) -> str:
        """The profile field the answer is stored in."""
        return self.field or self.key

    @property
    def conditions(self) -> tuple[str, list[ConditionDocument]]:
        """Where the conditions are written (``when`` or ``when_any``), and the conditions."""
        if self.when_any is not None:
            return "when_any", self.when_any
        return "when", self.when or []

    def _misfits(self) -> Iterator[tuple[Where, str]]:
        """What the question's type rules out, or its settings contradict."""
        qtype = self.question_type
        if not qtype.has_options and self.options is not None:
            yield ("options",), f"a {qtype.value} question has no options"
        elif qtype.has_options and self.options is None:
            yield ("options",), f"a {qtype.value} question needs at least one option"
        seen: set[str] = set()
        for i, option in enumerate(self.options or ()):
            if option.value in seen:
                yield ("options", i, "value"), f"'{option.value}' is listed twice"
            seen.add(option.value)
        yield from (((), problem) for problem in self._rule_misfits(qtype))
        if self.options and self.min_choices is not None and self.min_choices > len(self.options):
            yield ("min_choices",), f"is more than the {len(self.options)} options offered"
        if self.when_any is not None and self.when is not None:
            yield ("when_any",), "a question has when (all must hold) or when_any (one is enough), not both"
        written, conditions = self.conditions
        for i, condition in enumerate(conditions):
            if condition.field == self.asks:
                yield (written, i, "field"), "a question cannot depend on its own answer"
        if qtype is QuestionType.CONSENT and self.consent_version is None:
            yield ("consent_version",), "is required for a consent question"
        elif qtype is not QuestionType.CONSENT and "consent_version" in self.model_fields_set:
            yield ("consent_version",), "only a consent question has one"

    def _rule_misfits(self, qtype: QuestionType) -> Iterator[str]:
        """Validators that make no sense for the question type, or each other."""
        texty = qtype in (QuestionType.TEXT, QuestionType.TEXTAREA, QuestionType.EMAIL, QuestionType.TEL)
        if not texty and (self.min_length is not None or self.max_length is not None or self.pattern):
            yield f"length and pattern checks apply to text questions, not {qtype.value}"
        if qtype is not QuestionType.NUMBER and (self.min is not None or self.max is not None):
            yield "min and max apply to number questions"
        if qtype is not QuestionType.MULTI_SELECT and (self.min_choices is not None or self.max_choices is not None):
            yield "min_choices and max_choices apply to multi-select questions"
        for low, high, what in (
            (self.min_length, self.max_length, "min_length is above max_length"),
            (self.min, self.max, "min is above max"),
            (self.min_choices, self.max_choices, "min_choices is above max_choices"),
        ):
            if low is not None and high is not None and low > high:
                yield what


class StageDocument(Declared):
    unknown_key: ClassVar[str] = "is not a known stage setting"

    key: Key
    label: Label
    questions: list[QuestionDocument]


_NUMERIC = (Operator.GT, Operator.GTE, Operator.LT, Operator.LTE)


class SequenceDocument(Declared):
    """A progressive-profiling sequence: stages of questions, asked a few per visit."""

    format: Literal["leadwheel/sequence@1"] = "leadwheel/sequence@1"
    name: Annotated[str, Field(min_length=1), AfterValidator(not_blank), worded(any="is required")]
    description: str = ""
    default_locale: Locale = "en"
    settings: SettingsDocument = SettingsDocument()
    thank_you: Texts | None = None
    stages: Annotated[
        list[StageDocument],
        Field(min_length=1, max_length=MAX_STAGES),
        worded(too_short="needs at least one stage", too_long="at most {max_length} stages"),
    ]

    @classmethod
    def check(cls, document: Mapping[str, Any]) -> SequenceDocument:
        """Validate in one pass: a text alone is in the document's default locale, the context says which."""
        locale = document.get("default_locale", "en")
        return cls.model_validate(document, context={"default_locale": locale if isinstance(locale, str) else "en"})

    @model_validator(mode="after")
    def _parts_agree(self) -> SequenceDocument:
        refuse(self._disagreements())
        return self

    def _disagreements(self) -> Iterator[tuple[Where, str]]:
        """Keys are unique, and a condition names a field asked *earlier* with a value it can have."""
        stage_keys: set[str] = set()
        question_keys: set[str] = set()
        #: the first question asking each field so far: conditions may only look back
        asked_before: dict[str, QuestionDocument] = {}
        for i, stage in enumerate(self.stages):
            if stage.key in stage_keys:
                yield ("stages", i, "key"), f"'{stage.key}' is used by another stage"
            stage_keys.add(stage.key)
            for j, question in enumerate(stage.questions):
                if question.key in question_keys:
                    yield ("stages", i, "questions", j, "key"), f"'{question.key}' is used by another question"
                question_keys.add(question.key)
                written, conditions = question.conditions
                for k, condition in enumerate(conditions):
                    for where, problem in _looks_back(condition, asked_before):
                        yield ("stages", i, "questions", j, written, k, *where), problem
                asked_before.setdefault(question.asks, question)
        count = sum(len(stage.questions) for stage in self.stages)
        if count > MAX_QUESTIONS:
            yield ("stages",), f"at most {MAX_QUESTIONS} questions in a sequence"
        if not count:
            yield ("stages",), "needs at least one question"


def _looks_back(
    condition: ConditionDocument, asked_before: Mapping[str, QuestionDocument]
) -> Iterator[tuple[Where, str]]:
    """A typo in a field name, or ``equals: enterprise`` on a select without that option,
    would otherwise make the question silently never apply."""
    source = asked_before.get(condition.field)
    if source is None:
        yield ("field",), f"'{condition.field}' is not asked by any earlier question"
        return
    op, qtype = condition.operator, source.question_type
    if op in _NUMERIC and qtype is not QuestionType.NUMBER:
        yield (op.value,), f"compares numbers, but '{condition.field}' is a {qtype.value} question"
    elif op is Operator.CONTAINS and qtype is not QuestionType.MULTI_SELECT:
        yield (op.value,), f"applies to multi-select questions, not {qtype.value}"
    elif source.options and op is not Operator.KNOWN:
        offered = [option.value for option in source.options]
        wanted = condition.value if op in (Operator.IN, Operator.NOT_IN) else [condition.value]
        unknown = [value for value in wanted if value not in offered]
        if unknown:
            yield (op.value,), f"{unknown[0]!r} is not an option of '{condition.field}' ({', '.join(offered)})"


def sequence_schema() -> dict[str, Any]:
    return json_schema(SequenceDocument, SCHEMA_ID, "Leadwheel sequence (leadwheel/sequence@1)")
