"""A guest checks out with a phone number alone: no mail is queued, and the confirmation page
shows the order link to keep (with the delivery address, what happens next and whether a mail
was sent). The bank-transfer page: copy buttons, the QR as a PNG to save, a countdown, no raw
payload."""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import urlsplit

from orders_testlib import ShopOrder, drain, payment_code
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import OutboxEvent
from orders import access, vietqr
from orders.models import Payment
from orders.views import mask_email
from tests.support import reloaded, sign_in

NO_MAIL = "Không gửi email: bạn đặt hàng không kèm địa chỉ email."
KEEP_LINK = "Hãy lưu liên kết này"


def _mails_to_buyers() -> list[dict]:
    """The order mails queued for buyers (orders/notify.py), not the shop's."""
    rows = db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "mail.send"))
    return [
        row.payload
        for row in rows
        if row.idempotency_key.startswith("mail:order-")
        and not row.idempotency_key.startswith("mail:order-new-shop:")
    ]


def _payment(code: str) -> Payment:
    db.session.expire_all()
    return db.session.scalar(select(Payment).where(Payment.code == code))


def _opens(link: str) -> str | None:
    """The checkout code a guest link opens (its signature carries a timestamp, so links made a
    second apart differ)."""
    parts = urlsplit(link)
    assert parts.path.startswith("/don-hang/lien-ket/"), link
    return access.code_from_token(parts.path.rsplit("/", 1)[1])


def _order_link(page: str) -> str:
    match = re.search(r'<input id="order-link" type="text" readonly value="([^"]+)"', page)
    assert match, page[:3000]
    return html_lib.unescape(match.group(1))


def test_phone_only_guest_checkout_queues_no_mail_and_shows_the_link_to_keep(app, client, factory, shopper):
    listing = factory.listing(stock=5, price=80_000)
    assert shopper.add(listing, 2).status_code == 302
    code = payment_code(shopper.checkout("cod", email="", receiver_phone="0987 654 321"))
    payment = _payment(code)
    assert payment.email == "" and payment.phone == "0987654321" and payment.buyer_id is None
    assert payment.orders[0].email == "" and payment.orders[0].receiver_phone == "0987654321"
    assert _mails_to_buyers() == []  # the shop is told; nobody else

    page = client.get(f"/thanh-toan/{code}").get_data(as_text=True)
    assert KEEP_LINK in page and 'class="order-link panel important"' in page
    link = _order_link(page)
    assert _opens(link) == code
    assert f'data-copy="{html_lib.escape(link)}"' in page  # the copy button carries it
    assert NO_MAIL in page
    # The delivery address and what happens next.
    assert "Trần Thị Bình" in page and "Thôn 2" in page and payment.orders[0].commune.name in page
    assert "Tiếp theo" in page and "cho người giao hàng khi nhận hàng" in page
    assert "/tra-cuu-don-hang" in page

    # The link opens the checkout in another browser, as the mailed one would.
    other = app.test_client()
    assert other.get(f"/thanh-toan/{code}").status_code == 302  # not before
    parts = urlsplit(link)
    r = other.get(f"{parts.path}?{parts.query}" if parts.query else parts.path)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/thanh-toan/{code}")
    assert other.get(f"/thanh-toan/{code}").status_code == 200


def test_a_phone_only_order_moves_on_without_mail(app, factory, shopper):
    owner = factory.user(role="producer")
    shop = factory.shop(owner=owner)
    assert shopper.add(factory.listing(shop=shop, stock=5), 1).status_code == 302
    order = _payment(payment_code(shopper.checkout("cod", email=""))).orders[0]
    seller = sign_in(app.test_client(), owner)
    for _status, action, data in ShopOrder.STEPS:  # confirmed, packed, shipped, delivered
        assert (
            seller.post(f"/kenh-ban/{shop.slug}/don-hang/{order.code}/{action}", data=data).status_code == 302
        )
    assert reloaded(order).status == "delivered"
    assert _mails_to_buyers() == []
    drain()  # and the worker has nothing addressed to nobody
    assert db.session.scalar(select(OutboxEvent).where(OutboxEvent.status == "dead")) is None


def test_guest_with_email_gets_the_mail_and_the_page_says_so(app, client, factory, shopper):
    listing = factory.listing(stock=5)
    shopper.add(listing, 1)
    code = payment_code(shopper.checkout("cod", email="Khach.Hang@Example.vn"))
    assert _payment(code).email == "khach.hang@example.vn"
    assert [m["to"] for m in _mails_to_buyers()] == ["khach.hang@example.vn"]
    page = client.get(f"/thanh-toan/{code}").get_data(as_text=True)
    assert "Email xác nhận đang được gửi tới kh•••g@example.vn." in page
    assert "khach.hang@example.vn" not in page
    assert KEEP_LINK not in page and "Liên kết này cũng có trong email xác nhận." in page
    drain()
    page = client.get(f"/thanh-toan/{code}").get_data(as_text=True)
    assert "Đã gửi email xác nhận tới kh•••g@example.vn." in page


def test_an_invalid_email_is_refused_but_none_is_fine(client, factory, shopper):
    listing = factory.listing(stock=5)
    shopper.add(listing, 1)
    response = shopper.checkout("cod", email="khach@")
    assert response.status_code == 422 and "Địa chỉ email không hợp lệ." in response.get_data(as_text=True)
    response = shopper.checkout("cod", email="", receiver_phone="0123")
    assert response.status_code == 422
    assert "Số điện thoại di động không hợp lệ." in response.get_data(as_text=True)
    assert db.session.scalar(select(Payment)) is None


def test_a_member_sees_no_guest_link(client, factory, csrf_off):
    from orders_testlib import Shopper

    member = factory.user(email="thanh.vien@example.vn")
    sign_in(client, member)
    shopper = Shopper(client, factory.commune().id)
    shopper.add(factory.listing(stock=3), 1)
    code = payment_code(shopper.checkout("cod", email=""))
    page = client.get(f"/thanh-toan/{code}").get_data(as_text=True)
    assert 'id="order-link"' not in page and "/don-hang/lien-ket/" not in page
    assert "Email xác nhận đang được gửi tới th•••n@example.vn." in page


def test_mask_email():
    assert mask_email("nguyenmai@gmail.com") == "ng•••i@gmail.com"
    assert mask_email("abc@x.vn") == "a•••@x.vn"
    assert mask_email("") == ""


# --- the bank-transfer page ------------------------------------------------------------------


def test_transfer_page_has_copy_buttons_a_countdown_and_the_qr_as_a_png(app, client, factory, shopper):
    listing = factory.listing(stock=5, price=100_000)
    shopper.add(listing, 1)
    code = payment_code(shopper.checkout("bank_transfer", email=""))
    payment = _payment(code)
    page = client.get(f"/thanh-toan/{code}").get_data(as_text=True)

    # Copy buttons (hidden until static/js/copy.js shows them), the values selectable beside them.
    buttons = r'<button type="button" class="copy link" data-copy="([^"]*)"[^>]*aria-label="([^"]+)" hidden>'
    copies = {label: value for value, label in re.findall(buttons, page)}
    assert copies["Sao chép số tài khoản"] == app.config["BANK_ACCOUNT"]
    assert copies["Sao chép số tiền"] == str(payment.amount_vnd)
    assert copies["Sao chép nội dung chuyển khoản"] == code
    assert _opens(copies["Sao chép liên kết"]) == code
    assert re.search(r'<script src="/static/js/copy\.js\?v=[0-9a-f]+" defer></script>', page)  # fingerprinted
    # The deadline as text and for the countdown (static/js/countdown.js), in UTC.
    deadline = payment.expires_at.isoformat()
    assert f'<time datetime="{deadline}Z">' in page and f'data-deadline="{deadline}Z"' in page
    assert re.search(r'<script src="/static/js/countdown\.js\?v=[0-9a-f]+" defer></script>', page)
    assert "<script>" not in page  # CSP: no inline script
    # The QR image to save, no raw payload.
    payload = vietqr.payload(
        bin_code=app.config["BANK_BIN"],
        account=app.config["BANK_ACCOUNT"],
        amount_vnd=payment.amount_vnd,
        note=code,
    )
    assert payload not in page and "Dữ liệu mã QR" not in page
    assert f'href="/thanh-toan/{code}/vietqr.png" download="vietqr-{code}.png"' in page
    png = client.get(f"/thanh-toan/{code}/vietqr.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert png.data == vietqr.png(payload) and png.headers["Cache-Control"] == "private, no-store"


def test_the_qr_png_is_the_buyers_and_only_while_the_transfer_is_awaited(app, client, factory, shopper):
    shopper.add(factory.listing(stock=5), 1)
    code = payment_code(shopper.checkout("bank_transfer"))
    assert app.test_client().get(f"/thanh-toan/{code}/vietqr.png").status_code == 404  # a stranger
    operator = sign_in(app.test_client(), factory.operator())
    assert operator.get(f"/thanh-toan/{code}/vietqr.png").status_code == 403
    operator.post(f"/quan-tri/thanh-toan/{code}/xac-nhan", data={"reference": "FT1"})
    assert _payment(code).status == "paid"
    assert client.get(f"/thanh-toan/{code}/vietqr.png").status_code == 404  # paid: nothing to scan
    shopper.add(factory.listing(stock=5), 1)
    cod = payment_code(shopper.checkout("cod"))
    assert client.get(f"/thanh-toan/{cod}/vietqr.png").status_code == 404
