"""Addresses for the whole country at checkout: province then commune (a plain form without
JavaScript), the fee of the buyer's zone on the quote, the order and the packing slip, a zone a
shop refuses explained with nothing placed, and the names an order keeps."""

from __future__ import annotations

import re

import pytest
from orders_testlib import payment_code
from sqlalchemy import func, select

from catalog.models import Listing
from marketplace.communes import correct_commune, import_official
from marketplace.extensions import db
from marketplace.models import Commune
from orders.models import Order, Payment
from tests.support import form_fields, sign_in

HA_NOI = "Thành phố Hà Nội"


@pytest.fixture
def country(app):
    """The official units of the shop's province, a neighbour and the capital."""
    for province in ("Hà Tĩnh", "Nghệ An", "Hà Nội"):
        import_official(province)
    db.session.commit()


def commune(name: str, province: str) -> Commune:
    return db.session.scalar(select(Commune).where(Commune.province == province, Commune.name == name))


def choose_province(client, province: str, **typed) -> str:
    """Checkout without JavaScript: choose the province and press "Chọn"; the page comes back
    with its communes and the fees to it, keeping what was typed."""
    page = client.get("/thanh-toan").get_data(as_text=True)
    fields = form_fields(page)
    response = client.post(
        "/thanh-toan", data={**fields, **typed, "province": province, "address_refresh": "1"}
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page
    )
    assert match, name
    return match.group(1)


def test_a_ha_noi_address_pays_the_rest_of_the_country_fee(app, client, factory, shopper, country):
    owner = factory.user(role="producer")
    shop = factory.shop(owner=owner, name="HTX Cam Hương Sơn")
    listing = factory.listing(shop=shop, title="Cam bù", price=100_000, stock=10, weight_grams=1500)
    assert shopper.add(listing, 1).status_code == 302

    # Before an address: each shop's fee within its province (25.000 ₫ for 1,5 kg).
    first = client.get("/thanh-toan").get_data(as_text=True)
    assert "25.000" in first and '<option selected value="Hà Tĩnh">' in first
    assert "Xã Kỳ Xuân" in first and "Phường Hoàn Kiếm" not in first

    page = choose_province(client, HA_NOI, receiver_name="Lê Thu Hà")
    assert 'value="Lê Thu Hà"' in page  # what was typed stays
    assert "Phường Hoàn Kiếm" in page and "Xã Kỳ Xuân" not in page
    # Rest of the country: 40.000 ₫ + 10.000 ₫ from 1 kg.
    assert "Các tỉnh khác" in page and "50.000" in page and "150.000" in page
    hoan_kiem = commune("Phường Hoàn Kiếm", HA_NOI)
    response = shopper.checkout(
        "cod",
        province=HA_NOI,
        commune_id=hoan_kiem.id,
        address_line="12 Hàng Bài",
        quote=hidden(page, "quote"),
        token=hidden(page, "token"),
    )
    order = db.session.scalar(select(Order).where(Order.code == f"{payment_code(response)}-1"))
    assert (order.shipping_zone, order.shipping_vnd, order.total_vnd) == ("country", 50_000, 150_000)
    assert (order.commune_name, order.province) == ("Phường Hoàn Kiếm", HA_NOI)
    assert order.address == "12 Hàng Bài, Phường Hoàn Kiếm, Thành phố Hà Nội"

    seller = sign_in(app.test_client(), owner)
    shop_page = seller.get(f"/kenh-ban/{shop.slug}/don-hang/{order.code}").get_data(as_text=True)
    assert "Phường Hoàn Kiếm, Thành phố Hà Nội" in shop_page and "Các tỉnh khác" in shop_page
    slip = seller.get(f"/kenh-ban/{shop.slug}/don-hang/{order.code}/phieu-dong-goi").get_data(as_text=True)
    assert "12 Hàng Bài, Phường Hoàn Kiếm, Thành phố Hà Nội" in slip
    assert re.search(r"Vùng giao: Các tỉnh khác · Phí vận chuyển: 50\.000", slip)
    buyer_page = client.get(f"/don-hang/{order.code}").get_data(as_text=True)
    assert "Các tỉnh khác" in buyer_page and "50.000" in buyer_page


def test_a_neighbouring_province_pays_the_neighbour_fee(client, factory, shopper, country):
    listing = factory.listing(price=100_000, stock=10, weight_grams=2500)
    shopper.add(listing, 1)
    page = choose_province(client, "Nghệ An")
    assert "Tỉnh lân cận" in page and "45.000" in page  # 30.000 ₫ + 15.000 ₫ from 2 kg
    vinh = commune("Phường Thành Vinh", "Nghệ An")
    response = shopper.checkout(
        "cod",
        province="Nghệ An",
        commune_id=vinh.id,
        quote=hidden(page, "quote"),
        token=hidden(page, "token"),
    )
    order = db.session.scalar(select(Order).where(Order.code == f"{payment_code(response)}-1"))
    assert (order.shipping_zone, order.shipping_vnd) == ("neighbour", 45_000)


def test_an_address_in_another_zone_than_the_quote_is_shown_again(client, factory, shopper, country):
    """Without pressing "Chọn": the fee to the address is shown before anything is placed."""
    shopper.add(factory.listing(price=100_000, stock=10, weight_grams=500), 1)
    hoan_kiem = commune("Phường Hoàn Kiếm", HA_NOI)
    response = shopper.checkout("cod", province=HA_NOI, commune_id=hoan_kiem.id)  # quote of Hà Tĩnh
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "phí vận chuyển vừa thay đổi" in page and "40.000" in page
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_the_commune_must_lie_in_the_chosen_province(client, factory, shopper, country):
    shopper.add(factory.listing(stock=10), 1)
    ky_xuan = commune("Xã Kỳ Xuân", "Hà Tĩnh")
    response = shopper.checkout("cod", province=HA_NOI, commune_id=ky_xuan.id)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Xã/phường đã chọn không thuộc Thành phố Hà Nội" in page
    assert "Phường Hoàn Kiếm" in page  # the chosen province's communes, to choose again
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def _refuse(app, owner, shop, *zones_served: str) -> None:
    """The shop's shipping page: serve only `zones_served` besides its province."""
    seller = sign_in(app.test_client(), owner)
    data = form_fields(seller.get(f"/kenh-ban/{shop.slug}/van-chuyen").get_data(as_text=True))
    for zone in ("neighbour", "country"):
        data.pop(f"{zone}_ships", None)
        if zone in zones_served:
            data[f"{zone}_ships"] = "1"
    assert seller.post(f"/kenh-ban/{shop.slug}/van-chuyen", data=data).status_code == 302


def test_a_refused_zone_is_explained_and_nothing_is_placed(app, client, factory, shopper, country):
    owner = factory.user(role="producer")
    fresh = factory.shop(owner=owner, name="Rau sạch Cẩm Xuyên")
    greens = factory.listing(shop=fresh, title="Rau muống nhà lưới", price=20_000, stock=30)
    honey = factory.listing(title="Mật ong rừng", price=250_000, stock=5)  # another shop, ships anywhere
    _refuse(app, owner, fresh)  # within Hà Tĩnh only

    listing_page = client.get(f"/san-pham/{greens.slug}").get_data(as_text=True)
    assert "Chỉ giao trong tỉnh Hà Tĩnh." in listing_page
    assert "Chỉ giao trong" not in client.get(f"/san-pham/{honey.slug}").get_data(as_text=True)

    shopper.add(greens, 2)
    shopper.add(honey, 1)
    page = choose_province(client, HA_NOI)
    assert (
        "Rau sạch Cẩm Xuyên không giao tới Thành phố Hà Nội: “Rau muống nhà lưới”. Vui lòng bỏ các sản phẩm"
        in page
    )
    assert "Xác nhận đặt hàng" not in page and "Có sản phẩm không giao tới địa chỉ đã chọn" in page
    # Posted anyway: refused with the same explanation, nothing kept.
    hoan_kiem = commune("Phường Hoàn Kiếm", HA_NOI)
    response = shopper.checkout(
        "cod",
        province=HA_NOI,
        commune_id=hoan_kiem.id,
        quote=hidden(page, "quote"),
        token=hidden(page, "token"),
    )
    assert response.status_code == 409
    assert "không giao tới Thành phố Hà Nội: “Rau muống nhà lưới”" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0
    db.session.expire_all()
    assert db.session.get(Listing, greens.id).stock == 30

    # The same cart to a Hà Tĩnh address goes through.
    response = shopper.checkout("cod", province="Hà Tĩnh", commune_id=commune("Xã Kỳ Xuân", "Hà Tĩnh").id)
    assert (
        db.session.scalar(
            select(func.count()).select_from(Order).where(Order.payment.has(code=payment_code(response)))
        )
        == 2
    )


def test_a_shop_serving_its_neighbours_says_which(app, client, factory, country):
    owner = factory.user(role="producer")
    shop = factory.shop(owner=owner)
    tea = factory.listing(shop=shop, title="Chè xanh tươi")
    _refuse(app, owner, shop, "neighbour")
    page = client.get(f"/san-pham/{tea.slug}").get_data(as_text=True)
    assert "Chỉ giao trong tỉnh Hà Tĩnh và các tỉnh lân cận (Nghệ An, Quảng Trị)." in page


def test_the_shipping_page_edits_every_zone(app, factory):
    from orders.models import ShippingRule

    owner = factory.user(role="producer")
    shop = factory.shop(owner=owner)
    seller = sign_in(app.test_client(), owner)
    url = f"/kenh-ban/{shop.slug}/van-chuyen"
    page = seller.get(url).get_data(as_text=True)
    assert "Nội tỉnh" in page and "Tỉnh lân cận" in page and "Các tỉnh khác" in page
    assert "Nghệ An, Quảng Trị" in page  # who the neighbours are
    data = form_fields(page)
    assert (data["province_flat_fee_vnd"], data["neighbour_flat_fee_vnd"], data["country_flat_fee_vnd"]) == (
        "25000",
        "30000",
        "40000",
    )
    # Serving the whole country but not the neighbours makes no sense: refused, nothing saved.
    wrong = {k: v for k, v in data.items() if k != "neighbour_ships"}
    response = seller.post(url, data=wrong)
    assert "cũng cần giao tới các tỉnh lân cận" in response.get_data(as_text=True)
    assert db.session.get(ShippingRule, shop.id) is None
    data.update(country_flat_fee_vnd="55.000", country_tier_grams_0="", country_tier_fee_0="")
    assert seller.post(url, data=data).status_code == 302
    rule = db.session.get(ShippingRule, shop.id)
    country = next(z for z in rule.zones if z.zone == "country")
    assert (country.flat_fee_vnd, country.ships, country.tiers[0]) == (55_000, True, [2_000, 25_000])
    assert {z.zone for z in rule.zones} == {"province", "neighbour", "country"}


def test_an_order_keeps_the_address_names_after_the_commune_is_renamed(
    app, client, factory, shopper, country
):
    ky_xuan = commune("Xã Kỳ Xuân", "Hà Tĩnh")
    shopper.commune_id = ky_xuan.id
    shopper.add(factory.listing(stock=5), 1)
    order = db.session.scalar(
        select(Order).where(Order.code == f"{payment_code(shopper.checkout('cod', province='Hà Tĩnh'))}-1")
    )
    assert order.address == "Thôn 2, Xã Kỳ Xuân, Hà Tĩnh"

    correct_commune(
        ky_xuan,
        {"name": "Xã Kỳ Xuân Mới", "kind": "xa", "province": "Hà Tĩnh", "code": "18766"},
        actor=factory.operator(),
    )
    db.session.commit()
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.commune.name == "Xã Kỳ Xuân Mới"  # the list changed…
    assert order.address == "Thôn 2, Xã Kỳ Xuân, Hà Tĩnh"  # …the order did not
    assert "Thôn 2, Xã Kỳ Xuân, Hà Tĩnh" in client.get(f"/don-hang/{order.code}").get_data(as_text=True)
    shopper.add(factory.listing(stock=5), 1)
    assert "Xã Kỳ Xuân Mới" in client.get("/thanh-toan").get_data(as_text=True)


def test_a_signed_in_buyer_starts_from_the_last_address(app, factory, country, csrf_off):
    buyer = factory.user()
    client = sign_in(app.test_client(), buyer)
    from orders_testlib import Shopper

    shopper = Shopper(client, commune("Phường Hoàn Kiếm", HA_NOI).id)
    shopper.add(factory.listing(stock=5, weight_grams=500), 1)
    page = choose_province(client, HA_NOI)
    payment_code(
        shopper.checkout("cod", province=HA_NOI, quote=hidden(page, "quote"), token=hidden(page, "token"))
    )
    shopper.add(factory.listing(stock=5, weight_grams=500), 1)
    page = client.get("/thanh-toan").get_data(as_text=True)
    assert f'<option selected value="{HA_NOI}">' in page
    assert re.search(r'<option selected value="\d+">Phường Hoàn Kiếm</option>', page)
    assert "40.000" in page  # the fee to that address at once
