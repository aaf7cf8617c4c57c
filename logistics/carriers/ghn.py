"""Giao Hàng Nhanh (GHN): quote, book, cancel and read shipments through GHN's public API v2.

What shared/docs/domain.md confirms is coded plainly: the `Token` and `ShopId` headers, JSON
POSTs to `shipping-order/fee`, `shipping-order/create` (payment_type_id, required_note,
client_order_code, to_*, cod_amount, weight, sizes, items) answering
`{code, message, data: {order_code, total_fee, expected_delivery_time}}`, and
`switch-status/cancel` with `order_codes`. Everything else the adapter assumes is in UNCONFIRMED
below, and nowhere else."""

from __future__ import annotations

import re
from typing import Any, TypedDict

from ._http import Answer, call, check_base_url, retry_after_seconds, snippet
from ._time import optional_time
from .base import (
    INSPECTION_RULES,
    Booking,
    CarrierAuthError,
    CarrierError,
    CarrierRateLimited,
    CarrierUnavailable,
    CarrierValidationError,
    Parcel,
    Quote,
)


class _Unconfirmed(TypedDict):
    detail_path: str
    detail_by_client_code_path: str
    service_type_id: int
    send_ward_names: bool
    fee_total_key: str
    detail_fee_key: str
    detail_expected_key: str
    auth_messages: tuple[str, ...]
    duplicate_markers: tuple[str, ...]
    cancelled_statuses: frozenset[str]
    naive_time_zone: str
    tracking_url: str
    extra_statuses: dict[str, str | None]


# GHN details NOT confirmed by the published contract (domain.md). Correct them here, in one place.
UNCONFIRMED: _Unconfirmed = {
    # Reading a shipment: by GHN's code, and by ours (the read-back that makes booking idempotent).
    "detail_path": "shipping-order/detail",
    "detail_by_client_code_path": "shipping-order/detail-by-client-code",
    # 2 = GHN's standard e-commerce service ("hàng nhẹ").
    "service_type_id": 2,
    # Ward codes after the 1 July 2025 reorganisation are unconfirmed: the adapter sends the
    # official commune code as to_ward_code / from_ward_code AND the commune and province names
    # (to_ward_name, to_province_name…) so GHN can resolve the address either way.
    "send_ward_names": True,
    # shipping-order/fee answers data.total; shipping-order/detail answers these two.
    "fee_total_key": "total",
    "detail_fee_key": "total_fee",
    "detail_expected_key": "leadtime",
    # Envelopes that mean "your credentials are wrong" even when the HTTP status is not 401/403
    # (lower-case substrings of `message`, or `code_message`).
    "auth_messages": ("token is not valid", "token không hợp lệ", "lỗi lấy thông tin shop", "shop not found"),
    # How GHN says a client_order_code was already booked (substrings of code_message/message).
    "duplicate_markers": ("duplicate", "đã tồn tại", "already exist"),
    # Status words meaning the shipment is cancelled already (a repeated cancel is a success).
    "cancelled_statuses": frozenset({"cancel"}),
    # GHN writes times with "Z"; a time without an offset is read as Vietnam time.
    "naive_time_zone": "Asia/Ho_Chi_Minh",
    # GHN's public tracking page.
    "tracking_url": "https://donhang.ghn.vn/?order_code={code}",
    # Status words GHN documents beyond the list in domain.md -> the floor's vocabulary.
    "extra_statuses": {
        "money_collect_picking": None,
        "sorting": "in_transit",
        "money_collect_delivering": "out_for_delivery",
        "return_transporting": "returning",
        "return_sorting": "returning",
        "return_fail": None,
        "exception": None,
    },
}

PATH_FEE = "shipping-order/fee"
PATH_CREATE = "shipping-order/create"
PATH_CANCEL = "switch-status/cancel"

PAYMENT_SHOP_PAYS = 1  # payment_type_id: 1 = the shop pays GHN's fee (the buyer paid the floor)
# required_note from the floor's inspection rule. GHN's third value, CHOTHUHANG ("may try it
# on"), has no rule on the floor.
REQUIRED_NOTE = {"allow": "CHOXEMHANGKHONGTHU", "forbid": "KHONGCHOXEMHANG"}
REQUIRED_NOTES = ("CHOTHUHANG", "CHOXEMHANGKHONGTHU", "KHONGCHOXEMHANG")

_GO_FIELD = re.compile(r"Field validation for '(\w+)'")
_PAYLOAD_FIELD = re.compile(
    r"\b(to_ward_code|to_name|to_phone|to_address|from_ward_code|from_name|from_phone|from_address|"
    r"cod_amount|weight|length|width|height|items|required_note|payment_type_id|client_order_code|"
    r"insurance_value|service_type_id)\b"
)


class _Duplicate(CarrierValidationError):
    """GHN already holds a shipment with this client_order_code."""


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def field_from_message(message: str) -> str | None:
    """The request field a GHN validation message names, in the request's own spelling."""
    go = _GO_FIELD.search(message)
    if go:
        return _snake(go.group(1))
    plain = _PAYLOAD_FIELD.search(message)
    return plain.group(1) if plain else None


def _amount(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != int(value):
        raise CarrierUnavailable(f"GHN answered a {what} that is not a whole amount: {value!r}")
    return int(value)


class GHNAdapter:
    kind = "ghn"

    def __init__(self, *, base_url: str, credentials: dict[str, str], timeout: float = 15.0):
        token, shop_id = credentials.get("token"), credentials.get("shop_id")
        if not token or not shop_id:
            raise ValueError("GHN needs credentials {'token', 'shop_id'}")
        if not timeout > 0:
            raise ValueError("timeout must be positive")
        self.base_url = check_base_url(base_url)
        self.timeout = float(timeout)
        self._headers = {"Token": str(token), "ShopId": str(shop_id)}

    # -- the four operations ------------------------------------------------------------------

    def quote(self, parcel: Parcel) -> Quote:
        data = self._post(PATH_FEE, self._fee_payload(parcel))
        if not isinstance(data, dict) or UNCONFIRMED["fee_total_key"] not in data:
            raise CarrierUnavailable(f"GHN fee answer without data.{UNCONFIRMED['fee_total_key']}")
        return Quote(fee_vnd=_amount(data[UNCONFIRMED["fee_total_key"]], "fee"), expected_delivery=None)

    def create_shipment(self, parcel: Parcel) -> Booking:
        payload = self.create_payload(parcel)
        existing = self._find(parcel.order_code)
        if existing is not None:
            return existing
        try:
            data = self._post(PATH_CREATE, payload)
        except _Duplicate:
            existing = self._find(parcel.order_code)
            if existing is None:
                raise CarrierUnavailable(
                    f"GHN says order {parcel.order_code} is booked but cannot read it back yet"
                ) from None
            return existing
        if not isinstance(data, dict) or not data.get("order_code"):
            raise CarrierUnavailable("GHN create answer without data.order_code")
        return Booking(
            tracking_code=str(data["order_code"]),
            fee_vnd=_amount(data.get("total_fee", 0), "total_fee"),
            expected_delivery=optional_time(
                data.get("expected_delivery_time"), naive_zone=UNCONFIRMED["naive_time_zone"]
            ),
        )

    def cancel_shipment(self, tracking_code: str) -> None:
        data = self._post(PATH_CANCEL, {"order_codes": [tracking_code]})
        rows = data if isinstance(data, list) else []
        row = next((r for r in rows if isinstance(r, dict) and r.get("order_code") == tracking_code), None)
        if row is not None and row.get("result") is True:
            return
        status = self.shipment_status(tracking_code)
        if status in UNCONFIRMED["cancelled_statuses"]:
            return
        said = snippet(str(row.get("message") or "")) if row else "no result for this code"
        raise CarrierError(f"GHN refused to cancel {tracking_code} (status {status}): {said}")

    def shipment_status(self, tracking_code: str) -> str:
        data = self._post(UNCONFIRMED["detail_path"], {"order_code": tracking_code})
        if not isinstance(data, dict) or not data.get("status"):
            raise CarrierUnavailable("GHN detail answer without data.status")
        return str(data["status"])

    # -- requests -----------------------------------------------------------------------------

    def _fee_payload(self, parcel: Parcel) -> dict[str, Any]:
        body: dict[str, Any] = {
            "service_type_id": UNCONFIRMED["service_type_id"],
            "from_ward_code": parcel.pickup.commune_code,
            "to_ward_code": parcel.receiver.commune_code,
            "weight": parcel.weight_g,
            "length": parcel.length_cm,
            "width": parcel.width_cm,
            "height": parcel.height_cm,
            "insurance_value": parcel.declared_value_vnd,
            "cod_value": parcel.cod_vnd,
        }
        if UNCONFIRMED["send_ward_names"]:
            body |= {
                "from_ward_name": parcel.pickup.commune_name,
                "from_province_name": parcel.pickup.province_name,
                "to_ward_name": parcel.receiver.commune_name,
                "to_province_name": parcel.receiver.province_name,
            }
        return body

    def create_payload(self, parcel: Parcel) -> dict[str, Any]:
        """The shipping-order/create body for a parcel (public: the tests read it)."""
        if parcel.inspection not in INSPECTION_RULES:
            raise CarrierValidationError(
                f"inspection must be one of {INSPECTION_RULES}, not {parcel.inspection!r}",
                field="required_note",
            )
        pickup, receiver = parcel.pickup, parcel.receiver
        body: dict[str, Any] = {
            "payment_type_id": PAYMENT_SHOP_PAYS,
            "required_note": REQUIRED_NOTE[parcel.inspection],
            "note": parcel.note,
            "client_order_code": parcel.order_code,
            "service_type_id": UNCONFIRMED["service_type_id"],
            "from_name": pickup.name,
            "from_phone": pickup.phone,
            "from_address": pickup.one_line(),
            "from_ward_code": pickup.commune_code,
            "to_name": receiver.name,
            "to_phone": receiver.phone,
            "to_address": receiver.one_line(),
            "to_ward_code": receiver.commune_code,
            "cod_amount": parcel.cod_vnd,
            "insurance_value": parcel.declared_value_vnd,
            "content": ", ".join(item.name for item in parcel.items)[:2000],
            "weight": parcel.weight_g,
            "length": parcel.length_cm,
            "width": parcel.width_cm,
            "height": parcel.height_cm,
            "items": [
                {
                    "name": item.name,
                    "code": item.sku,
                    "quantity": item.quantity,
                    "price": item.value_vnd,
                    "weight": item.weight_g,
                }
                for item in parcel.items
            ],
        }
        if UNCONFIRMED["send_ward_names"]:
            body |= {
                "from_ward_name": pickup.commune_name,
                "from_province_name": pickup.province_name,
                "to_ward_name": receiver.commune_name,
                "to_province_name": receiver.province_name,
            }
        return body

    def _find(self, order_code: str) -> Booking | None:
        """The booking GHN holds for our order code, or None when it holds none."""
        try:
            data = self._post(UNCONFIRMED["detail_by_client_code_path"], {"client_order_code": order_code})
        except CarrierValidationError:
            return None  # GHN answers "not found" as a 400 envelope
        if not isinstance(data, dict) or not data.get("order_code"):
            return None
        return Booking(
            tracking_code=str(data["order_code"]),
            fee_vnd=_amount(data.get(UNCONFIRMED["detail_fee_key"], 0) or 0, "fee"),
            expected_delivery=optional_time(
                data.get(UNCONFIRMED["detail_expected_key"]), naive_zone=UNCONFIRMED["naive_time_zone"]
            ),
        )

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        answer = call(
            "GHN",
            "POST",
            f"{self.base_url}/{path}",
            headers=self._headers,
            json_body=body,
            timeout=self.timeout,
        )
        return _data(answer, path)


def _data(answer: Answer, path: str) -> Any:
    """The `data` of a GHN envelope, or the CarrierError its code and message say."""
    body = answer.body
    where = f"GHN {path}"
    if not isinstance(body, dict):
        if 200 <= answer.status < 300:
            raise CarrierUnavailable(f"{where}: answer is not GHN's JSON envelope: {answer.text!r}")
        raise CarrierError(f"{where}: HTTP {answer.status}: {answer.text}", status=answer.status)
    code = body.get("code")
    message = snippet(str(body.get("message") or ""))
    code_message = str(body.get("code_message") or "")
    said = f"{where}: {message or code_message or answer.text}"
    lowered = f"{message} {code_message}".lower()
    if code in (401, 403) or any(marker in lowered for marker in UNCONFIRMED["auth_messages"]):
        raise CarrierAuthError(said, status=answer.status)
    if code == 429:
        retry_after = retry_after_seconds(answer.headers.get("Retry-After"))
        raise CarrierRateLimited(said, status=answer.status, retry_after=retry_after)
    if isinstance(code, int) and not isinstance(code, bool) and code >= 500:
        raise CarrierUnavailable(said, status=answer.status)
    if 200 <= answer.status < 300:
        if code == 200:
            return body.get("data")
        if code is None:
            raise CarrierUnavailable(f"{where}: answer is not GHN's JSON envelope: {answer.text!r}")
    if any(marker in lowered for marker in UNCONFIRMED["duplicate_markers"]):
        raise _Duplicate(said, status=answer.status)
    raise CarrierValidationError(
        said, field=field_from_message(f"{message} {code_message}"), status=answer.status
    )
