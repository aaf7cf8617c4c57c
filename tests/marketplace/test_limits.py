"""Rate limits (Flask-Limiter): per IP and per account on sign-up, sign-in, password reset, the
confirmation mail, search and the API; 429 with Retry-After, a problem in the API and a
Vietnamese page elsewhere. Limits are off in the other tests; this module turns them on with the
production defaults and tightens single ones where a test says so."""

from __future__ import annotations

import socket

import pytest

from marketplace.config import RATE_LIMIT_DEFAULTS, load_config
from marketplace.limits import RULES, client_ip, get_limiter
from tests.support import sign_in


@pytest.fixture
def app_overrides():
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


def _from(ip: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": ip}}


def _sign_up(client, email, ip="10.0.0.1"):
    data = {
        "full_name": "Lê Văn C",
        "email": email,
        "password": "cam-bu-ht9",
        "confirm": "cam-bu-ht9",
        "privacy_consent": "y",
    }
    return client.post("/dang-ky", data=data, **_from(ip))


def test_production_defaults_are_on_and_documented(monkeypatch, tmp_path):
    for name in ["RATELIMIT_ENABLED", "RATELIMIT_STORAGE_URI", *RATE_LIMIT_DEFAULTS]:
        monkeypatch.delenv(name, raising=False)
    config = load_config(str(tmp_path))
    assert config["RATELIMIT_ENABLED"] is True
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert {k: config[k] for k in RATE_LIMIT_DEFAULTS} == RATE_LIMIT_DEFAULTS
    assert {rule.setting for rule in RULES} == set(RATE_LIMIT_DEFAULTS)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://limits.internal:6379/0")
    monkeypatch.setenv("RATELIMIT_SEARCH", "1 per second")
    config = load_config(str(tmp_path))
    assert config["RATELIMIT_STORAGE_URI"] == "redis://limits.internal:6379/0"
    assert config["RATELIMIT_SEARCH"] == "1 per second"


def test_every_limited_endpoint_carries_its_limit(app):
    limiter = get_limiter()
    for endpoint in (
        "accounts.sign_in",
        "accounts.sign_up",
        "accounts.forgot_password",
        "accounts.resend_confirmation",
        "accounts.change_password",
        "search.results",
        "search_api.search",
        "search_api.suggest",
        "catalog_api.list_listings",
        "api.openapi",
    ):
        view = app.view_functions[endpoint]
        assert getattr(view, "__wrapper-limiter-instance", None) == limiter, endpoint


def test_password_reset_mails_an_address_three_times_an_hour_at_most(app, factory, csrf_off, mailbox):
    """The production default, untouched: ten requests used to send ten mails."""
    factory.user(email="nan-nhan@example.vn")
    statuses = []
    for i in range(10):
        client = app.test_client()  # a new browser and a new address each time: per account
        r = client.post("/quen-mat-khau", data={"email": "nan-nhan@example.vn"}, **_from(f"10.0.1.{i}"))
        statuses.append(r.status_code)
    assert statuses == [302] * 3 + [429] * 7
    assert len([m for m in mailbox() if m["to"] == "nan-nhan@example.vn"]) == 3


def test_sign_up_is_limited_per_ip_with_a_vietnamese_page(app, client, csrf_off):
    app.config["RATELIMIT_SIGN_UP"] = "2 per minute"
    assert client.get("/dang-ky", **_from("10.0.0.9")).status_code == 200  # pages are not counted
    assert _sign_up(client, "a1@example.vn", ip="10.0.0.9").status_code == 302
    assert _sign_up(client, "a2@example.vn", ip="10.0.0.9").status_code == 302
    r = _sign_up(client, "a3@example.vn", ip="10.0.0.9")
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= 61
    page = r.get_data(as_text=True)
    assert r.mimetype == "text/html" and "Bạn thao tác quá nhanh. Vui lòng thử lại sau" in page
    assert _sign_up(client, "a4@example.vn", ip="10.0.0.10").status_code == 302  # another address


def test_sign_up_is_limited_per_address_across_ips(app, csrf_off, mailbox):
    for i in range(3):
        assert _sign_up(app.test_client(), "victim@example.vn", ip=f"10.0.2.{i}").status_code == 302
    assert _sign_up(app.test_client(), "Victim@Example.vn", ip="10.0.2.99").status_code == 429
    assert len([m for m in mailbox() if m["to"] == "victim@example.vn"]) == 3


def test_sign_in_is_limited_per_ip(app, client, csrf_off):
    app.config["RATELIMIT_SIGN_IN"] = "3 per minute"
    for i in range(3):
        r = client.post(
            "/dang-nhap", data={"email": f"u{i}@example.vn", "password": "x"}, **_from("10.0.3.1")
        )
        assert r.status_code == 401
    r = client.post("/dang-nhap", data={"email": "u9@example.vn", "password": "x"}, **_from("10.0.3.1"))
    assert r.status_code == 429 and "Retry-After" in r.headers


def test_confirmation_resend_is_limited_per_account(app, factory, csrf_off, mailbox):
    user = factory.unconfirmed_user(email="gui-lai@example.vn")
    statuses = []
    for i in range(5):
        client = app.test_client()
        assert (
            client.post("/dang-nhap", data={"email": user.email, "password": "cam-bu-ht9"}).status_code == 302
        )
        statuses.append(client.post("/xac-nhan-email/gui-lai", **_from(f"10.0.4.{i}")).status_code)
    assert statuses == [302] * 3 + [429] * 2
    assert len([m for m in mailbox() if m["to"] == "gui-lai@example.vn"]) == 3


def test_search_page_is_limited_per_ip(app, client):
    app.config["RATELIMIT_SEARCH"] = "2 per minute"
    for _ in range(2):
        assert client.get("/tim-kiem?q=cam", **_from("10.0.5.1")).status_code == 200
    r = client.get("/tim-kiem?q=cam", **_from("10.0.5.1"))
    assert r.status_code == 429 and "thử lại sau" in r.get_data(as_text=True)
    # The API search shares the budget.
    assert client.get("/api/v1/search?q=cam", **_from("10.0.5.1")).status_code == 429
    assert client.get("/tim-kiem?q=cam", **_from("10.0.5.2")).status_code == 200


def test_search_is_limited_per_account_across_ips(app, client, factory):
    app.config["RATELIMIT_SEARCH_ACCOUNT"] = "2 per minute"
    sign_in(client, factory.user())
    assert client.get("/tim-kiem?q=cam", **_from("10.0.6.1")).status_code == 200
    assert client.get("/tim-kiem?q=cam", **_from("10.0.6.2")).status_code == 200
    assert client.get("/tim-kiem?q=cam", **_from("10.0.6.3")).status_code == 429
    assert app.test_client().get("/tim-kiem?q=cam", **_from("10.0.6.3")).status_code == 200  # anonymous


def test_api_answers_429_as_a_problem_with_retry_after(app, client):
    app.config["RATELIMIT_API"] = "3 per minute"
    assert client.get("/api/v1/listings", **_from("10.0.7.1")).status_code == 200
    assert client.get("/api/v1/search/suggest?q=ca", **_from("10.0.7.1")).status_code == 200
    assert client.get("/api/v1/openapi.json", **_from("10.0.7.1")).status_code == 200
    r = client.get("/api/v1/listings/1", **_from("10.0.7.1"))
    assert r.status_code == 429
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["status"] == 429 and body["title"] == "Too Many Requests"
    assert body["retry_after"] == int(r.headers["Retry-After"]) and 0 < body["retry_after"] <= 61


def test_suggestions_have_their_own_budget(app, client):
    app.config["RATELIMIT_SUGGEST"] = "2 per minute"
    for _ in range(2):
        assert client.get("/api/v1/search/suggest?q=ca", **_from("10.0.8.1")).status_code == 200
    assert client.get("/api/v1/search/suggest?q=ca", **_from("10.0.8.1")).status_code == 429
    assert client.get("/api/v1/listings", **_from("10.0.8.1")).status_code == 200


def test_openapi_documents_429_on_every_operation(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    operations = [op for item in doc["paths"].values() for name, op in item.items() if name == "get"]
    assert operations
    for op in operations:
        assert "Retry-After" in op["responses"]["429"]["headers"]


def test_ipv6_clients_are_counted_per_64(app):
    with app.test_request_context(environ_base={"REMOTE_ADDR": "2001:db8:1:2:aaaa::1"}):
        first = client_ip()
    with app.test_request_context(environ_base={"REMOTE_ADDR": "2001:db8:1:2:bbbb::9"}):
        assert client_ip() == first == "net:2001:db8:1:2::/64"
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.7"}):
        assert client_ip() == "ip:203.0.113.7"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_store_falls_back_to_memory_instead_of_failing(tmp_path, migrated_database, csrf_off):
    """Production points the limiter at a shared store; when it is down, pages still answer and
    limits still hold (per process)."""
    from marketplace import create_app
    from tests.conftest import _config

    url, _template = migrated_database
    if url.startswith("sqlite"):
        import shutil

        shutil.copyfile(_template, tmp_path / "t.db")
        url = f"sqlite:///{tmp_path / 't.db'}"
    config = {
        **_config(url, tmp_path),
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{_closed_port()}/0",
        "RATELIMIT_SIGN_UP": "1 per minute",
        "WTF_CSRF_ENABLED": False,
    }
    other = create_app(config)
    with other.app_context():
        client = other.test_client()
        assert _sign_up(client, "r1@example.vn").status_code == 302
        assert _sign_up(client, "r2@example.vn").status_code == 429
        from marketplace.extensions import db

        db.session.remove()
        db.engine.dispose()
