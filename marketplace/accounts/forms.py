"""Account forms (Flask-WTF: CSRF on every one)."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField, TelField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from marketplace.forms import AppForm
from marketplace.legal.forms import consent_field

from .passwords import MIN_LENGTH


def new_password_field(label: str) -> PasswordField:
    """A password being chosen: the rules are shown beside it before the form is sent (the
    service checks them again, and the list of common passwords)."""
    return PasswordField(
        label,
        validators=[DataRequired(_l("Vui lòng nhập mật khẩu."))],
        description=_l("Ít nhất 8 ký tự. Tránh mật khẩu phổ biến như 12345678 hay matkhau123."),
        render_kw={"minlength": MIN_LENGTH, "autocomplete": "new-password"},
    )


class SignUpForm(AppForm):
    full_name = StringField(
        _l("Họ và tên"), validators=[DataRequired(_l("Vui lòng nhập họ tên.")), Length(max=120)]
    )
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Vui lòng nhập email."))])
    phone = TelField(_l("Số điện thoại"), validators=[Optional(), Length(max=20)])
    password = new_password_field(_l("Mật khẩu"))
    confirm = PasswordField(
        _l("Nhập lại mật khẩu"),
        validators=[EqualTo("password", _l("Hai mật khẩu không khớp."))],
        render_kw={"autocomplete": "new-password"},
    )
    privacy_consent = consent_field()


class SignInForm(AppForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Vui lòng nhập email."))])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(_l("Vui lòng nhập mật khẩu."))])
    remember = BooleanField(_l("Ghi nhớ đăng nhập"))


class ForgotPasswordForm(AppForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Vui lòng nhập email."))])


class ResetPasswordForm(AppForm):
    password = new_password_field(_l("Mật khẩu mới"))
    confirm = PasswordField(
        _l("Nhập lại mật khẩu"),
        validators=[EqualTo("password", _l("Hai mật khẩu không khớp."))],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(AppForm):
    current_password = PasswordField(
        _l("Mật khẩu hiện tại"), validators=[DataRequired(_l("Vui lòng nhập mật khẩu."))]
    )
    password = new_password_field(_l("Mật khẩu mới"))
    confirm = PasswordField(
        _l("Nhập lại mật khẩu"),
        validators=[EqualTo("password", _l("Hai mật khẩu không khớp."))],
        render_kw={"autocomplete": "new-password"},
    )


class ActionForm(AppForm):
    """A button that changes something: CSRF only."""
