"""The Foundation story, through the real UI in a real browser: a producer signs up and opens a
shop, the operator approves it, the producer is told by mail and lists a product with a photo, and a
visitor finds it in its category and sees its price and photo."""

from __future__ import annotations

import re
import shutil

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace import outbox
from marketplace.accounts.services import create_user
from marketplace.extensions import db
from marketplace.models import Commune
from tests.support import read_mails, sign_in_page

pytestmark = pytest.mark.e2e

PASSWORD = "matkhau-an-toan-123"
SHOP_NAME = "Cam Bù Sơn Kim"
TITLE = "Cam bù Hương Sơn loại 1"


def seed(live_server):
    """What exists before the story starts: a commune, a category and the operator's account."""
    from catalog.models import Category
    from marketplace.slugs import unique_slug

    with live_server.app.app_context():
        commune = Commune(name="Xã Sơn Kim 1", province="Hà Tĩnh", kind="xa")
        category = Category(name="Trái cây", slug=unique_slug(Category, "Trái cây"))
        operator = create_user(
            email="bqlsan@example.vn",
            password=PASSWORD,
            full_name="Ban quản lý sàn",
            role="operator",
            confirmed=True,
        )
        db.session.add_all([commune, category])
        db.session.commit()
        seeded = {
            "commune": commune.name,
            "category": category.name,
            "category_slug": category.slug,
            "operator": operator.email,
        }
        db.session.remove()
    return seeded


def photo(path):
    """A real JPEG, as a phone would upload it."""
    img = Image.new("RGB", (800, 600), (236, 140, 30))
    for x in range(200, 600):
        for y in range(150, 450):
            if (x - 400) ** 2 + (y - 300) ** 2 < 140**2:
                img.putpixel((x, y), (250, 170, 40))
    img.save(path, "JPEG", quality=85)
    return path


def test_producer_signs_up_gets_approved_and_sells(live_server, new_page, tmp_path):
    seeded = seed(live_server)

    # A producer creates an account…
    producer = new_page()
    producer.goto("/dang-ky")
    producer.get_by_label("Họ và tên").fill("Trần Thị Hoa")
    producer.get_by_label("Email", exact=True).fill("hoa.camsonkim@example.vn")
    producer.get_by_label("Số điện thoại").fill("0912345678")
    producer.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
    producer.get_by_label("Nhập lại mật khẩu").fill(PASSWORD)
    producer.get_by_label("Tôi đã đọc và đồng ý với Chính sách bảo mật thông tin").check()
    producer.locator("main").get_by_role("button", name="Đăng ký", exact=True).click()
    expect(producer.get_by_text("Chúng tôi đã gửi email tới hoa.camsonkim@example.vn")).to_be_visible()

    # …confirms her address from the mail the worker sends, and signs in.
    with live_server.app.app_context():
        assert outbox.drain() >= 1
        db.session.remove()
    confirm = [m for m in read_mails(live_server.app) if m["to"] == "hoa.camsonkim@example.vn"]
    assert len(confirm) == 1, [m["subject"] for m in confirm]
    link = re.search(r"(/xac-nhan-email/\S+)", confirm[0]["body"]).group(1)
    producer.goto(link)
    expect(producer.get_by_text("Địa chỉ email hoa.camsonkim@example.vn đã được xác nhận")).to_be_visible()
    sign_in_page(producer, "hoa.camsonkim@example.vn", PASSWORD)

    # …and registers her shop, which waits for the operator.
    producer.goto("/kenh-ban/dang-ky-cua-hang")
    producer.get_by_label("Loại hình").select_option(label="Hộ sản xuất, kinh doanh")
    producer.get_by_label("Tên cửa hàng").fill(SHOP_NAME)
    producer.get_by_label("Số điện thoại liên hệ").fill("0912345678")
    producer.get_by_label("Thôn/xóm, số nhà, đường").fill("Thôn 3")
    producer.get_by_label("Xã/phường").select_option(label=seeded["commune"])
    producer.get_by_role("button", name="Gửi đăng ký").click()
    expect(producer.get_by_role("heading", name=SHOP_NAME)).to_be_visible()
    expect(producer.locator(".status")).to_contain_text("Chờ duyệt")
    shop_slug = re.search(r"/kenh-ban/([^/]+)/$", producer.url).group(1)

    from sellers.models import Shop

    with live_server.app.app_context():
        shop_id = db.session.scalar(select(Shop.id).where(Shop.slug == shop_slug))
        db.session.remove()

    # The operator, in another browser, approves it from the pending list.
    operator = new_page()
    sign_in_page(operator, seeded["operator"], PASSWORD)
    operator.goto("/quan-tri/cua-hang")
    operator.get_by_role("link", name=SHOP_NAME).click()
    expect(operator).to_have_url(re.compile(rf"/quan-tri/cua-hang/{shop_id}$"))
    operator.get_by_role("button", name="Duyệt", exact=True).click()
    expect(operator.get_by_text(f"Đã cập nhật trạng thái cửa hàng {SHOP_NAME}")).to_be_visible()

    # The worker sends the producer a mail saying so.
    with live_server.app.app_context():
        assert outbox.drain() >= 1
        db.session.remove()
    mails = read_mails(live_server.app)
    to_producer = [
        m for m in mails if m["to"] == "hoa.camsonkim@example.vn" and "đã được duyệt" in m["subject"]
    ]
    assert len(to_producer) == 1, [(m["to"], m["subject"]) for m in mails]
    mail = to_producer[0]
    assert SHOP_NAME in mail["subject"] and "đã được duyệt" in mail["subject"]
    body = mail["body"]
    assert "đã được duyệt" in body and f"{live_server.url}/kenh-ban/{shop_slug}/" in body

    # The producer sees the approval and lists a product with a photo.
    producer.reload()
    expect(producer.locator(".status")).to_contain_text("Đang hoạt động")
    producer.goto(f"/kenh-ban/{shop_slug}/san-pham/moi")
    producer.get_by_label("Tên sản phẩm").fill(TITLE)
    producer.get_by_label("Danh mục").select_option(label=seeded["category"])
    producer.get_by_label("Đơn vị bán").fill("kg")
    producer.get_by_label("Giá (đồng)").fill("45000")
    producer.get_by_label("Tồn kho").fill("120")
    producer.get_by_label("Trạng thái").select_option(label="Đang bán")
    producer.get_by_label("Ảnh sản phẩm (tối đa 8)").set_input_files(photo(tmp_path / "cam-bu.jpg"))
    producer.get_by_role("button", name="Lưu sản phẩm").click()
    expect(producer.get_by_text(f"Đã lưu sản phẩm {TITLE}")).to_be_visible()
    expect(producer.get_by_role("link", name="Xem trên sàn")).to_be_visible()

    # A visitor, not signed in, finds it in its category (a search within the category: the
    # worker has indexed it) and opens it.
    with live_server.app.app_context():
        outbox.drain()
    visitor = new_page()
    visitor.goto(f"/danh-muc/{seeded['category_slug']}")
    card = visitor.locator("article.card").filter(has_text=TITLE)
    expect(card).to_have_count(1)
    expect(card.locator(".price")).to_contain_text("45.000 ₫")
    card.get_by_role("link", name=TITLE).click()
    expect(visitor).to_have_url(re.compile(r"/san-pham/[^/]+$"))
    expect(visitor.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(visitor.locator(".buybox .price")).to_contain_text("45.000 ₫")
    expect(visitor.get_by_role("link", name=SHOP_NAME)).to_be_visible()
    image = visitor.locator(".gallery img").first
    expect(image).to_have_attribute("alt", TITLE)
    image.scroll_into_view_if_needed()
    visitor.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => img.naturalWidth") > 0
    assert "/media/" in image.evaluate("img => img.currentSrc")

    shot = tmp_path / "listing.png"
    visitor.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    shutil.copyfile(shot, "/tmp/e2e-listing.png")
