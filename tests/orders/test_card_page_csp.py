"""The card payment page's Content-Security-Policy allows exactly the Stripe.js origin it loads:
Stripe's own, or the STRIPE_API_BASE stand-in (localstripe) — and no other page allows it."""

from __future__ import annotations

from orders_testlib import payment_code

from orders import stripe_gateway


def _directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def test_card_page_allows_the_stand_in_origin_only_there(
    stripe_app, client, factory, shopper, localstripe_server
):
    base = localstripe_server["api_base"]
    listing = factory.listing(stock=5, price=150_000)
    assert shopper.add(listing, 1).status_code == 302
    code = payment_code(shopper.checkout("card"))
    page = client.get(f"/thanh-toan/{code}")
    assert page.status_code == 200 and f'src="{base}/js.stripe.com/v3/"' in page.get_data(as_text=True)
    csp = _directives(page)
    assert csp["script-src"] == ["'self'", base]
    assert csp["connect-src"] == ["'self'", base]
    assert csp["frame-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    # The next response (any other page) is back to the site's own policy.
    assert _directives(client.get("/gio-hang"))["script-src"] == ["'self'"]


def test_stripes_own_sources_follow_its_published_guide(app):
    app.config.update(STRIPE_API_BASE=None, STRIPE_JS_URL=None)
    with app.test_request_context("/"):
        assert stripe_gateway.csp_sources() == {
            "script-src": ["https://js.stripe.com", "https://*.js.stripe.com"],
            "frame-src": ["https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"],
            "connect-src": ["https://api.stripe.com"],
        }
    app.config.update(STRIPE_API_BASE="http://127.0.0.1:8420/", STRIPE_JS_URL="http://127.0.0.1:9000/v3/")
    with app.test_request_context("/"):
        assert stripe_gateway.csp_sources() == {
            "script-src": ["http://127.0.0.1:9000"],
            "connect-src": ["http://127.0.0.1:9000", "http://127.0.0.1:8420"],
        }
