"""What the rules for floors ask a seller's public page to show (name, address, contact, tax or
registration number), and the tax code: validated, required of cooperatives and enterprises."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from sellers import services
from sellers.models import Shop
from tests.marketplace.test_migrations import empty_app  # noqa: F401 - a fixture used below
from tests.support import page_form, reloaded, sign_in


@pytest.mark.parametrize(
    ("typed", "kind", "stored", "problem"),
    [
        ("3001234567", "enterprise", "3001234567", None),
        ("3001 234 567", "cooperative", "3001234567", None),
        ("3001234567-001", "enterprise", "3001234567-001", None),
        ("3001234567001", "enterprise", "3001234567-001", None),  # a branch's 13 digits run together
        ("", "enterprise", None, "cần mã số thuế"),
        ("", "cooperative", None, "cần mã số thuế"),
        ("", "household", None, None),  # optional for households
        ("042301001234", "household", "042301001234", None),  # the owner's 12-digit personal number
        ("042301001234", "enterprise", None, "10 chữ số"),
        ("30012345", "enterprise", None, "10 chữ số"),
        ("3001234567-01", "cooperative", None, "10 chữ số"),
        ("MST3001234567", "household", None, "10 chữ số"),
    ],
)
def test_tax_codes(typed, kind, stored, problem):
    code = services.normalize_tax_code(typed)
    found = services.tax_code_problem(code, kind)
    if problem is None:
        assert found is None and code == stored
    else:
        assert found is not None and problem in found


def test_registration_keeps_the_tax_code_and_refuses_a_bad_one(factory):
    owner = factory.user(role="producer")
    data = {
        "name": "Công ty TNHH Mật ong Hương Sơn",
        "kind": "enterprise",
        "phone": "0912345678",
        "address_line": "Xóm Tây Sơn",
        "commune_id": factory.commune().id,
    }
    with pytest.raises(ValidationFailed) as caught:
        services.register_shop({**data, "tax_code": "123"}, actor=owner)
    assert "tax_code" in caught.value.field_errors
    with pytest.raises(ValidationFailed) as caught:
        services.register_shop(data, actor=owner)
    assert caught.value.field_errors["tax_code"] == ["Hợp tác xã và doanh nghiệp cần mã số thuế."]
    shop = services.register_shop({**data, "tax_code": "3001 000 104"}, actor=owner)
    assert shop.tax_code == "3001000104"


def test_the_public_shop_page_shows_the_seller_identity(client, factory):
    shop = factory.shop(
        name="HTX Cam bù Hương Sơn",
        kind="cooperative",
        email="htx@example.vn",
        registration_number="28A8000106",
    )
    html = client.get(f"/cua-hang/{shop.slug}").get_data(as_text=True)
    assert "Thông tin người bán" in html
    for text_ in (
        "HTX Cam bù Hương Sơn (Hợp tác xã)",
        "Thôn 1, Xã Sơn Kim 1, Hà Tĩnh",
        'href="tel:0912345678"',
        'href="mailto:htx@example.vn"',
        "Mã số thuế</dt><dd>3001234567",
        "28A8000106",
    ):
        assert text_ in html, text_


def test_a_household_without_numbers_says_so(client, factory):
    shop = factory.shop(kind="household")
    html = client.get(f"/cua-hang/{shop.slug}").get_data(as_text=True)
    assert "Mã số thuế</dt><dd>Chưa cung cấp" in html


def test_a_shop_registered_before_keeps_working_and_is_asked_at_its_next_edit(app, client, factory, csrf_off):
    owner = factory.user(role="producer")
    shop = factory.shop(owner=owner, kind="enterprise")
    listing = factory.listing(shop=shop, title="Nước mắm Thạch Kim")
    shop.tax_code = None  # as a shop registered before the field existed, without a number to copy
    db.session.commit()
    assert client.get(f"/cua-hang/{shop.slug}").status_code == 200
    assert client.get(f"/san-pham/{listing.slug}").status_code == 200
    seller = sign_in(app.test_client(), owner)
    url = f"/kenh-ban/{shop.slug}/thong-tin"
    fields = page_form(seller, url)
    r = seller.post(url, data={**fields, "story": "Ủ chượp 18 tháng."})
    assert r.status_code == 200 and "Hợp tác xã và doanh nghiệp cần mã số thuế." in r.get_data(as_text=True)
    r = seller.post(url, data={**fields, "story": "Ủ chượp 18 tháng.", "tax_code": "3001000107"})
    assert r.status_code == 302 and reloaded(shop).tax_code == "3001000107"


def test_the_migration_copies_registration_numbers_written_as_tax_codes(empty_app):  # noqa: F811
    upgrade(revision="0004_accounts")
    with db.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO communes (name, kind, province, active) VALUES ('Xã A', 'xa', 'Hà Tĩnh', :t)"),
            {"t": True},
        )
        commune_id = conn.execute(text("SELECT id FROM communes")).scalar()
        for slug, kind, number in (
            ("doanh-nghiep", "enterprise", "3001234567"),
            ("chi-nhanh", "enterprise", "3001234567-001"),
            ("ho-kinh-doanh", "household", "28A8000106"),
            ("khong-so", "household", None),
        ):
            conn.execute(
                text(
                    "INSERT INTO shops (slug, name, kind, phone, address_line, commune_id, province,"
                    " registration_number, story, status, created_at, updated_at) VALUES (:slug, :slug,"
                    " :kind, '0912345678', 'Thôn 1', :commune, 'Hà Tĩnh', :number, '', 'approved',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"slug": slug, "kind": kind, "commune": commune_id, "number": number},
            )
    upgrade()
    codes = {shop.slug: (shop.tax_code, shop.registration_number) for shop in db.session.query(Shop)}
    assert codes == {
        "doanh-nghiep": ("3001234567", "3001234567"),
        "chi-nhanh": ("3001234567-001", "3001234567-001"),
        "ho-kinh-doanh": (None, "28A8000106"),
        "khong-so": (None, None),
    }
