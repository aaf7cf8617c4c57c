"""The one search interface: pick a backend and report its health, search, suggest, and present
facets. Keeping the indexes true is search/indexer.py; synonyms are search/synonyms.py.

get_backend() answers the engine when one is configured and healthy, else the embedded index
(indico's fallback-provider habit). The health verdict is cached briefly in this app's extension
state (a timestamp, nothing that other processes must agree with). The embedded index is ALWAYS
maintained by the workers (all on the machine holding its files: each outbox event is claimed by
one worker), so the fallback is complete whenever the engine is down."""

from __future__ import annotations

import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from flask import Flask, current_app, url_for
from sqlalchemy import select

from catalog.certifications import certification_label
from catalog.models import Category, localized_name
from marketplace.config import env_bool, env_float, env_int, env_optional, env_str, set_defaults
from marketplace.errors import DomainError
from marketplace.extensions import db
from sellers.models import Shop, ShopStatus

from . import text as vi
from . import vocabulary
from .backend import BackendError, BackendUnavailable, SearchBackend, Status
from .embedded import EmbeddedBackend
from .engine import EngineBackend, make_transport
from .query import PRICE_BUCKETS, SearchQuery, SearchResult, check_window, decode_cursor
from .synonyms import synonym_groups
from .understand import merge_groups

log = logging.getLogger(__name__)
T = TypeVar("T")
STALE_CHECK_SECONDS = 60.0


# --- configuration and per-app state ---------------------------------------------------------------


def configure(app: Flask) -> None:
    # The clients log every request at INFO and every failure at WARNING; this module logs what matters.
    for name in ("opensearch", "elastic_transport.transport"):
        logging.getLogger(name).setLevel(logging.ERROR)
    set_defaults(
        app,
        {
            "SEARCH_INDEX_PREFIX": env_str("SEARCH_INDEX_PREFIX", "marketplace-"),
            "SEARCH_ENGINE_TIMEOUT": env_float("SEARCH_ENGINE_TIMEOUT", 2.0, minimum=0.01),
            "SEARCH_ENGINE_BULK_TIMEOUT": env_float("SEARCH_ENGINE_BULK_TIMEOUT", 60.0, minimum=0.01),
            "SEARCH_ENGINE_SHARDS": env_int("SEARCH_ENGINE_SHARDS", 1, minimum=1),
            "SEARCH_ENGINE_REPLICAS": env_int("SEARCH_ENGINE_REPLICAS", 0, minimum=0),
            "SEARCH_ENGINE_CA_CERTS": env_optional("SEARCH_ENGINE_CA_CERTS"),
            "SEARCH_HEALTH_TTL": env_float("SEARCH_HEALTH_TTL", 5.0, minimum=0),
            "SEARCH_RETRY_SECONDS": env_float("SEARCH_RETRY_SECONDS", 5.0, minimum=0),
            "SEARCH_REFRESH_ON_WRITE": True,
            "SEARCH_ENGINE_REQUEST_CACHE": env_bool("SEARCH_ENGINE_REQUEST_CACHE", True),
            "SEARCH_EMBEDDED_BM25_LIMIT": env_int("SEARCH_EMBEDDED_BM25_LIMIT", 5000, minimum=1),
        },
    )
    # After the others: the default path depends on the database URI.
    app.config.setdefault(
        "SEARCH_EMBEDDED_PATH", env_optional("SEARCH_EMBEDDED_PATH") or _default_embedded_path(app)
    )


def _default_embedded_path(app: Flask) -> str:
    """Next to the SQLite database (instance/search.sqlite for `make run`, the test's temporary
    folder in tests); a temporary folder for tests on PostgreSQL; else instance/."""
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or ""
    if uri.startswith("sqlite:///") and ":memory:" not in uri:
        return str(Path(uri[len("sqlite:///") :]).parent / "search.sqlite")
    if app.config.get("TESTING"):  # the folder is made on first use only
        return str(Path(tempfile.gettempdir()) / f"search-{uuid.uuid4().hex[:12]}" / "search.sqlite")
    return str(Path(app.instance_path) / "search.sqlite")


class SearchState:
    """Backends of one app, and the engine's health verdict with the time it was taken."""

    def __init__(self, app: Flask):
        cfg = app.config
        self.embedded = EmbeddedBackend(
            cfg["SEARCH_EMBEDDED_PATH"], bm25_limit=int(cfg["SEARCH_EMBEDDED_BM25_LIMIT"])
        )
        transport = make_transport(cfg)
        self.engine = (
            EngineBackend(
                transport,
                cfg["SEARCH_INDEX_PREFIX"],
                bulk_timeout=float(cfg["SEARCH_ENGINE_BULK_TIMEOUT"]),
                shards=int(cfg["SEARCH_ENGINE_SHARDS"]),
                replicas=int(cfg["SEARCH_ENGINE_REPLICAS"]),
                refresh_on_write=bool(cfg["SEARCH_REFRESH_ON_WRITE"]),
                request_cache=bool(cfg["SEARCH_ENGINE_REQUEST_CACHE"]),
            )
            if transport
            else None
        )
        self.ttl = float(cfg["SEARCH_HEALTH_TTL"])
        self._verdict: tuple[Status, float] | None = None
        self._stale_checked: float | None = None  # when a search last looked for stale indexes
        self._lock = threading.Lock()

    def backends(self) -> list[SearchBackend]:
        """Every backend the indexer keeps true: the embedded index first, then the engine."""
        return [self.embedded] if self.engine is None else [self.embedded, self.engine]

    def status_of(self, backend: SearchBackend, *, fresh: bool = False) -> Status:
        """The engine's verdict is cached for SEARCH_HEALTH_TTL (a probe is two requests); the
        embedded index is asked every time (a read of its meta file)."""
        if backend is not self.engine:
            return backend.status()
        with self._lock:
            verdict = self._verdict
        if not fresh and verdict is not None and time.monotonic() - verdict[1] < self.ttl:
            return verdict[0]
        status = backend.status()
        self.record_status(backend, status)
        return status

    def engine_status(self, *, fresh: bool = False) -> Status | None:
        """None without an engine; else "ok", "unreachable", "index_missing" or "outdated"."""
        return None if self.engine is None else self.status_of(self.engine, fresh=fresh)

    def record_status(self, backend: SearchBackend, status: Status) -> None:
        """What a search or a write just learnt about the engine (the embedded one is not cached)."""
        if backend is self.engine:
            with self._lock:
                self._verdict = (status, time.monotonic())

    def stale_check_due(self) -> bool:
        """True at the first search of this process, then once per STALE_CHECK_SECONDS."""
        with self._lock:
            now = time.monotonic()
            if self._stale_checked is not None and now - self._stale_checked < STALE_CHECK_SECONDS:
                return False
            self._stale_checked = now
            return True


def reset_state(app: Flask) -> SearchState:
    old = app.extensions.get("search")
    if old is not None:
        old.embedded.close()
        if old.engine is not None:
            old.engine.close()
    app.extensions["search"] = SearchState(app)
    return app.extensions["search"]


def state() -> SearchState:
    return current_app.extensions["search"]


# --- which backend answers -------------------------------------------------------------------------


def get_backend() -> SearchBackend:
    """The engine when configured and healthy, else the embedded index."""
    s = state()
    engine = s.engine
    return engine if engine is not None and s.status_of(engine) == "ok" else s.embedded


def health() -> dict:
    """For /healthz: which backend answers searches right now, and why."""
    s = state()
    try:
        embedded = {"status": "ok" if s.embedded.status() == "ok" else "empty", "path": s.embedded.path}
    except Exception as exc:  # noqa: BLE001 - a probe reports, it does not crash
        embedded = {"status": "error", "error": type(exc).__name__}
    if s.engine is None:
        return {"backend": "embedded", "status": embedded["status"], "embedded": embedded}
    engine_status = s.engine_status(fresh=True)
    ok = engine_status == "ok"
    return {
        "backend": s.engine.kind if ok else "embedded",
        "status": "ok" if ok else "fallback",
        "engine": {"kind": s.engine.kind, "status": engine_status, "alias": s.engine.alias},
        "embedded": embedded,
    }


def request_stale_rebuilds() -> None:
    """On the first search of a process, then once a minute: ask the worker to rebuild an index
    that is missing or was built by an older MAPPING_VERSION / SCHEMA_VERSION. A write rebuilds
    it too (search/indexer.py), but after a deploy that changed what documents hold, a site may
    see no write for a while; meanwhile no search reads the outdated index (searches fall back to
    the embedded index, and an embedded index without a current generation answers nothing)."""
    s = state()
    if not s.stale_check_due():
        return
    from .indexer import request_rebuild

    for backend in s.backends():
        try:
            status = s.status_of(backend)
            if status in ("index_missing", "outdated"):
                request_rebuild(backend, status)
        except Exception:  # the search goes on; the next check asks again
            log.exception("could not ask for a rebuild of the %s index", backend.kind)


# --- searching -----------------------------------------------------------------------------------------


def resolve_filters(query: SearchQuery, slugs: dict[str, str]) -> SearchQuery:
    """Turn category/shop slugs into ids; an unknown slug is a 400 with a clear message."""
    from flask_babel import gettext as _

    errors: dict[str, list[str]] = {}
    if slugs.get("category"):
        category = db.session.scalar(select(Category).where(Category.slug == slugs["category"]))
        if category is None:
            errors["category"] = [_("Không có danh mục «%(slug)s».", slug=slugs["category"])]
        else:
            query.category_id = category.id
    if slugs.get("shop"):
        shop = db.session.scalar(select(Shop).where(Shop.slug == slugs["shop"]))
        if shop is None:
            errors["shop"] = [_("Không có cửa hàng «%(slug)s».", slug=slugs["shop"])]
        else:
            query.shop_id = shop.id
    if errors:
        raise DomainError(next(iter(errors.values()))[0], field_errors=errors)
    return query


def run_search(query: SearchQuery, cursor: str = "", *, nearest: bool = True) -> SearchResult:
    """Search the current backend; on an engine failure answer from the embedded index.
    Zero hits for some words: a "did you mean" and the nearest listings (any word)."""
    s = state()
    request_stale_rebuilds()
    # Synonyms only ever rewrite words: browsing a category or a shop needs no query for them.
    query.synonyms = vi.folded_synonym_groups(synonym_groups()) if query.folded else []
    understood = _understood(query) if query.understand else None
    typed, query = query, understood[0] if understood else query
    backend = get_backend()
    fallback = s.engine is not None and backend is s.embedded

    def attempt(fn: Callable[[SearchBackend, SearchQuery], T], q: SearchQuery) -> T:
        nonlocal backend, fallback
        if backend is not s.embedded:
            try:
                return fn(backend, q)
            except BackendUnavailable as exc:
                log.warning("search engine unavailable, answering from the embedded index: %s", exc)
                s.record_status(backend, "unreachable")
            except BackendError as exc:
                log.error("search engine error, answering from the embedded index: %s", exc)
                if not exc.refused_request:  # a query it refused says nothing of its health
                    s.record_status(backend, "unreachable")
            backend, fallback = s.embedded, True
            q = replace(q, cursor=None)  # the engine's cursor means nothing to the embedded index
            check_window(q)
        return fn(backend, q)

    if cursor:
        query.cursor = decode_cursor(cursor, backend.kind, query.sort)
    check_window(query)
    result = attempt(lambda b, q: b.search(q), query)
    result.fallback = fallback
    result.understood = understood[1] if understood else None
    typed.cursor = query.cursor
    if nearest and result.total == 0 and query.folded and query.page == 1 and query.cursor is None:
        result.did_you_mean = attempt(lambda b, q: b.did_you_mean(q), query)
        relaxed = replace(
            query,
            text=result.did_you_mean or query.text,
            match_any=True,
            facets=False,
            per_page=4,
            page=1,
            cursor=None,
            category_id=None,
            origin=None,
            shop_id=None,
            ocop_min=None,
            cert=None,
            price_min=None,
            price_max=None,
            in_stock=False,
        )
        result.nearest = attempt(lambda b, q: b.search(q), relaxed).hits
        result.fallback = fallback
    return result


def _understood(query: SearchQuery) -> tuple[SearchQuery, str] | None:
    """The query as understood (search/understand.py): the understood text, the typed words kept
    as alternatives beside the synonyms; None when every word is known."""
    if not query.folded:
        return None
    known = frozenset(word for group in query.synonyms for term in group for word in term)
    understood = vocabulary.current().understand(query.text, known=known)
    if understood is None:
        return None
    groups = merge_groups(query.synonyms, [list(group) for group in understood.groups])
    return replace(query, text=understood.text, synonyms=groups), understood.text


def suggest(text: str, limit: int = 5) -> dict:
    """Products, categories and shops for the search box as the user types."""
    text = (text or "").strip()[:100]
    words = vi.folded_tokens(text)
    if not words:
        return {"query": text, "products": [], "categories": [], "shops": []}
    categories = [
        {
            "slug": c.slug,
            "name": localized_name(c.name, c.name_en),
            "url": url_for("catalog.show_category", slug=c.slug),
        }
        for c in _matching_categories(words)[:3]
    ]
    if len("".join(words)) < 2:  # one letter says too little about products (the box asks from two)
        return {"query": text, "products": [], "categories": categories, "shops": []}
    s = state()
    request_stale_rebuilds()
    query = SearchQuery(
        text=text,
        per_page=limit,
        facets=False,
        count_total=False,
        sort="relevance",
        synonyms=vi.folded_synonym_groups(synonym_groups()),
    )
    understood = _understood(query)
    query = understood[0] if understood else query
    backend = get_backend()
    try:
        hits, shop_ids = backend.suggest(query)
    except (BackendUnavailable, BackendError) as exc:
        log.warning("search engine unavailable for suggestions: %s", exc)
        if not (isinstance(exc, BackendError) and exc.refused_request):
            s.record_status(backend, "unreachable")
        hits, shop_ids = s.embedded.suggest(query)
    shops = (
        {
            shop.id: shop
            for shop in db.session.scalars(
                select(Shop).where(Shop.id.in_(shop_ids), Shop.status == ShopStatus.APPROVED.value)
            )
        }
        if shop_ids
        else {}
    )
    return {
        "query": text,
        "understood": understood[1] if understood else None,
        "products": [
            {
                "id": h.id,
                "title": h.title,
                "html": str(h.title_html),
                "price_vnd": h.price_vnd,
                "unit": h.unit,
                "url": url_for("catalog.show_listing", slug=h.slug),
            }
            for h in hits
        ],
        "categories": categories,
        "shops": [
            {
                "slug": shops[i].slug,
                "name": shops[i].name,
                "url": url_for("catalog.show_shop", slug=shops[i].slug),
            }
            for i in shop_ids
            if i in shops
        ],
    }


def _matching_categories(words: list[str]) -> list:
    """Categories are few (a province's tree): fold their names here, every word a prefix.
    Rows with slug and name, not ORM objects (this runs on every keystroke)."""
    out = []
    for category in db.session.execute(
        select(Category.slug, Category.name, Category.name_en).order_by(Category.position, Category.name)
    ):
        name_words = vi.folded_tokens(category.name) + vi.folded_tokens(category.name_en or "")
        if all(any(w.startswith(word) for w in name_words) for word in words):
            out.append(category)
    return out


def describe_facets(result: SearchResult, query: SearchQuery) -> dict:
    """Raw facet counts with slugs and names, in the shape of the API."""
    raw = result.facets
    if not raw:
        return {}
    # Plain rows, not ORM objects: this runs on every search and the objects' loaders cost more
    # than the query.
    categories = {
        c.id: c
        for c in db.session.execute(
            select(
                Category.id,
                Category.parent_id,
                Category.slug,
                Category.name,
                Category.name_en,
                Category.position,
            )
        )
    }
    rolled = raw.get("category")
    if rolled is None:  # leaf counts (embedded): a parent counts its children's listings too
        rolled = {}
        for cid, count in raw["category_leaf"].items():
            node, seen = categories.get(cid), set()
            while node is not None and node.id not in seen:
                seen.add(node.id)
                rolled[node.id] = rolled.get(node.id, 0) + count
                node = categories.get(node.parent_id) if node.parent_id else None
    category_items = []
    for cid, count in rolled.items():
        category = categories.get(cid)
        if category is None:
            continue
        parent = categories.get(category.parent_id) if category.parent_id else None
        category_items.append(
            {
                "value": category.slug,
                "label": localized_name(category.name, category.name_en),
                "count": count,
                "parent": parent.slug if parent else None,
                "selected": query.category_id == cid,
                "_order": (category.position, category.name),
            }
        )
    category_items.sort(key=lambda item: item.pop("_order"))
    shop_rows = (
        {
            shop.id: shop
            for shop in db.session.execute(
                select(Shop.id, Shop.slug, Shop.name).where(Shop.id.in_(list(raw["shop"])))
            )
        }
        if raw["shop"]
        else {}
    )
    shops = [
        {
            "value": shop_rows[sid].slug,
            "label": shop_rows[sid].name,
            "count": count,
            "selected": query.shop_id == sid,
        }
        for sid, count in sorted(raw["shop"].items(), key=lambda kv: (-kv[1], kv[0]))
        if sid in shop_rows
    ]
    ocop, running = [], 0
    for stars in range(5, 0, -1):
        running += raw["ocop"].get(stars, 0)
        if running:
            ocop.append({"value": stars, "count": running, "selected": query.ocop_min == stars})
    ocop.reverse()
    prices = []
    for (lo, hi), count in zip(PRICE_BUCKETS, raw["price"], strict=True):
        top = hi - 1 if hi is not None else None
        prices.append(
            {
                "value": f"{lo}-{top if top is not None else ''}",
                "min": lo,
                "max": top,
                "count": count,
                "selected": query.price_min == lo and query.price_max == top,
            }
        )
    return {
        "category": category_items,
        "origin": [
            {"value": label, "label": label, "count": count, "selected": query.origin_key == key}
            for key, label, count in raw["origin"]
        ],
        "shop": shops,
        "ocop": ocop,
        "cert": [
            {
                "value": cert,
                "label": certification_label(cert),
                "count": count,
                "selected": query.cert == cert,
            }
            for cert, count in raw["cert"]
        ],
        "price": prices,
        "in_stock": {"count": raw["in_stock"], "selected": query.in_stock},
    }
