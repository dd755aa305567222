"""The JSON a visitor's browser receives: localised questions, progress, tokens.

Only what is needed to *ask* is sent. Stored answer values never leave the
server here, so a shared or stolen visitor token cannot read a profile.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from capture.leads.visits import Asked
from capture.web.snippet_words import snippet_words
from profiling.sequence import Question, Sequence, localised
from profiling.wheel import Status


def question_json(question: Question, sequence: Sequence, locale: str) -> dict[str, Any]:
    """The question as the browser shows it, in ``locale``."""
    return _question_json(question, sequence.stage_of(question.key).key, sequence.default_locale, locale)


@lru_cache(maxsize=4096)
def _question_json(question: Question, stage_key: str, default_locale: str, locale: str) -> dict[str, Any]:
    """Built once per question and locale: published questions never change, and every ask sends a few."""

    def text(texts: Any) -> str:
        return localised(texts, locale, default_locale)

    rules = question.rules
    validation = {
        "min_length": rules.min_length,
        "max_length": question.max_length,
        "min": rules.min_value,
        "max": rules.max_value,
        "pattern": rules.pattern,
        "min_choices": rules.min_choices,
        "max_choices": rules.max_choices,
    }
    body: dict[str, Any] = {
        "key": question.key,
        "type": question.type.value,
        "stage": stage_key,
        "label": text(question.labels),
        "help": text(question.help) or None,
        "required": rules.required,
        "skippable": question.skippable,
        "validation": {name: value for name, value in validation.items() if value is not None},
    }
    if question.options:
        body["options"] = [{"value": o.value, "label": text(o.labels)} for o in question.options]
    if question.consent is not None:
        body["consent_version"] = question.consent.version
    return body


def asked_json(asked: Asked) -> dict[str, Any]:
    """The plan as ask and answer return it: the questions on screen and their ticket, or, when nothing is
    asked (paused, waiting, complete), the thank-you text and whether the visitor may ask for ``more`` now."""
    sequence = asked.form.sequence
    locale = asked.locale
    plan = asked.plan
    current = plan.stages[plan.current_stage]
    steps = plan.steps
    body: dict[str, Any] = {
        "visitor": asked.visitor_token,
        "locale": locale,
        "status": plan.status.value,
        "form": {"slug": asked.form.slug, "version": asked.form.version},
        "questions": [question_json(q, sequence, locale) for q in plan.questions],
        "ticket": asked.ticket,
        "min_fill_ms": asked.min_fill_ms,
        "more": plan.more,
        "words": snippet_words(locale),
        "progress": {
            "step": plan.step,
            "steps": len(steps),
            "stage": current.stage.key,
            "stages": [
                {
                    "key": p.stage.key,
                    "label": localised(p.stage.labels, locale, sequence.default_locale),
                    "known": p.known,
                    "declined": p.declined,
                    "total": p.total,
                    "done": p.done,
                }
                for p in steps
            ],
        },
    }
    if plan.status is not Status.ASKING:
        # the visit is over for now (paused, waiting) or for good (complete): thank the visitor either way
        body["thank_you"] = localised(sequence.thank_you, locale, sequence.default_locale) or None
    return body
