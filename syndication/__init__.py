"""Syndication: carry the province's listings onto the national platforms (Shopee, Lazada, Tiki)
and into the pull feeds (Google Merchant Center, CSV/JSON), with one stock across channels.
Wired in by init_app(); catalog, sellers and orders never import this package (hooks.py)."""

from __future__ import annotations

from flask import Flask

from marketplace.config import env_int, env_optional, env_str, set_defaults
from marketplace.outbox import add_handler

BASE_URLS = {
    "shopee": "https://partner.shopeemobile.com",
    "lazada": "https://api.lazada.vn/rest",
    "tiki": "https://api.tiki.vn",
}


def _configure(app: Flask) -> None:
    settings: dict[str, object] = {
        # How often the worker pulls the platforms' orders (their stock is taken on the floor).
        "SYNDICATION_PULL_INTERVAL_S": env_int("SYNDICATION_PULL_INTERVAL_S", 300, minimum=30),
        # The nightly reconcile runs once a day from this hour (floor time).
        "SYNDICATION_RECONCILE_HOUR": env_int("SYNDICATION_RECONCILE_HOUR", 2, minimum=0, maximum=23),
    }
    for platform, base_url in BASE_URLS.items():
        key = platform.upper()
        # The floor's app on the platform (Shopee partner id/key, Lazada app key/secret, Tiki
        # client id/secret); unset: the platform cannot be connected yet.
        settings[f"SYNDICATION_{key}_APP_ID"] = env_optional(f"SYNDICATION_{key}_APP_ID")
        settings[f"SYNDICATION_{key}_SECRET"] = env_optional(f"SYNDICATION_{key}_SECRET")
        settings[f"SYNDICATION_{key}_BASE_URL"] = env_str(f"SYNDICATION_{key}_BASE_URL", base_url)
    set_defaults(app, settings)


def _lazy(module: str, name: str):
    """A handler loaded at its first event: the engine (and the platform adapters it uses) is not
    imported by create_app()."""

    def handler(payload, event):
        import importlib

        return getattr(importlib.import_module(f"syndication.{module}"), name)(payload, event)

    handler.__name__ = name
    return handler


def init_app(app: Flask) -> None:
    from marketplace.outbox import register_handler, register_periodic

    from . import hooks, models, topics  # noqa: F401 - models: the tables join the metadata
    from .cli import syndication_cli
    from .feed_views import bp as feeds_bp

    _configure(app)
    add_handler(app, "listing.changed", hooks.on_listing_changed)  # after search's indexer
    add_handler(app, "shop.changed", hooks.on_shop_changed)
    app.register_blueprint(feeds_bp)
    register_handler(app, topics.LISTING, _lazy("engine", "on_listing"))
    register_handler(app, topics.SHOP, _lazy("engine", "on_shop"))
    register_handler(app, topics.PUSH, _lazy("engine", "on_push"))
    register_handler(app, topics.BATCH, _lazy("engine", "on_batch"))
    register_handler(app, topics.PULL, _lazy("remote_orders", "on_pull"))
    register_handler(app, topics.RECONCILE, hooks.on_reconcile)
    register_periodic(app, "syndication.pulls", 60, hooks.schedule_pulls)
    register_periodic(app, "syndication.reconcile", 600, hooks.schedule_reconcile)
    app.cli.add_command(syndication_cli)
    _register_pages(app)


def _dashboard_panel(shop) -> dict:
    from flask import url_for
    from flask_babel import lazy_gettext as _l
    from sqlalchemy import func, select

    from catalog.models import Listing
    from marketplace.extensions import db

    from .models import RemoteOrder, SyncRecord

    problems = (
        db.session.scalar(
            select(func.count())
            .select_from(SyncRecord)
            .join(Listing, Listing.id == SyncRecord.listing_id)
            .where(Listing.shop_id == shop.id, SyncRecord.state.in_(["failed", "needs_attention"]))
        )
        or 0
    )
    no_stock = (
        db.session.scalar(
            select(func.count())
            .select_from(RemoteOrder)
            .where(RemoteOrder.shop_id == shop.id, RemoteOrder.state == "no_stock")
        )
        or 0
    )
    link = url_for("syndication_seller.index", shop_slug=shop.slug)
    return {
        "title": _l("Kênh bán khác"),
        "items": [
            (_l("Sản phẩm cần xử lý trên các nền tảng"), problems, link),
            (
                _l("Đơn trên nền tảng không còn hàng"),
                no_stock,
                url_for("syndication_seller.remote_orders", shop_slug=shop.slug),
            ),
        ],
        "actions": [(_l("Chọn kênh bán"), link)],
    }


def _inbox_section(shop):
    from flask import render_template
    from markupsafe import Markup
    from sqlalchemy import select

    from marketplace.extensions import db

    from .models import RemoteOrder

    rows = db.session.scalars(
        select(RemoteOrder)
        .where(RemoteOrder.shop_id == shop.id)
        .order_by(RemoteOrder.placed_at.desc(), RemoteOrder.id.desc())
        .limit(20)
    ).all()
    if not rows:
        return Markup("")
    return Markup(render_template("syndication/_inbox_section.html", shop=shop, rows=rows))  # noqa: S704 - our template


def _register_pages(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from . import views

    app.register_blueprint(views.bp)
    app.register_blueprint(views.seller_bp)
    app.register_blueprint(views.operator_bp)
    app.jinja_env.globals.update(views.template_globals())
    app.extensions.setdefault("seller_dashboard", []).append(_dashboard_panel)
    app.extensions.setdefault("operator_links", []).append(
        (_l("Đồng bộ kênh bán"), "syndication_admin.board")
    )
    app.extensions.setdefault("order_inbox_sections", []).append(_inbox_section)
