"""The two things a visitor does: be asked the next questions, and answer them.

This is the service layer between the HTTP routes and the core: it loads what
is known, lets the wheel decide, checks answers against the render ticket and
the question definitions, and stores them in one retried transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import Connection

from capture.db.engine import Database
from capture.leads.claims import confirm_held, vouched_for
from capture.leads.lead_row import write_lead
from capture.leads.store import (
    EMAIL_FIELD,
    GivenAnswer,
    LeadView,
    Provenance,
    load_knowledge,
    record_answers,
    start_visit,
)
from capture.leads.used_tickets import TicketUse, TicketUsed, earlier_result, forget_used, submission_digest, use_ticket
from capture.privacy.consent import record_answers_consent
from capture.privacy.standing import profiling_stopped
from capture.qualifying.scores import score_lead
from capture.sites.catalog import Catalog, PublishedForm, SiteEntry
from capture.web.errors import invalid
from forms import validate_answers
from profiling.identity import IdentifyTicket, Ticket, TicketRefused, Tokens, new_ticket_id, new_visitor_id
from profiling.sequence import Question, QuestionType, Rules, Sequence, localised
from profiling.wheel import Plan, next_questions

T = TypeVar("T")
LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
MAX_URL = 2048
#: how often (at most, per process) an answer also deletes the uses of tickets that have expired
FORGET_USED_EVERY = timedelta(minutes=5)
#: What ``leadwheel('identify', {email})`` fills: the e-mail field, checked like any e-mail question.
IDENTIFY_EMAIL = Question(
    key=EMAIL_FIELD, field=EMAIL_FIELD, type=QuestionType.EMAIL, labels={"en": "E-mail"}, rules=Rules(required=True)
)


def choose_locale(requested: Any, sequence: Sequence) -> str:
    """The sequence locale closest to what the visitor asked for (else its default)."""
    available = sequence.locales
    if isinstance(requested, str) and LOCALE.match(requested) and len(requested) <= 35:
        tag = requested.replace("_", "-")
        for candidate in (tag, tag.split("-")[0].lower()):
            if candidate in available:
                return candidate
        if tag.split("-")[0].lower() == "no" and "nb" in available:
            return "nb"  # plain "no" (Norwegian) reads as Bokmål
    return sequence.default_locale


def clean_page_url(raw: Any) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > MAX_URL:
        raise invalid(
            "invalid_page_url",
            "page_url must be an http(s) URL of at most 2048 characters",
            {"page_url": "Not an http(s) URL of at most 2048 characters."},
        )
    not_http = invalid("invalid_page_url", "page_url must be an http(s) URL", {"page_url": "Not an http(s) URL."})
    try:  # urlsplit and .port raise ValueError on e.g. "https://[::1/" or a port beyond 65535
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise not_http from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise not_http
    # Drop credentials and fragments: provenance needs the page, not secrets.
    netloc = parts.hostname or ""
    if ":" in netloc:  # an IPv6 literal keeps its brackets
        netloc = f"[{netloc}]"
    if port:
        netloc += f":{port}"
    return parts._replace(netloc=netloc, fragment="").geturl()


@dataclass(frozen=True)
class Asked:
    """The wheel's plan for one visit, with the tokens to carry it."""

    visitor_id: str
    visitor_token: str
    locale: str
    plan: Plan
    ticket: str | None
    form: PublishedForm
    #: the ticket is refused if answered sooner than this (the snippet waits it out)
    min_fill_ms: int = 0


class Visits:
    def __init__(self, db: Database, catalog: Catalog, tokens: Tokens, visit_gap: timedelta):
        self.db = db
        self.catalog = catalog
        self.tokens = tokens
        self.visit_gap = visit_gap
        self._forget_used_after: datetime | None = None

    def ask(self, form: PublishedForm, visitor_token: Any, locale: Any, now: datetime, more: bool = False) -> Asked:
        """Plan this visit. A bad, forged or expired token simply means a new visitor.

        ``more``: the visitor asked for the next batch beyond the visit's quota (where the
        sequence offers it; elsewhere the quota holds).
        """
        visitor_id = self.tokens.read_visitor(visitor_token, now) or new_visitor_id()
        sequence = form.sequence.name
        with self.db.read_connection() as connection:
            view = load_knowledge(connection, visitor_id, form.form_id, sequence=sequence)
        idle = view.last_seen_at is not None and now - view.last_seen_at > self.visit_gap
        if view.lead_id is not None and idle:
            with self.db.write_connection() as connection:
                if start_visit(connection, view.lead_id, now, self.visit_gap):
                    view = load_knowledge(connection, visitor_id, form.form_id, sequence=sequence)
        return self._plan(form, visitor_id, view.knowledge, locale, now, more)

    def _plan(
        self, form: PublishedForm, visitor_id: str, knowledge: Any, locale: Any, now: datetime, more: bool = False
    ) -> Asked:
        plan = next_questions(form.sequence, knowledge, now, more=more)
        ticket = None
        if plan.questions:
            ticket = self.tokens.ticket(
                Ticket(
                    visitor_id=visitor_id,
                    form_id=form.form_id,
                    sequence_version_id=form.version_id,
                    question_keys=tuple(q.key for q in plan.questions),
                    issued_at=now,
                    on_request=plan.on_request,
                    ticket_id=new_ticket_id(),
                )
            )
        return Asked(
            visitor_id=visitor_id,
            visitor_token=self.tokens.visitor_token(visitor_id, now),
            locale=choose_locale(locale, form.sequence),
            plan=plan,
            ticket=ticket,
            form=form,
            min_fill_ms=round(self.tokens.min_fill_time.total_seconds() * 1000),
        )

    def answer(self, form: PublishedForm, body: Mapping[str, Any], now: datetime) -> tuple[int, Asked]:
        """Check and store one submission; return how many answers were stored and the next plan.

        Nothing is stored unless the whole submission is valid. Every question the
        ticket showed now counts against the visit's quota, so the next plan is
        usually ``paused``; after a batch asked for on request too: each further
        batch is the visitor's own choice (an ask with ``more``), never automatic.

        A ticket carries one submission: a second use stores nothing and is refused
        (``ticket_used``), unless it is the same submission again (a retry after the
        first answer was lost), which is told what the first use stored.
        """
        ticket = _ticket_of(body, self.tokens.read_ticket, now)
        if ticket.form_id != form.form_id:
            raise invalid("ticket_invalid", "This ticket belongs to another form; reload the form.")
        sequence = self.catalog.sequence(ticket.sequence_version_id)
        if sequence is None:
            raise invalid("ticket_invalid", "The form this ticket was issued for no longer exists; reload the form.")
        locale = choose_locale(body.get("locale"), sequence)
        page_url = clean_page_url(body.get("page_url"))
        given = self._check(sequence, ticket, body, locale)
        provenance = Provenance(
            visitor_id=ticket.visitor_id,
            site_id=form.site.id,
            form_id=form.form_id,
            sequence_version_id=ticket.sequence_version_id,
            page_url=page_url,
            locale=locale,
            asked_at=ticket.issued_at,
            answered_at=now,
            on_request=ticket.on_request,
            sequence=sequence.name,
            shown=ticket.question_keys,
        )
        use = TicketUse(ticket.ticket_id, submission_digest(body), len(given), now)
        try:
            view = self.db.run(lambda connection: self._record_use(connection, use, provenance, given))
        except TicketUsed:
            stored = earlier_result(self.db, use)
            with self.db.read_connection() as connection:
                view = load_knowledge(connection, ticket.visitor_id, form.form_id, sequence=sequence.name)
            return stored, self._plan(form, ticket.visitor_id, view.knowledge, locale, now)
        return len(given), self._plan(form, ticket.visitor_id, view.knowledge, locale, now)

    def _record_use(
        self,
        connection: Connection,
        use: TicketUse,
        provenance: Provenance,
        given: list[GivenAnswer],
        vouched: str | None = None,
    ) -> LeadView:
        """:meth:`_record` a ticket's submission, the ticket marked used first, in the same transaction."""
        use_ticket(connection, use)
        if self._forget_used_after is None or use.used_at >= self._forget_used_after:
            forget_used(connection, use.used_at - self.tokens.ticket_lifetime)
            self._forget_used_after = use.used_at + FORGET_USED_EVERY
        return self._record(connection, provenance, given, vouched)

    def _record(
        self, connection: Connection, provenance: Provenance, given: list[GivenAnswer], vouched: str | None = None
    ) -> LeadView:
        """Store answers and re-score the lead in the same transaction: fit changes with every answer.

        The lead is scored by its own site's model, which may not be the form's site's (a lead of one
        site answering another site's form), so the model is chosen once the lead is known; the
        score's write of the lead row also writes what the answers set on it.
        """
        view = record_answers(connection, provenance, given, seen_later=True, visit_gap=self.visit_gap, vouched=vouched)
        assert view.lead_id is not None, "answers always end with a lead"
        if any(answer.consent_text for answer in given):
            record_answers_consent(connection, provenance, view.lead_id, given)
        live = self.catalog.scoring_model(view.site_id)
        if live is None or profiling_stopped(connection, view.lead_id):
            write_lead(connection, view.lead_id, view.seen)
        else:
            new_events = None if view.regathered else ()
            score_lead(
                connection, live, view.lead_id, provenance.answered_at, "answer",
                new_events=new_events, fields=view.knowledge.values(), before=view.standing, seen=view.seen,
            )  # fmt: skip
        return view

    def identify_ticket(self, site: SiteEntry, visitor_token: Any, now: datetime) -> tuple[str, str]:
        """A ticket for one unverified ``identify`` of this visitor on this site, and the visitor token to keep."""
        visitor_id = self.tokens.read_visitor(visitor_token, now) or new_visitor_id()
        ticket = self.tokens.identify_ticket(IdentifyTicket(visitor_id, site.id, now, new_ticket_id()))
        return ticket, self.tokens.visitor_token(visitor_id, now)

    def identify(self, site: SiteEntry, body: Mapping[str, Any], now: datetime) -> str:
        """Attach an e-mail the host page already knows (a login, a newsletter form) to this visitor.

        With ``user_hash`` (the site's back end signed the address: capture/leads/claims.py) the
        address is vouched for: the visitor joins the lead that holds it, confirmed. Without,
        it is what a browser says, and is treated exactly as answering the e-mail question:
        it needs an identify ticket (used once, not sooner than a person could type), an
        empty honeypot, and an address another lead holds stays a claim. Returns the
        visitor token to keep.
        """
        sent = body.get("locale")
        locale = sent if isinstance(sent, str) and LOCALE.match(sent) else "en"
        validated = validate_answers([IDENTIFY_EMAIL], {EMAIL_FIELD: body.get("email")}, locale, "en")
        if not validated.ok:
            message = validated.errors[EMAIL_FIELD][0].message
            raise invalid("invalid_email", message, {"email": message})
        address = str(validated.values[EMAIL_FIELD])
        use: TicketUse | None = None
        vouched: str | None = None
        if body.get("user_hash") is not None:
            if not vouched_for(site.identity_secret, address, body.get("user_hash")):
                message = "user_hash is not this site's signature of this e-mail address."
                raise invalid("identity_unverified", message, {"user_hash": message})
            visitor_id = self.tokens.read_visitor(body.get("visitor"), now) or new_visitor_id()
            vouched = "identity"
        else:
            ticket = _ticket_of(body, self.tokens.read_identify_ticket, now)
            if ticket.site_id != site.id:
                raise invalid("ticket_invalid", "This ticket belongs to another site; ask for a new one.")
            visitor_id = ticket.visitor_id
            use = TicketUse(ticket.ticket_id, submission_digest(body), 1, now)
        provenance = Provenance(
            visitor_id=visitor_id,
            site_id=site.id,
            form_id=None,
            sequence_version_id=None,
            page_url=clean_page_url(body.get("page_url")),
            locale=locale,
            asked_at=now,
            answered_at=now,
            source="identify",
        )
        email = [GivenAnswer(field=EMAIL_FIELD, value=address)]

        def vouch(connection: Connection) -> None:
            view = self._record(connection, provenance, email, vouched)
            assert view.lead_id is not None
            confirm_held(connection, view.lead_id, address.lower(), now, "identity")

        if use is None:
            self.db.run(vouch)
        else:
            claim = use
            try:
                self.db.run(lambda connection: self._record_use(connection, claim, provenance, email))
            except TicketUsed:
                earlier_result(self.db, claim)  # the same identify again is answered as the first; else ticket_used
        return self.tokens.visitor_token(visitor_id, now)

    def _check(self, sequence: Sequence, ticket: Ticket, body: Mapping[str, Any], locale: str) -> list[GivenAnswer]:
        answers = body.get("answers", {})
        skipped = body.get("skipped", [])
        if not isinstance(answers, dict):
            raise invalid(
                "invalid_body", "answers must be an object of question key to value", {"answers": "Must be an object."}
            )
        if not isinstance(skipped, list) or not all(isinstance(k, str) for k in skipped):
            raise invalid(
                "invalid_body",
                "skipped must be a list of question keys",
                {"skipped": "Must be a list of question keys."},
            )
        shown = set(ticket.question_keys)
        fields: dict[str, str] = {}
        for key in list(answers) + skipped:
            if key not in shown:
                fields[key] = "This question was not asked in this form."
        for key in skipped:
            question = sequence.question(key)
            if key in answers:
                fields[key] = "A question cannot be both answered and skipped."
            elif question is not None and not question.skippable:
                fields[key] = "This question cannot be skipped."
        if fields:
            raise invalid(
                "unexpected_questions", "The submission names questions that cannot be answered here.", fields
            )

        questions = [q for key in ticket.question_keys if key not in skipped and (q := sequence.question(key))]
        validated = validate_answers(questions, answers, locale, sequence.default_locale)
        if not validated.ok:
            raise invalid(
                "invalid_answers",
                "Some answers need attention.",
                {key: errors[0].message for key, errors in validated.errors.items()},
            )
        given: list[GivenAnswer] = []
        for question in questions:
            if question.key not in validated.values:
                continue
            value = validated.values[question.key]
            consent_text = None
            if question.type is QuestionType.CONSENT and question.consent is not None:
                consent_text = localised(question.consent.texts, locale, sequence.default_locale)
            given.append(GivenAnswer.to(question, value, consent_text=consent_text))
        for key in skipped:
            question = sequence.question(key)
            assert question is not None
            given.append(GivenAnswer.to(question, None, skipped=True))
        if not given:
            raise invalid("nothing_to_store", "Answer at least one question, or choose “not now”.")
        return given


def _ticket_of(body: Mapping[str, Any], read: Callable[[Any, datetime], T], now: datetime) -> T:
    """The ticket a submission carries, read by ``read``, after the honeypot; else the refusal, as an API error."""
    if body.get("hp") not in (None, ""):
        # A field people never see: only a form-filling robot puts something in it.
        raise invalid("suspected_bot", "This submission looks automated and was not stored.")
    try:
        return read(body.get("ticket"), now)
    except TicketRefused as refused:
        raise invalid(refused.code, refused.message) from None
