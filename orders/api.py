"""Public JSON: a listing's verified-buyer reviews and rating (for partners and platform feeds)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_babel import gettext as _

from catalog.models import Listing
from marketplace.api import id_parameter, problem_response
from marketplace.errors import NotFound
from marketplace.extensions import db

from . import services

api_bp = Blueprint("orders_api", __name__, url_prefix="/api/v1")


@api_bp.get("/listings/<int:listing_id>/reviews")
def listing_reviews(listing_id: int):
    listing = db.session.get(Listing, listing_id)
    if listing is None or not listing.is_public:
        raise NotFound(_("Sản phẩm không tồn tại hoặc đã ngừng bán."))
    average, count = services.rating_of_listing(listing_id)
    return jsonify(
        {
            "listing_id": listing_id,
            "rating": average,
            "count": count,
            "reviews": [
                {
                    "stars": r.stars,
                    "body": r.body,
                    "author": r.author_name,
                    "verified_buyer": True,
                    "created_at": r.created_at.isoformat() + "Z",
                    "shop_reply": (
                        {"body": r.reply_body, "replied_at": r.replied_at.isoformat() + "Z"}
                        if r.reply_body and r.replied_at
                        else None
                    ),
                }
                for r in services.recent_reviews(listing_id, 50)
            ],
        }
    )


OPENAPI_PATHS = {
    "/listings/{id}/reviews": {
        "get": {
            "summary": "Verified-buyer reviews of a listing (newest 50) and its average rating",
            "operationId": "listListingReviews",
            "parameters": [id_parameter()],
            "responses": {
                "200": {
                    "description": "Rating and reviews",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ListingReviews"}}
                    },
                },
                "404": problem_response("No public listing has this id"),
            },
        }
    },
}

OPENAPI_SCHEMAS = {
    "ListingReviews": {
        "type": "object",
        "properties": {
            "listing_id": {"type": "integer"},
            "rating": {"type": "number", "nullable": True, "description": "Average stars, 1 decimal"},
            "count": {"type": "integer"},
            "reviews": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "stars": {"type": "integer", "minimum": 1, "maximum": 5},
                        "body": {"type": "string"},
                        "author": {"type": "string"},
                        "verified_buyer": {"type": "boolean"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "shop_reply": {
                            "type": "object",
                            "nullable": True,
                            "description": "The shop's public reply, once per review (editable)",
                            "properties": {
                                "body": {"type": "string"},
                                "replied_at": {"type": "string", "format": "date-time"},
                            },
                        },
                    },
                },
            },
        },
    },
}
