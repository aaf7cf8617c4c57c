"""The operator's synonym form; an empty form carries the CSRF token of the small action buttons."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from marketplace.forms import AppForm


class SynonymForm(AppForm):
    terms = StringField(
        _l("Nhóm từ đồng nghĩa"),
        validators=[DataRequired(_l("Vui lòng nhập các từ, cách nhau bằng dấu phẩy.")), Length(max=1000)],
        description=_l("Các từ cùng nghĩa, cách nhau bằng dấu phẩy. Ví dụ: quả, trái — heo, lợn — bắp, ngô"),
    )


class ActionForm(AppForm):
    pass
