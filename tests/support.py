"""Plain helpers shared by every test folder (import as `from tests.support import …`; conftest
modules are not importable reliably once several test folders have their own): signing in (the
test client and a real browser), an app served over HTTP on loopback, a localstripe process,
pictures and mails."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.policy import default as default_policy
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, NoReturn

import pytest
from flask import Flask
from PIL import Image
from werkzeug.serving import make_server

ON_CI = os.environ.get("CI") == "true"
PASSWORD = "cam-bu-ht9"  # what tests/conftest.py's Factory gives every user


def unavailable(message: str) -> NoReturn:
    """A service a test needs is missing: skip with the reason, except under CI=true, where it
    must be there (tools/run_tests.py provides it) and the test fails instead."""
    if ON_CI:
        pytest.fail(message)
    pytest.skip(message)


# --- signing in ---------------------------------------------------------------------------------


@contextmanager
def _csrf_off(app: Flask) -> Iterator[None]:
    enabled = app.config.get("WTF_CSRF_ENABLED", True)
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = enabled


def sign_in(client: Any, user: Any, password: str = PASSWORD, *, remember: bool = False) -> Any:
    """Sign `user` in on the test `client` through the real page (CSRF or not); returns the client,
    so `sign_in(app.test_client(), owner)` is a second browser."""
    data = {"email": user.email, "password": password}
    if remember:
        data["remember"] = "y"
    with _csrf_off(client.application):
        response = client.post("/dang-nhap", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def sign_out(client: Any) -> Any:
    """Sign out through the real page (its signals run, the user's other sessions end)."""
    with _csrf_off(client.application):
        return client.post("/dang-xuat")


def forget_session(client: Any) -> None:
    """This browser drops its session cookie: signed out here only, as a new browser would be."""
    with client.session_transaction() as session:
        session.clear()


def sign_in_page(page: Any, email: str, password: str = PASSWORD) -> None:
    """Sign in with the form in a real browser (a Playwright page), and wait until signed in."""
    from playwright.sync_api import expect

    page.goto("/dang-nhap")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Mật khẩu", exact=True).fill(password)
    page.locator("main").get_by_role("button", name="Đăng nhập", exact=True).click()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()


# --- servers on loopback --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def _closing(app: Any) -> Any:
    """`app` whose response iterables are closed even when the browser drops the connection.

    Werkzeug's development server skips `close()` when reading the rest of a reset connection
    raises (a browser cancelling an image as it navigates away), which leaks the open media file
    and fails the test with a ResourceWarning. A generator closes it when it is collected."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        iterable = app(environ, start_response)
        try:
            yield from iterable
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()

    return wsgi


class LiveServer:
    """`app` served over HTTP on a free 127.0.0.1 port by a background thread, for what a test
    client cannot do: a real browser, or localstripe calling our webhook.

        with LiveServer(app, own_links=True) as live:
            requests.get(live.url + "/healthz")

    `own_links`: links built outside a request (the worker's mails) point at this server too, as
    BASE_URL would."""

    def __init__(self, app: Flask, *, own_links: bool = False) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, _closing(app), threaded=True)
        self.host = f"127.0.0.1:{self.server.server_port}"
        self.url = f"http://{self.host}"
        if own_links:
            app.config["SERVER_NAME"] = self.host
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@contextmanager
def localstripe(workdir: Path) -> Iterator[dict[str, str]]:
    """A localstripe to pay against: the one tools/run_tests.py started (STRIPE_API_BASE), else one
    started here on a free loopback port with its store in memory, stopped on exit. Yields its
    `api_base` and a `secret_key` it accepts."""
    base = os.environ.get("STRIPE_API_BASE")
    if base:
        yield {
            "api_base": base.rstrip("/"),
            "secret_key": os.environ.get("STRIPE_SECRET_KEY") or "sk_test_suite",
        }
        return
    executable = Path(sys.executable).parent / "localstripe"
    if not executable.exists():
        unavailable(
            f"localstripe not available: {executable} not found (pip install -r requirements-dev.txt)"
        )
    port = free_port()
    with open(workdir / "localstripe.log", "wb") as log:
        proc = subprocess.Popen(
            [str(executable), "--port", str(port), "--from-scratch"],
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            if not wait_for_port(port, 20):
                unavailable(f"localstripe did not listen on port {port}; see {workdir / 'localstripe.log'}")
            yield {"api_base": f"http://127.0.0.1:{port}", "secret_key": "sk_test_suite"}
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- pages ----------------------------------------------------------------------------------------


class _Fields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("file", "submit", "checkbox", "radio"):
            self.values[name] = a.get("value", "")
        elif tag == "input" and name and a.get("type") in ("checkbox", "radio") and "checked" in a:
            self.values[name] = a.get("value", "on")
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def form_fields(html: str) -> dict[str, str]:
    """What the forms of a page would post as they are shown: each field's name and value (the
    selected option, a text area's text); file inputs and buttons left out."""
    parser = _Fields()
    parser.feed(html)
    return parser.values


def page_form(client: Any, url: str) -> dict[str, str]:
    """GET `url` (it must answer 200) and read its form as shown, CSRF token included."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return form_fields(page.get_data(as_text=True))


def reloaded(row: Any) -> Any:
    """`row` as the database has it now (after a request committed a change to it)."""
    from marketplace.extensions import db

    db.session.expire_all()
    return db.session.get(type(row), row.id)


# --- pictures and mails ---------------------------------------------------------------------------


def image_bytes(fmt: str = "JPEG", size=(640, 480), color=(200, 120, 30), exif: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    img = Image.new("RGB", size, color)
    options = {"exif": exif} if exif else {}
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def read_mail(path: Path) -> dict:
    msg = message_from_bytes(path.read_bytes(), policy=default_policy)
    return {"to": msg["To"], "subject": str(msg["Subject"]), "body": msg.get_content(), "file": path.name}


def read_mails(app: Flask) -> list[dict]:
    """Every mail the app has written to MAIL_DIR so far, oldest first (the worker writes them:
    drain the outbox before)."""
    folder = Path(app.config["MAIL_DIR"])
    files = (
        sorted(folder.glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name)) if folder.exists() else []
    )
    return [read_mail(path) for path in files]


def seed_shop_with_listing(
    *,
    email: str,
    owner_name: str,
    shop_name: str,
    commune_id: int,
    category: Any,
    operator: Any,
    title: str,
    price: int,
    password: str = PASSWORD,
) -> tuple[Any, Any, Any]:
    """An approved household shop with one product on sale (20 units of 1 kg), through the real
    services, inside the caller's app context and transaction: (owner, shop, listing)."""
    from catalog.services import create_listing
    from marketplace.accounts.services import create_user
    from sellers.services import approve_shop, register_shop

    owner = create_user(email=email, password=password, full_name=owner_name, role="producer", confirmed=True)
    shop = register_shop(
        {
            "name": shop_name,
            "kind": "household",
            "phone": "0912345678",
            "address_line": "Thôn 1",
            "commune_id": commune_id,
        },
        actor=owner,
    )
    approve_shop(shop, actor=operator)
    listing = create_listing(
        shop,
        {
            "title": title,
            "category": category,
            "unit": "kg",
            "price_vnd": price,
            "stock": 20,
            "status": "active",
            "weight_grams": 1000,
        },
        actor=owner,
    )
    return owner, shop, listing
