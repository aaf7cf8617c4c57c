"""The embedded backend (SearchBackend): SQLite FTS5 in files of its own, no server."""

from __future__ import annotations

from pathlib import Path

from .. import text as vi
from ..backend import Status
from ..query import Hit, SearchQuery, SearchResult
from . import runner
from .columns import ColumnCache
from .runner import KIND, QueryRunner, empty_facets
from .store import GenerationStore
from .vocabulary import VocabularyCache


class EmbeddedBackend:
    kind = KIND

    def __init__(self, path: str, bm25_limit: int = 5000):
        self.store = GenerationStore(path)
        self.columns = ColumnCache()
        self.vocabulary = VocabularyCache()  # what "did you mean" may offer
        self.bm25_limit = bm25_limit  # above this many text matches, rank without bm25 (see QueryRunner)

    @property
    def path(self) -> str:
        return self.store.path

    @property
    def lease_key(self) -> str:
        return f"embedded:{Path(self.path).resolve()}"[:200]

    def close(self) -> None:
        self.store.close()
        self.columns.clear()
        self.vocabulary.clear()

    # --- health -----------------------------------------------------------------------------------

    def status(self) -> Status:
        """ "ok" when a current generation of this schema version exists and opens; "outdated"
        when the current one has another schema version; else "index_missing"."""
        if self.store.open_current("BEGIN") is not None:
            return "ok"
        return "outdated" if self.store.pointer_set() else "index_missing"

    def current_index(self) -> str | None:
        return self.store.current()

    def indexes(self) -> list[str]:
        return self.store.generations()

    def count(self) -> int:
        opened = self.store.open_current("BEGIN")
        if opened is None:
            return 0
        with opened[1] as conn:
            return conn.execute("SELECT count(*) FROM docs").fetchone()[0]

    def doc_ids(self) -> set[int]:
        opened = self.store.open_current("BEGIN")
        if opened is None:
            return set()
        with opened[1] as conn:
            return {r[0] for r in conn.execute("SELECT id FROM docs")}

    # --- reads ------------------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        opened = self.store.open_current("BEGIN")
        if opened is None:
            return SearchResult(total=0, hits=[], backend=KIND, facets=empty_facets() if query.facets else {})
        g, transaction = opened
        with transaction as conn:
            return QueryRunner(conn, query, self.columns.of(conn, g), self.bm25_limit).run()

    def suggest(self, query: SearchQuery, shops: int = 3, sample: int = 300) -> tuple[list[Hit], list[int]]:
        opened = self.store.open_current("BEGIN") if vi.folded_tokens(query.text) else None
        if opened is None:
            return [], []
        with opened[1] as conn:
            return runner.suggest(conn, query, shops=shops, sample=sample)

    def did_you_mean(self, query: SearchQuery) -> str | None:
        opened = self.store.open_current("BEGIN") if vi.folded_tokens(query.text) else None
        if opened is None:
            return None
        g, transaction = opened
        with transaction as conn:
            return runner.did_you_mean(conn, query, self.vocabulary.of(conn, g))

    # --- writes -----------------------------------------------------------------------------------

    def write(self, docs: list[dict], delete_ids: list[int]) -> None:
        self.store.write(docs, delete_ids)

    # --- a rebuild --------------------------------------------------------------------------------

    def create_index(self) -> str:
        return self.store.create()

    def bulk_write(self, index: str, docs: list[dict]) -> None:
        self.store.bulk_write(index, docs)

    def finish_index(self, index: str) -> None:
        self.store.finish(index)

    def activate(self, index: str) -> list[str]:
        return self.store.activate(index)

    def drop_index(self, index: str) -> None:
        self.store.drop(index)
