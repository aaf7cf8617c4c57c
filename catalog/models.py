"""Categories (a tree), listings with OCOP ratings and certifications, and listing images."""

from __future__ import annotations

import calendar
import enum
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import Model
from marketplace.timeutil import utcnow
from sellers.models import Shop

OCOP_VALID_MONTHS = 36

# Common market units, suggested in the form; producers may type others.
COMMON_UNITS = [
    "kg",
    "100g",
    "500g",
    "hộp",
    "chai",
    "túi",
    "gói",
    "quả",
    "nải",
    "chục",
    "con",
    "hũ",
    "chiếc",
    "bó",
    "lít",
    "thùng",
    "yến",
    "tạ",
]

COMMON_CERTIFICATIONS = [
    "VietGAP",
    "GlobalGAP",
    "Hữu cơ",
    "HACCP",
    "ISO 22000",
    "Chỉ dẫn địa lý",
    "Nhãn hiệu tập thể",
]

OCOP_LEVELS = ["province", "national"]  # cấp tỉnh (3–4★), cấp trung ương (5★)


class ListingStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class Category(Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(Text, default="")

    parent: Mapped[Category | None] = relationship(remote_side="Category.id", back_populates="children")
    children: Mapped[list[Category]] = relationship(back_populates="parent", order_by="Category.position")

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"


def add_months(day: date, months: int) -> date:
    """`day` plus whole months, clamped to the month's end (29/02 + 36 months -> 28/02)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Listing(Model):
    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint("price_vnd >= 0", name="price_nonnegative"),
        CheckConstraint("stock >= 0", name="stock_nonnegative"),
        CheckConstraint("min_order_qty >= 1", name="min_order_positive"),
        CheckConstraint("ocop_stars IS NULL OR (ocop_stars BETWEEN 1 AND 5)", name="ocop_stars_range"),
        CheckConstraint("status IN ('draft','active','archived')", name="status"),
        Index("ix_listings_public", "status", "category_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    title: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")  # sanitised HTML (nh3)
    unit: Mapped[str] = mapped_column(String(30))
    price_vnd: Mapped[int]
    stock: Mapped[int] = mapped_column(default=0)
    min_order_qty: Mapped[int] = mapped_column(default=1)
    weight_grams: Mapped[int | None]
    sku: Mapped[str | None] = mapped_column(String(60))
    origin: Mapped[str | None] = mapped_column(String(120))  # "Hương Sơn": traditional area names survive
    harvest_season: Mapped[str | None] = mapped_column(String(120))
    batch_code: Mapped[str | None] = mapped_column(String(60))
    ocop_stars: Mapped[int | None]
    ocop_certificate_no: Mapped[str | None] = mapped_column(String(60))
    ocop_level: Mapped[str | None] = mapped_column(String(20))
    ocop_issued_on: Mapped[date | None]
    certifications: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default=ListingStatus.DRAFT.value)
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    hidden_at: Mapped[datetime | None]
    featured: Mapped[bool] = mapped_column(default=False)
    sales_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]

    shop: Mapped[Shop] = relationship(lazy="joined")
    category: Mapped[Category] = relationship(lazy="joined")
    images: Mapped[list[ListingImage]] = relationship(
        back_populates="listing", order_by="ListingImage.position", cascade="all, delete-orphan"
    )

    @property
    def ocop_expires_on(self) -> date | None:
        if self.ocop_issued_on is None:
            return None
        return add_months(self.ocop_issued_on, OCOP_VALID_MONTHS)

    def ocop_badge(self, today: date | None = None) -> int | None:
        """Stars to show, or None: an expired or undated rating stops showing as a badge."""
        expires = self.ocop_expires_on
        if not self.ocop_stars or expires is None:
            return None
        today = today or utcnow().date()
        return self.ocop_stars if today < expires else None

    @property
    def is_public(self) -> bool:
        return (
            self.status == ListingStatus.ACTIVE.value
            and self.hidden_at is None
            and self.shop.status == "approved"
        )

    @property
    def in_stock(self) -> bool:
        return self.stock >= self.min_order_qty

    @property
    def cover(self) -> ListingImage | None:
        return self.images[0] if self.images else None

    def __repr__(self) -> str:
        return f"<Listing {self.slug}>"


class ListingImage(Model):
    __tablename__ = "listing_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80))  # content hash: folder of variants under MEDIA_ROOT
    position: Mapped[int] = mapped_column(default=0)
    width: Mapped[int]
    height: Mapped[int]
    alt: Mapped[str] = mapped_column(String(160), default="")

    listing: Mapped[Listing] = relationship(back_populates="images")
