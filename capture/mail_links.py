"""What a mailed confirmation link carries, and the language its mail and page speak.

An address's confirmation (capture/leads/claims.py) and a marketing consent's double opt-in
(capture/privacy/consent.py) both mail a link naming one row, signed with the service's keys
and good for seven days; only what the row is differs, and the salt keeps one kind of link
from ever being read as the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadData, URLSafeTimedSerializer

from capture.config import Config

#: the languages mails and their pages are written in
LANGUAGES = ("en", "da", "nb", "ro")
LIFETIME = timedelta(days=7)
#: longer than any link this service makes: anything longer is refused unread
MAX_TOKEN = 512


def language(locale: str | None) -> str:
    """The language of a mail and its page for a visitor's locale: theirs if we write it, else English."""
    base = (locale or "en").split("-")[0].lower()
    return "nb" if base == "no" else base if base in LANGUAGES else "en"


@dataclass(frozen=True)
class LinkTokens:
    """Signed ids for one kind of link."""

    salt: str

    def make(self, config: Config, row_id: int) -> str:
        return self._serializer(config).dumps(row_id)

    def read(self, config: Config, token: str) -> int | None:
        """The id a link names, or None for a forged, damaged, foreign or expired link."""
        if len(token) > MAX_TOKEN:
            return None
        try:
            row_id = self._serializer(config).loads(token, max_age=int(LIFETIME.total_seconds()))
        except BadData:
            return None
        return row_id if isinstance(row_id, int) else None

    def _serializer(self, config: Config) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(list(config.secret_keys), salt=self.salt)
