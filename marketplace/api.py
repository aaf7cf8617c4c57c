"""The /api/v1 root and its OpenAPI 3 document; packages add their paths to it."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify, url_for

bp = Blueprint("api", __name__, url_prefix="/api/v1")

OPENAPI_BASE = {
    "openapi": "3.0.3",
    "info": {
        "title": "Provincial marketplace API",
        "version": "1.0.0",
        "description": "Public catalog, search and partner endpoints. Errors are RFC 9457 problem details.",
    },
    "components": {
        "schemas": {
            "Problem": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "errors": {"type": "object"},
                },
            },
        }
    },
}


def add_openapi(app: Flask, paths: dict, schemas: dict | None = None) -> None:
    """Packages describe their /api/v1 endpoints; the document is assembled per app."""
    registry = app.extensions.setdefault("openapi", {"paths": {}, "schemas": {}})
    registry["paths"].update(paths)
    registry["schemas"].update(schemas or {})


@bp.get("/")
def root():
    return jsonify({"version": "v1", "openapi": url_for("api.openapi", _external=True)})


@bp.get("/openapi.json")
def openapi():
    registry = current_app.extensions.get("openapi", {"paths": {}, "schemas": {}})
    doc = {**OPENAPI_BASE, "servers": [{"url": url_for("api.root", _external=True).rstrip("/")}]}
    doc["paths"] = dict(sorted(registry["paths"].items()))
    doc["components"] = {"schemas": {**OPENAPI_BASE["components"]["schemas"], **registry["schemas"]}}
    doc["info"] = {**doc["info"], "title": f"{current_app.config['PROVINCE_NAME']} marketplace API"}
    return jsonify(doc)
