"""Behaviour events through the API: from the snippet and from back-end systems."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from capture.db.models import Answer, BehaviourEvent, Lead, Site
from capture.sites.api_tokens import create_token
from tests.capture.conftest import ORIGIN, Browser


def event(kind: str = "page_view", **extra: Any) -> dict[str, Any]:
    return {"id": secrets.token_hex(16), "type": kind, "url": "https://www.example.com/pricing", **extra}


def stored_events(app: Any) -> list[BehaviourEvent]:
    with app.extensions["leadwheel"].db.read() as session:
        return list(session.scalars(select(BehaviourEvent).order_by(BehaviourEvent.id)))


def post_browser(client: Any, site_key: str, body: Any, origin: str | None = ORIGIN) -> Any:
    headers = {"Origin": origin} if origin else {}
    return client.post(f"/api/v1/sites/{site_key}/events", data=_text(body), headers=headers, content_type="text/plain")


def _text(body: Any) -> str:
    import json

    return body if isinstance(body, str) else json.dumps(body)


@pytest.fixture
def api_token(app: Any, browser: Browser, clock: Any) -> Any:
    """An `events` token for the browser's site, and a `sales`-only one."""

    def make(scopes: tuple[str, ...] = ("events",)) -> str:
        with app.extensions["leadwheel"].db.write() as session:
            site = session.scalar(select(Site).where(Site.public_key == browser.form.site_key))
            _, token = create_token(session, site, "ESP", list(scopes), clock())
        return token

    return make


def post_system(client: Any, token: str | None, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/api/v1/events", json=body, headers=headers)


def test_a_batch_from_the_snippet_is_stored_once_even_when_retried(app: Any, client: Any, browser: Browser) -> None:
    batch = {"visitor": None, "events": [event(), event("download", props={"file": "brochure.pdf"})]}
    first = post_browser(client, browser.form.site_key, batch)
    assert first.status_code == 202, first.get_json()
    assert first.get_json()["accepted"] == 2 and first.get_json()["duplicates"] == 0
    assert first.headers["Access-Control-Allow-Origin"] == ORIGIN
    visitor = first.get_json()["visitor"]
    batch["visitor"] = visitor
    again = post_browser(client, browser.form.site_key, batch)  # the beacon retried
    assert again.get_json()["duplicates"] == 2
    rows = stored_events(app)
    assert [(row.type, row.path, row.source) for row in rows] == [
        ("page_view", "/pricing", "browser"),
        ("download", "/pricing", "browser"),
    ]
    assert rows[1].props == {"file": "brochure.pdf"}
    assert rows[0].lead_id is None and rows[0].visitor_id  # nobody answered anything yet


def test_events_before_the_first_answer_count_once_the_visitor_becomes_a_lead(
    app: Any, client: Any, browser: Browser
) -> None:
    browser.ask()
    response = post_browser(client, browser.form.site_key, {"visitor": browser.token, "events": [event()]})
    assert response.status_code == 202
    assert stored_events(app)[0].lead_id is None
    assert browser.answer({"email": "ada@example.com", "first_name": "Ada", "customer_type": "b2b"}).status_code == 201
    with app.extensions["leadwheel"].db.read() as session:
        lead_id = session.scalar(select(Lead.id).where(Lead.email == "ada@example.com"))
    assert stored_events(app)[0].lead_id == lead_id
    # and later events of that browser go straight to the lead
    post_browser(client, browser.form.site_key, {"visitor": browser.token, "events": [event("demo_request")]})
    assert stored_events(app)[1].lead_id == lead_id


def test_a_foreign_origin_stores_nothing(app: Any, client: Any, browser: Browser) -> None:
    response = post_browser(client, browser.form.site_key, {"events": [event()]}, origin="https://evil.example")
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert stored_events(app) == []


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        ({"type": "teleport"}, "events[1].type", "Unknown event type"),
        ({"type": "Page View"}, "events[1].type", "lower-case"),
        ({"id": "not-hex"}, "events[1].id", "32 lower-case hex"),
        ({"at": "yesterday"}, "events[1].at", "ISO 8601"),
        ({"at": "2026-11-23T10:00:00"}, "events[1].at", "time zone"),
        ({"at": "2020-01-01T00:00:00Z"}, "events[1].at", "older than"),
        ({"url": "javascript:alert(1)"}, "events[1].url", "http(s)"),
        ({"props": {"blob": "x" * 3000}}, "events[1].props", "2048 bytes"),
        ({"props": ["a"]}, "events[1].props", "object"),
    ],
)
def test_a_bad_event_is_left_out_named_and_the_good_ones_kept(
    app: Any, client: Any, browser: Browser, bad: dict[str, Any], field: str, message: str
) -> None:
    """A browser never retries a refused batch: one bad event must not lose the page view beside it."""
    good = event()
    response = post_browser(client, browser.form.site_key, {"events": [good, event(**bad)]})
    assert response.status_code == 202
    reply = response.get_json()
    assert reply["accepted"] == 1 and message in reply["refused"][field]
    assert [row.uid for row in stored_events(app)] == [good["id"]]


def test_a_browser_batch_with_no_good_event_is_refused_and_says_which(app: Any, client: Any, browser: Browser) -> None:
    response = post_browser(client, browser.form.site_key, {"events": [event(type="teleport"), event(id="x")]})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_events"
    assert set(error["fields"]) == {"events[0].type", "events[1].id"}
    assert stored_events(app) == []


def test_batch_shape_errors(app: Any, client: Any, browser: Browser) -> None:
    key = browser.form.site_key
    assert post_browser(client, key, "not json").status_code == 400
    assert post_browser(client, key, {"events": []}).get_json()["error"]["code"] == "invalid_body"
    too_many = post_browser(client, key, {"events": [event() for _ in range(101)]})
    assert too_many.status_code == 413 and too_many.get_json()["error"]["code"] == "batch_too_large"
    assert stored_events(app) == []
    twice = event()
    dup = post_browser(client, key, {"events": [twice, dict(twice)]})
    assert dup.status_code == 202 and "twice" in dup.get_json()["refused"]["events[1].id"]
    assert len(stored_events(app)) == 1


def test_a_timestamp_in_the_future_is_clamped_to_now(app: Any, client: Any, browser: Browser, clock: Any) -> None:
    ahead = (clock() + timedelta(days=3)).isoformat()
    earlier = (clock() - timedelta(hours=2)).isoformat()
    assert (
        post_browser(client, browser.form.site_key, {"events": [event(at=ahead), event(at=earlier)]}).status_code == 202
    )
    future, past = stored_events(app)
    assert future.at == clock()
    assert past.at == clock() - timedelta(hours=2)


def test_back_end_events_need_a_valid_token_with_the_events_scope(
    app: Any, client: Any, api_token: Any, browser: Browser
) -> None:
    body = {"events": [event("email_click", email="bo@example.org")]}
    assert post_system(client, None, body).status_code == 401
    assert post_system(client, "lw_" + "x" * 43, body).get_json()["error"]["code"] == "invalid_token"
    assert post_system(client, "bearer-junk", body).status_code == 401
    sales_only = post_system(client, api_token(("sales",)), body)
    assert sales_only.status_code == 403 and sales_only.get_json()["error"]["code"] == "insufficient_scope"
    assert stored_events(app) == []
    assert post_system(client, api_token(), body).status_code == 202


def test_a_back_end_batch_with_one_bad_event_is_refused_whole(
    app: Any, client: Any, api_token: Any, browser: Browser
) -> None:
    """A back-end sender retries: storing half a batch would store that half twice once it is fixed."""
    body = {"events": [event("email_click", email="bo@example.org"), event("teleport", email="bo@example.org")]}
    response = post_system(client, api_token(), body)
    assert response.status_code == 422 and "events[1].type" in response.get_json()["error"]["fields"]
    assert stored_events(app) == []


def test_back_end_events_by_email_create_or_find_the_lead(
    app: Any, client: Any, api_token: Any, browser: Browser
) -> None:
    token = api_token()
    browser.ask()
    browser.answer({"email": "ada@example.com", "first_name": "Ada", "customer_type": "b2b"})
    body = {
        "events": [
            event("email_open", email="ADA@example.com", url=None),
            event("webinar_signup", email="new.person@example.org", props={"webinar": "pricing-101"}),
            event("call", visitor=browser.token),
        ]
    }
    response = post_system(client, token, body)
    assert response.status_code == 202, response.get_json()
    with app.extensions["leadwheel"].db.read() as session:
        ada = session.scalar(select(Lead.id).where(Lead.email == "ada@example.com"))
        new = session.scalar(select(Lead.id).where(Lead.email == "new.person@example.org"))
        provenance = session.execute(
            select(Answer.source, Answer.field, Answer.value).where(Answer.lead_id == new)
        ).all()
    assert new is not None and new != ada
    assert provenance == [("api", "email", "new.person@example.org")]  # where we learnt the address
    assert [(row.type, row.lead_id, row.source) for row in stored_events(app)] == [
        ("email_open", ada, "api"),
        ("webinar_signup", new, "api"),
        ("call", ada, "api"),
    ]


def test_back_end_events_must_name_their_lead(app: Any, client: Any, api_token: Any) -> None:
    token = api_token()
    response = post_system(
        client,
        token,
        {"events": [event("call"), event("call", email="not-an-email"), event("call", visitor="forged")]},
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert "Name the lead" in fields["events[0]"]
    assert fields["events[1].email"] == "Not a valid e-mail address."
    assert "visitor token" in fields["events[2].visitor"]
    with app.extensions["leadwheel"].db.read() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 0
    assert stored_events(app) == []


def test_a_revoked_token_is_refused(app: Any, client: Any, api_token: Any, clock: Any) -> None:
    from capture.db.models import ApiToken

    token = api_token()
    with app.extensions["leadwheel"].db.write() as session:
        for row in session.scalars(select(ApiToken)):
            row.revoked_at = clock()
    response = post_system(client, token, {"events": [event("call", email="a@example.com")]})
    assert response.status_code == 401
