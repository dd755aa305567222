"""Serving the app with gunicorn from inside the ``leadwheel`` command."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from gunicorn.app.base import BaseApplication

from capture.config import Config

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ByPort:
    """One server, several sites: the WSGI app for the port a request came in on."""

    def __init__(self, default: WSGIApp, by_port: dict[int, WSGIApp]):
        self.default = default
        self.by_port = {str(port): app for port, app in by_port.items()}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.by_port.get(str(environ.get("SERVER_PORT")), self.default)(environ, start_response)


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any], config: Config, factory: Callable[[], WSGIApp] | None):
        self.options = options
        self.leadwheel_config = config
        self.factory = factory
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # settings newer than the installed gunicorn are skipped
                self.cfg.set(key, value)

    def load(self) -> Any:
        if self.factory is not None:
            return self.factory()
        from capture.web.app import create_app

        return create_app(self.leadwheel_config)


#: request threads per worker on PostgreSQL, whose round trips are real waits another request can use
PG_THREADS = 4


def default_threads(database_url: str) -> int:
    """Request threads per gunicorn worker: one on SQLite, :data:`PG_THREADS` on PostgreSQL.

    SQLite runs inside the worker, so a request never waits on a network and a
    second thread has nothing to overlap; it only competes for the GIL, which the
    sqlite3 module drops and takes back around every statement and every row
    stepped. Measured with ``bench/run.py`` (2 CPUs, 2 workers): an answer cost the
    server ~2.0 ms of CPU with one thread per worker and ~2.6-2.8 ms with two or
    four, while ask and the bare endpoint cost the same either way. On SQLite,
    scale with workers (about one per CPU) instead. Idle keep-alive connections
    do not hold the thread: gthread's main loop keeps them.
    """
    return 1 if database_url.startswith("sqlite") else PG_THREADS


def shared_limits(config: Config, workers: int) -> tuple[Config, str]:
    """The config with rate limits every worker counts together, and the startup line that says where.

    ``memory://`` counts in each worker, so with two workers a client would get
    twice the documented figure: with more than one worker it is replaced by
    the database storage (see capture/web/limit_storage.py), which needs nothing
    more than the database the app already uses.
    """
    from capture.web.limits import DATABASE

    if not config.ratelimit_enabled:
        return config, "rate limits: off"
    storage = config.ratelimit_storage_uri
    if storage.startswith("memory://") and workers > 1:
        config = dataclasses.replace(config, ratelimit_storage_uri=DATABASE)
        return config, (
            f"rate limits: counted in the database, shared by all {workers} workers "
            "(memory:// would count per worker; LEADWHEEL_RATELIMIT_STORAGE=redis://… for Redis)"
        )
    if storage == DATABASE:
        return config, "rate limits: counted in the database, shared by all workers"
    if storage.startswith("memory://"):
        return config, "rate limits: counted in memory (one worker)"
    # the scheme and host only: a storage URI may carry a password
    where = urlsplit(storage)
    return config, f"rate limits: counted in {where.scheme}://{where.hostname or ''}, shared by all workers"


def serve_app(
    bind: str | list[str],
    *,
    workers: int,
    config: Config,
    threads: int | None = None,
    factory: Callable[[], WSGIApp] | None = None,
) -> None:
    """Serve Leadwheel (or what ``factory`` builds, in each worker) with gunicorn until stopped.

    ``threads``: per worker; by default what suits the database (:func:`default_threads`).
    Rate limits count across all workers (:func:`shared_limits`); a ``factory`` builds
    its app from its own config, and must see to that itself.
    """
    if threads is None:
        threads = default_threads(config.database_url)
    config, where_limits_count = shared_limits(config, workers)
    binds = [bind] if isinstance(bind, str) else bind
    _Gunicorn(
        {
            "bind": binds,
            "workers": workers,
            "threads": threads,
            "accesslog": "-",
            "worker_tmp_dir": "/tmp",
            "access_log_format": '"%(m)s %(U)s" %(s)s %(b)s %(M)sms',
            # gunicorn 24+ opens a control socket at one fixed path per user; two servers
            # (the demo and a test, say) would fight over it, and Leadwheel does not use it.
            "control_socket_disable": True,
            # said once, by the arbiter, in gunicorn's own log next to its "Listening at" line
            "when_ready": lambda server: server.log.info(where_limits_count),
            # a worker takes requests only once its app is built; "Booting worker" comes before that
            "post_worker_init": lambda worker: worker.log.info("Worker ready (pid: %s)", worker.pid),
        },
        config,
        factory,
    ).run()
