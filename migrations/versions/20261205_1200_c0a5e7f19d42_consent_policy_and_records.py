"""sites.consent_policy, sites.marketing_double_opt_in, consent_records: consent per purpose, with proof

Existing sites keep today's behaviour ("not_required", the server default);
sites created from now on get "required" from the model's default.

Revision ID: c0a5e7f19d42
Revises: e2a9c4d7f1b3
Create Date: 2026-12-05 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import capture.db.models.base
from alembic import op

revision: str = 'c0a5e7f19d42'
down_revision: str | None = 'e2a9c4d7f1b3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sites') as batch:
        batch.add_column(sa.Column('consent_policy', sa.String(length=16), server_default='not_required', nullable=False))
        batch.add_column(sa.Column('marketing_double_opt_in', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'consent_records',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('lead_id', sa.Integer(), nullable=True),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('visitor_id', sa.String(length=32), nullable=True),
        sa.Column('purpose', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('version', sa.String(length=64), nullable=False),
        sa.Column('locale', sa.String(length=35), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('page_url', sa.String(length=2048), nullable=True),
        sa.Column('recorded_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_consent_records_lead_id_leads')),
        sa.ForeignKeyConstraint(
            ['site_id'], ['sites.id'], name=op.f('fk_consent_records_site_id_sites'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_records')),
    )
    op.create_index(
        'ix_consent_records_lead_id', 'consent_records', ['lead_id', 'purpose', 'recorded_at'], unique=False
    )
    op.create_index(
        'ix_consent_records_visitor_id', 'consent_records', ['visitor_id', 'recorded_at'], unique=False
    )
    op.create_index(op.f('ix_consent_records_site_id'), 'consent_records', ['site_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_consent_records_site_id'), table_name='consent_records')
    op.drop_index('ix_consent_records_visitor_id', table_name='consent_records')
    op.drop_index('ix_consent_records_lead_id', table_name='consent_records')
    op.drop_table('consent_records')
    with op.batch_alter_table('sites') as batch:
        batch.drop_column('marketing_double_opt_in')
        batch.drop_column('consent_policy')
