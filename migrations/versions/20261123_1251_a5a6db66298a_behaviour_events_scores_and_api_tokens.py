"""behaviour events, scores and api tokens

Events from browsers and back-end systems; published scoring models; the
current score on each lead with its history; hashed API tokens.

Revision ID: a5a6db66298a
Revises: 4964a5a4f3f7
Create Date: 2026-11-23 12:51:08.322499
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import capture.db.models.base
from sqlalchemy.dialects import postgresql

revision: str = 'a5a6db66298a'
down_revision: str | None = '4964a5a4f3f7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('scoring_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('published_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rescored_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_models')),
    sa.UniqueConstraint('version', name=op.f('uq_scoring_models_version'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_api_tokens_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('digest', name=op.f('uq_api_tokens_digest'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_site_id'), ['site_id'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=64), nullable=False),
    sa.Column('visitor_id', sa.String(length=32), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=True),
    sa.Column('path', sa.String(length=2048), nullable=True),
    sa.Column('props', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_events_lead_id_leads')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_events_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('site_id', 'uid', name=op.f('uq_events_site_id_uid'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_lead_id'), ['lead_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_visitor_id'), ['visitor_id'], unique=False)

    op.create_table('score_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('scoring_model_id', sa.Integer(), nullable=False),
    sa.Column('at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('fit', sa.Float(), nullable=False),
    sa.Column('engagement', sa.Float(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('stage_before', sa.String(length=16), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('cause', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_score_changes_lead_id_leads')),
    sa.ForeignKeyConstraint(['scoring_model_id'], ['scoring_models.id'], name=op.f('fk_score_changes_scoring_model_id_scoring_models')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_changes'))
    )
    with op.batch_alter_table('score_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_changes_lead_id'), ['lead_id', 'at'], unique=False)

    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage', sa.String(length=16), server_default='subscriber', nullable=False))
        batch_op.add_column(sa.Column('stage_changed_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('fit', sa.Float(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('engagement', sa.Float(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('score', sa.Float(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('completeness', sa.Float(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('explanation', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('scored_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('scoring_model_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('score_state', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
        batch_op.create_index(batch_op.f('ix_leads_stage'), ['stage'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_leads_scoring_model_id_scoring_models'), 'scoring_models', ['scoring_model_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_leads_scoring_model_id_scoring_models'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_leads_stage'))
        batch_op.drop_column('score_state')
        batch_op.drop_column('scoring_model_id')
        batch_op.drop_column('scored_at')
        batch_op.drop_column('explanation')
        batch_op.drop_column('completeness')
        batch_op.drop_column('score')
        batch_op.drop_column('engagement')
        batch_op.drop_column('fit')
        batch_op.drop_column('stage_changed_at')
        batch_op.drop_column('stage')

    with op.batch_alter_table('score_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_changes_lead_id'))

    op.drop_table('score_changes')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_visitor_id'))
        batch_op.drop_index(batch_op.f('ix_events_lead_id'))

    op.drop_table('events')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_site_id'))

    op.drop_table('api_tokens')
    op.drop_table('scoring_models')
