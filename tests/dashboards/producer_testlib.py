"""A small, hand-countable shop for the producer dashboard's tests (figures, pages, browser).

November 2026 in Hà Tĩnh (UTC+7). Listing A sells at 50 000 đ, B at 45 000 đ; every floor order
adds a 20 000 đ shipping fee. The orders (UTC in brackets):

  o0  10/10 local                         A×2  card, completed    (October: before the period)
  o4  31/10 23:59 local (31/10 16:59)     A×3  COD, delivered      October, by one minute
  o3  01/11 00:00 local (31/10 17:00)     A×1 B×1  card, completed  1 November
  o5  15/11                               A×5  cancelled           not a sale
  o1  30/11 23:59 local (30/11 16:59)     A×2  COD, delivered      30 November
  o2  01/12 00:00 local (30/11 17:00)     B×1  transfer, confirmed  December, by one minute
  o6  another shop's order on 10/11: never in this shop's figures

So November: 2 orders, 195 000 đ (95 000 on the 1st, 100 000 on the 30th); A 3 units 150 000,
B 1 unit 45 000; Shopee 1 order of 2 units at 55 000 = 110 000 (taken on 30/11 23:59 local; a
line taken a minute later and a line without stock do not count).

COD outstanding: o1 (120 000 collected, 50 000 remitted: 70 000 held by "GHN Thử"); o4 remitted
in full.

Ledger: o0 collected +120 000 (10/10), payout −100 000 (31/10 23:59 local), o3 collected
+115 000 (01/11 00:00 local), o3 partial refund −15 000 (20/11), payout −50 000 (30/11 23:59
local), payout −10 000 (01/12 00:00 local). November: opening 20 000, closing 70 000; owed now
60 000.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from catalog.models import Listing
from dashboards.periods import Period
from marketplace.extensions import db
from orders.models import Complaint, LedgerEntry, Order, OrderLine, Payment, Review
from sellers.models import ShopMember

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
SHIPPING = 20_000
_codes = itertools.count(1)


@dataclass
class World:
    shop: object
    owner: object
    staff: object
    other_shop: object
    other_owner: object
    a: Listing
    b: Listing
    orders: dict[str, Order] = field(default_factory=dict)
    reviews: list[Review] = field(default_factory=list)


def make_order(
    shop,
    lines: list[tuple[Listing, int]],
    created_at: datetime,
    *,
    status: str = "delivered",
    method: str = "cod",
    commune_id: int,
) -> Order:
    n = next(_codes)
    subtotal = sum(listing.price_vnd * qty for listing, qty in lines)
    payment = Payment(
        code=f"TP{n:05d}",
        method=method,
        status="paid" if method != "cod" else "pending",
        amount_vnd=subtotal + SHIPPING,
        email="mua@example.vn",
        phone="0912345678",
        created_at=created_at,
    )
    db.session.add(payment)
    db.session.flush()
    order = Order(
        code=f"TP{n:05d}-1",
        payment_id=payment.id,
        shop_id=shop.id,
        status=status,
        payment_method=method,
        paid=method != "cod",
        subtotal_vnd=subtotal,
        shipping_vnd=SHIPPING,
        total_vnd=subtotal + SHIPPING,
        email="mua@example.vn",
        receiver_name="Trần Thị Bình",
        receiver_phone="0912345678",
        address_line="Thôn 2",
        commune_id=commune_id,
        commune_name="Xã Sơn Kim 1",
        province="Hà Tĩnh",
        created_at=created_at,
        updated_at=created_at,
    )
    order.lines = [
        OrderLine(
            listing_id=listing.id,
            title=listing.title,
            unit=listing.unit,
            unit_price_vnd=listing.price_vnd,
            quantity=qty,
            line_total_vnd=listing.price_vnd * qty,
        )
        for listing, qty in lines
    ]
    db.session.add(order)
    db.session.flush()
    return order


def utc(local: str) -> datetime:
    """'2026-11-30 23:59' in Hà Tĩnh -> naive UTC."""
    return datetime.fromisoformat(local) - timedelta(hours=7)


def build_world(factory, *, title_a: str = "Cam bù Hương Sơn") -> World:
    owner = factory.user(role="producer", email="chu@htx.vn")
    shop = factory.shop(owner=owner, name="HTX Cam Sơn")
    staff = factory.user(role="producer", email="nhanvien@htx.vn")
    db.session.add(ShopMember(shop_id=shop.id, user_id=staff.id, role="staff"))
    other_owner = factory.user(role="producer", email="chu@khac.vn")
    other_shop = factory.shop(owner=other_owner, name="HTX Khác")
    a = factory.listing(shop=shop, title=title_a, price=50_000, stock=10, low_stock_threshold="10")
    b = factory.listing(shop=shop, title="Mật ong Vũ Quang", price=45_000, stock=30)
    factory.listing(
        shop=shop,
        title="Nhút Thanh Chương",
        price=30_000,
        stock=2,
        status="archived",
        low_stock_threshold="5",
    )
    other = factory.listing(
        shop=other_shop, title="Kẹo cu đơ", price=40_000, stock=2, low_stock_threshold="5"
    )
    commune_id = factory.commune().id
    w = World(shop, owner, staff, other_shop, other_owner, a, b)
    o = w.orders
    o["o0"] = make_order(
        shop, [(a, 2)], utc("2026-10-10 09:00"), status="completed", method="card", commune_id=commune_id
    )
    o["o4"] = make_order(shop, [(a, 3)], utc("2026-10-31 23:59"), commune_id=commune_id)
    o["o3"] = make_order(
        shop,
        [(a, 1), (b, 1)],
        utc("2026-11-01 00:00"),
        status="completed",
        method="card",
        commune_id=commune_id,
    )
    o["o5"] = make_order(shop, [(a, 5)], utc("2026-11-15 10:00"), status="cancelled", commune_id=commune_id)
    o["o1"] = make_order(shop, [(a, 2)], utc("2026-11-30 23:59"), commune_id=commune_id)
    o["o2"] = make_order(
        shop,
        [(b, 1)],
        utc("2026-12-01 00:00"),
        status="confirmed",
        method="bank_transfer",
        commune_id=commune_id,
    )
    o["o6"] = make_order(other_shop, [(other, 1)], utc("2026-11-10 10:00"), commune_id=commune_id)
    db.session.commit()
    return w


def add_ledger(w: World) -> None:
    o = w.orders
    entries = [
        (o["o0"], "collected", 120_000, "2026-10-10 09:05", None),
        (None, "payout", -100_000, "2026-10-31 23:59", "UNC-0"),
        (o["o3"], "collected", 115_000, "2026-11-01 00:00", None),
        (o["o3"], "partial_refund", -15_000, "2026-11-20 08:00", None),
        (None, "payout", -50_000, "2026-11-30 23:59", '=HYPERLINK("http://x")'),
        (None, "payout", -10_000, "2026-12-01 00:00", "UNC-2"),
    ]
    for order, kind, amount, at, reference in entries:
        db.session.add(
            LedgerEntry(
                shop_id=w.shop.id,
                order_id=order.id if order else None,
                payment_id=order.payment_id if order else None,
                kind=kind,
                amount_vnd=amount,
                reference=reference,
                created_at=utc(at),
            )
        )
    # Another shop's money never shows in this shop's statement.
    db.session.add(
        LedgerEntry(
            shop_id=w.other_shop.id, kind="payout", amount_vnd=-7_000, created_at=utc("2026-11-10 10:00")
        )
    )
    db.session.commit()


def add_cod(w: World) -> None:
    from logistics.models import Partner, Remittance, RemittanceLine, Shipment

    partner = Partner(name="GHN Thử", slug="ghn-thu")
    db.session.add(partner)
    db.session.flush()
    for key in ("o1", "o4"):
        db.session.add(
            Shipment(order_id=w.orders[key].id, partner_id=partner.id, weight_g=1000, status="delivered")
        )
    remittance = Remittance(
        partner_id=partner.id, reference="CK-1", transfer_date=date(2026, 12, 2), total_vnd=220_000
    )
    remittance.lines = [
        RemittanceLine(
            order_code=w.orders["o1"].code,
            order_id=w.orders["o1"].id,
            shop_id=w.shop.id,
            amount_vnd=50_000,
            problem="amount_differs",
        ),
        RemittanceLine(
            order_code=w.orders["o4"].code, order_id=w.orders["o4"].id, shop_id=w.shop.id, amount_vnd=170_000
        ),
    ]
    db.session.add(remittance)
    db.session.commit()


def add_remote_orders(w: World) -> None:
    from syndication.models import Connection, RemoteOrder, SyncRecord

    connection = Connection(
        shop_id=w.shop.id, platform="shopee", remote_shop_id="s-1", access_token="tok-123456789"
    )
    db.session.add(connection)
    db.session.flush()
    rows = [
        ("R1", "1", 2, 55_000, "taken", "2026-11-30 23:59"),
        ("R2", "1", 1, 55_000, "taken", "2026-12-01 00:00"),
        ("R3", "1", 4, 55_000, "no_stock", "2026-11-10 10:00"),
    ]
    for order_id, item, qty, price, state, at in rows:
        db.session.add(
            RemoteOrder(
                connection_id=connection.id,
                shop_id=w.shop.id,
                listing_id=w.a.id,
                platform="shopee",
                remote_order_id=order_id,
                remote_item_id=item,
                quantity=qty,
                price_vnd=price,
                title=w.a.title,
                state=state,
                placed_at=utc(at),
            )
        )
    db.session.add(
        SyncRecord(listing_id=w.a.id, connection_id=connection.id, state="failed", last_error="Thiếu ảnh")
    )
    db.session.add(SyncRecord(listing_id=w.b.id, connection_id=connection.id, state="synced"))
    db.session.commit()


def add_today_work(w: World, factory) -> None:
    """Orders waiting today, a failed delivery, an open complaint and two reviews (one answered)."""
    from marketplace.timeutil import utcnow

    commune_id = factory.commune().id
    now = utcnow()
    make_order(w.shop, [(w.b, 1)], now, status="placed", commune_id=commune_id)
    make_order(w.shop, [(w.b, 1)], now, status="placed", commune_id=commune_id)
    make_order(w.shop, [(w.b, 1)], now, status="delivery_failed", commune_id=commune_id)
    db.session.add(
        Complaint(
            order_id=w.orders["o1"].id,
            reason="damaged",
            description="Cam dập",
            answer_due_at=now + timedelta(days=2),
        )
    )
    for line, stars, body in (
        (w.orders["o1"].lines[0], 2, "Cam hơi dập"),
        (w.orders["o3"].lines[1], 5, "Mật ong thơm"),
    ):
        review = Review(
            order_line_id=line.id,
            listing_id=line.listing_id,
            shop_id=w.shop.id,
            author_name="Trần Thị Bình",
            stars=stars,
            body=body,
        )
        db.session.add(review)
        w.reviews.append(review)
    db.session.flush()
    w.reviews[1].reply_body = "Cảm ơn chị!"
    w.reviews[1].replied_at = now
    db.session.commit()


def full_world(factory, **kwargs) -> World:
    w = build_world(factory, **kwargs)
    add_ledger(w)
    add_cod(w)
    add_remote_orders(w)
    add_today_work(w, factory)
    return w
