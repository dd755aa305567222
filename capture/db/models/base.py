"""Declarative base, naming convention and the column types every model shares."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Integer, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

#: Stable constraint names so autogenerate stays quiet and downgrades can name what they drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always handed back timezone-aware.

    SQLite has no time zones; without this, values read back naive and compare
    wrongly with the aware ``now`` the services use.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    # On SQLite the two steps (ours above, then SQLite's text format) run as one function each way:
    # every answer converts some twenty times, and the layered calls cost more than the conversions.
    # The text is the one SQLite's DATETIME writes and reads ("2026-11-23 09:00:00.000000"), as
    # tests/capture/db/test_column_types.py checks against the layered original.

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        parse = self.impl_instance.result_processor(dialect, coltype)
        assert parse is not None, "SQLite's DATETIME reads text"

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            moment = parse(value)
            assert isinstance(moment, datetime)
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

        return process


#: JSON documents: JSONB on PostgreSQL, JSON text elsewhere.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    #: every model maps one table (no mapping to a join or a select), so Core statements take it as is
    __table__: ClassVar[Table]
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONDocument,
        list[str]: JSONDocument,
        Any: JSONDocument,
    }


class Leased:
    """The columns of an outbox row a worker claims with a lease and retries until done.

    Webhook deliveries and mails share the pattern (capture/handoff/worker.py, capture/mail.py):
    a row is due at ``next_attempt_at``, held by one worker until ``claimed_until``, and keeps
    its last failure.
    """

    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime]
    #: a worker holds it until then (a killed worker's claim simply runs out)
    claimed_until: Mapped[datetime | None]
    #: the last failure, short and escaped: never a credential
    last_error: Mapped[str | None] = mapped_column(Text)
