"""Shopee Open Platform v2 adapter.

Every call carries partner_id, timestamp (seconds), sign — and, for shop-level calls,
access_token and shop_id — in the query string, signed by `signing.shopee_sign`. Answers are the
envelope {request_id, error, message, response}; error "" is success. Item ids are Shopee's
item_id as a string; one listing is one item without variations (model_id 0)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import transport as http
from .base import (
    AppCredentials,
    AuthRevoked,
    PlatformError,
    PriceStockChange,
    RateLimited,
    RemoteItem,
    RemoteListing,
    RemoteOrder,
    RemoteOrderLine,
    Token,
    TokenExpired,
    Unavailable,
    ValidationFailed,
    is_cancelled,
    require_listing,
)
from .signing import shopee_sign

# What domain.md does not confirm, in one place: (detail, what this adapter assumes).
UNCONFIRMED: dict[str, str] = {
    "rate limits": "numbers unpublished; on error_rate_limit (or 429) wait Retry-After, else RATE_LIMIT_BACKOFF_S",
    "expired token error": "error_auth, or invalid_acceess_token / invalid_access_token, on a shop call -> TokenExpired",
    "refusal of a refresh": "any error but rate limit / 5xx from auth/access_token/get -> AuthRevoked",
    "server errors": "error_server, error_inner, error_busy, error_network or HTTP 5xx -> Unavailable",
    "auth redirect state": "Shopee has no state parameter: ours rides in the redirect URL's query",
    "token answers": "auth/token/get and auth/access_token/get answer at top level (access_token, refresh_token, expire_in)",
    "media upload": "POST /api/v2/media_space/upload_image, multipart field 'image', partner-level sign (no token/shop) -> response.image_info.image_id",
    "model_id": "price_list / stock_list items carry model_id 0 for an item without variations",
    "attributes": "attribute keys: numeric -> attribute_list (original_value_name); logistic_id(s) (comma list) -> logistic_info; brand_id (default 0 = no brand) and brand / brand_name -> brand; any other key is refused (never guessed)",
    "order endpoints": "GET /api/v2/order/get_order_list (time_range_field=create_time, then update_time for cancellations of older orders; ≤ 15 days a window, page_size 100, cursor) + get_order_detail (≤ 50 order_sn, response_optional_fields=item_list)",
    "returns": "TO_RETURN / IN_CANCEL are not cancellations (a return or a cancel request may be refused): the stock stays taken",
    "order line price": "item_list[].model_discounted_price (else model_original_price), quantity model_quantity_purchased",
    "item status words": "NORMAL, UNLIST, DELETED/SHOPEE_DELETE, BANNED, REVIEWING",
    "HTTP status of errors": "the envelope decides, whatever the status (403/400/429 seen)",
}

RATE_LIMIT_BACKOFF_S = 1.0
ORDER_WINDOW = timedelta(days=15)
ORDER_DETAIL_BATCH = 50
PARTNER_LEVEL_PREFIXES = (
    "/api/v2/auth/",
    "/api/v2/public/",
    "/api/v2/shop/auth_partner",
    "/api/v2/media_space/",
)
# Order statuses (lowercased) that give a taken stock back: status -> confirmed / unconfirmed.
CANCELLED_STATUSES: dict[str, str] = {
    "cancelled": "confirmed (order_status CANCELLED)",
}
STATUSES = {
    "NORMAL": "normal",
    "UNLIST": "unlisted",
    "DELETED": "deleted",
    "SHOPEE_DELETE": "deleted",
    "BANNED": "banned",
    "REVIEWING": "pending_review",
}
# Shopee's field names -> RemoteListing's, to say which field a refusal is about (longest first).
FIELDS: dict[str, str] = {
    "image_id_list": "image_ids",
    "original_price": "price_vnd",
    "logistic_info": "attributes.logistic_id",
    "attribute_list": "attributes",
    "seller_stock": "stock",
    "description": "description",
    "category_id": "category_id",
    "item_name": "title",
    "item_sku": "sku",
    "weight": "weight_g",
    "price": "price_vnd",
    "stock": "stock",
    "image": "image_ids",
    "brand": "attributes.brand",
}
_FIELD_RE = re.compile(r"\b(" + "|".join(sorted(FIELDS, key=len, reverse=True)) + r")\b")
BRAND_KEYS = ("brand_id", "brand", "brand_name")
_EXPIRED = {"invalid_acceess_token", "invalid_access_token", "error_auth"}
_SERVER = {"error_server", "error_inner", "error_busy", "error_network"}


def field_of(message: str) -> str | None:
    match = _FIELD_RE.search(message or "")
    return FIELDS[match.group(1)] if match else None


class Adapter:
    platform = "shopee"
    price_stock_batch = 1  # update_price/update_stock take one item (its models), not several items

    def __init__(self, credentials: AppCredentials, token: Token | None, *, timeout: float = 15.0) -> None:
        self.credentials = credentials
        self.token = token
        self.timeout = timeout
        self._base = credentials.base_url.rstrip("/")

    # -- signing and the envelope ------------------------------------------------------------

    def _signed_query(self, path: str) -> dict[str, Any]:
        timestamp = int(time.time())
        partner_id = self.credentials.app_id
        query: dict[str, Any] = {"partner_id": partner_id, "timestamp": timestamp}
        if path.startswith(PARTNER_LEVEL_PREFIXES):
            query["sign"] = shopee_sign(self.credentials.secret, partner_id, path, timestamp)
            return query
        token = self._token()
        query["access_token"] = token.access_token
        query["shop_id"] = token.remote_shop_id
        query["sign"] = shopee_sign(
            self.credentials.secret, partner_id, path, timestamp, token.access_token, token.remote_shop_id
        )
        return query

    def _token(self) -> Token:
        if self.token is None or not self.token.remote_shop_id:
            raise AuthRevoked("no Shopee authorisation for this connection", "no_token")
        return self.token

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        upload: tuple[bytes, str] | None = None,
    ) -> dict[str, Any]:
        params = self._signed_query(path)
        params.update(query or {})
        headers = {"Accept": "application/json"}
        data: bytes | None = None
        if upload is not None:
            data, headers["Content-Type"] = http.multipart(
                {}, {"image": (upload[1], upload[0], http.image_type(upload[1]))}
            )
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        response = http.send(
            method,
            f"{self._base}{path}?{urlencode(params)}",
            body=data,
            headers=headers,
            timeout=self.timeout,
        )
        envelope = response.json()
        if isinstance(envelope, dict) and envelope.get("error"):
            self._raise(path, envelope, response)
        http.raise_for_transport(response, default_backoff=RATE_LIMIT_BACKOFF_S)
        if response.status >= 400 or not isinstance(envelope, dict):
            raise PlatformError(
                f"{path} answered {response.status} without an envelope", str(response.status)
            )
        return envelope

    def _raise(self, path: str, envelope: Mapping[str, Any], response: http.Response) -> None:
        code = str(envelope.get("error"))
        message = str(envelope.get("message") or code)
        if code == "error_rate_limit":
            raise RateLimited(message, code, response.retry_after() or RATE_LIMIT_BACKOFF_S)
        if code in _SERVER or response.status >= 500:
            raise Unavailable(message, code, response.retry_after())
        if path.startswith("/api/v2/auth/"):
            raise AuthRevoked(message, code)  # a refused code or refresh token: reconnect
        if code in _EXPIRED and not any(word in message.lower() for word in ("partner", "timestamp")):
            raise TokenExpired(message, code)
        if code.startswith("error_param") or code in ("error_invalid", "error_item_not_found"):
            raise ValidationFailed(message, code, field_of(message))
        raise PlatformError(message, code)  # error_sign, error_permission...: an operator's matter

    # -- authorisation -----------------------------------------------------------------------

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        parts = urlsplit(redirect_uri)
        redirect = urlunsplit(parts._replace(query=urlencode([*parse_qsl(parts.query), ("state", state)])))
        path = "/api/v2/shop/auth_partner"
        return f"{self._base}{path}?{urlencode({**self._signed_query(path), 'redirect': redirect})}"

    def exchange_code(self, code: str, remote_shop_id: str | None) -> Token:
        if not remote_shop_id:
            raise ValidationFailed("Shopee returns shop_id with the code; it is missing", "local", "shop_id")
        body = {"code": code, "shop_id": int(remote_shop_id), "partner_id": int(self.credentials.app_id)}
        answer = self._call("POST", "/api/v2/auth/token/get", body=body)
        self.token = self._token_from(answer, remote_shop_id)
        return self.token

    def refresh(self) -> Token:
        token = self._token()
        if not token.refresh_token:
            raise AuthRevoked("no refresh token kept", "no_refresh_token")
        body = {
            "refresh_token": token.refresh_token,
            "shop_id": int(str(token.remote_shop_id)),
            "partner_id": int(self.credentials.app_id),
        }
        answer = self._call("POST", "/api/v2/auth/access_token/get", body=body)
        self.token = self._token_from(answer, str(token.remote_shop_id))
        return self.token

    @staticmethod
    def _token_from(answer: Mapping[str, Any], shop_id: str) -> Token:
        data = answer.get("response") if isinstance(answer.get("response"), dict) else answer
        assert isinstance(data, dict)
        if not data.get("access_token"):
            raise PlatformError("the token answer holds no access_token", "no_token")
        expires_in = int(data.get("expire_in") or 0)
        return Token(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]) if data.get("refresh_token") else None,
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in) if expires_in else None,
            remote_shop_id=shop_id,
        )

    # -- items -------------------------------------------------------------------------------

    def upload_image(self, data: bytes, filename: str) -> str:
        answer = self._call("POST", "/api/v2/media_space/upload_image", upload=(data, filename))
        image_id = (answer.get("response") or {}).get("image_info", {}).get("image_id")
        if not image_id:
            raise PlatformError("upload_image answered without an image_id", "no_image_id")
        return str(image_id)

    def publish(self, listing: RemoteListing) -> str:
        require_listing(listing, max_title=120)
        body = self._item_body(listing)
        body["original_price"] = listing.price_vnd
        body["seller_stock"] = [{"stock": listing.stock}]
        body["item_status"] = "NORMAL"
        answer = self._call("POST", "/api/v2/product/add_item", body=body)
        item_id = (answer.get("response") or {}).get("item_id")
        if not item_id:
            raise PlatformError("add_item answered without an item_id", "no_item_id")
        return str(item_id)

    def update(self, remote_id: str, listing: RemoteListing) -> None:
        require_listing(listing, max_title=120)
        self._call(
            "POST",
            "/api/v2/product/update_item",
            body={"item_id": _int(remote_id), **self._item_body(listing)},
        )

    def update_price(self, remote_id: str, price_vnd: int) -> None:
        if price_vnd <= 0:
            raise ValidationFailed("the price must be positive", "local", "price_vnd")
        body = {"item_id": _int(remote_id), "price_list": [{"model_id": 0, "original_price": price_vnd}]}
        self._call("POST", "/api/v2/product/update_price", body=body)

    def update_stock(self, remote_id: str, stock: int) -> None:
        body = {
            "item_id": _int(remote_id),
            "stock_list": [{"model_id": 0, "seller_stock": [{"stock": max(0, stock)}]}],
        }
        self._call("POST", "/api/v2/product/update_stock", body=body)

    def update_price_stock(self, changes: Sequence[PriceStockChange]) -> None:
        for change in changes:
            if change.price_vnd is not None:
                self.update_price(change.remote_id, change.price_vnd)
            if change.stock is not None:
                self.update_stock(change.remote_id, change.stock)

    def unlist(self, remote_id: str) -> None:
        body = {"item_list": [{"item_id": _int(remote_id), "unlist": True}]}
        self._call("POST", "/api/v2/product/unlist_item", body=body)

    def delete(self, remote_id: str) -> None:
        self._call("POST", "/api/v2/product/delete_item", body={"item_id": _int(remote_id)})

    def read_item(self, remote_id: str) -> RemoteItem:
        answer = self._call(
            "GET", "/api/v2/product/get_item_base_info", query={"item_id_list": _int(remote_id)}
        )
        items = (answer.get("response") or {}).get("item_list") or []
        if not items:  # Shopee lists nothing for an item that no longer exists
            return RemoteItem(remote_id, None, 0, 0, "deleted")
        item = items[0]
        prices = item.get("price_info") or [{}]
        stock_info = item.get("stock_info_v2") or {}
        stock = (stock_info.get("summary_info") or {}).get("total_available_stock")
        if stock is None:
            stock = sum(int(s.get("stock", 0)) for s in stock_info.get("seller_stock") or [])
        return RemoteItem(
            remote_id=str(item.get("item_id", remote_id)),
            sku=item.get("item_sku") or None,
            price_vnd=int(prices[0].get("original_price") or 0),
            stock=int(stock),
            status=STATUSES.get(str(item.get("item_status")), str(item.get("item_status", "")).lower()),
        )

    def _item_body(self, listing: RemoteListing) -> dict[str, Any]:
        body: dict[str, Any] = {
            "item_name": listing.title.strip(),
            "description": listing.description.strip(),
            "item_sku": listing.sku,
            "weight": round(listing.weight_g / 1000, 3),  # Shopee weighs in kg
            "category_id": _int(listing.category_id, field="category_id"),
            "image": {"image_id_list": list(listing.image_ids)},
        }
        attribute_list = []
        for key, value in listing.attributes.items():
            if key.isdigit():
                attribute_list.append(
                    {
                        "attribute_id": int(key),
                        "attribute_value_list": [{"value_id": 0, "original_value_name": value}],
                    }
                )
            elif key in ("logistic_id", "logistic_ids"):
                body["logistic_info"] = [
                    {"logistic_id": _int(part, field="attributes.logistic_id"), "enabled": True}
                    for part in value.split(",")
                    if part.strip()
                ]
            elif key not in BRAND_KEYS:
                raise ValidationFailed(f"Shopee has no attribute {key!r}", "local", f"attributes.{key}")
        attributes = listing.attributes
        body["brand"] = {  # brand_id 0 is Shopee's "no brand"
            "brand_id": _int(attributes.get("brand_id", "0"), field="attributes.brand_id"),
            "original_brand_name": attributes.get("brand") or attributes.get("brand_name") or "NoBrand",
        }
        if attribute_list:
            body["attribute_list"] = attribute_list
        return body

    # -- orders ------------------------------------------------------------------------------

    def recent_orders(self, since: datetime) -> list[RemoteOrder]:
        order_sns = list(
            dict.fromkeys([*self._order_sns(since, "create_time"), *self._order_sns(since, "update_time")])
        )
        orders: list[RemoteOrder] = []
        for start in range(0, len(order_sns), ORDER_DETAIL_BATCH):
            chunk = order_sns[start : start + ORDER_DETAIL_BATCH]
            answer = self._call(
                "GET",
                "/api/v2/order/get_order_detail",
                query={"order_sn_list": ",".join(chunk), "response_optional_fields": "item_list"},
            )
            for order in (answer.get("response") or {}).get("order_list") or []:
                lines = tuple(
                    RemoteOrderLine(
                        remote_item_id=str(line.get("item_id")),
                        sku=line.get("item_sku") or None,
                        quantity=int(line.get("model_quantity_purchased") or 0),
                        price_vnd=int(
                            line.get("model_discounted_price") or line.get("model_original_price") or 0
                        ),
                    )
                    for line in order.get("item_list") or []
                )
                orders.append(
                    RemoteOrder(
                        remote_order_id=str(order["order_sn"]),
                        created_at=datetime.fromtimestamp(int(order.get("create_time") or 0), UTC),
                        status=str(order.get("order_status", "")),
                        lines=lines,
                        cancelled=is_cancelled(str(order.get("order_status", "")), CANCELLED_STATUSES),
                    )
                )
        return orders

    def _order_sns(self, since: datetime, field: str) -> Iterator[str]:
        end = int(time.time())
        start = int(since.timestamp())
        while start < end:
            window_end = min(end, start + int(ORDER_WINDOW.total_seconds()))
            cursor = ""
            while True:
                query = {
                    "time_range_field": field,
                    "time_from": start,
                    "time_to": window_end,
                    "page_size": 100,
                    "cursor": cursor,
                }
                answer = self._call("GET", "/api/v2/order/get_order_list", query=query)
                data = answer.get("response") or {}
                for order in data.get("order_list") or []:
                    yield str(order["order_sn"])
                if not data.get("more"):
                    break
                cursor = str(data.get("next_cursor") or "")
            start = window_end


def _int(value: str, *, field: str = "remote_id") -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{field} {value!r} is not a Shopee id", "local", field) from None
