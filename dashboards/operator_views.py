"""The operator's console (queues and floor-wide charts on /quan-tri/) and the province report
(/quan-tri/bao-cao), with their CSV and .xlsx downloads. Operator-only, read-only (GET)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace.csv_writer import csv_response
from marketplace.permissions import operator_required

from . import operator, queues
from . import report as province_report
from .charts import Chart, bar_list, time_chart
from .operator import Table
from .operator_map import province_map
from .periods import (
    GRANULARITY_LABELS,
    PRESETS,
    Granularity,
    Period,
    granularity_from_args,
    period_from_args,
    series,
)

bp = Blueprint("dashboards_admin", __name__, url_prefix="/quan-tri")

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _per_bucket(table: Table, column: int, period: Period, granularity: Granularity) -> list:
    return series(period, [(row[0], row[column]) for row in table.rows], granularity)


def _charts(period: Period, granularity: Granularity) -> list[tuple[Chart, str]]:
    """Every chart of the console, each with the key of its CSV table."""
    sales = operator.sales_table(period)
    shops, listings = operator.new_shops_table(period), operator.new_listings_table(period)
    categories, products = operator.categories_table(period), operator.products_table(period)
    provinces, communes = operator.provinces_table(period), operator.communes_table(period)
    kinds, ocop = operator.kinds_table(period), operator.ocop_table(period)
    gmv_label, orders_label = _("GMV"), _("Số đơn")
    return [
        (
            time_chart(
                "chart-gmv",
                _("GMV theo thời gian"),
                _per_bucket(sales, 1, period, granularity),
                granularity=granularity,
                value_label=gmv_label,
                money=True,
            ),
            sales.key,
        ),
        (
            time_chart(
                "chart-orders",
                _("Số đơn theo thời gian"),
                _per_bucket(sales, 2, period, granularity),
                granularity=granularity,
                value_label=orders_label,
            ),
            sales.key,
        ),
        (
            time_chart(
                "chart-shops",
                _("Cửa hàng mới đăng ký"),
                _per_bucket(shops, 1, period, granularity),
                granularity=granularity,
                value_label=_("Cửa hàng mới"),
            ),
            shops.key,
        ),
        (
            time_chart(
                "chart-listings",
                _("Sản phẩm mới đăng bán"),
                _per_bucket(listings, 1, period, granularity),
                granularity=granularity,
                value_label=_("Sản phẩm mới"),
            ),
            listings.key,
        ),
        (
            bar_list(
                "chart-categories",
                categories.title,
                [(row[0], row[1]) for row in categories.rows],
                value_label=_("Tiền hàng"),
                label_heading=_("Danh mục"),
                money=True,
            ),
            categories.key,
        ),
        (
            bar_list(
                "chart-products",
                products.title,
                [(f"{row[0]} — {row[1]}", row[2]) for row in products.rows],
                value_label=_("Tiền hàng"),
                label_heading=_("Sản phẩm"),
                money=True,
            ),
            products.key,
        ),
        (
            bar_list(
                "chart-provinces",
                provinces.title,
                [(row[0], row[1]) for row in provinces.rows],
                value_label=gmv_label,
                label_heading=_("Tỉnh/thành"),
                money=True,
            ),
            provinces.key,
        ),
        (province_map(provinces.rows, current_app.config["PROVINCE_NAME"]), provinces.key),
        (
            bar_list(
                "chart-communes",
                communes.title,
                [(f"{row[0]}, {row[1]}", row[2]) for row in communes.rows],
                value_label=gmv_label,
                label_heading=_("Xã/phường"),
                money=True,
            ),
            communes.key,
        ),
        (
            bar_list(
                "chart-kinds",
                kinds.title,
                sorted(((row[0], row[1]) for row in kinds.rows), key=lambda item: -item[1]),
                value_label=gmv_label,
                label_heading=_("Loại hình"),
                money=True,
            ),
            kinds.key,
        ),
        (
            bar_list(
                "chart-ocop-listed",
                _("Sản phẩm OCOP đang bán trên sàn theo hạng sao"),
                [(row[0], row[1]) for row in ocop.rows],
                value_label=_("Sản phẩm đang bán"),
                label_heading=_("Hạng"),
            ),
            ocop.key,
        ),
        (
            bar_list(
                "chart-ocop-sold",
                _("Tiền hàng sản phẩm OCOP theo hạng sao"),
                [(row[0], row[4]) for row in ocop.rows],
                value_label=_("Tiền hàng"),
                label_heading=_("Hạng"),
                money=True,
            ),
            ocop.key,
        ),
    ]


def console(args: Any) -> dict[str, Any]:
    """What /quan-tri/ shows above the links (sellers.views.operator_home calls this through
    app.extensions["operator_console"]): the queues, then the period's figures and charts."""
    period, error = period_from_args(args)
    granularity = granularity_from_args(args, period)
    return {
        "queues": queues.queues(),
        "period": period,
        "period_error": error,
        "granularity": granularity,
        "granularities": GRANULARITY_LABELS,
        "presets": PRESETS,
        "totals": operator.totals(period),
        "previous": operator.totals(period.previous()),
        "charts": _charts(period, granularity),
        "definition": str(operator.GMV_DEFINITION),
    }


@bp.get("/so-lieu/<key>.csv")
@operator_required
def console_csv(key: str) -> Response:
    build = operator.TABLES.get(key)
    if build is None:
        abort(404)
    period, error = period_from_args(request.args)
    if error:
        abort(400, error)
    table = build(period)
    return csv_response(f"{table.key}_{period.slug()}.csv", table.columns, table.rows)


def _report_period() -> Period:
    period, error = period_from_args(request.args)
    if error:
        abort(400, error)
    return period


@bp.get("/bao-cao")
@operator_required
def province_report_page() -> str:
    period, error = period_from_args(request.args)
    report = province_report.build(period)
    return render_template(
        "dashboards/report.html",
        report=report,
        title=province_report.title(report),
        definitions=[str(d) for d in province_report.DEFINITIONS],
        period=period,
        period_error=error,
        presets=PRESETS,
    )


@bp.get("/bao-cao.xlsx")
@operator_required
def province_report_xlsx() -> Response:
    period = _report_period()
    data = province_report.xlsx(province_report.build(period))
    return Response(
        data,
        mimetype=XLSX_MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="bao-cao-tinh_{period.slug()}.xlsx"'},
    )


@bp.get("/bao-cao/<key>.csv")
@operator_required
def province_report_csv(key: str) -> Response:
    period = _report_period()
    table = province_report.build(period).table(key)
    if table is None:
        abort(404)
    return csv_response(f"bao-cao-tinh_{table.key}_{period.slug()}.csv", table.columns, table.rows)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    operator.init_app(app)
    province_report.init_app(app)
    app.extensions["operator_console"] = console
    app.extensions.setdefault("operator_links", []).append(
        (_l("Báo cáo tỉnh (in, Excel, CSV)"), "dashboards_admin.province_report_page")
    )
