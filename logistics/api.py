"""The partner API under /api/v1/logistics: the order feed, one order, shipment events in, COD
remittances, and the carriers' native callbacks. Partners authenticate with
`Authorization: Bearer <key>`; carriers' callbacks with the secret token in their URL. Failures
are RFC 9457 problem details and never data: no key, a revoked key or a paused partner is a 401,
another partner's order a 404."""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from typing import Any

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from marketplace.csv_writer import csv_response
from marketplace.errors import Conflict, DomainError, NotFound, ValidationFailed, problem
from marketplace.extensions import csrf, db
from marketplace.money import MAX_TOTAL_VND

from . import events, feed, remittances, services
from .events import Incoming
from .models import Partner

bp = Blueprint("logistics_api", __name__, url_prefix="/api/v1/logistics")
csrf.exempt(bp)  # machine-to-machine: a bearer key, or a carrier's secret callback token


def _exempt(reason: str):
    """Say why a POST of this blueprint needs no CSRF token (tests/marketplace/test_permissions.py)."""

    def mark(view):
        view.csrf_exempt_reason = reason
        return view

    return mark


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


def _partner() -> Partner:
    header = request.headers.get("Authorization", "")
    scheme, _sep, key = header.partition(" ")
    partner = services.partner_for_key(key.strip()) if scheme.lower() == "bearer" else None
    if partner is None:
        raise Unauthorized(_("Thiếu khóa API, khóa đã bị thu hồi hoặc đối tác đang tạm dừng."))
    g.logistics_partner = partner
    return partner


@bp.after_request
def _www_authenticate(response):
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="logistics"'
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _wants_csv() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
    return (
        best == "text/csv"
        and request.accept_mimetypes["text/csv"] > request.accept_mimetypes["application/json"]
    )


def _limit() -> int:
    raw = request.args.get("limit", "")
    if raw == "":
        return feed.DEFAULT_LIMIT
    # ASCII digits only, and few: "²" passes str.isdigit() but int() cannot read it, nor 5000 digits
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= feed.MAX_LIMIT:
        raise ValidationFailed({"limit": [f"limit must be a whole number from 1 to {feed.MAX_LIMIT}"]})
    return int(raw)


@bp.get("/orders")
def order_feed():
    partner = _partner()
    result = feed.page(partner, request.args.get("cursor") or None, _limit())
    if _wants_csv():
        response = csv_response("logistics-orders.csv", feed.CSV_HEADER, feed.csv_rows(result["data"]))
        response.headers["X-Next-Cursor"] = result["next_cursor"]
        response.headers["X-Has-More"] = "true" if result["has_more"] else "false"
        return response
    return jsonify(result)


def _shipment_order(partner: Partner, code: str):
    shipment = events.shipment_for(partner, code)
    return feed.load_orders([shipment.order_id])[shipment.order_id]


@bp.get("/orders/<code>")
def one_order(code: str):
    partner = _partner()
    return jsonify(feed.order_json(_shipment_order(partner, code)))


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise DomainError("the body must be a JSON object", field_errors={"body": ["expected a JSON object"]})
    return body


def _text(
    body: dict, name: str, errors: dict[str, list[str]], *, required: bool = False, max_len: int = 200
) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            errors.setdefault(name, []).append("required")
        return None
    if (
        not isinstance(value, str)
        or (required and not value.strip())
        or len(value) > max_len
        or "\x00" in value
    ):
        errors.setdefault(name, []).append(f"a string of at most {max_len} characters")
        return None
    return value.strip()


def _datetime(value: Any, name: str, errors: dict[str, list[str]]) -> datetime | None:
    if not isinstance(value, str):
        errors.setdefault(name, []).append("required, an ISO 8601 date-time")
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors.setdefault(name, []).append("an ISO 8601 date-time")
        return None
    if not 2000 <= parsed.year <= 2100:
        errors.setdefault(name, []).append("a date-time between 2000 and 2100")
        return None
    return parsed


def _ingest(partner: Partner, incoming: Incoming):
    """Apply the event and commit; the answer is read before the commit (which expires every
    loaded row). Two deliveries of one event id at the same instant: the second breaks the UNIQUE
    (partner, event id) or finds the order moved, and is answered as the replay it is."""
    try:
        return _commit_and_answer(events.ingest(partner, incoming))
    except (IntegrityError, Conflict):
        # Lost a race (the same event, or another event of the order, committed meanwhile; SQLite
        # has no row locks): try once more on what is committed now — a replay, a move, or the
        # real conflict.
        db.session.rollback()
        return _commit_and_answer(events.ingest(partner, incoming))


def _commit_and_answer(outcome: events.Outcome):
    db.session.flush()  # a duplicate event id fails here (IntegrityError), before anything is read
    event = outcome.event
    body = {
        "event_id": event.event_id,
        "outcome": event.outcome,
        "replay": outcome.replay,
        "order_status": outcome.order_status,
        "shipment_status": outcome.shipment_status,
    }
    db.session.commit()
    return jsonify(body), 200 if outcome.replay else 201


@bp.post("/orders/<code>/events")
@_exempt("partner API: Authorization: Bearer <key>, no cookies")
def post_event(code: str):
    partner = _partner()
    body = _json_body()
    errors: dict[str, list[str]] = {}
    event_id = _text(body, "event_id", errors, required=True, max_len=120)
    status = body.get("status")
    if status not in services.FLOOR_STATUSES:
        errors.setdefault("status", []).append("one of " + ", ".join(services.FLOOR_STATUSES))
    occurred = _datetime(body.get("occurred_at"), "occurred_at", errors)
    tracking = _text(body, "tracking_code", errors, max_len=80)
    note = _text(body, "note", errors, max_len=1000)
    reason = _text(body, "reason", errors, max_len=500)
    cod = body.get("cod_collected_vnd")
    if cod is not None and (
        not isinstance(cod, int) or isinstance(cod, bool) or not 0 <= cod <= MAX_TOTAL_VND
    ):
        errors.setdefault("cod_collected_vnd", []).append("a whole number of đồng ≥ 0")
    if errors:
        raise ValidationFailed(errors, "the event is not valid")
    assert event_id is not None and occurred is not None
    return _ingest(partner, Incoming(event_id, code, str(status), occurred, tracking, reason, note, cod))


@bp.post("/callbacks/<slug>/<token>")
@_exempt("carrier callback: the secret token in the URL, no cookies")
def carrier_callback(slug: str, token: str):
    """A carrier's own callback body (GHN JSON, GHTK form or JSON), its own status words mapped
    through the partner's table. The token in the path is the authentication."""
    partner = db.session.query(Partner).filter_by(slug=slug).one_or_none()
    from .secrets import token_matches

    if partner is None or partner.kind == "generic" or not token_matches(token, partner.callback_token_hash):
        # The same answer whether the partner or the token is wrong.
        raise NotFound("unknown callback address")
    if partner.state != "active":
        return problem(503, "Service Unavailable", "partner paused")
    from .carriers import CallbackError, parse_callback

    body = request.get_json(silent=True)
    if body is None and request.form:
        body = request.form.to_dict()
    if not isinstance(body, dict):
        raise DomainError("the body must be a JSON object or a form")
    try:
        parsed = parse_callback(partner.kind, body)
    except CallbackError as exc:
        raise ValidationFailed({"body": [str(exc)]}, str(exc)) from None
    if parsed.cod_collected_vnd is not None and parsed.cod_collected_vnd > MAX_TOTAL_VND:
        raise ValidationFailed({"body": ["COD amount beyond any order"]}, "COD amount beyond any order")
    return _ingest(
        partner,
        Incoming(
            parsed.event_id,
            parsed.order_code,
            parsed.carrier_status,
            parsed.occurred_at,
            parsed.tracking_code,
            parsed.reason,
            None,
            parsed.cod_collected_vnd,
            native=True,
        ),
    )


@bp.post("/remittances")
@_exempt("partner API: Authorization: Bearer <key>, no cookies")
def post_remittance():
    partner = _partner()
    body = _json_body()
    errors: dict[str, list[str]] = {}
    reference = _text(body, "reference", errors, required=True, max_len=120)
    raw_date = body.get("transfer_date")
    transfer_date = None
    with contextlib.suppress(ValueError):
        transfer_date = date.fromisoformat(raw_date) if isinstance(raw_date, str) else None
    if transfer_date is None:
        errors["transfer_date"] = ["required, YYYY-MM-DD"]
    raw_lines = body.get("lines")
    lines: list[tuple[str, int]] = []
    if not isinstance(raw_lines, list) or not raw_lines or len(raw_lines) > 10000:
        errors["lines"] = ["a list of 1 to 10000 {order_code, amount_vnd}"]
    else:
        for n, line in enumerate(raw_lines):
            if not isinstance(line, dict):
                errors[f"lines[{n}]"] = ["an object {order_code, amount_vnd}"]
                continue
            code, amount = line.get("order_code"), line.get("amount_vnd")
            if not isinstance(code, str) or not 1 <= len(code) <= 40 or "\x00" in code:
                errors[f"lines[{n}].order_code"] = ["a string of 1 to 40 characters"]
            elif not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= MAX_TOTAL_VND:
                errors[f"lines[{n}].amount_vnd"] = ["a whole number of đồng ≥ 0"]
            else:
                lines.append((code.strip(), amount))
    if errors:
        raise ValidationFailed(errors, "the remittance is not valid")
    assert reference is not None and transfer_date is not None
    remittance, created = remittances.record(partner, reference, transfer_date, lines)
    db.session.commit()
    return jsonify(remittance_json(remittance, created)), 201 if created else 200


def remittance_json(remittance, created: bool) -> dict[str, Any]:
    return {
        "reference": remittance.reference,
        "transfer_date": remittance.transfer_date.isoformat(),
        "total_vnd": remittance.total_vnd,
        "created": created,
        "lines": [
            {"order_code": line.order_code, "amount_vnd": line.amount_vnd, "problem": line.problem}
            for line in remittance.lines
        ],
    }
