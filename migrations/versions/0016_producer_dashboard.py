"""producer dashboard: a low-stock threshold per listing, the shop's public reply to a review, and
indexes the sales figures read alone: a shop's orders by time (on PostgreSQL carrying what the
figures sum) and what each order line sold.

Revision ID: 0016_producer_dashboard
Revises: 0015_page_cache
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_producer_dashboard"
down_revision = "0015_page_cache"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_shop_created",
            ["shop_id", "created_at"],
            unique=False,
            postgresql_include=["id", "status", "subtotal_vnd", "total_vnd"],
        )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_order_lines_order_sold", ["order_id", "listing_id", "quantity", "line_total_vnd"], unique=False
        )
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("low_stock_threshold", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_listings_low_stock_threshold_nonnegative"), "low_stock_threshold IS NULL OR low_stock_threshold >= 0"
        )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_body", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("replied_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("replied_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_reviews_replied_by_id_users"), "users", ["replied_by_id"], ["id"], ondelete="SET NULL"
        )


def downgrade():
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_reviews_replied_by_id_users"), type_="foreignkey")
        batch_op.drop_column("replied_by_id")
        batch_op.drop_column("replied_at")
        batch_op.drop_column("reply_body")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_listings_low_stock_threshold_nonnegative"), type_="check")
        batch_op.drop_column("low_stock_threshold")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_order_lines_order_sold")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_shop_created")
