"""A render ticket carries one submission: a replay is refused, a retry of the same one is told the same."""

from __future__ import annotations

from typing import Any

from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from capture.db.models import Answer, UsedTicket
from profiling.identity import TICKET_SALT
from tests.capture.conftest import Browser

BASICS = {"email": "ada@example.com", "first_name": "Ada", "customer_type": "b2b"}


def counted(app: Any, model: Any) -> int:
    with app.extensions["leadwheel"].db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)))


def send(browser: Browser, body: dict[str, Any]) -> Any:
    return browser.client.post(f"{browser.base}/answers", json=body, headers=browser.headers())


def submission(ticket: str, answers: dict[str, Any]) -> dict[str, Any]:
    return {"ticket": ticket, "answers": answers, "skipped": [], "locale": "en", "page_url": "https://www.example.com/"}


def test_a_ticket_used_once_refuses_a_second_different_submission(app: Any, browser: Browser, clock: Any) -> None:
    browser.ask()
    ticket = browser.last["ticket"]
    clock.advance(seconds=3)
    assert send(browser, submission(ticket, BASICS)).status_code == 201
    answers = counted(app, Answer)

    replay = send(browser, submission(ticket, {**BASICS, "first_name": "Eve", "email": "eve@example.com"}))
    assert replay.status_code == 409
    assert replay.get_json()["error"]["code"] == "ticket_used"
    assert counted(app, Answer) == answers  # nothing of the second use was stored


def test_a_retry_of_the_same_submission_gets_the_same_answer_and_stores_nothing_twice(
    app: Any, browser: Browser, clock: Any
) -> None:
    """The visitor's network dropped the first answer: the snippet sends the very same body again."""
    browser.ask()
    body = submission(browser.last["ticket"], BASICS)
    clock.advance(seconds=3)
    first = send(browser, body)
    assert first.status_code == 201
    answers = counted(app, Answer)

    clock.advance(seconds=5)
    retry = send(browser, dict(reversed(list(body.items()))))  # the same submission, keys in another order
    assert retry.status_code == 201
    again, before = retry.get_json(), first.get_json()
    assert again["stored"] == before["stored"] == 3
    assert again["status"] == before["status"] and again["questions"] == before["questions"]
    assert counted(app, Answer) == answers
    assert counted(app, UsedTicket) == 1


def test_a_refused_submission_does_not_spend_the_ticket(app: Any, browser: Browser, clock: Any) -> None:
    """A typo in the e-mail is corrected and sent again with the same ticket: it is stored."""
    browser.ask()
    ticket = browser.last["ticket"]
    clock.advance(seconds=3)
    wrong = send(browser, submission(ticket, {**BASICS, "email": "not an e-mail"}))
    assert wrong.status_code == 422
    assert send(browser, submission(ticket, BASICS)).status_code == 201


def test_a_ticket_minted_before_tickets_had_ids_is_single_use_too(app: Any, browser: Browser, clock: Any) -> None:
    browser.ask()
    key = app.extensions["leadwheel"].config.secret_keys[-1]
    payload = {"v": "b" * 32, "f": browser.form.form_id, "s": browser.form.version_id, "q": ["email"]}
    old = URLSafeSerializer([key], salt=TICKET_SALT).dumps({**payload, "t": clock.now.timestamp()})
    clock.advance(seconds=3)
    assert send(browser, submission(old, {"email": "bo@example.com"})).status_code == 201
    replay = send(browser, submission(old, {"email": "eve@example.com"}))
    assert replay.status_code == 409 and replay.get_json()["error"]["code"] == "ticket_used"


def test_uses_of_expired_tickets_are_forgotten(app: Any, publish_form: Any, client: Any, clock: Any) -> None:
    form = publish_form()
    first = Browser(client, form, clock)
    first.ask()
    assert first.answer(BASICS).status_code == 201
    assert counted(app, UsedTicket) == 1
    clock.advance(hours=3)  # longer than a ticket lives: its use can never be checked again
    later = Browser(client, form, clock)
    later.ask()
    assert later.answer({**BASICS, "email": "bo@example.com"}).status_code == 201
    assert counted(app, UsedTicket) == 1


def test_many_uses_of_one_ticket_store_it_once(app: Any, browser: Browser, clock: Any) -> None:
    """What the attack run did: one ticket sent again and again, each time with other answers."""
    browser.ask()
    ticket = browser.last["ticket"]
    clock.advance(seconds=3)
    codes = [send(browser, submission(ticket, {**BASICS, "email": f"x{n}@example.com"})).status_code for n in range(5)]
    assert codes == [201, 409, 409, 409, 409]
    with app.extensions["leadwheel"].db.read() as session:
        emails = session.scalars(select(Answer.value).where(Answer.field == "email")).all()
    assert emails == ["x0@example.com"]
