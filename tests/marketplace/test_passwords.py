"""Password rules: shown before the form is sent (minlength and a hint on every form that sets a
password), and common passwords refused wherever a password is chosen."""

from __future__ import annotations

import re

import pytest

from marketplace.accounts import passwords
from marketplace.accounts.services import create_user, make_reset_token
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.models import User
from tests.support import PASSWORD, sign_in

HINT = "Ít nhất 8 ký tự. Tránh mật khẩu phổ biến như 12345678 hay matkhau123."
COMMON = "Mật khẩu này quá phổ biến nên rất dễ bị đoán. Vui lòng chọn mật khẩu khác."


def test_the_list_holds_thousands_of_common_passwords_and_vietnamese_favourites():
    common = passwords.common_passwords()
    assert len(common) > 2500
    for favourite in ("123456789", "12345678", "matkhau", "matkhau123", "anhyeuem", "iloveyou", "password1"):
        assert favourite in common, favourite
    assert all(p == p.strip().casefold() and p for p in common)
    # Case and surrounding spaces do not matter; a password of one's own passes.
    assert passwords.is_common("MatKhau123") and passwords.is_common(" ANHYEUEM ")
    assert not passwords.is_common(PASSWORD) and not passwords.is_common("cam bù Hương Sơn 2026")
    assert passwords.problems("1234567") == ["Mật khẩu phải có ít nhất 8 ký tự."]
    assert passwords.problems("Password1") == [COMMON]
    assert passwords.problems("ca-phe-sua-da-7") == []


def _password_inputs(html: str) -> list[str]:
    return re.findall(r'<input[^>]*type="password"[^>]*>', html)


def _assert_rules_shown(html: str, names: tuple[str, ...]) -> None:
    inputs = {re.search(r'name="([^"]+)"', tag).group(1): tag for tag in _password_inputs(html)}
    for name in names:
        assert 'minlength="8"' in inputs[name], inputs[name]
        assert 'autocomplete="new-password"' in inputs[name]
        assert f'aria-describedby="{name}-help"' in inputs[name]
    assert HINT in html


def test_sign_up_reset_and_change_forms_show_the_rules_before_sending(client, factory):
    _assert_rules_shown(client.get("/dang-ky").get_data(as_text=True), ("password",))
    user = factory.user(email="quen@example.vn")
    token = make_reset_token(user)
    _assert_rules_shown(client.get(f"/dat-lai-mat-khau/{token}").get_data(as_text=True), ("password",))
    sign_in(client, user)
    account = client.get("/tai-khoan").get_data(as_text=True)
    _assert_rules_shown(account, ("password",))
    current = next(t for t in _password_inputs(account) if 'name="current_password"' in t)
    assert "minlength" not in current  # an old password is whatever it was


@pytest.mark.parametrize("chosen", ["matkhau123", "ANHYEUEM", "123456789", "Password1", "iloveyou"])
def test_sign_up_refuses_a_common_password(client, csrf_off, chosen):
    data = {"full_name": "Lê Thị Hoa", "email": "hoa@example.vn", "password": chosen, "confirm": chosen}
    response = client.post("/dang-ky", data=data)
    assert response.status_code == 200 and COMMON in response.get_data(as_text=True)
    assert db.session.query(User).count() == 0


def test_reset_and_change_refuse_a_common_password_and_keep_the_old_one(client, csrf_off, factory):
    from marketplace.accounts.services import check_password

    user = factory.user(email="doi@example.vn")
    token = make_reset_token(user)
    response = client.post(
        f"/dat-lai-mat-khau/{token}", data={"password": "qwerty123", "confirm": "qwerty123"}
    )
    assert response.status_code == 200 and COMMON in response.get_data(as_text=True)
    sign_in(client, user)
    response = client.post(
        "/tai-khoan/mat-khau",
        data={"current_password": PASSWORD, "password": "Anhyeuem123", "confirm": "Anhyeuem123"},
    )
    assert response.status_code == 422 and COMMON in response.get_data(as_text=True)
    assert check_password(db.session.get(User, user.id), PASSWORD)
    response = client.post(
        "/tai-khoan/mat-khau",
        data={"current_password": PASSWORD, "password": "ca-phe-sua-da-7", "confirm": "ca-phe-sua-da-7"},
    )
    assert response.status_code == 302
    assert check_password(db.session.get(User, user.id), "ca-phe-sua-da-7")


def test_accounts_made_by_the_system_follow_the_same_rule(app):
    with pytest.raises(ValidationFailed) as caught:
        create_user(email="op@example.vn", password="12345678", full_name="Ban quản lý", role="operator")
    assert caught.value.field_errors == {"password": [COMMON]}
