"""Keeping the indexes true: the outbox handlers that write listings to every backend, and
reindex (a new index built from the database and swapped in) with its lease.

Both talk to the backends through the SearchBackend protocol only (search/backend.py), the
embedded index first (always maintained, so the fallback is complete), then the engine when one
is configured. Neither commits the caller's session: the worker commits after each handler, the
`flask search reindex` command has nothing of its own to commit. Reindex reads the database in
short sessions of its own and keeps its lease in another (see ReindexLease)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.extensions import db, rows_matched
from marketplace.models import OutboxEvent
from marketplace.outbox import RetryLater
from marketplace.timeutil import utcnow

from . import documents
from .backend import BackendUnavailable, SearchBackend
from .models import SearchIndexState
from .service import state

log = logging.getLogger(__name__)

TOPICS = ("listing.changed", "shop.changed", "category.changed")
REBUILD_TOPIC = "search.rebuild"  # a search found an index missing or built by older code
LEASE = timedelta(hours=2)  # renewed at every batch: only a rebuild that stopped making progress loses it
CATCH_UP_MARGIN = timedelta(minutes=2)  # transactions still open when a reindex starts


# --- the outbox handlers ---------------------------------------------------------------------------


def on_listing_changed(payload: dict, event: OutboxEvent) -> None:
    sync_listings([payload["listing_id"]])


def on_shop_changed(payload: dict, event: OutboxEvent) -> None:
    for chunk in _in_batches(documents.listing_ids_of_shop(payload["shop_id"])):
        sync_listings(chunk)


def on_category_changed(payload: dict, event: OutboxEvent) -> None:
    for chunk in _in_batches(documents.listing_ids_of_category(payload["category_id"])):
        sync_listings(chunk)


def sync_listings(listing_ids: list[int]) -> None:
    """Write the current database truth for these listings to every index (idempotent: handlers
    read the database, so replays and order do not matter)."""
    docs, gone = documents.load_documents(listing_ids)
    for backend in state().backends():
        _write(backend, docs, gone)


def _write(backend: SearchBackend, docs: list[dict], gone: list[int]) -> None:
    """One backend's share of an event. An unavailable backend or a rebuild running elsewhere
    becomes a quick RetryLater (SEARCH_RETRY_SECONDS), not the outbox's long backoff."""
    s = state()
    delay = float(current_app.config["SEARCH_RETRY_SECONDS"])
    status = s.status_of(backend)
    if status == "unreachable":
        raise RetryLater(f"search backend {backend.kind} unavailable", seconds=delay)
    try:
        if status in ("index_missing", "outdated"):
            # First write after a deploy, a mapping change or a lost file: build it from the database.
            reindex(backend, reason=status)
        backend.write(docs, gone)
    except BackendUnavailable as exc:
        s.record_status(backend, "unreachable")
        raise RetryLater(f"search backend {backend.kind} unavailable: {exc}", seconds=delay) from exc
    except ReindexBusy as exc:
        raise RetryLater(str(exc), seconds=delay * 2) from exc


def request_rebuild(backend: SearchBackend, status: str) -> bool:
    """Ask the worker to rebuild `backend`'s index, which a search found missing or built by an
    older MAPPING_VERSION / SCHEMA_VERSION: a `search.rebuild` outbox row, unless one for that
    backend is pending already. Searches commit nothing, so the row is committed at once in a
    session of its own. Returns whether a row was added."""
    target = _target(backend)
    with Session(db.engine) as session:
        pending = session.scalar(
            select(OutboxEvent.id)
            .where(OutboxEvent.topic == REBUILD_TOPIC, OutboxEvent.status == "pending")
            .where(OutboxEvent.idempotency_key.like(f"{REBUILD_TOPIC}:{target}:%"))
            .limit(1)
        )
        if pending is not None:
            return False
        session.add(
            OutboxEvent(
                topic=REBUILD_TOPIC,
                payload={"target": target, "index": backend.lease_key, "reason": status},
                idempotency_key=f"{REBUILD_TOPIC}:{target}:{uuid.uuid4().hex}",
                next_attempt_at=utcnow(),
            )
        )
        session.commit()
    log.info("asked the worker to rebuild the %s index (%s)", target, status)
    return True


def on_rebuild_requested(payload: dict, event: OutboxEvent) -> None:
    """Rebuild the index a search found missing or outdated, if it still is (requests from
    several processes are cheap: the second finds it current)."""
    s = state()
    backend: SearchBackend | None = s.embedded if payload.get("target") == "embedded" else s.engine
    if backend is None:
        return  # no engine configured any more
    if backend.lease_key != payload.get("index"):
        # A web process reads another index than this worker maintains (an embedded file on
        # another machine, say): nobody here can rebuild that one.
        log.warning(
            "a search asked to rebuild %s, but this worker maintains %s",
            payload.get("index"),
            backend.lease_key,
        )
    delay = float(current_app.config["SEARCH_RETRY_SECONDS"])
    status = s.status_of(backend, fresh=True)
    if status == "unreachable":
        raise RetryLater(f"search backend {backend.kind} unavailable", seconds=delay)
    if status not in ("index_missing", "outdated"):
        return
    try:
        reindex(backend, reason=status)
    except BackendUnavailable as exc:
        s.record_status(backend, "unreachable")
        raise RetryLater(f"search backend {backend.kind} unavailable: {exc}", seconds=delay) from exc
    except ReindexBusy as exc:  # another rebuild runs: check again once it is done
        raise RetryLater(str(exc), seconds=delay * 2) from exc


def _target(backend: SearchBackend) -> str:
    return "embedded" if backend is state().embedded else "engine"


def _in_batches(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# --- reindex ----------------------------------------------------------------------------------------


class ReindexBusy(RuntimeError):
    """Another reindex of the same index holds the lease."""


class ReindexLeaseLost(ReindexBusy):
    """Our lease expired while we rebuilt and another reindex took it over: we stop and leave the
    indexes to it."""


class ReindexLease:
    """The right to rebuild one backend's index: its row in search_index_state, taken with one
    conditional UPDATE (free, or its lease expired), so that two reindexes never overlap,
    whichever machine starts them; released (with what the rebuild produced, or its error) on
    leaving the `with` block, however it is left. The holder renews it as it makes progress
    (`renew`, at every batch); a holder whose lease was taken over stops at its next renewal
    (ReindexLeaseLost) instead of activating or dropping indexes under the new holder's feet.

    The lease lives in a database session of its own, opened and closed here, and committed at
    each step: other machines must see it while the rebuild runs (an hour on a big catalogue),
    and it must be released even when the caller's transaction rolls back. Taking it in the
    caller's session would instead commit the caller's unit of work halfway (the worker's, for
    the automatic rebuild inside an outbox handler), or, left uncommitted, hold SQLite's write
    lock for the whole rebuild. So: enter it with no writes pending in the caller's session."""

    def __init__(self, key: str, duration: timedelta = LEASE):
        self.key = key
        self.duration = duration
        self.until: datetime | None = None  # our lease_until: who holds the row, for the updates
        self.started = 0.0
        self._session: Session | None = None
        self._result: dict[str, Any] | None = None

    def __enter__(self) -> ReindexLease:
        self._session = Session(db.engine)
        try:
            self._take(self._session)
        except BaseException:
            self._session.close()
            raise
        self.started = time.monotonic()
        return self

    def _take(self, session: Session) -> None:
        now = utcnow()
        if session.get(SearchIndexState, self.key) is None:
            try:
                with session.begin_nested():
                    session.add(SearchIndexState(backend=self.key))
            except IntegrityError:
                pass  # another machine created it meanwhile: the UPDATE below decides
        until = now + self.duration
        taken = rows_matched(
            session.execute(
                update(SearchIndexState)
                .where(SearchIndexState.backend == self.key)
                .where(or_(SearchIndexState.lease_until.is_(None), SearchIndexState.lease_until < now))
                .values(building="starting", lease_until=until)
            )
        )
        session.commit()
        if not taken:
            row = session.get(SearchIndexState, self.key)
            holder = f"{row.building}, lease until {row.lease_until}" if row else "?"
            raise ReindexBusy(f"a reindex of {self.key} is already running ({holder})")
        self.until = until

    def _update(self, **values: Any) -> bool:
        """Change our row while we hold it; False when another reindex took it over (ours expired)."""
        assert self._session is not None
        changed = rows_matched(
            self._session.execute(
                update(SearchIndexState)
                .where(SearchIndexState.backend == self.key, SearchIndexState.lease_until == self.until)
                .values(**values)
            )
        )
        self._session.commit()
        return bool(changed)

    def building(self, index: str) -> None:
        """Name the index being built (for `flask search status` and the next ReindexBusy), and
        renew the lease."""
        self.renew(building=index)

    def renew(self, **values: Any) -> None:
        """Extend the lease to `duration` from now (with `values`); ReindexLeaseLost when another
        reindex took it over meanwhile (ours had expired)."""
        until = utcnow() + self.duration
        if not self._update(lease_until=until, **values):
            raise ReindexLeaseLost(f"the reindex lease of {self.key} expired and was taken over")
        self.until = until

    def activated(self, index: str, docs: int) -> None:
        """The new index answers searches now: recorded as current when the lease is released."""
        self._result = {"current_index": index, "last_docs": docs}

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        values: dict[str, Any] = {"building": None, "lease_until": None, "last_error": None}
        if exc is not None:
            values["last_error"] = f"{type(exc).__name__}: {exc}"[:2000]
        if self._result is not None:
            values.update(
                self._result,
                last_reindex_at=utcnow(),
                last_seconds=round(time.monotonic() - self.started, 2),
            )
        try:
            self._session.rollback()  # whatever a failure left half done in this session
            if not self._update(**values):
                log.warning("the reindex lease of %s expired and was taken over meanwhile", self.key)
        finally:
            self._session.close()
            self._session = None


def reindex(
    backend: SearchBackend, progress: Callable[[int], None] | None = None, reason: str = "manual"
) -> dict:
    """Rebuild one backend's index with zero downtime: take the lease; create a new index; stream
    every public listing into it; activate it atomically; catch up what changed meanwhile (the
    outbox events recorded since it started, with a margin for transactions still open); drop
    the old index. Searches keep answering from the old index until it is activated. Raises
    ReindexBusy when another reindex of that index is running. The lease is renewed at every
    batch; when it was lost (this rebuild stalled past it and another took over), the rebuild
    stops with ReindexLeaseLost and drops only the index it made itself."""
    with ReindexLease(backend.lease_key) as lease:
        mark = _outbox_mark()
        name = backend.create_index()
        docs = 0
        try:
            lease.building(name)
            for batch in documents.iter_all_documents():
                backend.bulk_write(name, batch)
                docs += len(batch)
                lease.renew()
                if progress:
                    progress(docs)
            backend.finish_index(name)
            lease.renew()  # still ours: nobody else is building, the other indexes are stale
            stale = backend.activate(name)
        except BaseException:
            try:
                backend.drop_index(name)
            except Exception:
                log.exception("could not drop the partial index %s", name)
            raise
        lease.activated(name, docs)
        caught_up = _catch_up(backend, mark)
        try:
            lease.renew()
        except ReindexLeaseLost:
            # Taken over after the swap: the new holder's index may be among the "stale" ones and
            # it drops what it replaces itself.
            log.warning("the reindex lease of %s was taken over: old indexes left to it", lease.key)
            stale = []
        for index in stale:
            backend.drop_index(index)
        seconds = round(time.monotonic() - lease.started, 2)
    log.info(
        "reindexed %s into %s: %d documents, %d caught up (%s)", lease.key, name, docs, caught_up, reason
    )
    state().record_status(backend, "ok")
    return {"index": name, "docs": docs, "caught_up": caught_up, "seconds": seconds}


def _outbox_mark() -> tuple[int, datetime]:
    with Session(db.engine) as session:
        return (session.scalar(select(func.max(OutboxEvent.id))) or 0), utcnow()


def _catch_up(backend: SearchBackend, mark: tuple[int, datetime]) -> int:
    """Write the listings touched by events recorded since the rebuild started (with a margin for
    transactions that were still open), whatever their status: replaying is idempotent."""
    max_id, started = mark
    with Session(db.engine) as session:
        rows = session.execute(
            select(OutboxEvent.topic, OutboxEvent.payload)
            .where(OutboxEvent.topic.in_(TOPICS))
            .where(or_(OutboxEvent.id > max_id, OutboxEvent.created_at >= started - CATCH_UP_MARGIN))
        ).all()
        ids: set[int] = set()
        for topic, payload in rows:
            if topic == "listing.changed":
                ids.add(int(payload["listing_id"]))
            elif topic == "shop.changed":
                ids.update(documents.listing_ids_of_shop(int(payload["shop_id"]), session))
            elif topic == "category.changed":
                ids.update(documents.listing_ids_of_category(int(payload["category_id"]), session))
        for chunk in _in_batches(sorted(ids)):
            docs, gone = documents.load_documents(chunk, session)
            backend.write(docs, gone)
    return len(ids)
