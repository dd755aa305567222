"""What every ``leadwheel`` command needs: settings, the database, and errors as one clear line."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from capture.config import Config, ConfigError
from capture.db import Database
from capture.publishing import PublishingError


def config_or_exit(demo: bool = False) -> Config:
    try:
        return Config.from_env(demo=demo)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or Config().database_url


@contextmanager
def session_for(url: str) -> Iterator[Session]:
    """A write session; an operator's mistake (a PublishingError) becomes a one-line error."""
    db = Database(url)
    try:
        with db.write() as session:
            yield session
    except PublishingError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
