"""The search vocabulary: the folded words of every public listing's title, origin, category path
and shop name, with how many listings use each and its most frequent spelling
(search/understand.py reads queries with it).

One source of truth for every backend: the database rows both indexes are built from
(catalog.services.public_listings_query, the same rows search/documents.py indexes), so the
embedded index and the engine understand a query the same way, and a web process that has no
embedded index (an engine-only machine) has the vocabulary too. Each process keeps it in memory
and rebuilds it in a background thread once it is SEARCH_VOCABULARY_TTL seconds old (the searches
meanwhile use the previous one); a new word is understood within that delay. The first build of a
process runs in the background too: until it is done (a second or two at 100 000 listings), only
Telex and VNI are read, which need no vocabulary. With a TTL of 0 (tests) every search rebuilds it."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, current_app

from catalog.models import Listing
from catalog.services import public_listings_query
from marketplace.config import env_float, set_defaults
from marketplace.extensions import db
from sellers.models import Shop

from .documents import category_paths
from .understand import Vocabulary

log = logging.getLogger(__name__)
EXTENSION = "search_vocabulary"


def configure(app: Flask) -> None:
    set_defaults(
        app,
        {
            "SEARCH_VOCABULARY_TTL": env_float(
                "SEARCH_VOCABULARY_TTL", 0.0 if app.testing else 600.0, minimum=0
            )
        },
    )


def build(session=None) -> Vocabulary:
    """Read every public listing's indexed words (plain rows, streamed) into a Vocabulary."""
    session = session or db.session
    names = {cid: names for cid, (_ids, names) in category_paths(session).items()}
    rows = session.execute(
        public_listings_query()
        .with_only_columns(Listing.title, Listing.origin, Shop.name, Listing.category_id)
        .execution_options(yield_per=2000)
    )
    return Vocabulary.from_documents(
        (title, origin, shop, *names.get(category_id, ())) for title, origin, shop, category_id in rows
    )


class _Holder:
    def __init__(self) -> None:
        self.vocabulary: Vocabulary | None = None
        self.built_at = 0.0
        self.refreshing = False
        self.lock = threading.Lock()


def _holder(app: Flask) -> _Holder:
    holder = app.extensions.get(EXTENSION)
    if holder is None:
        holder = app.extensions.setdefault(EXTENSION, _Holder())
    return holder


def _refresh_in_background(app: Flask, holder: _Holder) -> None:
    def run() -> None:
        try:
            with app.app_context():
                vocabulary = build()
                db.session.remove()
            with holder.lock:
                holder.vocabulary, holder.built_at = vocabulary, time.monotonic()
        except Exception:  # the previous vocabulary keeps serving; the next search tries again
            log.exception("could not rebuild the search vocabulary")
        finally:
            with holder.lock:
                holder.refreshing = False

    threading.Thread(target=run, name="search-vocabulary", daemon=True).start()


EMPTY = Vocabulary({}, {})  # until the first build of a process is done: Telex/VNI still read


def current() -> Vocabulary:
    """This process's vocabulary, rebuilt in the background when older than SEARCH_VOCABULARY_TTL
    (the previous one, or at the start of a process an empty one, answers meanwhile); with a TTL
    of 0 (tests) rebuilt at every call."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    holder = _holder(app)
    ttl = float(app.config.get("SEARCH_VOCABULARY_TTL", 600.0))
    with holder.lock:
        vocabulary, age = holder.vocabulary, time.monotonic() - holder.built_at
        if vocabulary is not None and (age < ttl or holder.refreshing):
            return vocabulary
        if ttl > 0 and holder.refreshing:
            return EMPTY
        if ttl > 0:
            holder.refreshing = True
    if ttl > 0:
        _refresh_in_background(app, holder)
        return vocabulary or EMPTY
    vocabulary = build()
    with holder.lock:
        holder.vocabulary, holder.built_at = vocabulary, time.monotonic()
    return vocabulary


def reset(app: Flask) -> None:
    """Forget the vocabulary (the next search rebuilds it): after a reindex in this process."""
    app.extensions.pop(EXTENSION, None)
