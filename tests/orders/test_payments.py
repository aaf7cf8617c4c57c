"""Bank transfer with VietQR, the operator's confirmation and statement import, expiry of unpaid
checkouts, refunds, the settlement ledger and the operator's order list with CSV export."""

import csv
import io
from datetime import timedelta

import pytest
from orders_testlib import deliver_long_ago, drain, payment_code
from sqlalchemy import func, select

from catalog.models import Listing
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from marketplace.timeutil import utcnow
from orders import vietqr
from orders.models import BankTransaction, LedgerEntry, Order, Payment
from tests.support import read_mails, sign_in


def _fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def _payment(code):
    db.session.expire_all()
    return db.session.scalar(select(Payment).where(Payment.code == code))


@pytest.fixture
def no_cards(app):
    """Card payment switched off, whatever the environment says."""
    app.config.update(STRIPE_SECRET_KEY=None, STRIPE_PUBLISHABLE_KEY=None)


# --- VietQR -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bin_code, account, amount, note, expected",
    [
        # Published examples (the last 4 characters are the CRC).
        (
            "970436",
            "1023456789",
            1943000,
            "TT000069",
            "00020101021238540010A00000072701240006970436011010234567890208QRIBFTTA5303704540719430005802VN"
            "62120808TT0000696304A8E5",
        ),
        (
            "970422",
            "VQRQADAIJ5512",
            7000,
            "TL89 100",
            "00020101021238570010A000000727012700069704220113VQRQADAIJ55120208QRIBFTTA5303704540470005802VN"
            "62120808TL89 1006304E346",
        ),
        (
            "970415",
            "0011001932418",
            120000,
            "ung ho lu lut",
            "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA530370454061200005802VN"
            "62170813ung ho lu lut6304C15C",
        ),
    ],
)
def test_vietqr_payload_matches_published_examples(bin_code, account, amount, note, expected):
    assert vietqr.payload(bin_code=bin_code, account=account, amount_vnd=amount, note=note) == expected
    assert vietqr.verify(expected)


def test_crc16_ccitt_false_check_value():
    assert vietqr.crc16_ccitt_false(b"123456789") == 0x29B1


def test_vietqr_fields_and_svg():
    data = vietqr.payload(bin_code="970415", account="113366668888", amount_vnd=190_000, note="DHABCDEFGH")
    tags = vietqr.parse(data)
    assert tags["00"] == "01" and tags["01"] == "12" and tags["53"] == "704" and tags["54"] == "190000"
    assert tags["58"] == "VN" and vietqr.parse(tags["62"]) == {"08": "DHABCDEFGH"}
    merchant = vietqr.parse(tags["38"])
    assert merchant["00"] == "A000000727" and merchant["02"] == "QRIBFTTA"
    assert vietqr.parse(merchant["01"]) == {"00": "970415", "01": "113366668888"}
    assert not vietqr.verify(data[:-1] + ("0" if data[-1] != "0" else "1"))
    assert vietqr.svg(data).startswith("<svg")
    with pytest.raises(ValueError):
        vietqr.payload(bin_code="97041", account="1", amount_vnd=1, note="x")


# --- bank transfer ----------------------------------------------------------------------------


def _transfer_checkout(shopper, factory, *listings_qty):
    for listing, quantity in listings_qty:
        assert shopper.add(listing, quantity).status_code == 302
    return payment_code(shopper.checkout("bank_transfer"))


def test_transfer_checkout_shows_vietqr_and_waits_for_money(app, client, factory, shopper):
    listing = factory.listing(stock=5, price=100_000)
    code = _transfer_checkout(shopper, factory, (listing, 1))
    payment = _payment(code)
    assert payment.status == "pending" and payment.amount_vnd == 125_000
    assert all(o.status == "pending_payment" and not o.paid for o in payment.orders)
    assert _fresh(Listing, listing.id).stock == 4  # reserved while waiting
    expected_deadline = payment.created_at + timedelta(minutes=app.config["ORDER_TRANSFER_TIMEOUT_MIN"])
    assert abs((payment.expires_at - expected_deadline).total_seconds()) < 5
    expiry = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "order.expire"))
    assert expiry.next_attempt_at == payment.expires_at and expiry.payload == {"payment_id": payment.id}

    html = client.get(f"/thanh-toan/{code}").get_data(as_text=True)
    assert "<svg" in html and "125.000" in html and app.config["BANK_ACCOUNT"] in html and code in html
    # The QR drawn (and offered as a PNG) encodes the floor's account, the amount and the code;
    # its raw payload is not shown to people.
    qr = vietqr.payload(
        bin_code=app.config["BANK_BIN"], account=app.config["BANK_ACCOUNT"], amount_vnd=125_000, note=code
    )
    assert vietqr.verify(qr) and vietqr.parse(qr)["54"] == "125000"
    assert vietqr.parse(vietqr.parse(qr)["62"])["08"] == code
    assert vietqr.svg(qr) in html and qr not in html and "qr-payload" not in html
    png = client.get(f"/thanh-toan/{code}/vietqr.png")
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data == vietqr.png(qr)
    assert png.headers["Content-Disposition"] == f'attachment; filename="vietqr-{code}.png"'
    assert client.get(f"/thanh-toan/{code}/trang-thai").get_json() == {"code": code, "status": "pending"}
    # Not the shop's business yet.
    assert payment.orders[0].code not in _shop_tab(app, factory, payment.orders[0], "to_confirm")


def _shop_tab(app, factory, order, tab):
    from sellers.models import ShopMember

    owner = db.session.scalar(select(ShopMember).where(ShopMember.shop_id == order.shop_id)).user
    seller = sign_in(app.test_client(), owner)
    return seller.get(f"/kenh-ban/{order.shop.slug}/don-hang?tab={tab}").get_data(as_text=True)


def test_operator_confirms_a_transfer_by_hand(app, factory, shopper):
    a, b = factory.listing(stock=5, price=100_000), factory.listing(stock=5, price=50_000)
    code = _transfer_checkout(shopper, factory, (a, 1), (b, 2))
    operator = sign_in(app.test_client(), factory.operator())
    page = operator.get("/quan-tri/thanh-toan").get_data(as_text=True)
    assert code in page
    operator.post(f"/quan-tri/thanh-toan/{code}/xac-nhan", data={"reference": "FT2611"})
    payment = _payment(code)
    assert payment.status == "paid" and payment.paid_reference == "FT2611"
    assert all(o.status == "placed" and o.paid for o in payment.orders)
    assert all(o.events[-1].actor_role == "operator" for o in payment.orders)
    entries = db.session.scalars(select(LedgerEntry)).all()
    assert sorted(e.amount_vnd for e in entries) == sorted(o.total_vnd for o in payment.orders)
    assert {e.kind for e in entries} == {"collected"}
    # A second confirmation changes nothing and says why.
    html = operator.post(f"/quan-tri/thanh-toan/{code}/xac-nhan", follow_redirects=True).get_data(
        as_text=True
    )
    assert "không còn chờ xác nhận" in html
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 2
    drain()
    subjects = [m["subject"] for m in read_mails(app)]
    assert any("Đã nhận thanh toán" in s for s in subjects)
    assert sum("Đơn hàng mới" in s for s in subjects) == 2


def test_a_transfer_reference_longer_than_its_column_is_refused_with_a_message(app, factory, shopper):
    """payments.paid_reference and ledger_entries.reference hold 120 characters: PostgreSQL
    refused a longer one with a server error; now the operator is told, and nothing is cut."""
    listing = factory.listing(stock=5, price=100_000)
    code = _transfer_checkout(shopper, factory, (listing, 1))
    operator = sign_in(app.test_client(), factory.operator())
    page = operator.get("/quan-tri/thanh-toan").get_data(as_text=True)
    assert 'name="reference" maxlength="120"' in page
    response = operator.post(
        f"/quan-tri/thanh-toan/{code}/xac-nhan", data={"reference": "FT" + "9" * 498}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "Mã giao dịch tối đa 120 ký tự." in response.get_data(as_text=True)
    payment = _payment(code)
    assert payment.status == "pending" and payment.paid_reference is None
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 0
    reference = "FT" + "9" * 118  # exactly 120: kept whole
    operator.post(f"/quan-tri/thanh-toan/{code}/xac-nhan", data={"reference": reference})
    payment = _payment(code)
    assert payment.status == "paid" and payment.paid_reference == reference
    assert db.session.scalar(select(LedgerEntry.reference)) == reference


def _statement(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Ngày giao dịch", "Mã giao dịch", "Số tiền ghi có", "Nội dung"])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def test_statement_import_matches_code_and_exact_amount_and_is_idempotent(app, factory, csrf_off):
    from orders_testlib import Shopper

    listing = factory.listing(stock=20, price=100_000)
    codes = []
    for _ in range(3):
        shopper = Shopper(app.test_client(), factory.commune().id)
        codes.append(_transfer_checkout(shopper, factory, (listing, 1)))
    good, short, later = codes
    spaced = f"{good[:2].lower()} {good[2:6]}-{good[6:]}"  # banks mangle the note: "dh ABCD-EFGH"
    statement = _statement(
        [
            ("26/11/2026", "FT001", "125.000", f"NGUYEN VAN A chuyen tien {spaced} cam bu"),
            ("26/11/2026", "FT002", "120000", f"{short} thanh toan"),  # amount does not match
            ("26/11/2026", "FT003", "125000", "tien hang thang 11"),  # no code
            ("26/11/2026", "FT004", "-50.000", "phi dich vu"),  # a debit: skipped
        ]
    )
    operator = sign_in(app.test_client(), factory.operator())
    html = operator.post(
        "/quan-tri/sao-ke",
        data={"statement": (io.BytesIO(statement), "saoke.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "1 dòng khớp" in html and "2 dòng không khớp" in html and "1 dòng bỏ qua" in html
    assert "Số tiền không khớp với đơn" in html and "Không thấy mã đơn trong nội dung" in html
    assert _payment(good).status == "paid" and _payment(good).paid_reference == "FT001"
    assert _payment(short).status == "pending" and _payment(later).status == "pending"
    assert all(o.status == "placed" for o in _payment(good).orders)

    again = operator.post(
        "/quan-tri/sao-ke",
        data={"statement": (io.BytesIO(statement), "saoke.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "0 dòng khớp" in again and "3 dòng đã nhập trước đó" in again
    assert db.session.scalar(select(func.count()).select_from(BankTransaction)) == 3
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 1

    bad = operator.post(
        "/quan-tri/sao-ke",
        data={"statement": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Tệp sao kê thiếu cột" in bad


def test_unpaid_transfer_expires_releases_stock_and_late_money_is_flagged(app, factory, shopper):
    listing = factory.listing(stock=3, price=100_000)
    code = _transfer_checkout(shopper, factory, (listing, 2))
    assert _fresh(Listing, listing.id).stock == 1
    drain()
    assert _payment(code).status == "pending"  # the expiry is not due yet
    payment = _payment(code)
    payment.expires_at = utcnow() - timedelta(seconds=1)
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "order.expire"))
    event.next_attempt_at = utcnow()
    db.session.commit()
    drain()
    payment = _payment(code)
    assert payment.status == "expired"
    assert all(o.status == "cancelled" and o.events[-1].actor_role == "system" for o in payment.orders)
    assert _fresh(Listing, listing.id).stock == 3
    # Running the handler again (a retry) changes nothing.
    from orders.payments import expire_payment

    assert expire_payment(payment.id) is False
    db.session.commit()
    assert _fresh(Listing, listing.id).stock == 3
    drain()
    assert any("đã bị hủy" in m["subject"] for m in read_mails(app))

    operator = sign_in(app.test_client(), factory.operator())
    html = operator.post(
        "/quan-tri/sao-ke",
        data={"statement": (io.BytesIO(_statement([("27/11/2026", "FT900", "225000", f"{code}")])), "s.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "cần hoàn tiền cho người mua" in html
    assert _payment(code).status == "expired"


def test_cancelled_paid_transfer_is_refunded_by_the_operator_and_ledgered(app, factory, shopper):
    from sellers.models import ShopMember

    listing = factory.listing(stock=5, price=200_000)
    code = _transfer_checkout(shopper, factory, (listing, 1))
    operator = sign_in(app.test_client(), factory.operator())
    operator.post(f"/quan-tri/thanh-toan/{code}/xac-nhan", data={"reference": "FT1"})
    order = _payment(code).orders[0]
    owner = db.session.scalar(select(ShopMember).where(ShopMember.shop_id == order.shop_id)).user
    sign_in(app.test_client(), owner).post(
        f"/kenh-ban/{order.shop.slug}/don-hang/{order.code}/reject", data={"reason": "Hàng bị dập"}
    )
    order = _fresh(Order, order.id)
    assert order.status == "cancelled" and order.paid  # the money is still owed to the buyer
    assert code in operator.get("/quan-tri/thanh-toan?view=refund_due").get_data(as_text=True)
    html = operator.post(
        f"/quan-tri/don-hang/{order.code}/hoan-tien", data={"reference": ""}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Vui lòng nhập mã giao dịch hoàn tiền." in html
    operator.post(
        f"/quan-tri/don-hang/{order.code}/hoan-tien", data={"reference": "FT-HOAN-1", "note": "CK lại"}
    )
    order = _fresh(Order, order.id)
    assert order.status == "refunded" and order.refund_reference == "FT-HOAN-1"
    kinds = {
        e.kind: e.amount_vnd
        for e in db.session.scalars(select(LedgerEntry).where(LedgerEntry.order_id == order.id))
    }
    assert kinds == {"collected": 225_000, "refunded": -225_000}
    assert _fresh(Listing, listing.id).stock == 5
    drain()
    assert any("đã được hoàn tiền" in m["subject"] for m in read_mails(app))


def test_ledger_balances_payouts_and_csv(app, factory, shopper):
    listing = factory.listing(stock=5, price=300_000)
    code = _transfer_checkout(shopper, factory, (listing, 1))
    operator = sign_in(app.test_client(), factory.operator())
    operator.post(f"/quan-tri/thanh-toan/{code}/xac-nhan", data={"reference": "FT7"})
    deliver_long_ago(_payment(code).orders[0])  # payable: delivered and past the return window
    shop = listing.shop
    page = operator.get("/quan-tri/doi-soat").get_data(as_text=True)
    assert shop.name in page and "325.000" in page  # 300.000 + the default 25.000 shipping
    owed = 300_000 + 25_000
    html = operator.post(
        "/quan-tri/doi-soat/chi-tra",
        data={"shop_id": shop.id, "amount_vnd": str(owed + 1), "reference": "UNC1"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "lớn hơn số tiền đã đến hạn trả" in html
    operator.post(
        "/quan-tri/doi-soat/chi-tra", data={"shop_id": shop.id, "amount_vnd": "200.000", "reference": "UNC1"}
    )
    from orders.payments import balance_of

    assert balance_of(shop.id) == owed - 200_000
    exported = operator.get("/quan-tri/doi-soat.csv")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["id", "created_at", "shop", "kind", "amount_vnd"]
    assert rows[0][8:] == ["held", "payable_from"]
    assert sorted(r[8] for r in rows[1:]) == [
        "",
        "0",
    ]  # the payout has no order; the order's money is payable
    assert sorted(int(r[4]) for r in rows[1:]) == [-200_000, owed]
    assert sign_in(app.test_client(), factory.user()).get("/quan-tri/doi-soat").status_code == 403


def test_operator_order_list_filters_and_csv(app, factory, shopper, no_cards):
    shop_a, shop_b = factory.shop(name="Cửa hàng A"), factory.shop(name="Cửa hàng B")
    a, b = factory.listing(shop=shop_a, stock=9), factory.listing(shop=shop_b, stock=9)
    shopper.add(a, 1)
    cod = payment_code(shopper.checkout("cod"))
    shopper.add(b, 1)
    transfer = payment_code(shopper.checkout("bank_transfer"))
    operator = sign_in(app.test_client(), factory.operator())
    everything = operator.get("/quan-tri/don-hang").get_data(as_text=True)
    assert f"{cod}-1" in everything and f"{transfer}-1" in everything
    by_method = operator.get("/quan-tri/don-hang?method=bank_transfer").get_data(as_text=True)
    assert f"{transfer}-1" in by_method and f"{cod}-1" not in by_method
    by_shop = operator.get(f"/quan-tri/don-hang?shop={shop_a.id}").get_data(as_text=True)
    assert f"{cod}-1" in by_shop and f"{transfer}-1" not in by_shop
    by_status = operator.get("/quan-tri/don-hang?status=pending_payment").get_data(as_text=True)
    assert f"{transfer}-1" in by_status and f"{cod}-1" not in by_status
    today = utcnow().date()
    assert f"{cod}-1" not in operator.get(
        f"/quan-tri/don-hang?date_from={today + timedelta(days=2)}"
    ).get_data(as_text=True)
    assert f"{cod}-1" in operator.get(
        f"/quan-tri/don-hang?date_from={today - timedelta(days=1)}&date_to={today + timedelta(days=1)}"
    ).get_data(as_text=True)
    exported = operator.get("/quan-tri/don-hang.csv?method=cod")
    assert exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "code" and [r[0] for r in rows[1:]] == [f"{cod}-1"]
    assert rows[1][rows[0].index("total_vnd")] == str(a.price_vnd + 25_000)
    assert operator.get(f"/quan-tri/don-hang/{cod}-1").status_code == 200
    assert sign_in(app.test_client(), factory.user()).get("/quan-tri/don-hang").status_code == 403
    assert "Đơn hàng" in operator.get("/quan-tri/").get_data(as_text=True)


def test_card_is_offered_only_when_stripe_is_configured(client, factory, shopper, no_cards):
    listing = factory.listing(stock=5)
    shopper.add(listing, 1)
    html = client.get("/thanh-toan").get_data(as_text=True)
    assert 'value="card"' not in html and 'value="bank_transfer"' in html
    response = shopper.checkout("card")
    assert response.status_code == 422 and "Vui lòng chọn phương thức thanh toán." in response.get_data(
        as_text=True
    )
    assert _fresh(Listing, listing.id).stock == 5
