"""The complaint state machine: which moves are legal, and the one function that makes them.

open → answered (the shop offers a refund, a replacement, or rejects with a reason) → the buyer
accepts (refunded, refund_due, replaced, rejected) or escalates → the operator decides (refunded,
rejected). An unanswered complaint may be escalated once the shop's time to answer is over; a
refund the floor sends by hand (bank transfer, COD) waits in refund_due until it is recorded.
No complaint holds the shop's money forever: once the shop's time to answer is over the operator
may decide an open complaint, and once the buyer's time to reply is over an answered one (which
the worker then closes as accepted by itself, orders/complaints.py).
Like orders/states.py: each move is a conditional UPDATE on the current status (two people
acting at once cannot both win) and a complaint_events row saying who did what, and when."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.errors import Conflict
from marketplace.extensions import db, rows_matched
from marketplace.models import User
from marketplace.timeutil import utcnow

from .models import Complaint, ComplaintEvent, ComplaintOffer, ComplaintReason, ComplaintStatus

C = ComplaintStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    # refunded / rejected: the operator decides once the shop's time to answer is over
    C.OPEN.value: frozenset({C.ANSWERED.value, C.ESCALATED.value, C.REFUNDED.value, C.REJECTED.value}),
    C.ANSWERED.value: frozenset(
        {C.ESCALATED.value, C.REFUNDED.value, C.REFUND_DUE.value, C.REPLACED.value, C.REJECTED.value}
    ),
    C.ESCALATED.value: frozenset({C.REFUNDED.value, C.REJECTED.value}),
    C.REFUND_DUE.value: frozenset({C.REFUNDED.value}),
    C.REFUNDED.value: frozenset(),
    C.REPLACED.value: frozenset(),
    C.REJECTED.value: frozenset(),
}

# Unresolved: the floor holds the shop's money for the order, the shop's inbox lists the order
# under "needs attention".
UNRESOLVED = frozenset({C.OPEN.value, C.ANSWERED.value, C.ESCALATED.value, C.REFUND_DUE.value})
# Waiting for the operator whatever the time: the queue's count on the operator's home page
# adds the open and answered ones whose time is over (orders/complaints.py, for_operator).
FOR_OPERATOR = frozenset({C.ESCALATED.value, C.REFUND_DUE.value})

LABELS = {
    C.OPEN.value: _l("Chờ cửa hàng trả lời"),
    C.ANSWERED.value: _l("Cửa hàng đã trả lời, chờ người mua"),
    C.ESCALATED.value: _l("Chờ sàn quyết định"),
    C.REFUND_DUE.value: _l("Chờ sàn hoàn tiền"),
    C.REFUNDED.value: _l("Đã hoàn tiền"),
    C.REPLACED.value: _l("Cửa hàng gửi hàng thay thế"),
    C.REJECTED.value: _l("Khiếu nại không được chấp nhận"),
}

REASON_LABELS = {
    ComplaintReason.NOT_RECEIVED.value: _l("Chưa nhận được hàng"),
    ComplaintReason.WRONG_ITEM.value: _l("Giao sai sản phẩm"),
    ComplaintReason.DAMAGED.value: _l("Hàng bị hư hỏng"),
    ComplaintReason.OTHER.value: _l("Lý do khác"),
}

OFFER_LABELS = {
    ComplaintOffer.REFUND.value: _l("Hoàn tiền"),
    ComplaintOffer.REPLACEMENT.value: _l("Gửi hàng thay thế"),
    ComplaintOffer.REJECT.value: _l("Từ chối khiếu nại"),
}

ACTION_LABELS = {
    "opened": _l("Người mua mở khiếu nại"),
    "offer_refund": _l("Cửa hàng đề nghị hoàn tiền"),
    "offer_replacement": _l("Cửa hàng đề nghị gửi hàng thay thế"),
    "offer_reject": _l("Cửa hàng từ chối khiếu nại"),
    "accepted": _l("Người mua đồng ý với cửa hàng"),
    "auto_accepted": _l("Người mua không trả lời: khiếu nại kết thúc theo trả lời của cửa hàng"),
    "escalated": _l("Người mua đề nghị sàn giải quyết"),
    "decided_refund": _l("Sàn quyết định hoàn tiền"),
    "decided_reject": _l("Sàn không chấp nhận khiếu nại"),
    "refund_recorded": _l("Sàn đã hoàn tiền"),
}

ROLE_LABELS = {
    "buyer": _l("người mua"),
    "shop": _l("cửa hàng"),
    "operator": _l("ban quản lý sàn"),
    "system": _l("hệ thống"),
}


def label(status: str) -> str:
    return str(LABELS.get(status, status))


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def transition(
    complaint: Complaint,
    target: str,
    *,
    action: str,
    actor: User | None,
    actor_role: str,
    note: str | None = None,
    amount_vnd: int | None = None,
    **changes: object,
) -> ComplaintEvent:
    """Move `complaint` to `target` or raise Conflict with a message for the user. `changes` are
    other columns set in the same UPDATE (the shop's offer, the refund given…)."""
    current = complaint.status
    if not can_transition(current, target):
        raise Conflict(
            _(
                "Không thể chuyển khiếu nại từ “%(a)s” sang “%(b)s”.",
                a=label(current),
                b=label(target),
            )
        )
    now = utcnow()
    result = db.session.execute(
        update(Complaint)
        .where(Complaint.id == complaint.id, Complaint.status == current)
        .values(status=target, updated_at=now, **changes)
        .execution_options(synchronize_session=False)
    )
    if rows_matched(result) != 1:
        db.session.refresh(complaint)
        raise Conflict(
            _(
                "Khiếu nại vừa được cập nhật (%(status)s). Vui lòng tải lại trang.",
                status=label(complaint.status),
            )
        )
    # Keep the loaded object true to the row without marking it dirty (no second UPDATE).
    for key, value in {"status": target, "updated_at": now, **changes}.items():
        set_committed_value(complaint, key, value)
    return record(
        complaint,
        action,
        current,
        target,
        actor=actor,
        actor_role=actor_role,
        note=note,
        amount_vnd=amount_vnd,
    )


def record(
    complaint: Complaint,
    action: str,
    from_status: str | None,
    to_status: str,
    *,
    actor: User | None,
    actor_role: str,
    note: str | None = None,
    amount_vnd: int | None = None,
) -> ComplaintEvent:
    member = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    event = ComplaintEvent(
        complaint_id=complaint.id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor_id=member.id if member is not None else None,
        actor_role=actor_role,
        note=note,
        amount_vnd=amount_vnd,
    )
    db.session.add(event)
    db.session.flush()
    return event
