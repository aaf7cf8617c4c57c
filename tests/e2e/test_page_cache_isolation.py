"""Two real browsers and the anonymous page cache (marketplace/pagecache.py, on in the e2e server
as in production): one signs in and fills a cart, the other is anonymous. Neither ever sees the
other's name, cart count or CSRF token, and the anonymous one still adds to its own cart from a
cached page (a token-less same-origin form)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from marketplace.accounts.services import create_user
from marketplace.extensions import db
from tests.e2e.test_checkout_flow import add_to_cart, seed
from tests.support import PASSWORD, sign_in_page

NAME = "Lê Thị Riêng Tư"


def _token(html: str) -> str | None:
    match = re.search(r'name="csrf_token" value="([^"]*)"', html)
    return match.group(1) if match else None


def test_a_member_and_a_visitor_never_share_a_page(live_server, new_page):
    assert live_server.app.config["PAGE_CACHE_URL"].startswith("memory://")
    seeded = seed(live_server.app)
    with live_server.app.app_context():
        create_user(email="rieng@example.vn", password=PASSWORD, full_name=NAME, role="buyer", confirmed=True)
        db.session.commit()
        db.session.remove()
    pages = ["/", f"/san-pham/{seeded['cam']['listing']}", f"/cua-hang/{seeded['cam']['slug']}"]

    visitor = new_page()
    for path in pages:  # the visitor first: every page is stored for anonymous visitors
        visitor.goto(path)
    again = visitor.goto(pages[1])
    assert again.headers.get("x-page-cache") == "hit"

    member = new_page()
    sign_in_page(member, "rieng@example.vn")
    add_to_cart(member, seeded["cam"]["listing"])
    member.goto("/tai-khoan")
    expect(member.get_by_text(NAME).first).to_be_visible()
    member_tokens = set()
    for path in pages:
        response = member.goto(path)
        assert response.headers.get("x-page-cache") is None
        assert response.headers["cache-control"] == "private, no-store"
        html = member.content()
        assert "Giỏ hàng (1)" in html and "Đăng xuất" in html
        token = _token(html)
        assert token
        member_tokens.add(token)

    for path in pages:  # the visitor after the member: still the anonymous page
        response = visitor.goto(path)
        assert response.headers.get("x-page-cache") == "hit"
        html = visitor.content()
        assert NAME not in html and "Đăng xuất" not in html and "Giỏ hàng (1)" not in html
        assert _token(html) == ""
        assert not any(token in html for token in member_tokens)

    # The visitor adds to its own cart from the cached page; from then on it gets its own pages.
    add_to_cart(visitor, seeded["keo"]["listing"])
    expect(visitor.get_by_role("link", name="Giỏ hàng (1)")).to_be_visible()
    response = visitor.goto(pages[0])
    assert response.headers.get("x-page-cache") is None
    assert _token(visitor.content())
    visitor.goto("/gio-hang")
    expect(visitor.locator("main").get_by_text(seeded["keo"]["title"]).first).to_be_visible()
    assert seeded["cam"]["title"] not in visitor.locator("main").inner_text()

    member.goto("/gio-hang")
    expect(member.locator("main").get_by_text(seeded["cam"]["title"]).first).to_be_visible()
    assert seeded["keo"]["title"] not in member.locator("main").inner_text()
    member.goto(pages[1])
    assert NAME not in visitor.content()
