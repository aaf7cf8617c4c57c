"""syndication: connections to the national platforms, category mappings, sync records per
listing and connection, channel choices, uploaded images and remote orders

Revision ID: 0011_syndication
Revises: 0009_fix_money
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_syndication"
down_revision = "0010_logistics"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "syndication_category_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("remote_category_id", sa.String(length=40), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_syndication_category_mappings_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_syndication_category_mappings_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_syndication_category_mappings")),
        sa.UniqueConstraint(
            "platform", "category_id", name=op.f("uq_syndication_category_mappings_platform_category_id")
        ),
    )
    with op.batch_alter_table("syndication_category_mappings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_syndication_category_mappings_category_id"), ["category_id"], unique=False
        )

    op.create_table(
        "syndication_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("remote_shop_id", sa.String(length=64), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("orders_pulled_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('active','needs_reconnecting')", name=op.f("ck_syndication_connections_state")
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_syndication_connections_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_syndication_connections")),
        sa.UniqueConstraint(
            "platform", "remote_shop_id", name=op.f("uq_syndication_connections_platform_remote_shop_id")
        ),
    )
    with op.batch_alter_table("syndication_connections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_syndication_connections_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "syndication_shop_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_syndication_shop_channels_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_syndication_shop_channels")),
        sa.UniqueConstraint("shop_id", "channel", name=op.f("uq_syndication_shop_channels_shop_id_channel")),
    )
    with op.batch_alter_table("syndication_shop_channels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_syndication_shop_channels_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "syndication_uploaded_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=80), nullable=False),
        sa.Column("remote_image_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["syndication_connections.id"],
            name=op.f("fk_syndication_uploaded_images_connection_id_syndication_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_syndication_uploaded_images")),
        sa.UniqueConstraint(
            "connection_id",
            "content_hash",
            name=op.f("uq_syndication_uploaded_images_connection_id_content_hash"),
        ),
    )
    with op.batch_alter_table("syndication_uploaded_images", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_syndication_uploaded_images_connection_id"), ["connection_id"], unique=False
        )

    op.create_table(
        "syndication_listing_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_syndication_listing_channels_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_syndication_listing_channels")),
        sa.UniqueConstraint(
            "listing_id", "channel", name=op.f("uq_syndication_listing_channels_listing_id_channel")
        ),
    )
    with op.batch_alter_table("syndication_listing_channels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_syndication_listing_channels_listing_id"), ["listing_id"], unique=False
        )

    op.create_table(
        "syndication_remote_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=True),
        sa.Column("listing_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("remote_order_id", sa.String(length=64), nullable=False),
        sa.Column("remote_item_id", sa.String(length=64), nullable=False),
        sa.Column("remote_status", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price_vnd", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=160), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("placed_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('taken','no_stock','unmatched','cancelled')", name=op.f("ck_syndication_remote_orders_state")
        ),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_syndication_remote_orders_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["syndication_connections.id"],
            name=op.f("fk_syndication_remote_orders_connection_id_syndication_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_syndication_remote_orders_listing_id_listings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_syndication_remote_orders_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_syndication_remote_orders")),
        sa.UniqueConstraint(
            "connection_id",
            "remote_order_id",
            "remote_item_id",
            name=op.f("uq_syndication_remote_orders_connection_id_remote_order_id_remote_item_id"),
        ),
    )
    with op.batch_alter_table("syndication_remote_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_syndication_remote_orders_connection_id"), ["connection_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_syndication_remote_orders_listing_id"), ["listing_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_syndication_remote_orders_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "syndication_sync_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("remote_id", sa.String(length=64), nullable=True),
        sa.Column("hashes", sa.JSON(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('queued','synced','failed','needs_attention','removed')",
            name=op.f("ck_syndication_sync_records_state"),
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["syndication_connections.id"],
            name=op.f("fk_syndication_sync_records_connection_id_syndication_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_syndication_sync_records_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_syndication_sync_records")),
        sa.UniqueConstraint(
            "listing_id", "connection_id", name=op.f("uq_syndication_sync_records_listing_id_connection_id")
        ),
    )
    with op.batch_alter_table("syndication_sync_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_syndication_sync_records_connection_id"), ["connection_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_syndication_sync_records_listing_id"), ["listing_id"], unique=False
        )
        batch_op.create_index("ix_syndication_sync_records_state", ["state", "connection_id"], unique=False)


def downgrade():
    with op.batch_alter_table("syndication_sync_records", schema=None) as batch_op:
        batch_op.drop_index("ix_syndication_sync_records_state")
        batch_op.drop_index(batch_op.f("ix_syndication_sync_records_listing_id"))
        batch_op.drop_index(batch_op.f("ix_syndication_sync_records_connection_id"))

    op.drop_table("syndication_sync_records")
    with op.batch_alter_table("syndication_remote_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_syndication_remote_orders_shop_id"))
        batch_op.drop_index(batch_op.f("ix_syndication_remote_orders_listing_id"))
        batch_op.drop_index(batch_op.f("ix_syndication_remote_orders_connection_id"))

    op.drop_table("syndication_remote_orders")
    with op.batch_alter_table("syndication_listing_channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_syndication_listing_channels_listing_id"))

    op.drop_table("syndication_listing_channels")
    with op.batch_alter_table("syndication_uploaded_images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_syndication_uploaded_images_connection_id"))

    op.drop_table("syndication_uploaded_images")
    with op.batch_alter_table("syndication_shop_channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_syndication_shop_channels_shop_id"))

    op.drop_table("syndication_shop_channels")
    with op.batch_alter_table("syndication_connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_syndication_connections_shop_id"))

    op.drop_table("syndication_connections")
    with op.batch_alter_table("syndication_category_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_syndication_category_mappings_category_id"))

    op.drop_table("syndication_category_mappings")
