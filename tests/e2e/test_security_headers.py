"""In a real browser: the pages run under the Content-Security-Policy without a violation (the
new_page fixture fails any test whose pages report one), and the reporting itself works."""

from __future__ import annotations

from playwright.sync_api import expect


def test_a_blocked_inline_script_is_reported(live_server, new_page, csp_violations):
    page = new_page()
    response = page.goto("/dang-nhap")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    # What an injected <script> would do: the browser refuses it and says so.
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
        " document.body.appendChild(s); }"
    )
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.ran") is None
    assert any("script-src" in v for v in csp_violations), csp_violations
    csp_violations.clear()  # expected here; any other test fails on such a report


def test_sort_select_and_the_cancel_prompt_work_without_inline_handlers(live_server, new_page):
    from tests.e2e.test_checkout_flow import add_to_cart, fill_checkout, seed

    seeded = seed(live_server.app)
    page = new_page()
    page.goto(f"/tim-kiem?q={seeded['keo']['title'].split()[0]}")
    page.locator("select#sort").select_option("price_desc")
    page.wait_for_url("**sort=price_desc**")

    add_to_cart(page, seeded["keo"]["listing"])
    page.goto("/thanh-toan")
    fill_checkout(page, seeded, "hoa@example.vn")
    page.get_by_role("button", name="Xác nhận đặt hàng").click()
    cancel = page.get_by_role("button", name="Hủy đặt hàng")
    expect(cancel).to_be_visible()
    prompts = []
    page.once("dialog", lambda dialog: (prompts.append(dialog.message), dialog.dismiss()))
    cancel.click()
    expect(cancel).to_be_visible()  # dismissed: nothing was posted
    page.once("dialog", lambda dialog: (prompts.append(dialog.message), dialog.accept()))
    cancel.click()
    expect(page.get_by_role("status").filter(has_text="Đã hủy đơn hàng")).to_be_visible()
    assert prompts == ["Hủy tất cả các đơn trong lần đặt hàng này?"] * 2
