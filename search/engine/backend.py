"""The engine backend (SearchBackend): Elasticsearch 8/9 or OpenSearch 2/3, one code path.

Searches and writes go through the alias `<prefix>listings`; a rebuild creates
`<prefix>listings-v<MAPPING_VERSION>-<stamp>`, bulk-loads it and moves the alias atomically."""

from __future__ import annotations

import json
import secrets
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from .. import text as vi
from ..backend import Status
from ..query import Hit, SearchQuery, SearchResult, encode_cursor
from .mapping import MAPPING_VERSION, engine_document, index_definition
from .queries import (
    did_you_mean_body,
    facets_body,
    read_facets,
    read_hit,
    search_body,
    suggestion_fallback_body,
    suggestion_searches,
)
from .transport import EngineError, EngineUnavailable, checked_part, item_failure


class _BulkLoader:
    """The bulk requests of one rebuild, sent from a second thread while the caller reads and
    builds the next batch: the database, Python and the engine work at the same time (at most two
    requests queued). A failure surfaces on the next add() or on finish()."""

    def __init__(self, send):
        self.send = send
        self.sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-bulk")
        self.pending: deque[Future] = deque()

    def add(self, docs: list[dict]) -> None:
        self.pending.append(self.sender.submit(self.send, docs))
        while len(self.pending) > 2:
            self.pending.popleft().result()

    def finish(self) -> None:
        try:
            while self.pending:
                self.pending.popleft().result()
        finally:
            self.cancel()

    def cancel(self) -> None:
        self.sender.shutdown(wait=True, cancel_futures=True)


class EngineBackend:
    def __init__(
        self,
        transport,
        prefix: str,
        *,
        bulk_timeout: float = 60.0,
        shards: int = 1,
        replicas: int = 0,
        refresh_on_write: bool = True,
        request_cache: bool = True,
    ):
        self.transport = transport
        self.kind = transport.kind
        self.prefix = prefix
        self.alias = f"{prefix}listings"
        self.bulk_timeout = bulk_timeout
        self.shards, self.replicas = shards, replicas
        self.refresh_on_write = refresh_on_write
        # The node's shard request cache keeps the counts of repeated searches (size 0) until the
        # next refresh that changed the index; the benchmark turns it off to measure the work itself.
        self.request_cache = request_cache
        self._loaders: dict[str, _BulkLoader] = {}  # per index being built
        self._loaders_lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.transport.url

    @property
    def lease_key(self) -> str:
        return f"engine:{self.alias}"[:200]

    def request(self, method: str, path: str, body: Any = None, **kw) -> Any:
        return self.transport.request(method, path, body, **kw)

    def close(self) -> None:
        with self._loaders_lock:
            loaders, self._loaders = list(self._loaders.values()), {}
        for loader in loaders:
            loader.cancel()

    # --- health ------------------------------------------------------------------------------------

    def status(self, timeout: float | None = None) -> Status:
        """ "ok", "unreachable", "index_missing" or "outdated" (mapping version behind the code)."""
        try:
            health = self.request("GET", "/_cluster/health", timeout=timeout)
            if health.get("status") not in ("green", "yellow"):
                return "unreachable"
            current = self._current()
        except EngineUnavailable:
            return "unreachable"
        except EngineError:
            return "unreachable"
        if current is None:
            return "index_missing"
        return "ok" if current[1] == MAPPING_VERSION else "outdated"

    def _current(self) -> tuple[str, int | None] | None:
        """(index name behind the alias, its mapping version), or None when the alias is missing."""
        try:
            mapping = self.request("GET", f"/{self.alias}/_mapping")
        except EngineError as exc:
            if exc.status == 404:
                return None
            raise
        if not mapping:
            return None
        name, body = next(iter(mapping.items()))
        if name == self.alias:  # a concrete index squatting on the alias name
            return name, None
        return name, (body.get("mappings", {}).get("_meta") or {}).get("mapping_version")

    def current_index(self) -> str | None:
        current = self._current()
        return current[0] if current else None

    def indexes(self) -> list[str]:
        rows = self.request("GET", f"/_cat/indices/{self.alias}-v*", params={"format": "json", "h": "index"})
        return sorted(row["index"] for row in rows)

    def count(self) -> int:
        return self.request("GET", f"/{self.alias}/_count")["count"]

    def doc_ids(self) -> set[int]:
        ids: set[int] = set()
        after = None
        while True:
            body: dict[str, Any] = {
                "size": 1000,
                "sort": [{"id": "asc"}],
                "_source": False,
                "query": {"match_all": {}},
                "docvalue_fields": ["id"],
            }
            if after is not None:
                body["search_after"] = after
            hits = self.request("POST", f"/{self.alias}/_search", body)["hits"]["hits"]
            if not hits:
                return ids
            ids.update(int(h["_id"]) for h in hits)
            after = hits[-1]["sort"]

    # --- rebuild -----------------------------------------------------------------------------------

    def create_index(self) -> str:
        name = (
            f"{self.alias}-v{MAPPING_VERSION}-"
            + datetime.now(UTC).strftime("%Y%m%d%H%M%S")
            + secrets.token_hex(2)
        )
        body = index_definition(shards=self.shards, replicas=0)
        body["settings"]["refresh_interval"] = "-1"  # bulk load first, refresh once at the end
        self.request("PUT", f"/{name}", body, timeout=self.bulk_timeout)
        return name

    def bulk_write(self, index: str, docs: list[dict]) -> None:
        with self._loaders_lock:
            loader = self._loaders.get(index)
            if loader is None:
                loader = self._loaders[index] = _BulkLoader(
                    lambda batch: self._bulk(batch, [], index=index, refresh=False)
                )
        loader.add(docs)

    def _loader_done(self, index: str) -> _BulkLoader | None:
        with self._loaders_lock:
            return self._loaders.pop(index, None)

    def finish_index(self, index: str) -> None:
        loader = self._loader_done(index)
        if loader is not None:
            loader.finish()
        self.request(
            "PUT",
            f"/{index}/_settings",
            {"index": {"refresh_interval": "1s", "number_of_replicas": self.replicas}},
            timeout=self.bulk_timeout,
        )
        self.request("POST", f"/{index}/_refresh", timeout=self.bulk_timeout)
        self.request(
            "GET",
            "/_cluster/health",
            params={"index": index, "wait_for_status": "yellow", "timeout": "30s"},
            timeout=self.bulk_timeout,
        )

    def activate(self, index: str) -> list[str]:
        """Point the alias at `index` in one atomic request; returns the indices it left."""
        try:
            current = self.request("GET", f"/_alias/{self.alias}")
            old = sorted(current)
        except EngineError as exc:
            if exc.status != 404:
                raise
            old = []
        actions: list[dict] = [
            {"remove": {"index": name, "alias": self.alias}} for name in old if name != index
        ]
        actions.append({"add": {"index": index, "alias": self.alias, "is_write_index": True}})
        self.request("POST", "/_aliases", {"actions": actions}, timeout=self.bulk_timeout)
        return [name for name in old if name != index]

    def drop_index(self, index: str) -> None:
        loader = self._loader_done(index)
        if loader is not None:
            loader.cancel()
        if index == self.alias:  # never the alias itself (nor a concrete index squatting on its name)
            return
        try:
            self.request("DELETE", f"/{index}", timeout=self.bulk_timeout)
        except EngineError as exc:
            if exc.status != 404:
                raise

    # --- writes --------------------------------------------------------------------------------------

    def write(self, docs: list[dict], delete_ids: list[int]) -> None:
        self._bulk(docs, delete_ids)

    def _bulk(
        self,
        docs: list[dict],
        delete_ids: list[int],
        *,
        index: str | None = None,
        refresh: bool | None = None,
    ) -> None:
        """Upsert and delete in one bulk request, through the alias unless `index` is given.
        require_alias stops a write from auto-creating a mapping-less index named like the alias."""
        if not docs and not delete_ids:
            return
        target = index or self.alias
        lines: list[str] = []
        for doc in docs:
            lines.append(json.dumps({"index": {"_index": target, "_id": str(doc["id"])}}))
            lines.append(json.dumps(engine_document(doc), ensure_ascii=False))
        for doc_id in delete_ids:
            lines.append(json.dumps({"delete": {"_index": target, "_id": str(doc_id)}}))
        params = {}
        if index is None:
            params["require_alias"] = "true"
        if refresh if refresh is not None else (self.refresh_on_write and index is None):
            params["refresh"] = "true"
        result = self.request(
            "POST", "/_bulk", "\n".join(lines) + "\n", params=params, ndjson=True, timeout=self.bulk_timeout
        )
        if result.get("errors"):
            for item in result["items"]:
                outcome = next(iter(item.values()))
                error = outcome.get("error")
                if not error:
                    continue
                raise item_failure("bulk item", outcome.get("status", 0), error)

    # --- reads ---------------------------------------------------------------------------------------

    def search(self, q: SearchQuery) -> SearchResult:
        """The hits and, with facets, the counts: two searches in one _msearch, which the node runs
        side by side (ranking and counting each take about half of a broad query's time, and
        counting needs no scores); the total comes from the counting one."""
        if not q.facets:
            response, counts = self.request("POST", f"/{self.alias}/_search", search_body(q)), None
        else:
            response, counts = self._msearch([search_body(q), facets_body(q)])
        raw_hits = response["hits"]["hits"]
        more = len(raw_hits) > q.per_page
        raw_hits = raw_hits[: q.per_page]
        next_cursor = encode_cursor(self.kind, q.sort, raw_hits[-1]["sort"]) if more and raw_hits else None
        terms, prefix = q.highlight_terms()  # once per search, not per hit
        return SearchResult(
            total=(counts or response)["hits"]["total"]["value"],
            hits=[read_hit(h, q, terms, prefix) for h in raw_hits],
            backend=self.kind,
            facets=read_facets(counts["aggregations"]) if counts else {},
            next_cursor=next_cursor,
        )

    def suggest(
        self, q: SearchQuery, shops: int = 3, sample: int = 300, candidates: int = 10
    ) -> tuple[list[Hit], list[int]]:
        """Products and shops for the box, as the embedded backend chooses them: listings whose
        title has every word typed (the last as a prefix), ordered by vi.suggestion_ranker (the
        words' marks, the title beginning with them) then by rank (stock, sales) among the
        `candidates` best ranked; anywhere else only when the titles give too few. Shops whose
        name has every word as a prefix, most listings among their `sample` best ranked first.
        The index is sorted by rank, so each search stops after the few matches it returns:
        cheap even for two letters that match half the catalogue."""
        words = vi.folded_tokens(q.text)
        if not words:
            return [], []
        searches = suggestion_searches(q, shops=shops, sample=sample, candidates=candidates)
        *found, owners = self._msearch(searches)
        titles = {h["_id"]: h for response in found for h in response["hits"]["hits"]}
        tier = vi.suggestion_ranker(q.text)
        order = sorted(
            titles.values(), key=lambda h: (tier(h["_source"]["title"]), -h["sort"][0], -h["sort"][1])
        )
        raw: dict[str, dict] = {h["_id"]: h for h in order[: q.per_page]}
        if len(raw) < q.per_page:  # not in titles: anywhere, ranked as a search ranks
            response = self.request("POST", f"/{self.alias}/_search", suggestion_fallback_body(q))
            for h in response["hits"]["hits"]:
                raw.setdefault(h["_id"], h)
        terms, prefix = q.highlight_terms()
        marked = replace(q, highlight=True)
        hits = [read_hit(h, marked, terms, prefix) for h in list(raw.values())[: q.per_page]]
        return hits, [int(b["key"]) for b in owners["aggregations"]["ids"]["buckets"]]

    def _msearch(self, searches: list[dict]) -> list[dict]:
        header = json.dumps({"request_cache": self.request_cache})
        lines = [line for body in searches for line in (header, json.dumps(body, ensure_ascii=False))]
        answer = self.request("POST", f"/{self.alias}/_msearch", "\n".join(lines) + "\n", ndjson=True)
        return [checked_part(part) for part in answer["responses"]]

    def did_you_mean(self, q: SearchQuery) -> str | None:
        words = vi.folded_tokens(q.text)
        if not words:
            return None
        body = did_you_mean_body(words)
        response = self.request("POST", f"/{self.alias}/_search", body)
        out, changed = [], False
        for entry in response.get("suggest", {}).get("words", []):
            word = entry["text"]
            options = [
                o
                for o in entry.get("options", [])
                if vi.edit_distance(word, o["text"], vi.max_edits(word) + 1) <= vi.max_edits(word)
            ]
            if options:
                out.append(options[0]["text"])
                changed = True
            else:
                out.append(word)
        return " ".join(out) if changed else None
