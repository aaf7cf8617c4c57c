"""GET /api/v1/search and /api/v1/search/suggest, described in the OpenAPI document."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import gettext as _

from marketplace.api import problem_response
from marketplace.errors import DomainError
from marketplace.images import image_url_path

from . import service
from .query import (
    MAX_PER_PAGE,
    MAX_PRICE,
    MAX_WINDOW,
    PRICE_BUCKETS,
    SORTS,
    Hit,
    SearchQuery,
    SearchResult,
    parse_args,
)

api_bp = Blueprint("search_api", __name__, url_prefix="/api/v1")


def _url_maker(endpoint: str, arg: str):
    """url_for(endpoint, arg=value, _external=True) as string building: url_for once per response
    (a page has two links per hit); the value quoted as werkzeug's converters quote it."""
    marker = "0url0marker0"
    head, _, tail = url_for(endpoint, **{arg: marker}, _external=True).partition(marker)
    return lambda value: head + quote(str(value), safe="!$&'()*+,/:;=@") + tail


def hit_links():
    """(listing URL, media URL) builders for the hits of one response."""
    return _url_maker("catalog.show_listing", "slug"), _url_maker("shell.media", "filename")


def hit_json(hit: Hit, links: tuple) -> dict:
    listing_url, media_url = links
    return {
        "id": hit.id,
        "title": hit.title,
        "price_vnd": hit.price_vnd,
        "unit": hit.unit,
        "shop": {"id": hit.shop_id, "slug": hit.shop_slug, "name": hit.shop_name},
        "url": listing_url(hit.slug),
        "image": media_url(image_url_path(hit.image_key, "320.jpg")) if hit.image_key else None,
        "highlight": {
            "title": str(hit.title_html),
            "snippet": str(hit.snippet_html) if hit.snippet_html else None,
        },
        "in_stock": hit.in_stock,
        "ocop_stars": hit.ocop_stars,
        "origin": hit.origin,
    }


def result_json(result: SearchResult, query: SearchQuery) -> dict:
    links = hit_links()
    body = {
        "total": result.total,
        "hits": [hit_json(hit, links) for hit in result.hits],
        "facets": service.describe_facets(result, query),
        "page": query.page,
        "per_page": query.per_page,
        "next_cursor": result.next_cursor,
        "query": {"q": query.text, "folded": query.folded, "understood": result.understood},
        "backend": result.backend,
        "fallback": result.fallback,
    }
    if result.fallback:
        body["notice"] = _("Tìm kiếm đang chạy ở chế độ dự phòng")
    if result.total == 0 and query.folded:
        body["did_you_mean"] = result.did_you_mean
        body["nearest"] = [hit_json(hit, links) for hit in result.nearest]
    return body


@api_bp.get("/search")
def search():
    query, slugs = parse_args(request.args, default_per_page=current_app.config.get("PER_PAGE", 24))
    service.resolve_filters(query, slugs)
    result = service.run_search(query, slugs["cursor"])
    return jsonify(result_json(result, query))


@api_bp.get("/search/suggest")
def suggest():
    text = request.args.get("q") or ""
    if len(text) > 100:
        raise DomainError(_("Từ khoá gợi ý tối đa 100 ký tự."), field_errors={"q": ["max 100"]})
    response = jsonify(service.suggest(text))
    response.cache_control.max_age = 30
    response.cache_control.public = True
    return response


def _param(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_PROBLEM = problem_response(
    "Bad parameters (problem details; `errors` names each parameter): a number that is not plain "
    "digits or is out of range, price_min above price_max, page × per_page above "
    f"{MAX_WINDOW} when no cursor is used, an invalid cursor, an unknown category or shop slug, a value "
    "too long"
)
_TEXT = {"type": "string", "maxLength": 200}
_FACET = {"type": "array", "items": {"$ref": "#/components/schemas/SearchFacetValue"}}

OPENAPI_SCHEMAS = {
    "SearchHit": {
        "type": "object",
        "required": ["id", "title", "price_vnd", "unit", "shop", "url", "image", "highlight"],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "price_vnd": {"type": "integer", "description": "Integer đồng"},
            "unit": {"type": "string"},
            "shop": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "slug": {"type": "string"},
                    "name": {"type": "string"},
                },
            },
            "url": {"type": "string", "format": "uri"},
            "image": {"type": "string", "format": "uri", "nullable": True},
            "highlight": {
                "type": "object",
                "properties": {
                    "title": {"type": "string", "description": "Escaped HTML; matched words in <mark>"},
                    "snippet": {
                        "type": "string",
                        "nullable": True,
                        "description": "Escaped HTML excerpt of the description, or null",
                    },
                },
            },
            "in_stock": {"type": "boolean"},
            "ocop_stars": {
                "type": "integer",
                "nullable": True,
                "description": "Only while the rating is valid",
            },
            "origin": {"type": "string", "nullable": True},
        },
    },
    "SearchFacetValue": {
        "type": "object",
        "properties": {
            "value": {
                "description": "Pass back as the filter parameter",
                "oneOf": [{"type": "string"}, {"type": "integer"}],
            },
            "label": {"type": "string"},
            "count": {"type": "integer"},
            "selected": {"type": "boolean"},
            "parent": {"type": "string", "nullable": True, "description": "category only: the parent's slug"},
            "min": {"type": "integer"},
            "max": {"type": "integer", "nullable": True},
        },
    },
    "SearchResults": {
        "type": "object",
        "required": ["total", "hits", "facets"],
        "properties": {
            "total": {"type": "integer"},
            "hits": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}},
            "facets": {
                "type": "object",
                "properties": {
                    "category": _FACET,
                    "origin": _FACET,
                    "shop": _FACET,
                    "cert": _FACET,
                    "ocop": {
                        **_FACET,
                        "description": "value = minimum stars; count = listings with at least that many",
                    },
                    "price": {**_FACET, "description": "buckets; pass min/max as price_min/price_max"},
                    "in_stock": {"type": "object", "properties": {"count": {"type": "integer"}}},
                },
            },
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "next_cursor": {
                "type": "string",
                "nullable": True,
                "description": "Pass as cursor (with page+1) for the next page: fast at any depth",
            },
            "query": {
                "type": "object",
                "properties": {
                    "q": {"type": "string"},
                    "folded": {"type": "string", "description": "What was searched after folding diacritics"},
                    "understood": {
                        "type": "string",
                        "nullable": True,
                        "description": "What was searched together with the typed words, when some were read as "
                        "Telex/VNI, run together or mistyped ('gaoj neeps' -> 'gạo nếp'); null otherwise",
                    },
                },
            },
            "backend": {"type": "string", "enum": ["elasticsearch", "opensearch", "embedded"]},
            "fallback": {
                "type": "boolean",
                "description": "true when the engine is down and the embedded index answered",
            },
            "notice": {"type": "string"},
            "did_you_mean": {"type": "string", "nullable": True},
            "nearest": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}},
        },
    },
    "SearchSuggestions": {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "understood": {
                "type": "string",
                "nullable": True,
                "description": "The typed text as understood (Telex/VNI, run-together words, slips), or null",
            },
            "products": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "title": {"type": "string"},
                        "html": {"type": "string"},
                        "price_vnd": {"type": "integer"},
                        "unit": {"type": "string"},
                        "url": {"type": "string"},
                    },
                },
            },
            "categories": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "slug": {"type": "string"},
                        "name": {"type": "string"},
                        "url": {"type": "string"},
                    },
                },
            },
            "shops": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "slug": {"type": "string"},
                        "name": {"type": "string"},
                        "url": {"type": "string"},
                    },
                },
            },
        },
    },
}

_BUCKETS = ", ".join(f"{lo}–{hi - 1 if hi else '∞'}" for lo, hi in PRICE_BUCKETS)

OPENAPI_PATHS = {
    "/search": {
        "get": {
            "summary": "Search public listings (Vietnamese-aware: diacritics optional, synonyms, prefixes)",
            "operationId": "searchListings",
            "parameters": [
                _param(
                    "q",
                    {"type": "string", "maxLength": 200},
                    "Words; 'cam bu huong son' finds 'Cam bù Hương Sơn'",
                ),
                _param("category", _TEXT, "Category slug; a parent includes its children; unknown: 400"),
                _param("origin", _TEXT, "Origin area, e.g. Hương Sơn (diacritics optional)"),
                _param("shop", _TEXT, "Shop slug; unknown: 400"),
                _param(
                    "ocop_min", {"type": "integer", "minimum": 1, "maximum": 5}, "Minimum valid OCOP stars"
                ),
                _param("cert", _TEXT, "Certification, e.g. VietGAP"),
                _param(
                    "price_min",
                    {"type": "integer", "minimum": 0, "maximum": MAX_PRICE},
                    "Minimum price in whole đồng (inclusive), plain digits",
                ),
                _param(
                    "price_max",
                    {"type": "integer", "minimum": 0, "maximum": MAX_PRICE},
                    "Maximum price in whole đồng (inclusive), not below price_min; facet buckets: "
                    f"{_BUCKETS}",
                ),
                _param(
                    "in_stock",
                    {"type": "string", "enum": ["1", "0", "true", "false"]},
                    "Only listings in stock",
                ),
                _param(
                    "sort",
                    {"type": "string", "enum": list(SORTS), "default": "relevance"},
                    "relevance boosts in-stock, valid OCOP rating and recent sales",
                ),
                _param(
                    "page",
                    {"type": "integer", "minimum": 1, "maximum": MAX_WINDOW, "default": 1},
                    f"page × per_page is limited to {MAX_WINDOW} unless a cursor is used (400 beyond); "
                    "a cursor of another sort or backend is not used",
                ),
                _param(
                    "per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 24}, ""
                ),
                _param(
                    "chinh_xac",
                    {"type": "string", "enum": ["1", "0", "true", "false"]},
                    "1: search exactly the words typed (no Telex/VNI, run-together or typo reading)",
                ),
                _param(
                    "cursor",
                    {"type": "string"},
                    "next_cursor of the previous page (deep pagination; signed by the server): "
                    "anything else is a 400",
                ),
            ],
            "responses": {
                "200": {
                    "description": "Results with facet counts",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/SearchResults"}}
                    },
                },
                "400": _PROBLEM,
            },
        }
    },
    "/search/suggest": {
        "get": {
            "summary": "Suggestions while typing: products, categories and shops",
            "operationId": "suggestSearch",
            "parameters": [_param("q", {"type": "string", "maxLength": 100}, "What has been typed so far")],
            "responses": {
                "200": {
                    "description": "Suggestions",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/SearchSuggestions"}}
                    },
                },
                "400": problem_response("q is longer than 100 characters"),
            },
        }
    },
}
