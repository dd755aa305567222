"""The knowledge wheel as data: a sequence of stages, each holding questions.

Everything here is immutable. A published sequence version is shared between
requests (and cached per process), so nothing may mutate it after parsing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from dataclasses import field as default
from enum import StrEnum
from functools import cached_property
from typing import Any

#: Locales every shipped example covers; a sequence may add more.
CORE_LOCALES = ("en", "da", "nb", "ro")


class QuestionType(StrEnum):
    """What kind of control a question is and what value it produces."""

    TEXT = "text"
    TEXTAREA = "textarea"
    EMAIL = "email"
    TEL = "tel"
    NUMBER = "number"
    SELECT = "select"
    MULTI_SELECT = "multi-select"
    RADIO = "radio"
    CHECKBOX = "checkbox"
    CONSENT = "consent"

    @property
    def has_options(self) -> bool:
        return self in (QuestionType.SELECT, QuestionType.MULTI_SELECT, QuestionType.RADIO)


#: Default length caps per type; a question's own ``max_length`` may lower them.
DEFAULT_MAX_LENGTH = {
    QuestionType.TEXT: 200,
    QuestionType.TEXTAREA: 2000,
    QuestionType.EMAIL: 254,
    QuestionType.TEL: 32,
}


def localised(texts: Mapping[str, str], locale: str, default_locale: str) -> str:
    """Pick the text for ``locale``, trying its base language, then the default.

    ``nb-NO`` falls back to ``nb``; a missing translation falls back to the
    sequence's default locale so a visitor always sees *something* sensible.
    """
    if not texts:
        return ""
    for candidate in (locale, locale.split("-")[0].lower(), default_locale):
        if candidate in texts:
            return texts[candidate]
    return next(iter(texts.values()))


@dataclass(frozen=True)
class Option:
    value: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Rules:
    """Validators of one question. ``None`` means "no such check"."""

    required: bool = False
    min_length: int | None = None
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    pattern: str | None = None
    #: for multi-select: how many options may be chosen
    min_choices: int | None = None
    max_choices: int | None = None


class Operator(StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    IN = "in"
    NOT_IN = "not_in"
    GTE = "gte"
    GT = "gt"
    LTE = "lte"
    LT = "lt"
    CONTAINS = "contains"
    KNOWN = "known"


@dataclass(frozen=True)
class Condition:
    """A test on one earlier answer, e.g. ``customer_type equals b2b``.

    A condition on a field nobody has answered yet is *false*: the question
    waits until the wheel knows enough to decide whether it applies.
    """

    field: str
    operator: Operator
    value: Any = None

    def holds(self, profile: Mapping[str, Any]) -> bool:
        if self.field not in profile:
            return False
        known = profile[self.field]
        op = self.operator
        if op is Operator.KNOWN:
            return True
        if op is Operator.CONTAINS:
            return isinstance(known, list) and self.value in known
        if op in (Operator.IN, Operator.NOT_IN):
            inside = _scalar_in(known, self.value)
            return inside if op is Operator.IN else not inside
        if op in (Operator.EQUALS, Operator.NOT_EQUALS):
            same = _same(known, self.value)
            return same if op is Operator.EQUALS else not same
        return _compare(known, op, self.value)


def _same(known: Any, wanted: Any) -> bool:
    if isinstance(known, bool) or isinstance(wanted, bool):
        return known is wanted
    if isinstance(known, (int, float)) and isinstance(wanted, (int, float)):
        return float(known) == float(wanted)
    return bool(known == wanted)


def _scalar_in(known: Any, wanted: Any) -> bool:
    return any(_same(known, item) for item in wanted)


def _compare(known: Any, op: Operator, wanted: Any) -> bool:
    if isinstance(known, bool) or not isinstance(known, (int, float)):
        return False
    number = float(known)
    limit = float(wanted)
    if op is Operator.GTE:
        return number >= limit
    if op is Operator.GT:
        return number > limit
    if op is Operator.LTE:
        return number <= limit
    return number < limit


@dataclass(frozen=True)
class Consent:
    """The exact words a visitor agreed to, and which revision of them."""

    texts: Mapping[str, str]
    version: str


@dataclass(frozen=True)
class Question:
    key: str
    field: str
    type: QuestionType
    labels: Mapping[str, str]
    help: Mapping[str, str] = default(default_factory=dict)
    options: tuple[Option, ...] = ()
    rules: Rules = Rules()
    #: the conditions on earlier answers: all must hold for the question to apply (any one, with ``any_condition``)
    conditions: tuple[Condition, ...] = ()
    #: re-ask after this many days (e.g. a buying timeline goes stale)
    freshness_days: int | None = None
    consent: Consent | None = None
    #: whether "not now / prefer not to say" is offered
    skippable: bool = True
    #: one condition holding is enough (``when_any`` in the document) instead of all of them (``when``)
    any_condition: bool = False

    def __hash__(self) -> int:
        """Questions key the shell's caches of what each looks like (``functools.lru_cache``). Their texts are
        mappings, which do not hash; equal questions share key, field and type, which is all a hash needs."""
        return hash((self.key, self.field, self.type))

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(option.value for option in self.options)

    @property
    def max_length(self) -> int | None:
        """The effective length cap: the question's own or the type's default."""
        default = DEFAULT_MAX_LENGTH.get(self.type)
        own = self.rules.max_length
        if own is None:
            return default
        return own if default is None else min(own, default)

    def applies(self, profile: Mapping[str, Any]) -> bool:
        test = any if self.any_condition else all
        return not self.conditions or test(condition.holds(profile) for condition in self.conditions)


@dataclass(frozen=True)
class Stage:
    key: str
    labels: Mapping[str, str]
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Settings:
    """How a sequence behaves per visit."""

    questions_per_visit: int = 3
    #: ask the e-mail question first while the e-mail is unknown
    email_first: bool = True
    #: visits to wait before a skipped question is offered again
    snooze_visits: int = 2
    #: how many times a skipped question is asked again before the wheel gives up
    max_reasks: int = 1
    #: once a visit's quota is used, offer the next batch on the visitor's request ("Tell us more now")
    more_on_request: bool = False


@dataclass(frozen=True)
class Sequence:
    name: str
    default_locale: str
    stages: tuple[Stage, ...]
    settings: Settings = Settings()
    thank_you: Mapping[str, str] = field(default_factory=dict)
    description: str = ""

    def questions(self) -> Iterator[tuple[Stage, Question]]:
        """Every question with its stage, in sequence order."""
        for stage in self.stages:
            for question in stage.questions:
                yield stage, question

    def question(self, key: str) -> Question | None:
        return self._by_key.get(key, (None, None))[1]

    def stage_of(self, key: str) -> Stage:
        """The stage a question of this sequence belongs to."""
        stage = self._by_key[key][0]
        assert stage is not None
        return stage

    @cached_property
    def _by_key(self) -> dict[str, tuple[Stage | None, Question | None]]:
        # Sequences are immutable, so the index is built once per published version.
        return {question.key: (stage, question) for stage, question in self.questions()}

    @cached_property
    def locales(self) -> tuple[str, ...]:
        """Locales with a label for every question, default first."""
        found: set[str] | None = None
        for _, question in self.questions():
            keys = set(question.labels)
            found = keys if found is None else found & keys
        rest = sorted((found or set()) - {self.default_locale})
        return (self.default_locale, *rest)
