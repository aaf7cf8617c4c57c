"""Giao Hàng Tiết Kiệm (GHTK): quote, book, cancel and read shipments through GHTK's API.

What shared/docs/domain.md confirms is coded plainly: the `Token` header,
`services/shipment/fee`, `services/shipment/order` with `products` (weight in kg) and `order`
(`id` = our order code, pick_* and receiver fields, `pick_money` = COD, `value`, `is_freeship`)
answering `{success, message, order: {label, fee, …}}`, and `services/shipment/cancel/{label}`.
Everything else the adapter assumes is in UNCONFIRMED below, and nowhere else."""

from __future__ import annotations

import re
import urllib.parse
from datetime import datetime
from typing import Any, TypedDict

from ._http import Answer, call, check_base_url, snippet
from ._time import optional_time
from .base import (
    INSPECTION_RULES,
    Booking,
    CarrierAuthError,
    CarrierError,
    CarrierUnavailable,
    CarrierValidationError,
    Parcel,
    Quote,
)


class _Unconfirmed(TypedDict):
    create_query: str
    status_path: str
    by_partner_id: str
    fee_weight_unit: str
    transport: str
    pick_option: str
    hamlet_default: str
    inspection_notes: dict[str, str]
    add_insurance_fee: bool
    auth_messages: tuple[str, ...]
    duplicate_error_code: str
    field_words: dict[str, str]
    status_fee_key: str
    status_expected_key: str
    cancelled_statuses: frozenset[str]
    naive_time_zone: str
    daypart_hours: dict[str, int]
    tracking_url: str
    extra_statuses: dict[str, str | None]


# GHTK details NOT confirmed by the published contract (domain.md). Correct them here, in one place.
UNCONFIRMED: _Unconfirmed = {
    # services/shipment/order is called with this API version query.
    "create_query": "ver=1.5",
    # Reading a shipment: by GHTK's label, or by ours as "partner_id:<our code>".
    "status_path": "services/shipment/v2/{code}",
    "by_partner_id": "partner_id:{code}",
    # services/shipment/fee is a GET with query parameters; its `weight` is in grams (the
    # products of services/shipment/order are in kg, which domain.md confirms).
    "fee_weight_unit": "g",
    "transport": "road",
    "pick_option": "cod",  # a GHTK courier picks the parcel up at the shop
    # GHTK requires a hamlet; "Khác" (other) when the address names none. Districts are gone
    # since 1 July 2025: the adapter sends province, ward and street only.
    "hamlet_default": "Khác",
    # The floor's inspection rule, written into the order's note (GHTK has no field for it).
    "inspection_notes": {"allow": "Cho xem hàng, không cho thử", "forbid": "Không cho xem hàng"},
    # Booking.fee_vnd = order.fee + order.insurance_fee (what the shop pays).
    "add_insurance_fee": True,
    # Envelopes meaning "your token is wrong" (lower-case substrings of `message`).
    "auth_messages": ("token không hợp lệ", "invalid token", "token is not valid", "unauthorized"),
    # services/shipment/order answers this error.code for an order id it already holds.
    "duplicate_error_code": "ORDER_ID_EXIST",
    # Words in GHTK's (Vietnamese) validation messages -> the request field they are about.
    "field_words": {
        "phường/xã": "order.ward",
        "xã/phường": "order.ward",
        "ward": "order.ward",
        "tỉnh": "order.province",
        "province": "order.province",
        "số điện thoại": "order.tel",
        "hamlet": "order.hamlet",
        "pick_money": "order.pick_money",
        "products": "products",
    },
    # The status answer's fee and expected delivery.
    "status_fee_key": "ship_money",
    "status_expected_key": "deliver_date",
    # Status numbers meaning the shipment is cancelled already (a repeated cancel is a success).
    "cancelled_statuses": frozenset({"-1"}),
    # GHTK writes "2025-08-01 10:52:50" (Vietnam time) or with a "+07:00" offset.
    "naive_time_zone": "Asia/Ho_Chi_Minh",
    # estimated_deliver_time may read "Chiều 2025-08-04": a part of the day, then the date.
    "daypart_hours": {"sáng": 12, "chiều": 18, "tối": 21},
    "tracking_url": "https://i.ghtk.vn/{code}",
    # Status numbers GHTK documents beyond the list in domain.md -> the floor's vocabulary.
    "extra_statuses": {
        "7": None,  # could not pick up
        "8": None,  # pick-up postponed
        "10": "delivery_failed",  # delivery postponed
        "11": "returned",  # return reconciled
        "12": None,  # picking
        "13": "lost",  # compensated by GHTK
        "45": "delivered",  # courier reports delivered
        "49": "delivery_failed",  # courier reports delivery failed
        "123": "picked_up",  # courier reports picked up
        "127": None,  # courier reports could not pick up
        "128": None,  # courier reports pick-up postponed
        "410": "delivery_failed",  # courier reports delivery postponed
    },
}

PATH_FEE = "services/shipment/fee"
PATH_CREATE = "services/shipment/order"
PATH_CANCEL = "services/shipment/cancel/{label}"
FREESHIP = 1  # is_freeship: the shop pays GHTK's fee, pick_money is all the receiver pays

_FIELD_NAME = re.compile(r"\b((?:order|products)\.\w+|products)\b")


class _Duplicate(CarrierValidationError):
    """GHTK already holds an order with this id."""

    def __init__(self, message: str, *, label: str | None, status: int | None = None):
        super().__init__(message, status=status)
        self.label = label


def field_from_message(message: str) -> str | None:
    """The request field a GHTK validation message names ("order.ward"), when it can be told."""
    named = _FIELD_NAME.search(message)
    if named:
        return named.group(1)
    lowered = message.lower()
    for word, field in UNCONFIRMED["field_words"].items():
        if word in lowered:
            return field
    return None


def _amount(value: Any, what: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != int(value):
        raise CarrierUnavailable(f"GHTK answered a {what} that is not a whole amount: {value!r}")
    return int(value)


def _expected(value: Any) -> datetime | None:
    """An estimated time as GHTK writes it ("2025-08-04 18:00:00", "Chiều 2025-08-04"), or None."""
    if isinstance(value, str):
        word, _, rest = value.strip().partition(" ")
        hour = UNCONFIRMED["daypart_hours"].get(word.lower())
        if hour is not None and rest:
            value = f"{rest.strip()} {hour:02d}:00:00"
    return optional_time(value, naive_zone=UNCONFIRMED["naive_time_zone"])


def _kg(grams: int) -> float:
    return round(grams / 1000, 3)


class GHTKAdapter:
    kind = "ghtk"

    def __init__(self, *, base_url: str, credentials: dict[str, str], timeout: float = 15.0):
        token = credentials.get("token")
        if not token:
            raise ValueError("GHTK needs credentials {'token'}")
        if not timeout > 0:
            raise ValueError("timeout must be positive")
        self.base_url = check_base_url(base_url)
        self.timeout = float(timeout)
        self._headers = {"Token": str(token)}

    # -- the four operations ------------------------------------------------------------------

    def quote(self, parcel: Parcel) -> Quote:
        weight = parcel.weight_g if UNCONFIRMED["fee_weight_unit"] == "g" else _kg(parcel.weight_g)
        query = {
            "pick_province": parcel.pickup.province_name,
            "pick_ward": parcel.pickup.commune_name,
            "pick_address": parcel.pickup.street,
            "province": parcel.receiver.province_name,
            "ward": parcel.receiver.commune_name,
            "address": parcel.receiver.street,
            "weight": weight,
            "value": parcel.declared_value_vnd,
            "transport": UNCONFIRMED["transport"],
        }
        body = self._call("GET", PATH_FEE, query=query)
        fee = body.get("fee")
        if not isinstance(fee, dict) or "fee" not in fee:
            raise CarrierUnavailable("GHTK fee answer without fee.fee")
        if fee.get("delivery") is False:
            raise CarrierValidationError("GHTK does not deliver to this address", field="order.ward")
        total = _amount(fee["fee"], "fee")
        if UNCONFIRMED["add_insurance_fee"]:
            total += _amount(fee.get("insurance_fee") or 0, "insurance_fee")
        return Quote(fee_vnd=total, expected_delivery=None)

    def create_shipment(self, parcel: Parcel) -> Booking:
        payload = self.create_payload(parcel)
        existing = self._find(parcel.order_code)
        if existing is not None:
            return existing
        try:
            body = self._call("POST", PATH_CREATE, query=UNCONFIRMED["create_query"], json_body=payload)
        except _Duplicate:
            existing = self._find(parcel.order_code)
            if existing is None:
                raise CarrierUnavailable(
                    f"GHTK says order {parcel.order_code} is booked but cannot read it back yet"
                ) from None
            return existing
        order = body.get("order")
        if not isinstance(order, dict) or not order.get("label"):
            raise CarrierUnavailable("GHTK order answer without order.label")
        fee = _amount(order.get("fee", 0), "fee")
        if UNCONFIRMED["add_insurance_fee"]:
            fee += _amount(order.get("insurance_fee") or 0, "insurance_fee")
        return Booking(
            tracking_code=str(order["label"]),
            fee_vnd=fee,
            expected_delivery=_expected(order.get("estimated_deliver_time")),
        )

    def cancel_shipment(self, tracking_code: str) -> None:
        path = PATH_CANCEL.format(label=urllib.parse.quote(tracking_code, safe=":"))
        try:
            self._call("POST", path)
        except CarrierValidationError as refused:
            status = self.shipment_status(tracking_code)
            if status in UNCONFIRMED["cancelled_statuses"]:
                return
            raise CarrierError(
                f"GHTK refused to cancel {tracking_code} (status {status}): {refused.message}",
                status=refused.status,
            ) from None

    def shipment_status(self, tracking_code: str) -> str:
        order = self._order(tracking_code)
        status = order.get("status")
        if status is None or status == "" or isinstance(status, bool):
            raise CarrierUnavailable("GHTK status answer without order.status")
        return str(status)

    # -- requests -----------------------------------------------------------------------------

    def create_payload(self, parcel: Parcel) -> dict[str, Any]:
        """The services/shipment/order body for a parcel (public: the tests read it)."""
        if parcel.inspection not in INSPECTION_RULES:
            raise CarrierValidationError(
                f"inspection must be one of {INSPECTION_RULES}, not {parcel.inspection!r}", field="order.note"
            )
        pickup, receiver = parcel.pickup, parcel.receiver
        note = " ".join(
            part for part in (UNCONFIRMED["inspection_notes"][parcel.inspection], parcel.note) if part
        )
        return {
            "products": [
                {
                    "name": item.name,
                    "product_code": item.sku,
                    "quantity": item.quantity,
                    "weight": _kg(item.weight_g),
                    "price": item.value_vnd,
                }
                for item in parcel.items
            ],
            "order": {
                "id": parcel.order_code,
                "pick_name": pickup.name,
                "pick_tel": pickup.phone,
                "pick_address": pickup.street,
                "pick_ward": pickup.commune_name,
                "pick_province": pickup.province_name,
                "name": receiver.name,
                "tel": receiver.phone,
                "address": receiver.street,
                "ward": receiver.commune_name,
                "province": receiver.province_name,
                "hamlet": UNCONFIRMED["hamlet_default"],
                "pick_money": parcel.cod_vnd,
                "value": parcel.declared_value_vnd,
                "is_freeship": FREESHIP,
                "total_weight": _kg(parcel.weight_g),
                "note": note[:500],
                "transport": UNCONFIRMED["transport"],
                "pick_option": UNCONFIRMED["pick_option"],
            },
        }

    def _order(self, code: str) -> dict[str, Any]:
        path = UNCONFIRMED["status_path"].format(code=urllib.parse.quote(code, safe=":"))
        order = self._call("GET", path).get("order")
        if not isinstance(order, dict):
            raise CarrierUnavailable("GHTK status answer without order")
        return order

    def _find(self, order_code: str) -> Booking | None:
        """The booking GHTK holds for our order code, or None when it holds none."""
        try:
            order = self._order(UNCONFIRMED["by_partner_id"].format(code=order_code))
        except CarrierValidationError:
            return None  # GHTK answers "not found" as {success: false}
        label = order.get("label_id") or order.get("label")
        if not label:
            return None
        fee = _amount(order.get(UNCONFIRMED["status_fee_key"]) or 0, "fee")
        if UNCONFIRMED["add_insurance_fee"]:
            fee += _amount(order.get("insurance") or 0, "insurance")
        return Booking(
            tracking_code=str(label),
            fee_vnd=fee,
            expected_delivery=_expected(order.get(UNCONFIRMED["status_expected_key"])),
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | str | None = None,
        json_body: Any = None,
    ) -> dict[str, Any]:
        url = f"{self.base_url}/{path}"
        if query:
            url += "?" + (query if isinstance(query, str) else urllib.parse.urlencode(query))
        if method == "POST" and json_body is None:
            json_body = {}
        answer = call("GHTK", method, url, headers=self._headers, json_body=json_body, timeout=self.timeout)
        return _body(answer, path)


def _body(answer: Answer, path: str) -> dict[str, Any]:
    """A successful GHTK envelope, or the CarrierError its `success`, `message` and `error` say."""
    body = answer.body
    where = f"GHTK {path}"
    if not isinstance(body, dict):
        if 200 <= answer.status < 300:
            raise CarrierUnavailable(f"{where}: answer is not GHTK's JSON envelope: {answer.text!r}")
        raise CarrierError(f"{where}: HTTP {answer.status}: {answer.text}", status=answer.status)
    success = body.get("success")
    message = snippet(str(body.get("message") or ""))
    said = f"{where}: {message or answer.text}"
    if any(marker in message.lower() for marker in UNCONFIRMED["auth_messages"]):
        raise CarrierAuthError(said, status=answer.status)
    if success is True and 200 <= answer.status < 300:
        return body
    error: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else {}
    if error.get("code") == UNCONFIRMED["duplicate_error_code"]:
        label = error.get("ghtk_label")
        raise _Duplicate(said, label=str(label) if label else None, status=answer.status)
    if success is None and 200 <= answer.status < 300:
        raise CarrierUnavailable(f"{where}: answer is not GHTK's JSON envelope: {answer.text!r}")
    raise CarrierValidationError(said, field=field_from_message(message), status=answer.status)
