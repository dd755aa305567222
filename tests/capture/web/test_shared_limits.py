"""Rate limits mean what they say when several workers serve.

``memory://`` counted in each gunicorn worker, so ``leadwheel serve`` (two
workers by default) let a client through twice the documented figure. These
tests start the real server with two workers and fire asks from one client on a
new connection each, from several threads at once so both workers take them.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from capture.config import Config
from capture.db.engine import Database
from capture.db.models import RateLimitCounter
from capture.web.limit_storage import URI, DatabaseStorage, stored_key
from capture.web.serving import shared_limits
from tests.capture.conftest import ORIGIN
from tests.capture.handoff.test_webhooks_worker import free_port
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[3]
LEADWHEEL = Path(sys.executable).with_name("leadwheel")
LIMIT = 10
ASKS = 40
REDIS_URL = os.environ.get("LEADWHEEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
#: the longest a server may take to start, and a request to answer
STARTUP_SECONDS = 30
REQUEST_SECONDS = 10

# --- the storage itself ---------------------------------------------------------------------------


@pytest.fixture
def storage(db: Database) -> DatabaseStorage:
    from limits.storage import storage_from_string

    made = storage_from_string(URI, database=db)
    assert isinstance(made, DatabaseStorage)
    return made


def test_hits_from_many_threads_at_once_each_count_once(storage: DatabaseStorage) -> None:
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda _: storage.incr("ask|client", 60), range(40)))
    assert sorted(counts) == list(range(1, 41))
    assert storage.get("ask|client") == 40


def test_a_window_that_ended_starts_again_from_one(storage: DatabaseStorage) -> None:
    now = 1_800_000_000.0
    storage.clock = lambda: now
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get_expiry("k") == now + 60
    now += 60
    assert storage.get("k") == 0
    assert storage.get_expiry("k") == now  # no window: it would reset now
    assert storage.incr("k", 60) == 1
    assert storage.get_expiry("k") == now + 60


def test_ended_windows_are_deleted_by_a_sweep_once_a_minute(storage: DatabaseStorage, db: Database) -> None:
    start = 1_800_000_000.0
    now = start
    storage.clock = lambda: now
    for client in range(5):
        storage.incr(f"old|{client}", 60)  # the first hit of a process sweeps: nothing has ended yet
    now = start + 30
    storage.incr("mid", 60)
    now = start + 61
    storage.incr("new", 60)  # a minute after the last sweep: the old windows have ended, and go
    assert _stored_keys(db) == {"mid", "new"}
    now = start + 100
    storage.incr("later", 60)  # "mid" has ended too, but the next sweep is not due: no DELETE on every hit
    assert _stored_keys(db) == {"mid", "new", "later"}
    assert storage.get("mid") == 0


def _stored_keys(db: Database) -> set[str]:
    with db.read() as session:
        return set(session.scalars(select(RateLimitCounter.limit_key)))


def test_keys_longer_than_the_column_are_counted_apart(storage: DatabaseStorage, db: Database) -> None:
    """A site key comes from the URL: a long one must neither fail the request nor share a counter."""
    long_a, long_b = "x" * 5000 + "a", "x" * 5000 + "b"
    assert (storage.incr(long_a, 60), storage.incr(long_a, 60), storage.incr(long_b, 60)) == (1, 2, 1)
    assert len(stored_key(long_a)) <= RateLimitCounter.__table__.c.limit_key.type.length
    storage.clear(long_a)
    assert (storage.get(long_a), storage.get(long_b)) == (0, 1)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(RateLimitCounter)) == 1


# --- which storage serving picks ------------------------------------------------------------------


def test_memory_with_two_workers_is_replaced_by_the_database() -> None:
    config = Config(ratelimit_storage_uri="memory://")
    shared, line = shared_limits(config, workers=2)
    assert shared.ratelimit_storage_uri == "database"
    assert "database" in line and "per worker" in line
    assert shared_limits(config, workers=1)[0].ratelimit_storage_uri == "memory://"


def test_the_startup_line_names_no_storage_password() -> None:
    _, line = shared_limits(Config(ratelimit_storage_uri="redis://:hunter22@cache.internal:6379/0"), workers=2)
    assert "redis://cache.internal" in line and "hunter22" not in line


# --- two workers, one client ----------------------------------------------------------------------


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _wait_until_ready(server: Server, workers: int) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"the server stopped: {server.output()}")
        if server.output().count("Worker ready") >= workers:
            return
        time.sleep(0.05)
    pytest.fail(f"the server's workers were not ready in {STARTUP_SECONDS} s: {server.output()}")


@pytest.fixture
def start(config: Config, tmp_path: Path) -> Iterator[Any]:
    """Start a server in a subprocess (``leadwheel serve`` or a script); all are killed at teardown."""
    started: list[Server] = []

    def run(command: list[str], environment: dict[str, str], workers: int = 2) -> Server:
        port = free_port()
        log = tmp_path / f"server-{port}.log"
        env = {
            **os.environ,
            "DATABASE_URL": config.database_url,
            "SECRET_KEY": config.secret_keys[-1],
            "LEADWHEEL_RATELIMIT_ASK": f"{LIMIT}/minute",
            "PORT": str(port),
            **environment,
        }
        env.pop("LEADWHEEL_RATELIMIT", None)
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*command, "--port", str(port)] if command[0] == str(LEADWHEEL) else command,
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = Server(port, process, log)
        started.append(server)
        _wait_until_ready(server, workers)
        return server

    yield run
    for server in started:
        _stop(server.process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()  # gunicorn's master stops its workers on SIGTERM
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)


def _ask_on_a_new_connection(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_SECONDS)
    try:
        body = json.dumps({"locale": "en", "page_url": f"{ORIGIN}/pricing"})
        headers = {"Origin": ORIGIN, "Content-Type": "application/json", "Connection": "close"}
        connection.request("POST", path, body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def _fire_asks(server: Server, form: Any) -> list[int]:
    """:data:`ASKS` asks from one client, 8 at a time, each on its own connection."""
    path = f"/api/v1/sites/{form.site_key}/forms/{form.slug}/ask"
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: _ask_on_a_new_connection(server.port, path), range(ASKS)))


def _serve(start: Any, storage: str | None) -> Server:
    environment = {"LEADWHEEL_RATELIMIT_STORAGE": storage} if storage else {}
    return start([str(LEADWHEEL), "serve", "--workers", "2"], environment)


@pytest.mark.parametrize("storage", [None, "database", "memory://"], ids=["default", "database", "memory"])
def test_two_workers_let_one_client_through_exactly_the_limit(start: Any, publish_form: Any, storage: str) -> None:
    """Unset, ``database``, and even an explicit ``memory://``: the workers count together."""
    form = publish_form()
    server = _serve(start, storage)
    codes = _fire_asks(server, form)
    assert sorted(set(codes)) == [200, 429]
    assert codes.count(200) == LIMIT
    assert "rate limits: counted in the database, shared by all" in server.output()


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2):
            return True
    except OSError:
        return False


def test_two_workers_share_the_limit_through_redis(start: Any, publish_form: Any) -> None:
    if not _redis_reachable():
        if IN_CI:
            pytest.fail("Redis is not reachable at 127.0.0.1:6379", pytrace=False)
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    form = publish_form()  # a fresh site: its counters cannot meet another run's in Redis
    server = _serve(start, REDIS_URL)
    codes = _fire_asks(server, form)
    assert codes.count(200) == LIMIT and codes.count(429) == ASKS - LIMIT
    assert "rate limits: counted in redis://127.0.0.1, shared by all workers" in server.output()


#: gunicorn with two workers and the limits in each worker's memory: what `serve` did before
PER_WORKER = """
import dataclasses, os
from capture.web.app import create_app
from capture.config import Config
from capture.web.serving import serve_app

config = dataclasses.replace(Config.from_env(), ratelimit_storage_uri="memory://")
serve_app(f"127.0.0.1:{os.environ['PORT']}", workers=2, threads=1, config=config, factory=lambda: create_app(config))
"""


def test_the_harness_reaches_both_workers_so_memory_would_count_twice(start: Any, publish_form: Any) -> None:
    """The control: counting in each worker's memory lets the client through more than the limit,
    which is what the tests above would see if serving did not share the count."""
    form = publish_form()
    server = start([sys.executable, "-c", PER_WORKER], {})
    codes = _fire_asks(server, form)
    assert LIMIT < codes.count(200) <= 2 * LIMIT
