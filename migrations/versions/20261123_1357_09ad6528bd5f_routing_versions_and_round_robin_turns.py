"""routing: versions and round-robin turns

Who in sales gets a handed-off lead: published routing documents, and each
team's round-robin position.

Revision ID: 09ad6528bd5f
Revises: c6922a81404c
Create Date: 2026-11-23 13:57:00.043763
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import capture.db.models.base
from sqlalchemy.dialects import postgresql

revision: str = '09ad6528bd5f'
down_revision: str | None = 'c6922a81404c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('routing_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('published_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_versions')),
    sa.UniqueConstraint('version', name=op.f('uq_routing_versions_version'))
    )
    op.create_table('team_turns',
    sa.Column('team', sa.String(length=64), nullable=False),
    sa.Column('turns', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('team', name=op.f('pk_team_turns'))
    )


def downgrade() -> None:
    op.drop_table('team_turns')
    op.drop_table('routing_versions')
