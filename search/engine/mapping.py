"""The engine's index: its mapping and settings (versioned by MAPPING_VERSION) and the document
each listing becomes.

Analysis uses only what every engine has built in: the `standard` analyser (Unicode word breaks,
lower case). Vietnamese folding happens in Python with search/text.py, the very function the
embedded backend uses, so both backends see the same words (no asciifolding / edge_ngram /
synonym filters from the analysis-common module, which Elasticsearch does not publish to Maven
Central and some managed clusters restrict):
  title, origin, category_names    the text as written: the exact-diacritic fields (scoring only)
  f_title, f_origin, f_category,   the same folded ("Mật ong" -> "mat ong"), what matching uses
  f_shop, f_description
  all_text                         every folded field (copy_to)
  all_prefix                       folded title/origin/category/shop, with index_prefixes 1..19 so
                                   the word being typed matches as a prefix in one term lookup
Synonyms are expanded into the query at search time (search/engine/queries.py), so an operator's
edit applies to the next search, without a reindex.

The index is sorted by `static_rank` (stock, sales), then id: suggestions, sorted the same way
and counting no total, stop after their first matches."""

from __future__ import annotations

import math

from .. import text as vi
from ..query import BOOST_IN_STOCK, BOOST_SALES

# Bump with any change to the mapping, to folded() or to what documents hold: the first search or
# write after the deploy has the index rebuilt (search/indexer.py). 8: documents carry the stars of
# ratings the operator checked only (migration 0006_ocop made every earlier rating a waiting claim).
MAPPING_VERSION = 8
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
