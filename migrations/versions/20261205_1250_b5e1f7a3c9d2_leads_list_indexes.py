"""leads: indexes for the workbench's Leads list, paged by keyset on last seen, created and score

Revision ID: b5e1f7a3c9d2
Revises: a7d2c9e4b1f8
Create Date: 2026-12-05 12:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'b5e1f7a3c9d2'
down_revision: str | None = 'a7d2c9e4b1f8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_leads_last_seen_page', 'leads', ['last_seen_at', 'id'])
    op.create_index('ix_leads_created_page', 'leads', ['created_at', 'id'])
    op.create_index('ix_leads_score_page', 'leads', ['score', 'id'])


def downgrade() -> None:
    op.drop_index('ix_leads_score_page', table_name='leads')
    op.drop_index('ix_leads_created_page', table_name='leads')
    op.drop_index('ix_leads_last_seen_page', table_name='leads')
