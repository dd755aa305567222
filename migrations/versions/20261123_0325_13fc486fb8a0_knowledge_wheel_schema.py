"""knowledge wheel schema

Revision ID: 13fc486fb8a0
Revises: 
Create Date: 2026-11-23 03:25:07.579315
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import capture.db.models.base
from sqlalchemy.dialects import postgresql

revision: str = '13fc486fb8a0'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    
    op.create_table('leads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('visit_count', sa.Integer(), server_default='1', nullable=False),
    sa.Column('last_seen_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merged_into_id'], ['leads.id'], name=op.f('fk_leads_merged_into_id_leads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads')),
    sa.UniqueConstraint('email', name=op.f('uq_leads_email'))
    )
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leads_merged_into_id'), ['merged_into_id'], unique=False)

    op.create_table('sites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('public_key', sa.String(length=40), nullable=False),
    sa.Column('allowed_origins', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    sa.UniqueConstraint('public_key', name=op.f('uq_sites_public_key'))
    )
    op.create_table('forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_forms_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forms')),
    sa.UniqueConstraint('site_id', 'slug', name=op.f('uq_forms_site_id_slug'))
    )
    with op.batch_alter_table('forms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forms_site_id'), ['site_id'], unique=False)

    op.create_table('visitors',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('created_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_visitors_lead_id_leads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visitors'))
    )
    with op.batch_alter_table('visitors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visitors_lead_id'), ['lead_id'], unique=False)

    op.create_table('sequence_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('published_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name=op.f('fk_sequence_versions_form_id_forms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sequence_versions')),
    sa.UniqueConstraint('form_id', 'version', name=op.f('uq_sequence_versions_form_id_version'))
    )
    with op.batch_alter_table('sequence_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sequence_versions_form_id'), ['form_id'], unique=False)

    op.create_table('snoozes',
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('question_key', sa.String(length=64), nullable=False),
    sa.Column('skips', sa.Integer(), nullable=False),
    sa.Column('last_visit', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name=op.f('fk_snoozes_form_id_forms')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_snoozes_lead_id_leads')),
    sa.PrimaryKeyConstraint('lead_id', 'form_id', 'question_key', name=op.f('pk_snoozes'))
    )
    op.create_table('answers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('visitor_id', sa.String(length=32), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('sequence_version_id', sa.Integer(), nullable=False),
    sa.Column('question_key', sa.String(length=64), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('skipped', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('page_url', sa.String(length=2048), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('asked_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('consent_text', sa.Text(), nullable=True),
    sa.Column('consent_version', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=16), server_default='form', nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name=op.f('fk_answers_form_id_forms')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_answers_lead_id_leads')),
    sa.ForeignKeyConstraint(['sequence_version_id'], ['sequence_versions.id'], name=op.f('fk_answers_sequence_version_id_sequence_versions')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_answers_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answers'))
    )
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answers_form_id'), ['form_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_answers_lead_id'), ['lead_id', 'field'], unique=False)

    op.create_table('profile_fields',
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('answered_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['answers.id'], name=op.f('fk_profile_fields_answer_id_answers')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_profile_fields_lead_id_leads')),
    sa.PrimaryKeyConstraint('lead_id', 'field', name=op.f('pk_profile_fields'))
    )



def downgrade() -> None:
    
    op.drop_table('profile_fields')
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answers_lead_id'))
        batch_op.drop_index(batch_op.f('ix_answers_form_id'))

    op.drop_table('answers')
    op.drop_table('snoozes')
    with op.batch_alter_table('sequence_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sequence_versions_form_id'))

    op.drop_table('sequence_versions')
    with op.batch_alter_table('visitors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visitors_lead_id'))

    op.drop_table('visitors')
    with op.batch_alter_table('forms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forms_site_id'))

    op.drop_table('forms')
    op.drop_table('sites')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leads_merged_into_id'))

    op.drop_table('leads')

