"""The knowledge wheel: which questions to ask on this visit, and how far along we are.

This is a pure function of (sequence, what we know, now). The shell loads what
is known about a lead, calls :func:`next_questions`, and stores the answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from profiling.sequence import Question, QuestionType, Sequence, Stage


class Known(NamedTuple):
    """The latest value of one profile field and when it was given.

    A named tuple rather than a frozen dataclass: every ask and answer makes one
    per known field, and a frozen dataclass's ``__init__`` costs several times
    a tuple's.
    """

    value: Any
    answered_at: datetime


@dataclass(frozen=True)
class Snooze:
    """A question the visitor answered with "not now"."""

    skips: int
    #: the visit number of the latest skip
    last_visit: int


@dataclass(frozen=True)
class Knowledge:
    """Everything the wheel needs to know about one lead."""

    fields: Mapping[str, Known] = field(default_factory=dict)
    #: by question key
    snoozes: Mapping[str, Snooze] = field(default_factory=dict)
    #: the current visit, counted from 1
    visit: int = 1

    def values(self) -> dict[str, Any]:
        return {name: known.value for name, known in self.fields.items()}

    def learn(self, answers: Mapping[str, Any], skipped: Iterable[str], at: datetime, visit: int) -> Knowledge:
        """What is known after these answers (by field) and "not now"s (by question key) at ``at``.

        The same rule the store applies: a value replaces the known one unless
        that one was given later (a slow tab must not undo a newer answer).
        """
        fields = dict(self.fields)
        for name, value in answers.items():
            current = fields.get(name)
            if current is None or current.answered_at <= at:
                fields[name] = Known(value=value, answered_at=at)
        snoozes = dict(self.snoozes)
        for key in skipped:
            before = snoozes.get(key)
            snoozes[key] = Snooze(skips=(before.skips if before else 0) + 1, last_visit=visit)
        return Knowledge(fields=fields, snoozes=snoozes, visit=visit)


class Status(StrEnum):
    #: there are questions to ask now
    ASKING = "asking"
    #: nothing to ask on this visit, but snoozed questions will come back later
    WAITING = "waiting"
    #: everything applicable is known (or declined for good)
    COMPLETE = "complete"


@dataclass(frozen=True)
class StageProgress:
    stage: Stage
    #: applicable questions whose field is known and fresh
    known: int
    #: applicable questions the visitor declined for good
    declined: int
    #: applicable questions (conditions hold)
    total: int

    @property
    def done(self) -> bool:
        return self.known + self.declined >= self.total


@dataclass(frozen=True)
class Plan:
    """The wheel's answer for one visit."""

    questions: tuple[Question, ...]
    status: Status
    stages: tuple[StageProgress, ...]

    @property
    def current_stage(self) -> int:
        """Index of the stage the visitor is in: the first one not done."""
        for index, progress in enumerate(self.stages):
            if not progress.done:
                return index
        return len(self.stages) - 1


def is_fresh(question: Question, known: Known | None, now: datetime) -> bool:
    """A field counts as known unless it is missing or older than the question allows."""
    if known is None:
        return False
    if question.freshness_days is None:
        return True
    return now - known.answered_at < timedelta(days=question.freshness_days)


def _declined(question: Question, knowledge: Knowledge, sequence: Sequence) -> bool:
    snooze = knowledge.snoozes.get(question.key)
    return snooze is not None and snooze.skips > sequence.settings.max_reasks


def _snoozed_now(question: Question, knowledge: Knowledge, sequence: Sequence) -> bool:
    snooze = knowledge.snoozes.get(question.key)
    return snooze is not None and knowledge.visit < snooze.last_visit + sequence.settings.snooze_visits


def next_questions(sequence: Sequence, knowledge: Knowledge, now: datetime) -> Plan:
    """Choose at most N questions for this visit.

    In sequence order, the first applicable questions whose field is not known
    (or has gone stale). The e-mail question comes first while the e-mail is
    unknown, because it is what lets later visits join up. Snoozed questions
    wait out their visits, then queue behind every other open question; a
    question skipped more often than ``max_reasks`` allows is never asked again.
    Two questions filling the same field are never asked together.
    """
    values = knowledge.values()
    fresh: list[Question] = []
    returning: list[Question] = []
    pending_snoozes = False
    progress: list[StageProgress] = []
    for stage in sequence.stages:
        known = declined = total = 0
        for question in stage.questions:
            if question.conditions and not question.applies(values):
                continue
            total += 1
            if is_fresh(question, knowledge.fields.get(question.field), now):
                known += 1
            elif _declined(question, knowledge, sequence):
                declined += 1
            elif _snoozed_now(question, knowledge, sequence):
                pending_snoozes = True
            elif question.key in knowledge.snoozes:
                returning.append(question)
            else:
                fresh.append(question)
        progress.append(StageProgress(stage=stage, known=known, declined=declined, total=total))

    if sequence.settings.email_first:
        fresh.sort(key=lambda q: q.type is not QuestionType.EMAIL)  # stable: order kept otherwise

    chosen: list[Question] = []
    fields: set[str] = set()
    for question in (*fresh, *returning):
        if len(chosen) == sequence.settings.questions_per_visit:
            break
        if question.field in fields:
            continue
        fields.add(question.field)
        chosen.append(question)

    if chosen:
        status = Status.ASKING
    elif pending_snoozes:
        status = Status.WAITING
    else:
        status = Status.COMPLETE
    return Plan(questions=tuple(chosen), status=status, stages=tuple(progress))
