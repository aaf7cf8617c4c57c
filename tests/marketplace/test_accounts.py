"""Sign-up, sign-in with throttling, password reset through the mailed link."""

import re
from pathlib import Path

from marketplace import outbox
from marketplace.extensions import db
from marketplace.models import LoginAttempt, User
from tests.support import sign_in


def read_mail(path):
    from email import message_from_bytes
    from email.policy import default

    msg = message_from_bytes(path.read_bytes(), policy=default)
    return {"to": msg["To"], "subject": msg["Subject"], "body": msg.get_content()}


def _mails(app):
    folder = Path(app.config["MAIL_DIR"])
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def _sign_up(client, email, **over):
    data = {
        "full_name": "Trần Thị Bình",
        "email": email,
        "phone": "0912 345 678",
        "password": "cam-bu-ht9",
        "confirm": "cam-bu-ht9",
        "privacy_consent": "y",
    }
    data.update(over)
    return client.post("/dang-ky", data=data)


def test_sign_up_creates_unconfirmed_buyer_and_mails_the_link(client, app, csrf_off, mailbox):
    r = _sign_up(client, "Binh@Example.vn")
    assert r.status_code == 302 and "/dang-nhap" in r.headers["Location"]
    user = User.query.filter_by(email="binh@example.vn").one()
    assert user.role == "buyer" and user.phone == "0912345678"
    assert user.password_hash.startswith("$argon2")
    assert user.email_confirmed_at is None
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Chúng tôi đã gửi email tới binh@example.vn" in page
    mails = [m for m in mailbox() if m["to"] == "binh@example.vn"]
    assert len(mails) == 1 and "/xac-nhan-email/" in mails[0]["body"]


def test_sign_up_bad_input_shows_vietnamese_errors_and_changes_nothing(client, csrf_off, factory):
    r = _sign_up(client, "not-an-address", phone="12345", password="short", confirm="short")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Địa chỉ email không hợp lệ." in html
    assert "Mật khẩu phải có ít nhất 8 ký tự." in html
    assert "Số điện thoại di động không hợp lệ." in html
    assert User.query.count() == 0


def test_sign_in_wrong_password_then_throttled(client, app, factory, csrf_off):
    user = factory.user(email="a@example.vn")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        r = client.post("/dang-nhap", data={"email": "a@example.vn", "password": "wrong-password"})
        assert r.status_code == 401
        assert "Email hoặc mật khẩu không đúng." in r.get_data(as_text=True)
    # Even the right password is refused while throttled.
    r = client.post("/dang-nhap", data={"email": "a@example.vn", "password": "cam-bu-ht9"})
    assert r.status_code == 429
    assert "quá nhiều lần" in r.get_data(as_text=True)
    assert 0 < int(r.headers["Retry-After"]) <= app.config["LOGIN_FAILURE_WINDOW_S"] + 1
    assert (
        LoginAttempt.query.filter_by(email=user.email, success=False).count()
        == app.config["LOGIN_MAX_FAILURES"]
    )


def test_sign_in_redirect_is_never_offsite(client, factory, csrf_off):
    factory.user(email="b@example.vn")
    r = client.post(
        "/dang-nhap?next=//evil.example/x", data={"email": "b@example.vn", "password": "cam-bu-ht9"}
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


def test_create_operator_command(runner, factory):
    result = runner.invoke(args=["users", "create-operator", "op@example.vn", "--password", "cam-bu-ht9"])
    assert result.exit_code == 0, result.output
    operator = User.query.filter_by(email="op@example.vn").one()
    assert operator.role == "operator" and operator.email_confirmed_at is not None
    # An address anyone could have signed up with is not promoted until its owner confirmed it.
    squatter = factory.unconfirmed_user(email="admin@example.vn")
    refused = runner.invoke(args=["users", "create-operator", "admin@example.vn"])
    assert refused.exit_code != 0 and "confirm" in refused.output
    assert db.session.get(User, squatter.id).role == "buyer"
    bad = runner.invoke(args=["users", "create-operator", "not-an-email", "--password", "cam-bu-ht9"])
    assert bad.exit_code != 0 and "không hợp lệ" in bad.output


def test_cookies_are_httponly_and_samesite(client, factory, csrf_off):
    factory.user(email="d@example.vn")
    r = client.post("/dang-nhap", data={"email": "d@example.vn", "password": "cam-bu-ht9"})
    cookie = r.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookie_default_outside_local(monkeypatch, tmp_path):
    from marketplace.config import load_config

    monkeypatch.delenv("MARKETPLACE_ENV", raising=False)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    assert load_config(str(tmp_path))["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("MARKETPLACE_ENV", "local")
    assert load_config(str(tmp_path))["SESSION_COOKIE_SECURE"] is False


# --- no user enumeration ------------------------------------------------------------------------


def _answer(client, response) -> tuple:
    """What a visitor can observe of a sign-up: status, where it leads, what that page says."""
    location = response.headers.get("Location")
    page = client.get(location).get_data(as_text=True) if location else response.get_data(as_text=True)
    flashes = re.findall(r'<p class="flash[^"]*" role="status">(.*?)</p>', page)
    return response.status_code, location, flashes


def test_sign_up_with_a_taken_address_answers_the_same_and_mails_its_owner(app, factory, csrf_off, mailbox):
    owner = factory.user(email="taken@example.vn", password="matkhau-cu-123")
    mailbox()  # nothing else queued before
    first = app.test_client()
    free = _answer(first, _sign_up(first, "free@example.vn"))
    fresh = app.test_client()
    taken = _answer(fresh, _sign_up(fresh, "taken@example.vn"))
    assert free[0] == 302 and free[2]
    same = (taken[0], taken[1], [f.replace("taken@", "free@") for f in taken[2]])
    assert same == free, (free, taken)

    # Nothing changed on the existing account, and nobody was signed in.
    assert User.query.filter_by(email="taken@example.vn").count() == 1
    from marketplace.accounts.services import check_password

    assert check_password(db.session.get(User, owner.id), "matkhau-cu-123")
    assert "Đăng xuất" not in fresh.get("/").get_data(as_text=True)
    # Its owner is told, with the ways back in; the new address gets its confirmation link.
    mails = {m["to"]: m for m in mailbox()}
    note = mails["taken@example.vn"]
    assert "đã có tài khoản" in note["body"] and "/xac-nhan-email/" not in note["body"]
    assert "http://localhost/dang-nhap" in note["body"] and "http://localhost/quen-mat-khau" in note["body"]
    assert "/xac-nhan-email/" in mails["free@example.vn"]["body"]


def _count_argon2(monkeypatch) -> dict:
    from argon2 import PasswordHasher

    calls = {"hash": 0, "verify": 0}
    real_hash, real_verify = PasswordHasher.hash, PasswordHasher.verify

    def counting_hash(self, *a, **kw):
        calls["hash"] += 1
        return real_hash(self, *a, **kw)

    def counting_verify(self, *a, **kw):
        calls["verify"] += 1
        return real_verify(self, *a, **kw)

    monkeypatch.setattr(PasswordHasher, "hash", counting_hash)
    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    return calls


def test_sign_up_hashes_the_password_also_for_a_taken_address(client, factory, csrf_off, monkeypatch):
    factory.user(email="taken@example.vn")
    calls = _count_argon2(monkeypatch)
    _sign_up(client, "taken@example.vn")
    assert calls["hash"] == 1
    _sign_up(client.application.test_client(), "new@example.vn")
    assert calls["hash"] == 2


def test_sign_in_checks_a_password_hash_also_for_an_unknown_address(client, factory, csrf_off, monkeypatch):
    from marketplace.accounts.services import waste_password_check

    factory.user(email="known@example.vn")
    inactive = factory.user(email="inactive@example.vn")
    inactive.active = False
    db.session.commit()
    waste_password_check("warm the decoy hash up")
    calls = _count_argon2(monkeypatch)
    for email in ("known@example.vn", "nobody@example.vn", "inactive@example.vn"):
        before = calls["verify"]
        r = client.post("/dang-nhap", data={"email": email, "password": "sai-mat-khau"})
        assert r.status_code == 401
        assert "Email hoặc mật khẩu không đúng." in r.get_data(as_text=True)
        assert calls["verify"] - before == 1, email


def test_sign_in_takes_as_long_for_an_unknown_address(app, client, factory, csrf_off):
    """Timing, measured: argon2 at a real cost, medians of interleaved tries. Today's unknown
    address answers in a small fraction of a known one's time; a generous bound keeps a busy
    machine from failing it."""
    import statistics
    import time

    app.config["PASSWORD_HASH_PARAMS"] = {"time_cost": 3, "memory_cost": 32768, "parallelism": 1}
    app.config["LOGIN_MAX_FAILURES"] = 1000
    factory.user(email="known@example.vn")
    client.post("/dang-nhap", data={"email": "warm@example.vn", "password": "x" * 10})
    times: dict[str, list[float]] = {"known@example.vn": [], "nobody@example.vn": []}
    for _ in range(7):
        for email, samples in times.items():
            started = time.perf_counter()
            r = client.post("/dang-nhap", data={"email": email, "password": "sai-mat-khau"})
            samples.append(time.perf_counter() - started)
            assert r.status_code == 401
    known = statistics.median(times["known@example.vn"])
    unknown = statistics.median(times["nobody@example.vn"])
    assert unknown > 0.5 * known, (known, unknown)


def test_password_reset_answers_the_same_for_an_unknown_address(client, factory, csrf_off, mailbox):
    factory.user(email="known@example.vn")
    answers = []
    for email in ("known@example.vn", "nobody@example.vn"):
        fresh = client.application.test_client()
        r = fresh.post("/quen-mat-khau", data={"email": email})
        answers.append((r.status_code, r.headers.get("Location"), _answer(fresh, r)[2]))
    assert answers[0] == answers[1]
    assert [m["to"] for m in mailbox()] == ["known@example.vn"]


# --- e-mail confirmation ------------------------------------------------------------------------


def _confirmation_link(mails, to):
    body = next(m["body"] for m in mails if m["to"] == to)
    return re.search(r"http://localhost(/xac-nhan-email/\S+)", body).group(1)


def test_confirmation_link_confirms_once(client, csrf_off, mailbox):
    _sign_up(client, "moi@example.vn")
    link = _confirmation_link(mailbox(), "moi@example.vn")
    r = client.get(link)
    assert r.status_code == 302
    user = User.query.filter_by(email="moi@example.vn").one()
    assert user.email_confirmed_at is not None
    assert "đã được xác nhận" in client.get(r.headers["Location"]).get_data(as_text=True)
    first = user.email_confirmed_at
    r = client.get(link)
    assert "đã được xác nhận trước đó" in client.get(r.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).email_confirmed_at == first


def test_confirmation_link_expires_and_is_bound_to_the_address(client, app, factory, monkeypatch):
    import time

    from marketplace.accounts.services import make_confirmation_token

    user = factory.unconfirmed_user(email="cham@example.vn")
    real_time = time.time
    hours = app.config["EMAIL_CONFIRM_MAX_AGE_H"]
    monkeypatch.setattr(time, "time", lambda: real_time() - hours * 3600 - 60)
    old = make_confirmation_token(user)
    monkeypatch.setattr(time, "time", real_time)
    r = client.get(f"/xac-nhan-email/{old}")
    assert "hết hạn" in client.get(r.headers["Location"]).get_data(as_text=True)
    # A link made for the address the account had before does not confirm another one.
    token = make_confirmation_token(user)
    user.email = "khac@example.vn"
    db.session.commit()
    r = client.get(f"/xac-nhan-email/{token}")
    assert "không hợp lệ" in client.get(r.headers["Location"]).get_data(as_text=True)
    assert client.get("/xac-nhan-email/gia-mao").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).email_confirmed_at is None


def test_unconfirmed_account_sees_a_banner_and_can_have_the_link_sent_again(
    client, factory, csrf_off, mailbox
):
    user = factory.unconfirmed_user(email="chua@example.vn")
    sign_in(client, user)
    home = client.get("/").get_data(as_text=True)
    assert "Chúng tôi đã gửi liên kết xác nhận tới chua@example.vn" in home
    assert "Gửi lại liên kết xác nhận" in home
    r = client.post("/xac-nhan-email/gui-lai", data={"next": "/gio-hang"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/gio-hang")
    link = _confirmation_link(mailbox(), "chua@example.vn")
    client.get(link)
    assert "Gửi lại liên kết xác nhận" not in client.get("/").get_data(as_text=True)
    # Once confirmed, asking again sends nothing.
    client.post("/xac-nhan-email/gui-lai")
    assert len([m for m in mailbox() if m["to"] == "chua@example.vn"]) == 1


def test_unconfirmed_account_cannot_register_a_shop_but_can_shop(client, factory, csrf_off):
    from sellers.models import Shop

    listing = factory.listing(stock=5)
    user = factory.unconfirmed_user(email="mua@example.vn")
    sign_in(client, user)
    r = client.get("/kenh-ban/dang-ky-cua-hang")
    assert r.status_code == 403
    page = r.get_data(as_text=True)
    assert "Vui lòng xác nhận địa chỉ email" in page and "Gửi lại liên kết xác nhận" in page
    r = client.post("/kenh-ban/dang-ky-cua-hang", data={"name": "Cửa hàng X", "kind": "household"})
    assert r.status_code == 403 and Shop.query.filter_by(name="Cửa hàng X").count() == 0
    # Shopping does not need a confirmed address.
    assert client.post("/gio-hang/them", data={"listing_id": listing.id, "quantity": 1}).status_code == 302
    assert listing.title in client.get("/gio-hang").get_data(as_text=True)
    assert client.get("/thanh-toan").status_code == 200


def test_register_shop_service_refuses_an_unconfirmed_actor(factory):
    import pytest

    from marketplace.errors import Forbidden
    from sellers.services import register_shop

    with pytest.raises(Forbidden, match="xác nhận địa chỉ email"):
        register_shop({"name": "X"}, actor=factory.unconfirmed_user())


def test_guest_orders_with_the_address_stay_hidden_from_an_unconfirmed_account(
    app, client, factory, csrf_off
):
    """Orders belong to the account that placed them (buyer_id), never to whoever signs up with
    the address a guest typed: an unconfirmed (or any other) account does not see them."""
    from orders.models import Order
    from tests.orders.orders_testlib import Shopper, payment_code

    listing = factory.listing(stock=5)
    guest = Shopper(app.test_client(), factory.commune().id)
    guest.add(listing)
    code = payment_code(guest.checkout(email="khach@example.vn"))
    order = Order.query.filter_by(email="khach@example.vn").one()
    assert order.buyer_id is None and order.code.startswith(code)

    sign_in(client, factory.unconfirmed_user(email="khach@example.vn"))
    assert order.code not in client.get("/don-hang").get_data(as_text=True)
    assert client.get(f"/don-hang/{order.code}").status_code in (302, 403, 404)
    assert client.get(f"/thanh-toan/{code}").status_code in (302, 403, 404)
