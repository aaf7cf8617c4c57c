"""Collections: further document kinds beside the listings (the Q&A archive first), on both
backends, with the same Vietnamese folding and the operator's synonyms.

The listing index (backend.py, indexer.py) is tuned for one document shape; a collection is a
plain one: a few text fields searched with weights, a few keyword filters, one date to sort by.
The package that owns the documents registers a `Collection` (its loaders, the outbox topics
that change it and how to read ids from their payloads) with `register_collection(app, …)`;
search/ knows nothing else of it. Each backend keeps one index per collection:

- embedded: a SQLite FTS5 file of its own next to SEARCH_EMBEDDED_PATH (`<stem>-c-<name>.sqlite`);
  a rebuild fills a new file and swaps it in with an atomic rename;
- engine: indexes `<prefix>c-<name>-v<version>-<time>` behind the alias `<prefix>c-<name>`,
  swapped atomically like the listings' alias.

Text is folded here (search/text.py) before it reaches either backend, and queries are folded
and expanded with the synonym groups the same way, so both backends agree on what matches. Live
writes come from the owner's outbox handler (`sync`); `flask search reindex` rebuilds every
collection after the listings (`rebuild`), catching up what changed meanwhile."""

from __future__ import annotations

import json
import logging
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from marketplace.extensions import db
from marketplace.models import OutboxEvent
from marketplace.outbox import RetryLater

from . import text as vi
from .backend import BackendUnavailable
from .engine.transport import EngineError

log = logging.getLogger(__name__)

VERSION = 1  # of the tables and mappings below: a change makes the next write rebuild


@dataclass(frozen=True)
class Collection:
    name: str  # [a-z_]+: part of file and index names
    text_fields: dict[str, float]  # field -> weight
    filters: tuple[str, ...]  # keyword fields (exact match)
    sort_field: str  # ISO date/time string field; newest first when there is no text
    load: Callable[[list[int]], tuple[list[dict], list[int]]]  # (docs, ids to delete)
    load_all: Callable[[], Iterator[list[dict]]]
    topics: tuple[str, ...] = ()
    ids_of: Callable[[dict], Iterable[int] | None] = field(default=lambda payload: None)


@dataclass
class Found:
    ids: list[int]
    total: int
    backend: str


def register_collection(app: Flask, collection: Collection) -> None:
    app.extensions.setdefault("search_collections", {})[collection.name] = collection


def collections() -> dict[str, Collection]:
    return dict(current_app.extensions.get("search_collections", {}))


def get(name: str) -> Collection:
    return collections()[name]


# --- text ------------------------------------------------------------------------------------------


def _folded(value: Any) -> str:
    return " ".join(vi.folded_tokens(str(value or "")))


def _synonym_groups() -> list[list[tuple[str, ...]]]:
    from .synonyms import synonym_groups

    return vi.folded_synonym_groups(synonym_groups())


def query_spans(text: str) -> list[list[tuple[str, ...]]]:
    """Folded query words in spans; each span lists its alternatives (synonyms)."""
    return vi.expand_synonyms(vi.folded_tokens(text), _synonym_groups())


# --- the embedded side -----------------------------------------------------------------------------


class EmbeddedCollection:
    kind = "embedded"

    def __init__(self, collection: Collection, base_path: str):
        base = Path(base_path)
        self.c = collection
        self.path = str(base.with_name(f"{base.stem}-c-{collection.name}.sqlite"))

    def _connect(self, path: str | None = None) -> sqlite3.Connection:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path or self.path, isolation_level=None, timeout=30)
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def _create(self, conn: sqlite3.Connection) -> None:
        filters = "".join(f", f_{name} TEXT" for name in self.c.filters)
        conn.execute(f"CREATE TABLE docs (id INTEGER PRIMARY KEY, data TEXT NOT NULL, sort TEXT{filters})")
        columns = ", ".join(self.c.text_fields)
        conn.execute(
            f"CREATE VIRTUAL TABLE fts USING fts5({columns}, tokenize = 'unicode61 remove_diacritics 0', "
            "prefix = '1 2 3')"
        )
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('v', ?)", (str(VERSION),))

    def status(self) -> str:
        if not os.path.exists(self.path):
            return "index_missing"
        try:
            conn = self._connect()
            try:
                row = conn.execute("SELECT value FROM meta WHERE key = 'v'").fetchone()
            finally:
                conn.close()
        except sqlite3.Error:
            return "outdated"
        return "ok" if row and row[0] == str(VERSION) else "outdated"

    def _put(self, conn: sqlite3.Connection, docs: list[dict], gone: list[int]) -> None:
        for doc_id in [*gone, *(d["id"] for d in docs)]:
            conn.execute("DELETE FROM docs WHERE id = ?", (doc_id,))
            conn.execute("DELETE FROM fts WHERE rowid = ?", (doc_id,))
        # Column names come from the registered Collection (code), never from a request.
        columns = ", ".join(["id", "data", "sort", *(f"f_{n}" for n in self.c.filters)])
        marks = ", ".join("?" for _n in range(3 + len(self.c.filters)))
        insert_doc = f"INSERT INTO docs ({columns}) VALUES ({marks})"  # noqa: S608
        text_columns = ", ".join(["rowid", *self.c.text_fields])
        text_marks = ", ".join("?" for _n in range(1 + len(self.c.text_fields)))
        insert_text = f"INSERT INTO fts ({text_columns}) VALUES ({text_marks})"  # noqa: S608
        for doc in docs:
            filters = tuple(None if doc.get(n) is None else str(doc.get(n)) for n in self.c.filters)
            sort = doc.get(self.c.sort_field) or ""
            conn.execute(insert_doc, (doc["id"], json.dumps(doc, ensure_ascii=False), sort, *filters))
            conn.execute(insert_text, (doc["id"], *(_folded(doc.get(f)) for f in self.c.text_fields)))

    def write(self, docs: list[dict], gone: list[int]) -> None:
        if self.status() != "ok":
            raise BackendUnavailable(f"no current embedded index of {self.c.name}")
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._put(conn, docs, gone)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def rebuild(self, batches: Iterator[list[dict]]) -> int:
        tmp = f"{self.path}.{secrets.token_hex(4)}.building"
        conn = self._connect(tmp)
        count = 0
        try:
            conn.execute("PRAGMA journal_mode=OFF")
            self._create(conn)
            conn.execute("BEGIN")
            for batch in batches:
                self._put(conn, batch, [])
                count += len(batch)
            conn.execute("COMMIT")
            conn.execute("INSERT INTO fts(fts) VALUES ('optimize')")
        except BaseException:
            conn.close()
            os.unlink(tmp)
            raise
        conn.close()
        os.replace(tmp, self.path)
        return count

    def search(self, text: str, filters: dict[str, str], page: int, per_page: int) -> Found:
        if self.status() != "ok":
            return Found([], 0, self.kind)
        where, params = [], []
        for name, value in filters.items():
            if name in self.c.filters and value:
                where.append(f"d.f_{name} = ?")
                params.append(str(value))
        expression = self._match(text)
        conn = self._connect()
        try:
            if expression:
                weights = ", ".join(str(w) for w in self.c.text_fields.values())
                base = f"FROM fts JOIN docs d ON d.id = fts.rowid WHERE fts MATCH ? {''.join(' AND ' + w for w in where)}"
                args = [expression, *params]
                total = conn.execute(f"SELECT count(*) {base}", args).fetchone()[0]
                rows = conn.execute(
                    f"SELECT d.id {base} ORDER BY bm25(fts, {weights}), d.sort DESC LIMIT ? OFFSET ?",
                    [*args, per_page, (page - 1) * per_page],
                ).fetchall()
            else:
                base = f"FROM docs d {'WHERE ' + ' AND '.join(where) if where else ''}"
                total = conn.execute(f"SELECT count(*) {base}", params).fetchone()[0]
                rows = conn.execute(
                    f"SELECT d.id {base} ORDER BY d.sort DESC, d.id DESC LIMIT ? OFFSET ?",
                    [*params, per_page, (page - 1) * per_page],
                ).fetchall()
        finally:
            conn.close()
        return Found([r[0] for r in rows], total, self.kind)

    @staticmethod
    def _match(text: str) -> str | None:
        spans = query_spans(text)
        if not spans:
            return None
        parts = []
        for i, alternatives in enumerate(spans):
            last = i == len(spans) - 1
            options = []
            for words in alternatives:
                phrase = " ".join(words)
                options.append(f'"{phrase}"*' if last and len(words) == 1 else f'"{phrase}"')
            parts.append("(" + " OR ".join(options) + ")")
        return " AND ".join(parts)

    def doc_ids(self) -> set[int]:
        if self.status() != "ok":
            return set()
        conn = self._connect()
        try:
            return {r[0] for r in conn.execute("SELECT id FROM docs")}
        finally:
            conn.close()

    def texts(self) -> list[str]:
        """Everything the index holds (tests: nothing private got in)."""
        if self.status() != "ok":
            return []
        conn = self._connect()
        try:
            return [r[0] for r in conn.execute("SELECT data FROM docs")]
        finally:
            conn.close()


# --- the engine side -------------------------------------------------------------------------------


class EngineCollection:
    def __init__(self, collection: Collection, engine):
        self.c = collection
        self.engine = engine
        self.kind = engine.kind
        self.alias = f"{engine.prefix}c-{collection.name.replace('_', '-')}"

    def _request(self, *args, **kw) -> Any:
        return self.engine.request(*args, **kw)

    def status(self) -> str:
        try:
            mapping = self._request("GET", f"/{self.alias}/_mapping")
        except EngineError as exc:
            return "index_missing" if exc.status == 404 else "unreachable"
        except BackendUnavailable:
            return "unreachable"
        if not mapping:
            return "index_missing"
        body = next(iter(mapping.values()))
        version = body.get("mappings", {}).get("_meta", {}).get("version")
        return "ok" if version == VERSION else "outdated"

    def _definition(self) -> dict:
        properties: dict[str, Any] = {
            f"{name}_fold": {"type": "text", "analyzer": "whitespace"} for name in self.c.text_fields
        }
        properties.update({f"f_{name}": {"type": "keyword"} for name in self.c.filters})
        properties["sort"] = {"type": "keyword"}
        properties["data"] = {"type": "object", "enabled": False}
        return {
            "settings": {"number_of_shards": self.engine.shards, "number_of_replicas": self.engine.replicas},
            "mappings": {"dynamic": "strict", "_meta": {"version": VERSION}, "properties": properties},
        }

    def _document(self, doc: dict) -> dict:
        out: dict[str, Any] = {f"{name}_fold": _folded(doc.get(name)) for name in self.c.text_fields}
        out.update({f"f_{n}": (None if doc.get(n) is None else str(doc.get(n))) for n in self.c.filters})
        out["sort"] = doc.get(self.c.sort_field) or ""
        out["data"] = doc
        return out

    def _bulk(
        self, target: str, docs: list[dict], gone: list[int], *, refresh: bool, require_alias: bool
    ) -> None:
        if not docs and not gone:
            return
        lines: list[str] = []
        for doc in docs:
            lines.append(json.dumps({"index": {"_index": target, "_id": str(doc["id"])}}))
            lines.append(json.dumps(self._document(doc), ensure_ascii=False))
        for doc_id in gone:
            lines.append(json.dumps({"delete": {"_index": target, "_id": str(doc_id)}}))
        params = {"refresh": "true"} if refresh else {}
        if require_alias:
            params["require_alias"] = "true"
        result = self._request(
            "POST",
            "/_bulk",
            "\n".join(lines) + "\n",
            params=params,
            ndjson=True,
            timeout=self.engine.bulk_timeout,
        )
        if result.get("errors"):
            for item in result["items"]:
                outcome = next(iter(item.values()))
                if outcome.get("error") and not (outcome.get("status") == 404 and "delete" in item):
                    raise EngineError(outcome.get("status"), json.dumps(outcome["error"])[:500])

    def write(self, docs: list[dict], gone: list[int]) -> None:
        if self.status() != "ok":
            raise BackendUnavailable(f"no current engine index of {self.c.name}")
        self._bulk(self.alias, docs, gone, refresh=self.engine.refresh_on_write, require_alias=True)

    def indexes(self) -> list[str]:
        rows = self._request("GET", f"/_cat/indices/{self.alias}-v*", params={"format": "json", "h": "index"})
        return sorted(row["index"] for row in rows)

    def rebuild(self, batches: Iterator[list[dict]]) -> int:
        name = f"{self.alias}-v{VERSION}-{datetime.now(UTC):%Y%m%d%H%M%S}{secrets.token_hex(2)}"
        self._request("PUT", f"/{name}", self._definition(), timeout=self.engine.bulk_timeout)
        count = 0
        try:
            for batch in batches:
                self._bulk(name, batch, [], refresh=False, require_alias=False)
                count += len(batch)
            self._request("POST", f"/{name}/_refresh", timeout=self.engine.bulk_timeout)
            try:
                old = sorted(self._request("GET", f"/_alias/{self.alias}"))
            except EngineError as exc:
                if exc.status != 404:
                    raise
                old = []
            actions: list[dict] = [{"remove": {"index": o, "alias": self.alias}} for o in old if o != name]
            actions.append({"add": {"index": name, "alias": self.alias, "is_write_index": True}})
            self._request("POST", "/_aliases", {"actions": actions}, timeout=self.engine.bulk_timeout)
        except BaseException:
            self._drop(name)
            raise
        for index in old:
            if index != name:
                self._drop(index)
        return count

    def _drop(self, index: str) -> None:
        try:
            self._request("DELETE", f"/{index}", timeout=self.engine.bulk_timeout)
        except EngineError as exc:
            if exc.status != 404:
                raise

    def drop_all(self) -> None:
        for index in self.indexes():
            self._drop(index)

    def search(self, text: str, filters: dict[str, str], page: int, per_page: int) -> Found:
        must: list[dict] = []
        spans = query_spans(text)
        fields = [f"{name}_fold^{weight}" for name, weight in self.c.text_fields.items()]
        for i, alternatives in enumerate(spans):
            last = i == len(spans) - 1
            should = [
                {
                    "multi_match": {
                        "query": " ".join(words),
                        "fields": fields,
                        "type": "phrase_prefix" if last and len(words) == 1 else "phrase",
                    }
                }
                for words in alternatives
            ]
            must.append({"bool": {"should": should, "minimum_should_match": 1}})
        filter_clauses = [
            {"term": {f"f_{name}": str(value)}}
            for name, value in filters.items()
            if name in self.c.filters and value
        ]
        body = {
            "query": {"bool": {"must": must or [{"match_all": {}}], "filter": filter_clauses}},
            "sort": (["_score"] if must else []) + [{"sort": "desc"}],
            "from": (page - 1) * per_page,
            "size": per_page,
            "_source": False,
            "track_total_hits": True,
        }
        response = self._request("POST", f"/{self.alias}/_search", body)
        hits = response["hits"]["hits"]
        return Found([int(h["_id"]) for h in hits], response["hits"]["total"]["value"], self.kind)

    def doc_ids(self) -> set[int]:
        response = self._request(
            "POST", f"/{self.alias}/_search", {"size": 10000, "_source": False, "query": {"match_all": {}}}
        )
        return {int(h["_id"]) for h in response["hits"]["hits"]}

    def texts(self) -> list[str]:
        response = self._request(
            "POST", f"/{self.alias}/_search", {"size": 10000, "query": {"match_all": {}}}
        )
        return [json.dumps(h["_source"], ensure_ascii=False) for h in response["hits"]["hits"]]


# --- what the owner and the commands call ------------------------------------------------------------


def sides(name: str) -> list[EmbeddedCollection | EngineCollection]:
    """The collection on every backend: the embedded one first, then the engine when configured."""
    from .service import state

    s = state()
    collection = get(name)
    out: list[EmbeddedCollection | EngineCollection] = [EmbeddedCollection(collection, s.embedded.path)]
    if s.engine is not None:
        out.append(EngineCollection(collection, s.engine))
    return out


def sync(name: str, ids: list[int] | None) -> None:
    """Write the database's truth for `ids` (None: everything, by a rebuild) to every backend.
    An unavailable backend becomes a quick retry; a missing or outdated index is rebuilt."""
    collection = get(name)
    delay = float(current_app.config["SEARCH_RETRY_SECONDS"])
    docs, gone = collection.load(ids) if ids is not None else ([], [])
    for side in sides(name):
        try:
            status = side.status()
            if status == "unreachable":
                raise BackendUnavailable(f"{side.kind} unavailable")
            if ids is None or status != "ok":
                _rebuild_side(collection, side)
                continue
            side.write(docs, gone)
        except BackendUnavailable as exc:
            raise RetryLater(f"search collection {name} on {side.kind}: {exc}", seconds=delay) from exc


def rebuild(name: str, target: str = "all") -> dict[str, int]:
    """Rebuild the collection on every backend (`target` "embedded" or "engine": that one only);
    returns documents per backend."""
    collection = get(name)
    chosen = [
        side
        for side in sides(name)
        if target == "all" or (target == "embedded") == isinstance(side, EmbeddedCollection)
    ]
    return {side.kind: _rebuild_side(collection, side) for side in chosen}


def _rebuild_side(collection: Collection, side: EmbeddedCollection | EngineCollection) -> int:
    from .indexer import CATCH_UP_MARGIN, _outbox_mark

    max_id, started = _outbox_mark()
    count = side.rebuild(collection.load_all())
    # Catch up what changed while the new index was filled (replays are idempotent).
    with Session(db.engine) as session:
        payloads = session.scalars(
            select(OutboxEvent.payload)
            .where(OutboxEvent.topic.in_(collection.topics))
            .where(or_(OutboxEvent.id > max_id, OutboxEvent.created_at >= started - CATCH_UP_MARGIN))
        ).all()
    ids: set[int] = set()
    for payload in payloads:
        ids.update(int(i) for i in (collection.ids_of(payload) or ()))
    if ids:
        docs, gone = collection.load(sorted(ids))
        side.write(docs, gone)
    log.info("rebuilt search collection %s on %s: %d documents", collection.name, side.kind, count)
    return count


def search(name: str, text: str, filters: dict[str, str], page: int = 1, per_page: int = 20) -> Found:
    """The engine when configured and answering, else the embedded index."""
    page = max(1, int(page))
    for side in reversed(sides(name)):
        try:
            return side.search(text, filters, page, per_page)
        except BackendUnavailable:
            continue
        except EngineError as exc:
            if exc.status == 404:
                continue
            raise
    return Found([], 0, "none")
