"""Producer shops, their members (owner and staff) and staff invitations."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import Model
from marketplace.models import Commune, User
from marketplace.timeutil import utcnow


class ShopKind(enum.StrEnum):
    HOUSEHOLD = "household"  # hộ sản xuất / hộ kinh doanh
    COOPERATIVE = "cooperative"  # hợp tác xã (HTX)
    ENTERPRISE = "enterprise"  # doanh nghiệp


class ShopStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class Shop(Model):
    __tablename__ = "shops"
    __table_args__ = (
        CheckConstraint("kind IN ('household','cooperative','enterprise')", name="kind"),
        CheckConstraint("status IN ('pending','approved','rejected','suspended')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    address_line: Mapped[str] = mapped_column(String(200))  # thôn/xóm, số nhà, đường
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"))
    province: Mapped[str] = mapped_column(String(120))
    registration_number: Mapped[str | None] = mapped_column(String(40))  # số giấy chứng nhận ĐKKD
    # Mã số thuế: 10 digits, 10-3 for a branch (or a household's 12-digit personal number);
    # required of cooperatives and enterprises from registration (sellers.services.tax_code).
    tax_code: Mapped[str | None] = mapped_column(String(14))
    story: Mapped[str] = mapped_column(Text, default="")
    logo_key: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default=ShopStatus.PENDING.value)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    commune: Mapped[Commune] = relationship(lazy="joined")
    members: Mapped[list[ShopMember]] = relationship(back_populates="shop", cascade="all, delete-orphan")

    @property
    def address(self) -> str:
        return f"{self.address_line}, {self.commune.name}, {self.province}"

    def __repr__(self) -> str:
        return f"<Shop {self.slug} {self.status}>"


class ShopMember(Model):
    __tablename__ = "shop_members"
    __table_args__ = (
        UniqueConstraint("shop_id", "user_id"),
        CheckConstraint("role IN ('owner','staff')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10), default="staff")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    shop: Mapped[Shop] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")


class ShopInvitation(Model):
    """A staff invitation mailed as a link with a random single-use token (only its SHA-256 is
    stored); accepted before `expires_at` by an account that has confirmed the invited address."""

    __tablename__ = "shop_invitations"
    __table_args__ = (UniqueConstraint("shop_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]

    shop: Mapped[Shop] = relationship()
