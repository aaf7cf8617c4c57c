"""The producer dashboard as people use it: the shop's home page with today's work first and
the figures of a period, the lists behind the counts, the CSV exports (formula neutralising
included), the settlement statement, review replies on the public page, the low-stock threshold
in the listing form, and nobody seeing another shop's figures."""

from __future__ import annotations

import csv
import io

import pytest
from flask import url_for
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.outbox import OutboxEvent
from orders.models import Review
from tests.dashboards.producer_testlib import NOVEMBER, full_world
from tests.support import page_form, reloaded, sign_in

NOV = {"tu": "2026-11-01", "den": "2026-11-30"}


@pytest.fixture
def world(app, factory):
    return full_world(factory, title_a='=HYPERLINK("http://evil.example","Cam")')


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _url(app, endpoint: str, **values) -> str:
    with app.test_request_context():
        return url_for(endpoint, **values)


def test_the_home_page_shows_todays_work_first_then_the_figures(app, world):
    client = sign_in(app.test_client(), world.owner)
    html = client.get(f"/kenh-ban/{world.shop.slug}/", query_string=NOV).get_data(as_text=True)
    today = html.index("Việc cần làm hôm nay")
    assert (
        today < html.index("<h2>Đơn hàng</h2>") < html.index("Số liệu bán hàng")
    )  # then the panels, then figures
    assert "Doanh thu: tổng 195.000" in html  # the chart's text alternative
    assert "Số đơn: tổng 2 " in html
    # October had 2 orders (o0, o4) worth 250 000 đ: November's 195 000 đ is 22 % less, its
    # average order 97 500 đ against 125 000 đ.
    assert "+0 % so với 30 ngày trước đó" in html
    assert "97.500" in html and "-22 % so với 30 ngày trước đó" in html
    assert "Shopee" in html and "110.000" in html
    assert "GHN Thử" in html and "70.000" in html  # the owner sees the COD the carrier holds
    assert f"/kenh-ban/{world.shop.slug}/danh-gia?chua_tra_loi=1" in html
    assert html.count('role="img"') >= 4


def test_staff_see_todays_work_and_sales_but_not_the_shops_money(app, world):
    client = sign_in(app.test_client(), world.staff)
    html = client.get(f"/kenh-ban/{world.shop.slug}/", query_string=NOV).get_data(as_text=True)
    assert "Việc cần làm hôm nay" in html and "Doanh thu: tổng 195.000" in html
    assert "GHN Thử" not in html and "Bảng đối soát" not in html
    assert client.get(f"/kenh-ban/{world.shop.slug}/doi-soat").status_code == 403
    assert client.get(f"/kenh-ban/{world.shop.slug}/doi-soat.csv").status_code == 403
    assert client.get(f"/kenh-ban/{world.shop.slug}/thu-ho.csv").status_code == 403
    assert client.get(f"/kenh-ban/{world.shop.slug}/danh-gia").status_code == 200


def test_another_shops_owner_sees_nothing_of_this_shop(app, world):
    client = sign_in(app.test_client(), world.other_owner)
    slug = world.shop.slug
    review = world.reviews[0].id
    for path in (
        "/",
        "/can-xu-ly",
        "/can-xu-ly.csv",
        "/sap-het-hang",
        "/sap-het-hang.csv",
        "/danh-gia",
        f"/danh-gia/{review}/tra-loi",
        "/so-lieu/ban-hang.csv",
        "/so-lieu/san-pham.csv",
        "/so-lieu/kenh-ban.csv",
        "/thu-ho.csv",
        "/doi-soat",
        "/doi-soat.csv",
    ):
        assert client.get(f"/kenh-ban/{slug}{path}").status_code == 404, path
    # Nor may a shop answer another shop's review through its own pages.
    own = f"/kenh-ban/{world.other_shop.slug}/danh-gia/{review}/tra-loi"
    assert client.get(own).status_code == 404
    assert reloaded(world.reviews[0]).reply_body is None


def test_sales_csv_per_day_with_the_midnight_orders(app, world):
    client = sign_in(app.test_client(), world.owner)
    rows = _rows(client.get(f"/kenh-ban/{world.shop.slug}/so-lieu/ban-hang.csv", query_string=NOV))
    assert rows[0] == ["Từ ngày", "Số đơn", "Doanh thu (đồng)"]
    assert len(rows) == 1 + 30
    assert rows[1] == ["2026-11-01", "1", "95000"]
    assert rows[30] == ["2026-11-30", "1", "100000"]
    assert sum(int(r[2]) for r in rows[1:]) == 195_000
    weeks = _rows(
        client.get(f"/kenh-ban/{world.shop.slug}/so-lieu/ban-hang.csv", query_string={**NOV, "nhom": "tuan"})
    )
    assert weeks[1] == ["2026-10-26", "1", "95000"] and weeks[-1] == ["2026-11-30", "1", "100000"]


def test_listing_csv_neutralises_a_formula_title(app, world):
    client = sign_in(app.test_client(), world.owner)
    rows = _rows(client.get(f"/kenh-ban/{world.shop.slug}/so-lieu/san-pham.csv", query_string=NOV))
    assert rows[1][0].startswith("'=HYPERLINK(")  # a spreadsheet shows it as text, never runs it
    assert rows[1][1:] == ["3", "150000"]
    assert rows[2] == ["Mật ong Vũ Quang", "1", "45000"]
    low = _rows(client.get(f"/kenh-ban/{world.shop.slug}/sap-het-hang.csv"))
    assert low[1][0].startswith("'=HYPERLINK(") and low[1][2:] == ["10", "10"]


def test_channel_and_cod_csv(app, world):
    client = sign_in(app.test_client(), world.owner)
    rows = _rows(client.get(f"/kenh-ban/{world.shop.slug}/so-lieu/kenh-ban.csv", query_string=NOV))
    assert rows[1:] == [["Trên sàn", "2", "195000"], ["Shopee", "1", "110000"]]
    cod = _rows(client.get(f"/kenh-ban/{world.shop.slug}/thu-ho.csv"))
    assert [(r[0], r[1], r[3], r[4], r[5]) for r in cod[1:]] == [
        (world.orders["o1"].code, "GHN Thử", "120000", "50000", "70000")
    ]
    assert client.get(f"/kenh-ban/{world.shop.slug}/so-lieu/khac.csv").status_code == 404


def test_settlement_statement_page_and_csv(app, world):
    client = sign_in(app.test_client(), world.owner)
    html = client.get(f"/kenh-ban/{world.shop.slug}/doi-soat", query_string=NOV).get_data(as_text=True)
    assert "Số dư đầu kỳ" in html and "20.000" in html and "70.000" in html
    assert world.orders["o3"].code in html
    assert "@media print" not in html  # print CSS is a file (CSP), linked from the page
    assert "producer-dashboard.css" in html
    rows = _rows(client.get(f"/kenh-ban/{world.shop.slug}/doi-soat.csv", query_string=NOV))
    assert rows[1] == ["2026-11-01", "", "Số dư đầu kỳ", "", "", "", "20000"]
    assert [(r[1], r[5], r[6]) for r in rows[2:5]] == [
        (world.orders["o3"].code, "115000", "135000"),
        (world.orders["o3"].code, "-15000", "120000"),
        ("", "-50000", "70000"),
    ]
    assert rows[4][3].startswith("'=HYPERLINK(")  # the payout's reference, neutralised
    assert rows[-1] == ["2026-11-30", "", "Số dư cuối kỳ", "", "", "", "70000"]
    bad = client.get(f"/kenh-ban/{world.shop.slug}/doi-soat", query_string={"tu": "hôm qua"})
    assert bad.status_code == 200 and "không đúng dạng ngày" in bad.get_data(as_text=True)


def test_problems_and_low_stock_pages(app, world):
    client = sign_in(app.test_client(), world.staff)
    html = client.get(f"/kenh-ban/{world.shop.slug}/can-xu-ly").get_data(as_text=True)
    assert world.orders["o1"].code in html  # its open complaint
    assert "Giao không thành công" in html
    rows = _rows(client.get(f"/kenh-ban/{world.shop.slug}/can-xu-ly.csv"))
    assert [(r[0], r[2]) for r in rows[1:]] == [
        ("Giao hàng có vấn đề", "Giao không thành công, sẽ giao lại"),
        ("Khiếu nại chưa xong", rows[2][2]),
    ]
    assert rows[2][1] == world.orders["o1"].code
    html = client.get(f"/kenh-ban/{world.shop.slug}/sap-het-hang").get_data(as_text=True)
    assert "HYPERLINK" in html and "Mật ong" not in html and "Nhút" not in html


def test_the_listing_form_sets_the_low_stock_threshold(app, world, csrf_off):
    client = sign_in(app.test_client(), world.owner)
    url = _url(app, "catalog_seller.edit_listing", shop_slug=world.shop.slug, listing_id=world.b.id)
    data = page_form(client, url)
    assert data["low_stock_threshold"] == ""
    data.update(low_stock_threshold="30")
    response = client.post(url, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert reloaded(world.b).low_stock_threshold == 30
    html = client.get(f"/kenh-ban/{world.shop.slug}/sap-het-hang").get_data(as_text=True)
    assert "Mật ong Vũ Quang" in html
    data.update(low_stock_threshold="-1")
    assert client.post(url, data=data).status_code == 200  # refused, the form again
    assert reloaded(world.b).low_stock_threshold == 30


def test_a_reply_shows_under_the_review_once_and_is_editable(app, world, csrf_off):
    client = sign_in(app.test_client(), world.staff)
    review = world.reviews[0]
    listing_url = f"/san-pham/{world.a.slug}"
    html = client.get(f"/kenh-ban/{world.shop.slug}/danh-gia?chua_tra_loi=1").get_data(as_text=True)
    assert "Cam hơi dập" in html and "Mật ong thơm" not in html
    before = db.session.scalar(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()).limit(1)) or 0
    response = client.post(
        f"/kenh-ban/{world.shop.slug}/danh-gia/{review.id}/tra-loi",
        data={f"r{review.id}-reply_body": "Xin lỗi chị, shop gửi bù ạ."},
    )
    assert response.status_code == 302
    review = reloaded(review)
    assert review.reply_body == "Xin lỗi chị, shop gửi bù ạ." and review.replied_by_id == world.staff.id
    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.id > before)).all()
    assert [(e.topic, e.payload["listing_id"]) for e in events] == [("listing.changed", world.a.id)]
    public = app.test_client().get(listing_url)
    assert public.status_code == 200
    assert "Cửa hàng trả lời" in public.get_data(as_text=True)
    assert "Xin lỗi chị, shop gửi bù ạ." in public.get_data(as_text=True)
    api = app.test_client().get(f"/api/v1/listings/{world.a.id}/reviews").get_json()
    replies = {r["body"]: r["shop_reply"] for r in api["reviews"]}
    assert replies["Cam hơi dập"]["body"] == "Xin lỗi chị, shop gửi bù ạ."
    # Editing it keeps one reply; an empty one is refused.
    client.post(
        f"/kenh-ban/{world.shop.slug}/danh-gia/{review.id}/tra-loi",
        data={f"r{review.id}-reply_body": "Đã gửi bù."},
    )
    assert reloaded(review).reply_body == "Đã gửi bù."
    refused = client.post(
        f"/kenh-ban/{world.shop.slug}/danh-gia/{review.id}/tra-loi", data={f"r{review.id}-reply_body": "  "}
    )
    assert refused.status_code == 200 and "Vui lòng nhập nội dung trả lời." in refused.get_data(as_text=True)
    assert reloaded(review).reply_body == "Đã gửi bù."
    assert (
        db.session.scalar(select(Review.reply_body).where(Review.id == world.reviews[1].id)) == "Cảm ơn chị!"
    )


def test_period_form_and_presets_on_the_home_page(app, world):
    client = sign_in(app.test_client(), world.owner)
    html = client.get(f"/kenh-ban/{world.shop.slug}/", query_string={**NOV, "nhom": "thang"}).get_data(
        as_text=True
    )
    assert 'value="2026-11-01"' in html and 'value="2026-11-30"' in html
    assert "11/2026" in html  # one monthly bucket
    assert NOVEMBER.days == 30


def test_a_new_shop_sees_empty_figures_not_an_error(app, factory):
    owner = factory.user(role="producer")
    shop = factory.shop(owner=owner, name="HTX Mới")
    client = sign_in(app.test_client(), owner)
    response = client.get(f"/kenh-ban/{shop.slug}/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Doanh thu: chưa có gì trong khoảng thời gian này." in html
    assert "Không còn tiền thu hộ nào chưa về sàn." in html
    statement = client.get(f"/kenh-ban/{shop.slug}/doi-soat").get_data(as_text=True)
    assert "Không có khoản nào trong kỳ." in statement
    assert client.get(f"/kenh-ban/{shop.slug}/danh-gia?trang=x").status_code == 200
