"""Erasing an account checks the password: its guesses share the account-changes rate limit."""

from __future__ import annotations

import pytest

from marketplace.extensions import db
from marketplace.models import User
from tests.support import PASSWORD, sign_in


@pytest.fixture
def app_overrides():
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


def test_password_guesses_on_the_deletion_page_are_limited_per_account(app, factory, csrf_off):
    app.config["RATELIMIT_ACCOUNT_CHANGES"] = "2 per hour"
    user = factory.user()
    client = sign_in(app.test_client(), user)
    for _ in range(2):
        r = client.post("/tai-khoan/xoa-tai-khoan", data={"password": "doan-sai-1", "confirm": "y"})
        assert r.status_code == 422
    r = client.post("/tai-khoan/xoa-tai-khoan", data={"password": PASSWORD, "confirm": "y"})
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert db.session.get(User, user.id).deleted_at is None
    assert client.get("/tai-khoan/xoa-tai-khoan").status_code == 200  # reading the page is not counted
