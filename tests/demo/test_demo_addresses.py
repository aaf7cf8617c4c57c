"""The demo province on the official list: Hà Tĩnh's real communes (and every other province's,
so a buyer anywhere can check out), shops and listing origins in real units, a shop whose fresh
produce stays near; and loading it over a database an older demo filled with made-up communes."""

from __future__ import annotations

from sqlalchemy import func, select

from catalog.models import Listing
from marketplace.addresses import commune_key
from marketplace.extensions import db
from marketplace.models import Commune
from sellers.models import Shop
from tests.demo.test_demo import load


def test_the_demo_province_is_made_of_official_units(app, runner, client):
    load(runner)
    per_province = dict(
        db.session.execute(
            select(Commune.province, func.count()).where(Commune.active.is_(True)).group_by(Commune.province)
        ).all()
    )
    assert len(per_province) == 34 and per_province["Hà Tĩnh"] == 69
    assert per_province["Thành phố Hà Nội"] == 126

    shops = list(db.session.scalars(select(Shop)))
    assert all(s.commune.source == "official" and s.commune.province == "Hà Tĩnh" for s in shops)
    assert all(len(s.commune.code) == 5 and s.commune.code.isdigit() for s in shops)
    units = {
        commune_key(c.name) for c in db.session.scalars(select(Commune).where(Commune.province == "Hà Tĩnh"))
    }
    origins = set(db.session.scalars(select(Listing.origin)))
    assert origins and {commune_key(o) for o in origins} <= units, origins - units

    tea = db.session.scalar(select(Listing).where(Listing.title == "Chè xanh tươi Hương Khê"))
    page = client.get(f"/san-pham/{tea.slug}").get_data(as_text=True)
    assert "Chỉ giao trong tỉnh Hà Tĩnh và các tỉnh lân cận (Nghệ An, Quảng Trị)." in page


def test_loading_over_the_old_demo_adopts_its_communes(app, runner):
    """An older demo loaded made-up rows (codes DEMO-HT-nn); a shop stands in one of them."""
    old = [
        ("Phường Thành Sen", "phuong", "DEMO-HT-01"),
        ("Phường Hồng Lĩnh", "phuong", "DEMO-HT-04"),  # no such unit after 1 July 2025
        ("Xã Hương Sơn", "xa", "DEMO-HT-11"),
    ]
    rows = [Commune(name=n, kind=k, province="Hà Tĩnh", code=c) for n, k, c in old]
    db.session.add_all(rows)
    db.session.commit()
    thanh_sen_id = rows[0].id

    first = load(runner)
    second = load(runner)
    assert "created nothing" in second and "created nothing" not in first
    db.session.expire_all()
    thanh_sen = db.session.get(Commune, thanh_sen_id)
    assert (thanh_sen.code, thanh_sen.source, thanh_sen.active) == ("18073", "official", True)
    assert (
        db.session.scalar(select(func.count()).select_from(Commune).where(Commune.name == "Phường Thành Sen"))
        == 1
    )
    shop = db.session.scalar(select(Shop).where(Shop.slug == "keo-cu-do-thanh-sen"))
    assert shop.commune_id == thanh_sen_id
    made_up = db.session.scalar(select(Commune).where(Commune.code == "DEMO-HT-04"))
    assert made_up is not None and not made_up.active  # kept, no longer offered
    assert (
        db.session.scalar(select(func.count()).select_from(Commune).where(Commune.province == "Hà Tĩnh"))
        == 70
    )
