"""answers from outside a form

An e-mail given through ``leadwheel('identify', ...)`` (and later imports) is an
answer with no form, sequence version or question. Downgrading fails while such
answers exist, on purpose: it would have to throw them away.

Revision ID: 4964a5a4f3f7
Revises: 13fc486fb8a0
Create Date: 2026-11-23 09:51:57.307374
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '4964a5a4f3f7'
down_revision: str | None = '13fc486fb8a0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.alter_column('form_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('sequence_version_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('question_key',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.alter_column('question_key',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.alter_column('sequence_version_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.alter_column('form_id',
               existing_type=sa.INTEGER(),
               nullable=False)
