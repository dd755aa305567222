"""Mail: queued with the caller's change, sent through a real SMTP server, retried, capped, never twice."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from capture.cli.main import main
from capture.config import Config, ConfigError
from capture.db.engine import Database
from capture.db.models import MailOutbox
from capture.handoff.worker import run_worker
from capture.mail import LEASE, Mail, claim, queue_mail, send_due

DANISH = Mail(
    to="soeren@example.com",
    subject="Bekræft din e-mail – Ærø Øl & Åben",
    text="Hej Søren,\n\nklik på linket for at bekræfte: https://forms.example.com/c/abc\n\nMulțumim, ăîșț!\n",
    purpose="email_confirmation",
)


@pytest.fixture
def mail_config(config: Config, smtp_server: Any) -> Config:
    return replace(config, smtp_url=smtp_server.url, mail_from="Northwind <hello@northwind.example>")


def queue(db: Database, mail: Mail, now: Any, config: Config) -> bool:
    return db.run(lambda connection: queue_mail(connection, mail, now, config))


def outbox(db: Database) -> list[Any]:
    with db.read() as session:
        return list(session.scalars(select(MailOutbox).order_by(MailOutbox.id)))


def subject_of(message: Any) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_a_mail_is_queued_in_the_callers_transaction(db: Database, mail_config: Config, smtp_server: Any, clock: Any):
    with pytest.raises(RuntimeError), db.write_connection() as connection:
        assert queue_mail(connection, DANISH, clock(), mail_config)
        raise RuntimeError("the change that wanted the mail failed")
    assert send_due(db, mail_config, clock) == 0
    assert smtp_server.messages == [] and outbox(db) == []

    with db.write_connection() as connection:
        assert queue_mail(connection, DANISH, clock(), mail_config)
    assert send_due(db, mail_config, clock) == 1
    assert len(smtp_server.messages) == 1


def test_sent_through_smtp_with_its_headers_and_a_utf8_body(
    db: Database, mail_config: Config, smtp_server: Any, clock: Any
):
    assert queue(db, DANISH, clock(), mail_config)
    assert send_due(db, mail_config, clock) == 1

    [message] = smtp_server.messages
    assert message["From"] == "Northwind <hello@northwind.example>"
    assert message["To"] == "soeren@example.com"
    assert message["Subject"].isascii()  # RFC 2047-encoded on the wire …
    assert subject_of(message) == DANISH.subject  # … and the same words when read
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n") == DANISH.text
    assert parsedate_to_datetime(message["Date"]) == clock()
    [row] = outbox(db)
    assert message["Message-ID"] == row.message_id and row.message_id.endswith("@northwind.example>")
    assert (row.status, row.attempts, row.sent_at, row.last_error) == ("sent", 1, clock(), None)

    clock.advance(hours=1)
    assert send_due(db, mail_config, clock) == 0  # sent once, never again


def test_an_address_gets_at_most_its_cap_of_mails_of_one_purpose_a_day(db: Database, mail_config: Config, clock: Any):
    first = clock()
    for _ in range(3):
        assert queue(db, DANISH, clock(), mail_config)
        clock.advance(minutes=1)
    assert not queue(db, DANISH, clock(), mail_config)
    assert not queue(db, replace(DANISH, to="Soeren@EXAMPLE.com"), clock(), mail_config)  # however it is typed
    assert queue(db, replace(DANISH, purpose="marketing_consent"), clock(), mail_config)
    assert queue(db, replace(DANISH, to="anna@example.com"), clock(), mail_config)
    assert len(outbox(db)) == 5

    clock.now = first + timedelta(hours=24, seconds=30)  # the first has left the window, the others not
    assert queue(db, DANISH, clock(), mail_config)
    assert not queue(db, DANISH, clock(), mail_config)

    lenient = replace(mail_config, mail_cap_per_day=10)
    assert queue(db, DANISH, clock(), lenient)


def test_racing_requests_cannot_pass_the_cap_together(db: Database, mail_config: Config, clock: Any):
    start = threading.Barrier(6)
    results: list[bool] = []
    errors: list[BaseException] = []

    def request() -> None:
        own = Database(mail_config.database_url)
        try:
            start.wait(timeout=10)
            results.append(queue(own, DANISH, clock(), mail_config))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            own.dispose()

    at_once(request, 6)
    assert not errors
    assert sorted(results) == [False] * 3 + [True] * 3
    assert len(outbox(db)) == 3


def test_nothing_is_queued_without_a_transport(db: Database, config: Config, clock: Any):
    assert config.smtp_url is None
    assert not queue(db, DANISH, clock(), config)
    assert outbox(db) == []


def test_queue_mail_goes_by_the_apps_settings_inside_a_request(app: Any, smtp_server: Any, clock: Any):
    services = app.extensions["leadwheel"]
    with app.app_context():
        assert not services.db.run(lambda c: queue_mail(c, DANISH, clock()))  # the test app has no transport
        services.config = replace(services.config, smtp_url=smtp_server.url)
        assert services.db.run(lambda c: queue_mail(c, DANISH, clock()))


def test_an_address_that_would_forge_headers_is_refused(db: Database, mail_config: Config, clock: Any):
    for bad in ("a@example.com\r\nBcc: all@example.com", "Someone <a@example.com>", "a@b@example.com", "nobody"):
        with pytest.raises(ValueError):
            queue(db, replace(DANISH, to=bad), clock(), mail_config)
    with pytest.raises(ValueError):
        queue(db, replace(DANISH, subject="Hi\nBcc: all@example.com"), clock(), mail_config)
    with pytest.raises(ValueError):
        queue(db, replace(DANISH, text="Hi\x00"), clock(), mail_config)
    assert outbox(db) == []


def test_a_temporary_failure_is_retried_later(db: Database, mail_config: Config, smtp_server: Any, clock: Any):
    assert queue(db, DANISH, clock(), mail_config)
    smtp_server.refuse_with = "451 4.3.0 Mailbox busy, try again later"
    assert send_due(db, mail_config, clock) == 1
    [row] = outbox(db)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "451" in row.last_error and row.next_attempt_at > clock()
    assert smtp_server.messages == []

    smtp_server.refuse_with = None
    assert send_due(db, mail_config, clock) == 0  # not yet due: backing off
    clock.now = row.next_attempt_at
    assert send_due(db, mail_config, clock) == 1
    assert subject_of(smtp_server.messages[0]) == DANISH.subject
    [row] = outbox(db)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_the_wait_between_attempts_grows(db: Database, mail_config: Config, smtp_server: Any, clock: Any):
    assert queue(db, DANISH, clock(), mail_config)
    smtp_server.refuse_with = "421 4.7.0 Too busy"
    waits = []
    for _ in range(4):
        start = clock()
        assert send_due(db, mail_config, clock) == 1
        [row] = outbox(db)
        waits.append(row.next_attempt_at - start)
        clock.now = row.next_attempt_at
    assert all(later > earlier * 1.5 for earlier, later in zip(waits, waits[1:])), waits


def test_a_permanent_failure_is_given_up(
    db: Database, mail_config: Config, smtp_server: Any, clock: Any, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    assert queue(db, DANISH, clock(), mail_config)
    smtp_server.refuse_with = "550 5.1.1 <soeren@example.com>: No such user here"
    assert send_due(db, mail_config, clock) == 1
    [row] = outbox(db)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "550 5.1.1 <soeren@example.com>: No such user here" in row.last_error  # for `mail list`
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("capture"))
    assert "failed (reply 550)" in ours and "soeren" not in ours  # Leadwheel's logs never hold the address
    smtp_server.refuse_with = None
    clock.advance(days=2)
    assert send_due(db, mail_config, clock) == 0
    assert smtp_server.messages == []


def test_a_mail_is_given_up_after_its_last_attempt(db: Database, mail_config: Config, smtp_server: Any, clock: Any):
    config = replace(mail_config, mail_max_attempts=2)
    assert queue(db, DANISH, clock(), config)
    smtp_server.refuse_with = "451 4.3.0 Later"
    send_due(db, config, clock)
    clock.advance(hours=1)
    send_due(db, config, clock)
    [row] = outbox(db)
    assert (row.status, row.attempts) == ("failed", 2)
    clock.advance(days=1)
    assert send_due(db, config, clock) == 0


def test_an_unreachable_server_is_a_temporary_failure(db: Database, mail_config: Config, clock: Any):
    config = replace(mail_config, smtp_url=f"smtp://127.0.0.1:{_closed_port()}")
    assert queue(db, DANISH, clock(), config)
    assert queue(db, replace(DANISH, to="anna@example.com"), clock(), config)
    assert send_due(db, config, clock) == 2  # no exception: each mail records the failure
    rows = outbox(db)
    assert [row.status for row in rows] == ["pending", "pending"]
    assert all("ConnectionRefusedError" in row.last_error for row in rows)


def test_a_claimed_mail_is_leased_to_one_worker(db: Database, mail_config: Config, clock: Any):
    assert queue(db, DANISH, clock(), mail_config)
    other = Database(mail_config.database_url)
    try:
        assert len(claim(db, clock())) == 1
        assert claim(other, clock()) == []  # held by the first worker
        clock.advance(seconds=LEASE.total_seconds() + 1)
        assert len(claim(other, clock())) == 1  # the first was killed: its lease ran out
    finally:
        other.dispose()


def test_two_workers_never_send_one_mail_twice(db: Database, mail_config: Config, smtp_server: Any, clock: Any):
    for number in range(30):
        assert queue(db, replace(DANISH, to=f"lead{number}@example.com"), clock(), mail_config)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work() -> None:
        worker_db = Database(mail_config.database_url)
        try:
            start.wait(timeout=10)
            while send_due(worker_db, mail_config, clock, limit=3):
                pass
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            worker_db.dispose()

    at_once(work, 2)
    assert not errors
    ids = [message["Message-ID"] for message in smtp_server.messages]
    assert len(ids) == 30 and len(set(ids)) == 30
    assert {(row.status, row.attempts) for row in outbox(db)} == {("sent", 1)}


def test_a_slow_mail_server_holds_the_worker_for_half_a_lease_at_most(
    db: Database, mail_config: Config, smtp_server: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("capture.mail.LEASE", timedelta(seconds=1))
    smtp_server.delay = 0.5  # all six would take 3 s
    for number in range(6):
        assert queue(db, replace(DANISH, to=f"lead{number}@example.com"), clock(), mail_config)
    started = time.monotonic()
    made = send_due(db, mail_config, clock)
    assert 1 <= made <= 3 and time.monotonic() - started < 2.5  # the rest waits for the next poll …
    assert len(claim(db, clock())) == 6 - made  # … given back at once, not left to its lease


def test_the_worker_sends_due_mail_each_poll(db: Database, mail_config: Config, smtp_server: Any, clock: Any):
    assert queue(db, DANISH, clock(), mail_config)
    assert run_worker(db, mail_config, once=True, clock=clock) == 1
    assert len(smtp_server.messages) == 1


def test_a_mail_servers_trouble_never_stops_the_worker(db: Database, mail_config: Config, clock: Any):
    config = replace(mail_config, smtp_url=f"smtp://127.0.0.1:{_closed_port()}")
    assert queue(db, DANISH, clock(), config)
    assert run_worker(db, config, once=True, clock=clock) == 1  # one failed attempt, recorded, no exception
    assert outbox(db)[0].status == "pending"


def test_the_file_transport_writes_eml_files(db: Database, config: Config, clock: Any, tmp_path: Path):
    folder = tmp_path / "mail"
    file_config = replace(config, smtp_url=folder.as_uri())
    assert queue(db, DANISH, clock(), file_config)
    assert send_due(db, file_config, clock) == 1
    [written] = list(folder.glob("*.eml"))
    message = message_from_bytes(written.read_bytes())
    assert subject_of(message) == DANISH.subject
    assert message.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n") == DANISH.text
    assert outbox(db)[0].status == "sent"


def test_the_smtp_password_never_reaches_logs_errors_or_reprs(
    db: Database, mail_config: Config, clock: Any, caplog: pytest.LogCaptureFixture
):
    url = f"smtp://mailer:s3cret-Pa55@127.0.0.1:{_closed_port()}"
    config = replace(mail_config, smtp_url=url)
    caplog.set_level(logging.DEBUG)
    assert queue(db, DANISH, clock(), config)
    assert send_due(db, config, clock) == 1
    assert "mailer:***@127.0.0.1" in caplog.text  # the log says which server …
    assert "s3cret-Pa55" not in caplog.text  # … never with its password (nor does anything else logged)
    assert "s3cret-Pa55" not in (outbox(db)[0].last_error or "")
    assert "s3cret-Pa55" not in repr(config)

    with pytest.raises(ConfigError) as refused:  # a password in clear over the network is refused, unquoted
        Config.from_env({"LEADWHEEL_SMTP_URL": "smtp://mailer:s3cret-Pa55@mail.example.com:25"}, demo=True)
    assert "s3cret-Pa55" not in str(refused.value) and "starttls" in str(refused.value)


def test_mail_settings_from_the_environment():
    env = {
        "LEADWHEEL_SMTP_URL": "smtp://mailer:pw@mail.example.com:587?starttls=1",
        "LEADWHEEL_MAIL_FROM": "Northwind <hello@northwind.example>",
        "LEADWHEEL_PUBLIC_URL": "https://forms.northwind.example/",
        "LEADWHEEL_MAIL_CAP_PER_DAY": "5",
    }
    config = Config.from_env(env, demo=True)
    assert config.smtp_url == env["LEADWHEEL_SMTP_URL"]
    assert (config.mail_from, config.public_url, config.mail_cap_per_day) == (
        "Northwind <hello@northwind.example>",
        "https://forms.northwind.example",
        5,
    )
    assert Config.from_env({"LEADWHEEL_SMTP_URL": "smtps://mailer:pw@mail.example.com"}, demo=True).smtp_url
    assert Config.from_env({}, demo=True).smtp_url is None
    for bad in (
        {"LEADWHEEL_PUBLIC_URL": "javascript:alert(1)"},
        {"LEADWHEEL_PUBLIC_URL": "ftp://forms.example.com"},
        {"LEADWHEEL_SMTP_URL": "http://mail.example.com"},
        {"LEADWHEEL_SMTP_URL": "smtp://mail.example.com:25?starttls=maybe"},
        {"LEADWHEEL_MAIL_FROM": "nobody"},
        {"LEADWHEEL_MAIL_FROM": "a@example.com\r\nBcc: all@example.com"},
        {"LEADWHEEL_MAIL_CAP_PER_DAY": "three"},
    ):
        with pytest.raises(ConfigError):
            Config.from_env(bad, demo=True)


def test_mail_test_sends_one_mail_now(smtp_server: Any, tmp_path: Path):
    env = {"LEADWHEEL_SMTP_URL": smtp_server.url, "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}"}
    result = CliRunner().invoke(main, ["mail", "test", "ops@example.com"], env=env)
    assert result.exit_code == 0, result.output
    [message] = smtp_server.messages
    assert message["To"] == "ops@example.com" and message["Message-ID"] and message["Date"]

    smtp_server.refuse_with = "550 5.7.1 Relaying denied"
    result = CliRunner().invoke(main, ["mail", "test", "ops@example.com"], env=env)
    assert result.exit_code == 1
    assert "permanent" in result.output and "550 5.7.1 Relaying denied" in result.output


def test_mail_list_shows_queued_sent_and_failed(db: Database, mail_config: Config, smtp_server: Any, clock: Any):
    assert queue(db, DANISH, clock(), mail_config)
    send_due(db, mail_config, clock)
    assert queue(db, replace(DANISH, to="gone@example.com"), clock(), mail_config)
    smtp_server.refuse_with = "550 5.1.1 No such user"
    send_due(db, mail_config, clock)
    assert queue(db, replace(DANISH, to="later@example.com"), clock(), mail_config)

    result = CliRunner().invoke(main, ["mail", "list"], env={"DATABASE_URL": mail_config.database_url})
    assert result.exit_code == 0, result.output
    header, *lines = result.output.splitlines()
    assert header.split()[:3] == ["ID", "STATUS", "ATTEMPTS"]
    assert [line.split()[1] for line in lines] == ["pending", "failed", "sent"]
    assert "later@example.com" in lines[0] and "550 5.1.1 No such user" in lines[1]
    as_json = CliRunner().invoke(
        main, ["mail", "list", "--format", "json"], env={"DATABASE_URL": mail_config.database_url}
    )
    assert [row["status"] for row in json.loads(as_json.stdout)] == ["pending", "failed", "sent"]


def test_the_demo_writes_its_mail_into_its_data_folder(tmp_path: Path, clock: Any):
    from capture.demo.runner import prepare_demo, start_mail_sender

    config, _ = prepare_demo(tmp_path / "demo", "127.0.0.1", 5001)
    folder = tmp_path / "demo" / "mail"
    assert config.smtp_url == folder.resolve().as_uri()
    db = Database(config.database_url)
    try:
        assert queue(db, DANISH, clock(), config)
    finally:
        db.dispose()
    stop = start_mail_sender(config, every=0.05)
    try:
        deadline = time.monotonic() + 10
        while not list(folder.glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
    [written] = list(folder.glob("*.eml"))
    assert subject_of(message_from_bytes(written.read_bytes())) == DANISH.subject


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def at_once(work: Any, count: int) -> None:
    """Run ``work`` in ``count`` threads at the same time and wait for them (a minute at most)."""
    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
