"""The cart: in the session for visitors, in cart_items for signed-in buyers (merged on sign-in).

Both stores hold (listing, quantity, price seen when added). `view()` turns entries into lines
with today's listing data, the problems that block checkout (gone, sold out, too few, too many)
and the price changes to show, and prices them with `pricing.quote()`."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from catalog import services as catalog_services
from catalog.models import Listing
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.models import User
from marketplace.money import MAX_TOTAL_VND, format_vnd

from . import pricing
from .models import CartItem

SESSION_KEY = "cart"
MAX_QUANTITY = catalog_services.MAX_QUANTITY
MAX_LINES = 100


@dataclass
class Entry:
    listing_id: int
    quantity: int
    price_seen_vnd: int


class SessionCart:
    """A visitor's cart: {"<listing id>": [quantity, price seen]} in the signed session cookie."""

    def __init__(self, session):
        self.session = session

    def _data(self) -> dict[str, list[int]]:
        return dict(self.session.get(SESSION_KEY) or {})

    def entries(self) -> list[Entry]:
        return [Entry(int(k), int(v[0]), int(v[1])) for k, v in self._data().items()]

    def put(self, entry: Entry) -> None:
        data = self._data()
        data[str(entry.listing_id)] = [entry.quantity, entry.price_seen_vnd]
        self.session[SESSION_KEY] = data

    def remove(self, listing_ids) -> None:
        data = self._data()
        for listing_id in listing_ids:
            data.pop(str(listing_id), None)
        self.session[SESSION_KEY] = data

    def clear(self) -> None:
        self.session.pop(SESSION_KEY, None)

    def count(self) -> int:
        return len(self._data())


class UserCart:
    def __init__(self, user: User):
        self.user = user

    def entries(self) -> list[Entry]:
        rows = db.session.scalars(
            select(CartItem).where(CartItem.user_id == self.user.id).order_by(CartItem.id)
        )
        return [Entry(r.listing_id, r.quantity, r.price_seen_vnd) for r in rows]

    def put(self, entry: Entry) -> None:
        row = db.session.scalar(
            select(CartItem).where(CartItem.user_id == self.user.id, CartItem.listing_id == entry.listing_id)
        )
        if row is None:
            db.session.add(
                CartItem(
                    user_id=self.user.id,
                    listing_id=entry.listing_id,
                    quantity=entry.quantity,
                    price_seen_vnd=entry.price_seen_vnd,
                )
            )
        else:
            row.quantity, row.price_seen_vnd = entry.quantity, entry.price_seen_vnd
        db.session.flush()

    def remove(self, listing_ids) -> None:
        ids = list(listing_ids)
        if ids:
            db.session.execute(
                delete(CartItem).where(CartItem.user_id == self.user.id, CartItem.listing_id.in_(ids))
            )

    def clear(self) -> None:
        db.session.execute(delete(CartItem).where(CartItem.user_id == self.user.id))

    def count(self) -> int:
        return (
            db.session.scalar(
                select(func.count()).select_from(CartItem).where(CartItem.user_id == self.user.id)
            )
            or 0
        )


class BuyNow:
    """The "Mua ngay" (buy now) line: one listing and quantity taken straight to checkout.

    The line travels as a signed value (in the checkout URL, then in the checkout form), never in
    the session or the cart: placing the order or walking away leaves the cart as it was, and two
    tabs buying two things at once do not disturb each other. It has the stores' interface, so
    checkout treats it like a cart; removing its line after the order is placed does nothing."""

    SALT = "buy-now"
    MAX_AGE_S = 24 * 3600

    def __init__(self, entry: Entry):
        self.entry = entry

    @classmethod
    def for_listing(cls, listing: Listing, quantity: int) -> BuyNow:
        return cls(Entry(listing.id, quantity, listing.price_vnd))

    @staticmethod
    def _serializer() -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=BuyNow.SALT)

    @classmethod
    def from_token(cls, token: str) -> BuyNow | None:
        """The line a token carries; None if it was not made here, is too old or is malformed."""
        try:
            data = cls._serializer().loads(token or "", max_age=cls.MAX_AGE_S)
        except (BadSignature, SignatureExpired):
            return None
        if not (isinstance(data, list) and len(data) == 3 and all(type(v) is int for v in data)):
            return None
        listing_id, quantity, price_seen = data
        if listing_id < 1 or not 1 <= quantity <= MAX_QUANTITY or price_seen < 0:
            return None
        return cls(Entry(listing_id, quantity, price_seen))

    def token(self) -> str:
        return self._serializer().dumps(
            [self.entry.listing_id, self.entry.quantity, self.entry.price_seen_vnd]
        )

    def entries(self) -> list[Entry]:
        return [self.entry]

    def put(self, entry: Entry) -> None:
        self.entry = entry  # the caller hands the new token() to the next form

    def remove(self, listing_ids) -> None:
        """Nothing to clear: the cart never held this line."""

    def clear(self) -> None:
        """Nothing to clear (as remove())."""

    def count(self) -> int:
        return 1


def cart_for(user: User | None, session) -> SessionCart | UserCart:
    if user is not None and getattr(user, "is_authenticated", False):
        return UserCart(user)
    return SessionCart(session)


def check_quantity(listing: Listing, quantity: int) -> None:
    """Raise with the reason a quantity of `listing` cannot be bought right now."""
    if not listing.is_public:
        raise DomainError(_("Sản phẩm “%(title)s” không còn được bán.", title=listing.title))
    if listing.stock <= 0 or listing.stock < listing.min_order_qty:
        raise DomainError(_("Sản phẩm “%(title)s” đã hết hàng.", title=listing.title))
    if quantity < listing.min_order_qty:
        raise DomainError(
            _(
                "Sản phẩm “%(title)s” cần mua tối thiểu %(n)d %(unit)s.",
                title=listing.title,
                n=listing.min_order_qty,
                unit=listing.unit,
            )
        )
    if quantity > listing.stock:
        raise DomainError(
            _(
                "Sản phẩm “%(title)s” chỉ còn %(n)d %(unit)s.",
                title=listing.title,
                n=listing.stock,
                unit=listing.unit,
            )
        )


def add(store, listing: Listing, quantity: int) -> Entry:
    """Add `quantity` more of `listing` (the result must be buyable now)."""
    if quantity < 1 or quantity > MAX_QUANTITY:
        raise DomainError(_("Số lượng không hợp lệ."))
    existing = next((e for e in store.entries() if e.listing_id == listing.id), None)
    if existing is None and store.count() >= MAX_LINES:
        raise DomainError(_("Giỏ hàng đã đầy."))
    total = quantity + (existing.quantity if existing else 0)
    check_quantity(listing, total)
    # A new line remembers today's price; adding more keeps the price first seen, so a change shows.
    entry = Entry(listing.id, total, existing.price_seen_vnd if existing else listing.price_vnd)
    store.put(entry)
    return entry


def set_quantity(store, listing_id: int, quantity: int) -> None:
    existing = next((e for e in store.entries() if e.listing_id == listing_id), None)
    if existing is None:
        return
    if quantity <= 0:
        store.remove([listing_id])
        return
    if quantity > MAX_QUANTITY:
        raise DomainError(_("Số lượng không hợp lệ."))
    listing = db.session.get(Listing, listing_id)
    if listing is not None:
        check_quantity(listing, quantity)
    store.put(Entry(listing_id, quantity, existing.price_seen_vnd))


def acknowledge_prices(store) -> None:
    """The buyer has seen today's prices: stop flagging them as changed."""
    for entry in store.entries():
        listing = db.session.get(Listing, entry.listing_id)
        if listing is not None and listing.price_vnd != entry.price_seen_vnd:
            store.put(Entry(entry.listing_id, entry.quantity, listing.price_vnd))


def merge_into_user(session, user: User) -> int:
    """On sign-in: the visitor's lines join the stored cart (quantities add up, capped at stock).
    Returns how many lines were merged."""
    visitor = SessionCart(session)
    entries = visitor.entries()
    if not entries:
        return 0
    stored = UserCart(user)
    current = {e.listing_id: e for e in stored.entries()}
    for entry in entries:
        listing = db.session.get(Listing, entry.listing_id)
        if listing is None:
            continue
        mine = current.get(entry.listing_id)
        quantity = entry.quantity + (mine.quantity if mine else 0)
        quantity = max(min(quantity, max(listing.stock, 1), MAX_QUANTITY), 1)
        price_seen = mine.price_seen_vnd if mine else entry.price_seen_vnd
        stored.put(Entry(entry.listing_id, quantity, price_seen))
    visitor.clear()
    return len(entries)


def weight_of(listing: Listing) -> int:
    return (
        listing.weight_grams if listing.weight_grams else int(current_app.config["DEFAULT_ITEM_WEIGHT_GRAMS"])
    )


@dataclass
class Line:
    entry: Entry
    listing: Listing | None
    problems: list[str] = field(default_factory=list)

    @property
    def price_changed(self) -> bool:
        return self.listing is not None and self.listing.price_vnd != self.entry.price_seen_vnd

    @property
    def quantity(self) -> int:
        return self.entry.quantity

    @property
    def total_vnd(self) -> int:
        return self.listing.price_vnd * self.entry.quantity if self.listing else 0


@dataclass
class View:
    lines: list[Line]
    quote: pricing.Quote
    shops: dict  # shop_id -> Shop
    problems: list[str] = field(default_factory=list)  # of the whole cart
    destination_province: str | None = None  # the address's province, once chosen

    @property
    def blocked(self) -> bool:
        return bool(self.problems) or any(line.problems for line in self.lines) or not self.quote.deliverable

    def refusal(self, shop_id: int) -> str | None:
        """Why this shop's items cannot go to the chosen address, if they cannot."""
        from .shipping import refusal_message

        sq = next((s for s in self.quote.shops if s.shop_id == shop_id), None)
        if sq is None or sq.ships or not self.destination_province:
            return None
        titles = [line.listing.title for line in self.lines_of(shop_id) if line.listing is not None]
        return refusal_message(self.shops[shop_id], titles, self.destination_province)

    @property
    def empty(self) -> bool:
        return not self.lines

    @property
    def price_changes(self) -> list[Line]:
        return [line for line in self.lines if line.price_changed]

    def lines_of(self, shop_id: int) -> list[Line]:
        return [line for line in self.lines if line.listing is not None and line.listing.shop_id == shop_id]

    def gone(self) -> list[Line]:
        return [line for line in self.lines if line.listing is None]


def view(entries: list[Entry], destination_province: str | None = None) -> View:
    """The cart priced for an address in `destination_province` (None: not chosen yet, so each
    shop's fee within its own province)."""
    from .shipping import rules_for, zones_for

    ids = [e.listing_id for e in entries]
    listings = (
        {
            listing.id: listing
            for listing in db.session.scalars(
                select(Listing).where(Listing.id.in_(ids)).options(selectinload(Listing.images))
            )
        }
        if ids
        else {}
    )
    lines: list[Line] = []
    for entry in entries:
        listing = listings.get(entry.listing_id)
        line = Line(entry, listing)
        if listing is None:
            line.problems.append(_("Sản phẩm này không còn tồn tại."))
        else:
            try:
                check_quantity(listing, entry.quantity)
            except DomainError as exc:
                line.problems.append(exc.message)
        lines.append(line)
    priced = [(ln, ln.listing) for ln in lines if ln.listing is not None]
    shops = {listing.shop_id: listing.shop for _, listing in priced}
    quote = pricing.quote(
        [
            pricing.Line(listing.id, listing.shop_id, listing.price_vnd, ln.quantity, weight_of(listing))
            for ln, listing in priced
        ],
        rules_for(shops),
        zones_for(shops, destination_province),
    )
    return View(
        lines, quote, shops, [] if quote.within_limits else [too_large_message()], destination_province
    )


def too_large_message() -> str:
    return _(
        "Giỏ hàng vượt quá giới hạn của một lần đặt hàng (tổng tiền tối đa %(max)s, mỗi kiện "
        "tối đa %(tonnes)d tấn). Vui lòng giảm số lượng hoặc chia thành nhiều đơn.",
        max=format_vnd(MAX_TOTAL_VND),
        tonnes=pricing.MAX_PARCEL_GRAMS // 1_000_000,
    )
