"""Shop registration, operator decisions, staff invitations."""

import pytest

from catalog.models import Listing
from marketplace.errors import DomainError, Forbidden, ValidationFailed
from marketplace.extensions import db
from sellers import services
from sellers.models import Shop, ShopMember
from tests.support import forget_session, sign_in


def _form(commune, **over):
    data = {
        "kind": "household",
        "name": "Vườn cam Bà Hoa",
        "phone": "0912345678",
        "address_line": "Xóm 3",
        "commune_id": commune.id,
        "registration_number": "",
        "story": "Ba đời trồng cam.",
    }
    data.update(over)
    return data


def test_register_shop_through_the_form(client, factory, csrf_off):
    user = factory.user()
    commune = factory.commune()
    sign_in(client, user)
    r = client.post("/kenh-ban/dang-ky-cua-hang", data=_form(commune))
    assert r.status_code == 302
    shop = Shop.query.one()
    assert shop.status == "pending" and shop.slug == "vuon-cam-ba-hoa" and shop.province == "Hà Tĩnh"
    assert shop.members[0].user_id == user.id and shop.members[0].role == "owner"
    assert db.session.get(type(user), user.id).role == "producer"
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Chờ duyệt" in page


def test_register_shop_bad_input_reports_every_field(client, factory, csrf_off):
    sign_in(client, factory.user())
    r = client.post(
        "/kenh-ban/dang-ky-cua-hang",
        data={"kind": "cooperative", "name": "", "phone": "123", "address_line": "", "commune_id": 0},
    )
    html = r.get_data(as_text=True)
    for message in (
        "Vui lòng nhập tên cửa hàng.",
        "Số điện thoại di động không hợp lệ",
        "Vui lòng chọn xã/phường.",
        "Hợp tác xã và doanh nghiệp cần mã số thuế.",
    ):
        assert message in html
    assert Shop.query.count() == 0


def test_bad_logo_is_refused_with_message(client, factory, csrf_off):
    import io

    sign_in(client, factory.user())
    data = _form(factory.commune())
    data["logo"] = (io.BytesIO(b"not an image at all"), "logo.jpg")
    r = client.post("/kenh-ban/dang-ky-cua-hang", data=data, content_type="multipart/form-data")
    assert "không phải là ảnh hợp lệ" in r.get_data(as_text=True)
    assert Shop.query.count() == 0


def test_operator_approves_rejects_suspends_and_producer_is_told(factory, mailbox):
    operator = factory.operator()
    shop = factory.shop(approved=False)
    services.approve_shop(shop, actor=operator)
    db.session.commit()
    assert shop.status == "approved"
    mails = mailbox()
    assert any("đã được duyệt" in m["subject"] for m in mails)

    listing = factory.listing(shop=shop)
    assert listing.is_public
    with pytest.raises(DomainError):
        services.suspend_shop(shop, "", actor=operator)
    services.suspend_shop(shop, "Sản phẩm không đúng mô tả", actor=operator)
    db.session.commit()
    # Suspending hides the shop's listings at once.
    assert not db.session.get(Listing, listing.id).is_public
    assert any("tạm ngưng" in m["subject"] and "không đúng mô tả" in m["body"] for m in mailbox())

    pending = factory.shop(approved=False)
    services.reject_shop(pending, "Thiếu giấy tờ", actor=operator)
    db.session.commit()
    assert pending.status == "rejected" and pending.status_reason == "Thiếu giấy tờ"


def test_only_operator_decides(factory):
    shop = factory.shop(approved=False)
    with pytest.raises(Forbidden):
        services.approve_shop(shop, actor=factory.user())


def test_pending_shop_cannot_publish(factory):
    shop = factory.shop(approved=False)
    with pytest.raises(ValidationFailed) as exc:
        factory.listing(shop=shop, status="active")
    assert "chưa được duyệt" in exc.value.field_errors["status"][0]
    draft = factory.listing(shop=shop, status="draft")
    assert draft.status == "draft" and not draft.is_public


def test_suspended_shop_pages_404(client, factory):
    operator = factory.operator()
    listing = factory.listing()
    services.suspend_shop(listing.shop, "Vi phạm", actor=operator)
    db.session.commit()
    assert client.get(f"/san-pham/{listing.slug}").status_code == 404
    assert client.get(f"/cua-hang/{listing.shop.slug}").status_code == 404
    assert client.get(f"/api/v1/listings/{listing.id}").status_code == 404


def test_staff_invitation_flow(client, factory, mailbox, csrf_off):
    owner = factory.user(email="owner@example.vn")
    shop = factory.shop(owner=owner)
    sign_in(client, owner)
    r = client.post(f"/kenh-ban/{shop.slug}/nhan-vien", data={"email": "Staff@Example.vn"})
    assert r.status_code == 302
    invite_mail = [m for m in mailbox() if m["to"] == "staff@example.vn"]
    assert invite_mail and "/kenh-ban/loi-moi/" in invite_mail[0]["body"]
    link = invite_mail[0]["body"].split("http://localhost", 1)[1].split()[0]
    forget_session(client)

    intruder = factory.user(email="someone@example.vn")
    sign_in(client, intruder)
    assert client.post(link).status_code == 403
    forget_session(client)

    staff = factory.user(email="staff@example.vn")
    sign_in(client, staff)
    assert client.post(link).status_code == 302
    assert ShopMember.query.filter_by(shop_id=shop.id, user_id=staff.id, role="staff").count() == 1
    # Staff manage listings but not other staff.
    assert client.get(f"/kenh-ban/{shop.slug}/san-pham/").status_code == 200
    assert client.get(f"/kenh-ban/{shop.slug}/nhan-vien").status_code == 403
