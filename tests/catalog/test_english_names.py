"""English pages: the floor's own data (categories, certifications) shows its English name under
the English locale, the Vietnamese one otherwise; the operator edits both."""

from __future__ import annotations

import re

from sqlalchemy import select

from catalog.certifications import seed_certifications
from catalog.models import Category, Certification
from marketplace.extensions import db
from tests.support import sign_in


def _english(client, app):
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        assert client.post("/ngon-ngu/en", data={"next": "/"}).status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


def _tree(factory):
    top = factory.category("Thực phẩm")
    top.name_en = "Food"
    child = factory.category("Cam", parent=top)
    child.name_en = "Oranges"
    untranslated = factory.category("Kẹo cu đơ", parent=top)
    seed_certifications()
    db.session.commit()
    listing = factory.listing(category=child, certifications="Hữu cơ; Chứng nhận làng nghề")
    return top, child, untranslated, listing


def test_category_pages_breadcrumbs_chips_and_titles_in_english(app, client, factory):
    top, child, untranslated, listing = _tree(factory)
    factory.listing(category=untranslated, title="Kẹo cu đơ Thành Sen")

    vi = client.get(f"/danh-muc/{top.slug}").get_data(as_text=True)
    assert "<h1>Thực phẩm</h1>" in vi and ">Cam</a>" in vi and "Oranges" not in vi

    _english(client, app)
    page = client.get(f"/danh-muc/{top.slug}").get_data(as_text=True)
    assert "<title>Food ·" in page and "<h1>Food</h1>" in page
    assert ">Oranges</a>" in page  # the subcategory chip
    assert ">Kẹo cu đơ</a>" in page  # no English name: the Vietnamese one, never an empty chip
    sub = client.get(f"/danh-muc/{child.slug}").get_data(as_text=True)
    assert re.search(r'<nav class="crumbs"[^>]*>.*>Food</a>', sub, re.S) and "<h1>Oranges</h1>" in sub
    product = client.get(f"/san-pham/{listing.slug}").get_data(as_text=True)
    assert re.search(r'<nav class="crumbs"[^>]*>.*>Oranges</a>', product, re.S)
    home = client.get("/").get_data(as_text=True)
    assert ">Food</a>" in home


def test_certification_badges_in_english(app, client, factory):
    _top, _child, _untranslated, listing = _tree(factory)
    vi = client.get(f"/san-pham/{listing.slug}").get_data(as_text=True)
    assert '<span class="badge cert">Hữu cơ</span>' in vi
    _english(client, app)
    en = client.get(f"/san-pham/{listing.slug}").get_data(as_text=True)
    assert '<span class="badge cert">Organic</span>' in en
    assert '<span class="badge cert">Chứng nhận làng nghề</span>' in en  # not the floor's: as typed
    trace = client.get(f"/truy-xuat/{listing.slug}").get_data(as_text=True)
    assert "Organic, Chứng nhận làng nghề" in trace


def test_display_name_outside_a_request_is_vietnamese(app, factory):
    category = factory.category("Bưởi")
    category.name_en = "Pomelos"
    assert category.display_name == "Bưởi"


def test_seeding_certifications_is_idempotent_and_keeps_the_operators_changes(app, factory):
    assert seed_certifications() == 7
    organic = db.session.scalar(select(Certification).where(Certification.name == "Hữu cơ"))
    assert organic.name_en == "Organic"
    organic.name_en = "Organic farming"
    db.session.commit()
    assert seed_certifications() == 0
    assert db.session.get(Certification, organic.id).name_en == "Organic farming"


def test_the_operator_edits_english_names_of_certifications(app, client, factory, csrf_off):
    seed_certifications()
    db.session.commit()
    gap = db.session.scalar(select(Certification).where(Certification.name == "VietGAP"))
    sign_in(client, factory.operator())
    page = client.get("/quan-tri/danh-muc").get_data(as_text=True)
    assert f'name="name_en-{gap.id}" value="VietGAP"' in page
    response = client.post(
        "/quan-tri/chung-nhan",
        data={
            f"name_en-{gap.id}": "VietGAP (Vietnamese good farming)",
            "new_name": "Làng nghề",
            "new_name_en": "Craft village",
        },
    )
    assert response.status_code == 302
    names = dict(db.session.execute(select(Certification.name, Certification.name_en)).all())
    assert names["VietGAP"] == "VietGAP (Vietnamese good farming)" and names["Làng nghề"] == "Craft village"
    again = client.post("/quan-tri/chung-nhan", data={"new_name": "làng NGHỀ"}, follow_redirects=True)
    assert "Chứng nhận này đã có trong danh sách." in again.get_data(as_text=True)
    # The listing form suggests the floor's list, the new one included.
    assert "Làng nghề" in [n for (n,) in db.session.execute(select(Certification.name))]


def test_only_the_operator_edits_certifications(client, factory, csrf_off):
    sign_in(client, factory.user(role="producer"))
    assert client.post("/quan-tri/chung-nhan", data={"new_name": "X"}).status_code == 403
    assert db.session.scalar(select(Certification).where(Certification.name == "X")) is None


def test_the_operators_category_form_saves_the_english_name(app, client, factory, csrf_off):
    sign_in(client, factory.operator())
    response = client.post(
        "/quan-tri/danh-muc",
        data={"name": "Nước mắm", "name_en": "Fish sauce", "parent_id": "0", "position": "0"},
    )
    assert response.status_code == 302
    category = db.session.scalar(select(Category).where(Category.name == "Nước mắm"))
    assert category.name_en == "Fish sauce"
