"""Buyers' complaints about an order: opening one (reason, description, photos), the shop's
answer, the buyer's acceptance or escalation, the operator's decision, and a mail to the other
parties at every step. The moves are orders/complaint_states.py's; refunds go through
orders/payments.py (cards back through Stripe by the worker, transfers and COD recorded with the
reference of the money sent back).

Who does what (each service checks its actor; the views only find the order):
- the order's buyer, or whoever holds its guest link (actor None on a guest order): opens a
  complaint within ORDER_RETURN_WINDOW_DAYS of delivery ("not received" already once the parcel
  has left), accepts the shop's offer, or takes the complaint to the floor — after the shop has
  answered, or once ORDER_COMPLAINT_ANSWER_DAYS have passed without an answer;
- the shop's members who handle orders (owner and staff): answer once — a refund (all or part),
  a replacement, or a rejection with its reason;
- the operator: decides an escalated complaint (refund all or part, or reject, with a reason) —
  and an open one once the shop's time to answer is over, an answered one once the buyer's time
  to reply (ORDER_COMPLAINT_REPLY_DAYS) is over — and records a refund sent by hand that the
  buyer accepted from the shop;
- the worker (outbox `complaint.accept`, due when the buyer's time to reply is over): an answer
  the buyer neither accepted nor took to the floor stands, as if accepted.
One complaint per order; while it is unresolved the floor holds the shop's money for the order
(orders/settlement.py), so none stays unresolved without a time limit."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, func, or_, select

from marketplace import money, outbox
from marketplace.errors import Conflict, Errors, Forbidden
from marketplace.extensions import db
from marketplace.i18n import short_datetime
from marketplace.images import process_image
from marketplace.mail import queue_mail
from marketplace.models import Role, User
from marketplace.numbers import NumberError
from marketplace.outbox import RetryLater
from marketplace.permissions import is_operator
from marketplace.timeutil import utcnow
from sellers.permissions import can_handle_orders

from . import complaint_states, notify, payments, settlement
from .access import external_url, order_link
from .complaint_states import ACTION_LABELS, REASON_LABELS, label
from .models import (
    Complaint,
    ComplaintEvent,
    ComplaintOffer,
    ComplaintReason,
    ComplaintStatus,
    Order,
    OrderStatus,
    PaymentMethod,
)
from .services import _require_buyer

C = ComplaintStatus
S = OrderStatus
MAX_PHOTOS = 5
MAX_DESCRIPTION = 3000
MAX_NOTE = 2000


def complaint_of(order: Order) -> Complaint | None:
    return db.session.scalar(select(Complaint).where(Complaint.order_id == order.id))


def _answer_time() -> timedelta:
    return timedelta(days=int(current_app.config["ORDER_COMPLAINT_ANSWER_DAYS"]))


def _reply_time() -> timedelta:
    return timedelta(days=int(current_app.config["ORDER_COMPLAINT_REPLY_DAYS"]))


# --- opening ----------------------------------------------------------------------------------


def complaint_deadline(order: Order) -> datetime | None:
    """Until when a complaint about a delivered order may be opened (None before delivery)."""
    return settlement.payable_on(order)


def opening_refusal(order: Order, *, now: datetime | None = None) -> str | None:
    """Why no complaint can be opened on `order` now, in words for the buyer; None if one can."""
    now = now or utcnow()
    if complaint_of(order) is not None:
        return _("Đơn %(code)s đã có khiếu nại.", code=order.code)
    if order.status == S.SHIPPED.value:
        return None  # "not received" only: reasons_open() says so
    if order.status not in settlement.DELIVERED_STATES:
        return _("Bạn có thể khiếu nại khi đơn đang được giao hoặc đã giao.")
    deadline = complaint_deadline(order)
    if deadline is None or now >= deadline:
        return _(
            "Đã hết thời hạn khiếu nại: %(days)d ngày kể từ khi nhận hàng.",
            days=int(current_app.config["ORDER_RETURN_WINDOW_DAYS"]),
        )
    return None


def reasons_open(order: Order, *, now: datetime | None = None) -> list[str]:
    """The reasons a complaint may give now: every one after delivery, "not received" while the
    parcel is on its way; none when no complaint can be opened."""
    if opening_refusal(order, now=now) is not None:
        return []
    if order.status == S.SHIPPED.value:
        return [ComplaintReason.NOT_RECEIVED.value]
    return [r.value for r in ComplaintReason]


def open_complaint(order: Order, data: dict, photos: list[bytes], *, actor: User | None) -> Complaint:
    """data: reason, description. `photos`: the uploaded files' bytes (at most MAX_PHOTOS), each
    checked and re-encoded without its metadata by marketplace.images."""
    _require_buyer(order, actor)
    refusal = opening_refusal(order)
    if refusal:
        raise Conflict(refusal)
    errors = Errors()
    reason = data.get("reason") or ""
    if reason not in REASON_LABELS:
        errors.add("reason", _("Vui lòng chọn lý do khiếu nại."))
    elif reason not in reasons_open(order):
        errors.add("reason", _("Khi đơn đang được giao, bạn chỉ có thể báo chưa nhận được hàng."))
    description = (data.get("description") or "").strip()
    if not description:
        errors.add("description", _("Vui lòng mô tả vấn đề của đơn hàng."))
    elif len(description) > MAX_DESCRIPTION:
        errors.add("description", _("Mô tả tối đa %(n)d ký tự.", n=MAX_DESCRIPTION))
    if len(photos) > MAX_PHOTOS:
        errors.add("photos", _("Tối đa %(n)d ảnh.", n=MAX_PHOTOS))
    errors.raise_if_any()
    keys: list[str] = []
    for blob in photos:
        key = process_image(blob, field="photos", private=True).key  # never under /media
        if key not in keys:
            keys.append(key)
    # The photos take time, and a payout may be deciding meanwhile whether the order's money is
    # still held. Under the lock a payout takes, the deadline is checked again: the complaint
    # commits before the payout reads what is payable, or it is refused as too late.
    settlement.lock_shop(order.shop_id)
    refusal = opening_refusal(order)
    if refusal:
        raise Conflict(refusal)
    member = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    now = utcnow()
    complaint = Complaint(
        order_id=order.id,
        opened_by_id=member.id if member is not None else None,
        reason=reason,
        description=description,
        photo_keys=keys,
        status=C.OPEN.value,
        answer_due_at=now + _answer_time(),
        created_at=now,
        updated_at=now,
    )
    db.session.add(complaint)
    db.session.flush()
    event = complaint_states.record(
        complaint, "opened", None, C.OPEN.value, actor=member, actor_role="buyer", note=description
    )
    _announce(complaint, event, shop=True)
    return complaint


# --- the shop's answer ------------------------------------------------------------------------


def _note(errors: Errors, raw: object, *, required: str | None = None) -> str | None:
    note = str(raw or "").strip()
    if len(note) > MAX_NOTE:
        errors.add("note", _("Tối đa %(n)d ký tự.", n=MAX_NOTE))
    if not note and required:
        errors.add("note", required)
    return note or None


def _refund_amount(errors: Errors, order: Order, raw: object, *, field: str = "amount_vnd") -> int | None:
    """The amount typed (blank: everything still refundable), at most what is refundable."""
    left = payments.refundable(order)
    if left <= 0:
        errors.add(
            field,
            _("Đơn chưa được thanh toán hoặc đã được hoàn hết tiền nên không có gì để hoàn."),
        )
        return None
    try:
        return money.parse_optional_vnd(raw, minimum=1, maximum=left) or left
    except NumberError as exc:
        errors.add(field, exc.message)
        return None


def answer_complaint(complaint: Complaint, data: dict, *, actor: User) -> Complaint:
    """data: offer (refund, replacement, reject), amount_vnd (a refund; blank: all of it), note
    (required to reject)."""
    order = complaint.order
    if not can_handle_orders(actor, order.shop):
        raise Forbidden(_("Bạn không có quyền trả lời khiếu nại của đơn hàng này."))
    if complaint.status != C.OPEN.value:
        raise Conflict(_("Khiếu nại này đã được trả lời."))
    errors = Errors()
    offer = data.get("offer") or ""
    amount = None
    if offer not in {o.value for o in ComplaintOffer}:
        errors.add("offer", _("Vui lòng chọn cách giải quyết."))
    elif offer == ComplaintOffer.REFUND.value:
        amount = _refund_amount(errors, order, data.get("amount_vnd"))
    note = _note(
        errors,
        data.get("note"),
        required=_("Vui lòng cho người mua biết lý do từ chối.")
        if offer == ComplaintOffer.REJECT.value
        else None,
    )
    errors.raise_if_any()
    reply_due = utcnow() + _reply_time()
    event = complaint_states.transition(
        complaint,
        C.ANSWERED.value,
        action=f"offer_{offer}",
        actor=actor,
        actor_role="shop",
        note=note,
        amount_vnd=amount,
        offer=offer,
        offer_vnd=amount,
        offer_note=note,
        reply_due_at=reply_due,
    )
    # If the buyer neither accepts nor asks the floor by then, the answer stands.
    due = outbox.record(
        "complaint.accept", {"complaint_id": complaint.id}, key=f"complaint.accept:{complaint.id}"
    )
    due.next_attempt_at = reply_due
    _announce(complaint, event, buyer=True)
    return complaint


# --- the buyer's answer -----------------------------------------------------------------------


def can_escalate(complaint: Complaint, *, now: datetime | None = None) -> bool:
    """After the shop's answer until the buyer's time to reply is over (then the answer stands);
    without an answer once the shop's time to answer is over."""
    now = now or utcnow()
    if complaint.status == C.ANSWERED.value:
        return complaint.reply_due_at is None or now < complaint.reply_due_at
    return complaint.status == C.OPEN.value and now >= complaint.answer_due_at


def _give_back(
    complaint: Complaint,
    amount: int,
    *,
    actor: User | None,
    actor_role: str,
    reference: str | None,
    note: str,
) -> None:
    order = complaint.order
    if amount >= payments.refundable(order):
        payments.refund_order(order, actor=actor, actor_role=actor_role, reference=reference, note=note)
    else:
        payments.refund_part(
            order, amount, actor=actor, actor_role=actor_role, reference=reference, note=note
        )


def _refunded_by_operator(
    complaint: Complaint,
    amount: int,
    *,
    action: str,
    actor: User,
    note: str | None,
    reference: str | None,
    refund_note: str,
) -> ComplaintEvent:
    """The operator closes the complaint as refunded and the money goes back (all or part)."""
    event = complaint_states.transition(
        complaint,
        C.REFUNDED.value,
        action=action,
        actor=actor,
        actor_role="operator",
        note=note,
        amount_vnd=amount,
        refund_vnd=amount,
    )
    _give_back(complaint, amount, actor=actor, actor_role="operator", reference=reference, note=refund_note)
    return event


def accept_offer(complaint: Complaint, *, actor: User | None) -> Complaint:
    """The buyer agrees with the shop. A refund of a card payment goes back through Stripe at
    once; one paid by transfer or cash waits for the floor to send it (refund_due)."""
    order = complaint.order
    _require_buyer(order, actor)
    if complaint.status != C.ANSWERED.value:
        raise Conflict(_("Cửa hàng chưa trả lời khiếu nại này."))
    if complaint.offer == ComplaintOffer.REFUND.value and payments.refundable(order) <= 0:
        raise Conflict(_("Đơn không còn khoản nào để hoàn. Vui lòng đề nghị sàn giải quyết."))
    member = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    _accept(complaint, action="accepted", actor=member, actor_role="buyer")
    return complaint


def _accept(complaint: Complaint, *, action: str, actor: User | None, actor_role: str) -> None:
    """The shop's answer stands: by the buyer's word, or by the buyer's silence (the worker)."""
    order = complaint.order
    offer = complaint.offer
    amount = None
    if offer == ComplaintOffer.REFUND.value:
        amount = min(complaint.offer_vnd or 0, payments.refundable(order))
        if amount <= 0 or order.payment_method == PaymentMethod.CARD.value:
            target = C.REFUNDED.value  # nothing left (the order was refunded meanwhile), or by card
        else:
            target = C.REFUND_DUE.value
    elif offer == ComplaintOffer.REPLACEMENT.value:
        target = C.REPLACED.value
    else:
        target = C.REJECTED.value
    event = complaint_states.transition(
        complaint,
        target,
        action=action,
        actor=actor,
        actor_role=actor_role,
        amount_vnd=amount or None,
        refund_vnd=amount if target == C.REFUNDED.value and amount else 0,
    )
    if target == C.REFUNDED.value and amount:
        _give_back(
            complaint,
            amount,
            actor=None,
            actor_role="system",
            reference=None,
            note=_("Hoàn tiền theo khiếu nại: người mua đồng ý với đề nghị của cửa hàng."),
        )
    _announce(
        complaint,
        event,
        buyer=actor_role != "buyer",
        shop=True,
        operators=target == C.REFUND_DUE.value,
    )


def accept_when_due(complaint_id: int) -> bool:
    """The `complaint.accept` handler: at the end of the buyer's time to reply, an answered
    complaint closes as if the buyer had accepted the shop's answer. Idempotent: a complaint the
    buyer accepted or escalated meanwhile, or the operator decided, is left alone. Returns True
    when it closed one."""
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None or complaint.status != C.ANSWERED.value or complaint.reply_due_at is None:
        return False
    now = utcnow()
    if now < complaint.reply_due_at:
        raise RetryLater("not due yet", (complaint.reply_due_at - now).total_seconds() + 1)
    _accept(complaint, action="auto_accepted", actor=None, actor_role="system")
    return True


def escalate(complaint: Complaint, data: dict, *, actor: User | None) -> Complaint:
    """The buyer asks the floor to decide (data: note, why)."""
    order = complaint.order
    _require_buyer(order, actor)
    if complaint.status not in (C.OPEN.value, C.ANSWERED.value):
        raise Conflict(_("Khiếu nại này không còn chờ bạn trả lời."))
    if not can_escalate(complaint) and complaint.status == C.ANSWERED.value:
        raise Conflict(
            _(
                "Đã hết thời hạn đề nghị sàn giải quyết (%(due)s): khiếu nại kết thúc theo trả lời của cửa hàng.",
                due=short_datetime(complaint.reply_due_at),
            )
        )
    if not can_escalate(complaint):
        raise Conflict(
            _(
                "Cửa hàng có thời hạn trả lời đến %(due)s. Sau thời hạn này bạn có thể đề nghị sàn giải quyết.",
                due=short_datetime(complaint.answer_due_at),
            )
        )
    errors = Errors()
    note = _note(errors, data.get("note"))
    errors.raise_if_any()
    member = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    event = complaint_states.transition(
        complaint, C.ESCALATED.value, action="escalated", actor=member, actor_role="buyer", note=note
    )
    _announce(complaint, event, shop=True, operators=True)
    return complaint


# --- the operator's decision ------------------------------------------------------------------


def _require_operator(actor: User) -> None:
    if not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn mới giải quyết được khiếu nại."))


def can_decide(complaint: Complaint, *, now: datetime | None = None) -> bool:
    """The operator may decide: an escalated complaint; an open one once the shop's time to
    answer is over; an answered one once the buyer's time to reply is over."""
    now = now or utcnow()
    if complaint.status == C.ESCALATED.value:
        return True
    if complaint.status == C.OPEN.value:
        return now >= complaint.answer_due_at
    if complaint.status == C.ANSWERED.value:
        return complaint.reply_due_at is not None and now >= complaint.reply_due_at
    return False


def for_operator(now: datetime | None = None) -> ColumnElement[bool]:
    """Complaints waiting for the operator (a condition on Complaint): escalated, a refund to
    send by hand, and those whose shop or buyer let their time pass."""
    now = now or utcnow()
    return or_(
        Complaint.status.in_(complaint_states.FOR_OPERATOR),
        and_(Complaint.status == C.OPEN.value, Complaint.answer_due_at <= now),
        and_(Complaint.status == C.ANSWERED.value, Complaint.reply_due_at <= now),
    )


def decide(complaint: Complaint, data: dict, *, actor: User) -> Complaint:
    """data: decision (refund, reject), amount_vnd (blank: everything still refundable; less is a
    partial refund), reference (the money sent back, for transfer and COD), note (required)."""
    _require_operator(actor)
    if not can_decide(complaint):
        raise Conflict(_("Khiếu nại này không chờ sàn quyết định."))
    order = complaint.order
    errors = Errors()
    decision = data.get("decision") or ""
    amount = None
    if decision not in ("refund", "reject"):
        errors.add("decision", _("Vui lòng chọn quyết định."))
    elif decision == "refund":
        amount = _refund_amount(errors, order, data.get("amount_vnd"))
    note = _note(errors, data.get("note"), required=_("Vui lòng ghi rõ căn cứ của quyết định."))
    reference = payments.check_reference(str(data.get("reference") or ""), errors)
    errors.raise_if_any()
    if decision == "refund":
        assert amount is not None and note is not None  # errors.raise_if_any() refused the rest
        event = _refunded_by_operator(
            complaint,
            amount,
            action="decided_refund",
            actor=actor,
            note=note,
            reference=reference,
            refund_note=_("Hoàn tiền theo quyết định giải quyết khiếu nại: %(note)s", note=note),
        )
    else:
        event = complaint_states.transition(
            complaint,
            C.REJECTED.value,
            action="decided_reject",
            actor=actor,
            actor_role="operator",
            note=note,
        )
    _announce(complaint, event, buyer=True, shop=True)
    return complaint


def record_refund(complaint: Complaint, data: dict, *, actor: User) -> Complaint:
    """The floor sent back by hand the refund the buyer accepted from the shop (data: reference,
    note)."""
    _require_operator(actor)
    if complaint.status != C.REFUND_DUE.value:
        raise Conflict(_("Khiếu nại này không chờ hoàn tiền."))
    amount = min(complaint.offer_vnd or 0, payments.refundable(complaint.order))
    if amount <= 0:
        # The order was refunded in full meanwhile (before close_refund_due did it by itself).
        close_refund_due(complaint.order, 0, actor=actor, actor_role="operator")
        return complaint
    errors = Errors()
    note = _note(errors, data.get("note"))
    reference = payments.check_reference(str(data.get("reference") or ""), errors)
    if not reference:
        errors.add("reference", _("Vui lòng nhập mã giao dịch hoàn tiền."))
    errors.raise_if_any()
    event = _refunded_by_operator(
        complaint,
        amount,
        action="refund_recorded",
        actor=actor,
        note=note or reference,
        reference=reference,
        refund_note=_("Hoàn tiền theo khiếu nại: người mua đồng ý với đề nghị của cửa hàng."),
    )
    _announce(complaint, event, buyer=True, shop=True)
    return complaint


def close_refund_due(order: Order, amount: int, *, actor: User | None, actor_role: str) -> None:
    """The order was refunded in full (payments.refund_order, from the order page, say): a
    complaint refund still waiting for the floor to send it is settled by that refund, as far as
    the amount given back now covers it."""
    complaint = complaint_of(order)
    if complaint is None or complaint.status != C.REFUND_DUE.value:
        return
    covered = min(complaint.offer_vnd or 0, max(amount, 0))
    member = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    event = complaint_states.transition(
        complaint,
        C.REFUNDED.value,
        action="refund_recorded",
        actor=member,
        actor_role=actor_role,
        note=_("Đơn đã được hoàn tiền toàn bộ."),
        amount_vnd=covered or None,
        refund_vnd=covered,
    )
    _announce(complaint, event, buyer=True, shop=True)


# --- lists ------------------------------------------------------------------------------------


def waiting_for_operator() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Complaint).where(for_operator())) or 0)


class QueueLabel:
    """The operator home page's link to the queue, with how many complaints wait there (counted
    when the page shows it)."""

    def __str__(self) -> str:
        n = waiting_for_operator()
        if n:
            return _("Khiếu nại (%(n)d chờ xử lý)", n=n)
        return _("Khiếu nại")


# --- mails ------------------------------------------------------------------------------------


def _operator_addresses() -> list[tuple[int, str]]:
    return [
        (user_id, email)
        for user_id, email in db.session.execute(
            select(User.id, User.email)
            .where(User.role == Role.OPERATOR.value, User.active.is_(True))
            .order_by(User.id)
        )
    ]


def _announce(
    complaint: Complaint,
    event: ComplaintEvent,
    *,
    buyer: bool = False,
    shop: bool = False,
    operators: bool = False,
) -> None:
    """One mail per step to each other party (outbox; the key names the step and the reader)."""
    order = complaint.order
    context = {
        "complaint": complaint,
        "order": order,
        "event": event,
        "what": str(ACTION_LABELS.get(event.action, event.action)),
        "status_label": label(complaint.status),
        "reason_label": str(REASON_LABELS.get(complaint.reason, complaint.reason)),
    }
    subject = _("Khiếu nại đơn %(code)s: %(what)s", code=order.code, what=context["what"])
    key = f"mail:complaint:{complaint.id}:{event.id}"
    if buyer and order.email:
        queue_mail(
            order.email,
            subject,
            "complaint_update",
            key=f"{key}:buyer",
            link=order_link(order),
            hint=_buyer_hint(complaint),
            **context,
        )
    shop_to = notify.shop_address(order) if shop else None
    if shop_to:
        queue_mail(
            shop_to,
            subject,
            "complaint_update",
            key=f"{key}:shop",
            link=external_url("orders_seller.show_order", shop_slug=order.shop.slug, code=order.code),
            hint=_shop_hint(complaint),
            **context,
        )
    if operators:
        link = external_url("complaints_admin.show_complaint", code=order.code)
        for user_id, email in _operator_addresses():
            queue_mail(
                email,
                subject,
                "complaint_update",
                key=f"{key}:operator:{user_id}",
                link=link,
                hint=None,
                **context,
            )


def _buyer_hint(complaint: Complaint) -> str | None:
    if complaint.status == C.ANSWERED.value and complaint.reply_due_at is not None:
        return _(
            "Bạn có thể đồng ý với cửa hàng hoặc đề nghị sàn giải quyết đến %(due)s. Sau thời hạn "
            "này khiếu nại kết thúc theo trả lời của cửa hàng.",
            due=short_datetime(complaint.reply_due_at),
        )
    if complaint.status == C.ANSWERED.value:
        return _("Bạn có thể đồng ý với cửa hàng hoặc đề nghị sàn giải quyết.")
    if complaint.status == C.REFUNDED.value and complaint.order.payment_method == PaymentMethod.CARD.value:
        return _("Tiền sẽ về thẻ của bạn trong vài ngày làm việc, tùy ngân hàng phát hành.")
    return None


def _shop_hint(complaint: Complaint) -> str | None:
    if complaint.status == C.OPEN.value:
        return _("Vui lòng trả lời trước %(due)s.", due=short_datetime(complaint.answer_due_at))
    if complaint.status == C.REPLACED.value:
        return _("Vui lòng gửi hàng thay thế cho người mua.")
    if complaint.status in complaint_states.UNRESOLVED:
        return _("Tiền của đơn này được sàn giữ lại cho đến khi khiếu nại được giải quyết.")
    return None
