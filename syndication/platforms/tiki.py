"""Tiki adapter.

OAuth2: the floor's app takes a token at /sc/oauth2/token with HTTP Basic (client_id:
client_secret) — client credentials for an in-house app, an authorisation code for a seller who
connects their own shop — then calls /integration/* with a Bearer token. A new product is a
reviewed request: publish answers the product id when the review is already done, else
"track:<track_id>", which read_item resolves once Tiki approved it (its remote_id is then the
product id) and the price/stock calls answer Unavailable("pending_review") until then.
domain.md confirms only the endpoints: everything in UNCONFIRMED is our reading."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from . import transport as http
from .base import (
    AppCredentials,
    AuthRevoked,
    PlatformError,
    PriceStockChange,
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

# What domain.md does not confirm, in one place: (detail, what this adapter assumes).
UNCONFIRMED: dict[str, str] = {
    "payload schema": "request {category_id, name, description, market_price, attributes, image, images, variants:[{sku, price, quantity, image}]}",
    "authorisation code flow": "GET /sc/oauth2/auth (response_type=code) and grant_type=authorization_code / refresh_token at /sc/oauth2/token",
    "review states": "GET /integration/v2.1/requests/<track_id> -> {state: processing|approved|rejected, product_id, reason}",
    "product info update": "POST /integration/v2.1/requests/updateProductInfo {product_id, name, description, attributes, images}",
    "updateSku body": "{product_id, price?, quantity?, active?} (Tiki also documents original_sku; we address the product id we hold)",
    "unlist / delete": "updateSku active 0 for both: no deletion through the API is known, so a deleted item reads 'unlisted'",
    "read item": "GET /integration/v2/products/<product_id> -> {product_id, original_sku, price, quantity, active}",
    "orders": "GET /integration/v2/orders?created_from_date=<Vietnam local time>&page&limit=50 -> {data, paging:{current_page, last_page}}",
    "updated orders": "no update-time filter is known: a cancellation is seen only while the order is in the created window",
    "order statuses": "the cancelling words (CANCELLED_STATUSES) are all unconfirmed",
    "image upload": "POST /integration/v2.1/media/images multipart 'image' -> {url}",
    "errors": "400/422 {errors:[{field, message}]} -> ValidationFailed; 401 -> TokenExpired; 429 Retry-After; 5xx",
    "scope": "the client credentials grant asks for SCOPE",
}

SCOPE = "product order inventory"
RATE_LIMIT_BACKOFF_S = 2.0
REVIEW_RETRY_S = 600.0  # how soon to ask again about a product under review
ORDER_PAGE = 50
# Order statuses (lowercased) that give a taken stock back: status -> confirmed / unconfirmed.
CANCELLED_STATUSES: dict[str, str] = {
    "canceled": "unconfirmed",
    "seller_canceled": "unconfirmed",
    "returned": "unconfirmed: assumed the unit is back with the seller",
}
TIKI_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
FIELDS: dict[str, str] = {
    "category_id": "category_id",
    "name": "title",
    "description": "description",
    "images": "image_ids",
    "image": "image_ids",
    "market_price": "price_vnd",
    "price": "price_vnd",
    "variants.price": "price_vnd",
    "quantity": "stock",
    "variants.quantity": "stock",
    "sku": "sku",
    "product_weight_kg": "weight_g",
}
TRACK = "track:"


class Adapter:
    platform = "tiki"
    price_stock_batch = 1  # updateSku addresses one SKU (price and stock together)

    def __init__(self, credentials: AppCredentials, token: Token | None, *, timeout: float = 15.0) -> None:
        self.credentials = credentials
        self.token = token
        self.timeout = timeout
        self._base = credentials.base_url.rstrip("/")

    # -- OAuth2 ------------------------------------------------------------------------------

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.credentials.app_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPE,
            "state": state,
        }
        return f"{self._base}/sc/oauth2/auth?{urlencode(query)}"

    def exchange_code(self, code: str, remote_shop_id: str | None) -> Token:
        form = (
            {"grant_type": "authorization_code", "code": code}
            if code
            else {"grant_type": "client_credentials", "scope": SCOPE}
        )
        self.token = self._grant(form, remote_shop_id)
        return self.token

    def refresh(self) -> Token:
        """A refresh token when Tiki gave one, else a new client-credentials token."""
        shop = self.token.remote_shop_id if self.token else None
        if self.token is not None and self.token.refresh_token:
            form = {"grant_type": "refresh_token", "refresh_token": self.token.refresh_token}
        else:
            form = {"grant_type": "client_credentials", "scope": SCOPE}
        self.token = self._grant(form, shop)
        return self.token

    def _grant(self, form: Mapping[str, str], shop: str | None) -> Token:
        basic = base64.b64encode(f"{self.credentials.app_id}:{self.credentials.secret}".encode()).decode()
        response = http.send(
            "POST",
            f"{self._base}/sc/oauth2/token",
            body=urlencode(form).encode(),
            headers={
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            timeout=self.timeout,
        )
        http.raise_for_transport(response, default_backoff=RATE_LIMIT_BACKOFF_S)
        body = response.json()
        if response.status >= 400 or not isinstance(body, dict) or not body.get("access_token"):
            error = body.get("error") if isinstance(body, dict) else None
            raise AuthRevoked(
                f"Tiki refused the token request ({error or response.status})", str(error or response.status)
            )
        expires_in = int(body.get("expires_in") or 0)
        return Token(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in) if expires_in else None,
            remote_shop_id=shop,
        )

    # -- calls -------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        upload: tuple[bytes, str] | None = None,
    ) -> Any:
        if self.token is None:
            raise AuthRevoked("no Tiki token for this connection", "no_token")
        headers = {"Authorization": f"Bearer {self.token.access_token}", "Accept": "application/json"}
        data: bytes | None = None
        if upload is not None:
            data, headers["Content-Type"] = http.multipart(
                {}, {"image": (upload[1], upload[0], http.image_type(upload[1]))}
            )
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        url = f"{self._base}{path}" + (f"?{urlencode(query)}" if query else "")
        response = http.send(method, url, body=data, headers=headers, timeout=self.timeout)
        answer = response.json()
        if response.status == 401:
            raise TokenExpired("Tiki refused the access token", str((answer or {}).get("error") or 401))
        http.raise_for_transport(response, default_backoff=RATE_LIMIT_BACKOFF_S)
        if response.status in (400, 422):
            errors = (answer or {}).get("errors") if isinstance(answer, dict) else None
            first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
            name = first.get("field")
            raise ValidationFailed(
                str(first.get("message") or (answer or {}).get("message") or "Tiki refused the request"),
                str((answer or {}).get("error") or response.status),
                FIELDS.get(name, f"attributes.{name}") if name else None,
            )
        if response.status == 404:
            raise PlatformError(f"{path} not found", "404")
        if response.status >= 400 or answer is None:
            raise PlatformError(f"{path} answered {response.status}", str(response.status))
        return answer

    # -- items -------------------------------------------------------------------------------

    def upload_image(self, data: bytes, filename: str) -> str:
        answer = self._call("POST", "/integration/v2.1/media/images", upload=(data, filename))
        if not isinstance(answer, dict) or not answer.get("url"):
            raise PlatformError("the image upload answered without a url", "no_image_url")
        return str(answer["url"])

    def publish(self, listing: RemoteListing) -> str:
        require_listing(listing, max_title=255)
        images = list(listing.image_ids)
        body = {
            **self._info(listing),
            "category_id": _int(listing.category_id, "category_id"),
            "market_price": listing.price_vnd,
            "image": images[0],
            "images": images[1:],
            "option_attributes": [],
            "variants": [
                {
                    "sku": listing.sku,
                    "price": listing.price_vnd,
                    "quantity": max(0, listing.stock),
                    "image": images[0],
                }
            ],
        }
        answer = self._call("POST", "/integration/v2.1/requests", body=body)
        track_id = str(answer.get("track_id") or "")
        if not track_id:
            raise PlatformError("the product request answered without a track_id", "no_track_id")
        state = self._review(track_id)
        return (
            str(state["product_id"])
            if state.get("state") == "approved" and state.get("product_id")
            else TRACK + track_id
        )

    def _review(self, track_id: str) -> dict[str, Any]:
        state = self._call("GET", f"/integration/v2.1/requests/{track_id}")
        if state.get("state") == "rejected":
            raise ValidationFailed(
                f"Tiki rejected the product: {state.get('reason') or 'no reason given'}", "rejected"
            )
        return dict(state)

    def _product_id(self, remote_id: str) -> int:
        """The product id behind a remote id, waiting (Unavailable) while Tiki reviews it."""
        if remote_id.startswith(TRACK):
            state = self._review(remote_id.removeprefix(TRACK))
            if state.get("state") != "approved" or not state.get("product_id"):
                raise Unavailable(
                    "the product is still under Tiki's review", "pending_review", REVIEW_RETRY_S
                )
            return int(state["product_id"])
        return _int(remote_id, "remote_id")

    def update(self, remote_id: str, listing: RemoteListing) -> None:
        require_listing(listing, max_title=255)
        body = {
            "product_id": self._product_id(remote_id),
            **self._info(listing),
            "images": list(listing.image_ids),
        }
        self._call("POST", "/integration/v2.1/requests/updateProductInfo", body=body)

    def update_price(self, remote_id: str, price_vnd: int) -> None:
        self.update_price_stock([PriceStockChange(remote_id, price_vnd=price_vnd)])

    def update_stock(self, remote_id: str, stock: int) -> None:
        self.update_price_stock([PriceStockChange(remote_id, stock=stock)])

    def update_price_stock(self, changes: Sequence[PriceStockChange]) -> None:
        for change in changes:
            body: dict[str, Any] = {}
            if change.price_vnd is not None:
                if change.price_vnd <= 0:
                    raise ValidationFailed("the price must be positive", "local", "price_vnd")
                body["price"] = change.price_vnd
            if change.stock is not None:
                body["quantity"] = max(0, change.stock)
            if body:
                self._sku(change.remote_id, body)

    def unlist(self, remote_id: str) -> None:
        self._sku(remote_id, {"active": 0})

    def delete(self, remote_id: str) -> None:
        self._sku(remote_id, {"active": 0})  # no deletion through Tiki's API (UNCONFIRMED)

    def _sku(self, remote_id: str, body: dict[str, Any]) -> None:
        self._call(
            "POST",
            "/integration/v2.1/products/updateSku",
            body={"product_id": self._product_id(remote_id), **body},
        )

    def read_item(self, remote_id: str) -> RemoteItem:
        if remote_id.startswith(TRACK):
            try:
                product_id = self._product_id(remote_id)
            except Unavailable:
                return RemoteItem(remote_id, None, 0, 0, "pending_review")
            except ValidationFailed:
                return RemoteItem(remote_id, None, 0, 0, "rejected")
        else:
            product_id = _int(remote_id, "remote_id")
        try:
            product = self._call("GET", f"/integration/v2/products/{product_id}")
        except PlatformError as exc:
            if exc.code == "404":
                return RemoteItem(str(product_id), None, 0, 0, "deleted")
            raise
        return RemoteItem(
            remote_id=str(product.get("product_id", product_id)),
            sku=product.get("original_sku") or None,
            price_vnd=int(product.get("price") or 0),
            stock=int(product.get("quantity") or 0),
            status="normal" if product.get("active") else "unlisted",
        )

    @staticmethod
    def _info(listing: RemoteListing) -> dict[str, Any]:
        return {
            "name": listing.title.strip(),
            "description": listing.description.strip(),
            "attributes": {**listing.attributes, "product_weight_kg": round(listing.weight_g / 1000, 3)},
        }

    # -- orders ------------------------------------------------------------------------------

    def recent_orders(self, since: datetime) -> list[RemoteOrder]:
        orders: list[RemoteOrder] = []
        page = 1
        while True:
            query = {
                "created_from_date": since.astimezone(TIKI_TIME).strftime("%Y-%m-%d %H:%M:%S"),
                "page": page,
                "limit": ORDER_PAGE,
            }
            answer = self._call("GET", "/integration/v2/orders", query=query)
            for order in answer.get("data") or []:
                lines = tuple(
                    RemoteOrderLine(
                        remote_item_id=str((item.get("product") or {}).get("id")),
                        sku=(item.get("product") or {}).get("seller_product_code") or None,
                        quantity=int((item.get("invoice") or {}).get("quantity") or 0),
                        price_vnd=int((item.get("invoice") or {}).get("price") or 0),
                    )
                    for item in order.get("items") or []
                )
                created = datetime.strptime(str(order["created_at"]), "%Y-%m-%d %H:%M:%S").replace(
                    tzinfo=TIKI_TIME
                )
                orders.append(
                    RemoteOrder(
                        str(order["code"]),
                        created.astimezone(UTC),
                        str(order.get("status", "")),
                        lines,
                        cancelled=is_cancelled(str(order.get("status", "")), CANCELLED_STATUSES),
                    )
                )
            paging = answer.get("paging") or {}
            if page >= int(paging.get("last_page") or 1):
                return orders
            page += 1


def _int(value: str, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{field} {value!r} is not a Tiki id", "local", field) from None
