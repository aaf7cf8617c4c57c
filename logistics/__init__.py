"""logistics package: partners (carriers and generic partners), their keys and webhook secrets,
the order feed, shipment events in, outgoing webhooks, carrier bookings and COD reconciliation.
Joins the order flow through orders.hooks; wired in by init_app()."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from marketplace.config import env_int, env_str, set_defaults


def _configure(app: Flask) -> None:
    set_defaults(
        app,
        {
            # The floor's rule for every parcel: the buyer may open it before paying ("allow"), or not.
            "LOGISTICS_INSPECTION": env_str("LOGISTICS_INSPECTION", "allow"),
            # How long an old webhook secret keeps signing after a new one was made.
            "LOGISTICS_SECRET_ROTATION_HOURS": env_int("LOGISTICS_SECRET_ROTATION_HOURS", 72, minimum=0),
            "LOGISTICS_WEBHOOK_TIMEOUT_S": env_int("LOGISTICS_WEBHOOK_TIMEOUT_S", 10, minimum=1),
            # Tries of one webhook before it is dead (the outbox's backoff between them).
            "LOGISTICS_WEBHOOK_MAX_ATTEMPTS": env_int("LOGISTICS_WEBHOOK_MAX_ATTEMPTS", 8, minimum=1),
        },
    )


def _buyer_panels(order):
    from flask import render_template
    from markupsafe import Markup

    from . import events, feed

    rows = events.timeline(order)
    shipment = feed.shipment_of(order)
    if shipment is None:
        return []
    html = render_template(
        "logistics/_timeline.html",
        order=order,
        shipment=shipment,
        events=rows,
        tracking_url=_tracking_url,
        floor_status_label=events.floor_label,
    )
    return [Markup(html)]  # noqa: S704 - rendered by Jinja with autoescape


def _seller_panels(order):
    """The shop's view of the hand-over: partner, booking, tracking, events; the parcel can be
    weighed again until pickup (the partner gets order.updated)."""
    from flask import render_template
    from markupsafe import Markup

    from . import events, feed
    from .forms import ParcelForm

    shipment = feed.shipment_of(order)
    if shipment is None:
        return []
    form = ParcelForm(
        weight_g=str(shipment.weight_g),
        size=f"{shipment.length_cm}x{shipment.width_cm}x{shipment.height_cm}" if shipment.length_cm else "",
    )
    html = render_template(
        "logistics/_seller_shipment.html",
        order=order,
        shipment=shipment,
        events=events.timeline(order),
        form=form,
        tracking_url=_tracking_url,
        floor_status_label=events.floor_label,
    )
    return [Markup(html)]  # noqa: S704 - rendered by Jinja with autoescape


def _tracking_url(shipment) -> str | None:
    """The carrier's public tracking page for this parcel, when the carrier has one."""
    from urllib.parse import quote

    if not shipment.tracking_code:
        return None
    template = shipment.partner.tracking_url
    if not template and shipment.partner.kind != "generic":
        from .carriers import TRACKING_URLS

        template = TRACKING_URLS.get(shipment.partner.kind)
    return template.replace("{code}", quote(shipment.tracking_code)) if template else None


def init_app(app: Flask) -> None:
    from marketplace.api import add_openapi
    from marketplace.legal.personal_data import register_source
    from marketplace.outbox import declare_topics, register_handler
    from orders import hooks

    from . import booking, models, personal_data, services, webhooks  # noqa: F401 - tables in the metadata
    from .api import bp as api_bp
    from .cli import cli
    from .feed import WEBHOOK_TOPIC
    from .openapi import OPENAPI_PATHS, OPENAPI_SCHEMAS, SECURITY_SCHEMES
    from .views import operator_bp, seller_bp

    _configure(app)
    app.register_blueprint(api_bp)
    app.register_blueprint(operator_bp)
    app.register_blueprint(seller_bp)
    add_openapi(app, OPENAPI_PATHS, OPENAPI_SCHEMAS)
    app.extensions.setdefault("openapi_security_schemes", {}).update(SECURITY_SCHEMES)
    app.cli.add_command(cli)
    declare_topics(app, WEBHOOK_TOPIC, services.BOOK_TOPIC, services.CANCEL_BOOKING_TOPIC)
    register_handler(app, WEBHOOK_TOPIC, webhooks.deliver_handler)
    register_handler(app, services.BOOK_TOPIC, booking.book_handler)
    register_handler(app, services.CANCEL_BOOKING_TOPIC, booking.cancel_handler)
    hooks.register(app, "pack_choices", services.pack_choices)
    hooks.register(app, "packed", services.on_packed)
    hooks.register(app, "cancelled", services.on_cancelled)
    hooks.register(app, "buyer_panels", _buyer_panels)
    hooks.register(app, "seller_panels", _seller_panels)
    register_source(app, personal_data.SOURCE)  # tracking history in the export, webhook copies erased
    app.extensions.setdefault("operator_links", []).extend(
        [
            (_l("Đối tác vận chuyển"), "logistics_admin.partners"),
            (_l("Đối soát COD"), "logistics_admin.ledger"),
        ]
    )
    app.extensions.setdefault("seller_dashboard", []).append(_dashboard_panel)


def _dashboard_panel(shop) -> dict:
    from flask import url_for
    from flask_login import current_user

    from sellers.permissions import can_edit_shipping

    from . import services

    rows = services.shop_partners(shop)
    default = next((r.partner.name for r in rows if r.is_default), None)
    link = url_for("logistics_seller.choose", shop_slug=shop.slug)
    owner = can_edit_shipping(current_user, shop)  # the owner's setting, like the fees
    return {
        "title": _l("Đơn vị vận chuyển"),
        "items": [
            (
                _l("mặc định"),
                default or "—",
                link if owner else url_for("orders_seller.inbox", shop_slug=shop.slug),
            )
        ],
        "actions": [(_l("Chọn đơn vị vận chuyển"), link)] if owner else [],
    }
