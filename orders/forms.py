"""Order forms. They carry the CSRF token and render fields; the services check the values
(every problem at once) and the views map those errors back onto these forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from marketplace.forms import AppForm
from marketplace.numbers import coerce_id


class ActionForm(AppForm):
    """Only the CSRF token: for buttons that change state."""


class AddToCartForm(AppForm):
    listing_id = HiddenField()
    quantity = StringField(_l("Số lượng"), default="1")  # parsed by the view (marketplace.numbers)
    next = HiddenField()


class CheckoutForm(AppForm):
    email = EmailField(
        _l("Email nhận thông tin đơn hàng"),
        validators=[Optional(), Length(max=254)],
        description=_l("Chúng tôi gửi liên kết theo dõi đơn hàng vào email này."),
    )
    receiver_name = StringField(_l("Họ tên người nhận"), validators=[Length(max=120)])
    receiver_phone = TelField(
        _l("Số điện thoại người nhận"),
        validators=[Length(max=20)],
        description=_l("Số di động, ví dụ 0912 345 678."),
    )
    address_line = StringField(_l("Số nhà, thôn/xóm, đường"), validators=[Length(max=200)])
    province = SelectField(_l("Tỉnh/thành phố"), validate_choice=False)  # narrows commune_id
    commune_id = SelectField(_l("Xã/phường"), coerce=coerce_id, validate_choice=False)
    note = TextAreaField(_l("Ghi chú cho người bán"), validators=[Optional(), Length(max=1000)])
    payment_method = RadioField(_l("Phương thức thanh toán"), validate_choice=False)
    quote = HiddenField()
    token = HiddenField()


class ReasonForm(AppForm):
    reason = TextAreaField(_l("Lý do"), validators=[Optional(), Length(max=2000)])


class PackForm(AppForm):
    parcel_weight_grams = StringField(_l("Khối lượng kiện hàng (gam)"), render_kw={"inputmode": "numeric"})
    parcel_size = StringField(_l("Kích thước (D×R×C, cm)"), validators=[Optional(), Length(max=60)])


class ShipForm(AppForm):
    carrier = StringField(
        _l("Đơn vị vận chuyển"),
        validators=[Optional(), Length(max=60)],
        description=_l("Ví dụ: VNPost, Viettel Post, GHN, GHTK, J&T, tự giao."),
    )
    tracking_number = StringField(_l("Mã vận đơn"), validators=[Optional(), Length(max=80)])


class ShippingRuleForm(AppForm):
    """The CSRF token; the fields, several per zone, are read by orders.shipping.save_shipping_rule."""


class ReviewForm(AppForm):
    stars = RadioField(
        _l("Số sao"),
        choices=[("5", "5"), ("4", "4"), ("3", "3"), ("2", "2"), ("1", "1")],
        validate_choice=False,
    )
    body = TextAreaField(_l("Nhận xét"), validators=[Optional(), Length(max=3000)])


class RefundForm(AppForm):
    reference = StringField(
        _l("Mã giao dịch hoàn tiền"),
        validators=[Optional(), Length(max=120)],
        description=_l("Bắt buộc với chuyển khoản và COD; thẻ được hoàn qua Stripe."),
    )
    note = TextAreaField(_l("Ghi chú"), validators=[Optional(), Length(max=2000)])


class PayoutForm(AppForm):
    shop_id = HiddenField()
    amount_vnd = StringField(_l("Số tiền chi trả (đồng)"))
    reference = StringField(_l("Mã giao dịch chi trả"), validators=[Optional(), Length(max=120)])
    note = StringField(_l("Ghi chú"), validators=[Optional(), Length(max=500)])


class StatementForm(AppForm):
    statement = FileField(_l("Tệp sao kê (CSV)"))
