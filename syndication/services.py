"""Syndication operations for the pages: connecting a platform shop, the channel choices, the
operator's category mapping and resync. The actor is explicit; nothing here commits."""

from __future__ import annotations

import secrets
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from catalog.models import Category, Listing
from marketplace import outbox
from marketplace.errors import DomainError, Errors, Forbidden
from marketplace.extensions import db
from marketplace.models import User
from marketplace.permissions import is_operator
from sellers.models import Shop
from sellers.permissions import ShopPermission, can_manage_listings, has_shop_permission

from . import channels, topics
from .models import (
    CHANNELS,
    PUSH_PLATFORMS,
    CategoryMapping,
    Connection,
    ConnectionState,
    SyncRecord,
    SyncState,
)

MAX_ATTRIBUTES = 30


def can_connect(user: User | None, shop: Shop | None) -> bool:
    """The shop's owner links their own platform shop; the operator links the floor's."""
    if shop is None:
        return is_operator(user)
    return has_shop_permission(user, shop, ShopPermission.EDIT_PROFILE)


def new_state() -> str:
    return secrets.token_urlsafe(24)


def authorize_url(platform: str, redirect_uri: str, state: str) -> str:
    from .engine import adapter_factory, credentials

    creds = credentials(platform)
    if platform not in PUSH_PLATFORMS or creds is None:
        raise DomainError(_("Sàn chưa cấu hình kết nối với nền tảng này."))
    return str(adapter_factory()(creds, None).authorize_url(redirect_uri, state))


def finish_connect(
    platform: str, shop: Shop | None, code: str, remote_shop_id: str | None, *, actor: User
) -> Connection:
    """The platform sent the user back with an authorisation code: exchange it for tokens (the
    one remote call made inside a request: the code is short-lived and the user waits for the
    answer) and store the connection. Its listings are queued at once."""
    from .engine import adapter_factory, credentials, store_token

    if not can_connect(actor, shop):
        raise Forbidden(_("Bạn không có quyền kết nối cửa hàng này."))
    creds = credentials(platform)
    if creds is None or not code:
        raise DomainError(_("Sàn chưa cấu hình kết nối với nền tảng này."))
    from .platforms import base as P

    try:
        token = adapter_factory()(creds, None).exchange_code(code, remote_shop_id)
    except P.PlatformError as exc:
        raise DomainError(
            _(
                "Không kết nối được với %(platform)s: %(detail)s. Vui lòng thử lại.",
                platform=platform.title(),
                detail=exc,
            )
        ) from exc
    remote = str(token.remote_shop_id or remote_shop_id or "")
    if not remote:
        raise DomainError(_("Nền tảng không trả về mã cửa hàng. Vui lòng thử lại."))
    connection = db.session.scalar(
        select(Connection).where(Connection.platform == platform, Connection.remote_shop_id == remote)
    )
    if connection is not None and connection.shop_id != (shop.id if shop else None):
        raise DomainError(_("Cửa hàng này trên nền tảng đã được kết nối với một cửa hàng khác của sàn."))
    if connection is None:
        connection = Connection(platform=platform, shop_id=shop.id if shop else None, remote_shop_id=remote)
        db.session.add(connection)
    store_token(connection, token)
    db.session.flush()
    resync_connection(connection)
    return connection


def resync_connection(connection: Connection) -> int:
    """Queue every listing the connection carries or holds (after a (re)connection)."""
    query = select(Listing.id)
    if connection.shop_id is not None:
        query = query.where(Listing.shop_id == connection.shop_id)
    held = set(
        db.session.scalars(select(SyncRecord.listing_id).where(SyncRecord.connection_id == connection.id))
    )
    ids = set(db.session.scalars(query)) | held
    for listing_id in sorted(ids):
        outbox.record(topics.LISTING, {"listing_id": listing_id})
    return len(ids)


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise DomainError(_("Kênh bán không hợp lệ."))


def set_shop_channels(shop: Shop, choices: dict[str, bool], *, actor: User) -> None:
    if not can_manage_listings(actor, shop):
        raise Forbidden(_("Bạn không có quyền quản lý sản phẩm của cửa hàng này."))
    for channel, enabled in choices.items():
        _check_channel(channel)
        channels.set_shop_channel(shop.id, channel, enabled)
    outbox.record(topics.SHOP, {"shop_id": shop.id})


def set_listing_channels(listing: Listing, choices: dict[str, bool | None], *, actor: User) -> None:
    if not can_manage_listings(actor, listing.shop):
        raise Forbidden(_("Bạn không có quyền quản lý sản phẩm của cửa hàng này."))
    for channel, enabled in choices.items():
        _check_channel(channel)
        channels.set_listing_channel(listing.id, channel, enabled)
    outbox.record(topics.LISTING, {"listing_id": listing.id})


def parse_attributes(text: str, errors: Errors) -> dict[str, str]:
    """`name = value` per line (the platform's required attributes)."""
    out: dict[str, str] = {}
    for n, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip() or not value.strip():
            errors.add("attributes", _("Dòng %(n)d: cần dạng “tên = giá trị”.", n=n))
            continue
        out[name.strip()[:60]] = value.strip()[:200]
    if len(out) > MAX_ATTRIBUTES:
        errors.add("attributes", _("Tối đa %(n)d thuộc tính.", n=MAX_ATTRIBUTES))
    return out


def save_mapping(
    platform: str, category: Category, remote_category_id: str, attributes_text: str, *, actor: User
) -> CategoryMapping | None:
    """The operator maps a floor category to the platform's leaf category (empty id: unmapped
    again). The listings waiting for it are queued at once."""
    if not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn được sửa ánh xạ danh mục."))
    if platform not in PUSH_PLATFORMS:
        raise DomainError(_("Kênh bán không hợp lệ."))
    errors = Errors()
    remote = (remote_category_id or "").strip()
    if remote and not (remote.isdigit() and len(remote) <= 20):
        errors.add("remote_category_id", _("Mã danh mục của nền tảng là một dãy số (danh mục lá)."))
    attributes = parse_attributes(attributes_text, errors)
    errors.raise_if_any()
    mapping = db.session.scalar(
        select(CategoryMapping).where(
            CategoryMapping.platform == platform, CategoryMapping.category_id == category.id
        )
    )
    if not remote:
        if mapping is not None:
            db.session.delete(mapping)
        mapping = None
    else:
        if mapping is None:
            mapping = CategoryMapping(platform=platform, category_id=category.id)
            db.session.add(mapping)
        mapping.remote_category_id = remote
        mapping.attributes = attributes
        mapping.updated_by_id = actor.id
    for listing_id in db.session.scalars(select(Listing.id).where(Listing.category_id == category.id)):
        outbox.record(topics.LISTING, {"listing_id": listing_id})
    return mapping


def unmapped_categories(platform: str) -> list[tuple[Category, int]]:
    """Categories with listings but no mapping for `platform`, and how many listings each."""
    from sqlalchemy import func

    mapped = select(CategoryMapping.category_id).where(CategoryMapping.platform == platform)
    rows = db.session.execute(
        select(Category, func.count(Listing.id))
        .join(Listing, Listing.category_id == Category.id)
        .where(Category.id.not_in(mapped))
        .group_by(Category.id)
        .order_by(Category.name)
    ).all()
    return [(category, count) for category, count in rows]


def resync(record_ids: list[int], *, actor: User) -> int:
    """The operator's bulk resync: each record forgets what it sent and is pushed again."""
    from .engine import enqueue_push

    if not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn được đồng bộ lại."))
    records = db.session.scalars(select(SyncRecord).where(SyncRecord.id.in_(record_ids))).all()
    for record in records:
        enqueue_push(record.listing_id, record.connection_id, force=True)
    return len(records)


def connection_summary(connection: Connection, *, shop_id: int | None = None) -> dict[str, Any]:
    """What a page may show of a connection: never the tokens in full. For a shop's page
    (`shop_id`), the floor's connection shows no token at all and counts only the shop's
    listings."""
    query = select(SyncRecord.state, db.func.count()).where(SyncRecord.connection_id == connection.id)
    if shop_id is not None and connection.shop_id != shop_id:
        query = query.join(Listing, Listing.id == SyncRecord.listing_id).where(Listing.shop_id == shop_id)
    counts: dict[str, int] = dict(db.session.execute(query.group_by(SyncRecord.state)).all())
    theirs = shop_id is None or connection.shop_id == shop_id
    return {
        "connection": connection,
        "token": connection.masked_token if theirs else "—",
        "active": connection.state == ConnectionState.ACTIVE.value,
        "counts": {state.value: counts.get(state.value, 0) for state in SyncState},
    }
