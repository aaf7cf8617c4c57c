"""Complaint pages: the buyer's (/don-hang/<code>/khieu-nai…, for the buyer or the guest link
only, as every buyer page), the shop's answer (/kenh-ban/<shop>/don-hang/<code>/khieu-nai,
shop.handle_orders) and the operator's queue and decisions (/quan-tri/khieu-nai…). The
complaint itself shows on each party's page of the order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.actions import run_action, run_form
from marketplace.extensions import db
from marketplace.forms import submitted_data
from marketplace.images import image_dir, variants
from marketplace.numbers import page_arg
from marketplace.permissions import operator_required
from marketplace.timeutil import utcnow
from sellers.models import Shop
from sellers.permissions import ShopPermission, shop_permission_required

from . import complaint_states, complaints, payments
from .access import OrderAccess, order_access
from .complaint_states import OFFER_LABELS, REASON_LABELS
from .forms import ComplaintAnswerForm, ComplaintDecisionForm, ComplaintForm, ReasonForm
from .models import Complaint, ComplaintOffer, ComplaintStatus, Order
from .seller_views import _shop_order
from .views import _buyer_order, _user

C = ComplaintStatus
bp = Blueprint("complaints", __name__)
seller_bp = Blueprint("complaints_seller", __name__, url_prefix="/kenh-ban")
admin_bp = Blueprint("complaints_admin", __name__, url_prefix="/quan-tri")
PER_PAGE = 50


@dataclass(frozen=True)
class ComplaintView:
    """What a page of an order shows about complaints."""

    complaint: Complaint | None
    can_open: bool
    deadline: datetime | None  # until when one may be opened (after delivery)
    can_escalate: bool
    refundable: int


def complaint_view(order: Order) -> ComplaintView:
    complaint = complaints.complaint_of(order)
    return ComplaintView(
        complaint=complaint,
        can_open=complaint is None and bool(complaints.reasons_open(order)),
        deadline=complaints.complaint_deadline(order),
        can_escalate=complaint is not None and complaints.can_escalate(complaint),
        refundable=payments.refundable(order),
    )


def orders_with_open_complaints(orders: list[Order]) -> set[int]:
    ids = [o.id for o in orders]
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(Complaint.order_id).where(
                Complaint.order_id.in_(ids), Complaint.status.in_(complaint_states.UNRESOLVED)
            )
        )
    )


def _template_helpers() -> dict:
    return {
        "complaint_view": complaint_view,
        "orders_with_open_complaints": orders_with_open_complaints,
        "complaint_status_label": complaint_states.label,
        "complaint_reason_label": lambda r: str(REASON_LABELS.get(r, r)),
        "complaint_offer_label": lambda o: str(OFFER_LABELS.get(o, o)),
        "complaint_action_label": lambda a: str(complaint_states.ACTION_LABELS.get(a, a)),
        "complaint_role_label": lambda r: str(complaint_states.ROLE_LABELS.get(r, r)),
    }


def _uploads(field) -> list[bytes]:
    return [f.read() for f in (field.data or []) if getattr(f, "filename", "")]


def _order_page(order: Order) -> str:
    return url_for("orders.show_order", code=order.code) + "#khieu-nai"


# --- the buyer --------------------------------------------------------------------------------


@bp.route("/don-hang/<code>/khieu-nai", methods=["GET", "POST"])
def open_complaint(code: str):
    order = _buyer_order(code, page=request.method == "GET")
    if complaints.complaint_of(order) is not None:
        return redirect(_order_page(order))
    reasons = complaints.reasons_open(order)
    if not reasons:
        flash(complaints.opening_refusal(order) or _("Không thể khiếu nại đơn này."), "error")
        return redirect(url_for("orders.show_order", code=order.code))
    form = ComplaintForm()
    form.reason.choices = [(r, str(REASON_LABELS[r])) for r in reasons]
    if request.method == "GET" and len(reasons) == 1:
        form.reason.data = reasons[0]
    try:
        done = run_form(
            form,
            lambda: complaints.open_complaint(
                order, submitted_data(form), _uploads(form.photos), actor=_user()
            ),
            _("Đã gửi khiếu nại. Cửa hàng sẽ trả lời bạn qua trang đơn hàng."),
            refusals="",
        )
    except IntegrityError:  # the same complaint sent twice at once: the other request opened it
        db.session.rollback()
        return redirect(_order_page(order))
    if done:
        return redirect(_order_page(order))
    return render_template(
        "orders/complaint_new.html",
        order=order,
        form=form,
        deadline=complaints.complaint_deadline(order),
    ), (422 if form.errors or form.form_errors else 200)


def _buyer_complaint(code: str) -> tuple[Order, Complaint]:
    order = _buyer_order(code, page=False)
    complaint = complaints.complaint_of(order)
    if complaint is None:
        abort(404)
    return order, complaint


@bp.post("/don-hang/<code>/khieu-nai/dong-y")
def accept_offer(code: str):
    order, complaint = _buyer_complaint(code)
    if not ReasonForm().validate_on_submit():
        abort(400)
    run_action(
        lambda: complaints.accept_offer(complaint, actor=_user()),
        _("Đã ghi nhận bạn đồng ý với cách giải quyết của cửa hàng."),
    )
    return redirect(_order_page(order))


@bp.post("/don-hang/<code>/khieu-nai/de-nghi-san")
def escalate(code: str):
    order, complaint = _buyer_complaint(code)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    run_action(
        lambda: complaints.escalate(complaint, {"note": form.reason.data}, actor=_user()),
        _("Đã chuyển khiếu nại tới ban quản lý sàn. Sàn sẽ xem xét và quyết định."),
    )
    return redirect(_order_page(order))


# --- the photos -------------------------------------------------------------------------------


@bp.get("/don-hang/<code>/khieu-nai/anh/<int:number>/<variant>")
def photo(code: str, number: int, variant: str):
    """A complaint's photo (the `number`th, one of its sizes) for whoever may see the complaint:
    the buyer or the guest link's holder, the shop's members who handle orders, the operator.
    The files live in the private store, never under /media; nobody else learns they exist (404),
    and no shared cache keeps them."""
    if variant not in variants():
        abort(404)
    order = db.session.scalar(select(Order).where(Order.code == code))
    if order is None or order_access(_user(), order) is OrderAccess.NONE:
        abort(404)
    complaint = complaints.complaint_of(order)
    keys = list(complaint.photo_keys or []) if complaint is not None else []
    if not 1 <= number <= len(keys):
        abort(404)
    response = send_from_directory(image_dir(keys[number - 1], private=True), variant)
    response.cache_control.public = False
    response.cache_control.private = True
    response.cache_control.max_age = 300
    response.expires = None
    return response


# --- the shop ---------------------------------------------------------------------------------


@seller_bp.post("/<shop_slug>/don-hang/<code>/khieu-nai")
@shop_permission_required(ShopPermission.HANDLE_ORDERS)
def answer_complaint(shop: Shop, code: str):
    order = _shop_order(shop, code)
    complaint = complaints.complaint_of(order)
    if complaint is None:
        abort(404)
    form = ComplaintAnswerForm()
    if not form.validate_on_submit():
        abort(400)
    data = submitted_data(form)
    run_action(
        lambda: complaints.answer_complaint(complaint, data, actor=current_user),
        _("Đã gửi câu trả lời cho người mua."),
    )
    return redirect(url_for("orders_seller.show_order", shop_slug=shop.slug, code=order.code) + "#khieu-nai")


# --- the operator -----------------------------------------------------------------------------

QUEUES = {
    "operator": complaint_states.FOR_OPERATOR,
    "shop": frozenset({C.OPEN.value}),
    "buyer": frozenset({C.ANSWERED.value}),
    "resolved": frozenset(complaint_states.TRANSITIONS) - complaint_states.UNRESOLVED,
    "all": frozenset(complaint_states.TRANSITIONS),
}


@admin_bp.get("/khieu-nai")
@operator_required
def queue():
    view = request.args.get("view", "operator")
    if view not in QUEUES:
        view = "operator"
    now = utcnow()
    # The floor's queue: escalated, refunds to send, and those whose shop or buyer let time pass.
    where = complaints.for_operator(now) if view == "operator" else Complaint.status.in_(QUEUES[view])
    query = select(Complaint).where(where).order_by(Complaint.updated_at.desc(), Complaint.id.desc())
    pagination = db.paginate(query, page=page_arg(request.args), per_page=PER_PAGE, error_out=False)
    return render_template("orders/operator_complaints.html", pagination=pagination, view=view, now=now)


def _complaint(code: str) -> Complaint:
    complaint = db.session.scalar(select(Complaint).join(Order).where(Order.code == code))
    if complaint is None:
        abort(404)
    return complaint


def _decision_form(complaint: Complaint) -> ComplaintDecisionForm:
    form = ComplaintDecisionForm()
    form.decision.choices = [
        ("refund", _("Hoàn tiền cho người mua")),
        ("reject", _("Không chấp nhận khiếu nại")),
    ]
    return form


def _show(complaint: Complaint, form: ComplaintDecisionForm, status: int = 200):
    return render_template(
        "orders/operator_complaint.html",
        complaint=complaint,
        order=complaint.order,
        form=form,
        refundable=payments.refundable(complaint.order),
        offer_refund=ComplaintOffer.REFUND.value,
        can_decide=complaints.can_decide(complaint),
    ), status


@admin_bp.get("/khieu-nai/<code>")
@operator_required
def show_complaint(code: str):
    complaint = _complaint(code)
    return _show(complaint, _decision_form(complaint))


@admin_bp.post("/khieu-nai/<code>/quyet-dinh")
@operator_required
def decide(code: str):
    return _operator_step(
        code, complaints.decide, _("Đã ghi nhận quyết định cho khiếu nại đơn %(code)s.", code=code)
    )


@admin_bp.post("/khieu-nai/<code>/da-hoan-tien")
@operator_required
def record_refund(code: str):
    return _operator_step(
        code, complaints.record_refund, _("Đã ghi nhận hoàn tiền cho khiếu nại đơn %(code)s.", code=code)
    )


def _operator_step(code: str, service: Callable[..., object], done_message: str):
    """An operator's form on the complaint page: the service, then back to the page (or the
    page again with the form's problems)."""
    complaint = _complaint(code)
    form = _decision_form(complaint)
    done = run_form(
        form,
        lambda: service(complaint, submitted_data(form), actor=current_user),
        done_message,
        refusals="",
    )
    if done:
        return redirect(url_for("complaints_admin.show_complaint", code=code))
    return _show(_complaint(code), form, 422)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(seller_bp)
    app.register_blueprint(admin_bp)
    app.context_processor(_template_helpers)
    app.extensions.setdefault("operator_links", []).append(
        (complaints.QueueLabel(), "complaints_admin.queue")
    )
