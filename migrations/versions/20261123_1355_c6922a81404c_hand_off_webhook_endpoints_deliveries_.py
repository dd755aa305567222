"""hand-off: webhook endpoints, deliveries, attempts, sales outcomes

The outbox of hand-offs to sales (deliveries, with every attempt), the
endpoints they go to, what sales reported back, and each lead's owner.

Revision ID: c6922a81404c
Revises: a5a6db66298a
Create Date: 2026-11-23 13:55:11.408050
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import capture.db.models.base
from sqlalchemy.dialects import postgresql

revision: str = 'c6922a81404c'
down_revision: str | None = 'a5a6db66298a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('webhook_endpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('events', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('previous_secret', sa.String(length=128), nullable=True),
    sa.Column('previous_secret_until', capture.db.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failure_streak', sa.Integer(), server_default='0', nullable=False),
    sa.Column('disabled_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('disabled_reason', sa.Text(), nullable=True),
    sa.Column('created_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints'))
    )
    op.create_table('deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('message_id', sa.String(length=40), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('event_type', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', capture.db.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], name=op.f('fk_deliveries_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_deliveries_lead_id_leads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('message_id', name=op.f('uq_deliveries_message_id'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliveries_endpoint_id'), ['endpoint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliveries_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliveries_status'), ['status', 'next_attempt_at'], unique=False)

    op.create_table('sales_outcomes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_sales_outcomes_lead_id_leads')),
    sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id'], name=op.f('fk_sales_outcomes_token_id_api_tokens'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_outcomes'))
    )
    with op.batch_alter_table('sales_outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_outcomes_lead_id'), ['lead_id'], unique=False)

    op.create_table('delivery_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('delivery_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('latency_ms', sa.Integer(), nullable=False),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_delivery_attempts_delivery_id_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempts'))
    )
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_attempts_delivery_id'), ['delivery_id'], unique=False)

    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('sales_outcome', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('sales_outcome_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('sales_outcome_at')
        batch_op.drop_column('sales_outcome')
        batch_op.drop_column('owner')

    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_attempts_delivery_id'))

    op.drop_table('delivery_attempts')
    with op.batch_alter_table('sales_outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_outcomes_lead_id'))

    op.drop_table('sales_outcomes')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_status'))
        batch_op.drop_index(batch_op.f('ix_deliveries_lead_id'))
        batch_op.drop_index(batch_op.f('ix_deliveries_endpoint_id'))

    op.drop_table('deliveries')
    op.drop_table('webhook_endpoints')
