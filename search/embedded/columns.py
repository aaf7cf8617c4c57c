"""The in-memory facet columns of the embedded index: what ranking, paging and facets need of
every document, kept per generation and change sequence, shared by the threads of a process.

SQLite finds the matching ids (runner.py); ranking, paging and facets are then done in Python over
these columns (sort keys, boosts, a bitmap per facet value), because counting facets row by row
in SQL costs about a microsecond per row and facet, and broad queries match tens of thousands of
rows. A search reads the change sequence in its own read transaction and uses (or patches) the
columns of exactly that state, so counts, pages and cursors stay exact."""

from __future__ import annotations

import bisect
import functools
import os
import sqlite3
import threading
from collections import deque
from itertools import compress, repeat
from operator import itemgetter, setitem
from typing import Any, TypeVar

from ..query import BOOST_OCOP_PER_STAR, PRICE_BUCKETS

K = TypeVar("K")

FACTS = (
    "SELECT id, price, published, shop_id, category_id, origin_id, in_stock, stars, expires, boost FROM facts"
)


def byte_flags(ids, size: int, value: int = 1) -> bytearray:
    """A byte per id below `size`: `value` for those in `ids`, else 0 (set at C speed)."""
    out = bytearray(size)
    deque(map(setitem, repeat(out), ids, repeat(value)), maxlen=0)
    return out


def pick(values, ids) -> tuple:
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


def bitmap(ids, size: int) -> int:
    """A set of ids (all below `size`) as the bits of one integer: intersecting two sets and
    counting the result then costs microseconds for the whole index instead of a step per matching
    row. Built without a Python step per id: a byte per id, then the bytes gathered into bits."""
    if not ids:
        return 0
    x = int.from_bytes(byte_flags(ids, size), "little")
    for shift, mask in _gathering(size):
        x = (x | (x >> shift)) & mask
    return x


class Columns:
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
        self.ids: list[int] = []  # every document id, ascending (browsing needs no SQL for them)
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
        # Every document id in the order of a sort (see order()), computed on first use; a patched
        # copy patches its base's orders (the ids that changed) rather than sorting again.
        self._orders: dict[tuple[str, str], list[int]] = {}
        self._patch_from: tuple[dict[tuple[str, str], list[int]], list[int]] | None = None

    @classmethod
    def load(cls, conn: sqlite3.Connection, seq: int) -> Columns:
        columns = cls(seq)
        columns._grow(conn.execute("SELECT coalesce(max(id), 0) FROM facts").fetchone()[0])
        written = columns._merge(conn.execute(FACTS), conn.execute("SELECT cert, doc_id FROM certs"), 0)
        columns.docs, columns.ids = len(written), sorted(written)
        return columns

    def patched(self, conn: sqlite3.Connection, seq: int, changed: list[int]) -> Columns:
        """A copy with the documents in `changed` read again (those no longer in facts are gone)."""
        new = Columns(seq)
        new.docs, new.shared = self.docs, self.shared
        new._patch_from = (self._orders, list(changed))  # the dict, not self: no chain of versions
        new.price, new.shop, new.boost, new.published = (
            self.price[:],
            self.shop[:],
            self.boost[:],
            self.published[:],
        )
        new.stock = bytearray(self.stock)
        new.starred = dict(self.starred)
        for i in changed:
            new.starred.pop(i, None)
        new.in_stock, new.prices = self.in_stock, list(self.prices)
        new.category, new.origin, new.cert = dict(self.category), dict(self.origin), dict(self.cert)
        rows, certs = [], []
        for start in range(0, len(changed), 500):
            chunk = changed[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows += conn.execute(f"{FACTS} WHERE id IN ({marks})", chunk).fetchall()
            certs += conn.execute(
                f"SELECT cert, doc_id FROM certs WHERE doc_id IN ({marks})",
                chunk,
            ).fetchall()
        if changed:
            new._grow(max(changed))
        written = new._merge(rows, certs, bitmap(changed, len(new.price)))
        keep = byte_flags(changed, len(new.price)).translate(_INVERT)
        new.ids = list(compress(self.ids, map(keep.__getitem__, self.ids)))
        for i in written:
            bisect.insort(new.ids, i)
        return new

    def _grow(self, top: int) -> None:
        more = top + 1 - len(self.price)
        if more > 0:
            lists: tuple[list[Any], ...] = (self.price, self.shop, self.boost, self.published)
            for column in lists:
                column.extend([None] * more)  # no document has these ids (yet)
            self.stock.extend(bytes(more))

    def _merge(self, rows, cert_rows, replaced: int) -> list[int]:
        """Write facts rows into the lists and their ids into the bitmaps, after clearing the
        `replaced` ids from every bitmap. Returns the ids of the rows."""
        price, shop, boost, published, starred, stock_flags = (
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
        written: list[int] = []
        for i, p, pub, s, cid, oid, in_stock, stars, expires, b in rows:
            written.append(i)
            price[i], shop[i], boost[i], published[i] = shared(p, p), shared(s, s), b, pub
            if stars and expires is not None:
                starred[i] = (stars, expires)
            stock_flags[i] = in_stock == 1
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
        self.in_stock = (self.in_stock & keep) | bitmap(stock, size)
        self.prices = [
            (old & keep) | bitmap(ids, size) for old, ids in zip(self.prices, buckets, strict=True)
        ]
        _merge_bitmaps(self.category, category, replaced, size)
        _merge_bitmaps(self.origin, origin, replaced, size)
        _merge_bitmaps(self.cert, cert, replaced, size)
        return written

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
            got = (boost, {n: bitmap(ids, len(self.price)) for n, ids in stars.items()}, valid)
            if len(self._dated) >= 4:
                self._dated.clear()
            self._dated[today] = got
        return got

    def order(self, sort: str, today: str) -> list[int]:
        """The ids of every document ascending by (value, id): by the day's whole boost for
        "relevance", by price for "price", by publication for "newest". Read backwards it is
        (value, id) descending. A search wanting the first k of many matches in that order walks
        it, keeping the ids it matched (at C speed), instead of ranking every match."""
        key = (sort, today if sort == "relevance" else "")
        got = self._orders.get(key)
        if got is not None:
            return got
        value: list[Any] = (
            self.dated(today)[0] if sort == "relevance" else self.price if sort == "price" else self.published
        )
        orders, changed = self._patch_from or ({}, [])
        base = orders.get(key)
        if base is not None and len(changed) <= 1000:
            keep = byte_flags(changed, len(self.price)).translate(_INVERT)
            got = list(compress(base, map(keep.__getitem__, base)))
            for i in changed:
                if self.price[i] is not None:  # ids never written have no values (deleted ones keep
                    # theirs, as in every column: the ids a search matched decide what is walked)
                    bisect.insort(got, i, key=lambda j: (value[j], j))
        else:
            present = (i for i, p in enumerate(self.price) if p is not None)
            got = sorted(present, key=value.__getitem__)
        if len(self._orders) >= 8:
            self._orders.clear()
        self._orders[key] = got
        return got


_INVERT = bytes.maketrans(b"\x00\x01", b"\x01\x00")


def _merge_bitmaps(family: dict[K, int], new: dict[K, list[int]], replaced: int, size: int) -> None:
    """Clear the `replaced` ids from each value's bitmap (dropping values left empty), then add
    the `new` ids of each value."""
    if replaced:
        keep = ~replaced
        for value in list(family):
            family[value] &= keep
            if not family[value]:
                del family[value]
    for value, ids in new.items():
        family[value] = family.get(value, 0) | bitmap(ids, size)


class ColumnCache:
    """The columns of the generations searched lately, shared by the threads of a process:
    {generation: [Columns of recent change sequences, oldest first]}."""

    def __init__(self) -> None:
        self._columns: dict[str, list[Columns]] = {}
        self._columns_lock = threading.Lock()
        self._columns_pid = os.getpid()

    def clear(self) -> None:
        with self._columns_lock:
            self._columns = {}

    def of(self, conn: sqlite3.Connection, g: str) -> Columns:
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
            columns = Columns.load(conn, seq)
        with self._columns_lock:
            versions = sorted(
                [v for v in self._columns.get(g, []) if v.seq != seq] + [columns], key=lambda v: v.seq
            )
            # Only the generation searched now (and the one before, while a swap settles) is kept.
            others = [(k, v) for k, v in self._columns.items() if k != g][-1:]
            self._columns = dict([*others, (g, versions[-3:])])
        return columns
