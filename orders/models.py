"""Carts, shipping rules, payments, orders with their history, inbound payment events, the
settlement ledger, product reviews and buyers' complaints. Money is integer VND (đồng) in every column."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import Model
from marketplace.models import Commune, User
from marketplace.timeutil import utcnow
from sellers.models import Shop

from .pricing import ZONES, Zone


class OrderStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PLACED = "placed"
    CONFIRMED = "confirmed"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    # What parcels do once a carrier has them (logistics events, or the operator).
    DELIVERY_FAILED = "delivery_failed"  # the carrier could not deliver and tries again
    RETURNING = "returning"
    RETURNED = "returned"  # back at the shop: stock restored, COD never collected
    LOST = "lost"
    DAMAGED = "damaged"


class PaymentMethod(enum.StrEnum):
    COD = "cod"
    BANK_TRANSFER = "bank_transfer"
    CARD = "card"


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"  # card or transfer not received yet (COD: until delivery)
    PAID = "paid"
    EXPIRED = "expired"  # not paid in time; orders cancelled, stock released
    CANCELLED = "cancelled"  # the buyer cancelled before paying


def _in(values) -> str:
    return ",".join(f"'{v.value}'" for v in values)


class CartItem(Model):
    """A signed-in buyer's cart line. Visitors keep theirs in the session until they sign in."""

    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint("user_id", "listing_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    quantity: Mapped[int]
    price_seen_vnd: Mapped[int]  # the price when the buyer added it: changes are shown before paying
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ShippingRule(Model):
    """A shop's own shipping fees: one ShippingZone per zone (orders.pricing.Zone). A shop without
    a row pays the floor's defaults (pricing.DEFAULT_RULES)."""

    __tablename__ = "shipping_rules"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    zones: Mapped[list[ShippingZone]] = relationship(
        back_populates="rule", cascade="all, delete-orphan", lazy="selectin"
    )


class ShippingZone(Model):
    """One zone of a shop's rule: a flat fee, plus the surcharge of the heaviest weight tier
    reached, free when the shop subtotal reaches `free_over_vnd` (if set); or, when `ships` is
    false, no delivery to that zone at all (the shop's own province is always served)."""

    __tablename__ = "shipping_zones"
    __table_args__ = (
        CheckConstraint(f"zone IN ({_in(ZONES)})", name="zone"),
        CheckConstraint("flat_fee_vnd >= 0", name="flat_fee_nonnegative"),
        CheckConstraint("free_over_vnd IS NULL OR free_over_vnd >= 0", name="free_over_nonnegative"),
        CheckConstraint("ships OR zone <> 'province'", name="province_served"),
    )

    shop_id: Mapped[int] = mapped_column(
        ForeignKey("shipping_rules.shop_id", ondelete="CASCADE"), primary_key=True
    )
    zone: Mapped[str] = mapped_column(String(10), primary_key=True)
    ships: Mapped[bool] = mapped_column(default=True)
    flat_fee_vnd: Mapped[int]
    # [[from_grams, surcharge_vnd], …] ascending by weight
    tiers: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    free_over_vnd: Mapped[int | None]

    rule: Mapped[ShippingRule] = relationship(back_populates="zones")


class Payment(Model):
    """One checkout's money: one payment for all of its orders (one order per shop).

    `code` is what the buyer writes in a bank transfer; order codes are `code-1`, `code-2`…"""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(f"method IN ({_in(PaymentMethod)})", name="method"),
        CheckConstraint(f"status IN ({_in(PaymentStatus)})", name="status"),
        CheckConstraint("amount_vnd >= 0", name="amount_nonnegative"),
        CheckConstraint("refunded_vnd >= 0", name="refunded_nonnegative"),
        Index("ix_payments_status_method", "status", "method"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    method: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=PaymentStatus.PENDING.value)
    amount_vnd: Mapped[int]
    refunded_vnd: Mapped[int] = mapped_column(default=0)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    email: Mapped[str] = mapped_column(String(254))  # "": a guest who gave only a phone number
    phone: Mapped[str] = mapped_column(String(20))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(80), unique=True)
    # The checkout form's one-time token: a double-submitted form finds this payment instead of
    # placing a second one (UNIQUE, so even two requests at the same instant cannot both insert).
    checkout_token: Mapped[str | None] = mapped_column(String(40), unique=True)
    expires_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    paid_reference: Mapped[str | None] = mapped_column(String(120))  # bank txn id, Stripe charge…
    problem: Mapped[str | None] = mapped_column(Text)  # e.g. a Stripe amount mismatch, for the operator
    # The buyer's consent to the privacy policy given at this checkout (marketplace.legal), when
    # it was asked: always for a guest, for a member who had not agreed to the version in force.
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consents.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    buyer: Mapped[User | None] = relationship()
    orders: Mapped[list[Order]] = relationship(back_populates="payment", order_by="Order.code")

    def __repr__(self) -> str:
        return f"<Payment {self.code} {self.method} {self.status}>"


class Order(Model):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(OrderStatus)})", name="status"),
        CheckConstraint(f"payment_method IN ({_in(PaymentMethod)})", name="payment_method"),
        CheckConstraint("subtotal_vnd >= 0 AND shipping_vnd >= 0", name="amounts_nonnegative"),
        CheckConstraint("total_vnd = subtotal_vnd + shipping_vnd", name="total_is_sum"),
        # Refunds (a complaint's part, then the rest) never give back more than was paid.
        CheckConstraint("refunded_vnd >= 0 AND refunded_vnd <= total_vnd", name="refunded_within_total"),
        CheckConstraint(f"shipping_zone IN ({_in(ZONES)})", name="shipping_zone"),
        Index("ix_orders_shop_status", "shop_id", "status"),
        Index("ix_orders_created_at", "created_at"),
        # A shop's figures over a period (the producer dashboard, the benchmark): an index-only
        # scan on PostgreSQL.
        Index(
            "ix_orders_shop_created",
            "shop_id",
            "created_at",
            postgresql_include=["id", "status", "subtotal_vnd", "total_vnd"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="RESTRICT"))
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    payment_method: Mapped[str] = mapped_column(String(20))
    paid: Mapped[bool] = mapped_column(default=False)
    subtotal_vnd: Mapped[int]
    shipping_vnd: Mapped[int]
    total_vnd: Mapped[int]
    weight_grams: Mapped[int] = mapped_column(default=0)
    email: Mapped[str] = mapped_column(String(254))  # "": no mail goes to the buyer
    receiver_name: Mapped[str] = mapped_column(String(120))
    receiver_phone: Mapped[str] = mapped_column(String(20))
    address_line: Mapped[str] = mapped_column(String(200))  # số nhà, thôn/xóm, đường
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id", ondelete="RESTRICT"))
    # The names as they were when the order was placed: a later correction of the commune list
    # does not rewrite an address a parcel was sent to.
    commune_name: Mapped[str] = mapped_column(String(120))
    province: Mapped[str] = mapped_column(String(120))
    shipping_zone: Mapped[str] = mapped_column(String(10), default=Zone.PROVINCE.value)  # pricing.Zone
    note: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    parcel_weight_grams: Mapped[int | None]
    parcel_size: Mapped[str | None] = mapped_column(String(60))
    carrier: Mapped[str | None] = mapped_column(String(60))
    tracking_number: Mapped[str | None] = mapped_column(String(80))
    refund_reference: Mapped[str | None] = mapped_column(String(120))
    refunded_vnd: Mapped[int] = mapped_column(default=0, server_default="0")  # given back so far
    shop_seen_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="orders")
    shop: Mapped[Shop] = relationship()
    buyer: Mapped[User | None] = relationship()
    commune: Mapped[Commune] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", order_by="OrderEvent.id", cascade="all, delete-orphan"
    )

    @property
    def address(self) -> str:
        return f"{self.address_line}, {self.commune_name}, {self.province}"

    def __repr__(self) -> str:
        return f"<Order {self.code} {self.status}>"


class OrderLine(Model):
    """A product as bought: title, unit and price are copied, so later edits do not rewrite history."""

    __tablename__ = "order_lines"
    __table_args__ = (
        # What a shop sold of each listing, read from the index alone (the producer dashboard).
        Index("ix_order_lines_order_sold", "order_id", "listing_id", "quantity", "line_total_vnd"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_vnd >= 0", name="price_nonnegative"),
        CheckConstraint("line_total_vnd = unit_price_vnd * quantity", name="line_total"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(160))
    unit: Mapped[str] = mapped_column(String(30))
    sku: Mapped[str | None] = mapped_column(String(60))
    unit_price_vnd: Mapped[int]
    quantity: Mapped[int]
    line_total_vnd: Mapped[int]
    weight_grams: Mapped[int] = mapped_column(default=0)  # per unit, as used for the shipping fee

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderEvent(Model):
    """Every status change with who did it and when: the order's history."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(20))  # buyer, shop, operator, system, stripe, bank
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class StripeEvent(Model):
    """Inbound Stripe webhook events, stored by Stripe's id before acting: a replay does nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(80), unique=True)
    type: Mapped[str] = mapped_column(String(80))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(40), default="received")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class BankTransaction(Model):
    """A credit line of an imported bank statement, by the bank's transaction id (re-imports skip it)."""

    __tablename__ = "bank_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_txn_id: Mapped[str] = mapped_column(String(80), unique=True)
    amount_vnd: Mapped[int]
    description: Mapped[str] = mapped_column(Text, default="")
    booked_on: Mapped[str | None] = mapped_column(String(40))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(40))  # matched, no_code, amount_mismatch, not_pending
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerKind(enum.StrEnum):
    COLLECTED = "collected"  # the floor received the buyer's money for this order (+)
    REFUNDED = "refunded"  # the floor returned it, or what was left of it; or a COD order's refund (−)
    PARTIAL_REFUND = "partial_refund"  # part of it returned, settling a complaint (COD too) (−)
    PAYOUT = "payout"  # the floor paid the producer (−)


class LedgerEntry(Model):
    """What the floor holds for each producer: the sum of a shop's entries is what it is owed.

    COD money never passes through the floor, so a COD order is never `collected` here; a refund
    the floor sends its buyer by hand is, against the shop (it reduces what the floor owes)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(LedgerKind)})", name="kind"),
        # An order is collected once, partly refunded once (its one complaint) and refunded once;
        # payouts have no order (NULLs are distinct).
        UniqueConstraint("order_id", "kind"),
        Index("ix_ledger_entries_shop_created", "shop_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="RESTRICT"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(20))
    amount_vnd: Mapped[int]
    reference: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    shop: Mapped[Shop] = relationship()
    order: Mapped[Order | None] = relationship()


class Review(Model):
    """A verified buyer's rating of a product they received: once per order line, and a signed-in
    buyer once per product."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("order_line_id"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
        Index("ix_reviews_listing_created", "listing_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"))
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(120))
    stars: Mapped[int]
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The shop's one public reply, shown under the review (editable; dashboards.producer_reviews).
    reply_body: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None]
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ComplaintReason(enum.StrEnum):
    NOT_RECEIVED = "not_received"
    WRONG_ITEM = "wrong_item"
    DAMAGED = "damaged"
    OTHER = "other"


class ComplaintStatus(enum.StrEnum):
    OPEN = "open"  # waiting for the shop's answer
    ANSWERED = "answered"  # the shop offered something: waiting for the buyer
    ESCALATED = "escalated"  # the buyer asked the floor to decide
    REFUND_DUE = "refund_due"  # agreed on a refund the floor still has to send by hand
    REFUNDED = "refunded"
    REPLACED = "replaced"
    REJECTED = "rejected"


class ComplaintOffer(enum.StrEnum):
    REFUND = "refund"
    REPLACEMENT = "replacement"
    REJECT = "reject"


class Complaint(Model):
    """A buyer's complaint about one order (at most one per order), its shop's answer and how it
    ended. While it is unresolved the floor holds the shop's money for the order."""

    __tablename__ = "complaints"
    __table_args__ = (
        CheckConstraint(f"reason IN ({_in(ComplaintReason)})", name="reason"),
        CheckConstraint(f"status IN ({_in(ComplaintStatus)})", name="status"),
        CheckConstraint(f"offer IS NULL OR offer IN ({_in(ComplaintOffer)})", name="offer"),
        CheckConstraint("offer_vnd IS NULL OR offer_vnd > 0", name="offer_positive"),
        CheckConstraint("refund_vnd >= 0", name="refund_nonnegative"),
        Index("ix_complaints_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    photo_keys: Mapped[list[str]] = mapped_column(JSON, default=list)  # marketplace.images keys
    status: Mapped[str] = mapped_column(String(20), default=ComplaintStatus.OPEN.value)
    answer_due_at: Mapped[datetime]  # after this the buyer may take an unanswered complaint to the floor
    # Set when the shop answers: after this an answer the buyer left unanswered stands (accepted).
    reply_due_at: Mapped[datetime | None]
    offer: Mapped[str | None] = mapped_column(String(20))  # the shop's answer
    offer_vnd: Mapped[int | None]  # the refund the shop offered
    offer_note: Mapped[str | None] = mapped_column(Text)
    refund_vnd: Mapped[int] = mapped_column(default=0)  # what the complaint gave back in the end
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    order: Mapped[Order] = relationship()
    events: Mapped[list[ComplaintEvent]] = relationship(
        back_populates="complaint", order_by="ComplaintEvent.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Complaint {self.order_id} {self.status}>"


class ComplaintEvent(Model):
    """Every step of a complaint: what was done, by whom (and in which role), when."""

    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(30))  # opened, offer_refund, accepted, escalated…
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(20))  # buyer, shop, operator, system
    amount_vnd: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    complaint: Mapped[Complaint] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
