"""Editing a shop's profile through its page (/kenh-ban/<shop>/thong-tin): the owner sees what is
saved, changes it, gets every problem on the form and nothing half-saved; the address (slug) stays.
Who may open the page at all is the permission matrix's business; staff are checked once here."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import OutboxEvent
from sellers.models import Shop, ShopMember
from tests.support import form_fields, image_bytes, page_form, reloaded, sign_in


@pytest.fixture
def shop(factory):
    factory.commune("Xã Sơn Kim 1")
    return factory.shop(name="Hợp tác xã Cam Sơn Kim", kind="cooperative")


@pytest.fixture
def owner(client, shop):
    return sign_in(client, shop.members[0].user)


def _url(shop: Shop) -> str:
    return f"/kenh-ban/{shop.slug}/thong-tin"


def _fields(client, shop: Shop) -> dict:
    return page_form(client, _url(shop))


def _shop_events(shop: Shop) -> list[str]:
    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "shop.changed"))
    return [e.payload["action"] for e in events if e.payload["shop_id"] == shop.id]


def test_the_profile_page_shows_what_was_saved(owner, shop):
    fields = _fields(owner, shop)
    assert fields["name"] == "Hợp tác xã Cam Sơn Kim" and fields["phone"] == "0912345678"
    assert fields["address_line"] == "Thôn 1" and fields["commune_id"] == str(shop.commune_id)
    assert fields["tax_code"] == "3001234567" and fields["registration_number"] == ""
    assert "kind" not in fields and "slug" not in fields  # chosen at registration only
    assert fields["csrf_token"]


def test_the_owner_changes_the_profile(owner, shop, factory):
    other_commune = factory.commune("Phường Thành Sen")
    fields = _fields(owner, shop)
    fields.update(
        name="HTX Cam bù Sơn Kim",
        phone="0987 654 321",
        email="HTX.SonKim@Example.vn",
        address_line="Thôn 3",
        commune_id=str(other_commune.id),
        story="Cam bù trồng trên đồi.\nThu hoạch tháng 10.",
        slug="dia-chi-moi",  # not a field of this page; posting it changes nothing
    )
    r = owner.post(_url(shop), data=fields)
    assert r.status_code == 302 and r.headers["Location"] == f"/kenh-ban/{shop.slug}/"
    saved = reloaded(shop)
    assert (saved.name, saved.phone, saved.email, saved.address_line) == (
        "HTX Cam bù Sơn Kim",
        "0987654321",
        "htx.sonkim@example.vn",
        "Thôn 3",
    )
    assert (
        saved.commune_id == other_commune.id and saved.story == "Cam bù trồng trên đồi.\nThu hoạch tháng 10."
    )
    assert saved.slug == shop.slug and _shop_events(shop)[-1] == "updated"
    assert "Đã lưu thông tin cửa hàng." in owner.get(r.headers["Location"]).get_data(as_text=True)
    public = owner.get(f"/cua-hang/{shop.slug}").get_data(as_text=True)
    assert "HTX Cam bù Sơn Kim" in public and "Phường Thành Sen" in public


def test_every_problem_is_on_the_form_and_nothing_is_saved(owner, shop):
    events = len(_shop_events(shop))
    fields = _fields(owner, shop)
    fields.update(name="", phone="12345", address_line="", commune_id="0", tax_code="")
    r = owner.post(_url(shop), data=fields)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for message in (
        "Vui lòng nhập tên cửa hàng.",
        "Số điện thoại di động không hợp lệ",
        "Vui lòng nhập thôn/xóm, số nhà hoặc đường.",
        "Vui lòng chọn xã/phường.",
        "Hợp tác xã và doanh nghiệp cần mã số thuế.",
    ):
        assert message in html, message
    assert form_fields(html)["phone"] == "12345"  # what was typed stays in the form
    saved = reloaded(shop)
    assert (saved.name, saved.phone, saved.tax_code) == (
        "Hợp tác xã Cam Sơn Kim",
        "0912345678",
        "3001234567",
    )
    assert len(_shop_events(shop)) == events


def test_a_logo_is_uploaded_with_the_form_and_a_bad_file_is_refused(owner, shop):
    fields = _fields(owner, shop)
    logo = (io.BytesIO(image_bytes("PNG", size=(300, 300))), "logo.png")
    r = owner.post(_url(shop), data={**fields, "logo": logo}, content_type="multipart/form-data")
    assert r.status_code == 302
    key = reloaded(shop).logo_key
    assert key and key in owner.get(f"/cua-hang/{shop.slug}").get_data(as_text=True)

    bad = (io.BytesIO(b"GIF89a but not really"), "logo.gif")
    r = owner.post(
        _url(shop), data={**fields, "name": "Tên mới", "logo": bad}, content_type="multipart/form-data"
    )
    assert r.status_code == 200 and "Tệp tải lên không phải là ảnh hợp lệ." in r.get_data(as_text=True)
    saved = reloaded(shop)
    assert saved.logo_key == key and saved.name == "Hợp tác xã Cam Sơn Kim"


def test_staff_cannot_open_or_post_the_profile(client, factory, shop):
    staff = factory.user(email="nhan-vien@example.vn")
    db.session.add(ShopMember(shop_id=shop.id, user_id=staff.id, role="staff"))
    db.session.commit()
    sign_in(client, staff)
    page = client.get(_url(shop))
    assert page.status_code == 403 and "Việc này chỉ chủ cửa hàng" in page.get_data(as_text=True)
    token = form_fields(client.get(f"/kenh-ban/{shop.slug}/").get_data(as_text=True)).get("csrf_token", "")
    r = client.post(_url(shop), data={"csrf_token": token, "name": "Của nhân viên", "phone": "0912345678"})
    assert r.status_code == 403 and reloaded(shop).name == "Hợp tác xã Cam Sơn Kim"


def test_the_profile_edit_never_changes_the_kind_or_the_slug(owner, shop):
    """The kind is the legal form the operator reviewed: an enterprise or a cooperative posting
    kind=household would shed its required tax code, unreviewed. The edit page has no such field,
    and whatever the request carries, the shop keeps both."""
    fields = _fields(owner, shop)
    fields.update(kind="household", tax_code="", slug="doi-duong-dan")
    r = owner.post(_url(shop), data=fields)
    assert r.status_code == 200  # shown again: a cooperative still needs its tax code
    assert "Hợp tác xã và doanh nghiệp cần mã số thuế." in r.get_data(as_text=True)
    saved = reloaded(shop)
    assert (saved.kind, saved.tax_code, saved.slug) == ("cooperative", "3001234567", shop.slug)

    fields.update(tax_code="3001234567", name="HTX Cam Sơn Kim mới")
    r = owner.post(_url(shop), data=fields)
    assert r.status_code == 302
    saved = reloaded(shop)
    assert (saved.name, saved.kind, saved.slug) == ("HTX Cam Sơn Kim mới", "cooperative", shop.slug)


def test_the_contact_email_must_be_an_address_that_fits(owner, shop, client, factory):
    """Shown publicly as mailto: — and the column holds 254 characters (PostgreSQL refused a longer
    one with a server error)."""
    too_long = "a" * 60 + "@" + ".".join(["b" * 60] * 4) + ".vn"  # 307 characters
    for bad in ("khong-phai-email", "a@b", "x@example.vn\nBcc: y@example.vn", too_long):
        fields = _fields(owner, shop)
        fields["email"] = bad
        r = owner.post(_url(shop), data=fields)
        assert r.status_code == 200, bad
        html = r.get_data(as_text=True)
        assert "Địa chỉ email không hợp lệ." in html or "254" in html, bad
    assert reloaded(shop).email is None

    fields = _fields(owner, shop)
    fields["email"] = " HTX@Example.VN "
    assert owner.post(_url(shop), data=fields).status_code == 302
    assert reloaded(shop).email == "htx@example.vn"
    fields = _fields(owner, shop)
    fields["email"] = ""  # optional: emptied
    assert owner.post(_url(shop), data=fields).status_code == 302
    assert reloaded(shop).email is None


def test_registration_checks_the_contact_email_too(app, factory):
    commune = factory.commune()
    browser = sign_in(app.test_client(), factory.user())
    fields = page_form(browser, "/kenh-ban/dang-ky-cua-hang")
    fields.update(
        kind="household",
        name="Vườn cam Bà Hoa",
        phone="0912345678",
        address_line="Xóm 3",
        commune_id=str(commune.id),
        email="a" * 64 + "@" + "b" * 250 + ".vn",
    )
    r = browser.post("/kenh-ban/dang-ky-cua-hang", data=fields)
    assert r.status_code == 200
    assert Shop.query.filter_by(name="Vườn cam Bà Hoa").count() == 0
    fields["email"] = "sai-dia-chi"
    r = browser.post("/kenh-ban/dang-ky-cua-hang", data=fields)
    assert r.status_code == 200 and "Địa chỉ email không hợp lệ." in r.get_data(as_text=True)
    fields["email"] = "VuonCam@Example.vn"
    assert browser.post("/kenh-ban/dang-ky-cua-hang", data=fields).status_code == 302
    assert Shop.query.filter_by(name="Vườn cam Bà Hoa").one().email == "vuoncam@example.vn"
