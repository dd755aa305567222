"""API tokens: how a back-end system (an ESP, a CRM) proves which site it speaks for and what it may do.

A token is ``lw_`` and 43 random URL-safe characters. Only its sha256 is
stored, so a copy of the database does not hand out working tokens; the token
is shown once, when created. Tokens are long and random, so a fast hash is as
good as a slow one here (there is nothing to guess).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from capture.db.engine import Database
from capture.db.models import ApiToken, Site
from capture.sites.publishing import PublishingError
from capture.web.errors import Refused

SCOPES = ("events", "sales", "privacy")
PREFIX = "lw_"


@dataclass(frozen=True)
class Caller:
    """Who is calling, once the token checked out."""

    token_id: int
    site_id: int
    scopes: frozenset[str]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, site: Site, name: str, scopes: list[str], now: datetime) -> tuple[ApiToken, str]:
    """A new token for ``site``; returns the row and the token, which is never shown again."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise PublishingError(f"scopes must be some of {', '.join(SCOPES)}; got {', '.join(unknown) or 'none'}")
    name = name.strip()
    if not name or len(name) > 200:
        raise PublishingError("a token needs a name of 1 to 200 characters (what uses it, e.g. 'Mailchimp')")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        site_id=site.id,
        name=name,
        prefix=token[:10],
        digest=digest(token),
        scopes=sorted(set(scopes)),
        created_at=now,
        revoked_at=None,
    )
    session.add(row)
    session.flush()
    return row, token


def authenticate(db: Database, authorization: str | None, scope: str) -> Caller:
    """The caller behind an ``Authorization: Bearer …`` header, or a 401/403 refusal."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Refused(401, "unauthenticated", "Send an API token: Authorization: Bearer lw_…")
    token = authorization[len("Bearer ") :].strip()
    if not token.startswith(PREFIX) or len(token) > 100:
        raise Refused(401, "invalid_token", "This API token is not valid.")
    wanted = digest(token)
    with db.read() as session:
        row = session.execute(
            select(ApiToken.id, ApiToken.site_id, ApiToken.scopes, ApiToken.digest, ApiToken.revoked_at).where(
                ApiToken.digest == wanted
            )
        ).first()
    if row is None or not hmac.compare_digest(row.digest, wanted) or row.revoked_at is not None:
        raise Refused(401, "invalid_token", "This API token is not valid, or was revoked.")
    if scope not in row.scopes:
        raise Refused(403, "insufficient_scope", f"This API token may not do this; it needs the '{scope}' scope.")
    return Caller(token_id=row.id, site_id=row.site_id, scopes=frozenset(row.scopes))
