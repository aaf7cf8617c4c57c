"""The JSON API contract, the OpenAPI document, text normalisation and the operator's synonym page."""

from __future__ import annotations

import pytest
from search_testlib import People, drain

from marketplace.extensions import db
from tests.support import forget_session, sign_in


@pytest.mark.parametrize(
    "params, field",
    [
        ({"sort": "cheapest"}, "sort"),
        ({"ocop_min": "9"}, "ocop_min"),
        ({"ocop_min": "nhiều"}, "ocop_min"),
        ({"price_min": "-5"}, "price_min"),
        ({"price_min": "90000", "price_max": "10000"}, "price_max"),
        ({"per_page": "500"}, "per_page"),
        ({"page": "9000", "per_page": "100"}, "page"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"category": "khong-co-danh-muc-nay"}, "category"),
        ({"shop": "khong-co-cua-hang"}, "shop"),
        ({"cursor": "%%%not-a-cursor"}, "cursor"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_parameters_are_400_problems(client, params, field):
    response = client.get("/api/v1/search", query_string=params)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert field in body["errors"] and body["detail"]
    assert client.get("/tim-kiem", query_string=params).status_code == 400  # the page says so too


def test_response_shape(client, factory):
    people = People(factory)
    listing = factory.listing(
        shop=people.shop("HTX Vũ Quang"),
        title="Nhung hươu Hương Sơn",
        price=1200000,
        category=factory.category("Dược liệu"),
    )
    drain()
    body = client.get("/api/v1/search?q=nhung+huou").json
    assert body["total"] == 1
    hit = body["hits"][0]
    assert set(hit) >= {"id", "title", "price_vnd", "unit", "shop", "url", "image", "highlight"}
    assert hit["id"] == listing.id and hit["price_vnd"] == 1200000 and hit["unit"] == "kg"
    assert hit["shop"]["name"] == "HTX Vũ Quang"
    assert hit["url"].endswith(f"/san-pham/{listing.slug}")
    assert set(body["facets"]) == {"category", "origin", "shop", "ocop", "cert", "price", "in_stock"}
    assert body["backend"] == "embedded" and body["fallback"] is False


def test_openapi_documents_both_endpoints(client):
    doc = client.get("/api/v1/openapi.json").json
    assert "/search" in doc["paths"] and "/search/suggest" in doc["paths"]
    names = {p["name"] for p in doc["paths"]["/search"]["get"]["parameters"]}
    assert {
        "q",
        "category",
        "origin",
        "shop",
        "ocop_min",
        "cert",
        "price_min",
        "price_max",
        "in_stock",
        "sort",
        "page",
        "per_page",
    } <= names
    assert "SearchResults" in doc["components"]["schemas"]


def test_suggest_rejects_long_input(client):
    response = client.get("/api/v1/search/suggest", query_string={"q": "a" * 101})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_text_folding():
    from search import text as vi

    assert vi.fold("Cam bù Hương Sơn") == "cam bu huong son"
    assert vi.fold("ĐẶC SẢN đường") == "dac san duong"
    # Decomposed input (NFD, as some keyboards send it) folds and matches the same way.
    import unicodedata

    assert vi.fold(unicodedata.normalize("NFD", "Bưởi Phúc Trạch")) == "buoi phuc trach"
    assert vi.exact_tokens(unicodedata.normalize("NFD", "Mật ong")) == ["mật", "ong"]
    assert vi.parse_synonym_group(" Quả ,trái; QUẢ ") == ["quả", "trái"]
    groups = vi.folded_synonym_groups([["quả", "trái"], ["mướp đắng", "khổ qua"]])
    assert vi.expand_synonyms(["qua", "muop", "dang"], groups) == [
        [("qua",), ("trai",)],
        [("muop", "dang"), ("kho", "qua")],
    ]
    assert str(vi.highlight("Mứt <b>gừng</b>", {"gung"})) == "Mứt &lt;b&gt;<mark>gừng</mark>&lt;/b&gt;"


def test_a_transposition_is_one_edit_as_on_the_engine():
    """The engine's fuzzy matching counts two neighbouring letters swapped as one edit, so the
    highlighter must too: "boui" (a swap in a 4-letter word) finds "Bưởi" and marks it."""
    from search import text as vi

    assert vi.edit_distance("boui", "buoi") == 1
    assert vi.edit_distance("mta", "mat") == 1 and vi.edit_distance("ab", "ba") == 1
    assert vi.edit_distance("abcd", "badc") == 2  # two swaps
    assert vi.edit_distance("ca", "abc") == 3  # not the unrestricted Damerau distance (2)
    assert str(vi.highlight("Bưởi Phúc Trạch", {"boui"}, fuzzy=True)) == "<mark>Bưởi</mark> Phúc Trạch"
    assert str(vi.highlight("Bưởi Phúc Trạch", {"boui"})) == "Bưởi Phúc Trạch"  # embedded: exact words only


def test_operator_synonym_page(client, factory, csrf_off):
    from search.models import SearchSynonym

    people = People(factory)
    sign_in(client, people.owner)
    assert client.get("/quan-tri/tu-dong-nghia").status_code == 403
    forget_session(client)
    sign_in(client, people.operator)
    page = client.get("/quan-tri/tu-dong-nghia").get_data(as_text=True)
    assert "heo, lợn" in page  # seeded by the migration
    assert 'href="/quan-tri/tu-dong-nghia"' in client.get("/quan-tri/").get_data(as_text=True)
    response = client.post("/quan-tri/tu-dong-nghia", data={"terms": "lá giang, lá dang"})
    assert response.status_code == 302
    row = db.session.query(SearchSynonym).filter_by(terms="lá giang, lá dang").one()
    response = client.post("/quan-tri/tu-dong-nghia", data={"terms": "chỉ một từ"})
    assert response.status_code == 200 and "ít nhất hai từ" in response.get_data(as_text=True)
    client.post(f"/quan-tri/tu-dong-nghia/{row.id}/bat-tat")
    db.session.refresh(row)
    assert row.active is False
    client.post(f"/quan-tri/tu-dong-nghia/{row.id}/xoa")
    assert db.session.get(SearchSynonym, row.id) is None


def test_only_the_operator_edits_synonyms(factory):
    from marketplace.errors import Forbidden
    from search.models import SearchSynonym
    from search.synonyms import (
        add_synonym_group,
        can_edit_synonyms,
        remove_synonym_group,
        set_synonym_active,
    )

    people = People(factory)
    assert can_edit_synonyms(people.operator)
    assert not can_edit_synonyms(people.owner) and not can_edit_synonyms(None)
    row = add_synonym_group("mướp đắng, khổ qua", actor=people.operator)
    for edit in (
        lambda: add_synonym_group("na, mãng cầu", actor=people.owner),
        lambda: set_synonym_active(row, False, actor=people.owner),
        lambda: remove_synonym_group(row, actor=people.owner),
        lambda: remove_synonym_group(row, actor=None),
    ):
        with pytest.raises(Forbidden):
            edit()
    assert row.active and db.session.query(SearchSynonym).filter_by(terms="na, mãng cầu").count() == 0


def test_synonym_pages_need_csrf(client, factory):
    people = People(factory)
    sign_in(client, people.operator)
    assert client.post("/quan-tri/tu-dong-nghia", data={"terms": "a, b"}).status_code in (200, 400)
    from search.models import SearchSynonym

    assert db.session.query(SearchSynonym).filter_by(terms="a, b").count() == 0


@pytest.mark.parametrize(
    "endpoint, arg, value",
    [
        ("catalog.show_listing", "slug", "cam-bu-huong-son-2"),
        ("catalog.show_listing", "slug", "bưởi phúc/trạch?#&"),
        ("shell.media", "filename", "listings/ab/c d/320.jpg"),
    ],
)
def test_hit_urls_are_what_url_for_builds(app, endpoint, arg, value):
    from flask import url_for

    from search.api import _url_maker

    with app.test_request_context("/api/v1/search"):
        assert _url_maker(endpoint, arg)(value) == url_for(endpoint, **{arg: value}, _external=True)
