"""Configuration from the environment, with safe defaults only where they are safe."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta

DEFAULT_DATABASE_URL = "sqlite:///leadwheel.db"


class ConfigError(RuntimeError):
    """A setting that prevents the service from starting; the message says which."""


@dataclass(frozen=True)
class Config:
    database_url: str = DEFAULT_DATABASE_URL
    #: oldest first; the last signs. Tokens signed with an older key still verify.
    secret_keys: tuple[str, ...] = ()
    #: request bodies larger than this are refused with 413
    max_body_bytes: int = 64 * 1024
    min_fill_time: timedelta = timedelta(seconds=2)
    ticket_lifetime: timedelta = timedelta(hours=2)
    visitor_lifetime: timedelta = timedelta(days=400)
    #: inactivity after which the next ask starts a new visit
    visit_gap: timedelta = timedelta(minutes=30)
    #: how long site and form settings are cached per process
    catalog_ttl: timedelta = timedelta(seconds=10)
    #: SQLite: how often a background thread checkpoints the write-ahead log (0: SQLite's own
    #: automatic checkpoints, inside whichever request fills the log; see capture/wal.py)
    wal_checkpoint_every: timedelta = timedelta(seconds=1)
    #: where rate-limit counters live: memory:// (each process counts alone), database (the app's
    #: database, shared: capture/limit_storage.py) or a ``limits`` storage URI such as redis://host:6379/0.
    #: ``leadwheel serve`` with several workers replaces memory:// by database (capture/serving.py).
    ratelimit_storage_uri: str = "memory://"
    ratelimit_ask: str = "120/minute"
    ratelimit_answer: str = "30/minute"
    #: batches of up to 100 events each
    ratelimit_events: str = "60/minute"
    #: back-end systems (per address); raise it for a busy ESP
    ratelimit_system: str = "600/minute"
    #: refused API tokens (401) per client address, across all token routes
    ratelimit_token_failures: str = "20/minute"
    ratelimit_enabled: bool = True
    #: reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust (0: none)
    trusted_proxies: int = 0
    #: webhook hosts (names or CIDRs) allowed although private/loopback, e.g. an in-house CRM
    webhook_allow_hosts: tuple[str, ...] = ()
    webhook_connect_timeout: timedelta = timedelta(seconds=5)
    #: one attempt, connect to last byte
    webhook_timeout: timedelta = timedelta(seconds=15)
    #: how long a worker holds a claimed delivery; a killed worker's claims run out after it
    webhook_lease: timedelta = timedelta(seconds=60)
    #: an endpoint is disabled after this many consecutive failed attempts
    webhook_disable_after: int = 50
    #: the longest Retry-After (429/503) a receiver gets honoured
    webhook_retry_after_cap: timedelta = timedelta(hours=10)
    #: how often an idle worker looks for due deliveries
    webhook_poll: timedelta = timedelta(seconds=1)
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: os._Environ[str] | dict[str, str] | None = None, *, demo: bool = False) -> Config:
        """Read ``LEADWHEEL_*`` settings, ``DATABASE_URL`` and ``SECRET_KEY``.

        ``SECRET_KEY`` may hold several keys separated by commas (oldest first)
        for rotation. Outside the demo a missing key is an error: a silent
        default would let anyone forge visitor tokens.
        """
        env = os.environ if env is None else env
        keys = tuple(k.strip() for k in env.get("SECRET_KEY", "").split(",") if k.strip())
        if not keys and not demo:
            raise ConfigError(
                "SECRET_KEY is not set. Set it to a long random value, e.g. "
                "SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        short = [k for k in keys if len(k) < 16]
        if short:
            raise ConfigError("SECRET_KEY is too short: use at least 16 random characters per key")

        def seconds(name: str, default: timedelta) -> timedelta:
            raw = env.get(name)
            if raw is None:
                return default
            try:
                return timedelta(seconds=float(raw))
            except ValueError as exc:
                raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from exc

        def count(name: str) -> int:
            raw = env.get(name, "0")
            if not raw.isdigit():
                raise ConfigError(f"{name} must be a whole number, not {raw!r}")
            return int(raw)

        return cls(
            database_url=env.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            secret_keys=keys,
            min_fill_time=seconds("LEADWHEEL_MIN_FILL_SECONDS", cls.min_fill_time),
            ticket_lifetime=seconds("LEADWHEEL_TICKET_SECONDS", cls.ticket_lifetime),
            visit_gap=seconds("LEADWHEEL_VISIT_GAP_SECONDS", cls.visit_gap),
            catalog_ttl=seconds("LEADWHEEL_CATALOG_TTL_SECONDS", cls.catalog_ttl),
            wal_checkpoint_every=seconds("LEADWHEEL_WAL_CHECKPOINT_SECONDS", cls.wal_checkpoint_every),
            ratelimit_storage_uri=env.get("LEADWHEEL_RATELIMIT_STORAGE", cls.ratelimit_storage_uri),
            ratelimit_ask=env.get("LEADWHEEL_RATELIMIT_ASK", cls.ratelimit_ask),
            ratelimit_answer=env.get("LEADWHEEL_RATELIMIT_ANSWER", cls.ratelimit_answer),
            ratelimit_events=env.get("LEADWHEEL_RATELIMIT_EVENTS", cls.ratelimit_events),
            ratelimit_system=env.get("LEADWHEEL_RATELIMIT_SYSTEM", cls.ratelimit_system),
            ratelimit_token_failures=env.get("LEADWHEEL_RATELIMIT_TOKEN_FAILURES", cls.ratelimit_token_failures),
            ratelimit_enabled=env.get("LEADWHEEL_RATELIMIT", "on") != "off",
            trusted_proxies=count("LEADWHEEL_TRUSTED_PROXIES"),
            webhook_allow_hosts=tuple(
                h.strip() for h in env.get("LEADWHEEL_WEBHOOK_ALLOW_HOSTS", "").split(",") if h.strip()
            ),
            webhook_connect_timeout=seconds("LEADWHEEL_WEBHOOK_CONNECT_TIMEOUT", cls.webhook_connect_timeout),
            webhook_timeout=seconds("LEADWHEEL_WEBHOOK_TIMEOUT", cls.webhook_timeout),
            webhook_lease=seconds("LEADWHEEL_WEBHOOK_LEASE_SECONDS", cls.webhook_lease),
            webhook_disable_after=count("LEADWHEEL_WEBHOOK_DISABLE_AFTER") or cls.webhook_disable_after,
            webhook_retry_after_cap=seconds("LEADWHEEL_WEBHOOK_RETRY_AFTER_CAP", cls.webhook_retry_after_cap),
            webhook_poll=seconds("LEADWHEEL_WEBHOOK_POLL_SECONDS", cls.webhook_poll),
        )
