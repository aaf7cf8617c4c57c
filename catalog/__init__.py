"""Categories, listings, images, public catalog pages, CSV import."""

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from marketplace.api import add_openapi
from marketplace.extensions import db
from marketplace.outbox import declare_topics

# The CSV upload (seller_bp) and the OCOP register (operator_bp) register their routes on import.
from . import certifications, csv_views, ocop_views  # noqa: F401
from .api import OPENAPI_PATHS, OPENAPI_SCHEMAS, api_bp
from .jsonld import category_display_name, category_path
from .ocop import LEVEL_LABELS as OCOP_LEVEL_LABELS
from .ocop import STATUS_LABELS as OCOP_STATUS_LABELS
from .views import bp, operator_bp, seller_bp


def _dashboard_panel(shop) -> dict:
    from .models import Listing

    counts = dict(
        db.session.execute(
            select(Listing.status, func.count()).where(Listing.shop_id == shop.id).group_by(Listing.status)
        ).all()
    )
    hidden = (
        db.session.scalar(
            select(func.count())
            .select_from(Listing)
            .where(Listing.shop_id == shop.id, Listing.hidden_at.is_not(None))
        )
        or 0
    )
    link = url_for("catalog_seller.list_listings", shop_slug=shop.slug)
    return {
        "title": _l("Sản phẩm"),
        "items": [
            (_l("Đang bán"), counts.get("active", 0), link + "?status=active"),
            (_l("Nháp"), counts.get("draft", 0), link + "?status=draft"),
            (_l("Đã ngừng bán"), counts.get("archived", 0), link + "?status=archived"),
            (_l("Bị ẩn bởi ban quản lý"), hidden, link),
        ],
        "actions": [
            (_l("Thêm sản phẩm"), url_for("catalog_seller.new_listing", shop_slug=shop.slug)),
            (_l("Nhập từ CSV"), url_for("catalog_seller.import_csv", shop_slug=shop.slug)),
        ],
    }


LISTING_STATUS_LABELS = {"draft": _l("Nháp"), "active": _l("Đang bán"), "archived": _l("Đã ngừng bán")}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(seller_bp)
    app.register_blueprint(operator_bp)
    app.register_blueprint(api_bp)
    add_openapi(app, OPENAPI_PATHS, OPENAPI_SCHEMAS)
    declare_topics(app, "listing.changed", "category.changed", certifications.TOPIC)
    from . import page_cache

    page_cache.init_app(app)  # the anonymous page cache: catalog's pages and what they show
    app.extensions.setdefault("seller_dashboard", []).append(_dashboard_panel)
    app.jinja_env.filters["cert_label"] = certifications.certification_label
    # One way every page names a category in its language (`{{ category|category_name }}`).
    app.jinja_env.filters["category_name"] = category_display_name
    app.jinja_env.globals["category_path"] = category_path
    app.jinja_env.globals["listing_status_label"] = lambda code: LISTING_STATUS_LABELS.get(code, code)
    app.jinja_env.globals["ocop_status_label"] = lambda code: OCOP_STATUS_LABELS.get(code, code)
    app.jinja_env.globals["ocop_level_label"] = lambda code: OCOP_LEVEL_LABELS.get(code, code or "—")
    app.extensions.setdefault("operator_links", []).append(
        (_l("Sổ chứng nhận OCOP"), "catalog_admin.ocop_register")
    )
