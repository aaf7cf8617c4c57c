"""Money moving: a payment received, expired or cancelled; refunds; the settlement ledger.

A payment's status changes by a conditional UPDATE on its current status, so a webhook, a
bank-statement import, the operator and the expiry job can race without double effects:
exactly one of them wins, the others see rowcount 0 and act on what did happen."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from marketplace import money, outbox
from marketplace.errors import Conflict, DomainError, Errors, Forbidden
from marketplace.extensions import db, rows_matched
from marketplace.models import User
from marketplace.numbers import NumberError
from marketplace.permissions import is_operator
from marketplace.timeutil import utcnow
from sellers.models import Shop

from . import notify, states
from .models import LedgerEntry, LedgerKind, Order, OrderStatus, Payment, PaymentMethod, PaymentStatus

S = OrderStatus


def _set_status(payment: Payment, expected: str, target: str, **values) -> bool:
    result = db.session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status == expected)
        .values(status=target, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(payment)
    return rows_matched(result) == 1


def mark_paid(payment: Payment, *, actor: User | None, actor_role: str, reference: str | None = None) -> bool:
    """The buyer's money arrived: every order of the checkout goes to its shop. Returns False
    (and changes nothing) if the payment was not pending."""
    if not _set_status(
        payment,
        PaymentStatus.PENDING.value,
        PaymentStatus.PAID.value,
        paid_at=utcnow(),
        paid_reference=reference,
    ):
        return False
    note = _("Đã nhận thanh toán (%(ref)s).", ref=reference) if reference else _("Đã nhận thanh toán.")
    for order in payment.orders:
        if order.status != S.PENDING_PAYMENT.value:
            continue
        states.transition(order, S.PLACED.value, actor=actor, actor_role=actor_role, note=note, paid=True)
        _ledger(order, LedgerKind.COLLECTED, order.total_vnd, reference=reference, actor=actor)
        notify.shop_new_order(order)
    notify.payment_received(payment)
    return True


def confirm_transfer(payment: Payment, *, actor: User, reference: str | None = None) -> None:
    """The operator saw the transfer on the floor's account."""
    if not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn được xác nhận chuyển khoản."))
    if payment.method != PaymentMethod.BANK_TRANSFER.value:
        raise Conflict(_("Thanh toán %(code)s không phải chuyển khoản.", code=payment.code))
    if not mark_paid(
        payment, actor=actor, actor_role="operator", reference=reference or _("xác nhận thủ công")
    ):
        raise Conflict(
            _(
                "Thanh toán %(code)s không còn chờ xác nhận (trạng thái: %(s)s).",
                code=payment.code,
                s=payment.status,
            )
        )


def _close_unpaid(payment: Payment, target: str, *, reason: str, actor: User | None, actor_role: str) -> bool:
    if not _set_status(payment, PaymentStatus.PENDING.value, target):
        return False
    from .services import release_stock

    for order in payment.orders:
        if order.status != S.PENDING_PAYMENT.value:
            continue
        states.transition(
            order, S.CANCELLED.value, actor=actor, actor_role=actor_role, note=reason, cancel_reason=reason
        )
        release_stock(order)
        notify.status_changed(order, reason=reason)
    if payment.method == PaymentMethod.CARD.value and payment.stripe_payment_intent_id:
        outbox.record(
            "payment.stripe_cancel", {"payment_id": payment.id}, key=f"stripe-cancel:{payment.code}"
        )
    return True


def cancel_payment(payment: Payment, *, reason: str | None, actor: User | None, actor_role: str) -> None:
    if not _close_unpaid(
        payment,
        PaymentStatus.CANCELLED.value,
        reason=reason or _("Người mua hủy đơn."),
        actor=actor,
        actor_role=actor_role,
    ):
        raise Conflict(
            _("Đơn %(code)s vừa được thanh toán hoặc đã hủy. Vui lòng tải lại trang.", code=payment.code)
        )


def expire_payment(payment_id: int) -> bool:
    """The `order.expire` handler: cancel an unpaid checkout at its deadline and release its stock.
    Idempotent: a paid, cancelled or already expired payment is left alone."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.status != PaymentStatus.PENDING.value:
        return False
    if payment.expires_at is not None and payment.expires_at > utcnow():
        from marketplace.outbox import RetryLater

        raise RetryLater("not due yet", (payment.expires_at - utcnow()).total_seconds() + 1)
    return _close_unpaid(
        payment, PaymentStatus.EXPIRED.value, reason=_("Quá hạn thanh toán."), actor=None, actor_role="system"
    )


def refund_order(
    order: Order,
    *,
    actor: User | None,
    actor_role: str,
    reference: str | None = None,
    note: str | None = None,
    via_api: bool = True,
) -> Order:
    """Give the buyer's money back. Card: through Stripe by the worker (idempotency key per order).
    Bank transfer and COD: the operator has paid it back by hand; `reference` records how.
    `via_api=False` when Stripe already refunded it (a charge.refunded webhook)."""
    from .services import release_stock

    if actor is not None and not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn được hoàn tiền."))
    was = order.status
    if not order.paid:
        raise Conflict(_("Đơn %(code)s chưa được thanh toán nên không có gì để hoàn.", code=order.code))
    if (
        order.payment_method != PaymentMethod.CARD.value
        and actor is not None
        and not (reference or "").strip()
    ):
        raise DomainError(
            _("Vui lòng nhập mã giao dịch hoàn tiền."),
            field_errors={"reference": [_("Vui lòng nhập mã giao dịch hoàn tiền.")]},
        )
    states.transition(
        order,
        S.REFUNDED.value,
        actor=actor,
        actor_role=actor_role,
        note=note,
        refund_reference=(reference or "").strip() or None,
    )
    if was in states.HOLDS_STOCK:
        release_stock(order)
    if order.payment_method != PaymentMethod.COD.value:
        _ledger(order, LedgerKind.REFUNDED, -order.total_vnd, reference=reference, actor=actor)
        db.session.execute(
            update(Payment)
            .where(Payment.id == order.payment_id)
            .values(refunded_vnd=Payment.refunded_vnd + order.total_vnd)
            .execution_options(synchronize_session=False)
        )
    if order.payment_method == PaymentMethod.CARD.value and via_api:
        outbox.record(
            "payment.stripe_refund",
            {"payment_id": order.payment_id, "order_id": order.id, "amount": order.total_vnd},
            key=f"stripe-refund:order:{order.id}",
        )
    notify.status_changed(order)
    return order


def operator_refund(order: Order, *, actor: User, reference: str | None, note: str | None) -> Order:
    return refund_order(order, actor=actor, actor_role="operator", reference=reference, note=note)


# --- the settlement ledger --------------------------------------------------------------------


def _ledger(
    order: Order, kind: LedgerKind, amount: int, *, reference: str | None, actor: User | None
) -> None:
    if order.payment_method == PaymentMethod.COD.value:
        return
    exists = db.session.scalar(
        select(LedgerEntry.id).where(LedgerEntry.order_id == order.id, LedgerEntry.kind == kind.value)
    )
    if exists:
        return
    if kind == LedgerKind.REFUNDED and not db.session.scalar(
        select(LedgerEntry.id).where(
            LedgerEntry.order_id == order.id, LedgerEntry.kind == LedgerKind.COLLECTED.value
        )
    ):
        return  # nothing was collected for it, nothing to take back
    db.session.add(
        LedgerEntry(
            shop_id=order.shop_id,
            order_id=order.id,
            payment_id=order.payment_id,
            kind=kind.value,
            amount_vnd=amount,
            reference=reference,
            created_by_id=actor.id if actor else None,
        )
    )
    db.session.flush()


def record_payout(shop: Shop, data: dict, *, actor: User) -> LedgerEntry:
    """The floor paid a producer what it holds for them (bank reference required)."""
    if not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn được ghi nhận chi trả."))
    errors = Errors()
    amount = 0
    try:
        amount = money.parse_optional_vnd(data.get("amount_vnd"), minimum=1) or 0
    except NumberError as exc:
        errors.add("amount_vnd", exc.message)
    else:
        if not amount:
            errors.add("amount_vnd", _("Vui lòng nhập số tiền (đồng) lớn hơn 0."))
    reference = (data.get("reference") or "").strip()
    if not reference:
        errors.add("reference", _("Vui lòng nhập mã giao dịch chi trả."))
    errors.raise_if_any()
    if amount > balance_of(shop.id):
        raise DomainError(
            _("Số tiền chi trả lớn hơn số dư sàn đang giữ cho cửa hàng."),
            field_errors={"amount_vnd": [_("Lớn hơn số dư.")]},
        )
    entry = LedgerEntry(
        shop_id=shop.id,
        kind=LedgerKind.PAYOUT.value,
        amount_vnd=-amount,
        reference=reference,
        note=(data.get("note") or "").strip() or None,
        created_by_id=actor.id,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def balance_of(shop_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_vnd), 0)).where(LedgerEntry.shop_id == shop_id)
        )
        or 0
    )


def balances() -> list[dict]:
    """Per shop: collected, refunded, paid out, and what the floor still owes."""
    rows = db.session.execute(
        select(LedgerEntry.shop_id, LedgerEntry.kind, func.sum(LedgerEntry.amount_vnd)).group_by(
            LedgerEntry.shop_id, LedgerEntry.kind
        )
    ).all()
    by_shop: dict[int, dict] = {}
    for shop_id, kind, total in rows:
        entry = by_shop.setdefault(shop_id, {"collected": 0, "refunded": 0, "payout": 0})
        entry[kind] = int(total or 0)
    shops = (
        {s.id: s for s in db.session.scalars(select(Shop).where(Shop.id.in_(list(by_shop))))}
        if by_shop
        else {}
    )
    out = []
    for shop_id, sums in sorted(by_shop.items(), key=lambda kv: shops[kv[0]].name):
        out.append(
            {
                "shop": shops[shop_id],
                "collected": sums["collected"],
                "refunded": -sums["refunded"],
                "paid_out": -sums["payout"],
                "owed": sums["collected"] + sums["refunded"] + sums["payout"],
            }
        )
    return out
