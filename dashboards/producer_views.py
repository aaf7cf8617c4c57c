"""The producer dashboard's pages under /kenh-ban/<shop>/: the sections the shop's home page shows
(today's work above the panels, the figures of a period below), and the pages they link to —
problems, low stock, reviews with their replies, the settlement statement — with a CSV of every
table.

Who sees what (sellers.permissions): every member sees today's work and the sales figures (staff
handle the orders behind them); the low-stock list and the review replies are the listings' work
(MANAGE_LISTINGS); the problems list is the orders' (HANDLE_ORDERS); the money the floor and the
carriers hold for the shop — COD outstanding and the settlement statement — is the owner's
(SEE_ACCOUNTS). A member of another shop gets 404 on all of it (shop_permission_required)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import Length

from catalog.models import Listing
from marketplace.actions import run_form
from marketplace.csv_writer import csv_text
from marketplace.extensions import db
from marketplace.forms import AppForm
from marketplace.i18n import short_datetime
from marketplace.money import format_vnd
from orders.models import LedgerKind, Review
from sellers.models import Shop
from sellers.permissions import ShopPermission, has_shop_permission, shop_permission_required

from . import producer, producer_reviews
from .charts import Chart, bar_list, time_chart
from .periods import (
    GRANULARITY_LABELS,
    PRESETS,
    Granularity,
    Period,
    as_date,
    granularity_from_args,
    period_from_args,
    series,
)

bp = Blueprint("dashboards_producer", __name__, url_prefix="/kenh-ban")
P = ShopPermission

KIND_LABELS = {
    LedgerKind.COLLECTED.value: _l("Sàn đã thu"),
    LedgerKind.REFUNDED.value: _l("Hoàn tiền"),
    LedgerKind.PARTIAL_REFUND.value: _l("Hoàn một phần (khiếu nại)"),
    LedgerKind.PAYOUT.value: _l("Sàn đã chi trả"),
}
FIGURE_TABLES = ("ban-hang", "san-pham", "kenh-ban")


class ReplyForm(AppForm):
    reply_body = TextAreaField(_l("Trả lời công khai"), validators=[Length(max=producer_reviews.MAX_REPLY)])


def _csv(filename: str, header: list[str], rows: Any) -> Response:
    """A dashboard's table as CSV (marketplace.csv_writer: formulas neutralised). These tables are
    small (a shop's days, listings, carriers, a period's ledger entries), so the document is built
    whole rather than streamed."""
    return Response(
        csv_text(header, rows() if callable(rows) else rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _may(shop: Shop, permission: ShopPermission) -> bool:
    return has_shop_permission(current_user, shop, permission)


def _period() -> tuple[Period, str | None, Granularity]:
    period, error = period_from_args(request.args)
    return period, error, granularity_from_args(request.args, period)


def _listing_label(row: producer.TopListing) -> str:
    return row.title or _("Sản phẩm đã xoá khỏi sàn")


def _channel_label(row: producer.ChannelRevenue) -> str:
    return row.label or _("Trên sàn")


# --- the sections of the shop's home page -----------------------------------------------------


def today_section(shop: Shop) -> Markup:
    counts = producer.today_work(None, shop.id)
    slug = shop.slug
    items: list[tuple[str, int, str | None]] = []
    if _may(shop, P.HANDLE_ORDERS):
        inbox = url_for("orders_seller.inbox", shop_slug=slug)
        items += [
            (_("Đơn chờ xác nhận"), counts["to_confirm"], f"{inbox}?tab=to_confirm"),
            (_("Đơn chờ đóng gói"), counts["to_pack"], f"{inbox}?tab=to_pack"),
            (
                _("Giao hàng có vấn đề, khiếu nại"),
                counts["delivery_problems"] + counts["complaints"],
                url_for("dashboards_producer.problems", shop_slug=slug),
            ),
        ]
    if _may(shop, P.MANAGE_LISTINGS):
        items += [
            (
                _("Sản phẩm sắp hết hàng"),
                counts["low_stock"],
                url_for("dashboards_producer.low_stock", shop_slug=slug),
            ),
            (
                _("Lỗi đồng bộ kênh bán khác"),
                counts["sync_errors"],
                url_for("syndication_seller.index", shop_slug=slug),
            ),
            (
                _("Đánh giá chưa trả lời"),
                counts["unanswered_reviews"],
                url_for("dashboards_producer.reviews", shop_slug=slug, chua_tra_loi=1),
            ),
        ]
    return Markup(render_template("dashboards/producer_today.html", shop=shop, items=items))  # noqa: S704 - our template


def sales_chart(period: Period, granularity: Granularity, shop_id: int) -> tuple[Chart, Chart]:
    per_day = producer.sales_per_day(period, shop_id)
    revenue = series(period, {as_date(day): v[1] for day, v in per_day.items()}, granularity)
    orders = series(period, {as_date(day): v[0] for day, v in per_day.items()}, granularity)
    return (
        time_chart(
            "doanh-thu",
            _("Doanh thu"),
            revenue,
            granularity=granularity,
            value_label=_("Doanh thu"),
            money=True,
        ),
        time_chart("so-don", _("Số đơn"), orders, granularity=granularity, value_label=_("Số đơn")),
    )


def _change(now: int, before: int) -> str | None:
    """'+12 %' against the period before; None when there was nothing to compare with."""
    if not before:
        return None
    percent = round((now - before) * 100 / before)
    return f"{percent:+d} %"


def headline(period: Period, shop_id: int) -> list[tuple[str, str, str | None]]:
    """Revenue, orders and the average order of the period, each with its change against the
    period of the same length just before (the same query, run for that period)."""
    now = producer.sales_per_day(period, shop_id).values()
    before = producer.sales_per_day(period.previous(), shop_id).values()
    orders, revenue = sum(n for n, _v in now), sum(v for _n, v in now)
    orders_before, revenue_before = sum(n for n, _v in before), sum(v for _n, v in before)
    average = revenue // orders if orders else 0
    average_before = revenue_before // orders_before if orders_before else 0
    return [
        (_("Doanh thu"), format_vnd(revenue), _change(revenue, revenue_before)),
        (_("Số đơn"), str(orders), _change(orders, orders_before)),
        (_("Giá trị trung bình một đơn"), format_vnd(average), _change(average, average_before)),
    ]


def figures_section(shop: Shop) -> Markup:
    period, error, granularity = _period()
    revenue_chart, orders_chart = sales_chart(period, granularity, shop.id)
    top = producer.top_listings(period, shop.id)
    top_chart = bar_list(
        "san-pham-ban-chay",
        _("Sản phẩm bán chạy"),
        [(_listing_label(row), row.revenue_vnd) for row in top],
        value_label=_("Doanh thu"),
        label_heading=_("Sản phẩm"),
        money=True,
    )
    channels = producer.revenue_by_channel(period, shop.id)
    channel_chart = bar_list(
        "doanh-thu-theo-kenh",
        _("Doanh thu theo kênh bán"),
        [(_channel_label(row), row.revenue_vnd) for row in channels],
        value_label=_("Doanh thu"),
        label_heading=_("Kênh bán"),
        money=True,
    )
    accounts = _may(shop, P.SEE_ACCOUNTS)
    cod = producer.cod_outstanding(None, shop.id) if accounts else []
    cod_chart = (
        bar_list(
            "thu-ho-chua-doi-soat",
            _("Tiền thu hộ (COD) đơn vị vận chuyển còn giữ"),
            producer.cod_by_partner(cod),
            value_label=_("Chưa chuyển về sàn"),
            label_heading=_("Đơn vị vận chuyển"),
            money=True,
        )
        if accounts
        else None
    )
    return Markup(  # noqa: S704 - our template
        render_template(
            "dashboards/producer_figures.html",
            shop=shop,
            period=period,
            error=error,
            headline=headline(period, shop.id),
            granularity=granularity,
            granularities=GRANULARITY_LABELS,
            presets=PRESETS,
            revenue_chart=revenue_chart,
            orders_chart=orders_chart,
            top=top,
            listing_label=_listing_label,
            top_chart=top_chart,
            channels=channels,
            channel_label=_channel_label,
            channel_chart=channel_chart,
            cod=cod,
            cod_chart=cod_chart,
            accounts=accounts,
            export_args={**period.args(), "nhom": granularity.value},
        )
    )


# --- the pages they link to -----------------------------------------------------------------


@bp.get("/<shop_slug>/can-xu-ly")
@shop_permission_required(P.HANDLE_ORDERS)
def problems(shop: Shop):
    deliveries, complaints = producer.problem_orders(shop.id)
    return render_template(
        "dashboards/producer_problems.html", shop=shop, deliveries=deliveries, complaints=complaints
    )


@bp.get("/<shop_slug>/can-xu-ly.csv")
@shop_permission_required(P.HANDLE_ORDERS)
def problems_csv(shop: Shop):
    from orders.complaint_states import label as complaint_label
    from orders.states import label as order_label

    deliveries, complaints = producer.problem_orders(shop.id)
    rows = [
        [
            _("Giao hàng có vấn đề"),
            o.code,
            str(order_label(o.status)),
            o.receiver_name,
            short_datetime(o.updated_at),
        ]
        for o in deliveries
    ] + [
        [
            _("Khiếu nại chưa xong"),
            o.code,
            str(complaint_label(c.status)),
            o.receiver_name,
            short_datetime(c.answer_due_at),
        ]
        for c, o in complaints
    ]
    return _csv(
        f"can-xu-ly-{shop.slug}.csv",
        [_("Loại"), _("Mã đơn"), _("Trạng thái"), _("Người nhận"), _("Thời gian")],
        rows,
    )


def _low_stock_rows(listings: list[Listing]) -> list[list[Any]]:
    return [[row.title, row.sku or "", row.stock, row.low_stock_threshold] for row in listings]


@bp.get("/<shop_slug>/sap-het-hang")
@shop_permission_required(P.MANAGE_LISTINGS)
def low_stock(shop: Shop):
    return render_template(
        "dashboards/producer_low_stock.html", shop=shop, listings=producer.low_stock_listings(shop.id)
    )


@bp.get("/<shop_slug>/sap-het-hang.csv")
@shop_permission_required(P.MANAGE_LISTINGS)
def low_stock_csv(shop: Shop):
    listings = producer.low_stock_listings(shop.id)
    return _csv(
        f"sap-het-hang-{shop.slug}.csv",
        [_("Sản phẩm"), _("Mã SKU"), _("Tồn kho"), _("Ngưỡng báo sắp hết")],
        _low_stock_rows(listings),
    )


@bp.get("/<shop_slug>/danh-gia")
@shop_permission_required(P.MANAGE_LISTINGS)
def reviews(shop: Shop):
    unanswered = bool(request.args.get("chua_tra_loi"))
    page = max(request.args.get("trang", 1, type=int) or 1, 1)
    rows, total = producer_reviews.shop_reviews(shop.id, unanswered=unanswered, page=page)
    titles = dict(
        db.session.execute(
            select(Listing.id, Listing.title).where(Listing.id.in_({r.listing_id for r in rows}))
        ).all()
    )
    slugs = dict(
        db.session.execute(
            select(Listing.id, Listing.slug).where(Listing.id.in_({r.listing_id for r in rows}))
        ).all()
    )
    forms = {r.id: ReplyForm(prefix=f"r{r.id}", reply_body=r.reply_body or "") for r in rows}
    return render_template(
        "dashboards/producer_reviews.html",
        shop=shop,
        reviews=rows,
        total=total,
        page=page,
        pages=max((total + producer_reviews.PAGE_SIZE - 1) // producer_reviews.PAGE_SIZE, 1),
        unanswered=unanswered,
        titles=titles,
        slugs=slugs,
        forms=forms,
    )


@bp.route("/<shop_slug>/danh-gia/<int:review_id>/tra-loi", methods=["GET", "POST"])
@shop_permission_required(P.MANAGE_LISTINGS)
def reply(shop: Shop, review_id: int):
    review = db.session.get(Review, review_id)
    if review is None or review.shop_id != shop.id:
        abort(404)
    form = ReplyForm(prefix=f"r{review.id}", reply_body=review.reply_body or "")
    if run_form(
        form,
        lambda: producer_reviews.reply_to_review(
            review, shop, form.reply_body.data or "", actor=current_user
        ),
        _("Đã lưu câu trả lời. Người mua sẽ thấy nó dưới đánh giá."),
    ):
        return redirect(
            url_for("dashboards_producer.reviews", shop_slug=shop.slug) + f"#danh-gia-{review.id}"
        )
    listing = db.session.get(Listing, review.listing_id)
    return render_template(
        "dashboards/producer_reply.html", shop=shop, review=review, listing=listing, form=form
    )


# --- exports of the figures -------------------------------------------------------------------


@bp.get("/<shop_slug>/so-lieu/<table>.csv")
@shop_permission_required(P.VIEW)
def figures_csv(shop: Shop, table: str):
    if table not in FIGURE_TABLES:
        abort(404)
    period, _error, granularity = _period()
    name = f"{table}-{shop.slug}-{period.slug()}.csv"
    if table == "ban-hang":
        per_day = producer.sales_per_day(period, shop.id)
        orders = series(period, {as_date(day): v[0] for day, v in per_day.items()}, granularity)
        revenue = series(period, {as_date(day): v[1] for day, v in per_day.items()}, granularity)
        return _csv(
            name,
            [_("Từ ngày"), _("Số đơn"), _("Doanh thu (đồng)")],
            [[day.isoformat(), n, vnd] for (day, n), (_d, vnd) in zip(orders, revenue, strict=True)],
        )
    if table == "san-pham":
        return _csv(
            name,
            [_("Sản phẩm"), _("Số lượng"), _("Doanh thu (đồng)")],
            [
                [_listing_label(row), row.quantity, row.revenue_vnd]
                for row in producer.top_listings(period, shop.id)
            ],
        )
    return _csv(
        name,
        [_("Kênh bán"), _("Số đơn"), _("Doanh thu (đồng)")],
        [
            [_channel_label(row), row.orders, row.revenue_vnd]
            for row in producer.revenue_by_channel(period, shop.id)
        ],
    )


@bp.get("/<shop_slug>/thu-ho.csv")
@shop_permission_required(P.SEE_ACCOUNTS)
def cod_csv(shop: Shop):
    return _csv(
        f"thu-ho-chua-doi-soat-{shop.slug}.csv",
        [
            _("Mã đơn"),
            _("Đơn vị vận chuyển"),
            _("Giao lúc"),
            _("Đã thu (đồng)"),
            _("Đã chuyển về sàn (đồng)"),
            _("Còn giữ (đồng)"),
        ],
        [
            [
                row.order_code,
                row.partner,
                short_datetime(row.delivered_at),
                row.collected_vnd,
                row.remitted_vnd,
                row.outstanding_vnd,
            ]
            for row in producer.cod_outstanding(None, shop.id)
        ],
    )


# --- the settlement statement -----------------------------------------------------------------


@bp.get("/<shop_slug>/doi-soat")
@shop_permission_required(P.SEE_ACCOUNTS)
def statement(shop: Shop):
    period, error, _granularity = _period()
    return render_template(
        "dashboards/producer_statement.html",
        shop=shop,
        period=period,
        error=error,
        presets=PRESETS,
        statement=producer.settlement_statement(period, shop.id),
        kind_labels=KIND_LABELS,
    )


@bp.get("/<shop_slug>/doi-soat.csv")
@shop_permission_required(P.SEE_ACCOUNTS)
def statement_csv(shop: Shop):
    period, _error, _granularity = _period()
    result = producer.settlement_statement(period, shop.id)

    def rows():
        yield [period.start.isoformat(), "", _("Số dư đầu kỳ"), "", "", "", result.opening_vnd]
        for line, balance in result.with_balances():
            yield [
                short_datetime(line.created_at),
                line.order_code,
                str(KIND_LABELS.get(line.kind, line.kind)),
                line.reference,
                line.note,
                line.amount_vnd,
                balance,
            ]
        yield [period.end.isoformat(), "", _("Số dư cuối kỳ"), "", "", "", result.closing_vnd]

    return _csv(
        f"doi-soat-{shop.slug}-{period.slug()}.csv",
        [
            _("Thời gian"),
            _("Mã đơn"),
            _("Loại"),
            _("Tham chiếu"),
            _("Ghi chú"),
            _("Số tiền (đồng)"),
            _("Số dư (đồng)"),
        ],
        rows,
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    producer.register(app)
    app.extensions.setdefault("seller_dashboard_top", []).append(today_section)
    app.extensions.setdefault("seller_dashboard_bottom", []).append(figures_section)
