"""fix-money: the official list's own code on each commune (official_code)

Revision ID: 0009_fix_money
Revises: 0008_addresses
Create Date: 2026-12-09

Communes imported from the official list get their official code from `code`, unless the operator
corrected the code (the next `flask communes import-official` then recognises them by province and
name).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_fix_money"
down_revision = "0008_addresses"
branch_labels = None
depends_on = None

communes = sa.table(
    "communes",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("official_code", sa.String),
    sa.column("source", sa.String),
    sa.column("operator_fields", sa.JSON),
)


def upgrade():
    conn = op.get_bind()

    with op.batch_alter_table("communes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("official_code", sa.String(length=20), nullable=True))
    for row_id, code, fields in conn.execute(
        sa.select(communes.c.id, communes.c.code, communes.c.operator_fields).where(
            communes.c.source == "official", communes.c.code.is_not(None)
        )
    ).all():
        if "code" not in (fields or []):
            conn.execute(communes.update().where(communes.c.id == row_id).values(official_code=code))
    with op.batch_alter_table("communes", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_communes_official_code"), ["official_code"])


def downgrade():
    with op.batch_alter_table("communes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_communes_official_code"), type_="unique")
        batch_op.drop_column("official_code")
