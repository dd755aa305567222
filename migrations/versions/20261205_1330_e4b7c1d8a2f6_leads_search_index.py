"""leads: on PostgreSQL, the Leads list's searched text as a function, and a trigram index on it where pg_trgm can be had

A search for a term few leads hold otherwise reads every lead. The function is what the
list's query calls (capture/workbench/leads/queries.py), so the index on it serves the query.
Creating the pg_trgm extension needs a privilege some servers do not grant: without it the
index is left out (a notice says so) and searches read every lead, as on SQLite.

Revision ID: e4b7c1d8a2f6
Revises: c8f4a2e6d1b7
Create Date: 2026-12-05 13:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'e4b7c1d8a2f6'
down_revision: str | None = 'c8f4a2e6d1b7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE OR REPLACE FUNCTION leadwheel_lead_search_text(email text, profile jsonb) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT lower(concat_ws(E'\\n', email, profile -> 'first_name' ->> 0, profile -> 'last_name' ->> 0,
                                 profile -> 'name' ->> 0, profile -> 'company' ->> 0))
        $$
        """
    )
    op.execute(
        """
        DO $$
        BEGIN
          BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
          EXCEPTION WHEN insufficient_privilege OR undefined_file THEN
            RAISE NOTICE 'pg_trgm is not available: Leads searches read every lead';
          END;
          IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
            CREATE INDEX IF NOT EXISTS ix_leads_search_trgm
              ON leads USING gin (leadwheel_lead_search_text(email, profile) gin_trgm_ops);
          END IF;
        END
        $$
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_leads_search_trgm")
    op.execute("DROP FUNCTION IF EXISTS leadwheel_lead_search_text(text, jsonb)")
