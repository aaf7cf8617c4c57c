"""Keeping the index true in operation: reindex with zero downtime, freshness, engine outages."""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from search_testlib import People, drain, drop_indices, ids, search_node, use_backend

from catalog.models import Listing
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from marketplace.timeutil import utcnow
from tests.support import unavailable

SEARCH_TOPICS = ("listing.changed", "shop.changed", "category.changed")


def edit_title(listing: Listing, title: str, owner) -> None:
    from catalog.services import update_listing

    update_listing(
        listing,
        {
            "title": title,
            "category_id": listing.category_id,
            "unit": listing.unit,
            "price_vnd": listing.price_vnd,
            "stock": listing.stock,
            "status": listing.status,
            "origin": listing.origin,
        },
        actor=owner,
    )
    db.session.commit()


def current_index(state, kind: str) -> str:
    return state.embedded.current_index() if kind == "embedded" else state.engine.current_index()


def pending_search_events() -> list[OutboxEvent]:
    return (
        db.session.query(OutboxEvent)
        .filter(OutboxEvent.topic.in_(SEARCH_TOPICS), OutboxEvent.status != "done")
        .all()
    )


def test_reindex_command_swaps_in_a_new_index(backend, catalogue, app, runner, search_api):
    from search.service import state

    s = state()
    before = current_index(s, backend)
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    after = current_index(s, backend)
    assert after != before
    if backend == "embedded":
        assert s.embedded.indexes() == [after]
    else:
        assert s.engine.indexes() == [after]  # the old index is gone, the alias moved
        assert s.embedded.status() == "ok"  # `reindex` with no target rebuilds the embedded index too
    assert set(ids(search_api(per_page=50))) == catalogue.public
    status = runner.invoke(args=["search", "status"])
    assert status.exit_code == 0 and '"docs": 9' in status.output


def test_reindex_keeps_answering_and_catches_up(backend, catalogue, app, search_api):
    """While the new index is filled, searches answer from the old one; a listing edited after
    the bulk read is right in the new index anyway (caught up from the outbox)."""
    from search import indexer, service

    answers = []

    def progress(done):
        answers.append(search_api(q="cam bu huong son")["total"])

        def seller_edits():  # another request: its own thread, app context and session
            with app.app_context():
                listing = db.session.get(Listing, catalogue.ngo)
                edit_title(listing, "Ngô nếp Nghi Xuân loại một", listing.shop.members[0].user)

        worker = threading.Thread(target=seller_edits)
        worker.start()
        worker.join()

    s = service.state()
    result = indexer.reindex(s.embedded if backend == "embedded" else s.engine, progress=progress)
    assert answers == [1]
    assert result["docs"] == len(catalogue.public) and result["caught_up"] >= 1
    assert ids(search_api(q="loai mot")) == [catalogue.ngo]  # no worker ran: the catch-up did it


def test_listing_edit_is_searchable_within_two_seconds(backend, factory, app, search_api):
    from marketplace import outbox

    people = People(factory)
    listing = factory.listing(shop=people.shop(), title="Cam bù Hương Sơn", category=factory.category("Cam"))
    drain()
    stop = threading.Event()

    def worker():
        with app.app_context():
            outbox.run_worker(app.config["WORKER_POLL_S"], stop=stop.is_set)  # 0.5 s, as `make run`

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    try:
        time.sleep(0.3)
        edit_title(listing, "Cam bù Hương Sơn loại đặc biệt", people.owner)
        started = time.monotonic()
        while not ids(search_api(q="loai dac biet")):
            assert time.monotonic() - started < 2.0, "the edit was not searchable within 2 seconds"
            time.sleep(0.05)
        assert time.monotonic() - started < 2.0
    finally:
        stop.set()
        thread.join(10)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_engine_answers_from_the_embedded_index(app, factory, client):
    """Configured engine, nothing listening: writes succeed, search falls back and says so."""
    state = use_backend(app, "opensearch", f"http://127.0.0.1:{_closed_port()}")
    try:
        people = People(factory)
        listing = factory.listing(
            shop=people.shop(), title="Nước mắm Cửa Sót", category=factory.category("Nước mắm")
        )
        drain()
        body = client.get("/api/v1/search?q=nuoc+mam").json
        assert ids(body) == [listing.id]
        assert body["fallback"] is True and body["backend"] == "embedded"
        assert body["notice"] == "Tìm kiếm đang chạy ở chế độ dự phòng"
        page = client.get("/tim-kiem?q=nuoc+mam").get_data(as_text=True)
        assert "Tìm kiếm đang chạy ở chế độ dự phòng" in page and "Cửa Sót" in page
        assert client.get("/api/v1/search/suggest?q=nuoc").json["products"][0]["id"] == listing.id
        health = client.get("/healthz").json["search"]
        assert health["backend"] == "embedded" and health["status"] == "fallback"
        assert health["engine"]["status"] == "unreachable"
        # The engine's share of the work waits for a quick retry, not a long backoff.
        waiting = pending_search_events()
        assert waiting and all(e.next_attempt_at <= utcnow() + timedelta(seconds=10) for e in waiting)
    finally:
        drop_indices(state)


@pytest.mark.engine
def test_engine_outage_in_the_middle_and_recovery(app, factory, client, tmp_path):
    """A real node of our own is stopped mid-test and started again on the same data and port."""
    node = search_node()
    data = tmp_path / "node"
    try:
        url, proc = node.start_node("opensearch", data)
    except Exception as exc:  # noqa: BLE001
        unavailable(f"cannot start an OpenSearch node for the outage test: {exc}")
    app.config["SEARCH_HEALTH_TTL"] = 1.0
    app.config["SEARCH_RETRY_SECONDS"] = 1.0
    state = use_backend(app, "opensearch", url)
    try:
        people = People(factory)
        category = factory.category("Hải sản khô")
        squid = factory.listing(shop=people.shop(), title="Mực khô Thạch Kim", category=category)
        shrimp = factory.listing(shop=squid.shop, title="Tôm khô Cẩm Nhượng", category=category)
        drain()
        body = client.get("/api/v1/search?q=muc+kho").json
        assert body["backend"] == "opensearch" and ids(body) == [squid.id]

        node.stop_node(proc)  # the engine goes away

        # Every write still succeeds: they only record outbox rows.
        edit_title(squid, "Mực khô câu Thạch Kim", people.owner)
        fish = factory.listing(shop=squid.shop, title="Cá thu một nắng", category=category)
        from catalog.services import hide_listing

        hide_listing(db.session.get(Listing, shrimp.id), "Sai giá", actor=people.operator)
        db.session.commit()
        drain()
        assert pending_search_events()

        body = client.get("/api/v1/search?q=kho").json
        assert body["fallback"] is True and body["notice"] == "Tìm kiếm đang chạy ở chế độ dự phòng"
        assert set(ids(body)) == {squid.id, fish.id}  # "khô" is in their category; the hidden shrimp is gone
        assert ids(client.get("/api/v1/search?q=ca+thu").json) == [fish.id]
        health = client.get("/healthz").json["search"]
        assert health["backend"] == "embedded" and health["status"] == "fallback"

        url_again, proc = node.start_node("opensearch", data, port=urlsplit(url).port)
        assert url_again == url
        deadline = time.monotonic() + 60
        while pending_search_events():
            assert time.monotonic() < deadline, [e.last_error for e in pending_search_events()]
            time.sleep(0.5)
            drain()
        assert not db.session.query(OutboxEvent).filter_by(status="dead").count()

        time.sleep(app.config["SEARCH_HEALTH_TTL"])
        body = client.get("/api/v1/search?q=muc+kho+cau").json
        assert body["backend"] == "opensearch" and body["fallback"] is False
        assert ids(body) == [squid.id] and "câu" in body["hits"][0]["title"]
        assert set(ids(client.get("/api/v1/search?q=kho").json)) == {squid.id, fish.id}
        assert ids(client.get("/api/v1/search?q=ca+thu").json) == [fish.id]
        public = {squid.id, fish.id}
        assert state.engine.doc_ids() == public == state.embedded.doc_ids()  # nothing missing, nothing extra
        assert client.get("/healthz").json["search"]["backend"] == "opensearch"
    finally:
        drop_indices(state)
        node.stop_node(proc)


def test_an_error_inside_msearch_is_raised_like_a_search_error(engine_backend, factory):
    """_msearch answers 200 with an error per failed part: each must still raise (a 4xx as
    EngineError, not a silently empty page), so the search falls back or reports it."""
    from search.engine import EngineError
    from search.service import state

    engine = state().engine
    factory.listing(title="Cam bù Hương Sơn")
    drain()
    good = {"query": {"match_all": {}}, "size": 1}
    bad = {"query": {"range": {"price_vnd": {"gte": "không phải số"}}}, "size": 1}
    (first,) = engine._msearch([good])
    assert first["hits"]["hits"]
    with pytest.raises(EngineError) as raised:
        engine._msearch([good, bad])
    assert raised.value.status == 400


# --- the reindex lease ------------------------------------------------------------------------------


def lease_row(key: str):
    """The lease row as another machine sees it (a session of its own: committed state only)."""
    from sqlalchemy.orm import Session

    from search.models import SearchIndexState

    with Session(db.engine) as other:
        row = other.get(SearchIndexState, key)
        return (
            None
            if row is None
            else {
                c: getattr(row, c)
                for c in ("building", "lease_until", "current_index", "last_docs", "last_error")
            }
        )


def test_two_reindexes_cannot_overlap(app, factory):
    from search import indexer
    from search.service import state

    factory.listing(title="Cam bù Hương Sơn")
    drain()
    embedded = state().embedded
    before = embedded.current_index()
    with indexer.ReindexLease(embedded.lease_key) as held:
        row = lease_row(embedded.lease_key)
        assert row["building"] == "starting" and row["lease_until"] == held.until > utcnow()
        with pytest.raises(indexer.ReindexBusy), indexer.ReindexLease(embedded.lease_key):
            pass
        with pytest.raises(indexer.ReindexBusy, match="already running"):
            indexer.reindex(embedded)
        assert embedded.current_index() == before and embedded.indexes() == [before]
    assert lease_row(embedded.lease_key)["lease_until"] is None
    indexer.reindex(embedded)  # free again
    assert embedded.current_index() != before


def test_an_expired_lease_can_be_taken_over(app, factory):
    """A reindex that died (or ran past its lease) does not block the next one for ever; when the
    late one finally ends, it does not release the lease of the one that took over."""
    from search import indexer
    from search.service import state

    listing = factory.listing(title="Cam bù Hương Sơn")
    drain()
    embedded = state().embedded
    key = embedded.lease_key
    late = indexer.ReindexLease(key, duration=timedelta(seconds=-1)).__enter__()  # already expired
    late.building("g-that-never-finished")
    taker = indexer.ReindexLease(key).__enter__()
    assert lease_row(key)["lease_until"] == taker.until
    late.__exit__(None, None, None)
    assert lease_row(key)["lease_until"] == taker.until  # still held by the one that took over
    with pytest.raises(indexer.ReindexBusy):
        indexer.reindex(embedded)
    taker.__exit__(None, None, None)
    result = indexer.reindex(embedded)
    assert result["docs"] == 1 and embedded.doc_ids() == {listing.id}
    assert lease_row(key)["lease_until"] is None


def test_the_lease_is_released_after_success_and_after_failure(app, factory, monkeypatch):
    from search import documents, indexer
    from search.service import state

    listing = factory.listing(title="Cam bù Hương Sơn")
    drain()
    embedded = state().embedded
    key = embedded.lease_key

    result = indexer.reindex(embedded)
    row = lease_row(key)
    assert row["building"] is None and row["lease_until"] is None and row["last_error"] is None
    assert row["current_index"] == result["index"] == embedded.current_index() and row["last_docs"] == 1

    def stream_that_breaks(batch: int = 1000):
        yield documents.load_documents([listing.id])[0]
        raise RuntimeError("the database went away")

    monkeypatch.setattr(documents, "iter_all_documents", stream_that_breaks)
    with pytest.raises(RuntimeError, match="went away"):
        indexer.reindex(embedded)
    row = lease_row(key)
    assert row["building"] is None and row["lease_until"] is None
    assert row["last_error"] == "RuntimeError: the database went away"
    assert row["current_index"] == result["index"] == embedded.current_index()  # searches never noticed
    assert embedded.indexes() == [result["index"]]  # the half-built index is gone
    monkeypatch.undo()
    assert indexer.reindex(embedded)["docs"] == 1  # and the next reindex may run


def test_indexing_never_commits_the_callers_session(app, factory):
    """The worker commits after each handler and the command has nothing to commit: neither the
    handlers, nor the rebuild the first write triggers, nor reindex commit the caller's session."""
    from sqlalchemy import event

    from search import indexer
    from search.service import state

    listing = factory.listing(title="Cam bù Hương Sơn")
    db.session.commit()
    commits = []

    def committed(session):
        commits.append(session)

    session = db.session()
    event.listen(session, "after_commit", committed)
    try:
        assert state().embedded.status() == "index_missing"  # nothing drained yet
        indexer.on_listing_changed({"listing_id": listing.id}, None)  # rebuilds, then writes
        assert state().embedded.doc_ids() == {listing.id}
        indexer.reindex(state().embedded)
    finally:
        event.remove(session, "after_commit", committed)
    assert commits == []


def short_lease(monkeypatch, seconds: float):
    """Reindexes take leases of `seconds` (instead of two hours) for the rest of the test."""
    from search import indexer

    class ShortLease(indexer.ReindexLease):
        def __init__(self, key, duration=None):
            super().__init__(key, timedelta(seconds=seconds))

    monkeypatch.setattr(indexer, "ReindexLease", ShortLease)


def slow_stream(monkeypatch, listing_ids: list[int], pause: float, between=lambda n: None):
    """The rebuild reads one listing per batch and each batch takes `pause` seconds."""
    from search import documents

    def stream(batch: int = 1000):
        for n, listing_id in enumerate(listing_ids):
            if n:
                time.sleep(pause)
                between(n)
            yield documents.load_documents([listing_id])[0]

    monkeypatch.setattr(documents, "iter_all_documents", stream)


def test_a_long_reindex_keeps_its_lease(app, factory, monkeypatch):
    """Renewed at every batch: a rebuild that takes longer than the lease but keeps making progress
    is never taken over."""
    from search import indexer
    from search.service import state

    made = [factory.listing(title=f"Cam bù Hương Sơn {n}") for n in range(4)]
    drain()
    embedded = state().embedded
    short_lease(monkeypatch, 1.0)
    slow_stream(monkeypatch, [listing.id for listing in made], pause=0.6)
    attempts = []

    def another_reindex(done):
        try:
            with indexer.ReindexLease(embedded.lease_key):
                attempts.append("taken")
        except indexer.ReindexBusy:
            attempts.append("busy")

    result = indexer.reindex(embedded, progress=another_reindex)  # 1.8 s, lease 1 s
    assert attempts == ["busy"] * 4
    assert result["docs"] == 4 and embedded.current_index() == result["index"]
    assert embedded.indexes() == [result["index"]]


def test_a_reindex_that_lost_its_lease_stops_and_drops_only_its_own_index(app, factory, monkeypatch):
    """A rebuild stalls past its lease and another takes over and starts filling a generation: the
    first stops at its next batch, drops its own index only, activates nothing."""
    from search import indexer
    from search.service import state

    made = [factory.listing(title=f"Cam bù Hương Sơn {n}") for n in range(3)]
    drain()
    embedded = state().embedded
    before = embedded.current_index()
    short_lease(monkeypatch, 0.3)
    taken = {}

    def stall_then_taken_over(n):
        if n == 1:
            time.sleep(0.5)  # past the lease
            taken["lease"] = lease = indexer.ReindexLease(embedded.lease_key).__enter__()
            taken["index"] = embedded.create_index()
            lease.building(taken["index"])

    slow_stream(monkeypatch, [listing.id for listing in made], pause=0, between=stall_then_taken_over)
    with pytest.raises(indexer.ReindexLeaseLost):
        indexer.reindex(embedded)
    assert embedded.current_index() == before  # nothing activated
    assert embedded.indexes() == sorted([before, taken["index"]])  # the other's generation survives
    assert lease_row(embedded.lease_key)["building"] == taken["index"]  # the lease is still the other's
    taken["lease"].__exit__(None, None, None)
