"""What an erasure used to leave behind, and what it leaves now: a shop without an owner (and a
household's identity on it), the person's mails in the outbox and MAIL_DIR, a typed cancel reason,
complaint photos served publicly from /media. And the outbox's retention purge."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace import outbox
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.models import OutboxEvent, User
from marketplace.timeutil import utcnow
from sellers import services as shop_services
from sellers.models import Shop, ShopMember
from tests.support import PASSWORD, sign_in

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


# --- the outbox's retention -----------------------------------------------------------------------


def _row(key: str, status: str, processed_days_ago: float | None, topic: str = "mail.send") -> OutboxEvent:
    payload = {"to": "ai@example.vn", "subject": "s", "body": "b"} if topic == "mail.send" else {}
    row = outbox.record(topic, payload, key=key)
    row.status = status
    if processed_days_ago is not None:
        row.processed_at = utcnow() - timedelta(days=processed_days_ago)
    return row
