"""The shop's order inbox (/kenh-ban/<shop>/don-hang), its actions, packing slips, and the
shop's shipping fee rule (/kenh-ban/<shop>/van-chuyen)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, func, or_, select

from marketplace.actions import run_action, run_form
from marketplace.addresses import neighbours_of
from marketplace.extensions import db
from marketplace.forms import submitted_data
from marketplace.timeutil import utcnow
from sellers.models import Shop
from sellers.permissions import ShopPermission, shop_permission_required

from . import hooks, pricing, services, vietqr
from . import shipping as shipping_rules
from .forms import ActionForm, DeliverForm, PackForm, ReasonForm, ShipForm, ShippingRuleForm
from .models import Order, OrderStatus, ShippingRule
from .pricing import ZONES, Zone
from .settlement import unresolved_complaint

S = OrderStatus
bp = Blueprint("orders_seller", __name__, url_prefix="/kenh-ban")

LATE_CONFIRM = timedelta(hours=48)
LATE_DELIVERY = timedelta(days=7)
RECENT = timedelta(days=30)  # cancellations and refunds stay under "needs attention" this long


def tab_filters() -> dict:
    now = utcnow()
    return {
        "new": and_(Order.status == S.PLACED.value, Order.shop_seen_at.is_(None)),
        "to_confirm": Order.status == S.PLACED.value,
        "to_pack": Order.status == S.CONFIRMED.value,
        "to_ship": Order.status == S.PACKED.value,
        "shipping": Order.status == S.SHIPPED.value,
        "delivered": Order.status.in_([S.DELIVERED.value, S.COMPLETED.value]),
        "problems": or_(
            and_(Order.status.in_([S.CANCELLED.value, S.REFUNDED.value]), Order.updated_at > now - RECENT),
            and_(Order.status == S.PLACED.value, Order.created_at < now - LATE_CONFIRM),
            and_(Order.status == S.SHIPPED.value, Order.updated_at < now - LATE_DELIVERY),
            unresolved_complaint(),
        ),
        "all": None,
    }


TAB_LABELS = {
    "new": _l("Mới"),
    "to_confirm": _l("Chờ xác nhận"),
    "to_pack": _l("Chờ đóng gói"),
    "to_ship": _l("Chờ giao vận chuyển"),
    "shipping": _l("Đang giao"),
    "delivered": _l("Đã giao"),
    "problems": _l("Cần xử lý"),
    "all": _l("Tất cả"),
}


def tab_counts(shop: Shop) -> dict[str, int]:
    counts = {}
    for name, condition in tab_filters().items():
        query = select(func.count()).select_from(Order).where(Order.shop_id == shop.id)
        if condition is not None:
            query = query.where(condition)
        counts[name] = db.session.scalar(query) or 0
    return counts


@bp.get("/<shop_slug>/don-hang")
@shop_permission_required(ShopPermission.HANDLE_ORDERS)
def inbox(shop: Shop):
    tab = request.args.get("tab", "to_confirm")
    filters = tab_filters()
    if tab not in filters:
        tab = "to_confirm"
    query = select(Order).where(Order.shop_id == shop.id).order_by(Order.created_at.desc(), Order.id.desc())
    if filters[tab] is not None:
        query = query.where(filters[tab])
    q = (request.args.get("q") or "").strip()
    if q:
        query = query.where(
            or_(
                Order.code.ilike(f"%{q}%"),
                Order.receiver_phone.ilike(f"%{q}%"),
                Order.receiver_name.ilike(f"%{q}%"),
            )
        )
    orders = db.session.scalars(query.limit(300)).all()
    return render_template(
        "orders/seller_inbox.html",
        shop=shop,
        orders=orders,
        tab=tab,
        q=q,
        counts=tab_counts(shop),
        labels=TAB_LABELS,
    )


def _shop_order(shop: Shop, code: str) -> Order:
    order = db.session.scalar(select(Order).where(Order.code == code, Order.shop_id == shop.id))
    if order is None:
        abort(404)
    return order


@bp.get("/<shop_slug>/don-hang/<code>")
@shop_permission_required(ShopPermission.HANDLE_ORDERS)
def show_order(shop: Shop, code: str):
    order = _shop_order(shop, code)
    if order.shop_seen_at is None and order.status == S.PLACED.value:
        services.mark_seen(order)
        db.session.commit()
    pack = PackForm(
        parcel_weight_grams=order.parcel_weight_grams or order.weight_grams or None,
        parcel_size=order.parcel_size,
    )
    pack.partner.choices = hooks.collect("pack_choices", shop)
    return render_template(
        "orders/seller_order.html",
        shop=shop,
        order=order,
        form=ActionForm(),
        reason_form=ReasonForm(),
        pack_form=pack,
        ship_form=ShipForm(),
        deliver_form=DeliverForm(),
    )


@bp.post("/<shop_slug>/don-hang/<code>/<action>")
@shop_permission_required(ShopPermission.HANDLE_ORDERS)
def act(shop: Shop, code: str, action: str):
    order = _shop_order(shop, code)
    forms = {
        "confirm": ActionForm,
        "reject": ReasonForm,
        "pack": PackForm,
        "ship": ShipForm,
        "deliver": DeliverForm,
    }
    if action not in forms:
        abort(404)
    form = forms[action]()
    if not form.validate_on_submit():
        if isinstance(form, DeliverForm) and form.is_submitted() and not form.errors.get("csrf_token"):
            # Not ticked (a browser without `required`, a hand-made request): ask again, change nothing.
            flash(_("Hãy đánh dấu xác nhận người mua đã nhận hàng."), "error")
            return redirect(url_for("orders_seller.show_order", shop_slug=shop.slug, code=order.code))
        abort(400)
    data = submitted_data(form)
    done = {
        "confirm": _("Đã xác nhận đơn %(code)s."),
        "reject": _("Đã từ chối đơn %(code)s. Hàng đã được trả lại kho."),
        "pack": _("Đã ghi nhận đóng gói đơn %(code)s."),
        "ship": _("Đã ghi nhận giao đơn %(code)s cho đơn vị vận chuyển."),
        "deliver": _("Đã ghi nhận giao thành công đơn %(code)s."),
    }

    steps = {
        "confirm": lambda: services.confirm_order(order, actor=current_user),
        "reject": lambda: services.reject_order(order, data.get("reason", ""), actor=current_user),
        "pack": lambda: services.pack_order(order, data, actor=current_user),
        "ship": lambda: services.ship_order(order, data, actor=current_user),
        "deliver": lambda: services.deliver_order(order, actor=current_user),
    }
    run_action(steps[action], done[action] % {"code": order.code})
    return redirect(url_for("orders_seller.show_order", shop_slug=shop.slug, code=order.code))


@bp.get("/<shop_slug>/don-hang/<code>/phieu-dong-goi")
@shop_permission_required(ShopPermission.HANDLE_ORDERS)
def packing_slip(shop: Shop, code: str):
    order = _shop_order(shop, code)
    qr = vietqr.svg(order.code, scale=3, title=order.code)  # the carrier can scan the order code
    paper = "a5" if request.args.get("kho") == "a5" else "a6"  # A6 labels by default; A5 on request
    return render_template("orders/packing_slip.html", shop=shop, order=order, qr=qr, paper=paper)


@bp.route("/<shop_slug>/van-chuyen", methods=["GET", "POST"])
@shop_permission_required(ShopPermission.EDIT_SHIPPING)
def shipping(shop: Shop):
    """The shop's fees per zone: its province, the neighbouring provinces, the rest of the country."""
    row = db.session.get(ShippingRule, shop.id)
    rule = shipping_rules.rule_for(shop)
    form = ShippingRuleForm()
    data = dict(request.form.items())
    outcome = run_form(
        form,
        lambda: shipping_rules.save_shipping_rule(shop, data, actor=current_user),
        _("Đã lưu phí vận chuyển."),
    )
    if outcome:
        return redirect(url_for("orders_seller.shipping", shop_slug=shop.slug))
    errors = outcome.errors  # shown beside their inputs, with what was typed
    zones = []
    for zone in ZONES:
        current = rule.for_zone(zone)
        p = f"{zone.value}_"
        if errors:
            values = {
                "ships": zone is Zone.PROVINCE or bool(data.get(f"{p}ships")),
                "flat_fee_vnd": data.get(f"{p}flat_fee_vnd", ""),
                "free_over_vnd": data.get(f"{p}free_over_vnd", ""),
                "tiers": [
                    [data.get(f"{p}tier_grams_{i}", ""), data.get(f"{p}tier_fee_{i}", "")]
                    for i in range(shipping_rules.TIERS_PER_ZONE)
                ],
            }
        else:
            tiers = [list(t) for t in sorted(current.tiers)]
            values = {
                "ships": rule.ships_to(zone),
                "flat_fee_vnd": str(current.flat_fee_vnd),
                "free_over_vnd": "" if current.free_over_vnd is None else str(current.free_over_vnd),
                "tiers": tiers + [["", ""]] * (shipping_rules.TIERS_PER_ZONE - len(tiers)),
            }
        examples = [
            (w, s, pricing.shipping_fee(current, s, w)[0])
            for w, s in ((500, 100_000), (3_000, 200_000), (12_000, 400_000), (1_000, 600_000))
        ]
        zones.append({"zone": zone.value, "prefix": p, "fields": values, "examples": examples})
    return render_template(
        "orders/seller_shipping.html",
        shop=shop,
        form=form,
        zones=zones,
        errors=errors,
        custom=row is not None,
        neighbours=neighbours_of(shop.province),
    )
