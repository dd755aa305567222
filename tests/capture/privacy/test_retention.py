"""Retention: each site's limits applied by ``leadwheel maintenance``, in batches, idempotently, while serving."""

from __future__ import annotations

import copy
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select, update

from capture.cli.main import main
from capture.db.models import Answer, BehaviourEvent, Delivery, Erasure, Lead, Site
from capture.handoff.endpoints import add_endpoint
from capture.handoff.outbox import enqueue
from capture.privacy.retention import sweep
from tests.capture.conftest import SMALL_WHEEL, Browser
from tests.capture.qualifying.test_scoring_service import track


def _count(app: Any, model: Any, *where: Any) -> int:
    with app.extensions["leadwheel"].db.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _world(app: Any, client: Any, publish_form: Any, clock: Any) -> tuple[Browser, Browser]:
    """A site with a known lead (e-mail) and an anonymous one, both with events and a hand-off."""
    document = copy.deepcopy(SMALL_WHEEL)
    document["stages"][0]["questions"][1]["required"] = False
    form = publish_form(document)
    known, anonymous = Browser(client, form, clock), Browser(client, form, clock)
    known.ask()
    assert known.answer({"email": "kept@example.com", "first_name": "Kept", "customer_type": "b2b"}).status_code == 201
    anonymous.ask()
    assert anonymous.answer({"first_name": "Nameless", "customer_type": "b2c"}).status_code == 201
    track(client, known, ("page_view", "/pricing"))
    track(client, anonymous, ("page_view", "/pricing"))
    db = app.extensions["leadwheel"].db
    db.run(lambda c: add_endpoint(c, "http://127.0.0.1:9/hooks", ["lead.updated"], clock(), ("127.0.0.1",)))
    with db.read() as session:
        kept_id = session.scalars(select(Lead.id).where(Lead.email == "kept@example.com")).one()
    db.run(lambda c: enqueue(c, kept_id, "lead.updated", clock()))
    with db.write() as session:
        session.execute(update(Delivery).values(status="delivered", delivered_at=clock()))
    return known, anonymous


def test_maintenance_deletes_what_is_past_each_limit_and_nothing_else(
    app: Any, client: Any, publish_form: Any, clock: Any
) -> None:
    _world(app, client, publish_form, clock)
    db = app.extensions["leadwheel"].db
    clock.advance(days=100)  # past the 90 days of delivery logs only
    first = sweep(db, clock())
    assert first == {"events": 0, "anonymous_leads": 0, "deliveries": 1}
    assert _count(app, BehaviourEvent) == 2 and _count(app, Lead) == 2

    clock.advance(days=100)  # 200 days: the anonymous lead (180) goes, with its events and answers
    second = sweep(db, clock())
    assert second["anonymous_leads"] == 1
    assert _count(app, Lead, Lead.email.is_(None)) == 0 and _count(app, Lead) == 1
    assert _count(app, Answer, Answer.field == "first_name") == 1 and _count(app, BehaviourEvent) == 1  # Kept's only
    with db.read() as session:
        (record,) = session.scalars(select(Erasure)).all()
    assert record.via == "retention" and record.rows["leads"] == 1

    clock.advance(days=200)  # 400 days: the known lead's events (395) go; the lead stays
    assert sweep(db, clock())["events"] == 1
    assert _count(app, BehaviourEvent) == 0 and _count(app, Lead) == 1
    assert sweep(db, clock()) == {"events": 0, "anonymous_leads": 0, "deliveries": 0}  # idempotent


def test_a_site_without_limits_keeps_everything_and_small_batches_report_progress(
    app: Any, client: Any, publish_form: Any, clock: Any
) -> None:
    _world(app, client, publish_form, clock)
    db = app.extensions["leadwheel"].db
    track_more = Browser(client, publish_form(slug="other"), clock)
    track_more.ask()
    with db.write() as session:
        session.execute(update(Site).where(Site.public_key == track_more.form.site_key).values(keep_events_days=None))
    for _ in range(3):
        track(client, track_more, ("page_view", "/"))
    clock.advance(days=500)
    seen: list[tuple[str, int]] = []

    totals = sweep(db, clock(), lambda kind, _site, so_far: seen.append((kind, so_far)), batch=1)

    assert totals["events"] == 2  # the first site's; the unlimited site keeps its 3
    assert ("events", 1) in seen and ("events", 2) in seen  # one transaction per batch, each reported
    assert _count(app, BehaviourEvent) == 3


def test_the_maintenance_command_prints_progress_and_totals(
    app: Any, client: Any, publish_form: Any, clock: Any, monkeypatch: Any
) -> None:
    _world(app, client, publish_form, clock)
    url = app.extensions["leadwheel"].config.database_url
    result = CliRunner().invoke(main, ["maintenance"], env={"DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert "events 0, anonymous_leads 0, deliveries 0 deleted" in result.output


def test_an_operator_sets_a_sites_limits_and_bad_values_are_refused(
    app: Any, client: Any, publish_form: Any, clock: Any
) -> None:
    form = publish_form()
    env = {"DATABASE_URL": app.extensions["leadwheel"].config.database_url}
    set_ = CliRunner().invoke(
        main, ["site", "retention", form.site_key, "--events", "30", "--deliveries", "forever"], env=env
    )
    assert set_.exit_code == 0, set_.output
    assert set_.output.strip() == "events: 30 days; anonymous leads: 180 days; deliveries: forever"
    bad = CliRunner().invoke(main, ["site", "retention", form.site_key, "--events", "-3"], env=env)
    assert bad.exit_code == 2 and "a number of days" in bad.output
    with app.extensions["leadwheel"].db.read() as session:
        site = session.scalars(select(Site).where(Site.public_key == form.site_key)).one()
    assert (site.keep_events_days, site.keep_anonymous_leads_days, site.keep_deliveries_days) == (30, 180, None)


def test_maintenance_runs_beside_visitors_answering(app: Any, client: Any, publish_form: Any, clock: Any) -> None:
    """Batches are short transactions of their own: visitors answering meanwhile are neither refused nor lost."""
    import threading

    _world(app, client, publish_form, clock)
    db = app.extensions["leadwheel"].db
    clock.advance(days=500)  # everything of the first world is past its time
    form = publish_form(slug="now")
    failures: list[BaseException] = []
    done = threading.Event()

    def sweeping() -> None:
        try:
            while not done.is_set():
                sweep(db, clock(), batch=1)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    sweeper = threading.Thread(target=sweeping)
    sweeper.start()
    try:
        for n in range(12):
            visitor = Browser(app.test_client(), form, clock)
            visitor.ask()
            reply = visitor.answer({"email": f"live{n}@example.com", "first_name": "Live", "customer_type": "b2b"})
            assert reply.status_code == 201, reply.get_json()
    finally:
        done.set()
        sweeper.join(timeout=60)
    assert not sweeper.is_alive() and failures == []
    assert _count(app, Lead, Lead.email.like("live%")) == 12
    assert _count(app, Lead, Lead.email == "kept@example.com") == 1  # a lead with an address is not retention's
