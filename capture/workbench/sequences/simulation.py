"""The visit simulator: what a returning visitor is asked, visit after visit, and where the score goes.

A persona (language, what is already known, on each visit: answers or "not now", pages viewed)
walks through a sequence. Each visit asks the wheel itself (profiling.wheel.explain: the same
walk as a real visitor's ask, with its reasons), answers as the persona would, and scores the
lead with the live model (scoring.engine.score_events and scoring.lifecycle.next_stage: the
same functions the service scores with). Nothing is stored: plain Python over values.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from capture.demo.synthetic import synthetic_value
from profiling.sequence import Question, Sequence, localised
from profiling.wheel import Knowledge, Known, Reason, Status, Why, explain
from scoring.engine import Score, score_events
from scoring.inputs import Event, Profile
from scoring.lifecycle import LifecycleStage, next_stage
from scoring.model import ScoringModel

#: how far apart the simulated visits are: past the visit gap, within every freshness
VISIT_EVERY = timedelta(days=3)
#: what a visitor takes to fill a form
FILL_TIME = timedelta(minutes=1)


@dataclass(frozen=True)
class VisitPlan:
    """What the persona does on one visit."""

    #: answer the questions asked (False: "not now" to each one that may be skipped)
    answers: bool = True
    #: the pages viewed on the visit, as paths (``/pricing``)
    pages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Persona:
    locale: str = "en"
    #: answers known before the first visit, by field (e.g. ``customer_type: b2b``)
    known: Mapping[str, Any] = field(default_factory=dict)
    visits: tuple[VisitPlan, ...] = (VisitPlan(),)


@dataclass(frozen=True)
class AskedQuestion:
    question: Question
    label: str
    #: what the persona answered; None: "not now"
    answer: Any


@dataclass(frozen=True)
class PassedOver:
    key: str
    label: str
    why: Why


@dataclass(frozen=True)
class SimulatedVisit:
    number: int
    at: datetime
    status: Status
    asked: tuple[AskedQuestion, ...]
    passed_over: tuple[PassedOver, ...]
    pages: tuple[str, ...]
    #: after the visit, by the live model; None without one
    score: Score | None
    stage: LifecycleStage | None


def simulate(
    sequence: Sequence, model: ScoringModel | None, persona: Persona, start: datetime, seed: int = 1
) -> list[SimulatedVisit]:
    rng = random.Random(seed)
    known_at = start - VISIT_EVERY
    knowledge = Knowledge(fields={name: Known(value, known_at) for name, value in persona.known.items()})
    person = {"email": "persona@example.com", "first_name": "Ada", "last_name": "Jensen", "company_name": "Nordlys",
              "b2b": persona.known.get("customer_type") != "b2c"}  # fmt: skip
    events: list[Event] = []
    stage: LifecycleStage | None = None
    visits = []
    for number, plan in enumerate(persona.visits, 1):
        at = start + VISIT_EVERY * (number - 1)
        knowledge = replace(knowledge, visit=number, shown=frozenset())
        wheel, why = explain(sequence, knowledge, at)
        asked = tuple(_asked(question, plan, sequence, persona.locale, person, rng) for question in wheel.questions)
        answered = {a.question.field: a.answer for a in asked if a.answer is not None}
        skipped = [a.question.key for a in asked if a.answer is None]
        knowledge = knowledge.learn(answered, skipped, at + FILL_TIME, number, shown=[q.key for q in wheel.questions])
        events += [Event(type="page_view", at=at, path=page, props={}) for page in plan.pages]
        result = None
        if model is not None:
            values = knowledge.values()
            email = values.get("email")
            profile = Profile(fields=values, email=email.lower() if isinstance(email, str) else None)
            result = score_events(model, profile, events, at + FILL_TIME)
            stage = next_stage(model, stage, result)
        passed = tuple(
            PassedOver(key, _label(sequence, key, persona.locale), reason)
            for key, reason in why.items()
            if reason.reason not in (Reason.ASKED, Reason.STALE)
        )
        visits.append(SimulatedVisit(number, at, wheel.status, asked, passed, plan.pages, result, stage))
    return visits


def _asked(
    question: Question, plan: VisitPlan, sequence: Sequence, locale: str, person: dict[str, Any], rng: random.Random
) -> AskedQuestion:
    label = localised(question.labels, locale, sequence.default_locale)
    if not plan.answers and question.skippable and not question.rules.required:
        return AskedQuestion(question, label, None)
    options = [option.value for option in question.options]
    value = synthetic_value(question.key, question.type.value, options, question.rules.required, person, rng)
    return AskedQuestion(question, label, value)


def _label(sequence: Sequence, key: str, locale: str) -> str:
    question = sequence.question(key)
    return localised(question.labels, locale, sequence.default_locale) if question is not None else key
