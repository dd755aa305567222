"""The migrations are the schema: they build it from nothing and agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from capture.db import make_engine
from capture.migrate import downgrade, is_current, upgrade
from capture.models import Base


def test_upgrade_from_empty_matches_the_models(db_url: str) -> None:
    downgrade(db_url, "base")
    engine = make_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert not is_current(db_url)
        upgrade(db_url)
        assert is_current(db_url)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
        assert differences == [], f"models and migrations disagree: {differences}"
    finally:
        engine.dispose()
