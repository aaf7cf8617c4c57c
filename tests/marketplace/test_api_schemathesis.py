"""schemathesis over every path of /api/v1/openapi.json, in-process (WSGI), against a seeded catalogue.

All checks, positive and negative data, a fixed seed and a bounded number of examples per operation:
the run fails on any server error, any response outside the documented schema and any status code
the document does not list. Runs on SQLite and on PostgreSQL (`make test` runs the suite on both)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from marketplace import create_app, outbox
from tests.conftest import _config

SEED = 20261127
EXAMPLES_PER_OPERATION = 60

# The document says what a request may look like one parameter at a time. The list and search
# operations have rules that span several parameters or the data (price_min above price_max,
# page × per_page beyond the window, a slug or a cursor the server does not know): a
# schema-valid request can break them, and the server answers the documented 400. For those two
# operations, and only there, a 400 counts as an accepted answer to positive data; every other
# check keeps its defaults.
CONFIG = {
    "seed": SEED,
    "generation": {"max-examples": EXAMPLES_PER_OPERATION, "deterministic": True, "database": "none"},
    "operations": [
        {
            "include-operation-id": ["listListings", "searchListings"],
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"],
                },
            },
        }
    ],
}


KNOWN = {
    "category": ["trai-cay", "cam", "mat-ong"],
    "shop": ["htx-cam-huong-son", "ho-ong-ba", "co-so-keo-cu-do"],
    "id": [1, 2, 3, 4, 5, 6],
}


def _seed_catalogue(factory) -> dict[str, list]:
    """Two categories (one inside the other), three shops, listings with and without OCOP ratings,
    certifications, origins and pictures: every part of a response has something to show."""
    fruit = factory.category("Trái cây")
    orange = factory.category("Cam", parent=fruit)
    honey = factory.category("Mật ong")
    shops = [factory.shop(name=name) for name in ("HTX Cam Hương Sơn", "Hộ ông Ba", "Cơ sở Kẹo Cu Đơ")]
    listings = []
    rows = [
        ("Cam bù Hương Sơn", orange, 45_000, 10, {"origin": "Hương Sơn", "certifications": "VietGAP"}),
        ("Cam Khe Mây", orange, 60_000, 0, {"origin": "Hương Khê"}),
        ("Bưởi Phúc Trạch", fruit, 120_000, 5, {"origin": "Phúc Trạch", "weight_grams": 1500}),
        (
            "Mật ong rừng",
            honey,
            250_000,
            3,
            {"ocop_stars": 4, "ocop_certificate_no": "12/QĐ", "ocop_issued_on": date(2025, 3, 1)},
        ),
        ("Mật ong hoa nhãn", honey, 180_000, 8, {"certifications": "Hữu cơ"}),
        ("Cam sành", orange, 30_000, 20, {}),
    ]
    for n, (title, category, price, stock, extra) in enumerate(rows):
        listings.append(
            factory.listing(
                shop=shops[n % len(shops)], title=title, category=category, price=price, stock=stock, **extra
            )
        )
    outbox.drain()  # the search index
    return {
        "category": [fruit.slug, orange.slug, honey.slug],
        "shop": [shop.slug for shop in shops],
        "id": [listing.id for listing in listings],
    }


def _document_app():
    """An app of its own to read the document from at collection time (the document does not
    depend on the data); every request is then sent to the test's own app with its catalogue."""
    folder = tempfile.mkdtemp(prefix="openapi-")
    atexit.register(shutil.rmtree, folder, True)
    return create_app(_config("sqlite://", Path(folder)))


schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", _document_app(), config=schemathesis.Config.from_dict(CONFIG)
)


@schema.hook
def flatmap_query(ctx, query):
    """Now and then a category or shop that exists, so filtered responses are not all empty."""
    if not isinstance(query, dict):
        return st.just(query)
    options = [st.just(query)]
    for name in ("category", "shop"):
        if name in query:
            options.append(st.sampled_from(KNOWN[name]).map(lambda slug, n=name: {**query, n: slug}))
    return st.one_of(options)


@schema.hook
def flatmap_path_parameters(ctx, path_parameters):
    """Now and then the id of a listing that exists (the others are 404s)."""
    if not isinstance(path_parameters, dict) or "id" not in path_parameters:
        return st.just(path_parameters)
    real = st.sampled_from(KNOWN["id"]).map(lambda i: {**path_parameters, "id": i})
    return st.one_of(st.just(path_parameters), real)


@pytest.fixture
def catalogue_app(app, factory):
    known = _seed_catalogue(factory)
    assert known == KNOWN, "the hooks above name these slugs and ids"
    return app


@schema.parametrize()
# The catalogue is built once per operation and only read: nothing to reset between requests.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_api_operation_conforms_to_its_document(case, catalogue_app):
    # The WSGI transport sends requests' "Accept-Encoding: gzip, deflate" but hands the body over
    # undecoded: ask for the plain body (compression has its own tests, test_page_cache.py).
    case.call_and_validate(app=catalogue_app, headers={"Accept-Encoding": "identity"})
