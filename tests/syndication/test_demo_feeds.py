"""The demo (`make run`) carries listings on the feeds and shows the floor's Shopee store
waiting for credentials; loading it twice adds nothing."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sqlalchemy import func, select

from marketplace.extensions import db
from syndication.models import CategoryMapping, Connection, ShopChannel


def counts() -> tuple[int, ...]:
    db.session.rollback()
    return tuple(
        db.session.scalar(select(func.count()).select_from(m))
        for m in (ShopChannel, CategoryMapping, Connection)
    )


def test_demo_feeds_are_not_empty_and_loading_twice_adds_nothing(runner, client):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    first = counts()
    assert first[0] >= 12 and first[1] == 3 and first[2] == 1
    response = client.get("/feeds/google-merchant.xml")
    items = ET.fromstring(response.data).findall("channel/item")
    assert len(items) >= 50
    assert client.get("/feeds/listings.json").get_json()["items"]
    connection = db.session.scalar(select(Connection))
    assert connection.is_floor and connection.state == "needs_reconnecting"
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert counts() == first
