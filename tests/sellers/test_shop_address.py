"""A shop's address on the registration and profile forms: province, then a commune of that
province; choosing another province without JavaScript ("Chọn") saves nothing and shows its
communes."""

from __future__ import annotations

from sqlalchemy import func, select

from marketplace.communes import import_official
from marketplace.extensions import db
from marketplace.models import Commune
from sellers.models import Shop
from tests.support import form_fields, sign_in


def _units(app):
    import_official("Hà Tĩnh")
    import_official("Nghệ An")
    db.session.commit()


def _commune(name, province):
    return db.session.scalar(select(Commune).where(Commune.name == name, Commune.province == province))


def test_registration_asks_for_the_province_then_its_commune(app, factory, csrf_off):
    _units(app)
    client = sign_in(app.test_client(), factory.user())
    page = client.get("/kenh-ban/dang-ky-cua-hang").get_data(as_text=True)
    assert '<option selected value="Hà Tĩnh">' in page and "Xã Kỳ Xuân" in page
    assert "Phường Thành Vinh" not in page and 'name="address_refresh"' in page

    typed = {"kind": "household", "name": "Vườn cam Bà Hoa", "phone": "0912345678", "address_line": "Xóm 3"}
    shown = client.post(
        "/kenh-ban/dang-ky-cua-hang", data={**typed, "province": "Nghệ An", "address_refresh": "1"}
    )
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "Phường Thành Vinh" in page and "Xã Kỳ Xuân" not in page
    assert 'value="Vườn cam Bà Hoa"' in page  # kept, and nothing registered yet
    assert db.session.scalar(select(func.count()).select_from(Shop)) == 0

    # A commune of another province than the one chosen is refused.
    wrong = client.post(
        "/kenh-ban/dang-ky-cua-hang",
        data={**typed, "province": "Nghệ An", "commune_id": _commune("Xã Kỳ Xuân", "Hà Tĩnh").id},
    )
    assert "Xã/phường đã chọn không thuộc tỉnh Nghệ An" in wrong.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Shop)) == 0

    vinh = _commune("Phường Thành Vinh", "Nghệ An")
    done = client.post(
        "/kenh-ban/dang-ky-cua-hang", data={**typed, "province": "Nghệ An", "commune_id": vinh.id}
    )
    assert done.status_code == 302
    shop = db.session.scalar(select(Shop))
    assert (shop.commune_id, shop.province) == (vinh.id, "Nghệ An")
    assert shop.address == "Xóm 3, Phường Thành Vinh, Nghệ An"


def test_the_profile_form_starts_from_the_shops_province(app, factory, csrf_off):
    _units(app)
    owner = factory.user(role="producer")
    shop = factory.shop(owner=owner, commune_id=_commune("Xã Kỳ Xuân", "Hà Tĩnh").id)
    client = sign_in(app.test_client(), owner)
    url = f"/kenh-ban/{shop.slug}/thong-tin"
    fields = form_fields(client.get(url).get_data(as_text=True))
    assert fields["province"] == "Hà Tĩnh" and fields["commune_id"] == str(shop.commune_id)
    moved = {**fields, "province": "Nghệ An", "commune_id": _commune("Phường Thành Vinh", "Nghệ An").id}
    assert client.post(url, data=moved).status_code == 302
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).province == "Nghệ An"
