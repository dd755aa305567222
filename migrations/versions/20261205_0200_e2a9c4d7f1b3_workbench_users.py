"""users, sign_in_failures: the people who sign in to the workbench, and the refused sign-ins that lock them out

Revision ID: e2a9c4d7f1b3
Revises: b7e3d1c05a2f
Create Date: 2026-12-05 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import capture.db.models.base
from alembic import op

revision: str = 'e2a9c4d7f1b3'
down_revision: str | None = 'b7e3d1c05a2f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('locale', sa.String(length=16), nullable=True),
        sa.Column('session_token', sa.String(length=64), nullable=False),
        sa.Column('created_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('disabled_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
        sa.UniqueConstraint('email', name=op.f('uq_users_email')),
        sa.UniqueConstraint('session_token', name=op.f('uq_users_session_token')),
    )
    op.create_table(
        'sign_in_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('failed_at', capture.db.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures')),
    )
    op.create_index('ix_sign_in_failures_subject', 'sign_in_failures', ['subject', 'failed_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sign_in_failures_subject', table_name='sign_in_failures')
    op.drop_table('sign_in_failures')
    op.drop_table('users')
