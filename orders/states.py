"""The order state machine: which transitions are legal, and the one function that makes them.

pending_payment → placed → confirmed → packed → shipped → delivered → completed;
cancelled before the parcel leaves; refunded when money the buyer paid is given back. On the
road a parcel may also fail a delivery (the carrier tries again: back to shipped), go back to the
shop (returning → returned), or be lost or damaged (flagged for the operator).
Each change is a conditional UPDATE on the current status (two people pressing buttons at
once cannot both win) and an order_events row with the actor and the time."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, update
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.errors import Conflict
from marketplace.extensions import db, rows_matched
from marketplace.models import User
from marketplace.timeutil import utcnow

from .models import Order, OrderEvent, OrderStatus

S = OrderStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT.value: frozenset({S.PLACED.value, S.CANCELLED.value}),
    S.PLACED.value: frozenset({S.CONFIRMED.value, S.CANCELLED.value, S.REFUNDED.value}),
    S.CONFIRMED.value: frozenset({S.PACKED.value, S.CANCELLED.value, S.REFUNDED.value}),
    S.PACKED.value: frozenset({S.SHIPPED.value, S.CANCELLED.value, S.REFUNDED.value}),
    S.SHIPPED.value: frozenset(
        {
            S.DELIVERED.value,
            S.DELIVERY_FAILED.value,
            S.RETURNING.value,
            S.LOST.value,
            S.DAMAGED.value,
            S.REFUNDED.value,
        }
    ),
    S.DELIVERY_FAILED.value: frozenset(
        {
            S.SHIPPED.value,
            S.DELIVERED.value,
            S.RETURNING.value,
            S.LOST.value,
            S.DAMAGED.value,
            S.REFUNDED.value,
        }
    ),
    S.RETURNING.value: frozenset({S.RETURNED.value, S.LOST.value, S.DAMAGED.value}),
    S.RETURNED.value: frozenset({S.REFUNDED.value}),
    S.LOST.value: frozenset({S.REFUNDED.value}),
    S.DAMAGED.value: frozenset({S.RETURNING.value, S.RETURNED.value, S.REFUNDED.value}),
    S.DELIVERED.value: frozenset({S.COMPLETED.value, S.REFUNDED.value}),
    S.COMPLETED.value: frozenset({S.REFUNDED.value}),
    # A paid order that was cancelled still owes the buyer their money.
    S.CANCELLED.value: frozenset({S.REFUNDED.value}),
    S.REFUNDED.value: frozenset(),
}

# Stock goes back to the shelf when an order leaves these states for cancelled.
HOLDS_STOCK = frozenset({S.PENDING_PAYMENT.value, S.PLACED.value, S.CONFIRMED.value, S.PACKED.value})
# The buyer may cancel until the shop has confirmed.
BUYER_CANCELLABLE = frozenset({S.PENDING_PAYMENT.value, S.PLACED.value})

LABELS = {
    S.PENDING_PAYMENT.value: _l("Chờ thanh toán"),
    S.PLACED.value: _l("Chờ cửa hàng xác nhận"),
    S.CONFIRMED.value: _l("Đã xác nhận, đang chuẩn bị"),
    S.PACKED.value: _l("Đã đóng gói, chờ giao cho đơn vị vận chuyển"),
    S.SHIPPED.value: _l("Đang giao hàng"),
    S.DELIVERED.value: _l("Đã giao hàng"),
    S.COMPLETED.value: _l("Hoàn tất"),
    S.CANCELLED.value: _l("Đã hủy"),
    S.REFUNDED.value: _l("Đã hoàn tiền"),
    S.DELIVERY_FAILED.value: _l("Giao không thành công, sẽ giao lại"),
    S.RETURNING.value: _l("Đang hoàn hàng về cửa hàng"),
    S.RETURNED.value: _l("Đã hoàn hàng về cửa hàng"),
    S.LOST.value: _l("Hàng bị thất lạc"),
    S.DAMAGED.value: _l("Hàng bị hư hỏng"),
}

SHORT_LABELS = {
    S.PENDING_PAYMENT.value: _l("Chờ thanh toán"),
    S.PLACED.value: _l("Chờ xác nhận"),
    S.CONFIRMED.value: _l("Chờ đóng gói"),
    S.PACKED.value: _l("Chờ lấy hàng"),
    S.SHIPPED.value: _l("Đang giao"),
    S.DELIVERED.value: _l("Đã giao"),
    S.COMPLETED.value: _l("Hoàn tất"),
    S.CANCELLED.value: _l("Đã hủy"),
    S.REFUNDED.value: _l("Đã hoàn tiền"),
    S.DELIVERY_FAILED.value: _l("Giao thất bại"),
    S.RETURNING.value: _l("Đang hoàn"),
    S.RETURNED.value: _l("Đã hoàn hàng"),
    S.LOST.value: _l("Thất lạc"),
    S.DAMAGED.value: _l("Hư hỏng"),
}

METHOD_LABELS = {
    "cod": _l("Thanh toán khi nhận hàng (COD)"),
    "bank_transfer": _l("Chuyển khoản ngân hàng (VietQR)"),
    "card": _l("Thẻ thanh toán quốc tế"),
}


def label(status: str) -> str:
    return str(LABELS.get(status, status))


def next_step(order: Order) -> str:
    """What the buyer should expect next, in one sentence."""
    status, method = order.status, order.payment_method
    if status == S.PENDING_PAYMENT.value:
        if method == "bank_transfer":
            return _(
                "Vui lòng chuyển khoản đúng số tiền và nội dung. Đơn được gửi tới cửa hàng ngay khi sàn nhận được tiền."
            )
        return _("Vui lòng hoàn tất thanh toán bằng thẻ. Đơn chưa thanh toán sẽ tự hủy khi hết hạn.")
    if status == S.PLACED.value:
        return _("Cửa hàng sẽ xác nhận đơn, thường trong vòng 24 giờ. Bạn vẫn có thể hủy đơn cho đến lúc đó.")
    if status == S.CONFIRMED.value:
        return _("Cửa hàng đang chuẩn bị và đóng gói hàng.")
    if status == S.PACKED.value:
        return _("Hàng đã đóng gói, đang chờ giao cho đơn vị vận chuyển.")
    if status == S.SHIPPED.value:
        if method == "cod":
            return _(
                "Hàng đang trên đường giao. Vui lòng chuẩn bị %(amount)s để thanh toán khi nhận.",
                amount=_money(order.total_vnd),
            )
        return _("Hàng đang trên đường giao tới bạn.")
    if status == S.DELIVERED.value:
        return _("Hàng đã được giao. Hãy xác nhận đã nhận hàng và đánh giá sản phẩm.")
    if status == S.COMPLETED.value:
        return _("Đơn hàng đã hoàn tất. Cảm ơn bạn đã mua hàng!")
    if status == S.DELIVERY_FAILED.value:
        return _("Đơn vị vận chuyển chưa giao được hàng và sẽ liên hệ để giao lại.")
    if status == S.RETURNING.value:
        return _("Hàng đang được chuyển trả về cửa hàng.")
    if status in (S.RETURNED.value, S.LOST.value, S.DAMAGED.value):
        if order.paid:
            return _("Sàn sẽ hoàn lại tiền bạn đã thanh toán.")
        return _("Bạn không phải thanh toán cho đơn này.")
    if status == S.CANCELLED.value:
        if order.paid:
            return _("Đơn đã hủy. Sàn sẽ hoàn lại tiền bạn đã thanh toán.")
        return _("Đơn đã hủy.")
    return _("Tiền đã được hoàn lại cho bạn.")


def _money(amount: int) -> str:
    from marketplace.money import format_vnd

    return format_vnd(amount)


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def transition(
    order: Order,
    target: str,
    *,
    actor: User | None,
    actor_role: str,
    note: str | None = None,
    where: tuple[ColumnElement[bool], ...] = (),
    **changes,
) -> OrderEvent:
    """Move `order` to `target` or raise Conflict with a message for the user. `changes` are
    other columns set in the same UPDATE (carrier, tracking number…); `where` are further
    conditions the row must still meet (what was read before, e.g. the sum refunded so far)."""
    current = order.status
    if not can_transition(current, target):
        raise Conflict(
            _(
                "Không thể chuyển đơn %(code)s từ “%(a)s” sang “%(b)s”.",
                code=order.code,
                a=label(current),
                b=label(target),
            )
        )
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == current, *where)
        .values(status=target, updated_at=utcnow(), **changes)
        .execution_options(synchronize_session=False)
    )
    if rows_matched(result) != 1:
        db.session.refresh(order)
        raise Conflict(
            _(
                "Đơn %(code)s vừa được cập nhật (%(status)s). Vui lòng tải lại trang.",
                code=order.code,
                status=label(order.status),
            )
        )
    # Keep the loaded object true to the row without marking it dirty (no second UPDATE).
    now = utcnow()
    for key, value in {"status": target, "updated_at": now, **changes}.items():
        set_committed_value(order, key, value)
    event = OrderEvent(
        order_id=order.id,
        from_status=current,
        to_status=target,
        actor_id=actor.id if actor is not None else None,
        actor_role=actor_role,
        note=note,
    )
    db.session.add(event)
    db.session.flush()
    return event
