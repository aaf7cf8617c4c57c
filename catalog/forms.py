"""Listing and category forms. Numbers are text fields: the services parse them as people type
them ("45.000") within their bounds (marketplace.money, marketplace.numbers)."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired, MultipleFileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from marketplace.forms import AppForm
from marketplace.numbers import coerce_id

STATUS_CHOICES = [("draft", _l("Nháp")), ("active", _l("Đang bán")), ("archived", _l("Đã ngừng bán"))]
OCOP_STAR_CHOICES = [("", _l("Không có"))] + [(str(n), f"{n} ★") for n in range(1, 6)]
OCOP_LEVEL_CHOICES = [("", "—"), ("province", _l("Cấp tỉnh")), ("national", _l("Cấp trung ương"))]


class ListingForm(AppForm):
    # Required fields and numbers are checked by catalog.services.validate_listing_data, which
    # reports every problem at once and accepts "45.000" the way people type prices.
    title = StringField(_l("Tên sản phẩm"), validators=[Length(max=160)])
    category_id = SelectField(_l("Danh mục"), coerce=coerce_id, validate_choice=False)
    description = TextAreaField(_l("Mô tả"), validators=[Optional(), Length(max=20000)])
    unit = StringField(_l("Đơn vị bán"), validators=[Length(max=30)])
    price_vnd = StringField(_l("Giá (đồng)"), render_kw={"inputmode": "numeric"})
    stock = StringField(_l("Tồn kho"), default="0", render_kw={"inputmode": "numeric"})
    low_stock_threshold = StringField(
        _l("Báo sắp hết hàng khi còn"),
        render_kw={"inputmode": "numeric"},
        description=_l("Số đơn vị; để trống nếu không cần báo."),
    )
    min_order_qty = StringField(_l("Mua tối thiểu"), default="1", render_kw={"inputmode": "numeric"})
    weight_grams = StringField(_l("Khối lượng đóng gói (gam)"), render_kw={"inputmode": "numeric"})
    sku = StringField(_l("Mã SKU"), validators=[Optional(), Length(max=60)])
    origin = StringField(
        _l("Vùng nguyên liệu / xuất xứ"),
        validators=[Optional(), Length(max=120)],
        description=_l("Ví dụ: Hương Sơn, Phúc Trạch, Hương Khê"),
    )
    harvest_season = StringField(_l("Mùa vụ thu hoạch"), validators=[Optional(), Length(max=120)])
    batch_code = StringField(_l("Mã lô / ngày thu hoạch"), validators=[Optional(), Length(max=60)])
    ocop_stars = SelectField(_l("Hạng OCOP"), choices=OCOP_STAR_CHOICES, validate_choice=False)
    ocop_certificate_no = StringField(_l("Số giấy chứng nhận OCOP"), validators=[Optional(), Length(max=60)])
    ocop_level = SelectField(_l("Cấp công nhận"), choices=OCOP_LEVEL_CHOICES, validate_choice=False)
    ocop_issued_on = StringField(_l("Ngày công nhận (dd/mm/yyyy)"), render_kw={"placeholder": "dd/mm/yyyy"})
    certifications = StringField(
        _l("Chứng nhận khác"),
        validators=[Optional(), Length(max=500)],
        description=_l("Cách nhau bằng dấu chấm phẩy, ví dụ: VietGAP; Hữu cơ"),
    )
    status = SelectField(_l("Trạng thái"), choices=STATUS_CHOICES)
    images = MultipleFileField(_l("Ảnh sản phẩm (tối đa 8)"))


class ImagesForm(AppForm):
    images = MultipleFileField(_l("Thêm ảnh"))


class CategoryForm(AppForm):
    name = StringField(
        _l("Tên danh mục"), validators=[DataRequired(_l("Vui lòng nhập tên danh mục.")), Length(max=120)]
    )
    name_en = StringField(_l("Tên tiếng Anh"), validators=[Optional(), Length(max=120)])
    parent_id = SelectField(_l("Danh mục cha"), coerce=coerce_id)
    position = StringField(_l("Thứ tự"), default="0", render_kw={"inputmode": "numeric"})
    description = TextAreaField(_l("Mô tả"), validators=[Optional(), Length(max=2000)])


class HideForm(AppForm):
    reason = TextAreaField(_l("Lý do ẩn (người bán sẽ thấy)"), validators=[Optional(), Length(max=2000)])


class CsvUploadForm(AppForm):
    file = FileField(
        _l("Tệp CSV (UTF-8)"),
        validators=[
            FileRequired(_l("Vui lòng chọn tệp CSV.")),
            FileAllowed(["csv", "txt"], _l("Chỉ nhận tệp .csv (lưu từ Excel bằng “CSV UTF-8”).")),
        ],
    )


class OcopDecisionForm(AppForm):
    """The operator's check or refusal of an OCOP claim (the reason is needed to refuse)."""

    reason = TextAreaField(_l("Lý do từ chối (người bán sẽ thấy)"), validators=[Optional(), Length(max=1000)])


class CsvConfirmForm(AppForm):
    """Confirms a previewed CSV upload: only the token of the upload kept on the server."""

    token = HiddenField(validators=[DataRequired()])
