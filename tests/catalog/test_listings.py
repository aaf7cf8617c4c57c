"""Listings: validation, OCOP badges, sanitising, visibility, moderation, images through the form."""

import io
from datetime import date

import pytest

from catalog import services
from catalog.models import Listing, add_months
from marketplace import outbox
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from tests.support import image_bytes, sign_in


def test_validation_collects_every_problem(factory):
    shop = factory.shop()
    with pytest.raises(ValidationFailed) as exc:
        factory.listing(
            shop=shop,
            title="",
            price="-5",
            stock="abc",
            unit="",
            category=None,
            ocop_stars=4,
            min_order_qty="0",
        )
    fields = exc.value.field_errors
    assert {"title", "price_vnd", "stock", "unit", "min_order_qty", "ocop_certificate_no"} <= set(fields)
    assert Listing.query.count() == 0


def test_prices_typed_the_vietnamese_way(factory):
    listing = factory.listing(price="45.000", stock="1.200")
    assert listing.price_vnd == 45000 and listing.stock == 1200


def test_database_refuses_negative_stock(factory):
    listing = factory.listing(stock=1)
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        db.session.execute(update(Listing).where(Listing.id == listing.id).values(stock=-1))
        db.session.flush()
    db.session.rollback()


def test_ocop_badge_expires_after_36_months(factory):
    listing = factory.listing(
        ocop_stars=4,
        ocop_certificate_no="OCOP-HT-2023-0042",
        ocop_level="province",
        ocop_issued_on="15/03/2023",
    )
    factory.check_ocop(listing)
    assert listing.ocop_expires_on == date(2026, 3, 15)
    assert listing.ocop_badge(date(2026, 3, 14)) == 4
    assert listing.ocop_badge(date(2026, 3, 15)) is None
    assert add_months(date(2024, 2, 29), 36) == date(2027, 2, 28)


def test_expired_badge_not_shown_but_trace_says_expired(client, factory):
    listing = factory.check_ocop(
        factory.listing(ocop_stars=3, ocop_certificate_no="OCOP-1", ocop_issued_on="01/01/2020")
    )
    page = client.get(f"/san-pham/{listing.slug}").get_data(as_text=True)
    assert "OCOP ★" not in page
    trace = client.get(f"/truy-xuat/{listing.slug}").get_data(as_text=True)
    assert "Hết hiệu lực" in trace and "OCOP-1" in trace
    assert client.get("/api/v1/listings").json["items"][0]["ocop_stars"] is None


def test_description_is_sanitised(factory, client):
    listing = factory.listing(
        description='<p onclick="x()">Ngon</p><script>alert(1)</script><a href="javascript:1">x</a>'
    )
    assert "<script" not in listing.description and "onclick" not in listing.description
    assert "javascript" not in listing.description and "<p>Ngon</p>" in listing.description
    plain = factory.listing(title="Kẹo cu đơ", description="Dòng 1\nDòng 2\n\nĐoạn 2 & ngon")
    assert plain.description == "<p>Dòng 1<br>Dòng 2</p><p>Đoạn 2 &amp; ngon</p>"


def test_hidden_listing_disappears_and_producer_is_told(client, factory, mailbox):
    listing = factory.listing()
    owner_email = listing.shop.members[0].user.email
    services.hide_listing(listing, "Ảnh không đúng sản phẩm", actor=factory.operator())
    db.session.commit()
    assert client.get(f"/san-pham/{listing.slug}").status_code == 404
    assert client.get("/api/v1/listings").json["total"] == 0
    mail = [m for m in mailbox() if m["to"] == owner_email and "bị ẩn" in m["subject"]]
    assert mail and "Ảnh không đúng sản phẩm" in mail[0]["body"]
    services.unhide_listing(listing, actor=factory.operator())
    db.session.commit()
    assert client.get(f"/san-pham/{listing.slug}").status_code == 200


def test_every_change_is_an_outbox_event(factory):
    listing = factory.listing()
    services.update_listing(
        listing,
        {
            "title": "Cam bù loại 1",
            "category": listing.category,
            "unit": "kg",
            "price_vnd": 50000,
            "stock": 3,
            "status": "active",
        },
        actor=listing.shop.members[0].user,
    )
    db.session.commit()
    events = OutboxEvent.query.filter_by(topic="listing.changed").all()
    assert [e.payload["action"] for e in events] == ["created", "updated"]


def test_producer_creates_listing_with_images_through_form(client, factory, csrf_off):
    shop = factory.shop()
    category = factory.category("Mật ong")
    sign_in(client, shop.members[0].user)
    data = {
        "title": "Mật ong Hương Sơn",
        "category_id": category.id,
        "unit": "chai",
        "price_vnd": "250.000",
        "stock": "12",
        "min_order_qty": "1",
        "status": "active",
        "origin": "Hương Sơn",
        "certifications": "VietGAP; Hữu cơ",
        "ocop_stars": "",
        "ocop_level": "",
        "images": [(io.BytesIO(image_bytes()), "a.jpg"), (io.BytesIO(image_bytes(color=(1, 2, 3))), "b.jpg")],
    }
    r = client.post(f"/kenh-ban/{shop.slug}/san-pham/moi", data=data, content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)[-2000:]
    listing = Listing.query.one()
    assert listing.price_vnd == 250000 and listing.certifications == ["VietGAP", "Hữu cơ"]
    assert len(listing.images) == 2 and listing.images[0].position == 0
    page = client.get(f"/san-pham/{listing.slug}").get_data(as_text=True)
    assert "250.000\xa0₫" in page and 'loading="lazy"' not in page.split("gallery")[1].split("</figure>")[0]


def test_form_errors_are_shown_in_vietnamese(client, factory, csrf_off):
    shop = factory.shop()
    sign_in(client, shop.members[0].user)
    r = client.post(
        f"/kenh-ban/{shop.slug}/san-pham/moi",
        data={
            "title": "",
            "price_vnd": "abc",
            "status": "active",
            "category_id": 0,
            "ocop_stars": "",
            "ocop_level": "",
        },
    )
    html = r.get_data(as_text=True)
    assert (
        "Vui lòng nhập tên sản phẩm." in html
        and "Số tiền phải là số nguyên đồng" in html
        and "Vui lòng chọn danh mục." in html
    )


def test_nine_images_refused(factory):
    with pytest.raises(ValidationFailed) as exc:
        factory.listing(images=[image_bytes(color=(i, 0, 0)) for i in range(9)])
    assert "Tối đa 8 ảnh" in exc.value.field_errors["images"][0]


def test_category_page_paginates_and_sorts(client, factory, app):
    app.config["PER_PAGE"] = 2
    shop = factory.shop()
    fruit = factory.category("Trái cây")
    orange = factory.category("Cam", parent=fruit)
    for title, price in (("Cam A", 30000), ("Cam B", 10000), ("Cam C", 20000)):
        factory.listing(shop=shop, title=title, price=price, category=orange)
    outbox.drain()  # a category page is a search within the category: the worker indexes them
    page1 = client.get(f"/danh-muc/{fruit.slug}?sort=price_asc").get_data(as_text=True)
    assert page1.index("Cam B") < page1.index("Cam C") and "Cam A" not in page1 and "Trang 1 / 2" in page1
    page2 = client.get(f"/danh-muc/{fruit.slug}?sort=price_asc&page=2").get_data(as_text=True)
    assert "Cam A" in page2
