"""OpenAPI description of /api/v1/logistics (merged into /api/v1/openapi.json)."""

from __future__ import annotations

from marketplace.api import problem_response
from marketplace.money import MAX_TOTAL_VND

SECURITY_SCHEMES = {
    "partnerKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A logistics partner's API key (lgk_….…), issued by the operator and shown once",
    }
}
_SECURED: list[dict[str, list[str]]] = [{"partnerKey": []}]
_401 = problem_response("No key, a revoked key or a paused partner")
_404 = problem_response("No order with this code is assigned to this partner")
_CODE = {
    "name": "code",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 40},
}
_STR = {"type": "string"}
_NO_NUL = "^[^\\x00]*$"
_NOT_BLANK = "^[^\\x00]*[^\\x00\\s][^\\x00]*$"  # some visible character, no NUL
_INT = {"type": "integer"}

_CONTACT = {
    "type": "object",
    "required": ["name", "phone", "street", "commune", "province"],
    "properties": dict.fromkeys(("name", "phone", "street", "commune", "province"), _STR),
}

OPENAPI_SCHEMAS = {
    "LogisticsOrder": {
        "type": "object",
        "required": [
            "code",
            "status",
            "pickup",
            "receiver",
            "items",
            "parcel",
            "cod_vnd",
            "inspection",
            "note",
        ],
        "properties": {
            "code": _STR,
            "status": {"type": "string", "description": "The order's status on the floor"},
            "shipment_status": {"type": "string", "nullable": True},
            "tracking_code": {"type": "string", "nullable": True},
            "pickup": _CONTACT,
            "receiver": _CONTACT,
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": _STR,
                        "sku": _STR,
                        "quantity": _INT,
                        "weight_g": _INT,
                        "value_vnd": _INT,
                    },
                },
            },
            "parcel": {
                "type": "object",
                "properties": dict.fromkeys(("weight_g", "length_cm", "width_cm", "height_cm"), _INT),
            },
            "cod_vnd": {
                "type": "integer",
                "minimum": 0,
                "description": "To collect from the receiver; 0 when prepaid",
            },
            "declared_value_vnd": _INT,
            "inspection": {"type": "string", "enum": ["allow", "forbid"]},
            "note": _STR,
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
    "LogisticsFeedPage": {
        "type": "object",
        "required": ["data", "next_cursor", "has_more"],
        "properties": {
            "data": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["change_id", "type", "changed_at", "order"],
                    "properties": {
                        "change_id": _STR,
                        "type": {
                            "type": "string",
                            "enum": ["order.ready_for_pickup", "order.updated", "order.cancelled"],
                        },
                        "changed_at": {"type": "string", "format": "date-time"},
                        "order": {"$ref": "#/components/schemas/LogisticsOrder"},
                    },
                },
            },
            "next_cursor": {"type": "string", "description": "Opaque: pass it back as `cursor`"},
            "has_more": {"type": "boolean"},
        },
    },
    "ShipmentEventIn": {
        "type": "object",
        "required": ["event_id", "status", "occurred_at"],
        "properties": {
            "event_id": {"type": "string", "minLength": 1, "maxLength": 120, "pattern": _NOT_BLANK},
            "status": {
                "type": "string",
                "enum": [
                    "picked_up",
                    "in_transit",
                    "out_for_delivery",
                    "delivered",
                    "delivery_failed",
                    "returning",
                    "returned",
                    "lost",
                    "damaged",
                ],
            },
            "occurred_at": {"type": "string", "format": "date-time"},
            "tracking_code": {"type": "string", "maxLength": 80, "pattern": _NO_NUL},
            "note": {"type": "string", "maxLength": 1000, "pattern": _NO_NUL},
            "reason": {"type": "string", "maxLength": 500, "pattern": _NO_NUL},
            "cod_collected_vnd": {"type": "integer", "minimum": 0, "maximum": MAX_TOTAL_VND},
        },
    },
    "ShipmentEventResult": {
        "type": "object",
        "properties": {
            "event_id": _STR,
            "outcome": {"type": "string", "enum": ["applied", "recorded", "late", "unknown"]},
            "replay": {"type": "boolean"},
            "order_status": _STR,
            "shipment_status": _STR,
        },
    },
    "RemittanceIn": {
        "type": "object",
        "required": ["reference", "transfer_date", "lines"],
        "properties": {
            "reference": {"type": "string", "minLength": 1, "maxLength": 120, "pattern": _NOT_BLANK},
            "transfer_date": {"type": "string", "format": "date"},
            "lines": {
                "type": "array",
                "minItems": 1,
                "maxItems": 10000,
                "items": {
                    "type": "object",
                    "required": ["order_code", "amount_vnd"],
                    "properties": {
                        "order_code": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 40,
                            "pattern": _NOT_BLANK,
                        },
                        "amount_vnd": {"type": "integer", "minimum": 0, "maximum": MAX_TOTAL_VND},
                    },
                },
            },
        },
    },
    "Remittance": {
        "type": "object",
        "properties": {
            "reference": _STR,
            "transfer_date": {"type": "string", "format": "date"},
            "total_vnd": _INT,
            "created": {
                "type": "boolean",
                "description": "false: this reference was already recorded, nothing changed",
            },
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "order_code": _STR,
                        "amount_vnd": _INT,
                        "problem": {
                            "type": "string",
                            "nullable": True,
                            "enum": ["amount_differs", "unknown_order", "remitted_twice", None],
                        },
                    },
                },
            },
        },
    },
}


def _json(ref: str, description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


OPENAPI_PATHS = {
    "/logistics/orders": {
        "get": {
            "summary": "The partner's order feed: orders ready for pickup or changed since the cursor, oldest first",
            "operationId": "logisticsOrderFeed",
            "security": _SECURED,
            "parameters": [
                {
                    "name": "cursor",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 200},
                },
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 500},
                },
            ],
            "responses": {
                "200": {
                    "description": "One page (JSON, or CSV with a BOM for Accept: text/csv)",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/LogisticsFeedPage"}},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                "401": _401,
                "422": problem_response("limit out of range"),
            },
        }
    },
    "/logistics/orders/{code}": {
        "get": {
            "summary": "One order assigned to this partner",
            "operationId": "logisticsOrder",
            "security": _SECURED,
            "parameters": [_CODE],
            "responses": {"200": _json("LogisticsOrder", "The order"), "401": _401, "404": _404},
        }
    },
    "/logistics/orders/{code}/events": {
        "post": {
            "summary": "A shipment event in the floor's vocabulary; idempotent on event_id",
            "operationId": "logisticsPostEvent",
            "security": _SECURED,
            "parameters": [_CODE],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ShipmentEventIn"}}},
            },
            "responses": {
                "200": _json("ShipmentEventResult", "A replay of an event already received: nothing changed"),
                "201": _json("ShipmentEventResult", "Stored (and applied unless late)"),
                "401": _401,
                "404": _404,
                "409": problem_response(
                    "The order cannot make this move, or this event_id was used for another event"
                    " (the reason is in detail)"
                ),
                "415": problem_response("Not JSON"),
                "422": problem_response("Malformed event"),
            },
        }
    },
    "/logistics/remittances": {
        "post": {
            "summary": "A COD remittance: reference, transfer date, lines of order code and amount",
            "operationId": "logisticsPostRemittance",
            "security": _SECURED,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RemittanceIn"}}},
            },
            "responses": {
                "200": _json("Remittance", "This reference was already recorded: nothing changed"),
                "201": _json("Remittance", "Recorded, each line checked"),
                "401": _401,
                "422": problem_response("Malformed remittance"),
            },
        }
    },
}
