"""The demo's syndication: most shops carry their listings on the feeds (so /feeds/… are not
empty after `make run`), three also on Shopee through the floor's own Shopee store, with the
Shopee leaf categories of their products mapped. The floor's connection is a placeholder
waiting for real credentials (SYNDICATION_SHOPEE_APP_ID/_SECRET): it shows as "needs
reconnecting", and nothing is sent anywhere. Idempotent: what exists is left as it is."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import select

from catalog.models import Category
from marketplace.extensions import db
from sellers.models import Shop
from syndication.models import CategoryMapping, Connection, ConnectionState, ShopChannel

FEED_SHOPS_SKIP = {"htx-du-lich-nghi-xuan"}  # stays and tours are not goods for a product feed
SHOPEE_SHOPS = ("htx-cam-bu-huong-son", "mat-ong-huong-son", "keo-cu-do-thanh-sen")
# Floor category -> a Shopee leaf category id and its required attributes (demo values; the
# operator edits them at /quan-tri/kenh-ban/anh-xa/shopee). Other categories stay unmapped.
SHOPEE_MAPPING = {
    "cam": ("100636", {"brand_id": "0", "brand_name": "NoBrand"}),
    "mat-ong": ("100643", {"brand_id": "0", "brand_name": "NoBrand"}),
    "banh-keo-dac-san": ("101220", {"brand_id": "0", "brand_name": "NoBrand"}),
}
FLOOR_SHOP_ID = "demo-san-ha-tinh"


def _channel(shop: Shop, channel: str, counts: Counter) -> None:
    exists = db.session.scalar(
        select(ShopChannel).where(ShopChannel.shop_id == shop.id, ShopChannel.channel == channel)
    )
    if exists is None:
        db.session.add(ShopChannel(shop_id=shop.id, channel=channel, enabled=True))
        counts["channel choices"] += 1


def load_syndication(shops: Iterable[Shop]) -> Counter:
    counts: Counter = Counter()
    for shop in shops:
        if shop.slug not in FEED_SHOPS_SKIP:
            _channel(shop, "feeds", counts)
        if shop.slug in SHOPEE_SHOPS:
            _channel(shop, "shopee", counts)
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    for slug, (remote, attributes) in SHOPEE_MAPPING.items():
        category = categories.get(slug)
        if category is None:
            continue
        found = db.session.scalar(
            select(CategoryMapping).where(
                CategoryMapping.platform == "shopee", CategoryMapping.category_id == category.id
            )
        )
        if found is None:
            db.session.add(
                CategoryMapping(
                    platform="shopee",
                    category_id=category.id,
                    remote_category_id=remote,
                    attributes=attributes,
                )
            )
            counts["category mappings"] += 1
    floor = db.session.scalar(
        select(Connection).where(Connection.platform == "shopee", Connection.remote_shop_id == FLOOR_SHOP_ID)
    )
    if floor is None:
        db.session.add(
            Connection(
                shop_id=None,
                platform="shopee",
                remote_shop_id=FLOOR_SHOP_ID,
                access_token=secrets.token_hex(16),
                refresh_token=None,
                state=ConnectionState.NEEDS_RECONNECTING.value,
                state_reason="Kết nối mẫu của bản demo: cấu hình SYNDICATION_SHOPEE_APP_ID và "
                "SYNDICATION_SHOPEE_SECRET rồi kết nối lại gian hàng của sàn.",
            )
        )
        counts["platform connections"] += 1
    db.session.flush()
    return counts
