"""rate_limit_counters: rate limits counted once for every worker and host

Flask-Limiter's memory storage counts per process, so two workers allowed
twice the documented figure. The database storage (capture/web/limit_storage.py)
keeps one row per limit, client and window here.

Revision ID: 6f1e0c9a4d52
Revises: 9c4b2f7a1e63
Create Date: 2026-12-04 23:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '6f1e0c9a4d52'
down_revision: str | None = '9c4b2f7a1e63'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'rate_limit_counters',
        sa.Column('limit_key', sa.String(length=200), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('limit_key', name=op.f('pk_rate_limit_counters')),
    )
    with op.batch_alter_table('rate_limit_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_counters_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rate_limit_counters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_counters_expires_at'))
    op.drop_table('rate_limit_counters')
