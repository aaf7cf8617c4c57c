"""Catalog operations: categories, listings, images, moderation, and the public queries."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import nh3
from flask_babel import gettext as _
from sqlalchemy import Select, UnaryExpression, func, select
from sqlalchemy.orm import selectinload

from marketplace import money, numbers, outbox
from marketplace.errors import DomainError, Errors, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.images import StoredImage, process_image
from marketplace.models import User
from marketplace.numbers import NumberError
from marketplace.permissions import is_operator
from marketplace.slugs import unique_slug
from marketplace.timeutil import local_today, utcnow
from sellers.models import Shop, ShopStatus
from sellers.permissions import can_manage_listings

from . import ocop
from .models import OCOP_LEVELS, Category, Listing, ListingImage, ListingStatus

MAX_IMAGES = 8
ALLOWED_TAGS = {"p", "br", "strong", "b", "em", "i", "ul", "ol", "li", "h3", "h4", "blockquote"}
STATUSES = [s.value for s in ListingStatus]


def sanitize_description(text: str) -> str:
    """Producers may use simple formatting; everything else (scripts, links, styles) is removed.
    Plain text keeps its paragraphs and line breaks."""
    text = (text or "").strip()
    if "<" not in text:
        paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
        text = "".join("<p>" + html.escape(p, quote=False).replace("\n", "<br>") + "</p>" for p in paragraphs)
    return nh3.clean(text, tags=ALLOWED_TAGS, attributes={})


def listing_event(listing: Listing | int, action: str = "updated") -> None:
    """Announce a listing change in the same transaction (search index, syndication). Callers
    that changed the row by a bulk UPDATE pass its id instead of loading it."""
    listing_id = listing if isinstance(listing, int) else listing.id
    outbox.record("listing.changed", {"listing_id": listing_id, "action": action})


# --- categories -------------------------------------------------------------------------------


def category_tree() -> list[Category]:
    """Top-level categories with their children loaded."""
    return list(
        db.session.scalars(
            select(Category)
            .where(Category.parent_id.is_(None))
            .order_by(Category.position, Category.name)
            .options(selectinload(Category.children))
        )
    )


def category_choices() -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for top in category_tree():
        out.append((top.id, top.display_name))
        out.extend((child.id, f"— {child.display_name}") for child in top.children)
    return out


def category_ids_below(category: Category) -> list[int]:
    ids, frontier = [category.id], [category.id]
    while frontier:
        frontier = list(db.session.scalars(select(Category.id).where(Category.parent_id.in_(frontier))))
        ids.extend(frontier)
    return ids


def find_category(name_or_slug: str) -> Category | None:
    value = (name_or_slug or "").strip()
    if not value:
        return None
    found = db.session.scalar(select(Category).where(Category.slug == value))
    if found is None:
        found = db.session.scalar(select(Category).where(func.lower(Category.name) == value.lower()))
    if found is None:  # SQLite's lower() only folds ASCII: compare in Python as a last resort
        folded = value.casefold()
        found = next((c for c in db.session.scalars(select(Category)) if c.name.casefold() == folded), None)
    return found


def save_category(data: dict, *, actor: User, category: Category | None = None) -> Category:
    if not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn mới quản lý được danh mục."))
    errors = Errors()
    name = (data.get("name") or "").strip()
    if not name:
        errors.add("name", _("Vui lòng nhập tên danh mục."))
    parent_id = numbers.coerce_id(data.get("parent_id"))
    parent = db.session.get(Category, parent_id) if parent_id else None
    if data.get("parent_id") and parent is None:
        errors.add("parent_id", _("Danh mục cha không tồn tại."))
    if category is not None and parent is not None and category.id in category_ids_below_ids(parent):
        errors.add("parent_id", _("Không thể chọn danh mục con làm danh mục cha."))
    position = _number(errors, data, "position", maximum=MAX_POSITION, default=0)
    errors.raise_if_any()
    if category is None:
        category = Category(name=name, slug=unique_slug(Category, name))
        db.session.add(category)
    category.name = name
    category.name_en = (data.get("name_en") or "").strip() or None
    category.parent_id = parent.id if parent else None
    category.position = position or 0
    category.description = (data.get("description") or "").strip()
    db.session.flush()
    outbox.record("category.changed", {"category_id": category.id})
    return category


def category_ids_below_ids(category: Category) -> list[int]:
    """Ids of `category` and its ancestors: a category may not become its own descendant's child."""
    ids: list[int] = []
    node: Category | None = category
    while node is not None:
        ids.append(node.id)
        node = node.parent
    return ids


def delete_category(category: Category, *, actor: User) -> None:
    if not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn mới quản lý được danh mục."))
    in_use = db.session.scalar(
        select(func.count()).select_from(Listing).where(Listing.category_id == category.id)
    )
    if in_use or category.children:
        raise DomainError(_("Danh mục còn sản phẩm hoặc danh mục con, không thể xoá."))
    db.session.delete(category)
    db.session.flush()


# --- listings ---------------------------------------------------------------------------------


MAX_STOCK = 1_000_000
MAX_QUANTITY = 9_999  # units of one listing in one cart line (orders.cart); a minimum order is below it
MAX_WEIGHT_GRAMS = 1_000_000  # one unit, packed: a tonne
MAX_POSITION = 100_000


def _number(
    errors: Errors,
    data: dict,
    field: str,
    *,
    minimum: int = 0,
    maximum: int,
    default: int | None = None,
    required_message: str | None = None,
) -> int | None:
    """A whole number field (typed as people type it: "1.500"), within its bounds. Blank: the
    default, or `required_message` when there is none."""
    raw = data.get(field)
    try:
        value = numbers.parse_optional_int(raw, minimum=minimum, maximum=maximum)
    except NumberError as exc:
        errors.add(field, exc.message)
        return None
    if value is None:
        if default is None and required_message:
            errors.add(field, required_message)
        return default
    return value


def _stars(errors: Errors, raw: object) -> int | None:
    if raw in (None, "", "0", 0):
        return None
    try:
        return numbers.parse_int(raw, minimum=1, maximum=5)
    except NumberError:
        errors.add("ocop_stars", _("Hạng OCOP từ 1 đến 5 sao."))
        return None


def validate_listing_data(data: dict, errors: Errors) -> dict:
    """Check and clean listing fields; problems go into `errors` with the field name."""
    clean: dict = {}
    title = (data.get("title") or "").strip()
    if not title:
        errors.add("title", _("Vui lòng nhập tên sản phẩm."))
    elif len(title) > 160:
        errors.add("title", _("Tên sản phẩm tối đa 160 ký tự."))
    clean["title"] = title
    category = data.get("category")
    if category is None and data.get("category_id"):
        category = db.session.get(Category, numbers.coerce_id(data["category_id"]))
    if category is None:
        errors.add("category_id", _("Vui lòng chọn danh mục."))
    clean["category"] = category
    unit = (data.get("unit") or "").strip()
    if not unit:
        errors.add("unit", _("Vui lòng nhập đơn vị bán (kg, hộp, chai…)."))
    elif len(unit) > 30:
        errors.add("unit", _("Đơn vị tối đa 30 ký tự."))
    clean["unit"] = unit
    clean["price_vnd"] = None
    try:
        clean["price_vnd"] = money.parse_optional_vnd(data.get("price_vnd"), maximum=money.MAX_PRICE_VND)
    except NumberError as exc:
        errors.add("price_vnd", exc.message)
    else:
        if clean["price_vnd"] is None:
            errors.add("price_vnd", _("Vui lòng nhập giá bán (đồng)."))
    clean["stock"] = _number(errors, data, "stock", maximum=MAX_STOCK, default=0)
    if "low_stock_threshold" in data:  # the listing form's; imports and the API leave it as it is
        clean["low_stock_threshold"] = _number(errors, data, "low_stock_threshold", maximum=MAX_STOCK)
    clean["min_order_qty"] = _number(
        errors, data, "min_order_qty", minimum=1, maximum=MAX_QUANTITY, default=1
    )
    clean["weight_grams"] = _number(errors, data, "weight_grams", minimum=1, maximum=MAX_WEIGHT_GRAMS)
    clean["description"] = sanitize_description(data.get("description") or "")
    for field, limit in (("sku", 60), ("origin", 120), ("harvest_season", 120), ("batch_code", 60)):
        value = (data.get(field) or "").strip() or None
        if value and len(value) > limit:
            errors.add(field, _("Tối đa %(n)d ký tự.", n=limit))
        clean[field] = value
    # OCOP rating: stars, certificate number, issuing level and date travel together.
    stars = _stars(errors, data.get("ocop_stars"))
    clean["ocop_stars"] = stars
    clean["ocop_certificate_no"] = (data.get("ocop_certificate_no") or "").strip() or None
    level = (data.get("ocop_level") or "").strip() or None
    if level and level not in OCOP_LEVELS:
        errors.add("ocop_level", _("Cấp công nhận không hợp lệ."))
    clean["ocop_level"] = level
    issued = data.get("ocop_issued_on")
    if isinstance(issued, str):
        issued = issued.strip()
        if issued:
            try:
                issued = date.fromisoformat(issued) if "-" in issued else _parse_vn_date(issued)
            except (ValueError, OverflowError):  # "1/1/99999999999999999999" too
                errors.add("ocop_issued_on", _("Ngày công nhận không hợp lệ (dd/mm/yyyy)."))
                issued = None
        else:
            issued = None
    if issued and issued > local_today():
        errors.add("ocop_issued_on", _("Ngày công nhận không thể ở tương lai."))
    clean["ocop_issued_on"] = issued
    if stars and not (clean["ocop_certificate_no"] and issued):
        errors.add("ocop_certificate_no", _("Sản phẩm OCOP cần số giấy chứng nhận và ngày công nhận."))
    certs = data.get("certifications") or []
    if isinstance(certs, str):
        certs = [c for c in (x.strip() for x in certs.replace("\n", ";").replace(",", ";").split(";")) if c]
    clean["certifications"] = list(dict.fromkeys(certs))[:12]
    status = data.get("status") or ListingStatus.DRAFT.value
    if status not in STATUSES:
        errors.add("status", _("Trạng thái không hợp lệ."))
    clean["status"] = status
    return clean


def _parse_vn_date(value: str) -> date:
    day, month, year = (int(x) for x in value.replace("-", "/").split("/"))
    return date(year, month, day)


def _check_can_publish(shop: Shop, status: str, errors: Errors) -> None:
    if status == ListingStatus.ACTIVE.value and shop.status != ShopStatus.APPROVED.value:
        errors.add("status", _("Cửa hàng chưa được duyệt nên chưa thể đăng bán. Bạn có thể lưu nháp."))


def create_listing(shop: Shop, data: dict, *, actor: User, images: list[bytes] | None = None) -> Listing:
    if not (can_manage_listings(actor, shop) or is_operator(actor)):
        raise Forbidden(_("Bạn không có quyền thêm sản phẩm cho cửa hàng này."))
    errors = Errors()
    clean = validate_listing_data(data, errors)
    _check_can_publish(shop, clean["status"], errors)
    if images and len(images) > MAX_IMAGES:
        errors.add("images", _("Tối đa %(n)d ảnh cho mỗi sản phẩm.", n=MAX_IMAGES))
    errors.raise_if_any()
    stored = [process_image(blob, field="images") for blob in images or []]
    category = clean.pop("category")
    listing = build_listing(shop, category, clean, stored, unique_slug(Listing, clean["title"]))
    db.session.flush()
    db.session.refresh(listing)
    ocop.attach_claim(listing)  # a rating waits in the register until the operator checks it
    listing_event(listing, "created")
    return listing


def build_listing(
    shop: Shop, category: Category, clean: dict, stored: list[StoredImage], slug: str
) -> Listing:
    """A new listing with its images (already stored), added to the session, not flushed: what
    create_listing and the CSV import (which flushes a batch at a time) do after their checks.
    The caller emits the "created" event once the listing has an id."""
    listing = Listing(shop_id=shop.id, category_id=category.id, slug=slug, **clean)
    if listing.status == ListingStatus.ACTIVE.value:
        listing.published_at = utcnow()
    listing.images = [
        ListingImage(
            key=image.key, position=position, width=image.width, height=image.height, alt=listing.title
        )
        for position, image in enumerate(stored)
    ]
    db.session.add(listing)
    return listing


def can_edit_listing(user: User | None, listing: Listing) -> bool:
    return can_manage_listings(user, listing.shop)


def update_listing(listing: Listing, data: dict, *, actor: User) -> Listing:
    if not can_edit_listing(actor, listing):
        raise Forbidden(_("Bạn không có quyền sửa sản phẩm này."))
    errors = Errors()
    clean = validate_listing_data(data, errors)
    _check_can_publish(listing.shop, clean["status"], errors)
    errors.raise_if_any()
    category = clean.pop("category")
    listing.category_id = category.id
    for key, value in clean.items():
        setattr(listing, key, value)
    if listing.status == ListingStatus.ACTIVE.value and listing.published_at is None:
        listing.published_at = utcnow()
    listing.updated_at = utcnow()
    db.session.flush()
    ocop.attach_claim(listing)  # a changed rating cites another register row: it waits again
    listing_event(listing)
    return listing


def set_listing_status(listing: Listing, status: str, *, actor: User) -> Listing:
    if not can_edit_listing(actor, listing):
        raise Forbidden(_("Bạn không có quyền sửa sản phẩm này."))
    errors = Errors()
    if status not in STATUSES:
        errors.add("status", _("Trạng thái không hợp lệ."))
    _check_can_publish(listing.shop, status, errors)
    errors.raise_if_any()
    listing.status = status
    if status == ListingStatus.ACTIVE.value and listing.published_at is None:
        listing.published_at = utcnow()
    db.session.flush()
    listing_event(listing)
    return listing


def add_images(listing: Listing, blobs: list[bytes], *, actor: User) -> list[ListingImage]:
    if not can_edit_listing(actor, listing):
        raise Forbidden(_("Bạn không có quyền sửa sản phẩm này."))
    if len(listing.images) + len(blobs) > MAX_IMAGES:
        raise DomainError(
            _("Tối đa %(n)d ảnh cho mỗi sản phẩm.", n=MAX_IMAGES),
            field_errors={"images": [_("Tối đa %(n)d ảnh cho mỗi sản phẩm.", n=MAX_IMAGES)]},
        )
    stored = [process_image(blob, field="images") for blob in blobs]
    start = max((img.position for img in listing.images), default=-1) + 1
    added = []
    for offset, image in enumerate(stored):
        row = ListingImage(
            listing_id=listing.id,
            key=image.key,
            position=start + offset,
            width=image.width,
            height=image.height,
            alt=listing.title,
        )
        db.session.add(row)
        added.append(row)
    listing.updated_at = utcnow()  # the photos are part of the listing (the feeds' validators)
    db.session.flush()
    db.session.refresh(listing)
    listing_event(listing)
    return added


def remove_image(listing: Listing, image_id: int, *, actor: User) -> None:
    if not can_edit_listing(actor, listing):
        raise Forbidden(_("Bạn không có quyền sửa sản phẩm này."))
    image = next((img for img in listing.images if img.id == image_id), None)
    if image is None:
        raise NotFound(_("Không tìm thấy ảnh."))
    listing.images.remove(image)
    for position, img in enumerate(listing.images):
        img.position = position
    listing.updated_at = utcnow()  # the photos are part of the listing (the feeds' validators)
    db.session.flush()
    listing_event(listing)


def make_cover(listing: Listing, image_id: int, *, actor: User) -> None:
    if not can_edit_listing(actor, listing):
        raise Forbidden(_("Bạn không có quyền sửa sản phẩm này."))
    ordered = sorted(listing.images, key=lambda img: (img.id != image_id, img.position))
    for position, img in enumerate(ordered):
        img.position = position
    listing.updated_at = utcnow()  # a new cover changes the listing as the feeds show it
    db.session.flush()
    listing_event(listing)


def hide_listing(listing: Listing, reason: str, *, actor: User) -> Listing:
    if not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn mới ẩn được sản phẩm."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            _("Vui lòng nêu lý do ẩn sản phẩm."), field_errors={"reason": [_("Vui lòng nêu lý do.")]}
        )
    listing.hidden_reason = reason
    listing.hidden_at = utcnow()
    db.session.flush()
    listing_event(listing, "hidden")
    from marketplace.mail import queue_mail

    for member in listing.shop.members:
        if member.role == "owner":
            queue_mail(
                member.user.email,
                _("Sản phẩm %(title)s bị ẩn", title=listing.title),
                "listing_hidden",
                listing=listing,
                reason=reason,
                user=member.user,
            )
    return listing


def unhide_listing(listing: Listing, *, actor: User) -> Listing:
    if not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn mới thao tác được."))
    listing.hidden_reason = None
    listing.hidden_at = None
    db.session.flush()
    listing_event(listing, "unhidden")
    return listing


# --- public queries -----------------------------------------------------------------------------

SORTS: dict[str, tuple[UnaryExpression[Any], ...]] = {
    "newest": (Listing.published_at.desc(), Listing.id.desc()),
    "price_asc": (Listing.price_vnd.asc(), Listing.id.asc()),
    "price_desc": (Listing.price_vnd.desc(), Listing.id.desc()),
    "name": (Listing.title.asc(), Listing.id.asc()),
}


def public_listings_query(*, images: bool = True) -> Select:
    """Listings anyone may see: active, not hidden, of an approved shop (with their images
    loaded, unless `images` is False: product cards read only covers, see catalog.cards)."""
    query = (
        select(Listing)
        .join(Listing.shop)
        .where(
            Listing.status == ListingStatus.ACTIVE.value,
            Listing.hidden_at.is_(None),
            Shop.status == ShopStatus.APPROVED.value,
        )
    )
    return query.options(selectinload(Listing.images)) if images else query


def get_public_listing(slug: str) -> Listing:
    listing = db.session.scalar(public_listings_query().where(Listing.slug == slug))
    if listing is None:
        raise NotFound(_("Sản phẩm không tồn tại hoặc đã ngừng bán."))
    return listing
