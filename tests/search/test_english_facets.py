"""Facet labels follow the page's language: categories and the floor's certifications show their
English names under the English locale (the filter values stay the slugs and Vietnamese names)."""

from __future__ import annotations

from search_testlib import People, drain

from catalog.certifications import seed_certifications
from marketplace.extensions import db


def test_category_and_certification_facets_in_english(app, backend, factory, client):
    seed_certifications()
    category = factory.category("Cam")
    category.name_en = "Oranges"
    db.session.commit()
    factory.listing(
        shop=People(factory).shop(), title="Cam bù Hương Sơn", category=category, certifications="Hữu cơ"
    )
    drain()

    vi = client.get("/tim-kiem", query_string={"q": "cam"}).get_data(as_text=True)
    assert '>Cam <span class="count">(1)</span>' in vi and '>Hữu cơ <span class="count">(1)</span>' in vi

    app.config["WTF_CSRF_ENABLED"] = False
    client.post("/ngon-ngu/en", data={"next": "/"})
    app.config["WTF_CSRF_ENABLED"] = True
    en = client.get("/tim-kiem", query_string={"q": "cam"}).get_data(as_text=True)
    assert '>Oranges <span class="count">(1)</span>' in en and '>Organic <span class="count">(1)</span>' in en
    assert "cert=H%E1%BB%AFu+c%C6%A1" in en  # the filter still names the certification as cited


def test_suggested_categories_in_english_found_by_either_name(app, backend, factory, client):
    category = factory.category("Cam")
    category.name_en = "Oranges"
    db.session.commit()
    drain()
    vi = client.get("/api/v1/search/suggest", query_string={"q": "cam"}).json
    assert [c["name"] for c in vi["categories"]] == ["Cam"]

    app.config["WTF_CSRF_ENABLED"] = False
    client.post("/ngon-ngu/en", data={"next": "/"})
    app.config["WTF_CSRF_ENABLED"] = True
    by_vietnamese = client.get("/api/v1/search/suggest", query_string={"q": "cam"}).json
    by_english = client.get("/api/v1/search/suggest", query_string={"q": "orang"}).json
    assert [c["name"] for c in by_vietnamese["categories"]] == ["Oranges"]
    assert [c["name"] for c in by_english["categories"]] == ["Oranges"]
    assert by_english["categories"][0]["url"].endswith(f"/danh-muc/{category.slug}")
