"""Complaints: the buyer opens one (with photos) within the return window, the shop answers, the
buyer accepts or takes it to the floor, the operator decides; every step is recorded and mailed,
refunds go through the payments path, and the floor holds the shop's money for the order until
the complaint is resolved (and the return window is over)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from orders_testlib import payment_code
from PIL import Image
from sqlalchemy import func, select, update

from marketplace.errors import Conflict, DomainError, Forbidden
from marketplace.extensions import db
from marketplace.images import image_dir
from marketplace.models import OutboxEvent
from marketplace.timeutil import utcnow
from orders import complaint_states, complaints, payments, services, settlement
from orders.models import (
    Complaint,
    ComplaintEvent,
    LedgerEntry,
    Order,
    OrderEvent,
    Payment,
)
from tests.support import image_bytes, reloaded, sign_in, sign_out

STEPS = ("confirmed", "packed", "shipped", "delivered")


def _advance(order: Order, owner, until: str) -> None:
    actions = {
        "confirmed": lambda: services.confirm_order(order, actor=owner),
        "packed": lambda: services.pack_order(order, {"parcel_weight_grams": "500"}, actor=owner),
        "shipped": lambda: services.ship_order(
            order, {"carrier": "GHN", "tracking_number": "G1"}, actor=owner
        ),
        "delivered": lambda: services.deliver_order(order, actor=owner),
    }
    for step in STEPS:
        actions[step]()
        if step == until:
            break
    db.session.commit()


def _order(app, factory, shopper, *, method="cod", member=None, until="delivered", price=100_000):
    """An order of a new shop placed by `shopper` (signed in as `member` when given), paid when
    it is not COD, taken by the shop's owner up to `until`. Returns (order, owner)."""
    if member is not None:
        sign_in(shopper.client, member)
    if method == "card":  # card payment offered; nothing here talks to Stripe
        app.config.update(STRIPE_SECRET_KEY="sk_test_complaints", STRIPE_PUBLISHABLE_KEY="pk_test_complaints")
    owner = factory.user(role="producer")
    listing = factory.listing(shop=factory.shop(owner=owner), stock=5, price=price)
    assert shopper.add(listing).status_code == 302
    code = payment_code(shopper.checkout(method))
    payment = db.session.scalar(select(Payment).where(Payment.code == code))
    if method != "cod":
        assert payments.mark_paid(payment, actor=None, actor_role="bank", reference="FT-THU")
        db.session.commit()
    order = reloaded(payment.orders[0])
    if until:
        _advance(order, owner, until)
    return reloaded(order), owner


def _delivered_days_ago(order: Order, days: float) -> None:
    db.session.execute(
        update(OrderEvent)
        .where(OrderEvent.order_id == order.id, OrderEvent.to_status == "delivered")
        .values(created_at=utcnow() - timedelta(days=days))
    )
    db.session.commit()


def _complaint(order: Order) -> Complaint:
    db.session.expire_all()
    return db.session.scalar(select(Complaint).where(Complaint.order_id == order.id))


def _mails() -> list[tuple[str, str]]:
    """(to, subject) of every mail recorded in the outbox so far."""
    db.session.expire_all()
    rows = db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.topic == "mail.send").order_by(OutboxEvent.id)
    )
    return [(row.payload["to"], row.payload["subject"]) for row in rows]


def _complaint_mails() -> list[tuple[str, str]]:
    return [(to, subject) for to, subject in _mails() if subject.startswith("Khiếu nại đơn")]


def _post_complaint(client, order, *, reason="damaged", description="Cam bị dập, 2 quả hỏng.", photos=()):
    data = {"reason": reason, "description": description}
    if photos:
        data["photos"] = [(io.BytesIO(blob), f"anh-{n}.jpg") for n, blob in enumerate(photos)]
    return client.post(f"/don-hang/{order.code}/khieu-nai", data=data, content_type="multipart/form-data")


def _exif_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[2] = (21.0, 1.0, 2.0)
    exif[0x8825] = gps
    return exif.tobytes()


def _held_and_payable(shop_id: int) -> tuple[int, int]:
    held = settlement.held_by_shop([shop_id]).get(shop_id, 0)
    return held, settlement.payable_to(shop_id)


# --- the state machine ------------------------------------------------------------------------


def test_transition_table():
    T = complaint_states.TRANSITIONS
    assert T["open"] == {"answered", "escalated", "refunded", "rejected"}  # the last two: the operator
    assert T["answered"] == {"escalated", "refunded", "refund_due", "replaced", "rejected"}
    assert T["escalated"] == {"refunded", "rejected"} and T["refund_due"] == {"refunded"}
    for final in ("refunded", "replaced", "rejected"):
        assert T[final] == frozenset() and final not in complaint_states.UNRESOLVED
    assert {"open", "answered", "escalated", "refund_due"} == complaint_states.UNRESOLVED
    assert {"escalated", "refund_due"} == complaint_states.FOR_OPERATOR


def test_a_stale_complaint_loses_the_race(app, factory, shopper):
    buyer = factory.user()
    order, owner = _order(app, factory, shopper, member=buyer)
    complaint = complaints.open_complaint(order, {"reason": "damaged", "description": "Dập"}, [], actor=buyer)
    db.session.commit()
    assert complaint.status == "open"  # loaded; then another process moves it on
    db.session.execute(
        update(Complaint)
        .where(Complaint.id == complaint.id)
        .values(status="escalated")
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(Conflict) as exc:  # the object still says "open", as another request's would
        complaint_states.transition(
            complaint, "answered", action="offer_reject", actor=owner, actor_role="shop"
        )
    assert "vừa được cập nhật" in exc.value.message
    db.session.rollback()


# --- the whole flow ---------------------------------------------------------------------------


def test_open_with_photos_shop_rejects_buyer_escalates_operator_refunds_part(app, factory, shopper):
    buyer = factory.user(email="mua@example.vn")
    order, owner = _order(app, factory, shopper, method="bank_transfer", member=buyer)
    total = order.total_vnd  # 125.000: 100.000 + the default 25.000 shipping
    client = shopper.client

    # The order page offers a complaint until the return window ends.
    page = client.get(f"/don-hang/{order.code}").get_data(as_text=True)
    assert f"/don-hang/{order.code}/khieu-nai" in page and "Khiếu nại đơn hàng" in page
    form = client.get(f"/don-hang/{order.code}/khieu-nai").get_data(as_text=True)
    for reason in ("not_received", "wrong_item", "damaged", "other"):
        assert f'value="{reason}"' in form
    assert 'enctype="multipart/form-data"' in form

    with_gps = image_bytes(exif=_exif_with_gps())
    r = _post_complaint(client, order, photos=[with_gps, image_bytes(color=(10, 200, 10))])
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/don-hang/{order.code}#khieu-nai")
    complaint = _complaint(order)
    assert (complaint.status, complaint.reason, complaint.opened_by_id) == ("open", "damaged", buyer.id)
    assert len(complaint.photo_keys) == 2
    with Image.open(image_dir(complaint.photo_keys[0], private=True) / "orig.jpg") as stored:
        assert not stored.getexif().get(0x8825) and not stored.getexif().get(0x010F)  # metadata gone
    assert [(e.action, e.actor_role, e.actor_id) for e in complaint.events] == [("opened", "buyer", buyer.id)]
    owner_mail = owner.email
    assert [to for to, _s in _complaint_mails()] == [owner_mail]

    # The shop sees it on its order page and under "needs attention"; the floor holds the money.
    seller = sign_in(app.test_client(), owner)
    shop_page = seller.get(f"/kenh-ban/{order.shop.slug}/don-hang/{order.code}").get_data(as_text=True)
    assert "Khiếu nại của người mua" in shop_page and "Cam bị dập" in shop_page
    assert f"/don-hang/{order.code}/khieu-nai/anh/2/320.jpg" in shop_page  # the photos
    inbox = seller.get(f"/kenh-ban/{order.shop.slug}/don-hang?tab=problems").get_data(as_text=True)
    assert order.code in inbox and "Khiếu nại" in inbox
    assert _held_and_payable(order.shop_id) == (total, 0)

    # The shop rejects (a reason is required), the buyer is told.
    url = f"/kenh-ban/{order.shop.slug}/don-hang/{order.code}/khieu-nai"
    html = seller.post(url, data={"offer": "reject"}, follow_redirects=True).get_data(as_text=True)
    assert "Vui lòng cho người mua biết lý do từ chối." in html and _complaint(order).status == "open"
    seller.post(url, data={"offer": "reject", "note": "Hàng đã kiểm trước khi giao."})
    complaint = _complaint(order)
    assert (complaint.status, complaint.offer, complaint.offer_note) == (
        "answered",
        "reject",
        "Hàng đã kiểm trước khi giao.",
    )
    assert _complaint_mails()[-1][0] == order.email == buyer.email
    assert seller.post(url, data={"offer": "replacement"}).status_code == 302  # answered once only
    assert _complaint(order).offer == "reject"

    # The buyer takes it to the floor; the shop and every operator hear of it.
    operator_user = factory.operator(email="xuly@example.gov.vn")
    page = client.get(f"/don-hang/{order.code}").get_data(as_text=True)
    assert "Từ chối khiếu nại" in page and "Đề nghị sàn giải quyết" in page
    r = client.post(
        f"/don-hang/{order.code}/khieu-nai/de-nghi-san", data={"reason": "Ảnh cho thấy hàng dập."}
    )
    assert r.status_code == 302 and _complaint(order).status == "escalated"
    escalated_to = {to for to, subject in _complaint_mails() if "đề nghị sàn" in subject}
    assert {owner_mail, operator_user.email} <= escalated_to

    # The operator's queue has it, and the home page counts it.
    operator = sign_in(app.test_client(), operator_user)
    assert "Khiếu nại (1 chờ xử lý)" in operator.get("/quan-tri/").get_data(as_text=True)
    queue = operator.get("/quan-tri/khieu-nai").get_data(as_text=True)
    assert order.code in queue and "Chờ sàn quyết định" in queue
    detail = operator.get(f"/quan-tri/khieu-nai/{order.code}").get_data(as_text=True)
    assert "Quyết định của sàn" in detail and "Cam bị dập" in detail

    # A refund of part: a transfer needs the reference of the money sent back.
    decide = f"/quan-tri/khieu-nai/{order.code}/quyet-dinh"
    r = operator.post(decide, data={"decision": "refund", "amount_vnd": "50.000", "note": "Hai quả hỏng"})
    assert r.status_code == 422 and "Vui lòng nhập mã giao dịch hoàn tiền." in r.get_data(as_text=True)
    r = operator.post(
        decide, data={"decision": "refund", "amount_vnd": str(total + 1), "note": "x", "reference": "R"}
    )
    assert r.status_code == 422 and _complaint(order).status == "escalated"
    r = operator.post(
        decide,
        data={"decision": "refund", "amount_vnd": "50.000", "note": "Hai quả hỏng", "reference": "FT-HOAN-9"},
    )
    assert r.status_code == 302
    complaint, order = _complaint(order), reloaded(order)
    assert (complaint.status, complaint.refund_vnd) == ("refunded", 50_000)
    assert (order.status, order.refunded_vnd, order.refund_reference) == ("delivered", 50_000, "FT-HOAN-9")
    assert "Hoàn một phần" in order.events[-1].note and order.events[-1].actor_role == "operator"
    kinds = {
        e.kind: e.amount_vnd
        for e in db.session.scalars(select(LedgerEntry).where(LedgerEntry.order_id == order.id))
    }
    assert kinds == {"collected": total, "partial_refund": -50_000}
    assert db.session.get(Payment, order.payment_id).refunded_vnd == 50_000
    last = {to for to, subject in _complaint_mails() if "Sàn quyết định hoàn tiền" in subject}
    assert last == {buyer.email, owner_mail}

    # Every step is on the buyer's page, who did it and when.
    page = client.get(f"/don-hang/{order.code}").get_data(as_text=True)
    for text in ("Người mua mở khiếu nại", "Cửa hàng từ chối khiếu nại", "Người mua đề nghị sàn giải quyết"):
        assert text in page
    assert "Sàn quyết định hoàn tiền" in page and "50.000" in page and "ban quản lý sàn" in page
    events = _complaint(order).events
    assert [(e.action, e.actor_role) for e in events] == [
        ("opened", "buyer"),
        ("offer_reject", "shop"),
        ("escalated", "buyer"),
        ("decided_refund", "operator"),
    ]
    assert events[-1].actor_id == operator_user.id and events[-1].amount_vnd == 50_000
    assert "Khiếu nại (1" not in operator.get("/quan-tri/").get_data(as_text=True)

    # Resolved, but delivered just now: still held for the return window; payable after it.
    assert _held_and_payable(order.shop_id) == (total - 50_000, 0)
    _delivered_days_ago(order, 3.1)
    assert _held_and_payable(order.shop_id) == (0, total - 50_000)
    # The rest can still be refunded from the order page: only what is left goes back.
    payments.operator_refund(order, actor=operator_user, reference="FT-HOAN-10", note="Hoàn nốt")
    db.session.commit()
    order = reloaded(order)
    assert (order.status, order.refunded_vnd) == ("refunded", total)
    refunds = db.session.scalars(
        select(LedgerEntry.amount_vnd).where(
            LedgerEntry.order_id == order.id, LedgerEntry.kind != "collected"
        )
    ).all()
    assert sorted(refunds) == [-(total - 50_000), -50_000] and settlement.owed_to(order.shop_id) == 0


def test_shop_refund_accepted_by_a_guest_goes_back_to_the_card(app, factory, shopper):
    order, owner = _order(app, factory, shopper, method="card")
    assert order.buyer_id is None and order.paid  # a guest's order; this browser holds its link
    staff = factory.user(role="producer", email="nhanvien@shop.vn")
    from sellers.models import ShopMember

    db.session.add(ShopMember(shop_id=order.shop_id, user_id=staff.id, role="staff"))
    db.session.commit()

    assert (
        _post_complaint(
            shopper.client, order, reason="wrong_item", description="Giao bưởi thay cam"
        ).status_code
        == 302
    )
    assert _complaint(order).opened_by_id is None

    # Staff handle orders, so they answer: a refund, blank amount = all of it.
    seller = sign_in(app.test_client(), staff)
    seller.post(
        f"/kenh-ban/{order.shop.slug}/don-hang/{order.code}/khieu-nai",
        data={"offer": "refund", "note": "Xin lỗi"},
    )
    complaint = _complaint(order)
    assert (complaint.status, complaint.offer, complaint.offer_vnd) == ("answered", "refund", order.total_vnd)
    assert complaint.events[-1].actor_id == staff.id and complaint.events[-1].actor_role == "shop"
    assert _complaint_mails()[-1][0] == order.email  # the guest's address

    page = shopper.client.get(f"/don-hang/{order.code}").get_data(as_text=True)
    assert "Hoàn tiền" in page and "Đồng ý" in page
    assert shopper.client.post(f"/don-hang/{order.code}/khieu-nai/dong-y").status_code == 302
    complaint, order = _complaint(order), reloaded(order)
    assert (complaint.status, complaint.refund_vnd) == ("refunded", order.total_vnd)
    assert complaint.events[-1].action == "accepted" and complaint.events[-1].actor_role == "buyer"
    assert (order.status, order.refunded_vnd) == ("refunded", order.total_vnd)
    assert order.events[-1].actor_role == "system"
    # Through Stripe by the worker: one outbox row, keyed per order, with the amount.
    refund = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "payment.stripe_refund"))
    assert refund.idempotency_key == f"stripe-refund:order:{order.id}"
    assert refund.payload == {"payment_id": order.payment_id, "order_id": order.id, "amount": order.total_vnd}
    owner_mails = [s for to, s in _complaint_mails() if to == owner.email]
    assert any("Người mua đồng ý" in s for s in owner_mails)
    assert _held_and_payable(order.shop_id) == (0, 0)  # collected and refunded: nothing owed


def test_accepted_refund_of_a_transfer_waits_for_the_operator(app, factory, shopper):
    buyer = factory.user()
    order, owner = _order(app, factory, shopper, method="bank_transfer", member=buyer)
    complaints.open_complaint(order, {"reason": "damaged", "description": "Vỡ"}, [], actor=buyer)
    complaints.answer_complaint(_complaint(order), {"offer": "refund", "amount_vnd": "30000"}, actor=owner)
    db.session.commit()
    operator_user = factory.operator()
    shopper.client.post(f"/don-hang/{order.code}/khieu-nai/dong-y")
    assert _complaint(order).status == "refund_due" and reloaded(order).refunded_vnd == 0
    assert any(to == operator_user.email for to, s in _complaint_mails() if "Người mua đồng ý" in s)

    operator = sign_in(app.test_client(), operator_user)
    assert order.code in operator.get("/quan-tri/khieu-nai").get_data(as_text=True)
    url = f"/quan-tri/khieu-nai/{order.code}/da-hoan-tien"
    r = operator.post(url, data={"reference": ""})
    assert r.status_code == 422 and "Vui lòng nhập mã giao dịch hoàn tiền." in r.get_data(as_text=True)
    assert operator.post(url, data={"reference": "FT-TRA-1"}).status_code == 302
    complaint, order = _complaint(order), reloaded(order)
    assert (complaint.status, complaint.refund_vnd, order.refunded_vnd) == ("refunded", 30_000, 30_000)
    assert order.status == "delivered" and complaint.events[-1].action == "refund_recorded"
    assert (
        db.session.scalar(select(LedgerEntry.amount_vnd).where(LedgerEntry.kind == "partial_refund"))
        == -30_000
    )


def test_replacement_and_accepted_rejection_close_the_complaint(app, factory, shopper):
    buyer = factory.user()
    first, owner = _order(app, factory, shopper, member=buyer)
    complaints.open_complaint(first, {"reason": "damaged", "description": "Dập"}, [], actor=buyer)
    complaints.answer_complaint(
        _complaint(first), {"offer": "replacement", "note": "Gửi lại mai"}, actor=owner
    )
    complaints.accept_offer(_complaint(first), actor=buyer)
    db.session.commit()
    assert _complaint(first).status == "replaced" and reloaded(first).refunded_vnd == 0

    second, owner2 = _order(app, factory, shopper)
    complaints.open_complaint(second, {"reason": "other", "description": "Không ngon"}, [], actor=buyer)
    complaints.answer_complaint(_complaint(second), {"offer": "reject", "note": "Đúng mô tả"}, actor=owner2)
    complaints.accept_offer(_complaint(second), actor=buyer)
    db.session.commit()
    assert _complaint(second).status == "rejected"


def test_operator_rejects_with_a_reason(app, factory, shopper):
    buyer = factory.user()
    order, _owner = _order(app, factory, shopper, member=buyer)
    complaint = complaints.open_complaint(order, {"reason": "other", "description": "Chậm"}, [], actor=buyer)
    db.session.execute(update(Complaint).values(answer_due_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    complaints.escalate(_complaint(order), {"note": "Cửa hàng không trả lời"}, actor=buyer)
    db.session.commit()
    operator_user = factory.operator()
    operator = sign_in(app.test_client(), operator_user)
    url = f"/quan-tri/khieu-nai/{order.code}/quyet-dinh"
    r = operator.post(url, data={"decision": "reject"})
    assert r.status_code == 422 and "Vui lòng ghi rõ căn cứ của quyết định." in r.get_data(as_text=True)
    assert operator.post(url, data={"decision": "reject", "note": "Giao đúng hạn"}).status_code == 302
    complaint = _complaint(order)
    assert complaint.status == "rejected" and complaint.events[-1].note == "Giao đúng hạn"
    assert complaint.events[-1].actor_id == operator_user.id
    assert reloaded(order).status == "delivered"


# --- permissions ------------------------------------------------------------------------------


def test_only_the_buyer_or_the_guest_link_opens_accepts_and_escalates(app, factory, shopper):
    buyer = factory.user(email="that@example.vn")
    order, owner = _order(app, factory, shopper, member=buyer)
    other_buyer = sign_in(app.test_client(), factory.user())
    anonymous = app.test_client()
    seller = sign_in(app.test_client(), owner)
    operator = sign_in(app.test_client(), factory.operator())
    url = f"/don-hang/{order.code}/khieu-nai"

    assert other_buyer.get(url).status_code == 404
    assert _post_complaint(other_buyer, order).status_code == 404
    r = anonymous.get(url)
    assert r.status_code == 302 and "/dang-nhap" in r.headers["Location"]
    assert _post_complaint(anonymous, order).status_code == 404
    r = seller.get(url)  # the shop is sent to its own page of the order
    assert (
        r.status_code == 302 and f"/kenh-ban/{order.shop.slug}/don-hang/{order.code}" in r.headers["Location"]
    )
    assert _post_complaint(seller, order).status_code == 403
    assert _post_complaint(operator, order).status_code == 403
    assert _complaint(order) is None

    for actor in (owner, factory.user(), factory.operator(), None):
        with pytest.raises(Forbidden):
            complaints.open_complaint(order, {"reason": "damaged", "description": "x"}, [], actor=actor)
        db.session.rollback()

    assert _post_complaint(shopper.client, order).status_code == 302
    complaints.answer_complaint(_complaint(order), {"offer": "reject", "note": "Không"}, actor=owner)
    db.session.commit()
    for client in (other_buyer, anonymous):
        assert client.post(f"{url}/dong-y").status_code == 404
        assert client.post(f"{url}/de-nghi-san").status_code == 404
    for client in (seller, operator):
        assert client.post(f"{url}/dong-y").status_code == 403
        assert client.post(f"{url}/de-nghi-san").status_code == 403
    assert _complaint(order).status == "answered"
    # Nobody else sees it on the buyer's page either.
    assert "Cam bị dập" not in other_buyer.get(f"/don-hang/{order.code}").get_data(as_text=True)


def test_guest_link_grant_ends_at_sign_in(app, factory, shopper):
    order, _owner = _order(app, factory, shopper)  # a guest's, granted to this browser at checkout
    assert shopper.client.get(f"/don-hang/{order.code}/khieu-nai").status_code == 200
    sign_in(shopper.client, factory.user())
    assert shopper.client.get(f"/don-hang/{order.code}/khieu-nai").status_code == 404
    assert _post_complaint(shopper.client, order).status_code == 404
    assert _complaint(order) is None


def test_other_shops_buyers_and_the_operator_cannot_answer(app, factory, shopper):
    buyer = factory.user()
    order, owner = _order(app, factory, shopper, member=buyer)
    complaints.open_complaint(order, {"reason": "damaged", "description": "Dập"}, [], actor=buyer)
    db.session.commit()
    url = f"/kenh-ban/{order.shop.slug}/don-hang/{order.code}/khieu-nai"
    other_owner = factory.user(role="producer")
    factory.shop(owner=other_owner)
    operator_user = factory.operator()
    for user in (other_owner, buyer, operator_user):
        client = sign_in(app.test_client(), user)
        assert client.post(url, data={"offer": "reject", "note": "x"}).status_code == 404
    for user in (other_owner, buyer, operator_user, None):
        with pytest.raises(Forbidden):
            complaints.answer_complaint(_complaint(order), {"offer": "reject", "note": "x"}, actor=user)
    assert _complaint(order).status == "open"
    # The shop's other order pages and the buyer cannot reach the operator's decision either.
    for user in (owner, buyer):
        client = sign_in(app.test_client(), user)
        assert client.get(f"/quan-tri/khieu-nai/{order.code}").status_code == 403
        assert (
            client.post(
                f"/quan-tri/khieu-nai/{order.code}/quyet-dinh", data={"decision": "reject"}
            ).status_code
            == 403
        )
    with pytest.raises(Forbidden):
        complaints.decide(_complaint(order), {"decision": "reject", "note": "x"}, actor=owner)


# --- the window -------------------------------------------------------------------------------


def test_complaints_open_from_shipping_for_not_received_and_after_delivery_for_the_window(
    app, factory, shopper
):
    buyer = factory.user()
    placed, owner = _order(app, factory, shopper, member=buyer, until=None)
    r = shopper.client.get(f"/don-hang/{placed.code}/khieu-nai", follow_redirects=True)
    assert "Bạn có thể khiếu nại khi đơn đang được giao hoặc đã giao." in r.get_data(as_text=True)
    assert "Khiếu nại đơn hàng" not in shopper.client.get(f"/don-hang/{placed.code}").get_data(as_text=True)
    with pytest.raises(Conflict):
        complaints.open_complaint(placed, {"reason": "not_received", "description": "x"}, [], actor=buyer)
    db.session.rollback()

    _advance(placed, owner, "shipped")
    shipped = reloaded(placed)
    form = shopper.client.get(f"/don-hang/{shipped.code}/khieu-nai").get_data(as_text=True)
    assert 'value="not_received"' in form and 'value="damaged"' not in form
    r = _post_complaint(shopper.client, shipped, reason="damaged")
    assert r.status_code == 422 and "chỉ có thể báo chưa nhận được hàng" in r.get_data(as_text=True)
    assert _post_complaint(shopper.client, shipped, reason="not_received").status_code == 302
    assert _complaint(shipped).reason == "not_received"
    # One complaint per order: a second goes to the first.
    r = _post_complaint(shopper.client, shipped, reason="not_received", description="Lần hai")
    assert (
        r.status_code == 302
        and db.session.scalar(select(ComplaintEvent.id).where(ComplaintEvent.note == "Lần hai")) is None
    )

    late, _owner = _order(app, factory, shopper)
    _delivered_days_ago(late, 3.01)  # ORDER_RETURN_WINDOW_DAYS = 3
    r = _post_complaint(shopper.client, late)
    assert r.status_code == 302 and _complaint(late) is None
    assert "Đã hết thời hạn khiếu nại: 3 ngày" in shopper.client.get(r.headers["Location"]).get_data(
        as_text=True
    )
    in_time, _owner = _order(app, factory, shopper)
    _delivered_days_ago(in_time, 2.9)
    assert _post_complaint(shopper.client, in_time).status_code == 302 and _complaint(in_time) is not None

    app.config["ORDER_RETURN_WINDOW_DAYS"] = 7  # the setting moves the window
    assert complaints.opening_refusal(reloaded(late)) is None


def test_completed_orders_count_from_delivery_too(app, factory, shopper):
    buyer = factory.user()
    order, _owner = _order(app, factory, shopper, member=buyer)
    services.buyer_received(order, actor=buyer)
    db.session.commit()
    assert reloaded(order).status == "completed"
    assert complaints.reasons_open(reloaded(order)) == ["not_received", "wrong_item", "damaged", "other"]
    _delivered_days_ago(order, 4)
    assert complaints.reasons_open(reloaded(order)) == []


def test_description_and_photo_limits(app, factory, shopper):
    order, _owner = _order(app, factory, shopper)
    r = _post_complaint(shopper.client, order, description="  ")
    assert r.status_code == 422 and "Vui lòng mô tả vấn đề của đơn hàng." in r.get_data(as_text=True)
    r = _post_complaint(shopper.client, order, photos=[image_bytes(color=(i, 0, 0)) for i in range(6)])
    assert r.status_code == 422 and "Tối đa 5 ảnh." in r.get_data(as_text=True)
    r = _post_complaint(shopper.client, order, photos=[b"not a picture"])
    assert r.status_code == 422 and "không phải là ảnh hợp lệ" in r.get_data(as_text=True)
    assert _complaint(order) is None
    r = _post_complaint(shopper.client, order, photos=[image_bytes(color=(40 * i, 9, 9)) for i in range(5)])
    assert r.status_code == 302 and len(_complaint(order).photo_keys) == 5


def test_the_buyer_may_escalate_an_unanswered_complaint_only_after_the_shops_time(app, factory, shopper):
    buyer = factory.user()
    order, _owner = _order(app, factory, shopper, member=buyer)
    assert _post_complaint(shopper.client, order).status_code == 302
    complaint = _complaint(order)
    assert abs((complaint.answer_due_at - complaint.created_at) - timedelta(days=2)) < timedelta(seconds=5)
    page = shopper.client.get(f"/don-hang/{order.code}").get_data(as_text=True)
    assert "để trả lời" in page and "Đề nghị sàn giải quyết" not in page
    html = shopper.client.post(
        f"/don-hang/{order.code}/khieu-nai/de-nghi-san", follow_redirects=True
    ).get_data(as_text=True)
    assert "Cửa hàng có thời hạn trả lời đến" in html and _complaint(order).status == "open"
    db.session.execute(update(Complaint).values(answer_due_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert "Đề nghị sàn giải quyết" in shopper.client.get(f"/don-hang/{order.code}").get_data(as_text=True)
    shopper.client.post(f"/don-hang/{order.code}/khieu-nai/de-nghi-san")
    assert _complaint(order).status == "escalated"
    operator = sign_in(app.test_client(), factory.operator())
    assert order.code in operator.get("/quan-tri/khieu-nai?view=operator").get_data(as_text=True)


def test_an_unpaid_cod_order_has_nothing_to_refund(app, factory, shopper):
    buyer = factory.user()
    order, owner = _order(app, factory, shopper, member=buyer, until="shipped")
    complaints.open_complaint(order, {"reason": "not_received", "description": "Chưa thấy"}, [], actor=buyer)
    db.session.commit()
    seller = sign_in(app.test_client(), owner)
    page = seller.get(f"/kenh-ban/{order.shop.slug}/don-hang/{order.code}").get_data(as_text=True)
    assert 'value="refund"' not in page and 'value="replacement"' in page
    html = seller.post(
        f"/kenh-ban/{order.shop.slug}/don-hang/{order.code}/khieu-nai",
        data={"offer": "refund"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "không có gì để hoàn" in html and _complaint(order).status == "open"


# --- the settlement hold ----------------------------------------------------------------------


def test_settlement_is_held_until_delivery_plus_the_window_and_while_a_complaint_is_open(
    app, factory, shopper
):
    buyer = factory.user()
    order, owner = _order(app, factory, shopper, method="bank_transfer", member=buyer, until=None)
    total, shop_id = order.total_vnd, order.shop_id
    assert _held_and_payable(shop_id) == (total, 0)  # paid, not delivered
    _advance(order, owner, "delivered")
    assert _held_and_payable(shop_id) == (total, 0)  # delivered now: in the return window
    _delivered_days_ago(order, 2)
    assert _held_and_payable(shop_id) == (total, 0)
    complaints.open_complaint(reloaded(order), {"reason": "damaged", "description": "Dập"}, [], actor=buyer)
    db.session.commit()
    _delivered_days_ago(order, 10)
    assert _held_and_payable(shop_id) == (total, 0)  # the window is over, the complaint is not
    operator_user = factory.operator()
    operator = sign_in(app.test_client(), operator_user)
    html = operator.post(
        "/quan-tri/doi-soat/chi-tra",
        data={"shop_id": shop_id, "amount_vnd": "1000", "reference": "UNC1"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "lớn hơn số tiền đã đến hạn trả" in html
    assert db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "payout")) is None

    complaints.answer_complaint(_complaint(order), {"offer": "reject", "note": "Đúng hàng"}, actor=owner)
    complaints.accept_offer(_complaint(order), actor=buyer)
    db.session.commit()
    assert _held_and_payable(shop_id) == (0, total)  # resolved and past the window: payable

    page = operator.get("/quan-tri/doi-soat").get_data(as_text=True)
    assert 'class="num held">0' in page and f'name="amount_vnd" value="{total}"' in page
    html = operator.post(
        "/quan-tri/doi-soat/chi-tra",
        data={"shop_id": shop_id, "amount_vnd": str(total + 1), "reference": "UNC2"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "lớn hơn số tiền đã đến hạn trả" in html
    operator.post(
        "/quan-tri/doi-soat/chi-tra", data={"shop_id": shop_id, "amount_vnd": str(total), "reference": "UNC3"}
    )
    assert settlement.owed_to(shop_id) == 0 and _held_and_payable(shop_id) == (0, 0)


def test_ledger_page_and_csv_show_held_and_payable_apart_per_shop(app, factory, shopper):
    held_order, _o1 = _order(app, factory, shopper, method="bank_transfer")
    ripe_order, _o2 = _order(app, factory, shopper, method="bank_transfer", price=200_000)
    _delivered_days_ago(ripe_order, 5)
    operator = sign_in(app.test_client(), factory.operator())
    page = operator.get("/quan-tri/doi-soat").get_data(as_text=True)
    assert "Tạm giữ" in page and "Đến hạn trả" in page
    rows = {}
    for shop in (held_order.shop, ripe_order.shop):
        row = page.split(shop.name, 1)[1].split("</tr>", 1)[0]
        rows[shop.id] = row
    assert 'class="num held">125.000' in rows[held_order.shop_id]
    assert 'class="num payable"><strong>0' in rows[held_order.shop_id]
    assert "chi-tra" not in rows[held_order.shop_id]  # nothing payable: no payout form
    assert 'class="num held">0' in rows[ripe_order.shop_id]
    assert 'class="num payable"><strong>225.000' in rows[ripe_order.shop_id]

    import csv

    text = operator.get("/quan-tri/doi-soat.csv").get_data(as_text=True).lstrip("\ufeff")
    by_order = {r["order"]: r for r in csv.DictReader(io.StringIO(text))}
    assert by_order[held_order.code]["held"] == "1" and by_order[ripe_order.code]["held"] == "0"
    assert by_order[ripe_order.code]["payable_from"] and by_order[held_order.code]["payable_from"]


def test_refunds_never_exceed_what_was_paid(app, factory, shopper):
    buyer = factory.user()
    order, _owner = _order(app, factory, shopper, method="bank_transfer", member=buyer)
    operator_user = factory.operator()
    payments.refund_part(order, 40_000, actor=operator_user, actor_role="operator", reference="R1")
    db.session.commit()
    with pytest.raises(Conflict):  # one partial refund per order; the rest goes with refund_order
        payments.refund_part(
            reloaded(order), 10_000, actor=operator_user, actor_role="operator", reference="R2"
        )
    db.session.rollback()

    with pytest.raises(DomainError):
        payments.refund_part(
            reloaded(order), order.total_vnd, actor=operator_user, actor_role="operator", reference="R3"
        )
    db.session.rollback()
    # The database refuses more than the total whatever the code says.
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        db.session.execute(update(Order).where(Order.id == order.id).values(refunded_vnd=order.total_vnd + 1))
        db.session.flush()
    db.session.rollback()


def test_inbox_needs_attention_counts_open_complaints(app, factory, shopper):
    buyer = factory.user()
    order, owner = _order(app, factory, shopper, member=buyer)
    from orders.seller_views import tab_counts

    assert tab_counts(order.shop)["problems"] == 0
    complaints.open_complaint(order, {"reason": "damaged", "description": "Dập"}, [], actor=buyer)
    db.session.commit()
    assert tab_counts(order.shop)["problems"] == 1
    complaints.answer_complaint(_complaint(order), {"offer": "replacement"}, actor=owner)
    complaints.accept_offer(_complaint(order), actor=buyer)
    db.session.commit()
    assert tab_counts(order.shop)["problems"] == 0
    sign_out(shopper.client)


def test_card_refunds_in_two_parts_go_to_stripe_as_two_amounts(app, factory, shopper):
    order, _owner = _order(app, factory, shopper, method="card")
    operator_user = factory.operator()
    payments.refund_part(order, 20_000, actor=operator_user, actor_role="operator", note="Một quả hỏng")
    payments.refund_order(reloaded(order), actor=operator_user, actor_role="operator")
    db.session.commit()
    rows = db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.topic == "payment.stripe_refund").order_by(OutboxEvent.id)
    ).all()
    assert [(r.idempotency_key, r.payload["amount"]) for r in rows] == [
        (f"stripe-refund:order:{order.id}:part", 20_000),
        (f"stripe-refund:order:{order.id}", order.total_vnd - 20_000),
    ]
    assert db.session.get(Payment, order.payment_id).refunded_vnd == order.total_vnd


# --- deadlines: no complaint holds the shop's money forever ----------------------------------


def test_the_deadline_is_checked_again_after_the_photos(app, factory, shopper, monkeypatch):
    """Photos take time: a complaint started in the window but written after it is refused (a
    payout may already have treated the order's money as payable)."""
    order, _owner = _order(app, factory, shopper, method="bank_transfer")
    start = utcnow()
    clock = {"now": start}
    monkeypatch.setattr(complaints, "utcnow", lambda: clock["now"])
    db.session.execute(
        update(OrderEvent)
        .where(OrderEvent.order_id == order.id, OrderEvent.to_status == "delivered")
        .values(created_at=start - settlement.return_window() + timedelta(minutes=1))
    )
    db.session.commit()
    real = complaints.process_image

    def slow(blob, **kw):
        clock["now"] = start + timedelta(minutes=2)  # the window closed while the photo was read
        return real(blob, **kw)

    monkeypatch.setattr(complaints, "process_image", slow)
    r = _post_complaint(shopper.client, order, photos=[image_bytes()])
    assert r.status_code == 422 and "Đã hết thời hạn khiếu nại" in r.get_data(as_text=True)
    assert _complaint(order) is None


def _answered(app, factory, shopper, *, method="bank_transfer", offer="reject", amount=None):
    buyer = factory.user()
    order, owner = _order(app, factory, shopper, method=method, member=buyer)
    complaints.open_complaint(order, {"reason": "damaged", "description": "Dập"}, [], actor=buyer)
    data = {"offer": offer, "note": "Đúng hàng" if offer == "reject" else None, "amount_vnd": amount}
    complaints.answer_complaint(_complaint(order), data, actor=owner)
    db.session.commit()
    return order, owner, buyer


def _due_now(complaint: Complaint) -> None:
    """Move the buyer's reply deadline (and the event due then) into the past."""
    past = utcnow() - timedelta(seconds=1)
    db.session.execute(update(Complaint).where(Complaint.id == complaint.id).values(reply_due_at=past))
    db.session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.idempotency_key == f"complaint.accept:{complaint.id}")
        .values(next_attempt_at=past)
    )
    db.session.commit()


def test_an_answer_the_buyer_ignores_stands_after_the_reply_time(app, factory, shopper):
    from orders_testlib import drain

    order, owner, buyer = _answered(app, factory, shopper)
    complaint = _complaint(order)
    answered_at = complaint.events[-1].created_at
    assert abs(complaint.reply_due_at - answered_at - timedelta(days=7)) < timedelta(seconds=5)
    due = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "complaint.accept"))
    assert (due.payload, due.next_attempt_at) == ({"complaint_id": complaint.id}, complaint.reply_due_at)
    page = shopper.client.get(f"/don-hang/{order.code}").get_data(as_text=True)
    assert "khiếu nại kết thúc theo trả lời của cửa hàng" in page  # the buyer is told the deadline
    _delivered_days_ago(order, 10)
    assert _held_and_payable(order.shop_id) == (order.total_vnd, 0)  # held while answered

    drain()  # not due yet: the worker leaves it
    assert _complaint(order).status == "answered"
    _due_now(complaint)
    # Past the deadline the buyer can no longer take it to the floor (the answer stands).
    assert "Đề nghị sàn giải quyết" not in shopper.client.get(f"/don-hang/{order.code}").get_data(
        as_text=True
    )
    with pytest.raises(Conflict, match="Đã hết thời hạn đề nghị sàn giải quyết"):
        complaints.escalate(_complaint(order), {}, actor=buyer)
    db.session.rollback()
    drain()
    complaint = _complaint(order)
    assert complaint.status == "rejected"
    assert [(e.action, e.actor_role, e.actor_id) for e in complaint.events][-1] == (
        "auto_accepted",
        "system",
        None,
    )
    assert _held_and_payable(order.shop_id) == (0, order.total_vnd)  # the money is the shop's now
    closed = [to for to, subject in _complaint_mails() if "Người mua không trả lời" in subject]
    assert sorted(closed) == sorted([buyer.email, owner.email])
    # Run again (at least once delivery): nothing more happens.
    assert complaints.accept_when_due(complaint.id) is False
    assert len(_complaint(order).events) == 3


def test_an_ignored_refund_offer_goes_to_the_floor_to_send_and_a_decided_one_is_left_alone(
    app, factory, shopper
):
    from orders_testlib import drain

    order, _owner, _buyer = _answered(app, factory, shopper, offer="refund", amount="40000")
    operator_user = factory.operator()
    _due_now(_complaint(order))
    drain()
    complaint = _complaint(order)
    assert (complaint.status, complaint.events[-1].action) == ("refund_due", "auto_accepted")
    assert any(to == operator_user.email for to, s in _complaint_mails() if "Người mua không trả lời" in s)

    # The buyer escalated in time: the event comes due and does nothing.
    sign_out(shopper.client)
    other, _owner2, buyer2 = _answered(app, factory, shopper)
    complaints.escalate(_complaint(other), {"note": "Không đồng ý"}, actor=buyer2)
    db.session.commit()
    _due_now(_complaint(other))
    drain()
    assert _complaint(other).status == "escalated"


def test_the_operator_decides_an_open_complaint_once_the_shops_time_is_over(app, factory, shopper):
    buyer = factory.user()
    order, _owner = _order(app, factory, shopper, method="bank_transfer", member=buyer)
    complaints.open_complaint(order, {"reason": "damaged", "description": "Dập"}, [], actor=buyer)
    db.session.commit()
    operator = sign_in(app.test_client(), factory.operator())
    url = f"/quan-tri/khieu-nai/{order.code}/quyet-dinh"
    assert "Quyết định của sàn" not in operator.get(f"/quan-tri/khieu-nai/{order.code}").get_data(
        as_text=True
    )
    r = operator.post(url, data={"decision": "reject", "note": "Cửa hàng im lặng"})
    assert r.status_code == 422 and "không chờ sàn quyết định" in r.get_data(as_text=True)
    assert complaints.waiting_for_operator() == 0

    db.session.execute(update(Complaint).values(answer_due_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert complaints.waiting_for_operator() == 1  # the floor's queue shows it
    assert order.code in operator.get("/quan-tri/khieu-nai").get_data(as_text=True)
    detail = operator.get(f"/quan-tri/khieu-nai/{order.code}").get_data(as_text=True)
    assert "Quyết định của sàn" in detail and "Cửa hàng đã quá hạn trả lời" in detail
    r = operator.post(
        url,
        data={
            "decision": "refund",
            "amount_vnd": "20.000",
            "note": "Cửa hàng không trả lời",
            "reference": "FT-9",
        },
    )
    assert r.status_code == 302
    complaint, order = _complaint(order), reloaded(order)
    assert (complaint.status, complaint.refund_vnd, order.refunded_vnd) == ("refunded", 20_000, 20_000)
    assert complaint.events[-1].action == "decided_refund" and complaints.waiting_for_operator() == 0


def test_the_operator_decides_an_answered_complaint_once_the_buyers_time_is_over(app, factory, shopper):
    order, _owner, _buyer = _answered(app, factory, shopper)
    operator_user = factory.operator()
    with pytest.raises(Conflict):
        complaints.decide(_complaint(order), {"decision": "reject", "note": "x"}, actor=operator_user)
    db.session.rollback()
    db.session.execute(update(Complaint).values(reply_due_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    operator = sign_in(app.test_client(), operator_user)
    assert "Người mua quá hạn trả lời" in operator.get("/quan-tri/khieu-nai").get_data(as_text=True)
    complaints.decide(_complaint(order), {"decision": "reject", "note": "Đúng hàng"}, actor=operator_user)
    db.session.commit()
    assert _complaint(order).status == "rejected"
    assert complaints.accept_when_due(_complaint(order).id) is False  # the worker then does nothing


# --- COD refunds in the ledger, and a refund the order page settles ---------------------------


def test_a_cod_refund_the_floor_sends_is_charged_to_the_shop(app, factory, shopper):
    buyer = factory.user()
    cod, owner = _order(app, factory, shopper, member=buyer)  # COD, delivered, paid at the door
    assert cod.paid and cod.payment_method == "cod"
    complaints.open_complaint(cod, {"reason": "damaged", "description": "Dập"}, [], actor=buyer)
    complaints.answer_complaint(_complaint(cod), {"offer": "refund", "amount_vnd": "30000"}, actor=owner)
    complaints.accept_offer(_complaint(cod), actor=buyer)
    db.session.commit()
    assert _complaint(cod).status == "refund_due"
    operator_user = factory.operator()
    operator = sign_in(app.test_client(), operator_user)
    assert (
        operator.post(
            f"/quan-tri/khieu-nai/{cod.code}/da-hoan-tien", data={"reference": "FT-COD-1"}
        ).status_code
        == 302
    )
    assert _complaint(cod).status == "refunded"
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.order_id == cod.id)).all()
    assert [(e.kind, e.amount_vnd, e.reference) for e in entries] == [("partial_refund", -30_000, "FT-COD-1")]
    # The shop owes the floor the 30.000 at once: never held, even inside the return window.
    shop_id = cod.shop_id
    assert settlement.owed_to(shop_id) == -30_000
    assert _held_and_payable(shop_id) == (0, -30_000)

    # The shop's next money through the floor: the refund is deducted from the payout.
    listing = factory.listing(shop=cod.shop, stock=5, price=100_000)
    assert shopper.add(listing).status_code == 302
    code = payment_code(shopper.checkout("bank_transfer"))
    payment = db.session.scalar(select(Payment).where(Payment.code == code))
    payments.mark_paid(payment, actor=None, actor_role="bank", reference="FT-THU-2")
    db.session.commit()
    transfer = reloaded(payment.orders[0])
    _advance(transfer, owner, "delivered")
    _delivered_days_ago(transfer, 10)
    assert _held_and_payable(shop_id) == (0, 125_000 - 30_000)
    row = next(b for b in payments.balances() if b["shop"].id == shop_id)
    assert (row["collected"], row["refunded"], row["paid_out"], row["owed"], row["payable"]) == (
        125_000,
        30_000,
        0,
        95_000,
        95_000,
    )
    with pytest.raises(DomainError, match="lớn hơn số tiền đã đến hạn trả"):
        payments.record_payout(cod.shop, {"amount_vnd": "125000", "reference": "UNC-1"}, actor=operator_user)
    db.session.rollback()
    payments.record_payout(cod.shop, {"amount_vnd": "95000", "reference": "UNC-2"}, actor=operator_user)
    db.session.commit()
    assert settlement.owed_to(shop_id) == 0 and _held_and_payable(shop_id) == (0, 0)

    # The rest of the COD order refunded from the order page: charged too, once per kind.
    payments.operator_refund(reloaded(cod), actor=operator_user, reference="FT-COD-2", note="Hoàn nốt")
    db.session.commit()
    kinds = {
        e.kind: e.amount_vnd
        for e in db.session.scalars(select(LedgerEntry).where(LedgerEntry.order_id == cod.id))
    }
    assert kinds == {"partial_refund": -30_000, "refunded": -(cod.total_vnd - 30_000)}
    assert settlement.owed_to(shop_id) == -(cod.total_vnd - 30_000)
    import csv

    text = operator.get("/quan-tri/doi-soat.csv").get_data(as_text=True).lstrip("\ufeff")
    held = {(r["order"], r["kind"]): r["held"] for r in csv.DictReader(io.StringIO(text))}
    assert held[(cod.code, "partial_refund")] == "0" and held[(cod.code, "refunded")] == "0"


def test_a_full_refund_from_the_order_page_settles_a_complaint_refund_waiting(app, factory, shopper):
    order, _owner, buyer = _answered(app, factory, shopper, offer="refund", amount="30000")
    complaints.accept_offer(_complaint(order), actor=buyer)
    db.session.commit()
    assert _complaint(order).status == "refund_due" and complaints.waiting_for_operator() == 1
    operator = sign_in(app.test_client(), factory.operator())
    r = operator.post(f"/quan-tri/don-hang/{order.code}/hoan-tien", data={"reference": "FT-HOAN-HET"})
    assert r.status_code == 302
    complaint, order = _complaint(order), reloaded(order)
    assert (order.status, order.refunded_vnd) == ("refunded", order.total_vnd)
    assert (complaint.status, complaint.refund_vnd) == ("refunded", 30_000)
    assert complaint.events[-1].action == "refund_recorded" and complaint.events[-1].actor_role == "operator"
    assert complaints.waiting_for_operator() == 0
    kinds = {
        e.kind: e.amount_vnd
        for e in db.session.scalars(select(LedgerEntry).where(LedgerEntry.order_id == order.id))
    }
    assert kinds == {"collected": order.total_vnd, "refunded": -order.total_vnd}  # given back once

    # One left behind by the code before this fix: recording it closes it, nothing is sent twice.
    db.session.execute(update(Complaint).values(status="refund_due"))
    db.session.commit()
    assert (
        operator.post(f"/quan-tri/khieu-nai/{order.code}/da-hoan-tien", data={"reference": ""}).status_code
        == 302
    )
    assert _complaint(order).status == "refunded"
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 2
