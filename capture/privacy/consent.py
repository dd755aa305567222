"""Consent per purpose, with proof: recorded, withdrawn, confirmed by double opt-in, and told to sales.

A decision is appended to ``consent_records`` with everything a controller must
be able to show (GDPR art. 7(1)): the verbatim text and its version, the
locale, the time, where it was given (a form's consent question, the host
page's banner, a back end) and the page. A lead's standing for a purpose is its
newest record; nothing is ever overwritten.

Records belong to a browser (``visitor_id``) and, once there is one, to a lead.
A banner's consent usually comes before any answer, when the browser has no
lead yet: the record waits on the browser, and is the lead's as soon as that
browser's answers make one (or merge it into another), with no copying.

What withdrawal stops, from then on: a browser's behaviour events are refused
(``consent_required``) and a back end's events of the lead are not stored, so
behaviour no longer moves its score; sales hears of every change of a lead's
standing (``lead.consent_changed``), so a withdrawn marketing consent stops
the mails sales would send on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import has_request_context, request
from sqlalchemy import Connection, bindparam, insert, select

from capture.config import Config
from capture.db.models import ConsentRecord, Lead, MailOutbox, Site, Visitor
from capture.handoff.outbox import enqueue, subscribed
from capture.mail import Mail, current_config, queue_mail
from capture.mail_links import LinkTokens, language
from capture.privacy.standing import (
    PURPOSES,
    ConsentStanding,
    lead_of_visitor,
    lead_standing,
    purpose_of_field,
    visitor_standing,
)
from capture.web.errors import Refused, invalid

if TYPE_CHECKING:
    from capture.leads.store import GivenAnswer, Provenance

_records, _visitors, _leads = ConsentRecord.__table__, Visitor.__table__, Lead.__table__
_mails = MailOutbox.__table__

#: where a decision was given
SOURCES = ("question", "banner", "api", "link")
#: a site's policies: "required" holds identity and behaviour until consent (ePrivacy art. 5(3))
POLICIES = ("required", "not_required")
MAX_TEXT = 4000
MAX_VERSION = 64
#: how long a double opt-in link works
_LINKS = LinkTokens("leadwheel.consent-confirm.v1")
MAIL_PURPOSE = "consent_confirmation"


@dataclass(frozen=True)
class Decision:
    """One person's choice about one purpose, as shown and given."""

    purpose: str
    granted: bool
    text: str
    version: str
    locale: str
    source: str
    page_url: str | None = None


def read_decisions(body: Mapping[str, Any], locale: str, source: str, page_url: str | None) -> list[Decision]:
    """The decisions of a consent request's body, or a 422 naming each bad field.

    ``purposes`` maps a purpose to true (granted) or false (withdrawn). A grant needs the
    verbatim ``text`` the person saw and its ``version``: without them it proves nothing.
    A withdrawal needs neither (withdrawing must be as easy as giving, art. 7(3)).
    """
    purposes = body.get("purposes")
    problems: dict[str, str] = {}
    if not isinstance(purposes, dict) or not purposes:
        raise invalid(
            "invalid_consent",
            f"purposes must be an object of purpose ({', '.join(PURPOSES)}) to true or false",
            {"purposes": "Must be a non-empty object."},
        )
    for name, value in purposes.items():
        if name not in PURPOSES:
            problems[f"purposes.{name}"] = f"Unknown purpose; choose among {', '.join(PURPOSES)}."
        elif not isinstance(value, bool):
            problems[f"purposes.{name}"] = "Must be true (granted) or false (withdrawn)."
    text, version = body.get("text", ""), body.get("version", "")
    granting = any(value is True for value in purposes.values())
    if not isinstance(text, str) or len(text) > MAX_TEXT or "\x00" in text or (granting and not text.strip()):
        problems["text"] = f"The exact words the person agreed to, 1 to {MAX_TEXT} characters."
    if not isinstance(version, str) or len(version) > MAX_VERSION or "\x00" in version or (granting and not version):
        problems["version"] = f"The revision of those words, 1 to {MAX_VERSION} characters."
    if problems:
        raise invalid("invalid_consent", "The consent cannot be recorded as sent.", problems)
    return [Decision(name, value, text.strip(), version, locale, source, page_url) for name, value in purposes.items()]


def decisions_of_answers(provenance: Provenance, answers: Iterable[GivenAnswer]) -> list[Decision]:
    """The decisions a form's consent questions carry (ticked: granted; left unticked: not given)."""
    return [
        Decision(
            purpose,
            bool(given.value),
            given.consent_text,
            given.consent_version or "",
            provenance.locale,
            "question",
            provenance.page_url,
        )  # fmt: skip
        for given in answers
        if not given.skipped and given.consent_text and (purpose := purpose_of_field(given.field)) is not None
    ]


# --- reading ---------------------------------------------------------------------------------------


_INSERT = insert(_records).returning(_records.c.id)
_DOUBLE_OPT_IN = select(Site.marketing_double_opt_in).where(Site.id == bindparam("site_id"))


def consent_required() -> Refused:
    return Refused(
        409,
        "consent_required",
        "This visitor has not consented to behaviour tracking on this site (or has withdrawn it); nothing was stored.",
    )


def leads_without_tracking(connection: Connection, lead_ids: list[int]) -> set[int]:
    """Of ``lead_ids``, those whose newest behaviour-tracking decision is a withdrawal."""
    return {lead_id for lead_id in lead_ids if _withdrew_tracking(connection, lead_id)}


def _withdrew_tracking(connection: Connection, lead_id: int) -> bool:
    tracking = lead_standing(connection, lead_id).get("behaviour_tracking")
    return tracking is not None and tracking.status == "withdrawn"


# --- writing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """What a consent request did: the standing afterwards, and whether a double opt-in mail was queued."""

    standing: dict[str, ConsentStanding]
    mailed: bool


def record(
    connection: Connection,
    *,
    site_id: int,
    decisions: list[Decision],
    now: datetime,
    visitor_id: str | None = None,
    lead_id: int | None = None,
    double_opt_in: bool = False,
    config: Config | None = None,
    base_url: str | None = None,
) -> Recorded:
    """Append each decision; a change of a lead's standing is handed to sales as ``lead.consent_changed``.

    A marketing grant under ``double_opt_in`` is recorded ``pending`` and a confirmation link is
    mailed to the lead's address (through the mail outbox, in this transaction); it counts as
    granted only once the link is followed (:func:`confirm`). Without an address (or a mail
    transport) it stays pending, and ``mailed`` says no mail is coming.
    """
    if lead_id is None and visitor_id is not None:
        lead_id = lead_of_visitor(connection, visitor_id)
    before = _standing(connection, lead_id, visitor_id)
    mailed = False
    for decision in decisions:
        status = "granted" if decision.granted else "withdrawn"
        pending = decision.granted and decision.purpose == "marketing_email" and double_opt_in
        previous = before.get(decision.purpose)
        if previous is not None and _repeats(previous, decision, pending):
            # A banner tells us on every page: nothing new to prove. A consent given before the lead had
            # an address waits for its link, mailed as soon as there is an address to mail it to.
            if previous.status == "pending" and lead_id is not None and config is not None and base_url is not None:
                link = _mail_link(
                    connection, config, base_url, site_id, lead_id, previous.record_id, decision.locale, now,
                    unless_mailed_since=previous.recorded_at,
                )  # fmt: skip
                mailed = mailed or link
            continue
        if pending:
            status = "pending"
        record_id = _insert(connection, site_id, lead_id, visitor_id, decision, status, now)
        if pending and lead_id is not None and config is not None and base_url is not None:
            link = _mail_link(connection, config, base_url, site_id, lead_id, record_id, decision.locale, now)
            mailed = mailed or link
    after = _standing(connection, lead_id, visitor_id)
    if lead_id is not None:
        announce_changes(connection, lead_id, before, after, now)
    return Recorded(after, mailed)


def _repeats(previous: ConsentStanding, decision: Decision, pending: bool) -> bool:
    """Whether ``decision`` is the standing one again: a withdrawal of a withdrawn purpose (it has no
    words of its own), or a grant of the same words already granted (or, under double opt-in, already
    waiting for its link)."""
    if not decision.granted:
        return previous.status == "withdrawn"
    if previous.version != decision.version:
        return False
    return previous.status == "granted" or (pending and previous.status == "pending")


def _standing(connection: Connection, lead_id: int | None, visitor_id: str | None) -> dict[str, ConsentStanding]:
    if lead_id is not None:
        return lead_standing(connection, lead_id)
    return visitor_standing(connection, visitor_id) if visitor_id is not None else {}


def _insert(
    connection: Connection,
    site_id: int,
    lead_id: int | None,
    visitor_id: str | None,
    decision: Decision,
    status: str,
    now: datetime,
) -> int:
    row = {
        "lead_id": lead_id,
        "site_id": site_id,
        "visitor_id": visitor_id,
        "purpose": decision.purpose,
        "status": status,
        "text": decision.text,
        "version": decision.version,
        "locale": decision.locale,
        "source": decision.source,
        "page_url": decision.page_url,
        "recorded_at": now,
    }
    return int(connection.execute(_INSERT, row).one().id)


def announce_changes(
    connection: Connection,
    lead_id: int,
    before: Mapping[str, ConsentStanding],
    after: Mapping[str, ConsentStanding],
    now: datetime,
) -> int:
    """Queue a ``lead.consent_changed`` per purpose whose status changed; how many deliveries."""
    changed = [
        (purpose, standing, before.get(purpose))
        for purpose, standing in after.items()
        if before.get(purpose) is None or before[purpose].status != standing.status
    ]
    if not changed or not any("lead.consent_changed" in kinds for _, kinds in subscribed(connection)):
        return 0
    queued = 0
    for purpose, standing, previous in changed:
        change = {
            "purpose": purpose,
            "status": standing.status,
            "previous_status": previous.status if previous is not None else None,
            "version": standing.version,
            "source": standing.source,
            "recorded_at": standing.recorded_at.isoformat(),
        }
        queued += enqueue(connection, lead_id, "lead.consent_changed", now, extra={"consent": change})
    return queued


def record_answers_consent(
    connection: Connection, provenance: Provenance, lead_id: int, answers: Iterable[GivenAnswer]
) -> Recorded | None:
    """Record what a form's consent questions decided, in the answers' transaction (None: they decided nothing).

    A marketing grant goes through the site's double opt-in as a banner's does; its link points
    at ``LEADWHEEL_PUBLIC_URL`` or else at the address the request came to.
    """
    decisions = decisions_of_answers(provenance, answers)
    if not decisions:
        return None
    double_opt_in = bool(
        connection.execute(_DOUBLE_OPT_IN, {"site_id": provenance.site_id}).one().marketing_double_opt_in
    )
    config = current_config()
    base = (config.public_url if config is not None else None) or (request.url_root if has_request_context() else None)
    return record(
        connection,
        site_id=provenance.site_id,
        decisions=decisions,
        now=provenance.answered_at,
        visitor_id=provenance.visitor_id,
        lead_id=lead_id,
        double_opt_in=double_opt_in,
        config=config,
        base_url=base,
    )


# --- double opt-in ---------------------------------------------------------------------------------


def link_token(config: Config, record_id: int) -> str:
    return _LINKS.make(config, record_id)


def read_link_token(config: Config, token: str) -> int | None:
    """The pending record a link names, or None for a forged, damaged or expired link."""
    return _LINKS.read(config, token)


def _mail_link(
    connection: Connection,
    config: Config,
    base_url: str,
    site_id: int,
    lead_id: int,
    record_id: int,
    locale: str,
    now: datetime,
    unless_mailed_since: datetime | None = None,
) -> bool:
    """Queue the link to a pending record for the lead's address; False when there is none (or, with
    ``unless_mailed_since``, when a link went to it since then: one link per consent is enough)."""
    email = connection.execute(select(_leads.c.email).where(_leads.c.id == lead_id)).scalar()
    if email is None or not config.secret_keys:
        return False
    if unless_mailed_since is not None:
        sent = connection.execute(
            select(_mails.c.id)
            .where(_mails.c.to == email, _mails.c.purpose == MAIL_PURPOSE, _mails.c.created_at >= unless_mailed_since)
            .limit(1)
        ).first()
        if sent is not None:
            return False
    site_name = connection.execute(select(Site.name).where(Site.id == site_id)).scalar_one()
    link = f"{base_url.rstrip('/')}/consent/confirm/{link_token(config, record_id)}"
    subject, text = _MAIL_TEXTS[language(locale)]
    site = " ".join(site_name.split())
    mail = Mail(to=email, subject=subject, text=text.format(site=site, link=link), purpose=MAIL_PURPOSE)
    return queue_mail(connection, mail, now, config)


def pending_locale(connection: Connection, record_id: int) -> str | None:
    """The locale of a record a link names (None: there is none), for the page's language."""
    return connection.execute(select(_records.c.locale).where(_records.c.id == record_id)).scalar()


def confirm(connection: Connection, record_id: int, now: datetime) -> str:
    """Follow a double opt-in link: ``confirmed``, ``already`` (granted since, or superseded) or ``unknown``.

    The pending record stays as it was; the confirmation is a new ``granted`` record with the
    same words and version, from the source ``link``, so the proof shows both steps.
    """
    row = connection.execute(select(_records).where(_records.c.id == record_id)).first()
    if row is None or row.status != "pending":
        return "unknown"
    lead_id = row.lead_id if row.lead_id is not None else lead_of_visitor(connection, row.visitor_id or "")
    if lead_id is None:
        return "unknown"
    before = lead_standing(connection, lead_id)
    newest = before.get(row.purpose)
    if newest is None or newest.status != "pending" or newest.recorded_at > row.recorded_at:
        return "already"  # confirmed already, or withdrawn or asked again since: this link is spent
    decision = Decision(row.purpose, True, row.text, row.version, row.locale, "link", row.page_url)
    _insert(connection, row.site_id, lead_id, None, decision, "granted", now)
    announce_changes(connection, lead_id, before, lead_standing(connection, lead_id), now)
    return "confirmed"


_MAIL_TEXTS = {
    "en": (
        "Confirm that you want our e-mails",
        "You asked {site} for marketing e-mails. Confirm it here:\n\n{link}\n\n"
        "If it was not you, ignore this mail: you get no marketing e-mail unless you confirm.\n",
    ),
    "da": (
        "Bekræft, at du vil have vores e-mails",
        "Du har bedt {site} om markedsføringsmails. Bekræft det her:\n\n{link}\n\n"
        "Hvis det ikke var dig, kan du se bort fra denne e-mail: du får ingen markedsføringsmails, "
        "medmindre du bekræfter.\n",
    ),
    "nb": (
        "Bekreft at du vil ha e-postene våre",
        "Du har bedt {site} om markedsføringse-post. Bekreft det her:\n\n{link}\n\n"
        "Hvis det ikke var deg, kan du se bort fra denne e-posten: du får ingen markedsføringse-post "
        "med mindre du bekrefter.\n",
    ),
    "ro": (
        "Confirmați că doriți e-mailurile noastre",
        "Ați cerut de la {site} e-mailuri de marketing. Confirmați aici:\n\n{link}\n\n"
        "Dacă nu ați fost dumneavoastră, ignorați acest mesaj: nu primiți e-mailuri de marketing "
        "dacă nu confirmați.\n",
    ),
}
