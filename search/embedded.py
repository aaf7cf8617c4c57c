"""The embedded backend: SQLite FTS5 in files of its own (next to SEARCH_EMBEDDED_PATH), no server.

The file at SEARCH_EMBEDDED_PATH holds a `meta` table naming the current *generation*; each
generation is a file of its own (`search-<g>.sqlite`: tables docs, fts (and its column subsets
titles, marked, shop_names), facts, cats, certs, vocab, changes). A rebuild fills a new generation
file (journaling off: nobody reads it yet) while searches keep reading the current one, then swaps
the pointer in one transaction (the embedded twin of the engine's alias swap) and deletes the old
file. Every search reads the pointer, then runs in one read transaction on that generation.

Matching: every folded query word must appear in the folded columns (title, origin, category,
shop, description), the last word as a prefix; synonyms become OR groups at query time. The same
words in their exact (diacritic) form, in title/origin/category, add to the score, so "mật ong"
ranks "Mật ong" above "mát".

SQLite finds the matching ids (FTS5 for the words, indexes for category, origin, certification and
shop) and hands them over as one group_concat string; ranking, paging and facets are then done in
Python over columns kept in memory per generation (`_Columns`: sort keys, boosts, a bitmap per
facet value), because counting facets row by row in SQL costs about a microsecond per row and
facet, and broad queries match tens of thousands of rows. Every write logs the ids it touched in
`changes` with a sequence number; a search reads the sequence in its own read transaction and uses
(or patches) the columns of exactly that state, so counts, pages and cursors stay exact."""

from __future__ import annotations

import contextlib
import functools
import heapq
import json
import math
import os
import re
import secrets
import sqlite3
import threading
from collections import Counter, deque
from dataclasses import replace
from datetime import UTC, datetime
from itertools import compress, repeat
from operator import itemgetter, mul, setitem
from pathlib import Path
from urllib.parse import quote

from . import text as vi
from .backend import BackendUnavailable, Status
from .query import (
    BOOST_IN_STOCK,
    BOOST_OCOP_PER_STAR,
    BOOST_SALES,
    PRICE_BUCKETS,
    Hit,
    SearchQuery,
    SearchResult,
    encode_cursor,
    valid_stars,
)

SCHEMA_VERSION = 8  # bump when the tables or the FTS columns change: a rebuild follows
KIND = "embedded"
# bm25 weights of the FTS columns, in order.
COLUMNS = ("t_exact", "t_fold", "o_exact", "o_fold", "s_fold", "d_fold")
WEIGHTS = (6.0, 3.0, 2.0, 1.0, 1.0, 0.3)
# FTS tables of column subsets of `fts`, for the expressions that name only those columns: the
# "title" and "exact" expressions of ranking tiers and suggestions, and the shops of suggestions.
SUBSETS = {"titles": ("t_fold",), "marked": ("t_exact", "o_exact"), "shop_names": ("s_fold",)}
FOLDED_COLUMNS = "{t_fold o_fold s_fold d_fold}"
EXACT_COLUMNS = "{t_exact o_exact}"
PREFIX_COLUMNS = "{t_fold o_fold s_fold}"
FACET_SIZE = 20

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


def _phrase(words: tuple[str, ...] | list[str]) -> str:
    # Tokens are letters and digits only, so quoting cannot be broken out of.
    return '"' + " ".join(words) + '"'


def fts_expressions(query: SearchQuery) -> dict[str, str] | None:
    """FTS5 MATCH expressions for the query text, or None when there is no word to match.

    "match": every word (or one of its synonyms) must appear folded somewhere; the last word,
    being typed, may instead begin a word of the title, origin, category or shop. Its exact
    branch only adds score: every document it matches is also matched by the folded branch (same
    words, prefix only where the folded branch allows it), so the match set is the folded one's.
    "title" (every word in the title) and "exact" (every word with its marks) rank very broad
    queries without bm25. "folded" is "match" without its exact branch: searches that need the
    exact matches anyway take the union of the two, which costs FTS5 less than the OR."""
    words = vi.folded_tokens(query.text)
    if not words:
        return None
    spans = vi.expand_synonyms(words, query.synonyms)
    last_prefix = len(spans[-1]) == 1 and len(spans[-1][0]) == 1
    joiner = " OR " if query.match_any else " AND "
    parts, title_parts = [], []
    for index, span in enumerate(spans):
        alternatives = " OR ".join(_phrase(alt) for alt in span)
        part = f"{FOLDED_COLUMNS} : ({alternatives})"
        title = f"{{t_fold}} : ({alternatives})"
        if index == len(spans) - 1 and last_prefix:
            part = f"({PREFIX_COLUMNS} : {_phrase(span[0])}* OR {part})"
            title = f"{{t_fold}} : {_phrase(span[0])}*"
        parts.append(part)
        title_parts.append(title)
    out = {"match": "(" + joiner.join(parts) + ")", "title": joiner.join(title_parts)}
    exact_words = vi.exact_tokens(query.text)
    if len(exact_words) == len(words):
        exact_parts = [_phrase([w]) for w in exact_words]
        if last_prefix:
            exact_parts[-1] += "*"
        out["exact"] = f"{EXACT_COLUMNS} : ({joiner.join(exact_parts)})"
    out["folded"] = out["match"]
    if "exact" in out:
        out["match"] += " OR " + out["exact"]
    return out


def fts_expression(query: SearchQuery) -> str | None:
    expressions = fts_expressions(query)
    return expressions["match"] if expressions else None


class EmbeddedBackend:
    kind = KIND

    def __init__(self, path: str, bm25_limit: int = 5000):
        self.path = str(path)
        self.bm25_limit = bm25_limit  # above this many text matches, rank without bm25 (see _Search)
        self._local = threading.local()
        # In-memory columns of the generations searched lately, shared by the threads of a process:
        # {generation: [_Columns of recent change sequences, oldest first]}.
        self._columns: dict[str, list[_Columns]] = {}
        self._columns_lock = threading.Lock()
        self._columns_pid = os.getpid()

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

    def _gen(self, g: str, *, create: bool = False) -> sqlite3.Connection:
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
        with self._columns_lock:
            self._columns = {}
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

    def _open_current(self, begin: str):
        """(g, connection) of the current generation inside a transaction, or None."""
        for _attempt in range(3):
            g = self._pointer()
            if g is None:
                return None
            try:
                return g, _Transaction(self._gen(g), begin)
            except sqlite3.OperationalError:
                self._forget(set())  # dropped between reading the pointer and opening it: read again
        return None

    @property
    def lease_key(self) -> str:
        return f"embedded:{Path(self.path).resolve()}"[:200]

    def current_index(self) -> str | None:
        return self._pointer()

    def status(self) -> Status:
        """ "ok" when a current generation of this schema version exists and opens; "outdated"
        when the current one has another schema version; else "index_missing"."""
        if self._open_current("BEGIN") is not None:
            return "ok"
        current = self._meta().execute("SELECT value FROM meta WHERE key = 'current'").fetchone()
        return "outdated" if current is not None else "index_missing"

    def count(self) -> int:
        opened = self._open_current("BEGIN")
        if opened is None:
            return 0
        with opened[1] as conn:
            return conn.execute("SELECT count(*) FROM docs").fetchone()[0]

    def doc_ids(self) -> set[int]:
        opened = self._open_current("BEGIN")
        if opened is None:
            return set()
        with opened[1] as conn:
            return {r[0] for r in conn.execute("SELECT id FROM docs")}

    # --- generations ------------------------------------------------------------------------------

    def create_index(self) -> str:
        """A new, empty generation file, built with journaling off (no reader sees it before the swap)."""
        g = "g" + datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(3)
        meta = self._meta()
        meta.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (f"building:{g}", "1"))
        conn = self._gen(g, create=True)
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        with _Transaction(conn, "BEGIN") as c:
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

    def finish_index(self, g: str) -> None:
        """Secondary indexes after the bulk load (faster), merged FTS segments, statistics, WAL."""
        conn = self._gen(g)
        with _Transaction(conn, "BEGIN") as c:
            c.execute("CREATE INDEX facts_shop ON facts (shop_id)")
            c.execute("CREATE INDEX facts_origin ON facts (origin_key)")
            c.execute("INSERT INTO fts (fts) VALUES ('optimize')")
            for name in SUBSETS:
                c.execute(f"INSERT INTO {name} ({name}) VALUES ('optimize')")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        meta = self._meta()
        with _Transaction(meta, "BEGIN IMMEDIATE") as m:
            m.execute("DELETE FROM meta WHERE key = ?", (f"building:{g}",))
            m.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (f"version:{g}", str(SCHEMA_VERSION)),
            )

    def activate(self, g: str) -> list[str]:
        """Point searches at generation g in one transaction; returns the other generations (the
        previous one, and any left by a crashed build)."""
        with _Transaction(self._meta(), "BEGIN IMMEDIATE") as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('current', ?)", (g,))
        return [other for other in self.indexes() if other != g]

    def indexes(self) -> list[str]:
        rows = self._meta().execute(
            "SELECT key FROM meta WHERE key LIKE 'version:%' OR key LIKE 'building:%'"
        )
        return sorted({key.split(":", 1)[1] for (key,) in rows})

    def drop_index(self, g: str) -> None:
        with _Transaction(self._meta(), "BEGIN IMMEDIATE") as conn:
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
        with _Transaction(self._gen(g), "BEGIN") as conn:
            _apply(conn, docs, [])

    def write(self, docs: list[dict], delete_ids: list[int]) -> None:
        """Upsert `docs` and delete `delete_ids` in the current generation, in one transaction
        (idempotent)."""
        opened = self._open_current("BEGIN IMMEDIATE")
        if opened is None:
            raise EmbeddedUnavailable("the embedded index has no current generation")
        with opened[1] as conn:
            _apply(conn, docs, delete_ids)

    # --- reads ------------------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        opened = self._open_current("BEGIN")
        if opened is None:
            return SearchResult(
                total=0, hits=[], backend=KIND, facets=_empty_facets() if query.facets else {}
            )
        g, transaction = opened
        with transaction as conn:
            return _Search(conn, query, self.bm25_limit, self._columns_of(conn, g)).run()

    def _columns_of(self, conn: sqlite3.Connection, g: str) -> _Columns:
        """The in-memory columns of generation g as this read transaction sees it.

        The change sequence is read inside the transaction, so the columns match its snapshot
        exactly: the version with that sequence if one is kept, else the newest older one patched
        with the ids changed since (or, after many changes, a fresh load). A few versions are kept
        because a transaction that began just before a write still needs the older one."""
        seq = conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
        if self._columns_pid != os.getpid():  # forked: a lock may have been held by a thread that is gone
            self._columns, self._columns_lock, self._columns_pid = {}, threading.Lock(), os.getpid()
        with self._columns_lock:
            versions = self._columns.get(g, [])
            for version in versions:
                if version.seq == seq:
                    return version
            older = [v for v in versions if v.seq < seq]
        columns = None
        if older:
            base = older[-1]
            changed = [row[0] for row in conn.execute("SELECT id FROM changes WHERE seq > ?", (base.seq,))]
            if len(changed) <= max(1000, base.docs // 4):
                columns = base.patched(conn, seq, changed)
        if columns is None:
            columns = _Columns.load(conn, seq)
        with self._columns_lock:
            versions = sorted(
                [v for v in self._columns.get(g, []) if v.seq != seq] + [columns], key=lambda v: v.seq
            )
            # Only the generation searched now (and the one before, while a swap settles) is kept.
            others = [(k, v) for k, v in self._columns.items() if k != g][-1:]
            self._columns = dict(others + [(g, versions[-3:])])
        return columns

    def suggest(self, query: SearchQuery, shops: int = 3, sample: int = 300) -> tuple[list[Hit], list[int]]:
        """Products and shops for the box, cheaply: the newest `sample` listings whose title matches
        what was typed (last word as a prefix) are ranked here, by vi.suggestion_ranker (the words'
        marks, the title beginning with them) then by boost; listings matching elsewhere follow
        only when titles give too few. Shops whose name has every typed word as a prefix, most
        listings first among the newest `sample` of theirs."""
        expressions = fts_expressions(query)
        opened = self._open_current("BEGIN") if expressions else None
        if opened is None:
            return [], []
        words = vi.folded_tokens(query.text)
        shop_expression = "{s_fold} : (" + " AND ".join(_phrase([w]) + "*" for w in words) + ")"
        tier = vi.suggestion_ranker(query.text)

        def ranked(rows: list) -> list[int]:
            return [
                doc_id for doc_id, _boost, _title in sorted(rows, key=lambda r: (tier(r[2]), -r[1], -r[0]))
            ]

        with opened[1] as conn:
            # The title and shop expressions name one column each: its own table answers faster.
            candidates = (
                "SELECT f.id, f.boost, d.title FROM {0} CROSS JOIN facts f ON f.id = {0}.rowid "
                "JOIN docs d ON d.id = f.id WHERE {0} MATCH ? ORDER BY {0}.rowid DESC LIMIT "
                + str(int(sample))
            )
            best = ranked(conn.execute(candidates.format("titles"), (expressions["title"],)).fetchall())
            if len(best) < query.per_page:  # not in titles: anywhere, after the titles
                anywhere = ranked(conn.execute(candidates.format("fts"), (expressions["match"],)).fetchall())
                taken = set(best)
                best += [doc_id for doc_id in anywhere if doc_id not in taken]
            hits = _Search(conn, replace(query, highlight=True))._hits(best[: query.per_page])
            owners = [
                row[0]
                for row in conn.execute(
                    f"SELECT f.shop_id FROM shop_names CROSS JOIN facts f ON f.id = shop_names.rowid "
                    f"WHERE shop_names MATCH ? ORDER BY shop_names.rowid DESC LIMIT {int(sample)}",
                    (shop_expression,),
                )
            ]
        counts: dict[int, int] = {}
        for shop_id in owners:
            counts[shop_id] = counts.get(shop_id, 0) + 1
        return hits, [sid for sid, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:shops]]

    def did_you_mean(self, query: SearchQuery) -> str | None:
        """Replace each folded word absent from the index by the closest indexed word
        (edit distance by word length, most frequent first)."""
        words = vi.folded_tokens(query.text)
        opened = self._open_current("BEGIN") if words else None
        if opened is None:
            return None
        folded_cols = "col IN ('t_fold','o_fold','s_fold')"
        with opened[1] as conn:
            changed, out = False, []
            for index, word in enumerate(words):
                exists = conn.execute(
                    f"SELECT 1 FROM vocab WHERE term = ? AND {folded_cols} LIMIT 1", (word,)
                ).fetchone()
                if exists is None and index == len(words) - 1:
                    exists = conn.execute(
                        f"SELECT 1 FROM vocab WHERE term >= ? AND term < ? AND {folded_cols} LIMIT 1",
                        (word, word + "\U0010ffff"),
                    ).fetchone()
                if exists is not None or vi.max_edits(word) == 0:
                    out.append(word)
                    continue
                limit = vi.max_edits(word) + 1
                best: tuple[int, int, str] | None = None
                rows = conn.execute(
                    f"SELECT term, sum(doc) FROM vocab WHERE term >= ? AND term < ? AND {folded_cols} "
                    f"GROUP BY term",
                    (word[0], word[0] + "\U0010ffff"),
                )
                for term, docs in rows:
                    distance = vi.edit_distance(word, term, limit)
                    if distance < limit and (best is None or (distance, -docs) < (best[0], -best[1])):
                        best = (distance, docs, term)
                if best is None:
                    out.append(word)
                else:
                    out.append(best[2])
                    changed = True
            return " ".join(out) if changed else None


def _apply(conn: sqlite3.Connection, docs: list[dict], delete_ids: list[int]) -> None:
    ids = [d["id"] for d in docs] + list(delete_ids)
    # Searches see the new sequence and patch their in-memory columns with these ids (see _Columns).
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


class _Transaction:
    def __init__(self, conn: sqlite3.Connection, begin: str):
        self.conn, self.begin = conn, begin

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute(self.begin)
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
        return False


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


def _empty_facets() -> dict:
    return {
        "category_leaf": {},
        "origin": [],
        "shop": {},
        "ocop": {},
        "cert": [],
        "price": [0] * len(PRICE_BUCKETS),
        "in_stock": 0,
    }


_FACTS = (
    "SELECT id, price, published, shop_id, category_id, origin_id, in_stock, stars, expires, boost FROM facts"
)
_PICK = [
    bytes(int(byte == code) for byte in range(256)) for code in range(4)
]  # translate tables: 1 where byte == code
_NUMERIC = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")


def _flags(ids, size: int, value: int = 1) -> bytearray:
    """A byte per id below `size`: `value` for those in `ids`, else 0 (set at C speed)."""
    flags = bytearray(size)
    deque(map(setitem, repeat(flags), ids, repeat(value)), maxlen=0)
    return flags


def _pick(values, ids) -> tuple:
    """values[i] for each id, in one C call (itemgetter) rather than a call per id."""
    return itemgetter(*ids)(values) if len(ids) > 1 else tuple(values[i] for i in ids)


@functools.lru_cache(maxsize=8)
def _gathering(size: int) -> tuple[tuple[int, int], ...]:
    """(shift, mask) rounds that move bit 8i of a `size`-byte integer to bit i: each round merges
    pairs of neighbouring groups, doubling the bits gathered at the bottom of each."""
    rounds, group, step = [], 1, 8
    while step < 8 * size:
        shift = step - group
        group, step = group * 2, step * 2
        unit = ((1 << group) - 1).to_bytes(step // 8, "little")
        rounds.append((shift, int.from_bytes(unit * (8 * size // step + 1), "little")))
    return tuple(rounds)


def _bitmap(ids, size: int) -> int:
    """A set of ids (all below `size`) as the bits of one integer: intersecting two sets and
    counting the result then costs microseconds for the whole index instead of a step per matching
    row. Built without a Python step per id: a byte per id, then the bytes gathered into bits."""
    if not ids:
        return 0
    x = int.from_bytes(_flags(ids, size), "little")
    for shift, mask in _gathering(size):
        x = (x | (x >> shift)) & mask
    return x


class _Columns:
    """What ranking, paging and facets need of every document of one generation at one change
    sequence, indexed by document id. Never modified once built (a later sequence gets a patched
    copy), so the threads of a process share it without locks.

    price, shop, boost (its static part), published: lists (not arrays: reading an array makes a
    new object each time, while the same shop or price is one shared int here, which makes the
    Counter of shops and the comparisons cheaper); stock: a byte per id (1: in stock), to filter;
    starred: {id: (stars, expires)}, for the OCOP part of the boost, the OCOP facet and filter,
    which depend on the query's date (see `dated`); in_stock, prices (one per PRICE_BUCKETS),
    category (by leaf id), origin (by origin id), cert (by name): bitmaps of document ids."""

    def __init__(self, seq: int):
        self.seq = seq
        self.docs = 0  # as loaded; only decides when patching costs more than loading again
        self.price: list[int] = []
        self.shop: list[int] = []
        self.boost: list[float] = []
        self.published: list[str | None] = []
        self.shared: dict[int, int] = {}  # one object per distinct price or shop id (shared by versions)
        self.stock = bytearray()
        self.starred: dict[int, tuple[int, str]] = {}
        self.in_stock, self.prices = 0, [0] * len(PRICE_BUCKETS)
        self.category: dict[int, int] = {}
        self.origin: dict[int, int] = {}
        self.cert: dict[str, int] = {}
        self._dated: dict[str, tuple[list[float], dict[int, int], dict[int, int]]] = {}

    @classmethod
    def load(cls, conn: sqlite3.Connection, seq: int) -> _Columns:
        columns = cls(seq)
        columns._grow(conn.execute("SELECT coalesce(max(id), 0) FROM facts").fetchone()[0])
        columns.docs = columns._merge(conn.execute(_FACTS), conn.execute("SELECT cert, doc_id FROM certs"), 0)
        return columns

    def patched(self, conn: sqlite3.Connection, seq: int, changed: list[int]) -> _Columns:
        """A copy with the documents in `changed` read again (those no longer in facts are gone)."""
        new = _Columns(seq)
        new.docs, new.shared = self.docs, self.shared
        new.price, new.shop, new.boost, new.published = (
            self.price[:],
            self.shop[:],
            self.boost[:],
            self.published[:],
        )
        new.stock = bytearray(self.stock)
        new.starred = {i: v for i, v in self.starred.items()}
        for i in changed:
            new.starred.pop(i, None)
        new.in_stock, new.prices = self.in_stock, list(self.prices)
        new.category, new.origin, new.cert = dict(self.category), dict(self.origin), dict(self.cert)
        rows, certs = [], []
        for start in range(0, len(changed), 500):
            chunk = changed[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows += conn.execute(f"{_FACTS} WHERE id IN ({marks})", chunk).fetchall()
            certs += conn.execute(
                f"SELECT cert, doc_id FROM certs WHERE doc_id IN ({marks})", chunk
            ).fetchall()
        if changed:
            new._grow(max(changed))
        new._merge(rows, certs, _bitmap(changed, len(new.price)))
        return new

    def _grow(self, top: int) -> None:
        more = top + 1 - len(self.price)
        if more > 0:
            for column in (self.price, self.shop, self.boost, self.published):
                column.extend([None] * more)
            self.stock.extend(bytes(more))

    def _merge(self, rows, cert_rows, replaced: int) -> int:
        """Write facts rows into the lists and their ids into the bitmaps, after clearing the
        `replaced` ids from every bitmap. Returns the number of rows."""
        price, shop, boost, published, starred, flags = (
            self.price,
            self.shop,
            self.boost,
            self.published,
            self.starred,
            self.stock,
        )
        shared = self.shared.setdefault
        stock: list[int] = []
        buckets: list[list[int]] = [[] for _ in PRICE_BUCKETS]
        category: dict[int, list[int]] = {}
        origin: dict[int, list[int]] = {}
        cert: dict[str, list[int]] = {}
        bounds = list(enumerate(PRICE_BUCKETS))
        n = 0
        for i, p, pub, s, cid, oid, in_stock, stars, expires, b in rows:
            n += 1
            price[i], shop[i], boost[i], published[i] = shared(p, p), shared(s, s), b, pub
            if stars and expires is not None:
                starred[i] = (stars, expires)
            flags[i] = in_stock == 1
            if in_stock == 1:
                stock.append(i)
            for index, (lo, hi) in bounds:
                if p >= lo and (hi is None or p < hi):
                    buckets[index].append(i)
            category.setdefault(cid, []).append(i)
            if oid is not None:
                origin.setdefault(oid, []).append(i)
        for name, i in cert_rows:
            cert.setdefault(name, []).append(i)
        keep, size = ~replaced, len(self.price)
        self.in_stock = (self.in_stock & keep) | _bitmap(stock, size)
        self.prices = [(old & keep) | _bitmap(ids, size) for old, ids in zip(self.prices, buckets)]
        for family, new in ((self.category, category), (self.origin, origin), (self.cert, cert)):
            if replaced:
                for value in list(family):
                    family[value] &= keep
                    if not family[value]:
                        del family[value]
            for value, ids in new.items():
                family[value] = family.get(value, 0) | _bitmap(ids, size)
        return n

    def dated(self, today: str) -> tuple[list[float], dict[int, int], dict[int, int]]:
        """For the query's date (ISO): the whole boost by id, {stars: bitmap} and {id: stars} of
        the valid OCOP ratings (expiry after that date). The boost is computed as SQL did,
        f.boost + 0.06 * stars, in doubles."""
        got = self._dated.get(today)
        if got is None:
            boost = list(self.boost)
            stars: dict[int, list[int]] = {}
            valid: dict[int, int] = {}
            for i, (n, expires) in self.starred.items():
                if expires > today:
                    boost[i] = self.boost[i] + BOOST_OCOP_PER_STAR * n
                    stars.setdefault(n, []).append(i)
                    valid[i] = n
            got = (boost, {n: _bitmap(ids, len(self.price)) for n, ids in stars.items()}, valid)
            if len(self._dated) >= 4:
                self._dated.clear()
            self._dated[today] = got
        return got


def _sql_value(value, numeric: bool):
    """A cursor value as SQLite compared it with a numeric (score, price, id) or a text (published)
    column: a bound value takes the column's affinity. Returns (class, value), class 0 for numbers
    and 1 for text (numbers sort first), or None where SQL compared with NULL (nothing matches)."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, float) and value != value:
        return None  # NaN is bound as NULL
    if isinstance(value, (int, float)):
        return (0, value) if numeric else (1, str(value))
    if isinstance(value, str):
        if numeric and _NUMERIC.fullmatch(value):
            text = value.strip()
            return (0, float(text) if any(c in text for c in ".eE") else int(text))
        return (1, value)
    return None


def _first(ids: list[int], k: int, value, descending: bool, after, factor: int = 1) -> list[int]:
    """The first k of `ids` (ascending) ordered by (factor * value(id), id), both descending or
    both ascending, among those `after` keeps (it is given the product). heapq keeps the input
    order among equal keys, so reversed input breaks ties by id descending. Multiplying by 1, 2
    or 4 keeps order and ties, so `value` itself (a C getter) orders; by 3, rounding can make two
    values equal, so the products are computed (at C speed) and ordered."""
    if factor in (1, 2, 4):
        if after is not None:
            ids = (
                [i for i in ids if after(factor * value(i), i)]
                if factor != 1
                else [i for i in ids if after(value(i), i)]
            )
        if descending:
            return heapq.nlargest(k, reversed(ids), key=value)
        return heapq.nsmallest(k, ids, key=value)
    products = list(map(mul, repeat(factor), map(value, ids)))
    positions = (
        range(len(ids)) if after is None else [j for j in range(len(ids)) if after(products[j], ids[j])]
    )
    if descending:
        return [ids[j] for j in heapq.nlargest(k, reversed(positions), key=products.__getitem__)]
    return [ids[j] for j in heapq.nsmallest(k, positions, key=products.__getitem__)]


class _Search:
    """One search inside an open read transaction on the current generation.

    SQLite says which documents match (FTS5 for the words, indexes for the set-like filters) as one
    group_concat of ids, which costs a fraction of fetching a row per match; the other filters, the
    page and every facet are then computed over the in-memory columns (see _Columns). Relevance is
    bm25 (weighted columns) x boosts; above `bm25_limit` text matches (a query like "c" or "mat"),
    bm25 over every match costs more than it tells, so those are ranked by tiers instead: all words
    in the exact form, all words in the title, anywhere — x the same boosts. Scores are the same
    double arithmetic the SQL of earlier versions did, so order, ties and cursors are unchanged."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        query: SearchQuery,
        bm25_limit: int = 5000,
        columns: _Columns | None = None,
    ):
        self.conn, self.q, self.bm25_limit, self.columns = conn, query, bm25_limit, columns
        self.params: dict = {"today": query.today.isoformat()}

    def _filters(self) -> str:
        """The filters as SQL over `facts f`, for the bm25 query (a join on at most bm25_limit
        matches); _kept applies the same filters to the ids of the other searches."""
        q, where = self.q, ["1"]
        if q.category_id is not None:
            where.append("f.id IN (SELECT doc_id FROM cats WHERE category_id = :category_id)")
            self.params["category_id"] = q.category_id
        if q.origin_key:
            where.append("f.origin_key = :origin_key")
            self.params["origin_key"] = q.origin_key
        if q.shop_id is not None:
            where.append("f.shop_id = :shop_id")
            self.params["shop_id"] = q.shop_id
        if q.ocop_min:
            where.append("f.stars >= :ocop_min AND f.expires > :today")
            self.params["ocop_min"] = q.ocop_min
        if q.cert:
            where.append("f.id IN (SELECT doc_id FROM certs WHERE cert = :cert)")
            self.params["cert"] = q.cert
        if q.price_min is not None:
            where.append("f.price >= :price_min")
            self.params["price_min"] = q.price_min
        if q.price_max is not None:
            where.append("f.price <= :price_max")
            self.params["price_max"] = q.price_max
        if q.in_stock:
            where.append("f.in_stock = 1")
        return " AND ".join(where)

    def _ids(self, sql: str, params: tuple) -> list[int]:
        """Ascending ids from `SELECT group_concat(<id>) ...` (parsed as JSON: C speed)."""
        text = self.conn.execute(sql, params).fetchone()[0]
        ids = json.loads("[" + text + "]") if text else []
        ids.sort()  # ascending already in practice: then a linear check
        return ids

    def _kept(self, ids: list[int] | None, valid: dict[int, int]) -> list[int]:
        """The ids (ascending) that pass the filters, as _filters() says in SQL: category, origin,
        certification and shop as the sets SQL reads off their indexes, the rest over the columns.
        `ids` None: among all documents (no words to match)."""
        q, columns = self.q, self.columns
        for sql, value in (
            ("SELECT group_concat(doc_id) FROM cats WHERE category_id = ?", q.category_id),
            ("SELECT group_concat(id) FROM facts WHERE origin_key = ?", q.origin_key or None),
            ("SELECT group_concat(doc_id) FROM certs WHERE cert = ?", q.cert or None),
            ("SELECT group_concat(id) FROM facts WHERE shop_id = ?", q.shop_id),
        ):
            if value is not None:
                found = self._ids(sql, (value,))
                ids = found if ids is None else list(filter(set(found).__contains__, ids))
        if ids is None:
            ids = self._ids("SELECT group_concat(id) FROM facts", ())
        if q.ocop_min:
            least = q.ocop_min
            ids = [i for i in ids if valid.get(i, 0) >= least]
        price, least, most = columns.price, q.price_min, q.price_max
        if least is not None and most is not None:
            ids = [i for i in ids if least <= price[i] <= most]
        elif least is not None:
            ids = [i for i in ids if price[i] >= least]
        elif most is not None:
            ids = [i for i in ids if price[i] <= most]
        if q.in_stock:
            ids = list(compress(ids, map(columns.stock.__getitem__, ids)))
        return ids

    def _matches(
        self, boost: list[float], valid: dict[int, int]
    ) -> tuple[list[int], list | None, list | None]:
        """The ids of the filtered matches (ascending) and, for relevance with words, how to rank
        them: `scored` [(bm25 score x boost, id)], or `tiers` [(factor, ids)]. Neither: by the
        sort's column (the boost alone for relevance without words)."""
        q = self.q
        expressions = fts_expressions(q)
        if expressions is None:
            return self._kept(None, valid), None, None
        matching = "SELECT group_concat(rowid) FROM fts WHERE fts MATCH ?"
        if q.sort != "relevance":
            return self._kept(self._ids(matching, (expressions["match"],)), valid), None, None
        size = len(self.columns.price)
        matched = self._ids(matching, (expressions["folded"],))
        subset = "SELECT group_concat(rowid) FROM {0} WHERE {0} MATCH ?"
        exact = self._ids(subset.format("marked"), (expressions["exact"],)) if "exact" in expressions else []
        marks = _flags(exact, size, 2)  # 2: in exact; the title adds 1 below
        # The folded branch usually finds every exact match too: count that before building a union.
        if exact and bytes(_pick(marks, matched)).count(2) < len(exact):
            matched = sorted(set(matched).union(exact))
        if len(matched) <= self.bm25_limit:
            filters = self._filters()
            if filters == "1":
                source, where = "fts", "fts MATCH :match"
            else:
                source, where = (
                    "fts CROSS JOIN facts f ON f.id = fts.rowid",
                    f"fts MATCH :match AND {filters}",
                )
            self.params["match"] = expressions["match"]
            weights = ", ".join(str(w) for w in WEIGHTS)
            sql = f"SELECT fts.rowid, bm25(fts, {weights}) FROM {source} WHERE {where}"
            rows = self.conn.execute(sql, self.params).fetchall()
            return sorted(i for i, _ in rows), [(-b * boost[i], i) for i, b in rows], None
        ids = self._kept(matched, valid)
        title = self._ids(subset.format("titles"), (expressions["title"],))
        if not title and not exact:
            return ids, None, None  # one tier: by the boost alone
        if title:
            marks = (
                int.from_bytes(marks, "little") + int.from_bytes(_flags(title, size), "little")
            ).to_bytes(size, "little")
        # Byte per matching id: in title + 2 * in exact, i.e. its tier - 1; each tier picked out in id order.
        codes = bytes(_pick(marks, ids))
        return (
            ids,
            None,
            [
                (code + 1, list(compress(ids, codes.translate(_PICK[code]))) if code in codes else [])
                for code in range(4)
            ],
        )

    def _after(self):
        """The cursor as a predicate on (sort value, id): what comes after it in the sort order."""
        q = self.q
        if q.cursor is None:
            return None
        numeric, descending = q.sort != "newest", q.sort != "price_asc"
        key, doc = _sql_value(q.cursor[0], numeric), _sql_value(q.cursor[1], True)
        if key is None:
            return lambda value, i: False
        if key[0] != (0 if numeric else 1):
            # The other class: numbers sort before text, so every value is before it (numeric
            # column) or after it (text column), and none is equal.
            passes = numeric == descending
            return lambda value, i: passes
        after_key = key[1]
        if doc is None or doc[0] == 1:  # ids are numbers: before any text, never equal to NULL
            tie = doc is not None and descending
            if descending:
                return lambda value, i: value < after_key or (value == after_key and tie)
            return lambda value, i: value > after_key or (value == after_key and tie)
        after_id = doc[1]
        if descending:
            return lambda value, i: value < after_key or (value == after_key and i < after_id)
        return lambda value, i: value > after_key or (value == after_key and i > after_id)

    def _ranked(
        self, ids: list[int], scored: list | None, tiers: list | None, boost: list[float], k: int
    ) -> list[tuple]:
        """The first k (sort value, id) in the query's order, after its cursor."""
        q, after = self.q, self._after()
        if q.sort == "relevance":
            if scored is not None:
                if after is not None:
                    scored = [pair for pair in scored if after(*pair)]
                return heapq.nlargest(k, scored)  # (score, id) descending: ties by id descending
            if tiers is not None:
                out = []
                for factor, members in tiers:
                    out += [
                        (factor * boost[i], i)
                        for i in _first(members, k, boost.__getitem__, True, after, factor)
                    ]
                out.sort(reverse=True)  # each tier's first k hold the first k overall
                return out[:k]
            return [(boost[i], i) for i in _first(ids, k, boost.__getitem__, True, after)]
        value = (
            self.columns.price.__getitem__
            if q.sort in ("price_asc", "price_desc")
            else self.columns.published.__getitem__
        )
        return [(value(i), i) for i in _first(ids, k, value, q.sort != "price_asc", after)]

    def run(self) -> SearchResult:
        q = self.q
        boost, stars, valid = self.columns.dated(self.params["today"])
        ids, scored, tiers = self._matches(boost, valid)
        skip = 0 if q.cursor is not None else q.offset
        rows = self._ranked(ids, scored, tiers, boost, skip + q.per_page + 1)[skip:]
        more = len(rows) > q.per_page
        rows = rows[: q.per_page]
        hits = self._hits([i for _, i in rows])
        next_cursor = encode_cursor(KIND, q.sort, [rows[-1][0], rows[-1][1]]) if more and rows else None
        if q.facets:
            facets, total = self._facets(ids, stars), len(ids)
        else:
            facets = {}
            total = len(ids) if q.count_total else q.offset + len(rows) + (1 if more else 0)
        return SearchResult(total=total, hits=hits, backend=KIND, facets=facets, next_cursor=next_cursor)

    def _hits(self, ids: list[int]) -> list[Hit]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        cursor = self.conn.execute(f"SELECT * FROM docs WHERE id IN ({marks})", ids)
        names = [c[0] for c in cursor.description]
        docs = {row[0]: dict(zip(names, row)) for row in cursor}
        terms, prefix = self.q.highlight_terms()
        out = []
        for doc_id in ids:
            d = docs[doc_id]
            out.append(
                Hit(
                    id=d["id"],
                    title=d["title"],
                    slug=d["slug"],
                    price_vnd=d["price_vnd"],
                    unit=d["unit"],
                    shop_id=d["shop_id"],
                    shop_slug=d["shop_slug"],
                    shop_name=d["shop_name"],
                    origin=d["origin"],
                    in_stock=bool(d["in_stock"]),
                    ocop_stars=valid_stars(d["ocop_stars"], d["ocop_expires_on"], self.q.today),
                    image_key=d["image_key"],
                    image_w=d["image_w"],
                    image_h=d["image_h"],
                    title_html=vi.highlight(d["title"], terms, prefix)
                    if self.q.highlight
                    else vi.highlight(d["title"], set()),
                    snippet_html=vi.snippet(d["description"], terms, prefix)
                    if self.q.highlight and terms
                    else None,
                )
            )
        return out

    def _facets(self, ids: list[int], stars: dict[int, int]) -> dict:
        """Counts over the matches: a bitmap of them intersected with each value's bitmap; shops
        (too many values for bitmaps) by a Counter over the shop column."""
        if not ids:
            return _empty_facets()
        columns = self.columns
        hits = _bitmap(ids, len(columns.price))

        def count(bitmap: int) -> int:
            return (hits & bitmap).bit_count()

        leaves = {cid: n for cid in sorted(columns.category) if (n := count(columns.category[cid]))}
        shops = dict(
            heapq.nsmallest(
                FACET_SIZE, Counter(_pick(columns.shop, ids)).items(), key=lambda kv: (-kv[1], kv[0])
            )
        )
        # Each folded origin is labelled with its most frequent spelling (ties: the one with more marks).
        by_id = {oid: n for oid in sorted(columns.origin) if (n := count(columns.origin[oid]))}
        counts: dict[str, int] = {}
        spellings: dict[str, tuple[int, str]] = {}
        if by_id:
            marks = ",".join("?" * len(by_id))
            for oid, key, label in self.conn.execute(
                f"SELECT id, key, label FROM origins WHERE id IN ({marks})", list(by_id)
            ):
                counts[key] = counts.get(key, 0) + by_id[oid]
                spellings[key] = max(spellings.get(key, (0, "")), (by_id[oid], label))
        origins = [
            (key, spellings[key][1], n)
            for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_SIZE]
        ]
        cert_counts = {cert: n for cert, bitmap in columns.cert.items() if (n := count(bitmap))}
        certs = sorted(cert_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_SIZE]
        return {
            "category_leaf": leaves,
            "origin": origins,
            "shop": shops,
            "ocop": {n: c for n in range(1, 6) if (c := count(stars.get(n, 0)))},
            "cert": certs,
            "price": [count(bitmap) for bitmap in columns.prices],
            "in_stock": count(columns.in_stock),
        }
