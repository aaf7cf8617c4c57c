"""Fixtures of the syndication tests: opted-in listings with a photo."""

from __future__ import annotations

import pytest

from marketplace.extensions import db
from syndication import channels
from tests.support import image_bytes
from tests.syndication.doubles import FakePlatform


@pytest.fixture
def opted_in(factory):
    """A listing with a photo whose shop carries its listings on the feeds (and the platforms)."""

    def make(shop=None, channels_on=("feeds",), **fields):
        shop = shop or factory.shop()
        for channel in channels_on:
            channels.set_shop_channel(shop.id, channel, True)
        db.session.commit()
        fields.setdefault("images", [image_bytes()])
        return factory.listing(shop=shop, **fields)

    return make


@pytest.fixture
def fake_platform(app):
    """A recording double in place of the adapters, and the floor's app configured."""
    fake = FakePlatform()
    app.extensions["syndication_adapter_factory"] = fake.factory
    for platform in ("SHOPEE", "LAZADA", "TIKI"):
        app.config[f"SYNDICATION_{platform}_APP_ID"] = "100001"
        app.config[f"SYNDICATION_{platform}_SECRET"] = "secret"
    return fake


@pytest.fixture
def floor_connection(app, fake_platform):
    from datetime import timedelta

    from marketplace.timeutil import utcnow
    from syndication.models import Connection

    connection = Connection(
        shop_id=None,
        platform="shopee",
        remote_shop_id="FLOOR1",
        access_token="tok-1",
        refresh_token="ref-1",
        expires_at=utcnow() + timedelta(hours=4),
    )
    db.session.add(connection)
    db.session.commit()
    return connection
