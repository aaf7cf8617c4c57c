"""What the public sees: pages, the open-data API and the Atom feeds show public questions only,
redacted; the original stays with the asker and staff; no script survives."""

from __future__ import annotations

import pytest
from qa_testlib import agency, ask, business_asker, official

from govqa import admin, services
from govqa.redaction import builtin_redactor
from marketplace import outbox
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.timeutil import local_today
from tests.support import sign_in

SECRETS = (
    "0912 345 678",
    "0912345678",
    "+84 912.345.678",
    "042199001234",
    "chu.co.so@gmail.com",
    "số 12 đường Trần Phú",
)
BODY = (
    "Tôi ở số 12 đường Trần Phú, gọi 0912 345 678 hoặc +84 912.345.678, email chu.co.so@gmail.com, "
    "CCCD 042199001234. Hỏi về hoàn thuế."
    "<script>alert('x')</script><img src=x onerror=alert(1)><a href=\"javascript:alert(1)\">bấm</a>"
)


@pytest.fixture
def answered(app, factory):
    operator = factory.operator()
    tax = agency("Thuế tỉnh")
    tax_official = official(factory, tax)
    asker = business_asker(factory, name="Trần Thị Hỏi")
    question = ask(asker, title="Hoàn thuế, liên hệ 0912345678", body=BODY, topic="tax")
    services.accept_question(question, tax, actor=operator)
    db.session.commit()
    services.answer_question(
        question,
        "<p>Trả lời: gọi lại số 0912345678 của bạn. <strong>Hồ sơ</strong> gồm:</p><ul><li>Tờ khai</li></ul>"
        "<script>document.cookie</script>",
        actor=tax_official,
    )
    db.session.commit()
    outbox.drain()
    return {
        "question": question,
        "asker": asker,
        "official": tax_official,
        "operator": operator,
        "agency": tax,
    }


def _no_secrets(text: str, where: str) -> None:
    for secret in (*SECRETS, "Trần Thị Hỏi"):
        assert secret not in text, (where, secret)
    content = text.split("<main", 1)[1].split("</main>", 1)[0] if "<main" in text else text
    assert "<script" not in content and "onerror" not in content and "javascript:" not in content, where


def test_builtin_rules():
    r = builtin_redactor()
    for text in (
        "0912345678",
        "0912 345 678",
        "0912.345.678",
        "+84 912 345 678",
        "+84912345678",
        "84 912 345 678",
        "0239 3855 123",
        "02393855123",
        "042199001234",
        "042 199 001234",
        "183456789",
        "a.b@example.vn",
    ):
        assert r.text(f"x {text} y") == "x [đã ẩn] y", text
    assert r.text("số 12 đường Trần Phú") == "[đã ẩn] đường Trần Phú"
    assert r.text("12/3 Nguyễn Du") == "[đã ẩn] Nguyễn Du" or "12/3" not in r.text("12/3 đường Nguyễn Du")
    # Not personal: a tax code (10 digits), a price, a year, a decree number.
    for keep in ("MST 3001234567", "giá 45.000 đồng", "năm 2025", "Nghị định 15/2018/NĐ-CP"):
        assert r.text(keep) == keep, keep


def test_public_page_api_and_feeds_are_redacted(app, client, answered):
    question = answered["question"]
    page = client.get(f"/hoi-dap/{question.slug}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    _no_secrets(html, "page")
    assert "[đã ẩn]" in html and "Hồ sơ" in html and "Công ty TNHH Cam Bù" in html
    for url in (
        "/api/v1/qa/questions",
        f"/api/v1/qa/questions/{question.id}",
        "/api/v1/qa/questions?q=hoan+thue",
        "/api/v1/qa/answers.atom",
        f"/api/v1/qa/agencies/{answered['agency'].slug}/answers.atom",
        "/hoi-dap/",
        "/hoi-dap/?q=hoan+thue",
        f"/hoi-dap/co-quan/{answered['agency'].slug}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        _no_secrets(response.get_data(as_text=True), url)
    item = client.get(f"/api/v1/qa/questions/{question.id}").json
    assert item["state"] == "answered" and item["working_days_allowed"] == 20
    assert item["due_on"] == question.due_on.isoformat() and item["answered_at"] and item["submitted_at"]
    assert client.get("/api/v1/qa/questions?q=hoan+thue").json["total"] == 1
    month = local_today().strftime("%Y-%m")
    assert client.get(f"/api/v1/qa/questions?month={month}").json["total"] == 1
    assert client.get(f"/api/v1/qa/questions?q=hoan+thue&month={month}").json["total"] == 1
    assert client.get("/api/v1/qa/questions?month=2001-01").json["total"] == 0
    assert client.get("/api/v1/qa/questions?month=2026-13").status_code == 400
    assert f"/hoi-dap/{question.slug}" in client.get(f"/hoi-dap/?month={month}").get_data(as_text=True)
    assert f"/hoi-dap/{question.slug}" not in client.get("/hoi-dap/?month=2001-01").get_data(as_text=True)


def test_the_asker_and_staff_see_the_original(app, answered):
    question = answered["question"]
    for who in ("asker", "official", "operator"):
        client = sign_in(app.test_client(), answered[who])
        html = client.get(f"/hoi-dap/{question.slug}").get_data(as_text=True)
        assert "0912 345 678" in html, who
        assert "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0], who


def test_hidden_and_unmoderated_questions_are_not_public(app, client, factory, answered):
    question = answered["question"]
    admin.set_hidden(question, True, actor=answered["operator"])
    fresh = ask(answered["asker"], title="Chưa kiểm duyệt")
    db.session.commit()
    outbox.drain()
    for q in (question, fresh):
        assert client.get(f"/hoi-dap/{q.slug}").status_code == 404
        assert client.get(f"/api/v1/qa/questions/{q.id}").status_code == 404
    assert client.get("/api/v1/qa/questions").json["total"] == 0
    assert question.slug not in client.get("/api/v1/qa/answers.atom").get_data(as_text=True)
    assert client.get("/api/v1/qa/questions?q=hoan+thue").json["total"] == 0
    # A hidden answer: the question stays, its answer goes.
    admin.set_hidden(question, False, actor=answered["operator"])
    answer = next(m for m in question.messages if m.kind == "answer")
    admin.set_visibility(answer, "hidden", actor=answered["operator"])
    db.session.commit()
    outbox.drain()
    assert "Tờ khai" not in client.get(f"/hoi-dap/{question.slug}").get_data(as_text=True)
    assert "Tờ khai" not in client.get(f"/api/v1/qa/questions/{question.id}").get_data(as_text=True)
    assert "Tờ khai" not in client.get("/api/v1/qa/answers.atom").get_data(as_text=True)


def test_manual_redaction_and_operator_rule(app, client, answered):
    question = answered["question"]
    admin.redact_manually(question, "hoàn thuế", "Tên sản phẩm đặc thù", actor=answered["operator"])
    admin.add_rule("Mã hồ sơ", r"HS-\d+", actor=answered["operator"])
    db.session.commit()
    outbox.drain()
    html = client.get(f"/hoi-dap/{question.slug}").get_data(as_text=True)
    assert "hoàn thuế" not in html.lower().split("<main", 1)[1]
    assert client.get("/api/v1/qa/questions?q=hoan+thue").json["total"] == 0
    with pytest.raises(DomainError):
        admin.add_rule("bad", "(", actor=answered["operator"])


def test_title_edit_keeps_the_url(app, client, answered):
    question = answered["question"]
    slug = question.slug
    admin.edit_title(question, "Hoàn thuế GTGT cho hộ kinh doanh", actor=answered["operator"])
    db.session.commit()
    assert question.slug == slug
    assert "Hoàn thuế GTGT cho hộ kinh doanh" in client.get(f"/hoi-dap/{slug}").get_data(as_text=True)


def test_agencies_figures(app, client, answered):
    body = client.get("/api/v1/qa/agencies").json
    tax = next(a for a in body["items"] if a["slug"] == answered["agency"].slug)
    assert tax["figures"] == {
        "received": 1,
        "answered": 1,
        "answered_on_time": 1,
        "answered_on_time_percent": 100,
        "median_working_days_to_answer": 0.0,
        "overdue_now": 0,
        "open_now": 0,
    }
    html = client.get(f"/hoi-dap/co-quan/{answered['agency'].slug}").get_data(as_text=True)
    assert 'data-figure="on_time">100%' in html and "<svg" in html and "<table" in html
