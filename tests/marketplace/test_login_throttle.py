"""Sign-in throttling per address: the failure count is atomic (concurrent wrong passwords cannot
all pass the count), and a lock never stops the owner from resetting the password, which lifts it.
Runs on whatever database the `app` fixture gives (SQLite, and PostgreSQL under `make test`)."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

from sqlalchemy import func, select, update

from marketplace.extensions import db
from marketplace.models import LoginAttempt, LoginThrottle
from marketplace.timeutil import utcnow

ATTEMPTS = 12


def test_concurrent_wrong_passwords_stop_at_the_limit(app, factory, monkeypatch):
    from argon2 import PasswordHasher

    app.config["WTF_CSRF_ENABLED"] = False
    # A real argon2 cost, so the attempts overlap while their passwords are being checked.
    app.config["PASSWORD_HASH_PARAMS"] = {"time_cost": 2, "memory_cost": 16384, "parallelism": 1}
    email = factory.user(email="bi-do@example.vn").email
    limit = app.config["LOGIN_MAX_FAILURES"]
    checks = {"n": 0}
    lock = threading.Lock()
    real_verify = PasswordHasher.verify

    def counting_verify(self, *a, **kw):
        with lock:
            checks["n"] += 1
        return real_verify(self, *a, **kw)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    clients = [app.test_client() for _ in range(ATTEMPTS)]
    barrier = threading.Barrier(ATTEMPTS)
    statuses: list[int | None] = [None] * ATTEMPTS

    def attempt(i: int) -> None:
        barrier.wait()
        r = clients[i].post("/dang-nhap", data={"email": email, "password": f"doan-sai-{i}"})
        statuses[i] = r.status_code

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert sorted(statuses) == [401] * limit + [429] * (ATTEMPTS - limit), statuses
    assert checks["n"] == limit
    db.session.expire_all()
    assert db.session.get(LoginThrottle, email).failures == limit
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == limit
    # The right password is refused too while the lock lasts.
    r = app.test_client().post("/dang-nhap", data={"email": email, "password": "cam-bu-ht9"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def _lock(client, app, email):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert client.post("/dang-nhap", data={"email": email, "password": "doan-sai"}).status_code == 401
    assert client.post("/dang-nhap", data={"email": email, "password": "cam-bu-ht9"}).status_code == 429


def test_a_lock_does_not_stop_the_owner_resetting_and_the_reset_lifts_it(
    app, client, factory, csrf_off, mailbox
):
    factory.user(email="chu@example.vn")
    _lock(client, app, "chu@example.vn")
    page = client.post("/dang-nhap", data={"email": "chu@example.vn", "password": "x"}).get_data(as_text=True)
    assert "đặt lại mật khẩu ngay" in page

    owner = app.test_client()
    assert owner.post("/quen-mat-khau", data={"email": "chu@example.vn"}).status_code == 302
    body = next(m["body"] for m in mailbox() if m["to"] == "chu@example.vn")
    link = re.search(r"http://localhost(/dat-lai-mat-khau/\S+)", body).group(1)
    assert owner.post(link, data={"password": "moi-matkhau-1", "confirm": "moi-matkhau-1"}).status_code == 302
    r = owner.post("/dang-nhap", data={"email": "chu@example.vn", "password": "moi-matkhau-1"})
    assert r.status_code == 302
    assert db.session.get(LoginThrottle, "chu@example.vn") is None


def test_the_lock_ends_with_its_window_and_success_clears_the_count(app, client, factory, csrf_off):
    factory.user(email="cho@example.vn")
    _lock(client, app, "cho@example.vn")
    window = app.config["LOGIN_FAILURE_WINDOW_S"]
    db.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.email == "cho@example.vn")
        .values(window_started_at=utcnow() - timedelta(seconds=window + 1))
    )
    db.session.commit()
    assert (
        client.post("/dang-nhap", data={"email": "cho@example.vn", "password": "doan-sai"}).status_code == 401
    )
    assert (
        client.post("/dang-nhap", data={"email": "cho@example.vn", "password": "cam-bu-ht9"}).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(LoginThrottle, "cho@example.vn") is None


def test_unknown_addresses_are_locked_the_same_way(app, client, csrf_off):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert client.post("/dang-nhap", data={"email": "ma@example.vn", "password": "x"}).status_code == 401
    assert client.post("/dang-nhap", data={"email": "ma@example.vn", "password": "x"}).status_code == 429
