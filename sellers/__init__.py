"""Producer shops: onboarding, approval, the seller dashboard, staff; operator shop moderation."""

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.legal.personal_data import register_source
from marketplace.outbox import declare_topics

from . import personal_data
from .permissions import ShopPermission, has_shop_permission
from .views import bp, operator_bp

STATUS_LABELS = {
    "pending": _l("Chờ duyệt"),
    "approved": _l("Đang hoạt động"),
    "rejected": _l("Bị từ chối"),
    "suspended": _l("Tạm ngưng"),
}
KIND_LABELS = {
    "household": _l("Hộ sản xuất"),
    "cooperative": _l("Hợp tác xã"),
    "enterprise": _l("Doanh nghiệp"),
}


def _shop_may(shop, permission: str) -> bool:
    """In templates: may the signed-in user do `permission` ("shop.edit_profile"…) in `shop`?"""
    return has_shop_permission(current_user, shop, ShopPermission(permission))


def _labels() -> dict:
    return {
        "shop_status_label": lambda code: STATUS_LABELS.get(code, code),
        "shop_kind_label": lambda code: KIND_LABELS.get(code, code),
        "shop_may": _shop_may,
    }


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(operator_bp)
    app.context_processor(_labels)
    declare_topics(app, "shop.changed")
    register_source(app, personal_data.SOURCE)  # memberships in a person's export and erasure
