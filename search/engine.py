"""The engine backend: Elasticsearch 8/9 or OpenSearch 2/3, one code path.

Every request body is a plain query-DSL dict and every path is the same on both engines; only the
transport differs (the official `elasticsearch` client for ELASTICSEARCH_URL, `opensearch-py` for
OPENSEARCH_URL). Searches and writes go through the alias `<prefix>listings`; a reindex builds
`<prefix>listings-v<MAPPING_VERSION>-<stamp>` and swaps the alias atomically.

Analysis (in code, versioned by MAPPING_VERSION) uses only what every engine has built in: the
`standard` analyser (Unicode word breaks, lower case). Vietnamese folding happens here in Python
with search/text.py, the very function the embedded backend uses, so both backends see the same
words (no asciifolding / edge_ngram / synonym filters from the analysis-common module, which
Elasticsearch does not publish to Maven Central and some managed clusters restrict):
  title, origin, category_names    the text as written: the exact-diacritic fields (scoring only)
  f_title, f_origin, f_category,   the same folded ("Mật ong" -> "mat ong"), what matching uses
  f_shop, f_description
  all_text                         every folded field (copy_to)
  all_prefix                       folded title/origin/category/shop, with index_prefixes 1..19 so
                                   the word being typed matches as a prefix in one term lookup
Synonyms are expanded into the query at search time from the database (as on the embedded
backend), so an operator's edit applies to the next search, without a reindex.

The index is sorted by `static_rank` (stock, sales), then id: suggestions, sorted the same way
and counting no total, stop after their first matches. A search with facets is an _msearch of
two: the page (scored) and the counts (unscored, size 0), which the node runs side by side.
"""

from __future__ import annotations

import json
import math
import secrets
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from . import text as vi
from .backend import BackendError, BackendUnavailable, Status
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

MAPPING_VERSION = 7  # bump with any change to the mapping or to folded(): the next write triggers a reindex
FACET_SIZE = 20
CATEGORY_FACET_SIZE = 500
ORIGIN_SPELLINGS = 2000  # distinct spellings counted per search; a province has a few hundred places


class EngineUnavailable(BackendUnavailable):
    """The engine did not answer (connection refused, timeout, 429/5xx): fall back, retry later."""


class EngineError(BackendError):
    """The engine answered with an error that retrying will not fix by itself."""


# --- transports: the only place the two clients differ ---------------------------------------------


def _split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)), (
        parts.username,
        parts.password or "",
    )


class ElasticsearchTransport:
    kind = "elasticsearch"

    def __init__(self, url: str, timeout: float, ca_certs: str | None = None):
        from elasticsearch import Elasticsearch

        url, auth = _split_credentials(url)
        options: dict[str, Any] = {"request_timeout": timeout, "max_retries": 0, "retry_on_timeout": False}
        if auth:
            options["basic_auth"] = auth
        if ca_certs:
            options["ca_certs"] = ca_certs
        self.client = Elasticsearch(url, **options)
        self.url = url

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict | None = None,
        timeout: float | None = None,
        ndjson: bool = False,
    ) -> Any:
        import elastic_transport
        from elasticsearch import ApiError, UnsupportedProductError

        headers = {
            "accept": "application/json",
            "content-type": "application/x-ndjson" if ndjson else "application/json",
        }
        if ndjson and isinstance(body, str):
            body = body.encode("utf-8")
        client = self.client.options(request_timeout=timeout) if timeout else self.client
        try:
            return client.perform_request(method, path, params=params, headers=headers, body=body).body
        except UnsupportedProductError as exc:
            raise EngineError(None, f"not an Elasticsearch server: {exc}") from exc
        except ApiError as exc:
            status = exc.meta.status
            if status == 429 or status >= 500:
                raise EngineUnavailable(f"{status}: {exc.message}") from exc
            raise EngineError(status, str(exc.body)[:500]) from exc
        except elastic_transport.TransportError as exc:  # connection refused, timeout, TLS…
            raise EngineUnavailable(f"{type(exc).__name__}: {exc}") from exc


class OpenSearchTransport:
    kind = "opensearch"

    def __init__(self, url: str, timeout: float, ca_certs: str | None = None):
        from opensearchpy import OpenSearch

        url, auth = _split_credentials(url)
        options: dict[str, Any] = {"timeout": timeout, "max_retries": 0, "retry_on_timeout": False}
        if auth:
            options["http_auth"] = auth
        if ca_certs:
            options["ca_certs"] = ca_certs
        self.client = OpenSearch(hosts=[url], **options)
        self.url = url

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict | None = None,
        timeout: float | None = None,
        ndjson: bool = False,
    ) -> Any:
        from opensearchpy.exceptions import ConnectionError as OSConnectionError
        from opensearchpy.exceptions import TransportError

        headers = {"content-type": "application/x-ndjson"} if ndjson else None
        try:
            return self.client.transport.perform_request(
                method, path, params=params, body=body, timeout=timeout, headers=headers
            )
        except OSConnectionError as exc:
            raise EngineUnavailable(f"{type(exc).__name__}: {exc}") from exc
        except TransportError as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else None
            if status is None or status == 429 or status >= 500:
                raise EngineUnavailable(f"{status}: {exc.error}") from exc
            raise EngineError(
                status, json.dumps(exc.info, ensure_ascii=False)[:500] if exc.info else str(exc)
            ) from exc


def make_transport(config) -> ElasticsearchTransport | OpenSearchTransport | None:
    timeout = float(config["SEARCH_ENGINE_TIMEOUT"])
    ca_certs = config.get("SEARCH_ENGINE_CA_CERTS")
    if config.get("ELASTICSEARCH_URL"):
        return ElasticsearchTransport(config["ELASTICSEARCH_URL"], timeout, ca_certs)
    if config.get("OPENSEARCH_URL"):
        return OpenSearchTransport(config["OPENSEARCH_URL"], timeout, ca_certs)
    return None


# --- index definition ------------------------------------------------------------------------------

PREFIX_CHARS = 19  # index_prefixes allows at most 20; longer words typed in full still match as words


def folded(text: str | None) -> str:
    """Folded words joined by single spaces: the standard tokenizer then splits exactly where
    search/text.py does, so the engine's tokens are the embedded backend's tokens."""
    return " ".join(vi.folded_tokens(text))


def static_rank(doc: dict) -> float:
    """The boosts that do not depend on the day: 1 + IN_STOCK + SALES x ln(1 + sales). Stored at
    index time, so a search reads one number per hit instead of evaluating three functions (the
    OCOP boost stays a query-time function: a badge expires without a reindex)."""
    return (
        1 + (BOOST_IN_STOCK if doc["in_stock"] else 0) + BOOST_SALES * math.log1p(doc.get("sales_count") or 0)
    )


def engine_document(doc: dict) -> dict:
    """The listing document (search/documents.py) plus the folded fields matching runs on."""
    return {
        **doc,
        "f_title": folded(doc["title"]),
        "f_origin": folded(doc.get("origin")),
        "f_category": folded(doc.get("category_names")),
        "f_shop": folded(doc.get("shop_name")),
        "f_description": folded(doc.get("description")),
        "static_rank": static_rank(doc),
    }


def index_definition(*, shards: int, replicas: int) -> dict:
    exact = {"type": "text", "analyzer": "standard"}
    keyword_off = {"type": "keyword", "index": False, "doc_values": False}

    def folded_field(prefix: bool) -> dict:
        return {
            "type": "text",
            "analyzer": "standard",
            "copy_to": ["all_text", "all_prefix"] if prefix else ["all_text"],
        }

    return {
        "settings": {
            "number_of_shards": shards,
            "number_of_replicas": replicas,
            # Stored best-ranked first: a search sorted the same way with no total to count (the
            # suggestions) stops after its first few matches instead of visiting all of them.
            "index": {"sort.field": ["static_rank", "id"], "sort.order": ["desc", "desc"]},
        },
        "mappings": {
            "dynamic": "strict",
            "_meta": {"mapping_version": MAPPING_VERSION},
            "properties": {
                "id": {"type": "long"},
                "title": exact,
                "slug": keyword_off,
                "description": {"type": "text", "index": False},
                "price_vnd": {"type": "long"},
                "unit": keyword_off,
                "in_stock": {"type": "boolean"},
                # Facet fields are keywords: terms aggregations count them by global ordinals (an
                # array increment per hit) instead of hashing numbers; term filters work the same.
                "shop_id": {"type": "keyword", "eager_global_ordinals": True},
                "shop_slug": {"type": "keyword"},
                "shop_name": keyword_off,
                "category_id": {"type": "integer"},
                "category_ids": {"type": "keyword", "eager_global_ordinals": True},
                "category_names": exact,
                "origin": {
                    **exact,
                    "fields": {
                        "raw": {"type": "keyword", "ignore_above": 200, "eager_global_ordinals": True}
                    },
                },
                "origin_key": {"type": "keyword"},
                "ocop_stars": {"type": "integer"},
                "ocop_expires_on": {"type": "date", "format": "strict_date"},
                "certifications": {"type": "keyword", "eager_global_ordinals": True},
                "sales_count": {"type": "integer"},
                "static_rank": {"type": "float"},
                "published_at": {"type": "date", "format": "strict_date_optional_time"},
                "image_key": keyword_off,
                "image_w": {"type": "integer", "index": False},
                "image_h": {"type": "integer", "index": False},
                # The title's own prefixes too: a suggestion's last word is one term lookup there.
                "f_title": {
                    **folded_field(prefix=True),
                    "index_prefixes": {"min_chars": 1, "max_chars": PREFIX_CHARS},
                },
                "f_origin": folded_field(prefix=True),
                "f_category": folded_field(prefix=True),
                "f_shop": folded_field(prefix=True),
                "f_description": folded_field(prefix=False),
                "all_text": {"type": "text", "analyzer": "standard"},
                "all_prefix": {
                    "type": "text",
                    "analyzer": "standard",
                    "index_prefixes": {"min_chars": 1, "max_chars": PREFIX_CHARS},
                },
            },
        },
    }


# The folded fields are never read back: searches leave them (and the long description) out.
SOURCE_EXCLUDES = ["description", "f_*", "static_rank"]


# --- queries -----------------------------------------------------------------------------------------


def _filters(q: SearchQuery) -> list[dict]:
    today = q.today.isoformat()
    out: list[dict] = []
    if q.category_id is not None:
        out.append({"term": {"category_ids": q.category_id}})
    if q.origin_key:
        out.append({"term": {"origin_key": q.origin_key}})
    if q.shop_id is not None:
        out.append({"term": {"shop_id": q.shop_id}})
    if q.ocop_min:
        out.append({"range": {"ocop_stars": {"gte": q.ocop_min}}})
        out.append({"range": {"ocop_expires_on": {"gt": today}}})
    if q.cert:
        out.append({"term": {"certifications": q.cert}})
    price: dict[str, int] = {}
    if q.price_min is not None:
        price["gte"] = q.price_min
    if q.price_max is not None:
        price["lte"] = q.price_max
    if price:
        out.append({"range": {"price_vnd": price}})
    if q.in_stock:
        out.append({"term": {"in_stock": True}})
    return out


FOLDED_FIELDS = ["f_title^3", "f_origin^1.5", "f_category^1.5", "f_shop", "f_description^0.3"]
FUZZINESS = "AUTO:4,7"  # Vietnamese words are short: exact up to 3 letters, one edit up to 6, two beyond


def _alternative(words: tuple[str, ...]) -> dict:
    """One way of saying a span, anywhere in the folded fields ("cam bu" as a phrase)."""
    kind = "phrase" if len(words) > 1 else "best_fields"
    return {"multi_match": {"query": " ".join(words), "type": kind, "fields": FOLDED_FIELDS}}


def _typed_word(word: str) -> dict:
    """The word being typed: a whole word anywhere, or the start of a word of the title, origin,
    category or shop (one term lookup in the index_prefixes field up to PREFIX_CHARS letters)."""
    whole = {"term": {"all_text": word}}
    if len(word) > PREFIX_CHARS:
        return whole
    return {"bool": {"minimum_should_match": 1, "should": [{"prefix": {"all_prefix": word}}, whole]}}


def text_query(q: SearchQuery, typed_only: bool = False, scored: bool = True) -> dict | None:
    """A document matches when
      - every word, or one of its synonyms, appears folded in some field, or
      - every word but the last appears folded anywhere and the last is a whole word anywhere or
        the beginning of a word in the title/origin/category/shop (as you type), or
      - every word is within one or two edits of a word of one field (typos).
    The exact-diacritic fields and the phrase only add score: without `scored` (filters, counts)
    they are left out, and so is the every-word branch when no synonym applies, since the
    as-you-type branch then matches all it matches (each word whole in all_text, the last one also
    as a prefix): one branch fewer to run over every hit of a broad query."""
    text = vi.nfc(q.text).strip()
    words = vi.folded_tokens(text)
    if not words:
        return None
    joined = " ".join(words)
    if q.match_any:
        must: dict = {
            "multi_match": {
                "query": joined,
                "type": "cross_fields",
                "operator": "or",
                "fields": FOLDED_FIELDS,
            }
        }
    else:
        typed = [_typed_word(words[-1])]
        if len(words) > 1:
            typed.insert(0, {"match": {"all_text": {"query": " ".join(words[:-1]), "operator": "and"}}})
        if typed_only:  # suggestions: what is being typed, nothing fancier
            return {
                "bool": {
                    "must": typed,
                    "should": [
                        {"match": {"title": {"query": text, "boost": 2}}},
                        {"match": {"f_title": {"query": joined}}},
                    ],
                }
            }
        spans = vi.expand_synonyms(words, q.synonyms)
        if all(len(span) == 1 for span in spans):
            every_word = {
                "multi_match": {
                    "query": joined,
                    "type": "cross_fields",
                    "operator": "and",
                    "fields": FOLDED_FIELDS,
                }
            }
        else:
            every_word = {
                "bool": {
                    "must": [
                        _alternative(span[0])
                        if len(span) == 1
                        else {
                            "bool": {"minimum_should_match": 1, "should": [_alternative(alt) for alt in span]}
                        }
                        for span in spans
                    ]
                }
            }
        alternatives = [every_word, {"bool": {"must": typed, "boost": 0.5}}]
        if not scored and all(len(span) == 1 for span in spans):
            alternatives.pop(0)
        if any(vi.max_edits(word) for word in words):  # else every word must be exact: nothing to forgive
            alternatives.append(
                {
                    "multi_match": {
                        "query": joined,
                        "type": "best_fields",
                        "operator": "and",
                        "fields": ["f_title", "f_origin", "f_category", "f_shop"],
                        "fuzziness": FUZZINESS,
                        "prefix_length": 1,
                        "max_expansions": 20,
                        "boost": 0.3,
                    }
                }
            )
        must = {"bool": {"minimum_should_match": 1, "should": alternatives}}
    if not scored:
        return must
    should: list[dict] = [{"match_phrase": {"f_title": {"query": joined, "slop": 2}}}]
    # Words typed with their marks rank listings written with the same marks first ("mật" above
    # "mát"); a word typed without marks says nothing more than its folded match already does.
    marked = [word for word in vi.exact_tokens(text) if vi.fold(word) != word]
    if marked:
        should.append(
            {
                "multi_match": {
                    "query": " ".join(marked),
                    "type": "best_fields",
                    "operator": "or",
                    "boost": 2,
                    "fields": ["title^3", "origin", "category_names"],
                }
            }
        )
    return {"bool": {"must": [must], "should": should}}


def scored_query(q: SearchQuery, typed_only: bool = False) -> dict:
    base = text_query(q, typed_only)
    query = {"bool": {"filter": _filters(q), **({"must": [base]} if base else {})}}
    today = q.today.isoformat()
    functions: list[dict] = [
        {"field_value_factor": {"field": "static_rank", "missing": 1}},
        # Valid OCOP ratings only: the expiry date is compared with today, at query time.
        {
            "filter": {"range": {"ocop_expires_on": {"gt": today}}},
            "field_value_factor": {"field": "ocop_stars", "factor": BOOST_OCOP_PER_STAR, "missing": 0},
        },
    ]
    return {
        "function_score": {
            "query": query,
            "functions": functions,
            "score_mode": "sum",
            "boost_mode": "multiply",
        }
    }


def suggestion_filter(q: SearchQuery) -> list[dict]:
    """Every word (or a synonym of it) in the title, the last one as the start of a title word."""
    words = vi.folded_tokens(q.text)
    spans = vi.expand_synonyms(words, q.synonyms)
    out = []
    for index, span in enumerate(spans):
        if index == len(spans) - 1 and len(span) == 1 and len(span[0]) == 1:
            word = span[0][0]
            out.append(
                {"prefix": {"f_title": word}} if len(word) <= PREFIX_CHARS else {"term": {"f_title": word}}
            )
            continue
        out.append(
            {
                "bool": {
                    "minimum_should_match": 1,
                    "should": [{"match_phrase": {"f_title": " ".join(alternative)}} for alternative in span],
                }
            }
        )
    return out


def exact_title_filter(q: SearchQuery) -> list[dict]:
    """The words typed with their marks, with the same marks in the title (the last one as a
    prefix, and only if it has marks itself: else the folded prefix already says it, and a
    one-letter prefix would expand to every title word with that letter); empty when no word
    carries a mark."""
    exact_words = vi.exact_tokens(vi.nfc(q.text))
    if not any(vi.fold(word) != word for word in exact_words):
        return []
    *whole, last = exact_words
    out: list[dict] = [{"term": {"title": word}} for word in whole]
    if vi.fold(last) != last:
        out.append({"prefix": {"title": last}})
    return out


def unscored_query(q: SearchQuery) -> dict:
    base = text_query(q, scored=False)
    return {"bool": {"filter": _filters(q) + ([base] if base else [])}}


SORTS = {
    "relevance": [{"_score": "desc"}, {"id": "desc"}],
    "price_asc": [{"price_vnd": "asc"}, {"id": "asc"}],
    "price_desc": [{"price_vnd": "desc"}, {"id": "desc"}],
    "newest": [{"published_at": "desc"}, {"id": "desc"}],
}


def aggregations(q: SearchQuery) -> dict:
    ranges = [{"from": lo, **({"to": hi} if hi is not None else {})} for lo, hi in PRICE_BUCKETS]
    return {
        "category": {"terms": {"field": "category_ids", "size": CATEGORY_FACET_SIZE}},
        # Spellings, merged by their folded key in Python (_origin_facet), as the embedded backend
        # does: one flat count instead of a sub-aggregation per folded key.
        "origin": {"terms": {"field": "origin.raw", "size": ORIGIN_SPELLINGS}},
        "shop": {
            "terms": {"field": "shop_id", "size": FACET_SIZE, "order": [{"_count": "desc"}, {"_key": "asc"}]}
        },
        # Per star level, the ratings still valid after today. Counted from doc values of the few
        # rated listings: a filter aggregation would run the date range query over every hit.
        "ocop": {
            "terms": {"field": "ocop_stars", "size": 5},
            "aggs": {
                "valid": {
                    "date_range": {
                        "field": "ocop_expires_on",
                        "format": "strict_date",
                        "ranges": [{"from": (q.today + timedelta(days=1)).isoformat()}],
                    }
                }
            },
        },
        "cert": {
            "terms": {
                "field": "certifications",
                "size": FACET_SIZE,
                "order": [{"_count": "desc"}, {"_key": "asc"}],
            }
        },
        "price": {"range": {"field": "price_vnd", "ranges": ranges}},
        "in_stock": {"terms": {"field": "in_stock", "size": 2}},  # doc values, not a query per hit
    }


def search_body(q: SearchQuery) -> dict:
    """The page of hits (and the total, unless the facets request counts it)."""
    body: dict[str, Any] = {
        # Sorted by a field, nothing needs a score: the text query only filters (no BM25, no boosts).
        "query": scored_query(q) if q.sort == "relevance" else unscored_query(q),
        "sort": SORTS[q.sort],
        "size": q.per_page + 1,  # one more tells whether a next page exists
        "track_total_hits": not q.facets,  # with facets, facets_body counts them
        "_source": {"excludes": SOURCE_EXCLUDES if not (q.highlight and q.text) else ["f_*", "static_rank"]},
    }
    # Highlighting happens in Python (search/text.py), the same way as on the embedded backend:
    # cheaper than the engine's highlighter, and the marks look the same on every backend.
    if q.cursor is not None:
        body["search_after"] = q.cursor
    else:
        body["from"] = q.offset
    return body


def facets_body(q: SearchQuery) -> dict:
    """The total and the facet counts over the same matches, without scores: a request of its
    own, so that the node counts on one core while it ranks on the other (see EngineBackend.search)."""
    return {"size": 0, "track_total_hits": True, "query": unscored_query(q), "aggs": aggregations(q)}


def _hit(raw: dict, q: SearchQuery, terms: set[str], prefix: str | None) -> Hit:
    d = raw["_source"]
    marks = q.highlight and bool(terms)
    return Hit(
        id=d["id"],
        title=d["title"],
        slug=d["slug"],
        price_vnd=d["price_vnd"],
        unit=d["unit"],
        shop_id=d["shop_id"],
        shop_slug=d["shop_slug"],
        shop_name=d["shop_name"],
        origin=d.get("origin"),
        in_stock=bool(d["in_stock"]),
        ocop_stars=valid_stars(d.get("ocop_stars"), d.get("ocop_expires_on"), q.today),
        image_key=d.get("image_key"),
        image_w=d.get("image_w"),
        image_h=d.get("image_h"),
        # fuzzy: the engine forgives typos, so words one or two edits away are marked too
        title_html=vi.highlight(d["title"], terms if marks else set(), prefix if marks else None, fuzzy=True),
        # not fuzzy: the typo branch of text_query never looks at descriptions
        snippet_html=vi.snippet(d.get("description"), terms, prefix) if marks else None,
    )


def _origin_facet(buckets: list[dict]) -> list[tuple[str, str, int]]:
    """(folded key, label, count) of the FACET_SIZE most frequent places: spellings that fold
    alike ("Hương Khê", "Huong Khe") count together under the most frequent one (ties: the one
    with more marks, which sorts last)."""
    groups: dict[str, list] = {}
    for b in buckets:
        key = folded(b["key"])
        if not key:
            continue
        group = groups.setdefault(key, [0, None, -1])
        group[0] += b["doc_count"]
        if (b["doc_count"], b["key"]) > (group[2], group[1] or ""):
            group[1], group[2] = b["key"], b["doc_count"]
    ranked = sorted(groups.items(), key=lambda item: (-item[1][0], item[0]))[:FACET_SIZE]
    return [(key, label, count) for key, (count, label, _) in ranked]


def _facets(aggs: dict) -> dict:
    buckets = lambda name: aggs[name]["buckets"]  # noqa: E731
    return {
        "category": {int(b["key"]): b["doc_count"] for b in buckets("category")},
        "origin": _origin_facet(buckets("origin")),
        "shop": {int(b["key"]): b["doc_count"] for b in buckets("shop")},
        "ocop": {
            int(b["key"]): b["valid"]["buckets"][0]["doc_count"]
            for b in aggs["ocop"]["buckets"]
            if b["valid"]["buckets"][0]["doc_count"]
        },
        "cert": [(b["key"], b["doc_count"]) for b in buckets("cert")],
        "price": [b["doc_count"] for b in buckets("price")],
        "in_stock": sum(b["doc_count"] for b in aggs["in_stock"]["buckets"] if b["key"] in (1, True)),
    }


def _item_failure(what: str, status: int, error: Any) -> EngineError | EngineUnavailable:
    """The error of one item of a _bulk or one search of an _msearch (both answer 200 overall), as
    the exception a request of its own would have raised: 429/5xx retry later, others do not."""
    detail = json.dumps(error, ensure_ascii=False)[:500]
    if status == 429 or status >= 500:
        return EngineUnavailable(f"{what} {status}: {detail}")
    return EngineError(status, detail)


def _checked(part: dict) -> dict:
    """One response of an _msearch, or its error raised."""
    if part.get("error") is not None:
        raise _item_failure("msearch", part.get("status") or 500, part["error"])
    return part


class _BulkLoader:
    """The bulk requests of one rebuild, sent from a second thread while the caller reads and
    builds the next batch: the database, Python and the engine work at the same time (at most two
    requests queued). A failure surfaces on the next add() or on finish()."""

    def __init__(self, send):
        self.send = send
        self.sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-bulk")
        self.pending: deque[Future] = deque()

    def add(self, docs: list[dict]) -> None:
        self.pending.append(self.sender.submit(self.send, docs))
        while len(self.pending) > 2:
            self.pending.popleft().result()

    def finish(self) -> None:
        try:
            while self.pending:
                self.pending.popleft().result()
        finally:
            self.cancel()

    def cancel(self) -> None:
        self.sender.shutdown(wait=True, cancel_futures=True)


class EngineBackend:
    def __init__(
        self,
        transport,
        prefix: str,
        *,
        bulk_timeout: float = 60.0,
        shards: int = 1,
        replicas: int = 0,
        refresh_on_write: bool = True,
        request_cache: bool = True,
    ):
        self.transport = transport
        self.kind = transport.kind
        self.prefix = prefix
        self.alias = f"{prefix}listings"
        self.bulk_timeout = bulk_timeout
        self.shards, self.replicas = shards, replicas
        self.refresh_on_write = refresh_on_write
        # The node's shard request cache keeps the counts of repeated searches (size 0) until the
        # next refresh that changed the index; the benchmark turns it off to measure the work itself.
        self.request_cache = request_cache
        self._loaders: dict[str, _BulkLoader] = {}  # per index being built
        self._loaders_lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.transport.url

    @property
    def lease_key(self) -> str:
        return f"engine:{self.alias}"[:200]

    def request(self, method: str, path: str, body: Any = None, **kw) -> Any:
        return self.transport.request(method, path, body, **kw)

    def close(self) -> None:
        with self._loaders_lock:
            loaders, self._loaders = list(self._loaders.values()), {}
        for loader in loaders:
            loader.cancel()

    # --- health ------------------------------------------------------------------------------------

    def status(self, timeout: float | None = None) -> Status:
        """ "ok", "unreachable", "index_missing" or "outdated" (mapping version behind the code)."""
        try:
            health = self.request("GET", "/_cluster/health", timeout=timeout)
            if health.get("status") not in ("green", "yellow"):
                return "unreachable"
            current = self._current()
        except EngineUnavailable:
            return "unreachable"
        except EngineError:
            return "unreachable"
        if current is None:
            return "index_missing"
        return "ok" if current[1] == MAPPING_VERSION else "outdated"

    def _current(self) -> tuple[str, int | None] | None:
        """(index name behind the alias, its mapping version), or None when the alias is missing."""
        try:
            mapping = self.request("GET", f"/{self.alias}/_mapping")
        except EngineError as exc:
            if exc.status == 404:
                return None
            raise
        if not mapping:
            return None
        name, body = next(iter(mapping.items()))
        if name == self.alias:  # a concrete index squatting on the alias name
            return name, None
        return name, (body.get("mappings", {}).get("_meta") or {}).get("mapping_version")

    def current_index(self) -> str | None:
        current = self._current()
        return current[0] if current else None

    def indexes(self) -> list[str]:
        rows = self.request("GET", f"/_cat/indices/{self.alias}-v*", params={"format": "json", "h": "index"})
        return sorted(row["index"] for row in rows)

    def count(self) -> int:
        return self.request("GET", f"/{self.alias}/_count")["count"]

    def doc_ids(self) -> set[int]:
        ids: set[int] = set()
        after = None
        while True:
            body: dict[str, Any] = {
                "size": 1000,
                "sort": [{"id": "asc"}],
                "_source": False,
                "query": {"match_all": {}},
                "docvalue_fields": ["id"],
            }
            if after is not None:
                body["search_after"] = after
            hits = self.request("POST", f"/{self.alias}/_search", body)["hits"]["hits"]
            if not hits:
                return ids
            ids.update(int(h["_id"]) for h in hits)
            after = hits[-1]["sort"]

    # --- rebuild -----------------------------------------------------------------------------------

    def create_index(self) -> str:
        name = (
            f"{self.alias}-v{MAPPING_VERSION}-"
            + datetime.now(UTC).strftime("%Y%m%d%H%M%S")
            + secrets.token_hex(2)
        )
        body = index_definition(shards=self.shards, replicas=0)
        body["settings"]["refresh_interval"] = "-1"  # bulk load first, refresh once at the end
        self.request("PUT", f"/{name}", body, timeout=self.bulk_timeout)
        return name

    def bulk_write(self, index: str, docs: list[dict]) -> None:
        with self._loaders_lock:
            loader = self._loaders.get(index)
            if loader is None:
                loader = self._loaders[index] = _BulkLoader(
                    lambda batch: self._bulk(batch, [], index=index, refresh=False)
                )
        loader.add(docs)

    def _loader_done(self, index: str) -> _BulkLoader | None:
        with self._loaders_lock:
            return self._loaders.pop(index, None)

    def finish_index(self, index: str) -> None:
        loader = self._loader_done(index)
        if loader is not None:
            loader.finish()
        self.request(
            "PUT",
            f"/{index}/_settings",
            {"index": {"refresh_interval": "1s", "number_of_replicas": self.replicas}},
            timeout=self.bulk_timeout,
        )
        self.request("POST", f"/{index}/_refresh", timeout=self.bulk_timeout)
        self.request(
            "GET",
            "/_cluster/health",
            params={"index": index, "wait_for_status": "yellow", "timeout": "30s"},
            timeout=self.bulk_timeout,
        )

    def activate(self, index: str) -> list[str]:
        """Point the alias at `index` in one atomic request; returns the indices it left."""
        try:
            current = self.request("GET", f"/_alias/{self.alias}")
            old = sorted(current)
        except EngineError as exc:
            if exc.status != 404:
                raise
            old = []
        actions: list[dict] = [
            {"remove": {"index": name, "alias": self.alias}} for name in old if name != index
        ]
        actions.append({"add": {"index": index, "alias": self.alias, "is_write_index": True}})
        self.request("POST", "/_aliases", {"actions": actions}, timeout=self.bulk_timeout)
        return [name for name in old if name != index]

    def drop_index(self, index: str) -> None:
        loader = self._loader_done(index)
        if loader is not None:
            loader.cancel()
        if index == self.alias:  # never the alias itself (nor a concrete index squatting on its name)
            return
        try:
            self.request("DELETE", f"/{index}", timeout=self.bulk_timeout)
        except EngineError as exc:
            if exc.status != 404:
                raise

    # --- writes --------------------------------------------------------------------------------------

    def write(self, docs: list[dict], delete_ids: list[int]) -> None:
        self._bulk(docs, delete_ids)

    def _bulk(
        self,
        docs: list[dict],
        delete_ids: list[int],
        *,
        index: str | None = None,
        refresh: bool | None = None,
    ) -> None:
        """Upsert and delete in one bulk request, through the alias unless `index` is given.
        require_alias stops a write from auto-creating a mapping-less index named like the alias."""
        if not docs and not delete_ids:
            return
        target = index or self.alias
        lines: list[str] = []
        for doc in docs:
            lines.append(json.dumps({"index": {"_index": target, "_id": str(doc["id"])}}))
            lines.append(json.dumps(engine_document(doc), ensure_ascii=False))
        for doc_id in delete_ids:
            lines.append(json.dumps({"delete": {"_index": target, "_id": str(doc_id)}}))
        params = {}
        if index is None:
            params["require_alias"] = "true"
        if refresh if refresh is not None else (self.refresh_on_write and index is None):
            params["refresh"] = "true"
        result = self.request(
            "POST", "/_bulk", "\n".join(lines) + "\n", params=params, ndjson=True, timeout=self.bulk_timeout
        )
        if result.get("errors"):
            for item in result["items"]:
                outcome = next(iter(item.values()))
                error = outcome.get("error")
                if not error:
                    continue
                raise _item_failure("bulk item", outcome.get("status", 0), error)

    # --- reads ---------------------------------------------------------------------------------------

    def search(self, q: SearchQuery) -> SearchResult:
        """The hits and, with facets, the counts: two searches in one _msearch, which the node runs
        side by side (ranking and counting each take about half of a broad query's time, and
        counting needs no scores); the total comes from the counting one."""
        if not q.facets:
            response, counts = self.request("POST", f"/{self.alias}/_search", search_body(q)), None
        else:
            response, counts = self._msearch([search_body(q), facets_body(q)])
        raw_hits = response["hits"]["hits"]
        more = len(raw_hits) > q.per_page
        raw_hits = raw_hits[: q.per_page]
        next_cursor = encode_cursor(self.kind, q.sort, raw_hits[-1]["sort"]) if more and raw_hits else None
        terms, prefix = q.highlight_terms()  # once per search, not per hit
        return SearchResult(
            total=(counts or response)["hits"]["total"]["value"],
            hits=[_hit(h, q, terms, prefix) for h in raw_hits],
            backend=self.kind,
            facets=_facets(counts["aggregations"]) if counts else {},
            next_cursor=next_cursor,
        )

    def suggest(
        self, q: SearchQuery, shops: int = 3, sample: int = 300, candidates: int = 10
    ) -> tuple[list[Hit], list[int]]:
        """Products and shops for the box, as the embedded backend chooses them: listings whose
        title has every word typed (the last as a prefix), ordered by vi.suggestion_ranker (the
        words' marks, the title beginning with them) then by rank (stock, sales) among the
        `candidates` best ranked; anywhere else only when the titles give too few. Shops whose
        name has every word as a prefix, most listings among their `sample` best ranked first.
        The index is sorted by rank, so each search stops after the few matches it returns:
        cheap even for two letters that match half the catalogue."""
        words = vi.folded_tokens(q.text)
        if not words:
            return [], []
        # The best ranked `candidates` titles (and those with the words' marks), ordered here by
        # vi.suggestion_ranker as on the embedded backend, then by rank.
        ranked = {
            "sort": [{"static_rank": "desc"}, {"id": "desc"}],
            "track_total_hits": False,
            "_source": {"excludes": SOURCE_EXCLUDES},
            "size": max(q.per_page, candidates),
        }
        titled = suggestion_filter(q)
        searches = [{**ranked, "query": {"bool": {"filter": titled}}}]
        exact = exact_title_filter(q)
        if exact:
            searches.insert(0, {**ranked, "query": {"bool": {"filter": titled + exact}}})
        searches.append(
            {
                "size": 0,
                "track_total_hits": False,
                "terminate_after": sample,
                "query": {"bool": {"filter": [{"prefix": {"f_shop": word}} for word in words]}},
                "aggs": {"ids": {"terms": {"field": "shop_id", "size": shops}}},
            }
        )
        *found, owners = self._msearch(searches)
        titles = {h["_id"]: h for response in found for h in response["hits"]["hits"]}
        tier = vi.suggestion_ranker(q.text)
        order = sorted(
            titles.values(), key=lambda h: (tier(h["_source"]["title"]), -h["sort"][0], -h["sort"][1])
        )
        raw: dict[str, dict] = {h["_id"]: h for h in order[: q.per_page]}
        if len(raw) < q.per_page:  # not in titles: anywhere, ranked as a search ranks
            response = self.request(
                "POST",
                f"/{self.alias}/_search",
                {
                    "query": scored_query(q, typed_only=True),
                    "size": q.per_page,
                    "track_total_hits": False,
                    "_source": {"excludes": SOURCE_EXCLUDES},
                },
            )
            for h in response["hits"]["hits"]:
                raw.setdefault(h["_id"], h)
        terms, prefix = q.highlight_terms()
        marked = replace(q, highlight=True)
        hits = [_hit(h, marked, terms, prefix) for h in list(raw.values())[: q.per_page]]
        return hits, [int(b["key"]) for b in owners["aggregations"]["ids"]["buckets"]]

    def _msearch(self, searches: list[dict]) -> list[dict]:
        header = json.dumps({"request_cache": self.request_cache})
        lines = [line for body in searches for line in (header, json.dumps(body, ensure_ascii=False))]
        answer = self.request("POST", f"/{self.alias}/_msearch", "\n".join(lines) + "\n", ndjson=True)
        return [_checked(part) for part in answer["responses"]]

    def did_you_mean(self, q: SearchQuery) -> str | None:
        words = vi.folded_tokens(q.text)
        if not words:
            return None
        body = {
            "size": 0,
            "suggest": {
                "text": " ".join(words),
                "words": {
                    "term": {
                        "field": "f_title",
                        "analyzer": "standard",
                        "suggest_mode": "missing",
                        "max_edits": 2,
                        "prefix_length": 1,
                        "min_word_length": 4,
                        "sort": "score",
                    }
                },
            },
        }
        response = self.request("POST", f"/{self.alias}/_search", body)
        out, changed = [], False
        for entry in response.get("suggest", {}).get("words", []):
            word = entry["text"]
            options = [
                o
                for o in entry.get("options", [])
                if vi.edit_distance(word, o["text"], vi.max_edits(word) + 1) <= vi.max_edits(word)
            ]
            if options:
                out.append(options[0]["text"])
                changed = True
            else:
                out.append(word)
        return " ".join(out) if changed else None
