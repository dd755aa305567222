"""Bad input gets a clear error, never a 500, and nothing half-stored."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from capture.db.models import Answer, Lead, Visitor
from profiling.identity import Ticket, Tokens
from tests.capture.conftest import ORIGIN, Browser


def stored(app: Any) -> tuple[int, int, int]:
    with app.extensions["leadwheel"].db.read() as session:
        return tuple(  # type: ignore[return-value]
            int(session.scalar(select(func.count()).select_from(model)) or 0) for model in (Answer, Lead, Visitor)
        )


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


def test_invalid_answers_get_a_message_per_field_and_nothing_is_stored(app: Any, browser: Browser) -> None:
    browser.ask()
    response = browser.answer({"email": "not-an-email", "first_name": "x" * 5000, "customer_type": "martian"})
    err = error(response, 422, "invalid_answers")
    assert set(err["fields"]) == {"email", "first_name", "customer_type"}
    assert all(isinstance(message, str) and message for message in err["fields"].values())
    assert stored(app) == (0, 0, 0)


def test_one_bad_answer_stores_none_of_the_good_ones(app: Any, browser: Browser) -> None:
    browser.ask()
    err = error(browser.answer({"email": "ada@example.com", "customer_type": "martian"}), 422, "invalid_answers")
    assert list(err["fields"]) == ["customer_type"]
    assert stored(app) == (0, 0, 0)


def test_errors_speak_the_visitors_language(browser: Browser) -> None:
    browser.locale = "da"
    browser.ask()
    da = error(browser.answer({"email": "nope"}), 422, "invalid_answers")["fields"]["email"]
    browser.locale = "en"
    en = error(browser.answer({"email": "nope"}), 422, "invalid_answers")["fields"]["email"]
    assert da != en


def test_a_required_question_in_the_ticket_must_be_answered(app: Any, browser: Browser) -> None:
    browser.ask()
    err = error(browser.answer({"first_name": "Ada"}), 422, "invalid_answers")
    assert set(err["fields"]) == {"email", "customer_type"}
    assert stored(app) == (0, 0, 0)


def test_a_required_question_not_shown_never_blocks(app: Any, browser: Browser) -> None:
    """The consent question is required but was not in this ticket."""
    browser.ask()
    assert "consent" not in browser.asked_keys()
    assert browser.answer({"email": "ada@example.com", "customer_type": "b2c"}).status_code == 201


def test_questions_outside_the_ticket_are_refused(app: Any, browser: Browser) -> None:
    browser.ask()
    err = error(
        browser.answer({"email": "ada@example.com", "budget": "large", "is_admin": True}), 422, "unexpected_questions"
    )
    assert set(err["fields"]) == {"budget", "is_admin"}
    err = error(browser.answer({"email": "ada@example.com"}, skipped=["phone"]), 422, "unexpected_questions")
    assert set(err["fields"]) == {"phone"}
    assert stored(app) == (0, 0, 0)


def test_answered_and_skipped_at_once_is_refused(browser: Browser) -> None:
    browser.ask()
    error(
        browser.answer({"email": "a@example.com", "first_name": "A"}, skipped=["first_name"]),
        422,
        "unexpected_questions",
    )


def test_empty_submission_is_refused(app: Any, browser: Browser) -> None:
    browser.ask()
    assert set(error(browser.answer({"first_name": "   "}), 422, "invalid_answers")["fields"]) == {
        "email",
        "customer_type",
    }
    browser.answer({"first_name": "Ada", "email": "ada@example.com", "customer_type": "b2c"})
    browser.clock.advance(hours=1)  # the next visits ask the next questions
    browser.ask()
    browser.answer({"looking_for": ["reports"], "consent": True})
    browser.clock.advance(hours=1)
    browser.ask()
    assert browser.asked_keys() == ["budget", "buying_timeline", "decides"]  # all optional
    before = stored(app)
    error(browser.answer({"budget": ""}), 422, "nothing_to_store")
    assert stored(app) == before


def test_too_fast_and_too_old_tickets_are_refused(app: Any, browser: Browser, clock: Any) -> None:
    assert browser.ask()["min_fill_ms"] == 2000  # the snippet waits this long before it sends
    error(browser.answer({"email": "ada@example.com"}, wait=0.5), 422, "too_fast")
    clock.advance(hours=3)
    error(browser.answer({"email": "ada@example.com"}), 422, "ticket_expired")
    assert stored(app) == (0, 0, 0)


def test_forged_and_foreign_tickets_are_refused(app: Any, browser: Browser, clock: Any, publish_form: Any) -> None:
    browser.ask()
    ticket = browser.last["ticket"]
    browser.last["ticket"] = ticket[:-3] + ("abc" if not ticket.endswith("abc") else "xyz")
    error(browser.answer({"email": "ada@example.com"}), 422, "ticket_invalid")
    browser.last["ticket"] = 12345
    error(browser.answer({"email": "ada@example.com"}), 422, "ticket_invalid")
    # A ticket signed with another key (say, another installation) is not ours.
    other = Tokens(["another-secret-key-000000"]).ticket(
        Ticket("a" * 32, browser.form.form_id, browser.form.version_id, ("email",), clock.now - timedelta(seconds=5))
    )
    browser.last["ticket"] = other
    error(browser.answer({"email": "ada@example.com"}), 422, "ticket_invalid")
    # A valid ticket for one form cannot be spent on another form.
    other_form = publish_form(slug="other")
    browser.ask()
    foreign = Browser(browser.client, other_form, clock, last={"ticket": browser.last["ticket"]})
    error(foreign.answer({"email": "ada@example.com"}), 422, "ticket_invalid")
    assert stored(app) == (0, 0, 0)


def test_forged_expired_and_garbage_visitor_tokens_start_a_new_visitor(browser: Browser, clock: Any) -> None:
    browser.ask()
    browser.answer({"email": "ada@example.com", "first_name": "Ada", "customer_type": "b2b"})
    good = browser.token
    clock.advance(hours=1)  # the next visit asks the next questions
    assert browser.ask()["questions"][0]["key"] == "company_size"
    for bad in [good[:-2] + "xx", "garbage", "", "a" * 600, 42, ["x"], {"v": "x"}, None]:
        browser.token = bad  # type: ignore[assignment]
        body = browser.ask()
        assert body["questions"][0]["key"] == "email", bad
        assert body["visitor"] != good
    browser.token = good
    clock.advance(days=401)
    assert browser.ask()["questions"][0]["key"] == "email"


def test_malformed_json_and_wrong_shapes(app: Any, client: Any, browser: Browser) -> None:
    base = browser.base
    error(
        client.post(f"{base}/answers", data="{not json", headers={"Content-Type": "text/plain"}), 400, "malformed_json"
    )
    error(
        client.post(f"{base}/answers", data=b"\xff\xfe", headers={"Content-Type": "text/plain"}), 400, "malformed_json"
    )
    error(client.post(f"{base}/ask", json=[1, 2]), 400, "malformed_json")
    browser.ask()
    error(browser.answer({}, skipped="email"), 422, "invalid_body")  # type: ignore[arg-type]
    response = client.post(f"{base}/answers", json={"ticket": browser.last["ticket"], "answers": ["x"]})
    error(response, 422, "invalid_body")
    error(browser.answer({"email": "a@example.com"}, page_url="javascript:alert(1)"), 422, "invalid_page_url")
    assert stored(app) == (0, 0, 0)


def test_text_plain_bodies_work_so_browsers_need_no_preflight(client: Any, browser: Browser) -> None:
    response = client.post(
        f"{browser.base}/ask",
        data='{"locale": "da"}',
        headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": ORIGIN},
    )
    assert response.status_code == 200
    assert response.get_json()["locale"] == "da"


def test_a_body_over_64_kb_is_refused(app: Any, client: Any, browser: Browser) -> None:
    browser.ask()
    body = json.dumps({"ticket": browser.last["ticket"], "answers": {"first_name": "x" * 70_000}})
    error(
        client.post(f"{browser.base}/answers", data=body, headers={"Content-Type": "text/plain"}), 413, "body_too_large"
    )
    assert stored(app) == (0, 0, 0)


def test_unknown_site_or_form_is_404(client: Any, browser: Browser) -> None:
    error(client.post("/api/v1/sites/site_nope/forms/wheel/ask", json={}), 404, "site_not_found")
    error(client.post(f"/api/v1/sites/{browser.form.site_key}/forms/nope/ask", json={}), 404, "form_not_found")
    error(client.get("/api/v1/nothing-here"), 404, "not_found")
    error(client.get(f"{browser.base}/ask"), 405, "method_not_allowed")


def test_cors_answers_only_the_sites_origins(app: Any, client: Any, browser: Browser) -> None:
    allowed = client.post(f"{browser.base}/ask", json={}, headers={"Origin": ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in allowed.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in allowed.headers

    browser.ask()
    browser.origin = "https://evil.example.net"
    for response in (
        client.post(f"{browser.base}/ask", json={}, headers={"Origin": "https://evil.example.net"}),
        browser.answer({"email": "ada@example.com"}),
        client.options(
            f"{browser.base}/answers",
            headers={"Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"},
        ),
        client.post(f"{browser.base}/ask", json={}, headers={"Origin": "http://www.example.com"}),  # http ≠ https
    ):
        error(response, 403, "origin_not_allowed")
        assert "Access-Control-Allow-Origin" not in response.headers
    assert stored(app) == (0, 0, 0)

    preflight = client.options(
        f"{browser.base}/answers", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_rate_limit_answers_with_429(config: Any, clock: Any, publish_form: Any) -> None:
    from dataclasses import replace

    from capture.web.app import create_app

    limited = create_app(replace(config, ratelimit_enabled=True, ratelimit_ask="3/minute"), clock=clock)
    form = publish_form()
    client = limited.test_client()
    codes = [client.post(f"/api/v1/sites/{form.site_key}/forms/wheel/ask", json={}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    response = client.post(f"/api/v1/sites/{form.site_key}/forms/wheel/ask", json={})
    error(response, 429, "rate_limited")
    assert "Retry-After" in response.headers
    limited.extensions["leadwheel"].db.dispose()


def test_answers_to_an_old_version_are_checked_against_that_version(app: Any, browser: Browser, clock: Any) -> None:
    """A marketer publishes while a visitor has the form open: the visitor's answers still count."""
    from capture.sites.publishing import find_site, publish
    from profiling.document import load
    from tests.capture.conftest import SMALL_WHEEL

    browser.ask()
    changed = {**SMALL_WHEEL, "name": "Changed wheel"}
    changed["stages"] = [
        dict(SMALL_WHEEL["stages"][0], questions=SMALL_WHEEL["stages"][0]["questions"][1:]),
        *SMALL_WHEEL["stages"][1:],
    ]
    with app.extensions["leadwheel"].db.write() as session:
        assert publish(session, find_site(session, browser.form.site_key), "wheel", load(changed), clock()).created
    assert browser.answer({"email": "ada@example.com", "customer_type": "b2b"}).status_code == 201
    with app.extensions["leadwheel"].db.read() as session:
        row = session.scalar(select(Answer).where(Answer.field == "email"))
        assert row is not None and row.sequence_version_id == browser.form.version_id
    assert browser.last["form"]["version"] == 2


def test_a_filled_honeypot_is_refused_and_nothing_is_stored(app: Any, browser: Browser) -> None:
    browser.ask()
    answers = {"email": "bot@example.com", "customer_type": "b2b"}
    error(browser.answer(answers, hp="https://cheap-pills.example"), 422, "suspected_bot")
    assert stored(app) == (0, 0, 0)
    assert browser.answer(answers, hp="").status_code == 201  # people leave it empty
