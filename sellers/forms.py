"""Shop forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import EmailField, SelectField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from marketplace.forms import AppForm
from marketplace.numbers import coerce_id

KIND_CHOICES = [
    ("household", _l("Hộ sản xuất, kinh doanh")),
    ("cooperative", _l("Hợp tác xã (HTX)")),
    ("enterprise", _l("Doanh nghiệp")),
]


class ShopProfileForm(AppForm):
    """The profile an owner edits. The kind (legal form) and the slug (the shop's address) are
    chosen at registration only, so this form has no such fields and the service ignores them."""

    # Required fields are checked by sellers.services, which reports every problem at once.
    name = StringField(_l("Tên cửa hàng"), validators=[Length(max=120)])
    phone = TelField(_l("Số điện thoại liên hệ"))
    email = EmailField(_l("Email liên hệ"), validators=[Optional(), Length(max=254)])
    address_line = StringField(_l("Thôn/xóm, số nhà, đường"), validators=[Length(max=200)])
    province = SelectField(_l("Tỉnh/thành phố"), validate_choice=False)  # narrows commune_id
    commune_id = SelectField(_l("Xã/phường"), coerce=coerce_id, validate_choice=False)
    tax_code = StringField(
        _l("Mã số thuế"),
        validators=[Optional(), Length(max=20)],
        description=_l(
            "Bắt buộc với hợp tác xã và doanh nghiệp: 10 chữ số, chi nhánh thêm 3 chữ số "
            "(3001234567-001). Hộ sản xuất: không bắt buộc."
        ),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    registration_number = StringField(
        _l("Số giấy chứng nhận đăng ký kinh doanh"),
        validators=[Optional(), Length(max=40)],
        description=_l("Nếu có, khi khác mã số thuế (ví dụ giấy đăng ký hộ kinh doanh)."),
    )
    story = TextAreaField(_l("Câu chuyện sản phẩm"), validators=[Optional(), Length(max=5000)])
    logo = FileField(_l("Logo"))


class ShopForm(ShopProfileForm):
    """Registration: the profile, plus the kind and the slug."""

    kind = SelectField(_l("Loại hình"), choices=KIND_CHOICES)
    slug = StringField(
        _l("Đường dẫn (không dấu)"),
        validators=[Optional(), Length(max=80)],
        description=_l("Để trống để tạo tự động từ tên cửa hàng."),
    )


class ReasonForm(AppForm):
    reason = TextAreaField(_l("Lý do"), validators=[Optional(), Length(max=2000)])


class ActionForm(AppForm):
    """A form with only the CSRF token, for buttons that change state."""


class InviteForm(AppForm):
    email = EmailField(_l("Email nhân viên"), validators=[DataRequired(_l("Vui lòng nhập email."))])


class CommuneForm(AppForm):
    name = StringField(
        _l("Tên xã/phường"),
        validators=[DataRequired(_l("Vui lòng nhập tên.")), Length(max=120)],
        description=_l("Như địa chỉ ghi, có cả loại đơn vị: Xã Kỳ Xuân, Phường Sông Trí."),
    )
    kind = SelectField(
        _l("Loại"), choices=[("xa", _l("Xã")), ("phuong", _l("Phường")), ("dac_khu", _l("Đặc khu"))]
    )
    province = SelectField(_l("Tỉnh/thành phố"), validate_choice=False)
    code = StringField(_l("Mã đơn vị"), validators=[Optional(), Length(max=20)])
