"""The visit simulator: visit after visit as the live wheel and the live model play them, for who may see it."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from capture.db.models import Form
from capture.sites.publishing import find_site, publish, publish_model
from capture.workbench.sequences.simulation import Persona, VisitPlan, simulate
from profiling.document import load
from profiling.wheel import Reason
from scoring.document import parse_model
from tests.capture.conftest import SMALL_WHEEL
from tests.capture.conftest import publish_form as publish_form  # noqa: F401 - the fixture
from tests.capture.qualifying.test_scoring_service import MODEL

NOW = datetime(2026, 12, 5, 9, tzinfo=UTC)


def test_a_persona_walks_the_wheel_and_is_scored_after_each_visit() -> None:
    persona = Persona(
        locale="da",
        known={"customer_type": "b2b"},
        visits=(VisitPlan(), VisitPlan(answers=False, pages=("/pricing",)), VisitPlan(pages=("/pricing",) * 3)),
    )
    visits = simulate(load(SMALL_WHEEL), parse_model(MODEL), persona, NOW)
    first, second, third = visits
    assert [a.question.key for a in first.asked] == ["email", "first_name", "company_size"]
    assert first.asked[0].label == "E-mail" and first.asked[2].label == "Medarbejdere"  # in Danish
    assert [a.question.key for a in second.asked] == ["looking_for", "consent", "budget"]
    assert all(a.answer is None for a in second.asked if a.question.skippable and not a.question.rules.required)
    why = {p.key: p.why for p in third.passed_over}
    assert why["email"].reason is Reason.KNOWN and why["customer_type"].reason is Reason.KNOWN
    assert first.score is not None and third.score is not None and third.score.engagement > first.score.engagement
    assert first.stage is not None and third.stage is not None


def _sign_in_query(app: Any) -> str:
    with app.extensions["leadwheel"].db.read() as session:
        form_id = session.scalars(select(Form.id)).one()
    visits = "&".join(f"visits-{n}-answers=yes&visits-{n}-pages=" for n in range(4))
    return f"/workbench/simulator/?form={form_id}&locale=en&kind=b2b&{visits}"


def test_the_page_shows_each_visit_and_follows_a_republished_order(
    signed_in: Callable[[str | None], Any],
    app: Any,
    publish_form: Any,
    clock: Any,  # noqa: F811
) -> None:
    published = publish_form()
    with app.extensions["leadwheel"].db.write() as session:
        publish_model(session, parse_model(MODEL), clock())
    client = signed_in("viewer")
    url = _sign_in_query(app)
    page = client.get(url).get_data(as_text=True)
    asked = re.findall(r'data-question="([^"]+)"', page)
    assert asked[:3] == ["email", "first_name", "company_size"]
    assert "After this visit: score" in page and "Visit 4" in page

    reordered = copy.deepcopy(SMALL_WHEEL)
    need = reordered["stages"][1]["questions"]
    need[0], need[1] = need[1], need[0]  # "looking for" moved above the company's size
    with app.extensions["leadwheel"].db.write() as session:
        publish(session, find_site(session, published.site_key), "wheel", load(reordered), clock())
    again = re.findall(r'data-question="([^"]+)"', client.get(url).get_data(as_text=True))
    assert again[:3] == ["email", "first_name", "looking_for"]


def test_who_may_see_the_simulator(signed_in: Callable[[str | None], Any]) -> None:
    assert signed_in(None).get("/workbench/simulator/").status_code == 302
    assert signed_in("sales").get("/workbench/simulator/").status_code == 403
    for role in ("viewer", "marketer", "admin"):
        assert signed_in(role).get("/workbench/simulator/").status_code == 200
    assert 'href="/workbench/simulator/"' not in signed_in("sales").get("/workbench/").get_data(as_text=True)


def test_the_simulator_plays_the_draft_before_it_is_published(
    signed_in: Callable[[str | None], Any],
    app: Any,
    publish_form: Any,
    clock: Any,  # noqa: F811
) -> None:
    publish_form()
    marketer = signed_in("marketer")
    url = _sign_in_query(app)
    form_id = int(url.split("form=")[1].split("&")[0])
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', marketer.get(f"/workbench/sequences/{form_id}").get_data(as_text=True)
    )
    assert token is not None
    moved = marketer.post(
        f"/workbench/sequences/{form_id}/questions/looking_for/move",
        data={"csrf_token": token.group(1), "where": "top"},
    )
    assert moved.status_code == 302
    live = re.findall(r'data-question="([^"]+)"', marketer.get(url).get_data(as_text=True))
    draft = re.findall(r'data-question="([^"]+)"', marketer.get(url + "&draft=y").get_data(as_text=True))
    assert live[:3] == ["email", "first_name", "company_size"]
    assert draft[:3] == ["email", "first_name", "looking_for"]
