"""The operator's console (/quan-tri/): each floor-wide figure against the hand-worked November of
tests/dashboards/floor_fixture.py (midnight boundary in Vietnam, cancelled and unpaid orders left
out), the CSV of each table, and who may see it."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from dashboards import operator
from dashboards.periods import Period
from tests.dashboards.floor_fixture import NOVEMBER, build_floor
from tests.support import sign_in

NOV = Period(*NOVEMBER)
QUERY = "tu=2026-11-01&den=2026-11-30"


@pytest.fixture
def floor(factory):
    return build_floor(factory)


def test_totals_count_placed_orders_of_local_days_only(floor):
    # O1 (00:00 on 1 Nov), O3 (23:59 on 30 Nov), O6: not O2 (23:59 on 31 Oct), O4 (00:00 on 1 Dec),
    # the cancelled O5, the unpaid O7 or the refunded O8.
    assert operator.totals(NOV) == operator.Totals(gmv_vnd=90000 + 150000 + 160000, orders=3, buyers=3)
    assert operator.totals(Period(date(2026, 10, 31), date(2026, 10, 31))) == operator.Totals(100000, 1, 1)
    assert operator.totals(Period(date(2026, 12, 1), date(2026, 12, 1))) == operator.Totals(50000, 1, 1)


def test_sales_per_day_on_vietnamese_days(floor):
    assert operator.sales_per_day(NOV) == [
        ("2026-11-01", 90000, 1),
        ("2026-11-15", 160000, 1),
        ("2026-11-30", 150000, 1),
    ]
    table = operator.sales_table(NOV)
    assert len(table.rows) == 30 and table.rows[0] == [date(2026, 11, 1), 90000, 1]
    assert table.rows[1] == [date(2026, 11, 2), 0, 0]  # quiet days are zeros, not gaps


def test_new_shops_and_listings(floor):
    # A on 2 Nov 00:00, the pending D on 30 Nov 23:59; B on 31 Oct 23:59 is October's, the
    # refused F is not a new shop.
    assert sorted(operator.new_shops_per_day(NOV)) == [("2026-11-02", 1), ("2026-11-30", 1)]
    assert operator.new_listings_per_day(NOV) == [("2026-11-01", 1)]  # L1; L3 was 31 Oct 23:59


def test_top_categories_and_products(floor):
    assert operator.top_categories(NOV) == [("Đặc sản", 310000, 5), ("Trái cây", 90000, 2)]
    assert operator.top_products(NOV) == [
        ("Nhung hươu", "HTX Thành Sen", 160000, 2),
        ("Kẹo cu đơ", "HTX Thành Sen", 150000, 3),
        ("Cam bù Hương Sơn", "Hộ Cam Sơn Kim", 90000, 2),
    ]


def test_sales_by_buyer_province_and_commune(floor):
    assert operator.by_buyer_province(NOV) == [
        ("Nghệ An", 160000, 1),
        ("Thành phố Hà Nội", 150000, 1),
        ("Hà Tĩnh", 90000, 1),
    ]
    assert operator.by_buyer_commune(NOV) == [
        ("Phường Vinh Phú", "Nghệ An", 160000, 1),
        ("Phường Ba Đình", "Thành phố Hà Nội", 150000, 1),
        ("Phường Thành Sen", "Hà Tĩnh", 90000, 1),
    ]


def test_sales_by_shop_kind(floor):
    assert operator.by_shop_kind(NOV) == {"household": (90000, 1), "cooperative": (310000, 2)}
    rows = operator.kinds_table(NOV).rows
    assert [row[1:] for row in rows] == [[90000, 1], [310000, 2], [0, 0]]  # household, HTX, enterprise


def test_ocop_listed_and_sold_by_stars_count_only_checked_ratings(floor):
    # L1 4★, L3 and L5 3★ checked; L4's 5★ claim is still waiting: no OCOP.
    assert operator.ocop_listed(NOV) == {4: 1, 3: 2}
    assert operator.ocop_sold(NOV) == {4: (1, 2, 90000), 3: (1, 3, 150000)}
    rows = {row[0]: row[1:] for row in operator.ocop_table(NOV).rows}
    assert rows["OCOP 5 sao"] == [0, 0, 0, 0] and rows["OCOP 3 sao"] == [2, 1, 3, 150000]


def test_console_page_shows_figures_charts_and_links(client, factory, floor):
    sign_in(client, factory.operator())
    page = client.get(f"/quan-tri/?{QUERY}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "400.000" in html and 'role="img"' in html and "<desc" in html
    # compared with the 30 days before: only O2 (31 Oct 23:59), 100 000
    assert "Kỳ trước: 100.000\xa0₫ (+300 %)" in html and "Kỳ trước: 1 (+200 %)" in html
    for key in operator.TABLES:
        assert f"/quan-tri/so-lieu/{key}.csv?tu=2026-11-01&amp;den=2026-11-30" in html
    # The links the page always had are still there.
    for href in ("/quan-tri/cua-hang?status=pending", "/quan-tri/san-pham", "/quan-tri/bao-cao"):
        assert href in html
    assert "Giá trị hàng hóa (GMV)" in html  # what counts is said on the page


def test_console_bad_period_shows_default_with_message(client, factory, floor):
    sign_in(client, factory.operator())
    page = client.get("/quan-tri/?tu=2026-13-01")
    assert page.status_code == 200 and "không đúng dạng ngày" in page.get_data(as_text=True)


def test_console_csv_has_raw_numbers_and_neutralised_text(client, factory, floor):
    floor.listings["L2"].title = "=HYPERLINK(1)"
    from marketplace.extensions import db

    db.session.commit()
    from tests.dashboards.floor_fixture import add_order

    add_order(floor.shops["A"], [(floor.listings["L2"], 1)], at="2026-11-03 08:00", status="placed")
    sign_in(client, factory.operator())
    response = client.get(f"/quan-tri/so-lieu/san-pham.csv?{QUERY}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Sản phẩm", "Cửa hàng", "Tiền hàng (đồng)", "Số lượng"]
    assert rows[1] == ["Nhung hươu", "HTX Thành Sen", "160000", "2"]
    assert ["'=HYPERLINK(1)", "Hộ Cam Sơn Kim", "100000", "1"] in rows
    sales = client.get(f"/quan-tri/so-lieu/ban-hang.csv?{QUERY}").get_data(as_text=True)
    assert "2026-11-01,90000,1" in sales and "2026-11-30,150000,1" in sales
    assert client.get(f"/quan-tri/so-lieu/khong-co.csv?{QUERY}").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/quan-tri/",
        "/quan-tri/so-lieu/ban-hang.csv",
        "/quan-tri/bao-cao",
        "/quan-tri/bao-cao.xlsx",
        "/quan-tri/bao-cao/tong-hop.csv",
    ],
)
def test_operator_only(client, factory, url):
    shop = factory.shop()
    from sellers.models import ShopMember

    owner = ShopMember.query.filter_by(shop_id=shop.id, role="owner").one().user
    assert client.get(url).status_code in (302, 401)  # not signed in: to the sign-in page
    sign_in(client, owner)
    assert client.get(url).status_code == 403


def test_every_console_query_is_registered_for_the_benchmark(app, floor):
    queries = app.extensions["dashboard_queries"]
    for name in ("operator.totals", "operator.sales_per_day", "operator.queues", "report.active_shops"):
        assert queries[name].scope == "floor"
    assert queries["operator.totals"].run(NOV, None) == operator.totals(NOV)


def test_province_map_shades_every_official_province(app, floor):
    from dashboards.operator_map import GRID, official_provinces, province_map

    assert {code for code, _name in official_provinces()} == set(GRID)  # all 34, each placed once
    assert len({(col, row) for col, row, _label in GRID.values()}) == len(GRID)
    chart = province_map(operator.provinces_table(NOV).rows, "Hà Tĩnh")
    svg = str(chart.svg)
    assert svg.count('class="map-tile') == 34 and "map-home" in svg
    assert "Nghệ An: 160.000" in svg and "Người mua ở 3 trên 34 tỉnh/thành" in chart.summary
    assert len(chart.rows) == 34 and ["Nghệ An", "160.000\xa0₫", "1"] in chart.rows


def test_console_and_report_in_english(client, factory, floor, csrf_off):
    sign_in(client, factory.operator())
    assert client.post("/ngon-ngu/en", data={"next": "/"}).status_code == 302
    html = client.get(f"/quan-tri/?{QUERY}").get_data(as_text=True)
    assert "Work waiting" in html and "Previous period: 100.000\xa0₫ (+300 %)" in html
    assert (
        "Map of sales by the buyer&#39;s province" in html or "Map of sales by the buyer's province" in html
    )
    report = client.get(f"/quan-tri/bao-cao?{QUERY}").get_data(as_text=True)
    assert "E-commerce report of Hà Tĩnh province" in report and "Active shops" in report
