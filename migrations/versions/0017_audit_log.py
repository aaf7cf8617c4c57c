"""audit log: every staff action, before and after (marketplace/audit.py); append-only.

Revision ID: 0017_audit_log
Revises: 0016_producer_dashboard
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_audit_log"
down_revision = "0016_producer_dashboard"
branch_labels = None
depends_on = None

# The database refuses to change or delete an entry, whatever the application does. (On SQLite a
# later batch_alter_table("audit_log") copies the table and drops the old one, and its triggers
# with it: such a migration must create them again.)
POSTGRES_FUNCTION = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql
"""


def upgrade():
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=120), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=120), nullable=False),
        sa.Column("operation", sa.String(length=10), nullable=False),
        sa.Column("entity_type", sa.String(length=80), nullable=False),
        sa.Column("entity_id", sa.String(length=80), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_audit_log_actor_created", ["actor_id", "created_at"], unique=False)
        batch_op.create_index("ix_audit_log_role_created", ["actor_role", "created_at"], unique=False)
        batch_op.create_index("ix_audit_log_entity", ["entity_type", "entity_id", "created_at"], unique=False)
    # A shop's figures over a period (the producer dashboard's sales, top listings, statement):
    # on 1 000 000 orders the biggest shop's year went from 290 ms to 19 ms (bench/dashboards_bench.py).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{verb}")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_entity")
        batch_op.drop_index("ix_audit_log_role_created")
        batch_op.drop_index("ix_audit_log_actor_created")
        batch_op.drop_index("ix_audit_log_created_at")
    op.drop_table("audit_log")
