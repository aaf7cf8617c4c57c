"""The operator's pages (/quan-tri/…): all orders with filters and CSV export, cancellations
and refunds, bank-transfer payments and statement import, the settlement ledger per shop."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from marketplace.actions import run_action, run_form
from marketplace.cleantext import single_line
from marketplace.csv_writer import csv_response
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.i18n import short_datetime
from marketplace.numbers import id_arg, page_arg
from marketplace.permissions import operator_required
from sellers.models import Shop

from . import bank, payments, services, settlement, states
from .forms import ActionForm, PayoutForm, ReasonForm, RefundForm, StatementForm
from .models import LedgerEntry, Order, OrderStatus, Payment, PaymentMethod, PaymentStatus

bp = Blueprint("orders_admin", __name__, url_prefix="/quan-tri")
PER_PAGE = 50


def _local_midnight_utc(day: date) -> datetime:
    """Dates in filters are the operator's local dates; the database stores naive UTC."""
    tz = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Ho_Chi_Minh"))
    return datetime.combine(day, time.min, tz).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def _parse_day(raw: str | None) -> date | None:
    raw = (raw or "").strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return None


def _filters() -> dict:
    args = request.args
    shop_id = args.get("shop", type=id_arg)
    return {
        "status": args.get("status") if args.get("status") in states.LABELS else "",
        "shop": shop_id or "",
        "method": args.get("method") if args.get("method") in states.METHOD_LABELS else "",
        "date_from": _parse_day(args.get("date_from")),
        "date_to": _parse_day(args.get("date_to")),
        "q": (args.get("q") or "").strip(),
    }


def _orders_query(f: dict):
    query = select(Order).order_by(Order.created_at.desc(), Order.id.desc())
    if f["status"]:
        query = query.where(Order.status == f["status"])
    if f["shop"]:
        query = query.where(Order.shop_id == f["shop"])
    if f["method"]:
        query = query.where(Order.payment_method == f["method"])
    if f["date_from"]:
        query = query.where(Order.created_at >= _local_midnight_utc(f["date_from"]))
    if f["date_to"]:
        query = query.where(Order.created_at < _local_midnight_utc(f["date_to"] + timedelta(days=1)))
    if f["q"]:
        like = f"%{f['q']}%"
        query = query.where(
            or_(
                Order.code.ilike(like),
                Order.receiver_phone.ilike(like),
                Order.email.ilike(like),
                Order.receiver_name.ilike(like),
            )
        )
    return query


def _shops() -> list[Shop]:
    return list(db.session.scalars(select(Shop).order_by(Shop.name)))


@bp.get("/don-hang")
@operator_required
def list_orders():
    f = _filters()
    pagination = db.paginate(
        _orders_query(f), page=page_arg(request.args), per_page=PER_PAGE, error_out=False
    )
    args = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in f.items() if v}
    return render_template(
        "orders/operator_orders.html",
        pagination=pagination,
        f=f,
        args=args,
        shops=_shops(),
    )


CSV_COLUMNS = [
    "code",
    "created_at",
    "shop",
    "status",
    "payment_method",
    "paid",
    "subtotal_vnd",
    "shipping_vnd",
    "total_vnd",
    "receiver_name",
    "receiver_phone",
    "address",
    "commune",
    "province",
    "carrier",
    "tracking_number",
    "payment_code",
]


@bp.get("/don-hang.csv")
@operator_required
def export_orders():
    f = _filters()

    def rows():
        for order in db.session.scalars(_orders_query(f).execution_options(yield_per=500)):
            yield [
                order.code,
                short_datetime(order.created_at),
                order.shop.name,
                order.status,
                order.payment_method,
                "1" if order.paid else "0",
                order.subtotal_vnd,
                order.shipping_vnd,
                order.total_vnd,
                order.receiver_name,
                order.receiver_phone,
                order.address_line,
                order.commune_name,
                order.province,
                order.carrier or "",
                order.tracking_number or "",
                order.payment.code,
            ]

    return csv_response("don-hang.csv", CSV_COLUMNS, rows)


def _order(code: str) -> Order:
    order = db.session.scalar(select(Order).where(Order.code == code))
    if order is None:
        abort(404)
    return order


@bp.get("/don-hang/<code>")
@operator_required
def show_order(code: str):
    order = _order(code)
    return render_template(
        "orders/operator_order.html",
        order=order,
        reason_form=ReasonForm(),
        refund_form=RefundForm(),
        form=ActionForm(),
        can_refund=order.paid and states.can_transition(order.status, OrderStatus.REFUNDED.value),
        can_cancel=order.status in states.HOLDS_STOCK,
        can_deliver=order.status == OrderStatus.SHIPPED.value,
        can_complete=order.status == OrderStatus.DELIVERED.value,
    )


@bp.post("/don-hang/<code>/huy")
@operator_required
def cancel_order(code: str):
    order = _order(code)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    reason = (form.reason.data or "").strip()

    def action():
        if not reason:
            raise DomainError(_("Vui lòng nhập lý do hủy đơn."))
        services.cancel_order(order, reason=reason, actor=current_user, actor_role="operator")

    run_action(action, _("Đã hủy đơn %(code)s.", code=order.code))
    return redirect(url_for("orders_admin.show_order", code=code))


@bp.post("/don-hang/<code>/da-giao")
@operator_required
def deliver_order(code: str):
    """The operator records a delivery the shop or carrier did not (the event names the operator)."""
    order = _order(code)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    run_action(
        lambda: services.operator_deliver(order, actor=current_user, note=form.reason.data),
        _("Đã ghi nhận giao thành công đơn %(code)s.", code=order.code),
    )
    return redirect(url_for("orders_admin.show_order", code=code))


@bp.post("/don-hang/<code>/hoan-tat")
@operator_required
def complete_order(code: str):
    """The operator closes a delivered order (the buyer's own "received" is theirs alone)."""
    order = _order(code)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    run_action(
        lambda: services.operator_complete(order, actor=current_user, note=form.reason.data),
        _("Đã hoàn tất đơn %(code)s.", code=order.code),
    )
    return redirect(url_for("orders_admin.show_order", code=code))


@bp.post("/don-hang/<code>/hoan-tien")
@operator_required
def refund_order(code: str):
    order = _order(code)
    form = RefundForm()
    if not form.validate_on_submit():
        abort(400)

    def action():
        payments.operator_refund(
            order,
            actor=current_user,
            reference=form.reference.data,
            note=(form.note.data or "").strip() or None,
        )

    run_action(action, _("Đã ghi nhận hoàn tiền đơn %(code)s.", code=order.code))
    return redirect(url_for("orders_admin.show_order", code=code))


# --- payments and bank statements -------------------------------------------------------------


@bp.get("/thanh-toan")
@operator_required
def list_payments():
    view = request.args.get("view", "transfers")
    query = select(Payment).order_by(Payment.created_at.desc(), Payment.id.desc()).limit(300)
    if view == "problems":
        query = query.where(Payment.problem.is_not(None))
    elif view == "refund_due":
        # Paid by transfer, then cancelled: the operator owes the buyer a transfer back.
        query = (
            query.join(Order, Order.payment_id == Payment.id)
            .where(
                Order.status == OrderStatus.CANCELLED.value,
                Order.paid.is_(True),
                Order.payment_method == PaymentMethod.BANK_TRANSFER.value,
            )
            .distinct()
        )
    elif view == "all":
        pass
    else:
        view = "transfers"
        query = query.where(
            Payment.method == PaymentMethod.BANK_TRANSFER.value, Payment.status == PaymentStatus.PENDING.value
        )
    return render_template(
        "orders/operator_payments.html",
        payments=db.session.scalars(query).unique().all(),
        view=view,
        form=ActionForm(),
    )


@bp.post("/thanh-toan/<code>/xac-nhan")
@operator_required
def confirm_transfer(code: str):
    payment = db.session.scalar(select(Payment).where(Payment.code == code))
    if payment is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    run_action(
        lambda: payments.confirm_transfer(
            payment,
            actor=current_user,
            reference=single_line(request.form.get("reference") or "").strip() or None,
        ),
        _("Đã xác nhận thanh toán %(code)s. Đơn hàng đã được gửi tới cửa hàng.", code=code),
    )
    return redirect(url_for("orders_admin.list_payments"))


@bp.route("/sao-ke", methods=["GET", "POST"])
@operator_required
def import_statement():
    form = StatementForm()

    def read_and_import() -> bank.Report:
        upload = form.statement.data
        raw = upload.read() if upload and getattr(upload, "filename", "") else b""
        if not raw:
            raise DomainError(_("Vui lòng chọn tệp sao kê CSV."))
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1258", errors="replace")
        return bank.import_statement(text, actor=current_user)

    done = run_form(form, read_and_import, refusals="statement")
    report = done.result if done else None
    if report is not None:
        flash(
            _(
                "Đã nhập sao kê: %(m)d khớp, %(u)d không khớp, %(d)d đã nhập trước đó.",
                m=len(report.matched),
                u=len(report.unmatched),
                d=report.duplicates,
            ),
            "success",
        )
    return render_template(
        "orders/operator_statement.html", form=form, report=report, outcome_labels=bank.OUTCOME_LABELS
    )


# --- the settlement ledger --------------------------------------------------------------------


@bp.get("/doi-soat")
@operator_required
def ledger():
    shop_id = request.args.get("shop", type=id_arg)
    query = select(LedgerEntry).order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()).limit(300)
    if shop_id:
        query = query.where(LedgerEntry.shop_id == shop_id)
    return render_template(
        "orders/operator_ledger.html",
        balances=payments.balances(),
        return_window_days=int(current_app.config["ORDER_RETURN_WINDOW_DAYS"]),
        entries=db.session.scalars(query).all(),
        shop_id=shop_id,
        shops=_shops(),
        payout_form=PayoutForm(),
    )


@bp.post("/doi-soat/chi-tra")
@operator_required
def record_payout():
    form = PayoutForm()
    if not form.validate_on_submit():
        abort(400)
    shop = db.session.get(Shop, request.form.get("shop_id", type=id_arg) or 0)
    if shop is None:
        abort(404)

    def action():
        payments.record_payout(
            shop,
            {"amount_vnd": form.amount_vnd.data, "reference": form.reference.data, "note": form.note.data},
            actor=current_user,
        )

    run_action(action, _("Đã ghi nhận chi trả cho %(name)s.", name=shop.name))
    return redirect(url_for("orders_admin.ledger", shop=shop.id))


@bp.get("/doi-soat.csv")
@operator_required
def export_ledger():
    shop_id = request.args.get("shop", type=id_arg)
    held, delivered = settlement.entry_columns()
    query = (
        select(LedgerEntry, held, delivered)
        .outerjoin(Order, Order.id == LedgerEntry.order_id)
        .order_by(LedgerEntry.id)
    )
    if shop_id:
        query = query.where(LedgerEntry.shop_id == shop_id)
    window = settlement.return_window()

    def rows():
        # held: 1 while the floor still holds the order's money (not delivered, in the return
        # window, or under complaint); payable_from: the end of the order's return window.
        for entry, is_held, delivered_at in db.session.execute(query.execution_options(yield_per=500)):
            yield [
                entry.id,
                short_datetime(entry.created_at),
                entry.shop.name,
                entry.kind,
                entry.amount_vnd,
                entry.order.code if entry.order else "",
                entry.reference or "",
                entry.note or "",
                "" if entry.order_id is None else int(is_held),
                short_datetime(delivered_at + window) if entry.order_id and delivered_at else "",
            ]

    return csv_response(
        "doi-soat.csv",
        [
            "id",
            "created_at",
            "shop",
            "kind",
            "amount_vnd",
            "order",
            "reference",
            "note",
            "held",
            "payable_from",
        ],
        rows,
    )
