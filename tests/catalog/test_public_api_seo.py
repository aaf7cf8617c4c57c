"""Public JSON API, OpenAPI document, OpenGraph, sitemap/robots, language and money formatting."""

from tests.support import image_bytes


def test_listings_api_paginates(client, factory):
    shop = factory.shop()
    category = factory.category("Hải sản khô")
    for n in range(5):
        factory.listing(shop=shop, title=f"Mực khô loại {n}", category=category, price=100000 + n)
    body = client.get("/api/v1/listings?per_page=2&page=2&sort=price_asc").json
    assert body["total"] == 5 and body["page"] == 2 and len(body["items"]) == 2
    assert [i["price_vnd"] for i in body["items"]] == [100002, 100003]
    item = body["items"][0]
    assert item["url"].startswith("http://localhost/san-pham/") and item["shop"]["slug"] == shop.slug
    assert client.get(f"/api/v1/listings?category={category.slug}").json["total"] == 5


def test_listing_detail_api(client, factory):
    listing = factory.listing(
        images=[image_bytes()],
        ocop_stars=4,
        ocop_certificate_no="OCOP-HT-1",
        ocop_issued_on="01/06/2025",
        ocop_level="province",
    )
    factory.check_ocop(listing)
    body = client.get(f"/api/v1/listings/{listing.id}").json
    assert (
        body["ocop"]["status"] == "checked"
        and body["ocop"]["stars"] == 4
        and body["ocop"]["active"] is True
        and body["ocop"]["expires_on"] == "2028-06-01"
    )
    assert body["images"][0]["w1200"].endswith("/1200.jpg") and body["trace_url"].endswith(
        f"/truy-xuat/{listing.slug}"
    )


def test_api_bad_input_is_problem_json(client):
    r = client.get("/api/v1/listings?per_page=1000")
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert r.json["status"] == 400 and "per_page" in r.json["detail"]
    r = client.get("/api/v1/listings?page=abc")
    assert r.status_code == 400 and "số nguyên" in r.json["detail"]
    r = client.get("/api/v1/listings/999999")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    assert client.get("/api/v1/nothing-here").json["status"] == 404


def test_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert "/listings" in doc["paths"] and "/listings/{id}" in doc["paths"]
    assert "ListingSummary" in doc["components"]["schemas"] and "Problem" in doc["components"]["schemas"]


def test_opengraph_tags_for_sharing(client, factory):
    listing = factory.listing(title="Bưởi Phúc Trạch", price=60000, images=[image_bytes()])
    html = client.get(f"/san-pham/{listing.slug}").get_data(as_text=True)
    assert '<meta property="og:title" content="Bưởi Phúc Trạch – 60.000\xa0₫">' in html
    assert 'property="og:image" content="http://localhost/media/img/' in html
    assert '<meta name="viewport"' in html


def test_sitemap_and_robots(client, factory):
    listing = factory.listing()
    draft = factory.listing(shop=listing.shop, title="Nháp", status="draft")
    xml = client.get("/sitemap.xml").get_data(as_text=True)
    assert f"/san-pham/{listing.slug}" in xml and f"/san-pham/{draft.slug}" not in xml
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert "Sitemap: http://localhost/sitemap.xml" in robots and "Disallow: /quan-tri/" in robots


def test_qr_code_points_to_trace_page(client, factory):
    listing = factory.listing()
    r = client.get(f"/truy-xuat/{listing.slug}/qr.svg")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml" and b"<svg" in r.data


def test_no_asset_from_an_outside_cdn(client, factory):
    factory.listing()
    html = client.get("/").get_data(as_text=True)
    import re

    for url in re.findall(r'(?:src|href)="(https?://[^"]+)"', html):
        assert url.startswith("http://localhost"), url


def test_vietnamese_by_default_whatever_the_browser_says(client, factory):
    factory.listing()
    assert "Mới lên sàn" in client.get("/").get_data(as_text=True)
    # Many phones in Vietnam are set to English: the floor still opens in Vietnamese.
    assert "Mới lên sàn" in client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(
        as_text=True
    )


def test_language_switch_sticks(client, app):
    app.config["WTF_CSRF_ENABLED"] = False
    r = client.post("/ngon-ngu/en", data={"next": "/dang-nhap"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/dang-nhap")
    assert "Sign in" in client.get("/dang-nhap").get_data(as_text=True)
    assert "New on the floor" in client.get("/").get_data(as_text=True)
    client.post("/ngon-ngu/vi", data={"next": "/"})
    assert "Mới lên sàn" in client.get("/").get_data(as_text=True)


def test_money_and_dates(app):
    from datetime import date

    from marketplace.i18n import money, short_date

    with app.test_request_context():
        assert money(150000) == "150.000\xa0₫"
        assert money(0) == "0\xa0₫"
        assert short_date(date(2026, 7, 1)) == "01/07/2026"
