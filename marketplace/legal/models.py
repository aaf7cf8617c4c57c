"""Published versions of the legal pages, consents to them, and erased accounts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..models import User
from ..timeutil import utcnow


class LegalPageVersion(Model):
    """One published text of a legal page. Never edited: a change is a new version, numbered
    1, 2, 3… per page. The version in force is the highest number whose `effective_from` has come;
    a later one may wait for its date (announced ahead, as changes to the regulations must be)."""

    __tablename__ = "legal_page_versions"
    __table_args__ = (
        UniqueConstraint("page", "number"),
        CheckConstraint("number > 0", name="number_positive"),
        Index("ix_legal_page_versions_page_effective", "page", "effective_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    page: Mapped[str] = mapped_column(String(20))  # pages.PAGES key
    number: Mapped[int]
    body: Mapped[str] = mapped_column(Text)  # what the operator typed (markup.py)
    body_html: Mapped[str] = mapped_column(Text)  # rendered and sanitised when published
    change_note: Mapped[str | None] = mapped_column(String(300))
    effective_from: Mapped[date]
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    published_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<LegalPageVersion {self.page} v{self.number}>"


class Consent(Model):
    """A person agreed to a legal page (the privacy policy) in the version in force at that
    moment: who (an account, or nobody for a guest: the payment then points here), where
    (`context`: sign_up, checkout…) and when. `version_id` is None only if nothing had been
    published yet. Kept when an account is erased: it proves what was agreed, and names nobody
    once the account is anonymised."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_user_document", "user_id", "document"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    document: Mapped[str] = mapped_column(String(20))  # pages.PAGES key, "privacy"
    version_id: Mapped[int | None] = mapped_column(ForeignKey("legal_page_versions.id", ondelete="RESTRICT"))
    context: Mapped[str] = mapped_column(String(20))
    given_at: Mapped[datetime] = mapped_column(default=utcnow)

    version: Mapped[LegalPageVersion | None] = relationship()


class AccountDeletion(Model):
    """The audit record of an erased account: when, how it was confirmed, and how many rows of
    each kind were anonymised or removed. It holds no personal data; the account row itself
    stays (anonymised) so orders and consents keep pointing somewhere."""

    __tablename__ = "account_deletions"
    __table_args__ = (CheckConstraint("method IN ('self_service')", name="method"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), unique=True)
    method: Mapped[str] = mapped_column(String(20), default="self_service")  # password confirmed
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    erased_at: Mapped[datetime] = mapped_column(default=utcnow)
