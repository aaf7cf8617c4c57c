"""Public JSON endpoints for listings, described in the OpenAPI document."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from marketplace.api import id_parameter, problem_response
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.images import image_url_path
from marketplace.numbers import NumberError, query_int
from marketplace.timeutil import local_today
from sellers.models import Shop

from . import services
from .models import Category, Listing, OcopStatus

api_bp = Blueprint("catalog_api", __name__, url_prefix="/api/v1")
MAX_PER_PAGE = 100
MAX_PAGE = 100_000


def _image(key: str, variant: str) -> str:
    return url_for("shell.media", filename=image_url_path(key, variant), _external=True)


def listing_json(listing: Listing, *, full: bool = False) -> dict:
    today = local_today()
    data = {
        "id": listing.id,
        "slug": listing.slug,
        "title": listing.title,
        "price_vnd": listing.price_vnd,
        "unit": listing.unit,
        "in_stock": listing.in_stock,
        "stock": listing.stock,
        "min_order_qty": listing.min_order_qty,
        "category": {"id": listing.category.id, "slug": listing.category.slug, "name": listing.category.name},
        "shop": {"id": listing.shop.id, "slug": listing.shop.slug, "name": listing.shop.name},
        "origin": listing.origin,
        "ocop_stars": listing.ocop_badge(today),
        "certifications": listing.certifications or [],
        "url": url_for("catalog.show_listing", slug=listing.slug, _external=True),
        "image": _image(listing.cover.key, "320.jpg") if listing.cover else None,
        "updated_at": listing.updated_at.isoformat() + "Z",
    }
    if full:
        data.update(
            {
                "description_html": listing.description,
                "sku": listing.sku,
                "weight_grams": listing.weight_grams,
                "harvest_season": listing.harvest_season,
                "batch_code": listing.batch_code,
                "ocop": ocop_json(listing, today),
                "images": [
                    {
                        "w320": _image(img.key, "320.jpg"),
                        "w1200": _image(img.key, "1200.jpg"),
                        "w320_webp": _image(img.key, "320.webp"),
                        "w1200_webp": _image(img.key, "1200.webp"),
                        "width": img.width,
                        "height": img.height,
                    }
                    for img in listing.images
                ],
                "trace_url": url_for("catalog.trace_listing", slug=listing.slug, _external=True),
            }
        )
    return data


def ocop_json(listing: Listing, today: date) -> dict | None:
    """The listing's OCOP rating as the public may see it. `status`: "checked" (the operator
    checked the certificate; `active` while it has not expired), "expired", or "waiting" (not
    checked yet: no stars, number or dates are published). A refused claim, like no claim, is
    null: the refusal is between the operator and the producer."""
    certificate = listing.ocop_certificate
    status = listing.ocop_status
    if certificate is None or status is None or status == OcopStatus.REFUSED:
        return None
    if status == OcopStatus.WAITING:
        return {
            "status": "waiting",
            "active": False,
            "stars": None,
            "certificate_no": None,
            "level": None,
            "issued_on": None,
            "expires_on": None,
        }
    active = certificate.badge(today) is not None
    return {
        "status": "checked" if active else "expired",
        "active": active,
        "stars": certificate.stars,
        "certificate_no": certificate.certificate_no,
        "level": certificate.level or None,
        "issued_on": certificate.issued_on.isoformat(),
        "expires_on": certificate.expires_on.isoformat(),
    }


def _int_arg(name: str, default: int, minimum: int, maximum: int) -> int:
    try:
        value = query_int(request.args, name, minimum=minimum, maximum=maximum)
    except NumberError as exc:
        raise DomainError(exc.message, field_errors={name: [exc.message]}) from None
    return default if value is None else value


@api_bp.get("/listings")
def list_listings():
    page = _int_arg("page", 1, 1, MAX_PAGE)
    per_page = _int_arg("per_page", 24, 1, MAX_PER_PAGE)
    sort = request.args.get("sort", "newest")
    if sort not in services.SORTS:
        raise DomainError(_("Cách sắp xếp không hợp lệ."), field_errors={"sort": list(services.SORTS)})
    query = services.public_listings_query()
    if request.args.get("category"):
        category = db.session.scalar(select(Category).where(Category.slug == request.args["category"]))
        if category is None:
            message = _("Không có danh mục «%(slug)s».", slug=request.args["category"])
            raise DomainError(message, field_errors={"category": [message]})
        query = query.where(Listing.category_id.in_(services.category_ids_below(category)))
    if request.args.get("shop"):
        if db.session.scalar(select(Shop.id).where(Shop.slug == request.args["shop"])) is None:
            message = _("Không có cửa hàng «%(slug)s».", slug=request.args["shop"])
            raise DomainError(message, field_errors={"shop": [message]})
        query = query.where(Shop.slug == request.args["shop"])
    pagination = db.paginate(
        query.order_by(*services.SORTS[sort]),
        page=page,
        per_page=per_page,
        max_per_page=MAX_PER_PAGE,
        error_out=False,
    )
    return jsonify(
        {
            "total": pagination.total,
            "page": pagination.page,
            "per_page": pagination.per_page,
            "items": [listing_json(item) for item in pagination.items],
        }
    )


@api_bp.get("/listings/<int:listing_id>")
def get_listing(listing_id: int):
    listing = db.session.scalar(services.public_listings_query().where(Listing.id == listing_id))
    if listing is None:
        raise NotFound(_("Sản phẩm không tồn tại hoặc đã ngừng bán."))
    return jsonify(listing_json(listing, full=True))


OPENAPI_SCHEMAS = {
    "ListingSummary": {
        "type": "object",
        "required": ["id", "title", "price_vnd", "unit", "url"],
        "properties": {
            "id": {"type": "integer"},
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "price_vnd": {"type": "integer", "description": "Integer đồng (VND has no minor unit)"},
            "unit": {"type": "string"},
            "in_stock": {"type": "boolean"},
            "stock": {"type": "integer"},
            "min_order_qty": {"type": "integer"},
            "category": {"type": "object"},
            "shop": {"type": "object"},
            "origin": {"type": "string", "nullable": True},
            "ocop_stars": {
                "type": "integer",
                "nullable": True,
                "description": "Only while the rating is valid and checked by the operator",
            },
            "certifications": {"type": "array", "items": {"type": "string"}},
            "url": {"type": "string", "format": "uri"},
            "image": {"type": "string", "nullable": True},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
    "Listing": {
        "allOf": [
            {"$ref": "#/components/schemas/ListingSummary"},
            {
                "type": "object",
                "properties": {
                    "description_html": {"type": "string"},
                    "sku": {"type": "string", "nullable": True},
                    "weight_grams": {"type": "integer", "nullable": True},
                    "harvest_season": {"type": "string", "nullable": True},
                    "batch_code": {"type": "string", "nullable": True},
                    "ocop": {
                        "type": "object",
                        "nullable": True,
                        "description": (
                            "The OCOP rating: null without one (or when the operator refused the claim); "
                            "`waiting` until the operator has checked the certificate (nothing else is "
                            "published then), `checked` while valid, `expired` 36 months after issue"
                        ),
                        "required": ["status", "active"],
                        "properties": {
                            "status": {"type": "string", "enum": ["waiting", "checked", "expired"]},
                            "active": {"type": "boolean", "description": "Whether the badge shows"},
                            "stars": {"type": "integer", "minimum": 1, "maximum": 5, "nullable": True},
                            "certificate_no": {"type": "string", "nullable": True},
                            "level": {
                                "type": "string",
                                "nullable": True,
                                "description": "province or national",
                            },
                            "issued_on": {"type": "string", "format": "date", "nullable": True},
                            "expires_on": {"type": "string", "format": "date", "nullable": True},
                        },
                    },
                    "images": {"type": "array", "items": {"type": "object"}},
                    "trace_url": {"type": "string"},
                },
            },
        ]
    },
}

OPENAPI_PATHS = {
    "/listings": {
        "get": {
            "summary": "Public listings, newest first",
            "operationId": "listListings",
            "description": (
                "Parameters are checked, never guessed: a number must be plain digits within its range "
                "(`page=1.0` or `per_page=1,0` is a 400), and an unknown category or shop slug is a 400."
            ),
            "parameters": [
                {
                    "name": "page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
                },
                {
                    "name": "per_page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 24},
                },
                {
                    "name": "category",
                    "in": "query",
                    "description": "category slug (includes sub-categories); an unknown slug is a 400",
                    "schema": {"type": "string"},
                },
                {
                    "name": "shop",
                    "in": "query",
                    "description": "shop slug; an unknown slug is a 400",
                    "schema": {"type": "string"},
                },
                {
                    "name": "sort",
                    "in": "query",
                    "schema": {"type": "string", "enum": list(services.SORTS), "default": "newest"},
                },
            ],
            "responses": {
                "200": {
                    "description": "A page of listings",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["total", "page", "per_page", "items"],
                                "properties": {
                                    "total": {"type": "integer", "minimum": 0},
                                    "page": {"type": "integer"},
                                    "per_page": {"type": "integer"},
                                    "items": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/ListingSummary"},
                                    },
                                },
                            }
                        }
                    },
                },
                "400": problem_response(
                    "A parameter out of range or not a plain whole number, an unknown sort, category or "
                    "shop (`errors` names the parameter)"
                ),
            },
        }
    },
    "/listings/{id}": {
        "get": {
            "summary": "One public listing",
            "operationId": "getListing",
            "parameters": [id_parameter()],
            "responses": {
                "200": {
                    "description": "The listing",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Listing"}}},
                },
                "404": problem_response("No public listing has this id"),
            },
        }
    },
}
