"""The producer's figures: what needs doing today, sales over a period, the best-selling listings,
revenue by channel, cash on delivery the carriers still hold, and the settlement statement.

Every query takes the shop's id and filters by it first; each is registered in
`app.extensions["dashboard_queries"]` (see `dashboards.register_query`) so the benchmark times
exactly what the dashboard runs. Days are the floor's local days (`periods`).

What counts as a sale: an order of the shop placed on the floor (by the local day it was placed),
whatever happened to it afterwards, except orders never paid for (`pending_payment`), cancelled,
refunded in full or returned to the shop. Revenue is the goods' value (the order's subtotal, the sum
of its lines, without the shipping fee the buyer paid), before any partial refund a complaint gave back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import and_, case, func, or_, select

from catalog.models import Listing, ListingStatus
from logistics.models import Partner, RemittanceLine, Shipment
from logistics.remittances import COLLECTED_STATUSES, reported_cod
from marketplace.extensions import db
from orders import settlement
from orders.complaint_states import UNRESOLVED
from orders.models import (
    Complaint,
    LedgerEntry,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    Review,
)
from orders.seller_views import tab_filters
from syndication.models import RemoteOrder, RemoteOrderState, SyncRecord, platform_name

from . import register_query
from .periods import Period, local_day, within

S = OrderStatus
NOT_SALES = (S.PENDING_PAYMENT.value, S.CANCELLED.value, S.REFUNDED.value, S.RETURNED.value)
# Parcels the carrier could not hand over, or that are coming back, lost or damaged: the shop
# follows each one up (with the carrier, the buyer, or the floor).
DELIVERY_PROBLEMS = (S.DELIVERY_FAILED.value, S.RETURNING.value, S.LOST.value, S.DAMAGED.value)
SYNC_PROBLEMS = ("failed", "needs_attention")
FLOOR_CHANNEL = "floor"
TOP_LIMIT = 50


def _sale(shop_id: int, period: Period) -> Any:
    return and_(Order.shop_id == shop_id, within(Order.created_at, period), Order.status.not_in(NOT_SALES))


# --- today's work ---------------------------------------------------------------------------------


def low_stock_condition(shop_id: int) -> Any:
    """Listings of the shop on sale (or drafts being prepared) at or below their own threshold."""
    return and_(
        Listing.shop_id == shop_id,
        Listing.status != ListingStatus.ARCHIVED.value,
        Listing.low_stock_threshold.is_not(None),
        Listing.stock <= Listing.low_stock_threshold,
    )


def open_complaint_condition(shop_id: int) -> Any:
    return and_(Order.shop_id == shop_id, Complaint.status.in_(UNRESOLVED))


def today_work(_period: Period | None, shop_id: int | None) -> dict[str, int]:
    """Counts of what waits for the shop, whatever the period (the period is ignored)."""
    assert shop_id is not None
    filters = tab_filters()

    def count(query: Any) -> int:
        return int(db.session.scalar(query) or 0)

    orders = select(func.count()).select_from(Order).where(Order.shop_id == shop_id)
    return {
        "to_confirm": count(orders.where(filters["to_confirm"])),
        "to_pack": count(orders.where(filters["to_pack"])),
        "delivery_problems": count(orders.where(Order.status.in_(DELIVERY_PROBLEMS))),
        "complaints": count(
            select(func.count())
            .select_from(Complaint)
            .join(Order, Order.id == Complaint.order_id)
            .where(open_complaint_condition(shop_id))
        ),
        "low_stock": count(select(func.count()).select_from(Listing).where(low_stock_condition(shop_id))),
        "sync_errors": count(
            select(func.count())
            .select_from(SyncRecord)
            .join(Listing, Listing.id == SyncRecord.listing_id)
            .where(Listing.shop_id == shop_id, SyncRecord.state.in_(SYNC_PROBLEMS))
        ),
        "unanswered_reviews": count(
            select(func.count())
            .select_from(Review)
            .where(Review.shop_id == shop_id, Review.reply_body.is_(None))
        ),
    }


def problem_orders(shop_id: int) -> tuple[list[Order], list[tuple[Complaint, Order]]]:
    """The orders behind the "problems" count: delivery problems, then unresolved complaints."""
    deliveries = db.session.scalars(
        select(Order)
        .where(Order.shop_id == shop_id, Order.status.in_(DELIVERY_PROBLEMS))
        .order_by(Order.updated_at.desc(), Order.id.desc())
        .limit(300)
    ).all()
    complaints = db.session.execute(
        select(Complaint, Order)
        .join(Order, Order.id == Complaint.order_id)
        .where(open_complaint_condition(shop_id))
        .order_by(Complaint.answer_due_at, Complaint.id)
        .limit(300)
    ).all()
    return list(deliveries), [(c, o) for c, o in complaints]


def low_stock_listings(shop_id: int) -> list[Listing]:
    return list(
        db.session.scalars(
            select(Listing)
            .where(low_stock_condition(shop_id))
            .order_by(Listing.stock, Listing.title, Listing.id)
            .limit(500)
        )
    )


# --- sales over a period ----------------------------------------------------------------------


def sales_per_day(period: Period, shop_id: int | None) -> dict[str, tuple[int, int]]:
    """Local day 'YYYY-MM-DD' -> (orders, revenue) for the shop's sales of the period."""
    assert shop_id is not None
    day = local_day(Order.created_at)
    rows = db.session.execute(
        select(day, func.count(), func.sum(Order.subtotal_vnd)).where(_sale(shop_id, period)).group_by(day)
    ).all()
    return {str(d): (int(n), int(total or 0)) for d, n, total in rows}


@dataclass
class TopListing:
    listing_id: int | None
    title: str | None  # the listing's title now; None once the listing left the floor
    quantity: int
    revenue_vnd: int


def top_listings(period: Period, shop_id: int | None) -> list[TopListing]:
    """The shop's listings by revenue in the period (quantity and goods' value of their lines),
    named by their titles now."""
    assert shop_id is not None
    revenue = func.sum(OrderLine.line_total_vnd)
    rows = db.session.execute(
        select(OrderLine.listing_id, func.sum(OrderLine.quantity), revenue)
        .join(Order, Order.id == OrderLine.order_id)
        .where(_sale(shop_id, period))
        .group_by(OrderLine.listing_id)
        .order_by(revenue.desc(), OrderLine.listing_id)
        .limit(TOP_LIMIT)
    ).all()
    ids = [lid for lid, _qty, _total in rows if lid is not None]
    titles: dict[int | None, str] = {}
    if ids:
        for listing_id, title in db.session.execute(
            select(Listing.id, Listing.title).where(Listing.id.in_(ids))
        ):
            titles[listing_id] = title
    return [TopListing(lid, titles.get(lid), int(qty or 0), int(total or 0)) for lid, qty, total in rows]


@dataclass
class ChannelRevenue:
    channel: str  # "floor" or a platform code
    label: str
    orders: int
    revenue_vnd: int


def revenue_by_channel(period: Period, shop_id: int | None) -> list[ChannelRevenue]:
    """The floor's own sales (as above), and each platform's lines that took the floor's stock
    (syndication_remote_orders in state 'taken', by the local day placed on the platform, at the
    platform's unit price); a platform's order counts once however many lines it has."""
    assert shop_id is not None
    floor = db.session.execute(
        select(func.count(), func.sum(Order.subtotal_vnd)).where(_sale(shop_id, period))
    ).one()
    out = [ChannelRevenue(FLOOR_CHANNEL, "", int(floor[0] or 0), int(floor[1] or 0))]
    rows = db.session.execute(
        select(
            RemoteOrder.platform,
            func.count(func.distinct(RemoteOrder.remote_order_id)),
            func.sum(RemoteOrder.price_vnd * RemoteOrder.quantity),
        )
        .where(
            RemoteOrder.shop_id == shop_id,
            RemoteOrder.state == RemoteOrderState.TAKEN.value,
            within(RemoteOrder.placed_at, period),
        )
        .group_by(RemoteOrder.platform)
        .order_by(RemoteOrder.platform)
    ).all()
    out += [
        ChannelRevenue(platform, platform_name(platform), int(n), int(total or 0))
        for platform, n, total in rows
    ]
    return out


# --- cash on delivery held by carriers ----------------------------------------------------------


@dataclass
class CodOutstanding:
    order_code: str
    partner: str
    delivered_at: datetime | None
    collected_vnd: int
    remitted_vnd: int

    @property
    def outstanding_vnd(self) -> int:
        return self.collected_vnd - self.remitted_vnd


def cod_outstanding(_period: Period | None, shop_id: int | None) -> list[CodOutstanding]:
    """COD orders of the shop a carrier delivered (so collected the money at the door: delivered,
    completed, or refunded afterwards) whose money has not all reached the floor in a remittance:
    as of now, whatever the period.

    Collected and remitted are counted exactly as the operator's COD reconciliation counts them
    (logistics.remittances: `collected_for` and `ledger`): what the carrier's delivered event
    reported, else the order's total once delivered; remittance lines matched to the order,
    except those flagged as an unknown order or as remitted twice."""
    assert shop_id is not None
    reported = reported_cod(Shipment.id).correlate(Shipment).scalar_subquery()
    collected = func.coalesce(
        reported, case((Order.status.in_(COLLECTED_STATUSES), Order.total_vnd), else_=0)
    )
    remitted = (
        select(func.coalesce(func.sum(RemittanceLine.amount_vnd), 0))
        .where(
            RemittanceLine.order_id == Order.id,
            or_(RemittanceLine.problem.is_(None), RemittanceLine.problem == "amount_differs"),
        )
        .correlate(Order)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Order.code, Partner.name, settlement.delivered_at_column(), collected, remitted)
        .select_from(Shipment)
        .join(Order, Order.id == Shipment.order_id)
        .join(Partner, Partner.id == Shipment.partner_id)
        .where(
            Order.shop_id == shop_id,
            Order.status.in_(COLLECTED_STATUSES),
            Order.payment_method == PaymentMethod.COD.value,
        )
        .where(collected > remitted)
        .order_by(Partner.name, Order.code)
    ).all()
    return [CodOutstanding(code, partner, at, int(c or 0), int(r or 0)) for code, partner, at, c, r in rows]


def cod_by_partner(rows: list[CodOutstanding]) -> list[tuple[str, int]]:
    totals: dict[str, int] = {}
    for row in rows:
        totals[row.partner] = totals.get(row.partner, 0) + row.outstanding_vnd
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))


# --- the settlement statement -----------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    created_at: datetime
    kind: str
    amount_vnd: int
    order_code: str  # "" for a payout
    reference: str
    note: str


@dataclass
class Statement:
    period: Period
    opening_vnd: int
    lines: list[StatementLine]

    @property
    def closing_vnd(self) -> int:
        return self.opening_vnd + sum(line.amount_vnd for line in self.lines)

    def total(self, *kinds: str) -> int:
        return sum(line.amount_vnd for line in self.lines if line.kind in kinds)

    def with_balances(self) -> list[tuple[StatementLine, int]]:
        """Each line with the balance after it."""
        balance, out = self.opening_vnd, []
        for line in self.lines:
            balance += line.amount_vnd
            out.append((line, balance))
        return out


def settlement_statement(period: Period, shop_id: int | None) -> Statement:
    """What the floor owes the shop before the period, each ledger entry of the period, and after.
    The balance is the sum of the shop's entries, as `orders.settlement.owed_to` and the
    operator's ledger page compute it, cut at local midnight."""
    assert shop_id is not None
    start, _end = period.utc_bounds()
    opening = db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_vnd), 0)).where(
            LedgerEntry.shop_id == shop_id, LedgerEntry.created_at < start
        )
    )
    rows = db.session.execute(
        select(
            LedgerEntry.created_at,
            LedgerEntry.kind,
            LedgerEntry.amount_vnd,
            Order.code,
            LedgerEntry.reference,
            LedgerEntry.note,
        )
        .outerjoin(Order, Order.id == LedgerEntry.order_id)
        .where(LedgerEntry.shop_id == shop_id, within(LedgerEntry.created_at, period))
        .order_by(LedgerEntry.created_at, LedgerEntry.id)
    ).all()
    lines = [
        StatementLine(at, kind, int(amount), code or "", reference or "", note or "")
        for at, kind, amount, code, reference, note in rows
    ]
    return Statement(period, int(opening or 0), lines)


# --- registration -------------------------------------------------------------------------------

QUERIES: dict[str, Callable[[Period, int | None], Any]] = {
    "producer.today_work": today_work,
    "producer.sales_per_day": sales_per_day,
    "producer.top_listings": top_listings,
    "producer.revenue_by_channel": revenue_by_channel,
    "producer.cod_outstanding": cod_outstanding,
    "producer.settlement_statement": settlement_statement,
}


def register(app: Flask) -> None:
    for name, run in QUERIES.items():
        register_query(app, name, "shop", run)
