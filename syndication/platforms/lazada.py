"""Lazada Open Platform adapter.

Every call carries the system parameters app_key, timestamp (ms), sign_method=sha256,
access_token (but the /auth/ calls) and sign (`signing.lazada_sign` over the api path and every
other parameter); writes are form-encoded POSTs, reads GETs, as the official SDK sends them.
Success is code "0"; errors carry type, code, message. A listing is one item with one SKU: its
remote id is "<item_id>:<sku_id>", because price, stock and removal address the SKU."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

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
from .signing import lazada_sign

# What domain.md does not confirm, in one place: (detail, what this adapter assumes).
UNCONFIRMED: dict[str, str] = {
    "rate limits": "ApiCallLimit is per-second throttling; no Retry-After is sent, so wait RATE_LIMIT_BACKOFF_S",
    "auth host": "authorisation calls go to https://auth.lazada.com/rest (AUTH_GATEWAYS); the authorize page is AUTHORIZE_URL",
    "expired token codes": "IllegalAccessToken, InvalidAccessToken, AccessTokenExpired -> TokenExpired",
    "refusal of a refresh": "any error but ApiCallLimit / 5xx from /auth/token/refresh -> AuthRevoked",
    "gateway codes": "IncompleteSignature, InvalidAppKey, InvalidSignMethod, InvalidTimestamp -> PlatformError (operator)",
    "server errors": "type ISP or SYSTEM, or HTTP 5xx, or InternalError / ServiceTimeout / ServiceUnavailable -> Unavailable",
    "validation errors": "other ISV codes -> ValidationFailed; the field from detail[].field, else from the message",
    "unlist": "POST /product/deactivate with apiRequestBody {Request:{Product:{ItemId}}} (the whole item)",
    "delete": "POST /product/remove with sku_id_list ['SkuId_<item_id>_<sku_id>']",
    "unknown item": 'code "208" from /product/item/get -> status "deleted"',
    "item status words": "Active, InActive, Deleted, Pending, Rejected, Suspended (compared lowercased)",
    "attributes": "brand defaults to 'No Brand'; keys package_* go on the SKU, the others into Attributes",
    "orders": "GET /orders/get (created_after ISO 8601, limit 100, offset; then update_after for cancellations of older orders) + GET /order/items/get per order; one item row per unit",
    "order statuses": "statuses[0] is the order's status; the cancelling words are CANCELLED_STATUSES",
    "image upload": "POST /image/upload multipart 'image' -> data.image.url, the url Images.Image carries",
}

RATE_LIMIT_BACKOFF_S = 1.0
VIETNAM_GATEWAY = "https://api.lazada.vn/rest"
AUTH_GATEWAYS = {VIETNAM_GATEWAY: "https://auth.lazada.com/rest"}
AUTHORIZE_URL = "https://auth.lazada.com/oauth/authorize"
ORDER_PAGE = 100
# Order statuses (lowercased) that give a taken stock back: status -> confirmed / unconfirmed.
CANCELLED_STATUSES: dict[str, str] = {
    "canceled": "confirmed",
    "returned": "unconfirmed: assumed the unit is back with the seller",
    "failed": "unconfirmed: a failed delivery, assumed shipped back to the seller",
    "shipped_back": "unconfirmed: assumed back with the seller",
}
STATUSES = {
    "active": "normal",
    "inactive": "unlisted",
    "deleted": "deleted",
    "pending": "pending_review",
    "rejected": "rejected",
    "suspended": "banned",
}
FIELDS: dict[str, str] = {
    "PrimaryCategory": "category_id",
    "name": "title",
    "description": "description",
    "Images": "image_ids",
    "Image": "image_ids",
    "SellerSku": "sku",
    "price": "price_vnd",
    "Price": "price_vnd",
    "quantity": "stock",
    "Quantity": "stock",
    "package_weight": "weight_g",
}
_EXPIRED = {"IllegalAccessToken", "InvalidAccessToken", "AccessTokenExpired"}
_OPERATOR = {
    "IncompleteSignature",
    "InvalidAppKey",
    "InvalidSignMethod",
    "InvalidTimestamp",
    "InvalidApiPath",
}
_SERVER = {"InternalError", "ServiceTimeout", "ServiceUnavailable"}


def field_of(name: str | None, message: str = "") -> str | None:
    if name:
        return FIELDS.get(name, f"attributes.{name}")
    for key in sorted(FIELDS, key=len, reverse=True):
        if key in message:
            return FIELDS[key]
    return None


class Adapter:
    platform = "lazada"
    price_stock_batch = 50  # /product/price_quantity/update takes at most 50 SKUs a call

    def __init__(self, credentials: AppCredentials, token: Token | None, *, timeout: float = 15.0) -> None:
        self.credentials = credentials
        self.token = token
        self.timeout = timeout
        self._base = credentials.base_url.rstrip("/")
        self._auth_base = AUTH_GATEWAYS.get(self._base, self._base)

    # -- signing and the envelope ------------------------------------------------------------

    def _token(self) -> Token:
        if self.token is None:
            raise AuthRevoked("no Lazada authorisation for this connection", "no_token")
        return self.token

    def _call(
        self,
        api: str,
        params: Mapping[str, Any] | None = None,
        *,
        method: str = "POST",
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        auth = api.startswith("/auth/")
        signed: dict[str, str] = {
            "app_key": self.credentials.app_id,
            "timestamp": str(int(time.time() * 1000)),
            "sign_method": "sha256",
        }
        if not auth:
            signed["access_token"] = self._token().access_token
        signed.update({key: str(value) for key, value in (params or {}).items()})
        signed["sign"] = lazada_sign(self.credentials.secret, api, signed)
        url = (self._auth_base if auth else self._base) + api
        headers = {"Accept": "application/json"}
        data: bytes | None = None
        if method == "GET":
            url += "?" + urlencode(signed)
        elif files:
            data, headers["Content-Type"] = http.multipart(signed, files)
        else:
            data = urlencode(signed).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded;charset=utf-8"
        response = http.send(method, url, body=data, headers=headers, timeout=self.timeout)
        body = response.json()
        if isinstance(body, dict) and str(body.get("code", "0")) != "0":
            self._raise(api, body, response)
        http.raise_for_transport(response, default_backoff=RATE_LIMIT_BACKOFF_S)
        if response.status >= 400 or not isinstance(body, dict):
            raise PlatformError(f"{api} answered {response.status} without an envelope", str(response.status))
        return body

    def _raise(self, api: str, body: Mapping[str, Any], response: http.Response) -> None:
        code = str(body.get("code"))
        kind = str(body.get("type") or "")
        message = str(body.get("message") or code)
        if code in ("ApiCallLimit", "AppCallLimit"):
            raise RateLimited(message, code, response.retry_after() or RATE_LIMIT_BACKOFF_S)
        if code in _SERVER or kind in ("ISP", "SYSTEM") or response.status >= 500:
            raise Unavailable(message, code, response.retry_after())
        if api.startswith("/auth/"):
            raise AuthRevoked(message, code)
        if code in _EXPIRED:
            raise TokenExpired(message, code)
        if code in _OPERATOR:
            raise PlatformError(message, code)
        details = body.get("detail") if isinstance(body.get("detail"), list) else []
        first = details[0] if details and isinstance(details[0], dict) else {}
        detail_message = f"{message}: {first.get('message')}" if first.get("message") else message
        raise ValidationFailed(detail_message, code, field_of(first.get("field"), message))

    # -- authorisation -----------------------------------------------------------------------

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = {
            "response_type": "code",
            "force_auth": "true",
            "redirect_uri": redirect_uri,
            "client_id": self.credentials.app_id,
            "state": state,
        }
        return f"{AUTHORIZE_URL}?{urlencode(query)}"

    def exchange_code(self, code: str, remote_shop_id: str | None) -> Token:
        self.token = self._token_from(self._call("/auth/token/create", {"code": code}), remote_shop_id)
        return self.token

    def refresh(self) -> Token:
        token = self._token()
        if not token.refresh_token:
            raise AuthRevoked("no refresh token kept", "no_refresh_token")
        answer = self._call("/auth/token/refresh", {"refresh_token": token.refresh_token})
        self.token = self._token_from(answer, token.remote_shop_id)
        return self.token

    @staticmethod
    def _token_from(answer: Mapping[str, Any], shop_id: str | None) -> Token:
        if not answer.get("access_token"):
            raise PlatformError("the token answer holds no access_token", "no_token")
        sellers = [c for c in answer.get("country_user_info") or [] if isinstance(c, dict)]
        vietnam = next((c for c in sellers if c.get("country") == "vn"), sellers[0] if sellers else {})
        expires_in = int(answer.get("expires_in") or 0)
        return Token(
            access_token=str(answer["access_token"]),
            refresh_token=str(answer["refresh_token"]) if answer.get("refresh_token") else None,
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in) if expires_in else None,
            remote_shop_id=str(vietnam.get("seller_id") or shop_id or "") or None,
        )

    # -- items -------------------------------------------------------------------------------

    def upload_image(self, data: bytes, filename: str) -> str:
        answer = self._call("/image/upload", files={"image": (filename, data, http.image_type(filename))})
        url = ((answer.get("data") or {}).get("image") or {}).get("url")
        if not url:
            raise PlatformError("/image/upload answered without a url", "no_image_url")
        return str(url)

    def publish(self, listing: RemoteListing) -> str:
        require_listing(listing, max_title=255)
        product = self._product(listing)
        product["Skus"]["Sku"][0].update(price=listing.price_vnd, quantity=max(0, listing.stock))
        answer = self._call("/product/create", {"payload": _payload(product)})
        data = answer.get("data") or {}
        skus = data.get("sku_list") or []
        if not data.get("item_id") or not skus:
            raise PlatformError("/product/create answered without item_id and sku_list", "no_item_id")
        sku = next((s for s in skus if s.get("seller_sku") == listing.sku), skus[0])
        return f"{data['item_id']}:{sku['sku_id']}"

    def update(self, remote_id: str, listing: RemoteListing) -> None:
        require_listing(listing, max_title=255)
        item_id, sku_id = _ids(remote_id)
        product = {"ItemId": item_id, **self._product(listing)}
        product["Skus"]["Sku"][0]["SkuId"] = sku_id
        self._call("/product/update", {"payload": _payload(product)})

    def update_price(self, remote_id: str, price_vnd: int) -> None:
        self.update_price_stock([PriceStockChange(remote_id, price_vnd=price_vnd)])

    def update_stock(self, remote_id: str, stock: int) -> None:
        self.update_price_stock([PriceStockChange(remote_id, stock=stock)])

    def update_price_stock(self, changes: Sequence[PriceStockChange]) -> None:
        """One /product/price_quantity/update per `price_stock_batch` SKUs."""
        skus = []
        for change in changes:
            if change.price_vnd is None and change.stock is None:
                continue
            item_id, sku_id = _ids(change.remote_id)
            sku: dict[str, Any] = {"ItemId": item_id, "SkuId": sku_id}
            if change.price_vnd is not None:
                if change.price_vnd <= 0:
                    raise ValidationFailed("the price must be positive", "local", "price_vnd")
                sku["Price"] = change.price_vnd
            if change.stock is not None:
                sku["Quantity"] = max(0, change.stock)
            skus.append(sku)
        for start in range(0, len(skus), self.price_stock_batch):
            chunk = skus[start : start + self.price_stock_batch]
            self._call("/product/price_quantity/update", {"payload": _payload({"Skus": {"Sku": chunk}})})

    def unlist(self, remote_id: str) -> None:
        item_id, _ = _ids(remote_id)
        self._call("/product/deactivate", {"apiRequestBody": _payload({"ItemId": item_id})})

    def delete(self, remote_id: str) -> None:
        item_id, sku_id = _ids(remote_id)
        self._call("/product/remove", {"sku_id_list": json.dumps([f"SkuId_{item_id}_{sku_id}"])})

    def read_item(self, remote_id: str) -> RemoteItem:
        item_id, sku_id = _ids(remote_id)
        try:
            answer = self._call("/product/item/get", {"item_id": item_id}, method="GET")
        except ValidationFailed as exc:
            if exc.code == "208":
                return RemoteItem(remote_id, None, 0, 0, "deleted")
            raise
        data = answer.get("data") or {}
        skus = [s for s in data.get("skus") or [] if isinstance(s, dict)]
        sku = next((s for s in skus if str(s.get("SkuId")) == sku_id), skus[0] if skus else {})
        status = str(data.get("status") or "").lower()
        return RemoteItem(
            remote_id=remote_id,
            sku=sku.get("SellerSku") or None,
            price_vnd=int(float(sku.get("price") or 0)),
            stock=int(sku.get("quantity") or 0),
            status=STATUSES.get(status, status),
        )

    def _product(self, listing: RemoteListing) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            "name": listing.title.strip(),
            "description": listing.description.strip(),
            "brand": "No Brand",
        }
        sku: dict[str, Any] = {"SellerSku": listing.sku, "package_weight": round(listing.weight_g / 1000, 3)}
        for key, value in listing.attributes.items():
            if key.startswith("package_") and key != "package_weight":
                sku[key] = value
            else:
                attributes[key] = value
        return {
            "PrimaryCategory": listing.category_id,
            "Images": {"Image": list(listing.image_ids)},
            "Attributes": attributes,
            "Skus": {"Sku": [sku]},
        }

    # -- orders ------------------------------------------------------------------------------

    def recent_orders(self, since: datetime) -> list[RemoteOrder]:
        found = {str(order["order_id"]): order for order in self._headers(since, "created_after")}
        for order in self._headers(since, "update_after"):
            found[str(order["order_id"])] = order  # the later read wins
        return [self._order(order) for order in found.values()]  # items read once per order

    def _headers(self, since: datetime, after: str) -> list[Mapping[str, Any]]:
        orders: list[Mapping[str, Any]] = []
        offset = 0
        while True:
            params = {
                after: since.astimezone(UTC).isoformat(timespec="seconds"),
                "offset": offset,
                "limit": ORDER_PAGE,
                "sort_by": "created_at",
                "sort_direction": "ASC",
            }
            data = self._call("/orders/get", params, method="GET").get("data") or {}
            page = data.get("orders") or []
            orders.extend(page)
            offset += len(page)
            if not page or offset >= int(data.get("countTotal") or 0):
                return orders

    def _order(self, order: Mapping[str, Any]) -> RemoteOrder:
        order_id = str(order["order_id"])
        rows = self._call("/order/items/get", {"order_id": order_id}, method="GET").get("data") or []
        lines: dict[tuple[str, str | None], list[int]] = {}
        for row in rows:  # one row per unit
            remote_item_id = f"{row.get('product_id')}:{row.get('sku_id')}"
            key = (remote_item_id, row.get("sku") or None)
            lines.setdefault(key, []).append(int(float(row.get("item_price") or 0)))
        statuses = order.get("statuses") or [""]
        return RemoteOrder(
            remote_order_id=order_id,
            created_at=datetime.strptime(str(order["created_at"]), "%Y-%m-%d %H:%M:%S %z").astimezone(UTC),
            status=str(statuses[0]),
            cancelled=is_cancelled(str(statuses[0]), CANCELLED_STATUSES),
            lines=tuple(
                RemoteOrderLine(remote_item_id=item, sku=sku, quantity=len(prices), price_vnd=prices[0])
                for (item, sku), prices in lines.items()
            ),
        )


def _payload(product: Mapping[str, Any]) -> str:
    return json.dumps({"Request": {"Product": product}}, ensure_ascii=False, separators=(",", ":"))


def _ids(remote_id: str) -> tuple[str, str]:
    item_id, _, sku_id = remote_id.partition(":")
    if not (item_id.isdigit() and sku_id.isdigit()):
        raise ValidationFailed(f"{remote_id!r} is not a Lazada '<item_id>:<sku_id>'", "local", "remote_id")
    return item_id, sku_id
