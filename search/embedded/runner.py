"""Running one query on the embedded index, inside a read transaction on its current generation.

Matching: every folded query word must appear in the folded columns (title, origin, category,
shop, description), the last word as a prefix; synonyms become OR groups at query time. The same
words in their exact (diacritic) form, in title/origin/category, add to the score, so "mật ong"
ranks "Mật ong" above "mát".

SQLite finds the matching ids (FTS5 for the words, indexes for category, origin, certification and
shop) and hands them over as one group_concat string; ranking, paging and facets are then done in
Python over the in-memory columns of columns.py."""

from __future__ import annotations

import heapq
import json
import re
import sqlite3
from collections import Counter
from dataclasses import replace
from itertools import compress, islice, repeat
from operator import mul

from .. import text as vi
from ..query import PRICE_BUCKETS, Hit, SearchQuery, SearchResult, encode_cursor, hit_from_document
from .columns import Columns, bitmap, byte_flags, pick
from .vocabulary import Vocabulary

KIND = "embedded"
# bm25 weights of the FTS columns (store.COLUMNS), in order.
WEIGHTS = (6.0, 3.0, 2.0, 1.0, 1.0, 0.3)
FOLDED_COLUMNS = "{t_fold o_fold s_fold d_fold}"
EXACT_COLUMNS = "{t_exact o_exact}"
PREFIX_COLUMNS = "{t_fold o_fold s_fold}"
FACET_SIZE = 20


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


def empty_facets() -> dict:
    return {
        "category_leaf": {},
        "origin": [],
        "shop": {},
        "ocop": {},
        "cert": [],
        "price": [0] * len(PRICE_BUCKETS),
        "in_stock": 0,
    }


_PICK = [
    bytes(int(byte == code) for byte in range(256)) for code in range(4)
]  # translate tables: 1 where byte == code
_NUMERIC = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")


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


# From this many ids on, the first k are read off the sort's order of every document (see
# Columns.order) rather than ranked: walking the order until k of them are seen costs about
# k x (documents / ids) steps at C speed, ranking the ids a Python-level step per id.
ORDER_FROM = 2000


def _first(
    ids: list[int],
    k: int,
    value,
    descending: bool,
    after,
    factor: int = 1,
    order: list[int] | None = None,
    size: int = 0,
) -> list[int]:
    """The first k of `ids` (ascending) ordered by (factor * value(id), id), both descending or
    both ascending, among those `after` keeps (it is given the product). heapq keeps the input
    order among equal keys, so reversed input breaks ties by id descending. Multiplying by 1, 2
    or 4 keeps order and ties, so `value` itself (a C getter) orders; by 3, rounding can make two
    values equal, so the products are computed (at C speed) and ordered. `order`: every document
    id ascending by (value, id) (Columns.order), `size` the id space, for many ids and no cursor."""
    if order is not None and after is None and factor in (1, 2, 4) and len(ids) >= ORDER_FROM:
        wanted = byte_flags(ids, size)
        walk = (reversed(order), reversed(order)) if descending else (iter(order), iter(order))
        return list(islice(compress(walk[0], map(wanted.__getitem__, walk[1])), k))
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


class QueryRunner:
    """One search inside an open read transaction on the current generation.

    SQLite says which documents match (FTS5 for the words, indexes for the set-like filters) as one
    group_concat of ids, which costs a fraction of fetching a row per match; the other filters, the
    page and every facet are then computed over the in-memory columns (see Columns). Relevance is
    bm25 (weighted columns) x boosts; above `bm25_limit` text matches (a query like "c" or "mat"),
    bm25 over every match costs more than it tells, so those are ranked by tiers instead: all words
    in the exact form, all words in the title, anywhere — x the same boosts. Scores are the same
    double arithmetic the SQL of earlier versions did, so order, ties and cursors are unchanged."""

    def __init__(
        self, conn: sqlite3.Connection, query: SearchQuery, columns: Columns, bm25_limit: int = 5000
    ):
        self.conn, self.q, self.columns, self.bm25_limit = conn, query, columns, bm25_limit
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
            ids = columns.ids  # every document of this state (never modified: filters make new lists)
        if q.ocop_min:
            stars = q.ocop_min
            ids = [i for i in ids if valid.get(i, 0) >= stars]
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
        marks: bytes | bytearray = byte_flags(exact, size, 2)  # 2: in exact; the title adds 1 below
        # The folded branch usually finds every exact match too: count that before building a union.
        if exact and bytes(pick(marks, matched)).count(2) < len(exact):
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
                int.from_bytes(marks, "little") + int.from_bytes(byte_flags(title, size), "little")
            ).to_bytes(size, "little")
        # Byte per matching id: in title + 2 * in exact, i.e. its tier - 1; each tier picked out in id order.
        codes = bytes(pick(marks, ids))
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
        q, after, columns = self.q, self._after(), self.columns
        size = len(columns.price)

        def order(sort: str) -> list[int] | None:  # computed only when it will be used
            return (
                columns.order(sort, self.params["today"])
                if after is None and len(ids) >= ORDER_FROM
                else None
            )

        if q.sort == "relevance":
            if scored is not None:
                if after is not None:
                    scored = [pair for pair in scored if after(*pair)]
                return heapq.nlargest(k, scored)  # (score, id) descending: ties by id descending
            if tiers is not None:
                out = []
                by_boost = order("relevance")
                for factor, members in tiers:
                    out += [
                        (factor * boost[i], i)
                        for i in _first(members, k, boost.__getitem__, True, after, factor, by_boost, size)
                    ]
                out.sort(reverse=True)  # each tier's first k hold the first k overall
                return out[:k]
            return [
                (boost[i], i)
                for i in _first(ids, k, boost.__getitem__, True, after, 1, order("relevance"), size)
            ]
        by_price = q.sort in ("price_asc", "price_desc")
        value = columns.price.__getitem__ if by_price else columns.published.__getitem__
        chosen = order("price" if by_price else "newest")
        return [(value(i), i) for i in _first(ids, k, value, q.sort != "price_asc", after, 1, chosen, size)]

    def run(self) -> SearchResult:
        q = self.q
        boost, stars, valid = self.columns.dated(self.params["today"])
        ids, scored, tiers = self._matches(boost, valid)
        skip = 0 if q.cursor is not None else q.offset
        rows = self._ranked(ids, scored, tiers, boost, skip + q.per_page + 1)[skip:]
        more = len(rows) > q.per_page
        rows = rows[: q.per_page]
        hits = hits_of(self.conn, q, [i for _, i in rows])
        next_cursor = encode_cursor(KIND, q.sort, [rows[-1][0], rows[-1][1]]) if more and rows else None
        if q.facets:
            facets, total = self._facets(ids, stars), len(ids)
        else:
            facets = {}
            total = len(ids) if q.count_total else q.offset + len(rows) + (1 if more else 0)
        return SearchResult(total=total, hits=hits, backend=KIND, facets=facets, next_cursor=next_cursor)

    def _facets(self, ids: list[int], stars: dict[int, int]) -> dict:
        """Counts over the matches: a bitmap of them intersected with each value's bitmap; shops
        (too many values for bitmaps) by a Counter over the shop column."""
        if not ids:
            return empty_facets()
        columns = self.columns
        hits = bitmap(ids, len(columns.price))

        def count(bitmap: int) -> int:
            return (hits & bitmap).bit_count()

        leaves = {cid: n for cid in sorted(columns.category) if (n := count(columns.category[cid]))}
        shops = dict(
            heapq.nsmallest(
                FACET_SIZE, Counter(pick(columns.shop, ids)).items(), key=lambda kv: (-kv[1], kv[0])
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


def hits_of(conn: sqlite3.Connection, query: SearchQuery, ids: list[int]) -> list[Hit]:
    """The hits of these ids, in this order, with their titles (and snippets) highlighted."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    cursor = conn.execute(f"SELECT * FROM docs WHERE id IN ({marks})", ids)
    names = [c[0] for c in cursor.description]
    docs = {row[0]: dict(zip(names, row, strict=True)) for row in cursor}
    terms, prefix = query.highlight_terms()
    return [hit_from_document(docs[doc_id], query, terms, prefix, fuzzy=False) for doc_id in ids]


def suggest(
    conn: sqlite3.Connection, query: SearchQuery, shops: int = 3, sample: int = 300
) -> tuple[list[Hit], list[int]]:
    """Products and shops for the box, cheaply: the newest `sample` listings whose title matches
    what was typed (last word as a prefix) are ranked here, by vi.suggestion_ranker (the words'
    marks, the title beginning with them) then by boost; listings matching elsewhere follow
    only when titles give too few. Shops whose name has every typed word as a prefix, most
    listings first among the newest `sample` of theirs."""
    expressions = fts_expressions(query)
    if expressions is None:
        return [], []
    words = vi.folded_tokens(query.text)
    shop_expression = "{s_fold} : (" + " AND ".join(_phrase([w]) + "*" for w in words) + ")"
    tier = vi.suggestion_ranker(query.text)

    def ranked(rows: list) -> list[int]:
        return [doc_id for doc_id, _boost, _title in sorted(rows, key=lambda r: (tier(r[2]), -r[1], -r[0]))]

    # The title and shop expressions name one column each: its own table answers faster.
    candidates = (
        "SELECT f.id, f.boost, d.title FROM {0} CROSS JOIN facts f ON f.id = {0}.rowid "
        "JOIN docs d ON d.id = f.id WHERE {0} MATCH ? ORDER BY {0}.rowid DESC LIMIT " + str(int(sample))
    )
    best = ranked(conn.execute(candidates.format("titles"), (expressions["title"],)).fetchall())
    if len(best) < query.per_page:  # not in titles: anywhere, after the titles
        anywhere = ranked(conn.execute(candidates.format("fts"), (expressions["match"],)).fetchall())
        taken = set(best)
        best += [doc_id for doc_id in anywhere if doc_id not in taken]
    hits = hits_of(conn, replace(query, highlight=True), best[: query.per_page])
    owners = [
        row[0]
        for row in conn.execute(
            "SELECT f.shop_id FROM shop_names CROSS JOIN facts f ON f.id = shop_names.rowid "
            f"WHERE shop_names MATCH ? ORDER BY shop_names.rowid DESC LIMIT {int(sample)}",
            (shop_expression,),
        )
    ]
    counts: dict[int, int] = {}
    for shop_id in owners:
        counts[shop_id] = counts.get(shop_id, 0) + 1
    return hits, [sid for sid, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:shops]]


# Folded words of titles, origins and categories, and shop names: what a correction may offer.
_CORRECTABLE = "col IN ('t_fold','o_fold','s_fold')"


def did_you_mean(conn: sqlite3.Connection, query: SearchQuery, vocabulary: Vocabulary) -> str | None:
    """Replace each folded word of four letters or more absent from the titles, origins, categories
    and shop names by the closest word there (within vi.max_edits, same first letter, most
    frequent first; see Vocabulary.closest). The last word counts as present when a word begins
    with it. A word the in-memory vocabulary does not know is looked up in SQLite before being
    corrected (it may have been added since the vocabulary was read)."""
    words = vi.folded_tokens(query.text)
    changed, out = False, []
    for index, word in enumerate(words):
        last = index == len(words) - 1
        if (
            vi.max_edits(word) == 0
            or word in vocabulary
            or (last and vocabulary.has_prefix(word))
            or _indexed(conn, word, prefix=last)
        ):
            out.append(word)
            continue
        best = vocabulary.closest(word)
        out.append(best or word)
        changed = changed or best is not None
    return " ".join(out) if changed else None


def _indexed(conn: sqlite3.Connection, word: str, prefix: bool) -> bool:
    """Whether the index holds the word (or, `prefix`, a word beginning with it) in a correctable
    column: one word's entry in fts5vocab, cheap for a word the index does not hold at all."""
    if conn.execute(f"SELECT 1 FROM vocab WHERE term = ? AND {_CORRECTABLE} LIMIT 1", (word,)).fetchone():
        return True
    return prefix and bool(
        conn.execute(
            f"SELECT 1 FROM vocab WHERE term >= ? AND term < ? AND {_CORRECTABLE} LIMIT 1",
            (word, word + "\U0010ffff"),
        ).fetchone()
    )
