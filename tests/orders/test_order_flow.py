"""The order's life: the state machine, the shop's inbox and actions, the buyer's pages, the
mails at each step, cancelling, reordering, completing and reviewing."""

import itertools
from datetime import timedelta

import pytest
from orders_testlib import ShopOrder, drain, place_cod_order
from sqlalchemy import select, update

from catalog.models import Listing
from marketplace.errors import Conflict
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from marketplace.timeutil import utcnow
from orders import states
from orders.models import Order, OrderEvent, Review
from tests.support import read_mails, sign_in


def _fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def test_transition_table_allows_only_the_documented_path():
    path = ["pending_payment", "placed", "confirmed", "packed", "shipped", "delivered", "completed"]
    for current, target in itertools.pairwise(path):
        assert states.can_transition(current, target)
    for status in ("pending_payment", "placed", "confirmed", "packed"):
        assert states.can_transition(status, "cancelled")
    for status in ("shipped", "delivered", "completed", "refunded"):
        assert not states.can_transition(status, "cancelled")
    assert not states.can_transition("placed", "shipped")
    assert not states.can_transition("pending_payment", "confirmed")
    assert not states.can_transition("refunded", "placed")
    assert not states.can_transition("completed", "delivered")
    assert states.can_transition("cancelled", "refunded")  # a paid order that was cancelled


def test_illegal_transition_is_refused_with_a_clear_error(factory, shopper):
    order = place_cod_order(shopper, factory.listing(stock=3))
    with pytest.raises(Conflict) as exc:
        states.transition(order, "shipped", actor=None, actor_role="system")
    assert "Không thể chuyển đơn" in exc.value.message and "Đang giao hàng" in exc.value.message
    db.session.rollback()
    assert _fresh(Order, order.id).status == "placed"


def test_stale_status_loses_the_race(factory, shopper):
    """Two people act on the same order: the second UPDATE finds the status changed."""
    order = place_cod_order(shopper, factory.listing(stock=3))
    db.session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(status="confirmed")
        .execution_options(synchronize_session=False)
    )  # as another process would
    with pytest.raises(Conflict) as exc:
        states.transition(order, "confirmed", actor=None, actor_role="shop")  # order object still says placed
    assert "vừa được cập nhật" in exc.value.message


def test_shop_inbox_and_the_whole_journey(app, client, factory, shopper):
    owner = factory.user(role="producer", email="chu@example.vn")
    shop = factory.shop(owner=owner, name="HTX Cam Khe Mây")
    listing = factory.listing(shop=shop, title="Cam Khe Mây", stock=6, price=60_000)
    order = place_cod_order(shopper, listing, 2)
    code = order.code

    seller = sign_in(app.test_client(), owner)
    inbox = seller.get(f"/kenh-ban/{shop.slug}/don-hang?tab=new").get_data(as_text=True)
    assert code in inbox
    dashboard = seller.get(f"/kenh-ban/{shop.slug}/").get_data(as_text=True)
    assert "Đơn hàng" in dashboard and "Chờ xác nhận" in dashboard
    page = seller.get(f"/kenh-ban/{shop.slug}/don-hang/{code}").get_data(as_text=True)
    assert "Trần Thị Bình" in page and "Thu hộ khi giao" in page
    assert code not in seller.get(f"/kenh-ban/{shop.slug}/don-hang?tab=new").get_data(
        as_text=True
    )  # seen now

    base = f"/kenh-ban/{shop.slug}/don-hang/{code}"
    # Shipping before confirming is refused, plainly.
    html = seller.post(
        f"{base}/ship", data={"carrier": "GHN", "tracking_number": "X1"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Không thể chuyển đơn" in html
    assert seller.post(f"{base}/confirm").status_code == 302
    assert code in seller.get(f"/kenh-ban/{shop.slug}/don-hang?tab=to_pack").get_data(as_text=True)
    assert (
        seller.post(
            f"{base}/pack", data={"parcel_weight_grams": "1200", "parcel_size": "30x20x15"}
        ).status_code
        == 302
    )
    html = seller.post(
        f"{base}/ship", data={"carrier": "", "tracking_number": ""}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Vui lòng nhập đơn vị vận chuyển." in html
    assert (
        seller.post(
            f"{base}/ship", data={"carrier": "Viettel Post", "tracking_number": "VTP123456"}
        ).status_code
        == 302
    )
    slip = seller.get(f"{base}/phieu-dong-goi").get_data(as_text=True)
    assert "Thu hộ (COD): 145.000" in slip and "<svg" in slip and "1200 g" in slip

    buyer_page = client.get(f"/don-hang/{code}").get_data(as_text=True)
    assert "Đang giao hàng" in buyer_page and "VTP123456" in buyer_page and "Vui lòng chuẩn bị" in buyer_page
    # "Delivered" needs its tick: without it nothing changes and the shop is asked again.
    unticked = seller.post(f"{base}/deliver", follow_redirects=True).get_data(as_text=True)
    assert "Hãy đánh dấu xác nhận người mua đã nhận hàng." in unticked
    assert _fresh(Order, order.id).status == "shipped"
    assert seller.post(f"{base}/deliver", data={"confirm": "y"}).status_code == 302

    order = _fresh(Order, order.id)
    assert order.status == "delivered" and order.paid  # COD collected at the door
    assert [e.to_status for e in order.events] == ["placed", "confirmed", "packed", "shipped", "delivered"]
    assert all(e.actor_role == "shop" and e.actor_id == owner.id for e in order.events[1:])
    assert order.parcel_weight_grams == 1200 and order.carrier == "Viettel Post"

    drain()
    subjects = [m["subject"] for m in read_mails(app) if m["to"] == "khach@example.vn"]
    for word in ("Đã nhận đơn hàng", "đã được cửa hàng xác nhận", "đang được giao", "đã giao thành công"):
        assert any(word in s for s in subjects), (word, subjects)

    # The buyer confirms receipt, then reviews each product once.
    assert client.post(f"/don-hang/{code}/da-nhan").status_code == 302
    assert _fresh(Order, order.id).status == "completed"
    line_id = order.lines[0].id
    client.post(f"/don-hang/{code}/danh-gia/{line_id}", data={"stars": "4", "body": "Cam ngọt, mọng nước"})
    html = client.post(
        f"/don-hang/{code}/danh-gia/{line_id}", data={"stars": "1", "body": "lần hai"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Bạn đã đánh giá sản phẩm này." in html
    reviews = db.session.scalars(select(Review)).all()
    assert [(r.stars, r.author_name) for r in reviews] == [(4, "Trần Thị Bình")]
    api = client.get(f"/api/v1/listings/{listing.id}/reviews").get_json()
    assert api["rating"] == 4.0 and api["count"] == 1 and api["reviews"][0]["verified_buyer"] is True


def test_rating_helpers_render_on_pages(app, client, factory, shopper):
    listing = factory.listing(stock=5)
    order = place_cod_order(shopper, listing)
    db.session.add(
        Review(
            order_line_id=order.lines[0].id,
            listing_id=listing.id,
            shop_id=listing.shop_id,
            author_name="Bình",
            stars=5,
            body="Rất ngon",
        )
    )
    db.session.commit()
    with app.test_request_context("/"):
        from flask import render_template_string

        html = render_template_string(
            '{% include "orders/_listing_buy.html" %}{% include "orders/_listing_reviews.html" %}'
            '{% include "orders/_shop_rating.html" %}',
            listing=listing,
            shop=listing.shop,
        )
    assert "5.0/5" in html and "Rất ngon" in html and "Đã mua hàng" in html
    assert 'action="/gio-hang/them"' in html


def test_shop_rejects_with_reason_and_stock_returns(app, client, factory, shopper):
    owner = factory.user(role="producer")
    shop = factory.shop(owner=owner)
    listing = factory.listing(shop=shop, stock=4)
    order = place_cod_order(shopper, listing, 3)
    assert _fresh(Listing, listing.id).stock == 1
    seller = sign_in(app.test_client(), owner)
    base = f"/kenh-ban/{shop.slug}/don-hang/{order.code}"
    html = seller.post(f"{base}/reject", data={"reason": ""}, follow_redirects=True).get_data(as_text=True)
    assert "Vui lòng cho biết lý do từ chối" in html and _fresh(Order, order.id).status == "placed"
    seller.post(f"{base}/reject", data={"reason": "Hết mùa cam"})
    order = _fresh(Order, order.id)
    assert order.status == "cancelled" and order.cancel_reason == "Hết mùa cam"
    assert _fresh(Listing, listing.id).stock == 4 and _fresh(Listing, listing.id).sales_count == 0
    assert code_in_problems(seller, shop, order.code)
    drain()
    mail = next(m for m in read_mails(app) if "đã bị hủy" in m["subject"])
    assert "Hết mùa cam" in mail["body"]


def code_in_problems(seller, shop, code):
    return code in seller.get(f"/kenh-ban/{shop.slug}/don-hang?tab=problems").get_data(as_text=True)


def test_buyer_cancels_only_until_the_shop_confirms(app, client, factory, shopper):
    owner = factory.user(role="producer")
    shop = factory.shop(owner=owner)
    listing = factory.listing(shop=shop, stock=5)
    first = place_cod_order(shopper, listing, 2)
    assert client.post(f"/don-hang/{first.code}/huy", data={"reason": "Đặt nhầm"}).status_code == 302
    assert _fresh(Order, first.id).status == "cancelled" and _fresh(Listing, listing.id).stock == 5
    assert [e.actor_role for e in _fresh(Order, first.id).events] == ["buyer", "buyer"]

    second = place_cod_order(shopper, listing, 1)
    sign_in(app.test_client(), owner).post(f"/kenh-ban/{shop.slug}/don-hang/{second.code}/confirm")
    html = client.post(f"/don-hang/{second.code}/huy", data={}, follow_redirects=True).get_data(as_text=True)
    assert "Cửa hàng đã xác nhận đơn" in html and _fresh(Order, second.id).status == "confirmed"


def test_other_shops_and_strangers_cannot_see_an_order(app, factory, shopper):
    listing = factory.listing(stock=5)
    order = place_cod_order(shopper, listing)
    other_owner = factory.user(role="producer")
    other = factory.shop(owner=other_owner)
    seller = sign_in(app.test_client(), other_owner)
    assert seller.get(f"/kenh-ban/{other.slug}/don-hang/{order.code}").status_code == 404
    assert seller.get(f"/kenh-ban/{listing.shop.slug}/don-hang").status_code == 404
    assert seller.get(f"/don-hang/{order.code}").status_code == 404
    assert seller.post(f"/kenh-ban/{other.slug}/don-hang/{order.code}/confirm").status_code == 404


def test_reorder_puts_the_products_back_in_the_cart(client, factory, shopper):
    listing = factory.listing(stock=9)
    order = place_cod_order(shopper, listing, 2)
    assert client.post(f"/don-hang/{order.code}/mua-lai").status_code == 302
    html = client.get("/gio-hang").get_data(as_text=True)
    assert listing.title in html and 'value="2"' in html


def test_delivered_orders_complete_by_themselves(app, factory, shopper):
    shop_order = ShopOrder(app, factory, shopper)
    shop_order.advance("delivered")
    order = shop_order.order
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "order.complete"))
    assert event.next_attempt_at > utcnow() + timedelta(days=6)
    drain()
    assert _fresh(Order, order.id).status == "delivered"  # not due yet
    event.next_attempt_at = utcnow()
    db.session.commit()
    drain()
    drain()  # idempotent
    order = _fresh(Order, order.id)
    assert order.status == "completed" and order.events[-1].actor_role == "system"


def test_review_needs_delivery(client, factory, shopper):
    order = place_cod_order(shopper, factory.listing(stock=5))
    html = client.post(
        f"/don-hang/{order.code}/danh-gia/{order.lines[0].id}", data={"stars": "5"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "sau khi đã nhận hàng" in html
    assert db.session.scalar(select(Review)) is None
    assert db.session.scalar(select(OrderEvent).where(OrderEvent.order_id == order.id)).to_status == "placed"


def test_shop_sets_its_shipping_fee_and_checkout_uses_it(app, client, factory, shopper):
    from orders.models import ShippingRule

    owner = factory.user(role="producer")
    shop = factory.shop(owner=owner)
    listing = factory.listing(shop=shop, stock=20, price=100_000, weight_grams=1500)
    seller = sign_in(app.test_client(), owner)
    page = seller.get(f"/kenh-ban/{shop.slug}/van-chuyen").get_data(as_text=True)
    assert "mức mặc định của sàn" in page and 'value="25000"' in page
    html = seller.post(
        f"/kenh-ban/{shop.slug}/van-chuyen",
        data={**_zone_fields(), "province_flat_fee_vnd": "abc", "province_tier_grams_0": "3000"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Số tiền phải là số nguyên đồng" in html and "Nhập cả khối lượng và phụ phí" in html
    assert db.session.get(ShippingRule, shop.id) is None
    seller.post(
        f"/kenh-ban/{shop.slug}/van-chuyen",
        data={
            **_zone_fields(),
            "province_flat_fee_vnd": "18.000",
            "province_free_over_vnd": "400000",
            "province_tier_grams_0": "3000",
            "province_tier_fee_0": "12000",
        },
    )
    rule = db.session.get(ShippingRule, shop.id)
    zone = next(z for z in rule.zones if z.zone == "province")
    assert (zone.flat_fee_vnd, zone.free_over_vnd, zone.tiers) == (18_000, 400_000, [[3000, 12_000]])

    shopper.add(listing, 2)  # 3 kg, 200.000 ₫: 18.000 + 12.000
    order = db.session.scalar(select(Order).where(Order.code == f"{_checkout_code(shopper)}-1"))
    assert order.shipping_vnd == 30_000 and order.total_vnd == 230_000
    shopper.add(listing, 4)  # 400.000 ₫ reaches the free threshold
    order = db.session.scalar(select(Order).where(Order.code == f"{_checkout_code(shopper)}-1"))
    assert order.shipping_vnd == 0
    stranger = sign_in(app.test_client(), factory.user(role="producer"))
    assert stranger.get(f"/kenh-ban/{shop.slug}/van-chuyen").status_code == 404


def _zone_fields() -> dict:
    """The other zones as the page shows them with the defaults: served, 30.000 and 40.000 ₫."""
    return {
        "neighbour_ships": "1",
        "neighbour_flat_fee_vnd": "30000",
        "country_ships": "1",
        "country_flat_fee_vnd": "40000",
    }


def _checkout_code(shopper):
    from orders_testlib import payment_code

    return payment_code(shopper.checkout("cod"))


def test_guest_reviews_through_the_mailed_link(app, factory, shopper):
    from orders.access import make_token

    shop_order = ShopOrder(app, factory, shopper)
    shop_order.advance("delivered")
    order = shop_order.order
    guest = app.test_client()  # another browser, with only the link
    assert (
        guest.post(f"/don-hang/{order.code}/danh-gia/{order.lines[0].id}", data={"stars": "5"}).status_code
        == 404
    )
    guest.get(f"/don-hang/lien-ket/{make_token(order.payment)}?next={order.code}")
    guest.post(f"/don-hang/{order.code}/danh-gia/{order.lines[0].id}", data={"stars": "5", "body": "Tuyệt"})
    review = db.session.scalar(select(Review))
    assert review.stars == 5 and review.author_id is None and review.author_name == "Trần Thị Bình"
