"""Pacing through the public API: a visit asks questions_per_visit questions in all, then thanks the visitor.

Reloads, a second browser of the same lead and merges keep the visit's quota; the next visit (after the
visit gap) asks the next batch; "Tell us more now" asks more only where the sequence offers it, and
answers given that way say so in their provenance. Progress names the stage of the questions on screen.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import event, select

from capture.db.models import Answer
from tests.capture.conftest import SMALL_WHEEL, Browser, site_user_hash

FIRST_BATCH = {"email": "ada@example.com", "first_name": "Ada", "customer_type": "b2b"}


def vouch(app: Any, browser: Browser, email: str = "ada@example.com") -> None:
    """The host page's login vouches for the address this browser gave (``identify`` with ``user_hash``)."""
    assert browser.identify(email, user_hash=site_user_hash(app, browser.form.site_key, email)).status_code == 200


THANKS = "Thanks, we know all we need."


def wheel(**settings: Any) -> dict[str, Any]:
    document = copy.deepcopy(SMALL_WHEEL)
    document["settings"].update(settings)
    return document


def gap(app: Any) -> float:
    """The visit gap of the app under test, in hours."""
    return float(app.extensions["leadwheel"].visits.visit_gap.total_seconds()) / 3600


def ask_more(browser: Browser) -> dict[str, Any]:
    """What the snippet sends when the visitor presses "Tell us more now"."""
    response = browser.client.post(
        f"{browser.base}/ask",
        json={"visitor": browser.token, "locale": browser.locale, "more": True},
        headers=browser.headers(),
    )
    assert response.status_code == 200, response.get_json()
    browser.last = response.get_json()
    browser.token = browser.last["visitor"]
    return browser.last


def assert_paused(body: dict[str, Any], more: bool = False) -> None:
    assert body["status"] == "paused", body
    assert body["questions"] == [] and body["ticket"] is None
    assert body["thank_you"] == THANKS
    assert body["more"] is more


def stored(app: Any) -> list[Answer]:
    with app.extensions["leadwheel"].db.read() as session:
        return list(session.scalars(select(Answer).order_by(Answer.id)))


def test_answering_the_first_batch_thanks_the_visitor_and_a_reload_does_too(browser: Browser) -> None:
    browser.ask()
    response = browser.answer(FIRST_BATCH)
    assert response.status_code == 201, response.get_json()
    assert_paused(response.get_json())
    browser.clock.advance(minutes=5)
    assert_paused(browser.ask())
    assert_paused(ask_more(browser))  # no more_on_request in this sequence: the quota holds


def test_snoozed_and_blank_questions_use_the_quota_too(browser: Browser) -> None:
    browser.ask()
    # first_name left blank (optional), customer_type... answered; e-mail "not now"
    response = browser.answer({"customer_type": "b2c"}, skipped=["email"])
    assert response.status_code == 201, response.get_json()
    assert_paused(response.get_json())
    assert_paused(browser.ask())


def test_the_next_visit_after_the_gap_asks_the_next_batch(app: Any, browser: Browser) -> None:
    browser.ask()
    browser.answer(FIRST_BATCH)
    browser.clock.advance(hours=gap(app) / 2)  # still the same visit
    assert_paused(browser.ask())
    browser.clock.advance(hours=gap(app) + 0.1)
    body = browser.ask()
    assert body["status"] == "asking" and browser.asked_keys() == ["company_size", "looking_for", "consent"]
    assert body["more"] is False and "thank_you" not in body


def test_a_second_tab_cannot_ask_more_than_the_visit_has_left(browser: Browser, client: Any) -> None:
    browser.ask()
    tab = Browser(client, browser.form, browser.clock, token=browser.token)
    tab.ask()
    # the first tab answers two of three; the other tab's old ticket still names all three
    assert browser.answer({"email": "ada@example.com", "customer_type": "b2b"}).status_code == 201
    assert_paused(browser.last)  # first_name was shown and submitted (blank): the quota is used
    # an open ticket may still be answered, and then the visit is still over
    response = tab.answer({"first_name": "Ada", "customer_type": "b2b"}, skipped=["email"])
    assert response.status_code == 201
    assert_paused(response.get_json())


def test_another_browser_of_the_same_lead_in_the_same_visit_is_paused(app: Any, client: Any, browser: Browser) -> None:
    browser.ask()
    browser.answer(FIRST_BATCH)
    vouch(app, browser)
    phone = Browser(client, browser.form, browser.clock)
    response = phone.identify(
        "ADA@example.com", user_hash=site_user_hash(app, browser.form.site_key, "ada@example.com")
    )
    assert response.status_code == 200, response.get_json()
    assert_paused(phone.ask())
    phone.clock.advance(hours=gap(app) + 0.1)
    phone.ask()
    assert phone.asked_keys() == ["company_size", "looking_for", "consent"]


def test_a_second_browser_joins_the_visit_it_was_in_once_its_email_is_confirmed(
    app: Any, client: Any, browser: Browser
) -> None:
    """The second browser had no lead, so its first form was the plain first batch, and its typed
    e-mail only claims Ada's address; once the site vouches for it, the visit's quota of both counts."""
    browser.ask()
    browser.answer(FIRST_BATCH)
    vouch(app, browser)
    laptop = Browser(client, browser.form, browser.clock)
    laptop.ask()
    assert laptop.asked_keys() == ["email", "first_name", "customer_type"]
    response = laptop.answer({"email": "ada@example.com", "customer_type": "b2b"})
    assert response.status_code == 201, response.get_json()
    assert_paused(response.get_json())  # its own batch spent its own quota
    signed = site_user_hash(app, browser.form.site_key, "ada@example.com")
    assert laptop.identify("ada@example.com", user_hash=signed).status_code == 200
    assert_paused(laptop.ask())  # one person, one visit
    laptop.clock.advance(hours=gap(app) + 0.1)
    laptop.ask()
    assert laptop.asked_keys() == ["company_size", "looking_for", "consent"]


def test_a_merge_mid_visit_keeps_what_this_visit_has_shown(
    app: Any, client: Any, publish_form: Any, clock: Any
) -> None:
    """Office answered yesterday; today at home (another lead, no e-mail given) a batch was asked. When
    the home browser is identified, the leads merge: today's batch still counts for today, yesterday's not."""
    form = publish_form()
    office = Browser(client, form, clock)
    office.ask()
    office.answer(FIRST_BATCH)
    vouch(app, office)
    clock.advance(days=1)
    home = Browser(client, form, clock)
    home.ask()
    assert home.answer({"first_name": "Ada", "customer_type": "b2b"}, skipped=["email"]).status_code == 201
    assert_paused(home.last)
    response = home.identify("ada@example.com", user_hash=site_user_hash(app, form.site_key, "ada@example.com"))
    assert response.status_code == 200, response.get_json()
    assert_paused(home.ask())
    clock.advance(hours=gap(app) + 0.1)
    home.ask()
    assert home.asked_keys() == ["company_size", "looking_for", "consent"]


def test_more_on_request_asks_the_next_batch_and_marks_its_answers(
    app: Any, client: Any, publish_form: Any, clock: Any
) -> None:
    browser = Browser(client, publish_form(wheel(more_on_request=True)), clock)
    browser.ask()
    browser.answer(FIRST_BATCH)
    assert_paused(browser.last, more=True)
    assert_paused(browser.ask(), more=True)  # a reload offers it again
    body = ask_more(browser)
    assert body["status"] == "asking" and body["more"] is False
    assert browser.asked_keys() == ["company_size", "looking_for", "consent"]
    response = browser.answer({"company_size": 120, "looking_for": ["reports"]}, skipped=["consent"])
    assert response.status_code == 201, response.get_json()
    assert_paused(response.get_json(), more=True)  # the budget and the rest are still open
    assert ask_more(browser)["status"] == "asking"
    assert len(browser.asked_keys()) == 3, "more is one batch of at most questions_per_visit"

    by_key = {a.question_key: a.on_request for a in stored(app)}
    assert by_key == {
        "email": False, "first_name": False, "customer_type": False,
        "company_size": True, "looking_for": True, "consent": True,
    }  # fmt: skip


def test_progress_names_the_stage_of_the_questions_on_screen(app: Any, browser: Browser) -> None:
    """A snoozed first name leaves Basics not done; the need questions on screen are still Step 2: Need."""
    browser.ask()
    assert (
        browser.answer({"email": "ada@example.com", "customer_type": "b2b"}, skipped=["first_name"]).status_code == 201
    )
    browser.clock.advance(hours=gap(app) + 0.1)
    body = browser.ask()
    assert browser.asked_keys() == ["company_size", "looking_for", "consent"]
    assert body["progress"]["stage"] == "need" and body["progress"]["step"] == 2


def test_steps_count_only_the_stages_that_apply(client: Any, publish_form: Any, clock: Any) -> None:
    """A B2C visitor never sees the company stage, so it is no step: 'Step 2 of 5', never 'Step 3 of 6'."""
    document = copy.deepcopy(SMALL_WHEEL)
    need = document["stages"][1]
    company = [q for q in need["questions"] if q["key"] == "company_size"]
    need["questions"] = [q for q in need["questions"] if q["key"] != "company_size"]
    document["stages"].insert(1, {"key": "company", "label": {"en": "Your company"}, "questions": company})
    browser = Browser(client, publish_form(document), clock)
    first = browser.ask()
    assert first["progress"]["steps"] == 5, "the company stage waits for the customer type: no step yet"
    browser.answer({"email": "bo@example.dk", "first_name": "Bo", "customer_type": "b2c"})
    clock.advance(hours=2)
    body = browser.ask()
    assert browser.asked_keys() == ["looking_for", "consent", "budget"]
    progress = body["progress"]
    assert (progress["step"], progress["steps"], progress["stage"]) == (2, 5, "need")
    assert [stage["key"] for stage in progress["stages"]] == ["basics", "need", "budget", "timeline", "authority"]


def test_an_ask_inside_a_visit_is_still_one_read(app: Any, browser: Browser) -> None:
    """The quota is read with the profile: a reload costs the one statement it cost before."""
    browser.ask()
    browser.answer(FIRST_BATCH)
    statements: list[str] = []

    def core(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = app.extensions["leadwheel"].db.engine
    event.listen(engine, "before_cursor_execute", core)
    try:
        browser.clock.advance(minutes=5)
        assert_paused(browser.ask())
    finally:
        event.remove(engine, "before_cursor_execute", core)
    # the catalog (sites, forms, published versions) is cached per process; the tests' cache expires at once
    catalog = ("FROM sites", "FROM forms", "FROM sequence_versions", "FROM scoring_models")
    lead_statements = [s for s in statements if not any(table in s for table in catalog)]
    assert len(lead_statements) == 1 and lead_statements[0].lstrip().upper().startswith(("SELECT", "(")), statements
