"""Forms of the legal pages, the consent box other forms include, and account erasure."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, StringField, TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.validators import Length, Optional

from ..forms import AppForm
from .markup import MAX_SOURCE_CHARS
from .services import MAX_NOTE_CHARS


def consent_field() -> UnboundField:
    """The consent box a form carries as `privacy_consent` (rendered by legal/_consent.html, which
    links the policy in force); the service checks it (services.check_consent)."""
    return BooleanField(_l("Tôi đã đọc và đồng ý với Chính sách bảo mật thông tin"))


class PublishForm(AppForm):
    body = TextAreaField(
        _l("Nội dung"),
        validators=[Length(max=MAX_SOURCE_CHARS)],
        description=_l(
            "Dòng bắt đầu bằng # là tiêu đề (## tiêu đề nhỏ), - là gạch đầu dòng, 1. là danh sách "
            "đánh số; **đậm**, *nghiêng*, [chữ](https://…) là liên kết; dòng trống ngăn các đoạn."
        ),
    )
    effective_from = StringField(
        _l("Ngày có hiệu lực"),
        render_kw={"type": "date"},
        description=_l("Từ hôm nay trở đi. Thay đổi quy chế cần công bố trước khi áp dụng."),
    )
    change_note = StringField(_l("Tóm tắt thay đổi"), validators=[Optional(), Length(max=MAX_NOTE_CHARS)])


class DeleteAccountForm(AppForm):
    password = PasswordField(_l("Mật khẩu hiện tại"))
    confirm = BooleanField(_l("Tôi hiểu rằng tài khoản sẽ bị xoá ngay và không thể khôi phục."))
