"""Integers at the edge (issue 9 #10) and API conformance (issue 9 #13): ids in paths, page numbers
and filters in query strings, 405s, and the OpenAPI document saying what the server enforces."""

from __future__ import annotations

import pytest

from marketplace.numbers import DB_INT_MAX

HUGE = "99999999999999999999"


@pytest.fixture
def listing(factory):
    return factory.listing()


def _is_problem(response, status: int) -> bool:
    return (
        response.status_code == status
        and response.mimetype == "application/problem+json"
        and response.json["status"] == status
    )


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/listings/{HUGE}",
        f"/api/v1/listings/{HUGE}/reviews",
        f"/api/v1/listings/{DB_INT_MAX + 1}",
        "/api/v1/listings/" + "9" * 5000,
    ],
)
def test_ids_beyond_the_database_range_are_404_problems(client, listing, path):
    assert _is_problem(client.get(path), 404)


def test_the_int_converter_takes_ascii_digits_only(client, listing):
    assert client.get(f"/api/v1/listings/{listing.id}").status_code == 200
    arabic_indic = str(listing.id).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert client.get(f"/api/v1/listings/{arabic_indic}").status_code == 404


def test_every_int_route_is_bounded_without_touching_routes(app):
    from marketplace.numbers import BoundedIntConverter

    int_rules = [
        r
        for r in app.url_map.iter_rules()
        if any(isinstance(c, BoundedIntConverter) for c in r._converters.values())
    ]
    assert len(int_rules) > 10  # listings, orders, shops, invitations, synonyms…
    assert all(c.max <= DB_INT_MAX for r in int_rules for c in r._converters.values() if hasattr(c, "max"))


def test_html_lists_clamp_a_huge_page_number(client, listing):
    for path in ("/", f"/danh-muc/{listing.category.slug}", f"/cua-hang/{listing.shop.slug}"):
        assert client.get(f"{path}?page={HUGE}").status_code == 200, path
        assert client.get(f"{path}?page=abc").status_code == 200, path


def test_the_search_page_explains_a_page_too_deep(client, listing):
    r = client.get(f"/tim-kiem?q=cam&page={HUGE}")
    assert r.status_code == 400 and "Tham số page phải từ 1 đến 10000." in r.get_data(as_text=True)
    assert (
        client.get("/tim-kiem?q=cam&price_min=&price_max=&ocop_min=").status_code == 200
    )  # the form's blanks


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("page=1.0", "page"),
        ("per_page=1,0", "per_page"),
        ("per_page=", "per_page"),
        ("price_min=100000.9", "price_min"),
        ("price_max=1.000", "price_max"),
        (f"price_min={HUGE}", "price_min"),
        ("ocop_min=abc", "ocop_min"),
        ("page=200&per_page=100", "page"),  # page × per_page beyond 10 000 without a cursor
        ("price_min=5&price_max=4", "price_max"),
        ("category=khong-co", "category"),
        ("shop=khong-co", "shop"),
        ("cursor=!!", "cursor"),
        ("in_stock=on", "in_stock"),  # the page accepts it; the API takes its documented values
        ("sort=", "sort"),
    ],
)
def test_search_api_refuses_what_is_not_exactly_a_valid_parameter(client, listing, query, parameter):
    r = client.get(f"/api/v1/search?{query}")
    assert _is_problem(r, 400), r.get_data(as_text=True)
    assert parameter in r.json["errors"]


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("page=1.0", "page"),
        ("per_page=1,0", "per_page"),
        (f"page={HUGE}", "page"),
        ("page=", "page"),
        ("category=khong-co", "category"),
        ("shop=khong-co", "shop"),
    ],
)
def test_listings_api_refuses_what_is_not_exactly_a_valid_parameter(client, listing, query, parameter):
    r = client.get(f"/api/v1/listings?{query}")
    assert _is_problem(r, 400), r.get_data(as_text=True)
    assert parameter in r.json["errors"]


def test_known_filters_still_work(client, listing):
    body = client.get(f"/api/v1/listings?category={listing.category.slug}&shop={listing.shop.slug}").json
    assert [item["id"] for item in body["items"]] == [listing.id]
    assert client.get("/api/v1/search?price_min=0&price_max=100000&page=2&per_page=10").status_code == 200


@pytest.mark.parametrize(
    "url, status",
    [
        ("/api/v1/listings?category=%00", 400),
        ("/api/v1/listings?shop=a%00b", 400),
        ("/api/v1/search?category=%00", 400),
        ("/api/v1/listings/1?x=%00", 400),
        ("/san-pham/a%00b", 404),
        ("/danh-muc/%00?page=1", 404),
    ],
)
def test_a_nul_character_never_reaches_a_query(client, listing, url, status):
    """PostgreSQL text cannot hold NUL: it was a 500 there."""
    assert client.get(url).status_code == status


@pytest.mark.parametrize("path", ["/api/v1/listings", "/api/v1/search", "/api/v1/listings/1"])
def test_405_problems_carry_allow(client, listing, path):
    r = client.post(path)
    assert _is_problem(r, 405)
    assert {m.strip() for m in r.headers["Allow"].split(",")} >= {"GET", "HEAD"}


def test_the_openapi_document_states_the_limits_the_server_enforces(client):
    doc = client.get("/api/v1/openapi.json").json
    search = {p["name"]: p for p in doc["paths"]["/search"]["get"]["parameters"]}
    assert (
        search["page"]["schema"]["maximum"] == 10_000 and "page × per_page" in search["page"]["description"]
    )
    assert search["per_page"]["schema"]["maximum"] == 100
    assert search["price_min"]["schema"] == {"type": "integer", "minimum": 0, "maximum": 500_000_000}
    assert "not below price_min" in search["price_max"]["description"]
    assert "unknown" in search["category"]["description"] and "unknown" in search["shop"]["description"]
    problem_400 = doc["paths"]["/search"]["get"]["responses"]["400"]["description"]
    assert all(
        word in problem_400 for word in ("price_min above price_max", "page × per_page", "unknown category")
    )
    listings = doc["paths"]["/listings"]["get"]
    names = {p["name"]: p for p in listings["parameters"]}
    assert names["page"]["schema"]["maximum"] == 100_000 and "unknown" in names["category"]["description"]
    assert set(listings["responses"]) == {"200", "400", "429"}  # 429: the rate limiter
    for path in ("/listings/{id}", "/listings/{id}/reviews"):
        operation = doc["paths"][path]["get"]
        assert operation["parameters"][0]["schema"] == {
            "type": "integer",
            "minimum": 1,
            "maximum": DB_INT_MAX,
        }
        assert set(operation["responses"]) == {"200", "400", "404", "429"}  # 400: a NUL in the query
    assert set(doc["paths"]["/search/suggest"]["get"]["responses"]) == {"200", "400", "429"}
