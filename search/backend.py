"""The one interface both search backends implement: the engine (search/engine) and the embedded
index (search/embedded).

The service searches through it, and the indexer and reindex (search/indexer.py) keep it true
through it: neither knows which backend it talks to. A backend holds *indexes* (the engine: a
versioned index behind the alias `<prefix>listings`; embedded: a generation file behind the
pointer in its meta file), one of them current: searches and live writes go to the current
index, a rebuild fills a new one and then activates it."""

from __future__ import annotations

from typing import Literal, Protocol

from .query import Hit, SearchQuery, SearchResult

# "ok": searches and writes can go ahead; "unreachable": the engine does not answer (searches fall
# back to the embedded index, writes retry soon); "index_missing" / "outdated": no current index,
# or one built by an older mapping or schema: the next write rebuilds it.
Status = Literal["ok", "unreachable", "index_missing", "outdated"]


class BackendUnavailable(RuntimeError):
    """The backend did not answer (connection refused, timeout, 429/5xx; no current index):
    searches fall back, writes retry soon."""


class BackendError(RuntimeError):
    """The backend answered with an error that retrying will not fix by itself."""

    def __init__(self, status: int | None, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status

    @property
    def refused_request(self) -> bool:
        """A 4xx: the backend is up and refused this one request (a bad query, a window too
        deep); unlike a connection error, a timeout or a 5xx it says nothing of its health."""
        return self.status is not None and 400 <= self.status < 500


class SearchBackend(Protocol):
    kind: str  # "embedded", "opensearch" or "elasticsearch": in results, cursors and /healthz

    @property
    def lease_key(self) -> str:
        """This backend's row in search_index_state (the reindex lease), at most 200 characters."""
        ...

    # --- health -------------------------------------------------------------------------------

    def status(self) -> Status:
        """Asked afresh every time (the service caches the engine's verdict briefly)."""
        ...

    def current_index(self) -> str | None:
        """The index that searches read now, or None."""
        ...

    def indexes(self) -> list[str]:
        """Every index of this backend: the current one, one being built, leftovers of a crash."""
        ...

    def count(self) -> int:
        """Documents in the current index."""
        ...

    def doc_ids(self) -> set[int]:
        """Ids of the documents in the current index."""
        ...

    # --- reads --------------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult: ...

    def suggest(self, query: SearchQuery) -> tuple[list[Hit], list[int]]:
        """Listings for the search box (titles first) and the ids of matching shops."""
        ...

    def did_you_mean(self, query: SearchQuery) -> str | None:
        """The query with unknown words replaced by the nearest indexed ones, or None."""
        ...

    # --- live writes ----------------------------------------------------------------------------

    def write(self, docs: list[dict], delete_ids: list[int]) -> None:
        """Upsert `docs` and delete `delete_ids` in the current index, in one request or
        transaction (idempotent). Raises BackendUnavailable when there is no current index."""
        ...

    # --- a rebuild, in this order ---------------------------------------------------------------

    def create_index(self) -> str:
        """A new, empty index with the mapping or schema of this code; returns its name."""
        ...

    def bulk_write(self, index: str, docs: list[dict]) -> None:
        """Add documents to an index that is not searched yet. May return before they are
        written (the engine sends from a second thread); finish_index waits for them."""
        ...

    def finish_index(self, index: str) -> None:
        """Every document of `index` written and searchable (refresh, replicas, secondary
        indexes, merged segments): the index is ready to be activated."""
        ...

    def activate(self, index: str) -> list[str]:
        """Point searches and writes at `index` atomically; returns the indexes now stale."""
        ...

    def drop_index(self, index: str) -> None:
        """Delete an index that is not current (a stale one, or a failed build)."""
        ...

    def close(self) -> None:
        """Release connections (the app's search state is being replaced)."""
        ...
