"""Models per site: each lead is scored by its own site's live model, or the installation default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from capture.db.models import Lead, Site
from capture.qualifying.rescoring import live_models, rescore
from capture.sites.api_tokens import create_token
from capture.sites.publishing import find_site, publish_model
from scoring.document import parse_model
from tests.capture.cli.test_cli import run as run  # noqa: F401  (the fixture)
from tests.capture.conftest import Browser
from tests.capture.qualifying.test_scoring_service import MODEL, become_lead, lead_row, track

#: the B2C shop's own model: buying for oneself is the fit, and a pricing view is worth more
B2C_MODEL: dict[str, Any] = {
    **MODEL,
    "name": "B2C shop",
    "fit": [{"id": "b2c", "label": "Buys for themselves", "field": "customer_type", "equals": "b2c", "points": 30}],
    "engagement": [
        {"id": "pricing", "label": "Pricing page", "event": "page_view", "path": "/pricing*", "points": 20,
         "cap": 40, "half_life_days": 14},
    ],
    "sql_gate": {"min_fit": 20},
}  # fmt: skip


def publish(app: Any, clock: Any, document: dict[str, Any], site_key: str | None = None) -> int:
    with app.extensions["leadwheel"].db.write() as session:
        site = find_site(session, site_key) if site_key is not None else None
        return publish_model(session, parse_model(document), clock(), site).version.id


def test_each_lead_is_scored_by_its_own_sites_model_and_a_site_without_one_by_the_default(
    app: Any, client: Any, publish_form: Any, clock: Any
) -> None:
    shop, agency, plain = publish_form(), publish_form(), publish_form()
    default_id = publish(app, clock, MODEL)
    shop_id = publish(app, clock, B2C_MODEL, shop.site_key)
    agency_id = publish(
        app, clock, {**MODEL, "name": "Agency", "thresholds": {"mql": 15, "sql": 75}, "hysteresis": 2}, agency.site_key
    )

    for form, email in [(shop, "eve@shop.example"), (agency, "bob@agency.example"), (plain, "ada@plain.example")]:
        browser = Browser(client, form, clock)
        become_lead(browser, email=email, kind="b2c")
        track(client, browser, ("page_view", "/pricing"))

    shop_lead, agency_lead, plain_lead = (
        lead_row(app, email) for email in ("eve@shop.example", "bob@agency.example", "ada@plain.example")
    )
    assert shop_lead.scoring_model_id == shop_id
    assert (shop_lead.fit, shop_lead.engagement, shop_lead.stage) == (30, 20, "mql")  # the B2C rules apply
    assert agency_lead.scoring_model_id == agency_id
    assert (agency_lead.fit, agency_lead.engagement, agency_lead.stage) == (0, 10, "engaged")
    assert plain_lead.scoring_model_id == default_id
    assert (plain_lead.fit, plain_lead.engagement, plain_lead.stage) == (0, 10, "engaged")
    with app.extensions["leadwheel"].db.read() as session:
        sites = {site.public_key: site.id for site in session.scalars(select(Site))}
        owners = {email: site_id for email, site_id in session.execute(select(Lead.email, Lead.site_id))}
    assert owners == {
        "eve@shop.example": sites[shop.site_key],
        "bob@agency.example": sites[agency.site_key],
        "ada@plain.example": sites[plain.site_key],
    }

    # a bulk re-score gives every lead its own model too, and a newer default leaves the sites' leads alone
    newer_default = publish(app, clock, {**MODEL, "thresholds": {"mql": 5, "sql": 75}, "hysteresis": 2})
    with app.extensions["leadwheel"].db.read() as session:
        models = live_models(session)
    assert [live.id for _, live in models] == [newer_default, shop_id, agency_id]
    for scope, live in models:
        rescore(app.extensions["leadwheel"].db, live, clock(), scope=scope)
    assert lead_row(app, "ada@plain.example").scoring_model_id == newer_default
    assert lead_row(app, "ada@plain.example").stage == "mql"
    assert lead_row(app, "eve@shop.example").scoring_model_id == shop_id
    assert lead_row(app, "bob@agency.example").scoring_model_id == agency_id


def test_a_lead_answering_another_sites_form_is_still_scored_by_its_own_sites_model(
    app: Any, client: Any, publish_form: Any, clock: Any
) -> None:
    """A shop lead that later answers the agency's form: its score must not flip to the agency's model."""
    shop, agency = publish_form(), publish_form()
    publish(app, clock, MODEL)
    shop_id = publish(app, clock, B2C_MODEL, shop.site_key)
    publish(app, clock, {**MODEL, "name": "Agency"}, agency.site_key)
    become_lead(Browser(client, shop, clock), email="eve@shop.example", kind="b2c")
    assert lead_row(app, "eve@shop.example").scoring_model_id == shop_id

    at_the_agency = Browser(client, agency, clock)
    at_the_agency.ask()
    answered = at_the_agency.answer({"email": "eve@shop.example", "first_name": "Eve", "customer_type": "b2c"})
    assert answered.status_code == 201, answered.get_json()
    lead = lead_row(app, "eve@shop.example")
    assert lead.scoring_model_id == shop_id and lead.fit == 30  # the shop's B2C rule, not the agency's model


def test_events_from_a_back_end_make_the_lead_on_that_site_and_score_it_with_its_model(
    app: Any, client: Any, publish_form: Any, clock: Any
) -> None:
    shop = publish_form()
    publish(app, clock, MODEL)
    shop_id = publish(app, clock, B2C_MODEL, shop.site_key)
    with app.extensions["leadwheel"].db.write() as session:
        _, token = create_token(session, find_site(session, shop.site_key), "ESP", ["events"], clock())
    body = {
        "events": [{"id": "e1", "type": "page_view", "email": "new@shop.example", "url": "https://x.example/pricing"}]
    }
    response = client.post("/api/v1/events", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 202, response.get_json()
    lead = lead_row(app, "new@shop.example")
    assert lead.scoring_model_id == shop_id and lead.engagement == 20


def test_publishing_for_a_site_rescores_only_its_leads(
    run: Any, app: Any, client: Any, publish_form: Any, clock: Any, tmp_path: Path
) -> None:
    shop, plain = publish_form(), publish_form()
    default_file = tmp_path / "default.yaml"
    default_file.write_text(yaml.safe_dump(MODEL), encoding="utf-8")
    assert run("model", "publish", str(default_file)).exit_code == 0
    for form, email in [(shop, "eve@shop.example"), (plain, "ada@plain.example")]:
        browser = Browser(client, form, clock)
        become_lead(browser, email=email, kind="b2c")
        track(client, browser, ("page_view", "/pricing"))
    shop_file = tmp_path / "shop.yaml"
    shop_file.write_text(yaml.safe_dump(B2C_MODEL), encoding="utf-8")

    dry = run("model", "publish", str(shop_file), "--site", shop.site_key, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "1 leads scored (the site's leads); 1 would change stage" in dry.stdout
    assert lead_row(app, "eve@shop.example").stage == "engaged"

    published = run("model", "publish", str(shop_file), "--site", shop.site_key)
    assert published.exit_code == 0, published.output
    assert f"published scoring model version 2 for site {shop.site_key}" in published.stdout
    assert "1 leads scored (the site's leads); 1 changed stage" in published.stdout
    assert lead_row(app, "eve@shop.example").stage == "mql"
    assert lead_row(app, "ada@plain.example").scoring_model_id == 1  # the other site's lead: untouched

    # the default's next version skips the site that has its own model
    stricter = tmp_path / "stricter.yaml"
    stricter.write_text(
        yaml.safe_dump({**MODEL, "thresholds": {"mql": 5, "sql": 75}, "hysteresis": 2}), encoding="utf-8"
    )
    again = run("model", "publish", str(stricter))
    assert "1 leads scored (every lead whose site has no model of its own); 1 changed stage" in again.stdout
    assert lead_row(app, "eve@shop.example").scoring_model_id == 2
    assert lead_row(app, "ada@plain.example").scoring_model_id == 3

    rescored = run("model", "rescore")
    assert rescored.exit_code == 0 and rescored.stdout.count("leads scored") == 2
    exported = yaml.safe_load(run("model", "export", "--site", shop.site_key).stdout)
    assert exported["name"] == "B2C shop"
    assert yaml.safe_load(run("model", "export").stdout)["thresholds"]["mql"] == 5


def test_the_migration_gives_each_lead_the_site_of_its_earliest_answer_and_numbers_queued_hand_offs(
    config: Any,
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from capture.db.engine import make_engine
    from capture.db.migrate import downgrade, upgrade
    from capture.db.models import Answer, Delivery, WebhookEndpoint

    url = config.database_url
    downgrade(url, "7b1d2e9c4f10")
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            first, second = (
                connection.execute(
                    insert(Site.__table__)
                    .values(name=name, public_key=f"site_{name}", allowed_origins=[], created_at=at)
                    .returning(Site.id)
                ).scalar_one()
                for name in ("first", "second")
            )
            leads = [{"id": n, "visit_count": 1, "last_seen_at": at, "created_at": at} for n in (1, 2, 3)]
            connection.execute(insert(Lead.__table__), leads)
            answers = [(10, 1, second, at), (11, 1, first, at + timedelta(days=1)), (12, 2, first, at)]
            connection.execute(
                insert(Answer.__table__),
                [
                    {"id": answer_id, "lead_id": lead_id, "site_id": site_id, "field": "email", "value": "x@y.example",
                     "locale": "en", "asked_at": when, "answered_at": when}
                    for answer_id, lead_id, site_id, when in answers
                ],
            )  # fmt: skip
            endpoint_id = connection.execute(
                insert(WebhookEndpoint.__table__)
                .values(url="https://crm.example/hooks", events=["lead.mql"], secret="whsec_x", created_at=at)
                .returning(WebhookEndpoint.id)
            ).scalar_one()
            connection.execute(
                insert(Delivery.__table__),
                [
                    {"message_id": f"msg_{n}", "endpoint_id": endpoint_id, "lead_id": lead_id, "event_type": "lead.mql",
                     "payload": {}, "status": "pending", "attempts": 0, "next_attempt_at": when, "created_at": when}
                    for n, (lead_id, when) in enumerate([(1, at), (1, at + timedelta(hours=1)), (2, at)])
                ],
            )  # fmt: skip

        upgrade(url)
        with engine.connect() as connection:
            sites = {lead_id: site_id for lead_id, site_id in connection.execute(select(Lead.id, Lead.site_id))}
            numbers = [row.sequence for row in connection.execute(select(Delivery.sequence).order_by(Delivery.id))]
        assert sites == {1: second, 2: first, 3: None}  # lead 3 never answered: no site, the default model
        assert numbers == [1, 2, 1]
        downgrade(url, "7b1d2e9c4f10")
    finally:
        engine.dispose()
        upgrade(url)
