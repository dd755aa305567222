"""Signed tokens: who a visitor is, and which questions a form actually showed.

One itsdangerous serializer per purpose, each with its own salt, so a token
minted for one purpose never verifies as another. Keys rotate through a list:
the last key signs, every key verifies. Times come from the caller's clock (not
from itsdangerous' integer timestamps) so the minimum fill time can be measured
in fractions of a second and tests can move time.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from itsdangerous import BadData, Serializer, Signer, URLSafeSerializer
from itsdangerous.encoding import base64_encode, want_bytes

VISITOR_SALT = "leadwheel.visitor.v1"
TICKET_SALT = "leadwheel.render-ticket.v1"
IDENTIFY_SALT = "leadwheel.identify-ticket.v1"
#: Visitor ids are 128 random bits, hex-encoded.
VISITOR_ID_LENGTH = 32


def new_visitor_id() -> str:
    return secrets.token_hex(VISITOR_ID_LENGTH // 2)


def new_ticket_id() -> str:
    """96 random bits: what makes a ticket single use (the shell records each id once it carried answers)."""
    return secrets.token_urlsafe(12)


def _is_visitor_id(value: Any) -> bool:
    return isinstance(value, str) and len(value) == VISITOR_ID_LENGTH and all(c in "0123456789abcdef" for c in value)


@dataclass(frozen=True)
class Ticket:
    """What one ask response showed: these questions, to this visitor, at this time."""

    visitor_id: str
    form_id: int
    sequence_version_id: int
    question_keys: tuple[str, ...]
    issued_at: datetime
    #: the questions go beyond the visit's quota because the visitor asked for more ("m" in the
    #: token, only when set: tickets issued before it existed read as False)
    on_request: bool = False
    #: random, "i" in the token; a ticket minted before tickets had ids reads with a digest of its
    #: token instead, so it is single use too
    ticket_id: str = ""


@dataclass(frozen=True)
class IdentifyTicket:
    """Permission to claim an e-mail from a browser, as a form's ticket permits answers: issued to this
    visitor for this site at this time, used once, and not sooner than a person could type."""

    visitor_id: str
    site_id: int
    issued_at: datetime
    ticket_id: str


class TicketRefused(Exception):
    """A ticket that cannot carry answers; ``code`` says why, for the API."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)


class _Signer(Signer):
    """itsdangerous' signer, deriving each key once: the serializer would make a signer and derive
    its key (an HMAC) on every token, and an ask signs two tokens and reads one."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._derived: dict[bytes | None, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        cache_key = want_bytes(secret_key) if secret_key is not None else None
        derived = self._derived.get(cache_key)
        if derived is None:
            derived = self._derived[cache_key] = super().derive_key(secret_key)
        return derived


class _PayloadJSON:
    """A token's payload as JSON, by orjson: the standard library's ``json`` (itsdangerous' own) took
    about half of the time of minting or reading one, and an answer mints two and reads two.
    Text, as itsdangerous' serializer is (so its tokens are text too); a token written by either
    reads with the other."""

    @staticmethod
    def dumps(obj: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(data: bytes | str) -> Any:
        return orjson.loads(data)


class _Serializer(URLSafeSerializer):
    """URL-safe, signed JSON without zlib: our payloads are a few dozen bytes, compressing them
    rarely saves a byte and costs more than signing. Compressed tokens still read.

    Signers are made once per salt and kept (they hold nothing but the keys and settings). They
    sign with HMAC-SHA1, itsdangerous' default, named as ``hashlib.sha1`` itself: its default is a
    Python wrapper of that function, which sends ``hmac`` down its pure-Python path on every token
    (the signatures are the same either way)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(
            *args, serializer=_PayloadJSON, signer=_Signer, signer_kwargs={"digest_method": hashlib.sha1}, **kwargs
        )
        self._signers: dict[str | bytes | None, Signer] = {}

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        signer = self._signers.get(salt)
        if signer is None:
            signer = self._signers[salt] = super().make_signer(salt)
        return signer

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


class Tokens:
    """Issues and reads the service's signed tokens.

    ``secret_keys``: oldest first; the last one signs.
    """

    def __init__(
        self,
        secret_keys: Sequence[str],
        *,
        visitor_lifetime: timedelta = timedelta(days=400),
        ticket_lifetime: timedelta = timedelta(hours=2),
        min_fill_time: timedelta = timedelta(seconds=2),
    ):
        if not secret_keys or not all(secret_keys):
            raise ValueError("at least one non-empty secret key is needed")
        keys = list(secret_keys)
        self._visitor = _Serializer(keys, salt=VISITOR_SALT)
        self._ticket = _Serializer(keys, salt=TICKET_SALT)
        self._identify = _Serializer(keys, salt=IDENTIFY_SALT)
        self.visitor_lifetime = visitor_lifetime
        self.ticket_lifetime = ticket_lifetime
        self.min_fill_time = min_fill_time

    def visitor_token(self, visitor_id: str, now: datetime) -> str:
        return self._visitor.dumps({"v": visitor_id, "t": now.timestamp()})

    def read_visitor(self, token: Any, now: datetime) -> str | None:
        """The visitor id in ``token``; ``None`` for anything forged, malformed or expired."""
        if not isinstance(token, str) or not token or len(token) > 512:
            return None
        try:
            payload = self._visitor.loads(token)
        except (BadData, ValueError, TypeError):
            return None
        if not isinstance(payload, dict) or not _is_visitor_id(payload.get("v")):
            return None
        issued = payload.get("t")
        if isinstance(issued, bool) or not isinstance(issued, (int, float)):
            return None
        age = now.timestamp() - issued
        if age > self.visitor_lifetime.total_seconds():
            return None
        return str(payload["v"])

    def ticket(self, ticket: Ticket) -> str:
        payload: dict[str, Any] = {
            "v": ticket.visitor_id,
            "f": ticket.form_id,
            "s": ticket.sequence_version_id,
            "q": list(ticket.question_keys),
            "t": ticket.issued_at.timestamp(),
        }
        if ticket.on_request:
            payload["m"] = 1
        if ticket.ticket_id:
            payload["i"] = ticket.ticket_id
        return self._ticket.dumps(payload)

    def read_ticket(self, token: Any, now: datetime) -> Ticket:
        """The ticket in ``token``, or :class:`TicketRefused` saying why not."""
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise TicketRefused("ticket_invalid", "The form ticket is missing or malformed; reload the form.")
        try:
            payload = self._ticket.loads(token)
            ticket = Ticket(
                visitor_id=str(payload["v"]),
                form_id=int(payload["f"]),
                sequence_version_id=int(payload["s"]),
                question_keys=tuple(str(key) for key in payload["q"]),
                issued_at=datetime.fromtimestamp(float(payload["t"]), tz=now.tzinfo),
                on_request=payload.get("m") == 1,
                ticket_id=_ticket_id(payload.get("i"), token),
            )
        except (BadData, KeyError, TypeError, ValueError, OverflowError) as exc:
            raise TicketRefused("ticket_invalid", "The form ticket is not valid; reload the form.") from exc
        self._check_age(ticket.issued_at, now)
        return ticket

    def identify_ticket(self, ticket: IdentifyTicket) -> str:
        issued = ticket.issued_at.timestamp()
        return self._identify.dumps({"v": ticket.visitor_id, "s": ticket.site_id, "t": issued, "i": ticket.ticket_id})

    def read_identify_ticket(self, token: Any, now: datetime) -> IdentifyTicket:
        """The identify ticket in ``token``, or :class:`TicketRefused` with the codes a form's ticket has."""
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise TicketRefused("ticket_invalid", "The identify ticket is missing or malformed; ask for a new one.")
        try:
            payload = self._identify.loads(token)
            ticket = IdentifyTicket(
                visitor_id=str(payload["v"]),
                site_id=int(payload["s"]),
                issued_at=datetime.fromtimestamp(float(payload["t"]), tz=now.tzinfo),
                ticket_id=_ticket_id(payload["i"], token),
            )
        except (BadData, KeyError, TypeError, ValueError, OverflowError) as exc:
            raise TicketRefused("ticket_invalid", "The identify ticket is not valid; ask for a new one.") from exc
        self._check_age(ticket.issued_at, now)
        return ticket

    def _check_age(self, issued_at: datetime, now: datetime) -> None:
        age = now - issued_at
        if age < self.min_fill_time:
            raise TicketRefused("too_fast", "The form was sent too quickly after it was shown; please try again.")
        if age > self.ticket_lifetime:
            raise TicketRefused("ticket_expired", "The form has been open too long; reload it to continue.")


def _ticket_id(minted: Any, token: str) -> str:
    """The ticket's own id, or for an older ticket (without one) a digest of the whole token."""
    if isinstance(minted, str) and 0 < len(minted) <= 32:
        return minted
    if minted is not None:
        raise ValueError("a ticket id must be a short string")
    return "t:" + hashlib.sha256(token.encode()).hexdigest()[:40]
