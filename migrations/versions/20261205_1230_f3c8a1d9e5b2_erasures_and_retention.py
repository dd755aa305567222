"""erasures, per-site retention, deliveries without a lead: what the data subject's rights and retention need

Revision ID: f3c8a1d9e5b2
Revises: c0a5e7f19d42
Create Date: 2026-12-05 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import capture.db.models.base
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'f3c8a1d9e5b2'
down_revision: str | None = 'c0a5e7f19d42'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'erasures',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('via', sa.String(length=16), nullable=False),
        sa.Column('rows', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
        sa.Column('webhooks', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_erasures')),
    )
    with op.batch_alter_table('sites') as batch:
        batch.add_column(sa.Column('keep_events_days', sa.Integer(), server_default='395', nullable=True))
        batch.add_column(sa.Column('keep_anonymous_leads_days', sa.Integer(), server_default='180', nullable=True))
        batch.add_column(sa.Column('keep_deliveries_days', sa.Integer(), server_default='90', nullable=True))
    with op.batch_alter_table('deliveries') as batch:
        batch.alter_column('lead_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE lead_id IS NULL")
    with op.batch_alter_table('deliveries') as batch:
        batch.alter_column('lead_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('sites') as batch:
        batch.drop_column('keep_deliveries_days')
        batch.drop_column('keep_anonymous_leads_days')
        batch.drop_column('keep_events_days')
    op.drop_table('erasures')
