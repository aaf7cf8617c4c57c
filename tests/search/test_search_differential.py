"""The same queries give the same listings on the embedded index and on each engine.

One catalogue, written by the worker to both indexes; every query goes to both backends through
the SearchBackend protocol and must find the same set of listings, with the same total and the
same facet counts (both backends promise exact counts), and in the same order where the order is
a sort by a field (relevance scores differ by design: BM25 over other fields, typo tolerance)."""

from __future__ import annotations

from search_testlib import Catalogue, drain

QUERIES = [
    {},  # browsing: everything public
    # words without and with their marks, đ, letter case
    {"q": "cam bu huong son"},
    {"q": "Cam bù Hương Sơn"},
    {"q": "mat"},
    {"q": "mật"},
    {"q": "mát"},
    {"q": "dac san keo"},
    {"q": "ĐẶC SẢN"},
    {"q": "cam"},
    {"q": "htx cam"},  # a shop's name
    {"q": "huong khe"},  # an origin, spelt with and without marks in the catalogue
    {"q": "Vũ Quang"},
    # the word being typed, as a prefix
    {"q": "buoi phu"},
    {"q": "cam bu huong s"},
    {"q": "ca"},
    {"q": "m"},
    {"q": "thanh l"},
    # synonyms, one word and several
    {"q": "quả thanh long"},
    {"q": "thịt heo"},
    {"q": "bap nep"},
    {"q": "lon den"},
    # words that are nowhere (misspelt words are left out: the engine forgives one or two edits
    # by design, so "long" also finds "lợn" there, and the embedded index offers "did you mean")
    {"q": "xyza qwop"},
    {"q": "cam xyza"},
    # filters, alone and with words
    {"category": "trai-cay"},
    {"category": "cam-quyt", "q": "cam"},
    {"origin": "huong khe"},
    {"origin": "Hương Sơn", "q": "cam"},
    {"ocop_min": "3"},
    {"ocop_min": "5", "q": "mat ong"},
    {"cert": "VietGAP"},
    {"price_min": "40000", "price_max": "50000"},
    {"price_min": "100000"},
    {"in_stock": "1"},
    {"in_stock": "1", "q": "cam"},
    {"category": "trai-cay", "in_stock": "1", "price_max": "45000"},
    # sorts, with and without words
    {"sort": "price_asc"},
    {"sort": "price_desc", "q": "cam"},
    {"sort": "newest"},
    {"sort": "newest", "category": "thuc-pham"},
    {"sort": "price_asc", "q": "trai", "in_stock": "1"},
]


def _label(params: dict) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items()) or "(all)"


def _query(params: dict):
    """A query as the API parses it, with the synonyms as run_search adds them."""
    from search import service
    from search import text as vi
    from search.query import parse_args
    from search.synonyms import synonym_groups

    query, slugs = parse_args({"per_page": "100", **params})
    service.resolve_filters(query, slugs)
    query.synonyms = vi.folded_synonym_groups(synonym_groups()) if query.folded else []
    return query


def test_both_backends_find_the_same_listings(engine_backend, factory):
    """One catalogue built once (building it per query would cost a minute per engine); every
    difference is reported, not only the first."""
    from search.service import describe_facets, state

    data = Catalogue(factory)
    drain()
    embedded, engine = state().embedded, state().engine
    assert engine is not None and engine.doc_ids() == data.public == embedded.doc_ids()
    differences, totals = [], {}
    for params in QUERIES:
        label, query = _label(params), _query(params)
        here, there = embedded.search(query), engine.search(query)
        found = {hit.id for hit in here.hits}
        totals[label] = here.total
        if found != {hit.id for hit in there.hits}:
            differences.append(
                f"{label}: embedded {sorted(found)}, engine {sorted(h.id for h in there.hits)}"
            )
        if not (here.total == there.total == len(found)):
            differences.append(f"{label}: totals {here.total} / {there.total} for {len(found)} hits")
        order = [hit.id for hit in here.hits], [hit.id for hit in there.hits]
        if query.sort != "relevance" and order[0] != order[1]:
            differences.append(f"{label}: order embedded {order[0]}, engine {order[1]}")
        facets = describe_facets(here, query), describe_facets(there, query)
        for name in facets[0].keys() | facets[1].keys():
            if facets[0].get(name) != facets[1].get(name):
                differences.append(f"{label}: facet {name}: {facets[0].get(name)} / {facets[1].get(name)}")
        assert found <= data.public, label
    assert not differences, "\n".join(differences)
    # The spread must find listings, narrow them and miss: not a test that passes on empty pages.
    assert totals["(all)"] == len(data.public)
    assert totals["q=xyza qwop"] == 0 and totals["q=cam xyza"] == 0
    assert 0 < totals["q=quả thanh long"] < len(data.public)
    assert 0 < totals["ocop_min=3"] < len(data.public)
    assert sum(1 for total in totals.values() if 0 < total < len(data.public)) >= 25
