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
    #: question keys of this sequence shown on a submitted form during the current visit (answered,
    #: snoozed or left blank): what the visit's quota has spent, and what this visit will not ask again
    shown: frozenset[str] = frozenset()

    def values(self) -> dict[str, Any]:
        return {name: known.value for name, known in self.fields.items()}

    def learn(
        self,
        answers: Mapping[str, Any],
        skipped: Iterable[str],
        at: datetime,
        visit: int,
        shown: Iterable[str] = (),
    ) -> Knowledge:
        """What is known after these answers (by field) and "not now"s (by question key) at ``at``,
        submitted on a form that showed the questions ``shown`` on visit ``visit``.

        The same rule the store applies: a value replaces the known one unless
        that one was given later (a slow tab must not undo a newer answer).
        What was shown counts for the visit it was submitted in; a new visit starts with none.
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
        earlier = self.shown if visit == self.visit else frozenset()
        return Knowledge(fields=fields, snoozes=snoozes, visit=visit, shown=earlier.union(shown))


class Status(StrEnum):
    #: there are questions to ask now
    ASKING = "asking"
    #: nothing to ask on this visit, but snoozed questions will come back later
    WAITING = "waiting"
    #: everything applicable is known (or declined for good)
    COMPLETE = "complete"
    #: this visit's quota of questions is used; the next visit asks the next ones
    PAUSED = "paused"


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
    #: every stage of the sequence, in order
    stages: tuple[StageProgress, ...]
    #: index in ``stages`` of the stage on screen: the first question's, else the first applicable
    #: stage not done (else the last applicable one)
    current_stage: int = 0
    #: the questions go beyond the visit's quota because the visitor asked for more
    on_request: bool = False
    #: paused, and the visitor may ask for the next batch now (the sequence offers ``more_on_request``)
    more: bool = False

    @property
    def steps(self) -> tuple[StageProgress, ...]:
        """The stages that apply to this visitor (any question whose conditions hold): what "Step X of Y" counts.

        A stage none of whose questions apply (the B2C path of a B2B visitor, or a path
        still waiting for the answer that opens it) is no step, so the counter never jumps.
        """
        applicable = tuple(progress for progress in self.stages if progress.total)
        return applicable or self.stages

    @property
    def step(self) -> int:
        """The current stage's number among :attr:`steps`, from 1."""
        current = self.stages[self.current_stage]
        return next((number for number, p in enumerate(self.steps, 1) if p is current), 1)


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


class Reason(StrEnum):
    """Why the wheel asked a question on this visit, or passed it over (what a marketer's preview shows)."""

    ASKED = "asked"
    #: asked again: the answer kept is older than the question's freshness allows
    STALE = "stale"
    #: a condition on earlier answers does not hold
    CONDITION = "condition"
    KNOWN = "known"
    #: answered "not now" more often than the sequence re-asks
    DECLINED = "declined"
    #: answered "not now": waits some visits
    SNOOZED = "snoozed"
    #: this visit already showed it
    SHOWN = "shown"
    #: open, but this visit's quota went to questions before it
    QUEUED = "queued"
    #: another question on this visit fills the same field
    SAME_FIELD = "same_field"


@dataclass(frozen=True)
class Why:
    reason: Reason
    #: for SNOOZED, the visit it may be asked again on
    until_visit: int | None = None


def next_questions(sequence: Sequence, knowledge: Knowledge, now: datetime, *, more: bool = False) -> Plan:
    """Choose the questions for this visit: at most N on the whole visit.

    In sequence order, the first applicable questions whose field is not known
    (or has gone stale). The e-mail question comes first while the e-mail is
    unknown, because it is what lets later visits join up. Snoozed questions
    wait out their visits, then queue behind every other open question; a
    question skipped more often than ``max_reasks`` allows is never asked again.
    Two questions filling the same field are never asked together.

    A visit asks ``questions_per_visit`` questions in all, however many forms,
    tabs or reloads it spreads over: the questions it has shown (``knowledge.shown``)
    use the quota up and are not asked again on this visit. Once it is used the
    plan pauses, until the next visit, or until the visitor asks for ``more``
    where the sequence offers it: then the next batch, up to N, beyond the quota.
    """
    return _plan(sequence, knowledge, now, more, None)


def explain(
    sequence: Sequence, knowledge: Knowledge, now: datetime, *, more: bool = False
) -> tuple[Plan, dict[str, Why]]:
    """The plan :func:`next_questions` makes, with why each question of the sequence was asked or not.

    The same walk as the live one, noting its reasons on the way: a preview cannot drift from what
    visitors are asked.
    """
    notes: dict[str, Why] = {}
    return _plan(sequence, knowledge, now, more, notes), notes


def _plan(sequence: Sequence, knowledge: Knowledge, now: datetime, more: bool, notes: dict[str, Why] | None) -> Plan:
    values = knowledge.values()
    fresh: list[Question] = []
    returning: list[Question] = []
    pending_snoozes = False
    #: open questions this visit already showed (left blank or snoozed for no visits): the next visit's
    held_back = False
    progress: list[StageProgress] = []
    stage_of: dict[str, int] = {}
    for index, stage in enumerate(sequence.stages):
        known = declined = total = 0
        for question in stage.questions:
            if question.conditions and not question.applies(values):
                if notes is not None:
                    notes[question.key] = Why(Reason.CONDITION)
                continue
            total += 1
            why = None
            if is_fresh(question, knowledge.fields.get(question.field), now):
                known += 1
                why = Why(Reason.KNOWN)
            elif _declined(question, knowledge, sequence):
                declined += 1
                why = Why(Reason.DECLINED)
            elif _snoozed_now(question, knowledge, sequence):
                pending_snoozes = True
                why = Why(Reason.SNOOZED, knowledge.snoozes[question.key].last_visit + sequence.settings.snooze_visits)
            elif question.key in knowledge.shown:
                held_back = True
                why = Why(Reason.SHOWN)
            else:
                (returning if question.key in knowledge.snoozes else fresh).append(question)
                stage_of[question.key] = index
            if notes is not None and why is not None:
                notes[question.key] = why
        progress.append(StageProgress(stage=stage, known=known, declined=declined, total=total))

    if sequence.settings.email_first:
        fresh.sort(key=lambda q: q.type is not QuestionType.EMAIL)  # stable: order kept otherwise
    waiting = (*fresh, *returning)

    settings = sequence.settings
    room = max(0, settings.questions_per_visit - len(knowledge.shown))
    on_request = room == 0 and more and settings.more_on_request and bool(waiting)
    chosen = _batch(waiting, settings.questions_per_visit if on_request else room)

    if chosen:
        status = Status.ASKING
    elif waiting or held_back:
        status = Status.PAUSED
    elif pending_snoozes:
        status = Status.WAITING
    else:
        status = Status.COMPLETE
    current = stage_of[chosen[0].key] if chosen else _first_open_stage(progress)
    if notes is not None:
        _note_waiting(notes, waiting, chosen, knowledge)
    return Plan(
        questions=chosen,
        status=status,
        stages=tuple(progress),
        current_stage=current,
        on_request=on_request,
        more=status is Status.PAUSED and settings.more_on_request and bool(waiting),
    )


def _note_waiting(
    notes: dict[str, Why], waiting: Iterable[Question], chosen: tuple[Question, ...], knowledge: Knowledge
) -> None:
    """The open questions' reasons: asked (again, if stale), or left for another question of its field or the quota."""
    asked = {question.key for question in chosen}
    fields = {question.field for question in chosen}
    for question in waiting:
        if question.key in asked:
            notes[question.key] = Why(Reason.STALE if question.field in knowledge.fields else Reason.ASKED)
        else:
            notes[question.key] = Why(Reason.SAME_FIELD if question.field in fields else Reason.QUEUED)


def _batch(waiting: Iterable[Question], size: int) -> tuple[Question, ...]:
    """The first ``size`` questions of the queue, never two that fill one field."""
    chosen: list[Question] = []
    fields: set[str] = set()
    for question in waiting:
        if len(chosen) >= size:
            break
        if question.field in fields:
            continue
        fields.add(question.field)
        chosen.append(question)
    return tuple(chosen)


def _first_open_stage(progress: list[StageProgress]) -> int:
    """With nothing on screen: the first applicable stage not done, else the last applicable one."""
    applicable = [index for index, p in enumerate(progress) if p.total]
    for index in applicable:
        if not progress[index].done:
            return index
    return applicable[-1] if applicable else 0
