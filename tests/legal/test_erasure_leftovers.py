"""What an erasure used to leave behind, and what it leaves now: a shop without an owner (and a
household's identity on it), the person's mails in the outbox and MAIL_DIR, a typed cancel reason,
complaint photos served publicly from /media. And the outbox's retention purge."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from marketplace import mail, outbox
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.images import image_dir
from marketplace.models import OutboxEvent, User
from marketplace.timeutil import utcnow
from orders import complaints
from orders import services as order_services
from orders.models import Complaint, Order, OrderEvent
from sellers import services as shop_services
from sellers.models import Shop, ShopMember
from tests.orders.orders_testlib import ShopOrder, Shopper, payment_code
from tests.support import PASSWORD, image_bytes, sign_in

ERASE = {"password": PASSWORD, "confirm": "y"}


def _erase(client) -> None:
    r = client.post("/tai-khoan/xoa-tai-khoan", data=ERASE)
    assert r.status_code == 302 and r.headers["Location"] == "/", r.get_data(as_text=True)[:2000]


def _get(browser, url: str) -> tuple[int, str, str]:
    """GET `url`: (status, mimetype, Cache-Control), the response closed (files are streamed)."""
    with browser.get(url) as r:
        return r.status_code, r.mimetype, r.headers.get("Cache-Control", "")


def _mail_rows() -> list[OutboxEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "mail.send")))


# --- a shop needs an owner ----------------------------------------------------------------------


@pytest.fixture
def household(app, factory, csrf_off):
    """Bà Hoa's household shop: her phone, address, e-mail and 12-digit personal number on it."""
    hoa = factory.user(email="hoa@example.vn", name="Nguyễn Thị Hoa", role="producer")
    shop = factory.shop(
        owner=hoa,
        name="Vườn cam Bà Hoa",
        kind="household",
        phone="0987654321",
        email="hoa.vuoncam@example.vn",
        address_line="Xóm 3, nhà bà Hoa",
        tax_code="042190001234",
    )
    return hoa, shop, sign_in(app.test_client(), hoa)


def test_a_suspended_shop_still_holds_its_owner(household, factory):
    hoa, shop, client = household
    shop_services.suspend_shop(shop, "Kiểm tra an toàn thực phẩm", actor=factory.operator())
    db.session.commit()
    page = client.get("/tai-khoan/xoa-tai-khoan").get_data(as_text=True)
    assert "Bạn là chủ cửa hàng" in page and "Vườn cam Bà Hoa" in page
    assert "đề nghị ban quản lý sàn đóng cửa hàng" in page  # what can actually be done
    r = client.post("/tai-khoan/xoa-tai-khoan", data=ERASE)
    assert r.status_code == 409
    assert db.session.get(User, hoa.id).deleted_at is None
    assert ShopMember.query.filter_by(shop_id=shop.id, role="owner").count() == 1


def test_the_export_holds_the_profile_of_the_shops_one_owns(household, factory):
    hoa, _shop, client = household
    staff_of = factory.shop(name="HTX Bưởi Phúc Trạch", kind="cooperative")
    db.session.add(ShopMember(shop_id=staff_of.id, user_id=hoa.id, role="staff"))
    db.session.commit()
    data = json.loads(client.get("/tai-khoan/du-lieu-ca-nhan.json").get_data(as_text=True))
    by_shop = {m["shop"]: m for m in data["shop_memberships"]}
    profile = by_shop["Vườn cam Bà Hoa"]["shop_profile"]
    assert (profile["kind"], profile["phone"], profile["email"], profile["tax_code"]) == (
        "household",
        "0987654321",
        "hoa.vuoncam@example.vn",
        "042190001234",
    )
    assert profile["address"]["line"] == "Xóm 3, nhà bà Hoa" and profile["address"]["province"] == "Hà Tĩnh"
    assert "shop_profile" not in by_shop["HTX Bưởi Phúc Trạch"]  # not hers: she only works there


def test_a_closed_household_shop_loses_its_owners_identity_and_is_never_reopened(app, household, factory):
    _hoa, shop, client = household
    operator = factory.operator()
    admin = sign_in(app.test_client(), operator)
    # The operator closes the open shop: suspends it, then closes it for good (a rejection).
    shop_services.suspend_shop(shop, "Ngừng kinh doanh", actor=operator)
    db.session.commit()
    page = admin.get(f"/quan-tri/cua-hang/{shop.id}").get_data(as_text=True)
    assert 'value="reject"' in page and 'value="reinstate"' in page
    r = admin.post(
        f"/quan-tri/cua-hang/{shop.id}", data={"action": "reject", "reason": "Chủ hộ đề nghị đóng"}
    )
    assert r.status_code == 302
    assert db.session.get(Shop, shop.id).status == "rejected"

    _erase(client)
    db.session.expire_all()
    closed = db.session.get(Shop, shop.id)
    assert (closed.phone, closed.email, closed.tax_code, closed.registration_number) == ("", None, None, None)
    assert closed.address_line == "Đã ẩn danh" and closed.status == "rejected"
    assert closed.members == []
    text = json.dumps(
        {c.name: str(getattr(closed, c.name)) for c in Shop.__table__.columns}, ensure_ascii=False
    )
    for trace in ("0987654321", "hoa.vuoncam", "042190001234", "nhà bà Hoa"):
        assert trace not in text, trace

    # Nobody answers for it any more: the operator cannot open it again.
    page = admin.get(f"/quan-tri/cua-hang/{shop.id}").get_data(as_text=True)
    assert 'value="reinstate"' not in page and "không còn chủ" in page
    r = admin.post(f"/quan-tri/cua-hang/{shop.id}", data={"action": "reinstate", "reason": ""})
    assert r.status_code == 200 and "không còn chủ" in r.get_data(as_text=True)
    for reopen in (shop_services.reinstate_shop, shop_services.approve_shop):
        with pytest.raises(DomainError, match="không còn chủ"):
            reopen(db.session.get(Shop, shop.id), actor=operator)
        db.session.rollback()
    assert db.session.get(Shop, shop.id).status == "rejected"


# --- mails ----------------------------------------------------------------------------------------


@pytest.fixture
def buyer(app, factory, csrf_off):
    """Bình, signed in, with a delivered order (its mails sent) and a cancelled one (she typed why)."""
    binh = factory.user(email="binh@example.vn", name="Trần Thị Bình")
    client = sign_in(app.test_client(), binh)
    shopper = Shopper(client, factory.commune().id)
    delivered = ShopOrder(app, factory, shopper)
    delivered.advance("delivered")
    shopper.add(factory.listing(shop=delivered.shop, title="Mật ong Hương Sơn", stock=5))
    code = payment_code(shopper.checkout(email="binh@example.vn", address_line="Xóm Đông, nhà chị Bình"))
    cancelled = db.session.scalar(select(Order).where(Order.code == f"{code}-1"))
    r = client.post(
        f"/don-hang/{cancelled.code}/huy", data={"reason": "Đặt nhầm, gọi tôi 0911111111 ở Xóm Đông"}
    )
    assert r.status_code == 302
    return binh, client, delivered, db.session.get(Order, cancelled.id)


def test_erasure_empties_the_mails_to_the_address_and_deletes_their_files(app, buyer, mailbox):
    binh, client, _delivered, _cancelled = buyer
    sent = [m for m in mailbox() if m["to"] == "binh@example.vn"]
    assert len(sent) >= 3  # order placed, confirmed, shipped, delivered, cancelled…
    folder = Path(app.config["MAIL_DIR"])
    assert all((folder / m["file"]).exists() for m in sent)
    assert any("Trần Thị Bình" in m["body"] for m in sent)  # names, addresses, links
    # One more mail waits in the outbox when she erases the account: it is never sent.
    mail.queue_mail("binh@example.vn", "Khuyến mãi", "account_deleted", user=binh)
    db.session.commit()

    _erase(client)
    after = mailbox()
    to_her = [m for m in after if m["to"] == "binh@example.vn"]
    assert [m["subject"] for m in to_her] == ["Tài khoản của bạn đã được xoá"]  # the notice alone
    assert not any((folder / m["file"]).exists() for m in sent)
    rows = _mail_rows()
    [notice] = [r for r in rows if r.payload.get("to") == "binh@example.vn"]
    # Its key is random: nothing in it leads from the erased account to the old address.
    suffix = notice.idempotency_key.removeprefix("mail:account-deleted:")
    assert suffix != str(binh.id) and len(suffix) == 32 and int(suffix, 16) >= 0
    emptied = [r for r in rows if "redacted" in r.payload]
    assert len(emptied) == len(sent) + 1 and all(r.status == "done" for r in emptied)
    for row in emptied:  # kept for their keys, with nothing of her in them
        assert set(row.payload) == {"redacted"} and "binh" not in json.dumps(row.payload)
    assert "Trần Thị Bình" not in json.dumps([r.payload for r in rows if r is not notice], ensure_ascii=False)
    # Mails to others (the shop's) are untouched.
    assert any(r.payload.get("to") and r.payload["to"] != "binh@example.vn" for r in rows)


def test_a_typed_cancel_reason_and_the_buyers_notes_go_with_the_account(buyer, factory, app):
    _binh, client, delivered, cancelled = buyer
    assert cancelled.cancel_reason == "Đặt nhầm, gọi tôi 0911111111 ở Xóm Đông"
    # Another of her orders, cancelled by the shop: the shop's reason is the shop's record.
    shopper = Shopper(client, factory.commune().id)
    shopper.add(factory.listing(shop=delivered.shop, title="Kẹo cu đơ", stock=5))
    code = payment_code(shopper.checkout(email="binh@example.vn"))
    by_shop = db.session.scalar(select(Order).where(Order.code == f"{code}-1"))
    order_services.cancel_order(by_shop, reason="Hết hàng", actor=delivered.owner, actor_role="shop")
    db.session.commit()

    _erase(client)
    db.session.expire_all()
    assert db.session.get(Order, cancelled.id).cancel_reason is None
    buyer_notes = db.session.scalars(
        select(OrderEvent.note).where(OrderEvent.order_id == cancelled.id, OrderEvent.actor_role == "buyer")
    ).all()
    assert buyer_notes and all(note is None for note in buyer_notes)
    assert db.session.get(Order, by_shop.id).cancel_reason == "Hết hàng"
    shop_note = db.session.scalar(
        select(OrderEvent.note).where(OrderEvent.order_id == by_shop.id, OrderEvent.to_status == "cancelled")
    )
    assert shop_note == "Hết hàng"


# --- the outbox's retention -----------------------------------------------------------------------


def _row(key: str, status: str, processed_days_ago: float | None, topic: str = "mail.send") -> OutboxEvent:
    payload = {"to": "ai@example.vn", "subject": "s", "body": "b"} if topic == "mail.send" else {}
    row = outbox.record(topic, payload, key=key)
    row.status = status
    if processed_days_ago is not None:
        row.processed_at = utcnow() - timedelta(days=processed_days_ago)
    return row


def test_done_rows_are_purged_after_the_retention_with_their_mail_files(app, runner):
    assert app.config["OUTBOX_RETENTION_DAYS"] == 30
    _row("mail:old", "done", 31)
    _row("mail:recent", "done", 29)
    _row("other:old", "done", 90, topic="test.topic")
    _row("mail:dead", "dead", None)
    _row("mail:pending", "pending", None)
    db.session.commit()
    folder = Path(app.config["MAIL_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for key in ("mail:old", "mail:recent"):
        mail.mail_file(key).write_text("From: x\n\nđã gửi\n")

    result = runner.invoke(args=["outbox", "purge"])
    assert result.exit_code == 0 and "purged 2 done event(s)" in result.output
    db.session.expire_all()
    keys = set(db.session.scalars(select(OutboxEvent.idempotency_key)))
    assert keys == {"mail:recent", "mail:dead", "mail:pending"}  # dead rows wait to be handled
    assert not mail.mail_file("mail:old").exists() and mail.mail_file("mail:recent").exists()
    assert outbox.purge(0) == 0  # 0 keeps everything
    assert runner.invoke(args=["outbox", "purge", "--days", "1"]).output.strip() == "purged 1 done event(s)"


def test_the_worker_purges_as_it_runs(app):
    _row("mail:old", "done", 45)
    db.session.commit()
    loops = iter([False, True])
    outbox.run_worker(0.01, stop=lambda: next(loops))
    assert db.session.scalar(select(OutboxEvent.id).where(OutboxEvent.idempotency_key == "mail:old")) is None


# --- complaint photos -----------------------------------------------------------------------------


@pytest.fixture
def complained(buyer, factory, app):
    """Bình complains about her delivered order with two photos."""
    binh, client, delivered, _cancelled = buyer
    order = db.session.get(Order, delivered.order.id)
    complaint = complaints.open_complaint(
        order,
        {"reason": "damaged", "description": "Cam dập"},
        [image_bytes(color=(200, 10, 10)), image_bytes(color=(10, 10, 200))],
        actor=binh,
    )
    db.session.commit()
    return binh, client, delivered, complaint


def test_complaint_photos_are_shown_only_to_the_parties(app, complained, factory):
    _binh, client, delivered, complaint = complained
    code = delivered.order.code
    url = f"/don-hang/{code}/khieu-nai/anh/1/320.jpg"
    page = client.get(f"/don-hang/{code}").get_data(as_text=True)
    assert url in page and "/media/img/" not in page

    staff = factory.user(role="producer")
    db.session.add(ShopMember(shop_id=delivered.shop.id, user_id=staff.id, role="staff"))
    db.session.commit()
    allowed = {
        "buyer": client,
        "owner": delivered.seller,
        "staff": sign_in(app.test_client(), staff),
        "operator": sign_in(app.test_client(), factory.operator()),
    }
    for who, browser in allowed.items():
        status, mimetype, cache = _get(browser, url)
        assert (status, mimetype) == (200, "image/jpeg"), who
        assert "private" in cache and "public" not in cache and "immutable" not in cache, who
    assert _get(allowed["owner"], f"/don-hang/{code}/khieu-nai/anh/2/1200.webp")[:2] == (200, "image/webp")
    refused = {
        "anonymous": app.test_client(),
        "another buyer": sign_in(app.test_client(), factory.user()),
        "another shop's owner": sign_in(app.test_client(), factory.shop().members[0].user),
    }
    for who, browser in refused.items():
        assert _get(browser, url)[0] == 404, who
    for wrong in ("3/320.jpg", "0/320.jpg", "1/orig.png", "1/..%2F..%2Fsecret"):
        assert _get(client, f"/don-hang/{code}/khieu-nai/anh/{wrong}")[0] == 404, wrong
    # Not in the public store: /media has nothing under the photo's key.
    key = complaint.photo_keys[0]
    assert _get(client, f"/media/img/{key[:2]}/{key}/320.jpg")[0] == 404
    assert (image_dir(key, private=True) / "320.jpg").exists() and not image_dir(key).exists()


def test_a_guest_sees_the_photos_of_their_complaint_through_the_link(app, factory, csrf_off):
    guest = Shopper(app.test_client(), factory.commune().id)  # not signed in: the session holds the grant
    shop_order = ShopOrder(app, factory, guest)
    shop_order.advance("delivered")
    order = db.session.get(Order, shop_order.order.id)
    complaints.open_complaint(order, {"reason": "damaged", "description": "Dập"}, [image_bytes()], actor=None)
    db.session.commit()
    url = f"/don-hang/{order.code}/khieu-nai/anh/1/320.jpg"
    assert _get(guest.client, url)[0] == 200
    assert _get(app.test_client(), url)[0] == 404


def test_erasure_deletes_the_photo_files_unless_another_complaint_shows_them(
    app, complained, factory, mailbox
):
    binh, client, delivered, complaint = complained
    shared, own = complaint.photo_keys
    # Someone else complained with the very same picture as her first (a forwarded photo).
    other = factory.user()
    other_shopper = Shopper(sign_in(app.test_client(), other), factory.commune().id)
    other_order = ShopOrder(app, factory, other_shopper)
    other_order.advance("delivered")
    other_complaint = complaints.open_complaint(
        db.session.get(Order, other_order.order.id),
        {"reason": "damaged", "description": "Dập"},
        [image_bytes(color=(200, 10, 10))],
        actor=other,
    )
    db.session.commit()
    assert other_complaint.photo_keys == [shared]
    complaints.answer_complaint(complaint, {"offer": "reject", "note": "Không rõ."}, actor=delivered.owner)
    complaints.accept_offer(complaint, actor=binh)
    db.session.commit()

    _erase(client)
    mailbox()  # the worker runs
    assert db.session.get(Complaint, complaint.id).photo_keys == []
    assert not image_dir(own, private=True).exists()
    assert image_dir(shared, private=True).exists()  # still the other complaint's evidence
    other_browser = sign_in(app.test_client(), other)
    assert _get(other_browser, f"/don-hang/{other_order.order.code}/khieu-nai/anh/1/320.jpg")[0] == 200


def test_a_purged_checkout_mail_is_not_announced_as_still_being_sent(buyer, mailbox):
    _binh, client, delivered, _cancelled = buyer
    mailbox()
    payment_url = f"/thanh-toan/{delivered.order.payment.code}"
    assert "Đã gửi email xác nhận tới" in client.get(payment_url).get_data(as_text=True)
    db.session.execute(
        OutboxEvent.__table__.update()
        .where(OutboxEvent.topic == "mail.send")
        .values(processed_at=utcnow() - timedelta(days=31))
    )
    db.session.commit()
    assert outbox.purge() > 0
    page = client.get(payment_url).get_data(as_text=True)
    assert "đang được gửi" not in page and "Chưa gửi được" not in page
