"""A person's data: the JSON export (theirs and nobody else's) and the erasure of the account
(personal fields gone, orders kept anonymised, sessions ended, an audit record)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.legal import services as legal
from marketplace.legal.models import AccountDeletion, Consent
from marketplace.models import LoginAttempt, OutboxEvent, User
from orders import services as order_services
from orders.models import Order, Payment, Review
from sellers.models import ShopMember
from tests.orders.orders_testlib import ShopOrder, Shopper, payment_code
from tests.support import PASSWORD, sign_in


@pytest.fixture
def world(app, factory, csrf_off):
    """Bình (signed in, a consent, a delivered order with a review, staff of a shop) and An (her own
    order at the same shop)."""
    legal.publish_version("privacy", {"body": "Chính sách."}, actor=factory.operator())
    db.session.commit()
    binh = factory.user(email="binh@example.vn", name="Trần Thị Bình")
    binh.phone = "0911111111"
    legal.record_consent(context="sign_up", user=binh)
    db.session.commit()
    binh_client = sign_in(app.test_client(), binh)
    binh_shopper = Shopper(binh_client, factory.commune().id)
    delivered = ShopOrder(app, factory, binh_shopper)
    delivered.advance("delivered")
    order = db.session.get(Order, delivered.order.id)
    order_services.review_line(order.lines[0], {"stars": "5", "body": "Cam rất ngọt."}, author=binh)
    other_shop = factory.shop(name="HTX Bưởi Phúc Trạch")
    db.session.add(ShopMember(shop_id=other_shop.id, user_id=binh.id, role="staff"))
    db.session.commit()

    an = factory.user(email="an@example.vn", name="Lê Văn An")
    an_client = sign_in(app.test_client(), an)
    an_shopper = Shopper(an_client, factory.commune().id)
    an_shopper.add(factory.listing(shop=delivered.shop, title="Mật ong rừng Vũ Quang", stock=5))
    an_code = payment_code(
        an_shopper.checkout(receiver_name="Lê Văn An", receiver_phone="0922222222", address_line="Xóm Đông")
    )
    an_order = db.session.scalar(select(Order).where(Order.code == f"{an_code}-1"))
    return {
        "binh": binh,
        "binh_client": binh_client,
        "binh_order": order,
        "shop": delivered.shop,
        "staff_shop": other_shop,
        "an": an,
        "an_order": an_order,
    }


def _export(client) -> dict:
    r = client.get("/tai-khoan/du-lieu-ca-nhan.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Content-Disposition"].startswith('attachment; filename="du-lieu-ca-nhan-')
    assert r.headers["Cache-Control"] == "no-store"
    return json.loads(r.get_data(as_text=True))


def test_the_export_holds_the_persons_data_and_nothing_of_others(world):
    data = _export(world["binh_client"])
    assert data["account"]["email"] == "binh@example.vn" and data["account"]["phone"] == "0911111111"
    assert data["account"]["full_name"] == "Trần Thị Bình"
    [consent] = data["consents"]
    assert consent["document"] == "privacy" and consent["version"] == 1 and consent["context"] == "sign_up"
    assert consent["given_at"].endswith("Z")
    [order] = data["orders"]
    assert order["code"] == world["binh_order"].code and order["status"] == "delivered"
    assert order["lines"][0]["title"] == "Cam bù Hương Sơn" and order["lines"][0]["quantity"] == 1
    assert order["receiver_name"] == "Trần Thị Bình" and order["address"]["line"] == "Thôn 2"
    assert [h["status"] for h in order["history"]] == [
        "placed",
        "confirmed",
        "packed",
        "shipped",
        "delivered",
    ]
    assert data["addresses"][0]["receiver_phone"] == "0912345678"
    assert data["reviews"][0]["text"] == "Cam rất ngọt." and data["reviews"][0]["stars"] == 5
    assert {(m["shop"], m["role"]) for m in data["shop_memberships"]} == {("HTX Bưởi Phúc Trạch", "staff")}
    # Nothing about An, who bought at the same shop; nothing about the shop's staff who acted.
    text = json.dumps(data, ensure_ascii=False)
    an_things = (
        "an@example.vn",
        "Lê Văn An",
        "0922222222",
        "Xóm Đông",
        world["an_order"].code,
        "Mật ong rừng",
    )
    for theirs in an_things:
        assert theirs not in text, theirs
    owner_email = next(m.user.email for m in world["shop"].members if m.role == "owner")
    assert owner_email not in text


def test_the_export_and_the_deletion_page_need_a_signed_in_account(client):
    for url in ("/tai-khoan/du-lieu-ca-nhan.json", "/tai-khoan/xoa-tai-khoan"):
        r = client.get(url)
        assert r.status_code == 302 and "/dang-nhap" in r.headers["Location"]


def test_the_account_page_links_the_export_and_the_deletion(world):
    html = world["binh_client"].get("/tai-khoan").get_data(as_text=True)
    assert 'href="/tai-khoan/du-lieu-ca-nhan.json"' in html and 'href="/tai-khoan/xoa-tai-khoan"' in html


def test_deleting_needs_the_password_and_the_box(world):
    client = world["binh_client"]
    r = client.post("/tai-khoan/xoa-tai-khoan", data={"password": "sai-mat-khau", "confirm": "y"})
    assert r.status_code == 422 and "Mật khẩu không đúng." in r.get_data(as_text=True)
    r = client.post("/tai-khoan/xoa-tai-khoan", data={"password": PASSWORD})
    assert r.status_code == 422 and "Vui lòng đánh dấu ô xác nhận." in r.get_data(as_text=True)
    assert db.session.get(User, world["binh"].id).deleted_at is None
    assert AccountDeletion.query.count() == 0


def test_deleting_anonymises_the_account_keeps_the_orders_and_ends_every_session(
    app, world, factory, mailbox
):
    binh_id, order_id = world["binh"].id, world["binh_order"].id
    before = db.session.get(Order, order_id)
    totals = (before.subtotal_vnd, before.shipping_vnd, before.total_vnd, len(before.lines))
    other_device = sign_in(app.test_client(), world["binh"])
    db.session.add(LoginAttempt(email="binh@example.vn", ip="10.0.0.1", success=False))
    db.session.commit()

    page = world["binh_client"].get("/tai-khoan/xoa-tai-khoan").get_data(as_text=True)
    assert "không thể hoàn tác" in page and 'name="password"' in page
    r = world["binh_client"].post("/tai-khoan/xoa-tai-khoan", data={"password": PASSWORD, "confirm": "y"})
    assert r.status_code == 302 and r.headers["Location"] == "/"
    db.session.expire_all()

    user = db.session.get(User, binh_id)
    assert user.email == f"da-xoa-{binh_id}@tai-khoan.invalid" and user.full_name == "Tài khoản đã xoá"
    assert user.phone is None and not user.active and user.deleted_at is not None
    assert user.role == "buyer" and not user.password_hash.startswith("$argon2")
    order = db.session.get(Order, order_id)
    assert (order.subtotal_vnd, order.shipping_vnd, order.total_vnd, len(order.lines)) == totals
    assert order.lines[0].title == "Cam bù Hương Sơn" and order.status == "delivered"
    assert (order.receiver_name, order.receiver_phone, order.email, order.address_line, order.note) == (
        "Đã ẩn danh",
        "",
        "",
        "Đã ẩn danh",
        "",
    )
    assert order.commune_id is not None and order.buyer_id == binh_id
    payment = order.payment
    assert (payment.email, payment.phone) == ("", "")
    assert (
        db.session.scalar(select(Review.author_name).where(Review.author_id == binh_id))
        == "Người mua ẩn danh"
    )
    assert ShopMember.query.filter_by(user_id=binh_id).count() == 0
    assert LoginAttempt.query.filter_by(email="binh@example.vn").count() == 0
    assert Consent.query.filter_by(user_id=binh_id).count() == 1  # the proof of consent stays

    # An's order is untouched.
    an_order = db.session.get(Order, world["an_order"].id)
    assert (an_order.receiver_name, an_order.receiver_phone) == ("Lê Văn An", "0922222222")

    # The audit record: when and how much, no personal data.
    record = AccountDeletion.query.one()
    assert record.user_id == binh_id and record.method == "self_service"
    assert record.summary["orders.orders"] == 1 and record.summary["orders.reviews"] == 1
    assert record.summary["sellers.memberships"] == 1 and record.summary["account.account"] == 1
    assert "binh" not in json.dumps(record.summary)

    # Every session ended; the old address and password open nothing; the owner was told.
    for browser in (world["binh_client"], other_device):
        r = browser.get("/tai-khoan")
        assert r.status_code == 302 and "/dang-nhap" in r.headers["Location"]
    r = app.test_client().post("/dang-nhap", data={"email": "binh@example.vn", "password": PASSWORD})
    assert r.status_code == 401
    told = [m for m in mailbox() if m["to"] == "binh@example.vn"]
    assert told and told[-1]["subject"] == "Tài khoản của bạn đã được xoá"
    # The address is free for a new account.
    signup = app.test_client().post(
        "/dang-ky",
        data={
            "full_name": "Bình mới",
            "email": "binh@example.vn",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "privacy_consent": "y",
        },
    )
    assert signup.status_code == 302
    assert User.query.filter_by(email="binh@example.vn").one().id != binh_id


def test_later_order_mails_to_an_erased_buyer_are_not_sent(app, world, mailbox):
    world["binh_client"].post("/tai-khoan/xoa-tai-khoan", data={"password": PASSWORD, "confirm": "y"})
    before = len(mailbox())
    order = db.session.get(Order, world["binh_order"].id)
    from orders import notify

    order.status = "refunded"
    notify.status_changed(order)
    db.session.commit()
    assert len(mailbox()) == before
    mail_rows = OutboxEvent.query.filter_by(topic="mail.send").all()
    # Nothing queued for an empty address (the rows to the erased address are emptied, not blank)…
    assert all(row.payload.get("to") or "redacted" in row.payload for row in mail_rows)
    assert not [row for row in mail_rows if row.status == "dead"]  # …so nothing dies in the outbox


def test_a_shop_owner_must_hand_over_or_close_the_shop_first(world, factory, app):
    owner = next(m.user for m in world["shop"].members if m.role == "owner")
    client = sign_in(app.test_client(), owner)
    page = client.get("/tai-khoan/xoa-tai-khoan")
    html = page.get_data(as_text=True)
    assert "Bạn là chủ cửa hàng" in html and world["shop"].name in html
    assert 'name="password"' not in html  # no form to send while it cannot be done
    r = client.post("/tai-khoan/xoa-tai-khoan", data={"password": PASSWORD, "confirm": "y"})
    assert r.status_code == 409
    assert db.session.get(User, owner.id).deleted_at is None and AccountDeletion.query.count() == 0


def test_orders_on_their_way_hold_the_deletion(world, app):
    an_client = sign_in(app.test_client(), world["an"])
    html = an_client.get("/tai-khoan/xoa-tai-khoan").get_data(as_text=True)
    assert "đơn hàng đang xử lý" in html and world["an_order"].code in html
    r = an_client.post("/tai-khoan/xoa-tai-khoan", data={"password": PASSWORD, "confirm": "y"})
    assert r.status_code == 409
    assert db.session.get(User, world["an"].id).deleted_at is None
    assert db.session.get(Payment, world["an_order"].payment_id).email == world["an"].email


def test_an_operator_cannot_erase_their_own_account(app, factory, csrf_off):
    operator = factory.operator()
    client = sign_in(app.test_client(), operator)
    html = client.get("/tai-khoan/xoa-tai-khoan").get_data(as_text=True)
    assert "Tài khoản ban quản lý sàn không tự xoá được" in html
    assert (
        client.post("/tai-khoan/xoa-tai-khoan", data={"password": PASSWORD, "confirm": "y"}).status_code
        == 409
    )


def test_a_new_account_exports_an_empty_history(app, factory, csrf_off):
    user = factory.user(email="moi@example.vn")
    data = _export(sign_in(app.test_client(), user))
    assert data["account"]["email"] == "moi@example.vn"
    assert data["orders"] == [] and data["reviews"] == [] and data["addresses"] == []
    assert data["consents"] == [] and data["shop_memberships"] == [] and data["cart"] == []


def test_a_complaint_is_exported_holds_the_deletion_while_open_and_loses_the_buyers_words(world, app):
    from orders import complaints
    from orders.models import Complaint, ComplaintEvent
    from tests.support import image_bytes

    binh, client, order = world["binh"], world["binh_client"], world["binh_order"]
    complaint = complaints.open_complaint(
        order,
        {"reason": "damaged", "description": "Cam bị dập, gọi tôi 0911111111."},
        [image_bytes()],
        actor=binh,
    )
    db.session.commit()
    exported = _export(client)["complaints"]
    assert [(c["order_code"], c["description"], len(c["photos"])) for c in exported] == [
        (order.code, "Cam bị dập, gọi tôi 0911111111.", 1)
    ]

    r = client.post("/tai-khoan/xoa-tai-khoan", data={"password": PASSWORD, "confirm": "y"})
    assert r.status_code == 409 and "chưa được giải quyết" in r.get_data(as_text=True)

    owner = world["shop"].members[0].user
    complaints.answer_complaint(complaint, {"offer": "reject", "note": "Ảnh không rõ."}, actor=owner)
    complaints.accept_offer(complaint, actor=binh)
    db.session.commit()
    r = client.post("/tai-khoan/xoa-tai-khoan", data={"password": PASSWORD, "confirm": "y"})
    assert r.status_code == 302
    kept = db.session.get(Complaint, complaint.id)
    db.session.refresh(kept)
    assert kept.status == "rejected" and kept.reason == "damaged"  # the dispute's record stays
    assert "0911111111" not in kept.description and kept.photo_keys == []
    buyer_notes = db.session.scalars(
        select(ComplaintEvent.note).where(
            ComplaintEvent.complaint_id == complaint.id, ComplaintEvent.actor_role == "buyer"
        )
    ).all()
    assert all(note is None for note in buyer_notes)
    shop_note = db.session.scalar(
        select(ComplaintEvent.note).where(
            ComplaintEvent.complaint_id == complaint.id, ComplaintEvent.actor_role == "shop"
        )
    )
    assert shop_note == "Ảnh không rõ."
