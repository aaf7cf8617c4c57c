"""The sync engine: what is sent to each connection, and when.

A listing change (catalog's `listing.changed`, a shop's `shop.changed`) becomes a
`syndication.listing` event (see hooks.py); its handler fans out one `syndication.push` event per
listing × connection that carries it, or carried it. The push compares one hash per field group
with what was last sent and calls only what changed:

    presence  the listing should be on the platform (public, channel on, mapped category)
    content   title, description, weight, category, attributes, images  -> publish / update
    price     -> update_price
    stock     -> update_stock

Nothing changed: no call. The listing left (archived, hidden, shop suspended, channel off):
delete. Images are uploaded once per content hash and connection.

Failures (syndication.platforms.base): RateLimited and Unavailable retry through the outbox
(RetryLater, with the platform's Retry-After); ValidationFailed stops with a Vietnamese message
saying what to fix ("needs attention"); TokenExpired refreshes once and retries; AuthRevoked turns
the connection to "needs reconnecting" and mails its owner."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from catalog.models import Listing, ListingStatus
from marketplace import outbox
from marketplace.extensions import db
from marketplace.images import image_dir
from marketplace.mail import queue_mail
from marketplace.models import OutboxEvent, User
from marketplace.timeutil import utcnow
from sellers.models import ShopMember, ShopStatus

from . import channels, topics
from .feeds import feed_id, plain_text
from .models import (
    PUSH_PLATFORMS,
    CategoryMapping,
    Connection,
    ConnectionState,
    SyncRecord,
    SyncState,
    UploadedImage,
    platform_name,
)
from .platforms import base as P

log = logging.getLogger(__name__)

TOPIC_LISTING, TOPIC_SHOP, TOPIC_PUSH, TOPIC_PULL = topics.LISTING, topics.SHOP, topics.PUSH, topics.PULL
GROUPS = ("presence", "content", "price", "stock")
MAX_IMAGES = 8
REFRESH_AHEAD = timedelta(minutes=30)  # a token about to expire is refreshed before the call
FIELD_LABELS = {
    "title": "Tên sản phẩm",
    "name": "Tên sản phẩm",
    "item_name": "Tên sản phẩm",
    "description": "Mô tả",
    "price": "Giá",
    "price_vnd": "Giá",
    "weight_g": "Khối lượng",
    "image_ids": "Ảnh",
    "stock": "Tồn kho",
    "weight": "Khối lượng",
    "image": "Ảnh",
    "images": "Ảnh",
    "category": "Danh mục",
    "category_id": "Danh mục",
    "attributes": "Thuộc tính bắt buộc của danh mục",
}

T = TypeVar("T")


# --- the adapter of a connection -------------------------------------------------------------------


def credentials(platform: str) -> P.AppCredentials | None:
    """The floor's app on the platform (SYNDICATION_<PLATFORM>_APP_ID/_SECRET/_BASE_URL), or None
    while the operator has not configured it."""
    config = current_app.config
    key = platform.upper()
    app_id, secret = config.get(f"SYNDICATION_{key}_APP_ID"), config.get(f"SYNDICATION_{key}_SECRET")
    if not app_id or not secret or not has_adapter(platform):
        return None
    return P.AppCredentials(
        platform=platform,
        app_id=str(app_id),
        secret=str(secret),
        base_url=config[f"SYNDICATION_{key}_BASE_URL"],
    )


def has_adapter(platform: str) -> bool:
    """Whether syndication/platforms/ has the platform's module (a registry entry alone is not
    enough to send anything)."""
    if platform not in P.PLATFORMS:
        return False
    try:
        return importlib.util.find_spec(f"syndication.platforms.{platform}") is not None
    except ImportError:
        return False


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


def _naive(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def token_of(connection: Connection) -> P.Token:
    return P.Token(
        access_token=connection.access_token,
        refresh_token=connection.refresh_token,
        expires_at=_aware(connection.expires_at),
        remote_shop_id=connection.remote_shop_id,
    )


def adapter_factory() -> Callable[[P.AppCredentials, P.Token | None], Any]:
    """syndication.platforms.adapter_for, unless a test put a recording double in its place."""
    factory = current_app.extensions.get("syndication_adapter_factory")
    if factory is not None:
        return factory
    from .platforms import adapter_for

    return adapter_for


def adapter_for_connection(connection: Connection):
    creds = credentials(connection.platform)
    if creds is None:
        raise NotConfigured(connection.platform)
    return adapter_factory()(creds, token_of(connection))


class NotConfigured(Exception):
    """The floor's app credentials for this platform are not set."""


def store_token(connection: Connection, token: P.Token) -> None:
    connection.access_token = token.access_token
    if token.refresh_token:
        connection.refresh_token = token.refresh_token
    connection.expires_at = _naive(token.expires_at)
    if token.remote_shop_id:
        connection.remote_shop_id = token.remote_shop_id
    connection.state = ConnectionState.ACTIVE.value
    connection.state_reason = None


def needs_reconnecting(connection: Connection, reason: str) -> None:
    """The platform refused the authorisation: nothing more is sent until the owner reconnects;
    they are told once (a mail per change of state)."""
    if connection.state == ConnectionState.NEEDS_RECONNECTING.value:
        return
    connection.state = ConnectionState.NEEDS_RECONNECTING.value
    connection.state_reason = reason[:2000]
    name = platform_name(connection.platform)
    for email in owner_addresses(connection):
        with force_locale("vi"):
            queue_mail(
                email,
                _("Cần kết nối lại %(platform)s", platform=name),
                "syndication_reconnect",
                platform=name,
                connection=connection,
                reason=reason,
            )


def owner_addresses(connection: Connection) -> list[str]:
    if connection.shop_id is None:  # the floor's own store: the operators
        return list(
            db.session.scalars(
                select(User.email).where(User.role == "operator", User.active, User.deleted_at.is_(None))
            )
        )
    return list(
        db.session.scalars(
            select(User.email)
            .join(ShopMember, ShopMember.user_id == User.id)
            .where(ShopMember.shop_id == connection.shop_id, ShopMember.role == "owner")
        )
    )


class Session:
    """Calls through one connection's adapter: refresh before expiry, refresh once on
    TokenExpired, AuthRevoked turns the connection to "needs reconnecting" (raised on)."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.adapter = adapter_for_connection(connection)
        self.held = connection.access_token  # the token this adapter signs with
        if self._about_to_expire():
            self._refresh()

    def _about_to_expire(self) -> bool:
        expires = self.connection.expires_at
        return bool(
            expires is not None and self.connection.refresh_token and expires - REFRESH_AHEAD <= utcnow()
        )

    def _refresh(self) -> None:
        # The platforms rotate the refresh token: two workers must not both spend it. Re-read
        # the connection (locked on PostgreSQL, so a worker refreshing it meanwhile finishes
        # first): a token stored by someone else since this adapter was built is used as it is.
        db.session.flush()
        db.session.refresh(self.connection, with_for_update=db.engine.dialect.name == "postgresql")
        if self.connection.access_token != self.held and not self._about_to_expire():
            self.adapter = adapter_for_connection(self.connection)
            self.held = self.connection.access_token
            return
        try:
            token = adapter_for_connection(self.connection).refresh()
        except (P.TokenExpired, P.AuthRevoked) as exc:
            raise P.AuthRevoked(getattr(exc, "message", str(exc))) from exc
        store_token(self.connection, token)
        self.adapter = adapter_for_connection(self.connection)
        self.held = self.connection.access_token

    def call(self, fn: Callable[[Any], T]) -> T:
        try:
            return fn(self.adapter)
        except P.TokenExpired:
            self._refresh()
            try:
                return fn(self.adapter)
            except P.TokenExpired as exc:
                raise P.AuthRevoked(getattr(exc, "message", str(exc))) from exc


# --- what a listing looks like on a connection -------------------------------------------------------


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


def connection_for(listing: Listing, platform: str) -> Connection | None:
    """The shop's own active connection to the platform, else the floor's."""
    rows = db.session.scalars(
        select(Connection).where(
            Connection.platform == platform,
            (Connection.shop_id == listing.shop_id) | Connection.shop_id.is_(None),
        )
    ).all()
    own = [c for c in rows if c.shop_id == listing.shop_id]
    floor = [c for c in rows if c.shop_id is None]
    found = own or floor
    return found[0] if found else None


def is_public(listing: Listing) -> bool:
    return (
        listing.status == ListingStatus.ACTIVE.value
        and listing.hidden_at is None
        and listing.shop.status == ShopStatus.APPROVED.value
    )


@dataclass
class Desired:
    present: bool
    hashes: dict[str, str]
    content: dict[str, Any]
    mapping: CategoryMapping | None
    problem: str | None = None  # why it cannot be sent (unmapped category): needs attention


def desired(listing: Listing, connection: Connection) -> Desired:
    carried = (
        is_public(listing)
        and channels.carries(listing, connection.platform)
        and connection_for(listing, connection.platform) is connection
    )
    mapping = db.session.scalar(
        select(CategoryMapping).where(
            CategoryMapping.platform == connection.platform,
            CategoryMapping.category_id == listing.category_id,
        )
    )
    weight = listing.weight_grams or int(current_app.config.get("DEFAULT_ITEM_WEIGHT_GRAMS", 500))
    content = {
        "title": listing.title,
        "description": plain_text(listing.description or "") or listing.title,
        "weight_g": weight,
        "category_id": mapping.remote_category_id if mapping else None,
        "attributes": dict(mapping.attributes or {}) if mapping else {},
        "images": [image.key for image in listing.images[:MAX_IMAGES]],
    }
    problem = None
    if carried and mapping is None:
        problem = _(
            "Danh mục “%(category)s” chưa được ánh xạ sang danh mục của %(platform)s. Ban quản lý sàn "
            "cần chọn danh mục %(platform)s tương ứng (Quản trị › Ánh xạ danh mục); sản phẩm sẽ được "
            "gửi ngay sau đó.",
            category=listing.category.name,
            platform=platform_name(connection.platform),
        )
    elif carried and not listing.images:
        problem = _(
            "%(platform)s yêu cầu ít nhất một ảnh sản phẩm. Hãy thêm ảnh cho sản phẩm.",
            platform=platform_name(connection.platform),
        )
    hashes = {
        "presence": "1" if carried else "0",
        "content": _hash(content),
        "price": str(listing.price_vnd),
        "stock": str(listing.stock),
    }
    return Desired(present=carried, hashes=hashes, content=content, mapping=mapping, problem=problem)


def remote_listing(listing: Listing, want: Desired, image_ids: tuple[str, ...]) -> P.RemoteListing:
    content = want.content
    return P.RemoteListing(
        sku=feed_id(listing.id),
        title=content["title"],
        description=content["description"],
        price_vnd=listing.price_vnd,
        stock=listing.stock,
        weight_g=content["weight_g"],
        category_id=content["category_id"],
        attributes=content["attributes"],
        image_ids=image_ids,
    )


# --- fan-out --------------------------------------------------------------------------------------------


def record_for(listing_id: int, connection_id: int) -> SyncRecord:
    record = db.session.scalar(
        select(SyncRecord).where(
            SyncRecord.listing_id == listing_id, SyncRecord.connection_id == connection_id
        )
    )
    if record is None:
        record = SyncRecord(
            listing_id=listing_id, connection_id=connection_id, state=SyncState.QUEUED.value, hashes={}
        )
        db.session.add(record)
    return record


def enqueue_push(
    listing_id: int, connection_id: int, *, force: bool = False, single: bool = False
) -> SyncRecord:
    record = record_for(listing_id, connection_id)
    if force:  # the operator's resync: send everything again
        record.hashes = {}
        record.payload_hash = None
    if record.state != SyncState.REMOVED.value or force:
        record.state = SyncState.QUEUED.value
    payload: dict[str, Any] = {"listing_id": listing_id, "connection_id": connection_id}
    if single:
        payload["single"] = True
    outbox.record(TOPIC_PUSH, payload)
    return record


def fan_out(listing_id: int) -> int:
    """One push per connection that carries the listing now, or holds a copy of it (or an
    unsettled record)."""
    listing = db.session.get(Listing, listing_id)
    if listing is None:
        return 0
    targets: set[int] = set()
    for platform in PUSH_PLATFORMS:
        connection = connection_for(listing, platform)
        if connection is not None and channels.carries(listing, platform):
            targets.add(connection.id)
    # ... and every connection holding a copy, or a record not yet settled as removed (one
    # waiting as "needs attention" must end "removed" when the listing leaves, not stay stuck).
    held = db.session.scalars(
        select(SyncRecord.connection_id).where(
            SyncRecord.listing_id == listing_id,
            SyncRecord.remote_id.is_not(None) | (SyncRecord.state != SyncState.REMOVED.value),
        )
    ).all()
    targets.update(held)
    for connection_id in sorted(targets):
        enqueue_push(listing_id, connection_id)
    return len(targets)


def on_listing(payload: dict[str, Any], event: Any) -> None:
    fan_out(int(payload["listing_id"]))


def on_shop(payload: dict[str, Any], event: Any) -> None:
    ids = db.session.scalars(select(Listing.id).where(Listing.shop_id == int(payload["shop_id"]))).all()
    for listing_id in ids:
        outbox.record(TOPIC_LISTING, {"listing_id": listing_id})


# --- the push -------------------------------------------------------------------------------------------


def _lock(listing_id: int, connection_id: int) -> SyncRecord:
    query = select(SyncRecord).where(
        SyncRecord.listing_id == listing_id, SyncRecord.connection_id == connection_id
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update()
    record = db.session.scalar(query)
    if record is None:
        record = record_for(listing_id, connection_id)
        db.session.flush()
    return record


def _upload(adapter: Any, *, data: bytes, filename: str) -> str:
    return adapter.upload_image(data, filename)


def _read(adapter: Any, *, remote_id: str) -> Any:
    return adapter.read_item(remote_id)


def _images(session: Session, connection: Connection, keys: list[str]) -> tuple[str, ...]:
    known = dict(
        db.session.execute(
            select(UploadedImage.content_hash, UploadedImage.remote_image_id).where(
                UploadedImage.connection_id == connection.id, UploadedImage.content_hash.in_(keys)
            )
        ).all()
    )
    out = []
    for key in keys:
        if key not in known:
            data = (image_dir(key) / "1200.jpg").read_bytes()
            known[key] = session.call(partial(_upload, data=data, filename=f"{key}.jpg"))
            db.session.add(
                UploadedImage(connection_id=connection.id, content_hash=key, remote_image_id=known[key])
            )
        out.append(known[key])
    return tuple(out)


def push(listing_id: int, connection_id: int, *, single: bool = False) -> list[str]:
    """Bring one listing on one connection up to date. Returns the calls made (for tests and
    the benchmark). Raises RetryLater on a retryable failure (after saving what succeeded).
    Where the platform takes many SKUs' price and stock in one call (Lazada: 50), a change of
    only those is left to the connection's batch (`flush_batch`), unless `single`."""
    record = _lock(listing_id, connection_id)
    connection = db.session.get(Connection, connection_id)
    listing = db.session.get(Listing, listing_id)
    calls: list[str] = []
    if connection is None or listing is None:
        return calls
    name = platform_name(connection.platform)
    if connection.state != ConnectionState.ACTIVE.value:
        record.state = SyncState.FAILED.value
        record.last_error = _(
            "Kết nối %(platform)s cần được kết nối lại; sản phẩm sẽ được gửi khi kết nối hoạt động trở lại.",
            platform=name,
        )
        return calls
    want = desired(listing, connection)
    sent = dict(record.hashes or {})
    if want.present and want.problem:
        record.state = SyncState.NEEDS_ATTENTION.value
        record.last_error = want.problem
        return calls
    if not want.present and not record.remote_id:
        record.state = SyncState.REMOVED.value
        record.hashes = {}
        record.last_error = None
        return calls
    try:
        session = Session(connection)
        if not want.present:
            remote_id = record.remote_id
            session.call(lambda a: a.delete(remote_id))
            calls.append("delete")
            record.remote_id = None
            record.hashes = {}
            record.payload_hash = None
            record.state = SyncState.REMOVED.value
        elif not record.remote_id:
            images = _images(session, connection, want.content["images"])
            payload = remote_listing(listing, want, images)
            record.remote_id = session.call(lambda a: a.publish(payload))
            calls.append("publish")
            sent = dict(want.hashes)
        else:
            remote_id = record.remote_id
            batched = not single and batches(session.adapter)
            if sent.get("content") != want.hashes["content"]:
                images = _images(session, connection, want.content["images"])
                payload = remote_listing(listing, want, images)
                session.call(lambda a: a.update(remote_id, payload))
                calls.append("update")
                sent["content"] = want.hashes["content"]
            if batched and (
                sent.get("price") != want.hashes["price"] or sent.get("stock") != want.hashes["stock"]
            ):
                sent["presence"] = "1"
                record.hashes = sent
                record.state = SyncState.QUEUED.value
                record.last_error = None
                schedule_batch(connection.id)
                return calls
            if sent.get("price") != want.hashes["price"]:
                session.call(lambda a: a.update_price(remote_id, listing.price_vnd))
                calls.append("update_price")
                sent["price"] = want.hashes["price"]
            if sent.get("stock") != want.hashes["stock"]:
                session.call(lambda a: a.update_stock(remote_id, listing.stock))
                calls.append("update_stock")
                sent["stock"] = want.hashes["stock"]
            sent["presence"] = "1"
    except P.ValidationFailed as exc:
        record.hashes = sent
        record.state = SyncState.NEEDS_ATTENTION.value
        record.last_error = validation_message(connection.platform, exc)
        return calls
    except P.AuthRevoked as exc:
        record.hashes = sent
        record.state = SyncState.FAILED.value
        record.last_error = _(
            "%(platform)s không còn chấp nhận quyền truy cập của sàn. Chủ kết nối cần kết nối lại "
            "(Kênh bán › Kết nối sàn).",
            platform=name,
        )
        needs_reconnecting(connection, exc.message if hasattr(exc, "message") else str(exc))
        return calls
    except NotConfigured:
        record.state = SyncState.FAILED.value
        record.last_error = _(
            "Sàn chưa cấu hình ứng dụng %(platform)s; ban quản lý sàn cần cấu hình.", platform=name
        )
        return calls
    except (P.RateLimited, P.Unavailable) as exc:
        record.hashes = sent
        record.state = SyncState.FAILED.value
        if isinstance(exc, P.RateLimited):
            record.last_error = _(
                "%(platform)s đang giới hạn số lần gọi; sàn sẽ tự gửi lại sau.", platform=name
            )
            seconds = exc.retry_after
        else:
            record.last_error = _(
                "%(platform)s tạm thời không phản hồi; sàn sẽ tự gửi lại sau.", platform=name
            )
            seconds = getattr(exc, "retry_after", None)
        db.session.commit()  # keep what went through (a remote id, the groups sent) before the retry
        raise outbox.RetryLater(f"{connection.platform}: {exc}", seconds) from exc
    except P.PlatformError as exc:  # the platform refused our signature or answered nonsense
        record.hashes = sent
        record.state = SyncState.FAILED.value
        record.last_error = _(
            "%(platform)s từ chối yêu cầu của sàn (%(code)s). Ban quản lý sàn cần kiểm tra cấu hình kết "
            "nối rồi đồng bộ lại.",
            platform=name,
            code=getattr(exc, "code", "") or type(exc).__name__,
        )
        log.error("push of listing %s to connection %s: %s", listing_id, connection_id, exc)
        return calls
    if want.present:
        record.hashes = sent
        record.payload_hash = _hash(sent)
        record.state = SyncState.SYNCED.value
    record.last_error = None
    record.last_success_at = utcnow()
    return calls


def validation_message(platform: str, exc: Any) -> str:
    field = getattr(exc, "field", None)
    name = str(field or "").lower()
    label = FIELD_LABELS.get("attributes" if name.startswith("attributes.") else name)
    detail = getattr(exc, "message", None) or str(exc)
    if name.startswith("attributes") or name in ("category", "category_id"):
        return _(
            "%(platform)s từ chối danh mục hoặc thuộc tính bắt buộc (%(detail)s). Ban quản lý sàn cần sửa "
            "ánh xạ danh mục %(platform)s (Quản trị › Đồng bộ kênh bán › Ánh xạ danh mục); sản phẩm sẽ "
            "được gửi lại sau khi lưu ánh xạ.",
            platform=platform_name(platform),
            detail=detail,
        )
    if label:
        return _(
            "%(platform)s từ chối sản phẩm: “%(field)s” chưa đúng yêu cầu của sàn (%(detail)s). Hãy sửa "
            "“%(field)s” trong trang sản phẩm rồi lưu lại; sản phẩm sẽ được gửi lại tự động.",
            platform=platform_name(platform),
            field=label,
            detail=detail,
        )
    return _(
        "%(platform)s từ chối sản phẩm (%(detail)s). Hãy kiểm tra tên, mô tả, ảnh và giá của sản phẩm rồi "
        "lưu lại; nếu vẫn lỗi, liên hệ ban quản lý sàn.",
        platform=platform_name(platform),
        detail=detail,
    )


def on_push(payload: dict[str, Any], event: Any) -> None:
    push(int(payload["listing_id"]), int(payload["connection_id"]), single=bool(payload.get("single")))


# --- price and stock in batches (platforms that take many SKUs a call) ----------------------------------

BATCH_DELAY_S = 2.0  # pushes gather for this long before their batch goes out


def batches(adapter: Any) -> bool:
    return isinstance(adapter, P.BatchPriceStock) and int(getattr(adapter, "price_stock_batch", 1)) > 1


def schedule_batch(connection_id: int) -> None:
    """A `syndication.batch` event for the connection, unless one is waiting that has not
    started yet (a running one may already have read the records: then another is added)."""
    now = utcnow()
    waiting = db.session.scalar(
        select(OutboxEvent.id).where(
            OutboxEvent.topic == topics.BATCH,
            OutboxEvent.status == "pending",
            OutboxEvent.payload["connection_id"].as_integer() == connection_id,
            OutboxEvent.next_attempt_at > now,
            OutboxEvent.locked_until.is_(None),
        )
    )
    if waiting is None:
        event = outbox.record(topics.BATCH, {"connection_id": connection_id})
        event.next_attempt_at = now + timedelta(seconds=BATCH_DELAY_S)


def flush_batch(connection_id: int) -> int:
    """Send the price and stock of every record waiting for the connection's batch, in as few
    calls as the platform allows. Returns how many calls were made."""
    connection = db.session.get(Connection, connection_id)
    if connection is None or connection.state != ConnectionState.ACTIVE.value:
        return 0
    query = (
        select(SyncRecord)
        .where(
            SyncRecord.connection_id == connection_id,
            SyncRecord.state == SyncState.QUEUED.value,
            SyncRecord.remote_id.is_not(None),
        )
        .order_by(SyncRecord.id)
        .limit(5000)
    )
    if db.engine.dialect.name == "postgresql":
        # Records first, then the connection (a refresh locks it), as push() does: a record a
        # push is working on is left to it (it schedules another batch if it needs one).
        query = query.with_for_update(skip_locked=True)
    records = db.session.scalars(query).all()
    if not records:
        return 0
    try:
        session = Session(connection)
    except P.AuthRevoked as exc:
        needs_reconnecting(connection, exc.message)
        return 0
    if not batches(session.adapter):
        for record in records:
            enqueue_push(record.listing_id, connection_id, single=True)
        return 0
    waiting: list[tuple[SyncRecord, Desired, P.PriceStockChange]] = []
    for record in records:
        want = desired(record.listing, connection)
        sent = dict(record.hashes or {})
        if not want.present or want.problem or sent.get("content") != want.hashes["content"]:
            continue  # a push event is waiting for it: a full push decides
        price = record.listing.price_vnd if sent.get("price") != want.hashes["price"] else None
        stock = record.listing.stock if sent.get("stock") != want.hashes["stock"] else None
        if price is None and stock is None:
            record.state = SyncState.SYNCED.value
            continue
        waiting.append((record, want, P.PriceStockChange(str(record.remote_id), price, stock)))
    size = int(session.adapter.price_stock_batch)
    calls = 0
    for start in range(0, len(waiting), size):
        chunk = waiting[start : start + size]
        changes = [change for _record, _want, change in chunk]
        try:
            session.call(partial(_batch_call, changes=changes))
        except P.ValidationFailed:
            # One SKU of the batch is refused and the answer may not say which: each goes alone,
            # so the producer sees the error on the right listing.
            for record, _want, _change in chunk:
                enqueue_push(record.listing_id, connection_id, single=True)
            continue
        except P.AuthRevoked as exc:
            needs_reconnecting(connection, exc.message)
            return calls
        except (P.RateLimited, P.Unavailable) as exc:
            db.session.commit()  # the chunks already sent stay sent
            raise outbox.RetryLater(f"{connection.platform}: {exc}", exc.retry_after) from exc
        calls += 1
        for record, want, _change in chunk:
            sent = dict(record.hashes or {})
            sent["price"], sent["stock"] = want.hashes["price"], want.hashes["stock"]
            record.hashes = sent
            record.payload_hash = _hash(sent)
            record.state = SyncState.SYNCED.value
            record.last_error = None
            record.last_success_at = utcnow()
    return calls


def _batch_call(adapter: Any, *, changes: list[P.PriceStockChange]) -> None:
    adapter.update_price_stock(changes)


def on_batch(payload: dict[str, Any], event: Any) -> None:
    flush_batch(int(payload["connection_id"]))


# --- reconcile: read the remote state and repair drift --------------------------------------------------


def reconcile(connection: Connection) -> dict[str, int]:
    """Compare each copy on the platform with what the floor sent; whatever differs (a price
    edited on the platform, an item deleted there) is forgotten and pushed again. Listings that
    should be carried but have no record yet are queued too."""
    counts = {"checked": 0, "drift": 0, "queued": 0}
    if connection.state != ConnectionState.ACTIVE.value:
        return counts
    session = Session(connection)
    records = db.session.scalars(
        select(SyncRecord).where(SyncRecord.connection_id == connection.id, SyncRecord.remote_id.is_not(None))
    ).all()
    for record in records:
        counts["checked"] += 1
        listing = record.listing
        remote_id = record.remote_id
        try:
            item = session.call(partial(_read, remote_id=str(remote_id)))
        except P.ValidationFailed:
            item = None
        sent = dict(record.hashes or {})
        if item is not None and item.remote_id and item.remote_id != record.remote_id:
            record.remote_id = item.remote_id  # a reviewed request became a product (Tiki)
        if item is not None and item.status == "rejected":
            record.state = SyncState.NEEDS_ATTENTION.value
            record.last_error = _(
                "%(platform)s không duyệt sản phẩm. Hãy kiểm tra tên, mô tả, ảnh và danh mục rồi lưu lại "
                "sản phẩm; nó sẽ được gửi lại.",
                platform=platform_name(connection.platform),
            )
            record.remote_id = None
            record.hashes = {}
            continue
        if item is None or item.status == "deleted":
            record.remote_id = None
            sent = {}
        elif item.status == "pending_review":
            continue  # nothing to compare yet
        else:
            if item.price_vnd != listing.price_vnd:
                sent.pop("price", None)
            if item.stock != listing.stock:
                sent.pop("stock", None)
            if item.status != "normal" and is_public(listing):
                sent.pop("content", None)
        if sent != (record.hashes or {}):
            counts["drift"] += 1
            record.hashes = sent
            enqueue_push(record.listing_id, connection.id)
    # Listings carried by this connection without a record (a channel turned on while the
    # connection was down, say).
    have = set(
        db.session.scalars(select(SyncRecord.listing_id).where(SyncRecord.connection_id == connection.id))
    )
    query = select(Listing).where(Listing.status == ListingStatus.ACTIVE.value, Listing.hidden_at.is_(None))
    if connection.shop_id is not None:
        query = query.where(Listing.shop_id == connection.shop_id)
    for listing in db.session.scalars(query):
        if (
            listing.id not in have
            and channels.carries(listing, connection.platform)
            and connection_for(listing, connection.platform) is connection
        ):
            enqueue_push(listing.id, connection.id)
            counts["queued"] += 1
    return counts


def reconcile_all() -> dict[str, int]:
    """Every active connection, one commit each (the CLI and the worker's nightly run)."""
    from . import remote_orders

    total = {"connections": 0, "checked": 0, "drift": 0, "queued": 0, "orders": 0}
    ids = db.session.scalars(
        select(Connection.id).where(Connection.state == ConnectionState.ACTIVE.value)
    ).all()
    for connection_id in ids:
        connection = db.session.get(Connection, connection_id)
        if connection is None:
            continue
        try:
            counts = reconcile(connection)
            db.session.commit()
            total["orders"] += len(remote_orders.pull(connection))
            db.session.commit()
        except P.AuthRevoked as exc:
            db.session.rollback()
            connection = db.session.get(Connection, connection_id)
            if connection is not None:
                needs_reconnecting(connection, getattr(exc, "message", str(exc)))
                db.session.commit()
            continue
        except (P.PlatformError, NotConfigured) as exc:
            # Keep what was repaired so far and, above all, a token refreshed on the way (the
            # platforms rotate the refresh token: the old one is spent).
            db.session.commit()
            log.warning("reconcile of connection %s failed: %s", connection_id, exc)
            continue
        total["connections"] += 1
        for key in ("checked", "drift", "queued"):
            total[key] += counts[key]
    return total
