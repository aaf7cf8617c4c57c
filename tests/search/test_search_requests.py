"""Hostile search requests: the result window, cursors the server did not give, and an engine
that refuses one request (a 4xx) while staying healthy for every other search."""

from __future__ import annotations

import base64
import json

import pytest
from search_testlib import People, drain, ids

from search.engine import EngineBackend, EngineError, EngineUnavailable
from search.engine.mapping import MAPPING_VERSION


@pytest.fixture
def listings(factory):
    people = People(factory)
    shop = people.shop()
    category = factory.category("Cam")
    made = [
        factory.listing(shop=shop, title=f"Cam bù Hương Sơn {n}", category=category, price=40000 + n)
        for n in range(3)
    ]
    drain()
    return [listing.id for listing in made]


def cursor_of(client, **params) -> str:
    body = client.get("/api/v1/search", query_string={"per_page": 1, **params}).json
    assert body["next_cursor"], body
    return body["next_cursor"]


def forged(backend: str, sort: str, values) -> str:
    """A cursor in the shape the server gives, made by hand (unsigned)."""
    raw = json.dumps({"b": backend, "s": sort, "v": values}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_that_is_not_used_does_not_lift_the_window(listings, client):
    """A real cursor of another sort is ignored (the page number counts): the page must then be
    within page x per_page <= 10 000 like any request without a cursor."""
    other_sort = cursor_of(client, q="cam", sort="price_asc")
    response = client.get(
        "/api/v1/search",
        query_string={"q": "cam", "sort": "relevance", "page": 10000, "per_page": 100, "cursor": other_sort},
    )
    assert response.status_code == 400, response.json
    assert "page" in response.json["errors"]
    # The same cursor with its own sort is used, and deep pages are fine with it.
    body = client.get(
        "/api/v1/search",
        query_string={"q": "cam", "sort": "price_asc", "page": 10000, "per_page": 100, "cursor": other_sort},
    ).json
    assert ids(body) == listings[1:]
    # The results page says so instead of searching page 10 000.
    page = client.get(
        "/tim-kiem", query_string={"q": "cam", "page": 10000, "per_page": 100, "cursor": other_sort}
    )
    assert page.status_code == 400 and "Trang quá sâu" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "values",
    [
        [{"x": 1}, []],  # junk types
        [1.5, 2, 3],  # too many
        [0.5, 1],  # well-formed, but not given by the server
    ],
)
def test_a_cursor_the_server_did_not_give_is_a_400(listings, client, values):
    response = client.get(
        "/api/v1/search", query_string={"q": "cam", "cursor": forged("embedded", "relevance", values)}
    )
    assert response.status_code == 400 and "cursor" in response.json["errors"]


def test_a_tampered_cursor_is_a_400(listings, client):
    good = cursor_of(client, q="cam")
    assert client.get("/api/v1/search", query_string={"q": "cam", "cursor": good}).status_code == 200
    payload, _dot, signature = good.rpartition(".")
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    response = client.get("/api/v1/search", query_string={"q": "cam", "cursor": tampered})
    assert response.status_code == 400 and "cursor" in response.json["errors"]


# --- an engine that refuses one request --------------------------------------------------------------


class FakeTransport:
    """An engine that is up (green, an index of this mapping version) and answers every search
    with the given error: what a node says to a query it refuses (400) or while overloaded (503)."""

    kind = "opensearch"
    url = "http://fake-engine"

    def __init__(self, error: Exception):
        self.error = error
        self.searches: list[tuple[str, object]] = []

    def request(self, method, path, body=None, params=None, timeout=None, ndjson=False):
        if path == "/_cluster/health":
            return {"status": "green"}
        if path.endswith("/_mapping"):
            return {"t-listings-v1": {"mappings": {"_meta": {"mapping_version": MAPPING_VERSION}}}}
        if path.endswith(("/_search", "/_msearch")):
            self.searches.append((path, body))
            raise self.error
        raise AssertionError(f"unexpected request {method} {path}")


def fake_engine(app, error: Exception) -> FakeTransport:
    """The embedded index is built; the app then has an engine configured that answers `error`."""
    from search.service import state

    transport = FakeTransport(error)
    state().engine = EngineBackend(transport, "t-")
    return transport


def test_an_engine_refusing_one_search_stays_healthy(listings, app, client):
    """A 4xx is about the request, not the engine: that search falls back, the next ones still
    go to the engine (the verdict is not "unreachable" for SEARCH_HEALTH_TTL)."""
    from search.service import state

    transport = fake_engine(app, EngineError(400, "Result window is too large"))
    body = client.get("/api/v1/search", query_string={"q": "cam"}).json
    assert body["fallback"] is True and set(ids(body)) == set(listings)
    assert state().engine_status() == "ok"
    client.get("/api/v1/search", query_string={"q": "cam"})
    client.get("/api/v1/search/suggest", query_string={"q": "cam"})
    assert len(transport.searches) == 3  # every one of them asked the engine first
    assert state().engine_status() == "ok"


def test_an_engine_failing_with_a_5xx_is_left_alone_for_a_while(listings, app, client):
    from search.service import state

    transport = fake_engine(app, EngineUnavailable("503: overloaded"))
    body = client.get("/api/v1/search", query_string={"q": "cam"}).json
    assert body["fallback"] is True and set(ids(body)) == set(listings)
    assert state().engine_status() == "unreachable"
    client.get("/api/v1/search", query_string={"q": "cam"})
    assert len(transport.searches) == 1  # the embedded index answered without asking again


def test_a_deep_page_with_an_unusable_cursor_never_reaches_the_engine(listings, app, client):
    """An embedded cursor sent to the engine is not used there: the window applies, and the
    engine is never asked for from=999900."""
    embedded_cursor = cursor_of(client, q="cam")
    transport = fake_engine(app, EngineError(400, "Result window is too large"))
    response = client.get(
        "/api/v1/search", query_string={"q": "cam", "page": 10000, "per_page": 100, "cursor": embedded_cursor}
    )
    assert response.status_code == 400 and "page" in response.json["errors"]
    assert transport.searches == []
