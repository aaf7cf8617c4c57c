"""accounts: confirmed e-mail addresses, revocable sessions, atomic sign-in throttling, staff
invitations by single-use token

Revision ID: 0004_accounts
Revises: 0003_orders
Create Date: 2026-12-01

Existing accounts stay unconfirmed (nobody proved their address yet); their owners confirm with a
resent link or a password reset. Every existing session ends once (the cookies carry no session
token). Pending invitations from before get a random token nobody knows and expire now: they
show as expired and the owner invites again.
"""

import hashlib
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0004_accounts"
down_revision = "0003_orders"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_confirmed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("session_token", sa.String(length=64), nullable=True))

    with op.batch_alter_table("shop_invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))

    conn = op.get_bind()
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("session_token", sa.String))
    for (user_id,) in conn.execute(sa.select(users.c.id)).all():
        conn.execute(
            users.update().where(users.c.id == user_id).values(session_token=secrets.token_urlsafe(32))
        )
    invitations = sa.table(
        "shop_invitations",
        sa.column("id", sa.Integer),
        sa.column("token_hash", sa.String),
        sa.column("expires_at", sa.DateTime),
    )
    now = sa.func.current_timestamp()
    for (invitation_id,) in conn.execute(sa.select(invitations.c.id)).all():
        dead = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
        conn.execute(
            invitations.update()
            .where(invitations.c.id == invitation_id)
            .values(token_hash=dead, expires_at=now)
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("session_token", existing_type=sa.String(length=64), nullable=False)

    with op.batch_alter_table("shop_invitations", schema=None) as batch_op:
        batch_op.alter_column("token_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("expires_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_shop_invitations_token_hash"), ["token_hash"])

    op.create_table(
        "login_throttles",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("failures >= 0", name=op.f("ck_login_throttles_failures_nonnegative")),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_login_throttles")),
    )


def downgrade():
    op.drop_table("login_throttles")
    with op.batch_alter_table("shop_invitations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_shop_invitations_token_hash"), type_="unique")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("token_hash")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_token")
        batch_op.drop_column("email_confirmed_at")
