"""What the public pages show: home without repeats, the listing's structured data and
breadcrumb, category pages with search's filters, decorative card pictures, heading order."""

from __future__ import annotations

import itertools
import json
import re
from html.parser import HTMLParser

from catalog.models import Category
from catalog.services import hide_listing
from marketplace import outbox
from marketplace.extensions import db
from tests.catalog.catalog_pages_testlib import add_listings, storefront


class Page(HTMLParser):
    """Headings (level, text), JSON-LD blocks, <img> attributes and card links of a page."""

    def __init__(self, html: str):
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.jsonld: list[str] = []
        self.images: list[dict] = []
        self.card_links: list[str] = []
        self.card_images: list[dict] = []
        self.scripts = 0
        self._heading: list | None = None
        self._script: list | None = None
        self._in_card = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), ""]
        elif tag == "script":
            self.scripts += 1
            if attrs.get("type") == "application/ld+json":
                self._script = []
        elif tag == "img":
            self.images.append(attrs)
            if self._in_card:
                self.card_images.append(attrs)
        elif tag == "article" and "card" in (attrs.get("class") or "").split():
            self._in_card = 1
        elif tag == "a" and self._in_card == 1:
            self.card_links.append(attrs["href"])
            self._in_card = 2

    def handle_endtag(self, tag):
        if self._heading is not None and tag == f"h{self._heading[0]}":
            self.headings.append((self._heading[0], " ".join(self._heading[1].split())))
            self._heading = None
        elif tag == "script" and self._script is not None:
            self.jsonld.append("".join(self._script))
            self._script = None
        elif tag == "article":
            self._in_card = 0

    def handle_data(self, data):
        if self._heading is not None:
            self._heading[1] += data
        if self._script is not None:
            self._script.append(data)


def get(client, path: str) -> Page:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return Page(response.get_data(as_text=True))


def assert_headings_do_not_skip(page: Page, path: str) -> None:
    levels = [level for level, _ in page.headings]
    assert levels and levels[0] == 1 and levels.count(1) == 1, (path, page.headings)
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, (path, page.headings)


# --- home -------------------------------------------------------------------------------------


def test_home_shows_each_product_once_across_its_sections(client, factory):
    front = storefront(factory)
    add_listings(factory, front, 30)  # OCOP ones are featured and new too: each could be in all three
    page = get(client, "/")
    sections = [text for level, text in page.headings if level == 2]
    assert sections == ["Sản phẩm OCOP", "Sản phẩm chủ lực", "Mới lên sàn"]
    # 10 OCOP listings (every third), the best 8 shown; 7 featured (every fourth), of which 12
    # and 24 are OCOP too and already shown: 5; then the 8 newest of the rest.
    assert len(page.card_links) == 8 + 5 + 8
    assert len(set(page.card_links)) == len(page.card_links)
    featured = {f"/san-pham/{item.slug}" for item in front.listings if item.featured}
    assert featured <= set(page.card_links)


def test_home_with_few_products_fills_what_it_can_without_repeats(client, factory):
    front = storefront(factory)
    add_listings(factory, front, 4)  # listing 3 is OCOP, listing 4 featured
    page = get(client, "/")
    assert sorted(page.card_links) == sorted(f"/san-pham/{item.slug}" for item in front.listings)


# --- listing page -----------------------------------------------------------------------------


def test_listing_page_structured_data(client, factory):
    front = storefront(factory)
    add_listings(factory, front, 3)
    listing = front.listings[0]  # 1: two pictures, in the subcategory
    listing.sku = "CAM-01"
    listing.description = "<p>Cam bù chín cây, vỏ mỏng &amp; ngọt.</p>"
    db.session.commit()
    page = get(client, f"/san-pham/{listing.slug}")
    product, crumbs = (json.loads(block) for block in page.jsonld)
    assert product["@context"] == "https://schema.org" and product["@type"] == "Product"
    assert product["name"] == listing.title and product["sku"] == "CAM-01"
    assert product["description"] == "Cam bù chín cây, vỏ mỏng & ngọt."
    assert product["url"] == f"http://localhost/san-pham/{listing.slug}"
    assert product["brand"] == {"@type": "Brand", "name": front.shops[1].name}
    assert len(product["image"]) == 2 and all(url.endswith("/1200.jpg") for url in product["image"])
    assert {"@type": "PropertyValue", "name": "Xuất xứ", "value": "Hương Sơn"} in product[
        "additionalProperty"
    ]
    offer = product["offers"]
    assert offer["@type"] == "Offer" and offer["priceCurrency"] == "VND"
    assert offer["price"] == str(listing.price_vnd) and offer["availability"] == "https://schema.org/InStock"
    assert offer["seller"]["name"] == front.shops[1].name
    assert offer["seller"]["url"] == f"http://localhost/cua-hang/{front.shops[1].slug}"
    assert crumbs["@type"] == "BreadcrumbList"
    items = crumbs["itemListElement"]
    assert [item["position"] for item in items] == [1, 2, 3, 4]
    assert [item["name"] for item in items[1:]] == ["Trái cây", "Cam", listing.title]
    assert (
        items[-1]["item"] == product["url"]
        and items[1]["item"] == f"http://localhost/danh-muc/{front.top.slug}"
    )
    # The visible breadcrumb: home, then the category path, as links.
    html = client.get(f"/san-pham/{listing.slug}").get_data(as_text=True)
    crumb_nav = re.search(r'<nav class="crumbs"[^>]*>(.*?)</nav>', html, re.S).group(1)
    assert re.findall(r'href="([^"]+)"', crumb_nav) == [
        "/",
        f"/danh-muc/{front.top.slug}",
        f"/danh-muc/{front.child.slug}",
    ]


def test_structured_data_of_a_sold_out_ocop_listing(client, factory):
    front = storefront(factory)
    add_listings(factory, front, 15)
    listing = front.listings[14]  # 15: OCOP 5★ (checked), sold out
    product = json.loads(get(client, f"/san-pham/{listing.slug}").jsonld[0])
    assert product["offers"]["availability"] == "https://schema.org/OutOfStock"
    assert {"@type": "PropertyValue", "name": "OCOP", "value": 5, "unitText": "★"} in product[
        "additionalProperty"
    ]
    without_pictures = json.loads(get(client, f"/san-pham/{front.listings[1].slug}").jsonld[0])
    assert "image" not in without_pictures and "additionalProperty" in without_pictures


def test_a_title_cannot_break_out_of_the_structured_data(client, factory):
    front = storefront(factory)
    add_listings(factory, front, 1)
    listing = front.listings[0]
    title = 'Cam </script><script>alert("x")</script> & <!-- bù'
    listing.title = title
    listing.description = "<p>a</p>"
    db.session.commit()
    html = client.get(f"/san-pham/{listing.slug}").get_data(as_text=True)
    page = Page(html)
    assert page.scripts == len(re.findall(r"<script\b", html))
    assert "<script>alert" not in html and "</script><script>alert" not in html
    product, crumbs = (json.loads(block) for block in page.jsonld)
    assert product["name"] == title and crumbs["itemListElement"][-1]["name"] == title


def test_listing_page_gallery_pictures_are_described(client, factory):
    front = storefront(factory)
    add_listings(factory, front, 1)
    listing = front.listings[0]
    page = get(client, f"/san-pham/{listing.slug}")
    gallery = [img for img in page.images if img not in page.card_images]
    alts = [img["alt"] for img in gallery][:2]
    assert alts == [listing.title, f"{listing.title}, ảnh 2"]


# --- cards: decorative pictures, heading order --------------------------------------------------


def test_card_pictures_are_decorative_and_headings_do_not_skip(client, factory):
    front = storefront(factory)
    add_listings(factory, front, 12)
    titles = {item.title for item in front.listings}
    for path in (
        "/",
        f"/danh-muc/{front.top.slug}",
        f"/danh-muc/{front.child.slug}",
        "/tim-kiem?q=cam",
        f"/cua-hang/{front.shops[1].slug}",
        f"/san-pham/{front.listings[0].slug}",
    ):
        page = get(client, path)
        card_images = page.card_images
        assert card_images and all(img.get("loading") == "lazy" for img in card_images), path
        assert all(img["alt"] == "" for img in card_images), path
        assert not [img for img in card_images if img["alt"] in titles], path
        assert_headings_do_not_skip(page, path)


# --- category pages: a search within the category -----------------------------------------------


def test_category_page_has_the_search_filters(client, factory):
    front = storefront(factory)
    add_listings(factory, front, 12)
    html = client.get(f"/danh-muc/{front.top.slug}").get_data(as_text=True)
    search_html = client.get(f"/tim-kiem?category={front.top.slug}").get_data(as_text=True)
    facet_titles = re.compile(r'<section class="facet">\s*<h2>([^<]+)</h2>')
    assert facet_titles.findall(html) == facet_titles.findall(search_html)
    assert {"Danh mục", "Vùng nguyên liệu", "Hạng OCOP", "Khoảng giá", "Cửa hàng"} <= set(
        facet_titles.findall(html)
    )
    # In a drawer that works without JavaScript, closed, before the results.
    assert re.search(r"<details class=\"filters-drawer\" data-open-wide>\s*<summary>Bộ lọc", html)
    assert html.index("filters-drawer") < html.index('class="search-results"')
    # The facet links stay on the category page; a subcategory is its own page.
    assert f'href="/danh-muc/{front.top.slug}?origin=H%C6%B0%C6%A1ng+S%C6%A1n"' in html
    assert f'href="/danh-muc/{front.child.slug}"' in html
    assert 'action="/danh-muc/' + front.top.slug + '"' in html
    assert 'name="category"' not in html and 'name="q"' not in re.sub(
        r'<form class="search".*?</form>', "", html, flags=re.S
    )


def test_category_filters_give_what_search_gives(client, factory):
    front = storefront(factory)
    add_listings(factory, front, 20)
    for params in (
        "in_stock=1",
        "ocop_min=4",
        "price_min=35000&price_max=45000",
        f"shop={front.shops[0].slug}",
        "origin=Hương Sơn&sort=price_desc",
    ):
        category = get(client, f"/danh-muc/{front.top.slug}?{params}").card_links
        search = get(client, f"/tim-kiem?category={front.top.slug}&{params}").card_links
        if "sort" not in params:  # the category page lists the newest first, search by relevance
            category, search = sorted(category), sorted(search)
        assert category == search and category, params
    in_stock = get(client, f"/danh-muc/{front.top.slug}?in_stock=1").card_links
    assert len(in_stock) == 16  # 20 less the sold-out 5, 10, 15, 20
    html = client.get(f"/danh-muc/{front.top.slug}?in_stock=1").get_data(as_text=True)
    assert "Bộ lọc đang dùng" in html and f'href="/danh-muc/{front.top.slug}">Bỏ tất cả' in html


def test_category_page_sorts_and_keeps_old_links(client, factory):
    front = storefront(factory)
    add_listings(factory, front, 6)
    prices = [
        int(re.sub(r"\D", "", p))
        for p in re.findall(
            r'<p class="price">([^<]+)<',
            client.get(f"/danh-muc/{front.top.slug}?sort=price_asc").get_data(as_text=True),
        )
    ]
    assert prices == sorted(prices) and len(prices) == 6
    old_link = client.get(f"/danh-muc/{front.top.slug}?sort=name&in_stock=1")  # an old link's sort
    links = re.findall(r'href="([^"]+)"', old_link.get_data(as_text=True))
    assert old_link.status_code == 200 and not [link for link in links if "sort=name" in link]
    assert [link for link in links if "in_stock=1" in link and "/danh-muc/" in link]
    assert client.get(f"/danh-muc/{front.top.slug}?price_min=abc").status_code == 400


def test_category_page_follows_the_index(client, factory):
    front = storefront(factory)
    add_listings(factory, front, 2)
    listing = front.listings[0]
    assert f"/san-pham/{listing.slug}" in get(client, f"/danh-muc/{front.top.slug}").card_links
    hide_listing(listing, "Sai thông tin", actor=factory.operator())
    db.session.commit()
    outbox.drain()
    assert f"/san-pham/{listing.slug}" not in get(client, f"/danh-muc/{front.top.slug}").card_links


def test_category_names_in_english(client, factory, app):
    front = storefront(factory)
    add_listings(factory, front, 1)
    db.session.get(Category, front.top.id).name_en = "Fruit"
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False
    client.post("/ngon-ngu/en", data={"next": "/"})
    page = get(client, f"/danh-muc/{front.top.slug}")
    assert page.headings[0] == (1, "Fruit")
    assert ">Fruit</a>" in client.get("/").get_data(as_text=True)
    crumbs = json.loads(get(client, f"/san-pham/{front.listings[0].slug}").jsonld[1])["itemListElement"]
    assert crumbs[1]["name"] == "Fruit"


def test_category_page_without_the_search_package_lists_the_category_itself(client, factory, app):
    front = storefront(factory)
    add_listings(factory, front, 5)
    app.extensions.pop("category_search")
    app.config["PER_PAGE"] = 4
    page = get(client, f"/danh-muc/{front.top.slug}?sort=name")
    assert len(page.card_links) == 4 and page.card_links == sorted(page.card_links)
    assert all(img["alt"] == "" for img in page.card_images)
    assert_headings_do_not_skip(page, "category without search")
    assert "Trang 1 / 2" in client.get(f"/danh-muc/{front.top.slug}").get_data(as_text=True)
