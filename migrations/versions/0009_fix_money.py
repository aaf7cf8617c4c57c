"""fix-money: the official list's own code on each commune (official_code), and the buyer's time to
reply to a complaint the shop answered (complaints.reply_due_at)

Revision ID: 0009_fix_money
Revises: 0008_addresses
Create Date: 2026-12-09

Communes imported from the official list get their official code from `code`, unless the operator
corrected the code (the next `flask communes import-official` then recognises them by province and
name). Complaints already answered get a reply deadline of 7 days (ORDER_COMPLAINT_REPLY_DAYS'
default) from their answer, and the `complaint.accept` outbox event due then, as answering does now.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0009_fix_money"
down_revision = "0008_addresses"
branch_labels = None
depends_on = None

REPLY_DAYS = 7

communes = sa.table(
    "communes",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("official_code", sa.String),
    sa.column("source", sa.String),
    sa.column("operator_fields", sa.JSON),
)
complaints = sa.table(
    "complaints",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("updated_at", sa.DateTime),
    sa.column("reply_due_at", sa.DateTime),
)
outbox = sa.table(
    "outbox_events",
    sa.column("topic", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("idempotency_key", sa.String),
    sa.column("status", sa.String),
    sa.column("attempts", sa.Integer),
    sa.column("next_attempt_at", sa.DateTime),
    sa.column("created_at", sa.DateTime),
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

    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_due_at", sa.DateTime(), nullable=True))
    now = datetime.now(UTC).replace(tzinfo=None)
    for complaint_id, answered_at in conn.execute(
        sa.select(complaints.c.id, complaints.c.updated_at).where(complaints.c.status == "answered")
    ).all():
        due = answered_at + timedelta(days=REPLY_DAYS)
        conn.execute(complaints.update().where(complaints.c.id == complaint_id).values(reply_due_at=due))
        conn.execute(
            outbox.insert().values(
                topic="complaint.accept",
                payload={"complaint_id": complaint_id},
                idempotency_key=f"complaint.accept:{complaint_id}",
                status="pending",
                attempts=0,
                next_attempt_at=due,
                created_at=now,
            )
        )


def downgrade():
    conn = op.get_bind()
    # Before this revision nothing handles the event: the buyer's reply has no time limit again.
    conn.execute(outbox.delete().where(outbox.c.topic == "complaint.accept", outbox.c.status == "pending"))
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_column("reply_due_at")
    with op.batch_alter_table("communes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_communes_official_code"), type_="unique")
        batch_op.drop_column("official_code")
