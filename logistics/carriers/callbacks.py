"""Carriers' own callback bodies (GHN, GHTK) read into one InboundEvent, and their status tables.

Carriers do not sign callbacks and retry them (GHN ten times, 5 s apart): the view authenticates
the partner by the secret in its URL, and `event_id` is derived from what identifies the event
(the carrier's code, the status, the time), so every retry of one callback carries the same id.
A body that cannot be read raises CallbackError (the view answers 400/422)."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import ghn, ghtk
from ._time import parse_time
from .base import FLOOR_STATUSES

# Digits, or digits grouped by thousands ("385000", "385.000", "385,000"); never a decimal part.
_AMOUNT_TEXT = re.compile(r"[0-9]+|[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]{1,3}(?:,[0-9]{3})+", re.ASCII)
MAX_CODE = 64  # an order or tracking code longer than this is not one
MAX_REASON = 500


@dataclass(frozen=True)
class InboundEvent:
    event_id: str  # stable across the carrier's retries of the same callback
    order_code: str  # OUR order code (GHN ClientOrderCode, GHTK partner_id)
    carrier_status: str  # the carrier's own status, as text ("delivering", "5")
    occurred_at: datetime  # timezone-aware UTC
    tracking_code: str | None
    reason: str | None
    cod_collected_vnd: int | None  # set on a delivered status only: the COD the courier collected


class CallbackError(ValueError):
    """A callback body that cannot be read; the message says which field and why."""


# Confirmed statuses (shared/docs/domain.md and the issue) -> the floor's vocabulary. None: known,
# stored and shown, but it does not move the order. The carriers' further statuses come from the
# adapters' UNCONFIRMED tables. The core seeds each partner's editable mapping from these.
_GHN_STATUSES: dict[str, str | None] = {
    "ready_to_pick": None,
    "picking": None,
    "picked": "picked_up",
    "storing": "in_transit",
    "transporting": "in_transit",
    "delivering": "out_for_delivery",
    "delivered": "delivered",
    "delivery_fail": "delivery_failed",
    # Waiting at the hub after failed tries; the shop may still ask for another try, so the
    # order stays "delivery failed" until GHN starts the return.
    "waiting_to_return": "delivery_failed",
    "return": "returning",
    "returning": "returning",
    "returned": "returned",
    "cancel": None,  # the floor cancels orders itself; GHN's word only confirms it
    "lost": "lost",
    "damage": "damaged",
}
_GHTK_STATUSES: dict[str, str | None] = {
    "-1": None,  # cancelled
    "1": None,  # not received yet
    "2": None,  # received
    "3": "picked_up",
    "4": "out_for_delivery",
    "5": "delivered",
    "6": "delivered",  # reconciled (COD settled): delivered, if "5" was missed
    "9": "delivery_failed",
    "20": "returning",
    "21": "returned",
}

DEFAULT_STATUS_MAPS: dict[str, dict[str, str | None]] = {
    "ghn": {**_GHN_STATUSES, **ghn.UNCONFIRMED["extra_statuses"]},
    "ghtk": {**_GHTK_STATUSES, **ghtk.UNCONFIRMED["extra_statuses"]},
}
assert all(v is None or v in FLOOR_STATUSES for m in DEFAULT_STATUS_MAPS.values() for v in m.values())

TRACKING_URLS: dict[str, str] = {
    "ghn": ghn.UNCONFIRMED["tracking_url"],
    "ghtk": ghtk.UNCONFIRMED["tracking_url"],
}


def tracking_url(kind: str, code: str) -> str | None:
    """The carrier's public tracking page for a tracking code, or None for another kind."""
    from urllib.parse import quote

    template = TRACKING_URLS.get(kind)
    return template.format(code=quote(code, safe="")) if template else None


def parse_callback(kind: str, body: dict) -> InboundEvent:
    """A carrier's callback body as an InboundEvent. KeyError for a kind without callbacks;
    CallbackError for a body that is not the carrier's."""
    parsers: dict[str, Callable[[Mapping[str, Any]], InboundEvent]] = {"ghn": _parse_ghn, "ghtk": _parse_ghtk}
    if kind not in parsers:
        raise KeyError(f"no callback format for carrier kind {kind!r}")
    if not isinstance(body, Mapping):
        raise CallbackError(f"the body must be a JSON object, not {type(body).__name__}")
    return parsers[kind](body)


# -- GHN ------------------------------------------------------------------------------------------


def _parse_ghn(body: Mapping[str, Any]) -> InboundEvent:
    order_code = _code(body, "ClientOrderCode", required=True)
    assert order_code is not None
    tracking = _code(body, "OrderCode", required=False)
    status = _text(body, "Status", required=True, limit=MAX_CODE)
    assert status is not None
    occurred = _time(body, "Time", ghn.UNCONFIRMED["naive_time_zone"])
    kind_of_callback = _text(body, "Type", required=False, limit=MAX_CODE) or ""
    reason = _reason(_text(body, "Reason", required=False), _text(body, "ReasonCode", required=False))
    cod = _whole(body, "CODAmount")
    collected = cod if DEFAULT_STATUS_MAPS["ghn"].get(status) == "delivered" else None
    return InboundEvent(
        event_id=_event_id("ghn", tracking or order_code, kind_of_callback, status, occurred),
        order_code=order_code,
        carrier_status=status,
        occurred_at=occurred,
        tracking_code=tracking,
        reason=reason,
        cod_collected_vnd=collected,
    )


# -- GHTK -----------------------------------------------------------------------------------------


def _parse_ghtk(body: Mapping[str, Any]) -> InboundEvent:
    order_code = _code(body, "partner_id", required=True)
    assert order_code is not None
    tracking = _code(body, "label_id", required=False)
    status = _status_number(body, "status_id")
    occurred = _time(body, "action_time", ghtk.UNCONFIRMED["naive_time_zone"])
    reason = _reason(_text(body, "reason", required=False), _text(body, "reason_code", required=False))
    cod = _whole(body, "pick_money")
    collected = cod if DEFAULT_STATUS_MAPS["ghtk"].get(status) == "delivered" else None
    return InboundEvent(
        event_id=_event_id("ghtk", tracking or order_code, "", status, occurred),
        order_code=order_code,
        carrier_status=status,
        occurred_at=occurred,
        tracking_code=tracking,
        reason=reason,
        cod_collected_vnd=collected,
    )


# -- fields ---------------------------------------------------------------------------------------


def _event_id(kind: str, code: str, callback_type: str, status: str, occurred: datetime) -> str:
    """The same callback, retried, gives the same id; another status or time another one."""
    key = "\x1f".join((kind, code, callback_type, status, occurred.isoformat()))
    return f"{kind}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}"


def _text(body: Mapping[str, Any], name: str, *, required: bool, limit: int = MAX_REASON) -> str | None:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise CallbackError(f"{name} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise CallbackError(f"{name} must be text, not {type(value).__name__}")
    text = str(value).strip()
    if "\x00" in text:  # PostgreSQL text cannot hold it: a clear 422, not a failed INSERT
        raise CallbackError(f"{name} contains a NUL character")
    if len(text) > limit:
        if required:
            raise CallbackError(f"{name} is longer than {limit} characters")
        text = text[: limit - 1] + "…"
    return text


def _code(body: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    text = _text(body, name, required=required, limit=MAX_CODE)
    if text is not None and (
        len(text) > MAX_CODE or any(ch.isspace() or not ch.isprintable() for ch in text)
    ):
        raise CallbackError(f"{name} is not a code: {text[:MAX_CODE]!r}")
    return text


def _status_number(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise CallbackError(f"{name} is missing")
    if isinstance(value, bool):
        raise CallbackError(f"{name} must be a number")
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        value = int(value)
    text = str(value).strip() if isinstance(value, (int, str)) else ""
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 6:
        raise CallbackError(f"{name} must be a whole number, not {value!r}")
    return str(int(text))


def _time(body: Mapping[str, Any], name: str, naive_zone: str) -> datetime:
    value = body.get(name)
    if value is None or value == "":
        raise CallbackError(f"{name} is missing")
    try:
        return parse_time(value, naive_zone=naive_zone)
    except ValueError as exc:
        raise CallbackError(f"{name} is not a time: {str(value)[:64]!r}") from exc


def _whole(body: Mapping[str, Any], name: str) -> int | None:
    """An amount of đồng: an integer, an integral float, or digits (form-encoded bodies)."""
    value = body.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        if not _AMOUNT_TEXT.fullmatch(text) or len(text) > 16:
            raise CallbackError(f"{name} must be a whole amount, not {value[:32]!r}")
        return int(re.sub(r"[.,]", "", text))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CallbackError(f"{name} must be a whole amount, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or value != int(value) or value > 10**12:
        raise CallbackError(f"{name} must be a whole, non-negative amount, not {value!r}")
    return int(value)


def _reason(reason: str | None, code: str | None) -> str | None:
    if reason and code:
        return f"[{code}] {reason}"
    return reason or code
