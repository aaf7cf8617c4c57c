"""complaints: buyers' complaints and their history, partial refunds (orders.refunded_vnd, the
ledger's partial_refund kind)

Revision ID: 0005_complaints
Revises: 0004_accounts
Create Date: 2026-12-08

Orders refunded before this revision were refunded in full: their refunded_vnd is their total.
The downgrade refuses while an order is refunded in part (the schema before cannot record it).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_complaints"
down_revision = "0004_accounts"
branch_labels = None
depends_on = None

KINDS_BEFORE = "kind IN ('collected','refunded','payout')"
KINDS_AFTER = "kind IN ('collected','refunded','partial_refund','payout')"


def upgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refunded_vnd", sa.Integer(), server_default="0", nullable=False))
    orders = sa.table(
        "orders",
        sa.column("status", sa.String),
        sa.column("total_vnd", sa.Integer),
        sa.column("refunded_vnd", sa.Integer),
    )
    op.execute(orders.update().where(orders.c.status == "refunded").values(refunded_vnd=orders.c.total_vnd))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_orders_refunded_within_total"), "refunded_vnd >= 0 AND refunded_vnd <= total_vnd"
        )

    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_entries_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_entries_kind"), KINDS_AFTER)

    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("photo_keys", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("answer_due_at", sa.DateTime(), nullable=False),
        sa.Column("offer", sa.String(length=20), nullable=True),
        sa.Column("offer_vnd", sa.Integer(), nullable=True),
        sa.Column("offer_note", sa.Text(), nullable=True),
        sa.Column("refund_vnd", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "reason IN ('not_received','wrong_item','damaged','other')", name=op.f("ck_complaints_reason")
        ),
        sa.CheckConstraint(
            "status IN ('open','answered','escalated','refund_due','refunded','replaced','rejected')",
            name=op.f("ck_complaints_status"),
        ),
        sa.CheckConstraint(
            "offer IS NULL OR offer IN ('refund','replacement','reject')", name=op.f("ck_complaints_offer")
        ),
        sa.CheckConstraint("offer_vnd IS NULL OR offer_vnd > 0", name=op.f("ck_complaints_offer_positive")),
        sa.CheckConstraint("refund_vnd >= 0", name=op.f("ck_complaints_refund_nonnegative")),
        sa.ForeignKeyConstraint(
            ["opened_by_id"], ["users.id"], name=op.f("fk_complaints_opened_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_complaints_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("order_id", name=op.f("uq_complaints_order_id")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index("ix_complaints_status_updated", ["status", "updated_at"], unique=False)

    op.create_table(
        "complaint_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("amount_vnd", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_complaint_events_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_events_complaint_id_complaints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_events")),
    )
    with op.batch_alter_table("complaint_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_events_complaint_id"), ["complaint_id"], unique=False)


def downgrade():
    # Before this revision an order was refunded in full or not at all: an order refunded in part
    # (refunded_vnd above 0, status not refunded) cannot be written down without losing what was
    # given back (and its ledger entry would pass for a full refund). Refuse, and say which.
    orders = sa.table(
        "orders",
        sa.column("code", sa.String),
        sa.column("status", sa.String),
        sa.column("refunded_vnd", sa.Integer),
    )
    partly = (
        op.get_bind()
        .execute(
            sa.select(orders.c.code)
            .where(orders.c.refunded_vnd > 0, orders.c.status != "refunded")
            .order_by(orders.c.code)
        )
        .scalars()
        .all()
    )
    if partly:
        raise RuntimeError(
            f"Cannot downgrade below 0005_complaints: {len(partly)} order(s) are refunded in part "
            f"({', '.join(partly[:10])}{', …' if len(partly) > 10 else ''}), which the schema before "
            "it cannot record. Refund them in full or keep this revision."
        )
    with op.batch_alter_table("complaint_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_events_complaint_id"))
    op.drop_table("complaint_events")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_status_updated")
    op.drop_table("complaints")

    # A partial refund becomes part of the order's refund entry (one per order before this
    # revision): every sum stays the same.
    ledger = sa.table(
        "ledger_entries",
        sa.column("id", sa.Integer),
        sa.column("order_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("amount_vnd", sa.Integer),
    )
    part = ledger.alias("part")
    partial_of_order = sa.select(part.c.amount_vnd).where(
        part.c.order_id == ledger.c.order_id, part.c.kind == "partial_refund"
    )
    op.execute(
        ledger.update()
        .where(ledger.c.kind == "refunded", sa.exists(partial_of_order))
        .values(amount_vnd=ledger.c.amount_vnd + partial_of_order.scalar_subquery())
    )
    whole = ledger.alias("whole")
    op.execute(
        ledger.delete().where(
            ledger.c.kind == "partial_refund",
            sa.exists(
                sa.select(whole.c.id).where(whole.c.order_id == ledger.c.order_id, whole.c.kind == "refunded")
            ),
        )
    )
    op.execute(ledger.update().where(ledger.c.kind == "partial_refund").values(kind="refunded"))
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_entries_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_entries_kind"), KINDS_BEFORE)

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_orders_refunded_within_total"), type_="check")
        batch_op.drop_column("refunded_vnd")
