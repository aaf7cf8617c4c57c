"""Order forms. They carry the CSRF token and render fields; the services check the values
(every problem at once) and the views map those errors back onto these forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from marketplace.forms import AppForm
from marketplace.legal.forms import consent_field
from marketplace.numbers import coerce_id


class ActionForm(AppForm):
    """Only the CSRF token: for buttons that change state."""


class AddToCartForm(AppForm):
    listing_id = HiddenField()
    quantity = StringField(_l("Số lượng"), default="1")  # parsed by the view (marketplace.numbers)
    next = HiddenField()


class CheckoutForm(AppForm):
    email = EmailField(
        _l("Email nhận thông tin đơn hàng (không bắt buộc)"),
        validators=[Optional(), Length(max=254)],
        description=_l(
            "Chúng tôi gửi liên kết theo dõi đơn hàng vào email này. Không có email: bạn vẫn đặt "
            "được, rồi lưu liên kết đơn hàng hoặc tra cứu bằng mã đơn và số điện thoại."
        ),
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
    buy_now = HiddenField()  # "Mua ngay": the one line bought, signed (cart.BuyNow); empty: the cart

    # Consent to the privacy policy (marketplace.legal): shown and required for a guest, and for a
    # member who has not agreed to the version in force (services.place_checkout checks it).
    privacy_consent = consent_field()


class LookupForm(AppForm):
    """/tra-cuu-don-hang: an order found by its code and the receiver's phone number."""

    code = StringField(
        _l("Mã đơn hàng"),
        validators=[DataRequired(_l("Vui lòng nhập mã đơn hàng.")), Length(max=40)],
        description=_l(
            "Ví dụ DH7K3M9QXA hoặc DH7K3M9QXA-1, trên trang xác nhận hoặc trong tin nhắn của cửa hàng."
        ),
        render_kw={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"},
    )
    phone = TelField(
        _l("Số điện thoại người nhận"),
        validators=[DataRequired(_l("Vui lòng nhập số điện thoại.")), Length(max=20)],
        description=_l("Số đã nhập khi đặt hàng."),
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )


class ReasonForm(AppForm):
    reason = TextAreaField(_l("Lý do"), validators=[Optional(), Length(max=2000)])


class PackForm(AppForm):
    parcel_weight_grams = StringField(_l("Khối lượng kiện hàng (gam)"), render_kw={"inputmode": "numeric"})
    parcel_size = StringField(_l("Kích thước (D×R×C, cm)"), validators=[Optional(), Length(max=60)])
    # Offered when a later package adds choices (orders.hooks "pack_choices"), e.g. the carrier.
    partner = SelectField(_l("Đơn vị vận chuyển"), choices=[], validate_choice=False)


class ShipForm(AppForm):
    carrier = StringField(
        _l("Đơn vị vận chuyển"),
        validators=[Optional(), Length(max=60)],
        description=_l("Ví dụ: VNPost, Viettel Post, GHN, GHTK, J&T, tự giao."),
    )
    tracking_number = StringField(_l("Mã vận đơn"), validators=[Optional(), Length(max=80)])


class DeliverForm(AppForm):
    """ "Delivered" is final for the shop: a required tick, checked on the server too."""

    confirm = BooleanField(
        _l("Tôi xác nhận người mua đã nhận hàng"),
        validators=[DataRequired(_l("Hãy đánh dấu xác nhận người mua đã nhận hàng."))],
    )


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


class ComplaintForm(AppForm):
    """A buyer's complaint. The reasons offered depend on the order (complaints.reasons_open)."""

    reason = RadioField(_l("Vấn đề của đơn hàng"), validate_choice=False)
    description = TextAreaField(
        _l("Mô tả"),
        validators=[Optional(), Length(max=3000)],
        description=_l("Điều gì đã xảy ra, sản phẩm nào, bao nhiêu."),
    )
    photos = MultipleFileField(
        _l("Ảnh chụp (tối đa 5)"),
        description=_l(
            "Ảnh kiện hàng, sản phẩm, tem vận đơn. Thông tin vị trí trong ảnh được xóa khi tải lên."
        ),
    )


class ComplaintAnswerForm(AppForm):
    """The shop's answer to a complaint."""

    offer = RadioField(_l("Cách giải quyết"), validate_choice=False)
    amount_vnd = StringField(
        _l("Số tiền hoàn (đồng)"),
        validators=[Optional(), Length(max=30)],
        description=_l("Để trống để hoàn toàn bộ số tiền người mua đã trả."),
    )
    note = TextAreaField(_l("Lời nhắn cho người mua"), validators=[Optional(), Length(max=2000)])


class ComplaintDecisionForm(AppForm):
    """The operator's decision on an escalated complaint, or the record of a refund sent by hand."""

    decision = RadioField(_l("Quyết định"), validate_choice=False)
    amount_vnd = StringField(
        _l("Số tiền hoàn (đồng)"),
        validators=[Optional(), Length(max=30)],
        description=_l("Để trống để hoàn toàn bộ; ít hơn là hoàn một phần."),
    )
    reference = StringField(
        _l("Mã giao dịch hoàn tiền"),
        validators=[Optional(), Length(max=120)],
        description=_l("Bắt buộc với chuyển khoản và COD; thẻ được hoàn qua Stripe."),
    )
    note = TextAreaField(_l("Căn cứ, ghi chú"), validators=[Optional(), Length(max=2000)])
