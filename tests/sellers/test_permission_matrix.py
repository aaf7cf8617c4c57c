"""Every seller route (/kenh-ban/…), GET and POST, for every kind of visitor.

The routes are read from app.url_map, so a new seller page fails this test until someone writes
down who may use it. Owner and staff are distinct: staff handle listings and orders; only the
owner edits the shop's profile, its staff and its shipping fee."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from marketplace.errors import Forbidden
from marketplace.extensions import db
from orders import services as order_services
from orders import shipping as shipping_rules
from orders.models import Order, ShippingRule
from sellers.models import ShopInvitation, ShopMember
from sellers.permissions import (
    ROLE_PERMISSIONS,
    ShopPermission,
    can_edit_shipping,
    can_edit_shop_profile,
    can_handle_orders,
    can_manage_listings,
    can_manage_staff,
    has_shop_permission,
    shop_role,
)
from sellers.services import invite_staff, update_shop
from tests.support import sign_in

LOGIN, OK = "sign-in", "ok"
ACTORS = ("anonymous", "buyer", "staff", "owner", "other_owner", "operator")


@dataclass(frozen=True)
class Row:
    """The expected outcome per actor, in the order of ACTORS."""

    anonymous: object
    buyer: object
    staff: object
    owner: object
    other_owner: object
    operator: object


#                anonymous  buyer  staff  owner  other shop's owner  operator
MEMBERS = Row(LOGIN, 404, OK, OK, 404, 404)  # owner and staff alike
OWNER_ONLY = Row(LOGIN, 404, 403, OK, 404, 404)
SIGNED_IN = Row(LOGIN, OK, OK, OK, OK, OK)  # not about one shop: anyone signed in


@dataclass
class World:
    shop: object
    listing: object
    order: object
    other_staff: object
    invitation: object


def _shop(w: World) -> dict:
    return {"shop_slug": w.shop.slug}


def _listing(w: World) -> dict:
    return {"shop_slug": w.shop.slug, "listing_id": w.listing.id}


def _order(w: World) -> dict:
    return {"shop_slug": w.shop.slug, "code": w.order.code}


def _review_id(w: World) -> int:
    from orders.models import Review

    return db.session.scalar(select(Review.id).where(Review.shop_id == w.shop.id))


# endpoint -> (expected outcomes for GET and POST alike, the URL's values)
EXPECTED: dict[str, tuple[Row, Callable[[World], dict]]] = {
    "sellers.index": (SIGNED_IN, lambda w: {}),
    "sellers.register_shop": (SIGNED_IN, lambda w: {}),
    "sellers.dashboard": (MEMBERS, _shop),
    "sellers.edit_shop": (OWNER_ONLY, _shop),
    "sellers.staff": (OWNER_ONLY, _shop),
    "sellers.remove_staff": (OWNER_ONLY, lambda w: {**_shop(w), "member_id": w.other_staff.id}),
    "sellers.revoke_invitation": (OWNER_ONLY, lambda w: {**_shop(w), "invitation_id": w.invitation.id}),
    "catalog_seller.list_listings": (MEMBERS, _shop),
    "catalog_seller.new_listing": (MEMBERS, _shop),
    "catalog_seller.edit_listing": (MEMBERS, _listing),
    "catalog_seller.image_action": (MEMBERS, lambda w: {**_listing(w), "image_id": 1, "action": "anh-bia"}),
    "catalog_seller.change_status": (MEMBERS, lambda w: {**_listing(w), "status": "active"}),
    "catalog_seller.import_csv": (MEMBERS, _shop),
    "catalog_seller.confirm_csv_import": (MEMBERS, _shop),
    "catalog_seller.csv_template": (MEMBERS, _shop),
    "orders_seller.inbox": (MEMBERS, _shop),
    "orders_seller.show_order": (MEMBERS, _order),
    "orders_seller.act": (MEMBERS, lambda w: {**_order(w), "action": "confirm"}),
    "orders_seller.packing_slip": (MEMBERS, _order),
    "orders_seller.shipping": (OWNER_ONLY, _shop),
    "complaints_seller.answer_complaint": (MEMBERS, _order),
    "logistics_seller.choose": (OWNER_ONLY, _shop),
    "logistics_seller.change_parcel": (MEMBERS, _order),
    "syndication_seller.index": (MEMBERS, _shop),
    "syndication_seller.connect": (OWNER_ONLY, lambda w: {**_shop(w), "platform": "shopee"}),
    "syndication_seller.listing_channels": (MEMBERS, _listing),
    "syndication_seller.remote_orders": (MEMBERS, _shop),
    "dashboards_producer.problems": (MEMBERS, _shop),
    "dashboards_producer.problems_csv": (MEMBERS, _shop),
    "dashboards_producer.low_stock": (MEMBERS, _shop),
    "dashboards_producer.low_stock_csv": (MEMBERS, _shop),
    "dashboards_producer.reviews": (MEMBERS, _shop),
    "dashboards_producer.reply": (MEMBERS, lambda w: {**_shop(w), "review_id": _review_id(w)}),
    "dashboards_producer.figures_csv": (MEMBERS, lambda w: {**_shop(w), "table": "ban-hang"}),
    "dashboards_producer.cod_csv": (OWNER_ONLY, _shop),
    "dashboards_producer.statement": (OWNER_ONLY, _shop),
    "dashboards_producer.statement_csv": (OWNER_ONLY, _shop),
}

# Seller routes that are not about one shop's work, with where they are tested; here only for
# the one thing every seller page shares: an anonymous visitor is sent to sign in.
ELSEWHERE: dict[str, str] = {
    "sellers.accept_invitation": "an invitation is for one address: tests/sellers/test_shops.py",
}


def _seller_rules(app) -> list:
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/kenh-ban")]


def test_every_seller_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in _seller_rules(app)}
    missing = endpoints - set(EXPECTED) - set(ELSEWHERE)
    assert not missing, f"seller routes without an expected row in the permission matrix: {sorted(missing)}"
    stale = (set(EXPECTED) | set(ELSEWHERE)) - endpoints
    assert not stale, f"rows for routes that no longer exist: {sorted(stale)}"


@pytest.fixture
def world(app, factory, csrf_off):
    from tests.support import image_bytes

    owner = factory.user(role="producer", email="owner@shop.vn")
    shop = factory.shop(owner=owner, name="HTX Chủ")
    staff = factory.user(role="producer", email="staff@shop.vn")
    other_staff = ShopMember(shop_id=shop.id, user_id=factory.user(role="producer").id, role="staff")
    db.session.add_all([ShopMember(shop_id=shop.id, user_id=staff.id, role="staff"), other_staff])
    other_owner = factory.user(role="producer", email="other@shop.vn")
    factory.shop(owner=other_owner, name="HTX Khác")
    buyer = factory.user(email="buyer@example.vn")
    operator = factory.operator(email="operator@example.gov.vn")
    listing = factory.listing(shop=shop, stock=20, images=[image_bytes()])
    db.session.commit()
    order = _place_order(factory, listing, buyer)
    _complain(order, owner, buyer)
    invitation = invite_staff(shop, "invited@shop.vn", actor=owner)
    db.session.commit()
    clients = {"anonymous": app.test_client()}
    for name, user in (
        ("buyer", buyer),
        ("staff", staff),
        ("owner", owner),
        ("other_owner", other_owner),
        ("operator", operator),
    ):
        clients[name] = sign_in(app.test_client(), user)
    return World(shop, listing, order, other_staff, invitation), clients


def _complain(order: Order, owner, buyer) -> None:
    """The order delivered and its buyer complaining: the shop's answer route has a complaint."""
    from orders import complaints

    order_services.confirm_order(order, actor=owner)
    order_services.pack_order(order, {"parcel_weight_grams": "500"}, actor=owner)
    order_services.ship_order(order, {"carrier": "GHN", "tracking_number": "G1"}, actor=owner)
    order_services.deliver_order(order, actor=owner)
    complaints.open_complaint(order, {"reason": "damaged", "description": "Hàng dập"}, [], actor=buyer)
    order_services.review_line(order.lines[0], {"stars": "4"}, author=buyer)  # the shop may reply
    db.session.commit()


def _place_order(factory, listing, buyer) -> Order:
    quote, _listings = order_services.quote_items([(listing.id, 1)])
    payment = order_services.place_checkout(
        [(listing.id, 1)],
        {
            "receiver_name": "Trần Thị Bình",
            "receiver_phone": "0912345678",
            "address_line": "Thôn 2",
            "commune_id": factory.commune().id,
            "payment_method": "cod",
            "quote": quote.fingerprint(),
            "privacy_consent": True,
        },
        buyer=buyer,
    )
    db.session.commit()
    return payment.orders[0]


def _outcome(response) -> object:
    location = response.headers.get("Location", "")
    if response.status_code == 302 and "/dang-nhap" in location:
        return LOGIN
    if response.status_code in (403, 404):
        return response.status_code
    if response.status_code in (200, 302):
        return OK
    return response.status_code  # anything else is unexpected and shows in the failure


def test_permission_matrix(app, world):
    w, clients = world
    failures, checked = [], 0
    # Owners act last on each route, so what staff may not do is tried before anything changes.
    order = ("anonymous", "buyer", "other_owner", "operator", "staff", "owner")
    for rule in sorted(_seller_rules(app), key=lambda r: r.rule):
        if rule.endpoint not in EXPECTED:
            continue
        row, values = EXPECTED[rule.endpoint]
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values(w))
        for method in ("GET", "POST"):
            if method not in rule.methods:
                continue
            for actor in order:
                response = clients[actor].open(url, method=method, data={})
                got, want = _outcome(response), getattr(row, actor)
                checked += 1
                if got != want:
                    failures.append(f"{method} {url} ({rule.endpoint}) as {actor}: {got}, expected {want}")
    assert not failures, "\n".join(failures)
    assert checked >= 130, checked


def test_routes_elsewhere_send_anonymous_visitors_to_sign_in(app, world):
    _w, clients = world
    for rule in _seller_rules(app):
        if rule.endpoint not in ELSEWHERE:
            continue
        url = re.sub(r"<(?:([^:>]+):)?([^>]+)>", lambda m: "1" if m.group(1) == "int" else "x", rule.rule)
        for method in ("GET", "POST"):
            if method in rule.methods:
                response = clients["anonymous"].open(url, method=method, data={})
                assert _outcome(response) == LOGIN, (method, url)


# --- the named permissions -------------------------------------------------------------------


def test_role_table():
    assert ROLE_PERMISSIONS["owner"] == frozenset(ShopPermission)
    assert ROLE_PERMISSIONS["staff"] == {
        ShopPermission.VIEW,
        ShopPermission.MANAGE_LISTINGS,
        ShopPermission.HANDLE_ORDERS,
    }


def test_predicates_for_each_role(world, factory):
    w, _clients = world
    staff = db.session.scalar(
        select(ShopMember).where(ShopMember.shop_id == w.shop.id, ShopMember.role == "staff")
    ).user
    owner = db.session.scalar(
        select(ShopMember).where(ShopMember.shop_id == w.shop.id, ShopMember.role == "owner")
    ).user
    operator, buyer = factory.operator(), factory.user()
    assert shop_role(owner, w.shop) == "owner" and shop_role(staff, w.shop) == "staff"
    assert shop_role(operator, w.shop) is None and shop_role(None, w.shop) is None
    for predicate in (can_manage_listings, can_handle_orders):
        assert predicate(owner, w.shop) and predicate(staff, w.shop), predicate.__name__
        assert not predicate(operator, w.shop) and not predicate(buyer, w.shop), predicate.__name__
    for predicate in (can_edit_shop_profile, can_manage_staff, can_edit_shipping):
        assert predicate(owner, w.shop) and not predicate(staff, w.shop), predicate.__name__
        assert not predicate(operator, w.shop) and not predicate(None, w.shop), predicate.__name__
    owner.active = False  # a deactivated account loses its permissions with its sign-in
    assert not has_shop_permission(owner, w.shop, ShopPermission.VIEW)


# --- owner-only pages refuse staff, also when posted to directly --------------------------------


def _staff_client(app, world):
    w, clients = world
    return w, clients["staff"]


def test_staff_cannot_change_the_shipping_fee(app, world):
    w, staff = _staff_client(app, world)
    url = f"/kenh-ban/{w.shop.slug}/van-chuyen"
    assert staff.get(url).status_code == 403
    response = staff.post(url, data={"flat_fee_vnd": "1", "free_over_vnd": "2"})
    assert response.status_code == 403
    assert "chỉ chủ cửa hàng" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ShippingRule, w.shop.id) is None


def test_staff_cannot_edit_the_profile_or_the_staff(app, world):
    w, staff = _staff_client(app, world)
    before = w.shop.name
    response = staff.post(
        f"/kenh-ban/{w.shop.slug}/thong-tin", data={"name": "Bị đổi tên", "phone": "0912345678"}
    )
    assert response.status_code == 403
    assert staff.post(f"/kenh-ban/{w.shop.slug}/nhan-vien", data={"email": "x@example.vn"}).status_code == 403
    response = staff.post(f"/kenh-ban/{w.shop.slug}/nhan-vien/{w.other_staff.id}/xoa")
    assert response.status_code == 403
    response = staff.post(f"/kenh-ban/{w.shop.slug}/nhan-vien/loi-moi/{w.invitation.id}/thu-hoi")
    assert response.status_code == 403
    db.session.expire_all()
    assert w.shop.name == before
    assert db.session.get(ShopMember, w.other_staff.id) is not None
    assert db.session.get(ShopInvitation, w.invitation.id) is not None


def test_services_refuse_staff_too(world):
    w, _clients = world
    staff = db.session.scalar(
        select(ShopMember).where(ShopMember.shop_id == w.shop.id, ShopMember.role == "staff")
    ).user
    with pytest.raises(Forbidden):
        shipping_rules.save_shipping_rule(w.shop, {"province_flat_fee_vnd": "1"}, actor=staff)
    with pytest.raises(Forbidden):
        update_shop(w.shop, {"name": "X"}, actor=staff)
    db.session.rollback()


def test_staff_dashboard_offers_only_what_staff_may_do(app, world):
    w, clients = world
    staff_page = clients["staff"].get(f"/kenh-ban/{w.shop.slug}/").get_data(as_text=True)
    owner_page = clients["owner"].get(f"/kenh-ban/{w.shop.slug}/").get_data(as_text=True)
    for link in ("/van-chuyen", "/thong-tin", "/nhan-vien"):
        assert f"/kenh-ban/{w.shop.slug}{link}" in owner_page, link
        assert f"/kenh-ban/{w.shop.slug}{link}" not in staff_page, link
    for link in ("/san-pham/moi", "/don-hang"):
        assert f"/kenh-ban/{w.shop.slug}{link}" in staff_page, link
