"""The province report (/quan-tri/bao-cao): its figures against the hand-worked November of
tests/dashboards/floor_fixture.py, and the page, the .xlsx (read back with openpyxl) and the CSV."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from dashboards import report
from dashboards.periods import Period
from marketplace.extensions import db
from tests.dashboards.floor_fixture import NOVEMBER, build_floor
from tests.support import sign_in

NOV = Period(*NOVEMBER)
QUERY = "tu=2026-11-01&den=2026-11-30"


@pytest.fixture
def floor(factory):
    return build_floor(factory)


def test_ocop_share_of_listings_and_revenue(floor):
    # OCOP on the floor: L1 (4★), L3, L5 (3★); L1 and L3 sold in November, L5 did not.
    assert report.ocop_listings_share(NOV) == report.Share(2, 3)
    assert report.ocop_listings_share(NOV).text() == "66,7 %"
    # L1 90 000 + L3 150 000 of 400 000 (L4's unchecked 5★ claim is not OCOP).
    assert report.ocop_revenue_share(NOV) == report.Share(240000, 400000)


def test_active_shops(floor):
    # Approved: A, B, C, E. A and B sold; E changed a listing on 10 Nov; C did nothing.
    assert report.active_shops(NOV) == report.Share(3, 4)


def test_delivered_out_of_province(floor):
    # Placed in November and delivered: O1 (Hà Tĩnh) and O3 (Hà Nội); O6 is still on its way.
    assert report.delivered_out_of_province(NOV) == report.Share(1, 2)


def test_by_shop_kind_and_commune(floor):
    assert report.by_shop_kind(NOV) == {
        "cooperative": (1, 1, 2, 310000),
        "enterprise": (2, 1, 0, 0),
        "household": (1, 1, 1, 90000),
    }
    assert report.by_shop_commune(NOV) == [("Phường Thành Sen", 2, 310000), ("Xã Sơn Kim 1", 1, 90000)]


def test_empty_period_has_no_division_by_zero(floor):
    empty = Period.month(2025, 1)
    assert report.delivered_out_of_province(empty).text() == "—"
    built = report.build(empty)
    assert built.summary.rows[0][1] == 0


def test_report_page(client, factory, floor):
    sign_in(client, factory.operator())
    page = client.get(f"/quan-tri/bao-cao?{QUERY}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "01/11/2026" in html and "30/11/2026" in html
    assert "400.000" in html and "66,7 %" in html and "75,0 %" in html and "50,0 %" in html
    assert f"/quan-tri/bao-cao.xlsx?{QUERY.replace('&', '&amp;')}" in html
    assert "Cửa hàng hoạt động: cửa hàng đang được duyệt" in html  # the definitions are printed


def test_report_xlsx_opens_with_the_numbers_and_no_formulas(client, factory, floor):
    # A shop's commune name that looks like a formula must stay text.
    from marketplace.models import Commune

    commune = db.session.get(Commune, floor.shops["A"].commune_id)
    commune.name = "=1+2"
    db.session.commit()
    sign_in(client, factory.operator())
    response = client.get(f"/quan-tri/bao-cao.xlsx?{QUERY}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "bao-cao-tinh_2026-11-01_2026-11-30.xlsx" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    summary = book.worksheets[0]
    rows = [[cell.value for cell in row] for row in summary.iter_rows(min_row=4)]
    figures = {row[0]: row[1:] for row in rows}
    assert figures["GMV (đồng)"][0] == 400000 and figures["Số đơn hàng"][0] == 3
    assert figures["Sản phẩm OCOP có đơn trong kỳ"] == [2, 3, "66,7 %"]
    assert figures["Cửa hàng hoạt động"] == [3, 4, "75,0 %"]
    communes = book.worksheets[2]
    cells = [cell for row in communes.iter_rows() for cell in row if cell.value is not None]
    assert "=1+2" in [cell.value for cell in cells]
    assert all(cell.data_type != "f" for cell in cells)  # text written as text, never a formula
    assert [c.value for c in next(communes.iter_rows(min_row=4))] == ["Phường Thành Sen", 2, 310000]
    assert book.sheetnames[-1] == "Định nghĩa"


def test_report_csv_per_table(client, factory, floor):
    sign_in(client, factory.operator())
    response = client.get(f"/quan-tri/bao-cao/loai-hinh.csv?{QUERY}")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1:] == [
        ["Hộ sản xuất", "1", "1", "1", "90000"],
        ["Hợp tác xã", "1", "1", "2", "310000"],
        ["Doanh nghiệp", "2", "1", "0", "0"],
    ]
    assert client.get(f"/quan-tri/bao-cao/khong-co.csv?{QUERY}").status_code == 404
    assert client.get("/quan-tri/bao-cao.xlsx?tu=hom-qua").status_code == 400
