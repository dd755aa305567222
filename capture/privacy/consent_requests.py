"""The public consent routes' work: read a browser's (or the host page's) consent, record it, say the standing.

Apart from capture/privacy/consent.py, which knows records and nothing of HTTP
bodies, tokens or sites' settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from capture.config import Config
from capture.db.engine import Database
from capture.leads.visits import LOCALE, clean_page_url
from capture.privacy.consent import lead_of_visitor, read_decisions, record, tracking_allowed, visitor_standing
from capture.sites.catalog import SiteEntry
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
    raw_locale = body.get("locale")
    locale = raw_locale if isinstance(raw_locale, str) and len(raw_locale) <= 35 and LOCALE.match(raw_locale) else "en"
    decisions = read_decisions(body, locale, "banner", clean_page_url(body.get("page_url")))
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
