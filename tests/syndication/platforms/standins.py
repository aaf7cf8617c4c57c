"""Local stand-ins for Shopee, Lazada and Tiki: real threaded HTTP servers on 127.0.0.1.

Each one enforces its platform's PUBLISHED request check, written here independently of
syndication/platforms/signing.py (its own HMAC code, so a shared mistake cannot pass), and is
itself proven by tests/syndication/platforms/test_standin_proof.py: requests signed by
clients nobody here wrote (lazop-sdk, pyshopee's v2 client, the published Lazada vector) are
accepted; a wrong signature, an old timestamp, a wrong key are refused.

    with ShopeeStandin() as shopee:
        shopee.credentials          # AppCredentials for the adapter
        shopee.issue_token("101")   # a Token, as the authorisation redirect would give
        shopee.items                # remote_id -> {"sku", "price", "stock", "status", "payload", ...}
        shopee.calls                # [(method, path)] accepted (Lazada: its api path, no /rest)
        shopee.add_order(remote_item_id, quantity) -> remote_order_id
        shopee.fail_next(kind="rate_limit" | "server" | "auth_expired" | "timeout", times=1)
        shopee.expire_tokens(); shopee.revoke_tokens()

`status` in `items` is the adapters' word (normal, unlisted, deleted); the wire carries each
platform's own. What a stand-in assumes beyond domain.md is in its class's ASSUMED table.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

from syndication.platforms.base import AppCredentials, Token

# domain.md, "National platforms": Lazada's published example.
LAZADA_VECTOR = {
    "secret": "helloworld",
    "api": "/order/get",
    "params": {
        "access_token": "test",
        "app_key": "123456",
        "order_id": "1234",
        "sign_method": "sha256",
        "timestamp": "1517820392000",
    },
    "sign": "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A",
}

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")  # Tiki speaks local time (assumed)
FAIL_KINDS = ("rate_limit", "server", "auth_expired", "timeout")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Any
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class Refused(Exception):
    def __init__(self, answer: Answer):
        super().__init__(str(answer.body))
        self.answer = answer


def parse_form(request: Request) -> None:
    """application/x-www-form-urlencoded and multipart/form-data bodies (RFC 7578)."""
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        request.form = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
    elif content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + request.body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename is not None:
                request.files[str(name)] = (filename, payload)
            else:
                request.form[str(name)] = payload.decode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        request = Request(
            self.command, url.path, dict(parse_qsl(url.query, keep_blank_values=True)), self.headers, body
        )
        answer = self.server.standin.handle(request)
        if answer.status in (301, 302, 303):
            data = b""
        else:
            data = json.dumps(answer.body).encode()
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: _Standin

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and left: nothing to report


class _Standin:
    platform = ""
    token_lifetime = timedelta(hours=4)
    timeout_delay = 1.0  # how long fail_next("timeout") stalls the answer

    def __init__(self, *, rate_per_second: int = 50) -> None:
        self.rate_per_second = rate_per_second
        self.clock = time.time  # the platform's clock (a test may wind it back to a published vector's)
        self.lock = threading.RLock()
        self.items: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.images: dict[str, bytes] = {}
        self.calls: list[tuple[str, str]] = []
        self.refused: list[tuple[str, str, str]] = []  # (method, path, the platform's code)
        self.access_tokens: dict[str, dict[str, Any]] = {}  # token -> {"shop", "expires"}
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> shop
        self.codes: dict[str, str] = {}  # authorisation code -> shop
        self._failures: deque[str] = deque()
        self._ids = itertools.count(int(time.time()) % 100000 * 1000 + 1)
        self._window = (0, 0)
        self.server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self):
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.standin = self
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None and self._thread is not None
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    # -- the test's levers ------------------------------------------------------------------

    def fail_next(self, kind: str = "rate_limit", times: int = 1) -> None:
        if kind not in FAIL_KINDS:
            raise ValueError(f"kind must be one of {FAIL_KINDS}")
        with self.lock:
            self._failures.extend([kind] * times)

    def expire_tokens(self) -> None:
        """Every access token issued so far is now expired (refresh tokens still work)."""
        with self.lock:
            for token in self.access_tokens.values():
                token["expires"] = self.clock() - 1

    def revoke_tokens(self) -> None:
        """The seller withdrew the authorisation: access and refresh tokens all refused."""
        with self.lock:
            self.access_tokens.clear()
            self.refresh_tokens.clear()

    def grant_code(self, shop_id: str) -> str:
        """What the platform's authorisation page hands the redirect (code, for this shop)."""
        code = secrets.token_hex(16)
        with self.lock:
            self.codes[code] = str(shop_id)
        return code

    def issue_token(self, shop_id: str | None = None) -> Token:
        access, refresh = self._new_tokens(str(shop_id) if shop_id is not None else "")
        return Token(
            access_token=access,
            refresh_token=refresh,
            expires_at=datetime.now(UTC) + self.token_lifetime,
            remote_shop_id=str(shop_id) if shop_id is not None else None,
        )

    def add_order(self, remote_item_id: str, quantity: int, *, check_stock: bool = False) -> str:
        """An order placed on the platform. It takes the platform's stock (floored at 0: the
        platform may have sold what our last push had not yet withdrawn) unless check_stock."""
        with self.lock:
            item = self.items[str(remote_item_id)]
            if check_stock and item["stock"] < quantity:
                raise ValueError("not enough stock on the platform")
            item["stock"] = max(0, item["stock"] - quantity)
            order_id = self._order_id()
            self.orders[order_id] = {
                "item": str(remote_item_id),
                "sku": item["sku"],
                "quantity": quantity,
                "price": item["price"],
                "created": int(self.clock()),
                "updated": int(self.clock()),
                "status": self.new_order_status,
            }
            return order_id

    def cancel_order(self, remote_order_id: str) -> None:
        """The buyer (or the platform) cancelled the order: its status and update time change."""
        with self.lock:
            order = self.orders[str(remote_order_id)]
            order["status"] = self.cancelled_status
            order["updated"] = int(self.clock())

    new_order_status = "READY_TO_SHIP"
    cancelled_status = "CANCELLED"

    # -- plumbing ---------------------------------------------------------------------------

    def _order_id(self) -> str:
        return str(next(self._ids))

    def _new_id(self) -> int:
        return next(self._ids)

    def _new_tokens(self, shop: str) -> tuple[str, str]:
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        with self.lock:
            self.access_tokens[access] = {
                "shop": shop,
                "expires": self.clock() + self.token_lifetime.total_seconds(),
            }
            self.refresh_tokens[refresh] = shop
        return access, refresh

    def _token_shop(self, token: str | None) -> str | None:
        """The shop of a live access token; None when unknown or expired."""
        with self.lock:
            entry = self.access_tokens.get(token or "")
            if entry is None or entry["expires"] < self.clock():
                return None
            return str(entry["shop"])

    def _take_failure(self) -> str | None:
        with self.lock:
            return self._failures.popleft() if self._failures else None

    def _over_budget(self) -> bool:
        second = int(time.time())
        with self.lock:
            start, count = self._window
            if start != second:
                start, count = second, 0
            count += 1
            self._window = (start, count)
            return count > self.rate_per_second

    def handle(self, request: Request) -> Answer:
        try:
            parse_form(request)
            self.verify(request)  # the published check first: an unsigned call learns nothing
            failure = self._take_failure()
            if failure == "timeout":
                time.sleep(self.timeout_delay)
            elif failure is not None:
                raise Refused(self.injected(failure))
            if self._over_budget():
                raise Refused(self.injected("rate_limit"))
            answer = self.route(request)
        except Refused as refused:
            self.refused.append((request.method, request.path, self.code_of(refused.answer)))
            return refused.answer
        with self.lock:
            self.calls.append((request.method, self.call_path(request)))
        return answer

    def call_path(self, request: Request) -> str:
        return request.path

    # per platform
    def verify(self, request: Request) -> None:
        raise NotImplementedError

    def injected(self, kind: str) -> Answer:
        raise NotImplementedError

    def route(self, request: Request) -> Answer:
        raise NotImplementedError

    def code_of(self, answer: Answer) -> str:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------
# Shopee Open Platform v2


class ShopeeStandin(_Standin):
    """Shopee v2: query partner_id, timestamp (s, within 5 min), [access_token, shop_id], sign =
    lowercase hex HMAC-SHA256(partner_key, partner_id + path + timestamp [+ access_token + shop_id])."""

    platform = "shopee"
    ASSUMED: ClassVar[dict[str, str]] = {
        "partner-level paths (short base string)": "/api/v2/auth/*, /api/v2/public/*, /api/v2/shop/auth_partner, /api/v2/media_space/*",
        "HTTP status of errors": "403 error_sign / error_auth, 400 error_param, 429 error_rate_limit, 500 error_server",
        "expired or unknown access token": 'error_auth "Invalid access_token."',
        "order list window": "time_to - time_from ≤ 15 days, page_size ≤ 100; order detail ≤ 50 order_sn",
        "categories": "a fixed set of leaf ids (categories); anything else is error_param",
        "title length": "item_name 1–120 characters",
    }
    SHORT_SIGN = ("/api/v2/auth/", "/api/v2/public/", "/api/v2/shop/auth_partner", "/api/v2/media_space/")
    WINDOW_S = 300

    def __init__(self, *, rate_per_second: int = 50, categories: set[int] | None = None) -> None:
        super().__init__(rate_per_second=rate_per_second)
        self.partner_id = 2_000_000 + secrets.randbelow(900_000)
        self.partner_key = secrets.token_hex(32)
        self.categories = categories or {100636, 100643, 101220}
        self.authorizing_shop = "101"  # the shop that "logs in" on the auth_partner page

    @property
    def credentials(self) -> AppCredentials:
        return AppCredentials("shopee", str(self.partner_id), self.partner_key, self.base_url)

    def _error(self, status: int, error: str, message: str, headers: dict[str, str] | None = None) -> Refused:
        return Refused(
            Answer(
                status,
                {"request_id": secrets.token_hex(8), "error": error, "message": message},
                headers or {},
            )
        )

    def code_of(self, answer: Answer) -> str:
        return str(answer.body.get("error")) if isinstance(answer.body, dict) else str(answer.status)

    def _ok(self, response: Any = None, **top: Any) -> Answer:
        body = {"request_id": secrets.token_hex(8), "error": "", "message": "", **top}
        if response is not None:
            body["response"] = response
        return Answer(200, body)

    def verify(self, request: Request) -> None:
        query = request.query
        for name in ("partner_id", "timestamp", "sign"):
            if not query.get(name):
                raise self._error(400, "error_param", f"Missing required parameter {name}.")
        if query["partner_id"] != str(self.partner_id):
            raise self._error(403, "error_auth", "Invalid partner_id.")
        try:
            timestamp = int(query["timestamp"])
        except ValueError:
            raise self._error(400, "error_param", "Invalid timestamp.") from None
        if abs(self.clock() - timestamp) > self.WINDOW_S:
            raise self._error(403, "error_auth", "Invalid timestamp: expired.")
        base = f"{query['partner_id']}{request.path}{query['timestamp']}"
        shop_level = not request.path.startswith(self.SHORT_SIGN)
        if shop_level:
            if not query.get("access_token") or not query.get("shop_id"):
                raise self._error(400, "error_param", "Missing required parameter access_token or shop_id.")
            base += f"{query['access_token']}{query['shop_id']}"
        expected = hmac.new(self.partner_key.encode(), base.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, query["sign"]):
            raise self._error(403, "error_sign", "Wrong sign.")
        if shop_level and self._token_shop(query["access_token"]) != query["shop_id"]:
            raise self._error(403, "error_auth", "Invalid access_token.")

    def injected(self, kind: str) -> Answer:
        if kind == "rate_limit":
            return self._error(
                429, "error_rate_limit", "Too many requests, please retry later.", {"Retry-After": "2"}
            ).answer
        if kind == "server":
            return self._error(500, "error_server", "Internal server error, please retry.").answer
        return self._error(403, "error_auth", "Invalid access_token.").answer

    # -- routes -----------------------------------------------------------------------------

    def route(self, request: Request) -> Answer:
        name = request.path.removeprefix("/api/v2/")
        handler = getattr(self, "_r_" + name.replace("/", "__"), None)
        if handler is None:
            raise self._error(404, "error_not_found", f"Invalid path {request.path}.")
        method = "GET" if name.startswith(("product/get_", "order/get_", "shop/auth_partner")) else "POST"
        if request.method != method:
            raise self._error(405, "error_param", f"{request.path} takes {method}.")
        body = request.json() if method == "POST" and not request.files else {}
        if method == "POST" and not request.files and not isinstance(body, dict):
            raise self._error(400, "error_param", "The body must be a JSON object.")
        return handler(request, body)

    def _r_shop__auth_partner(self, request: Request, body: dict) -> Answer:
        redirect = request.query.get("redirect")
        if not redirect:
            raise self._error(400, "error_param", "Missing required parameter redirect.")
        code = self.grant_code(self.authorizing_shop)
        sep = "&" if "?" in redirect else "?"
        return Answer(
            302,
            None,
            {"Location": f"{redirect}{sep}{urlencode({'code': code, 'shop_id': self.authorizing_shop})}"},
        )

    def _r_auth__token__get(self, request: Request, body: dict) -> Answer:
        with self.lock:
            shop = self.codes.pop(str(body.get("code")), None)
        if (
            shop is None
            or str(body.get("shop_id")) != shop
            or str(body.get("partner_id")) != str(self.partner_id)
        ):
            raise self._error(403, "error_auth", "Invalid code.")
        access, refresh = self._new_tokens(shop)
        return self._ok(
            access_token=access, refresh_token=refresh, expire_in=int(self.token_lifetime.total_seconds())
        )

    def _r_auth__access_token__get(self, request: Request, body: dict) -> Answer:
        with self.lock:
            shop = self.refresh_tokens.get(str(body.get("refresh_token")))
            if shop is None or str(body.get("shop_id")) != shop:
                raise self._error(403, "error_auth", "Invalid refresh_token.")
            del self.refresh_tokens[str(body["refresh_token"])]  # Shopee rotates the refresh token
        access, refresh = self._new_tokens(shop)
        return self._ok(
            access_token=access,
            refresh_token=refresh,
            expire_in=int(self.token_lifetime.total_seconds()),
            shop_id=int(shop),
            partner_id=self.partner_id,
        )

    def _r_media_space__upload_image(self, request: Request, body: dict) -> Answer:
        upload = request.files.get("image")
        if upload is None or not upload[1]:
            raise self._error(400, "error_param", "image is required.")
        image_id = "vn-" + hashlib.sha256(upload[1]).hexdigest()[:24]
        with self.lock:
            self.images[image_id] = upload[1]
        url = f"https://cf.shopee.vn/file/{image_id}"
        return self._ok(
            {
                "image_info": {
                    "image_id": image_id,
                    "image_url_list": [{"image_url_region": "VN", "image_url": url}],
                }
            }
        )

    def _shop(self, request: Request) -> str:
        return request.query["shop_id"]

    def _item(self, request: Request, item_id: Any, *, alive: bool = True) -> dict[str, Any]:
        item = self.items.get(str(item_id))
        if item is None or item["shop"] != self._shop(request) or (alive and item["status"] == "deleted"):
            raise self._error(400, "error_item_not_found", f"item_id {item_id} not found.")
        return item

    def _check_item_fields(self, body: dict, *, creating: bool) -> None:
        name = body.get("item_name")
        if (creating or "item_name" in body) and (not isinstance(name, str) or not 1 <= len(name) <= 120):
            raise self._error(400, "error_param", "item_name should be 1-120 characters.")
        if (creating or "description" in body) and not str(body.get("description") or "").strip():
            raise self._error(400, "error_param", "description is required.")
        if creating or "weight" in body:
            weight = body.get("weight")
            if not isinstance(weight, int | float) or weight <= 0:
                raise self._error(400, "error_param", "weight must be greater than 0 (kg).")
        if (creating or "category_id" in body) and body.get("category_id") not in self.categories:
            raise self._error(
                400, "error_param", f"category_id {body.get('category_id')} is not a leaf category."
            )
        if creating or "image" in body:
            ids = (body.get("image") or {}).get("image_id_list") or []
            if not ids or any(i not in self.images for i in ids):
                raise self._error(400, "error_param", "image_id_list must hold uploaded image ids.")

    @staticmethod
    def _price(value: Any) -> int | None:
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

    def _r_product__add_item(self, request: Request, body: dict) -> Answer:
        self._check_item_fields(body, creating=True)
        price = self._price(body.get("original_price"))
        if price is None:  # Vietnam prices are integers
            raise self._error(400, "error_param", "original_price must be a positive integer for VN.")
        stock = (body.get("seller_stock") or [{}])[0].get("stock")
        if not isinstance(stock, int) or stock < 0:
            raise self._error(400, "error_param", "seller_stock.stock must be an integer ≥ 0.")
        item_id = self._new_id()
        with self.lock:
            self.items[str(item_id)] = {
                "shop": self._shop(request),
                "sku": body.get("item_sku"),
                "price": price,
                "stock": stock,
                "status": "normal",
                "payload": body,
            }
        return self._ok({"item_id": item_id, "item_status": "NORMAL", "item_name": body["item_name"]})

    def _r_product__update_item(self, request: Request, body: dict) -> Answer:
        item = self._item(request, body.get("item_id"))
        for forbidden in ("original_price", "seller_stock", "price_info", "stock_info"):
            if forbidden in body:
                raise self._error(400, "error_param", f"{forbidden} cannot be changed by update_item.")
        self._check_item_fields(body, creating=False)
        with self.lock:
            item["payload"] = {**item["payload"], **body}
            item["sku"] = body.get("item_sku", item["sku"])
        return self._ok({"item_id": int(body["item_id"])})

    def _r_product__update_price(self, request: Request, body: dict) -> Answer:
        item = self._item(request, body.get("item_id"))
        prices = body.get("price_list") or []
        price = self._price(prices[0].get("original_price")) if len(prices) == 1 else None
        if price is None:
            raise self._error(
                400, "error_param", "price_list.original_price must be a positive integer for VN."
            )
        with self.lock:
            item["price"] = price
        return self._ok({"success_list": [{"model_id": 0, "original_price": price}], "failure_list": []})

    def _r_product__update_stock(self, request: Request, body: dict) -> Answer:
        item = self._item(request, body.get("item_id"))
        stocks = body.get("stock_list") or []
        seller = stocks[0].get("seller_stock") if len(stocks) == 1 else None
        stock = seller[0].get("stock") if seller else None
        if not isinstance(stock, int) or stock < 0:
            raise self._error(400, "error_param", "stock_list.seller_stock.stock must be an integer ≥ 0.")
        with self.lock:
            item["stock"] = stock
        return self._ok({"success_list": [{"model_id": 0, "stock": stock}], "failure_list": []})

    def _r_product__unlist_item(self, request: Request, body: dict) -> Answer:
        entries = body.get("item_list") or []
        if not entries:
            raise self._error(400, "error_param", "item_list is required.")
        done = []
        for entry in entries:
            item = self._item(request, entry.get("item_id"))
            with self.lock:
                item["status"] = "unlisted" if entry.get("unlist") else "normal"
            done.append({"item_id": int(entry["item_id"]), "unlist": bool(entry.get("unlist"))})
        return self._ok({"success_list": done, "failure_list": []})

    def _r_product__delete_item(self, request: Request, body: dict) -> Answer:
        item = self._item(request, body.get("item_id"))
        with self.lock:
            item["status"] = "deleted"
        return self._ok()

    WIRE_STATUS: ClassVar[dict[str, str]] = {"normal": "NORMAL", "unlisted": "UNLIST", "deleted": "DELETED"}

    def _r_product__get_item_base_info(self, request: Request, body: dict) -> Answer:
        ids = [part for part in request.query.get("item_id_list", "").split(",") if part]
        if not ids or len(ids) > 50:
            raise self._error(400, "error_param", "item_id_list must hold 1-50 ids.")
        found = []
        for item_id in ids:
            item = self.items.get(item_id)
            if item is None or item["shop"] != self._shop(request):
                continue
            found.append(
                {
                    "item_id": int(item_id),
                    "item_sku": item["sku"] or "",
                    "item_status": self.WIRE_STATUS[item["status"]],
                    "item_name": item["payload"].get("item_name"),
                    "price_info": [
                        {"currency": "VND", "original_price": item["price"], "current_price": item["price"]}
                    ],
                    "stock_info_v2": {
                        "summary_info": {"total_reserved_stock": 0, "total_available_stock": item["stock"]}
                    },
                }
            )
        return self._ok({"item_list": found})

    def _r_order__get_order_list(self, request: Request, body: dict) -> Answer:
        query = request.query
        try:
            start, end = int(query["time_from"]), int(query["time_to"])
            size = int(query.get("page_size") or 20)
            offset = int(query.get("cursor") or 0)
        except (KeyError, ValueError):
            raise self._error(400, "error_param", "time_from, time_to and page_size are integers.") from None
        field = {"create_time": "created", "update_time": "updated"}.get(query.get("time_range_field", ""))
        if field is None:
            raise self._error(400, "error_param", "time_range_field must be create_time or update_time.")
        if end < start or end - start > 15 * 86400 or not 1 <= size <= 100:
            raise self._error(
                400, "error_param", "time_to - time_from must be within 15 days; page_size 1-100."
            )
        with self.lock:
            matching = sorted(
                (oid for oid, o in self.orders.items() if start <= o[field] <= end),
                key=lambda oid: self.orders[oid][field],
            )
        page = matching[offset : offset + size]
        more = offset + size < len(matching)
        return self._ok(
            {
                "more": more,
                "next_cursor": str(offset + size) if more else "",
                "order_list": [{"order_sn": oid} for oid in page],
            }
        )

    def _r_order__get_order_detail(self, request: Request, body: dict) -> Answer:
        sns = [part for part in request.query.get("order_sn_list", "").split(",") if part]
        if not sns or len(sns) > 50:
            raise self._error(400, "error_param", "order_sn_list must hold 1-50 order_sn.")
        orders = []
        for sn in sns:
            order = self.orders.get(sn)
            if order is None:
                continue
            entry: dict[str, Any] = {
                "order_sn": sn,
                "create_time": int(order["created"]),
                "order_status": order["status"],
            }
            if "item_list" in request.query.get("response_optional_fields", ""):
                entry["item_list"] = [
                    {
                        "item_id": int(order["item"]),
                        "item_sku": order["sku"] or "",
                        "model_id": 0,
                        "model_quantity_purchased": order["quantity"],
                        "model_original_price": order["price"],
                        "model_discounted_price": order["price"],
                    }
                ]
            orders.append(entry)
        return self._ok({"order_list": orders})


# ---------------------------------------------------------------------------------------------
# Lazada Open Platform


class LazadaStandin(_Standin):
    """Lazada: system params app_key, timestamp (ms), sign_method=sha256, [access_token], sign =
    UPPERCASE hex HMAC-SHA256(app_secret, api_path + every param but sign sorted by name as
    key1value1key2value2…), params from the query string and the form body alike."""

    platform = "lazada"
    token_lifetime = timedelta(days=7)
    new_order_status = "pending"
    cancelled_status = "canceled"
    ASSUMED: ClassVar[dict[str, str]] = {
        "timestamp tolerance": "± 7200 s (code InvalidTimestamp)",
        "gateway error codes": "MissingParameter, InvalidAppKey, IncompleteSignature (type ISV); ApiCallLimit (type ISP); InternalError (HTTP 500)",
        "validation errors": 'code "InvalidParameter" with detail [{field, message}]',
        "unknown item": 'code "208" "The specified product does not exist"',
        "deactivate / remove": "/product/deactivate (apiRequestBody) and /product/remove (sku_id_list of SkuId_<item>_<sku>)",
        "order items": "/order/items/get answers one row per unit (no quantity field)",
        "image urls": "the returned url is on Lazada's CDN and is what Images.Image carries",
    }
    WINDOW_MS = 7_200_000
    PUBLIC = ("/auth/token/create", "/auth/token/refresh")

    def __init__(
        self,
        *,
        rate_per_second: int = 50,
        categories: set[str] | None = None,
        app_key: str | None = None,
        app_secret: str | None = None,
    ) -> None:
        super().__init__(rate_per_second=rate_per_second)
        self.app_key = app_key or str(100_000 + secrets.randbelow(800_000))
        self.app_secret = app_secret or secrets.token_urlsafe(24)
        self.categories = categories or {"10002019", "10001986", "10002206"}
        self.batch_sizes: list[int] = []  # SKUs per accepted price_quantity/update call

    @property
    def credentials(self) -> AppCredentials:
        return AppCredentials("lazada", self.app_key, self.app_secret, self.base_url + "/rest")

    def _error(
        self, code: str, message: str, *, type_: str = "ISV", status: int = 200, **extra: Any
    ) -> Refused:
        return Refused(
            Answer(
                status,
                {
                    "type": type_,
                    "code": code,
                    "message": message,
                    "request_id": secrets.token_hex(8),
                    **extra,
                },
            )
        )

    def code_of(self, answer: Answer) -> str:
        return str(answer.body.get("code")) if isinstance(answer.body, dict) else str(answer.status)

    @staticmethod
    def _ok(data: Any = None, **top: Any) -> Answer:
        body = {"code": "0", "request_id": secrets.token_hex(8), **top}
        if data is not None:
            body["data"] = data
        return Answer(200, body)

    def call_path(self, request: Request) -> str:
        return request.path.removeprefix("/rest")  # Lazada's "api path", the one it signs

    def _params(self, request: Request) -> dict[str, str]:
        return {**request.query, **request.form}

    def verify(self, request: Request) -> None:
        params = self._params(request)
        for name in ("app_key", "timestamp", "sign_method", "sign"):
            if not params.get(name):
                raise self._error(
                    "MissingParameter",
                    f"The input parameter “{name}” that is mandatory for processing this request is not supplied",
                )
        if params["app_key"] != self.app_key:
            raise self._error("InvalidAppKey", "Specified app key is invalid")
        if params["sign_method"] != "sha256":
            raise self._error("InvalidSignMethod", "sign_method must be sha256")
        try:
            timestamp = int(params["timestamp"])
        except ValueError:
            raise self._error("InvalidTimestamp", "Invalid timestamp") from None
        if abs(self.clock() * 1000 - timestamp) > self.WINDOW_MS:
            raise self._error("InvalidTimestamp", "Timestamp is out of the allowed window")
        api = request.path.removeprefix("/rest")
        base = api + "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")
        expected = hmac.new(self.app_secret.encode(), base.encode(), hashlib.sha256).hexdigest().upper()
        if not hmac.compare_digest(expected, params["sign"]):
            raise self._error(
                "IncompleteSignature", "The request signature does not conform to lazada standards"
            )
        if api not in self.PUBLIC and self._token_shop(params.get("access_token")) is None:
            raise self._error("IllegalAccessToken", "The specified access token is invalid or expired")

    def injected(self, kind: str) -> Answer:
        if kind == "rate_limit":
            return self._error(
                "ApiCallLimit", "The request has exceeded the limit of calls per second", type_="ISP"
            ).answer
        if kind == "server":
            return self._error(
                "InternalError",
                "The request processing has failed due to some unknown error.",
                type_="ISP",
                status=500,
            ).answer
        return self._error("IllegalAccessToken", "The specified access token is invalid or expired").answer

    def route(self, request: Request) -> Answer:
        api = request.path.removeprefix("/rest")
        handler = getattr(self, "_r" + api.replace("/", "_"), None)
        if handler is None:
            raise self._error("InvalidApiPath", f"The specified API path {api} is invalid")
        return handler(self._params(request), request)

    def _shop_of(self, params: dict[str, str]) -> str:
        return str(self._token_shop(params.get("access_token")))

    def _payload(self, params: dict[str, str], name: str = "payload") -> dict[str, Any]:
        try:
            product = json.loads(params[name])["Request"]["Product"]
        except (KeyError, ValueError, TypeError):
            raise self._error(
                "InvalidParameter",
                f"{name} must be a JSON {{Request:{{Product:…}}}}",
                detail=[{"field": name, "message": "malformed"}],
            ) from None
        if not isinstance(product, dict):
            raise self._error(
                "InvalidParameter",
                "Product must be an object",
                detail=[{"field": name, "message": "malformed"}],
            )
        return product

    def _invalid(self, field_name: str, message: str) -> Refused:
        return self._error(
            "InvalidParameter", f"{field_name}: {message}", detail=[{"field": field_name, "message": message}]
        )

    def _token_answer(self, shop: str) -> Answer:
        access, refresh = self._new_tokens(shop)
        return self._ok(
            access_token=access,
            refresh_token=refresh,
            expires_in=int(self.token_lifetime.total_seconds()),
            refresh_expires_in=30 * 86400,
            account="seller@example.vn",
            country="vn",
            country_user_info=[
                {"country": "vn", "seller_id": shop, "user_id": shop, "short_code": "VN" + shop}
            ],
        )

    def _r_auth_token_create(self, params: dict[str, str], request: Request) -> Answer:
        with self.lock:
            shop = self.codes.pop(params.get("code", ""), None)
        if shop is None:
            raise self._error("InvalidCode", "The authorization code is invalid or expired")
        return self._token_answer(shop)

    def _r_auth_token_refresh(self, params: dict[str, str], request: Request) -> Answer:
        with self.lock:
            shop = self.refresh_tokens.pop(params.get("refresh_token", ""), None)
        if shop is None:
            raise self._error("IllegalRefreshToken", "The specified refresh token is invalid or expired")
        return self._token_answer(shop)

    def _r_image_upload(self, params: dict[str, str], request: Request) -> Answer:
        upload = request.files.get("image")
        if upload is None or not upload[1]:
            raise self._invalid("image", "is required")
        digest = hashlib.md5(upload[1]).hexdigest()  # Lazada's hash_code is an md5
        url = f"https://vn-live.slatic.net/p/{digest}.jpg"
        with self.lock:
            self.images[url] = upload[1]
        return self._ok({"image": {"hash_code": digest, "url": url}})

    def _sku(self, product: dict[str, Any]) -> dict[str, Any]:
        skus = (product.get("Skus") or {}).get("Sku") or []
        if not isinstance(skus, list) or len(skus) != 1 or not isinstance(skus[0], dict):
            raise self._invalid("Skus", "exactly one Sku is expected here")
        return skus[0]

    def _check_product(self, product: dict[str, Any], sku: dict[str, Any], *, creating: bool) -> None:
        if (creating or "PrimaryCategory" in product) and str(
            product.get("PrimaryCategory")
        ) not in self.categories:
            raise self._invalid("PrimaryCategory", f"{product.get('PrimaryCategory')} is not a leaf category")
        attributes = product.get("Attributes") or {}
        if (creating or "name" in attributes) and not 1 <= len(str(attributes.get("name") or "")) <= 255:
            raise self._invalid("name", "must be 1-255 characters")
        if (creating or "description" in attributes) and not str(attributes.get("description") or "").strip():
            raise self._invalid("description", "is required")
        if creating or "Images" in product:
            images = (product.get("Images") or {}).get("Image") or []
            if not images or any(url not in self.images for url in images):
                raise self._invalid("Images", "must be urls returned by /image/upload")
        if creating and not sku.get("SellerSku"):
            raise self._invalid("SellerSku", "is required")
        if creating or "package_weight" in sku:
            try:
                weight = float(sku.get("package_weight"))
            except (TypeError, ValueError):
                weight = 0
            if weight <= 0:
                raise self._invalid("package_weight", "must be greater than 0 (kg)")
        if creating:
            self._price_quantity(sku)

    def _price_quantity(self, sku: dict[str, Any]) -> tuple[int | None, int | None]:
        price = quantity = None
        for key in ("price", "Price"):
            if key in sku:
                try:
                    price = int(str(sku[key]))
                except ValueError:
                    price = 0
                if price <= 0:
                    raise self._invalid(key, "must be a positive integer for VN")
        for key in ("quantity", "Quantity"):
            if key in sku:
                try:
                    quantity = int(str(sku[key]))
                except ValueError:
                    quantity = -1
                if quantity < 0:
                    raise self._invalid(key, "must be an integer ≥ 0")
        return price, quantity

    def _item(self, params: dict[str, str], item_id: Any, *, alive: bool = True) -> dict[str, Any]:
        item = self.items.get(f"{item_id}")
        if item is None or item["shop"] != self._shop_of(params) or (alive and item["status"] == "deleted"):
            raise self._error("208", "The specified product does not exist")
        return item

    def _r_product_create(self, params: dict[str, str], request: Request) -> Answer:
        product = self._payload(params)
        sku = self._sku(product)
        self._check_product(product, sku, creating=True)
        price, quantity = self._price_quantity(sku)
        item_id, sku_id = self._new_id(), self._new_id()
        with self.lock:
            self.items[str(item_id)] = {
                "shop": self._shop_of(params),
                "sku": sku["SellerSku"],
                "sku_id": sku_id,
                "price": price,
                "stock": quantity or 0,
                "status": "normal",
                "payload": product,
            }
        shop_sku = f"{item_id}_VNAMZ-{sku_id}"
        return self._ok(
            {
                "item_id": item_id,
                "sku_list": [{"shop_sku": shop_sku, "seller_sku": sku["SellerSku"], "sku_id": sku_id}],
            }
        )

    def _r_product_update(self, params: dict[str, str], request: Request) -> Answer:
        product = self._payload(params)
        item = self._item(params, product.get("ItemId"))
        sku = self._sku(product)
        if str(sku.get("SkuId")) != str(item["sku_id"]):
            raise self._invalid("SkuId", "does not belong to ItemId")
        if any(key in sku for key in ("price", "Price", "quantity", "Quantity")):
            raise self._invalid("Skus", "price and quantity go through /product/price_quantity/update")
        self._check_product(product, sku, creating=False)
        with self.lock:
            item["payload"] = {**item["payload"], **product}
        return self._ok()

    def _r_product_price_quantity_update(self, params: dict[str, str], request: Request) -> Answer:
        product = self._payload(params)
        skus = (product.get("Skus") or {}).get("Sku") or []
        if not isinstance(skus, list) or not skus:
            raise self._invalid("Skus", "at least one Sku")
        if len(skus) > 50:
            raise self._invalid("Skus", "at most 50 SKUs a call")
        changes = []
        for sku in skus:
            item = self._item(params, sku.get("ItemId"))
            if str(sku.get("SkuId")) != str(item["sku_id"]):
                raise self._invalid("SkuId", "does not belong to ItemId")
            changes.append((item, *self._price_quantity(sku)))
        with self.lock:
            for item, price, quantity in changes:
                if price is not None:
                    item["price"] = price
                if quantity is not None:
                    item["stock"] = quantity
            self.batch_sizes.append(len(skus))
        return self._ok()

    def _r_product_deactivate(self, params: dict[str, str], request: Request) -> Answer:
        product = self._payload(params, "apiRequestBody")
        item = self._item(params, product.get("ItemId"))
        with self.lock:
            item["status"] = "unlisted"
        return self._ok()

    def _r_product_remove(self, params: dict[str, str], request: Request) -> Answer:
        try:
            ids = json.loads(params.get("sku_id_list") or "[]")
        except ValueError:
            ids = None
        if not isinstance(ids, list) or not ids or len(ids) > 50:
            raise self._invalid("sku_id_list", "a JSON list of 1-50 SkuId_<item_id>_<sku_id>")
        for entry in ids:
            _, item_id, sku_id = [*str(entry).split("_"), "", ""][:3]
            item = self._item(params, item_id)
            if str(item["sku_id"]) != sku_id:
                raise self._invalid("sku_id_list", f"{entry} does not exist")
            with self.lock:
                item["status"] = "deleted"
        return self._ok()

    WIRE_STATUS: ClassVar[dict[str, str]] = {"normal": "Active", "unlisted": "InActive", "deleted": "Deleted"}

    def _r_product_item_get(self, params: dict[str, str], request: Request) -> Answer:
        item = self._item(params, params.get("item_id"), alive=False)
        return self._ok(
            {
                "item_id": int(params["item_id"]),
                "primary_category": item["payload"].get("PrimaryCategory"),
                "status": self.WIRE_STATUS[item["status"]],
                "attributes": item["payload"].get("Attributes", {}),
                "skus": [
                    {
                        "SkuId": item["sku_id"],
                        "SellerSku": item["sku"],
                        "ShopSku": f"{params['item_id']}_VNAMZ-{item['sku_id']}",
                        "price": float(item["price"]),
                        "quantity": item["stock"],
                        "Status": "active" if item["status"] == "normal" else "inactive",
                    }
                ],
            }
        )

    def _r_order_get(self, params: dict[str, str], request: Request) -> Answer:
        order = self.orders.get(params.get("order_id", ""))
        if order is None:
            raise self._error("16", "The specified order does not exist")
        return self._ok({"order_id": int(params["order_id"]), "statuses": [order["status"]]})

    def _r_orders_get(self, params: dict[str, str], request: Request) -> Answer:
        field = "updated" if "update_after" in params else "created"  # one of the two is required
        try:
            after = datetime.fromisoformat(params.get("created_after") or params["update_after"]).timestamp()
            offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 10)
        except (KeyError, ValueError):
            raise self._invalid(
                "created_after", "created_after or update_after (ISO 8601) is required"
            ) from None
        if not 1 <= limit <= 100:
            raise self._invalid("limit", "1-100")
        shop = self._shop_of(params)
        with self.lock:
            matching = sorted(
                (
                    oid
                    for oid, o in self.orders.items()
                    if o[field] >= after and self.items[o["item"]]["shop"] == shop
                ),
                key=lambda oid: self.orders[oid][field],
            )
        page = matching[offset : offset + limit]
        tz = datetime.now(UTC).astimezone().tzinfo
        orders = [
            {
                "order_id": int(oid),
                "created_at": datetime.fromtimestamp(self.orders[oid]["created"], tz).strftime(
                    "%Y-%m-%d %H:%M:%S %z"
                ),
                "statuses": [self.orders[oid]["status"]],
                "items_count": self.orders[oid]["quantity"],
            }
            for oid in page
        ]
        return self._ok({"count": len(page), "countTotal": len(matching), "orders": orders})

    def _r_order_items_get(self, params: dict[str, str], request: Request) -> Answer:
        order = self.orders.get(params.get("order_id", ""))
        if order is None:
            raise self._error("16", "The specified order does not exist")
        item = self.items[order["item"]]
        rows = [
            {
                "order_item_id": self._new_id(),
                "order_id": int(params["order_id"]),
                "product_id": int(order["item"]),
                "sku": order["sku"],
                "sku_id": item["sku_id"],
                "shop_sku": f"{order['item']}_VNAMZ-{item['sku_id']}",
                "item_price": float(order["price"]),
                "paid_price": float(order["price"]),
                "status": order["status"],
            }
            for _ in range(order["quantity"])
        ]
        return self._ok(rows)


# ---------------------------------------------------------------------------------------------
# Tiki


class TikiStandin(_Standin):
    """Tiki: OAuth2 client credentials at /sc/oauth2/token (HTTP Basic client_id:client_secret),
    then Bearer on /integration/*. Product creation is a reviewed request polled by track_id."""

    platform = "tiki"
    token_lifetime = timedelta(hours=1)
    new_order_status = "queueing"
    cancelled_status = "canceled"
    ASSUMED: ClassVar[dict[str, str]] = {
        "payload schema": "everything past the endpoints (unconfirmed in domain.md)",
        "errors": "HTTP 400 {errors:[{field, message}]}, 401 {error:'invalid_token'}, 429 Retry-After, 5xx",
        "review": "review='approve' approves a request at its first poll; 'pending' keeps it processing; 'reject' rejects",
        "updateSku": "identifies the SKU by product_id (or original_sku); price, quantity, active",
        "orders": "GET /integration/v2/orders?created_from_date&page&limit -> {data, paging}",
        "image upload": "POST /integration/v2.1/media/images multipart 'image' -> {url}",
    }

    def __init__(self, *, rate_per_second: int = 50, categories: set[int] | None = None) -> None:
        super().__init__(rate_per_second=rate_per_second)
        self.client_id = secrets.token_hex(8)
        self.client_secret = secrets.token_urlsafe(24)
        self.categories = categories or {8322, 4384, 44792}
        self.review = "approve"
        self.requests: dict[
            str, dict[str, Any]
        ] = {}  # track_id -> {"state", "product_id", "payload", "reason"}

    @property
    def credentials(self) -> AppCredentials:
        return AppCredentials("tiki", self.client_id, self.client_secret, self.base_url)

    def code_of(self, answer: Answer) -> str:
        body = answer.body if isinstance(answer.body, dict) else {}
        return str(body.get("error") or answer.status)

    def _fail(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Refused:
        return Refused(Answer(status, body, headers or {}))

    def _invalid(self, field_name: str, message: str) -> Refused:
        return self._fail(
            400, {"error": "invalid_request", "errors": [{"field": field_name, "message": message}]}
        )

    def verify(self, request: Request) -> None:
        if request.path == "/sc/oauth2/token":
            header = request.headers.get("Authorization", "")
            expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            if not hmac.compare_digest(header, expected):
                raise self._fail(
                    401, {"error": "invalid_client", "error_description": "Client authentication failed"}
                )
            return
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or self._token_shop(header.removeprefix("Bearer ")) is None:
            raise self._fail(
                401, {"error": "invalid_token", "error_description": "The access token is invalid or expired"}
            )

    def injected(self, kind: str) -> Answer:
        if kind == "rate_limit":
            return Answer(429, {"error": "too_many_requests"}, {"Retry-After": "3"})
        if kind == "server":
            return Answer(503, {"error": "service_unavailable"})
        return Answer(
            401, {"error": "invalid_token", "error_description": "The access token is invalid or expired"}
        )

    def route(self, request: Request) -> Answer:
        path = request.path
        if path == "/sc/oauth2/token" and request.method == "POST":
            return self._token(request)
        body = request.json() if request.method == "POST" and not request.files else {}
        if request.method == "POST" and not request.files and not isinstance(body, dict):
            raise self._invalid("body", "a JSON object")
        if path == "/integration/v2.1/media/images" and request.method == "POST":
            return self._image(request)
        if path == "/integration/v2.1/requests" and request.method == "POST":
            return self._create(body)
        if path == "/integration/v2.1/requests/updateProductInfo" and request.method == "POST":
            return self._update_info(body)
        if path.startswith("/integration/v2.1/requests/") and request.method == "GET":
            return self._poll(path.rsplit("/", 1)[1])
        if path == "/integration/v2.1/products/updateSku" and request.method == "POST":
            return self._update_sku(body)
        if path.startswith("/integration/v2/products/") and request.method == "GET":
            return self._product(path.rsplit("/", 1)[1])
        if path == "/integration/v2/orders" and request.method == "GET":
            return self._orders(request.query)
        raise self._fail(404, {"error": "not_found"})

    def _token(self, request: Request) -> Answer:
        grant = request.form.get("grant_type")
        if grant == "client_credentials":
            shop = "seller-" + self.client_id
        elif grant == "authorization_code":
            with self.lock:
                shop = self.codes.pop(request.form.get("code", ""), None)  # type: ignore[assignment]
        elif grant == "refresh_token":
            with self.lock:
                shop = self.refresh_tokens.pop(request.form.get("refresh_token", ""), None)  # type: ignore[assignment]
        else:
            raise self._fail(400, {"error": "unsupported_grant_type"})
        if shop is None:
            raise self._fail(
                400, {"error": "invalid_grant", "error_description": "The code or refresh token is invalid"}
            )
        access, refresh = self._new_tokens(shop)
        answer = {
            "access_token": access,
            "expires_in": int(self.token_lifetime.total_seconds()),
            "token_type": "bearer",
            "scope": request.form.get("scope", ""),
        }
        if grant != "client_credentials":
            answer["refresh_token"] = refresh
        return Answer(200, answer)

    def _image(self, request: Request) -> Answer:
        upload = request.files.get("image")
        if upload is None or not upload[1]:
            raise self._invalid("image", "is required")
        url = f"https://salt.tikicdn.com/ts/product/{hashlib.sha256(upload[1]).hexdigest()[:32]}.jpg"
        with self.lock:
            self.images[url] = upload[1]
        return Answer(200, {"url": url})

    def _check(self, body: dict[str, Any], *, creating: bool) -> None:
        if (creating or "category_id" in body) and body.get("category_id") not in self.categories:
            raise self._invalid("category_id", "is not a leaf category")
        if (creating or "name" in body) and not 1 <= len(str(body.get("name") or "")) <= 255:
            raise self._invalid("name", "must be 1-255 characters")
        if (creating or "description" in body) and not str(body.get("description") or "").strip():
            raise self._invalid("description", "is required")
        if creating or "images" in body:
            images = (
                [body.get("image"), *(body.get("images") or [])] if creating else body.get("images") or []
            )
            if not images or any(url not in self.images for url in images):
                raise self._invalid("images", "must be uploaded image urls")

    def _create(self, body: dict[str, Any]) -> Answer:
        self._check(body, creating=True)
        variants = body.get("variants") or []
        if len(variants) != 1 or not variants[0].get("sku"):
            raise self._invalid("variants", "one variant with its sku")
        variant = variants[0]
        if not isinstance(variant.get("price"), int) or variant["price"] <= 0:
            raise self._invalid("variants.price", "must be a positive integer")
        if not isinstance(variant.get("quantity"), int) or variant["quantity"] < 0:
            raise self._invalid("variants.quantity", "must be an integer ≥ 0")
        track_id = secrets.token_hex(12)
        with self.lock:
            self.requests[track_id] = {
                "state": "processing",
                "product_id": None,
                "payload": body,
                "reason": None,
            }
        return Answer(200, {"track_id": track_id, "state": "processing"})

    def _poll(self, track_id: str) -> Answer:
        with self.lock:
            entry = self.requests.get(track_id)
            if entry is None:
                raise self._fail(404, {"error": "not_found", "message": "unknown track_id"})
            if entry["state"] == "processing" and self.review == "approve":
                variant = entry["payload"]["variants"][0]
                product_id = self._new_id()
                entry.update(state="approved", product_id=product_id)
                self.items[str(product_id)] = {
                    "shop": "",
                    "sku": variant["sku"],
                    "price": variant["price"],
                    "stock": variant["quantity"],
                    "status": "normal",
                    "payload": entry["payload"],
                }
            elif entry["state"] == "processing" and self.review == "reject":
                entry.update(state="rejected", reason="Hình ảnh không đạt yêu cầu")
            return Answer(
                200,
                {
                    "track_id": track_id,
                    "state": entry["state"],
                    "product_id": entry["product_id"],
                    "reason": entry["reason"],
                },
            )

    def _find(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("product_id") is not None:
            item = self.items.get(str(body["product_id"]))
        else:
            item = next((i for i in self.items.values() if i["sku"] == body.get("original_sku")), None)
        if item is None:
            raise self._invalid("product_id", "does not exist")
        return item

    def _update_info(self, body: dict[str, Any]) -> Answer:
        item = self._find(body)
        if any(key in body for key in ("price", "quantity", "variants")):
            raise self._invalid("price", "price and stock go through products/updateSku")
        self._check(body, creating=False)
        with self.lock:
            item["payload"] = {**item["payload"], **body}
        return Answer(200, {"track_id": secrets.token_hex(12), "state": "approved"})

    def _update_sku(self, body: dict[str, Any]) -> Answer:
        item = self._find(body)
        if "price" in body and (not isinstance(body["price"], int) or body["price"] <= 0):
            raise self._invalid("price", "must be a positive integer")
        if "quantity" in body and (not isinstance(body["quantity"], int) or body["quantity"] < 0):
            raise self._invalid("quantity", "must be an integer ≥ 0")
        with self.lock:
            if "price" in body:
                item["price"] = body["price"]
            if "quantity" in body:
                item["stock"] = body["quantity"]
            if "active" in body:
                item["status"] = "normal" if body["active"] else "unlisted"
        return Answer(200, {"state": "approved"})

    def _product(self, product_id: str) -> Answer:
        item = self.items.get(product_id)
        if item is None:
            raise self._fail(404, {"error": "not_found", "message": "product does not exist"})
        return Answer(
            200,
            {
                "product_id": int(product_id),
                "original_sku": item["sku"],
                "name": item["payload"].get("name"),
                "price": item["price"],
                "quantity": item["stock"],
                "active": 1 if item["status"] == "normal" else 0,
            },
        )

    def _orders(self, query: dict[str, str]) -> Answer:
        try:
            after = (
                datetime.strptime(query["created_from_date"], "%Y-%m-%d %H:%M:%S")
                .replace(tzinfo=VIETNAM)
                .timestamp()
            )
            page, limit = int(query.get("page") or 1), int(query.get("limit") or 20)
        except (KeyError, ValueError):
            raise self._invalid(
                "created_from_date", "YYYY-MM-DD HH:MM:SS (Vietnam time) is required"
            ) from None
        with self.lock:
            matching = sorted(
                (oid for oid, o in self.orders.items() if o["created"] >= after),
                key=lambda oid: self.orders[oid]["created"],
            )
        chunk = matching[(page - 1) * limit : page * limit]
        data = [
            {
                "code": oid,
                "created_at": datetime.fromtimestamp(self.orders[oid]["created"], VIETNAM).strftime(
                    "%Y-%m-%d %H:%M:%S"
                ),
                "status": self.orders[oid]["status"],
                "items": [
                    {
                        "product": {
                            "id": int(self.orders[oid]["item"]),
                            "seller_product_code": self.orders[oid]["sku"],
                        },
                        "invoice": {
                            "quantity": self.orders[oid]["quantity"],
                            "price": self.orders[oid]["price"],
                        },
                    }
                ],
            }
            for oid in chunk
        ]
        last = max(1, -(-len(matching) // limit))
        return Answer(
            200, {"data": data, "paging": {"current_page": page, "last_page": last, "total": len(matching)}}
        )
