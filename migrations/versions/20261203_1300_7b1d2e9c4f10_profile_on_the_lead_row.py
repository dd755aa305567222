"""leads: the profile as one JSON document on the lead row (profile_fields folded in)

Every ask and answer read a lead's profile as a row per field, and every answer
upserted into profile_fields and its index as well as writing the lead. The
profile is now one document on ``leads.profile`` (capture/leads/profile_doc.py),
filled here from profile_fields, which is then dropped. Downgrade rebuilds the
table from the documents.

Revision ID: 7b1d2e9c4f10
Revises: 09ad6528bd5f
Create Date: 2026-12-03 13:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import groupby

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import capture.db.models.base

revision: str = '7b1d2e9c4f10'
down_revision: str | None = '09ad6528bd5f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_TIME = capture.db.models.base.UTCDateTime(timezone=True)
#: leads written per UPDATE batch while filling the documents
_BATCH = 1000


def _leads() -> sa.Table:
    return sa.table('leads', sa.column('id', sa.Integer()), sa.column('profile', _JSON))


def _fields() -> sa.Table:
    return sa.table(
        'profile_fields',
        sa.column('lead_id', sa.Integer()),
        sa.column('field', sa.String()),
        sa.column('value', _JSON),
        sa.column('answered_at', _TIME),
        sa.column('answer_id', sa.Integer()),
    )


def _moment(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec='microseconds')


def upgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('profile', _JSON, server_default=sa.text("'{}'"), nullable=False))

    connection = op.get_bind()
    leads, fields = _leads(), _fields()
    rows = connection.execute(
        sa.select(fields.c.lead_id, fields.c.field, fields.c.value, fields.c.answered_at, fields.c.answer_id)
        .order_by(fields.c.lead_id, fields.c.field)
    )
    update = sa.update(leads).where(leads.c.id == sa.bindparam('lead')).values(profile=sa.bindparam('document'))
    batch = []
    for lead_id, group in groupby(rows.all(), key=lambda row: row[0]):
        document = {
            field: [value, _moment(at), answer_id]  # [value, time answered, answer id]
            for _, field, value, at, answer_id in group
        }
        batch.append({'lead': lead_id, 'document': document})
        if len(batch) >= _BATCH:
            connection.execute(update, batch)
            batch = []
    if batch:
        connection.execute(update, batch)

    op.drop_table('profile_fields')


def downgrade() -> None:
    op.create_table('profile_fields',
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('value', _JSON, nullable=False),
    sa.Column('answered_at', _TIME, nullable=False),
    sa.Column('answer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['answers.id'], name=op.f('fk_profile_fields_answer_id_answers')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_profile_fields_lead_id_leads')),
    sa.PrimaryKeyConstraint('lead_id', 'field', name=op.f('pk_profile_fields'))
    )
    connection = op.get_bind()
    leads, fields = _leads(), _fields()
    batch = []
    for lead_id, document in connection.execute(sa.select(leads.c.id, leads.c.profile)).all():
        for field, (value, answered_at, answer_id) in (document or {}).items():
            batch.append({
                'lead_id': lead_id, 'field': field, 'value': value,
                'answered_at': datetime.fromisoformat(answered_at), 'answer_id': answer_id,
            })
        if len(batch) >= _BATCH:
            connection.execute(sa.insert(fields), batch)
            batch = []
    if batch:
        connection.execute(sa.insert(fields), batch)

    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('profile')
