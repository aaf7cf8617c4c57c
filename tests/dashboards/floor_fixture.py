"""A small floor whose November 2026 figures are worked out by hand (see `Floor` and the tests).

Shops, listings and OCOP certificates go through the real services (tests/conftest.py factory);
orders are written as rows with chosen local times, so the day boundary is exact: an order at
23:59 on 31 October (UTC 16:59) is October's, one at 00:00 on 1 November (UTC 17:00 the day
before) is November's.

Counted orders of November (placed, not pending payment / cancelled / refunded / returned):
  O1  shop A (household, Xã Sơn Kim 1)     L1 (OCOP 4★) × 2 @ 45 000 =  90 000  account u1,
      Hà Tĩnh / Phường Thành Sen, 1 Nov 00:00, delivered
  O3  shop B (cooperative, Phường Thành Sen) L3 (OCOP 3★) × 3 @ 50 000 = 150 000  account u2,
      Thành phố Hà Nội / Phường Ba Đình, 30 Nov 23:59, completed
  O6  shop B                               L4 (claimed 5★, unchecked) × 2 @ 80 000 = 160 000  guest
      0900000001, Nghệ An / Phường Vinh Phú, 15 Nov 12:00, shipped
Not counted: O2 (31 Oct 23:59), O4 (1 Dec 00:00), O5 cancelled, O7 pending payment, O8 refunded.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update

from catalog.models import Listing
from marketplace.extensions import db
from orders.models import Order, OrderLine, Payment
from sellers.models import Shop

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
_codes = itertools.count(1)
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def utc(local: str) -> datetime:
    """'2026-11-01 00:00' in Vietnam -> naive UTC, as the database stores it."""
    moment = datetime.fromisoformat(local).replace(tzinfo=ZONE)
    return moment.astimezone(UTC).replace(tzinfo=None)


def add_order(
    shop: Shop,
    lines: list[tuple[Listing, int]],
    *,
    at: str,
    status: str,
    buyer: Any = None,
    phone: str = "0900000009",
    province: str = "Hà Tĩnh",
    commune: str = "Phường Thành Sen",
) -> Order:
    code = f"DHT{next(_codes):05d}"
    subtotal = sum(listing.price_vnd * qty for listing, qty in lines)
    payment = Payment(
        code=code,
        method="cod",
        status="pending",
        amount_vnd=subtotal,
        buyer_id=buyer.id if buyer else None,
        email="",
        phone=phone,
    )
    db.session.add(payment)
    db.session.flush()
    order = Order(
        code=f"{code}-1",
        payment_id=payment.id,
        shop_id=shop.id,
        buyer_id=buyer.id if buyer else None,
        status=status,
        payment_method="cod",
        subtotal_vnd=subtotal,
        shipping_vnd=0,
        total_vnd=subtotal,
        email="",
        receiver_name="Người nhận",
        receiver_phone=phone,
        address_line="Thôn 1",
        commune_id=shop.commune_id,
        commune_name=commune,
        province=province,
        created_at=utc(at),
    )
    db.session.add(order)
    db.session.flush()
    for listing, qty in lines:
        db.session.add(
            OrderLine(
                order_id=order.id,
                listing_id=listing.id,
                title=listing.title,
                unit=listing.unit,
                unit_price_vnd=listing.price_vnd,
                quantity=qty,
                line_total_vnd=listing.price_vnd * qty,
            )
        )
    db.session.commit()
    return order


@dataclass
class Floor:
    shops: dict[str, Shop]
    listings: dict[str, Listing]
    orders: dict[str, Order]


def _ocop(number: str, stars: int) -> dict:
    return {
        "ocop_stars": stars,
        "ocop_certificate_no": number,
        "ocop_issued_on": "01/06/2025",
        "ocop_level": "province",
    }


def build_floor(factory) -> Floor:
    from sellers.services import reject_shop

    son_kim = factory.commune("Xã Sơn Kim 1")
    thanh_sen = factory.commune("Phường Thành Sen")
    shop_a = factory.shop(name="Hộ Cam Sơn Kim", kind="household", commune_id=son_kim.id)
    shop_b = factory.shop(name="HTX Thành Sen", kind="cooperative", commune_id=thanh_sen.id)
    shop_c = factory.shop(name="Công ty Mật ong", kind="enterprise", commune_id=son_kim.id)
    shop_e = factory.shop(name="Công ty Nước mắm", kind="enterprise", commune_id=thanh_sen.id)
    shop_d = factory.shop(name="Hộ chờ duyệt", kind="household", approved=False)
    shop_f = factory.shop(name="Hộ bị từ chối", kind="household", approved=False)
    reject_shop(shop_f, "Thiếu giấy tờ.", actor=factory.operator())
    db.session.commit()

    fruit, specialty = factory.category("Trái cây"), factory.category("Đặc sản")
    l1 = factory.listing(shop_a, "Cam bù Hương Sơn", 45000, category=fruit, **_ocop("OCOP-HT-4", 4))
    l2 = factory.listing(shop_a, "Mật ong rừng", 100000, category=specialty)
    l3 = factory.listing(shop_b, "Kẹo cu đơ", 50000, category=specialty, **_ocop("OCOP-HT-3", 3))
    l4 = factory.listing(shop_b, "Nhung hươu", 80000, category=specialty, **_ocop("OCOP-HT-5", 5))
    l5 = factory.listing(shop_c, "Mật ong Vũ Quang", 120000, category=specialty, **_ocop("OCOP-HT-3B", 3))
    l6 = factory.listing(shop_e, "Nước mắm Cửa Sót", 60000, category=specialty)
    factory.check_ocop(l1, l3, l5)  # l4's claim stays waiting: not OCOP, and a queue item

    def stamp(model, row_id: int, **values) -> None:
        db.session.execute(update(model).where(model.id == row_id).values(**values))

    stamp(Shop, shop_a.id, created_at=utc("2026-11-02 00:00"))
    stamp(Shop, shop_b.id, created_at=utc("2026-10-31 23:59"))
    stamp(Shop, shop_d.id, created_at=utc("2026-11-30 23:59"))
    stamp(Shop, shop_f.id, created_at=utc("2026-11-05 10:00"))
    early = utc("2026-10-01 08:00")  # everything else happened before November
    for listing in (l1, l2, l3, l4, l5, l6):
        stamp(Listing, listing.id, updated_at=early, published_at=early)
    for shop in (shop_c, shop_e):
        stamp(Shop, shop.id, created_at=early)
    stamp(Listing, l1.id, published_at=utc("2026-11-01 00:00"))
    stamp(Listing, l3.id, published_at=utc("2026-10-31 23:59"))
    stamp(Listing, l6.id, updated_at=utc("2026-11-10 09:00"))  # shop E is active without a sale
    db.session.commit()

    u1, u2 = factory.user(), factory.user()
    orders = {
        "O1": add_order(shop_a, [(l1, 2)], at="2026-11-01 00:00", status="delivered", buyer=u1),
        "O2": add_order(
            shop_a, [(l2, 1)], at="2026-10-31 23:59", status="delivered", buyer=u1, commune="Xã Sơn Kim 1"
        ),
        "O3": add_order(
            shop_b,
            [(l3, 3)],
            at="2026-11-30 23:59",
            status="completed",
            buyer=u2,
            province="Thành phố Hà Nội",
            commune="Phường Ba Đình",
        ),
        "O4": add_order(
            shop_b,
            [(l3, 1)],
            at="2026-12-01 00:00",
            status="placed",
            phone="0900000001",
            province="Thành phố Hà Nội",
            commune="Phường Ba Đình",
        ),
        "O5": add_order(
            shop_a, [(l1, 1), (l2, 1)], at="2026-11-15 10:00", status="cancelled", phone="0900000001"
        ),
        "O6": add_order(
            shop_b,
            [(l4, 2)],
            at="2026-11-15 12:00",
            status="shipped",
            phone="0900000001",
            province="Nghệ An",
            commune="Phường Vinh Phú",
        ),
        "O7": add_order(shop_a, [(l2, 2)], at="2026-11-20 08:00", status="pending_payment", buyer=u2),
        "O8": add_order(shop_a, [(l1, 1)], at="2026-11-01 09:00", status="refunded", buyer=u1),
    }
    return Floor(
        shops={"A": shop_a, "B": shop_b, "C": shop_c, "D": shop_d, "E": shop_e, "F": shop_f},
        listings={"L1": l1, "L2": l2, "L3": l3, "L4": l4, "L5": l5, "L6": l6},
        orders=orders,
    )
