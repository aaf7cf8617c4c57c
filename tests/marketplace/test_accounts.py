"""Sign-up, sign-in with throttling, password reset through the mailed link."""

import re
from pathlib import Path

from marketplace import outbox
from marketplace.extensions import db
from marketplace.models import LoginAttempt, User


def read_mail(path):
    from email import message_from_bytes
    from email.policy import default

    msg = message_from_bytes(path.read_bytes(), policy=default)
    return {"to": msg["To"], "subject": msg["Subject"], "body": msg.get_content()}


def _mails(app):
    folder = Path(app.config["MAIL_DIR"])
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def test_sign_up_creates_buyer_and_signs_in(client, app, csrf_off):
    r = client.post(
        "/dang-ky",
        data={
            "full_name": "Trần Thị Bình",
            "email": "Binh@Example.vn",
            "phone": "0912 345 678",
            "password": "matkhau123",
            "confirm": "matkhau123",
        },
    )
    assert r.status_code == 302
    user = User.query.filter_by(email="binh@example.vn").one()
    assert user.role == "buyer" and user.phone == "0912345678"
    assert user.password_hash.startswith("$argon2")
    assert "Đăng xuất" in client.get("/").get_data(as_text=True)


def test_sign_up_bad_input_shows_vietnamese_errors_and_changes_nothing(client, csrf_off, factory):
    factory.user(email="taken@example.vn")
    r = client.post(
        "/dang-ky",
        data={
            "full_name": "X",
            "email": "taken@example.vn",
            "phone": "12345",
            "password": "short",
            "confirm": "short",
        },
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Email này đã được đăng ký." in html
    assert "Mật khẩu phải có ít nhất 8 ký tự." in html
    assert "Số điện thoại di động không hợp lệ." in html
    assert User.query.count() == 1


def test_sign_in_wrong_password_then_throttled(client, app, factory, csrf_off):
    user = factory.user(email="a@example.vn")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        r = client.post("/dang-nhap", data={"email": "a@example.vn", "password": "wrong-password"})
        assert r.status_code == 401
        assert "Email hoặc mật khẩu không đúng." in r.get_data(as_text=True)
    # Even the right password is refused while throttled.
    r = client.post("/dang-nhap", data={"email": "a@example.vn", "password": "matkhau123"})
    assert r.status_code == 429
    assert "quá nhiều lần" in r.get_data(as_text=True)
    assert (
        LoginAttempt.query.filter_by(email=user.email, success=False).count()
        == app.config["LOGIN_MAX_FAILURES"]
    )


def test_sign_in_redirect_is_never_offsite(client, factory, csrf_off):
    factory.user(email="b@example.vn")
    r = client.post(
        "/dang-nhap?next=//evil.example/x", data={"email": "b@example.vn", "password": "matkhau123"}
    )
    assert r.status_code == 302 and "evil" not in r.headers["Location"]


def test_password_reset_by_mailed_link_is_single_use(client, app, factory, csrf_off):
    user = factory.user(email="c@example.vn")
    r = client.post("/quen-mat-khau", data={"email": "c@example.vn"})
    assert r.status_code == 302
    # Unknown e-mail: same answer, no mail.
    client.post("/quen-mat-khau", data={"email": "nobody@example.vn"})
    assert outbox.drain() == 1
    mails = _mails(app)
    assert len(mails) == 1
    body = read_mail(mails[0])["body"]
    link = re.search(r"http://localhost(/dat-lai-mat-khau/\S+)", body).group(1)
    assert client.get(link).status_code == 200
    r = client.post(link, data={"password": "moimatkhau1", "confirm": "moimatkhau1"})
    assert r.status_code == 302
    from marketplace.accounts.services import check_password

    assert check_password(db.session.get(User, user.id), "moimatkhau1")
    # The same link cannot be used twice.
    r = client.get(link)
    assert r.status_code == 302 and "/quen-mat-khau" in r.headers["Location"]


def test_create_operator_command(runner):
    result = runner.invoke(args=["users", "create-operator", "op@example.vn", "--password", "matkhau123"])
    assert result.exit_code == 0, result.output
    assert User.query.filter_by(email="op@example.vn").one().role == "operator"
    bad = runner.invoke(args=["users", "create-operator", "not-an-email", "--password", "matkhau123"])
    assert bad.exit_code != 0 and "không hợp lệ" in bad.output


def test_cookies_are_httponly_and_samesite(client, factory, csrf_off):
    factory.user(email="d@example.vn")
    r = client.post("/dang-nhap", data={"email": "d@example.vn", "password": "matkhau123"})
    cookie = r.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookie_default_outside_local(monkeypatch, tmp_path):
    from marketplace.config import load_config

    monkeypatch.delenv("MARKETPLACE_ENV", raising=False)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    assert load_config(str(tmp_path))["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("MARKETPLACE_ENV", "local")
    assert load_config(str(tmp_path))["SESSION_COOKIE_SECURE"] is False
