"""Hostile bodies get a 4xx in the API's error shape, never a 500, and nothing unstorable is kept."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import select

from capture.db.models import Answer
from tests.capture.conftest import Browser


def refusal(response: Any) -> dict[str, Any]:
    """The response is a 4xx with the documented error shape; its ``error`` object."""
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


HOSTILE_BODIES = {
    "nested 30,000 deep": b'{"visitor":' + b"[" * 30_000 + b"]" * 30_000 + b"}",
    "a 5,000-digit integer": b'{"more":' + b"9" * 5_000 + b"}",
    "NaN": b'{"more": NaN}',
    "Infinity": b'{"more": -Infinity}',
    "1e999, Infinity by another name": b'{"more": 1e999}',
    "a lone surrogate": b'{"page_url": "https://www.example.com/\\ud800"}',
    "a lone surrogate in a key": b'{"\\udfff": 1}',
    "NUL": b'{"locale": "en\\u0000"}',
    "not UTF-8": b'{"locale": "\xff\xfe"}',
}


@pytest.mark.parametrize("raw", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_a_body_json_cannot_keep_is_refused_as_malformed(client: Any, browser: Browser, raw: bytes) -> None:
    response = client.post(f"{browser.base}/ask", data=raw, headers={**browser.headers(), "Content-Type": "text/plain"})
    assert refusal(response)["code"] == "malformed_json"


@pytest.mark.parametrize("page_url", ["https://www.example.com:99999/", "https://[::1/", "http://[nope]/"])
def test_a_page_url_urlsplit_cannot_read_is_refused(app: Any, client: Any, browser: Browser, page_url: str) -> None:
    browser.ask()
    err = refusal(browser.answer({"email": "ada@example.com", "customer_type": "b2c"}, page_url=page_url))
    assert err["code"] == "invalid_page_url"
    event = {"id": "e" * 32, "type": "page_view", "url": page_url}
    response = client.post(
        f"/api/v1/sites/{browser.form.site_key}/events",
        json={"visitor": browser.token, "events": [event]},
        headers=browser.headers(),
    )
    assert list(refusal(response)["fields"]) == ["events[0].url"]


def test_an_ipv6_page_url_keeps_its_brackets(app: Any, browser: Browser) -> None:
    browser.ask()
    page_url = "https://[2001:db8::1]:8443/pricing"
    response = browser.answer({"email": "ada@example.com", "customer_type": "b2c"}, page_url=page_url)
    assert response.status_code == 201, response.get_json()
    with app.extensions["leadwheel"].db.read() as session:
        assert session.scalar(select(Answer.page_url)) == page_url


def test_an_event_with_nan_nul_or_a_surrogate_in_its_props_is_refused(app: Any, client: Any, browser: Browser) -> None:
    browser.ask()
    for props in (b'{"seconds": NaN}', b'{"label": "a\\u0000b"}', b'{"label": "\\ud800"}'):
        raw = b'{"visitor": "%s", "events": [{"id": "%s", "type": "page_view", "props": %s}]}' % (
            browser.token.encode(),  # type: ignore[union-attr]
            b"e" * 32,
            props,
        )
        response = client.post(
            f"/api/v1/sites/{browser.form.site_key}/events",
            data=raw,
            headers={**browser.headers(), "Content-Type": "text/plain"},
        )
        assert refusal(response)["code"] == "malformed_json"


def post_chunked(client: Any, browser: Browser, raw: bytes) -> Any:
    """``raw`` to ask with chunked transfer encoding, as a proxy streams it: no Content-Length."""
    return client.post(
        f"{browser.base}/ask",
        input_stream=io.BytesIO(raw),
        headers={**browser.headers(), "Content-Type": "text/plain", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_body_over_the_limit_is_refused_while_read(client: Any, browser: Browser) -> None:
    """No Content-Length to check up front: the limit holds while the body is read."""
    raw = b'{"visitor": "' + b"a" * 200_000 + b'"}'
    response = post_chunked(client, browser, raw)
    assert response.status_code == 413
    assert refusal(response)["code"] == "body_too_large"


def test_a_wrong_method_is_answered_with_allow_and_the_error_shape(client: Any, browser: Browser) -> None:
    for method, path in (
        ("PUT", f"{browser.base}/ask"),
        ("GET", f"{browser.base}/answers"),
        ("DELETE", "/api/v1/events"),
        ("POST", "/api/v1/leads/1"),
    ):
        response = client.open(path, method=method, headers=browser.headers())
        assert response.status_code == 405
        assert refusal(response)["code"] == "method_not_allowed"
        assert method not in response.headers["Allow"]
        assert {"POST", "GET"} & set(response.headers["Allow"].replace(" ", "").split(","))


def test_a_chunked_body_within_the_limit_is_read_whole(client: Any, browser: Browser) -> None:
    raw = b'{"locale": "da", "page_url": "https://www.example.com/' + b"a" * 1_500 + b'"}'
    response = post_chunked(client, browser, raw)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["locale"] == "da"


@pytest.mark.parametrize("bad", ["%00", "%ED%A0%80", "a" * 201])
def test_a_site_key_or_form_name_no_site_can_have_is_not_found(client: Any, browser: Browser, bad: str) -> None:
    site = browser.form.site_key
    for path, code in (
        (f"/api/v1/sites/{bad}/forms/wheel/ask", "site_not_found"),
        (f"/api/v1/sites/{site}/forms/{bad}/answers", "form_not_found"),
        (f"/api/v1/sites/{bad}/identify", "site_not_found"),
        (f"/api/v1/sites/{bad}/events", "site_not_found"),
    ):
        response = client.post(path, json={}, headers=browser.headers())
        assert (response.status_code, refusal(response)["code"]) == (404, code), path
        if code == "site_not_found":  # a preflight checks the site's origins, not the form
            preflight = client.options(path, headers=browser.headers())
            assert (preflight.status_code, refusal(preflight)["code"]) == (404, code), path
