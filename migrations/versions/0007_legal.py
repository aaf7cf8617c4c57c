"""legal: versioned legal pages, consents to the privacy policy, erased accounts, shops' tax codes

Revision ID: 0007_legal
Revises: 0006_ocop
Create Date: 2026-12-02

Existing shops whose registration number is written as a tax code (10 digits, or 10-3 for a
branch) get it copied into the new tax_code column; the others keep working and are asked for a
tax code at their next profile edit (required of cooperatives and enterprises). Existing accounts
have no consent recorded: they are asked at their next checkout.
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0007_legal"
down_revision = "0006_ocop"
branch_labels = None
depends_on = None

_TAX_CODE = re.compile(r"\d{10}(-\d{3})?")


def upgrade():
    op.create_table(
        "legal_page_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page", sa.String(length=20), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("change_note", sa.String(length=300), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("number > 0", name=op.f("ck_legal_page_versions_number_positive")),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_legal_page_versions_published_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_page_versions")),
        sa.UniqueConstraint("page", "number", name=op.f("uq_legal_page_versions_page_number")),
    )
    with op.batch_alter_table("legal_page_versions", schema=None) as batch_op:
        batch_op.create_index("ix_legal_page_versions_page_effective", ["page", "effective_from"], unique=False)

    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("document", sa.String(length=20), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("context", sa.String(length=20), nullable=False),
        sa.Column("given_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_consents_user_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["legal_page_versions.id"],
            name=op.f("fk_consents_version_id_legal_page_versions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index("ix_consents_user_document", ["user_id", "document"], unique=False)

    op.create_table(
        "account_deletions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("erased_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("method IN ('self_service')", name=op.f("ck_account_deletions_method")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_account_deletions_user_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_deletions")),
        sa.UniqueConstraint("user_id", name=op.f("uq_account_deletions_user_id")),
    )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_payments_consent_id_consents"), "consents", ["consent_id"], ["id"], ondelete="RESTRICT"
        )

    with op.batch_alter_table("shops", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_code", sa.String(length=14), nullable=True))

    conn = op.get_bind()
    shops = sa.table(
        "shops",
        sa.column("id", sa.Integer),
        sa.column("registration_number", sa.String),
        sa.column("tax_code", sa.String),
    )
    rows = conn.execute(sa.select(shops.c.id, shops.c.registration_number)).all()
    for shop_id, registration in rows:
        code = (registration or "").replace(" ", "").replace(".", "")
        if _TAX_CODE.fullmatch(code):
            conn.execute(shops.update().where(shops.c.id == shop_id).values(tax_code=code))


def downgrade():
    with op.batch_alter_table("shops", schema=None) as batch_op:
        batch_op.drop_column("tax_code")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_payments_consent_id_consents"), type_="foreignkey")
        batch_op.drop_column("consent_id")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
    op.drop_table("account_deletions")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index("ix_consents_user_document")
    op.drop_table("consents")
    with op.batch_alter_table("legal_page_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_legal_page_versions_page_effective")
    op.drop_table("legal_page_versions")
