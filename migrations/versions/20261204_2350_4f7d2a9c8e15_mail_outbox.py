"""mail_outbox: the outbox of mails (confirmation links and the like), sent by the worker

One row per mail, written in the transaction that wants it sent; the worker claims
due rows with a lease (claimed_until). Indexed for the due lookup and for the
per-address, per-purpose count of the last 24 hours (the anti mail-bombing cap).

Revision ID: 4f7d2a9c8e15
Revises: 6f1e0c9a4d52
Create Date: 2026-12-04 23:50:49.728013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import capture.db.models.base

revision: str = '4f7d2a9c8e15'
down_revision: str | None = '6f1e0c9a4d52'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'mail_outbox',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('to', sa.String(length=320), nullable=False),
        sa.Column('subject', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('purpose', sa.String(length=64), nullable=False),
        sa.Column('message_id', sa.String(length=255), nullable=False),
        sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_attempt_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('claimed_until', capture.db.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('sent_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox')),
        sa.UniqueConstraint('message_id', name=op.f('uq_mail_outbox_message_id')),
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_outbox_status'), ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_outbox_to'), ['to', 'purpose', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_outbox_to'))
        batch_op.drop_index(batch_op.f('ix_mail_outbox_status'))
    op.drop_table('mail_outbox')
