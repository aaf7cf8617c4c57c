"""The anonymous page cache (marketplace/pagecache.py): hits, invalidation by each kind of change
through the outbox, isolation between people, conditional GETs, compression, static files."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest
from flask import g, url_for

from marketplace import outbox, pagecache
from marketplace.extensions import db
from tests.orders.orders_testlib import Shopper
from tests.support import PASSWORD, sign_in


@pytest.fixture
def app_overrides() -> dict:
    # On, as in production; versions read on every request and no settling window, so that a
    # test sees a change as soon as the outbox ran.
    return {"PAGE_CACHE_URL": "memory://?max_mb=16", "PAGE_CACHE_REFRESH_S": 0, "PAGE_CACHE_SKEW_S": 0}


def get(client, url: str, **kw):
    """A request as a server sees it: this test's session keeps rows between requests, a server's
    does not (each request reads the rows it shows, which is what the cache tracks)."""
    db.session.expire_all()
    return client.get(url, **kw)


def drain() -> None:
    outbox.drain()
    db.session.expire_all()


@pytest.fixture
def floor(app, factory):
    """Two categories, two shops, a listing in each (shop 1 / category 1, shop 2 / category 2)."""
    c1 = factory.category("Trái cây")
    c2 = factory.category("Hải sản")
    s1 = factory.shop(name="Vườn cam Hương Sơn")
    s2 = factory.shop(name="Nước mắm Cửa Sót")
    a = factory.listing(
        shop=s1, category=c1, title="Cam bù Hương Sơn", price=45000, stock=10, weight_grams=1000
    )
    b = factory.listing(shop=s2, category=c2, title="Nước mắm nhĩ", price=120000, stock=10, weight_grams=1000)
    drain()
    pagecache.reset(app)
    return {"c1": c1, "c2": c2, "s1": s1, "s2": s2, "a": a, "b": b}


def pages(f) -> dict[str, str]:
    return {
        "home": "/",
        "cat1": f"/danh-muc/{f['c1'].slug}",
        "cat2": f"/danh-muc/{f['c2'].slug}",
        "a": f"/san-pham/{f['a'].slug}",
        "b": f"/san-pham/{f['b'].slug}",
        "shop1": f"/cua-hang/{f['s1'].slug}",
        "shop2": f"/cua-hang/{f['s2'].slug}",
        "trace_a": f"/truy-xuat/{f['a'].slug}",
        "trace_b": f"/truy-xuat/{f['b'].slug}",
        "sitemap": "/sitemap.xml",
        "search": "/tim-kiem?q=cam",
        "api": "/api/v1/listings",
        "api_a": f"/api/v1/listings/{f['a'].id}",
        "api_b": f"/api/v1/listings/{f['b'].id}",
    }


def warm(client, urls: dict[str, str]) -> dict[str, bytes]:
    bodies = {}
    for name, url in urls.items():
        first = get(client, url)
        assert first.status_code == 200, (name, first.status_code)
        again = get(client, url)
        assert again.headers.get("X-Page-Cache") == "hit", (name, first.headers.get("X-Page-Cache"))
        assert again.get_data() == first.get_data(), name
        bodies[name] = again.get_data()
    return bodies


def renewed(client, urls: dict[str, str]) -> set[str]:
    """Which pages are no longer served from the cache (each is then stored again)."""
    out = set()
    for name, url in urls.items():
        response = get(client, url)
        if response.headers.get("X-Page-Cache") != "hit":
            out.add(name)
    return out


def test_a_hit_serves_the_same_bytes_without_touching_the_session(client, floor):
    url = f"/san-pham/{floor['a'].slug}"
    first = client.get(url)
    assert first.headers["X-Page-Cache"] == "miss"
    second = client.get(url)
    assert second.headers["X-Page-Cache"] == "hit"
    assert second.get_data() == first.get_data()
    assert "Set-Cookie" not in second.headers and "Set-Cookie" not in first.headers
    assert second.headers["Cache-Control"] == "public, no-cache"
    assert "Cookie" in second.headers["Vary"] and "Accept-Encoding" in second.headers["Vary"]
    assert "Content-Security-Policy" in second.headers  # the shell's headers still apply


def test_links_shared_through_facebook_or_zalo_are_served_from_the_plain_page(client, floor):
    url = f"/san-pham/{floor['a'].slug}"
    tracked = client.get(url + "?fbclid=IwAR0abc&utm_source=zalo")
    assert tracked.headers.get("X-Page-Cache") != "hit"
    again = client.get(url + "?fbclid=IwAR0def")
    assert again.headers.get("X-Page-Cache") != "hit"  # a tracked render is never stored
    plain = client.get(url)
    assert plain.headers["X-Page-Cache"] == "miss"
    for query in ("?fbclid=IwAR0xyz", "?utm_source=facebook&utm_medium=social", "?zarsrc=30&gclid=1"):
        shared = client.get(url + query)
        assert shared.headers["X-Page-Cache"] == "hit", query
        assert shared.get_data() == plain.get_data()
        assert b"IwAR0" not in shared.get_data()
    search = client.get("/tim-kiem?q=cam&utm_campaign=tet")
    assert search.headers.get("X-Page-Cache") != "hit"
    assert client.get("/tim-kiem?q=cam").headers["X-Page-Cache"] == "miss"
    assert client.get("/tim-kiem?q=cam&utm_campaign=tet").headers["X-Page-Cache"] == "hit"
    assert client.get("/tim-kiem?q=buoi&utm_campaign=tet").headers.get("X-Page-Cache") != "hit"


def test_a_listing_edit_renews_what_shows_it_and_nothing_else(app, client, floor, factory):
    from catalog.services import update_listing
    from sellers.models import ShopMember

    urls = pages(floor)
    warm(client, urls)
    owner = db.session.query(ShopMember).filter_by(shop_id=floor["s1"].id, role="owner").first().user
    update_listing(
        floor["a"],
        {
            "title": "Cam bù Hương Sơn loại 1",
            "category": floor["c1"],
            "unit": "kg",
            "price_vnd": 52000,
            "stock": 10,
            "status": "active",
            "weight_grams": 1000,
        },
        actor=owner,
    )
    db.session.commit()
    assert renewed(client, urls) == set()  # nothing changes before the outbox has run
    drain()
    assert renewed(client, urls) == {
        "home",
        "cat1",
        "a",
        "shop1",
        "trace_a",
        "sitemap",
        "search",
        "api",
        "api_a",
    }
    assert "loại 1" in client.get(urls["a"]).get_data(as_text=True)
    assert "52.000" in client.get(urls["cat1"]).get_data(as_text=True)


def test_stock_sold_through_a_checkout_renews_the_listing(app, client, floor, factory, csrf_off):
    urls = pages(floor)
    warm(client, urls)
    buyer = Shopper(app.test_client(), factory.commune().id)
    assert buyer.add(floor["a"], 3).status_code == 302
    assert buyer.checkout("cod").status_code == 302
    drain()
    changed = renewed(client, urls)
    assert {"a", "cat1", "shop1", "api_a", "home"} <= changed
    assert not changed & {"b", "cat2", "shop2", "api_b", "trace_b"}
    assert '"stock": 7' in client.get(urls["api_a"]).get_data(as_text=True).replace('"stock":7', '"stock": 7')


def test_a_category_rename_renews_its_pages_only(app, client, floor, factory):
    from catalog.services import save_category

    urls = pages(floor)
    warm(client, urls)
    save_category({"name": "Cam, quýt, bưởi"}, actor=factory.operator(), category=floor["c1"])
    db.session.commit()
    drain()
    changed = renewed(client, urls)
    assert {"home", "cat1", "a", "api_a"} <= changed
    assert not changed & {"b", "shop2", "api_b", "trace_b"}
    assert "Cam, quýt, bưởi" in client.get(urls["a"]).get_data(as_text=True)


def test_a_shop_change_and_a_suspension_renew_the_shops_pages(app, client, floor, factory):
    from sellers.services import suspend_shop

    urls = pages(floor)
    warm(client, urls)
    suspend_shop(floor["s1"], "Vi phạm quy chế", actor=factory.operator())
    db.session.commit()
    drain()
    changed = renewed(client, urls)
    assert {"home", "cat1", "a", "shop1", "trace_a", "api", "search", "sitemap"} <= changed
    assert not changed & {"b", "cat2", "shop2", "api_b", "trace_b"}
    assert client.get(urls["shop1"]).status_code == 404
    assert client.get(urls["a"]).status_code == 404
    assert "Cam bù" not in client.get(urls["cat1"]).get_data(as_text=True)


def test_a_hidden_listing_leaves_every_page(app, client, floor, factory):
    from catalog.services import hide_listing

    urls = pages(floor)
    warm(client, urls)
    hide_listing(floor["a"], "Hàng giả", actor=factory.operator())
    db.session.commit()
    drain()
    changed = renewed(client, urls)
    assert {"home", "cat1", "a", "shop1", "search", "api"} <= changed
    assert not changed & {"b", "cat2", "shop2", "api_b", "trace_b"}
    assert client.get(urls["a"]).status_code == 404
    assert "Cam bù" not in client.get(urls["home"]).get_data(as_text=True)


def test_a_listing_moved_to_another_category_leaves_the_old_one(app, client, floor):
    from catalog.services import update_listing
    from sellers.models import ShopMember

    urls = pages(floor)
    warm(client, urls)
    owner = db.session.query(ShopMember).filter_by(shop_id=floor["s1"].id, role="owner").first().user
    update_listing(
        floor["a"],
        {
            "title": "Cam bù Hương Sơn",
            "category": floor["c2"],
            "unit": "kg",
            "price_vnd": 45000,
            "stock": 10,
            "status": "active",
            "weight_grams": 1000,
        },
        actor=owner,
    )
    db.session.commit()
    drain()
    assert {"cat1", "cat2"} <= renewed(client, urls)
    assert "Cam bù" not in client.get(urls["cat1"]).get_data(as_text=True)
    assert "Cam bù" in client.get(urls["cat2"]).get_data(as_text=True)


def test_conditional_gets_answer_304(client, floor):
    url = f"/danh-muc/{floor['c1'].slug}"
    first = client.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('W/"')
    by_tag = client.get(url, headers={"If-None-Match": etag})
    assert by_tag.status_code == 304 and by_tag.get_data() == b""
    assert by_tag.headers["ETag"] == etag
    by_date = client.get(url, headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304
    stale = client.get(url, headers={"If-None-Match": 'W/"something-else"'})
    assert stale.status_code == 200 and stale.get_data() == first.get_data()


def test_gzip_and_brotli_decode_to_the_same_page(client, floor):
    url = "/"
    plain = client.get(url).get_data()
    assert len(plain) > 1024
    br = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br"
    assert brotli.decompress(br.get_data()) == plain
    gz = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gz.get_data()) == plain
    assert len(br.get_data()) < len(plain) / 2


def test_small_responses_stay_uncompressed(client, floor):
    response = client.get(f"/api/v1/listings/{floor['a'].id}", headers={"Accept-Encoding": "br"})
    if len(response.get_data()) < 1024:
        assert "Content-Encoding" not in response.headers
    robots = client.get("/robots.txt", headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in robots.headers


def test_pages_for_signed_in_people_are_private_and_never_stored(app, client, floor, factory):
    url = f"/san-pham/{floor['a'].slug}"
    member = sign_in(app.test_client(), factory.user(name="Phan Thị Riêng"))
    own = member.get(url)
    assert "Phan Thị Riêng" in own.get_data(as_text=True) or "Tài khoản" in own.get_data(as_text=True)
    assert own.headers["Cache-Control"] == "private, no-store"
    assert "X-Page-Cache" not in own.headers
    assert re.search(r'name="csrf_token" value="[^"]+"', own.get_data(as_text=True))
    anonymous = client.get(url)
    assert anonymous.headers["X-Page-Cache"] == "miss"  # the member's page was not stored
    text = anonymous.get_data(as_text=True)
    assert "Đăng xuất" not in text and "Phan Thị Riêng" not in text
    assert not re.search(r'name="csrf_token" value="[^"]+"', text)
    assert member.get(url).headers.get("X-Page-Cache") is None  # nor served the anonymous one


def test_a_visitor_with_a_cart_or_a_flash_gets_their_own_page(app, client, floor, csrf_off):
    url = f"/san-pham/{floor['a'].slug}"
    assert client.get(url).headers["X-Page-Cache"] == "miss"
    shopper = app.test_client()
    added = shopper.post("/gio-hang/them", data={"listing_id": floor["a"].id, "quantity": 2})
    assert added.status_code == 302
    with_flash = shopper.get(url)  # the "added to cart" flash shows once, on this page
    assert "X-Page-Cache" not in with_flash.headers
    assert "Giỏ hàng (1)" in with_flash.get_data(as_text=True)
    again = shopper.get(url)
    assert "X-Page-Cache" not in again.headers and "Giỏ hàng (1)" in again.get_data(as_text=True)
    fresh = client.get(url)
    assert fresh.headers["X-Page-Cache"] == "hit"
    assert "Giỏ hàng (1)" not in fresh.get_data(as_text=True)


def test_another_language_never_gets_the_vietnamese_page(app, client, floor):
    english = app.test_client()
    assert english.get("/").headers["X-Page-Cache"] == "miss"  # stores the Vietnamese home
    origin = {"Origin": "http://localhost"}
    assert english.post("/ngon-ngu/en", data={"next": "/"}, headers=origin).status_code == 302
    en = english.get("/")
    assert en.headers.get("X-Page-Cache") != "hit"
    assert '<html lang="en">' in en.get_data(as_text=True)
    assert english.get("/").get_data() == en.get_data()  # English visitors share the English page
    vi = client.get("/")
    assert vi.headers["X-Page-Cache"] == "hit"
    assert '<html lang="vi">' in vi.get_data(as_text=True)


def test_forms_on_cached_pages_post_without_a_token_only_from_this_site(app, client, floor):
    url = f"/san-pham/{floor['a'].slug}"
    html = client.get(url).get_data(as_text=True)
    assert 'name="csrf_token" value=""' in html
    data = {"listing_id": floor["a"].id, "quantity": 1, "csrf_token": ""}
    forged = app.test_client().post("/gio-hang/them", data=data, headers={"Origin": "http://evil.example"})
    assert forged.status_code == 400
    no_origin = app.test_client().post("/gio-hang/them", data=data)
    assert no_origin.status_code == 400
    ours = app.test_client().post("/gio-hang/them", data=data, headers={"Origin": "http://localhost"})
    assert ours.status_code == 302
    referer = app.test_client().post(
        "/gio-hang/them", data=data, headers={"Referer": f"http://localhost{url}"}
    )
    assert referer.status_code == 302
    # Elsewhere the token is required as before, even from this site.
    assert (
        app.test_client()
        .post(
            "/dang-nhap",
            data={"email": "x@example.vn", "password": PASSWORD},
            headers={"Origin": "http://localhost"},
        )
        .status_code
        == 400
    )


def test_a_signed_in_person_still_needs_the_token(app, floor, factory):
    member = sign_in(app.test_client(), factory.user())
    data = {"listing_id": floor["a"].id, "quantity": 1, "csrf_token": ""}
    response = member.post("/gio-hang/them", data=data, headers={"Origin": "http://localhost"})
    assert response.status_code == 400


def test_static_files_are_fingerprinted_and_immutable(app, client):
    with app.test_request_context():
        url = url_for("static", filename="css/app.css")
    assert re.search(r"/static/css/app\.css\?v=[0-9a-f]{12}$", url)
    response = client.get(url)
    response.close()
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    old = client.get("/static/css/app.css?v=000000000000")
    old.close()
    assert old.headers["Cache-Control"] == "public, no-cache"
    home = client.get("/").get_data(as_text=True)
    assert url.replace("http://localhost", "") in home


def test_file_store_is_shared_between_processes(tmp_path):
    first = pagecache.open_store(f"file://{tmp_path}/pages?max_files=10")
    second = pagecache.open_store(f"file://{tmp_path}/pages")
    assert first is not None and second is not None
    first.set("vi|/", b"page", 60)
    assert second.get("vi|/") == b"page"
    first.set("vi|/old", b"page", -1)
    assert second.get("vi|/old") is None


def test_memory_store_is_bounded():
    store = pagecache.MemoryStore(max_bytes=4000)
    for n in range(10):
        store.set(f"k{n}", b"x" * 900, 60)
    assert store.size <= 4000
    assert store.get("k9") == b"x" * 900 and store.get("k0") is None


def test_the_cache_is_off_when_not_configured(tmp_path):
    assert pagecache.open_store("none") is None
    with pytest.raises(ValueError):
        pagecache.open_store("ftp://example")


def test_headers_a_view_adds_are_replayed_and_api_clients_with_credentials_bypass(app, client):
    from flask import Response

    @app.get("/_test/linked")
    def linked():
        return Response("[]" * 600, mimetype="application/json", headers={"Link": '</p2>; rel="next"'})

    pagecache.cache_endpoint(app, "linked", ["catalog"])
    assert client.get("/_test/linked").headers["X-Page-Cache"] == "miss"
    hit = client.get("/_test/linked")
    assert hit.headers["X-Page-Cache"] == "hit" and hit.headers["Link"] == '</p2>; rel="next"'
    with_credentials = client.get("/_test/linked", headers={"Authorization": "Bearer x"})
    assert "X-Page-Cache" not in with_credentials.headers
    assert with_credentials.headers["Cache-Control"] == "private, no-store"


def test_responses_carrying_a_secret_are_never_compressed(app, client, floor, factory):
    accept = {"Accept-Encoding": "gzip, br"}
    sign_in_page = client.get("/dang-nhap", headers=accept)  # a CSRF token in the form
    assert re.search(r'name="csrf_token" value="[^"]+"', sign_in_page.get_data(as_text=True))
    assert "Content-Encoding" not in sign_in_page.headers
    member = sign_in(app.test_client(), factory.user())
    own = member.get(f"/san-pham/{floor['a'].slug}", headers=accept)
    assert own.status_code == 200 and "Content-Encoding" not in own.headers
    g.pop("csrf_token", None)  # flask.g outlives a request in tests (one app context), not in a server
    document = app.test_client().get("/api/v1/openapi.json", headers=accept)  # nothing secret
    assert document.headers["Content-Encoding"] == "br"
    assert brotli.decompress(document.get_data()).startswith(b"{")


def test_a_certification_renamed_by_the_operator_renews_the_pages_showing_its_badge(app, floor, factory):
    from flask import g

    from catalog.certifications import all_certifications, save_certifications, seed_certifications

    seed_certifications()
    floor["a"].certifications = ["VietGAP"]
    db.session.commit()
    drain()
    pagecache.reset(app)
    english = app.test_client()
    assert (
        english.post("/ngon-ngu/en", data={"next": "/"}, headers={"Origin": "http://localhost"}).status_code
        == 302
    )
    url = f"/san-pham/{floor['a'].slug}"
    get(english, url)
    assert get(english, url).headers["X-Page-Cache"] == "hit"
    renamed = "VietGAP (Good Agricultural Practice)"
    assert renamed not in get(english, url).get_data(as_text=True)
    rows = [(c.id, renamed if c.name == "VietGAP" else c.name_en or "") for c in all_certifications()]
    save_certifications(rows, None, actor=factory.operator())
    db.session.commit()
    drain()
    # The test's app context outlives its requests (a server's does not): forget the names this
    # context's `g` kept from the first render.
    g.pop("certification_names_en", None)
    page = get(english, url)
    assert page.headers.get("X-Page-Cache") != "hit"
    assert renamed in page.get_data(as_text=True)
