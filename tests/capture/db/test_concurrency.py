"""Two tabs (or two browsers) submitting at the same moment lose nothing and make one lead per e-mail."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from capture.db.models import Answer, EmailClaim, Lead
from tests.capture.conftest import Browser

ROUNDS = 8


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together by a barrier; return their results."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_tabs_of_one_visitor_lose_no_answer(app: Any, publish_form: Any, clock: Any) -> None:
    form = publish_form()
    db = app.extensions["leadwheel"].db
    for round_ in range(ROUNDS):
        first = Browser(app.test_client(), form, clock)
        first.ask()
        second = Browser(app.test_client(), form, clock, token=first.token)
        second.ask()  # the same visitor in another tab, with its own ticket
        clock.advance(seconds=3)
        email = f"tab{round_}@example.com"
        in_first = {"email": email, "first_name": f"Tab one {round_}", "customer_type": "b2b"}
        in_second = {"email": email, "customer_type": "b2c"}
        results = at_once(
            lambda first=first, answers=in_first: first.answer(answers, wait=0),
            lambda second=second, answers=in_second: second.answer(answers, wait=0),
        )
        assert [r.status_code for r in results] == [201, 201], [r.get_json() for r in results]
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == ROUNDS
        assert session.scalar(select(func.count()).select_from(Answer)) == 5 * ROUNDS, "every answer kept"
        profiles = session.scalars(select(Lead.profile)).all()
        assert sum(len(profile) for profile in profiles) == 3 * ROUNDS, "every answered field in its lead's profile"


def test_browsers_racing_with_one_new_email_give_it_to_one_lead_and_the_rest_claim_it(
    app: Any, publish_form: Any, clock: Any
) -> None:
    """Separate browsers are separate people until the address is confirmed: exactly one lead gets
    it, every other browser keeps its own lead with a claim, and no answer is lost or doubled."""
    form = publish_form()
    db = app.extensions["leadwheel"].db
    for round_ in range(ROUNDS):
        tabs = [Browser(app.test_client(), form, clock) for _ in range(3)]
        for tab in tabs:
            tab.ask()
        clock.advance(seconds=3)
        email = f"race{round_}@example.com"
        tab_answers = [{"email": email, "first_name": f"Tab {i}", "customer_type": "b2b"} for i in range(len(tabs))]
        results = at_once(
            *[(lambda tab=tab, answers=answers: tab.answer(answers, wait=0)) for tab, answers in zip(tabs, tab_answers)]
        )
        assert [r.status_code for r in results] == [201, 201, 201], [r.get_json() for r in results]
        with db.read() as session:
            owners = session.scalars(select(Lead).where(Lead.email == email)).all()
            assert len(owners) == 1
            claims = session.scalars(select(EmailClaim).where(EmailClaim.email == email)).all()
            assert len(claims) == 2 and owners[0].id not in {claim.lead_id for claim in claims}
            leads = {owners[0].id, *(claim.lead_id for claim in claims)}
            assert len(leads) == 3
            assert session.scalar(select(func.count()).select_from(Answer).where(Answer.lead_id.in_(leads))) == 9, (
                "every tab's three answers are kept, each on its own browser's lead"
            )


def test_event_batches_and_answers_at_once_lose_no_points(app: Any, publish_form: Any, clock: Any) -> None:
    """The kept tally is read, added to and written back: concurrent batches must not overwrite each other."""
    import secrets

    from capture.sites.publishing import publish_model
    from scoring.document import parse_model
    from tests.capture.qualifying.test_scoring_service import MODEL, become_lead, lead_row

    with app.extensions["leadwheel"].db.write() as session:
        publish_model(
            session,
            parse_model(
                {
                    **MODEL,
                    "engagement": [{"id": "seen", "label": "Any page", "event": "page_view", "points": 1, "cap": 100}],
                }
            ),
            clock(),
        )
    form = publish_form()
    browser = Browser(app.test_client(), form, clock)
    become_lead(browser)
    clock.advance(hours=1)  # the next visit asks the next questions
    browser.ask()

    def batch() -> Any:
        events = [{"id": secrets.token_hex(16), "type": "page_view"} for _ in range(3)]
        return app.test_client().post(
            f"/api/v1/sites/{form.site_key}/events",
            json={"visitor": browser.token, "events": events},
            headers={"Origin": form.origin},
        )

    clock.advance(seconds=3)
    results = at_once(
        *[batch for _ in range(6)], lambda: browser.answer({"company_size": "120", "consent": True}, wait=0)
    )
    assert [r.status_code for r in results] == [202] * 6 + [201], [r.get_json() for r in results]
    lead = lead_row(app, "ada@example.com")
    assert lead.engagement == 18  # 6 batches × 3 page views, none lost
    assert lead.fit == 30
