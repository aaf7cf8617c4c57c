"""Query DSL for the engine, built from a SearchQuery, and the hits and facet counts read back
from its answers. Every body is a plain dict, the same on Elasticsearch and OpenSearch.

A search with facets is an _msearch of two: the page (scored) and the counts (unscored, size 0),
which the node runs side by side."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .. import text as vi
from ..query import BOOST_OCOP_PER_STAR, PRICE_BUCKETS, Hit, SearchQuery, hit_from_document
from .mapping import PREFIX_CHARS, SOURCE_EXCLUDES, folded

FACET_SIZE = 20
CATEGORY_FACET_SIZE = 500
ORIGIN_SPELLINGS = 2000  # distinct spellings counted per search; a province has a few hundred places


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


def _alternative(words: tuple[str, ...], scored: bool = True) -> dict:
    """One way of saying a span, anywhere in the folded fields ("cam bu" as a phrase). Without
    a score (the counting request) one field says the same: all_text holds every folded field,
    each as a value of its own (a phrase never runs from one field into the next)."""
    if not scored:
        return {"match_phrase": {"all_text": " ".join(words)}}
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
        every_word: dict[str, Any]
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
                        _alternative(span[0], scored)
                        if len(span) == 1
                        else {
                            "bool": {
                                "minimum_should_match": 1,
                                "should": [_alternative(alt, scored) for alt in span],
                            }
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
    out: list[dict] = []
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


def read_hit(raw: dict, q: SearchQuery, terms: set[str], prefix: str | None) -> Hit:
    # fuzzy: the engine forgives typos, so words one or two edits away are marked too
    return hit_from_document(raw["_source"], q, terms, prefix, fuzzy=True)


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


def read_facets(aggs: dict) -> dict:
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


def suggestion_searches(q: SearchQuery, *, shops: int, sample: int, candidates: int) -> list[dict]:
    """The searches of one _msearch for the search box: the best ranked `candidates` titles with
    every word typed (before them, when a word carries marks, those with the same marks), ordered
    afterwards by vi.suggestion_ranker, then by rank; last, the `shops` shops most frequent among
    the first `sample` listings whose shop name has every word as a prefix."""
    words = vi.folded_tokens(q.text)
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
    return searches


def suggestion_fallback_body(q: SearchQuery) -> dict:
    """Suggestions matching anywhere, not in titles, ranked as a search ranks: when the titles
    give too few."""
    return {
        "query": scored_query(q, typed_only=True),
        "size": q.per_page,
        "track_total_hits": False,
        "_source": {"excludes": SOURCE_EXCLUDES},
    }


def did_you_mean_body(words: list[str]) -> dict:
    """The term suggester over the folded titles, for the words of a search that found nothing."""
    return {
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
