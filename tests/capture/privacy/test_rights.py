"""A person's rights: everything about them exported as one document, and erased so that no trace is left.

Each test plays the person (a browser answering and browsing), the site's back end (a token with
the ``privacy`` scope) or the operator (``leadwheel lead export|erase``), and looks for the
person's data where an auditor would: in every live row, and on SQLite in the raw files.
"""

from __future__ import annotations

import copy
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from capture.cli.main import main
from capture.db.models import Base, Delivery, Erasure, Lead, Site
from capture.handoff.endpoints import add_endpoint
from capture.handoff.outbox import enqueue
from capture.privacy.person import NOT_PERSONAL, WHERE
from capture.sites.api_tokens import create_token
from tests.capture.conftest import SMALL_WHEEL, Browser
from tests.capture.handoff.test_handoff import SCHEMA
from tests.capture.qualifying.test_scoring_service import track

#: values no other row would hold by chance, so finding one anywhere means it was not erased
EMAIL = "quillon.erasable@example.com"
NAME = "Quillonette"


def _site_id(app: Any, browser: Browser) -> int:
    with app.extensions["leadwheel"].db.read() as session:
        return session.scalars(select(Site.id).where(Site.public_key == browser.form.site_key)).one()


def _token(app: Any, site_id: int, clock: Any, *scopes: str) -> dict[str, str]:
    with app.extensions["leadwheel"].db.write() as session:
        _row, secret = create_token(session, session.get(Site, site_id), "DPO", list(scopes or ("privacy",)), clock())
    return {"Authorization": f"Bearer {secret}"}


def _person_with_everything(app: Any, client: Any, browser: Browser, clock: Any) -> int:
    """A lead that answered, browsed, and was handed to a CRM: data in most tables."""
    browser.ask()
    assert browser.answer({"email": EMAIL, "first_name": NAME, "customer_type": "b2b"}).status_code == 201
    track(client, browser, ("page_view", "/pricing"), ("download", "/whitepaper.pdf"))
    db = app.extensions["leadwheel"].db
    with db.read() as session:
        lead_id = session.scalars(select(Lead.id).where(Lead.email == EMAIL)).one()
    db.run(lambda c: add_endpoint(c, "http://127.0.0.1:9/hooks", ["lead.sql"], clock(), ("127.0.0.1",)))
    db.run(lambda c: enqueue(c, lead_id, "lead.sql", clock()))
    return lead_id


def _live_rows_holding(db_url: str, *needles: str) -> list[str]:
    """Every table and row (as text) that still holds one of ``needles``, across the whole schema."""
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    found = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                line = json.dumps([str(value) for value in row], ensure_ascii=False).lower()
                found += [f"{table.name}: {line}" for needle in needles if needle.lower() in line]
    engine.dispose()
    return found


def test_every_table_is_either_a_persons_or_said_why_not() -> None:
    """A new table must be placed: erased with the person (and exported), or listed with a reason."""
    tables = set(Base.metadata.tables)
    assert set(WHERE) | set(NOT_PERSONAL) == tables
    assert not set(WHERE) & set(NOT_PERSONAL)


def test_a_back_end_exports_everything_about_a_person(app: Any, client: Any, browser: Browser, clock: Any) -> None:
    lead_id = _person_with_everything(app, client, browser, clock)
    headers = _token(app, _site_id(app, browser), clock)

    response = client.post("/api/v1/leads/export", json={"email": EMAIL.upper()}, headers=headers)

    assert response.status_code == 200, response.get_json()
    document = response.get_json()
    assert document["person"]["lead_ids"] == [lead_id] and document["person"]["emails"] == [EMAIL]
    name = document["profile"]["first_name"]
    assert name["value"] == NAME and name["form"] == "wheel" and name["sequence_version"] == 1
    assert name["page_url"] == "https://www.example.com/pricing" and name["locale"] == "en"
    tables = document["tables"]
    assert {a["field"] for a in tables["answers"]} >= {"email", "first_name", "customer_type"}
    assert [e["type"] for e in tables["events"]] == ["page_view", "download"]
    assert tables["leads"][0]["stage"] and "explanation" in tables["leads"][0]
    (delivery,) = tables["deliveries"]
    assert delivery["event_type"] == "lead.sql" and delivery["payload"]["data"]["lead"]["email"] == EMAIL
    assert tables["visitors"] and all(v["lead_id"] == lead_id for v in tables["visitors"])


def test_export_and_erase_refuse_what_a_token_may_not_see(app: Any, client: Any, browser: Browser, clock: Any) -> None:
    _person_with_everything(app, client, browser, clock)
    site_id = _site_id(app, browser)
    with app.extensions["leadwheel"].db.write() as session:
        other = Site(name="Other", public_key="site_other", allowed_origins=[], identity_secret="x" * 32)
        other.created_at = clock()
        session.add(other)
        session.flush()
        other_id = other.id
    elsewhere = _token(app, other_id, clock)
    sales_only = _token(app, site_id, clock, "sales")
    mine = _token(app, site_id, clock)

    assert client.post("/api/v1/leads/export", json={"email": EMAIL}).status_code == 401
    assert client.post("/api/v1/leads/export", json={"email": EMAIL}, headers=sales_only).status_code == 403
    refused = client.post("/api/v1/leads/erase", json={"email": EMAIL}, headers=elsewhere)
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "lead_not_found"
    for body in ({}, {"email": EMAIL, "lead_id": 1}, {"lead_id": "1"}, {"email": 5}):
        bad = client.post("/api/v1/leads/erase", json=body, headers=mine)
        assert bad.status_code in (400, 422) and bad.get_json()["error"]["code"] == "invalid_body", body
    assert _live_rows_holding(_url(app), EMAIL)  # nothing was erased


def _url(app: Any) -> str:
    return str(app.extensions["leadwheel"].config.database_url)


def test_erasure_leaves_the_person_in_no_row_and_tells_the_crm(
    app: Any, client: Any, browser: Browser, clock: Any
) -> None:
    lead_id = _person_with_everything(app, client, browser, clock)
    other = Browser(client, browser.form, clock)  # someone else, who must keep everything
    other.ask()
    assert (
        other.answer({"email": "keep.me@example.com", "first_name": "Keeper", "customer_type": "b2c"}).status_code
        == 201
    )
    headers = _token(app, _site_id(app, browser), clock)

    response = client.post("/api/v1/leads/erase", json={"lead_id": lead_id}, headers=headers)

    assert response.status_code == 200, response.get_json()
    erasure = response.get_json()["erasure"]
    assert erasure["rows"]["leads"] == 1 and erasure["rows"]["answers"] >= 3 and erasure["rows"]["events"] == 2
    assert erasure["webhooks"] == 1
    assert _live_rows_holding(_url(app), EMAIL, NAME) == []
    assert _live_rows_holding(_url(app), "keep.me@example.com", "Keeper")
    db = app.extensions["leadwheel"].db
    with db.read() as session:
        (message,) = session.scalars(select(Delivery).where(Delivery.event_type == "lead.erased")).all()
        audit = session.get(Erasure, erasure["id"])
    assert message.lead_id is None and message.status == "pending"
    assert message.payload["data"] == {
        "lead": {"id": lead_id, "merged_ids": []},
        "erasure": {"id": erasure["id"], "at": erasure["at"]},
    }
    jsonschema.validate(message.payload, SCHEMA)  # the documented payload
    assert audit is not None and audit.via == "api" and audit.rows == erasure["rows"]
    # the person is gone: asking again finds no one, and their browser starts afresh
    again = client.post("/api/v1/leads/erase", json={"lead_id": lead_id}, headers=headers)
    assert again.status_code == 404
    assert browser.ask()["questions"][0]["key"] == "email"


def test_a_person_known_only_by_their_browser_can_export_and_erase(
    app: Any, client: Any, publish_form: Any, clock: Any
) -> None:
    document = copy.deepcopy(SMALL_WHEEL)
    document["stages"][0]["questions"][1]["required"] = False  # the e-mail address may be left out
    browser = Browser(client, publish_form(document), clock)
    browser.ask()
    assert browser.answer({"first_name": NAME, "customer_type": "b2c"}).status_code == 201
    track(client, browser, ("page_view", "/pricing"))
    headers = _token(app, _site_id(app, browser), clock)

    exported = client.post("/api/v1/leads/export", json={"visitor": browser.token}, headers=headers)
    assert exported.status_code == 200 and exported.get_json()["profile"]["first_name"]["value"] == NAME
    erased = client.post("/api/v1/leads/erase", json={"visitor": browser.token}, headers=headers)
    assert erased.status_code == 200 and erased.get_json()["erasure"]["rows"]["events"] == 1
    assert _live_rows_holding(_url(app), NAME) == []
    forged = client.post("/api/v1/leads/export", json={"visitor": browser.token + "x"}, headers=headers)
    assert forged.status_code == 404


def test_erasing_an_address_takes_the_browsers_that_only_claimed_it(
    app: Any, client: Any, browser: Browser, clock: Any
) -> None:
    """Typed in a second browser the address is only a claim, kept on that browser's own lead; erasing
    the address must not leave it there."""
    _person_with_everything(app, client, browser, clock)
    second = Browser(client, browser.form, clock)
    second.ask()
    assert second.answer({"email": EMAIL, "first_name": "Claimant", "customer_type": "b2b"}).status_code == 201
    assert _live_rows_holding(_url(app), "Claimant")

    result = CliRunner().invoke(main, ["lead", "erase", EMAIL, "--yes"], env={"DATABASE_URL": _url(app)})

    assert result.exit_code == 0, result.output
    assert "erased (erasure " in result.output
    assert _live_rows_holding(_url(app), EMAIL, NAME, "Claimant") == []


def test_the_cli_exports_by_id_and_says_so_when_no_one_matches(
    app: Any, client: Any, browser: Browser, clock: Any
) -> None:
    lead_id = _person_with_everything(app, client, browser, clock)
    env = {"DATABASE_URL": _url(app)}

    exported = CliRunner().invoke(main, ["lead", "export", str(lead_id)], env=env)
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output)["profile"]["email"]["value"] == EMAIL

    missing = CliRunner().invoke(main, ["lead", "erase", "nobody@example.com", "--yes"], env=env)
    assert missing.exit_code == 1 and "no lead has that e-mail" in missing.output
    unconfirmed = CliRunner().invoke(main, ["lead", "erase", EMAIL], input="n\n", env=env)
    assert unconfirmed.exit_code == 1 and _live_rows_holding(_url(app), EMAIL)


def _found_on_disk(path: Path, *needles: bytes) -> list[bytes]:
    """The needles a file's raw bytes hold, read by another process.

    Not by this one: closing any handle on a SQLite file drops every POSIX lock this process holds
    on it, the service's own connections' included, and that corrupts the database.
    """
    script = (
        "import sys; raw = open(sys.argv[1], 'rb').read(); print(*(n for n in sys.argv[2:] if bytes.fromhex(n) in raw))"
    )
    run = [sys.executable, "-c", script, str(path), *(n.hex() for n in needles)]
    found = subprocess.run(run, capture_output=True, text=True, check=True).stdout.split()
    return [n for n in needles if n.hex() in found]


def test_the_erased_bytes_are_in_no_file_and_no_live_row(app: Any, client: Any, browser: Browser, clock: Any) -> None:
    """On SQLite, free pages and the write-ahead log included: what an erasure deleted cannot be read back
    from disk. On PostgreSQL (whose files a vacuum reclaims later), no live row holds it."""
    url = _url(app)
    _person_with_everything(app, client, browser, clock)
    files = [Path(url.removeprefix("sqlite:///") + suffix) for suffix in ("", "-wal", "-shm")]
    on_disk = url.startswith("sqlite")
    needles = (EMAIL.encode(), NAME.encode(), EMAIL.encode("utf-16-le"))
    if on_disk:
        assert any(_found_on_disk(f, EMAIL.encode()) for f in files if f.exists())  # the check can see it

    headers = _token(app, _site_id(app, browser), clock)
    assert client.post("/api/v1/leads/erase", json={"email": EMAIL}, headers=headers).status_code == 200

    assert _live_rows_holding(url, EMAIL, NAME) == []
    for f in files if on_disk else []:
        if f.exists():
            assert _found_on_disk(f, *needles) == [], f.name


def test_answering_exporting_and_erasing_log_nothing_of_the_person(
    app: Any, client: Any, browser: Browser, clock: Any, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    _person_with_everything(app, client, browser, clock)
    headers = _token(app, _site_id(app, browser), clock)
    assert client.post("/api/v1/leads/export", json={"email": EMAIL}, headers=headers).status_code == 200
    assert client.post("/api/v1/leads/erase", json={"email": EMAIL}, headers=headers).status_code == 200
    assert caplog.records  # the service did log: what it logged held nothing of the person
    assert EMAIL not in caplog.text and NAME not in caplog.text and browser.token not in caplog.text
