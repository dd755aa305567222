"""leads.visit_shown (the questions a visit has shown), answers.on_request (given beyond the quota)

A visit asks at most ``questions_per_visit`` questions in all: the lead row keeps
which questions the current visit has shown, so every ask reads it with the
profile. An answer given after the visitor asked for more carries that fact.

Revision ID: 5d3a8e61c2b7
Revises: 7b1d2e9c4f10
Create Date: 2026-12-04 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '5d3a8e61c2b7'
down_revision: str | None = '7b1d2e9c4f10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_shown', _JSON, server_default=sa.text("'{}'"), nullable=False))
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_request', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_column('on_request')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('visit_shown')
