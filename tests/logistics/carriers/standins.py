"""Local stand-ins for GHN and GHTK: real threaded HTTP servers on 127.0.0.1 that enforce each
carrier's published protocol (shared/docs/domain.md) so that the adapter is what a test tests.

Each enforces its auth headers (a wrong or missing token gets the carrier's error envelope and
status), the required fields (a missing ward gets an error envelope naming it), idempotency on our
order code (a second create with the same code is refused, as the carrier does), cancel rules (no
cancel after pickup), a per-second call budget (429 with Retry-After beyond it), and lets a test
inject failures (`fail_next`) or stall answers past the adapter's timeout (`stall_next`).

    with GHNStandin() as ghn:        # ghn.url, ghn.token, ghn.shop_id
        ghn.shipments                # client order code -> StoredShipment(request, tracking_code, …)
        ghn.fail_next(status=503, times=2, retry_after=None)
        ghn.calls                    # [(method, path)] received
    with GHTKStandin() as ghtk: ...  # ghtk.url, ghtk.token

What domain.md confirms is enforced as published (headers, paths, field names and units, the
answer envelopes). What it does not confirm mirrors the adapters' UNCONFIRMED tables and must be
corrected with them: GHN answering a bad token with HTTP 401 "Token is not valid!", a wrong ShopId
with 400 "Lỗi lấy thông tin shop", field errors in its Go validator's words, a duplicate
client_order_code with 400 DUPLICATE_CLIENT_ORDER_CODE, and reading by client code at
shipping-order/detail-by-client-code; GHTK's fee as a GET in grams, ORDER_ID_EXIST for a repeated
order id, services/shipment/v2/{label | partner_id:<code>} for status, "Chiều <date>" estimates,
and a bad token as HTTP 401 (or, with auth_errors_as_200, as a 200 envelope). The tariff
(`fee_for`) is the stand-ins' own.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import string
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, dict[str, str], bytes]
VIETNAM = timezone(timedelta(hours=7))

PHONE = re.compile(r"^0\d{9}$")  # Vietnamese mobile and landline numbers, ten digits
MAX_BODY = 1_000_000


@dataclass
class StoredShipment:
    """One booking the stand-in holds. Readable as attributes or as a dict (ship["tracking_code"])."""

    request: dict[str, Any]
    tracking_code: str
    status: str
    fee_vnd: int  # what the shop pays, insurance included
    insurance_vnd: int = 0
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


@dataclass
class _Injected:
    status: int | None
    retry_after: float | None
    delay: float
    path: str | None
    left: int
    reply: Reply | None = None


def fee_for(weight_g: int, insurance_vnd: int) -> tuple[int, int]:
    """The stand-ins' tariff: 22 000 đ for the first 500 g, 5 000 đ per further 500 g; insurance
    0.5 % of a declared value above 1 000 000 đ. (service fee, insurance fee)"""
    service = 22_000 + 5_000 * math.ceil(max(0, weight_g - 500) / 500)
    insurance = insurance_vnd * 5 // 1000 if insurance_vnd > 1_000_000 else 0
    return service, insurance


class _Standin:
    """The server, the call log, injection and the rate budget; subclasses speak the protocol."""

    prefix = ""
    carrier = ""

    def __init__(self, *, token: str | None = None, rate_per_second: int = 50):
        self.token = token or f"{self.carrier}-test-{secrets.token_hex(12)}"
        self.rate_per_second = rate_per_second
        self.shipments: dict[str, StoredShipment] = {}
        self.calls: list[tuple[str, str]] = []
        self.requests: list[dict[str, Any]] = []  # method, path, query, headers, body of each call
        self._lock = threading.RLock()
        self._injected: list[_Injected] = []
        self._recent: deque[float] = deque()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(min(length, MAX_BODY)) if length else b""
                status, headers, body = standin._handle(method, self.path, dict(self.headers.items()), raw)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.carrier}-standin",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def port(self) -> int:
        assert self._server is not None, "the stand-in is not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    # -- what tests control -----------------------------------------------------------------

    def fail_next(
        self, status: int = 503, times: int = 1, retry_after: float | None = None, *, path: str | None = None
    ) -> None:
        """The next `times` calls (to a path containing `path`, when given) answer `status`."""
        with self._lock:
            self._injected.append(_Injected(status, retry_after, 0.0, path, times))

    def answer_next(
        self,
        body: Any,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        times: int = 1,
        path: str | None = None,
    ) -> None:
        """The next `times` calls get this answer verbatim (bytes or str as they are, anything
        else as JSON): for protocol violations a carrier's gateway may produce."""
        if isinstance(body, (bytes, str)):
            raw = body.encode("utf-8") if isinstance(body, str) else body
            reply: Reply = (status, {"Content-Type": "text/plain", **(headers or {})}, raw)
        else:
            reply = self._reply(status, body, headers)
        with self._lock:
            self._injected.append(_Injected(None, None, 0.0, path, times, reply))

    def stall_next(self, seconds: float, times: int = 1, *, path: str | None = None) -> None:
        """The next `times` calls wait `seconds` before being handled (as a slow carrier would:
        the call still takes effect, only its answer comes late)."""
        with self._lock:
            self._injected.append(_Injected(None, None, seconds, path, times))

    def set_status(self, code: str, status: str) -> None:
        """Move a shipment (by our order code or the tracking code) as the carrier would."""
        with self._lock:
            self.shipment(code).status = status

    def shipment(self, code: str) -> StoredShipment:
        with self._lock:
            if code in self.shipments:
                return self.shipments[code]
            for ship in self.shipments.values():
                if ship.tracking_code == code:
                    return ship
        raise KeyError(code)

    # -- the request loop -------------------------------------------------------------------

    def _handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Reply:
        split = urllib.parse.urlsplit(raw_path)
        path = split.path
        query = dict(urllib.parse.parse_qsl(split.query))
        with self._lock:
            self.calls.append((method, path))
            injected = self._take_injection(path)
        if injected is not None and injected.delay:
            time.sleep(injected.delay)
        if injected is not None and injected.reply is not None:
            return injected.reply
        if injected is not None and injected.status is not None:
            return self._injected_reply(injected)
        with self._lock:
            if not self._within_budget():
                return self._reply(429, self._envelope_error(429, "Too many requests"), {"Retry-After": "1"})
            body: Any = None
            if raw:
                try:
                    body = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    return self._reply(400, self._envelope_error(400, "Invalid JSON body"))
            lowered = {name.lower(): value for name, value in headers.items()}
            self.requests.append(
                {"method": method, "path": path, "query": query, "headers": lowered, "body": body}
            )
            if not path.startswith(self.prefix):
                return self._reply(404, self._envelope_error(404, "Not Found"))
            return self._route(method, path[len(self.prefix) :], query, lowered, body)

    def _take_injection(self, path: str) -> _Injected | None:
        for injected in self._injected:
            if injected.left > 0 and (injected.path is None or injected.path in path):
                injected.left -= 1
                if injected.left == 0:
                    self._injected.remove(injected)
                return injected
        return None

    def _within_budget(self) -> bool:
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= self.rate_per_second:
            return False
        self._recent.append(now)
        return True

    def _injected_reply(self, injected: _Injected) -> Reply:
        assert injected.status is not None
        headers = {"Retry-After": f"{injected.retry_after:g}"} if injected.retry_after is not None else {}
        if injected.status >= 500:  # gateways answer 5xx with a page, not the carrier's JSON
            page = f"<html><body><h1>{injected.status} Service Unavailable</h1></body></html>".encode()
            return injected.status, {"Content-Type": "text/html", **headers}, page
        return self._reply(
            injected.status, self._envelope_error(injected.status, "Injected failure"), headers
        )

    @staticmethod
    def _reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, data

    # -- per carrier ------------------------------------------------------------------------

    def _envelope_error(self, code: int, message: str) -> dict[str, Any]:
        raise NotImplementedError

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Reply:
        raise NotImplementedError


def _whole(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


# ------------------------------------------------------------------------------------------------
# GHN
# ------------------------------------------------------------------------------------------------

GHN_REQUIRED_NOTES = ("CHOTHUHANG", "CHOXEMHANGKHONGTHU", "KHONGCHOXEMHANG")
GHN_CANCELLABLE = ("ready_to_pick", "picking", "money_collect_picking")
GHN_MAX_COD = 50_000_000


def _go_name(field_name: str) -> str:
    return "".join(part.capitalize() for part in field_name.split("_"))


class GHNStandin(_Standin):
    """GHN's public API v2: `Token` and `ShopId` headers, JSON POSTs, `{code, message, data}`."""

    prefix = "/shiip/public-api/v2"
    carrier = "ghn"

    def __init__(self, *, token: str | None = None, shop_id: str | None = None, rate_per_second: int = 50):
        super().__init__(token=token, rate_per_second=rate_per_second)
        self.shop_id = shop_id or str(secrets.randbelow(9_000_000) + 1_000_000)

    def _envelope_error(self, code: int, message: str, code_message: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {"code": code, "message": message, "data": None}
        if code_message:
            body["code_message"] = code_message
        return body

    def _invalid(self, struct: str, field_name: str, tag: str) -> Reply:
        go = _go_name(field_name)
        message = f"Key: '{struct}.{go}' Error:Field validation for '{go}' failed on the '{tag}' tag"
        return self._reply(400, self._envelope_error(400, message, "USER_ERR_COMMON"))

    def _ok(self, data: Any) -> Reply:
        return self._reply(200, {"code": 200, "message": "Success", "data": data})

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Reply:
        if headers.get("token") != self.token:
            return self._reply(401, self._envelope_error(401, "Token is not valid!"))
        if headers.get("shopid") != self.shop_id:
            return self._reply(400, self._envelope_error(400, "Lỗi lấy thông tin shop", "SHOP_NOT_FOUND"))
        routes = {
            "/shipping-order/fee": self._fee,
            "/shipping-order/create": self._create,
            "/shipping-order/detail": self._detail,
            "/shipping-order/detail-by-client-code": self._detail_by_client_code,
            "/switch-status/cancel": self._cancel,
        }
        if path not in routes:
            return self._reply(404, self._envelope_error(404, "Not Found"))
        if method != "POST":
            return self._reply(405, self._envelope_error(405, "Method Not Allowed"))
        if not isinstance(body, dict):
            return self._reply(400, self._envelope_error(400, "Body must be a JSON object"))
        return routes[path](body)

    def _fee(self, body: dict[str, Any]) -> Reply:
        for name in ("to_ward_code",):
            if not body.get(name):
                return self._invalid("CalculateFeeRequest", name, "required")
        weight = _whole(body.get("weight"))
        if not weight or weight <= 0:
            return self._invalid("CalculateFeeRequest", "weight", "required")
        service, insurance = fee_for(weight, _whole(body.get("insurance_value")) or 0)
        return self._ok(
            {
                "total": service + insurance,
                "service_fee": service,
                "insurance_fee": insurance,
                "pick_station_fee": 0,
                "coupon_value": 0,
                "r2s_fee": 0,
            }
        )

    def _create(self, body: dict[str, Any]) -> Reply:
        struct = "CreateOrderRequest"
        for name in ("to_name", "to_phone", "to_address", "to_ward_code"):
            value = body.get(name)
            if not isinstance(value, str) or not value.strip():
                return self._invalid(struct, name, "required")
        if not PHONE.match(body["to_phone"].strip()):
            return self._invalid(struct, "to_phone", "phone")
        if body.get("payment_type_id") not in (1, 2):
            return self._invalid(struct, "payment_type_id", "oneof")
        if body.get("required_note") not in GHN_REQUIRED_NOTES:
            return self._invalid(struct, "required_note", "oneof")
        for name in ("weight", "length", "width", "height"):
            value = _whole(body.get(name))
            if value is None or value <= 0:
                return self._invalid(struct, name, "required")
        cod = _whole(body.get("cod_amount", 0))
        if cod is None or not 0 <= cod <= GHN_MAX_COD:
            return self._invalid(struct, "cod_amount", "max")
        items = body.get("items")
        if not isinstance(items, list) or not items:
            return self._invalid(struct, "items", "required")
        for item in items:
            if (
                not isinstance(item, dict)
                or not item.get("name")
                or not (_whole(item.get("quantity")) or 0) > 0
            ):
                return self._invalid(struct, "items", "dive")
        code = body.get("client_order_code") or ""
        if code and code in self.shipments:
            return self._reply(
                400,
                self._envelope_error(
                    400, "Mã đơn hàng của shop đã tồn tại (client_order_code)", "DUPLICATE_CLIENT_ORDER_CODE"
                ),
            )
        service, insurance = fee_for(body["weight"], _whole(body.get("insurance_value")) or 0)
        tracking = "L" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(7))
        ship = StoredShipment(
            request=body,
            tracking_code=tracking,
            status="ready_to_pick",
            fee_vnd=service + insurance,
            insurance_vnd=insurance,
        )
        self.shipments[code or tracking] = ship
        expected = self._expected_delivery(ship)
        return self._ok(
            {
                "order_code": tracking,
                "sort_code": "19-05-08",
                "trans_type": "truck",
                "fee": {"main_service": service, "insurance": insurance, "station_do": 0, "coupon": 0},
                "total_fee": service + insurance,
                "expected_delivery_time": expected,
            }
        )

    @staticmethod
    def _expected_delivery(ship: StoredShipment) -> str:
        day = (ship.created_at + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
        return day.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _detail_of(self, ship: StoredShipment) -> dict[str, Any]:
        code = ship.request.get("client_order_code") or ""
        return {
            "shop_id": int(self.shop_id),
            "order_code": ship.tracking_code,
            "client_order_code": code,
            "status": ship.status,
            "to_name": ship.request.get("to_name"),
            "cod_amount": ship.request.get("cod_amount", 0),
            "weight": ship.request.get("weight"),
            "total_fee": ship.fee_vnd,
            "leadtime": self._expected_delivery(ship),
            "created_date": ship.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def _not_found(self) -> Reply:
        return self._reply(400, self._envelope_error(400, "Không tìm thấy đơn hàng", "ORDER_NOT_FOUND"))

    def _detail(self, body: dict[str, Any]) -> Reply:
        code = body.get("order_code")
        if not isinstance(code, str) or not code:
            return self._invalid("OrderDetailRequest", "order_code", "required")
        ship = next((s for s in self.shipments.values() if s.tracking_code == code), None)
        return self._ok(self._detail_of(ship)) if ship else self._not_found()

    def _detail_by_client_code(self, body: dict[str, Any]) -> Reply:
        code = body.get("client_order_code")
        if not isinstance(code, str) or not code:
            return self._invalid("OrderDetailByClientCodeRequest", "client_order_code", "required")
        ship = self.shipments.get(code)
        return self._ok(self._detail_of(ship)) if ship else self._not_found()

    def _cancel(self, body: dict[str, Any]) -> Reply:
        codes = body.get("order_codes")
        if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
            return self._invalid("CancelOrderRequest", "order_codes", "required")
        rows = []
        for code in codes:
            ship = next((s for s in self.shipments.values() if s.tracking_code == code), None)
            if ship is None:
                rows.append({"order_code": code, "result": False, "message": "Không tìm thấy đơn hàng"})
            elif ship.status in GHN_CANCELLABLE:
                ship.status = "cancel"
                rows.append({"order_code": code, "result": True, "message": "OK"})
            elif ship.status == "cancel":
                rows.append({"order_code": code, "result": False, "message": "Đơn hàng đã hủy"})
            else:
                rows.append(
                    {"order_code": code, "result": False, "message": "Đơn hàng đã lấy, không thể hủy"}
                )
        return self._ok(rows)

    def callback_body(
        self, code: str, status: str, *, time: datetime | None = None, reason: str = "", **extra: Any
    ) -> dict[str, Any]:
        """The callback GHN would POST for one of its shipments (by our order code) now in `status`."""
        ship = self.shipment(code)
        when = (time or datetime.now(UTC)).astimezone(UTC)
        request = ship.request
        return {
            "CODAmount": request.get("cod_amount", 0),
            "CODTransferDate": None,
            "ClientOrderCode": request.get("client_order_code", ""),
            "ConvertedWeight": request.get("weight"),
            "Description": "",
            "Fee": {
                "MainService": ship.fee_vnd - ship.insurance_vnd,
                "Insurance": ship.insurance_vnd,
                "CODFee": 0,
                "Return": 0,
                "Coupon": 0,
            },
            "Height": request.get("height"),
            "IsPartialReturn": False,
            "Length": request.get("length"),
            "OrderCode": ship.tracking_code,
            "PartialReturnCode": "",
            "PaymentType": request.get("payment_type_id", 1),
            "Reason": reason,
            "ReasonCode": "",
            "ShopID": int(self.shop_id),
            "Status": status,
            "Time": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
            "TotalFee": ship.fee_vnd,
            "Type": "switch_status",
            "Warehouse": "Bưu Cục Hà Tĩnh",
            "Weight": request.get("weight"),
            "Width": request.get("width"),
            **extra,
        }


# ------------------------------------------------------------------------------------------------
# GHTK
# ------------------------------------------------------------------------------------------------

GHTK_CANCELLABLE = ("1", "2", "12")
GHTK_ORDER_REQUIRED = (
    ("id", "Mã đơn hàng"),
    ("pick_name", "Tên người gửi"),
    ("pick_address", "Địa chỉ lấy hàng"),
    ("pick_province", "Tỉnh lấy hàng"),
    ("pick_ward", "Phường/Xã lấy hàng"),
    ("pick_tel", "Số điện thoại người gửi"),
    ("name", "Tên người nhận"),
    ("address", "Địa chỉ người nhận"),
    ("province", "Tỉnh người nhận"),
    ("ward", "Phường/Xã người nhận"),
    ("hamlet", "Thôn/ấp người nhận"),
    ("tel", "Số điện thoại người nhận"),
)
GHTK_MAX_UNIT_KG = 20  # a product line heavier than this per unit is grams sent as kilograms


class GHTKStandin(_Standin):
    """GHTK's API: `Token` header, `{success, message, …}` envelopes.

    `auth_errors_as_200=True` answers a bad token with HTTP 200 and `success: false` (an envelope
    the adapter must read) instead of HTTP 401."""

    carrier = "ghtk"

    def __init__(
        self, *, token: str | None = None, rate_per_second: int = 50, auth_errors_as_200: bool = False
    ):
        super().__init__(token=token, rate_per_second=rate_per_second)
        self.auth_errors_as_200 = auth_errors_as_200
        self._serial = 0

    def _envelope_error(self, code: int, message: str) -> dict[str, Any]:
        return {"success": False, "message": message}

    def _fail(self, message: str, **extra: Any) -> Reply:
        return self._reply(200, {"success": False, "message": message, **extra})

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Reply:
        if headers.get("token") != self.token:
            status = 200 if self.auth_errors_as_200 else 401
            return self._reply(status, {"success": False, "message": "Token không hợp lệ"})
        if path == "/services/shipment/fee" and method == "GET":
            return self._fee(query)
        if path in ("/services/shipment/order", "/services/shipment/order/") and method == "POST":
            if not isinstance(body, dict):
                return self._fail("Dữ liệu đơn hàng không hợp lệ")
            return self._create(body)
        if path.startswith("/services/shipment/v2/") and method == "GET":
            return self._status(urllib.parse.unquote(path.removeprefix("/services/shipment/v2/")))
        if path.startswith("/services/shipment/cancel/") and method == "POST":
            return self._cancel(urllib.parse.unquote(path.removeprefix("/services/shipment/cancel/")))
        return self._reply(404, {"success": False, "message": "Not Found"})

    def _find(self, code: str) -> StoredShipment | None:
        if code.startswith("partner_id:"):
            return self.shipments.get(code.removeprefix("partner_id:"))
        return next((s for s in self.shipments.values() if s.tracking_code == code), None)

    def _fee(self, query: dict[str, str]) -> Reply:
        for name, label in (
            ("province", "Tỉnh người nhận"),
            ("ward", "Phường/Xã người nhận"),
            ("pick_province", "Tỉnh lấy hàng"),
        ):
            if not query.get(name, "").strip():
                return self._fail(f"Thiếu thông tin: {label} (order.{name})")
        weight = query.get("weight", "")
        if not weight.isdigit() or int(weight) <= 0:
            return self._fail("Khối lượng không hợp lệ (order.weight, đơn vị gram)")
        value = int(query["value"]) if query.get("value", "").isdigit() else 0
        service, insurance = fee_for(int(weight), value)
        return self._reply(
            200,
            {
                "success": True,
                "message": "",
                "fee": {"name": "area1", "fee": service, "insurance_fee": insurance, "delivery": True},
            },
        )

    def _create(self, body: dict[str, Any]) -> Reply:
        products, order = body.get("products"), body.get("order")
        if not isinstance(products, list) or not products:
            return self._fail("Thiếu thông tin sản phẩm (products)")
        for product in products:
            if not isinstance(product, dict) or not product.get("name"):
                return self._fail("Thiếu tên sản phẩm (products.name)")
            weight = product.get("weight")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
                return self._fail("Khối lượng sản phẩm không hợp lệ (products.weight)")
            if weight > GHTK_MAX_UNIT_KG:
                return self._fail("Khối lượng sản phẩm quá lớn, đơn vị là kg (products.weight)")
        if not isinstance(order, dict):
            return self._fail("Thiếu thông tin đơn hàng (order)")
        for name, label in GHTK_ORDER_REQUIRED:
            value = order.get(name)
            if not isinstance(value, str) or not value.strip():
                return self._fail(f"Thiếu thông tin: {label} (order.{name})")
        for name in ("tel", "pick_tel"):
            if not PHONE.match(order[name].strip()):
                return self._fail(f"Số điện thoại không hợp lệ (order.{name})")
        for name in ("pick_money", "value"):
            if _whole(order.get(name)) is None or order[name] < 0:
                return self._fail(f"Số tiền không hợp lệ (order.{name})")
        if order.get("is_freeship", 0) not in (0, 1, "0", "1"):
            return self._fail("Giá trị không hợp lệ (order.is_freeship)")
        code = order["id"]
        if code in self.shipments:
            ship = self.shipments[code]
            return self._fail(
                "Mã đơn hàng đã tồn tại trên hệ thống",
                error={
                    "code": "ORDER_ID_EXIST",
                    "partner_id": code,
                    "ghtk_label": ship.tracking_code,
                    "created": ship.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    "status": int(ship.status),
                },
            )
        grams = round(sum(p["weight"] * (_whole(p.get("quantity")) or 1) for p in products) * 1000)
        service, insurance = fee_for(grams, order["value"])
        self._serial += 1
        label = f"S{1_000_000 + self._serial}.HT12.{secrets.randbelow(900_000_000) + 100_000_000}"
        ship = StoredShipment(
            request=body,
            tracking_code=label,
            status="2",
            fee_vnd=service + insurance,
            insurance_vnd=insurance,
        )
        self.shipments[code] = ship
        deliver = (ship.created_at + timedelta(days=3)).astimezone(VIETNAM)
        return self._reply(
            200,
            {
                "success": True,
                "message": "Các đơn hàng đã được add vào hệ thống GHTK thành công.",
                "order": {
                    "partner_id": code,
                    "label": label,
                    "area": "1",
                    "fee": service,
                    "insurance_fee": insurance,
                    "estimated_pick_time": "Sáng " + ship.created_at.strftime("%Y-%m-%d"),
                    "estimated_deliver_time": "Chiều " + deliver.strftime("%Y-%m-%d"),
                    "products": [],
                    "status_id": 2,
                    "tracking_id": secrets.randbelow(10**9),
                },
            },
        )

    def _status(self, code: str) -> Reply:
        ship = self._find(code)
        if ship is None:
            return self._fail("Không tìm thấy đơn hàng")
        order = ship.request.get("order", {})
        return self._reply(
            200,
            {
                "success": True,
                "message": "",
                "order": {
                    "label_id": ship.tracking_code,
                    "partner_id": order.get("id"),
                    "status": ship.status,
                    "status_text": "",
                    "created": ship.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    "pick_money": order.get("pick_money"),
                    "value": order.get("value"),
                    "ship_money": ship.fee_vnd - ship.insurance_vnd,
                    "insurance": ship.insurance_vnd,
                    "is_freeship": order.get("is_freeship"),
                },
            },
        )

    def _cancel(self, code: str) -> Reply:
        ship = self._find(code)
        if ship is None:
            return self._fail("Không tìm thấy đơn hàng")
        if ship.status == "-1":
            return self._fail("Đơn hàng đã ở trạng thái hủy")
        if ship.status not in GHTK_CANCELLABLE:
            return self._fail("Đơn hàng đã lấy, không thể hủy")
        ship.status = "-1"
        return self._reply(200, {"success": True, "message": "", "log_id": secrets.token_hex(8)})

    def callback_body(
        self, code: str, status_id: int, *, time: datetime | None = None, reason_code: str = "", **extra: Any
    ) -> dict[str, Any]:
        """The callback GHTK would POST for one of its shipments (by our order code)."""
        ship = self.shipment(code)
        order = ship.request.get("order", {})
        when = (time or datetime.now(UTC)).astimezone(VIETNAM)
        return {
            "label_id": ship.tracking_code,
            "partner_id": code,
            "status_id": status_id,
            "action_time": when.isoformat(timespec="seconds"),
            "reason_code": reason_code,
            "reason": "",
            "weight": order.get("total_weight", 0.5),
            "fee": ship.fee_vnd,
            "pick_money": order.get("pick_money", 0),
            "return_part_package": 0,
            **extra,
        }
