"""Leads and their profiles in the database: what we know, storing answers, merging.

Every answer is appended to ``answers``; ``profile_fields`` keeps the newest
value per field (by time answered, so a slow tab cannot overwrite a newer
answer). The caller runs :func:`record_answers` inside ``Database.run`` so a
lost race on the visitor or the e-mail address repeats the whole unit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from capture.models import Answer, Lead, ProfileField, Snooze, Visitor
from profiling.sequence import Question
from profiling.wheel import Knowledge, Known
from profiling.wheel import Snooze as WheelSnooze

#: The profile field that identifies a lead; an answer to it may merge two leads.
EMAIL_FIELD = "email"


@dataclass(frozen=True)
class GivenAnswer:
    question: Question
    #: the clean value; None when skipped
    value: Any
    skipped: bool = False
    #: for consent questions, the exact words shown
    consent_text: str | None = None


@dataclass(frozen=True)
class Provenance:
    """Where and when a batch of answers was given."""

    visitor_id: str
    site_id: int
    form_id: int
    sequence_version_id: int
    page_url: str | None
    locale: str
    asked_at: datetime
    answered_at: datetime
    source: str = "form"


@dataclass(frozen=True)
class LeadView:
    lead_id: int | None
    knowledge: Knowledge
    last_seen_at: datetime | None = None


def load_knowledge(session: Session, visitor_id: str, form_id: int) -> LeadView:
    """What the wheel may know about this visitor: its lead's profile and snoozes."""
    lead = session.execute(
        select(Lead.id, Lead.visit_count, Lead.last_seen_at)
        .join(Visitor, Visitor.lead_id == Lead.id)
        .where(Visitor.id == visitor_id)
    ).first()
    if lead is None:
        return LeadView(lead_id=None, knowledge=Knowledge())
    lead_id, visits, last_seen_at = lead
    fields = {
        name: Known(value=value, answered_at=answered_at)
        for name, value, answered_at in session.execute(
            select(ProfileField.field, ProfileField.value, ProfileField.answered_at).where(
                ProfileField.lead_id == lead_id
            )
        )
    }
    snoozes = {
        key: WheelSnooze(skips=skips, last_visit=last_visit)
        for key, skips, last_visit in session.execute(
            select(Snooze.question_key, Snooze.skips, Snooze.last_visit).where(
                Snooze.lead_id == lead_id, Snooze.form_id == form_id
            )
        )
    }
    return LeadView(
        lead_id=lead_id, knowledge=Knowledge(fields=fields, snoozes=snoozes, visit=visits), last_seen_at=last_seen_at
    )


def start_visit(session: Session, lead_id: int, now: datetime, gap: timedelta) -> bool:
    """Count a new visit if the lead was idle for longer than ``gap``.

    One conditional UPDATE, so two tabs opening at once count one visit.
    """
    result = session.execute(
        update(Lead)
        .where(Lead.id == lead_id, Lead.last_seen_at < now - gap)
        .values(visit_count=Lead.visit_count + 1, last_seen_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def record_answers(session: Session, provenance: Provenance, answers: Iterable[GivenAnswer]) -> int:
    """Store a batch of answers for the visitor's lead (created or merged as needed); return the lead id."""
    answers = list(answers)
    now = provenance.answered_at
    visitor = session.get(Visitor, provenance.visitor_id, with_for_update=True)
    lead = session.get(Lead, visitor.lead_id, with_for_update=True) if visitor is not None else None

    email = next(
        (a.value for a in answers if not a.skipped and a.question.field == EMAIL_FIELD and isinstance(a.value, str)),
        None,
    )
    if email is not None:
        owner = session.scalar(select(Lead).where(Lead.email == email.lower()).with_for_update())
        if owner is not None and (lead is None or owner.id != lead.id):
            if lead is not None:
                merge_leads(session, survivor=owner, absorbed=lead)
            lead = owner
    if lead is None:
        lead = Lead(visit_count=1, last_seen_at=now, created_at=now)
        session.add(lead)
        session.flush()
    if visitor is None:
        session.add(Visitor(id=provenance.visitor_id, lead_id=lead.id, created_at=now))
    elif visitor.lead_id != lead.id:
        visitor.lead_id = lead.id
    if email is not None:
        lead.email = email.lower()
    lead.last_seen_at = max(lead.last_seen_at, now)
    session.flush()

    for given in answers:
        row = Answer(
            lead_id=lead.id,
            visitor_id=provenance.visitor_id,
            site_id=provenance.site_id,
            form_id=provenance.form_id,
            sequence_version_id=provenance.sequence_version_id,
            question_key=given.question.key,
            field=given.question.field,
            value=None if given.skipped else given.value,
            skipped=given.skipped,
            page_url=provenance.page_url,
            locale=provenance.locale,
            asked_at=provenance.asked_at,
            answered_at=now,
            consent_text=given.consent_text,
            consent_version=given.question.consent.version if given.question.consent else None,
            source=provenance.source,
        )
        session.add(row)
        session.flush()
        if given.skipped:
            _snooze(session, lead, provenance.form_id, given.question.key)
        else:
            _remember(session, lead.id, given.question.field, given.value, now, row.id)
    return lead.id


def _remember(session: Session, lead_id: int, field: str, value: Any, answered_at: datetime, answer_id: int) -> None:
    current = session.get(ProfileField, (lead_id, field))
    if current is None:
        session.add(
            ProfileField(lead_id=lead_id, field=field, value=value, answered_at=answered_at, answer_id=answer_id)
        )
    elif current.answered_at <= answered_at:
        current.value = value
        current.answered_at = answered_at
        current.answer_id = answer_id


def _snooze(session: Session, lead: Lead, form_id: int, question_key: str) -> None:
    snooze = session.get(Snooze, (lead.id, form_id, question_key))
    if snooze is None:
        session.add(
            Snooze(lead_id=lead.id, form_id=form_id, question_key=question_key, skips=1, last_visit=lead.visit_count)
        )
    else:
        snooze.skips += 1
        snooze.last_visit = lead.visit_count


def merge_leads(session: Session, *, survivor: Lead, absorbed: Lead) -> None:
    """Fold ``absorbed`` into ``survivor``: every answer, browser and snooze moves; nothing is lost.

    The survivor's profile is rebuilt from the united answers, so the newest
    value of each field wins whichever lead it came from.
    """
    session.flush()
    session.execute(update(Answer).where(Answer.lead_id == absorbed.id).values(lead_id=survivor.id))
    session.execute(update(Visitor).where(Visitor.lead_id == absorbed.id).values(lead_id=survivor.id))
    session.execute(update(Lead).where(Lead.merged_into_id == absorbed.id).values(merged_into_id=survivor.id))

    theirs = session.scalars(select(Snooze).where(Snooze.lead_id == absorbed.id)).all()
    moved = [(s.form_id, s.question_key, s.skips, s.last_visit) for s in theirs]
    session.execute(delete(Snooze).where(Snooze.lead_id == absorbed.id))
    session.flush()
    for form_id, question_key, skips, last_visit in moved:
        mine = session.get(Snooze, (survivor.id, form_id, question_key))
        if mine is None:
            session.add(
                Snooze(
                    lead_id=survivor.id, form_id=form_id, question_key=question_key, skips=skips, last_visit=last_visit
                )
            )
        else:
            mine.skips = max(mine.skips, skips)
            mine.last_visit = max(mine.last_visit, last_visit)

    session.execute(delete(ProfileField).where(ProfileField.lead_id.in_((absorbed.id, survivor.id))))
    latest: dict[str, tuple[datetime, int, Any]] = {}
    for answer_id, name, value, answered_at in session.execute(
        select(Answer.id, Answer.field, Answer.value, Answer.answered_at)
        .where(Answer.lead_id == survivor.id, Answer.skipped.is_(False))
        .order_by(Answer.answered_at, Answer.id)
    ):
        latest[name] = (answered_at, answer_id, value)
    for name, (answered_at, answer_id, value) in latest.items():
        session.add(
            ProfileField(lead_id=survivor.id, field=name, value=value, answered_at=answered_at, answer_id=answer_id)
        )

    survivor.visit_count = max(survivor.visit_count, absorbed.visit_count)
    survivor.last_seen_at = max(survivor.last_seen_at, absorbed.last_seen_at)
    absorbed.email = None
    absorbed.merged_into_id = survivor.id
    session.flush()
