"""Categories (a tree), listings with OCOP ratings and certifications, and listing images."""

from __future__ import annotations

import calendar
import enum
from datetime import date, datetime, timedelta

from flask_babel import get_locale
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import Model
from marketplace.models import User
from marketplace.timeutil import local_today, utcnow
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

# The floor's starting list of certifications (Vietnamese name, English name): seeded into the
# `certifications` table (catalog/seed.py), where the operator edits them.
COMMON_CERTIFICATIONS_EN = [
    ("VietGAP", "VietGAP"),
    ("GlobalGAP", "GlobalGAP"),
    ("Hữu cơ", "Organic"),
    ("HACCP", "HACCP"),
    ("ISO 22000", "ISO 22000"),
    ("Chỉ dẫn địa lý", "Geographical indication"),
    ("Nhãn hiệu tập thể", "Collective trademark"),
]
COMMON_CERTIFICATIONS = [name for name, _name_en in COMMON_CERTIFICATIONS_EN]

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

    @property
    def display_name(self) -> str:
        """The name pages show: the English one under the English locale when the operator gave
        one, else the Vietnamese."""
        return localized_name(self.name, self.name_en)

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"


class Certification(Model):
    """A certification the floor knows (VietGAP, Hữu cơ…): the names producers pick from, with the
    English name the operator gives it. Listings keep the Vietnamese names they cite."""

    __tablename__ = "certifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)

    @property
    def display_name(self) -> str:
        return localized_name(self.name, self.name_en)

    def __repr__(self) -> str:
        return f"<Certification {self.name}>"


def localized_name(name: str, name_en: str | None) -> str:
    """`name_en` under the English locale when set, else `name` (outside a request: `name`)."""
    if name_en and str(get_locale() or "") == "en":
        return name_en
    return name


def add_months(day: date, months: int) -> date:
    """`day` plus whole months, clamped to the month's end (29/02 + 36 months -> 28/02)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- OCOP: when a rating may show as a badge ------------------------------------------------------
#
# The one rule, used by the pages, the API, the home page's query and the search documents: a
# rating shows only when the operator has checked its certificate in the register, and only until
# it expires (OCOP_VALID_MONTHS after issue). Everything below derives from these two facts.


class OcopStatus(enum.StrEnum):
    WAITING = "waiting"  # claimed by the producer, not checked yet: no badge
    CHECKED = "checked"  # the operator checked the certificate: badge until it expires
    REFUSED = "refused"  # the operator found it wrong: no badge, the producer sees the reason


def ocop_rating(stars: int | None, issued_on: date | None, status: str | None) -> tuple[int, date] | None:
    """(stars, the day the badge stops) of a rating that may show, or None: only a checked
    certificate with a date counts. Whether that day has come is the caller's `today`."""
    if not stars or issued_on is None or status != OcopStatus.CHECKED:
        return None
    return stars, add_months(issued_on, OCOP_VALID_MONTHS)


def ocop_expired_on_or_before(today: date) -> date:
    """The latest issue date whose rating has expired by `today`: a rating issued on day d is
    valid while today < add_months(d, 36), i.e. exactly when d is after this date (month ends
    clamp, so it is found by stepping, not by subtracting 36 months)."""
    day = add_months(today, -OCOP_VALID_MONTHS)
    while add_months(day + timedelta(days=1), OCOP_VALID_MONTHS) <= today:
        day += timedelta(days=1)
    while add_months(day, OCOP_VALID_MONTHS) > today:
        day -= timedelta(days=1)
    return day


class OcopCertificate(Model):
    """One OCOP claim in the operator's register: a shop says certificate `certificate_no` rates
    its product `stars` stars, at `level`, issued on `issued_on`.

    The claim's fields never change: a producer who edits a listing's rating makes (or finds)
    another row, so a "checked" always refers to exactly the data the operator checked, and the
    decision stays on record after the listing moved on. Several listings of the shop (sizes of one
    product) cite one row; the operator checks it once."""

    __tablename__ = "ocop_certificates"
    __table_args__ = (
        UniqueConstraint("shop_id", "certificate_no", "stars", "level", "issued_on"),  # one row per claim
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
        CheckConstraint("status IN ('waiting','checked','refused')", name="status"),
        CheckConstraint("status <> 'refused' OR refusal_reason IS NOT NULL", name="refusal_has_reason"),
        Index("ix_ocop_certificates_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    certificate_no: Mapped[str] = mapped_column(String(60))
    stars: Mapped[int]
    level: Mapped[str] = mapped_column(String(20), default="")  # "" when the producer gave none
    issued_on: Mapped[date]
    product_name: Mapped[str] = mapped_column(String(160))  # the listing it was first claimed for
    status: Mapped[str] = mapped_column(String(20), default=OcopStatus.WAITING.value)
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    shop: Mapped[Shop] = relationship()
    decided_by: Mapped[User | None] = relationship()
    listings: Mapped[list[Listing]] = relationship(back_populates="ocop_certificate")
    events: Mapped[list[OcopCertificateEvent]] = relationship(
        back_populates="certificate", order_by="OcopCertificateEvent.id", cascade="all, delete-orphan"
    )

    @property
    def expires_on(self) -> date:
        return add_months(self.issued_on, OCOP_VALID_MONTHS)

    def expired(self, today: date | None = None) -> bool:
        return (today or local_today()) >= self.expires_on

    def badge(self, today: date | None = None) -> int | None:
        rating = ocop_rating(self.stars, self.issued_on, self.status)
        if rating is None:
            return None
        return rating[0] if (today or local_today()) < rating[1] else None

    @classmethod
    def shows_badge(cls, today: date) -> ColumnElement[bool]:
        """The same rule in SQL: checked and not expired on `today`."""
        return and_(cls.status == OcopStatus.CHECKED.value, cls.issued_on > ocop_expired_on_or_before(today))

    def __repr__(self) -> str:
        return f"<OcopCertificate {self.certificate_no} {self.stars}* {self.status}>"


class OcopCertificateEvent(Model):
    """Every decision on a claim (checked, refused), with who and when: the register shows the
    last one, this keeps them all (a check later withdrawn stays on record)."""

    __tablename__ = "ocop_certificate_events"
    __table_args__ = (CheckConstraint("action IN ('checked','refused')", name="action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("ocop_certificates.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    certificate: Mapped[OcopCertificate] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Listing(Model):
    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint("price_vnd >= 0", name="price_nonnegative"),
        CheckConstraint("stock >= 0", name="stock_nonnegative"),
        CheckConstraint(
            "low_stock_threshold IS NULL OR low_stock_threshold >= 0", name="low_stock_threshold_nonnegative"
        ),
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
    # At or below this many units the listing shows under the shop's "low stock" (None: no warning).
    low_stock_threshold: Mapped[int | None]
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
    # The register row of exactly this claim (catalog.ocop.attach_claim keeps it in step with the
    # four fields above, which are what the producer typed); only that row decides the badge.
    ocop_certificate_id: Mapped[int | None] = mapped_column(
        ForeignKey("ocop_certificates.id", ondelete="SET NULL"), index=True
    )
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
    ocop_certificate: Mapped[OcopCertificate | None] = relationship(back_populates="listings", lazy="joined")
    images: Mapped[list[ListingImage]] = relationship(
        back_populates="listing", order_by="ListingImage.position", cascade="all, delete-orphan"
    )

    @property
    def ocop_expires_on(self) -> date | None:
        if self.ocop_issued_on is None:
            return None
        return add_months(self.ocop_issued_on, OCOP_VALID_MONTHS)

    @property
    def ocop_status(self) -> str | None:
        """waiting / checked / refused for a listing with a rating, None without one."""
        certificate = self.ocop_certificate
        return certificate.status if certificate is not None and self.ocop_stars else None

    def ocop_badge(self, today: date | None = None) -> int | None:
        """Stars to show, or None: only a certificate the operator checked, until it expires
        (the register row decides, see ocop_rating)."""
        certificate = self.ocop_certificate
        if certificate is None or not self.ocop_stars:
            return None
        return certificate.badge(today)

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


class CsvImportPreview(Model):
    """A checked CSV upload kept until its producer confirms it (catalog.csv_views): the file
    itself, so the confirmation imports these bytes and never a resubmitted form, bound to the
    shop and the user, under a random token stored hashed, for a short time."""

    __tablename__ = "csv_import_previews"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    fingerprint: Mapped[str] = mapped_column(String(64))  # of what the preview showed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
