"""page cache: the versions of what public pages show (marketplace/pagecache.py).

Revision ID: 0015_page_cache
Revises: 0014_understand
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_page_cache"
down_revision = "0014_understand"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "page_cache_scopes",
        sa.Column("scope", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_page_cache_scopes")),
    )
    with op.batch_alter_table("page_cache_scopes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_cache_scopes_changed_at"), ["changed_at"], unique=False)


def downgrade():
    with op.batch_alter_table("page_cache_scopes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_cache_scopes_changed_at"))
    op.drop_table("page_cache_scopes")
