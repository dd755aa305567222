"""Client IP addresses are never stored: what counts requests per client keeps a keyed, daily digest.

Rate limits and sign-in lockouts need to tell one client from another for minutes or hours,
not to know who it is. A digest keyed with the service's secret and the day (as Plausible
does) cannot be turned back into the address, nor matched with another day's.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime


def client_digest(address: str, secret: str | bytes, now: datetime | None = None) -> str:
    """32 hex characters that stand for ``address`` today, and mean nothing tomorrow."""
    key = secret.encode() if isinstance(secret, str) else secret
    day = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    return hmac.new(key, f"{day}|{address}".encode(), hashlib.sha256).hexdigest()[:32]
