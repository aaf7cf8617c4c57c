"""addresses: communes from the official list with the operator's corrections pinned, orders keep
their commune's name and their shipping zone, shipping rules per zone

Revision ID: 0008_addresses
Revises: 0007_legal
Create Date: 2026-12-02

Existing communes count as the operator's own rows (`source` operator, nothing pinned) until
`flask communes import-official` adopts them by name. Existing orders get the name their commune
has now and the zone "province" (every order so far went to the floor's own province). Each
existing shipping rule's flat fee, tiers and free-shipping threshold become its "province" zone;
the neighbouring provinces and the rest of the country get the floor's defaults
(orders.pricing.DEFAULT_RULES, copied here as they were when this migration was written).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_addresses"
down_revision = "0007_legal"
branch_labels = None
depends_on = None

ZONES = "'province','neighbour','country'"
DEFAULTS = {
    "neighbour": (30_000, [[2_000, 15_000], [5_000, 35_000], [10_000, 70_000]], 700_000),
    "country": (40_000, [[1_000, 10_000], [2_000, 25_000], [5_000, 60_000], [10_000, 120_000]], None),
}
PROVINCE_DEFAULT = (25_000, [[2_000, 10_000], [5_000, 25_000], [10_000, 50_000]], 500_000)


def upgrade():
    conn = op.get_bind()

    # communes: where a row came from, and what the operator corrected
    with op.batch_alter_table("communes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("operator_fields", sa.JSON(), nullable=True))
    communes = sa.table(
        "communes",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("source", sa.String),
        sa.column("operator_fields", sa.JSON),
    )
    conn.execute(communes.update().values(source="operator", operator_fields=[]))
    with op.batch_alter_table("communes", schema=None) as batch_op:
        batch_op.alter_column("source", existing_type=sa.String(length=10), nullable=False)
        batch_op.alter_column("operator_fields", existing_type=sa.JSON(), nullable=False)
        batch_op.create_check_constraint("source", "source IN ('official','operator')")

    # orders: the commune's name as it was, and the zone the fee was computed for
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("commune_name", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("shipping_zone", sa.String(length=10), nullable=True))
    orders = sa.table(
        "orders",
        sa.column("commune_id", sa.Integer),
        sa.column("commune_name", sa.String),
        sa.column("shipping_zone", sa.String),
    )
    name_now = sa.select(communes.c.name).where(communes.c.id == orders.c.commune_id).scalar_subquery()
    conn.execute(orders.update().values(commune_name=name_now, shipping_zone="province"))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column("commune_name", existing_type=sa.String(length=120), nullable=False)
        batch_op.alter_column("shipping_zone", existing_type=sa.String(length=10), nullable=False)
        batch_op.create_check_constraint("shipping_zone", f"shipping_zone IN ({ZONES})")

    # shipping rules: one row per zone (read first, then the rule's own fee columns go)
    rules = sa.table(
        "shipping_rules",
        sa.column("shop_id", sa.Integer),
        sa.column("flat_fee_vnd", sa.Integer),
        sa.column("tiers", sa.JSON),
        sa.column("free_over_vnd", sa.Integer),
    )
    rows = []
    for shop_id, flat, tiers, free_over in conn.execute(
        sa.select(rules.c.shop_id, rules.c.flat_fee_vnd, rules.c.tiers, rules.c.free_over_vnd)
    ).all():
        rows.append(
            {
                "shop_id": shop_id,
                "zone": "province",
                "ships": True,
                "flat_fee_vnd": flat,
                "tiers": tiers or [],
                "free_over_vnd": free_over,
            }
        )
        for zone, (d_flat, d_tiers, d_free) in DEFAULTS.items():
            rows.append(
                {
                    "shop_id": shop_id,
                    "zone": zone,
                    "ships": True,
                    "flat_fee_vnd": d_flat,
                    "tiers": d_tiers,
                    "free_over_vnd": d_free,
                }
            )
    with op.batch_alter_table("shipping_rules", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_shipping_rules_flat_fee_nonnegative"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_shipping_rules_free_over_nonnegative"), type_="check")
        batch_op.drop_column("free_over_vnd")
        batch_op.drop_column("tiers")
        batch_op.drop_column("flat_fee_vnd")
    zones = op.create_table(
        "shipping_zones",
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=10), nullable=False),
        sa.Column("ships", sa.Boolean(), nullable=False),
        sa.Column("flat_fee_vnd", sa.Integer(), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("free_over_vnd", sa.Integer(), nullable=True),
        sa.CheckConstraint(f"zone IN ({ZONES})", name=op.f("ck_shipping_zones_zone")),
        sa.CheckConstraint("flat_fee_vnd >= 0", name=op.f("ck_shipping_zones_flat_fee_nonnegative")),
        sa.CheckConstraint(
            "free_over_vnd IS NULL OR free_over_vnd >= 0", name=op.f("ck_shipping_zones_free_over_nonnegative")
        ),
        sa.CheckConstraint("ships OR zone <> 'province'", name=op.f("ck_shipping_zones_province_served")),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shipping_rules.shop_id"],
            name=op.f("fk_shipping_zones_shop_id_shipping_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("shop_id", "zone", name=op.f("pk_shipping_zones")),
    )
    if rows:
        op.bulk_insert(zones, rows)


def downgrade():
    conn = op.get_bind()

    # shipping rules: the "province" zone becomes the rule again; the other zones are lost
    zones = sa.table(
        "shipping_zones",
        sa.column("shop_id", sa.Integer),
        sa.column("zone", sa.String),
        sa.column("flat_fee_vnd", sa.Integer),
        sa.column("tiers", sa.JSON),
        sa.column("free_over_vnd", sa.Integer),
    )
    province = {
        shop_id: (flat, tiers, free_over)
        for shop_id, flat, tiers, free_over in conn.execute(
            sa.select(zones.c.shop_id, zones.c.flat_fee_vnd, zones.c.tiers, zones.c.free_over_vnd).where(
                zones.c.zone == "province"
            )
        ).all()
    }
    op.drop_table("shipping_zones")
    with op.batch_alter_table("shipping_rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flat_fee_vnd", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("tiers", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("free_over_vnd", sa.Integer(), nullable=True))
    rules = sa.table(
        "shipping_rules",
        sa.column("shop_id", sa.Integer),
        sa.column("flat_fee_vnd", sa.Integer),
        sa.column("tiers", sa.JSON),
        sa.column("free_over_vnd", sa.Integer),
    )
    for (shop_id,) in conn.execute(sa.select(rules.c.shop_id)).all():
        flat, tiers, free_over = province.get(shop_id, PROVINCE_DEFAULT)
        conn.execute(
            rules.update()
            .where(rules.c.shop_id == shop_id)
            .values(flat_fee_vnd=flat, tiers=tiers or [], free_over_vnd=free_over)
        )
    with op.batch_alter_table("shipping_rules", schema=None) as batch_op:
        batch_op.alter_column("flat_fee_vnd", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("tiers", existing_type=sa.JSON(), nullable=False)
        batch_op.create_check_constraint("flat_fee_nonnegative", "flat_fee_vnd >= 0")
        batch_op.create_check_constraint("free_over_nonnegative", "free_over_vnd IS NULL OR free_over_vnd >= 0")

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_orders_shipping_zone"), type_="check")
        batch_op.drop_column("shipping_zone")
        batch_op.drop_column("commune_name")

    with op.batch_alter_table("communes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_communes_source"), type_="check")
        batch_op.drop_column("operator_fields")
        batch_op.drop_column("source")
