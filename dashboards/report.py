"""The province report (/quan-tri/bao-cao): the figures the department reports upward for a
period, as a printable page, an .xlsx workbook and CSV.

Definitions (also printed on the report, `DEFINITIONS`):

* Sales, GMV, orders and buyers: as on the console (`dashboards.operator.COUNTED`).
* OCOP products sold online: of the OCOP-rated listings on the floor (active, not hidden, shop
  approved, certificate checked and valid on the period's last day), those with at least one sale
  in the period; and the OCOP listings' share of the period's goods value.
* Active shops: approved shops with at least one sale placed in the period, or a listing created
  or changed in the period.
* Orders delivered out of province: orders placed in the period and delivered (delivered or
  completed) whose buyer's province is not the floor's (`PROVINCE_NAME`).

Shares are kept as a numerator and a denominator (ints); the page and the files show the
percentage rounded to one decimal, and the spreadsheet also keeps both numbers.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from babel.numbers import format_decimal
from flask import Flask, current_app
from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select

from catalog.models import Listing, OcopCertificate
from marketplace.extensions import db
from marketplace.models import Commune
from orders.models import Order
from sellers.models import Shop, ShopKind, ShopStatus

from . import register_query
from .operator import (
    DELIVERED,
    Table,
    counted,
    floor_query,
    kind_label,
    ocop_valid,
    on_the_floor,
    sold_per_listing,
    totals,
)
from .periods import Period, within

DEFINITIONS = (
    _l(
        "GMV: tổng tiền hàng (không tính phí vận chuyển) của các đơn đặt trong kỳ, trừ đơn chưa "
        "thanh toán, đã hủy, đã hoàn tiền hoặc bị trả lại; ngày tính theo giờ Việt Nam."
    ),
    _l(
        "Tỷ lệ sản phẩm OCOP bán trực tuyến: số sản phẩm OCOP (chứng nhận đã xác minh, còn hiệu lực "
        "vào ngày cuối kỳ) đang bán trên sàn có ít nhất một đơn trong kỳ, chia cho tổng số sản phẩm "
        "OCOP đang bán trên sàn."
    ),
    _l("Tỷ trọng doanh thu OCOP: tiền hàng của sản phẩm OCOP chia cho tổng tiền hàng trong kỳ."),
    _l(
        "Cửa hàng hoạt động: cửa hàng đang được duyệt có ít nhất một đơn đặt trong kỳ, hoặc có sản "
        "phẩm được đăng mới hay sửa đổi trong kỳ."
    ),
    _l(
        "Đơn giao ngoài tỉnh: đơn đặt trong kỳ đã giao thành công, có địa chỉ người nhận ở tỉnh/thành "
        "khác tỉnh của sàn."
    ),
)


@dataclass(frozen=True)
class Share:
    part: int
    whole: int

    @property
    def percent(self) -> float | None:
        return None if not self.whole else round(100 * self.part / self.whole, 1)

    def text(self) -> str:
        if self.percent is None:
            return "—"
        return format_decimal(self.percent, format="0.0", locale=str(get_locale() or "vi")) + " %"


# --- the queries -----------------------------------------------------------------------------------


def ocop_listings_share(period: Period) -> Share:
    """OCOP listings on the floor with at least one sale in the period / all of them."""
    sold = sold_per_listing(period)
    row = db.session.execute(
        select(func.count(), func.count(sold.c.listing_id))
        .select_from(Listing)
        .join(OcopCertificate, OcopCertificate.id == Listing.ocop_certificate_id)
        .join(Shop, Shop.id == Listing.shop_id)
        .outerjoin(sold, sold.c.listing_id == Listing.id)
        .where(on_the_floor(), ocop_valid(period))
    ).one()
    return Share(int(row[1] or 0), int(row[0] or 0))


def ocop_revenue_share(period: Period) -> Share:
    """Goods value of listings OCOP-rated (valid on the last day) / all goods value, of the
    period's counted orders (lines whose listing was deleted count in the whole only)."""
    sold = sold_per_listing(period)
    whole = select(func.coalesce(func.sum(Order.subtotal_vnd), 0)).where(counted(period))
    part = (
        select(func.coalesce(func.sum(sold.c.value), 0))
        .select_from(sold)
        .join(Listing, Listing.id == sold.c.listing_id)
        .join(OcopCertificate, OcopCertificate.id == Listing.ocop_certificate_id)
        .where(ocop_valid(period))
    )
    row = db.session.execute(select(part.scalar_subquery(), whole.scalar_subquery())).one()
    return Share(int(row[0] or 0), int(row[1] or 0))


def _active(period: Period):
    sold = exists().where(Order.shop_id == Shop.id, counted(period))
    changed = exists().where(Listing.shop_id == Shop.id, within(Listing.updated_at, period))
    return and_(Shop.status == ShopStatus.APPROVED.value, or_(sold, changed))


def active_shops(period: Period) -> Share:
    """Active shops / approved shops."""
    row = db.session.execute(
        select(func.count().filter(_active(period)), func.count())
        .select_from(Shop)
        .where(Shop.status == ShopStatus.APPROVED.value)
    ).one()
    return Share(int(row[0] or 0), int(row[1] or 0))


def delivered_out_of_province(period: Period) -> Share:
    """Delivered orders to another province / all delivered orders (placed in the period)."""
    province = current_app.config["PROVINCE_NAME"]
    row = db.session.execute(
        select(func.count().filter(Order.province != province), func.count()).where(
            within(Order.created_at, period), Order.status.in_(DELIVERED)
        )
    ).one()
    return Share(int(row[0] or 0), int(row[1] or 0))


def by_shop_kind(period: Period) -> dict[str, tuple[int, int, int, int]]:
    """kind -> (approved shops, active shops, orders, GMV)."""
    active = _active(period)
    shops = {
        kind: (int(n), int(a))
        for kind, n, a in db.session.execute(
            select(Shop.kind, func.count(), func.count().filter(active))
            .where(Shop.status == ShopStatus.APPROVED.value)
            .group_by(Shop.kind)
        )
    }
    sales = {
        kind: (int(n), int(v or 0))
        for kind, n, v in db.session.execute(
            select(Shop.kind, func.count(), func.sum(Order.subtotal_vnd))
            .select_from(Order)
            .join(Shop, Shop.id == Order.shop_id)
            .where(counted(period))
            .group_by(Shop.kind)
        )
    }
    return {
        kind: (*shops.get(kind, (0, 0)), *sales.get(kind, (0, 0))) for kind in sorted(set(shops) | set(sales))
    }


def by_shop_commune(period: Period) -> list[tuple[str, int, int]]:
    """(the shop's commune, orders, GMV), largest GMV first."""
    gmv = func.sum(Order.subtotal_vnd)
    rows = db.session.execute(
        select(Commune.name, func.count(), gmv)
        .select_from(Order)
        .join(Shop, Shop.id == Order.shop_id)
        .join(Commune, Commune.id == Shop.commune_id)
        .where(counted(period))
        .group_by(Commune.id, Commune.name)
        .order_by(gmv.desc(), Commune.name)
    )
    return [(name, int(n), int(v or 0)) for name, n, v in rows]


# --- the report ------------------------------------------------------------------------------------


@dataclass
class Report:
    period: Period
    province: str
    summary: Table
    kinds: Table
    communes: Table

    @property
    def tables(self) -> list[Table]:
        return [self.summary, self.kinds, self.communes]

    def table(self, key: str) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)


def build(period: Period) -> Report:
    sums = totals(period)
    listings, revenue = ocop_listings_share(period), ocop_revenue_share(period)
    shops, out = active_shops(period), delivered_out_of_province(period)
    province = current_app.config["PROVINCE_NAME"]
    # (indicator, value, of how many, share) — the value and the whole are ints, the share text.
    summary = Table(
        "tong-hop",
        str(_l("Chỉ tiêu tổng hợp")),
        [str(_l("Chỉ tiêu")), str(_l("Giá trị")), str(_l("Trên tổng số")), str(_l("Tỷ lệ"))],
        [
            [str(_l("GMV (đồng)")), sums.gmv_vnd, "", ""],
            [str(_l("Số đơn hàng")), sums.orders, "", ""],
            [str(_l("Số người mua")), sums.buyers, "", ""],
            [str(_l("Sản phẩm OCOP có đơn trong kỳ")), listings.part, listings.whole, listings.text()],
            [str(_l("Tiền hàng sản phẩm OCOP (đồng)")), revenue.part, revenue.whole, revenue.text()],
            [str(_l("Cửa hàng hoạt động")), shops.part, shops.whole, shops.text()],
            [
                str(_l("Đơn giao thành công ngoài tỉnh %(province)s", province=province)),
                out.part,
                out.whole,
                out.text(),
            ],
        ],
    )
    per_kind = by_shop_kind(period)
    kinds = Table(
        "loai-hinh",
        str(_l("Theo loại hình cửa hàng")),
        [
            str(_l("Loại hình")),
            str(_l("Cửa hàng đang hoạt động trên sàn")),
            str(_l("Cửa hàng hoạt động trong kỳ")),
            str(_l("Số đơn")),
            str(_l("GMV (đồng)")),
        ],
        [[kind_label(k.value), *per_kind.get(k.value, (0, 0, 0, 0))] for k in ShopKind],
    )
    communes = Table(
        "xa",
        str(_l("Theo xã/phường của cửa hàng")),
        [str(_l("Xã/phường")), str(_l("Số đơn")), str(_l("GMV (đồng)"))],
        [list(row) for row in by_shop_commune(period)],
    )
    return Report(period, province, summary, kinds, communes)


def title(report: Report) -> str:
    return str(
        _l(
            "Báo cáo thương mại điện tử tỉnh %(province)s, từ %(start)s đến %(end)s",
            province=report.province,
            start=format_date(report.period.start, "dd/MM/yyyy"),
            end=format_date(report.period.end, "dd/MM/yyyy"),
        )
    )


def xlsx(report: Report) -> bytes:
    """The workbook: a sheet per table, then the definitions. Text is written with write_string
    and numbers with write_number, so nothing a shop or commune is called can become a formula."""
    import xlsxwriter  # type: ignore[import-untyped]

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    money = book.add_format({"num_format": "#,##0"})
    for table in report.tables:
        sheet = book.add_worksheet(sheet_name(table.title))
        sheet.write_string(0, 0, title(report), bold)
        for col, name in enumerate(table.columns):
            sheet.write_string(2, col, name, bold)
            sheet.set_column(col, col, 40 if col == 0 else 18)
        for r, row in enumerate(table.rows, start=3):
            for col, value in enumerate(row):
                _cell(sheet, r, col, value, money)
        sheet.freeze_panes(3, 1)
    notes = book.add_worksheet(sheet_name(str(_l("Định nghĩa"))))
    notes.set_column(0, 0, 100)
    for r, text in enumerate(DEFINITIONS):
        notes.write_string(r, 0, str(text), wrap)
    book.close()
    return buffer.getvalue()


def sheet_name(text: str) -> str:
    """Excel refuses []:*?/\\ in a sheet's name and more than 31 characters."""
    return "".join("-" if ch in "[]:*?/\\" else ch for ch in text)[:31]


def _cell(sheet: Any, row: int, col: int, value: Any, money: Any) -> None:
    if isinstance(value, bool) or value is None:
        sheet.write_string(row, col, "" if value is None else str(value))
    elif isinstance(value, int):
        sheet.write_number(row, col, value, money)
    else:
        sheet.write_string(row, col, str(value))


def init_app(app: Flask) -> None:
    for name, run in {
        "report.ocop_listings_share": ocop_listings_share,
        "report.ocop_revenue_share": ocop_revenue_share,
        "report.active_shops": active_shops,
        "report.delivered_out_of_province": delivered_out_of_province,
        "report.by_shop_kind": by_shop_kind,
        "report.by_shop_commune": by_shop_commune,
    }.items():
        register_query(app, name, "floor", floor_query(run))
