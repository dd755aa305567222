"""Signed visitor tokens and render tickets: what verifies, what does not, and that nothing ever crashes.

Times come from the caller's clock (``now``), so these tests move time by passing another ``now``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from profiling.identity import (
    VISITOR_ID_LENGTH,
    Ticket,
    TicketRefused,
    Tokens,
    new_ticket_id,
    new_visitor_id,
)

OLD_KEY = "old-secret-key-0123456789abcdef"
NEW_KEY = "new-secret-key-fedcba9876543210"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TOKENS = Tokens([NEW_KEY])
VISITOR = "0123456789abcdef0123456789abcdef"
VISITOR_IDS = st.text("0123456789abcdef", min_size=VISITOR_ID_LENGTH, max_size=VISITOR_ID_LENGTH)


def ticket(issued_at: datetime = NOW, keys: tuple[str, ...] = ("email", "first_name")) -> Ticket:
    return Ticket(
        visitor_id=VISITOR, form_id=7, sequence_version_id=3, question_keys=keys, issued_at=issued_at,
        ticket_id="k3Jd8sAq1Zx0pLm_",
    )  # fmt: skip


def refusal(tokens: Tokens, token: Any, now: datetime) -> str:
    with pytest.raises(TicketRefused) as refused:
        tokens.read_ticket(token, now)
    assert refused.value.message
    return refused.value.code


def flip(token: str, index: int) -> str:
    """``token`` with one character changed to another URL-safe one."""
    char = token[index]
    return token[:index] + ("A" if char != "A" else "B") + token[index + 1 :]


# --- visitor tokens -----------------------------------------------------------------------------


def test_new_visitor_ids_are_128_random_bits_in_hex() -> None:
    first, second = new_visitor_id(), new_visitor_id()
    assert len(first) == VISITOR_ID_LENGTH and set(first) <= set("0123456789abcdef")
    assert first != second


@settings(max_examples=100, deadline=None)
@given(VISITOR_IDS, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_a_visitor_token_reads_back_as_its_visitor_for_its_lifetime(visitor: str, age: timedelta) -> None:
    token = TOKENS.visitor_token(visitor, NOW)
    assert isinstance(token, str)
    assert TOKENS.read_visitor(token, NOW + age) == visitor


def test_a_visitor_token_expires_after_its_lifetime() -> None:
    tokens = Tokens([NEW_KEY], visitor_lifetime=timedelta(days=30))
    token = tokens.visitor_token(VISITOR, NOW)
    assert tokens.read_visitor(token, NOW + timedelta(days=30)) == VISITOR
    assert tokens.read_visitor(token, NOW + timedelta(days=30, seconds=1)) is None
    assert TOKENS.read_visitor(TOKENS.visitor_token(VISITOR, NOW), NOW + timedelta(days=401)) is None


def test_a_token_for_something_that_is_not_a_visitor_id_reads_as_a_new_visitor() -> None:
    for not_an_id in ("", "x", VISITOR.upper(), VISITOR + "0", "g" * VISITOR_ID_LENGTH):
        assert TOKENS.read_visitor(TOKENS.visitor_token(not_an_id, NOW), NOW) is None


def _signed(payload: Any, key: str = NEW_KEY) -> str:
    from itsdangerous import URLSafeSerializer

    from profiling.identity import VISITOR_SALT

    return URLSafeSerializer(key, salt=VISITOR_SALT).dumps(payload)


@pytest.mark.parametrize(
    "payload",
    [
        {"v": VISITOR},
        {"v": VISITOR, "t": "yesterday"},
        {"v": VISITOR, "t": True},
        {"v": VISITOR, "t": None},
        [VISITOR, NOW.timestamp()],
        VISITOR,
        {"v": 12345, "t": NOW.timestamp()},
    ],
    ids=["no time", "text time", "bool time", "null time", "list", "bare id", "number id"],
)
def test_a_correctly_signed_token_with_the_wrong_shape_reads_as_a_new_visitor(payload: Any) -> None:
    assert TOKENS.read_visitor(_signed(payload), NOW) is None


def test_tampered_forged_malformed_and_truncated_tokens_read_as_a_new_visitor() -> None:
    token = TOKENS.visitor_token(VISITOR, NOW)
    payload, signature = token.rsplit(".", 1)
    other = TOKENS.visitor_token("f" * VISITOR_ID_LENGTH, NOW)
    bad = {
        "other payload, this signature": other.rsplit(".", 1)[0] + "." + signature,
        "this payload, other signature": payload + "." + other.rsplit(".", 1)[1],
        "payload edited": base64.urlsafe_b64encode(json.dumps({"v": "f" * 32, "t": NOW.timestamp()}).encode())
        .decode()
        .rstrip("=")
        + "."
        + signature,
        "signature flipped": flip(token, len(payload) + 3),
        "payload flipped": flip(token, 2),
        "forged with another secret": Tokens(["some-other-secret-key-000000"]).visitor_token(VISITOR, NOW),
        "no signature": payload,
        "empty signature": payload + ".",
        "only a signature": "." + signature,
        "truncated by one": token[:-1],
        "truncated by half": token[: len(token) // 2],
        "dots": "...",
        "empty": "",
        "spaces": "   ",
        "not base64": "!!!.###",
        "too long": token + "A" * 600,
        "json instead of a token": json.dumps({"v": VISITOR, "t": NOW.timestamp()}),
        "the visitor id itself": VISITOR,
    }
    for what, candidate in bad.items():
        assert TOKENS.read_visitor(candidate, NOW) is None, what


@pytest.mark.parametrize(
    "value",
    [None, 0, 1, 3.5, True, b"abc", bytearray(b"x"), [], ["token"], {}, {"v": VISITOR}, object()],
    ids=lambda value: type(value).__name__ if type(value) is object else repr(value),
)
def test_a_token_that_is_not_a_string_reads_as_a_new_visitor(value: Any) -> None:
    assert TOKENS.read_visitor(value, NOW) is None


def test_the_token_as_bytes_is_not_accepted_either() -> None:
    assert TOKENS.read_visitor(TOKENS.visitor_token(VISITOR, NOW).encode(), NOW) is None


GARBAGE = st.one_of(
    st.text(),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", max_size=120),
    st.binary(),
    st.binary().map(lambda raw: raw.decode("latin-1")),
    st.integers(),
    st.floats(),
    st.none(),
    st.booleans(),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5) | st.integers(), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(GARBAGE)
def test_garbage_never_raises_and_is_a_new_visitor(garbage: Any) -> None:
    assert TOKENS.read_visitor(garbage, NOW) is None


@settings(max_examples=200, deadline=None)
@given(VISITOR_IDS, st.data())
def test_a_token_with_one_character_changed_or_cut_is_a_new_visitor_or_the_same_visitor(
    visitor: str, data: st.DataObject
) -> None:
    """Changing a character can leave the decoded bytes as they were (the unused bits of the last
    base64 character); it can never produce a *different* visitor."""
    token = TOKENS.visitor_token(visitor, NOW)
    index = data.draw(st.integers(0, len(token) - 1), label="index")
    char = data.draw(st.sampled_from("Aa0-_.=+/ é"), label="char")
    changed = token[:index] + char + token[index + 1 :]
    assert TOKENS.read_visitor(changed, NOW) in (None, visitor)
    assert TOKENS.read_visitor(token[:index], NOW) is None
    tail = data.draw(st.text(min_size=1, max_size=3), label="tail")
    assert TOKENS.read_visitor(token + tail, NOW) in (None, visitor)


def test_key_rotation_old_keys_verify_the_last_key_signs() -> None:
    """README and identity.py: SECRET_KEY lists keys oldest first; the last one signs, all verify."""
    before = Tokens([OLD_KEY])
    during = Tokens([OLD_KEY, NEW_KEY])
    after = Tokens([NEW_KEY])
    old_token = before.visitor_token(VISITOR, NOW)
    new_token = during.visitor_token(VISITOR, NOW)

    assert during.read_visitor(old_token, NOW) == VISITOR, "a token signed with the old key still verifies"
    assert during.read_visitor(new_token, NOW) == VISITOR
    assert after.read_visitor(new_token, NOW) == VISITOR, "the last key in the list signs"
    assert before.read_visitor(new_token, NOW) is None, "the old key does not sign any more"
    assert after.read_visitor(old_token, NOW) is None, "once the old key is dropped, its tokens are void"

    old_ticket = before.ticket(ticket())
    assert during.read_ticket(old_ticket, NOW + timedelta(seconds=5)).visitor_id == VISITOR
    assert refusal(after, old_ticket, NOW + timedelta(seconds=5)) == "ticket_invalid"


def test_tokens_are_signed_as_itsdangerous_signs_them_by_default() -> None:
    """Tokens already in visitors' browsers keep reading: the signature is itsdangerous' own
    HMAC-SHA1 with its own key derivation, however the signer is tuned for speed."""
    from itsdangerous import URLSafeSerializer

    from profiling.identity import TICKET_SALT, VISITOR_SALT

    plain_visitor = URLSafeSerializer([NEW_KEY], salt=VISITOR_SALT)
    plain_ticket = URLSafeSerializer([NEW_KEY], salt=TICKET_SALT)
    made_elsewhere = plain_visitor.dumps({"v": VISITOR, "t": NOW.timestamp()})
    assert TOKENS.read_visitor(made_elsewhere, NOW) == VISITOR
    assert plain_visitor.loads(TOKENS.visitor_token(VISITOR, NOW)) == {"v": VISITOR, "t": NOW.timestamp()}
    assert plain_ticket.loads(TOKENS.ticket(ticket()))["q"] == ["email", "first_name"]


def test_secret_keys_must_be_given_and_non_empty() -> None:
    for keys in ([], [""], [NEW_KEY, ""]):
        with pytest.raises(ValueError):
            Tokens(keys)


# --- render tickets -----------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    VISITOR_IDS,
    st.integers(1, 2**31),
    st.integers(1, 2**31),
    st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True), max_size=5).map(tuple),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    st.timedeltas(min_value=timedelta(seconds=2), max_value=timedelta(hours=2)),
    st.booleans(),
)
def test_a_ticket_reads_back_with_its_question_keys(
    visitor: str, form: int, version: int, keys: tuple[str, ...], issued: datetime, age: timedelta, more: bool
) -> None:
    shown = Ticket(
        visitor_id=visitor, form_id=form, sequence_version_id=version, question_keys=keys, issued_at=issued,
        on_request=more, ticket_id=new_ticket_id(),
    )  # fmt: skip
    assert TOKENS.read_ticket(TOKENS.ticket(shown), issued + age) == shown


def test_a_ticket_minted_before_more_on_request_existed_reads_as_within_the_quota() -> None:
    from itsdangerous import URLSafeSerializer

    from profiling.identity import TICKET_SALT

    old = URLSafeSerializer([NEW_KEY], salt=TICKET_SALT).dumps(
        {"v": "a" * 32, "f": 1, "s": 2, "q": ["email"], "t": NOW.timestamp()}
    )
    read = TOKENS.read_ticket(old, NOW + timedelta(minutes=1))
    assert read.question_keys == ("email",) and read.on_request is False


def test_every_ticket_has_its_own_id_and_one_minted_before_ids_existed_reads_with_its_token_s() -> None:
    """The id is what makes a ticket single use: two tickets showing the same questions differ by it."""
    from itsdangerous import URLSafeSerializer

    from profiling.identity import TICKET_SALT

    first, second = (replace(ticket(), ticket_id=new_ticket_id()) for _ in range(2))
    assert first.ticket_id != second.ticket_id
    assert TOKENS.read_ticket(TOKENS.ticket(first), NOW + timedelta(minutes=1)).ticket_id == first.ticket_id
    old = URLSafeSerializer([NEW_KEY], salt=TICKET_SALT)
    payload = {"v": "a" * 32, "f": 1, "s": 2, "q": ["email"], "t": NOW.timestamp()}
    read = TOKENS.read_ticket(old.dumps(payload), NOW + timedelta(minutes=1))
    again = TOKENS.read_ticket(old.dumps(payload), NOW + timedelta(minutes=2))
    other = TOKENS.read_ticket(old.dumps({**payload, "t": NOW.timestamp() + 1}), NOW + timedelta(minutes=2))
    assert read.ticket_id == again.ticket_id != other.ticket_id
    assert read.ticket_id.startswith("t:")


def test_a_ticket_keeps_its_issue_time_in_the_reader_s_time_zone() -> None:
    read = TOKENS.read_ticket(TOKENS.ticket(ticket()), NOW + timedelta(minutes=5))
    assert read == ticket()
    copenhagen = timezone(timedelta(hours=1))
    local = TOKENS.read_ticket(TOKENS.ticket(ticket()), (NOW + timedelta(minutes=5)).astimezone(copenhagen))
    assert local.issued_at == NOW and local.issued_at.utcoffset() == timedelta(hours=1)


def test_a_ticket_answered_faster_than_the_minimum_fill_time_is_refused() -> None:
    token = TOKENS.ticket(ticket())
    for age in (timedelta(0), timedelta(seconds=1), timedelta(seconds=1, microseconds=999_999)):
        assert refusal(TOKENS, token, NOW + age) == "too_fast", age
    assert refusal(TOKENS, token, NOW - timedelta(minutes=1)) == "too_fast", "issued in the reader's future"
    assert TOKENS.read_ticket(token, NOW + timedelta(seconds=2)).question_keys == ("email", "first_name")
    quick = Tokens([NEW_KEY], min_fill_time=timedelta(milliseconds=300))
    assert refusal(quick, quick.ticket(ticket()), NOW + timedelta(milliseconds=299)) == "too_fast"
    assert quick.read_ticket(quick.ticket(ticket()), NOW + timedelta(milliseconds=300)) == ticket()


def test_a_ticket_older_than_its_lifetime_is_refused() -> None:
    token = TOKENS.ticket(ticket())
    assert TOKENS.read_ticket(token, NOW + timedelta(hours=2)) == ticket()
    assert refusal(TOKENS, token, NOW + timedelta(hours=2, seconds=1)) == "ticket_expired"
    short = Tokens([NEW_KEY], ticket_lifetime=timedelta(minutes=10))
    assert refusal(short, short.ticket(ticket()), NOW + timedelta(minutes=11)) == "ticket_expired"


def test_a_tampered_forged_or_malformed_ticket_is_refused_as_invalid() -> None:
    token = TOKENS.ticket(ticket())
    payload, signature = token.rsplit(".", 1)
    more = TOKENS.ticket(ticket(keys=("email", "first_name", "budget")))
    later = NOW + timedelta(seconds=5)
    bad = {
        "other questions, this signature": more.rsplit(".", 1)[0] + "." + signature,
        "signature flipped": flip(token, len(payload) + 3),
        "payload flipped": flip(token, 2),
        "forged with another secret": Tokens(["some-other-secret-key-000000"]).ticket(ticket()),
        "truncated": token[:-2],
        "no signature": payload,
        "empty": "",
        "too long": token + "A" * 5000,
        "not a string": None,
        "bytes": token.encode(),
        "a number": 42,
    }
    for what, candidate in bad.items():
        assert refusal(TOKENS, candidate, later) == "ticket_invalid", what


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"v": VISITOR, "f": "seven", "s": 3, "q": [], "t": NOW.timestamp()},
        {"v": VISITOR, "f": 7, "s": 3, "q": 5, "t": NOW.timestamp()},
        {"v": VISITOR, "f": 7, "s": 3, "q": [], "t": "noon"},
        {"v": VISITOR, "f": 7, "s": 3, "q": [], "t": 1e300},
        [1, 2, 3],
        "ticket",
    ],
    ids=["empty", "text form id", "number keys", "text time", "huge time", "list", "text"],
)
def test_a_correctly_signed_ticket_with_the_wrong_shape_is_refused_as_invalid(payload: Any) -> None:
    from itsdangerous import URLSafeSerializer

    from profiling.identity import TICKET_SALT

    token = URLSafeSerializer(NEW_KEY, salt=TICKET_SALT).dumps(payload)
    assert refusal(TOKENS, token, NOW + timedelta(seconds=5)) == "ticket_invalid"


@settings(max_examples=300, deadline=None)
@given(GARBAGE)
def test_garbage_is_refused_as_an_invalid_ticket_and_nothing_else(garbage: Any) -> None:
    assert refusal(TOKENS, garbage, NOW) == "ticket_invalid"


def test_a_visitor_token_is_not_a_ticket_and_a_ticket_is_not_a_visitor_token() -> None:
    later = NOW + timedelta(seconds=5)
    assert refusal(TOKENS, TOKENS.visitor_token(VISITOR, NOW), later) == "ticket_invalid"
    assert TOKENS.read_visitor(TOKENS.ticket(ticket()), later) is None
