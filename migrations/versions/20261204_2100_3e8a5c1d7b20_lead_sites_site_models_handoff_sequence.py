"""leads and scoring models belong to a site; hand-offs carry a per-lead sequence number

``leads.site_id``: the site a lead first answered on, filled from its earliest
answer. ``scoring_models.site_id``: a model published for one site (NULL: the
installation default). ``deliveries.sequence``: the lead's hand-off number,
filled for the deliveries already queued in the order they were made.

Revision ID: 3e8a5c1d7b20
Revises: 7b1d2e9c4f10
Create Date: 2026-12-04 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3e8a5c1d7b20"
down_revision: str | None = "7b1d2e9c4f10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_leads_site_id"), ["site_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_leads_site_id_sites"), "sites", ["site_id"], ["id"])
    with op.batch_alter_table("scoring_models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_scoring_models_site_id"), ["site_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_scoring_models_site_id_sites"), "sites", ["site_id"], ["id"])
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=True))

    leads = sa.table("leads", sa.column("id", sa.Integer()), sa.column("site_id", sa.Integer()))
    answers = sa.table(
        "answers", sa.column("id", sa.Integer()), sa.column("lead_id", sa.Integer()), sa.column("site_id", sa.Integer())
    )
    # the site of the lead's earliest answer (answers are append-only: the lowest id came first)
    earliest = (
        sa.select(answers.c.site_id)
        .where(answers.c.lead_id == leads.c.id)
        .order_by(answers.c.id)
        .limit(1)
        .scalar_subquery()
    )
    op.get_bind().execute(sa.update(leads).values(site_id=earliest))

    deliveries = sa.table(
        'deliveries', sa.column('id', sa.Integer()), sa.column('lead_id', sa.Integer()),
        sa.column('sequence', sa.Integer()), sa.column('created_at', sa.DateTime()),
    )  # fmt: skip
    # one number per hand-off (its copies to several endpoints share their moment), in the order made
    numbered = sa.select(
        deliveries.c.id,
        sa.func.dense_rank().over(partition_by=deliveries.c.lead_id, order_by=deliveries.c.created_at).label("number"),
    ).subquery()
    op.get_bind().execute(
        sa.update(deliveries).where(deliveries.c.id == numbered.c.id).values(sequence=numbered.c.number)
    )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("sequence")
    with op.batch_alter_table("scoring_models", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_scoring_models_site_id_sites"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_scoring_models_site_id"))
        batch_op.drop_column("site_id")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_leads_site_id_sites"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_leads_site_id"))
        batch_op.drop_column("site_id")
