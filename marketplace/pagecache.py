"""The anonymous page cache, kept true by the outbox, and the HTTP caching around it.

What is cached. The public pages a package names with `cache_endpoint()` (home, category,
listing, shop, trace page, search results, sitemap, the public API), for GET/HEAD requests of an
*anonymous* visitor: no signed-in user (session or remember cookie), no cart, no flash, nothing
in the session but the language and a CSRF token (an allow-list, SAFE_SESSION_KEYS). Everybody
else gets the page rendered for them, `Cache-Control: private, no-store`, and nothing of theirs is
stored. A response is stored only when it is a 200, sets no cookie and left the session untouched.
The key is the locale, the floor's local date (OCOP badges expire by date) and the full path with
its query string.

Forms on cached pages (the language switch on every page, add to cart and buy now on a listing)
carry no CSRF token for anonymous visitors: a token is per person and would be served to the
next visitor. Those POST endpoints (`tokenless_post()`) still refuse cross-site requests: a POST
without a token is accepted only from a visitor with no account in the session (nothing to ride
on) and only when the browser says it comes from this site (`Origin`, or `Referer` when a browser
sends no Origin, must be this host). Anyone with a user or cart in the session renders the page
fresh, tokens and all, and the usual token check applies. Every other POST endpoint is untouched.

Staying true. Every stored page lists the *scopes* it shows, each with the version it was
rendered at: the rows of the tracked tables it loaded (`listings:12`, `shops:3`, `categories:5`,
through SQLAlchemy's load event, so a listing that leaves a category page is noticed through its
own row) plus what the package's resolver adds for its endpoint (`category-listings:5`: "which
listings this category shows", `catalog`: "any listing anywhere", for home, search, sitemap, API
lists). The packages' outbox handlers (`on_topic()`, chained behind search and syndication) bump
the scopes a change touches, in the table `page_cache_scopes`. A web process reads the bumps at
most every PAGE_CACHE_REFRESH_S (1 s) and serves an entry only while all its versions are current.
An entry rendered while one of its scopes was being bumped (changed within PAGE_CACHE_SKEW_S of
the render's start) is not stored. PAGE_CACHE_TTL_S bounds what changes without an event.

Stores (PAGE_CACHE_URL): `memory://?max_mb=64` (per process, LRU bounded by size; the default),
`file:///path/to/dir?max_files=20000` (shared by the processes of one machine), `redis://host:6379/0`
(shared by several machines; keys PAGE_CACHE_PREFIX + sha256, values with a TTL), `none` (off;
the default under TESTING unless set).

HTTP. Cached pages carry a weak `ETag` and `Last-Modified` and answer conditional GETs with 304;
`Cache-Control: public, no-cache` (browsers and proxies may keep them but must revalidate: the
same URL shows a different header once the visitor signs in or fills a cart, and a change must
show at once) with `Vary: Accept-Encoding, Cookie`. Bodies of 1 KB or more are stored identity,
gzip and Brotli, compressed once; other text responses are compressed per request, except those
carrying a secret (a CSRF token, anything for a signed-in person: BREACH). Static files
are fingerprinted (`?v=<content hash>` added by `url_for('static', ...)`) and served
`public, max-age=31536000, immutable` when the hash matches.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

import brotli  # type: ignore[import-untyped]
from flask import Flask, Response, current_app, g, has_request_context, request, session
from sqlalchemy import DateTime, Integer, String, event, select, update
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import Headers

from . import outbox
from .config import env_float, env_int, env_str, set_defaults
from .extensions import Base, Model, db
from .timeutil import local_today, utcnow

log = logging.getLogger(__name__)

SAFE_SESSION_KEYS = frozenset({"lang", "csrf_token", "_permanent", "_fresh", "_id"})
COMPRESS_MIN_BYTES = 1024
COMPRESSIBLE = ("text/", "application/json", "application/xml", "application/javascript", "image/svg+xml")
PUBLIC_CACHE_CONTROL = "public, no-cache"
PRIVATE_CACHE_CONTROL = "private, no-store"
STATIC_CACHE_CONTROL = "public, max-age=31536000, immutable"
VARY = "Accept-Encoding, Cookie"
# Headers the cache writes itself (or must never replay): not stored with a page.
OWN_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "content-encoding",
        "set-cookie",
        "vary",
        "cache-control",
        "etag",
        "last-modified",
        "x-page-cache",
    }
)

Resolver = Callable[[Mapping[str, Any]], Iterable[str]]
Handler = Callable[[dict[str, Any], Any], None]


class PageCacheScope(Model):
    """One thing pages show (`listings:12`, `category-listings:5`, `catalog`) and how many times
    it changed. Absent means version 0."""

    __tablename__ = "page_cache_scopes"

    scope: Mapped[str] = mapped_column(String(120), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    changed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)


# --- registration (packages call these from their init_app) -------------------------------------


def cache_endpoint(app: Flask, endpoint: str, scopes: Resolver | Iterable[str] = ()) -> None:
    """Cache `endpoint` for anonymous visitors. `scopes`: fixed scope names, or a function of the
    view arguments returning them (called after the view, in the request)."""
    if callable(scopes):
        resolver: Resolver = scopes
    else:
        fixed = tuple(scopes)

        def resolver(_args: Mapping[str, Any]) -> Iterable[str]:
            return fixed

    app.extensions.setdefault("page_cache_endpoints", {})[endpoint] = resolver


def track_table(app: Flask, *tables: str) -> None:
    """Rows of these tables loaded while rendering a cached page become its scopes (`table:id`)."""
    app.extensions.setdefault("page_cache_tables", set()).update(tables)


def tokenless_post(app: Flask, *endpoints: str) -> None:
    """POST endpoints that forms on cached pages post to without a CSRF token (see above)."""
    app.extensions.setdefault("page_cache_tokenless", set()).update(endpoints)


def on_topic(app: Flask, topic: str, handler: Handler) -> None:
    """Run `handler` for `topic` after the handlers registered by then and by later packages:
    `init_app()` (the end of create_app) chains it behind them."""
    app.extensions.setdefault("page_cache_topics", []).append((topic, handler))


def bump(*scopes: str) -> None:
    """Mark scopes changed, in the current transaction (an outbox handler's)."""
    names = sorted({s[:120] for s in scopes if s})
    if not names:
        return
    now = utcnow()
    existing = set(db.session.scalars(select(PageCacheScope.scope).where(PageCacheScope.scope.in_(names))))
    if existing:
        db.session.execute(
            update(PageCacheScope)
            .where(PageCacheScope.scope.in_(existing))
            .values(version=PageCacheScope.version + 1, changed_at=now)
            .execution_options(synchronize_session=False)
        )
    missing = [s for s in names if s not in existing]
    if missing:
        dialect = db.engine.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt = pg_insert(PageCacheScope).values(
                [{"scope": s, "version": 1, "changed_at": now} for s in missing]
            )
            db.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["scope"],
                    set_={"version": PageCacheScope.version + 1, "changed_at": now},
                )
            )
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt2 = sqlite_insert(PageCacheScope).values(
                [{"scope": s, "version": 1, "changed_at": now} for s in missing]
            )
            db.session.execute(
                stmt2.on_conflict_do_update(
                    index_elements=["scope"],
                    set_={"version": PageCacheScope.version + 1, "changed_at": now},
                )
            )


# --- stores -----------------------------------------------------------------------------------


class Store(Protocol):
    """What a page store does. Values are opaque bytes; a store may forget anything any time."""

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl: int) -> None: ...

    def clear(self) -> None: ...


class MemoryStore:
    """This process's LRU, bounded by the bytes it holds."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self.items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            item = self.items.get(key)
            if item is None:
                return None
            if item[0] < time.monotonic():
                self._drop(key)
                return None
            self.items.move_to_end(key)
            return item[1]

    def set(self, key: str, value: bytes, ttl: int) -> None:
        if len(value) > self.max_bytes // 4:
            return
        with self.lock:
            if key in self.items:
                self._drop(key)
            self.items[key] = (time.monotonic() + ttl, value)
            self.size += len(value)
            while self.size > self.max_bytes and self.items:
                self._drop(next(iter(self.items)))

    def _drop(self, key: str) -> None:
        _, value = self.items.pop(key)
        self.size -= len(value)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.size = 0


class FileStore:
    """One file per page under a folder: shared by the processes of one machine (`make run`'s
    gunicorn workers). Written atomically; expired or surplus files are pruned now and then."""

    def __init__(self, folder: str, max_files: int):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_files = max_files
        self.writes = 0

    def _path(self, key: str) -> Path:
        return self.folder / (hashlib.sha256(key.encode()).hexdigest() + ".page")

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        expires = struct.unpack(">d", data[:8])[0] if len(data) >= 8 else 0
        if expires < time.time():
            return None
        return data[8:]

    def set(self, key: str, value: bytes, ttl: int) -> None:
        path = self._path(key)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            tmp.write_bytes(struct.pack(">d", time.time() + ttl) + value)
            os.replace(tmp, path)
        except OSError:
            log.warning("page cache: cannot write %s", path, exc_info=True)
            return
        self.writes += 1
        if self.writes % 500 == 0:
            self.prune()

    def prune(self) -> None:
        files = sorted(self.folder.glob("*.page"), key=lambda p: p.stat().st_mtime)
        for path in files[: max(len(files) - self.max_files, 0)]:
            path.unlink(missing_ok=True)

    def clear(self) -> None:
        for path in self.folder.glob("*.page"):
            path.unlink(missing_ok=True)


class RedisStore:
    """A Redis server shared by several machines (`redis://host:6379/0`). An unreachable server
    is a miss, never an error page."""

    def __init__(self, url: str, prefix: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = prefix

    def _key(self, key: str) -> str:
        return self.prefix + hashlib.sha256(key.encode()).hexdigest()

    def get(self, key: str) -> bytes | None:
        try:
            value = self.client.get(self._key(key))
        except Exception:  # the cache is an optimisation: a miss, never an error
            log.warning("page cache: redis get failed", exc_info=True)
            return None
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl: int) -> None:
        try:
            self.client.set(self._key(key), value, ex=max(ttl, 1))
        except Exception:
            log.warning("page cache: redis set failed", exc_info=True)

    def clear(self) -> None:
        try:
            for name in self.client.scan_iter(match=self.prefix + "*"):
                self.client.delete(name)
        except Exception:
            log.warning("page cache: redis clear failed", exc_info=True)


def open_store(url: str, prefix: str = "pages:") -> Store | None:
    parts = urlsplit(url)
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if parts.scheme in ("", "none", "off"):
        return None
    if parts.scheme == "memory":
        return MemoryStore(int(float(options.get("max_mb", "64")) * 1024 * 1024))
    if parts.scheme == "file":
        return FileStore(parts.path, int(options.get("max_files", "20000")))
    if parts.scheme in ("redis", "rediss", "unix"):
        return RedisStore(url, prefix)
    raise ValueError(
        f"PAGE_CACHE_URL: unknown store {parts.scheme!r} (memory://, file:///dir, redis://, none)"
    )


# --- entries ----------------------------------------------------------------------------------


@dataclass
class Entry:
    content_type: str
    versions: dict[str, int]
    stored_at: float  # epoch seconds
    etag: str
    bodies: dict[str, bytes] = field(default_factory=dict)  # "identity", "gzip", "br"
    headers: list[tuple[str, str]] = field(default_factory=list)  # what the view added

    def encode(self) -> bytes:
        header = json.dumps(
            {
                "t": self.content_type,
                "v": self.versions,
                "s": self.stored_at,
                "e": self.etag,
                "b": [[name, len(body)] for name, body in self.bodies.items()],
                "h": self.headers,
            },
            separators=(",", ":"),
        ).encode()
        return struct.pack(">I", len(header)) + header + b"".join(self.bodies.values())

    @classmethod
    def decode(cls, data: bytes) -> Entry:
        (length,) = struct.unpack(">I", data[:4])
        header = json.loads(data[4 : 4 + length])
        offset = 4 + length
        bodies = {}
        for name, size in header["b"]:
            bodies[name] = data[offset : offset + size]
            offset += size
        extra = [(str(name), str(value)) for name, value in header.get("h", [])]
        return cls(header["t"], header["v"], header["s"], header["e"], bodies, extra)

    @classmethod
    def build(cls, content_type: str, body: bytes, versions: dict[str, int]) -> Entry:
        bodies = {"identity": body}
        if len(body) >= COMPRESS_MIN_BYTES and compressible(content_type):
            bodies["gzip"] = gzip.compress(body, compresslevel=9, mtime=0)
            bodies["br"] = brotli.compress(body, quality=9)
        etag = hashlib.blake2b(body, digest_size=12).hexdigest()
        return cls(content_type, versions, time.time(), etag, bodies)


def compressible(content_type: str | None) -> bool:
    return bool(content_type) and str(content_type).startswith(COMPRESSIBLE)


def choose_encoding(available: Iterable[str]) -> str:
    accepted = request.accept_encodings
    names = set(available)
    for name in ("br", "gzip"):
        if name in names and accepted[name] > 0:
            return name
    return "identity"


# --- the versions a web process knows ---------------------------------------------------------


class Versions:
    """The scopes' versions as this process knows them, refreshed from the table at most every
    `refresh_s` seconds (only the rows changed since the last look, with a margin)."""

    def __init__(self, refresh_s: float, margin_s: float = 30.0):
        self.refresh_s = refresh_s
        self.margin = timedelta(seconds=margin_s)
        self.known: dict[str, tuple[int, datetime]] = {}
        self.checked = 0.0
        self.seen_until: datetime = utcnow()
        self.lock = threading.Lock()

    def refresh(self) -> None:
        if time.monotonic() - self.checked < self.refresh_s:
            return
        with self.lock:
            if time.monotonic() - self.checked < self.refresh_s:
                return
            started = utcnow()
            rows = db.session.execute(
                select(PageCacheScope.scope, PageCacheScope.version, PageCacheScope.changed_at).where(
                    PageCacheScope.changed_at >= self.seen_until - self.margin
                )
            ).all()
            for scope, version, changed_at in rows:
                self.known[scope] = (version, changed_at)
            self.seen_until = started
            self.checked = time.monotonic()

    def current(self, scopes: Iterable[str]) -> dict[str, tuple[int, datetime | None]]:
        self.refresh()
        wanted = list(scopes)
        missing = [s for s in wanted if s not in self.known]
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            found = {
                scope: (version, changed_at)
                for scope, version, changed_at in db.session.execute(
                    select(PageCacheScope.scope, PageCacheScope.version, PageCacheScope.changed_at).where(
                        PageCacheScope.scope.in_(chunk)
                    )
                )
            }
            for scope in chunk:
                self.known[scope] = found.get(scope, (0, datetime.min))
        return {s: self.known[s] for s in wanted}


# --- the request side -------------------------------------------------------------------------


@dataclass
class Recording:
    key: str
    started: datetime
    scopes: set[str] = field(default_factory=set)


def _state(app: Flask | None = None) -> dict[str, Any]:
    return (app or current_app).extensions["page_cache"]


def enabled() -> bool:
    return _state().get("store") is not None


def is_anonymous() -> bool:
    """Nothing in the request makes its page differ from any other anonymous visitor's."""
    remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    if remember in request.cookies or "Authorization" in request.headers:
        return False
    if any(key not in SAFE_SESSION_KEYS for key in session):
        return False
    return not session.get("_user_id")


def _locale() -> str:
    chosen = session.get("lang")
    languages = current_app.config["LANGUAGES"]
    return (
        chosen
        if isinstance(chosen, str) and chosen in languages
        else current_app.config["BABEL_DEFAULT_LOCALE"]
    )


# Added by the apps a shared link travels through (Facebook, Zalo, Google, newsletters); the page
# never depends on them. Left in the key, every click from a Facebook post (its own `fbclid`)
# would miss the cache — and most buyers arrive that way.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "gbraid", "wbraid", "msclkid", "zarsrc", "igshid", "ttclid", "_gl"}
)


def is_tracking(name: str) -> bool:
    return name in TRACKING_PARAMS or name.startswith("utm_")


def has_tracking() -> bool:
    return any(is_tracking(name) for name in request.args)


def page_key() -> str:
    """Locale, local date and the path with its query, less the tracking parameters."""
    if not request.query_string:
        where = request.path
    elif has_tracking():
        kept = [(name, value) for name, value in request.args.items(multi=True) if not is_tracking(name)]
        where = f"{request.path}?{urlencode(kept)}" if kept else request.path
    else:
        where = request.full_path
    return f"{_locale()}|{local_today().isoformat()}|{where}"


def _before_request() -> Response | None:
    state = _state()
    if state["store"] is None or request.method not in ("GET", "HEAD"):
        return None
    if request.endpoint not in current_app.extensions.get("page_cache_endpoints", {}):
        return None
    if not is_anonymous():
        g.page_cache_private = True
        return None
    key = page_key()
    raw = state["store"].get(key)
    if raw is not None:
        try:
            entry = Entry.decode(raw)
        except Exception:  # noqa: BLE001 - a damaged entry is a miss
            entry = None
        if entry is not None:
            current = state["versions"].current(entry.versions)
            if all(current[s][0] == v for s, v in entry.versions.items()):
                g.page_cache_hit = True
                return respond(entry, "hit")
    g.page_cache = Recording(key=key, started=utcnow())
    return None


def _after_request(response: Response) -> Response:
    if g.pop("page_cache_hit", False):
        return response
    recording: Recording | None = g.pop("page_cache", None)
    if recording is not None:
        stored = _store(recording, response)
        if stored is not None:
            return stored
        if session.modified or "Set-Cookie" in response.headers:  # became this visitor's own page
            g.page_cache_private = True
    if g.pop("page_cache_private", False):
        response.headers["Cache-Control"] = PRIVATE_CACHE_CONTROL
        response.vary.add("Cookie")
    return compress(response)


def _store(recording: Recording, response: Response) -> Response | None:
    if (
        response.status_code != 200
        or response.direct_passthrough
        or response.is_streamed
        or "Set-Cookie" in response.headers
        or session.modified
        or "Content-Encoding" in response.headers
        # A page rendered for a tracked link may carry its parameters (a pager's or the language
        # switch's link): served from the plain page's entry, never stored as it.
        or has_tracking()
    ):
        return None
    state = _state()
    resolver = current_app.extensions["page_cache_endpoints"].get(request.endpoint)
    scopes = set(recording.scopes)
    if resolver is not None:
        scopes.update(resolver(request.view_args or {}))
    current = state["versions"].current(sorted(scopes))
    entry = Entry.build(
        response.content_type or "text/html; charset=utf-8",
        response.get_data(),
        {s: v for s, (v, _changed) in current.items()},
    )
    entry.headers = [
        (name, value) for name, value in response.headers.items() if name.lower() not in OWN_HEADERS
    ]
    skew = timedelta(seconds=current_app.config["PAGE_CACHE_SKEW_S"])
    settling = any(
        changed is not None and changed >= recording.started - skew for _v, changed in current.values()
    )
    if not settling:
        state["store"].set(recording.key, entry.encode(), current_app.config["PAGE_CACHE_TTL_S"])
    return respond(entry, "miss" if not settling else "bypass")


def respond(entry: Entry, how: str) -> Response:
    """The stored page for this request: 304 when the client's copy is current, else the body
    in the best encoding it accepts."""
    last_modified = datetime.fromtimestamp(int(entry.stored_at), tz=UTC)
    headers = Headers(
        {
            "Cache-Control": PUBLIC_CACHE_CONTROL,
            "Vary": VARY,
            "ETag": f'W/"{entry.etag}"',
            "Last-Modified": last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "X-Page-Cache": how,
        }
    )
    if request.if_none_match:
        not_modified = request.if_none_match.contains_weak(entry.etag)
    else:
        since = request.if_modified_since
        not_modified = since is not None and last_modified <= since
    for name, value in entry.headers:
        headers.add(name, value)
    if not_modified:
        return Response(status=304, headers=headers)
    encoding = choose_encoding(entry.bodies)
    response = Response(entry.bodies[encoding], status=200, content_type=entry.content_type, headers=headers)
    if encoding != "identity":
        response.headers["Content-Encoding"] = encoding
    return response


def compress(response: Response) -> Response:
    """Compress a text response of 1 KB or more for this one request. Never one that carries a
    secret next to what the request may have reflected (BREACH): a page with a CSRF token in it
    (Flask-WTF keeps the one it rendered in g.csrf_token), anything for a signed-in person or for
    an API client that sent credentials."""
    if "csrf_token" in g or session.get("_user_id") or "Authorization" in request.headers:
        return response
    if (
        response.status_code < 200
        or response.status_code in (204, 206, 304)
        or response.direct_passthrough
        or response.is_streamed
        or "Content-Encoding" in response.headers
        or not compressible(response.content_type)
        or request.method == "HEAD"
    ):
        return response
    response.vary.add("Accept-Encoding")
    body = response.get_data()
    if len(body) < COMPRESS_MIN_BYTES:
        return response
    encoding = choose_encoding(("br", "gzip"))
    if encoding == "br":
        response.set_data(brotli.compress(body, quality=4))
    elif encoding == "gzip":
        response.set_data(gzip.compress(body, compresslevel=6))
    else:
        return response
    response.headers["Content-Encoding"] = encoding
    tag, _weak = response.get_etag()
    if tag:  # a strong ETag names the identity bytes
        response.set_etag(tag, weak=True)
    return response


def shows(*scopes: str) -> None:
    """Add scopes to the page being recorded, for what a page shows without loading its ORM row
    (cards built from search hits or column rows: `listings:12`), so a change to it renews the page."""
    if not has_request_context():
        return
    recording: Recording | None = g.get("page_cache")
    if recording is not None:
        recording.scopes.update(scopes)


def _track_load(target: Any, _context: Any, _attrs: Any = None) -> None:
    if not has_request_context():
        return
    recording: Recording | None = g.get("page_cache")
    if recording is None:
        return
    table = getattr(target, "__tablename__", None)
    if table in current_app.extensions.get("page_cache_tables", ()):
        recording.scopes.add(f"{table}:{target.id}")


# --- CSRF for forms on cached pages -----------------------------------------------------------


def _same_origin() -> bool:
    claimed = request.headers.get("Origin") or request.headers.get("Referer")
    if not claimed or claimed == "null":
        return False
    parts = urlsplit(claimed)
    origin = f"{parts.scheme}://{parts.netloc}"
    # This host as the request reached us, or the public address (BASE_URL) when a proxy in front
    # rewrote the host or the scheme.
    public = (
        f"{current_app.config.get('PREFERRED_URL_SCHEME', 'http')}://{current_app.config.get('SERVER_NAME')}"
    )
    return origin in (request.host_url.rstrip("/"), public)


def _install_csrf(app: Flask) -> None:
    """Cached renders get an empty token; the listed POST endpoints accept an empty token from
    a same-origin anonymous visitor."""
    from flask_wtf.csrf import generate_csrf

    from .extensions import csrf

    def csrf_token() -> str:
        if has_request_context() and g.get("page_cache") is not None:
            return ""
        return generate_csrf()

    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})  # Flask-WTF sets it in both places
    if getattr(csrf.protect, "page_cache_wrapped", False):  # one CSRFProtect for every app
        return
    original = csrf.protect

    def protect(apply_exemptions: bool = False) -> None:
        tokenless = current_app.extensions.get("page_cache_tokenless", set())
        if (
            request.endpoint in tokenless
            and not request.form.get("csrf_token")
            and not request.headers.get("X-CSRFToken")
            and is_anonymous()
            and _same_origin()
        ):
            g.csrf_valid = True
            return None
        return original(apply_exemptions=apply_exemptions)

    protect.page_cache_wrapped = True  # type: ignore[attr-defined]
    csrf.protect = protect


# --- fingerprinted static files ---------------------------------------------------------------


def _static_hash(app: Flask, filename: str) -> str | None:
    hashes: dict[str, tuple[float, str]] = app.extensions["page_cache"]["static_hashes"]
    path = Path(app.static_folder or "static") / filename
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    known = hashes.get(filename)
    if known is not None and known[0] == mtime:
        return known[1]
    digest = hashlib.blake2b(path.read_bytes(), digest_size=6).hexdigest()
    hashes[filename] = (mtime, digest)
    return digest


def _install_static(app: Flask) -> None:
    @app.url_defaults
    def _fingerprint(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            digest = _static_hash(app, str(values["filename"]))
            if digest:
                values["v"] = digest

    @app.after_request
    def _static_headers(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code in (200, 304):
            filename = (request.view_args or {}).get("filename", "")
            if request.args.get("v") and request.args.get("v") == _static_hash(app, filename):
                response.headers["Cache-Control"] = STATIC_CACHE_CONTROL
            else:
                response.headers["Cache-Control"] = "public, no-cache"
        return response


# --- wiring -------------------------------------------------------------------------------------


def configure(app: Flask) -> None:
    set_defaults(
        app,
        {
            "PAGE_CACHE_URL": env_str("PAGE_CACHE_URL", "none" if app.config.get("TESTING") else "memory://"),
            "PAGE_CACHE_PREFIX": env_str("PAGE_CACHE_PREFIX", "marketplace:pages:"),
            "PAGE_CACHE_TTL_S": env_int("PAGE_CACHE_TTL_S", 600, minimum=1),
            "PAGE_CACHE_REFRESH_S": env_float("PAGE_CACHE_REFRESH_S", 1.0, minimum=0),
            "PAGE_CACHE_SKEW_S": env_float("PAGE_CACHE_SKEW_S", 2.0, minimum=0),
        },
    )


def init_app(app: Flask) -> None:
    """Called last in create_app: every package has registered its endpoints and handlers."""
    configure(app)
    app.extensions["page_cache"] = {
        "store": open_store(app.config["PAGE_CACHE_URL"], app.config["PAGE_CACHE_PREFIX"]),
        "versions": Versions(app.config["PAGE_CACHE_REFRESH_S"]),
        "static_hashes": {},
    }
    tokenless_post(app, "shell.switch_language")
    for topic, handler in app.extensions.get("page_cache_topics", []):
        outbox.add_handler(app, topic, handler)
    tables = app.extensions.get("page_cache_tables", set())
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if getattr(cls, "__tablename__", None) in tables and not event.contains(cls, "load", _track_load):
            event.listen(cls, "load", _track_load)  # rows read fresh,
            event.listen(cls, "refresh", _track_load)  # or re-read once expired
    _install_csrf(app)
    _install_static(app)
    # First of the before_request hooks: a hit skips the rest (the rate limiter's count among
    # them: a stored page costs nothing to serve); a miss goes through all of them as before.
    app.before_request_funcs.setdefault(None, []).insert(0, _before_request)
    app.after_request(_after_request)


def reset(app: Flask | None = None) -> None:
    """Forget every stored page and known version (tests, `flask` shell)."""
    state = _state(app)
    if state["store"] is not None:
        state["store"].clear()
    state["versions"].known.clear()
    state["versions"].checked = 0.0
