"""used_tickets: a render ticket carries one submission, once

Each ticket now carries a random id; the id of every ticket that carried answers
is kept here (with a digest of the submission, so a retry of the same one is
answered as before) until the ticket could no longer be read anyway.

Revision ID: 9c4b2f7a1e63
Revises: 5d3a8e61c2b7
Create Date: 2026-12-04 22:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import capture.db.models.base

revision: str = '9c4b2f7a1e63'
down_revision: str | None = '5d3a8e61c2b7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'used_tickets',
        sa.Column('ticket_id', sa.String(length=64), nullable=False),
        sa.Column('submission', sa.String(length=64), nullable=False),
        sa.Column('stored', sa.Integer(), nullable=False),
        sa.Column('used_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_used_tickets')),
    )
    with op.batch_alter_table('used_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_tickets_used_at'), ['used_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('used_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_tickets_used_at'))
    op.drop_table('used_tickets')
