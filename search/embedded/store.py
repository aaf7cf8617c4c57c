"""The embedded index on disk: the meta file, one SQLite file per generation, connections, the
schema and the write path.

The file at SEARCH_EMBEDDED_PATH holds a `meta` table naming the current *generation*; each
generation is a file of its own (`search-<g>.sqlite`: tables docs, fts (and its column subsets
titles, marked, shop_names), facts, cats, certs, vocab, changes). A rebuild fills a new generation
file (journaling off: nobody reads it yet) while searches keep reading the current one, then swaps
the pointer in one transaction (the embedded twin of the engine's alias swap) and deletes the old
file. Every search reads the pointer, then runs in one read transaction on that generation.

Every write logs the ids it touched in `changes` with a sequence number: how searches keep their
in-memory columns (search/embedded/columns.py) exactly at the state their transaction sees."""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from .. import text as vi
from ..backend import BackendUnavailable
from ..query import BOOST_IN_STOCK, BOOST_SALES

# Bump when the tables, the FTS columns or what documents hold change: the first search or write
# after the deploy has the index rebuilt (search/indexer.py). 9: documents carry the stars of
# ratings the operator checked only (migration 0006_ocop made every earlier rating a waiting claim).
SCHEMA_VERSION = 9
# The FTS columns, in order (their bm25 weights are in runner.py).
COLUMNS = ("t_exact", "t_fold", "o_exact", "o_fold", "s_fold", "d_fold")
# FTS tables of column subsets of `fts`, for the expressions that name only those columns: the
# "title" and "exact" expressions of ranking tiers and suggestions, and the shops of suggestions.
SUBSETS = {"titles": ("t_fold",), "marked": ("t_exact", "o_exact"), "shop_names": ("s_fold",)}

DOC_COLUMNS = (
    "id",
    "title",
    "slug",
    "description",
    "price_vnd",
    "unit",
    "in_stock",
    "shop_id",
    "shop_slug",
    "shop_name",
    "category_id",
    "origin",
    "origin_key",
    "ocop_stars",
    "ocop_expires_on",
    "certifications",
    "sales_count",
    "sales_boost",
    "published_at",
    "image_key",
    "image_w",
    "image_h",
)


class EmbeddedUnavailable(BackendUnavailable):
    """No current generation to write to."""


class Transaction:
    """BEGIN (or BEGIN IMMEDIATE) on enter; COMMIT, or ROLLBACK after an exception, on exit."""

    def __init__(self, conn: sqlite3.Connection, begin: str):
        self.conn, self.begin = conn, begin

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute(self.begin)
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
        return False


class GenerationStore:
    """The generation files of one SEARCH_EMBEDDED_PATH and this process's connections to them."""

    def __init__(self, path: str):
        self.path = str(path)
        self._local = threading.local()

    # --- connections ------------------------------------------------------------------------------
    # The meta file (SEARCH_EMBEDDED_PATH) names the current generation; each generation is a file
    # of its own next to it. Connections are per thread (and per process: re-opened after a fork).

    def _state(self):
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.pid, local.meta, local.gens = os.getpid(), None, {}
        return local

    def _meta(self) -> sqlite3.Connection:
        local = self._state()
        if local.meta is None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            local.meta = conn
        return local.meta

    def generation_path(self, g: str) -> str:
        base = Path(self.path)
        return str(base.with_name(f"{base.stem}-{g}.sqlite"))

    def connection(self, g: str, *, create: bool = False) -> sqlite3.Connection:
        local = self._state()
        conn = local.gens.get(g)
        if conn is None:
            path = self.generation_path(g)
            # mode=rw: a generation dropped by another process must not come back as an empty file.
            uri = "file:" + quote(path) + ("?mode=rwc" if create else "?mode=rw")
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA cache_size=-16384")
            local.gens[g] = conn
        return conn

    def _forget(self, keep: set[str]) -> None:
        local = self._state()
        for g in [g for g in local.gens if g not in keep]:
            local.gens.pop(g).close()

    def close(self) -> None:
        local = self._state()
        self._forget(set())
        if local.meta is not None:
            local.meta.close()
            local.meta = None

    def _pointer(self) -> str | None:
        conn = self._meta()
        rows = dict(conn.execute("SELECT key, value FROM meta WHERE key = 'current' OR key LIKE 'version:%'"))
        g = rows.get("current")
        if g is None or rows.get(f"version:{g}") != str(SCHEMA_VERSION):
            return None
        # Connections to generations that were dropped (by any process) are closed here.
        building = {key for (key,) in conn.execute("SELECT key FROM meta WHERE key LIKE 'building:%'")}
        self._forget({key.split(":", 1)[1] for key in set(rows) | building if ":" in key})
        return g

    def open_current(self, begin: str):
        """(g, connection) of the current generation inside a transaction, or None."""
        for _attempt in range(3):
            g = self._pointer()
            if g is None:
                return None
            try:
                return g, Transaction(self.connection(g), begin)
            except sqlite3.OperationalError:
                self._forget(set())  # dropped between reading the pointer and opening it: read again
        return None

    def current(self) -> str | None:
        """The current generation, if it has this code's schema version."""
        return self._pointer()

    def pointer_set(self) -> bool:
        """Whether the meta file names a current generation at all (of any schema version)."""
        return self._meta().execute("SELECT 1 FROM meta WHERE key = 'current'").fetchone() is not None

    # --- generations ------------------------------------------------------------------------------

    def create(self) -> str:
        """A new, empty generation file, built with journaling off (no reader sees it before the swap)."""
        g = "g" + datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(3)
        meta = self._meta()
        meta.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (f"building:{g}", "1"))
        conn = self.connection(g, create=True)
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        with Transaction(conn, "BEGIN") as c:
            c.execute("""CREATE TABLE docs (
                id INTEGER PRIMARY KEY, title TEXT NOT NULL, slug TEXT NOT NULL, description TEXT NOT NULL,
                price_vnd INTEGER NOT NULL, unit TEXT NOT NULL, in_stock INTEGER NOT NULL,
                shop_id INTEGER NOT NULL, shop_slug TEXT NOT NULL, shop_name TEXT NOT NULL,
                category_id INTEGER NOT NULL, origin TEXT, origin_key TEXT, ocop_stars INTEGER,
                ocop_expires_on TEXT, certifications TEXT NOT NULL, sales_count INTEGER NOT NULL,
                sales_boost REAL NOT NULL, published_at TEXT NOT NULL, image_key TEXT, image_w INTEGER,
                image_h INTEGER)""")
            # The narrow table filters join the matches with, and what the in-memory columns are read from.
            c.execute("""CREATE TABLE facts (
                id INTEGER PRIMARY KEY, price INTEGER NOT NULL, published TEXT NOT NULL, shop_id INTEGER NOT NULL,
                category_id INTEGER NOT NULL, origin_key TEXT, origin_id INTEGER, in_stock INTEGER NOT NULL,
                stars INTEGER, expires TEXT, boost REAL NOT NULL)""")
            # Spellings of origins, so that the origin facet counts integers.
            c.execute(
                "CREATE TABLE origins (id INTEGER PRIMARY KEY, key TEXT NOT NULL, label TEXT NOT NULL, "
                "UNIQUE (key, label))"
            )
            # The ids every write touched, with its sequence number: how searches keep their columns current.
            c.execute("CREATE TABLE changes (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL)")
            c.execute(
                "CREATE TABLE cats (category_id INTEGER NOT NULL, doc_id INTEGER NOT NULL, "
                "PRIMARY KEY (category_id, doc_id)) WITHOUT ROWID"
            )
            c.execute(
                "CREATE TABLE certs (cert TEXT NOT NULL, doc_id INTEGER NOT NULL, "
                "PRIMARY KEY (cert, doc_id)) WITHOUT ROWID"
            )
            # Every batch deletes by document id and reads the last sequence before inserting: these
            # indexes from the start (not after the bulk load) keep that from scanning the tables.
            c.execute("CREATE INDEX cats_doc ON cats (doc_id, category_id)")
            c.execute("CREATE INDEX certs_doc ON certs (doc_id, cert)")
            c.execute("CREATE INDEX changes_seq ON changes (seq)")
            c.execute(
                f"CREATE VIRTUAL TABLE fts USING fts5({', '.join(COLUMNS)}, "
                f"tokenize = 'unicode61 remove_diacritics 0', prefix = '1 2 3')"
            )
            c.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(fts, 'col')")
            # The columns that ranking tiers and suggestions ask about, once more in tables of their
            # own: in `fts` the same words' occurrences in the other columns (descriptions above all)
            # must be decoded and skipped by the column filter, which made those queries cost as
            # much as the whole match. Same tokenizer, same column names: an expression means the
            # same in both.
            for name, columns in SUBSETS.items():
                c.execute(
                    f"CREATE VIRTUAL TABLE {name} USING fts5({', '.join(columns)}, "
                    f"tokenize = 'unicode61 remove_diacritics 0', prefix = '1 2 3')"
                )
        return g

    def finish(self, g: str) -> None:
        """Secondary indexes after the bulk load (faster), merged FTS segments, statistics, WAL."""
        conn = self.connection(g)
        with Transaction(conn, "BEGIN") as c:
            c.execute("CREATE INDEX facts_shop ON facts (shop_id)")
            c.execute("CREATE INDEX facts_origin ON facts (origin_key)")
            c.execute("INSERT INTO fts (fts) VALUES ('optimize')")
            for name in SUBSETS:
                c.execute(f"INSERT INTO {name} ({name}) VALUES ('optimize')")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        meta = self._meta()
        with Transaction(meta, "BEGIN IMMEDIATE") as m:
            m.execute("DELETE FROM meta WHERE key = ?", (f"building:{g}",))
            m.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (f"version:{g}", str(SCHEMA_VERSION)),
            )

    def activate(self, g: str) -> list[str]:
        """Point searches at generation g in one transaction; returns the other generations (the
        previous one, and any left by a crashed build)."""
        with Transaction(self._meta(), "BEGIN IMMEDIATE") as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('current', ?)", (g,))
        return [other for other in self.generations() if other != g]

    def generations(self) -> list[str]:
        rows = self._meta().execute(
            "SELECT key FROM meta WHERE key LIKE 'version:%' OR key LIKE 'building:%'"
        )
        return sorted({key.split(":", 1)[1] for (key,) in rows})

    def drop(self, g: str) -> None:
        with Transaction(self._meta(), "BEGIN IMMEDIATE") as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'current'").fetchone()
            if row and row[0] == g:
                raise ValueError("refusing to drop the current generation")
            conn.execute("DELETE FROM meta WHERE key IN (?, ?)", (f"version:{g}", f"building:{g}"))
        local = self._state()
        if g in local.gens:
            local.gens.pop(g).close()
        path = self.generation_path(g)
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path + suffix)

    # --- writes -----------------------------------------------------------------------------------

    def bulk_write(self, g: str, docs: list[dict]) -> None:
        """Add documents to generation g, being built, in one transaction."""
        with Transaction(self.connection(g), "BEGIN") as conn:
            _apply(conn, docs, [])

    def write(self, docs: list[dict], delete_ids: list[int]) -> None:
        """Upsert `docs` and delete `delete_ids` in the current generation, in one transaction
        (idempotent)."""
        opened = self.open_current("BEGIN IMMEDIATE")
        if opened is None:
            raise EmbeddedUnavailable("the embedded index has no current generation")
        with opened[1] as conn:
            _apply(conn, docs, delete_ids)


def _apply(conn: sqlite3.Connection, docs: list[dict], delete_ids: list[int]) -> None:
    ids = [d["id"] for d in docs] + list(delete_ids)
    # Searches see the new sequence and patch their in-memory columns with these ids (see columns.py).
    seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM changes").fetchone()[0]
    conn.executemany("INSERT OR REPLACE INTO changes (id, seq) VALUES (?, ?)", [(i, seq) for i in ids])
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        conn.execute(f"DELETE FROM fts WHERE rowid IN ({marks})", chunk)
        for name in SUBSETS:
            conn.execute(f"DELETE FROM {name} WHERE rowid IN ({marks})", chunk)
        conn.execute(f"DELETE FROM cats WHERE doc_id IN ({marks})", chunk)
        conn.execute(f"DELETE FROM certs WHERE doc_id IN ({marks})", chunk)
        conn.execute(f"DELETE FROM docs WHERE id IN ({marks})", chunk)
        conn.execute(f"DELETE FROM facts WHERE id IN ({marks})", chunk)
    if not docs:
        return
    origins = {(d["origin_key"], d["origin"]) for d in docs if d["origin_key"]}
    conn.executemany("INSERT OR IGNORE INTO origins (key, label) VALUES (?, ?)", sorted(origins))
    origin_ids = (
        {(key, label): oid for oid, key, label in conn.execute("SELECT id, key, label FROM origins")}
        if origins
        else {}
    )
    conn.executemany(
        f"INSERT INTO docs ({', '.join(DOC_COLUMNS)}) VALUES ({', '.join('?' * len(DOC_COLUMNS))})",
        [_doc_row(d) for d in docs],
    )
    conn.executemany(
        "INSERT INTO facts (id, price, published, shop_id, category_id, origin_key, origin_id, in_stock, "
        "stars, expires, boost) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [_facts_row(d, origin_ids) for d in docs],
    )
    rows = [_fts_row(d) for d in docs]
    conn.executemany(f"INSERT INTO fts (rowid, {', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    for name, columns in SUBSETS.items():
        positions = [0] + [1 + COLUMNS.index(c) for c in columns]
        conn.executemany(
            f"INSERT INTO {name} (rowid, {', '.join(columns)}) VALUES ({', '.join('?' * len(positions))})",
            [tuple(row[i] for i in positions) for row in rows],
        )
    conn.executemany(
        "INSERT OR IGNORE INTO cats (category_id, doc_id) VALUES (?, ?)",
        [(cid, d["id"]) for d in docs for cid in d["category_ids"]],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO certs (cert, doc_id) VALUES (?, ?)",
        [(cert, d["id"]) for d in docs for cert in d["certifications"]],
    )


def _doc_row(d: dict) -> tuple:
    values = dict(d)
    values["in_stock"] = 1 if d["in_stock"] else 0
    values["certifications"] = json.dumps(d["certifications"], ensure_ascii=False)
    values["sales_boost"] = BOOST_SALES * math.log1p(d["sales_count"])
    return tuple(values.get(column) for column in DOC_COLUMNS)


def _facts_row(d: dict, origin_ids: dict) -> tuple:
    # The static part of the boost; the OCOP part depends on today's date and is added per query.
    boost = 1 + (BOOST_IN_STOCK if d["in_stock"] else 0) + BOOST_SALES * math.log1p(d["sales_count"])
    return (
        d["id"],
        d["price_vnd"],
        d["published_at"],
        d["shop_id"],
        d["category_id"],
        d["origin_key"],
        origin_ids.get((d["origin_key"], d["origin"])),
        1 if d["in_stock"] else 0,
        d["ocop_stars"],
        d["ocop_expires_on"],
        boost,
    )


def _fts_row(d: dict) -> tuple:
    other = " ".join(x for x in (d.get("origin"), d.get("category_names")) if x)
    return (
        d["id"],
        vi.exact(d["title"]),
        vi.fold(d["title"]),
        vi.exact(other),
        vi.fold(other),
        vi.fold(d["shop_name"]),
        vi.fold(d["description"]),
    )
