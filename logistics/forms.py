"""Forms of the operator's partner pages and the shop's carrier choice."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from marketplace.forms import AppForm


class CsrfForm(AppForm):
    """Only the CSRF token: for buttons that change state."""


class PartnerForm(AppForm):
    name = StringField(_l("Tên đối tác"), validators=[Length(max=120)])
    slug = StringField(_l("Mã đối tác (để trống: tạo từ tên)"), validators=[Optional(), Length(max=80)])
    kind = SelectField(
        _l("Loại"),
        choices=[("generic", _l("Đối tác dùng API của sàn")), ("ghn", "GHN"), ("ghtk", "GHTK")],
        validate_choice=False,
    )
    state = SelectField(
        _l("Trạng thái"), choices=[("active", _l("Hoạt động")), ("paused", _l("Tạm dừng"))], default="active"
    )
    webhook_url = StringField(_l("Địa chỉ webhook"), validators=[Optional(), Length(max=500)])
    shops = StringField(
        _l("Cửa hàng phục vụ"),
        default="all",
        validators=[Optional(), Length(max=2000)],
        description=_l("“all” cho mọi cửa hàng, hoặc mã các cửa hàng cách nhau bằng dấu phẩy."),
    )
    api_base_url = StringField(
        _l("Địa chỉ API của hãng (tài khoản đặt lấy hàng)"), validators=[Optional(), Length(max=300)]
    )


class KeyForm(AppForm):
    name = StringField(_l("Tên khóa"), validators=[Optional(), Length(max=120)])


class MappingForm(AppForm):
    mapping = TextAreaField(
        _l("Bảng trạng thái"),
        description=_l(
            "Mỗi dòng: trạng thái của hãng = trạng thái của sàn (để trống: không đổi trạng thái đơn)."
        ),
    )


class ParcelForm(AppForm):
    weight_g = StringField(_l("Khối lượng kiện hàng (gam)"), render_kw={"inputmode": "numeric"})
    size = StringField(_l("Kích thước (D×R×C, cm)"), validators=[Optional(), Length(max=60)])


class RemittanceImportForm(AppForm):
    partner = SelectField(_l("Đối tác"), validate_choice=False)
    file = FileField(_l("Tệp CSV đối soát"))
