"""Partners, keys, secrets, the shops' choices and the hand-over of packed orders. Services take
the actor explicitly (None: the command line, run by whoever holds the server) and never commit."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from marketplace import outbox
from marketplace.errors import Conflict, DomainError, Errors, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.models import User
from marketplace.permissions import is_operator
from marketplace.slugs import typed_slug, unique_slug
from marketplace.timeutil import utcnow
from orders.models import Order
from sellers.models import Shop
from sellers.permissions import can_edit_shipping, can_handle_orders

from . import feed, secrets
from .models import (
    PARTNER_KINDS,
    ApiKey,
    Partner,
    PartnerShop,
    Shipment,
    ShopPartner,
    WebhookSecret,
)

FLOOR_STATUSES = (
    "picked_up",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "delivery_failed",
    "returning",
    "returned",
    "lost",
    "damaged",
)
BOOK_TOPIC = "logistics.book"
CANCEL_BOOKING_TOPIC = "logistics.cancel_booking"
KEY_ID_RE = re.compile(r"^lgk_[0-9a-f]{8}$")


def require_operator(actor: User | None) -> None:
    """The operator, or the command line (actor None)."""
    if actor is not None and not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn mới thực hiện được thao tác này."))


def default_status_map(kind: str) -> dict[str, str | None]:
    """A new partner's mapping table: the carrier's defaults, or the floor's own words."""
    if kind == "generic":
        return {status: status for status in FLOOR_STATUSES}
    from .carriers import DEFAULT_STATUS_MAPS

    return dict(DEFAULT_STATUS_MAPS[kind])


# --- partners ---------------------------------------------------------------------------------


def partners() -> list[Partner]:
    return list(db.session.scalars(select(Partner).order_by(Partner.slug)))


def partner_by_slug(slug: str) -> Partner:
    partner = db.session.scalar(select(Partner).where(Partner.slug == slug))
    if partner is None:
        raise NotFound(_("Không có đối tác vận chuyển “%(slug)s”.", slug=slug))
    return partner


def _check_url(url: str | None, errors: Errors) -> str | None:
    url = (url or "").strip() or None
    if url and (not re.match(r"^https?://[^\s/]+", url) or len(url) > 500):
        errors.add("webhook_url", _("Địa chỉ webhook phải bắt đầu bằng https:// hoặc http://."))
    return url


def _shops_from(spec: str | list[str] | None, errors: Errors) -> list[Shop] | None:
    """ "all"/None → None (every shop); "a,b" or a list of slugs → those shops."""
    if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "all")):
        return None
    slugs = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    found = list(db.session.scalars(select(Shop).where(Shop.slug.in_(slugs))))
    missing = sorted(set(slugs) - {s.slug for s in found})
    if missing:
        errors.add("shops", _("Không có cửa hàng: %(slugs)s.", slugs=", ".join(missing)))
    return found


def create_partner(
    name: str,
    *,
    actor: User | None,
    kind: str = "generic",
    slug: str | None = None,
    webhook_url: str | None = None,
    shops: str | list[str] | None = None,
    api_base_url: str | None = None,
    credentials: dict[str, str] | None = None,
) -> tuple[Partner, str, str | None, str | None]:
    """A new partner with its first API key; a webhook secret when it has a URL; a callback token
    for a carrier kind. Returns (partner, key, secret or None, callback token or None): shown once."""
    require_operator(actor)
    errors = Errors()
    name = (name or "").strip()
    if not name or len(name) > 120:
        errors.add("name", _("Vui lòng nhập tên đối tác (tối đa 120 ký tự)."))
    if kind not in PARTNER_KINDS:
        errors.add("kind", _("Loại đối tác không hợp lệ."))
    if slug:
        slug = typed_slug(slug, Partner)
        if not slug:
            errors.add("slug", _("Vui lòng nhập mã đối tác."))
        elif db.session.scalar(select(Partner.id).where(Partner.slug == slug)):
            errors.add("slug", _("Mã đối tác “%(slug)s” đã được dùng.", slug=slug))
    elif name:
        slug = unique_slug(Partner, name)
    url = _check_url(webhook_url, errors)
    shop_rows = _shops_from(shops, errors)
    errors.raise_if_any()
    partner = Partner(
        name=name,
        slug=slug,
        kind=kind,
        webhook_url=url,
        all_shops=shop_rows is None,
        status_map=default_status_map(kind),
        api_base_url=(api_base_url or "").strip() or None,
        credentials=dict(credentials or {}),
    )
    db.session.add(partner)
    db.session.flush()
    for shop in shop_rows or []:
        db.session.add(PartnerShop(partner_id=partner.id, shop_id=shop.id))
    key = create_key(partner, _("Khóa đầu tiên"), actor=actor)
    secret = rotate_secret(partner, actor=actor) if url else None
    token = rotate_callback_token(partner, actor=actor) if kind != "generic" else None
    return partner, key, secret, token


def update_partner(partner: Partner, data: dict[str, Any], *, actor: User | None) -> Partner:
    require_operator(actor)
    errors = Errors()
    name = (data.get("name") or "").strip()
    if not name or len(name) > 120:
        errors.add("name", _("Vui lòng nhập tên đối tác (tối đa 120 ký tự)."))
    state = data.get("state") or partner.state
    if state not in ("active", "paused"):
        errors.add("state", _("Trạng thái không hợp lệ."))
    url = _check_url(data.get("webhook_url"), errors)
    shop_rows = _shops_from(data.get("shops"), errors)
    errors.raise_if_any()
    if url != partner.webhook_url:
        partner.webhook_disabled_at = None  # a new endpoint gets a fresh start
    partner.name, partner.state, partner.webhook_url = name, state, url
    partner.api_base_url = (data.get("api_base_url") or "").strip() or partner.api_base_url
    partner.all_shops = shop_rows is None
    db.session.execute(delete(PartnerShop).where(PartnerShop.partner_id == partner.id))
    for shop in shop_rows or []:
        db.session.add(PartnerShop(partner_id=partner.id, shop_id=shop.id))
    if url and not active_secrets(partner):
        rotate_secret(partner, actor=actor)
    db.session.flush()
    return partner


def enable_webhooks(partner: Partner, *, actor: User | None) -> None:
    require_operator(actor)
    partner.webhook_disabled_at = None


def update_mapping(partner: Partner, mapping: dict[str, str | None], *, actor: User | None) -> None:
    """Replace the mapping table: carrier status → floor status (None: known, moves nothing)."""
    require_operator(actor)
    errors = Errors()
    clean: dict[str, str | None] = {}
    for carrier_status, floor in mapping.items():
        key = str(carrier_status).strip()[:60]
        value = (floor or "").strip() or None
        if not key:
            continue
        if value is not None and value not in FLOOR_STATUSES:
            errors.add("mapping", _("“%(s)s” không phải trạng thái của sàn.", s=value))
        clean[key] = value
    errors.raise_if_any()
    partner.status_map = clean


# --- keys and secrets -------------------------------------------------------------------------


def create_key(partner: Partner, name: str | None, *, actor: User | None) -> str:
    require_operator(actor)
    key, key_id, key_hash = secrets.new_api_key()
    name = (name or "").strip()[:120] or key_id
    db.session.add(ApiKey(partner_id=partner.id, name=name, prefix=key_id, key_hash=key_hash))
    db.session.flush()
    return key


def revoke_key(key_id: str, *, actor: User | None) -> ApiKey:
    require_operator(actor)
    key = db.session.scalar(select(ApiKey).where(ApiKey.prefix == (key_id or "").strip()))
    if key is None:
        raise NotFound(_("Không có khóa “%(id)s”.", id=key_id))
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


def partner_for_key(presented: str) -> Partner | None:
    """The active partner whose unrevoked key this is, recording its use (at most once a minute)."""
    if not presented or len(presented) > 200:
        return None
    row = db.session.execute(
        select(ApiKey.id, ApiKey.last_used_at, Partner)
        .join(Partner, Partner.id == ApiKey.partner_id)
        .where(ApiKey.key_hash == secrets.digest(presented), ApiKey.revoked_at.is_(None))
    ).first()
    if row is None or row.Partner.state != "active":
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > timedelta(seconds=60):
        db.session.execute(
            update(ApiKey)
            .where(ApiKey.id == row.id)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()  # the use is recorded even if the request then fails
    return row.Partner


def active_secrets(partner: Partner) -> list[WebhookSecret]:
    """Current secret first, then those still inside their rotation window."""
    now = utcnow()
    rows = [s for s in partner.secrets if s.expires_at is None or s.expires_at > now]
    return sorted(rows, key=lambda s: (s.expires_at is not None, -s.id))


def rotate_secret(partner: Partner, *, actor: User | None, window_hours: int | None = None) -> str:
    """A new current secret; the previous ones keep signing for the rotation window."""
    require_operator(actor)
    hours = current_app.config["LOGISTICS_SECRET_ROTATION_HOURS"] if window_hours is None else window_hours
    until = utcnow() + timedelta(hours=hours)
    for old in partner.secrets:
        if old.expires_at is None or old.expires_at > until:
            old.expires_at = until
    value = secrets.new_webhook_secret()
    partner.secrets.append(WebhookSecret(secret=value))
    db.session.flush()
    return value


def rotate_callback_token(partner: Partner, *, actor: User | None) -> str:
    require_operator(actor)
    token, token_hash = secrets.new_callback_token()
    partner.callback_token_hash = token_hash
    return token


# --- shops and their partners -----------------------------------------------------------------


def partners_serving(shop: Shop) -> list[Partner]:
    served = select(PartnerShop.partner_id).where(PartnerShop.shop_id == shop.id)
    return list(
        db.session.scalars(
            select(Partner)
            .where(Partner.state == "active", Partner.all_shops.is_(True) | Partner.id.in_(served))
            .order_by(Partner.name)
        )
    )


def shop_partners(shop: Shop) -> list[ShopPartner]:
    """The shop's chosen partners that still serve it, the default first."""
    serving = {p.id for p in partners_serving(shop)}
    rows = db.session.scalars(select(ShopPartner).where(ShopPartner.shop_id == shop.id))
    return sorted(
        (r for r in rows if r.partner_id in serving), key=lambda r: (not r.is_default, r.partner.name)
    )


def set_shop_partners(shop: Shop, partner_ids: list[int], default_id: int | None, *, actor: User) -> None:
    if not (can_edit_shipping(actor, shop) or is_operator(actor)):
        raise Forbidden(_("Bạn không có quyền thay đổi đơn vị vận chuyển của cửa hàng này."))
    serving = {p.id for p in partners_serving(shop)}
    chosen = [pid for pid in dict.fromkeys(partner_ids) if pid in serving]
    if default_id is not None and default_id not in chosen:
        raise DomainError(
            _("Đơn vị mặc định phải nằm trong các đơn vị đã chọn."),
            field_errors={"default": [_("Đơn vị mặc định phải nằm trong các đơn vị đã chọn.")]},
        )
    if chosen and default_id is None:
        default_id = chosen[0]
    db.session.execute(delete(ShopPartner).where(ShopPartner.shop_id == shop.id))
    for pid in chosen:
        db.session.add(ShopPartner(shop_id=shop.id, partner_id=pid, is_default=pid == default_id))
    db.session.flush()


def pack_choices(shop: Shop) -> list[tuple[str, str]]:
    """Choices for the packing form: the shop's partners (default first), or none."""
    rows = shop_partners(shop)
    if not rows:
        return []
    return [(r.partner.slug, r.partner.name) for r in rows] + [("", _("Tự gửi (nhập mã vận đơn sau)"))]


# --- the hand-over ----------------------------------------------------------------------------


def on_packed(order: Order, data: dict, actor: User | None) -> None:
    """orders hook: a packed order goes to the chosen partner (or the shop's default) and becomes
    ready for pickup; the booking (a carrier account) goes through the outbox."""
    rows = shop_partners(order.shop)
    if not rows:
        return  # no partner: the shop types the carrier and tracking number by hand
    wanted = data.get("partner")
    if wanted is None:
        choice = rows[0]
    elif wanted == "":
        return  # the shop chose to send it itself
    else:
        match = [r for r in rows if r.partner.slug == wanted]
        if not match:
            raise DomainError(
                _("Đơn vị vận chuyển không hợp lệ."), field_errors={"partner": [_("Vui lòng chọn lại.")]}
            )
        choice = match[0]
    partner = choice.partner
    length, width, height = feed.parse_size(order.parcel_size)
    shipment = db.session.scalar(select(Shipment).where(Shipment.order_id == order.id))
    if shipment is not None:
        raise Conflict(_("Đơn %(code)s đã được giao cho đơn vị vận chuyển.", code=order.code))
    shipment = Shipment(
        order_id=order.id,
        partner_id=partner.id,
        weight_g=order.parcel_weight_grams or order.weight_grams or 1,
        length_cm=length,
        width_cm=width,
        height_cm=height,
        status="ready_for_pickup",
        booking="pending" if partner.can_book else "none",
    )
    db.session.add(shipment)
    db.session.flush()
    order.__dict__["_logistics_shipment"] = shipment
    if partner.can_book:
        outbox.record(BOOK_TOPIC, {"shipment_id": shipment.id}, key=f"{BOOK_TOPIC}:{order.code}")
    feed.record_change(order, partner, "order.ready_for_pickup")


def on_cancelled(order: Order) -> None:
    """orders hook: a cancelled order leaves the partner's queue (and its booking is cancelled)."""
    shipment = db.session.scalar(select(Shipment).where(Shipment.order_id == order.id))
    if shipment is None or shipment.status == "cancelled":
        return
    shipment.status = "cancelled"
    if shipment.booking in ("pending", "booked"):
        outbox.record(
            CANCEL_BOOKING_TOPIC, {"shipment_id": shipment.id}, key=f"{CANCEL_BOOKING_TOPIC}:{order.code}"
        )
    feed.record_change(order, shipment.partner, "order.cancelled")


def order_updated(order: Order) -> None:
    """Something a partner relies on changed (address corrected, weight): tell it."""
    shipment = db.session.scalar(select(Shipment).where(Shipment.order_id == order.id))
    if shipment is not None and shipment.status not in ("cancelled",):
        feed.record_change(order, shipment.partner, "order.updated")


def change_parcel(order: Order, weight_g: int, size: str | None, *, actor: User) -> None:
    """The shop weighs the parcel again before pickup: the partner is told (order.updated)."""
    if not (can_handle_orders(actor, order.shop) or is_operator(actor)):
        raise Forbidden(_("Bạn không có quyền xử lý đơn hàng này."))
    shipment = db.session.scalar(select(Shipment).where(Shipment.order_id == order.id))
    if shipment is None or shipment.status != "ready_for_pickup":
        raise Conflict(_("Chỉ sửa được kiện hàng trước khi đơn vị vận chuyển lấy hàng."))
    shipment.weight_g = weight_g
    if size is not None:
        shipment.length_cm, shipment.width_cm, shipment.height_cm = feed.parse_size(size)
    order_updated(order)
