"""The embedded backend: SQLite FTS5 in files of its own (next to SEARCH_EMBEDDED_PATH), no server.

The file at SEARCH_EMBEDDED_PATH holds a `meta` table naming the current *generation*; each
generation is a file of its own (`search-<g>.sqlite`: tables docs, fts, cats, certs, vocab). A
rebuild fills a new generation file (journaling off: nobody reads it yet) while searches keep
reading the current one, then swaps the pointer in one transaction (the embedded twin of the
engine's alias swap) and deletes the old file. Every search reads the pointer, then runs in one
read transaction on that generation.

Matching: every folded query word must appear in the folded columns (title, origin, category,
shop, description), the last word as a prefix; synonyms become OR groups at query time. The same
words in their exact (diacritic) form, in title/origin/category, add to the score, so "mật ong"
ranks "Mật ong" above "mát". Facets are counted by SQL over the match set."""
from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import sqlite3
import threading
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from . import text as vi
from .query import (BOOST_IN_STOCK, BOOST_OCOP_PER_STAR, BOOST_SALES, PRICE_BUCKETS, Hit, SearchQuery,
                    SearchResult, encode_cursor, valid_stars)

SCHEMA_VERSION = 4  # bump when the tables or the FTS columns change: a rebuild follows
KIND = "embedded"
# bm25 weights of the FTS columns, in order.
COLUMNS = ("t_exact", "t_fold", "o_exact", "o_fold", "s_fold", "d_fold")
WEIGHTS = (6.0, 3.0, 2.0, 1.0, 1.0, 0.3)
FOLDED_COLUMNS = "{t_fold o_fold s_fold d_fold}"
EXACT_COLUMNS = "{t_exact o_exact}"
PREFIX_COLUMNS = "{t_fold o_fold s_fold}"
FACET_SIZE = 20
CERT_BITS = 62  # certifications beyond the 62nd distinct one are counted by a join instead

DOC_COLUMNS = ("id", "title", "slug", "description", "price_vnd", "unit", "in_stock", "shop_id", "shop_slug",
               "shop_name", "category_id", "origin", "origin_key", "ocop_stars", "ocop_expires_on",
               "certifications", "sales_count", "sales_boost", "published_at", "image_key", "image_w", "image_h")


class EmbeddedUnavailable(RuntimeError):
    pass


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
    queries without bm25."""
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

    def current(self) -> str | None:
        return self._pointer()

    def ready(self) -> bool:
        """True when a current generation of this schema version exists and opens."""
        return self._open_current("BEGIN") is not None

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

    def create_generation(self) -> str:
        """A new, empty generation file, built with journaling off (no reader sees it before the swap)."""
        g = "g" + datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S") + secrets.token_hex(3)
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
            # The narrow table every search joins its matches with: filters, sorts, facets, boosts.
            c.execute("""CREATE TABLE facts (
                id INTEGER PRIMARY KEY, price INTEGER NOT NULL, published TEXT NOT NULL, shop_id INTEGER NOT NULL,
                category_id INTEGER NOT NULL, origin_key TEXT, origin_id INTEGER, in_stock INTEGER NOT NULL,
                stars INTEGER, expires TEXT, certbits INTEGER NOT NULL, boost REAL NOT NULL)""")
            # Small dictionaries so that facets group integers: spellings of origins, certifications as bits.
            c.execute("CREATE TABLE origins (id INTEGER PRIMARY KEY, key TEXT NOT NULL, label TEXT NOT NULL, "
                      "UNIQUE (key, label))")
            c.execute("CREATE TABLE cert_bits (id INTEGER PRIMARY KEY, cert TEXT NOT NULL UNIQUE)")
            c.execute("CREATE TABLE cats (category_id INTEGER NOT NULL, doc_id INTEGER NOT NULL, "
                      "PRIMARY KEY (category_id, doc_id)) WITHOUT ROWID")
            c.execute("CREATE TABLE certs (cert TEXT NOT NULL, doc_id INTEGER NOT NULL, "
                      "PRIMARY KEY (cert, doc_id)) WITHOUT ROWID")
            c.execute(f"CREATE VIRTUAL TABLE fts USING fts5({', '.join(COLUMNS)}, "
                      f"tokenize = 'unicode61 remove_diacritics 0', prefix = '1 2 3')")
            c.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(fts, 'col')")
        return g

    def finish_generation(self, g: str) -> None:
        """Secondary indexes after the bulk load (faster), merged FTS segments, statistics, WAL."""
        conn = self._gen(g)
        with _Transaction(conn, "BEGIN") as c:
            c.execute("CREATE INDEX facts_price ON facts (price, id)")
            c.execute("CREATE INDEX facts_published ON facts (published, id)")
            c.execute("CREATE INDEX facts_shop ON facts (shop_id)")
            c.execute("CREATE INDEX facts_origin ON facts (origin_key)")
            c.execute("CREATE INDEX cats_doc ON cats (doc_id, category_id)")
            c.execute("CREATE INDEX certs_doc ON certs (doc_id, cert)")
            c.execute("INSERT INTO fts (fts) VALUES ('optimize')")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        meta = self._meta()
        with _Transaction(meta, "BEGIN IMMEDIATE") as m:
            m.execute("DELETE FROM meta WHERE key = ?", (f"building:{g}",))
            m.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (f"version:{g}", str(SCHEMA_VERSION)))

    def swap(self, g: str) -> str | None:
        """Point searches at generation g in one transaction; returns the previous one."""
        with _Transaction(self._meta(), "BEGIN IMMEDIATE") as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'current'").fetchone()
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('current', ?)", (g,))
        return row[0] if row else None

    def generations(self) -> list[str]:
        rows = self._meta().execute("SELECT key FROM meta WHERE key LIKE 'version:%' OR key LIKE 'building:%'")
        return sorted({key.split(":", 1)[1] for (key,) in rows})

    def drop_generation(self, g: str) -> None:
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

    def apply(self, docs: list[dict], delete_ids: list[int], *, generation: str | None = None) -> None:
        """Upsert `docs` and delete `delete_ids` in one transaction (idempotent)."""
        if generation is not None:
            with _Transaction(self._gen(generation), "BEGIN") as conn:
                _apply(conn, docs, delete_ids)
            return
        opened = self._open_current("BEGIN IMMEDIATE")
        if opened is None:
            raise EmbeddedUnavailable("the embedded index has no current generation")
        with opened[1] as conn:
            _apply(conn, docs, delete_ids)

    # --- reads ------------------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        opened = self._open_current("BEGIN")
        if opened is None:
            return SearchResult(total=0, hits=[], backend=KIND, facets=_empty_facets() if query.facets else {})
        with opened[1] as conn:
            return _Search(conn, query, self.bm25_limit).run()

    def suggest(self, query: SearchQuery, shops: int = 3, sample: int = 300) -> tuple[list[Hit], list[int]]:
        """Products and shops for the box, cheaply: the newest `sample` listings whose title matches
        what was typed (last word as a prefix) are ranked here — words with their marks first, then
        the boosts; shops whose name has every typed word as a prefix, most listings first among
        the newest `sample` of theirs."""
        expressions = fts_expressions(query)
        opened = self._open_current("BEGIN") if expressions else None
        if opened is None:
            return [], []
        words = vi.folded_tokens(query.text)
        shop_expression = "{s_fold} : (" + " AND ".join(_phrase([w]) + "*" for w in words) + ")"
        exact_words = vi.exact_tokens(query.text)

        def exact_match(title: str) -> bool:
            have = vi.exact_tokens(title)
            return all(w in have for w in exact_words[:-1]) and any(h.startswith(exact_words[-1]) for h in have)

        with opened[1] as conn:
            candidates = "SELECT f.id, f.boost, d.title FROM fts CROSS JOIN facts f ON f.id = fts.rowid " \
                         "JOIN docs d ON d.id = f.id WHERE fts MATCH ? ORDER BY fts.rowid DESC LIMIT " + str(int(sample))
            rows = conn.execute(candidates, (expressions["title"],)).fetchall()
            if len(rows) < query.per_page:  # not in titles: anywhere
                rows += conn.execute(candidates, (expressions["match"],)).fetchall()
            best, seen = [], set()
            for doc_id, _boost, _title in sorted(rows, key=lambda r: (not exact_match(r[2]), -r[1], -r[0])):
                if doc_id not in seen:
                    seen.add(doc_id)
                    best.append(doc_id)
            hits = _Search(conn, replace(query, highlight=True))._hits(best[:query.per_page])
            owners = [row[0] for row in conn.execute(
                f"SELECT d.shop_id FROM fts JOIN docs d ON d.id = fts.rowid WHERE fts MATCH ? "
                f"ORDER BY fts.rowid DESC LIMIT {int(sample)}", (shop_expression,))]
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
                exists = conn.execute(f"SELECT 1 FROM vocab WHERE term = ? AND {folded_cols} LIMIT 1",
                                      (word,)).fetchone()
                if exists is None and index == len(words) - 1:
                    exists = conn.execute(f"SELECT 1 FROM vocab WHERE term >= ? AND term < ? AND {folded_cols} LIMIT 1",
                                          (word, word + "\U0010ffff")).fetchone()
                if exists is not None or vi.max_edits(word) == 0:
                    out.append(word)
                    continue
                limit = vi.max_edits(word) + 1
                best: tuple[int, int, str] | None = None
                rows = conn.execute(f"SELECT term, sum(doc) FROM vocab WHERE term >= ? AND term < ? AND {folded_cols} "
                                    f"GROUP BY term", (word[0], word[0] + "\U0010ffff"))
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
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        conn.execute(f"DELETE FROM fts WHERE rowid IN ({marks})", chunk)
        conn.execute(f"DELETE FROM cats WHERE doc_id IN ({marks})", chunk)
        conn.execute(f"DELETE FROM certs WHERE doc_id IN ({marks})", chunk)
        conn.execute(f"DELETE FROM docs WHERE id IN ({marks})", chunk)
        conn.execute(f"DELETE FROM facts WHERE id IN ({marks})", chunk)
    if not docs:
        return
    origins = {(d["origin_key"], d["origin"]) for d in docs if d["origin_key"]}
    conn.executemany("INSERT OR IGNORE INTO origins (key, label) VALUES (?, ?)", sorted(origins))
    certs = {c for d in docs for c in d["certifications"]}
    conn.executemany("INSERT OR IGNORE INTO cert_bits (cert) VALUES (?)", [(c,) for c in sorted(certs)])
    origin_ids = {(key, label): oid for oid, key, label in conn.execute("SELECT id, key, label FROM origins")} \
        if origins else {}
    bits = {cert: 1 << (cid - 1) for cid, cert in conn.execute("SELECT id, cert FROM cert_bits") if cid <= CERT_BITS} \
        if certs else {}
    conn.executemany(f"INSERT INTO docs ({', '.join(DOC_COLUMNS)}) VALUES ({', '.join('?' * len(DOC_COLUMNS))})",
                     [_doc_row(d) for d in docs])
    conn.executemany("INSERT INTO facts (id, price, published, shop_id, category_id, origin_key, origin_id, in_stock, "
                     "stars, expires, certbits, boost) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [_facts_row(d, origin_ids, bits) for d in docs])
    conn.executemany(f"INSERT INTO fts (rowid, {', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [_fts_row(d) for d in docs])
    conn.executemany("INSERT OR IGNORE INTO cats (category_id, doc_id) VALUES (?, ?)",
                     [(cid, d["id"]) for d in docs for cid in d["category_ids"]])
    conn.executemany("INSERT OR IGNORE INTO certs (cert, doc_id) VALUES (?, ?)",
                     [(cert, d["id"]) for d in docs for cert in d["certifications"]])


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


def _facts_row(d: dict, origin_ids: dict, bits: dict) -> tuple:
    # The static part of the boost; the OCOP part depends on today's date and is added per query.
    boost = 1 + (BOOST_IN_STOCK if d["in_stock"] else 0) + BOOST_SALES * math.log1p(d["sales_count"])
    certbits = 0
    for cert in d["certifications"]:
        certbits |= bits.get(cert, 0)
    return (d["id"], d["price_vnd"], d["published_at"], d["shop_id"], d["category_id"], d["origin_key"],
            origin_ids.get((d["origin_key"], d["origin"])), 1 if d["in_stock"] else 0, d["ocop_stars"],
            d["ocop_expires_on"], certbits, boost)


def _fts_row(d: dict) -> tuple:
    other = " ".join(x for x in (d.get("origin"), d.get("category_names")) if x)
    return (d["id"], vi.exact(d["title"]), vi.fold(d["title"]), vi.exact(other), vi.fold(other),
            vi.fold(d["shop_name"]), vi.fold(d["description"]))


def _empty_facets() -> dict:
    return {"category_leaf": {}, "origin": [], "shop": {}, "ocop": {}, "cert": [], "price": [0] * len(PRICE_BUCKETS),
            "in_stock": 0}


_SORTS = {
    # sort: (ORDER BY, key column, direction of "after")
    "relevance": ("score DESC, id DESC", "score", "<"),
    "price_asc": ("price ASC, id ASC", "price", ">"),
    "price_desc": ("price DESC, id DESC", "price", "<"),
    "newest": ("published DESC, id DESC", "published", "<"),
}


class _Search:
    """One search inside an open read transaction on the current generation.

    The filtered matches go once into a temporary table (id, sort keys, facet columns), then the
    page and every facet are read from it. Relevance is bm25 (weighted columns) x boosts; above
    `bm25_limit` text matches (a query like "c" or "mat"), bm25 over every match costs more than
    it tells, so those are ranked by tiers instead: all words in the exact form, all words in the
    title, anywhere — x the same boosts."""

    def __init__(self, conn: sqlite3.Connection, query: SearchQuery, bm25_limit: int = 5000):
        self.conn, self.q, self.bm25_limit = conn, query, bm25_limit
        self.params: dict = {"today": query.today.isoformat()}

    def _filters(self) -> str:
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

    def _base(self) -> str:
        """SELECT of the filtered matches with what sorting, paging and facets need."""
        stars = "(CASE WHEN f.expires > :today THEN coalesce(f.stars, 0) ELSE 0 END)"
        boost = f"(f.boost + {BOOST_OCOP_PER_STAR} * {stars})"
        columns = (f"f.price AS price, f.published AS published, f.shop_id AS shop_id, f.category_id AS category_id, "
                   f"f.origin_id AS origin_id, f.in_stock AS in_stock, {stars} AS stars, f.certbits AS certbits")
        relevance = self.q.sort == "relevance"
        expressions = fts_expressions(self.q)
        if expressions is None:
            return f"SELECT f.id AS id, {boost if relevance else '0'} AS score, {columns} FROM facts f WHERE {self._filters()}"
        self.params["match"] = expressions["match"]
        score = "0"
        if relevance:
            matches = self.conn.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (expressions["match"],)).fetchone()[0]
            if matches <= self.bm25_limit:
                weights = ", ".join(str(w) for w in WEIGHTS)
                score = f"-bm25(fts, {weights}) * {boost}"
            else:
                self.params["title"] = expressions["title"]
                tiers = "1 + (f.id IN (SELECT rowid FROM fts WHERE fts MATCH :title))"
                if "exact" in expressions:
                    self.params["exact"] = expressions["exact"]
                    tiers += " + 2 * (f.id IN (SELECT rowid FROM fts WHERE fts MATCH :exact))"
                score = f"({tiers}) * {boost}"
        return (f"SELECT f.id AS id, {score} AS score, {columns} "
                f"FROM fts CROSS JOIN facts f ON f.id = fts.rowid WHERE fts MATCH :match AND {self._filters()}")

    def run(self) -> SearchResult:
        q, conn = self.q, self.conn
        order, key, after = _SORTS[q.sort]
        base = self._base()
        if q.facets:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, score REAL, price INTEGER, "
                         "published TEXT, shop_id INTEGER, category_id INTEGER, origin_id INTEGER, in_stock INTEGER, "
                         "stars INTEGER, certbits INTEGER)")
            conn.execute("DELETE FROM temp.hits")
            conn.execute(f"INSERT INTO temp.hits {base}", self.params)
            source, params = "temp.hits", {}
        else:
            source, params = f"({base})", dict(self.params)
        page_where, limit_sql = "", f"LIMIT {q.per_page + 1} OFFSET {q.offset}"
        if q.cursor is not None:
            page_where = f"WHERE ({key} {after} :after_key OR ({key} = :after_key AND id {after} :after_id))"
            params.update(after_key=q.cursor[0], after_id=q.cursor[1])
            limit_sql = f"LIMIT {q.per_page + 1}"
        rows = conn.execute(f"SELECT id, {key} FROM {source} {page_where} ORDER BY {order} {limit_sql}", params).fetchall()
        more = len(rows) > q.per_page
        rows = rows[:q.per_page]
        hits = self._hits([r[0] for r in rows])
        next_cursor = encode_cursor(KIND, q.sort, [rows[-1][1], rows[-1][0]]) if more and rows else None
        if q.facets:
            facets, total = self._facets()
        else:
            facets = {}
            total = (conn.execute(f"SELECT count(*) FROM ({base})", self.params).fetchone()[0] if q.count_total
                     else q.offset + len(rows) + (1 if more else 0))
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
            out.append(Hit(
                id=d["id"], title=d["title"], slug=d["slug"], price_vnd=d["price_vnd"], unit=d["unit"],
                shop_id=d["shop_id"], shop_slug=d["shop_slug"], shop_name=d["shop_name"], origin=d["origin"],
                in_stock=bool(d["in_stock"]), ocop_stars=valid_stars(d["ocop_stars"], d["ocop_expires_on"], self.q.today),
                image_key=d["image_key"], image_w=d["image_w"], image_h=d["image_h"],
                title_html=vi.highlight(d["title"], terms, prefix) if self.q.highlight else vi.highlight(d["title"], set()),
                snippet_html=vi.snippet(d["description"], terms, prefix) if self.q.highlight and terms else None))
        return out

    def _facets(self) -> tuple[dict, int]:
        """Counts over temp.hits: one pass for totals, prices, stars and certification bits, then
        three GROUP BYs over integers (leaf category, shop, origin spelling)."""
        conn = self.conn
        bits = conn.execute(f"SELECT id, cert FROM cert_bits WHERE id <= {CERT_BITS} ORDER BY id").fetchall()
        sums = ["count(*)", "sum(in_stock)"]
        sums += [f"sum(price >= {lo}{f' AND price < {hi}' if hi is not None else ''})" for lo, hi in PRICE_BUCKETS]
        sums += [f"sum(stars = {n})" for n in range(1, 6)]
        sums += [f"sum((certbits >> {cid - 1}) & 1)" for cid, _ in bits]
        row = [v or 0 for v in conn.execute(f"SELECT {', '.join(sums)} FROM temp.hits").fetchone()]
        total, in_stock = row[0], row[1]
        prices = row[2:2 + len(PRICE_BUCKETS)]
        star_counts = row[2 + len(PRICE_BUCKETS):7 + len(PRICE_BUCKETS)]
        cert_counts = {cert: n for (_, cert), n in zip(bits, row[7 + len(PRICE_BUCKETS):]) if n}
        if conn.execute(f"SELECT 1 FROM cert_bits WHERE id > {CERT_BITS} LIMIT 1").fetchone():
            cert_counts.update(conn.execute(
                f"SELECT c.cert, count(*) FROM temp.hits h CROSS JOIN certs c ON c.doc_id = h.id "
                f"WHERE c.cert IN (SELECT cert FROM cert_bits WHERE id > {CERT_BITS}) GROUP BY c.cert"))
        leaves = dict(conn.execute("SELECT category_id, count(*) FROM temp.hits GROUP BY category_id"))
        shops = dict(conn.execute(
            f"SELECT shop_id, count(*) AS n FROM temp.hits GROUP BY shop_id ORDER BY n DESC, shop_id LIMIT {FACET_SIZE}"))
        # Each folded origin is labelled with its most frequent spelling (ties: the one with more marks).
        by_id = dict(conn.execute("SELECT origin_id, count(*) FROM temp.hits WHERE origin_id IS NOT NULL GROUP BY origin_id"))
        counts: dict[str, int] = {}
        spellings: dict[str, tuple[int, str]] = {}
        if by_id:
            marks = ",".join("?" * len(by_id))
            for oid, key, label in conn.execute(f"SELECT id, key, label FROM origins WHERE id IN ({marks})", list(by_id)):
                counts[key] = counts.get(key, 0) + by_id[oid]
                spellings[key] = max(spellings.get(key, (0, "")), (by_id[oid], label))
        origins = [(key, spellings[key][1], n)
                   for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_SIZE]]
        certs = sorted(cert_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_SIZE]
        return {"category_leaf": leaves, "origin": origins, "shop": shops,
                "ocop": {n: c for n, c in zip(range(1, 6), star_counts) if c}, "cert": certs,
                "price": prices, "in_stock": in_stock}, total
