"""WTForms forms built from question definitions.

One definition drives every place a question is checked or shown: the public
API validates JSON answers with these forms, and admin previews render them.
Forms are built with :class:`wtforms.form.BaseForm` rather than a declarative
class because question keys are marketers' data: a key such as ``data`` or
``validate`` would clash with a ``Form`` attribute.

Every validator is given a message from :mod:`forms.messages` and wrapped so
the error remembers its code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from wtforms import fields, validators, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.form import BaseForm

from forms.messages import Problem, say
from forms.normalise import clean_text, parse_number
from profiling.sequence import Question, QuestionType, localised

Check = Callable[[Any, Any], None]

#: A phone number: at least four digits, with the punctuation people write.
TEL_PATTERN = r"(?=(?:\D*\d){4})\+?[0-9 ()./-]+\Z"


def coded(problem: Problem, make: Callable[[str], Check]) -> Check:
    """A WTForms validator whose error is ``problem`` (code and localised text)."""
    inner = make(problem.replace("%", "%%"))  # WTForms %-formats messages

    def check(form: Any, field: Any) -> None:
        try:
            inner(form, field)
        except validators.StopValidation as stop:
            if stop.args and stop.args[0]:
                raise validators.StopValidation(problem) from None
            raise
        except validators.ValidationError:
            raise validators.ValidationError(problem) from None

    return check


def choices_between(locale: str, low: int | None, high: int | None) -> Check:
    def check(form: Any, field: Any) -> None:
        count = len(field.data or [])
        if low is not None and count < low:
            raise validators.ValidationError(say(locale, "too_few_choices", min=low))
        if high is not None and count > high:
            raise validators.ValidationError(say(locale, "too_many_choices", max=high))

    return check


def all_of(locale: str, allowed: Sequence[str]) -> Check:
    def check(form: Any, field: Any) -> None:
        if any(value not in allowed for value in field.data or []):
            raise validators.ValidationError(say(locale, "choice"))

    return check


def must_agree(locale: str) -> Check:
    def check(form: Any, field: Any) -> None:
        if field.data is not True:
            raise validators.StopValidation(say(locale, "consent_required"))

    return check


class NumberField(fields.Field):  # type: ignore[misc]
    """A number as the visitor wrote it ("1 000", "2,5"), kept as ``int`` when whole."""

    widget = widgets.NumberInput(step="any")

    def __init__(self, *args: Any, invalid: str = "Not a number.", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invalid = invalid

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else str(self.data)

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        if not valuelist or valuelist[0] in ("", None):
            return
        number = parse_number(valuelist[0])
        if number is None:
            raise ValueError(self.invalid)
        self.data = number

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:  # not a number: range checks would only repeat the point
            raise validators.StopValidation()


def _text_filter(multiline: bool) -> Callable[[Any], Any]:
    def clean(value: Any) -> Any:
        return clean_text(value, multiline=multiline) if isinstance(value, str) else value

    return clean


def _checks(question: Question, locale: str) -> list[Check]:
    """The validator chain: presence first, then the question's own rules."""
    rules = question.rules
    qtype = question.type
    checks: list[Check] = []
    if rules.required:
        checks.append(coded(say(locale, "required"), lambda m: validators.InputRequired(message=m)))
    else:
        checks.append(validators.Optional())
    if qtype in (QuestionType.TEXT, QuestionType.TEXTAREA, QuestionType.EMAIL, QuestionType.TEL):
        if rules.min_length:
            low = rules.min_length
            checks.append(coded(say(locale, "too_short", min=low), lambda m: validators.Length(min=low, message=m)))
        high = question.max_length
        if high is not None:
            checks.append(coded(say(locale, "too_long", max=high), lambda m: validators.Length(max=high, message=m)))
        if rules.pattern:
            pattern = rf"(?:{rules.pattern})\Z"
            checks.append(coded(say(locale, "pattern"), lambda m: validators.Regexp(pattern, message=m)))
    if qtype is QuestionType.EMAIL:
        checks.append(coded(say(locale, "email"), lambda m: validators.Email(message=m, check_deliverability=False)))
    elif qtype is QuestionType.TEL:
        checks.append(coded(say(locale, "tel"), lambda m: validators.Regexp(TEL_PATTERN, message=m)))
    elif qtype is QuestionType.NUMBER:
        if rules.min_value is not None:
            low_value = rules.min_value
            checks.append(
                coded(
                    say(locale, "below_min", min=low_value), lambda m: validators.NumberRange(min=low_value, message=m)
                )
            )
        if rules.max_value is not None:
            high_value = rules.max_value
            checks.append(
                coded(
                    say(locale, "above_max", max=high_value),
                    lambda m: validators.NumberRange(max=high_value, message=m),
                )
            )
    elif qtype in (QuestionType.SELECT, QuestionType.RADIO):
        allowed = question.option_values
        checks.append(coded(say(locale, "choice"), lambda m: validators.AnyOf(allowed, message=m)))
    elif qtype is QuestionType.MULTI_SELECT:
        checks.append(all_of(locale, question.option_values))
        if rules.min_choices is not None or rules.max_choices is not None:
            checks.append(choices_between(locale, rules.min_choices, rules.max_choices))
    elif qtype is QuestionType.CONSENT and rules.required:
        checks.append(must_agree(locale))
    return checks


def unbound_field(question: Question, locale: str, default_locale: str) -> UnboundField:
    """The WTForms field for one question, labelled in ``locale``."""
    label = localised(question.labels, locale, default_locale)
    options = {
        "label": label,
        "validators": _checks(question, locale),
        "description": localised(question.help, locale, default_locale),
    }
    choices = [SelectChoice(o.value, localised(o.labels, locale, default_locale)) for o in question.options]
    qtype = question.type
    multiline = qtype is QuestionType.TEXTAREA
    text_options = {**options, "filters": [_text_filter(multiline)]}
    if qtype is QuestionType.TEXT:
        return fields.StringField(**text_options)
    if qtype is QuestionType.TEXTAREA:
        return fields.TextAreaField(**text_options)
    if qtype is QuestionType.EMAIL:
        return fields.EmailField(**text_options)
    if qtype is QuestionType.TEL:
        return fields.TelField(**text_options)
    if qtype is QuestionType.NUMBER:
        return NumberField(invalid=say(locale, "number"), **options)
    if qtype is QuestionType.SELECT:
        return fields.SelectField(choices=choices, validate_choice=False, **options)
    if qtype is QuestionType.RADIO:
        return fields.RadioField(choices=choices, validate_choice=False, **options)
    if qtype is QuestionType.MULTI_SELECT:
        return fields.SelectMultipleField(
            choices=choices,
            validate_choice=False,
            widget=widgets.ListWidget(prefix_label=False),
            option_widget=widgets.CheckboxInput(),
            **options,
        )
    return fields.BooleanField(**options)  # checkbox and consent


#: bound forms kept per question list for :meth:`QuestionForm.lend` (more are built under a burst)
IDLE_FORMS = 4


@dataclass(frozen=True)
class QuestionForm:
    """The form for a list of questions in one locale. Call it to get a bound WTForms form."""

    questions: tuple[Question, ...]
    locale: str
    fields: tuple[tuple[str, UnboundField], ...]
    #: bound forms between two submissions (see lend)
    _idle: list[BaseForm] = field(default_factory=list, compare=False, repr=False)

    def __call__(self, formdata: Any = None) -> BaseForm:
        form = BaseForm(self.fields)
        form.process(formdata)
        return form

    @contextmanager
    def lend(self, formdata: Any) -> Iterator[BaseForm]:
        """A bound form processed with ``formdata``, for the caller to validate and read, then taken back.

        Binding makes every field, its widget and label anew, and cost more than
        validating a submission; a kept form is processed again instead, which
        resets each field's data and errors (``process``, then ``validate``). One
        form is never lent to two callers at once: ``pop`` and ``append`` are atomic.
        """
        try:
            form = self._idle.pop()
        except IndexError:
            form = BaseForm(self.fields)
        form.process(formdata)
        try:
            yield form
        finally:
            if len(self._idle) < IDLE_FORMS:
                self._idle.append(form)


def form_for(questions: Sequence[Question], locale: str, default_locale: str) -> QuestionForm:
    """The form for these questions in ``locale``, built once: published sequences are immutable."""
    return _form_for(tuple(questions), locale, default_locale)


@lru_cache(maxsize=512)
def _form_for(questions: tuple[Question, ...], locale: str, default_locale: str) -> QuestionForm:
    return QuestionForm(
        questions=questions,
        locale=locale,
        fields=tuple((q.key, unbound_field(q, locale, default_locale)) for q in questions),
    )
