"""The sequence format (``leadwheel/sequence@1``), declared once.

These models are the published JSON Schema (docs/schemas/sequence.schema.json, for
editors and the admin UI) and the list of keys :mod:`profiling.document` accepts at
each level; the loader there adds what a schema cannot say (conditions look back,
rules fit the question type, keys are unique) and builds the frozen
:class:`~profiling.sequence.Sequence`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from profiling.schema_types import NO_CONTROL, Declared, Key, Locale, Number, Scalar, json_schema

SCHEMA_ID = "https://leadwheel.example/schemas/sequence.schema.json"
MAX_STAGES = 20
MAX_QUESTIONS = 200
MAX_OPTIONS = 100
MAX_TEXT = 2000
#: A century: any longer freshness is "never stale" and would overflow date arithmetic.
MAX_FRESHNESS_DAYS = 36_500
#: Long or deeply nested patterns can exhaust the regex compiler; real validators are short.
MAX_PATTERN = 500

Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT, pattern=NO_CONTROL)]
#: One text in the default locale, or a text per locale.
Texts = Annotated[
    Text | dict[Locale, Text],
    Field(description="A text in the default locale, or a mapping of locale (en, da, nb, ro) to text"),
]
QuestionTypeName = Literal[
    "text", "textarea", "email", "tel", "number", "select", "multi-select", "radio", "checkbox", "consent"
]
WholeNumber = Annotated[int, Field(ge=0, le=50)]


class SettingsDocument(Declared):
    questions_per_visit: Annotated[int, Field(ge=1, le=50)] = 3
    email_first: bool = True
    snooze_visits: WholeNumber = 2
    max_reasks: WholeNumber = 1
    more_on_request: bool = True


class OptionDocument(Declared):
    value: Annotated[str, Field(min_length=1, max_length=100)] | Number
    label: Texts | None = None


class ConditionDocument(Declared):
    """A field asked earlier and exactly one test of its answer."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 2, "maxProperties": 2})

    field: Key
    equals: Scalar | None = None
    not_equals: Scalar | None = None
    in_: list[Scalar] | None = Field(None, alias="in")
    not_in: list[Scalar] | None = None
    gte: Number | None = None
    gt: Number | None = None
    lte: Number | None = None
    lt: Number | None = None
    contains: Scalar | None = None
    known: Literal[True] | None = None


class QuestionDocument(Declared):
    key: Key
    field: Key | None = Field(None, description="The profile field the answer is stored in (default: the key)")
    type: QuestionTypeName
    label: Texts
    help: Texts | None = None
    options: Annotated[list[OptionDocument], Field(min_length=1, max_length=MAX_OPTIONS)] | None = None
    when: ConditionDocument | list[ConditionDocument] | None = Field(
        None, description="Asked only when every condition holds"
    )
    when_any: list[ConditionDocument] | None = Field(
        None, description="Asked when at least one condition holds (instead of when)"
    )
    freshness_days: Annotated[int, Field(ge=1, le=MAX_FRESHNESS_DAYS)] | None = None
    consent_version: Annotated[str, Field(min_length=1)] | None = None
    skippable: bool = True
    required: bool = False
    min_length: Annotated[int, Field(ge=0)] | None = None
    max_length: Annotated[int, Field(ge=0)] | None = None
    min: Number | None = None
    max: Number | None = None
    pattern: Annotated[str, Field(max_length=MAX_PATTERN)] | None = None
    min_choices: Annotated[int, Field(ge=0)] | None = None
    max_choices: Annotated[int, Field(ge=0)] | None = None


class StageDocument(Declared):
    key: Key
    label: Texts
    questions: list[QuestionDocument]


class SequenceDocument(Declared):
    """A progressive-profiling sequence: stages of questions, asked a few per visit."""

    format: Literal["leadwheel/sequence@1"] = "leadwheel/sequence@1"
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    default_locale: Locale = "en"
    settings: SettingsDocument = SettingsDocument()
    thank_you: Texts | None = None
    stages: Annotated[list[StageDocument], Field(min_length=1, max_length=MAX_STAGES)]


def sequence_schema() -> dict[str, Any]:
    return json_schema(SequenceDocument, SCHEMA_ID, "Leadwheel sequence (leadwheel/sequence@1)")
