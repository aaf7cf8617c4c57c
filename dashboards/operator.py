"""Floor-wide figures for the operator's console (/quan-tri/): SQL aggregates over a period of
Vietnamese days, one query per figure, each registered (`init_app`) so the dashboards benchmark
times exactly what the page runs.

What counts as a sale (`COUNTED`, said on the page): an order PLACED in the period (its
`created_at`, in the floor's days) that is not waiting for its payment, cancelled, refunded or
returned to the shop. GMV (gross merchandise value) is the goods' value of those orders
(`subtotal_vnd`: shipping fees are the carrier's, not merchandise). A buyer is an account, or for a
guest checkout the receiver's phone number. OCOP counts only certificates the operator checked and
that are still valid on the period's last day (`OcopCertificate.shows_badge`, the badge's rule).

Every function returns a `Table`: the raw values (ints stay ints, for CSV and the spreadsheet),
which the views turn into charts with their text tables (`dashboards.charts`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, String, and_, case, cast, distinct, func, literal, select

from catalog.models import Category, Listing, ListingStatus, OcopCertificate
from marketplace.extensions import db
from orders.models import Order, OrderLine, OrderStatus
from sellers.models import Shop, ShopStatus

from . import register_query
from .periods import Period, as_date, local_day, series, within

S = OrderStatus
NOT_COUNTED = frozenset({S.PENDING_PAYMENT.value, S.CANCELLED.value, S.REFUNDED.value, S.RETURNED.value})
COUNTED = tuple(status.value for status in OrderStatus if status.value not in NOT_COUNTED)
DELIVERED = (S.DELIVERED.value, S.COMPLETED.value)

GMV_DEFINITION = _l(
    "Giá trị hàng hóa (GMV): tổng tiền hàng, không tính phí vận chuyển, của các đơn đặt trong kỳ "
    "(theo ngày giờ Việt Nam), trừ đơn chưa thanh toán, đã hủy, đã hoàn tiền hoặc bị trả lại. "
    "Người mua: mỗi tài khoản, hoặc mỗi số điện thoại người nhận với khách không đăng nhập. OCOP: chỉ "
    "chứng nhận đã được sàn xác minh và còn hiệu lực vào ngày cuối của kỳ."
)


@dataclass
class Table:
    """A figure as rows of raw values: what the chart draws, the CSV and the spreadsheet hold."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)


def counted(period: Period) -> ColumnElement[bool]:
    """Orders that count as sales of the period (see the module docstring)."""
    return and_(within(Order.created_at, period), Order.status.in_(COUNTED))


def buyer_key() -> ColumnElement[str]:
    """One value per buyer: 'u<account id>', or 'p<phone>' for a guest."""
    return case(
        (Order.buyer_id.is_not(None), literal("u") + cast(Order.buyer_id, String)),
        else_=literal("p") + Order.receiver_phone,
    )


def ocop_valid(period: Period) -> ColumnElement[bool]:
    return OcopCertificate.shows_badge(period.end)


# --- the queries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    gmv_vnd: int
    orders: int
    buyers: int


def totals(period: Period) -> Totals:
    row = db.session.execute(
        select(
            func.coalesce(func.sum(Order.subtotal_vnd), 0),
            func.count(),
            func.count(distinct(buyer_key())),
        ).where(counted(period))
    ).one()
    return Totals(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))


def sales_per_day(period: Period) -> list[tuple[str, int, int]]:
    """(local day 'YYYY-MM-DD', GMV, orders) for each day that had a sale."""
    day = local_day(Order.created_at)
    rows = db.session.execute(
        select(day, func.sum(Order.subtotal_vnd), func.count())
        .where(counted(period))
        .group_by(day)
        .order_by(day)
    )
    return [(str(d), int(gmv or 0), int(n)) for d, gmv, n in rows]


def new_shops_per_day(period: Period) -> list[tuple[str, int]]:
    """Shops registered in the period (by local day), refused ones left out."""
    day = local_day(Shop.created_at)
    rows = db.session.execute(
        select(day, func.count())
        .where(within(Shop.created_at, period), Shop.status != ShopStatus.REJECTED.value)
        .group_by(day)
    )
    return [(str(d), int(n)) for d, n in rows]


def new_listings_per_day(period: Period) -> list[tuple[str, int]]:
    """Listings first published in the period (by local day)."""
    day = local_day(Listing.published_at)
    rows = db.session.execute(
        select(day, func.count()).where(within(Listing.published_at, period)).group_by(day)
    )
    return [(str(d), int(n)) for d, n in rows]


def sold_per_listing(period: Period):
    """Per listing, the quantity and goods value of the period's counted orders: a subquery
    aggregated FIRST (the period's orders by their created_at index, then their lines), so the
    joins to listings, categories and certificates run on at most one row per listing.

    The lines are also bounded by the lowest and highest id of the period's orders (two index
    probes): implied by the join, so always true, and since ids grow with time it lets the
    database read just that stretch of the order_lines index instead of the whole table."""
    in_period = within(Order.created_at, period)
    # `id + 0`: min/max over the period's rows found through the created_at index, not a walk of
    # the primary key that PostgreSQL would otherwise choose for min(id)/max(id) with a filter.
    lowest = select(func.min(Order.id + 0)).where(in_period).scalar_subquery()
    highest = select(func.max(Order.id + 0)).where(in_period).scalar_subquery()
    return (
        select(
            OrderLine.listing_id.label("listing_id"),
            func.sum(OrderLine.quantity).label("quantity"),
            func.sum(OrderLine.line_total_vnd).label("value"),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            counted(period),
            OrderLine.listing_id.is_not(None),
            OrderLine.order_id.between(lowest, highest),
        )
        .group_by(OrderLine.listing_id)
        .subquery("sold")
    )


def top_categories(period: Period, limit: int = 10) -> list[tuple[str, int, int]]:
    """(category, goods value, quantity), largest value first."""
    sold = sold_per_listing(period)
    value = func.sum(sold.c.value)
    rows = db.session.execute(
        select(Category.name, value, func.sum(sold.c.quantity))
        .select_from(sold)
        .join(Listing, Listing.id == sold.c.listing_id)
        .join(Category, Category.id == Listing.category_id)
        .group_by(Category.id, Category.name)
        .order_by(value.desc(), Category.name)
        .limit(limit)
    )
    return [(name, int(v or 0), int(q or 0)) for name, v, q in rows]


def top_products(period: Period, limit: int = 10) -> list[tuple[str, str, int, int]]:
    """(listing title, shop, goods value, quantity), largest value first."""
    sold = sold_per_listing(period)
    rows = db.session.execute(
        select(Listing.title, Shop.name, sold.c.value, sold.c.quantity)
        .select_from(sold)
        .join(Listing, Listing.id == sold.c.listing_id)
        .join(Shop, Shop.id == Listing.shop_id)
        .order_by(sold.c.value.desc(), Listing.title)
        .limit(limit)
    )
    return [(title, shop, int(v or 0), int(q or 0)) for title, shop, v, q in rows]


def by_buyer_province(period: Period) -> list[tuple[str, int, int]]:
    """(buyer's province, GMV, orders), largest GMV first."""
    gmv = func.sum(Order.subtotal_vnd)
    rows = db.session.execute(
        select(Order.province, gmv, func.count())
        .where(counted(period))
        .group_by(Order.province)
        .order_by(gmv.desc(), Order.province)
    )
    return [(p, int(v or 0), int(n)) for p, v, n in rows]


def by_buyer_commune(period: Period, limit: int = 50) -> list[tuple[str, str, int, int]]:
    """(buyer's commune, province, GMV, orders), largest GMV first."""
    gmv = func.sum(Order.subtotal_vnd)
    rows = db.session.execute(
        select(Order.commune_name, Order.province, gmv, func.count())
        .where(counted(period))
        .group_by(Order.commune_name, Order.province)
        .order_by(gmv.desc(), Order.province, Order.commune_name)
        .limit(limit)
    )
    return [(c, p, int(v or 0), int(n)) for c, p, v, n in rows]


def by_shop_kind(period: Period) -> dict[str, tuple[int, int]]:
    """shop kind -> (GMV, orders)."""
    rows = db.session.execute(
        select(Shop.kind, func.sum(Order.subtotal_vnd), func.count())
        .select_from(Order)
        .join(Shop, Shop.id == Order.shop_id)
        .where(counted(period))
        .group_by(Shop.kind)
    )
    return {kind: (int(v or 0), int(n)) for kind, v, n in rows}


def on_the_floor() -> ColumnElement[bool]:
    """A listing buyers can see: active, not hidden by the operator, its shop approved."""
    return and_(
        Listing.status == ListingStatus.ACTIVE.value,
        Listing.hidden_at.is_(None),
        Shop.status == ShopStatus.APPROVED.value,
    )


def ocop_listed(period: Period) -> dict[int, int]:
    """stars -> OCOP listings on the floor (rating checked and valid on the period's last day)."""
    rows = db.session.execute(
        select(OcopCertificate.stars, func.count())
        .select_from(Listing)
        .join(OcopCertificate, OcopCertificate.id == Listing.ocop_certificate_id)
        .join(Shop, Shop.id == Listing.shop_id)
        .where(on_the_floor(), ocop_valid(period))
        .group_by(OcopCertificate.stars)
    )
    return {int(stars): int(n) for stars, n in rows}


def ocop_sold(period: Period) -> dict[int, tuple[int, int, int]]:
    """stars -> (listings with a sale, quantity, goods value) in the period's counted orders."""
    sold = sold_per_listing(period)
    rows = db.session.execute(
        select(OcopCertificate.stars, func.count(), func.sum(sold.c.quantity), func.sum(sold.c.value))
        .select_from(sold)
        .join(Listing, Listing.id == sold.c.listing_id)
        .join(OcopCertificate, OcopCertificate.id == Listing.ocop_certificate_id)
        .where(ocop_valid(period))
        .group_by(OcopCertificate.stars)
    )
    return {int(stars): (int(n), int(q or 0), int(v or 0)) for stars, n, q, v in rows}


# --- tables for the page, the CSV and the spreadsheet ---------------------------------------------


def _days(period: Period, per_day: list[tuple[str, int]]) -> list[list[Any]]:
    return [[day, value] for day, value in series(period, [(as_date(d), n) for d, n in per_day])]


def sales_table(period: Period) -> Table:
    per_day = sales_per_day(period)
    gmv = dict(series(period, [(as_date(d), v) for d, v, _n in per_day]))
    orders = dict(series(period, [(as_date(d), n) for d, _v, n in per_day]))
    return Table(
        "ban-hang",
        str(_l("GMV và số đơn theo ngày")),
        [str(_l("Ngày")), str(_l("GMV (đồng)")), str(_l("Số đơn"))],
        [[day, gmv[day], orders[day]] for day in period.each_day()],
    )


def new_shops_table(period: Period) -> Table:
    return Table(
        "cua-hang-moi",
        str(_l("Cửa hàng mới đăng ký theo ngày")),
        [str(_l("Ngày")), str(_l("Cửa hàng mới"))],
        _days(period, new_shops_per_day(period)),
    )


def new_listings_table(period: Period) -> Table:
    return Table(
        "san-pham-moi",
        str(_l("Sản phẩm mới đăng bán theo ngày")),
        [str(_l("Ngày")), str(_l("Sản phẩm mới"))],
        _days(period, new_listings_per_day(period)),
    )


def categories_table(period: Period) -> Table:
    return Table(
        "danh-muc",
        str(_l("Danh mục bán chạy")),
        [str(_l("Danh mục")), str(_l("Tiền hàng (đồng)")), str(_l("Số lượng"))],
        [list(row) for row in top_categories(period)],
    )


def products_table(period: Period) -> Table:
    return Table(
        "san-pham",
        str(_l("Sản phẩm bán chạy")),
        [str(_l("Sản phẩm")), str(_l("Cửa hàng")), str(_l("Tiền hàng (đồng)")), str(_l("Số lượng"))],
        [list(row) for row in top_products(period)],
    )


def provinces_table(period: Period) -> Table:
    return Table(
        "tinh",
        str(_l("Doanh số theo tỉnh/thành của người mua")),
        [str(_l("Tỉnh/thành")), str(_l("GMV (đồng)")), str(_l("Số đơn"))],
        [list(row) for row in by_buyer_province(period)],
    )


def communes_table(period: Period) -> Table:
    return Table(
        "xa",
        str(_l("Doanh số theo xã/phường của người mua")),
        [str(_l("Xã/phường")), str(_l("Tỉnh/thành")), str(_l("GMV (đồng)")), str(_l("Số đơn"))],
        [list(row) for row in by_buyer_commune(period)],
    )


def kind_label(kind: str) -> str:
    from sellers import KIND_LABELS

    return str(KIND_LABELS.get(kind, kind))


def kinds_table(period: Period) -> Table:
    figures = by_shop_kind(period)
    from sellers.models import ShopKind

    rows = [[kind_label(k.value), *figures.get(k.value, (0, 0))] for k in ShopKind]
    return Table(
        "loai-hinh",
        str(_l("Doanh số theo loại hình cửa hàng")),
        [str(_l("Loại hình")), str(_l("GMV (đồng)")), str(_l("Số đơn"))],
        rows,
    )


def stars_label(stars: int) -> str:
    return str(_l("OCOP %(stars)d sao", stars=stars))


def ocop_table(period: Period) -> Table:
    listed, sold = ocop_listed(period), ocop_sold(period)
    rows = []
    for stars in (5, 4, 3, 2, 1):
        n_sold, quantity, value = sold.get(stars, (0, 0, 0))
        rows.append([stars_label(stars), listed.get(stars, 0), n_sold, quantity, value])
    return Table(
        "ocop",
        str(_l("Sản phẩm OCOP đang bán và đã bán theo hạng sao")),
        [
            str(_l("Hạng")),
            str(_l("Đang bán trên sàn")),
            str(_l("Có đơn trong kỳ")),
            str(_l("Số lượng bán")),
            str(_l("Tiền hàng (đồng)")),
        ],
        rows,
    )


TABLES: dict[str, Callable[[Period], Table]] = {
    "ban-hang": sales_table,
    "cua-hang-moi": new_shops_table,
    "san-pham-moi": new_listings_table,
    "danh-muc": categories_table,
    "san-pham": products_table,
    "tinh": provinces_table,
    "xa": communes_table,
    "loai-hinh": kinds_table,
    "ocop": ocop_table,
}


def init_app(app: Flask) -> None:
    floor: dict[str, Callable[[Period], Any]] = {
        "operator.totals": totals,
        "operator.sales_per_day": sales_per_day,
        "operator.new_shops_per_day": new_shops_per_day,
        "operator.new_listings_per_day": new_listings_per_day,
        "operator.top_categories": top_categories,
        "operator.top_products": top_products,
        "operator.by_buyer_province": by_buyer_province,
        "operator.by_buyer_commune": by_buyer_commune,
        "operator.by_shop_kind": by_shop_kind,
        "operator.ocop_listed": ocop_listed,
        "operator.ocop_sold": ocop_sold,
    }
    for name, run in floor.items():
        register_query(app, name, "floor", floor_query(run))
    from . import queues

    # The queues do not depend on the period; they are timed with the rest of the console.
    register_query(app, "operator.queues", "floor", lambda _period, _shop_id: queues.counts())


def floor_query(run: Callable[[Period], Any]) -> Callable[[Period, int | None], Any]:
    """A floor-wide figure as `register_query` wants it: (period, shop_id=None) -> figure."""

    def query(period: Period, _shop_id: int | None) -> Any:
        return run(period)

    return query
