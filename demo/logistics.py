"""The demo province's logistics: one demo carrier partner serving every shop (its API key and
webhook secret are fixed demo values, printed by `demo load` and `demo accounts`), GHN and GHTK
partners in the list, and orders in every parcel state spread over the last weeks. Idempotent:
a second load creates nothing."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, timedelta

from flask import current_app
from sqlalchemy import select

from catalog.models import Listing
from logistics import events, services
from logistics.events import Incoming
from logistics.models import ApiKey, Partner, Shipment, ShipmentEvent, WebhookSecret
from logistics.secrets import digest
from marketplace.extensions import db
from marketplace.models import Commune, User
from marketplace.timeutil import utcnow
from orders import services as order_services
from orders.models import Order, OrderEvent
from sellers.models import Shop, ShopMember

from .checkout import place_cod_order

DEMO_SLUG = "giao-hang-demo"
# Demo values, public on purpose (like the demo passwords): never use them outside the demo.
DEMO_KEY = "lgk_de000001.demo-key-giao-hang-demo-not-a-secret-0000000000"
DEMO_SECRET = "whsec_" + "ZGVtby13ZWJob29rLXNlY3JldC1naWFvLWhhbmctZGVtbw=="
DEMO_WEBHOOK_URL = "http://127.0.0.1:9/demo-webhooks"  # nobody listens: the delivery log shows retries

# (final floor statuses in order, days ago): one order for each parcel path
STORIES: tuple[tuple[tuple[str, ...], int], ...] = (
    ((), 1),  # ready for pickup
    (("picked_up",), 2),
    (("picked_up", "in_transit", "out_for_delivery"), 3),
    (("picked_up", "in_transit", "out_for_delivery", "delivered"), 6),
    (("picked_up", "out_for_delivery", "delivery_failed"), 4),
    (("picked_up", "out_for_delivery", "delivery_failed", "out_for_delivery", "delivered"), 12),
    (("picked_up", "delivery_failed", "returning"), 9),
    (("picked_up", "delivery_failed", "returning", "returned"), 20),
    (("picked_up", "in_transit", "lost"), 15),
    (("picked_up", "damaged"), 25),
    (("picked_up", "in_transit", "out_for_delivery", "delivered"), 27),
    (("placed",), 0),  # not yet handed to a carrier
    (("confirmed",), 1),
    (("cancelled",), 5),
)


def credentials_text() -> str:
    """What `make run` prints about the demo carrier (empty before the demo is loaded)."""
    if db.session.scalar(select(Partner.id).where(Partner.slug == DEMO_SLUG)) is None:
        return ""
    return (
        f"Demo carrier partner `{DEMO_SLUG}` (serves every shop):\n"
        f"  API key         {DEMO_KEY}\n"
        f"  webhook secret  {DEMO_SECRET}\n"
        f"  feed            curl -H 'Authorization: Bearer <key>' {_base_url()}/api/v1/logistics/orders"
    )


def _base_url() -> str:
    """The public address BASE_URL gave (marketplace/config.py keeps it as SERVER_NAME + scheme)."""
    cfg = current_app.config
    return f"{cfg['PREFERRED_URL_SCHEME']}://{cfg['SERVER_NAME']}"


def _ensure_partners(counts: Counter) -> Partner:
    demo = db.session.scalar(select(Partner).where(Partner.slug == DEMO_SLUG))
    if demo is None:
        demo = Partner(
            name="Giao Hàng Demo",
            slug=DEMO_SLUG,
            kind="generic",
            all_shops=True,
            webhook_url=DEMO_WEBHOOK_URL,
            status_map=services.default_status_map("generic"),
            tracking_url="https://example.vn/tra-cuu-van-don?ma={code}",
        )
        db.session.add(demo)
        db.session.flush()
        db.session.add(
            ApiKey(
                partner_id=demo.id, name="Khóa demo", prefix=DEMO_KEY.split(".")[0], key_hash=digest(DEMO_KEY)
            )
        )
        db.session.add(WebhookSecret(partner_id=demo.id, secret=DEMO_SECRET))
        counts["logistics partners"] += 1
    for kind, name in (("ghn", "Giao Hàng Nhanh (GHN)"), ("ghtk", "Giao Hàng Tiết Kiệm (GHTK)")):
        if db.session.scalar(select(Partner.id).where(Partner.slug == kind)) is None:
            services.create_partner(name, actor=None, kind=kind, slug=kind)
            counts["logistics partners"] += 1
    db.session.flush()
    return demo


def _owner(shop: Shop) -> User | None:
    return db.session.scalar(
        select(User)
        .join(ShopMember, ShopMember.user_id == User.id)
        .where(ShopMember.shop_id == shop.id, ShopMember.role == "owner")
    )


def _place(listing: Listing, commune: Commune, n: int) -> Order:
    order = place_cod_order(
        listing,
        max(listing.min_order_qty, 1),
        commune,
        name=("Nguyễn Thị Hoa", "Trần Văn Nam", "Lê Thị Mai", "Phạm Văn Hùng")[n % 4],
        phone=f"09123450{n:02d}",
        address_line=f"Thôn {n + 1}",
    )
    assert order is not None, "a shop always ships within its own commune"
    return order


def load_logistics_demo(counts: Counter) -> None:
    demo = _ensure_partners(counts)
    if db.session.scalar(select(Shipment.id).where(Shipment.partner_id == demo.id).limit(1)) is not None:
        return
    shops = list(db.session.scalars(select(Shop).where(Shop.status == "approved").order_by(Shop.id)))
    for shop in shops:
        owner = _owner(shop)
        if owner is not None:
            services.set_shop_partners(shop, [demo.id], demo.id, actor=owner)
    now = utcnow()
    for n, (path, days_ago) in enumerate(STORIES):
        shop = shops[n % len(shops)]
        listing = db.session.scalar(
            select(Listing)
            .where(
                Listing.shop_id == shop.id,
                Listing.status == "active",
                Listing.stock >= 5 * Listing.min_order_qty + 5,
            )
            .limit(1)
        )
        owner = _owner(shop)
        if listing is None or owner is None:
            continue
        order = _place(listing, shop.commune, n)  # a buyer in the shop's own commune: always served
        if path and path[0] in ("placed", "confirmed", "cancelled"):
            if path[0] != "placed":
                order_services.confirm_order(order, actor=owner)
            if path[0] == "cancelled":
                order_services.reject_order(order, "Hết hàng vụ này", actor=owner)
            path = ()
        else:
            order_services.confirm_order(order, actor=owner)
            order_services.pack_order(
                order, {"parcel_weight_grams": "1200", "parcel_size": "30x20x15"}, actor=owner
            )
        start = now - timedelta(days=days_ago)
        for step, status in enumerate(path):
            events.ingest(
                demo,
                Incoming(
                    event_id=f"demo-{order.code}-{step}",
                    order_code=order.code,
                    status=status,
                    occurred_at=(start + timedelta(hours=6 * (step + 1))).replace(tzinfo=UTC),
                    tracking_code=f"GHD{hashlib.sha256(order.code.encode()).hexdigest()[:8].upper()}",
                    reason="Không liên lạc được người nhận" if status == "delivery_failed" else None,
                    cod_collected_vnd=order.total_vnd if status == "delivered" else None,
                ),
            )
        if order.status == "delivered" and days_ago > 20:
            order_services.complete_order(order, actor=None, actor_role="system")
        # spread over the last weeks: the order and its history happened back then
        shift = now - start
        # (computed here: SQLite has no datetime arithmetic in UPDATE)
        db.session.flush()
        order.created_at = start
        order.updated_at = order.updated_at - shift
        for row in db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id)):
            row.created_at = row.created_at - shift + timedelta(minutes=1)
        for ev in db.session.scalars(
            select(ShipmentEvent).where(ShipmentEvent.event_id.like(f"demo-{order.code}-%"))
        ):
            ev.received_at = ev.occurred_at
        counts["logistics demo orders"] += 1
    db.session.flush()
