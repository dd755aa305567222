"""Leads and their profiles in the database: what we know, storing answers, merging.

Every answer is appended to ``answers``; the lead row keeps the newest value
per field as one document, ``leads.profile`` (by time answered, so a slow tab
cannot overwrite a newer answer; see capture/leads/profile_doc.py). The caller runs
:func:`record_answers` inside ``Database.run``, the answer's one unit of work, so
a lost race on the visitor or the e-mail address repeats the whole unit.

Everything here is SQLAlchemy Core on the unit's connection, with the hot
statements built once at import: ask and answer run these on every request, and
the ORM's unit of work cost several times the queries themselves.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Self

from sqlalchemy import (
    Connection,
    Insert,
    Integer,
    bindparam,
    delete,
    insert,
    literal,
    null,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.sql import ColumnElement, CompoundSelect

from capture.db import direct
from capture.db.models import Answer, BehaviourEvent, ConsentRecord, EmailClaim, Lead, SnoozedQuestion, Visitor
from capture.db.upserts import by_dialect, upsert
from capture.leads import profile_doc, visit_shown
from capture.leads.claims import Claim, record_claim, release_address
from capture.leads.lead_row import seen_columns, write_lead
from capture.qualifying.scores import STANDING_COLUMNS
from profiling.sequence import Question
from profiling.wheel import Knowledge, Snooze

#: The profile field that identifies a lead; an answer to it may merge two leads.
EMAIL_FIELD = "email"


@dataclass(frozen=True)
class GivenAnswer:
    #: the profile field it fills
    field: str
    #: the clean value; None when skipped
    value: Any
    #: the question it answered (None when it came from elsewhere, e.g. identify)
    question_key: str | None = None
    skipped: bool = False
    #: for consent questions, the exact words shown and their revision
    consent_text: str | None = None
    consent_version: str | None = None

    @classmethod
    def to(cls, question: Question, value: Any, *, skipped: bool = False, consent_text: str | None = None) -> Self:
        consent_version = question.consent.version if question.consent else None
        return cls(question.field, value, question.key, skipped, consent_text, consent_version)


@dataclass(frozen=True)
class Provenance:
    """Where and when a batch of answers was given."""

    #: the browser it came from; None for answers from back-end systems
    visitor_id: str | None
    site_id: int
    form_id: int | None
    sequence_version_id: int | None
    page_url: str | None
    locale: str
    asked_at: datetime
    answered_at: datetime
    source: str = "form"
    #: the form's questions were given beyond the visit's quota, because the visitor asked for more
    on_request: bool = False
    #: the name of the sequence the form showed (whose visit quota the shown questions count against)
    sequence: str | None = None
    #: the question keys the form showed (its ticket's), answered, snoozed or left blank
    shown: tuple[str, ...] = ()


@dataclass(frozen=True)
class LeadView:
    lead_id: int | None
    knowledge: Knowledge
    last_seen_at: datetime | None = None
    email: str | None = None
    #: the lead gained events or answers from elsewhere (a merge, a browser's earlier events): score it afresh
    regathered: bool = False
    #: the lead's score as it stands in this transaction (``capture.qualifying.scores.STANDING_COLUMNS``), when read
    standing: Any = None
    #: its profile document as read (capture/leads/profile_doc.py), which an answer writes back with its own
    profile: profile_doc.Document = field(default_factory=dict)
    #: the lead's columns an answer still has to write (see record_answers' ``seen_later``)
    seen: dict[str, Any] = field(default_factory=dict)
    #: what the lead's visit has shown, as read (capture/leads/visit_shown.py)
    visit_shown: visit_shown.Record = field(default_factory=dict)
    #: the site the lead belongs to, whose scoring model scores it (None: a lead from before sites were kept)
    site_id: int | None = None


_visitors, _leads, _answers = Visitor.__table__, Lead.__table__, Answer.__table__
_snoozes, _events, _claims = SnoozedQuestion.__table__, BehaviourEvent.__table__, EmailClaim.__table__

#: The hot read of every ask, built once: the visitor's lead with its whole profile (one document on
#: its row), and its snoozes on this form, in one round trip. The lead's row comes first (the one with
#: a visit count), then a row per snooze (with skips). The lead's row carries NULLs typed as the
#: columns of the rows below, so every row is read by the same types. ``standing`` columns of the
#: lead come along on its row: an answer scores the lead next.
_LEAD = _visitors.join(_leads, _visitors.c.lead_id == _leads.c.id)
_NO_INT = literal(None, Integer)


def _typed_null(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return type_coerce(null(), column.type).label(column.key)


def _knowledge(*standing: ColumnElement[Any]) -> CompoundSelect[Any]:
    none = [null() for _ in standing]
    return union_all(
        select(_leads.c.id, _leads.c.visit_count, _leads.c.last_seen_at, _leads.c.email, _leads.c.profile,
               _leads.c.visit_shown, _leads.c.site_id, _typed_null(_snoozes.c.question_key), _NO_INT.label("skips"),
               _NO_INT.label("last_visit"), *standing)
        .select_from(_LEAD)
        .where(_visitors.c.id == bindparam("visitor_id")),
        select(_snoozes.c.lead_id, null(), null(), null(), null(), null(), null(), _snoozes.c.question_key,
               _snoozes.c.skips, _snoozes.c.last_visit, *none)
        .select_from(_visitors.join(_snoozes, _snoozes.c.lead_id == _visitors.c.lead_id))
        .where(_visitors.c.id == bindparam("visitor_id"), _snoozes.c.form_id == bindparam("form_id")),
    )  # fmt: skip


_READ_KNOWLEDGE = _knowledge()
_READ_KNOWLEDGE_AND_STANDING = _knowledge(*STANDING_COLUMNS)
#: a lead's standing as :func:`capture.qualifying.scores.score_lead` reads it
_Standing = namedtuple("_Standing", [column.key for column in STANDING_COLUMNS])  # type: ignore[misc]


def load_knowledge(
    connection: Connection, visitor_id: str, form_id: int | None, *, sequence: str | None = None, standing: bool = False
) -> LeadView:
    """What the wheel may know about this visitor: its lead's profile and snoozes, and what the
    lead's visit has shown of ``sequence`` (and its score's ``standing``, when asked for).

    One statement, built once: this runs on every ask and answer.
    """
    read = _READ_KNOWLEDGE_AND_STANDING if standing else _READ_KNOWLEDGE
    rows = direct.rows(connection, read, {"visitor_id": visitor_id, "form_id": form_id})
    if not rows:
        return LeadView(lead_id=None, knowledge=Knowledge())
    lead_id, visits, last_seen_at, email, lead_standing = None, 0, None, None, None
    document: dict[str, Any] = {}
    record: dict[str, Any] = {}
    site_id = None
    snoozes: dict[str, Snooze] = {}
    for row in rows:
        row_lead, row_visits, row_seen, row_email, row_profile, row_record, row_site, key, skips, last_visit = row[:10]
        if row_visits is not None:
            lead_id, visits, last_seen_at, email, document = row_lead, row_visits, row_seen, row_email, row_profile
            record, site_id = row_record or {}, row_site
            if standing:
                lead_standing = _Standing(*row[10:])
        else:
            snoozes[key] = Snooze(skips=skips, last_visit=last_visit)
    shown = visit_shown.shown(record, visits, sequence) if sequence is not None else frozenset()
    knowledge = Knowledge(fields=profile_doc.known(document), snoozes=snoozes, visit=visits, shown=shown)
    return LeadView(
        lead_id, knowledge, last_seen_at, email, standing=lead_standing, profile=document or {}, visit_shown=record,
        site_id=site_id,
    )  # fmt: skip


def start_visit(connection: Connection, lead_id: int, now: datetime, gap: timedelta) -> bool:
    """Count a new visit if the lead was idle for longer than ``gap``.

    One conditional UPDATE, so two tabs opening at once count one visit.
    """
    result = connection.execute(
        update(_leads)
        .where(_leads.c.id == lead_id, _leads.c.last_seen_at < now - gap)
        .values(visit_count=_leads.c.visit_count + 1, last_seen_at=now)
    )
    return bool(result.rowcount)


#: PostgreSQL: hold the visitor and its lead while answers are stored, so a merge of that lead in
#: another transaction waits for us (or we for it, and then see where the visitor went).
_LOCK_VISITOR = (
    select(_visitors.c.id).select_from(_LEAD).where(_visitors.c.id == bindparam("visitor_id")).with_for_update()
)
_LEAD_BY_EMAIL = (
    select(_leads.c.id, _leads.c.email_confirmed_at).where(_leads.c.email == bindparam("email")).with_for_update()
)


#: the profile, visit number and visit record of the lead an answer moved its visitor to (SQLite's
#: BEGIN IMMEDIATE, or on PostgreSQL the lock taken on that lead by e-mail, keeps it as read until
#: the answer writes it back)
_MOVED_TO = select(
    _leads.c.profile, _leads.c.visit_count, _leads.c.last_seen_at, _leads.c.visit_shown, _leads.c.site_id
).where(_leads.c.id == bindparam("lead_id"))


@lru_cache(maxsize=16)
def _insert_answers(count: int, columns: tuple[str, ...]) -> Insert:
    """A submission of ``count`` answers, each of these ``columns``, in one INSERT (run by
    capture/db/direct.py), each id back with its question and field: neither database promises
    RETURNING rows in VALUES order."""
    rows = [{name: bindparam(f"{name}_{i}", type_=_answers.c[name].type) for name in columns} for i in range(count)]
    return insert(_answers).values(rows).returning(_answers.c.id, _answers.c.question_key, _answers.c.field)


_NEW_LEAD = insert(_leads).returning(_leads.c.id)
_NEW_VISITOR = insert(_visitors)
_LINK_EVENTS = (
    update(_events)
    .where(_events.c.visitor_id == bindparam("browser"), _events.c.lead_id.is_(None))
    .values(lead_id=bindparam("owner"))
)
_MOVE_VISITOR = update(_visitors).where(_visitors.c.id == bindparam("visitor_id")).values(lead_id=bindparam("lead_id"))


def record_answers(
    connection: Connection,
    provenance: Provenance,
    answers: Iterable[GivenAnswer],
    *,
    seen_later: bool = False,
    visit_gap: timedelta | None = None,
    vouched: str | None = None,
) -> LeadView:
    """Store a batch of answers for the visitor's lead (created or merged as needed).

    The questions the form showed (``provenance.shown``) count against the
    visit's quota from now on (capture/leads/visit_shown.py); ``visit_gap`` tells
    whether a lead this answer joins or merges is still in a visit.

    An e-mail another lead already holds is a claim (capture/leads/claims.py): the
    visitor stays on its own lead and the claim waits for confirmation, unless
    the address is ``vouched`` for ("identity": the site's back end signed it):
    then the visitor's lead merges into a holder whose address is confirmed, and
    takes the address from one that only claimed it.

    Returns what is known afterwards, so the caller can plan the next
    questions without reading it back. ``seen_later``: the caller writes the
    lead's row next anyway (its score) and takes the lead's seen, e-mail and
    profile columns along (``LeadView.seen``, see capture/leads/lead_row.py) instead
    of this writing the row once more; when the answer moved its visitor to
    another lead they are written here all the same, and ``seen`` is empty.
    """
    answers = list(answers)
    now = provenance.answered_at
    assert provenance.visitor_id is not None, "a browser's answers come from a visitor"
    if connection.dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE already holds everything
        connection.execute(_LOCK_VISITOR, {"visitor_id": provenance.visitor_id}).all()
    before = load_knowledge(
        connection, provenance.visitor_id, provenance.form_id, sequence=provenance.sequence, standing=True
    )
    lead_id = before.lead_id
    visit_since = now - visit_gap if visit_gap is not None else None

    email = next(
        (a.value for a in answers if not a.skipped and a.field == EMAIL_FIELD and isinstance(a.value, str)),
        None,
    )
    email = email.lower() if email is not None else None
    merged = False
    claimed: str | None = None  # an address another lead holds, which this browser only claims
    if email is not None and email != before.email:
        found = connection.execute(_LEAD_BY_EMAIL, {"email": email}).first()
        if found is not None and (owner := int(found.id)) != lead_id:
            if vouched is None:  # the claim is kept, and mailed for confirmation
                claimed, email = email, None
            elif found.email_confirmed_at is None:  # the holder only claimed it: the address moves here
                release_address(connection, owner, email, now)
            else:
                if lead_id is not None:
                    merge_leads(connection, survivor=owner, absorbed=lead_id, visit_since=visit_since)
                lead_id, merged = owner, True
    if lead_id is None:
        new_lead = {"site_id": provenance.site_id, "visit_count": 1, "last_seen_at": now, "created_at": now}
        lead_id = connection.execute(_NEW_LEAD, new_lead).scalar_one()
    regathered = merged
    if before.lead_id is None:
        connection.execute(_NEW_VISITOR, {"id": provenance.visitor_id, "lead_id": lead_id, "created_at": now})
        # What this browser did before it answered anything counts for its lead from now on.
        linked = connection.execute(_LINK_EVENTS, {"owner": lead_id, "browser": provenance.visitor_id}).rowcount
        regathered = regathered or bool(linked)
    elif before.lead_id != lead_id:
        connection.execute(_MOVE_VISITOR, {"visitor_id": provenance.visitor_id, "lead_id": lead_id})

    answer_ids = _store_answers(connection, lead_id, provenance, answers)
    if claimed is not None:
        record_claim(
            connection,
            Claim(
                email=claimed, lead_id=lead_id, visitor_id=provenance.visitor_id, site_id=provenance.site_id,
                answer_id=next(i for g, i in zip(answers, answer_ids, strict=True) if g.field == EMAIL_FIELD),
                source=provenance.source, locale=provenance.locale,
            ),
            now,
        )  # fmt: skip
    # The newest answer per field (the wheel never asks two questions for one field at once).
    latest = {
        given.field: (given.field, given.value, now, answer_id)
        for given, answer_id in zip(answers, answer_ids, strict=True)
        if not given.skipped
    }
    if lead_id == before.lead_id:
        kept, visit, record, site_id = before.profile, before.knowledge.visit, before.visit_shown, before.site_id
    elif before.lead_id is None and not merged:
        kept, visit, record, site_id = {}, 1, {}, provenance.site_id  # a lead made just now
    else:  # the visitor moved to another lead: its record counts if that lead is in a visit too
        target = connection.execute(_MOVED_TO, {"lead_id": lead_id}).one()
        kept, visit, site_id = target.profile or {}, target.visit_count, target.site_id
        current = visit_since is None or target.last_seen_at >= visit_since
        record = (target.visit_shown or {}) if current else {}
    record = visit_shown.noted(record, visit, provenance.sequence, provenance.shown)
    document = profile_doc.learned(kept, latest.values()) if latest else kept
    seen = seen_columns(now, record, email=email, profile=document if latest else None)
    if lead_id != before.lead_id or not seen_later:
        write_lead(connection, lead_id, seen)
        seen = {}
    form_id = provenance.form_id
    skipped = [
        {"lead_id": lead_id, "form_id": form_id, "question_key": g.question_key, "skips": 1, "last_visit": visit}
        for g in answers
        if g.skipped
    ]
    if skipped:
        connection.execute(_snooze(connection), skipped)
    if merged:  # the profile was rebuilt from two leads' answers: read it back
        view = load_knowledge(connection, provenance.visitor_id, provenance.form_id, sequence=provenance.sequence)
        return LeadView(
            view.lead_id, view.knowledge, view.last_seen_at, view.email, regathered=True, profile=view.profile,
            visit_shown=view.visit_shown, site_id=view.site_id or provenance.site_id,
        )  # fmt: skip
    knowledge = before.knowledge.learn(
        {name: value for name, value, _, _ in latest.values()},
        [g.question_key for g in answers if g.skipped and g.question_key],
        now,
        visit,
        provenance.shown,
    )
    last_seen = now if before.last_seen_at is None else max(before.last_seen_at, now)
    # The score's standing read with the knowledge is still the lead's (no merge, same lead), but for its
    # e-mail, which the touch above may just have set.
    standing = before.standing if lead_id == before.lead_id else None
    if standing is not None and email is not None:
        standing = standing._replace(email=email)
    return LeadView(
        lead_id, knowledge, last_seen, email or before.email, regathered=regathered, standing=standing,
        profile=document, seen=seen, visit_shown=record, site_id=site_id or provenance.site_id,
    )  # fmt: skip


def lead_for_email(connection: Connection, site_id: int, email: str, now: datetime) -> int:
    """The lead with this (lower-cased) e-mail, created if new, for a back-end system that knows only that.

    A new lead gets the e-mail as an answer from outside any form (source
    ``api``), so its provenance is as clear as a typed one, and holds it
    confirmed: the site's back end vouches for the address. Two senders racing
    on one new address meet the unique e-mail; ``Database.run`` repeats the loser.
    """
    found = connection.execute(_LEAD_BY_EMAIL, {"email": email}).first()
    if found is not None:
        return int(found.id)
    lead_id = connection.execute(
        insert(_leads)
        .values(
            email=email,
            email_confirmed_at=now,
            email_confirmed_via="api",
            site_id=site_id,
            visit_count=1,
            last_seen_at=now,
            created_at=now,
        )  # fmt: skip
        .returning(_leads.c.id)
    ).scalar_one()
    provenance = Provenance(
        visitor_id=None, site_id=site_id, form_id=None, sequence_version_id=None, page_url=None, locale="und",
        asked_at=now, answered_at=now, source="api",
    )  # fmt: skip
    answer_id = _store_answer(connection, lead_id, provenance, GivenAnswer(EMAIL_FIELD, email))
    profile = {EMAIL_FIELD: profile_doc.entry(email, now, answer_id)}
    connection.execute(update(_leads).where(_leads.c.id == lead_id).values(profile=profile))
    return int(lead_id)


def _store_answer(connection: Connection, lead_id: int, provenance: Provenance, given: GivenAnswer) -> int:
    """Append one answer with its provenance; its id."""
    return _store_answers(connection, lead_id, provenance, [given])[0]


def _store_answers(
    connection: Connection, lead_id: int, provenance: Provenance, answers: list[GivenAnswer]
) -> list[int]:
    """Append a submission's answers; their ids, in the order given.

    Each id is matched by its question and field; a batch whose answers those do not tell
    apart (never one from a form) goes row by row.
    """
    rows = [_answer_row(lead_id, provenance, given) for given in answers]
    keys = [(given.question_key, given.field) for given in answers]
    if len(set(keys)) < len(keys):
        return [_store_answers(connection, lead_id, provenance, [given])[0] for given in answers]
    params = {f"{name}_{i}": value for i, row in enumerate(rows) for name, value in row.items()}
    inserted = direct.rows(connection, _insert_answers(len(rows), tuple(rows[0])), params)
    ids = {(key, field): int(answer_id) for answer_id, key, field in inserted}
    return [ids[key] for key in keys]


def _answer_row(lead_id: int, provenance: Provenance, given: GivenAnswer) -> dict[str, Any]:
    return {**_submission_row(lead_id, provenance), **_own_row(given)}


def _submission_row(lead_id: int, provenance: Provenance) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "visitor_id": provenance.visitor_id,
        "site_id": provenance.site_id,
        "form_id": provenance.form_id,
        "sequence_version_id": provenance.sequence_version_id,
        "page_url": provenance.page_url,
        "locale": provenance.locale,
        "asked_at": provenance.asked_at,
        "answered_at": provenance.answered_at,
        "source": provenance.source,
        "on_request": provenance.on_request,
    }


def _own_row(given: GivenAnswer) -> dict[str, Any]:
    return {
        "question_key": given.question_key,
        "field": given.field,
        "value": None if given.skipped else given.value,
        "skipped": given.skipped,
        "consent_text": given.consent_text,
        "consent_version": given.consent_version,
    }


@by_dialect
def _snooze(connection: Connection) -> Insert:
    """A skip: the question's snooze for the lead on this form starts, or counts one more skip."""
    statement: Any = upsert(connection, _snoozes)
    return statement.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[_snoozes.c.lead_id, _snoozes.c.form_id, _snoozes.c.question_key],
        set_={"skips": _snoozes.c.skips + 1, "last_visit": statement.excluded.last_visit},
    )


def merge_leads(connection: Connection, *, survivor: int, absorbed: int, visit_since: datetime | None = None) -> None:
    """Fold ``absorbed`` into ``survivor``: every answer, browser and snooze moves; nothing is lost.

    The survivor's profile is rebuilt from the united answers, so the newest
    value of each field wins whichever lead it came from. Rare and many-rowed.

    The merged lead is on the later visit number of the two, and what either
    lead's current visit has shown counts for it (capture/leads/visit_shown.py): one
    person in one visit, whichever browsers it used. A lead last seen before
    ``visit_since`` (idle longer than the visit gap) is between visits and brings none.
    """
    connection.execute(update(_answers).where(_answers.c.lead_id == absorbed).values(lead_id=survivor))
    connection.execute(update(_visitors).where(_visitors.c.lead_id == absorbed).values(lead_id=survivor))
    connection.execute(update(_events).where(_events.c.lead_id == absorbed).values(lead_id=survivor))
    connection.execute(update(_claims).where(_claims.c.lead_id == absorbed).values(lead_id=survivor))
    consents = ConsentRecord.__table__  # the proof of what the person agreed to goes with them
    connection.execute(update(consents).where(consents.c.lead_id == absorbed).values(lead_id=survivor))
    connection.execute(update(_leads).where(_leads.c.merged_into_id == absorbed).values(merged_into_id=survivor))

    snoozes: dict[tuple[int, str], tuple[int, int]] = {}
    for form_id, question_key, skips, last_visit in connection.execute(
        select(_snoozes.c.form_id, _snoozes.c.question_key, _snoozes.c.skips, _snoozes.c.last_visit)
        .where(_snoozes.c.lead_id.in_((absorbed, survivor)))
    ):  # fmt: skip
        before = snoozes.get((form_id, question_key), (0, 0))
        snoozes[(form_id, question_key)] = (max(before[0], skips), max(before[1], last_visit))
    connection.execute(delete(_snoozes).where(_snoozes.c.lead_id.in_((absorbed, survivor))))
    if snoozes:
        connection.execute(
            insert(_snoozes),
            [
                {"lead_id": survivor, "form_id": form_id, "question_key": key, "skips": skips, "last_visit": last}
                for (form_id, key), (skips, last) in snoozes.items()
            ],
        )

    profile = profile_doc.rebuilt(
        connection.execute(
            select(_answers.c.id, _answers.c.field, _answers.c.value, _answers.c.answered_at)
            .where(_answers.c.lead_id == survivor, _answers.c.skipped.is_(False))
            .order_by(_answers.c.answered_at, _answers.c.id)
        )
    )
    both = connection.execute(
        select(_leads.c.visit_count, _leads.c.last_seen_at, _leads.c.visit_shown).where(
            _leads.c.id.in_((absorbed, survivor))
        )
    ).all()
    visit = max(row.visit_count for row in both)
    in_a_visit = [row for row in both if visit_since is None or row.last_seen_at >= visit_since]
    connection.execute(
        update(_leads)
        .where(_leads.c.id == survivor)
        .values(
            profile=profile,
            visit_count=visit,
            last_seen_at=max(row.last_seen_at for row in both),
            visit_shown=visit_shown.united(((row.visit_shown, row.visit_count) for row in in_a_visit), visit),
        )
    )
    connection.execute(
        update(_leads)
        .where(_leads.c.id == absorbed)
        .values(email=None, email_confirmed_at=None, email_confirmed_via=None, merged_into_id=survivor, profile={})
    )
