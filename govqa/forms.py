"""Q&A forms: CSRF and rendering; the services check the values and the views map errors back."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, DateField, EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from marketplace.forms import AppForm
from marketplace.numbers import coerce_id


class ActionForm(AppForm):
    """Only the CSRF token: for buttons that change state."""


class AskForm(AppForm):
    agency_id = SelectField(
        _l("Cơ quan nhận câu hỏi"),
        coerce=coerce_id,
        validate_choice=False,
        description=_l("Chưa rõ cơ quan nào: chọn “Chưa rõ”, ban quản lý sàn sẽ chuyển đúng nơi."),
    )
    topic = SelectField(_l("Lĩnh vực"), validate_choice=False)
    title = StringField(_l("Tiêu đề"), validators=[Length(max=200)])
    body = TextAreaField(
        _l("Nội dung câu hỏi"),
        validators=[Length(max=20000)],
        description=_l(
            "Câu hỏi và câu trả lời được công khai. Số điện thoại, số căn cước, email và số nhà được tự động ẩn "
            "trên trang công khai."
        ),
    )
    attachments = MultipleFileField(_l("Tệp đính kèm (PDF hoặc ảnh, tối đa 5 tệp)"))
    show_asker_name = BooleanField(
        _l("Hiện tên tôi cùng tên doanh nghiệp (mặc định chỉ hiện tên doanh nghiệp)")
    )


class BusinessForm(AppForm):
    business_name = StringField(_l("Tên doanh nghiệp"), validators=[Length(max=200)])
    tax_code = StringField(
        _l("Mã số thuế"),
        validators=[Length(max=20)],
        description=_l("10 chữ số; chi nhánh: 10 chữ số, gạch ngang, 3 chữ số."),
    )


class TextForm(AppForm):
    text = TextAreaField(_l("Nội dung"), validators=[Length(max=20000)])


class AnswerForm(AppForm):
    body = TextAreaField(
        _l("Câu trả lời"),
        validators=[Length(max=50000)],
        description=_l("Được định dạng: đoạn văn, danh sách, liên kết, in nghiêng, in đậm."),
    )
    attachments = MultipleFileField(_l("Tệp đính kèm (PDF hoặc ảnh, tối đa 5 tệp)"))


class AgencyReasonForm(AppForm):
    agency_id = SelectField(_l("Cơ quan"), coerce=coerce_id, validate_choice=False)
    reason = TextAreaField(_l("Lý do / nội dung"), validators=[Length(max=5000)])


class ReasonForm(AppForm):
    reason = TextAreaField(_l("Lý do"), validators=[Length(max=5000)])


class RouteForm(AppForm):
    agency_id = SelectField(_l("Chuyển tới cơ quan"), coerce=coerce_id, validate_choice=False)


class RejectForm(AppForm):
    kind = SelectField(
        _l("Lý do từ chối"),
        choices=[
            ("out_of_scope", _l("Không thuộc phạm vi hỏi đáp")),
            ("duplicate", _l("Trùng câu hỏi đã có")),
            ("abusive", _l("Nội dung không phù hợp")),
        ],
    )
    duplicate_of = IntegerField(_l("Số câu hỏi đã có (nếu trùng)"), validators=[Optional()])
    reason = TextAreaField(_l("Giải thích cho người hỏi"), validators=[Length(max=5000)])


class TitleForm(AppForm):
    title = StringField(_l("Tiêu đề"), validators=[Length(max=200)])


class RedactForm(AppForm):
    phrase = StringField(_l("Đoạn cần ẩn"), validators=[Length(max=500)])
    reason = StringField(_l("Lý do"), validators=[Length(max=500)])


class RuleForm(AppForm):
    name = StringField(_l("Tên quy tắc"), validators=[Length(max=120)])
    pattern = StringField(_l("Biểu thức chính quy"), validators=[Length(max=500)])
    replacement = StringField(_l("Thay bằng"), validators=[Length(max=80)], default="[đã ẩn]")


class CalendarForm(AppForm):
    day = DateField(_l("Ngày"))
    kind = SelectField(
        _l("Loại ngày"),
        choices=[("day_off", _l("Ngày nghỉ (nghỉ bù, nghỉ cầu)")), ("working_day", _l("Ngày làm việc bù"))],
    )
    note = StringField(_l("Ghi chú"), validators=[Length(max=200)])


class AgencyForm(AppForm):
    name = StringField(_l("Tên cơ quan"), validators=[Length(max=200)])
    description = TextAreaField(_l("Giới thiệu"), validators=[Optional(), Length(max=2000)])
    working_days = IntegerField(_l("Thời hạn trả lời (ngày làm việc)"), default=20, validators=[Optional()])
    transfer_restarts_clock = BooleanField(
        _l("Câu hỏi được chuyển đến thì tính lại thời hạn từ đầu"), default=True
    )
    active = BooleanField(_l("Đang hoạt động"), default=True)


class InviteForm(AppForm):
    agency_id = SelectField(_l("Cơ quan"), coerce=coerce_id, validate_choice=False)
    email = EmailField(_l("Email cán bộ"), validators=[Length(max=254)])
