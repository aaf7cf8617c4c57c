"""The Government Q&A story in a real browser: a producer asks (not sure which agency), the
operator routes it to Thuế tỉnh, the agency's official answers, and a visitor finds the answer by
searching without diacritics and sees the agency's figures change."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from marketplace import outbox
from marketplace.accounts.services import create_user
from marketplace.extensions import db
from marketplace.models import Commune
from tests.support import sign_in_page

pytestmark = pytest.mark.e2e

PASSWORD = "matkhau-an-toan-123"
TITLE = "Hoàn thuế giá trị gia tăng cho cam bù xuất khẩu"


def seed(live_server) -> dict:
    from catalog.models import Category
    from govqa import admin
    from marketplace.slugs import unique_slug
    from tests.support import seed_shop_with_listing

    with live_server.app.app_context():
        commune = Commune(name="Xã Sơn Kim 1", province="Hà Tĩnh", kind="xa")
        category = Category(name="Trái cây", slug=unique_slug(Category, "Trái cây"))
        db.session.add_all([commune, category])
        db.session.flush()
        operator = create_user(
            email="bqlsan@example.vn",
            password=PASSWORD,
            full_name="Ban quản lý sàn",
            role="operator",
            confirmed=True,
        )
        seed_shop_with_listing(
            email="thanh.htx@example.vn",
            owner_name="Nguyễn Văn Thành",
            shop_name="HTX Cam bù Sơn Kim",
            commune_id=commune.id,
            category=category,
            operator=operator,
            title="Cam bù",
            price=45000,
            password=PASSWORD,
        )
        tax = admin.save_agency({"name": "Thuế tỉnh", "working_days": 15}, actor=operator)
        admin.save_agency({"name": "Sở Công Thương"}, actor=operator)
        official = create_user(
            email="canbo.thue@example.vn", password=PASSWORD, full_name="Cán bộ Thuế", confirmed=True
        )
        admin.make_official(official, tax)
        db.session.commit()
        seeded = {"agency_slug": tax.slug}
        db.session.remove()
    return seeded


def drain(live_server) -> None:
    with live_server.app.app_context():
        outbox.drain()
        db.session.remove()


def test_ask_route_answer_find(live_server, new_page):
    seeded = seed(live_server)

    # A visitor looks at Thuế tỉnh's record first: nothing answered yet.
    visitor = new_page()
    visitor.goto(f"/hoi-dap/co-quan/{seeded['agency_slug']}")
    expect(visitor.locator('[data-figure="answered"]')).to_have_text("0")
    expect(visitor.locator('[data-figure="on_time"]')).to_have_text("—")

    # The producer asks, not sure which agency answers it.
    producer = new_page()
    sign_in_page(producer, "thanh.htx@example.vn", PASSWORD)
    producer.goto("/hoi-dap/dat-cau-hoi")
    expect(producer.get_by_text("Bạn hỏi với tư cách HTX Cam bù Sơn Kim.")).to_be_visible()
    producer.get_by_label("Cơ quan nhận câu hỏi").select_option(label="Chưa rõ — nhờ ban quản lý chuyển")
    producer.get_by_label("Lĩnh vực").select_option(label="Thuế")
    producer.get_by_label("Tiêu đề").fill(TITLE)
    producer.get_by_label("Nội dung câu hỏi").fill(
        "HTX xuất khẩu cam bù sang Lào. Xin hỏi có được hoàn thuế GTGT không? Liên hệ 0912 345 678."
    )
    producer.get_by_role("button", name="Gửi câu hỏi").click()
    expect(producer.get_by_text("Đã gửi câu hỏi.")).to_be_visible()
    expect(producer.locator(".qa-state")).to_have_text("Đã gửi, chờ kiểm duyệt")
    expect(producer.get_by_text("0912 345 678")).to_be_visible()  # the asker sees the original

    # The operator routes it to Thuế tỉnh.
    operator = new_page()
    sign_in_page(operator, "bqlsan@example.vn", PASSWORD)
    operator.goto("/quan-tri/hoi-dap/")
    operator.get_by_role("link", name=TITLE).click()
    operator.get_by_label("Chuyển tới cơ quan").select_option(label="Thuế tỉnh")
    operator.get_by_role("button", name="Tiếp nhận và chuyển").click()
    expect(operator.get_by_text("Đã tiếp nhận và chuyển câu hỏi.")).to_be_visible()

    # The official of Thuế tỉnh finds it in the queue and answers.
    official = new_page()
    sign_in_page(official, "canbo.thue@example.vn", PASSWORD)
    official.get_by_role("link", name="Câu hỏi cần trả lời").click()
    official.get_by_role("link", name=TITLE).click()
    official.get_by_label("Câu trả lời").fill(
        "<p>Hàng nông sản chưa chế biến xuất khẩu thuộc diện <strong>không chịu thuế</strong> GTGT.</p>"
        "<ul><li>Không được hoàn thuế đầu vào.</li></ul><script>alert(1)</script>"
    )
    official.get_by_role("button", name="Gửi câu trả lời").click()
    expect(official.get_by_text("Đã gửi câu trả lời.")).to_be_visible()
    drain(live_server)  # the worker: mails and the search index

    # A visitor searches without diacritics, finds the answer, redacted and without the script.
    visitor.goto("/hoi-dap/")
    visitor.get_by_label("Tìm câu hỏi").fill("hoan thue gia tri gia tang cam bu")
    visitor.get_by_label("Tìm câu hỏi").press("Enter")
    visitor.get_by_role("link", name=TITLE).click()
    expect(visitor).to_have_url(re.compile(r"/hoi-dap/hoan-thue-"))
    expect(visitor.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(visitor.locator(".qa-answer")).to_contain_text("không chịu thuế")
    expect(visitor.locator(".qa-answer strong")).to_have_text("không chịu thuế")
    main = visitor.locator("main").inner_html()
    assert "0912 345 678" not in main and "[đã ẩn]" in main and "<script" not in main

    # …and Thuế tỉnh's figures have changed.
    visitor.get_by_role("link", name="Thuế tỉnh").first.click()
    expect(visitor.locator('[data-figure="answered"]')).to_have_text("1")
    expect(visitor.locator('[data-figure="received"]')).to_have_text("1")
    expect(visitor.locator('[data-figure="on_time"]')).to_have_text("100%")
    expect(visitor.locator("svg.qa-chart")).to_be_visible()
