"""axe-core on the pages people use, on a phone (390 px) and a desktop, over the demo province.

Each test walks one person's pages in a real Chromium, saves a full-page screenshot of each
(test-results/screenshots/, git-ignored) and runs axe-core on it (tests/e2e/axe.py). All the
blocking violations of the walk (serious, critical, and the rules issue 15 named) are reported
together, page by page, so one run shows everything to fix; every violation of every page, lesser
ones included, is written to test-results/axe/. The buyer's walk also places an order the way a phone user would, without
JavaScript for the cart's quantities and removals.
"""

from __future__ import annotations

import re

import pytest
from flask_migrate import upgrade
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace import create_app, outbox
from marketplace.extensions import db
from marketplace.numbers import format_weight
from tests.e2e.axe import run_axe, save_report
from tests.e2e.conftest import _REPORT_CSP_VIOLATIONS, DESKTOP, PHONE, save_screenshot
from tests.support import LiveServer, sign_in_page

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "demo12345"
BUYER = "buyer@demo.vn"
OPERATOR = "operator@demo.vn"
SELLER = "camhuongson@demo.vn"
SHOP = "htx-cam-bu-huong-son"
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    """The demo province (`make run`'s data) served on 127.0.0.1 for this module's walks."""
    from catalog.models import Category, Listing
    from demo.loader import load_demo
    from sellers.models import Shop

    root = tmp_path_factory.mktemp("a11y")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "e2e-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'e2e.db'}",
            "MEDIA_ROOT": str(root / "media"),
            "PRIVATE_MEDIA_ROOT": str(root / "private-media"),
            "MAIL_DIR": str(root / "mail"),
            "MAIL_SERVER": None,
            "WTF_CSRF_ENABLED": True,
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "ELASTICSEARCH_URL": None,
            "OPENSEARCH_URL": None,
            "PREFERRED_URL_SCHEME": "http",
            "RATELIMIT_ENABLED": False,  # several sign-ins from one address in a few seconds
            "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        }
    )
    with app.app_context():
        upgrade()
        load_demo()
        db.session.commit()
        outbox.drain()  # the search index, as the worker would
        shop = db.session.scalar(select(Shop).where(Shop.slug == SHOP))
        on_sale = [
            item
            for item in db.session.scalars(
                select(Listing).where(Listing.shop_id == shop.id).order_by(Listing.id)
            ).unique()
            if item.is_public and item.stock >= 2 * item.min_order_qty and item.images
        ]
        category = db.session.get(Category, on_sale[0].category_id)
        site = {
            "listing": on_sale[0].slug,
            "title": on_sale[0].title,
            "second": on_sale[1].slug,
            "second_title": on_sale[1].title,
            "min_qty": on_sale[0].min_order_qty,
            "weight": on_sale[0].weight_grams or app.config["DEFAULT_ITEM_WEIGHT_GRAMS"],
            "category": category.slug,
        }
        db.session.remove()
    with LiveServer(app, own_links=True) as live:
        yield live, site
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class Walk:
    """One person's pages at one size: open, screenshot, axe; the findings reported together."""

    def __init__(self, browser, base_url: str, viewport: str, test_name: str):
        self.viewport = viewport
        self.prefix = f"{test_name.split('[')[0]}-{viewport}"
        self.context = browser.new_context(base_url=base_url, locale="vi-VN", viewport=VIEWPORTS[viewport])
        self.context.set_default_timeout(15_000)
        self.csp: list[str] = []
        self.context.expose_binding("__cspViolation", lambda _source, text: self.csp.append(text))
        self.context.add_init_script(_REPORT_CSP_VIOLATIONS)
        self.page = self.context.new_page()
        self.findings: list[str] = []
        self.checked: list[str] = []

    def check(self, name: str) -> None:
        """Screenshot and axe the page as it is now."""
        page = self.page
        page.wait_for_load_state("load")
        save_screenshot(page, f"{self.prefix}-{name}")
        found = run_axe(page)
        save_report(found, f"{self.prefix}-{name}", page.url)
        blocking = [v for v in found if v.blocking]
        self.checked.append(name)
        if blocking:
            self.findings.append(
                f"--- {name} ({page.url}), {self.viewport}:\n" + "\n".join(v.describe() for v in blocking)
            )
        # Nothing on these pages scrolls sideways on a phone.
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 1:
            self.findings.append(
                f"--- {name} ({page.url}), {self.viewport}: {overflow}px wider than the screen"
            )

    def visit(self, name: str, path: str) -> None:
        response = self.page.goto(path)
        assert response is not None and response.ok, f"{name}: {path} answered {response and response.status}"
        self.check(name)

    def finish(self) -> None:
        assert not self.csp, "Content-Security-Policy violations:\n" + "\n".join(self.csp)
        assert not self.findings, (
            f"axe-core blocking violations on {len(self.findings)} of {len(self.checked)} pages:\n"
            + "\n".join(self.findings)
        )


@pytest.fixture(params=list(VIEWPORTS))
def walk(request, browser, demo_site):
    live, _site = demo_site
    opened = Walk(browser, live.url, request.param, request.node.name)
    yield opened
    opened.context.close()


def test_storefront_pages(walk, demo_site):
    _live, site = demo_site
    walk.visit("home", "/")
    walk.visit("category", f"/danh-muc/{site['category']}")
    walk.visit("listing", f"/san-pham/{site['listing']}")
    walk.visit("search", "/tim-kiem?q=cam")
    walk.visit("shop", f"/cua-hang/{SHOP}")
    walk.visit("trace", f"/truy-xuat/{site['listing']}")
    walk.finish()


def test_buyer_pages_cart_checkout_order(walk, demo_site):
    _live, site = demo_site
    page = walk.page
    sign_in_page(page, BUYER, DEMO_PASSWORD)
    for slug in (site["listing"], site["second"]):
        page.goto(f"/san-pham/{slug}")
        page.get_by_role("button", name="Thêm vào giỏ hàng").click()
        expect(page.get_by_text("vào giỏ hàng.")).to_be_visible()

    # The cart: one card per line, with its picture; quantities and removal are plain form posts.
    page.goto("/gio-hang")
    lines = page.locator(".cart-line")
    expect(lines).to_have_count(2)
    expect(lines.first.locator("img")).to_have_count(1)
    lines.first.get_by_label("Số lượng").fill(str(2 * site["min_qty"]))
    page.get_by_role("button", name="Cập nhật giỏ hàng").click()
    expect(page.locator(".cart-line").first.get_by_label("Số lượng")).to_have_value(str(2 * site["min_qty"]))
    page.get_by_role("button", name=f"Xóa {site['second_title']}").click()
    expect(page.locator(".cart-line")).to_have_count(1)
    # The parcel's weight the Vietnamese way ("4,0 kg"), through the one helper.
    expected = format_weight(2 * site["min_qty"] * site["weight"])
    expect(page.locator(".cart-sums")).to_contain_text(f"(ước tính, {expected})")
    walk.check("cart")

    page.get_by_role("link", name="Đặt hàng").click()
    expect(page.get_by_role("heading", name="Đặt hàng", level=1)).to_be_visible()
    walk.check("checkout")
    page.get_by_label("Họ tên người nhận").fill("Phạm Minh Khách")
    page.get_by_label("Số điện thoại người nhận").fill("0900 000 201")
    page.get_by_label("Số nhà, thôn/xóm, đường").fill("12 Nguyễn Du")
    commune = page.get_by_label("Xã/phường")
    commune.select_option(index=1)
    consent = page.get_by_label("Tôi đã đọc và đồng ý với Chính sách bảo mật thông tin")
    if consent.count():
        consent.check()
    page.get_by_label("Thanh toán khi nhận hàng (COD)").check()
    page.get_by_role("button", name="Xác nhận đặt hàng").click()
    expect(page.get_by_text("Đặt hàng thành công")).to_be_visible()
    walk.check("placed")

    page.locator(".order-card a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Đơn hàng")
    walk.check("order")

    # My orders: each order names its products, with their pictures.
    page.goto("/don-hang")
    first = page.locator(".my-order").first
    expect(first).to_contain_text(site["title"])
    expect(first.locator("img")).to_have_count(1)
    walk.check("my-orders")
    walk.finish()


def test_seller_pages(walk):
    sign_in_page(walk.page, SELLER, DEMO_PASSWORD)
    walk.visit("seller-home", "/kenh-ban/")
    walk.visit("listing-form", f"/kenh-ban/{SHOP}/san-pham/moi")
    walk.visit("inbox", f"/kenh-ban/{SHOP}/don-hang?tab=all")
    walk.page.locator("table.inbox tbody tr a").first.click()
    expect(walk.page.get_by_role("heading", level=1)).to_contain_text(re.compile(r"DH[0-9A-Z]{8}-\d"))
    walk.check("seller-order")
    walk.finish()


def test_operator_pages(walk):
    sign_in_page(walk.page, OPERATOR, DEMO_PASSWORD)
    walk.visit("dashboard", "/quan-tri/")
    walk.visit("moderation", "/quan-tri/san-pham")
    walk.finish()
