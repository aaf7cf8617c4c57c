"""Buying without friction, in a real browser: a guest in a Hà Nội ward buys from two Hà Tĩnh
shops with a phone number alone, keeps the order link shown on the confirmation page, and looks the order up afterwards in
a fresh browser with its code and the phone number; "Mua ngay" checks out one item by bank
transfer (copy buttons, countdown, QR to save) and leaves the cart as it was."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_address_flow import seed  # the official units of Hà Tĩnh and Hà Nội
from tests.e2e.test_checkout_flow import add_to_cart

pytestmark = pytest.mark.e2e

PHONE = "0987 654 321"


def fill_address(page, seeded) -> None:
    """The delivery address: a ward of Hà Nội, far from the Hà Tĩnh shops (the province first;
    the page then offers its wards)."""
    page.get_by_label("Tỉnh/thành phố").select_option("Thành phố Hà Nội")
    expect(page.get_by_label("Tỉnh/thành phố")).to_have_value("Thành phố Hà Nội")
    page.get_by_label("Xã/phường").select_option(label="Phường Hoàn Kiếm")
    page.get_by_label("Số nhà, thôn/xóm, đường").fill("12 Nguyễn Du")


def fill_receiver_without_email(page, seeded) -> None:
    expect(page.get_by_label("Email nhận thông tin đơn hàng (không bắt buộc)")).to_have_value("")
    page.get_by_label("Họ tên người nhận").fill("Nguyễn Thị Mai")
    page.get_by_label("Số điện thoại người nhận").fill(PHONE)
    fill_address(page, seeded)


def test_guest_buys_with_a_phone_number_only_and_looks_the_order_up_later(live_server, new_page):
    seeded = seed(live_server.app)
    buyer = new_page()
    add_to_cart(buyer, seeded["cam"]["listing"])
    add_to_cart(buyer, seeded["keo"]["listing"])
    buyer.goto("/thanh-toan")
    fill_receiver_without_email(buyer, seeded)
    buyer.get_by_label("Thanh toán khi nhận hàng (COD)").check()
    buyer.get_by_label("Tôi đã đọc và đồng ý với Chính sách bảo mật thông tin").check()
    buyer.get_by_role("button", name="Xác nhận đặt hàng").click()

    # The confirmation page: the link to keep, the address, what comes next, no mail.
    expect(buyer.get_by_text("Đặt hàng thành công")).to_be_visible()
    code = re.search(r"/thanh-toan/(DH[0-9A-Z]{8})$", buyer.url).group(1)
    box = buyer.locator("section.order-link.important")
    expect(box).to_contain_text("Hãy lưu liên kết này")
    link = box.get_by_label("Liên kết đơn hàng").input_value()
    assert "/don-hang/lien-ket/" in link
    expect(box.get_by_role("button", name="Sao chép liên kết")).to_be_visible()  # JS showed it
    expect(buyer.get_by_text("12 Nguyễn Du")).to_be_visible()
    expect(buyer.get_by_text("Không gửi email: bạn đặt hàng không kèm địa chỉ email.")).to_be_visible()
    expect(buyer.locator(".next-steps li").first).to_be_visible()
    expect(buyer.locator(".order-card")).to_have_count(2)

    # Another day, another browser: the order found by its code and the phone number.
    later = new_page()
    later.goto(f"/thanh-toan/{code}")
    expect(later).to_have_url(re.compile(r"/dang-nhap"))  # nothing without the link or a look-up
    later.goto("/")
    later.get_by_role("link", name="Tra cứu đơn hàng").click()
    later.get_by_label("Mã đơn hàng").fill(code.lower())
    later.get_by_label("Số điện thoại người nhận").fill("+84987654321")
    later.locator("main").get_by_role("button", name="Tra cứu").click()
    expect(later).to_have_url(re.compile(rf"/thanh-toan/{code}$"))
    expect(later.locator(".order-card")).to_have_count(2)
    expect(later.get_by_role("button", name="Hủy đặt hàng")).to_be_visible()

    # A wrong number finds nothing; the kept link opens the order as well.
    stranger = new_page()
    stranger.goto("/tra-cuu-don-hang")
    stranger.get_by_label("Mã đơn hàng").fill(code)
    stranger.get_by_label("Số điện thoại người nhận").fill("0911222333")
    stranger.locator("main").get_by_role("button", name="Tra cứu").click()
    expect(stranger.get_by_text("Không tìm thấy đơn hàng với mã và số điện thoại này.")).to_be_visible()
    keeper = new_page()
    keeper.goto(link)
    expect(keeper).to_have_url(re.compile(rf"/thanh-toan/{code}$"))


def test_buy_now_by_transfer_leaves_the_cart_and_offers_copy_countdown_and_qr(live_server, new_page):
    seeded = seed(live_server.app)
    buyer = new_page(permissions=["clipboard-read", "clipboard-write"])
    add_to_cart(buyer, seeded["cam"]["listing"])

    buyer.goto(f"/san-pham/{seeded['keo']['listing']}")
    buyer.get_by_label("Số lượng").fill("2")
    buyer.get_by_role("button", name="Mua ngay").click()
    expect(buyer).to_have_url(re.compile(r"/thanh-toan\?buy_now="))
    expect(buyer.get_by_text("Giỏ hàng của bạn vẫn giữ nguyên")).to_be_visible()
    expect(buyer.locator(".quote-shop")).to_have_count(1)
    expect(buyer.locator(".quote-shop")).to_contain_text(f"2 × {seeded['keo']['title']}")
    fill_receiver_without_email(buyer, seeded)
    buyer.get_by_label("Chuyển khoản ngân hàng (VietQR)").check()
    buyer.get_by_label("Tôi đã đọc và đồng ý với Chính sách bảo mật thông tin").check()
    buyer.get_by_role("button", name="Xác nhận đặt hàng").click()

    expect(buyer.get_by_role("heading", name="Chuyển khoản để hoàn tất đơn hàng")).to_be_visible()
    code = re.search(r"/thanh-toan/(DH[0-9A-Z]{8})$", buyer.url).group(1)
    expect(buyer.locator(".countdown")).to_contain_text(re.compile(r"Thời gian còn lại: 2[34]:\d\d:\d\d"))
    copy_note = buyer.get_by_role("button", name="Sao chép nội dung chuyển khoản")
    copy_note.click()
    expect(copy_note).to_have_text("Đã sao chép")
    assert buyer.evaluate("navigator.clipboard.readText()") == code
    buyer.get_by_role("button", name="Sao chép số tiền").click()
    assert re.fullmatch(r"\d+", buyer.evaluate("navigator.clipboard.readText()"))
    with buyer.expect_download() as download:
        buyer.get_by_role("link", name="Lưu mã QR về máy").click()
    assert download.value.suggested_filename == f"vietqr-{code}.png"
    with open(download.value.path(), "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    expect(buyer.get_by_text("Dữ liệu mã QR")).to_have_count(0)

    # The cart still holds what it held.
    buyer.goto("/gio-hang")
    expect(buyer.get_by_role("link", name=seeded["cam"]["title"])).to_be_visible()
    expect(buyer.get_by_role("link", name=seeded["keo"]["title"])).to_have_count(0)
