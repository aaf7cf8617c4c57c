"""One safe-redirect helper (marketplace/redirects.py) for `next` parameters and the Referer:
a path on this site, never another site (issue 9 finding 14, issue 10)."""

from __future__ import annotations

import pytest

from marketplace.redirects import safe_target
from tests.support import sign_in

HOME = "/"
HOSTILE = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "javascript:alert(1)",
    "http:evil.example",
    "evil.example/x",
    " //evil.example",
    "https://localhost.evil.example/x",
    "ftp://localhost/x",
    "",
    None,
    42,
]


@pytest.mark.parametrize("target", HOSTILE)
def test_other_sites_and_odd_targets_fall_back(app, target):
    with app.test_request_context("/"):
        assert safe_target(target, HOME) == HOME


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/gio-hang", "/gio-hang"),
        ("/tim-kiem?q=cam+b%C3%B9&page=2", "/tim-kiem?q=cam+b%C3%B9&page=2"),
        ("http://localhost/quan-tri/san-pham?hidden=1", "/quan-tri/san-pham?hidden=1"),
        ("http://localhost", "/"),
    ],
)
def test_paths_on_this_site_are_kept(app, target, expected):
    with app.test_request_context("/", base_url="http://localhost"):
        assert safe_target(target, HOME) == expected


def test_sign_in_next_never_leaves_the_site(client, factory):
    user = factory.user()
    app = client.application
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        response = client.post(
            "/dang-nhap?next=/\\evil.example", data={"email": user.email, "password": "cam-bu-ht9"}
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code == 302 and "evil" not in response.headers["Location"]


@pytest.mark.parametrize("target", ["/\\evil.example", "https://evil.example/", "/\t/evil.example"])
def test_language_switch_stays_on_the_site(client, csrf_off, target):
    response = client.post("/ngon-ngu/en", data={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_add_to_cart_goes_back_only_on_the_site(client, csrf_off, factory):
    listing = factory.listing()
    response = client.post(
        "/gio-hang/them", data={"listing_id": listing.id, "quantity": 1, "next": "/\\evil.example"}
    )
    assert response.headers["Location"] == f"/san-pham/{listing.slug}"


@pytest.mark.parametrize("action", ["an", "hien", "noi-bat"])
def test_operator_listing_actions_go_back_to_a_same_site_referer_only(client, csrf_off, factory, action):
    listing = factory.listing()
    sign_in(client, factory.operator())
    url = f"/quan-tri/san-pham/{listing.id}/{action}"
    hostile = client.post(url, data={"reason": "x"}, headers={"Referer": "https://evil.example/quan-tri"})
    assert hostile.status_code == 302 and hostile.headers["Location"] == "/quan-tri/san-pham"
    same_site = client.post(
        url, data={"reason": "x"}, headers={"Referer": "http://localhost/quan-tri/san-pham?hidden=1"}
    )
    assert same_site.headers["Location"] == "/quan-tri/san-pham?hidden=1"
