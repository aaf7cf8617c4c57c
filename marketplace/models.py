"""Accounts, the commune list, login throttling and the transactional outbox."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import Model
from .timeutil import utcnow


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class Role(enum.StrEnum):
    BUYER = "buyer"
    PRODUCER = "producer"
    OPERATOR = "operator"
    AGENCY = "agency"
    PARTNER = "partner"


class User(UserMixin, Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('buyer','producer','operator','agency','partner')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20), default=Role.BUYER.value)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Set when the owner opened the confirmation link mailed to `email` (or a reset link, which
    # proves the same). Until then the account may shop but not act for that address.
    email_confirmed_at: Mapped[datetime | None]
    # Part of every session and remember cookie (see get_auth_id); a new value ends them all.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    # Set when the owner had the account erased (marketplace/legal/personal_data.py): the row
    # stays, anonymised and unable to sign in, so orders and consents keep their account.
    deleted_at: Mapped[datetime | None]

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def get_auth_id(self) -> str:
        """What Flask-Login keeps in the session and the remember cookie (its id_attribute):
        the id and the current session token, so rotating the token ends every session."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_operator(self) -> bool:
        return self.role == Role.OPERATOR.value

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class LoginAttempt(Model):
    """One row per sign-in attempt that got as far as a password check (address, IP, outcome):
    a record to look at after an attack. Throttling itself counts in LoginThrottle."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_created", "email", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(45))
    success: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginThrottle(Model):
    """Failed sign-ins per e-mail address in the current window, counted by one conditional
    UPDATE before the password is checked, so concurrent attempts cannot all pass the count."""

    __tablename__ = "login_throttles"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures_nonnegative"),)

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)


class Commune(Model):
    """Commune-level units (xã, phường, đặc khu): data the operator maintains, not code.

    Rows come from the official list (`source` "official", `flask communes import-official`) or
    from the operator (the pages, `flask communes import`). `operator_fields` names the fields the
    operator corrected by hand; an import of the official list never overwrites those.
    `official_code` is the list's code for the row, kept apart from `code` (which the operator may
    correct), so a corrected row is still recognised by the next import. Names are
    stored as addresses print them: "Xã Kỳ Xuân", "Phường Sông Trí", province "Hà Tĩnh",
    "Thành phố Hà Nội". A row an order or a shop refers to is never deleted, only deactivated."""

    __tablename__ = "communes"
    __table_args__ = (
        UniqueConstraint("province", "name"),
        CheckConstraint("kind IN ('xa','phuong','dac_khu')", name="kind"),
        CheckConstraint("source IN ('official','operator')", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10), default="xa")
    province: Mapped[str] = mapped_column(String(120))
    code: Mapped[str | None] = mapped_column(String(20), unique=True)
    official_code: Mapped[str | None] = mapped_column(String(20), unique=True)  # the list's, never corrected
    active: Mapped[bool] = mapped_column(default=True)
    source: Mapped[str] = mapped_column(String(10), default="operator")
    operator_fields: Mapped[list[str]] = mapped_column(JSON, default=list)

    @property
    def label(self) -> str:
        return f"{self.name}, {self.province}"


class OutboxEvent(Model):
    """A side effect to carry out after the transaction that caused it commits.

    Written in the same transaction as the change; `flask worker` drains it at least once and
    marks a row done only after its handler succeeded. Handlers must be idempotent and receive
    `idempotency_key` on every try."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        CheckConstraint("status IN ('pending','done','dead')", name="status"),
        Index("ix_outbox_events_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
