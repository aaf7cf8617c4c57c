"""The operator's partner pages (/quan-tri/van-chuyen/…) and the shop's choice of carriers
(/kenh-ban/<shop>/don-vi-van-chuyen). Thin: the services do the work, one commit per request."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace.actions import run_action
from marketplace.errors import DomainError, Errors
from marketplace.extensions import db
from marketplace.forms import submitted_data
from marketplace.numbers import id_arg
from marketplace.permissions import operator_required
from orders.pricing import MAX_PARCEL_GRAMS
from sellers.models import Shop
from sellers.permissions import ShopPermission, shop_permission_required

from . import remittances, services, webhooks
from .events import floor_label
from .forms import CsrfForm, KeyForm, MappingForm, ParcelForm, PartnerForm, RemittanceImportForm
from .models import DELIVERY_STATES, Partner, Shipment, ShipmentEvent, WebhookDelivery

operator_bp = Blueprint("logistics_admin", __name__, url_prefix="/quan-tri/van-chuyen")
seller_bp = Blueprint("logistics_seller", __name__, url_prefix="/kenh-ban")


def _partner(slug: str) -> Partner:
    partner = db.session.scalar(select(Partner).where(Partner.slug == slug))
    if partner is None:
        abort(404)
    return partner


def _shown_once(partner: Partner, **values):
    """Keys and secrets are shown on the answer to the POST itself, never stored in the session."""
    return render_template("logistics/shown_once.html", partner=partner, values=values)


@operator_bp.route("/doi-tac", methods=["GET", "POST"])
@operator_required
def partners():
    form = PartnerForm()
    if form.validate_on_submit():
        data = submitted_data(form)
        try:
            partner, key, secret, token = services.create_partner(
                data.get("name", ""),
                actor=current_user,
                kind=data.get("kind") or "generic",
                slug=data.get("slug") or None,
                webhook_url=data.get("webhook_url"),
                shops=data.get("shops") or "all",
                api_base_url=data.get("api_base_url"),
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            for field, messages in exc.field_errors.items():
                target = getattr(form, field, None)
                if target is not None:
                    target.errors = list(messages)
            if not exc.field_errors:
                flash(exc.message, "error")
        else:
            callback = (
                url_for("logistics_api.carrier_callback", slug=partner.slug, token=token, _external=True)
                if token
                else None
            )
            return _shown_once(partner, key=key, secret=secret, callback=callback)
    attention = list(
        db.session.scalars(
            select(Shipment)
            .where(Shipment.attention.is_not(None))
            .order_by(Shipment.updated_at.desc())
            .limit(50)
        )
    )
    unknown = list(
        db.session.scalars(
            select(ShipmentEvent)
            .where(ShipmentEvent.unknown.is_(True))
            .order_by(ShipmentEvent.received_at.desc())
            .limit(50)
        )
    )
    return render_template(
        "logistics/partners.html",
        partners=services.partners(),
        form=form,
        attention=attention,
        unknown=unknown,
    )


@operator_bp.route("/doi-tac/<slug>", methods=["GET", "POST"])
@operator_required
def partner(slug: str):
    partner = _partner(slug)
    form = PartnerForm(obj=partner)
    if request.method == "GET":
        form.shops.data = (
            "all"
            if partner.all_shops
            else ",".join(
                db.session.scalars(select(Shop.slug).where(Shop.id.in_([s.shop_id for s in partner.shops])))
            )
        )
    saved = form.validate_on_submit() and run_action(
        lambda: services.update_partner(partner, submitted_data(form), actor=current_user), _("Đã lưu.")
    )
    if saved:
        return redirect(url_for(".partner", slug=partner.slug))
    mapping = MappingForm(
        mapping="\n".join(f"{k} = {v or ''}" for k, v in sorted((partner.status_map or {}).items()))
    )
    return render_template(
        "logistics/partner.html",
        partner=partner,
        form=form,
        key_form=KeyForm(),
        mapping_form=mapping,
        action_form=CsrfForm(),
        secrets=services.active_secrets(partner),
        floor_label=floor_label,
    )


@operator_bp.post("/doi-tac/<slug>/khoa")
@operator_required
def create_key(slug: str):
    partner = _partner(slug)
    form = KeyForm()
    if not form.validate_on_submit():
        abort(400)
    key = services.create_key(partner, form.name.data, actor=current_user)
    db.session.commit()
    return _shown_once(partner, key=key)


@operator_bp.post("/doi-tac/<slug>/khoa/<key_id>/thu-hoi")
@operator_required
def revoke_key(slug: str, key_id: str):
    partner = _partner(slug)
    if not CsrfForm().validate_on_submit():
        abort(400)
    if key_id not in {k.prefix for k in partner.keys}:
        abort(404)
    run_action(
        lambda: services.revoke_key(key_id, actor=current_user), _("Đã thu hồi khóa %(id)s.", id=key_id)
    )
    return redirect(url_for(".partner", slug=slug))


@operator_bp.post("/doi-tac/<slug>/bi-mat")
@operator_required
def rotate_secret(slug: str):
    partner = _partner(slug)
    if not CsrfForm().validate_on_submit():
        abort(400)
    secret = services.rotate_secret(partner, actor=current_user)
    db.session.commit()
    return _shown_once(partner, secret=secret)


@operator_bp.post("/doi-tac/<slug>/ma-goi-lai")
@operator_required
def rotate_token(slug: str):
    partner = _partner(slug)
    if not CsrfForm().validate_on_submit() or partner.kind == "generic":
        abort(400)
    token = services.rotate_callback_token(partner, actor=current_user)
    db.session.commit()
    callback = url_for("logistics_api.carrier_callback", slug=partner.slug, token=token, _external=True)
    return _shown_once(partner, callback=callback)


@operator_bp.post("/doi-tac/<slug>/bang-trang-thai")
@operator_required
def mapping(slug: str):
    partner = _partner(slug)
    form = MappingForm()
    if not form.validate_on_submit():
        abort(400)
    table: dict[str, str | None] = {}
    for line in (form.mapping.data or "").splitlines():
        if "=" in line:
            carrier, _sep, floor = line.partition("=")
            table[carrier.strip()] = floor.strip() or None
    run_action(
        lambda: services.update_mapping(partner, table, actor=current_user), _("Đã lưu bảng trạng thái.")
    )
    return redirect(url_for(".partner", slug=slug))


@operator_bp.post("/doi-tac/<slug>/bat-webhook")
@operator_required
def enable_webhooks(slug: str):
    partner = _partner(slug)
    if not CsrfForm().validate_on_submit():
        abort(400)
    run_action(lambda: services.enable_webhooks(partner, actor=current_user), _("Đã bật lại webhook."))
    return redirect(url_for(".partner", slug=slug))


@operator_bp.get("/doi-tac/<slug>/webhook")
@operator_required
def deliveries(slug: str):
    partner = _partner(slug)
    status = request.args.get("status") or None
    query = select(WebhookDelivery).where(WebhookDelivery.partner_id == partner.id)
    if status in DELIVERY_STATES:
        query = query.where(WebhookDelivery.status == status)
    rows = list(db.session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(200)))
    return render_template(
        "logistics/deliveries.html",
        partner=partner,
        rows=rows,
        status=status,
        form=CsrfForm(),
        states=DELIVERY_STATES,
    )


@operator_bp.post("/doi-tac/<slug>/webhook/<int:delivery_id>/gui-lai")
@operator_required
def redeliver(slug: str, delivery_id: int):
    partner = _partner(slug)
    if not CsrfForm().validate_on_submit():
        abort(400)
    row = db.session.get(WebhookDelivery, delivery_id)
    if row is None or row.partner_id != partner.id:
        abort(404)
    run_action(lambda: webhooks.redeliver(row), _("Đã xếp lịch gửi lại."))
    return redirect(url_for(".deliveries", slug=slug))


@operator_bp.post("/doi-tac/<slug>/webhook/gui-lai-tat-ca")
@operator_required
def redeliver_all(slug: str):
    partner = _partner(slug)
    if not CsrfForm().validate_on_submit():
        abort(400)
    run_action(lambda: webhooks.redeliver_all(partner), _("Đã xếp lịch gửi lại các webhook lỗi."))
    return redirect(url_for(".deliveries", slug=slug))


@operator_bp.route("/doi-soat", methods=["GET", "POST"])
@operator_required
def ledger():
    form = RemittanceImportForm()
    form.partner.choices = [(p.slug, p.name) for p in services.partners()]
    if form.validate_on_submit():
        partner = _partner(form.partner.data or "")
        upload = request.files.get("file")
        data = upload.read(5 * 1024 * 1024 + 1) if upload else b""
        from .carriers.remittance import RemittanceFormatError, parse_remittance_csv

        try:
            if not data or len(data) > 5 * 1024 * 1024:
                raise RemittanceFormatError(_("Vui lòng chọn tệp CSV (tối đa 5 MB)."))
            parsed = parse_remittance_csv(data, kind=partner.kind)
        except RemittanceFormatError as exc:
            flash(str(exc), "error")
        else:
            lines = [(line.order_code, line.amount_vnd) for line in parsed.lines]
            try:
                remittance, created = remittances.record(
                    partner, parsed.reference, parsed.transfer_date, lines
                )
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                flash(exc.message, "error")
            else:
                if created:
                    flash(_("Đã nhập đối soát %(ref)s.", ref=remittance.reference), "success")
                else:
                    flash(
                        _(
                            "Đối soát %(ref)s đã được nhập trước đó: không có gì thay đổi.",
                            ref=remittance.reference,
                        ),
                        "info",
                    )
                return redirect(url_for(".ledger"))
    partner_id = request.args.get("partner", type=id_arg)
    chosen = db.session.get(Partner, partner_id) if partner_id else None
    return render_template(
        "logistics/ledger.html",
        form=form,
        rows=remittances.ledger(chosen),
        mismatches=remittances.mismatches(chosen),
        labels=remittances.PROBLEM_LABELS,
        partners=services.partners(),
        chosen=chosen,
    )


@seller_bp.post("/<shop_slug>/don-hang/<code>/kien-hang")
@shop_permission_required(ShopPermission.HANDLE_ORDERS)
def change_parcel(shop: Shop, code: str):
    """The shop weighs the parcel again before pickup; the partner is told (order.updated)."""
    from orders.models import Order
    from orders.shipping import read_count

    order = db.session.scalar(select(Order).where(Order.code == code, Order.shop_id == shop.id))
    if order is None:
        abort(404)
    form = ParcelForm()
    if not form.validate_on_submit():
        abort(400)

    def change():
        errors = Errors()
        weight = read_count(
            errors, "weight_g", form.weight_g.data, required=True, minimum=1, maximum=MAX_PARCEL_GRAMS
        )
        errors.raise_if_any()
        services.change_parcel(order, int(weight or 0), form.size.data or None, actor=current_user)

    run_action(change, _("Đã cập nhật kiện hàng, đơn vị vận chuyển sẽ được báo."))
    return redirect(url_for("orders_seller.show_order", shop_slug=shop.slug, code=code))


@seller_bp.route("/<shop_slug>/don-vi-van-chuyen", methods=["GET", "POST"])
@shop_permission_required(ShopPermission.EDIT_SHIPPING)  # a setting of the shop, like its fees
def choose(shop: Shop):
    form = CsrfForm()
    serving = services.partners_serving(shop)
    if form.validate_on_submit():
        ids = [int(v) for v in request.form.getlist("partner") if v.isascii() and v.isdigit() and len(v) <= 9]
        default = request.form.get("default", "")
        default_id = int(default) if default.isascii() and default.isdigit() and len(default) <= 9 else None
        if run_action(
            lambda: services.set_shop_partners(shop, ids, default_id, actor=current_user),
            _("Đã lưu đơn vị vận chuyển."),
        ):
            return redirect(url_for(".choose", shop_slug=shop.slug))
    chosen = {r.partner_id: r.is_default for r in services.shop_partners(shop)}
    return render_template(
        "logistics/seller_choose.html", shop=shop, form=form, serving=serving, chosen=chosen
    )
