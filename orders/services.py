"""Order operations: shipping rules, checkout with stock reservation, the shop's and the buyer's
actions on an order, reviews. Services validate, change rows, flush and record outbox events;
the caller commits (views once per request, the worker once per event)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import cast

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Table, case, func, select, update
from sqlalchemy.orm import joinedload, lazyload

from catalog.models import Listing
from catalog.services import listing_event
from marketplace import addresses, outbox
from marketplace.accounts.services import normalize_email, normalize_phone, valid_phone
from marketplace.errors import Conflict, DomainError, Errors, Forbidden
from marketplace.extensions import db, rows_matched
from marketplace.legal import services as legal
from marketplace.models import User
from marketplace.permissions import is_operator
from marketplace.timeutil import utcnow
from sellers.models import Shop
from sellers.permissions import can_handle_orders

from . import hooks, notify, pricing, shipping, states
from .cart import check_quantity, too_large_message, weight_of
from .models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Review,
)

S = OrderStatus
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: people read these aloud
CODE_PREFIX = "DH"


class SoldOut(Conflict):
    """The conditional stock UPDATE found too few units: nothing of the checkout is kept."""


class QuoteChanged(DomainError):
    """Prices, quantities or shipping changed since the buyer looked: show them again."""

    status = 409


class Undeliverable(DomainError):
    """A shop of the cart does not deliver to the address's zone: nothing of the checkout is kept."""

    status = 409


# --- checkout ---------------------------------------------------------------------------------


def new_code() -> str:
    return CODE_PREFIX + "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def card_enabled() -> bool:
    cfg = current_app.config
    return bool(cfg.get("STRIPE_SECRET_KEY") and cfg.get("STRIPE_PUBLISHABLE_KEY"))


def available_methods() -> list[str]:
    methods = [PaymentMethod.COD.value, PaymentMethod.BANK_TRANSFER.value]
    if card_enabled():
        methods.append(PaymentMethod.CARD.value)
    return methods


def validate_address(data: dict, errors: Errors, *, guest: bool) -> dict:
    out = {
        "receiver_name": (data.get("receiver_name") or "").strip(),
        "receiver_phone": normalize_phone((data.get("receiver_phone") or "").strip()) or "",
        "address_line": (data.get("address_line") or "").strip(),
        "note": (data.get("note") or "").strip()[:1000],
        "email": normalize_email(data.get("email") or ""),
    }
    if not out["receiver_name"]:
        errors.add("receiver_name", _("Vui lòng nhập tên người nhận."))
    elif len(out["receiver_name"]) > 120:
        errors.add("receiver_name", _("Tên người nhận quá dài."))
    if not valid_phone(out["receiver_phone"]):
        errors.add("receiver_phone", _("Số điện thoại di động không hợp lệ."))
    if not out["address_line"]:
        errors.add("address_line", _("Vui lòng nhập số nhà, thôn/xóm, đường."))
    elif len(out["address_line"]) > 200:
        errors.add("address_line", _("Địa chỉ quá dài."))
    out["commune"] = addresses.validate_commune(data, errors)  # in the posted province
    if guest and out["email"]:
        # Optional: a guest may buy with a phone number alone ("" kept: no mail is ever queued,
        # and the confirmation page shows the order link instead).
        from email_validator import EmailNotValidError, validate_email

        try:
            out["email"] = validate_email(out["email"], check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            errors.add("email", _("Địa chỉ email không hợp lệ."))
    return out


def quote_items(
    items: list[tuple[int, int]], destination_province: str | None = None
) -> tuple[pricing.Quote, dict[int, Listing]]:
    """Load listings and price (listing id, quantity) pairs for an address in
    `destination_province` (None: not chosen yet); raise if any is not buyable."""
    ids = sorted({listing_id for listing_id, _q in items})
    # The shop (for is_public, its province and the order) comes in the same query; the category
    # and the shop's commune are not needed here.
    query = (
        select(Listing)
        .where(Listing.id.in_(ids))
        .options(lazyload(Listing.category), joinedload(Listing.shop).lazyload(Shop.commune))
    )
    listings = {ln.id: ln for ln in db.session.scalars(query)} if ids else {}
    lines = []
    for listing_id, quantity in items:
        listing = listings.get(listing_id)
        if listing is None:
            raise DomainError(_("Một sản phẩm trong giỏ không còn tồn tại. Vui lòng xem lại giỏ hàng."))
        check_quantity(listing, quantity)
        lines.append(
            pricing.Line(listing.id, listing.shop_id, listing.price_vnd, quantity, weight_of(listing))
        )
    shops = {listing.shop_id: listing.shop for listing in listings.values()}
    quote = pricing.quote(lines, shipping.rules_for(shops), shipping.zones_for(shops, destination_province))
    if not quote.within_limits:
        raise DomainError(too_large_message())
    return quote, listings


def refusals(quote: pricing.Quote, listings: dict[int, Listing], destination_province: str) -> list[str]:
    """One message per shop of `quote` that does not deliver to `destination_province`."""
    return [
        shipping.refusal_message(
            listings[sq.lines[0].listing_id].shop,
            [listings[line.listing_id].title for line in sq.lines],
            destination_province,
        )
        for sq in quote.refused
    ]


def reserve_stock(listings: dict[int, Listing], quantities: dict[int, int]) -> None:
    """One conditional UPDATE per listing, in listing id order (two checkouts never wait on each
    other in opposite orders). Too few units: SoldOut, and the caller rolls everything back."""
    table = cast(Table, Listing.__table__)  # Core: the same UPDATE, without the ORM's bulk-update work
    for listing_id in sorted(quantities):
        n = quantities[listing_id]
        result = db.session.execute(
            update(table)
            .where(table.c.id == listing_id, table.c.stock >= n)
            .values(stock=table.c.stock - n, sales_count=table.c.sales_count + n)
        )
        if rows_matched(result) != 1:
            listing = listings[listing_id]
            left = db.session.scalar(select(Listing.stock).where(Listing.id == listing_id)) or 0
            if left < max(listing.min_order_qty, 1):
                raise SoldOut(_("Sản phẩm “%(title)s” đã hết hàng.", title=listing.title))
            raise SoldOut(
                _(
                    "Sản phẩm “%(title)s” chỉ còn %(n)d %(unit)s, không đủ số lượng bạn đặt.",
                    title=listing.title,
                    n=left,
                    unit=listing.unit,
                )
            )


def release_stock(order: Order) -> None:
    """Give a cancelled order's units back (a plain increment cannot break the CHECK)."""
    quantities: dict[int, int] = {}
    for line in order.lines:
        if line.listing_id is not None:
            quantities[line.listing_id] = quantities.get(line.listing_id, 0) + line.quantity
    release_units(quantities)


def release_units(quantities: dict[int, int]) -> None:
    """Give units back to listings (listing id -> units), in listing id order like
    reserve_stock; every channel learns the new stock. Also used for cancelled platform orders."""
    for listing_id in sorted(quantities):
        n = quantities[listing_id]
        db.session.execute(
            update(Listing)
            .where(Listing.id == listing_id)
            .values(
                stock=Listing.stock + n,
                sales_count=case((Listing.sales_count >= n, Listing.sales_count - n), else_=0),
            )
            .execution_options(synchronize_session=False)
        )
        listing_event(listing_id, "stock")


def payment_for_token(token: str) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.checkout_token == token))


def place_checkout(items: list[tuple[int, int]], data: dict, *, buyer: User | None) -> Payment:
    """One checkout: one payment, one order per shop, stock reserved, all or nothing.

    `items` are (listing id, quantity); `data` carries the address, the payment method, the
    `quote` fingerprint the buyer saw (a mismatch raises QuoteChanged) and the form's one-time
    `token` (a second submission returns the first checkout's payment)."""
    member = buyer if buyer is not None and getattr(buyer, "is_authenticated", False) else None
    errors = Errors()
    address = validate_address(data, errors, guest=member is None)
    method = data.get("payment_method") or ""
    if method not in available_methods():
        errors.add("payment_method", _("Vui lòng chọn phương thức thanh toán."))
    if not items:
        errors.add("items", _("Giỏ hàng đang trống."))
    # Consent to the privacy policy (marketplace.legal): a guest always, a member who has not
    # agreed to the version in force; recorded on the payment below.
    consent_needed = legal.consent_required(member)
    if consent_needed:
        legal.check_consent(errors, data.get("privacy_consent"))
    errors.raise_if_any()

    token = (data.get("token") or "").strip()[:40] or None
    if token:
        existing = payment_for_token(token)
        if existing is not None:
            return existing  # the same form submitted twice: the first checkout stands
    merged: dict[int, int] = {}
    for listing_id, quantity in items:
        merged[listing_id] = merged.get(listing_id, 0) + quantity
    commune = address["commune"]
    quote, listings = quote_items(sorted(merged.items()), commune.province)
    if not quote.deliverable:  # a shop does not deliver there: say which items, place nothing
        raise Undeliverable(" ".join(refusals(quote, listings, commune.province)))
    if data.get("quote") != quote.fingerprint():
        raise QuoteChanged(
            _("Giá, số lượng hoặc phí vận chuyển vừa thay đổi. Vui lòng xem lại đơn hàng trước khi đặt.")
        )

    now = utcnow()
    email = address["email"] if member is None else member.email
    # The consent given with this checkout, kept with its payment (recorded first: the payment's
    # row is then written once, with its consent_id).
    consent_id = legal.record_consent(context="checkout", user=member).id if consent_needed else None
    payment = Payment(
        code=new_code(),
        method=method,
        amount_vnd=quote.total_vnd,
        buyer_id=None if member is None else member.id,
        email=email,
        phone=address["receiver_phone"],
        status=PaymentStatus.PENDING.value,
        created_at=now,
        checkout_token=token,
        consent_id=consent_id,
    )
    expires_at = None
    if method != PaymentMethod.COD.value:
        minutes = current_app.config[
            "ORDER_PAYMENT_TIMEOUT_MIN" if method == "card" else "ORDER_TRANSFER_TIMEOUT_MIN"
        ]
        expires_at = payment.expires_at = now + timedelta(minutes=int(minutes))
    db.session.add(payment)
    initial = S.PLACED.value if method == PaymentMethod.COD.value else S.PENDING_PAYMENT.value
    orders = []
    for n, shop_quote in enumerate(quote.shops, start=1):
        shop = listings[shop_quote.lines[0].listing_id].shop  # loaded with the listing: no extra query
        order = Order(
            code=f"{payment.code}-{n}",
            payment=payment,
            shop=shop,
            commune=commune,
            buyer_id=payment.buyer_id,
            status=initial,
            payment_method=method,
            subtotal_vnd=shop_quote.subtotal_vnd,
            shipping_vnd=shop_quote.shipping_vnd,
            total_vnd=shop_quote.total_vnd,
            weight_grams=shop_quote.weight_grams,
            email=email,
            receiver_name=address["receiver_name"],
            receiver_phone=address["receiver_phone"],
            address_line=address["address_line"],
            commune_id=commune.id,
            commune_name=commune.name,  # names as they are today, kept if the list changes
            province=commune.province,
            shipping_zone=shop_quote.zone.value,
            note=address["note"],
            created_at=now,
        )
        for line in shop_quote.lines:
            listing = listings[line.listing_id]
            order.lines.append(
                OrderLine(
                    listing_id=listing.id,
                    title=listing.title,
                    unit=listing.unit,
                    sku=listing.sku,
                    unit_price_vnd=line.unit_price_vnd,
                    quantity=line.quantity,
                    line_total_vnd=line.total_vnd,
                    weight_grams=line.weight_grams,
                )
            )
        order.events.append(
            OrderEvent(
                from_status=None, to_status=initial, actor_id=payment.buyer_id, actor_role="buyer", note=None
            )
        )
        orders.append(order)
        db.session.add(order)
    db.session.flush()

    for listing_id in sorted(merged):
        listing_event(listings[listing_id], "stock")
    # The mails are rendered by the worker (orders.notify): here only their rows, with ids.
    notify.checkout_received(payment)
    if expires_at is None:  # COD: placed at once
        notify.shop_new_orders(orders)
    else:
        # The worker releases the stock if nobody pays in time (the handler is idempotent).
        event = outbox.record("order.expire", {"payment_id": payment.id}, key=f"order.expire:{payment.code}")
        event.next_attempt_at = expires_at
    # Last, so the rows stay locked (PostgreSQL) for as short a time as possible: everything else
    # is written first.
    db.session.flush()
    reserve_stock(listings, merged)
    db.session.flush()
    return payment


# --- the shop's actions -----------------------------------------------------------------------


def _require_shop(order: Order, actor: User) -> None:
    if not (can_handle_orders(actor, order.shop) or is_operator(actor)):
        raise Forbidden(_("Bạn không có quyền xử lý đơn hàng này."))


def _role(order: Order, actor: User) -> str:
    return "shop" if can_handle_orders(actor, order.shop) else "operator"


def confirm_order(order: Order, *, actor: User) -> Order:
    _require_shop(order, actor)
    states.transition(order, S.CONFIRMED.value, actor=actor, actor_role=_role(order, actor))
    notify.status_changed(order)
    return order


def reject_order(order: Order, reason: str, *, actor: User) -> Order:
    _require_shop(order, actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            _("Vui lòng cho biết lý do từ chối để báo cho người mua."),
            field_errors={"reason": [_("Vui lòng nhập lý do.")]},
        )
    return cancel_order(order, reason=reason, actor=actor, actor_role=_role(order, actor))


def pack_order(order: Order, data: dict, *, actor: User) -> Order:
    _require_shop(order, actor)
    errors = Errors()
    weight = shipping.read_count(
        errors,
        "parcel_weight_grams",
        data.get("parcel_weight_grams"),
        required=True,
        minimum=1,
        maximum=pricing.MAX_PARCEL_GRAMS,
    )
    size = (data.get("parcel_size") or "").strip()[:60] or None
    errors.raise_if_any()
    states.transition(
        order,
        S.PACKED.value,
        actor=actor,
        actor_role=_role(order, actor),
        parcel_weight_grams=weight,
        parcel_size=size,
    )
    hooks.run("packed", order, data, actor)  # e.g. logistics assigns a partner and books the pickup
    return order


def ship_order(order: Order, data: dict, *, actor: User) -> Order:
    _require_shop(order, actor)
    errors = Errors()
    carrier = (data.get("carrier") or "").strip()[:60]
    tracking = (data.get("tracking_number") or "").strip()[:80]
    if not carrier:
        errors.add("carrier", _("Vui lòng nhập đơn vị vận chuyển."))
    if not tracking:
        errors.add("tracking_number", _("Vui lòng nhập mã vận đơn."))
    errors.raise_if_any()
    states.transition(
        order,
        S.SHIPPED.value,
        actor=actor,
        actor_role=_role(order, actor),
        note=f"{carrier} · {tracking}",
        carrier=carrier,
        tracking_number=tracking,
    )
    notify.status_changed(order)
    return order


def deliver_order(
    order: Order, *, actor: User | None, actor_role: str | None = None, note: str | None = None
) -> Order:
    """Delivered: by the shop (COD without a carrier integration), the operator, or a carrier later."""
    if actor is not None:
        _require_shop(order, actor)
    states.transition(
        order,
        S.DELIVERED.value,
        actor=actor,
        actor_role=actor_role or (_role(order, actor) if actor else "system"),
        note=note,
    )
    if order.payment_method == PaymentMethod.COD.value:
        order.paid = True  # the cash was collected at the door
    notify.status_changed(order)
    days = int(current_app.config["ORDER_COMPLETE_AFTER_DAYS"])
    event = outbox.record("order.complete", {"order_id": order.id}, key=f"order.complete:{order.code}")
    event.next_attempt_at = utcnow() + timedelta(days=days)
    db.session.flush()
    return order


def complete_order(order: Order, *, actor: User | None, actor_role: str, note: str | None = None) -> Order:
    states.transition(order, S.COMPLETED.value, actor=actor, actor_role=actor_role, note=note)
    return order


def mark_seen(order: Order) -> None:
    if order.shop_seen_at is None:
        order.shop_seen_at = utcnow()


# --- the operator's actions (each needs a note: the operator steps in for someone else) --------


def _operator_note(actor: User, note: str | None, message: str) -> str:
    if not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn mới thực hiện được thao tác này."))
    note = (note or "").strip()
    if not note:
        raise DomainError(message, field_errors={"reason": [message]})
    return note


def operator_deliver(order: Order, *, actor: User, note: str | None) -> Order:
    """The parcel reached the buyer but neither the shop nor a carrier said so."""
    note = _operator_note(actor, note, _("Vui lòng ghi rõ căn cứ xác nhận đã giao hàng."))
    return deliver_order(order, actor=actor, actor_role="operator", note=note)


def operator_complete(order: Order, *, actor: User, note: str | None) -> Order:
    """Close a delivered order now, e.g. the buyer confirmed receipt by phone."""
    note = _operator_note(actor, note, _("Vui lòng ghi rõ lý do hoàn tất đơn."))
    return complete_order(order, actor=actor, actor_role="operator", note=note)


# --- the buyer's actions ----------------------------------------------------------------------


def cancel_order(order: Order, *, reason: str | None, actor: User | None, actor_role: str) -> Order:
    """Cancel before the parcel leaves. An unpaid checkout is cancelled as a whole (its one
    payment covers every shop's order); a paid order gets its money back."""
    from . import payments

    if order.status == S.PENDING_PAYMENT.value:
        payments.cancel_payment(order.payment, reason=reason, actor=actor, actor_role=actor_role)
        return order
    if order.status not in states.HOLDS_STOCK:
        raise Conflict(
            _(
                "Không thể hủy đơn %(code)s khi đơn đang ở trạng thái “%(s)s”.",
                code=order.code,
                s=states.label(order.status),
            )
        )
    states.transition(
        order, S.CANCELLED.value, actor=actor, actor_role=actor_role, note=reason, cancel_reason=reason
    )
    release_stock(order)
    notify.status_changed(order, reason=reason)
    hooks.run("cancelled", order)  # e.g. logistics tells the partner and cancels a booking
    if order.paid and order.payment_method == PaymentMethod.CARD.value:
        # Card money goes back by itself; a bank transfer is refunded by the operator by hand.
        payments.refund_order(
            order, actor=None, actor_role="system", note=_("Hoàn tiền tự động khi hủy đơn.")
        )
    return order


def _require_buyer(order: Order, actor: User | None) -> None:
    """The buyer's actions are the buyer's: a signed-in actor must have placed the order, and
    without one (a guest, whose link the view checked) the order must be a guest's. The operator
    and the shop have their own actions and are recorded as themselves."""
    signed_in = actor is not None and getattr(actor, "is_authenticated", False)
    if order.buyer_id != (actor.id if signed_in and actor is not None else None):
        raise Forbidden(_("Chỉ người mua mới thực hiện được thao tác này."))


def buyer_cancel(order: Order, *, actor: User | None, reason: str | None = None) -> Order:
    _require_buyer(order, actor)
    if order.status not in states.BUYER_CANCELLABLE:
        raise Conflict(
            _(
                "Cửa hàng đã xác nhận đơn %(code)s nên không thể hủy. Vui lòng liên hệ cửa hàng.",
                code=order.code,
            )
        )
    return cancel_order(order, reason=reason or _("Người mua hủy đơn."), actor=actor, actor_role="buyer")


def buyer_received(order: Order, *, actor: User | None) -> Order:
    _require_buyer(order, actor)
    return complete_order(order, actor=actor, actor_role="buyer")


def reorder_items(order: Order) -> list[tuple[int, int]]:
    return [(line.listing_id, line.quantity) for line in order.lines if line.listing_id is not None]


# --- reviews ----------------------------------------------------------------------------------

REVIEWABLE = frozenset({S.DELIVERED.value, S.COMPLETED.value})


def review_line(line: OrderLine, data: dict, *, author: User | None) -> Review:
    order = line.order
    _require_buyer(order, author)
    if order.status not in REVIEWABLE:
        raise Conflict(_("Bạn có thể đánh giá sau khi đã nhận hàng."))
    if line.listing_id is None:
        raise Conflict(_("Sản phẩm này không còn trên sàn."))
    if db.session.scalar(select(Review.id).where(Review.order_line_id == line.id)):
        raise Conflict(_("Bạn đã đánh giá sản phẩm này."))
    if (
        author is not None
        and getattr(author, "is_authenticated", False)
        and db.session.scalar(
            select(Review.id).where(Review.author_id == author.id, Review.listing_id == line.listing_id)
        )
    ):
        raise Conflict(_("Bạn đã đánh giá sản phẩm này."))
    errors = Errors()
    try:
        stars = int(data.get("stars") or 0)
    except (TypeError, ValueError):
        stars = 0
    if not 1 <= stars <= 5:
        errors.add("stars", _("Vui lòng chọn từ 1 đến 5 sao."))
    body = (data.get("body") or "").strip()
    if len(body) > 3000:
        errors.add("body", _("Nội dung đánh giá tối đa 3000 ký tự."))
    errors.raise_if_any()
    member = author if author is not None and getattr(author, "is_authenticated", False) else None
    review = Review(
        order_line_id=line.id,
        listing_id=line.listing_id,
        shop_id=order.shop_id,
        author_id=member.id if member else None,
        author_name=(member.full_name if member else order.receiver_name)[:120],
        stars=stars,
        body=body,
    )
    db.session.add(review)
    db.session.flush()
    listing_event(line.listing_id, "rating")
    return review


def rating_of_listing(listing_id: int) -> tuple[float | None, int]:
    avg, count = db.session.execute(
        select(func.avg(Review.stars), func.count(Review.id)).where(Review.listing_id == listing_id)
    ).one()
    return (round(float(avg), 1) if avg is not None else None), int(count or 0)


def rating_of_shop(shop_id: int) -> tuple[float | None, int]:
    avg, count = db.session.execute(
        select(func.avg(Review.stars), func.count(Review.id)).where(Review.shop_id == shop_id)
    ).one()
    return (round(float(avg), 1) if avg is not None else None), int(count or 0)


def recent_reviews(listing_id: int, limit: int = 10) -> list[Review]:
    return list(
        db.session.scalars(
            select(Review)
            .where(Review.listing_id == listing_id)
            .order_by(Review.created_at.desc(), Review.id.desc())
            .limit(limit)
        )
    )
