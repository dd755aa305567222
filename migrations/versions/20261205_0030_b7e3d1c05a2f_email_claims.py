"""email_claims, leads.email_confirmed_at/_via, sites.identity_secret: an e-mail typed in a browser is a claim

A browser that typed an address another lead holds was merged into that lead. Now
it keeps its own lead and the claim waits here until it is confirmed (by a link
mailed to the address, or by the site's back end with an HMAC under the site's
identity secret). Existing sites get a fresh random identity secret each.

Revision ID: b7e3d1c05a2f
Revises: 4f7d2a9c8e15
Create Date: 2026-12-05 00:30:00.000000
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import capture.db.models.base
from alembic import op

revision: str = 'b7e3d1c05a2f'
down_revision: str | None = '4f7d2a9c8e15'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'email_claims',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('lead_id', sa.Integer(), nullable=False),
        sa.Column('visitor_id', sa.String(length=32), nullable=True),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('answer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('locale', sa.String(length=16), nullable=False),
        sa.Column('created_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('mailed', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('resolved_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('resolution', sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_email_claims_lead_id_leads')),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_email_claims_site_id_sites')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_claims')),
    )
    with op.batch_alter_table('email_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_claims_email'), ['email', 'resolved_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_claims_lead_id'), ['lead_id'], unique=False)
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_confirmed_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('email_confirmed_via', sa.String(length=16), nullable=True))
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity_secret', sa.String(length=64), nullable=True))
    sites = sa.table('sites', sa.column('id', sa.Integer()), sa.column('identity_secret', sa.String()))
    connection = op.get_bind()
    for (site_id,) in connection.execute(sa.select(sites.c.id)).all():
        connection.execute(
            sa.update(sites).where(sites.c.id == site_id).values(identity_secret=secrets.token_hex(32))
        )
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.alter_column('identity_secret', existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('identity_secret')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('email_confirmed_via')
        batch_op.drop_column('email_confirmed_at')
    with op.batch_alter_table('email_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_claims_lead_id'))
        batch_op.drop_index(batch_op.f('ix_email_claims_email'))
    op.drop_table('email_claims')
