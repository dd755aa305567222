"""users.grants: permissions an admin grants one user beyond their role (a salesperson's export)

Revision ID: a7d2c9e4b1f8
Revises: f3c8a1d9e5b2
Create Date: 2026-12-05 12:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'a7d2c9e4b1f8'
down_revision: str | None = 'f3c8a1d9e5b2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(
            sa.Column(
                'grants',
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                server_default=sa.text("'[]'"),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('grants')
