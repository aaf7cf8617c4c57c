"""Logistics partners (carriers and generic partners using the floor's API), their API keys and
webhook secrets, the shops they serve and the shops' choices, shipments with their event history,
the partners' order feed (a change log numbered in commit order), webhook deliveries and COD
remittances. Money is integer VND."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import Model
from marketplace.timeutil import utcnow
from orders.models import Order

PARTNER_KINDS = ("generic", "ghn", "ghtk")
PARTNER_STATES = ("active", "paused")
DELIVERY_STATES = ("pending", "delivered", "failed", "dead")
FEED_KINDS = ("order.ready_for_pickup", "order.updated", "order.cancelled")


def _in(values) -> str:
    return ",".join(f"'{v}'" for v in values)


class Partner(Model):
    """A carrier or another logistics partner. `status_map` turns the partner's own status words
    into the floor's (logistics.carriers.base.FLOOR_STATUSES; null: known, moves nothing); it is
    seeded from DEFAULT_STATUS_MAPS and edited by the operator. The callback token authenticates
    a carrier's native callbacks (carriers do not sign them): only its SHA-256 is stored."""

    __tablename__ = "logistics_partners"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(PARTNER_KINDS)})", name="kind"),
        CheckConstraint(f"state IN ({_in(PARTNER_STATES)})", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="generic")
    state: Mapped[str] = mapped_column(String(20), default="active")
    all_shops: Mapped[bool] = mapped_column(default=True)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    # Set when the endpoint answered 410 Gone: no webhook is sent until the operator re-enables it.
    webhook_disabled_at: Mapped[datetime | None]
    status_map: Mapped[dict] = mapped_column(JSON, default=dict)
    callback_token_hash: Mapped[str | None] = mapped_column(String(64))
    # A carrier account for booking pickups (kind ghn/ghtk): API root and credentials.
    # The partner's public tracking page, "{code}" standing for the tracking code (carriers: a default).
    tracking_url: Mapped[str | None] = mapped_column(String(300))
    api_base_url: Mapped[str | None] = mapped_column(String(300))
    credentials: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    shops: Mapped[list[PartnerShop]] = relationship(cascade="all, delete-orphan")
    keys: Mapped[list[ApiKey]] = relationship(back_populates="partner", cascade="all, delete-orphan")
    secrets: Mapped[list[WebhookSecret]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", order_by="WebhookSecret.id"
    )

    @property
    def can_book(self) -> bool:
        return self.kind != "generic" and bool(self.api_base_url and self.credentials)


class PartnerShop(Model):
    """The shops a partner serves when it does not serve them all (the operator's choice)."""

    __tablename__ = "logistics_partner_shops"

    partner_id: Mapped[int] = mapped_column(
        ForeignKey("logistics_partners.id", ondelete="CASCADE"), primary_key=True
    )
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)


class ShopPartner(Model):
    """The partners a shop ships with (its own choice among those serving it), one the default."""

    __tablename__ = "logistics_shop_partners"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("logistics_partners.id", ondelete="CASCADE"), primary_key=True
    )
    is_default: Mapped[bool] = mapped_column(default=False)

    partner: Mapped[Partner] = relationship(lazy="joined")


class ApiKey(Model):
    """A partner's API key: `<prefix>.<secret>`; the prefix is the visible id, only the SHA-256 of
    the whole key is stored (a 256-bit random key needs no slow hash). Shown once."""

    __tablename__ = "logistics_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("logistics_partners.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(24), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    partner: Mapped[Partner] = relationship(back_populates="keys")


class WebhookSecret(Model):
    """A `whsec_<base64>` signing secret. The newest is current; an older one keeps signing until
    `expires_at` (the rotation window), so the receiver can switch without losing a message."""

    __tablename__ = "logistics_webhook_secrets"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("logistics_partners.id", ondelete="CASCADE"), index=True
    )
    secret: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]

    partner: Mapped[Partner] = relationship(back_populates="secrets")


class Shipment(Model):
    """An order handed to a partner: the parcel, the carrier's tracking code and fee, the latest
    floor status, and (when the partner books through its API) the booking's state."""

    __tablename__ = "logistics_shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("logistics_partners.id", ondelete="RESTRICT"), index=True
    )
    tracking_code: Mapped[str | None] = mapped_column(String(80))
    fee_vnd: Mapped[int | None]
    weight_g: Mapped[int]
    length_cm: Mapped[int] = mapped_column(default=0)
    width_cm: Mapped[int] = mapped_column(default=0)
    height_cm: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(30), default="ready_for_pickup")
    # none | pending | booked | failed | cancelled
    booking: Mapped[str] = mapped_column(String(20), default="none")
    booking_error: Mapped[str | None] = mapped_column(Text)
    last_event_at: Mapped[datetime | None]  # occurred_at of the latest event that moved the order
    attention: Mapped[str | None] = mapped_column(Text)  # lost, damaged…: for the operator
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    order: Mapped[Order] = relationship()
    partner: Mapped[Partner] = relationship()
    events: Mapped[list[ShipmentEvent]] = relationship(
        back_populates="shipment", order_by="(ShipmentEvent.occurred_at, ShipmentEvent.id)"
    )


class ShipmentEvent(Model):
    """What a partner said about a parcel, kept whether it moved the order or not."""

    __tablename__ = "logistics_shipment_events"
    __table_args__ = (UniqueConstraint("partner_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("logistics_shipments.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("logistics_partners.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(120))
    carrier_status: Mapped[str] = mapped_column(String(60))
    floor_status: Mapped[str | None] = mapped_column(String(30))
    unknown: Mapped[bool] = mapped_column(default=False)  # not in the partner's mapping table
    outcome: Mapped[str] = mapped_column(String(20))  # applied | recorded | late | unknown
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    tracking_code: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    cod_collected_vnd: Mapped[int | None]

    shipment: Mapped[Shipment] = relationship(back_populates="events")


class FeedCounter(Model):
    """One row: the last sequence number given to a feed change (see logistics.feed)."""

    __tablename__ = "logistics_feed_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class FeedChange(Model):
    """The order feed's change log: `seq` comes from FeedCounter inside the writer's transaction,
    so sequence order is commit order (logistics.feed explains why)."""

    __tablename__ = "logistics_feed_changes"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(FEED_KINDS)})", name="kind"),
        Index("ix_logistics_feed_changes_partner_seq", "partner_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    partner_id: Mapped[int] = mapped_column(ForeignKey("logistics_partners.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Model):
    """One webhook message to a partner: its id (the same `webhook-id` on every try), its body,
    and how the tries went. The outbox row `logistics.webhook` carries the delivery id."""

    __tablename__ = "logistics_webhook_deliveries"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(DELIVERY_STATES)})", name="status"),
        Index("ix_logistics_webhook_deliveries_partner_status", "partner_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("logistics_partners.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(60), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    order_code: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    response_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    partner: Mapped[Partner] = relationship()


class Remittance(Model):
    """A partner's COD transfer to the floor, with its lines; (partner, reference) is unique, so
    importing the same remittance again changes nothing."""

    __tablename__ = "logistics_remittances"
    __table_args__ = (UniqueConstraint("partner_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("logistics_partners.id", ondelete="CASCADE"))
    reference: Mapped[str] = mapped_column(String(120))
    transfer_date: Mapped[date]
    total_vnd: Mapped[int] = mapped_column(BigInteger)  # up to 10 000 lines of one order's amount
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lines: Mapped[list[RemittanceLine]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class RemittanceLine(Model):
    """One order's money in a remittance; `problem` flags a mismatch for the operator
    (amount_differs, unknown_order, remitted_twice)."""

    __tablename__ = "logistics_remittance_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    remittance_id: Mapped[int] = mapped_column(
        ForeignKey("logistics_remittances.id", ondelete="CASCADE"), index=True
    )
    order_code: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id", ondelete="SET NULL"))
    amount_vnd: Mapped[int]
    problem: Mapped[str | None] = mapped_column(String(30))
