"""Government Q&A: agencies and their officials, business askers, questions with their messages,
attachments, history, follows and ratings, the redaction rules, and the working-day calendar.

A question's state is stored (govqa/states.py moves it); "overdue" and "long overdue" are not:
they are read from `due_on` / `long_due_on` and today (govqa/deadlines.py)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import Model
from marketplace.models import User
from marketplace.timeutil import utcnow


class QuestionState(enum.StrEnum):
    SUBMITTED = "submitted"
    AWAITING_CLARIFICATION = "awaiting_clarification"
    AWAITING_ANSWER = "awaiting_answer"
    ANSWERED = "answered"
    TRANSFERRED = "transferred"
    NOT_OUR_REMIT = "not_our_remit"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


STATE_VALUES = tuple(s.value for s in QuestionState)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({','.join(repr(v) for v in values)})"


class Agency(Model):
    """A state agency that answers questions; data the operator maintains."""

    __tablename__ = "qa_agencies"
    __table_args__ = (CheckConstraint("working_days >= 1 AND working_days <= 365", name="working_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    working_days: Mapped[int] = mapped_column(default=20)
    # When a question is transferred TO this agency: does its clock start again from the transfer?
    transfer_restarts_clock: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Agency {self.slug}>"


class Official(Model):
    """An account that answers for one agency (the operator invited it)."""

    __tablename__ = "qa_officials"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("qa_agencies.id", ondelete="CASCADE"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")
    agency: Mapped[Agency] = relationship(lazy="joined")


class OfficialInvitation(Model):
    """Like a shop's staff invitation: a mailed link with a single-use token (its SHA-256 kept),
    accepted before `expires_at` by an account that confirmed the invited address."""

    __tablename__ = "qa_official_invitations"
    __table_args__ = (UniqueConstraint("agency_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("qa_agencies.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]

    agency: Mapped[Agency] = relationship()


class BusinessProfile(Model):
    """A business that may ask without a shop on the floor: its name and tax code (mã số thuế)."""

    __tablename__ = "qa_business_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    business_name: Mapped[str] = mapped_column(String(200))
    tax_code: Mapped[str] = mapped_column(String(14))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Question(Model):
    __tablename__ = "qa_questions"
    __table_args__ = (
        CheckConstraint(_in("state", STATE_VALUES), name="state"),
        CheckConstraint(
            "reject_kind IS NULL OR reject_kind IN ('out_of_scope','duplicate','abusive')",
            name="reject_kind",
        ),
        Index("ix_qa_questions_state_due", "state", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Given once, from the first title: the URL stays when the title is edited.
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("qa_agencies.id"), index=True)
    topic: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    asker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    asker_name: Mapped[str] = mapped_column(String(120))
    business_name: Mapped[str] = mapped_column(String(200))
    tax_code: Mapped[str | None] = mapped_column(String(14))
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id", ondelete="SET NULL"))
    show_asker_name: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(30), default=QuestionState.SUBMITTED.value)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The clock: the period runs from the day after `clock_started_on` (Civil Code art. 147).
    clock_started_on: Mapped[date | None]
    working_days_allowed: Mapped[int | None]
    due_on: Mapped[date | None]
    long_due_on: Mapped[date | None]
    answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reject_kind: Mapped[str | None] = mapped_column(String(20))
    state_reason: Mapped[str | None] = mapped_column(Text)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("qa_questions.id", ondelete="SET NULL"))
    # The operator may hide a question from the public entirely (it stays for the asker and staff).
    hidden: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency | None] = relationship(lazy="joined")
    asker: Mapped[User | None] = relationship(foreign_keys=[asker_id])
    messages: Mapped[list[Message]] = relationship(
        back_populates="question", order_by="Message.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[QuestionEvent]] = relationship(
        order_by="QuestionEvent.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        order_by="Attachment.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Question {self.id} {self.state}>"


class MessageKind(enum.StrEnum):
    ANSWER = "answer"
    CLARIFICATION_REQUEST = "clarification_request"
    CLARIFICATION = "clarification"
    CONTRIBUTION_REQUEST = "contribution_request"
    CONTRIBUTION = "contribution"
    NOTE = "note"


class Visibility(enum.StrEnum):
    PUBLIC = "public"  # everyone (once the question is public)
    ASKER = "asker"  # the asker and staff
    STAFF = "staff"  # operator and officials
    HIDDEN = "hidden"  # the operator took it down: staff only, marked


class Message(Model):
    __tablename__ = "qa_messages"
    __table_args__ = (
        CheckConstraint(_in("kind", tuple(k.value for k in MessageKind)), name="kind"),
        CheckConstraint(_in("visibility", tuple(v.value for v in Visibility)), name="visibility"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("qa_questions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("qa_agencies.id", ondelete="SET NULL"))
    body_html: Mapped[str] = mapped_column(Text)  # sanitised (govqa/html.py) before it is stored
    visibility: Mapped[str] = mapped_column(String(10), default=Visibility.PUBLIC.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    question: Mapped[Question] = relationship(back_populates="messages")
    agency: Mapped[Agency | None] = relationship(lazy="joined")


class Attachment(Model):
    """A PDF or a picture, in the private store, served by an access-checked route."""

    __tablename__ = "qa_attachments"
    __table_args__ = (CheckConstraint("kind IN ('pdf','image')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("qa_questions.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("qa_messages.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(80))
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuestionEvent(Model):
    """Every change to a question: who (and in which role), when, from which state to which."""

    __tablename__ = "qa_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("qa_questions.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(20))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("qa_agencies.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Contribution(Model):
    """A colleague agency asked to contribute to a question: its officials may read and add."""

    __tablename__ = "qa_contributions"
    __table_args__ = (UniqueConstraint("question_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("qa_questions.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("qa_agencies.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Follow(Model):
    __tablename__ = "qa_follows"
    __table_args__ = (UniqueConstraint("question_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("qa_questions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rating(Model):
    """Was the answer useful? One verdict per person and question (changeable)."""

    __tablename__ = "qa_ratings"
    __table_args__ = (UniqueConstraint("question_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("qa_questions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    useful: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RedactionRule(Model):
    """A regular expression whose matches are replaced in every public text."""

    __tablename__ = "qa_redaction_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    pattern: Mapped[str] = mapped_column(Text)
    replacement: Mapped[str] = mapped_column(String(80), default="[đã ẩn]")
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ManualRedaction(Model):
    """A phrase the operator removed by hand from one question's public texts: who and why."""

    __tablename__ = "qa_manual_redactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("qa_questions.id", ondelete="CASCADE"), index=True)
    phrase: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarDay(Model):
    """A day the government announced: a bridge day off, or a make-up working day (a Saturday)."""

    __tablename__ = "qa_calendar_days"
    __table_args__ = (CheckConstraint("kind IN ('day_off','working_day')", name="kind"),)

    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
