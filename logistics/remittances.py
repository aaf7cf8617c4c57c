"""COD reconciliation: what partners collected at the door (according to their events), what they
transferred to the floor (remittances), what is outstanding, and every mismatch flagged.

A remittance is unique per (partner, reference): posting or importing it again returns the
stored one and changes nothing. Each line is checked when it arrives: an order this partner never
carried (unknown_order), an amount different from the COD collected (amount_differs), an order
already in an earlier remittance (remitted_twice)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select, text

from marketplace.errors import Errors
from marketplace.extensions import db
from marketplace.money import MAX_TOTAL_VND
from orders.models import Order, OrderStatus, PaymentMethod
from sellers.models import Shop

from .models import Partner, Remittance, RemittanceLine, Shipment, ShipmentEvent

PROBLEM_LABELS = {
    "amount_differs": _l("Số tiền khác với tiền thu hộ"),
    "unknown_order": _l("Không có đơn này"),
    "remitted_twice": _l("Đã đối soát trước đó"),
}
COLLECTED_STATUSES = (OrderStatus.DELIVERED.value, OrderStatus.COMPLETED.value, OrderStatus.REFUNDED.value)


def reported_cod(shipment_id: Any) -> Select[int | None]:
    """What the partner's latest delivered event says it collected for a shipment: `shipment_id`
    is a value, or a column to correlate (the producer dashboard's COD outstanding)."""
    return (
        select(ShipmentEvent.cod_collected_vnd)
        .where(
            ShipmentEvent.shipment_id == shipment_id,
            ShipmentEvent.floor_status == "delivered",
            ShipmentEvent.cod_collected_vnd.is_not(None),
        )
        .order_by(ShipmentEvent.occurred_at.desc())
        .limit(1)
    )


def collected_for(order: Order, shipment: Shipment) -> int:
    """The COD the partner collected for an order: what its delivered event says, else the total
    of a delivered COD order, else 0."""
    reported = db.session.scalar(reported_cod(shipment.id))
    if reported is not None:
        return int(reported)
    if order.payment_method == PaymentMethod.COD.value and order.status in COLLECTED_STATUSES:
        return order.total_vnd
    return 0


def _lock_partner(partner_id: int) -> None:
    """One remittance of a partner at a time, until the transaction ends: the same reference
    posted twice at once is then found (not a UNIQUE error, a 500), and an order in two
    remittances at once is flagged in the second. PostgreSQL: the partner's row FOR UPDATE;
    SQLite: a no-op UPDATE takes the write lock first (as orders.settlement.lock_shop does)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(select(Partner.id).where(Partner.id == partner_id).with_for_update())
    else:
        db.session.execute(
            text("UPDATE logistics_partners SET state = state WHERE id = :id"), {"id": partner_id}
        )


def record(
    partner: Partner, reference: str, transfer_date: date, lines: list[tuple[str, int]]
) -> tuple[Remittance, bool]:
    """Store a remittance (the caller commits). Returns (remittance, created)."""
    errors = Errors()
    reference = (reference or "").strip()
    if not reference or len(reference) > 120:
        errors.add("reference", "reference must be 1–120 characters")
    if not lines:
        errors.add("lines", "at least one line")
    for n, (code, amount) in enumerate(lines):
        if not code or len(code) > 40:
            errors.add(f"lines[{n}].order_code", "order code must be 1–40 characters")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0 or amount > MAX_TOTAL_VND:
            errors.add(f"lines[{n}].amount_vnd", "amount must be a whole number of đồng ≥ 0")
    errors.raise_if_any()
    _lock_partner(partner.id)
    existing = db.session.scalar(
        select(Remittance).where(Remittance.partner_id == partner.id, Remittance.reference == reference)
    )
    if existing is not None:
        return existing, False
    remittance = Remittance(
        partner_id=partner.id,
        reference=reference,
        transfer_date=transfer_date,
        total_vnd=sum(a for _c, a in lines),
    )
    db.session.add(remittance)
    db.session.flush()
    seen: set[int] = set()
    for code, amount in lines:
        row = db.session.execute(
            select(Order, Shipment)
            .join(Shipment, Shipment.order_id == Order.id)
            .where(Order.code == code, Shipment.partner_id == partner.id)
        ).first()
        line = RemittanceLine(remittance_id=remittance.id, order_code=code, amount_vnd=amount)
        if row is None:
            line.problem = "unknown_order"
        else:
            order, shipment = row
            line.order_id, line.shop_id = order.id, order.shop_id
            earlier = db.session.scalar(
                select(func.count(RemittanceLine.id)).where(
                    RemittanceLine.order_id == order.id, RemittanceLine.remittance_id != remittance.id
                )
            )
            if earlier or order.id in seen:
                line.problem = "remitted_twice"
            elif amount != collected_for(order, shipment):
                line.problem = "amount_differs"
            seen.add(order.id)
        db.session.add(line)
    db.session.flush()
    return remittance, True


@dataclass
class LedgerRow:
    partner: str
    shop: str
    collected_vnd: int = 0
    remitted_vnd: int = 0

    @property
    def outstanding_vnd(self) -> int:
        return self.collected_vnd - self.remitted_vnd


def ledger(partner: Partner | None = None) -> list[LedgerRow]:
    """Per partner and shop: COD collected (events), remitted (lines matched to an order), outstanding."""
    rows: dict[tuple[str, str], LedgerRow] = {}
    query = (
        select(Shipment, Order, Partner.name, Shop.name)
        .join(Order, Order.id == Shipment.order_id)
        .join(Partner, Partner.id == Shipment.partner_id)
        .join(Shop, Shop.id == Order.shop_id)
        .where(Order.payment_method == PaymentMethod.COD.value)
    )
    if partner is not None:
        query = query.where(Shipment.partner_id == partner.id)
    for shipment, order, partner_name, shop_name in db.session.execute(query):
        amount = collected_for(order, shipment)
        if amount:
            row = rows.setdefault((partner_name, shop_name), LedgerRow(partner_name, shop_name))
            row.collected_vnd += amount
    remitted: defaultdict[tuple[str, str], int] = defaultdict(int)
    lquery = (
        select(Partner.name, Shop.name, func.sum(RemittanceLine.amount_vnd))
        .join(Remittance, Remittance.id == RemittanceLine.remittance_id)
        .join(Partner, Partner.id == Remittance.partner_id)
        .join(Shop, Shop.id == RemittanceLine.shop_id)
        .where(RemittanceLine.problem.is_(None) | (RemittanceLine.problem == "amount_differs"))
        .group_by(Partner.name, Shop.name)
    )
    if partner is not None:
        lquery = lquery.where(Remittance.partner_id == partner.id)
    for partner_name, shop_name, total in db.session.execute(lquery):
        remitted[(partner_name, shop_name)] += int(total or 0)
    for key, total in remitted.items():
        rows.setdefault(key, LedgerRow(*key)).remitted_vnd += total
    return sorted(rows.values(), key=lambda r: (r.partner, r.shop))


def mismatches(partner: Partner | None = None) -> list[tuple[Remittance, RemittanceLine]]:
    query = (
        select(Remittance, RemittanceLine)
        .join(RemittanceLine, RemittanceLine.remittance_id == Remittance.id)
        .where(RemittanceLine.problem.is_not(None))
        .order_by(Remittance.transfer_date.desc(), RemittanceLine.id)
    )
    if partner is not None:
        query = query.where(Remittance.partner_id == partner.id)
    return [(r, line) for r, line in db.session.execute(query).all()]
