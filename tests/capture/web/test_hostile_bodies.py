"""Generated hostile bodies against every public route: a 4xx in the error shape or success, never a 500.

Whatever is stored must come back out as strict JSON: an event's props go out
in webhook bodies, and a receiver cannot parse NaN.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from capture.db.models import BehaviourEvent, SalesOutcome, Site
from capture.sites.api_tokens import create_token
from tests.capture.conftest import Browser

ODD_URLS = [
    "https://www.example.com:99999/",
    "https://[::1/",
    "http://[nope]/",
    "javascript:alert(1)",
    "https://user:pw@www.example.com/\ud800",
    "//www.example.com",
    "https://" + "a" * 3000 + ".com/",
    "https://www.example.com/\x00",
    "https://[2001:db8::1]:8443/x",
]
ODD_TEXT = ["\ud800", "\udfff", "a\x00b", "x" * 70_000, "", " ", "é" * 5000, *ODD_URLS]
KEYS = [
    "visitor", "locale", "page_url", "more", "ticket", "answers", "skipped", "email", "first_name",
    "customer_type", "company_size", "events", "id", "type", "at", "url", "props", "outcomes", "lead_id",
    "outcome", "reason", "note", "\ud800", "\x00",
]  # fmt: skip

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**90), max_value=10**90),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(ODD_TEXT),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)


def _deep(depth: int) -> bytes:
    return b'{"props":' + b"[" * depth + b"]" * depth + b"}"


@st.composite
def raw_bodies(draw: st.DrawFn, extra: dict[str, Any]) -> bytes:
    """JSON as an attacker writes it: NaN literals, escaped surrogates, runaway nesting, huge numbers, garbage."""
    kind = draw(st.sampled_from(["object", "object", "object", "deep", "huge int", "not an object", "garbage"]))
    if kind == "deep":
        return _deep(draw(st.sampled_from([33, 1_000, 30_000])))
    if kind == "huge int":
        return b'{"lead_id": ' + b"9" * draw(st.sampled_from([65, 5_000])) + b"}"
    if kind == "not an object":
        return draw(st.sampled_from([b"[]", b"123", b'"x"', b"null", b"NaN", b"[" * 10_000]))
    if kind == "garbage":
        return draw(st.binary(max_size=200))
    body = {**extra, **draw(bodies)} if draw(st.booleans()) else draw(bodies)
    if draw(st.booleans()) and extra.get("events"):
        body["events"] = [{**extra["events"][0], "props": draw(values), "url": draw(values)}]
    return json.dumps(body, ensure_ascii=draw(st.booleans()), allow_nan=True).encode("utf-8", "surrogatepass")


def assert_no_500(response: Any) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code >= 400:
        body = response.get_json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
        assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["fields"], dict)


def assert_stored_json_is_strict(app: Any) -> None:
    with app.extensions["leadwheel"].db.read() as session:
        for props in session.scalars(select(BehaviourEvent.props)):
            json.dumps(props, allow_nan=False).encode("utf-8")  # no NaN, no lone surrogate
            assert "\\u0000" not in json.dumps(props)
        for note in session.scalars(select(SalesOutcome.note)):
            assert note is None or ("\x00" not in note and note.encode("utf-8"))


HOSTILE = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
ROUTES = ["ask", "answers", "identify", "browser events", "system events", "outcomes"]


@pytest.mark.parametrize("route", ROUTES)
def test_no_hostile_body_gets_a_500(app: Any, client: Any, browser: Browser, clock: Any, route: str) -> None:
    browser.ask()
    with app.extensions["leadwheel"].db.write() as session:
        site = session.scalars(select(Site)).one()
        _, secret = create_token(session, site, "CRM", ["events", "sales"], clock())
    event = {"id": "e" * 32, "type": "page_view", "url": "https://www.example.com/", "email": "ada@example.com"}
    path, extra, headers = {
        "ask": (f"{browser.base}/ask", {"visitor": browser.token}, browser.headers()),
        "answers": (f"{browser.base}/answers", {"ticket": browser.last["ticket"]}, browser.headers()),
        "identify": (
            f"/api/v1/sites/{browser.form.site_key}/identify",
            {"email": "ada@example.com"},
            browser.headers(),
        ),
        "browser events": (
            f"/api/v1/sites/{browser.form.site_key}/events",
            {"visitor": browser.token, "events": [event]},
            browser.headers(),
        ),
        "system events": ("/api/v1/events", {"events": [event]}, {"Authorization": f"Bearer {secret}"}),
        "outcomes": (
            "/api/v1/leads/outcomes",
            {"outcomes": [{"email": "ada@example.com", "outcome": "won", "note": "n"}]},
            {"Authorization": f"Bearer {secret}"},
        ),
    }[route]

    @HOSTILE
    @given(raw=raw_bodies(extra))
    def post(raw: bytes) -> None:
        assert_no_500(client.post(path, data=raw, headers={**headers, "Content-Type": "text/plain"}))

    post()
    assert_stored_json_is_strict(app)


def test_no_lead_id_or_token_gets_a_500(app: Any, client: Any, clock: Any, publish_form: Any) -> None:
    publish_form()
    with app.extensions["leadwheel"].db.write() as session:
        site = session.scalars(select(Site)).one()
        _, secret = create_token(session, site, "CRM", ["sales"], clock())

    @HOSTILE
    @given(
        lead_id=st.one_of(
            st.integers(min_value=0, max_value=10**30).map(str), st.sampled_from(["-1", "x", "%00", "1.5"])
        ),
        token=st.one_of(st.just(secret), st.text(max_size=60), st.sampled_from(["Bearer ", "Bearer \x7f", "lw_" * 40])),
    )
    def get(lead_id: str, token: str) -> None:
        authorization = token if not token.startswith("lw_") else f"Bearer {token}"
        try:
            headers = {"Authorization": authorization}
            response = client.get(f"/api/v1/leads/{lead_id}", headers=headers)
        except ValueError:  # a header the test client itself will not send
            return
        assert_no_500(response)

    get()
