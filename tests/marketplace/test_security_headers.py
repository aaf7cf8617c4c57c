"""Security headers on every response (issue 9, finding 9): a crawl of the site as a visitor, a
producer and the operator checks the headers on each page and that no page carries inline script,
inline event handlers or inline style, which the Content-Security-Policy forbids."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest

from marketplace.security_headers import content_security_policy
from tests.support import forget_session, sign_in

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; frame-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "a" and names.get("href"):
            self.links.append(names["href"])
        # A JSON-LD data block (the listing page's structured data) is not executed.
        if tag == "script" and not names.get("src") and names.get("type") != "application/ld+json":
            self.inline.append("<script> without src")
        if tag == "style":
            self.inline.append("<style>")
        for name, value in attrs:
            if name.startswith("on"):
                self.inline.append(f"<{tag} {name}=…>")
            if name == "style":
                self.inline.append(f"<{tag} style=…>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.inline.append(f"<{tag} {name}=javascript:…>")


def assert_headers(response, url: str, *, https: bool = False) -> None:
    headers = response.headers
    assert headers.get("Content-Security-Policy"), url
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], url
    assert "script-src 'self'" in headers["Content-Security-Policy"], url
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"], url
    assert headers.get("X-Content-Type-Options") == "nosniff", url
    assert headers.get("X-Frame-Options") == "DENY", url
    assert headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", url
    if https:
        assert headers.get("Strict-Transport-Security") == "max-age=31536000", url
    else:
        assert "Strict-Transport-Security" not in headers, url


def crawl(client, seeds: list[str], limit: int = 120) -> dict[str, int]:
    """Follow same-site links breadth first; check every response; return {path: status}."""
    seen: dict[str, int] = {}
    queue = deque(seeds)
    while queue and len(seen) < limit:
        url = urldefrag(queue.popleft())[0]
        parts = urlsplit(url)
        if not url or parts.netloc not in ("", "localhost") or url in seen:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path.startswith(("/static/", "/media/")) or path in seen:
            continue
        response = client.get(path)
        seen[path] = response.status_code
        assert response.status_code < 500, path
        assert_headers(response, path)
        if response.mimetype == "text/html":
            page = _Page()
            page.feed(response.get_data(as_text=True))
            assert not page.inline, f"{path}: {page.inline}"
            queue.extend(link for link in page.links if link not in seen)
        response.close()
    return seen


@pytest.fixture
def site(factory):
    owner = factory.user(role="producer", email="chu@example.vn")
    shop = factory.shop(owner=owner, name="HTX Cam Khe Mây")
    for n in range(3):
        factory.listing(shop=shop, title=f"Cam Khe Mây {n}", stock=5)
    return {"owner": owner, "shop": shop, "operator": factory.operator(email="admin@example.vn")}


def test_visitor_crawl_every_page_has_the_headers_and_no_inline_code(client, site):
    pages = crawl(client, ["/", "/dang-nhap", "/dang-ky", "/quen-mat-khau", "/gio-hang", "/tim-kiem?q=cam"])
    assert len(pages) >= 15
    assert {"/", "/dang-nhap", "/gio-hang"} <= set(pages)
    assert any(p.startswith("/san-pham/") for p in pages) and any(p.startswith("/cua-hang/") for p in pages)
    assert any(p.startswith("/truy-xuat/") for p in pages)


def test_producer_and_operator_crawls(client, site):
    sign_in(client, site["owner"])
    seller = crawl(client, ["/kenh-ban/", f"/kenh-ban/{site['shop'].slug}/"], limit=60)
    assert any(p.startswith(f"/kenh-ban/{site['shop'].slug}/san-pham") for p in seller)
    forget_session(client)
    sign_in(client, site["operator"])
    operator = crawl(client, ["/quan-tri/"], limit=60)
    assert {"/quan-tri/don-hang", "/quan-tri/san-pham"} <= set(operator)


def test_other_responses_have_the_headers_too(client, app, site):
    for path in (
        "/api/v1/listings",
        "/api/v1/openapi.json",
        "/healthz",
        "/robots.txt",
        "/khong-co-trang-nay",
    ):
        response = client.get(path)
        assert_headers(response, path)
    response = client.get("/static/css/app.css")
    assert_headers(response, "/static/css/app.css")
    response.close()
    assert client.get("/").headers["Content-Security-Policy"] == EXPECTED_CSP


def test_hsts_only_over_https(client, site):
    assert_headers(client.get("/", base_url="https://localhost"), "/ over https", https=True)
    assert_headers(client.get("/"), "/ over http")
    # Behind a proxy that the WSGI server trusts, the scheme arrives in wsgi.url_scheme.
    response = client.get("/", environ_overrides={"wsgi.url_scheme": "https"})
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_a_view_can_allow_one_more_origin_for_its_own_response_only(app):
    assert content_security_policy(
        {"script-src": ["https://js.example"], "frame-src": ["https://f.example"]}
    ) == (
        EXPECTED_CSP.replace("script-src 'self'", "script-src 'self' https://js.example").replace(
            "frame-src 'none'", "frame-src https://f.example"
        )
    )


def test_no_template_has_inline_script_handlers_or_style():
    """Pages the crawl does not reach are covered by reading the templates themselves."""
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern in (
            r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/ld\+json\")[^>]*>",
            r"<style\b",
            r"\son[a-z]+\s*=",
            r"\sstyle\s*=",
            r"javascript:",
        ):
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in re.finditer(pattern, text, re.I)]
    assert not offenders, offenders
