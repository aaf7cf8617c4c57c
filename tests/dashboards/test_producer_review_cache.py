"""A shop's reply to a review changes the public listing page, which the anonymous page cache
keeps: the reply is announced (listing.changed through the outbox) and the next visitor sees it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace import outbox
from marketplace.extensions import db
from marketplace.outbox import OutboxEvent
from tests.dashboards.producer_testlib import add_today_work, build_world
from tests.support import sign_in


@pytest.fixture
def app_overrides() -> dict:
    # The cache on, as in production, without the settling window (as tests/marketplace/test_page_cache.py).
    return {"PAGE_CACHE_URL": "memory://?max_mb=16", "PAGE_CACHE_REFRESH_S": 0, "PAGE_CACHE_SKEW_S": 0}


def _get(client, url: str):
    db.session.expire_all()
    return client.get(url)


def test_a_reply_renews_the_cached_listing_page(app, factory, csrf_off):
    w = build_world(factory)
    add_today_work(w, factory)
    outbox.drain()
    visitor = app.test_client()
    url = f"/san-pham/{w.a.slug}"
    _get(visitor, url)
    cached = _get(visitor, url)
    assert cached.headers.get("X-Page-Cache") == "hit"
    assert "Cam hơi dập" in cached.get_data(as_text=True)
    review = w.reviews[0]
    before = db.session.scalar(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()).limit(1)) or 0
    shop_client = sign_in(app.test_client(), w.owner)
    response = shop_client.post(
        f"/kenh-ban/{w.shop.slug}/danh-gia/{review.id}/tra-loi",
        data={f"r{review.id}-reply_body": "Shop xin lỗi, đã gửi bù hàng."},
    )
    assert response.status_code == 302
    topics = db.session.scalars(select(OutboxEvent.topic).where(OutboxEvent.id > before)).all()
    assert topics == ["listing.changed"]
    outbox.drain()
    fresh = _get(visitor, url)
    assert fresh.headers.get("X-Page-Cache") == "miss"
    assert "Shop xin lỗi, đã gửi bù hàng." in fresh.get_data(as_text=True)
