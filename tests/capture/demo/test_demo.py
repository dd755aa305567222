"""``leadwheel demo``: a site, the example form, the shipped model; a restart keeps what the marketer published."""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select

from capture.cli.main import main
from capture.db.engine import Database
from capture.db.models import Lead, ScoringModelVersion, SequenceVersion, Site
from capture.demo import runner as demo_module
from capture.demo.runner import DEMO_FORM, SHIPPED_NOTE, Live, prepare_demo, ships_over
from capture.qualifying.rescoring import rescore
from capture.qualifying.scores import LiveModel
from capture.services import utc_now
from capture.sites.publishing import published_model
from capture.web.app import create_app
from profiling.document import dump, load
from scoring.document import model_document, parse_model
from tests.capture.conftest import Browser, Published
from tests.conftest import Clock

SITE = "http://127.0.0.1:5001"
#: A marketer's tuning of the shipped model: MQL and SQL only at much higher scores.
TUNED = {"mql": 60, "sql": 95}


def test_the_demo_scores_its_visitors_and_a_second_run_publishes_nothing_new(tmp_path: Path) -> None:
    config, key = prepare_demo(tmp_path, "127.0.0.1", 5001)
    again, same_key = prepare_demo(tmp_path, "127.0.0.1", 5001)
    assert same_key == key and again.secret_keys == config.secret_keys
    db = Database(config.database_url)
    try:
        with db.read() as session:
            counts = [
                session.scalar(select(func.count()).select_from(m))
                for m in (Site, SequenceVersion, ScoringModelVersion)
            ]
        assert counts == [1, 1, 1]

        client = create_app(config).test_client()
        origin = {"Origin": SITE}
        base = f"/api/v1/sites/{key}"
        asked = client.post(f"{base}/forms/{DEMO_FORM}/ask", json={"locale": "en"}, headers=origin).get_json()
        event = {"id": secrets.token_hex(16), "type": "page_view", "url": f"{SITE}/pricing"}
        sent = client.post(f"{base}/events", json={"visitor": asked["visitor"], "events": [event]}, headers=origin)
        assert sent.status_code == 202
        with db.read() as session:
            assert session.scalar(select(func.count()).select_from(Lead)) == 0  # anonymous until an answer
    finally:
        db.dispose()


# --- a visitor walks the demo form ---------------------------------------------------------------


def value_for(question: dict[str, Any], chosen: dict[str, Any]) -> Any:
    """What a visitor would pick for a question as the API shows it: ``chosen`` or a plausible answer."""
    if question["key"] in chosen:
        return chosen[question["key"]]
    kind = question["type"]
    values = [option["value"] for option in question.get("options", [])]
    plain = {"email": "ada@example.com", "number": 40, "checkbox": True, "consent": True, "multi-select": values[:1]}
    return plain.get(kind, values[0] if values else "Ada")


def walk_the_demo(demo: Demo, locale: str, chosen: dict[str, Any]) -> tuple[list[list[str]], dict[str, Any]]:
    """Answer every question the demo form asks, one visit an hour, until it has nothing left to ask."""
    clock = Clock(now=utc_now() - timedelta(days=1))
    browser = demo.visitor(clock)
    browser.locale = locale
    visits: list[list[str]] = []
    for _ in range(12):
        asked = browser.ask()
        if not asked["questions"]:
            return visits, asked
        visits.append(browser.asked_keys())
        answers = {q["key"]: value_for(q, chosen) for q in asked["questions"]}
        assert browser.answer(answers).status_code == 201, browser.last
        clock.advance(hours=1)
    raise AssertionError(f"the demo form kept asking: {visits}")


def test_a_business_visitor_walks_the_b2b_path_a_few_questions_a_visit(demo: Demo) -> None:
    visits, last = walk_the_demo(demo, "da", {"customer_type": "b2b", "buying_timeline": "3m", "demo_request": True})
    asked = [key for visit in visits for key in visit]
    assert visits[0] == ["email", "first_name", "customer_type"]
    assert all(len(visit) <= 3 for visit in visits)
    assert {"company_name", "job_title", "company_size", "challenges", "switching_supplier"} <= set(asked)
    assert {"budget_range", "buying_timeline", "decision_role", "demo_request"} <= set(asked)
    assert not {"existing_customer", "bought_before", "looking_for", "purchase_timeline", "offer_request"} & set(asked)
    assert last["status"] == "complete" and last["thank_you"].startswith("Tak!")
    [(email, _, scored_by)] = demo.leads()
    assert email == "ada@example.com" and scored_by == demo.live_model().id, "scored by the shipped model"


def test_a_household_visitor_walks_the_b2c_path(demo: Demo) -> None:
    visits, last = walk_the_demo(demo, "ro", {"customer_type": "b2c", "existing_customer": "no"})
    asked = [key for visit in visits for key in visit]
    assert {"existing_customer", "bought_before", "looking_for", "purchase_timeline", "offer_request"} <= set(asked)
    assert not {"company_name", "job_title", "company_size", "budget_range", "decision_role", "demo_request"} & set(
        asked
    )
    assert last["status"] == "complete" and last["thank_you"].startswith("Mulțumim!")


# --- restarting keeps what the marketer published -----------------------------------------------


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """A prepared demo folder, with a way to restart it, to make leads and to run the CLI on it."""
    prepared = Demo(tmp_path)
    yield prepared
    prepared.db.dispose()


class Demo:
    def __init__(self, data: Path) -> None:
        self.data = data
        self.config, self.site_key = prepare_demo(data, "127.0.0.1", 5001)
        self.said: list[str] = []
        self.db = Database(self.config.database_url)

    def restart(self) -> None:
        self.said.clear()
        config, key = prepare_demo(self.data, "127.0.0.1", 5001, say=self.said.append)
        assert key == self.site_key and config == self.config

    def visitor(self, clock: Clock) -> Browser:
        config = dataclasses.replace(self.config, ratelimit_enabled=False)
        form = Published(self.site_key, DEMO_FORM, form_id=0, version_id=0, origin=SITE)
        return Browser(create_app(config, clock=clock).test_client(), form, clock, origin=SITE)

    def make_b2b_lead(self, email: str) -> None:
        """A business visitor who says who they are on two visits and looks at the pricing page twice."""
        clock = Clock(now=utc_now() - timedelta(hours=2))
        browser = self.visitor(clock)
        browser.ask()
        assert browser.answer({"email": email, "first_name": "Ada", "customer_type": "b2b"}).status_code == 201
        clock.advance(hours=1)  # the next visit: the wheel asks a few questions per visit
        browser.ask()
        assert browser.asked_keys() == ["company_name", "job_title", "company_size"]
        answers = {"company_name": "Acme", "job_title": "CEO", "company_size": 200}
        assert browser.answer(answers).status_code == 201
        events = [
            {"id": secrets.token_hex(16), "type": "page_view", "url": f"{SITE}/pricing"},
            {"id": secrets.token_hex(16), "type": "page_view", "url": f"{SITE}/pricing/offices"},
        ]
        sent = browser.client.post(
            f"/api/v1/sites/{self.site_key}/events",
            json={"visitor": browser.token, "events": events},
            headers={"Origin": SITE},
        )
        assert sent.status_code == 202, sent.get_json()

    def cli(self, *args: str, monkeypatch: pytest.MonkeyPatch) -> Any:
        monkeypatch.setenv("DATABASE_URL", self.config.database_url)
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    def live_model(self) -> ScoringModelVersion:
        with self.db.read() as session:
            row = published_model(session)
            session.expunge(row)
            return row

    def leads(self) -> list[tuple[str, str | None, int | None]]:
        with self.db.read() as session:
            return [tuple(row) for row in session.execute(select(Lead.email, Lead.stage, Lead.scoring_model_id))]  # type: ignore[misc]

    def moves_under_live_model(self) -> int:
        """How many leads the live model would move to another stage: none, when stages match it."""
        row = self.live_model()
        live = LiveModel(id=row.id, version=row.version, model=parse_model(row.document))
        return rescore(self.db, live, utc_now(), dry_run=True).moved

    def live_sequence(self) -> tuple[int, dict[str, Any]]:
        with self.db.read() as session:
            row = session.scalars(select(SequenceVersion).order_by(SequenceVersion.version.desc())).first()
            assert row is not None
            return row.version, row.document


def stricter_model() -> dict[str, Any]:
    """The shipped model as a marketer might tune it."""
    shipped = model_document(demo_module.shipped_model())
    return {**shipped, "name": "Northwind, tuned by marketing", "thresholds": {**shipped["thresholds"], **TUNED}}


def test_a_restart_keeps_the_model_the_marketer_published_and_the_stages_it_gives(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo.make_b2b_lead("ada@acme.example")
    shipped = demo.live_model()
    marketers = tmp_path / "tuned.yaml"
    marketers.write_text(yaml.safe_dump(stricter_model(), allow_unicode=True), encoding="utf-8")
    published = demo.cli("model", "publish", str(marketers), monkeypatch=monkeypatch)
    assert "published scoring model version 2" in published.output
    tuned = demo.live_model()
    assert tuned.id != shipped.id

    demo.restart()

    assert demo.live_model().id == tuned.id, "the marketer's model is still the live one"
    assert [lead[2] for lead in demo.leads()] == [tuned.id]
    assert demo.moves_under_live_model() == 0, "every lead has the stage the live model gives it"
    assert any("kept scoring model version 2" in line for line in demo.said)
    shown = demo.cli("lead", "show", "ada@acme.example", monkeypatch=monkeypatch).output
    assert "model version 2" in shown


def test_a_new_shipped_model_replaces_the_demos_own_and_every_lead_is_rescored(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo.make_b2b_lead("ada@acme.example")
    first = demo.live_model()
    tuned = parse_model(stricter_model())
    monkeypatch.setattr(demo_module, "shipped_model", lambda: tuned)

    demo.restart()

    newer = demo.live_model()
    assert newer.version == first.version + 1 and newer.document["thresholds"].items() >= TUNED.items()
    assert [lead[2] for lead in demo.leads()] == [newer.id], "the lead was re-scored with the new model"
    assert demo.moves_under_live_model() == 0
    assert any("re-scored 1 lead with it" in line for line in demo.said)
    assert json.loads((demo.data / SHIPPED_NOTE).read_text(encoding="utf-8"))["model"] == newer.checksum


def test_a_restart_keeps_the_sequence_the_marketer_published(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, shipped = demo.live_sequence()
    edited = {**shipped, "settings": {**shipped["settings"], "questions_per_visit": 2}}
    path = tmp_path / "wheel.yaml"
    path.write_text(yaml.safe_dump(edited, allow_unicode=True), encoding="utf-8")
    demo.cli("sequence", "import", str(path), "--form", DEMO_FORM, "--site", demo.site_key, monkeypatch=monkeypatch)

    demo.restart()
    version, live = demo.live_sequence()
    assert version == 2 and live["settings"]["questions_per_visit"] == 2
    assert any(f"kept form '{DEMO_FORM}' version 2" in line for line in demo.said)

    # Even a newer shipped example does not replace the marketer's version.
    newer = {**shipped, "name": "Northwind demo, next release"}
    monkeypatch.setattr(demo_module, "shipped_sequence", lambda: load(newer))
    demo.restart()
    assert demo.live_sequence()[0] == 2


def test_a_new_shipped_sequence_replaces_the_demos_own(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    _, shipped = demo.live_sequence()
    newer = {**shipped, "name": "Northwind demo, next release"}
    monkeypatch.setattr(demo_module, "shipped_sequence", lambda: load(newer))
    demo.restart()
    version, live = demo.live_sequence()
    assert version == 2 and live["name"] == "Northwind demo, next release"


@pytest.mark.parametrize(
    ("live", "last_shipped", "publishes"),
    [
        (None, None, True),  # nothing live yet
        (Live("shipped", 4), "older", False),  # already live: nothing new to publish
        (Live("older", 3), "older", True),  # the demo's own earlier one, and the shipped one changed
        (Live("marketers", 4), "older", False),  # published by a person after the demo's own
        (Live("older", 1), None, True),  # a folder from before the note: version 1 was the demo's
        (Live("marketers", 2), None, False),  # ... and a later version was a person's
    ],
)
def test_the_demo_publishes_only_over_its_own_versions(
    live: Live | None, last_shipped: str | None, publishes: bool
) -> None:
    assert ships_over(live, "shipped", last_shipped) is publishes


def test_the_demo_form_is_the_example_sequence(demo: Demo) -> None:
    _, live = demo.live_sequence()
    assert live == dump(demo_module.shipped_sequence())


def test_the_demo_fills_its_workbench_with_leads_made_through_the_public_api(tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from capture.db.engine import Database
    from capture.db.models import Answer, BehaviourEvent, Lead, ScoreChange
    from capture.demo.synthetic import seed_leads

    config, key = prepare_demo(tmp_path, "127.0.0.1", 5001)
    made = seed_leads(config, key, DEMO_FORM, count=40)
    assert made == 40
    db = Database(config.database_url)
    try:
        with db.read() as session:
            leads = session.scalars(select(Lead)).all()
            stages = {lead.stage for lead in leads}
            answers = session.scalar(select(func.count()).select_from(Answer))
            events = session.scalar(select(func.count()).select_from(BehaviourEvent))
            changes = session.scalar(select(func.count()).select_from(ScoreChange))
            sources = set(session.scalars(select(Answer.source)))
    finally:
        db.dispose()
    assert len(leads) == 40 and sum(1 for lead in leads if lead.email) >= 30
    assert len(stages) >= 2 and answers and answers > 100 and events and changes  # scored as visitors are
    assert sources == {"form"}  # every answer came through the form's own route
    assert len({lead.last_seen_at.date() for lead in leads}) > 5  # spread over the past weeks
    assert seed_leads(config, key, DEMO_FORM, count=40) == 0  # a restart makes no more
