"""Fixtures of the syndication tests: opted-in listings with a photo."""

from __future__ import annotations

import pytest

from marketplace.extensions import db
from syndication import channels
from tests.support import image_bytes


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
