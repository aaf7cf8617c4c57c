"""The /api/v1 root and its OpenAPI 3 document; packages add their paths to it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, url_for

from .numbers import DB_INT_MAX

bp = Blueprint("api", __name__, url_prefix="/api/v1")

OPENAPI_BASE: dict[str, Any] = {
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
                "required": ["type", "title", "status", "detail"],
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "errors": {
                        "type": "object",
                        "description": "Per parameter or field: the problems found with it",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        }
    },
}


def problem_response(description: str) -> dict:
    """An OpenAPI response answered as RFC 9457 problem details."""
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def id_parameter(name: str = "id") -> dict:
    """A row id in the path: `<int:…>` matches 1…DB_INT_MAX digits only; anything else is a 404."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": DB_INT_MAX},
        "description": f"Ids are whole numbers up to {DB_INT_MAX}; an unknown or larger id is a 404",
    }


NO_NUL_PATTERN = "^[^\\x00]*$"
_NUL_IN_QUERY = problem_response("The query string carries a NUL character")
_TOO_MANY = {
    **problem_response("Too many requests: wait the number of seconds in Retry-After"),
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
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
    doc: dict[str, Any] = {
        **OPENAPI_BASE,
        "servers": [{"url": url_for("api.root", _external=True).rstrip("/")}],
        "paths": {path: _with_shared_answers(item) for path, item in sorted(registry["paths"].items())},
        "components": {
            "schemas": {**OPENAPI_BASE["components"]["schemas"], **registry["schemas"]},
            # Packages with authenticated endpoints name their schemes (e.g. the logistics bearer key).
            **(
                {"securitySchemes": current_app.extensions["openapi_security_schemes"]}
                if current_app.extensions.get("openapi_security_schemes")
                else {}
            ),
        },
        "info": {**OPENAPI_BASE["info"], "title": f"{current_app.config['PROVINCE_NAME']} marketplace API"},
    }
    return jsonify(doc)


def _with_shared_answers(path_item: dict) -> dict:
    """What holds for every operation whatever its package wrote: a NUL character in the query
    string is refused before any view (see create_app), so string parameters say so and a 400
    is listed; while the rate limits are installed (marketplace.limits, also when switched off by
    RATELIMIT_ENABLED: the document describes the product, not one test's settings), a 429 too."""
    from .limits import EXTENSION_KEY

    shared = {"400": _NUL_IN_QUERY}
    if EXTENSION_KEY in current_app.extensions:
        shared["429"] = _TOO_MANY
    return {
        method: {
            **operation,
            "parameters": [_without_nul(p) for p in operation.get("parameters", [])],
            "responses": {**shared, **operation["responses"]},
        }
        for method, operation in path_item.items()
    }


def _without_nul(parameter: dict) -> dict:
    schema = parameter.get("schema", {})
    if parameter.get("in") != "query" or schema.get("type") != "string" or "enum" in schema:
        return parameter
    return {**parameter, "schema": {"pattern": NO_NUL_PATTERN, **schema}}
