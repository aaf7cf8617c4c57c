"""english names: the floor's certifications (VietGAP, Hữu cơ…) with the English name the operator
gives each (categories have had `name_en` since 0001).

Revision ID: 0013_english_names
Revises: 0012_govqa
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_english_names"
down_revision = "0012_govqa"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "certifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certifications")),
        sa.UniqueConstraint("name", name=op.f("uq_certifications_name")),
    )


def downgrade():
    op.drop_table("certifications")
