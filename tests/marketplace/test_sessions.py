"""Sessions can be revoked: sign-out, a password change or reset and "sign out everywhere" end
every other session and remember cookie of the user; the remember cookie is SameSite and short."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from marketplace.extensions import db
from marketplace.models import User
from tests.support import PASSWORD, sign_in


def _copy(app, client, *names):
    """Another browser holding copies of this one's cookies (a stolen or forgotten cookie)."""
    other = app.test_client()
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, name
        other.set_cookie(name, cookie.value)
    return other


def _signed_in(client) -> bool:
    return "Đăng xuất" in client.get("/").get_data(as_text=True)  # the header's sign-out button


def test_an_old_session_cookie_stops_working_after_sign_out(app, client, factory, csrf_off):
    user = factory.user()
    sign_in(client, user)
    thief = _copy(app, client, "session")
    assert _signed_in(thief)
    client.post("/dang-xuat")
    assert not _signed_in(client)
    assert not _signed_in(thief)


def test_a_remember_cookie_stops_working_after_sign_out(app, client, factory, csrf_off):
    user = factory.user()
    sign_in(client, user, remember=True)
    kept = _copy(app, client, "remember_token")  # e.g. the browser restarted: only this cookie left
    assert _signed_in(kept)
    other_device = app.test_client()
    sign_in(other_device, user)
    client.post("/dang-xuat")
    assert client.get_cookie("remember_token") is None
    assert not _signed_in(_copy(app, kept, "remember_token"))
    # Sign-out ends every session of the user, also on the other device.
    assert not _signed_in(other_device)


def test_remember_cookie_is_samesite_and_lasts_thirty_days(client, factory, csrf_off):
    user = factory.user()
    sign_in(client, user, remember=True)
    cookie = client.get_cookie("remember_token")
    assert cookie is not None and cookie.same_site == "Lax" and cookie.http_only
    days = (cookie.expires - datetime.now(UTC)).total_seconds() / 86400
    assert 29.9 < days <= 30.01, days


def test_password_change_keeps_this_session_and_ends_the_others(app, client, factory, csrf_off):
    user = factory.user()
    sign_in(client, user, remember=True)
    other = app.test_client()
    sign_in(other, user, remember=True)
    old_remember = _copy(app, client, "remember_token")

    r = client.post(
        "/tai-khoan/mat-khau",
        data={"current_password": "sai-mat-khau", "password": "moi-matkhau-1", "confirm": "moi-matkhau-1"},
    )
    assert r.status_code == 422 and "Mật khẩu hiện tại không đúng." in r.get_data(as_text=True)
    assert _signed_in(other)

    r = client.post(
        "/tai-khoan/mat-khau",
        data={"current_password": PASSWORD, "password": "moi-matkhau-1", "confirm": "moi-matkhau-1"},
    )
    assert r.status_code == 302
    assert _signed_in(client)
    assert not _signed_in(other)
    assert not _signed_in(old_remember)
    # This browser's new remember cookie works on its own.
    assert _signed_in(_copy(app, client, "remember_token"))


def test_password_reset_ends_every_session(app, client, factory, csrf_off, mailbox):
    user = factory.user(email="quen@example.vn")
    sign_in(client, user, remember=True)
    remembered = _copy(app, client, "remember_token")
    app.test_client().post("/quen-mat-khau", data={"email": "quen@example.vn"})
    body = next(m["body"] for m in mailbox() if m["to"] == "quen@example.vn")
    link = re.search(r"http://localhost(/dat-lai-mat-khau/\S+)", body).group(1)
    phone = app.test_client()
    assert phone.post(link, data={"password": "moi-matkhau-1", "confirm": "moi-matkhau-1"}).status_code == 302
    assert not _signed_in(client)
    assert not _signed_in(remembered)


def test_sign_out_everywhere_from_the_account_page(app, client, factory, csrf_off):
    user = factory.user()
    sign_in(client, user)
    other = app.test_client()
    sign_in(other, user, remember=True)
    page = client.get("/tai-khoan").get_data(as_text=True)
    assert "Đăng xuất trên mọi thiết bị" in page
    r = client.post("/tai-khoan/dang-xuat-moi-noi")
    assert r.status_code == 302 and r.headers["Location"].endswith("/dang-nhap")
    assert not _signed_in(client)
    assert not _signed_in(other)
    assert not _signed_in(_copy(app, other, "remember_token"))
    # Signing in again works as usual.
    sign_in(client, user)
    assert _signed_in(client)


def test_sign_out_clears_the_whole_session_but_the_language(client, factory, csrf_off):
    user = factory.user()
    sign_in(client, user)
    with client.session_transaction() as session:
        session["order_access"] = ["DH12345678"]
        session["cart"] = {"1": [1, 1000]}
        # "vi", not "en": an English page here would fill Flask-Babel's process-wide translation
        # cache before test_translations compiles its own catalogue.
        session["lang"] = "vi"
    client.post("/dang-xuat")
    with client.session_transaction() as session:
        assert "order_access" not in session and "cart" not in session
        assert "_user_id" not in session
        assert session.get("lang") == "vi"


def test_a_session_from_before_session_tokens_signs_nobody_in(app, client, factory):
    """Cookies holding only the id (as before this change) load nobody."""
    user = factory.user()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert not _signed_in(client)
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}:{db.session.get(User, user.id).session_token}"
    assert _signed_in(client)
