"""Upgrading: an index built by older code (an older MAPPING_VERSION / SCHEMA_VERSION) is never
read, and is rebuilt at the first write or, on a site where nobody writes, the first search.

The case that made this matter: migration 0006_ocop turned every rating on a listing into a
waiting claim without recording a listing.changed, so the indexes built before kept showing
unchecked stars (badges, ocop_stars, the OCOP facet, ocop_min, the ranking boost)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from search_testlib import People, drain, ids
from sqlalchemy import update

from catalog.models import Listing, OcopCertificate
from marketplace.extensions import db
from marketplace.models import OutboxEvent

# What the code before the OCOP register fix built: every index of a site upgraded through
# 0006_ocop carries one of these versions (or an older one).
EMBEDDED_SCHEMA_BEFORE = 8
ENGINE_MAPPING_BEFORE = 7


def age_the_indexes(state) -> None:
    """Mark the current indexes as built by the code before the fix."""
    store = state.embedded.store
    generation = store.current()
    store._meta().execute(
        "UPDATE meta SET value = ? WHERE key = ?", (str(EMBEDDED_SCHEMA_BEFORE), f"version:{generation}")
    )
    if state.engine is not None:
        index = state.engine.current_index()
        state.engine.request(
            "PUT", f"/{index}/_mapping", {"_meta": {"mapping_version": ENGINE_MAPPING_BEFORE}}
        )


def upgrade_through_0006() -> None:
    """What 0006_ocop did to the ratings: waiting claims, and no event."""
    db.session.execute(update(OcopCertificate).values(status="waiting", decided_by_id=None, decided_at=None))
    db.session.commit()


@pytest.fixture
def rated(factory):
    """A checked 4-star listing and an unrated one, indexed."""
    people = People(factory)
    shop = people.shop()
    category = factory.category("Cam")
    honey = factory.listing(
        shop=shop,
        title="Mật ong rừng Vũ Quang",
        category=category,
        ocop_stars=4,
        ocop_certificate_no="OCOP-01",
        ocop_level="province",
        ocop_issued_on=(date.today() - timedelta(days=100)).isoformat(),
    )
    factory.check_ocop(honey, operator=people.operator)
    other = factory.listing(shop=shop, title="Mật ong hoa cà phê", category=category)
    drain()
    return people, honey.id, other.id


def stars(search_api) -> dict:
    body = search_api(q="mat ong")
    return {
        "backend": body["backend"],
        "fallback": body["fallback"],
        "hits": {hit["id"]: hit["ocop_stars"] for hit in body["hits"]},
        "ocop_facet": body["facets"].get("ocop"),
        "ocop_min": ids(search_api(q="mat ong", ocop_min=1)),
    }


def rebuild_requests() -> list[dict]:
    rows = db.session.query(OutboxEvent).filter_by(topic="search.rebuild").order_by(OutboxEvent.id)
    return [row.payload for row in rows]


@pytest.mark.parametrize("trigger", ["search", "write"])
def test_an_index_built_before_the_ocop_register_is_rebuilt(backend, rated, app, search_api, trigger):
    from catalog.services import update_listing
    from search.service import reset_state

    people, honey, other = rated
    before = stars(search_api)
    assert before["hits"] == {honey: 4, other: None} and before["ocop_min"] == [honey]
    assert before["backend"] == backend and before["fallback"] is False

    upgrade_through_0006()
    state = reset_state(app)  # the new code starts (a new process) on the old indexes
    age_the_indexes(state)
    if trigger == "write":
        assert state.stale_check_due()  # as if this process had looked already: the write alone rebuilds

    # Nothing reads the old indexes: no unchecked star shows while they wait for the rebuild.
    waiting = stars(search_api)
    assert not any(waiting["hits"].values()) and not waiting["ocop_min"]

    if trigger == "write":  # a producer edits another listing
        edited = db.session.get(Listing, other)
        update_listing(
            edited,
            {
                "title": "Mật ong hoa cà phê Hương Sơn",
                "category_id": edited.category_id,
                "unit": edited.unit,
                "price_vnd": edited.price_vnd,
                "stock": edited.stock,
                "status": edited.status,
            },
            actor=people.owner,
        )
        db.session.commit()
        assert rebuild_requests() == []
    else:  # nobody writes: the search above asked the worker for the rebuild
        targets = {payload["target"] for payload in rebuild_requests()}
        assert targets == ({"embedded"} if backend == "embedded" else {"embedded", "engine"})
    drain()

    after = stars(search_api)
    assert after["backend"] == backend and after["fallback"] is False
    assert after["hits"] == {honey: None, other: None}
    assert not after["ocop_facet"] and after["ocop_min"] == []
    assert db.session.query(OutboxEvent).filter_by(status="dead").count() == 0


def test_a_rebuild_is_asked_once_and_is_a_no_op_when_the_index_is_current(rated, app, search_api):
    from search import indexer
    from search.service import reset_state

    state = reset_state(app)
    age_the_indexes(state)
    search_api(q="mat ong")
    search_api(q="mat ong")
    reset_state(app)  # another web process
    search_api(q="mat ong")
    assert [p["target"] for p in rebuild_requests()] == ["embedded"]  # one pending request is enough
    drain()
    generation = reset_state(app).embedded.current_index()
    assert indexer.request_rebuild(reset_state(app).embedded, "outdated")  # a late request
    drain()
    assert reset_state(app).embedded.current_index() == generation  # found current: nothing rebuilt
