"""Money moving: a payment received, expired or cancelled; refunds (whole, or part of an order for
a complaint); the settlement ledger and its payouts (what is payable: orders.settlement).

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

from . import hooks, notify, settlement, states
from .models import (
    LedgerEntry,
    LedgerKind,
    Order,
    OrderEvent,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)

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


MAX_REFERENCE = 120  # payments.paid_reference, ledger_entries.reference, orders.refund_reference


def check_reference(reference: str | None, errors: Errors | None = None) -> str | None:
    """A transaction reference typed by the operator, stripped; longer than the columns hold:
    a DomainError on the `reference` field (or added to `errors`), never cut short silently."""
    reference = (reference or "").strip() or None
    if reference is not None and len(reference) > MAX_REFERENCE:
        message = _("Mã giao dịch tối đa %(n)d ký tự.", n=MAX_REFERENCE)
        if errors is None:
            raise DomainError(message, field_errors={"reference": [message]})
        errors.add("reference", message)
    return reference


def confirm_transfer(payment: Payment, *, actor: User, reference: str | None = None) -> None:
    """The operator saw the transfer on the floor's account (`reference`: the bank's transaction
    id, optional, at most MAX_REFERENCE characters)."""
    if not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn được xác nhận chuyển khoản."))
    if payment.method != PaymentMethod.BANK_TRANSFER.value:
        raise Conflict(_("Thanh toán %(code)s không phải chuyển khoản.", code=payment.code))
    reference = check_reference(reference)
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


def _check_refund(order: Order, *, actor: User | None, reference: str | None) -> None:
    if actor is not None and not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn được hoàn tiền."))
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


def _money_back(
    order: Order,
    amount: int,
    kind: LedgerKind,
    *,
    actor: User | None,
    reference: str | None,
    stripe_key: str,
    via_api: bool,
) -> None:
    """The ledger entry, the payment's refunded sum and (cards) the refund at Stripe. A COD
    refund is money the floor sends the buyer on the shop's behalf (the cash went to the shop
    through the carrier): its entry is charged to the shop too."""
    _ledger(order, kind, -amount, reference=reference, actor=actor)
    if order.payment_method != PaymentMethod.COD.value:
        db.session.execute(
            update(Payment)
            .where(Payment.id == order.payment_id)
            .values(refunded_vnd=Payment.refunded_vnd + amount)
            .execution_options(synchronize_session=False)
        )
    if order.payment_method == PaymentMethod.CARD.value and via_api and amount > 0:
        outbox.record(
            "payment.stripe_refund",
            {"payment_id": order.payment_id, "order_id": order.id, "amount": amount},
            key=stripe_key,
        )


def refundable(order: Order) -> int:
    """What the buyer paid for the order and has not had back yet (0 while unpaid)."""
    return order.total_vnd - order.refunded_vnd if order.paid else 0


def refund_order(
    order: Order,
    *,
    actor: User | None,
    actor_role: str,
    reference: str | None = None,
    note: str | None = None,
    via_api: bool = True,
) -> Order:
    """Give the buyer's money back: all of it, or what a partial refund left. Card: through Stripe
    by the worker (idempotency key per order). Bank transfer and COD: the operator has paid it
    back by hand; `reference` records how. `via_api=False` when Stripe already refunded it (a
    charge.refunded webhook)."""
    from .complaints import close_refund_due
    from .services import release_stock

    _check_refund(order, actor=actor, reference=reference)
    was = order.status
    # What is left to give back (PostgreSQL reads it under the row's lock). The status changes
    # only if the sum refunded is still what was read: a partial refund committed in between
    # (SQLite has no FOR UPDATE) makes this refund fail instead of both giving the money back.
    already = int(
        db.session.scalar(select(Order.refunded_vnd).where(Order.id == order.id).with_for_update()) or 0
    )
    amount = order.total_vnd - already
    states.transition(
        order,
        S.REFUNDED.value,
        actor=actor,
        actor_role=actor_role,
        note=note,
        where=(Order.refunded_vnd == already,),
        refund_reference=(reference or "").strip() or None,
        refunded_vnd=order.total_vnd,
    )
    if was in states.HOLDS_STOCK:
        release_stock(order)
        hooks.run("cancelled", order)  # refunded before the parcel left: as good as cancelled
    _money_back(
        order,
        amount,
        LedgerKind.REFUNDED,
        actor=actor,
        reference=reference,
        stripe_key=f"stripe-refund:order:{order.id}",
        via_api=via_api,
    )
    notify.status_changed(order)
    # A complaint refund waiting for the floor is settled by this one: nothing is left to send.
    close_refund_due(order, amount, actor=actor, actor_role=actor_role)
    return order


def refund_part(
    order: Order,
    amount: int,
    *,
    actor: User | None,
    actor_role: str,
    reference: str | None = None,
    note: str | None = None,
) -> Order:
    """Give back part of what the buyer paid (a complaint settled that way); the order keeps its
    status. Once per order: the ledger keeps one partial refund per order, and the rest goes back
    through refund_order. The history records it as an event on the unchanged status."""
    _check_refund(order, actor=actor, reference=reference)
    left = order.total_vnd - order.refunded_vnd
    if order.status == S.REFUNDED.value or left <= 0:
        raise Conflict(_("Đơn %(code)s đã được hoàn tiền toàn bộ.", code=order.code))
    if not 0 < amount < left:
        raise DomainError(
            _("Số tiền hoàn một phần phải lớn hơn 0 và nhỏ hơn %(left)s.", left=money.format_vnd(left)),
            field_errors={"amount_vnd": [_("Số tiền không hợp lệ.")]},
        )
    if db.session.scalar(
        select(LedgerEntry.id).where(
            LedgerEntry.order_id == order.id, LedgerEntry.kind == LedgerKind.PARTIAL_REFUND.value
        )
    ):
        raise Conflict(_("Đơn %(code)s đã được hoàn một phần.", code=order.code))
    reference = (reference or "").strip() or None
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == order.status, Order.refunded_vnd == order.refunded_vnd)
        .values(
            refunded_vnd=Order.refunded_vnd + amount,
            refund_reference=reference or Order.refund_reference,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if rows_matched(result) != 1:
        db.session.refresh(order)
        raise Conflict(_("Đơn %(code)s vừa được cập nhật. Vui lòng tải lại trang.", code=order.code))
    db.session.refresh(order)
    text = _("Hoàn một phần: %(amount)s.", amount=money.format_vnd(amount))
    db.session.add(
        OrderEvent(
            order_id=order.id,
            from_status=order.status,
            to_status=order.status,
            actor_id=actor.id if actor is not None else None,
            actor_role=actor_role,
            note=f"{text} {note}" if note else text,
        )
    )
    _money_back(
        order,
        amount,
        LedgerKind.PARTIAL_REFUND,
        actor=actor,
        reference=reference,
        stripe_key=f"stripe-refund:order:{order.id}:part",
        via_api=True,
    )
    db.session.flush()
    return order


def operator_refund(order: Order, *, actor: User, reference: str | None, note: str | None) -> Order:
    return refund_order(order, actor=actor, actor_role="operator", reference=reference, note=note)


# --- the settlement ledger --------------------------------------------------------------------


def _ledger(
    order: Order, kind: LedgerKind, amount: int, *, reference: str | None, actor: User | None
) -> None:
    """One entry per order and kind. Card and transfer orders: what the floor collected, and
    what of it went back. COD orders (the carrier hands the cash to the shop): only refunds, the
    money the floor sends the buyer for the shop, which the shop then owes the floor."""
    cod = order.payment_method == PaymentMethod.COD.value
    if cod and kind == LedgerKind.COLLECTED:
        return
    if amount == 0:
        return
    exists = db.session.scalar(
        select(LedgerEntry.id).where(LedgerEntry.order_id == order.id, LedgerEntry.kind == kind.value)
    )
    if exists:
        return
    if (
        not cod
        and kind in (LedgerKind.REFUNDED, LedgerKind.PARTIAL_REFUND)
        and not db.session.scalar(
            select(LedgerEntry.id).where(
                LedgerEntry.order_id == order.id, LedgerEntry.kind == LedgerKind.COLLECTED.value
            )
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
    reference = check_reference(data.get("reference"), errors)
    if not reference:
        errors.add("reference", _("Vui lòng nhập mã giao dịch chi trả."))
    errors.raise_if_any()
    # One payout decision per shop at a time, and none while a complaint is being opened: the
    # lock comes before what is payable is read (settlement.lock_shop, on both databases).
    settlement.lock_shop(shop.id)
    payable = settlement.payable_to(shop.id)
    if amount > payable:
        raise DomainError(
            _(
                "Số tiền chi trả lớn hơn số tiền đã đến hạn trả cho cửa hàng (%(payable)s). Tiền của "
                "đơn chưa giao, còn trong thời hạn đổi trả hoặc đang bị khiếu nại chưa được trả.",
                payable=money.format_vnd(max(payable, 0)),
            ),
            field_errors={"amount_vnd": [_("Lớn hơn số tiền đến hạn trả.")]},
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
    """Per shop: collected, refunded, paid out, what the floor still owes, and of that what is
    still held and what is payable now (orders.settlement)."""
    rows = db.session.execute(
        select(LedgerEntry.shop_id, LedgerEntry.kind, func.sum(LedgerEntry.amount_vnd)).group_by(
            LedgerEntry.shop_id, LedgerEntry.kind
        )
    ).all()
    by_shop: dict[int, dict] = {}
    for shop_id, kind, total in rows:
        entry = by_shop.setdefault(shop_id, {"collected": 0, "refunded": 0, "partial_refund": 0, "payout": 0})
        entry[kind] = int(total or 0)
    held = settlement.held_by_shop(list(by_shop)) if by_shop else {}
    shops = (
        {s.id: s for s in db.session.scalars(select(Shop).where(Shop.id.in_(list(by_shop))))}
        if by_shop
        else {}
    )
    out = []
    for shop_id, sums in sorted(by_shop.items(), key=lambda kv: shops[kv[0]].name):
        owed = sum(sums.values())
        out.append(
            {
                "shop": shops[shop_id],
                "collected": sums["collected"],
                "refunded": -(sums["refunded"] + sums["partial_refund"]),
                "paid_out": -sums["payout"],
                "owed": owed,
                "held": held.get(shop_id, 0),
                "payable": owed - held.get(shop_id, 0),
            }
        )
    return out
