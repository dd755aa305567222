"""The migrations are the schema: they build it from nothing and agree with the models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, Integer, String, column, insert, inspect, select, table

from capture.config import Config
from capture.db.engine import make_engine
from capture.db.migrate import downgrade, include_object, is_current, upgrade
from capture.db.models import Answer, Base, Lead, Site
from capture.db.models.base import UTCDateTime
from capture.leads import profile_doc


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
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": include_object}
            )
            differences = compare_metadata(context, Base.metadata)
        assert differences == [], f"models and migrations disagree: {differences}"
    finally:
        engine.dispose()


#: the revision before the profile moved onto the lead row, and that migration
BEFORE_PROFILE_ON_ROW, PROFILE_ON_ROW = "09ad6528bd5f", "7b1d2e9c4f10"


def test_the_profile_moves_onto_the_lead_row_and_back_without_losing_a_field(config: Config) -> None:
    """Upgrading fills each lead's document from its profile_fields rows; downgrading gives the rows back."""
    url = config.database_url
    downgrade(url, BEFORE_PROFILE_ON_ROW)
    at = datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=UTC)
    fields = table(
        "profile_fields", column("lead_id", Integer()), column("field", String()), column("value", JSON()),
        column("answered_at", UTCDateTime()), column("answer_id", Integer()),
    )  # fmt: skip
    rows = [
        {"lead_id": 1, "field": "email", "value": "ada@example.com", "answered_at": at, "answer_id": 1},
        {"lead_id": 1, "field": "company_size", "value": 120, "answered_at": at + timedelta(days=1), "answer_id": 2},
        {"lead_id": 1, "field": "looking_for", "value": ["reports", "<b>x</b>"], "answered_at": at, "answer_id": 3},
        {"lead_id": 2, "field": "decides", "value": True, "answered_at": at, "answer_id": 4},
    ]
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            site_id = connection.execute(
                insert(Site.__table__)
                .values(name="Example", public_key="site_x", allowed_origins=[], created_at=at)
                .returning(Site.id)
            ).scalar_one()
            leads = [{"id": n, "visit_count": 1, "last_seen_at": at, "created_at": at} for n in (1, 2, 3)]
            connection.execute(insert(Lead.__table__), leads)
            connection.execute(
                insert(Answer.__table__),
                [
                    {"id": row["answer_id"], "lead_id": row["lead_id"], "site_id": site_id, "field": row["field"],
                     "question_key": row["field"], "value": row["value"], "locale": "en", "asked_at": at,
                     "answered_at": row["answered_at"]}
                    for row in rows
                ],
            )  # fmt: skip
            connection.execute(insert(fields), rows)

        upgrade(url, PROFILE_ON_ROW)
        with engine.connect() as connection:
            documents = dict(connection.execute(select(Lead.id, Lead.profile)).all())
        assert {lead: profile_doc.values(document) for lead, document in documents.items()} == {
            1: {"email": "ada@example.com", "company_size": 120, "looking_for": ["reports", "<b>x</b>"]},
            2: {"decides": True},
            3: {},  # a lead that told us nothing yet
        }
        assert profile_doc.answered_at(documents[1]["company_size"]) == at + timedelta(days=1)
        assert [profile_doc.answer_id(documents[1][name]) for name in ("email", "company_size")] == [1, 2]
        assert "profile_fields" not in inspect(engine).get_table_names()

        downgrade(url, BEFORE_PROFILE_ON_ROW)
        with engine.connect() as connection:
            back = connection.execute(select(fields).order_by(fields.c.answer_id)).mappings().all()
        assert [dict(row) for row in back] == rows
    finally:
        engine.dispose()
        upgrade(url)
