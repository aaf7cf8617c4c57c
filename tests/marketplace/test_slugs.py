"""The slug rule in one place (marketplace/slugs.py), the same for shops, listings and categories,
whether they come from a form, a service or the CSV import."""

from __future__ import annotations

import pytest

from catalog.csv_import import import_listings
from catalog.models import Category, Listing
from catalog.seed import CATEGORY_TREE
from marketplace import slugs
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from sellers.models import Shop
from tests.catalog.test_csv_import import csv_text, row


def test_names_become_slugs_within_their_column():
    assert slugs.slug_of("Cam bù Hương Sơn", Listing) == "cam-bu-huong-son"
    assert slugs.slug_of("Đặc sản  Hà Tĩnh!", Category) == "dac-san-ha-tinh"
    assert slugs.slug_of("???", Shop) == "muc"
    assert (slugs.max_length(Shop), slugs.max_length(Category), slugs.max_length(Listing)) == (80, 120, 160)
    long_name = "Mật ong rừng nguyên chất " * 20
    for model in (Shop, Category, Listing):
        # room left for the "-2"… suffix
        assert len(slugs.slug_of(long_name, model)) <= slugs.max_length(model) - slugs.SUFFIX_ROOM


def test_typed_slugs_are_normalised_and_checked():
    assert slugs.typed_slug("Cam-Bù", Shop) == "cam-bu"
    assert slugs.typed_slug("!!!", Shop) == ""
    assert slugs.is_slug("htx-muc-kho", Shop)
    assert not slugs.is_slug("HTX Mực khô", Shop) and not slugs.is_slug("", Shop)
    assert not slugs.is_slug("a" * 81, Shop)
    # the seeded category tree follows the rule too
    seeded = [slug for slug, _n, _e, children in CATEGORY_TREE for slug in [slug, *(c[0] for c in children)]]
    assert all(slugs.is_slug(slug, Category) for slug in seeded)


def test_the_form_the_service_and_the_import_number_a_taken_slug_alike(factory):
    fruit = factory.category("Trái cây")
    assert fruit.slug == "trai-cay" and factory.category("Trái cây").slug == "trai-cay-2"
    shop = factory.shop(name="Hộ ông Ba")
    first = factory.listing(shop=shop, title="Cam bù Hương Sơn", category=fruit)
    second = factory.listing(shop=shop, title="Cam bù Hương Sơn", category=fruit)
    assert (first.slug, second.slug) == ("cam-bu-huong-son", "cam-bu-huong-son-2")
    result = import_listings(
        csv_text([row(shop, category="trai-cay"), row(shop, category="trai-cay")]).encode(), actor=None
    )
    db.session.commit()
    assert [listing.slug for listing in result.listings] == ["cam-bu-huong-son-3", "cam-bu-huong-son-4"]


def test_many_rows_with_one_name_get_slugs_of_their_own(factory):
    """taken_slugs looks candidates up twenty at a time: 45 new rows over 25 taken slugs."""
    category = factory.category("Mực")
    db.session.add_all(
        Listing(
            shop_id=factory.shop().id,
            category_id=category.id,
            slug=slugs.suffixed("muc-kho", n),
            title="Mực khô",
            unit="kg",
            price_vnd=1,
            stock=0,
            status="draft",
        )
        for n in range(1, 26)
    )
    db.session.commit()
    taken = slugs.taken_slugs(Listing, ["muc-kho"] * 45 + ["muc-tuoi"])
    assert {slugs.suffixed("muc-kho", n) for n in range(1, 26)} <= taken and "muc-tuoi" not in taken
    given = [slugs.free_slug("muc-kho", taken) for _ in range(45)] + [slugs.free_slug("muc-tuoi", taken)]
    assert given[:2] == ["muc-kho-26", "muc-kho-27"] and given[-2:] == ["muc-kho-70", "muc-tuoi"]
    assert len(set(given)) == 46


def test_a_shop_may_choose_its_address(factory):
    name = "Hợp tác xã Chè Xanh"
    assert factory.shop(name=name, slug="Chè-Xanh").slug == "che-xanh"
    for wanted, message in (("che-xanh", "đã có cửa hàng khác dùng"), ("!!!", "chữ không dấu")):
        with pytest.raises(ValidationFailed) as caught:
            factory.shop(name=name, slug=wanted)
        db.session.rollback()
        assert message in caught.value.field_errors["slug"][0]
    assert factory.shop(name=name).slug == "hop-tac-xa-che-xanh"
