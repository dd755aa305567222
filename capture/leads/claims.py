"""E-mail claims: an address typed in a browser is a claim, joined to the lead that holds it only once confirmed.

Anyone can type anyone's address. Merging on the word of a browser let a
stranger take over a lead: see its progress, overwrite its answers, push it to
sales. So a browser that gives an address another lead holds keeps its own
lead; its answer is kept there with its provenance, and an ``email_claims`` row
waits for proof:

- the site's back end vouches for the address: ``identify`` carries
  ``user_hash``, an HMAC-SHA256 of the lower-cased address under the site's
  identity secret (as Intercom's identity verification does), or a back end
  names the lead with an API token;
- or the mailbox's owner follows the link mailed to the address (double opt-in).

Confirmation merges the claimant's lead into the holder's: one lead, both
browsers' answers and events. Nothing is ever sent back to a browser either way.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import has_request_context, request
from sqlalchemy import Connection, insert, select, update

from capture.config import Config
from capture.db.models import Answer, EmailClaim, Lead, Site
from capture.mail import Mail, current_config, queue_mail
from capture.mail_links import LinkTokens, language

_claims = EmailClaim.__table__
_leads = Lead.__table__
_answers = Answer.__table__

#: how long a confirmation link works
_LINKS = LinkTokens("leadwheel.email-claim.v1")
MAIL_PURPOSE = "email_confirmation"


def user_hash(secret: str, email: str) -> str:
    """What a site's back end sends as ``user_hash`` for ``email``: hex HMAC-SHA256 under its identity secret."""
    return hmac.new(secret.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()


def vouched_for(secret: str, email: str, given: object) -> bool:
    """Whether ``given`` is the site's ``user_hash`` of ``email`` (compared in constant time)."""
    if not secret or not isinstance(given, str) or len(given) != 64:
        return False
    return hmac.compare_digest(user_hash(secret, email), given.lower())


@dataclass(frozen=True)
class Claim:
    email: str
    lead_id: int
    visitor_id: str | None
    site_id: int
    answer_id: int | None
    source: str
    locale: str


def record_claim(connection: Connection, claim: Claim, now: datetime) -> int:
    """Keep the claim and mail its confirmation link (if a transport is set and the address's cap allows).

    The link points at ``LEADWHEEL_PUBLIC_URL``, or else at the address the claim's request came to.
    """
    claim_id = int(
        connection.execute(
            insert(_claims)
            .values(
                email=claim.email,
                lead_id=claim.lead_id,
                visitor_id=claim.visitor_id,
                site_id=claim.site_id,
                answer_id=claim.answer_id,
                source=claim.source,
                locale=claim.locale,
                created_at=now,
            )  # fmt: skip
            .returning(_claims.c.id)
        ).scalar_one()
    )
    config = current_config()
    base = (config.public_url if config is not None else None) or (request.url_root if has_request_context() else None)
    if config is None or not config.secret_keys or base is None:
        return claim_id
    site_name = connection.execute(select(Site.name).where(Site.id == claim.site_id)).scalar_one()
    link = f"{base.rstrip('/')}/confirm/{link_token(config, claim_id)}"
    if queue_mail(connection, confirmation_mail(claim.email, claim.locale, site_name, link), now, config):
        connection.execute(update(_claims).where(_claims.c.id == claim_id).values(mailed=True))
    return claim_id


def link_token(config: Config, claim_id: int) -> str:
    return _LINKS.make(config, claim_id)


def read_link_token(config: Config, token: str) -> int | None:
    """The claim a link names, or None for a forged, damaged or expired link."""
    return _LINKS.read(config, token)


def claim_locale(connection: Connection, claim_id: int) -> str | None:
    return connection.execute(select(_claims.c.locale).where(_claims.c.id == claim_id)).scalar()


def release_address(connection: Connection, holder_id: int, email: str, now: datetime) -> None:
    """Take an address from a lead that only claimed it, because another lead has just proven it.

    The first browser to type an address nobody held got it unconfirmed; merging the
    proven owner into that lead would join a stranger who typed it first to the
    owner's data. So the address moves to the proven lead, and this lead keeps its
    answers and becomes a claimant like any other (its link is mailed, so an owner
    who used both browsers can join them).
    """
    typed = connection.execute(
        select(_answers.c.id, _answers.c.visitor_id, _answers.c.site_id, _answers.c.locale, _answers.c.source)
        .where(_answers.c.lead_id == holder_id, _answers.c.field == "email", _answers.c.skipped.is_(False))
        .order_by(_answers.c.answered_at.desc(), _answers.c.id.desc())
        .limit(1)
    ).first()
    connection.execute(
        update(_leads)
        .where(_leads.c.id == holder_id)
        .values(email=None, email_confirmed_at=None, email_confirmed_via=None)
    )
    if typed is None:  # an address no answer gave (an import): nothing was claimed to keep
        return
    source = typed.source if typed.source in ("form", "identify") else "form"
    record_claim(
        connection,
        Claim(email, holder_id, typed.visitor_id, typed.site_id, typed.id, source, typed.locale),
        now,
    )


def confirm_held(connection: Connection, lead_id: int, email: str, now: datetime, via: str) -> None:
    """Mark the address the lead holds as confirmed, and end the claims to it that the lead now has."""
    connection.execute(
        update(_leads)
        .where(_leads.c.id == lead_id, _leads.c.email == email)
        .values(email_confirmed_at=now, email_confirmed_via=via)
    )
    connection.execute(
        update(_claims)
        .where(_claims.c.lead_id == lead_id, _claims.c.email == email, _claims.c.resolved_at.is_(None))
        .values(resolved_at=now, resolution=via)
    )


def email_standing(
    connection: Connection, lead_id: int, confirmed_at: datetime | None, iso: Callable[[datetime], str | None]
) -> dict[str, object]:
    """How far sales can trust a lead's address: ``email_confirmed``, and its claims still unconfirmed.

    A lead from a browser that typed an address another lead holds has no ``email`` of its
    own; what it claimed is listed here, marked for what it is. ``iso`` writes times as the
    document around them does.
    """
    pending = connection.execute(
        select(_claims.c.email, _claims.c.source, _claims.c.created_at)
        .where(_claims.c.lead_id == lead_id, _claims.c.resolved_at.is_(None))
        .order_by(_claims.c.created_at, _claims.c.id)
    )
    return {
        "email_confirmed": confirmed_at is not None,
        "unconfirmed_emails": [
            {"email": row.email, "source": row.source, "claimed_at": iso(row.created_at)} for row in pending
        ],
    }


_MAIL_TEXTS = {
    "en": (
        "Confirm your e-mail address",
        "Someone, we hope you, gave this address on {site}. If it was you, confirm it here:\n\n{link}\n\n"
        "If it was not you, ignore this mail: nothing is joined to your address unless you confirm.\n",
    ),
    "da": (
        "Bekræft din e-mailadresse",
        "Nogen, forhåbentlig dig, har opgivet denne adresse på {site}. Hvis det var dig, så bekræft den her:"
        "\n\n{link}\n\nHvis det ikke var dig, kan du se bort fra denne e-mail: intet knyttes til din adresse, "
        "medmindre du bekræfter.\n",
    ),
    "nb": (
        "Bekreft e-postadressen din",
        "Noen, forhåpentligvis du, har oppgitt denne adressen på {site}. Hvis det var deg, bekreft den her:"
        "\n\n{link}\n\nHvis det ikke var deg, kan du se bort fra denne e-posten: ingenting knyttes til adressen "
        "din med mindre du bekrefter.\n",
    ),
    "ro": (
        "Confirmați adresa de e-mail",
        "Cineva, sperăm că dumneavoastră, a introdus această adresă pe {site}. Dacă ați fost dumneavoastră, "
        "confirmați-o aici:\n\n{link}\n\nDacă nu ați fost dumneavoastră, ignorați acest mesaj: nimic nu se "
        "leagă de adresa dumneavoastră dacă nu confirmați.\n",
    ),
}


def confirmation_mail(email: str, locale: str, site_name: str, link: str) -> Mail:
    subject, text = _MAIL_TEXTS[language(locale)]
    site = " ".join(site_name.split())  # a site's name is one line in the mail
    return Mail(to=email, subject=subject, text=text.format(site=site, link=link), purpose=MAIL_PURPOSE)
