"""The public consent routes' work: read a browser's (or the host page's) consent, record it, say the standing.

Apart from capture/privacy/consent.py, which knows records and nothing of HTTP
bodies, tokens or sites' settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from capture.config import Config
from capture.db.engine import Database
from capture.db.models import Site
from capture.leads.visits import LOCALE, clean_page_url
from capture.privacy.consent import read_decisions, record
from capture.privacy.standing import lead_of_visitor, tracking_allowed, visitor_standing
from capture.qualifying.outcomes import resolve_site_lead
from capture.sites.api_tokens import Caller
from capture.sites.catalog import SiteEntry
from capture.web.errors import Refused, invalid
from profiling.identity import Tokens, new_visitor_id


def standing_json(site: SiteEntry, standing: Mapping[str, Any]) -> dict[str, Any]:
    """The answer of both routes: each purpose's standing, and whether the snippet may track and remember."""
    return {
        "consents": {purpose: value.as_json() for purpose, value in sorted(standing.items())},
        "tracking": tracking_allowed(site.consent_policy, standing),
        "policy": site.consent_policy,
    }


def give(
    db: Database,
    tokens: Tokens,
    site: SiteEntry,
    body: Mapping[str, Any],
    now: datetime,
    config: Config | None,
    base_url: str,
) -> dict[str, Any]:
    """Record the decisions a browser sends for its visitor (a new visitor when it has no valid token).

    ``previous``: the visitor token the snippet finds on the device once consent lets it look
    (a return visit). The browser then holds two visitors: this page's, made before consent,
    and the remembered one. The remembered one is kept, unless this page's has answered
    something: answers given before a late consent are never left behind.
    """
    visitor_id = tokens.read_visitor(body.get("visitor"), now) or new_visitor_id()
    remembered = tokens.read_visitor(body.get("previous"), now) if body.get("previous") else None
    if remembered is not None and remembered != visitor_id:
        with db.read_connection() as connection:
            if lead_of_visitor(connection, visitor_id) is None:
                visitor_id = remembered
    decisions = read_decisions(body, _locale(body), "banner", clean_page_url(body.get("page_url")))
    recorded = db.run(
        lambda connection: record(
            connection,
            site_id=site.id,
            decisions=decisions,
            now=now,
            visitor_id=visitor_id,
            double_opt_in=site.marketing_double_opt_in,
            config=config,
            base_url=base_url,
        )
    )
    return {
        **standing_json(site, recorded.standing),
        "confirmation_mailed": recorded.mailed,
        "visitor": tokens.visitor_token(visitor_id, now),
    }


def current(db: Database, tokens: Tokens, site: SiteEntry, visitor_token: Any, now: datetime) -> dict[str, Any]:
    """A visitor's standing; an unknown, forged or expired token is a visitor who decided nothing."""
    visitor_id = tokens.read_visitor(visitor_token, now)
    standing = {}
    if visitor_id is not None:
        with db.read_connection() as connection:
            standing = visitor_standing(connection, visitor_id)
    return standing_json(site, standing)


def _locale(body: Mapping[str, Any]) -> str:
    raw = body.get("locale")
    return raw if isinstance(raw, str) and len(raw) <= 35 and LOCALE.match(raw) else "en"


def from_back_end(
    db: Database, caller: Caller, body: Mapping[str, Any], now: datetime, config: Config | None, base_url: str
) -> dict[str, Any]:
    """Record decisions a back end (a CRM, a call centre) took down for a lead of its site, named by
    ``lead_id`` or ``email``; source ``api``. The site's double opt-in applies as to a banner's."""
    lead_id, email = body.get("lead_id"), body.get("email")
    by_id = isinstance(lead_id, int) and not isinstance(lead_id, bool) and 0 < lead_id < 2**31
    by_email = lead_id is None and isinstance(email, str) and 0 < len(email) <= 320
    if not (by_id or by_email):
        message = "Name the lead by its lead_id or its email."
        raise invalid("invalid_body", message, {"lead_id": message})
    decisions = read_decisions(body, _locale(body), "api", clean_page_url(body.get("page_url")))

    def work(connection: Connection) -> tuple[int, Any]:
        found = resolve_site_lead(connection, caller.site_id, lead_id, email.strip().lower() if email else None)
        if found is None:
            raise Refused(404, "lead_not_found", "No lead of this token's site has this id or e-mail.")
        double_opt_in = connection.execute(
            select(Site.marketing_double_opt_in).where(Site.id == caller.site_id)
        ).scalar_one()
        recorded = record(
            connection,
            site_id=caller.site_id,
            decisions=decisions,
            now=now,
            lead_id=found,
            double_opt_in=double_opt_in,
            config=config,
            base_url=base_url,
        )
        return found, recorded

    found, recorded = db.run(work)
    return {
        "lead_id": found,
        "consents": {purpose: value.as_json() for purpose, value in sorted(recorded.standing.items())},
        "confirmation_mailed": recorded.mailed,
    }
