"""Real-browser fixtures: the app served over HTTP on 127.0.0.1, and Debian's Chromium driven by Playwright.

`live_server` runs its own app (temp SQLite migrated by Alembic, CSRF on, plain-http cookies) in a
background thread (tests/support.py's LiveServer); `browser` is one headless Chromium per session; `new_page()` opens a page in a
fresh context (separate cookies), so one test can play producer, operator and visitor at once.
Playwright's bundled node driver is used, never its downloaded browsers (no `playwright install`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from flask_migrate import upgrade

from marketplace import create_app
from marketplace.extensions import db
from tests.support import LiveServer, unavailable

ROOT = Path(__file__).resolve().parents[2]
# Full-page screenshots kept as the run's artifacts (git-ignored); E2E_SCREENSHOTS moves them.
SCREENSHOTS = Path(os.environ.get("E2E_SCREENSHOTS", ROOT / "test-results" / "screenshots"))
PHONE = {"width": 390, "height": 844}  # the phone the storefront is judged on (issue 15)
DESKTOP = {"width": 1280, "height": 900}
CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.hookimpl(tryfirst=True)  # before `-m "not e2e"` deselects
def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def live_server(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "e2e-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e2e.db'}",
            "MEDIA_ROOT": str(tmp_path / "media"),
            "PRIVATE_MEDIA_ROOT": str(tmp_path / "private-media"),
            "MAIL_DIR": str(tmp_path / "mail"),
            "MAIL_SERVER": None,
            "WTF_CSRF_ENABLED": True,  # a real browser posts real forms, tokens and all
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "ELASTICSEARCH_URL": None,
            "OPENSEARCH_URL": None,
            "PREFERRED_URL_SCHEME": "http",
            # Hashing cost is not what these tests are about (tests/conftest.py does the same).
            "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
            # The anonymous page cache as in production (marketplace/pagecache.py); versions read on
            # every request, so a page shows a change as soon as the test drained the outbox.
            "PAGE_CACHE_URL": "memory://",
            "PAGE_CACHE_REFRESH_S": 0,
            "PAGE_CACHE_SKEW_S": 0,
        }
    )
    with app.app_context():
        upgrade()
        db.session.remove()
    # Links built outside a request (worker, mails) point at this server, as BASE_URL would.
    try:
        with LiveServer(app, own_links=True) as live:
            yield live
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# Every Content-Security-Policy violation in any page or frame is reported to the test: the
# browser's `securitypolicyviolation` event (through a binding, which the page's CSP cannot block)
# and its console message ("Refused to …  Content Security Policy …").
_REPORT_CSP_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolation([e.violatedDirective, e.blockedURI || 'inline', e.sourceFile || '',
                         e.lineNumber, e.documentURI].join(' | '));
}, true);
"""


@pytest.fixture
def csp_violations() -> list[str]:
    """The CSP violations the pages of this test reported (new_page fails the test on any left)."""
    return []


@pytest.fixture
def new_page(browser, live_server, csp_violations):
    """new_page() -> a Page in its own context (own cookies), based at the live server's URL.
    Any Content-Security-Policy violation reported by its pages fails the test."""
    contexts = []

    def open_page(**options):
        context = browser.new_context(base_url=live_server.url, locale="vi-VN", **options)
        context.set_default_timeout(15_000)
        context.expose_binding("__cspViolation", lambda _source, text: csp_violations.append(text))
        context.add_init_script(_REPORT_CSP_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                csp_violations.append(f"console: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not csp_violations, "Content-Security-Policy violations:\n" + "\n".join(csp_violations)


@pytest.fixture
def page(new_page):
    return new_page()


def save_screenshot(page, name: str) -> Path:
    """A full-page PNG of what `page` shows now, as SCREENSHOTS/<name>.png (name made file-safe)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "page"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{safe}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def screenshot(request):
    """screenshot(page, "cart") saves test-results/screenshots/<test>-cart.png (see save_screenshot)."""
    return lambda page, name: save_screenshot(page, f"{request.node.name}-{name}")
