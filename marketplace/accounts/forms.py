"""Account forms (Flask-WTF: CSRF on every one)."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField, TelField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from marketplace.forms import AppForm
from marketplace.legal.forms import consent_field


class SignUpForm(AppForm):
    full_name = StringField(
        _l("Họ và tên"), validators=[DataRequired(_l("Vui lòng nhập họ tên.")), Length(max=120)]
    )
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Vui lòng nhập email."))])
    phone = TelField(_l("Số điện thoại"), validators=[Optional(), Length(max=20)])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(_l("Vui lòng nhập mật khẩu."))])
    confirm = PasswordField(
        _l("Nhập lại mật khẩu"), validators=[EqualTo("password", _l("Hai mật khẩu không khớp."))]
    )
    privacy_consent = consent_field()


class SignInForm(AppForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Vui lòng nhập email."))])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(_l("Vui lòng nhập mật khẩu."))])
    remember = BooleanField(_l("Ghi nhớ đăng nhập"))


class ForgotPasswordForm(AppForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Vui lòng nhập email."))])


class ResetPasswordForm(AppForm):
    password = PasswordField(_l("Mật khẩu mới"), validators=[DataRequired(_l("Vui lòng nhập mật khẩu."))])
    confirm = PasswordField(
        _l("Nhập lại mật khẩu"), validators=[EqualTo("password", _l("Hai mật khẩu không khớp."))]
    )


class ChangePasswordForm(AppForm):
    current_password = PasswordField(
        _l("Mật khẩu hiện tại"), validators=[DataRequired(_l("Vui lòng nhập mật khẩu."))]
    )
    password = PasswordField(_l("Mật khẩu mới"), validators=[DataRequired(_l("Vui lòng nhập mật khẩu."))])
    confirm = PasswordField(
        _l("Nhập lại mật khẩu"), validators=[EqualTo("password", _l("Hai mật khẩu không khớp."))]
    )


class ActionForm(AppForm):
    """A button that changes something: CSRF only."""
