"""The demo province's sales history: about 90 days of orders across the demo shops, so the
producer's dashboard and the operator's console have something to show on `make run`.

Orders go through the real services (checkout, confirm, pack, ship, deliver, complete; some
refused by the shop or cancelled by the buyer), then their times are moved back to the day they
"happened" (as demo/govqa.py and demo/logistics.py do). Buyers are guests (no mail goes to them)
in Hà Tĩnh and several other provinces, identified by phone numbers of the demo range `0968…`;
that range is also how a second load knows the history is there and adds nothing. The shelf is
left as the catalogue file set it: the units sold in the past are put back once the history is
written (sales counts keep them).

Deterministic (a seeded random generator): every load draws the same history for the same shops.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select, update

from catalog.models import Listing
from marketplace.extensions import db
from marketplace.models import Commune, User
from marketplace.timeutil import floor_timezone, local_today, utcnow
from orders import services as order_services
from orders.models import LedgerEntry, Order, OrderEvent, Payment
from sellers.models import Shop, ShopMember

from .checkout import place_cod_order

DAYS = 90
PHONE_PREFIX = "0968"
BUYERS = 48  # distinct guest phone numbers; many buy more than once
# Where the demo's buyers live: mostly the province itself, then its neighbours and the big cities.
OTHER_PROVINCES = ("Nghệ An", "Thành phố Hà Nội", "Thành phố Hồ Chí Minh", "Quảng Trị", "Thành phố Đà Nẵng")
NAMES = ("Nguyễn Thị Lan", "Trần Văn Minh", "Lê Thị Hương", "Phạm Văn Đức", "Hoàng Thị Thu", "Võ Văn Tài")


def _owner(shop: Shop) -> User | None:
    return db.session.scalar(
        select(User)
        .join(ShopMember, ShopMember.user_id == User.id)
        .where(ShopMember.shop_id == shop.id, ShopMember.role == "owner")
    )


def _communes(province: str) -> tuple[list[Commune], list[Commune]]:
    rows = list(db.session.scalars(select(Commune).where(Commune.active.is_(True)).order_by(Commune.id)))
    home = [c for c in rows if c.province == province]
    away = [c for c in rows if c.province in OTHER_PROVINCES]
    return home, away


def already_loaded() -> bool:
    return (
        db.session.scalar(select(Order.id).where(Order.receiver_phone.like(f"{PHONE_PREFIX}%")).limit(1))
        is not None
    )


def _story(rng: random.Random, days_ago: int) -> str:
    """What became of an order placed `days_ago` days ago."""
    roll = rng.random()
    if roll < 0.08:
        return "refused"  # the shop had none left
    if roll < 0.12:
        return "cancelled"  # the buyer changed their mind
    if days_ago <= 2:
        return ("placed", "confirmed", "shipped")[rng.randrange(3)]
    if days_ago <= 5 and roll < 0.3:
        return "shipped"
    return "completed" if days_ago > 7 else "delivered"


def load_sales(province: str, counts: Counter, *, days: int = DAYS, per_day: float = 2.2) -> None:
    if already_loaded():
        return
    rng = random.Random(17)
    home, away = _communes(province)
    shops = list(db.session.scalars(select(Shop).where(Shop.status == "approved").order_by(Shop.id)))
    shelves: list[tuple[Shop, User, list[Listing]]] = []
    for shop in shops:
        owner = _owner(shop)
        listings = list(
            db.session.scalars(
                select(Listing)
                .where(Listing.shop_id == shop.id, Listing.status == "active", Listing.hidden_at.is_(None))
                .order_by(Listing.id)
            )
        )
        if owner is not None and listings:
            shelves.append((shop, owner, listings))
    if not shelves or not home:
        return
    sold: Counter = Counter()
    now, zone = utcnow(), floor_timezone()
    today = local_today()
    joined = _joining_days(shelves, days)
    for days_ago in range(days, 0, -1):
        day = today - timedelta(days=days_ago)
        open_shops = [shelf for shelf in shelves if joined[shelf[0].id] > days_ago]
        # busier towards the end (the floor is growing) and at weekends
        expected = per_day * (1.5 - 0.5 * days_ago / days) * (1.4 if day.weekday() >= 5 else 1)
        for _n in range(max(0, round(rng.gauss(expected, 1)))):
            shop, owner, listings = open_shops[rng.randrange(len(open_shops))]
            listing = listings[rng.randrange(len(listings))]
            quantity = max(listing.min_order_qty, 1) * rng.choice((1, 1, 1, 2, 3))
            if listing.stock < quantity:
                continue
            buyer = rng.randrange(BUYERS)
            # two buyers in three live in the province, the others elsewhere
            communes = home if buyer % 3 or not away else away
            commune = communes[buyer * 7 % len(communes)]
            moment = datetime.combine(day, time(rng.randrange(6, 23), rng.randrange(60)), tzinfo=zone)
            order = place_cod_order(
                listing,
                quantity,
                commune,
                name=NAMES[buyer % len(NAMES)],
                phone=f"{PHONE_PREFIX}{buyer:06d}",
                address_line=f"Thôn {buyer % 12 + 1}",
            )
            if order is None:
                continue
            _advance(order, owner, _story(rng, days_ago))
            _backdate(order, moment.astimezone(UTC).replace(tzinfo=None), now)
            if order.status != "cancelled":
                sold[listing.id] += quantity
            counts["demo sales orders"] += 1
    _backdate_shops(shelves, joined, now)
    # The past's units go back on the shelf: today's stock is the catalogue file's.
    for listing_id, quantity in sold.items():
        db.session.execute(
            update(Listing).where(Listing.id == listing_id).values(stock=Listing.stock + quantity)
        )
    db.session.flush()


def _joining_days(shelves: list[tuple[Shop, User, list[Listing]]], days: int) -> dict[int, int]:
    """shop id -> how many days ago it joined the floor: two shops in three before the history
    starts, the others during it (so the "new shops" and "new listings" charts have a story)."""
    joined = {}
    late = shelves[::3][1:]  # every third shop from the fourth on joined during the history
    for n, (shop, _owner, _listings) in enumerate(shelves):
        joined[shop.id] = days + 30 + 3 * n
    for n, (shop, _owner, _listings) in enumerate(late):
        joined[shop.id] = max(3, days - 10 - n * (days - 20) // max(len(late), 1))
    return joined


def _backdate_shops(
    shelves: list[tuple[Shop, User, list[Listing]]], joined: dict[int, int], now: datetime
) -> None:
    """Each shop and its listings appear on the day it joined (before its first sale)."""
    for shop, _owner, listings in shelves:
        when = now - timedelta(days=joined[shop.id], hours=2)
        shop.created_at = when
        for n, listing in enumerate(listings):
            listing.created_at = when + timedelta(hours=1 + n)
            if listing.published_at is not None:
                listing.published_at = when + timedelta(hours=1 + n)


def _advance(order: Order, owner: User, story: str) -> None:
    if story == "placed":
        return
    if story == "cancelled":
        order_services.cancel_order(order, reason="Người mua đổi ý", actor=None, actor_role="buyer")
        return
    if story == "refused":
        order_services.reject_order(order, "Hết hàng vụ này", actor=owner)
        return
    order_services.confirm_order(order, actor=owner)
    if story == "confirmed":
        return
    order_services.pack_order(order, {"parcel_weight_grams": "1200"}, actor=owner)
    order_services.ship_order(
        order, {"carrier": "Giao Hàng Demo", "tracking_number": order.code}, actor=owner
    )
    if story == "shipped":
        return
    order_services.deliver_order(order, actor=owner)
    if story == "completed":
        order_services.complete_order(order, actor=None, actor_role="system")


def _backdate(order: Order, placed_at: datetime, now: datetime) -> None:
    """Move the order, its payment, its history and its ledger lines back by the same shift, each
    step an hour or so after the one before."""
    db.session.flush()
    shift = now - placed_at
    order.created_at = placed_at
    order.updated_at = order.updated_at - shift
    payment = db.session.get(Payment, order.payment_id)
    if payment is not None:
        payment.created_at = placed_at
        payment.updated_at = payment.updated_at - shift
    events = list(
        db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id))
    )
    for step, row in enumerate(events):
        row.created_at = placed_at + timedelta(hours=5 * step, minutes=step)
    for entry in db.session.scalars(select(LedgerEntry).where(LedgerEntry.order_id == order.id)):
        entry.created_at = placed_at + timedelta(hours=5 * len(events))
