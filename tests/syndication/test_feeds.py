"""The pull feeds: Google Merchant Center's RSS with every required attribute in its format, the
same items as CSV and JSON, exactly the opted-in public listings, and conditional GET."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from urllib.parse import urlparse

from catalog import services as catalog_services
from marketplace.extensions import db
from sellers.services import suspend_shop
from syndication import channels

G = "{http://base.google.com/ns/1.0}"
REQUIRED = ("id", "title", "description", "link", "image_link", "availability", "price", "condition")


def google_items(client) -> dict[str, dict[str, str]]:
    response = client.get("/feeds/google-merchant.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None and channel.findtext("title") and channel.findtext("link")
    out = {}
    for item in channel.findall("item"):
        fields = {child.tag.removeprefix(G): (child.text or "") for child in item}
        out[fields["id"]] = fields
    return out


def check_item(fields: dict[str, str]) -> None:
    for name in REQUIRED:
        assert fields.get(name), f"missing g:{name}"
    assert len(fields["id"]) <= 50
    assert len(fields["title"]) <= 150
    assert len(fields["description"]) <= 5000
    for name in ("link", "image_link"):
        url = urlparse(fields[name])
        assert url.scheme in ("http", "https") and url.netloc, fields[name]
    assert fields["availability"] in ("in_stock", "out_of_stock")
    assert re.fullmatch(r"[1-9][0-9]* VND|0 VND", fields["price"]), fields["price"]
    assert fields["condition"] == "new"
    assert fields["identifier_exists"] == "no"  # produce has no GTIN


def test_google_feed_lists_opted_in_public_listings_with_every_attribute(app, client, factory, opted_in):
    long_title = "Cam bù Hương Sơn " + "ngọt " * 40
    shown = opted_in(
        title=long_title[:160], price=45000, stock=10, description="<p>Cam <b>chín</b> & thơm</p>" * 600
    )
    sold_out = opted_in(title="Bưởi Phúc Trạch", price=60000, stock=0)
    factory.listing(title="Không chọn kênh", images=None)  # its shop never opted in
    opted_in(title="Nháp", status="draft")
    opted_in(title="Không ảnh", images=None)  # Google refuses an item without a photo

    items = google_items(client)
    assert set(items) == {f"HT-{shown.id}", f"HT-{sold_out.id}"}
    for fields in items.values():
        check_item(fields)
    first = items[f"HT-{shown.id}"]
    assert first["price"] == "45000 VND"
    assert first["availability"] == "in_stock"
    assert first["link"] == f"http://localhost/san-pham/{shown.slug}"
    assert first["image_link"].startswith("http://localhost/media/img/")
    assert first["description"].startswith("Cam chín & thơm")
    assert len(first["title"]) <= 150 and first["title"].endswith("…")
    assert items[f"HT-{sold_out.id}"]["availability"] == "out_of_stock"


def test_toggled_off_sold_out_hidden_and_suspended_change_the_next_feed(app, client, factory, opted_in):
    operator = factory.operator()
    a = opted_in(title="Cam bù", stock=3)
    b = opted_in(title="Mật ong rừng", stock=2)
    c = opted_in(title="Kẹo cu đơ", stock=5)
    d = opted_in(title="Nhút Thanh Chương", stock=5)
    assert set(google_items(client)) == {f"HT-{x.id}" for x in (a, b, c, d)}

    channels.set_listing_channel(a.id, "feeds", False)  # the producer takes it off the feeds
    b.stock = 0  # sold out
    catalog_services.hide_listing(c, "Ảnh không đúng sản phẩm", actor=operator)
    suspend_shop(d.shop, "Vi phạm quy định", actor=operator)
    db.session.commit()

    items = google_items(client)
    assert set(items) == {f"HT-{b.id}"}
    assert items[f"HT-{b.id}"]["availability"] == "out_of_stock"


def test_csv_and_json_carry_the_same_items(client, opted_in):
    a = opted_in(title='Cam "bù", loại 1', price=45000)
    b = opted_in(title="=SUM(A1)", price=30000, stock=0)
    google = google_items(client)

    response = client.get("/feeds/listings.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert {row["id"] for row in rows} == set(google)
    by_id = {row["id"]: row for row in rows}
    assert by_id[f"HT-{a.id}"]["title"] == 'Cam "bù", loại 1'
    assert by_id[f"HT-{a.id}"]["price"] == "45000 VND"
    assert by_id[f"HT-{b.id}"]["title"] == "'=SUM(A1)"  # never a formula in a spreadsheet
    assert by_id[f"HT-{b.id}"]["availability"] == "out_of_stock"

    response = client.get("/feeds/listings.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = json.loads(response.data)
    assert {item["id"] for item in data["items"]} == set(google)
    item = next(i for i in data["items"] if i["id"] == f"HT-{a.id}")
    assert item["price"] == {"value": 45000, "currency": "VND"}
    assert item["link"] == google[f"HT-{a.id}"]["link"]


def test_etag_and_last_modified_answer_304_until_something_changes(client, opted_in):
    listing = opted_in(title="Cam bù", stock=3)
    for url in ("/feeds/google-merchant.xml", "/feeds/listings.csv", "/feeds/listings.json"):
        first = client.get(url)
        assert first.status_code == 200 and first.get_data()  # streamed, read to the end
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        assert etag and modified
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
        assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304

    response = client.get("/feeds/google-merchant.xml")
    etag = response.headers["ETag"]
    response.get_data()
    channels.set_listing_channel(listing.id, "feeds", False)
    db.session.commit()
    again = client.get("/feeds/google-merchant.xml", headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.get_data()
    assert again.headers["ETag"] != etag
    assert google_items(client) == {}


def test_a_listing_leaving_the_feed_is_never_answered_not_modified(client, factory, opted_in):
    """A fetcher that sends only If-Modified-Since must see the feed change when its newest
    listing leaves it (Last-Modified must not step back to the next newest)."""
    from datetime import timedelta

    from sqlalchemy import update

    from catalog.models import Listing
    from marketplace.timeutil import utcnow
    from sellers.models import Shop
    from syndication.models import ListingChannel, ShopChannel

    operator = factory.operator()
    older = opted_in(title="Cam bù", stock=3)
    newest = opted_in(title="Mật ong rừng", stock=2)
    long_ago, recently = utcnow() - timedelta(hours=2), utcnow() - timedelta(hours=1)
    for model in (Listing, Shop, ShopChannel, ListingChannel):
        db.session.execute(update(model).values(updated_at=long_ago))
    db.session.execute(update(Listing).where(Listing.id == newest.id).values(updated_at=recently))
    db.session.commit()
    db.session.expire_all()
    for url in ("/feeds/google-merchant.xml", "/feeds/listings.csv", "/feeds/listings.json"):
        first = client.get(url)
        first.get_data()
        assert first.status_code == 200

    modified = first.headers["Last-Modified"]
    catalog_services.hide_listing(db.session.get(Listing, newest.id), "Ảnh không đúng", actor=operator)
    db.session.commit()
    again = client.get("/feeds/google-merchant.xml", headers={"If-Modified-Since": modified})
    assert again.status_code == 200
    assert set(google_items(client)) == {f"HT-{older.id}"}


def test_xml_special_and_control_characters_never_break_the_feed(client, factory, opted_in):
    """& and < are escaped; a control character (stored before the forms dropped them) in any
    field, the shop's and the category's names included, is left out, not the whole feed."""
    from sqlalchemy import update

    from catalog.models import Category, Listing
    from sellers.models import Shop

    listing = opted_in(title="Cam & bưởi <loại 1>", stock=3)
    db.session.execute(update(Shop).where(Shop.id == listing.shop_id).values(name="HTX\x0b Cam & Co"))
    db.session.execute(
        update(Category).where(Category.id == listing.category_id).values(name="Trái\x01 cây <tươi>")
    )
    db.session.execute(update(Listing).where(Listing.id == listing.id).values(title="Cam\x08 & bưởi <1>"))
    db.session.commit()
    item = google_items(client)[f"HT-{listing.id}"]
    check_item(item)
    assert (item["title"], item["brand"], item["product_type"]) == (
        "Cam & bưởi <1>",
        "HTX Cam & Co",
        "Trái cây <tươi>",
    )


def test_the_etag_moves_when_an_order_takes_stock(client, opted_in):
    """Stock taken by the checkout's conditional UPDATE (a bulk UPDATE, not the ORM) still moves
    the validator: the feed's availability depends on it."""
    from orders.services import reserve_stock

    listing = opted_in(title="Cam bù", stock=1)
    first = client.get("/feeds/google-merchant.xml")
    etag = first.headers["ETag"]
    first.get_data()
    reserve_stock({listing.id: listing}, {listing.id: 1})
    db.session.commit()
    again = client.get("/feeds/google-merchant.xml", headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert google_items(client)[f"HT-{listing.id}"]["availability"] == "out_of_stock"


def test_a_new_cover_or_a_removed_one_is_never_answered_not_modified(client, factory, opted_in):
    """The feed's g:image_link is the cover: making another photo the cover, or removing the
    cover, changes the feed, so neither If-None-Match nor If-Modified-Since may answer 304."""
    from datetime import timedelta

    from sqlalchemy import update

    from catalog.models import Listing
    from marketplace.timeutil import utcnow
    from sellers.models import Shop
    from syndication.models import ListingChannel, ShopChannel
    from tests.support import image_bytes

    listing = opted_in(title="Cam bù", stock=3, images=[image_bytes(), image_bytes(color=(200, 30, 30))])
    owner = next(m.user for m in listing.shop.members if m.role == "owner")

    for change in ("cover", "remove"):
        for model in (Listing, Shop, ShopChannel, ListingChannel):  # everything changed long ago
            db.session.execute(update(model).values(updated_at=utcnow() - timedelta(hours=2)))
        db.session.commit()
        db.session.expire_all()
        first = client.get("/feeds/google-merchant.xml")
        first.get_data()
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        before = google_items(client)[f"HT-{listing.id}"]["image_link"]
        listing = db.session.get(Listing, listing.id)
        cover, other = listing.images[0], listing.images[1]
        if change == "cover":
            catalog_services.make_cover(listing, other.id, actor=owner)
        else:
            catalog_services.remove_image(listing, cover.id, actor=owner)
        db.session.commit()
        assert google_items(client)[f"HT-{listing.id}"]["image_link"] != before
        assert client.get("/feeds/google-merchant.xml", headers={"If-None-Match": etag}).status_code == 200
        assert (
            client.get("/feeds/google-merchant.xml", headers={"If-Modified-Since": modified}).status_code
            == 200
        )


def test_an_unapproved_shop_an_archived_listing_and_the_push_channels_only_stay_out(
    client, factory, opted_in
):
    shown = opted_in(title="Cam bù")
    pending = opted_in(title="Chưa duyệt").shop
    pending.status = "pending"  # a shop not (or no longer) approved by the operator
    archived = opted_in(title="Đã lưu trữ")
    catalog_services.set_listing_status(
        archived, "archived", actor=next(m.user for m in archived.shop.members if m.role == "owner")
    )
    opted_in(channels_on=("shopee",), title="Chỉ Shopee")  # opted in to a platform, not the feeds
    db.session.commit()
    ids = {f"HT-{shown.id}"}
    assert set(google_items(client)) == ids
    rows = client.get("/feeds/listings.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()[1:]
    assert {row.split(",")[0] for row in rows} == ids
    assert {item["id"] for item in client.get("/feeds/listings.json").get_json()["items"]} == ids
