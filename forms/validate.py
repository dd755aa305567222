"""Checking one submission of answers against the questions it was shown.

The API receives JSON, not an HTML form post, so each value is first checked
for the right *shape* (text for a text question, a list for a multi-select,
true/false for a checkbox) and turned into the strings a form post would have
carried; the WTForms form then applies the question's validators. The result
is either every value, normalised and typed, or an error per field — never a
partial mix, so the caller can store all or nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from forms.build import form_for
from forms.messages import Problem, say
from forms.normalise import clean_text
from profiling.sequence import Question, QuestionType

#: More list items than any question has options is not a real answer.
MAX_LIST_ITEMS = 100
_TEXTY = (QuestionType.TEXT, QuestionType.TEXTAREA, QuestionType.EMAIL, QuestionType.TEL)


@dataclass(frozen=True)
class FieldError:
    code: str
    message: str


@dataclass(frozen=True)
class Validated:
    #: by question key: only questions that were answered (empty optional ones are absent)
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[FieldError]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


class Posted(dict[str, list[str]]):
    """The answers as WTForms expects a form post: a list of strings per name."""

    def getlist(self, name: str) -> list[str]:
        return self.get(name, [])


def as_posted(question: Question, value: Any, locale: str) -> list[str] | Problem:
    """What an HTML form would have posted for ``value``, or why it cannot be that.

    ``None``, a missing key, blank text and an empty list all mean "not answered".
    """
    if value is None:
        return []
    qtype = question.type
    if qtype in _TEXTY:
        if not isinstance(value, str):
            return say(locale, "text_expected")
        text = clean_text(value, multiline=qtype is QuestionType.TEXTAREA)
        return [text] if text else []
    if qtype is QuestionType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return say(locale, "number")
        text = value.strip() if isinstance(value, str) else repr(value)
        return [text] if text else []
    if qtype in (QuestionType.SELECT, QuestionType.RADIO):
        if not isinstance(value, str):
            return say(locale, "choice")
        text = clean_text(value)
        return [text] if text else []
    if qtype is QuestionType.MULTI_SELECT:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or len(items) > MAX_LIST_ITEMS or not all(isinstance(i, str) for i in items):
            return say(locale, "choice")
        chosen = (clean_text(item) for item in items)
        return list(dict.fromkeys(item for item in chosen if item))  # de-duplicated, order kept
    if not isinstance(value, bool):  # checkbox and consent
        return say(locale, "yes_or_no")
    return ["y" if value else "false"]


def validate_answers(
    questions: Sequence[Question], raw: Mapping[str, Any], locale: str, default_locale: str
) -> Validated:
    """Validate ``raw`` (question key → JSON value) for ``questions``.

    Keys in ``raw`` that name none of ``questions`` are ignored here; the
    caller decides whether they are an error (the API refuses them first).
    """
    errors: dict[str, list[FieldError]] = {}
    posted = Posted()
    for question in questions:
        shaped = as_posted(question, raw.get(question.key), locale)
        if isinstance(shaped, Problem):
            errors[question.key] = [FieldError(shaped.code, str(shaped))]
        else:
            posted[question.key] = shaped
    values: dict[str, Any] = {}
    with form_for(questions, locale, default_locale).lend(posted) as form:
        form.validate()
        for question in questions:
            if question.key in errors:
                continue
            bound = form[question.key]
            if bound.errors:
                errors[question.key] = [FieldError(getattr(e, "code", "invalid"), str(e)) for e in bound.errors]
            elif posted[question.key]:
                values[question.key] = bound.data
    if errors:
        return Validated(errors=errors)
    return Validated(values=values)
