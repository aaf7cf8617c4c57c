"""Ratings already on listings when the register arrives (migration 0006_ocop) become claims that
wait for the operator's check: nothing unverified keeps its badge."""

from __future__ import annotations

from datetime import date, datetime

from flask_migrate import upgrade
from sqlalchemy import MetaData, Table, insert, select

from catalog.models import Listing, OcopCertificate
from marketplace.extensions import db
from tests.marketplace.test_migrations import empty_app, script_directory  # noqa: F401 - the fixture

REVISION = "0006_ocop"
NOW = datetime(2026, 1, 1)


def _table(name: str) -> Table:
    """The table as the database has it before the migration (not as the models say)."""
    return Table(name, MetaData(), autoload_with=db.engine)


def test_existing_ratings_wait_for_the_check(empty_app):  # noqa: F811 - the imported fixture
    upgrade(revision=script_directory().get_revision(REVISION).down_revision)
    db.session.execute(
        insert(_table("communes")).values(
            id=1, name="Xã Sơn Kim 1", kind="xa", province="Hà Tĩnh", active=True
        )
    )
    db.session.execute(
        insert(_table("categories")).values(
            id=1, name="Trái cây", slug="trai-cay", position=0, description=""
        )
    )
    shops = _table("shops")
    for shop_id in (1, 2):
        db.session.execute(
            insert(shops).values(
                id=shop_id,
                slug=f"shop-{shop_id}",
                name=f"Shop {shop_id}",
                kind="household",
                phone="0912345678",
                address_line="Thôn 1",
                commune_id=1,
                province="Hà Tĩnh",
                story="",
                status="approved",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    listings = _table("listings")
    for lid, shop_id, title, stars, number, level, issued in (
        (1, 1, "Cam bù hộp 2 kg", 4, "OCOP-1", "province", date(2025, 3, 15)),
        (2, 1, "Cam bù hộp 5 kg", 4, "OCOP-1", "province", date(2025, 3, 15)),  # the same claim
        (3, 1, "Bưởi", 3, "OCOP-2", None, date(2024, 1, 10)),
        (4, 2, "Cam của shop khác", 4, "OCOP-1", "province", date(2025, 3, 15)),  # another shop's
        (5, 1, "Mật ong", None, None, None, None),
    ):
        db.session.execute(
            insert(listings).values(
                id=lid,
                shop_id=shop_id,
                category_id=1,
                slug=f"sp-{lid}",
                title=title,
                description="",
                unit="kg",
                price_vnd=45000,
                stock=10,
                min_order_qty=1,
                certifications=[],
                status="active",
                featured=False,
                sales_count=0,
                ocop_stars=stars,
                ocop_certificate_no=number,
                ocop_level=level,
                ocop_issued_on=issued,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    db.session.commit()

    upgrade()
    db.session.expire_all()
    rows = db.session.scalars(select(OcopCertificate).order_by(OcopCertificate.id)).all()
    assert [
        (r.shop_id, r.certificate_no, r.stars, r.level, r.issued_on, r.status, r.product_name) for r in rows
    ] == [
        (1, "OCOP-1", 4, "province", date(2025, 3, 15), "waiting", "Cam bù hộp 2 kg"),
        (1, "OCOP-2", 3, "", date(2024, 1, 10), "waiting", "Bưởi"),
        (2, "OCOP-1", 4, "province", date(2025, 3, 15), "waiting", "Cam của shop khác"),
    ]
    cites = dict(db.session.execute(select(Listing.id, Listing.ocop_certificate_id)).all())
    assert cites == {1: rows[0].id, 2: rows[0].id, 3: rows[1].id, 4: rows[2].id, 5: None}
    assert not [x for x in db.session.scalars(select(Listing)).unique() if x.ocop_badge(date(2026, 1, 2))]
