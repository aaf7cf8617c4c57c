"""orders package: cart, checkout, order state machine, payments (COD, VietQR transfer, Stripe),
shop order inbox, operator pages and settlement ledger, reviews, complaints. Wired in by init_app()."""

from __future__ import annotations

import logging

from flask import Flask, current_app, has_request_context, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import user_logged_in

from marketplace.config import env_int, env_optional, env_str, set_defaults

log = logging.getLogger(__name__)


def _configure(app: Flask) -> None:
    """Settings of this package, from the environment, with defaults that work untouched."""
    set_defaults(
        app,
        {
            # Unpaid card checkouts expire after 30 minutes, bank transfers after 24 hours.
            "ORDER_PAYMENT_TIMEOUT_MIN": env_int("ORDER_PAYMENT_TIMEOUT_MIN", 30, minimum=1),
            "ORDER_TRANSFER_TIMEOUT_MIN": env_int("ORDER_TRANSFER_TIMEOUT_MIN", 24 * 60, minimum=1),
            "ORDER_COMPLETE_AFTER_DAYS": env_int("ORDER_COMPLETE_AFTER_DAYS", 7, minimum=1),
            "ORDER_LINK_MAX_AGE_DAYS": env_int("ORDER_LINK_MAX_AGE_DAYS", 180, minimum=1),
            "DEFAULT_ITEM_WEIGHT_GRAMS": env_int("DEFAULT_ITEM_WEIGHT_GRAMS", 500, minimum=1),
            # After delivery the buyer may complain for this many days, and the floor holds the
            # shop's money until they are over (and while a complaint is unresolved).
            "ORDER_RETURN_WINDOW_DAYS": env_int("ORDER_RETURN_WINDOW_DAYS", 3, minimum=0),
            # The shop's time to answer a complaint before the buyer may take it to the floor
            # (and the operator may decide it).
            "ORDER_COMPLAINT_ANSWER_DAYS": env_int("ORDER_COMPLAINT_ANSWER_DAYS", 2, minimum=0),
            # The buyer's time to accept the shop's answer or take it to the floor; after it the
            # answer stands (the worker closes the complaint) and the operator may decide it.
            "ORDER_COMPLAINT_REPLY_DAYS": env_int("ORDER_COMPLAINT_REPLY_DAYS", 7, minimum=0),
            # The floor's collection account for VietQR transfers (demo values until configured).
            "BANK_BIN": env_str("BANK_BIN", "970415"),
            "BANK_ACCOUNT": env_str("BANK_ACCOUNT", "113366668888"),
            "BANK_ACCOUNT_NAME": env_str("BANK_ACCOUNT_NAME", "SAN TMDT HA TINH (DEMO)"),
            "BANK_NAME": env_str("BANK_NAME", "VietinBank"),
            # Unset: Stripe's own, or the stand-in served by the STRIPE_API_BASE server (localstripe).
            "STRIPE_JS_URL": env_optional("STRIPE_JS_URL"),
        },
    )


def _template_helpers() -> dict:
    from marketplace.addresses import province_phrase

    from . import cart, hooks, pictures, services, shipping, states

    class CartCount:
        """The header's cart badge, counted only if a template shows it (mails never do)."""

        _value: int | None = None

        def _get(self) -> int:
            if self._value is None:
                from flask_login import current_user

                self._value = 0
                if has_request_context():
                    try:
                        user = current_user if current_user.is_authenticated else None
                        self._value = cart.cart_for(user, session).count()
                    except Exception:
                        log.exception("cart count failed")
            return self._value

        def __bool__(self) -> bool:
            return self._get() > 0

        def __str__(self) -> str:
            return str(self._get())

        def __int__(self) -> int:
            return self._get()

    return {
        "cart_count": CartCount(),
        "listing_rating": services.rating_of_listing,
        "line_covers": pictures.covers_of,  # listing id -> cover, for orders' lines (orders/pictures.py)
        "shop_rating": services.rating_of_shop,
        "listing_reviews": services.recent_reviews,
        "order_status_label": states.label,
        "order_short_label": lambda s: str(states.SHORT_LABELS.get(s, s)),
        "order_next_step": states.next_step,
        "payment_method_label": lambda m: str(states.METHOD_LABELS.get(m, m)),
        "zone_label": shipping.zone_label,
        "delivery_note": shipping.delivery_note,
        "province_phrase": province_phrase,
        # Panels later packages add to the buyer's order page (orders.hooks "buyer_panels").
        "order_panels": lambda order: hooks.collect("buyer_panels", order),
        "order_seller_panels": lambda order: hooks.collect("seller_panels", order),
    }


def _dashboard_panel(shop) -> dict:
    from flask_login import current_user

    from sellers.permissions import can_edit_shipping

    from .seller_views import TAB_LABELS, tab_counts

    counts = tab_counts(shop)
    link = url_for("orders_seller.inbox", shop_slug=shop.slug)
    actions = [(_l("Xem tất cả đơn"), f"{link}?tab=all")]
    if can_edit_shipping(current_user, shop):  # the owner's: staff handle orders, not fees
        actions.append((_l("Phí vận chuyển"), url_for("orders_seller.shipping", shop_slug=shop.slug)))
    return {
        "title": _l("Đơn hàng"),
        "items": [
            (TAB_LABELS[tab], counts[tab], f"{link}?tab={tab}")
            for tab in ("new", "to_confirm", "to_pack", "to_ship", "shipping", "problems")
        ],
        "actions": actions,
    }


def _on_login(sender, user, **extra) -> None:
    """Sign-in merges the visitor's cart into the stored one. The sign-in view has already
    committed; the merge is its own small transaction and never blocks signing in."""
    from marketplace.extensions import db

    from . import cart

    try:
        if cart.merge_into_user(session, user):
            db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("cart merge failed for user %s", user.id)


def _register_handlers(app: Flask) -> None:
    from marketplace.extensions import db
    from marketplace.outbox import register_handler

    from . import complaints, payments, services, stripe_gateway
    from .models import Order, OrderStatus

    def expire(payload, event):
        payments.expire_payment(int(payload["payment_id"]))

    def complete(payload, event):
        order = db.session.get(Order, int(payload["order_id"]))
        if order is not None and order.status == OrderStatus.DELIVERED.value:
            services.complete_order(order, actor=None, actor_role="system")

    def accept_complaint(payload, event):
        complaints.accept_when_due(int(payload["complaint_id"]))

    register_handler(app, "order.expire", expire)
    register_handler(app, "order.complete", complete)
    register_handler(app, "complaint.accept", accept_complaint)
    register_handler(app, "payment.stripe_refund", stripe_gateway.refund_handler)
    register_handler(app, "payment.stripe_cancel", stripe_gateway.cancel_handler)


def init_app(app: Flask) -> None:
    """Register blueprints, API paths, outbox handlers and health checks of this package."""
    from marketplace.api import add_openapi
    from marketplace.legal.personal_data import register_source
    from marketplace.outbox import register_handler
    from marketplace.pagecache import tokenless_post

    from . import access, complaint_views, models, personal_data  # noqa: F401 - the tables belong to the metadata
    from .api import OPENAPI_PATHS, OPENAPI_SCHEMAS, api_bp
    from .operator_views import bp as operator_bp
    from .seller_views import bp as seller_bp
    from .tracking import SUGGESTED, tracking_url
    from .views import bp
    from .webhooks import bp as webhooks_bp

    _configure(app)
    app.register_blueprint(bp)
    app.register_blueprint(seller_bp)
    app.register_blueprint(operator_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(api_bp)
    add_openapi(app, OPENAPI_PATHS, OPENAPI_SCHEMAS)
    app.context_processor(_template_helpers)
    app.jinja_env.globals["carrier_tracking_url"] = tracking_url
    app.jinja_env.globals["suggested_carriers"] = SUGGESTED
    # Sections later packages add under the shop's inbox (a callable: shop -> HTML).
    app.jinja_env.globals["order_inbox_sections"] = app.extensions.setdefault("order_inbox_sections", [])
    app.extensions.setdefault("seller_dashboard", []).append(_dashboard_panel)
    app.extensions.setdefault("operator_links", []).extend(
        [
            (_l("Đơn hàng"), "orders_admin.list_orders"),
            (_l("Thanh toán chuyển khoản"), "orders_admin.list_payments"),
            (_l("Nhập sao kê ngân hàng"), "orders_admin.import_statement"),
            (_l("Đối soát với cửa hàng"), "orders_admin.ledger"),
        ]
    )
    complaint_views.init_app(app)  # the buyer's, the shop's and the operator's complaint pages
    user_logged_in.connect(_on_login, app)
    access.init_app(app)  # guest grants end whenever someone signs in or out
    _register_handlers(app)
    from . import notify

    notify.init_app(app)  # the checkout's and payment's mails are rendered by the worker
    # The listing page's buy box, on cached pages, posts without a CSRF token (marketplace/pagecache.py).
    tokenless_post(app, "orders.add_to_cart", "orders.buy_now")
    register_source(app, personal_data.SOURCE)  # orders, addresses, reviews in export and erasure
    register_handler(app, personal_data.PHOTOS_TOPIC, personal_data.forget_photos)  # erased photos' files
