"""govqa: government Q&A — agencies, officials and their invitations, business profiles,
questions with messages, attachments, events, contributions, follows and ratings, the operator's
redaction rules (the built-in ones live in govqa/redaction.py) and manual redactions, the
calendar of announced days.

Revision ID: 0012_govqa
Revises: 0009_fix_money
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_govqa"
down_revision = "0011_syndication"
branch_labels = None
depends_on = None



def upgrade():
    op.create_table(
        "qa_agencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.Column("transfer_restarts_clock", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "working_days >= 1 AND working_days <= 365", name=op.f("ck_qa_agencies_working_days")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_agencies")),
        sa.UniqueConstraint("slug", name=op.f("uq_qa_agencies_slug")),
    )
    op.create_table(
        "qa_business_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("business_name", sa.String(length=200), nullable=False),
        sa.Column("tax_code", sa.String(length=14), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_qa_business_profiles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_business_profiles")),
        sa.UniqueConstraint("user_id", name=op.f("uq_qa_business_profiles_user_id")),
    )
    op.create_table(
        "qa_calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('day_off','working_day')", name=op.f("ck_qa_calendar_days_kind")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_qa_calendar_days_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_qa_calendar_days")),
    )
    op.create_table(
        "qa_official_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["qa_agencies.id"],
            name=op.f("fk_qa_official_invitations_agency_id_qa_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_qa_official_invitations_invited_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_official_invitations")),
        sa.UniqueConstraint("agency_id", "email", name=op.f("uq_qa_official_invitations_agency_id_email")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_qa_official_invitations_token_hash")),
    )
    op.create_table(
        "qa_officials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["qa_agencies.id"],
            name=op.f("fk_qa_officials_agency_id_qa_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_qa_officials_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_officials")),
        sa.UniqueConstraint("user_id", name=op.f("uq_qa_officials_user_id")),
    )
    with op.batch_alter_table("qa_officials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_officials_agency_id"), ["agency_id"], unique=False)

    op.create_table(
        "qa_redaction_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("pattern", sa.Text(), nullable=False),
        sa.Column("replacement", sa.String(length=80), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_qa_redaction_rules_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_redaction_rules")),
    )
    op.create_table(
        "qa_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("asker_id", sa.Integer(), nullable=True),
        sa.Column("asker_name", sa.String(length=120), nullable=False),
        sa.Column("business_name", sa.String(length=200), nullable=False),
        sa.Column("tax_code", sa.String(length=14), nullable=True),
        sa.Column("shop_id", sa.Integer(), nullable=True),
        sa.Column("show_asker_name", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("clock_started_on", sa.Date(), nullable=True),
        sa.Column("working_days_allowed", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("long_due_on", sa.Date(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("reject_kind", sa.String(length=20), nullable=True),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "reject_kind IS NULL OR reject_kind IN ('out_of_scope','duplicate','abusive')",
            name=op.f("ck_qa_questions_reject_kind"),
        ),
        sa.CheckConstraint(
            "state IN ('submitted','awaiting_clarification','awaiting_answer','answered','transferred','not_our_remit','rejected','withdrawn')",
            name=op.f("ck_qa_questions_state"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["qa_agencies.id"], name=op.f("fk_qa_questions_agency_id_qa_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["asker_id"], ["users.id"], name=op.f("fk_qa_questions_asker_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["qa_questions.id"],
            name=op.f("fk_qa_questions_duplicate_of_id_qa_questions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_qa_questions_shop_id_shops"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_questions")),
        sa.UniqueConstraint("slug", name=op.f("uq_qa_questions_slug")),
    )
    with op.batch_alter_table("qa_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_questions_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_questions_asker_id"), ["asker_id"], unique=False)
        batch_op.create_index("ix_qa_questions_state_due", ["state", "due_on"], unique=False)

    op.create_table(
        "qa_contributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["qa_agencies.id"],
            name=op.f("fk_qa_contributions_agency_id_qa_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["qa_questions.id"],
            name=op.f("fk_qa_contributions_question_id_qa_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_contributions")),
        sa.UniqueConstraint(
            "question_id", "agency_id", name=op.f("uq_qa_contributions_question_id_agency_id")
        ),
    )
    op.create_table(
        "qa_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=30), nullable=True),
        sa.Column("to_state", sa.String(length=30), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_qa_events_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["qa_agencies.id"],
            name=op.f("fk_qa_events_agency_id_qa_agencies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["qa_questions.id"],
            name=op.f("fk_qa_events_question_id_qa_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_events")),
    )
    with op.batch_alter_table("qa_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_events_question_id"), ["question_id"], unique=False)

    op.create_table(
        "qa_follows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["qa_questions.id"],
            name=op.f("fk_qa_follows_question_id_qa_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_qa_follows_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_follows")),
        sa.UniqueConstraint("question_id", "user_id", name=op.f("uq_qa_follows_question_id_user_id")),
    )
    with op.batch_alter_table("qa_follows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_follows_user_id"), ["user_id"], unique=False)

    op.create_table(
        "qa_manual_redactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("phrase", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_qa_manual_redactions_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["qa_questions.id"],
            name=op.f("fk_qa_manual_redactions_question_id_qa_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_manual_redactions")),
    )
    with op.batch_alter_table("qa_manual_redactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_qa_manual_redactions_question_id"), ["question_id"], unique=False
        )

    op.create_table(
        "qa_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('answer','clarification_request','clarification','contribution_request','contribution','note')",
            name=op.f("ck_qa_messages_kind"),
        ),
        sa.CheckConstraint(
            "visibility IN ('public','asker','staff','hidden')", name=op.f("ck_qa_messages_visibility")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["qa_agencies.id"],
            name=op.f("fk_qa_messages_agency_id_qa_agencies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_qa_messages_author_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["qa_questions.id"],
            name=op.f("fk_qa_messages_question_id_qa_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_messages")),
    )
    with op.batch_alter_table("qa_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_messages_question_id"), ["question_id"], unique=False)

    op.create_table(
        "qa_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("useful", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["qa_questions.id"],
            name=op.f("fk_qa_ratings_question_id_qa_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_qa_ratings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_ratings")),
        sa.UniqueConstraint("question_id", "user_id", name=op.f("uq_qa_ratings_question_id_user_id")),
    )
    with op.batch_alter_table("qa_ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_ratings_user_id"), ["user_id"], unique=False)

    op.create_table(
        "qa_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('pdf','image')", name=op.f("ck_qa_attachments_kind")),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["qa_messages.id"],
            name=op.f("fk_qa_attachments_message_id_qa_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["qa_questions.id"],
            name=op.f("fk_qa_attachments_question_id_qa_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_qa_attachments_uploaded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_attachments")),
    )
    with op.batch_alter_table("qa_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_attachments_question_id"), ["question_id"], unique=False)


def downgrade():
    with op.batch_alter_table("qa_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_attachments_question_id"))

    op.drop_table("qa_attachments")
    with op.batch_alter_table("qa_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_ratings_user_id"))

    op.drop_table("qa_ratings")
    with op.batch_alter_table("qa_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_messages_question_id"))

    op.drop_table("qa_messages")
    with op.batch_alter_table("qa_manual_redactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_manual_redactions_question_id"))

    op.drop_table("qa_manual_redactions")
    with op.batch_alter_table("qa_follows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_follows_user_id"))

    op.drop_table("qa_follows")
    with op.batch_alter_table("qa_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_events_question_id"))

    op.drop_table("qa_events")
    op.drop_table("qa_contributions")
    with op.batch_alter_table("qa_questions", schema=None) as batch_op:
        batch_op.drop_index("ix_qa_questions_state_due")
        batch_op.drop_index(batch_op.f("ix_qa_questions_asker_id"))
        batch_op.drop_index(batch_op.f("ix_qa_questions_agency_id"))

    op.drop_table("qa_questions")
    op.drop_table("qa_redaction_rules")
    with op.batch_alter_table("qa_officials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_officials_agency_id"))

    op.drop_table("qa_officials")
    op.drop_table("qa_official_invitations")
    op.drop_table("qa_calendar_days")
    op.drop_table("qa_business_profiles")
    op.drop_table("qa_agencies")
