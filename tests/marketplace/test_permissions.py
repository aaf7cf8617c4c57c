"""The permission matrix: who may see and change what, and CSRF on every state-changing form."""

import re

import pytest

from catalog.models import Listing
from catalog.services import can_edit_listing
from marketplace.extensions import db
from sellers.permissions import can_manage_listings, can_manage_staff
from tests.support import sign_in


@pytest.fixture
def two_shops(factory):
    owner_a, owner_b = factory.user(email="a@shop.vn"), factory.user(email="b@shop.vn")
    shop_a, shop_b = factory.shop(owner=owner_a, name="Shop A"), factory.shop(owner=owner_b, name="Shop B")
    draft_b = factory.listing(shop=shop_b, title="Bản nháp B", status="draft")
    active_b = factory.listing(shop=shop_b, title="Đang bán B")
    return owner_a, shop_a, owner_b, shop_b, draft_b, active_b


def test_predicates(two_shops, factory):
    owner_a, shop_a, owner_b, shop_b, draft_b, _active_b = two_shops
    buyer, operator = factory.user(), factory.operator()
    assert can_manage_listings(owner_a, shop_a) and not can_manage_listings(owner_a, shop_b)
    assert can_edit_listing(owner_b, draft_b) and not can_edit_listing(owner_a, draft_b)
    assert not can_manage_listings(buyer, shop_a) and not can_manage_staff(operator, shop_a)
    assert not can_manage_listings(None, shop_a)


def test_producer_cannot_see_or_change_another_shop(client, two_shops, csrf_off):
    owner_a, shop_a, _owner_b, shop_b, draft_b, _active_b = two_shops
    sign_in(client, owner_a)
    b = shop_b.slug
    for url in (
        f"/kenh-ban/{b}/",
        f"/kenh-ban/{b}/san-pham/",
        f"/kenh-ban/{b}/san-pham/{draft_b.id}",
        f"/kenh-ban/{b}/nhan-vien",
        f"/kenh-ban/{b}/thong-tin",
        f"/kenh-ban/{b}/san-pham/moi",
    ):
        assert client.get(url).status_code == 404, url
    # Reaching B's listing through A's shop URL is refused too.
    assert client.get(f"/kenh-ban/{shop_a.slug}/san-pham/{draft_b.id}").status_code == 404
    before = (draft_b.title, draft_b.price_vnd)
    r = client.post(
        f"/kenh-ban/{shop_a.slug}/san-pham/{draft_b.id}", data={"title": "Bị sửa", "price_vnd": "1"}
    )
    assert r.status_code == 404
    r = client.post(f"/kenh-ban/{b}/san-pham/{draft_b.id}/trang-thai/archived")
    assert r.status_code == 404
    r = client.post(f"/kenh-ban/{b}/nhan-vien", data={"email": "x@y.vn"})
    assert r.status_code == 404
    db.session.expire_all()
    listing = db.session.get(Listing, draft_b.id)
    assert (listing.title, listing.price_vnd, listing.status) == (*before, "draft")
    # B's draft is not public either.
    assert client.get(f"/san-pham/{draft_b.slug}").status_code == 404
    assert client.get(f"/api/v1/listings/{draft_b.id}").status_code == 404


def test_buyer_cannot_reach_seller_or_operator_pages(client, two_shops, factory):
    _, shop_a, *_ = two_shops
    sign_in(client, factory.user())
    assert client.get(f"/kenh-ban/{shop_a.slug}/").status_code == 404
    for url in (
        "/quan-tri/",
        "/quan-tri/cua-hang",
        f"/quan-tri/cua-hang/{shop_a.id}",
        "/quan-tri/san-pham",
        "/quan-tri/danh-muc",
        "/quan-tri/xa-phuong",
    ):
        assert client.get(url).status_code == 403, url


def test_producer_is_not_an_operator(client, two_shops):
    owner_a, _shop_a, *_ = two_shops
    sign_in(client, owner_a)
    assert client.get("/quan-tri/cua-hang").status_code == 403


def test_anonymous_is_sent_to_sign_in(client, two_shops):
    _, shop_a, *_ = two_shops
    for url in (f"/kenh-ban/{shop_a.slug}/", "/kenh-ban/dang-ky-cua-hang", "/quan-tri/"):
        r = client.get(url)
        assert r.status_code == 302 and "/dang-nhap" in r.headers["Location"], url


def test_operator_reaches_operator_pages(client, factory):
    sign_in(client, factory.operator())
    for url in (
        "/quan-tri/",
        "/quan-tri/cua-hang",
        "/quan-tri/san-pham",
        "/quan-tri/danh-muc",
        "/quan-tri/xa-phuong",
    ):
        assert client.get(url).status_code == 200, url


# Endpoints that legitimately take POSTs without a CSRF token: machine-to-machine, each with its
# own authentication (signatures, API keys). Every other POST must carry the token.
CSRF_EXEMPT_ENDPOINTS = {"orders.stripe_webhook", "payments.stripe_webhook", "orders_payments.stripe_webhook"}


def test_every_state_changing_form_rejects_missing_csrf(app, client, factory):
    sign_in(client, factory.operator())  # signed in, so a 403/302 from login checks cannot hide a pass
    checked = []
    for rule in app.url_map.iter_rules():
        if not rule.methods & {"POST", "PUT", "PATCH", "DELETE"} or rule.endpoint in CSRF_EXEMPT_ENDPOINTS:
            continue
        if rule.rule.startswith("/api/") and getattr(
            app.view_functions[rule.endpoint], "csrf_exempt_reason", None
        ):
            continue
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "1" if "id" in m.group(1) else "x", rule.rule)
        method = sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"})[0]
        response = client.open(url, method=method, data={"anything": "1"})
        assert response.status_code == 400, f"{rule.endpoint} {url} answered {response.status_code}"
        assert "Phiên làm việc đã hết hạn" in response.get_data(as_text=True) or response.is_json
        checked.append(rule.endpoint)
    assert len(checked) >= 15, checked
