"""The service objects one app (or CLI run) shares: database, catalog, tokens, clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from capture.behaviour.events import Behaviour
from capture.config import Config
from capture.db.engine import Database
from capture.leads.visits import Visits
from capture.sites.catalog import Catalog
from profiling.identity import Tokens


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    config: Config
    db: Database
    catalog: Catalog
    tokens: Tokens
    visits: Visits
    behaviour: Behaviour
    clock: Callable[[], datetime]

    @classmethod
    def build(cls, config: Config, clock: Callable[[], datetime] = utc_now) -> Services:
        every = config.wal_checkpoint_every.total_seconds()
        db = Database(config.database_url, wal_checkpoint_every=every if every > 0 else None)
        catalog = Catalog(db, config.catalog_ttl.total_seconds())
        tokens = Tokens(
            config.secret_keys,
            visitor_lifetime=config.visitor_lifetime,
            ticket_lifetime=config.ticket_lifetime,
            min_fill_time=config.min_fill_time,
        )
        return cls(
            config=config,
            db=db,
            catalog=catalog,
            tokens=tokens,
            visits=Visits(db, catalog, tokens, config.visit_gap),
            behaviour=Behaviour(db, catalog, tokens),
            clock=clock,
        )
