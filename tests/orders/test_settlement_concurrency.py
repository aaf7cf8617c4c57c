"""Money decisions at the same time: two payouts to one shop, a full refund racing a partial one, a
complaint opened while a payout decides. Each side runs in its own thread with its own app
context and database session, as two requests would, on whatever database the `app` fixture
gives (SQLite, then PostgreSQL in `make test`'s second pass). A pause is put where the two would
interleave badly, so each test shows the race every time rather than now and then."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

from orders_testlib import deliver_long_ago, payment_code
from sqlalchemy import func, select, update

from marketplace.extensions import db
from marketplace.models import User
from marketplace.timeutil import utcnow
from orders import complaints, payments, settlement, states
from orders.models import Complaint, LedgerEntry, Order, OrderEvent, Payment
from tests.support import reloaded, sign_in


def _paid_transfer_order(factory, shopper) -> Order:
    """A bank-transfer order of a new shop, paid, delivered 30 days ago: its 125.000 ₫ (100.000
    and the default 25.000 shipping) are payable to the shop."""
    listing = factory.listing(shop=factory.shop(owner=factory.user(role="producer")), stock=5, price=100_000)
    assert shopper.add(listing).status_code == 302
    code = payment_code(shopper.checkout("bank_transfer"))
    payment = db.session.scalar(select(Payment).where(Payment.code == code))
    assert payments.mark_paid(payment, actor=None, actor_role="bank", reference="FT-THU")
    db.session.commit()
    order = reloaded(payment.orders[0])
    deliver_long_ago(order, days=30)
    return reloaded(order)


def _together(*calls: Callable[[], object]) -> list[object]:
    """Run each call in its own thread; return what each returned, or the exception it raised."""
    results: list[object] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - the test looks at what each side got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads), "a side hung (deadlock?)"
    return results


def _payouts(shop_id: int) -> list[int]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(LedgerEntry.amount_vnd).where(LedgerEntry.shop_id == shop_id, LedgerEntry.kind == "payout")
        )
    )


def test_two_payouts_at_once_never_pay_more_than_is_payable(app, factory, shopper, monkeypatch):
    order = _paid_transfer_order(factory, shopper)
    total, shop_id = order.total_vnd, order.shop_id
    assert settlement.payable_to(shop_id) == total == 125_000
    operator_user = factory.operator()
    clients = [sign_in(app.test_client(), operator_user) for _ in range(2)]

    real_payable_to = settlement.payable_to

    def slow_payable_to(shop_id: int, **kw) -> int:
        value = real_payable_to(shop_id, **kw)
        time.sleep(0.6)  # the other payout reaches its own check meanwhile
        return value

    monkeypatch.setattr(settlement, "payable_to", slow_payable_to)
    barrier = threading.Barrier(2)

    def pay(client, reference: str) -> str:
        barrier.wait()
        response = client.post(
            "/quan-tri/doi-soat/chi-tra",
            data={"shop_id": shop_id, "amount_vnd": str(total), "reference": reference},
            follow_redirects=True,
        )
        return response.get_data(as_text=True)

    pages = _together(lambda: pay(clients[0], "UNC-A"), lambda: pay(clients[1], "UNC-B"))
    assert _payouts(shop_id) == [-total]  # one payout of the 125.000, not two
    assert settlement.owed_to(shop_id) == 0
    assert sum("lớn hơn số tiền đã đến hạn trả" in str(page) for page in pages) == 1


def test_a_full_refund_and_a_partial_refund_at_once_give_back_the_money_once(
    app, factory, shopper, monkeypatch
):
    order = _paid_transfer_order(factory, shopper)
    total, order_id, code = order.total_vnd, order.id, order.code  # threads read no ORM objects
    operator_user = factory.operator()
    operator_id = operator_user.id
    operator = sign_in(app.test_client(), operator_user)

    real_transition = states.transition

    def slow_transition(order, target, **kw):
        if target == "refunded":
            time.sleep(0.8)  # the full refund has read what is left; the partial one commits now
        return real_transition(order, target, **kw)

    monkeypatch.setattr(states, "transition", slow_transition)

    def full() -> str:
        response = operator.post(
            f"/quan-tri/don-hang/{code}/hoan-tien",
            data={"reference": "FT-HOAN-HET", "note": ""},
            follow_redirects=True,
        )
        return response.get_data(as_text=True)

    def part() -> str:
        time.sleep(0.2)
        with app.app_context():
            payments.refund_part(
                db.session.get(Order, order_id),
                30_000,
                actor=db.session.get(User, operator_id),
                actor_role="operator",
                reference="FT-HOAN-MOT-PHAN",
            )
            db.session.commit()
        return "part"

    results = _together(full, part)
    order = reloaded(order)
    refunds = db.session.scalars(
        select(LedgerEntry.amount_vnd).where(
            LedgerEntry.order_id == order_id, LedgerEntry.kind != "collected"
        )
    ).all()
    # Whoever won, the money went back once: the ledger, the order and the payment agree, and
    # never more than the buyer paid.
    assert -sum(refunds) == order.refunded_vnd <= total, (refunds, order.refunded_vnd, results)
    assert db.session.get(Payment, order.payment_id).refunded_vnd == order.refunded_vnd
    assert settlement.owed_to(order.shop_id) == total - order.refunded_vnd
    if order.status == "refunded":  # the full refund won: it gave back all of it
        assert order.refunded_vnd == total
    else:  # the partial one won; the full refund was refused, not added on top
        assert (order.refunded_vnd, results[1]) == (30_000, "part")
        assert "vừa được cập nhật" in str(results[0])


def test_a_complaint_opened_while_a_payout_decides_holds_the_money_or_is_refused(
    app, factory, shopper, monkeypatch
):
    buyer = factory.user()
    sign_in(shopper.client, buyer)
    order = _paid_transfer_order(factory, shopper)
    total, shop_id, code = order.total_vnd, order.shop_id, order.code  # threads read no ORM objects
    operator = sign_in(app.test_client(), factory.operator())

    # A clock both sides read: the return window ends an hour from "now".
    start = utcnow()
    clock = {"now": start}
    monkeypatch.setattr(settlement, "utcnow", lambda: clock["now"])
    monkeypatch.setattr(complaints, "utcnow", lambda: clock["now"])
    db.session.execute(
        update(OrderEvent)
        .where(OrderEvent.order_id == order.id, OrderEvent.to_status == "delivered")
        .values(created_at=start - settlement.return_window() + timedelta(hours=1))
    )
    db.session.commit()
    assert settlement.payable_to(shop_id) == 0  # still in the window

    written = threading.Event()
    payout_sent = threading.Event()
    real_announce = complaints._announce

    def slow_announce(*args, **kw):
        written.set()  # the complaint is written, in time, and not committed yet
        payout_sent.wait(20)
        time.sleep(1.0)  # the payout reaches its check meanwhile
        return real_announce(*args, **kw)

    monkeypatch.setattr(complaints, "_announce", slow_announce)

    def complain() -> int:
        response = shopper.client.post(
            f"/don-hang/{code}/khieu-nai", data={"reason": "damaged", "description": "Cam dập"}
        )
        return response.status_code

    def pay() -> str:
        assert written.wait(20)
        clock["now"] = start + timedelta(hours=2)  # the window is over now
        payout_sent.set()
        response = operator.post(
            "/quan-tri/doi-soat/chi-tra",
            data={"shop_id": shop_id, "amount_vnd": str(total), "reference": "UNC-1"},
            follow_redirects=True,
        )
        return response.get_data(as_text=True)

    opened, page = _together(complain, pay)
    assert opened == 302
    assert db.session.scalar(select(func.count()).select_from(Complaint)) == 1
    # The payout waited for the complaint and saw it: the order's money stays held.
    assert _payouts(shop_id) == []
    assert "lớn hơn số tiền đã đến hạn trả" in str(page)
    assert settlement.payable_to(shop_id) == 0
