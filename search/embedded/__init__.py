"""The embedded backend: SQLite FTS5 in files of its own (next to SEARCH_EMBEDDED_PATH), no server.

store.py     the meta file and one file per generation, connections, schema, the write path
columns.py   the in-memory facet columns (sort keys, boosts, bitmaps) per generation
runner.py    one query in a read transaction: FTS5 matching, ranking, paging, facets,
             suggestions, "did you mean"
backend.py   EmbeddedBackend, the SearchBackend of search/backend.py
"""

from .backend import EmbeddedBackend
from .store import SCHEMA_VERSION, EmbeddedUnavailable

__all__ = ["SCHEMA_VERSION", "EmbeddedBackend", "EmbeddedUnavailable"]
