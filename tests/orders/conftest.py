"""Fixtures for the orders tests: a shopper driving the real pages, a localstripe server, and a
live HTTP server for the webhooks localstripe sends. Helpers live in orders_testlib.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from orders_testlib import (
    PUBLISHABLE_KEY,
    WEBHOOK_SECRET,
    LiveServer,
    Shopper,
    _free_port,
    _unavailable,
    _wait_for,
)


@pytest.fixture
def shopper(client, factory, csrf_off):
    return Shopper(client, factory.commune().id)


@pytest.fixture(scope="session")
def localstripe_server(tmp_path_factory):
    """A localstripe process: the one tools/run_tests.py started (STRIPE_API_BASE), else our own
    on a free loopback port, stopped at the end of the session."""
    base = os.environ.get("STRIPE_API_BASE")
    if base:
        yield {
            "api_base": base.rstrip("/"),
            "secret_key": os.environ.get("STRIPE_SECRET_KEY") or "sk_test_orders",
        }
        return
    executable = Path(sys.executable).parent / "localstripe"
    if not executable.exists():
        _unavailable(f"{executable} not found (pip install -r requirements-dev.txt)")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("localstripe")
    log = open(workdir / "localstripe.log", "wb")  # noqa: SIM115 - the server writes it until teardown
    proc = subprocess.Popen(
        [str(executable), "--port", str(port), "--from-scratch"],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        if not _wait_for(port, 20):
            proc.kill()
            _unavailable(f"did not listen on port {port}; see {workdir / 'localstripe.log'}")
        yield {"api_base": f"http://127.0.0.1:{port}", "secret_key": "sk_test_orders"}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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
