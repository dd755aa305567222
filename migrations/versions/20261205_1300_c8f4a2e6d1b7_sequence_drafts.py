"""sequence_drafts, sequence_versions.published_by: the workbench's sequence editor

Revision ID: c8f4a2e6d1b7
Revises: b5e1f7a3c9d2
Create Date: 2026-12-05 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import capture.db.models.base
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'c8f4a2e6d1b7'
down_revision: str | None = 'b5e1f7a3c9d2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sequence_drafts',
        sa.Column('form_id', sa.Integer(), nullable=False),
        sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
        sa.Column('based_on', sa.Integer(), nullable=True),
        sa.Column('updated_by', sa.String(length=254), nullable=False),
        sa.Column('updated_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name=op.f('fk_sequence_drafts_form_id_forms'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('form_id', name=op.f('pk_sequence_drafts')),
    )
    with op.batch_alter_table('sequence_versions') as batch:
        batch.add_column(sa.Column('published_by', sa.String(length=254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sequence_versions') as batch:
        batch.drop_column('published_by')
    op.drop_table('sequence_drafts')
