"""Sign-up keeps where the person was going: "open a shop" -> sign-in page -> sign-up -> the
mailed confirmation link -> sign-in -> the shop form, `next` carried at every step (and only a
path on this site)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from marketplace.extensions import db
from marketplace.models import User
from tests.support import PASSWORD, sign_in

SHOP_FORM = "/kenh-ban/dang-ky-cua-hang"


def _next_of(location: str) -> str | None:
    values = parse_qs(urlsplit(location).query).get("next")
    return values[0] if values else None


def _link(html: str, text: str) -> str:
    """The first link so named in the page's content (the header has its own), then the header's."""
    main = html[html.index("<main") :]
    match = re.search(r'<a href="([^"]+)">' + re.escape(text) + "</a>", main + html)
    assert match, text
    return match.group(1).replace("&amp;", "&")


def _confirmation_link(mailbox, email: str) -> str:
    mail = [m for m in mailbox() if m["to"] == email][-1]
    return re.search(r"https?://\S+/xac-nhan-email/\S+", mail["body"]).group(0)


def test_open_a_shop_through_sign_up_confirmation_and_sign_in(client, csrf_off, mailbox):
    # "Mở cửa hàng trên sàn" while not signed in: the sign-in page, which offers sign-up.
    r = client.get(SHOP_FORM)
    assert r.status_code == 302 and _next_of(r.headers["Location"]) == SHOP_FORM
    sign_in_page = client.get(r.headers["Location"]).get_data(as_text=True)
    sign_up_url = _link(sign_in_page, "Tạo tài khoản mới")
    assert _next_of(sign_up_url) == SHOP_FORM

    page = client.get(sign_up_url).get_data(as_text=True)
    assert f'name="next" value="{SHOP_FORM}"' in page
    assert _next_of(_link(page, "Đăng nhập")) == SHOP_FORM
    header = page[: page.index("<main")]  # the header's links too, from the sign-up page
    for path in ("/dang-nhap", "/dang-ky"):
        href = re.search(rf'href="({path}\?[^"]*)"', header).group(1).replace("&amp;", "&")
        assert _next_of(href) == SHOP_FORM, href
    data = {
        "full_name": "Phan Văn Hải",
        "email": "hai@example.vn",
        "password": "mat-ong-huong-son",
        "confirm": "mat-ong-huong-son",
        "privacy_consent": "y",
        "next": SHOP_FORM,
    }
    r = client.post(sign_up_url, data=data)
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/dang-nhap"
    assert _next_of(r.headers["Location"]) == SHOP_FORM

    link = _confirmation_link(mailbox, "hai@example.vn")
    assert _next_of(link) == SHOP_FORM
    r = client.get(link)
    assert r.status_code == 302 and _next_of(r.headers["Location"]) == SHOP_FORM
    assert db.session.query(User).filter_by(email="hai@example.vn").one().email_confirmed_at is not None

    r = client.post(r.headers["Location"], data={"email": "hai@example.vn", "password": "mat-ong-huong-son"})
    assert r.status_code == 302 and r.headers["Location"] == SHOP_FORM
    shop_form = client.get(SHOP_FORM)
    assert shop_form.status_code == 200 and 'name="name"' in shop_form.get_data(as_text=True)


def test_a_signed_in_person_confirming_goes_on_to_next(client, csrf_off, factory, mailbox):
    user = factory.unconfirmed_user(email="chua@example.vn")
    sign_in(client, user)
    # The shop form asks to confirm first; the resend button there leads back to it.
    page = client.get(SHOP_FORM)
    assert page.status_code == 403
    assert f'name="next" value="{SHOP_FORM}"' in page.get_data(as_text=True)
    assert client.post("/xac-nhan-email/gui-lai", data={"next": SHOP_FORM}).status_code == 302
    link = _confirmation_link(mailbox, "chua@example.vn")
    r = client.get(link)
    assert r.status_code == 302 and r.headers["Location"] == SHOP_FORM
    assert client.get(SHOP_FORM).status_code == 200


def test_next_elsewhere_is_dropped_at_every_step(client, csrf_off, mailbox):
    data = {
        "full_name": "Phan Văn Hải",
        "email": "ngoai@example.vn",
        "password": "mat-ong-huong-son",
        "confirm": "mat-ong-huong-son",
        "privacy_consent": "y",
        "next": "//evil.example/x",
    }
    r = client.post("/dang-ky", data=data)
    assert r.status_code == 302 and _next_of(r.headers["Location"]) is None
    link = _confirmation_link(mailbox, "ngoai@example.vn")
    assert _next_of(link) is None
    r = client.get(urlsplit(link).path + "?next=https://evil.example/")
    assert r.status_code == 302 and _next_of(r.headers["Location"]) is None
    r = client.post(
        "/dang-nhap?next=https://evil.example/", data={"email": "ngoai@example.vn", "password": PASSWORD}
    )
    assert "evil.example" not in r.headers.get("Location", "")
