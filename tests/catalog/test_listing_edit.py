"""Editing a listing through the seller's pages: its fields (shown as saved, changed, refused with
the messages on the form), its pictures (add, remove, choose the cover) and its status (draft,
on sale, withdrawn)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from catalog.models import Listing, ListingImage
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from tests.support import form_fields, image_bytes, page_form, reloaded, sign_in


@pytest.fixture
def listing(factory):
    shop = factory.shop(name="Hộ ông Ba")
    return factory.listing(
        shop=shop,
        title="Cam bù Hương Sơn",
        price=45_000,
        stock=10,
        category=factory.category("Trái cây"),
        origin="Hương Sơn",
        certifications="VietGAP",
        ocop_stars=4,
        ocop_certificate_no="OCOP-HT-1",
        ocop_level="province",
        ocop_issued_on="15/03/2024",
    )


@pytest.fixture
def seller(client, listing):
    """The shop's owner, signed in on `client`, CSRF tokens and all (read from the pages)."""
    return sign_in(client, listing.shop.members[0].user)


def _url(listing: Listing, tail: str = "") -> str:
    return f"/kenh-ban/{listing.shop.slug}/san-pham/{listing.id}{tail}"


def _fields(seller, listing: Listing) -> dict:
    return page_form(seller, _url(listing))


def _events(listing: Listing) -> int:
    return len(
        [e for e in db.session.scalars(select(OutboxEvent)) if e.payload.get("listing_id") == listing.id]
    )


# --- fields --------------------------------------------------------------------------------------


def test_the_edit_page_shows_what_was_saved(seller, listing):
    fields = _fields(seller, listing)
    assert fields["title"] == "Cam bù Hương Sơn"
    assert fields["price_vnd"] == "45000" and fields["stock"] == "10" and fields["unit"] == "kg"
    assert fields["category_id"] == str(listing.category_id) and fields["status"] == "active"
    assert fields["origin"] == "Hương Sơn" and fields["certifications"] == "VietGAP"
    assert (fields["ocop_stars"], fields["ocop_level"], fields["ocop_issued_on"]) == (
        "4",
        "province",
        "15/03/2024",
    )
    assert fields["csrf_token"]


def test_saving_the_form_changes_the_listing_and_announces_it(seller, listing):
    before = _events(listing)
    fields = _fields(seller, listing)
    fields.update(
        title="Cam bù Hương Sơn loại 1",
        price_vnd="52.000",
        stock="1.200",
        min_order_qty="2",
        weight_grams="1500",
        description="Vỏ mỏng, múi mọng.\n\nThu hoạch tháng 10.",
        certifications="VietGAP; Hữu cơ",
        batch_code="LO-2025-11",
    )
    r = seller.post(_url(listing), data=fields)
    assert r.status_code == 302 and r.headers["Location"] == _url(listing)
    saved = reloaded(listing)
    assert (saved.title, saved.price_vnd, saved.stock, saved.min_order_qty, saved.weight_grams) == (
        "Cam bù Hương Sơn loại 1",
        52_000,
        1_200,
        2,
        1_500,
    )
    assert saved.description == "<p>Vỏ mỏng, múi mọng.</p><p>Thu hoạch tháng 10.</p>"
    assert saved.certifications == ["VietGAP", "Hữu cơ"] and saved.batch_code == "LO-2025-11"
    assert saved.slug == listing.slug  # the address stays what QR codes and links point to
    assert _events(listing) == before + 1
    page = seller.get(r.headers["Location"]).get_data(as_text=True)
    assert "Đã lưu thay đổi." in page and form_fields(page)["price_vnd"] == "52000"
    public = seller.get(f"/san-pham/{saved.slug}").get_data(as_text=True)
    assert "Cam bù Hương Sơn loại 1" in public and "52.000\xa0₫" in public


def test_every_problem_is_shown_on_the_form_and_nothing_is_saved(seller, listing):
    fields = _fields(seller, listing)
    fields.update(title="", unit="", stock="-3", min_order_qty="0", ocop_certificate_no="", ocop_issued_on="")
    r = seller.post(_url(listing), data=fields)
    assert r.status_code == 200  # the form again, with what was typed
    html = r.get_data(as_text=True)
    for message in (
        "Vui lòng nhập tên sản phẩm.",
        "Vui lòng nhập đơn vị bán",
        "Không được là số âm.",
        "Phải lớn hơn 0.",
        "Sản phẩm OCOP cần số giấy chứng nhận và ngày công nhận.",
    ):
        assert message in html, message
    assert form_fields(html)["stock"] == "-3"
    saved = reloaded(listing)
    assert (saved.title, saved.unit, saved.stock, saved.ocop_certificate_no) == (
        "Cam bù Hương Sơn",
        "kg",
        10,
        "OCOP-HT-1",
    )


@pytest.mark.parametrize("price", ["45000.5", "45,5", "1.5e5"])
def test_a_price_with_a_decimal_part_is_refused_not_scaled(seller, listing, price):
    """The form used to turn "45000.5" into 450 005 đồng and "45,5" into 455."""
    fields = _fields(seller, listing)
    fields["price_vnd"] = price
    r = seller.post(_url(listing), data=fields)
    assert r.status_code == 200 and "Số tiền phải là số nguyên đồng" in r.get_data(as_text=True)
    assert reloaded(listing).price_vnd == 45_000


def test_staff_edit_listings_too_but_not_another_shops(client, factory, listing):
    staff = factory.user(email="nhan-vien@example.vn")
    from sellers.models import ShopMember

    db.session.add(ShopMember(shop_id=listing.shop_id, user_id=staff.id, role="staff"))
    db.session.commit()
    sign_in(client, staff)
    fields = form_fields(client.get(_url(listing)).get_data(as_text=True))
    assert client.post(_url(listing), data={**fields, "stock": "7"}).status_code == 302
    assert reloaded(listing).stock == 7
    other = factory.listing(title="Bưởi Phúc Trạch")  # another shop's
    assert client.get(f"/kenh-ban/{listing.shop.slug}/san-pham/{other.id}").status_code == 404


# --- pictures ------------------------------------------------------------------------------------


def _upload(seller, listing, *images: bytes, **changes):
    fields = {**_fields(seller, listing), **changes}
    files = [(io.BytesIO(blob), f"anh-{n}.jpg") for n, blob in enumerate(images)]
    return seller.post(_url(listing), data={**fields, "images": files}, content_type="multipart/form-data")


def _pictures(listing: Listing) -> list[tuple[int, str]]:
    return [(img.position, img.key) for img in reloaded(listing).images]


def test_pictures_are_added_with_the_form(seller, listing):
    r = _upload(seller, listing, image_bytes(color=(200, 0, 0)), image_bytes(color=(0, 200, 0)))
    assert r.status_code == 302
    assert [position for position, _key in _pictures(listing)] == [0, 1]
    r = _upload(seller, listing, image_bytes(color=(0, 0, 200)))
    assert [position for position, _key in _pictures(listing)] == [0, 1, 2]  # added after the others
    page = seller.get(_url(listing)).get_data(as_text=True)
    assert page.count("Làm ảnh bìa") == 2 and page.count(">Xoá<") == 3  # the cover has no "make cover"


def test_a_ninth_picture_or_a_file_that_is_no_picture_is_refused_and_nothing_changes(seller, listing):
    _upload(seller, listing, *(image_bytes(color=(n, 0, 0)) for n in range(7)))
    r = _upload(seller, listing, image_bytes(color=(1, 1, 1)), image_bytes(color=(2, 2, 2)), title="Đổi tên")
    assert r.status_code == 200 and "Tối đa 8 ảnh cho mỗi sản phẩm." in r.get_data(as_text=True)
    assert len(_pictures(listing)) == 7 and reloaded(listing).title == "Cam bù Hương Sơn"  # all or nothing
    r = _upload(seller, listing, b"not a picture at all")
    assert r.status_code == 200 and len(_pictures(listing)) == 7
    assert "Tệp tải lên không phải là ảnh hợp lệ." in r.get_data(as_text=True)


def test_a_picture_is_removed_and_the_rest_close_up(seller, listing):
    _upload(seller, listing, *(image_bytes(color=(n * 40, 0, 0)) for n in range(3)))
    first, second, third = (key for _position, key in _pictures(listing))
    image_id = db.session.scalar(select(ListingImage.id).where(ListingImage.key == second))
    token = _fields(seller, listing)["csrf_token"]
    r = seller.post(_url(listing, f"/anh/{image_id}/xoa"), data={"csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == _url(listing)
    assert _pictures(listing) == [(0, first), (1, third)]


def test_any_picture_can_become_the_cover(seller, listing):
    _upload(seller, listing, *(image_bytes(color=(0, n * 40, 0)) for n in range(3)))
    first, second, third = (key for _position, key in _pictures(listing))
    image_id = db.session.scalar(select(ListingImage.id).where(ListingImage.key == third))
    token = _fields(seller, listing)["csrf_token"]
    assert (
        seller.post(_url(listing, f"/anh/{image_id}/anh-bia"), data={"csrf_token": token}).status_code == 302
    )
    assert _pictures(listing) == [(0, third), (1, first), (2, second)]
    public = seller.get(f"/san-pham/{listing.slug}").get_data(as_text=True)
    assert public.index(third) < public.index(first)  # the gallery opens with the cover


def test_picture_buttons_refuse_what_they_do_not_know(seller, listing, factory):
    _upload(seller, listing, image_bytes())
    image_id = reloaded(listing).images[0].id
    token = _fields(seller, listing)["csrf_token"]
    assert seller.post(_url(listing, f"/anh/{image_id}/xoay"), data={"csrf_token": token}).status_code == 404
    assert seller.post(_url(listing, f"/anh/{image_id}/xoa"), data={}).status_code == 400  # no CSRF token
    other = factory.listing(title="Bưởi", images=[image_bytes(color=(9, 9, 9))])
    foreign = other.images[0].id  # a picture of another shop's listing
    assert seller.post(_url(listing, f"/anh/{foreign}/xoa"), data={"csrf_token": token}).status_code == 404
    assert len(reloaded(other).images) == 1 and len(_pictures(listing)) == 1


# --- status --------------------------------------------------------------------------------------


def _set_status(seller, listing, status: str):
    token = _fields(seller, listing)["csrf_token"]
    return seller.post(
        _url(listing, f"/trang-thai/{status}"), data={"csrf_token": token}, follow_redirects=True
    )


def test_a_listing_is_withdrawn_and_put_back_on_sale(seller, listing):
    published = listing.published_at
    page = _set_status(seller, listing, "archived").get_data(as_text=True)
    assert "Đã cập nhật trạng thái." in page and "Đăng bán" in page  # the button to put it back
    assert reloaded(listing).status == "archived"
    assert seller.get(f"/san-pham/{listing.slug}").status_code == 404
    page = _set_status(seller, listing, "active").get_data(as_text=True)
    assert "Ngừng bán" in page
    saved = reloaded(listing)
    assert saved.status == "active" and saved.published_at == published
    assert seller.get(f"/san-pham/{listing.slug}").status_code == 200


def test_the_form_saves_a_draft_that_nobody_else_sees(seller, listing):
    fields = _fields(seller, listing)
    assert seller.post(_url(listing), data={**fields, "status": "draft"}).status_code == 302
    assert reloaded(listing).status == "draft"
    assert seller.get(f"/san-pham/{listing.slug}").status_code == 404
    listed = seller.get(f"/kenh-ban/{listing.shop.slug}/san-pham/?status=draft").get_data(as_text=True)
    assert "Cam bù Hương Sơn" in listed


def test_a_shop_not_yet_approved_cannot_put_a_listing_on_sale(client, factory):
    pending = factory.shop(approved=False)
    draft = factory.listing(shop=pending, status="draft")
    sign_in(client, pending.members[0].user)
    page = _set_status(client, draft, "active").get_data(as_text=True)
    assert "Cửa hàng chưa được duyệt nên chưa thể đăng bán." in page
    assert reloaded(draft).status == "draft"
    fields = form_fields(client.get(_url(draft)).get_data(as_text=True))
    r = client.post(_url(draft), data={**fields, "status": "active"})
    assert r.status_code == 200 and "Cửa hàng chưa được duyệt" in r.get_data(as_text=True)
    assert reloaded(draft).status == "draft"


def test_an_unknown_status_is_refused(seller, listing):
    page = _set_status(seller, listing, "sold-out").get_data(as_text=True)
    assert "Trạng thái không hợp lệ." in page and reloaded(listing).status == "active"
