"""Fixtures for the logistics tests: a shop with a partner, a shopper driving the real pages.
Helpers live in logistics_testlib.py."""

from __future__ import annotations

import pytest
from logistics_testlib import Setup

from tests.orders.orders_testlib import Shopper


@pytest.fixture
def shopper(client, factory, csrf_off):
    return Shopper(client, factory.commune().id)


@pytest.fixture
def setup(app, factory, shopper):
    return Setup(app, factory, shopper)
