"""What askers, the operator and officials do, through the services: who may, what is recorded,
who is told (mail through the outbox), the clock and the reminders."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta

import pytest
from PIL import Image
from qa_testlib import agency, ask, business_asker, official
from sqlalchemy import select

from govqa import admin, services
from govqa.calendar import load_calendar
from govqa.models import Attachment, Contribution, Follow, Message, OfficialInvitation, QuestionEvent, Rating
from marketplace import outbox
from marketplace.errors import Conflict, DomainError, Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from marketplace.timeutil import local_today
from tests.support import read_mails


def _mails_to(app, address):
    outbox.drain()
    return [m for m in read_mails(app) if address in m["to"]]


@pytest.fixture
def world(app, factory):
    class World:
        operator = factory.operator()
        trade = agency("Sở Công Thương")
        tax = agency("Thuế tỉnh", working_days=10, restarts=False)
        health = agency("Sở Y tế")
        trade_official = official(factory, trade, "Cán bộ Công Thương")
        tax_official = official(factory, tax, "Cán bộ Thuế")
        health_official = official(factory, health, "Cán bộ Y tế")
        asker = business_asker(factory)

    return World


def test_who_may_ask(app, factory):
    shop = factory.shop(kind="enterprise")
    owner = shop.members[0].user
    question = ask(owner)
    assert (question.business_name, question.tax_code, question.shop_id) == (shop.name, "3001234567", shop.id)
    with pytest.raises(Forbidden):
        ask(factory.user())
    user = factory.user()
    for bad in ("300123456", "30012345678", "3001234567-01", "abc1234567"):
        with pytest.raises(ValidationFailed) as caught:
            services.register_business(user, business_name="Công ty X", tax_code=bad)
        assert "tax_code" in caught.value.field_errors
    services.register_business(user, business_name="Công ty X", tax_code="3001 234 567 001")
    assert services.asker_identity(user) == ("Công ty X", "3001234567-001", None)


def test_submitting_records_an_event_follows_and_tells_the_operator(app, world):
    question = ask(world.asker, of=world.trade)
    assert question.state == "submitted" and question.agency_id == world.trade.id
    assert [e.action for e in question.events] == ["submitted"]
    assert (
        db.session.scalar(select(Follow.user_id).where(Follow.question_id == question.id)) == world.asker.id
    )
    assert _mails_to(app, world.operator.email)


def test_the_whole_way_to_an_answer(app, world):
    question = ask(world.asker)
    services.accept_question(question, world.trade, actor=world.operator)
    db.session.commit()
    assert question.state == "awaiting_answer"
    assert question.clock_started_on == local_today()
    assert question.due_on == load_calendar().add_working_days(local_today(), 20)
    assert question.long_due_on == load_calendar().add_working_days(local_today(), 40)
    assert _mails_to(app, world.asker.email)[-1]["subject"].startswith("Câu hỏi của bạn đã được chuyển tới")
    assert _mails_to(app, world.trade_official.email)
    follower = world.tax_official  # anyone may follow a public question
    services.follow(question, actor=follower)
    services.answer_question(
        question,
        "<p>Trả lời <script>alert(1)</script><a href='javascript:x'>x</a></p>",
        actor=world.trade_official,
    )
    db.session.commit()
    assert question.state == "answered" and question.answered_at is not None
    answer = db.session.scalar(select(Message).where(Message.kind == "answer"))
    assert "script" not in answer.body_html and "javascript" not in answer.body_html
    assert answer.visibility == "public" and answer.agency_id == world.trade.id
    assert _mails_to(app, world.asker.email)[-1]["subject"] == "Câu hỏi của bạn đã được trả lời"
    assert _mails_to(app, follower.email)[-1]["subject"] == "Câu hỏi của bạn đã được trả lời"
    events = db.session.scalars(select(QuestionEvent).order_by(QuestionEvent.id)).all()
    assert [(e.action, e.actor_role, e.actor_id) for e in events] == [
        ("submitted", "asker", world.asker.id),
        ("routed", "operator", world.operator.id),
        ("answered", "official", world.trade_official.id),
    ]
    services.rate(question, True, actor=world.asker)
    services.rate(question, False, actor=world.asker)
    db.session.commit()
    assert db.session.scalars(select(Rating.useful)).all() == [False]


def test_an_official_acts_only_on_their_own_agencys_questions(app, world):
    question = ask(world.asker)
    services.accept_question(question, world.trade, actor=world.operator)
    db.session.commit()
    others = (world.tax_official, world.asker, world.operator)
    for actor in others:
        with pytest.raises(Forbidden):
            services.answer_question(question, "Trả lời", actor=actor)
        with pytest.raises(Forbidden):
            services.transfer_question(question, world.health, "lý do", actor=actor)
        with pytest.raises(Forbidden):
            services.not_our_remit(question, "lý do", actor=actor)
        with pytest.raises(Forbidden):
            services.request_contribution(question, world.health, "góp ý", actor=actor)
        with pytest.raises(Forbidden):
            services.ask_clarification(question, "bổ sung", actor=actor)
    assert question.state == "awaiting_answer"
    # Nor may an official moderate or reject.
    fresh = ask(world.asker)
    with pytest.raises(Forbidden):
        services.accept_question(fresh, world.trade, actor=world.trade_official)
    with pytest.raises(Forbidden):
        services.reject_question(fresh, "abusive", "x", actor=world.trade_official)


def test_transfer_restarts_the_clock_only_if_the_receiving_agency_says_so(app, world):
    question = ask(world.asker)
    services.accept_question(question, world.trade, actor=world.operator)
    db.session.commit()
    first_due = question.due_on
    services.transfer_question(question, world.tax, "Thuộc lĩnh vực thuế", actor=world.trade_official)
    db.session.commit()
    assert (question.state, question.agency_id, question.due_on) == ("transferred", world.tax.id, first_due)
    # The old agency is out, the new one answers.
    with pytest.raises(Forbidden):
        services.answer_question(question, "x", actor=world.trade_official)
    services.transfer_question(question, world.health, "Thuộc an toàn thực phẩm", actor=world.tax_official)
    db.session.commit()
    assert question.due_on == load_calendar().add_working_days(local_today(), world.health.working_days)
    services.answer_question(question, "Trả lời", actor=world.health_official)
    db.session.commit()
    assert question.state == "answered"
    with pytest.raises(DomainError):
        services.transfer_question(question, world.trade, "", actor=world.health_official)


def test_clarification_by_the_operator_and_by_the_agency(app, world):
    question = ask(world.asker)
    services.ask_clarification(question, "Vui lòng nêu rõ sản phẩm", actor=world.operator)
    db.session.commit()
    assert question.state == "awaiting_clarification"
    with pytest.raises(Forbidden):
        services.answer_clarification(question, "x", actor=world.trade_official)
    services.answer_clarification(question, "Sản phẩm là cam bù", actor=world.asker)
    db.session.commit()
    assert question.state == "submitted"  # back to moderation
    services.accept_question(question, world.trade, actor=world.operator)
    services.ask_clarification(question, "Cơ sở ở xã nào?", actor=world.trade_official)
    db.session.commit()
    assert question.state == "awaiting_clarification"
    services.answer_clarification(question, "Xã Sơn Kim 1", actor=world.asker)
    db.session.commit()
    assert question.state == "awaiting_answer"
    kinds = [(m.kind, m.visibility) for m in question.messages]
    assert kinds == [
        ("clarification_request", "asker"),
        ("clarification", "asker"),
        ("clarification_request", "asker"),
        ("clarification", "asker"),
    ]


def test_reject_with_reasons(app, world):
    earlier = ask(world.asker, title="Câu hỏi trước")
    services.accept_question(earlier, world.trade, actor=world.operator)
    services.answer_question(earlier, "Trả lời", actor=world.trade_official)
    question = ask(world.asker)
    with pytest.raises(ValidationFailed):
        services.reject_question(question, "duplicate", "Đã có câu trả lời", actor=world.operator)
    with pytest.raises(ValidationFailed):
        services.reject_question(question, "abusive", "", actor=world.operator)
    services.reject_question(
        question, "duplicate", "Đã có câu trả lời", actor=world.operator, duplicate_of=earlier
    )
    db.session.commit()
    assert (question.state, question.reject_kind, question.duplicate_of_id) == (
        "rejected",
        "duplicate",
        earlier.id,
    )
    assert question.state_reason == "Đã có câu trả lời"
    mail = _mails_to(app, world.asker.email)[-1]
    assert "Đã có câu trả lời" in mail["body"]
    with pytest.raises(Conflict):
        services.withdraw(question, actor=world.asker)


def test_not_our_remit_goes_back_to_the_operator(app, world):
    question = ask(world.asker)
    services.accept_question(question, world.trade, actor=world.operator)
    services.not_our_remit(question, "Thuộc ngành thuế", actor=world.trade_official)
    db.session.commit()
    assert question.state == "not_our_remit"
    services.accept_question(question, world.tax, actor=world.operator)
    db.session.commit()
    assert (question.state, question.agency_id) == ("awaiting_answer", world.tax.id)


def test_withdraw_only_by_the_asker(app, world):
    question = ask(world.asker)
    with pytest.raises(Forbidden):
        services.withdraw(question, actor=world.operator)
    services.withdraw(question, actor=world.asker)
    db.session.commit()
    assert question.state == "withdrawn"


def test_contribution_from_a_colleague_agency(app, world):
    question = ask(world.asker)
    services.accept_question(question, world.trade, actor=world.operator)
    with pytest.raises(Forbidden):
        services.contribute(question, "góp ý", actor=world.health_official)
    services.request_contribution(question, world.health, "Đề nghị Sở Y tế góp ý", actor=world.trade_official)
    db.session.commit()
    assert db.session.scalar(select(Contribution.agency_id)) == world.health.id
    assert services.is_staff_for(world.health_official, question)
    message = services.contribute(question, "Theo Nghị định 15/2018", actor=world.health_official)
    db.session.commit()
    assert message.visibility == "staff"
    # A contributor does not answer.
    with pytest.raises(Forbidden):
        services.answer_question(question, "x", actor=world.health_official)
    # Staff messages are not the asker's, nor the public's.
    assert message not in services.visible_messages(world.asker, question)
    assert message not in services.visible_messages(None, question)
    assert message in services.visible_messages(world.trade_official, question)


def test_reminders_before_the_deadline_and_when_overdue(app, world):
    question = ask(world.asker)
    services.accept_question(question, world.trade, actor=world.operator)
    db.session.commit()
    rows = db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == services.REMINDER_TOPIC)).all()
    assert sorted(r.payload["kind"] for r in rows) == ["before", "long_overdue", "overdue"]
    by_kind = {r.payload["kind"]: r for r in rows}
    # The morning (08:00 local, 01:00 UTC) after the due date.
    assert by_kind["overdue"].next_attempt_at == datetime.combine(
        question.due_on + timedelta(days=1), time(1, 0)
    )
    assert by_kind["before"].next_attempt_at.date() < question.due_on
    # Not due yet: nothing goes.
    before = len(_mails_to(app, world.trade_official.email))
    for row in rows:
        row.next_attempt_at = row.next_attempt_at - timedelta(days=400)
    db.session.commit()
    mails = _mails_to(app, world.trade_official.email)[before:]
    assert len(mails) == 3
    assert any(m["subject"].startswith("Đã quá hạn trả lời") for m in mails)


def test_a_reminder_after_the_answer_says_nothing(app, world):
    question = ask(world.asker)
    services.accept_question(question, world.trade, actor=world.operator)
    services.answer_question(question, "Trả lời", actor=world.trade_official)
    db.session.commit()
    before = len(_mails_to(app, world.trade_official.email))
    for row in db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == services.REMINDER_TOPIC)):
        row.next_attempt_at = date(2020, 1, 1)
    db.session.commit()
    assert len(_mails_to(app, world.trade_official.email)) == before


def _png() -> bytes:
    img = Image.new("RGB", (40, 30), (200, 100, 50))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def test_attachments_checked_by_content(app, world):
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    question = ask(world.asker, files=[("giay-phep.pdf", pdf), ("anh.png", _png())])
    kinds = sorted((a.kind, a.filename) for a in db.session.scalars(select(Attachment)))
    assert kinds == [("image", "anh.jpg"), ("pdf", "giay-phep.pdf")]
    with pytest.raises(ValidationFailed):
        ask(world.asker, files=[("fake.pdf", b"MZ\x90\x00 not a pdf")])
    with pytest.raises(ValidationFailed):
        ask(world.asker, files=[("x.pdf", pdf)] * 6)
    app.config["QA_ATTACHMENT_MAX_BYTES"] = 1024
    with pytest.raises(ValidationFailed):
        ask(world.asker, files=[("big.pdf", b"%PDF-1.4\n" + b"0" * 2000 + b"\n%%EOF")])
    assert question.attachments


def test_official_invitation(app, world, factory):
    invitation, link = admin.invite_official(world.trade, "can.bo@example.vn", actor=world.operator)
    db.session.commit()
    token = link.rsplit("/", 1)[1]
    assert admin.invitation_for_token(token).id == invitation.id
    stranger = factory.user(email="khac@example.vn")
    with pytest.raises(Forbidden):
        admin.accept_invitation(invitation, actor=stranger)
    invited = factory.user(email="can.bo@example.vn")
    admin.accept_invitation(invitation, actor=invited)
    db.session.commit()
    assert services.official_of(invited).agency_id == world.trade.id and invited.role == "agency"
    with pytest.raises(Forbidden):
        admin.accept_invitation(invitation, actor=invited)
    assert db.session.scalar(select(OfficialInvitation.accepted_at)) is not None
    with pytest.raises(Forbidden):
        admin.invite_official(world.trade, "x@example.vn", actor=world.trade_official)


def test_erasing_the_asker_erases_their_originals_and_files(app, world, client):
    """Regression: erasure anonymised the asker's name only — the originals (phone, ID numbers the
    public never saw) stayed for staff, and the files they attached (scans) stayed, forever."""
    from govqa.attachments import attachment_file
    from marketplace.legal.personal_data import delete_account
    from tests.support import PASSWORD

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    question = ask(
        world.asker,
        title="Hoàn thuế, gọi 0912345678",
        body="CCCD 042199001234, số 12 đường Trần Phú.",
        topic="tax",
        files=[("cccd.pdf", pdf), ("anh.png", _png())],
    )
    services.accept_question(question, world.tax, actor=world.operator)
    db.session.commit()
    services.ask_clarification(question, "Bổ sung số điện thoại bàn?", actor=world.tax_official)
    db.session.commit()
    services.answer_clarification(question, "Số bàn (0239) 3855 123", actor=world.asker)
    db.session.commit()
    services.answer_question(question, "<p>Đã trả lời.</p>", actor=world.tax_official)
    db.session.commit()
    paths = [attachment_file(a) for a in question.attachments]
    assert all(p.exists() for p in paths) and len(paths) == 2
    record = delete_account(world.asker, PASSWORD, confirmed=True)
    db.session.commit()
    outbox.drain()
    assert record.summary["govqa.qa_attachments"] == 2
    db.session.refresh(question)
    texts = question.title + question.body + "".join(m.body_html for m in question.messages)
    for secret in ("0912345678", "042199001234", "số 12", "3855"):
        assert secret not in texts, secret
    assert "Hoàn thuế" in question.title and "Đã trả lời." in texts
    assert question.attachments == [] and not any(p.exists() for p in paths)
    assert client.get(f"/hoi-dap/{question.slug}").status_code == 200
