"""ocop: the OCOP register (a claim checked by the operator before its badge shows), and CSV
uploads kept for their preview

Revision ID: 0006_ocop
Revises: 0005_complaints
Create Date: 2026-12-05

Every rating already on a listing becomes a claim in the register, one per distinct (shop,
certificate number, stars, level, date), and waits for the operator's check: nothing unverified
keeps showing a badge. The demo loader checks the demo's certificates through the real service
(run `flask demo load` again on a demo database).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_ocop"
down_revision = "0005_complaints"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ocop_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("certificate_no", sa.String(length=60), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("product_name", sa.String(length=160), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name=op.f("ck_ocop_certificates_stars_range")),
        sa.CheckConstraint(
            "status IN ('waiting','checked','refused')", name=op.f("ck_ocop_certificates_status")
        ),
        sa.CheckConstraint(
            "status <> 'refused' OR refusal_reason IS NOT NULL",
            name=op.f("ck_ocop_certificates_refusal_has_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_ocop_certificates_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_ocop_certificates_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocop_certificates")),
        sa.UniqueConstraint(
            "shop_id",
            "certificate_no",
            "stars",
            "level",
            "issued_on",
            name=op.f("uq_ocop_certificates_shop_id_certificate_no_stars_level_issued_on"),
        ),
    )
    with op.batch_alter_table("ocop_certificates", schema=None) as batch_op:
        batch_op.create_index("ix_ocop_certificates_status", ["status", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ocop_certificates_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "ocop_certificate_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("action IN ('checked','refused')", name=op.f("ck_ocop_certificate_events_action")),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_ocop_certificate_events_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["ocop_certificates.id"],
            name=op.f("fk_ocop_certificate_events_certificate_id_ocop_certificates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocop_certificate_events")),
    )
    with op.batch_alter_table("ocop_certificate_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ocop_certificate_events_certificate_id"), ["certificate_id"], unique=False
        )

    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ocop_certificate_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_listings_ocop_certificate_id"), ["ocop_certificate_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_listings_ocop_certificate_id_ocop_certificates"),
            "ocop_certificates",
            ["ocop_certificate_id"],
            ["id"],
            ondelete="SET NULL",
        )

    op.create_table(
        "csv_import_previews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_csv_import_previews_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_csv_import_previews_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csv_import_previews")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_csv_import_previews_token_hash")),
    )
    with op.batch_alter_table("csv_import_previews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_csv_import_previews_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_csv_import_previews_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_csv_import_previews_user_id"), ["user_id"], unique=False)

    _register_existing_ratings()


def _register_existing_ratings() -> None:
    """One waiting claim per distinct rating already on listings; the listings cite it."""
    conn = op.get_bind()
    listings = sa.table(
        "listings",
        sa.column("id", sa.Integer),
        sa.column("shop_id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("ocop_stars", sa.Integer),
        sa.column("ocop_certificate_no", sa.String),
        sa.column("ocop_level", sa.String),
        sa.column("ocop_issued_on", sa.Date),
        sa.column("ocop_certificate_id", sa.Integer),
    )
    certificates = sa.table(
        "ocop_certificates",
        sa.column("id", sa.Integer),
        sa.column("shop_id", sa.Integer),
        sa.column("certificate_no", sa.String),
        sa.column("stars", sa.Integer),
        sa.column("level", sa.String),
        sa.column("issued_on", sa.Date),
        sa.column("product_name", sa.String),
        sa.column("status", sa.String),
        sa.column("created_at", sa.DateTime),
    )
    rated = conn.execute(
        sa.select(
            listings.c.id,
            listings.c.shop_id,
            listings.c.title,
            listings.c.ocop_stars,
            listings.c.ocop_certificate_no,
            listings.c.ocop_level,
            listings.c.ocop_issued_on,
        )
        .where(
            listings.c.ocop_stars.is_not(None),
            listings.c.ocop_certificate_no.is_not(None),
            listings.c.ocop_issued_on.is_not(None),
        )
        .order_by(listings.c.id)
    ).all()
    claims: dict[tuple, int] = {}
    for row in rated:
        key = (row.shop_id, row.ocop_certificate_no, row.ocop_stars, row.ocop_level or "", row.ocop_issued_on)
        if key not in claims:
            claims[key] = conn.execute(
                certificates.insert()
                .values(
                    shop_id=key[0],
                    certificate_no=key[1],
                    stars=key[2],
                    level=key[3],
                    issued_on=key[4],
                    product_name=row.title[:160],
                    status="waiting",
                    created_at=sa.func.current_timestamp(),
                )
                .returning(certificates.c.id)
            ).scalar_one()
        conn.execute(listings.update().where(listings.c.id == row.id).values(ocop_certificate_id=claims[key]))


def downgrade():
    with op.batch_alter_table("csv_import_previews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_csv_import_previews_user_id"))
        batch_op.drop_index(batch_op.f("ix_csv_import_previews_shop_id"))
        batch_op.drop_index(batch_op.f("ix_csv_import_previews_expires_at"))
    op.drop_table("csv_import_previews")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_listings_ocop_certificate_id_ocop_certificates"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_listings_ocop_certificate_id"))
        batch_op.drop_column("ocop_certificate_id")
    with op.batch_alter_table("ocop_certificate_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocop_certificate_events_certificate_id"))
    op.drop_table("ocop_certificate_events")
    with op.batch_alter_table("ocop_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocop_certificates_shop_id"))
        batch_op.drop_index("ix_ocop_certificates_status")
    op.drop_table("ocop_certificates")
