"""Fixtures for the orders tests: a shopper driving the real pages, a localstripe server, and a
live HTTP server for the webhooks localstripe sends. Helpers live in orders_testlib.py."""

from __future__ import annotations

import pytest
from orders_testlib import PUBLISHABLE_KEY, WEBHOOK_SECRET, Shopper

from tests.support import LiveServer, localstripe


@pytest.fixture
def shopper(client, factory, csrf_off):
    return Shopper(client, factory.commune().id)


@pytest.fixture(scope="session")
def localstripe_server(tmp_path_factory):
    """A localstripe for the session (tests/support.py: the one tools/run_tests.py started, else
    our own on a free loopback port)."""
    with localstripe(tmp_path_factory.mktemp("localstripe")) as server:
        yield server


@pytest.fixture
def stripe_app(app, localstripe_server):
    """The app with card payments switched on against localstripe."""
    base = localstripe_server["api_base"]
    app.config.update(
        STRIPE_SECRET_KEY=localstripe_server["secret_key"],
        STRIPE_PUBLISHABLE_KEY=PUBLISHABLE_KEY,
        STRIPE_API_BASE=base,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_JS_URL=f"{base}/js.stripe.com/v3/",
    )
    return app


@pytest.fixture
def live_app(stripe_app):
    """The app served over HTTP on 127.0.0.1 so localstripe can deliver its signed webhooks."""
    with LiveServer(stripe_app) as live:
        yield live
