"""Hypothesis strategies for the knowledge wheel: random valid sequences, and answers valid for a question.

``sequences()`` builds small sequences that :func:`profiling.document.load` accepts and that
``dump`` writes back unchanged: random stages, questions of every type (options where the type
needs them, validators that fit the type), fields sometimes shared between questions (a question
sharing a field takes the type and options of the field's first question), conditions only on
fields of *earlier* questions with operators and values that suit those questions, and random
settings (1 to 5 questions per visit, ``email_first`` either way, short snoozes).

``value_for(question)`` draws a value the forms layer would store for an answer to ``question``:
already normalised (NFC, trimmed), within the question's validators, never "empty".

Condition values and answers are drawn from the same small pools, so conditions both hold and fail.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from profiling.sequence import (
    DEFAULT_MAX_LENGTH,
    Condition,
    Consent,
    Operator,
    Option,
    Question,
    QuestionType,
    Rules,
    Sequence,
    Settings,
    Stage,
)

LOCALES = ("en", "da", "nb", "ro", "pt-BR")
STAGE_KEYS = ("basics", "need", "budget", "timeline", "authority")
TEXTY = (QuestionType.TEXT, QuestionType.TEXTAREA, QuestionType.EMAIL, QuestionType.TEL)

#: Characters of the core locales plus what YAML and JSON treat specially.
LABEL_ALPHABET = "abcxyzABCæøåÆØÅăâîșțĂÎȘȚ0123456789 :#?-'\"!&*{}[],|>%@`\\"
#: Texts that YAML would read as something else if they were written unquoted.
TRICKY_TEXTS = (
    "yes", "no", "null", "~", "true", "1:30", "5000_20000", "0x1f", "2026-01-15", "- item", "a: b",
    "#hash", "'quoted'", "@at", "  padded  ", "two\nlines", "Søren Å", "Mulțumim, ăîșț", "ends with ?",
)  # fmt: skip
OPTION_VALUES = ("b2b", "b2c", "yes", "no", "null", "5000_20000", "1:30", "lt_5k", "solar_panels", "Other choice")
#: Canned answers per text type; every one is valid for every validator ``sequences`` gives that type.
CANNED = {
    QuestionType.TEXT: ("Ada", "Acme ApS", "b2b", "Søren Å", "Ionuț"),
    QuestionType.TEXTAREA: ("We buy twice a year.", "Acme ApS", "Først\nså"),
    QuestionType.EMAIL: ("ada@example.com", "soren@firma.dk", "ion.popescu@exemplu.ro"),
    QuestionType.TEL: ("+45 12 34 56 78", "12345678", "+40 721 234 567"),
}
#: Validator patterns per text type. Email and tel answers are canned and match every pattern of
#: their type; text and textarea answers are generated from the pattern.
PATTERNS = {
    QuestionType.TEXT: (r"^[a-z]{3,8}$", r"^DK[0-9]{8}$"),
    QuestionType.TEXTAREA: (r"^[a-z]{3,8}$",),
    QuestionType.EMAIL: (r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$",),
    QuestionType.TEL: (r"^\+?[0-9 ]{6,20}$",),
}
#: No answer ``value_for`` draws for the type is longer than this (without a pattern).
LONGEST_ANSWER = {QuestionType.TEXT: 20, QuestionType.TEXTAREA: 24, QuestionType.EMAIL: 22, QuestionType.TEL: 16}
ANSWER_ALPHABET = "abcxyzABCæøåÆØÅăîșț0123456789 .-'"
NUMBER_RANGE = (-5, 25)


#: A non-blank visitor-facing text (labels keep their spaces and line breaks). Strategies are
#: built once: building them per draw makes generation several times slower.
TEXT = st.one_of(st.sampled_from(TRICKY_TEXTS), st.text(LABEL_ALPHABET, min_size=1, max_size=20)).filter(
    lambda t: t.strip() != ""
)
_OTHER_LOCALES = {
    default: st.lists(st.sampled_from([loc for loc in LOCALES if loc != default]), unique=True, max_size=2)
    for default in LOCALES
}


@st.composite
def texts(draw: st.DrawFn, default_locale: str) -> dict[str, str]:
    """Texts in the default locale and up to two others."""
    others = draw(_OTHER_LOCALES[default_locale])
    return {locale: draw(TEXT) for locale in (default_locale, *others)}


SETTINGS = st.builds(
    Settings,
    questions_per_visit=st.integers(1, 5),
    email_first=st.booleans(),
    snooze_visits=st.integers(0, 3),
    max_reasks=st.integers(0, 3),
    more_on_request=st.booleans(),
)


_OPTION_VALUES = st.lists(st.sampled_from(OPTION_VALUES), unique=True, min_size=1, max_size=4)


@st.composite
def options(draw: st.DrawFn, default_locale: str, rich: bool = True) -> tuple[Option, ...]:
    values = draw(_OPTION_VALUES)
    return tuple(
        Option(value=value, labels=draw(texts(default_locale)) if rich else {default_locale: value}) for value in values
    )


@st.composite
def _rules(draw: st.DrawFn, qtype: QuestionType, option_count: int) -> Rules:
    required = draw(st.booleans())
    if qtype in TEXTY:
        pattern = draw(st.none() | st.sampled_from(PATTERNS[qtype]))
        if pattern is not None:
            return Rules(required=required, pattern=pattern)
        cap = DEFAULT_MAX_LENGTH[qtype]
        return Rules(
            required=required,
            min_length=draw(st.none() | st.integers(0, 3)),
            # may exceed the type's cap: the effective cap is the lower one
            max_length=draw(st.none() | st.integers(LONGEST_ANSWER[qtype], cap + 50)),
        )
    if qtype is QuestionType.NUMBER:
        low = draw(st.none() | st.integers(-5, 5))
        high = draw(st.none() | st.integers(0 if low is None else low, 20))
        return Rules(
            required=required,
            min_value=None if low is None else float(low),
            max_value=None if high is None else float(high),
        )
    if qtype is QuestionType.MULTI_SELECT:
        low = draw(st.none() | st.integers(0, option_count))
        high = draw(st.none() | st.integers(max(1, low or 0), option_count + 1))
        return Rules(required=required, min_choices=low, max_choices=high)
    return Rules(required=required)


_RULES = {
    (qtype, count): _rules(qtype, count)
    for qtype in QuestionType
    for count in (range(1, 5) if qtype.has_options else (0,))
}


def rules(qtype: QuestionType, option_count: int) -> st.SearchStrategy[Rules]:
    """Validators that fit the type (and the number of options, for a multi-select)."""
    cached = _RULES.get((qtype, option_count))
    return cached if cached is not None else _rules(qtype, option_count)


def _values(source: Question) -> st.SearchStrategy[Any]:
    """Values an answer to ``source`` can have, as a condition would name them."""
    if source.options:
        return st.sampled_from(source.option_values)
    if source.type is QuestionType.NUMBER:
        return st.integers(*NUMBER_RANGE)
    if source.type in (QuestionType.CHECKBOX, QuestionType.CONSENT):
        return st.booleans()
    return st.sampled_from(CANNED[source.type])


def condition(source: Question) -> st.SearchStrategy[Condition]:
    """A test on ``source``'s field that the loader accepts for a question of that type."""
    name = source.field
    tests: list[st.SearchStrategy[Condition]] = [st.just(Condition(name, Operator.KNOWN, True))]
    if source.type is QuestionType.MULTI_SELECT:
        tests.append(st.builds(Condition, st.just(name), st.just(Operator.CONTAINS), _values(source)))
    elif source.type is QuestionType.CONSENT:
        tests.append(st.just(Condition(name, Operator.EQUALS, True)))
    else:
        value = _values(source)
        tests += [
            st.builds(Condition, st.just(name), st.sampled_from([Operator.EQUALS, Operator.NOT_EQUALS]), value),
            st.builds(
                Condition,
                st.just(name),
                st.sampled_from([Operator.IN, Operator.NOT_IN]),
                st.lists(value, unique=True, min_size=1, max_size=3),
            ),
        ]
        if source.type is QuestionType.NUMBER:
            numeric = [Operator.GT, Operator.GTE, Operator.LT, Operator.LTE]
            threshold = st.integers(*NUMBER_RANGE).map(float)  # the loader reads thresholds as floats
            tests.append(st.builds(Condition, st.just(name), st.sampled_from(numeric), threshold))
    return st.one_of(tests)


_QUESTION_TYPES = st.sampled_from(QuestionType)
_SHARE = st.integers(0, 3)
_CONDITIONAL = st.integers(0, 2)
_FRESHNESS = st.none() | st.integers(1, 60)
_CONSENT_VERSIONS = st.sampled_from(["2026-01", "1", "v2"]) | TEXT


@st.composite
def question(
    draw: st.DrawFn, key: str, default_locale: str, first_by_field: dict[str, Question], rich: bool = True
) -> Question:
    """Question ``key``; ``first_by_field`` holds the first question of every earlier field.

    With ``rich=False`` the texts are plain (the key in the default locale, no help), which makes
    drawing several times faster where the texts do not matter.
    """
    if first_by_field and draw(_SHARE) == 0:
        field_name = draw(st.sampled_from(sorted(first_by_field)))
        model = first_by_field[field_name]
        qtype, choices = model.type, model.options
    else:
        field_name = draw(st.sampled_from([key, "f" + key]))
        qtype = draw(_QUESTION_TYPES)
        choices = draw(options(default_locale, rich)) if qtype.has_options else ()
    labels = draw(texts(default_locale)) if rich else {default_locale: key}
    sources = [first_by_field[name] for name in sorted(first_by_field) if name != field_name]
    conditions: tuple[Condition, ...] = ()
    if sources and draw(_CONDITIONAL) == 0:
        picked = draw(st.lists(st.sampled_from(sources), min_size=1, max_size=2))
        conditions = tuple(draw(condition(source)) for source in picked)
    consent = None
    if qtype is QuestionType.CONSENT:
        consent = Consent(texts=labels, version=draw(_CONSENT_VERSIONS))
    return Question(
        key=key,
        field=field_name,
        type=qtype,
        labels=labels,
        help=draw(st.just({}) | texts(default_locale)) if rich else {},
        options=choices,
        rules=draw(rules(qtype, len(choices))),
        conditions=conditions,
        freshness_days=draw(_FRESHNESS),
        consent=consent,
        skippable=draw(st.booleans()),
    )


_DEFAULT_LOCALES = st.sampled_from(LOCALES)
_STAGE_KEYS = st.lists(st.sampled_from(STAGE_KEYS), unique=True, min_size=1, max_size=3)
_NAME = TEXT.filter(lambda t: t == t.strip())


@st.composite
def sequences(draw: st.DrawFn, max_questions_per_stage: int = 4, rich: bool = True) -> Sequence:
    """A random valid sequence: 1 to 3 stages, at least one question in all.

    ``rich=False``: plain texts (see :func:`question`), for tests of the wheel.
    """
    default_locale = draw(_DEFAULT_LOCALES)
    first_by_field: dict[str, Question] = {}
    count = 0
    stages = []
    for index, stage_key in enumerate(draw(_STAGE_KEYS)):
        questions = []
        for _ in range(draw(st.integers(1 if index == 0 else 0, max_questions_per_stage))):
            asked = draw(question(f"q{count}", default_locale, first_by_field, rich))
            count += 1
            first_by_field.setdefault(asked.field, asked)
            questions.append(asked)
        labels = draw(texts(default_locale)) if rich else {default_locale: stage_key}
        stages.append(Stage(key=stage_key, labels=labels, questions=tuple(questions)))
    return Sequence(
        name=draw(_NAME) if rich else "Random",
        default_locale=default_locale,
        stages=tuple(stages),
        settings=draw(SETTINGS),
        thank_you=draw(st.just({}) | texts(default_locale)) if rich else {},
        description=draw(st.just("") | TEXT) if rich else "",
    )


def _number(rules: Rules) -> st.SearchStrategy[int | float]:
    low = math.ceil(rules.min_value) if rules.min_value is not None else NUMBER_RANGE[0]
    high = math.floor(rules.max_value) if rules.max_value is not None else NUMBER_RANGE[1]
    low = min(low, high)
    # whole numbers and halves; a whole number is stored as an int, as the forms layer does
    return st.integers(2 * low, 2 * high).map(lambda n: n // 2 if n % 2 == 0 else n / 2)


def _fits(question: Question, value: str) -> bool:
    cap = question.max_length
    return len(value) >= (question.rules.min_length or 0) and (cap is None or len(value) <= cap)


def value_for(question: Question) -> st.SearchStrategy[Any]:
    """A value the forms layer would store for a valid answer to ``question``."""
    qtype = question.type
    rules = question.rules
    if qtype in (QuestionType.SELECT, QuestionType.RADIO):
        return st.sampled_from(question.option_values)
    if qtype is QuestionType.MULTI_SELECT:
        values = question.option_values
        high = len(values) if rules.max_choices is None else min(len(values), rules.max_choices)
        low = min(max(1, rules.min_choices or 0), high)
        return st.lists(st.sampled_from(values), unique=True, min_size=low, max_size=high)
    if qtype is QuestionType.CHECKBOX:
        return st.booleans()
    if qtype is QuestionType.CONSENT:
        return st.just(True)
    if qtype is QuestionType.NUMBER:
        return _number(rules)
    if rules.pattern is not None and qtype in (QuestionType.TEXT, QuestionType.TEXTAREA):
        return st.from_regex(rules.pattern, fullmatch=True).filter(lambda v: _fits(question, v))
    canned = [value for value in CANNED[qtype] if _fits(question, value)]
    if qtype in (QuestionType.EMAIL, QuestionType.TEL):
        return st.sampled_from(canned)
    alphabet = ANSWER_ALPHABET + ("\n" if qtype is QuestionType.TEXTAREA else "")
    generated = (
        st.text(alphabet, min_size=1, max_size=LONGEST_ANSWER[QuestionType.TEXT])
        .map(lambda v: v.strip())
        .filter(lambda v: v != "" and "\n\n" not in v and _fits(question, v))
    )
    return st.one_of(st.sampled_from(canned), generated) if canned else generated
