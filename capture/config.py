"""Configuration from the environment, with safe defaults only where they are safe."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr
from ipaddress import ip_address
from urllib.parse import unquote, urlsplit

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
    #: automatic checkpoints, inside whichever request fills the log; see capture/db/wal.py)
    wal_checkpoint_every: timedelta = timedelta(seconds=1)
    #: where rate-limit counters live: memory:// (each process counts alone), database (the app's
    #: database, shared: capture/web/limit_storage.py) or a ``limits`` storage URI such as redis://host:6379/0.
    #: ``leadwheel serve`` with several workers replaces memory:// by database (capture/web/serving.py).
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
    #: where mail goes: smtp://user:pass@host:587?starttls=1, smtps://host:465, or file:///dir (.eml files);
    #: None: no mail is queued. Not in the repr: it may carry the SMTP password.
    smtp_url: str | None = field(default=None, repr=False)
    #: the From of every mail Leadwheel sends
    mail_from: str = "Leadwheel <leadwheel@localhost>"
    #: the public base URL of this service, for links in mails (no trailing slash); None: not known
    public_url: str | None = None
    #: at most this many mails of one purpose to one address in 24 hours (anti mail-bombing)
    mail_cap_per_day: int = 3
    #: each SMTP step (connect, each command) gives up after this long
    smtp_timeout: timedelta = timedelta(seconds=10)
    #: a mail that still fails after this many attempts is given up (failed)
    mail_max_attempts: int = 10
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

        def whole(name: str, default: int) -> int:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            if not raw.isdigit():
                raise ConfigError(f"{name} must be a whole number, not {raw!r}")
            return int(raw)

        smtp_url = env.get("LEADWHEEL_SMTP_URL", "").strip() or None
        if smtp_url is not None:
            check_smtp_url(smtp_url)
        mail_from = env.get("LEADWHEEL_MAIL_FROM", "").strip() or cls.mail_from
        if "\n" in mail_from or "\r" in mail_from or "@" not in parseaddr(mail_from)[1]:
            raise ConfigError(f"LEADWHEEL_MAIL_FROM must be an address like 'Name <a@example.com>', not {mail_from!r}")
        public_url = env.get("LEADWHEEL_PUBLIC_URL", "").strip() or None
        if public_url is not None:
            public_url = check_public_url(public_url)
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
            smtp_url=smtp_url,
            mail_from=mail_from,
            public_url=public_url,
            mail_cap_per_day=whole("LEADWHEEL_MAIL_CAP_PER_DAY", cls.mail_cap_per_day),
            smtp_timeout=seconds("LEADWHEEL_SMTP_TIMEOUT", cls.smtp_timeout),
            mail_max_attempts=count("LEADWHEEL_MAIL_MAX_ATTEMPTS") or cls.mail_max_attempts,
        )


SMTP_SCHEMES = ("smtp", "smtps", "file")


def check_smtp_url(url: str) -> None:
    """Refuse a mail URL Leadwheel could not use, saying why, without ever quoting its password.

    Credentials over plain ``smtp://`` (no ``starttls=1``) are refused unless the server
    is on this machine: the password would cross the network in clear.
    """
    parts = urlsplit(url)
    shown = redact_url(url)
    if parts.scheme not in SMTP_SCHEMES:
        raise ConfigError(f"LEADWHEEL_SMTP_URL must start with smtp://, smtps:// or file://, not {shown!r}")
    if parts.scheme == "file":
        if not parts.path or parts.netloc not in ("", "localhost"):
            raise ConfigError(
                f"LEADWHEEL_SMTP_URL: a file URL names a local folder, e.g. file:///var/mail/out, not {shown!r}"
            )
        return
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise ConfigError(f"LEADWHEEL_SMTP_URL has an invalid port: {shown!r}") from exc
    if not host:
        raise ConfigError(f"LEADWHEEL_SMTP_URL names no host: {shown!r}")
    if port == 0:
        raise ConfigError(f"LEADWHEEL_SMTP_URL has an invalid port: {shown!r}")
    starttls = url_flag(parts.query, "starttls")
    if starttls is None:
        raise ConfigError(f"LEADWHEEL_SMTP_URL: starttls must be 1 or 0: {shown!r}")
    if parts.password and parts.scheme == "smtp" and not starttls and not _is_loopback(host):
        raise ConfigError(
            f"LEADWHEEL_SMTP_URL sends a password in clear to {host}: add ?starttls=1 or use smtps:// ({shown})"
        )


def url_flag(query: str, name: str) -> bool | None:
    """``name=1`` / ``name=0`` in a URL query (absent: False); None when it is something else."""
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if unquote(key) == name:
            if value in ("1", "true", "yes", "on"):
                return True
            if value in ("0", "false", "no", "off", ""):
                return False
            return None
    return False


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def redact_url(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``: what logs and messages may show."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def check_public_url(url: str) -> str:
    """The public base URL for links in mails: http(s), a host, no query; returned without a trailing slash."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            f"LEADWHEEL_PUBLIC_URL must be an http(s) base URL like https://forms.example.com, not {url!r}"
        )
    if parts.username or parts.password:
        raise ConfigError("LEADWHEEL_PUBLIC_URL must not carry a user or password")
    return url.rstrip("/")
