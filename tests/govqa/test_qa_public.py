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


def test_more_phone_and_id_formats_are_redacted():
    """Regression: a CCCD grouped 3-3-3-3 lost only its first 9 digits, a landline with its
    area code in brackets and a number glued to "SĐT" were left whole."""
    r = builtin_redactor()
    for text in (
        "042 199 001 234",
        "042.199.001.234",
        "0421 9900 1234",
        "(0239) 3855 123",
        "(024) 3825 1234",
        "+84 (239) 3855 123",
        "(0912) 345 678",
    ):
        assert r.text(f"x {text} y") == "x [đã ẩn] y", text
    assert r.text("SĐT0912345678, CCCD042199001234") == "SĐT[đã ẩn], CCCD[đã ẩn]"
    # A house number written after "địa chỉ" / "đ/c" without a street word.
    assert r.text("Địa chỉ: 45A Lê Lợi, TP Hà Tĩnh") == "[đã ẩn] Lê Lợi, TP Hà Tĩnh"
    assert r.text("đ/c số 12/3 Nguyễn Du") == "[đã ẩn] Nguyễn Du"
    assert r.text("địa chỉ email của cơ sở, làm đc 2 năm") == "địa chỉ email của cơ sở, làm đc 2 năm"


def test_legal_document_numbers_and_amounts_are_not_redacted():
    """Regression: "số 13/2023/NĐ-CP" lost its number to the house-number rule and a 9- or
    12-digit sum of money to the ID rules, so answers citing decrees or thresholds were unreadable."""
    r = builtin_redactor()
    for keep in (
        "Nghị định số 13/2023/NĐ-CP",
        "Thông tư số 40/2021/TT-BTC",
        "Quyết định số 1234/QĐ-UBND",
        "doanh thu từ 100.000.000 đồng/năm",
        "mức 200 000 000 đ",
        "vốn 1.000.000.000 đồng",
        "1.500.000.000.000 VNĐ",
    ):
        assert r.text(keep) == keep, keep
    assert r.text("số 12 đường Trần Phú") == "[đã ẩn] đường Trần Phú"


def test_no_break_spaces_in_formatted_text_do_not_hide_a_number(app):
    """Regression: the sanitiser stores a no-break space (pasted from a document) as "&nbsp;", which
    the rules did not read as a space: "0912&nbsp;345&nbsp;678" reached public pages whole."""
    from govqa.html import clean_html, html_to_text

    stored = clean_html("<p>Gọi 0912\u00a0345\u00a0678 hoặc CCCD 042\u00a0199\u00a0001234</p>")
    assert "&nbsp;" in stored
    public = builtin_redactor().html(stored)
    assert "345" not in public and "001234" not in public
    assert html_to_text(public) == "Gọi [đã ẩn] hoặc CCCD [đã ẩn]"


def test_an_answers_attachment_name_is_redacted_in_public(app, client, answered):
    """Regression: the public page listed (and the download named) an answer's file by its own
    name, personal data included."""
    question, tax_official = answered["question"], answered["official"]
    from govqa.attachments import store_attachment
    from govqa.models import Message

    answer = db.session.query(Message).filter_by(question_id=question.id, kind="answer").one()
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    found = store_attachment(
        question, "Tra loi CCCD 042199001234 sdt 0912345678.pdf", pdf, actor=tax_official, message=answer
    )
    db.session.commit()
    html = client.get(f"/hoi-dap/{question.slug}").get_data(as_text=True)
    assert f"/hoi-dap/tep/{found.id}" in html
    assert "042199001234" not in html and "0912345678" not in html
    download = client.get(f"/hoi-dap/tep/{found.id}")
    assert download.status_code == 200
    disposition = download.headers["Content-Disposition"]
    download.close()
    assert "042199001234" not in disposition and "0912345678" not in disposition
    # The asker still sees the file's own name.
    asker = sign_in(app.test_client(), answered["asker"])
    assert "042199001234" in asker.get(f"/hoi-dap/{question.slug}").get_data(as_text=True)


def test_a_manual_redaction_in_the_title_leaves_the_url_too(app, client, factory):
    """Regression: the slug was made once from the title, so a name the operator redacted by hand
    stayed in the question's public address (page links, the API's slug and url, the feeds)."""
    operator = factory.operator()
    tax = agency("Thuế tỉnh")
    tax_official = official(factory, tax)
    asker = business_asker(factory)
    question = ask(asker, title="Hộ kinh doanh Nguyễn Văn Bình nộp thuế khoán", topic="tax")
    services.accept_question(question, tax, actor=operator)
    db.session.commit()
    services.answer_question(question, "<p>Nộp theo quý.</p>", actor=tax_official)
    db.session.commit()
    old = question.slug
    assert "nguyen-van-binh" in old
    admin.redact_manually(question, "Nguyễn Văn Bình", "Tên người", actor=operator)
    db.session.commit()
    outbox.drain()
    assert "nguyen-van-binh" not in question.slug and "Bình" not in question.slug
    assert client.get(f"/hoi-dap/{question.slug}").status_code == 200
    assert client.get(f"/hoi-dap/{old}").status_code == 404
    for url in (f"/api/v1/qa/questions/{question.id}", "/api/v1/qa/questions", "/api/v1/qa/answers.atom"):
        body = client.get(url).get_data(as_text=True)
        assert "nguyen-van-binh" not in body and "Nguyễn Văn Bình" not in body, url
    # A phrase that is not in the address leaves it alone.
    slug = question.slug
    admin.redact_manually(question, "theo quý", "Thử", actor=operator)
    db.session.commit()
    assert question.slug == slug


def test_decomposed_vietnamese_is_redacted_too():
    """Regression: text typed or pasted in decomposed form (NFD, as some keyboards and PDFs give it)
    slipped past the house-number rule and the operator's manual phrases, typed composed."""
    import unicodedata

    text = unicodedata.normalize("NFD", "Tôi ở số 12 đường Trần Phú, ông Nguyễn Văn Bình")
    redactor = builtin_redactor().with_phrases(["Nguyễn Văn Bình"])
    assert redactor.text(text) == "Tôi ở [đã ẩn] đường Trần Phú, ông [đã ẩn]"
    composed = builtin_redactor().with_phrases([unicodedata.normalize("NFD", "Nguyễn Văn Bình")])
    assert composed.html("<p>ông Nguyễn Văn Bình</p>") == "<p>ông [đã ẩn]</p>"


def test_a_manual_phrase_with_an_ampersand_is_redacted_in_formatted_text():
    """Regression: the sanitised HTML holds "&" as "&amp;", so a phrase such as a company's
    "Cơ sở Hoa & Lan" was redacted from the title but stayed in the question and the answer."""
    from govqa.html import clean_html

    redactor = builtin_redactor().with_phrases(["Cơ sở Hoa & Lan"])
    stored = clean_html("<p>Tôi là chủ Cơ sở Hoa & Lan, xin hỏi.</p>")
    assert "&amp;" in stored
    assert redactor.html(stored) == "<p>Tôi là chủ [đã ẩn], xin hỏi.</p>"
    assert redactor.text("Cơ sở Hoa & Lan hỏi") == "[đã ẩn] hỏi"


def test_a_backslash_in_a_rules_replacement_is_a_character(app, client, answered):
    """Regression: the operator's replacement went to re.sub as a template, so a backslash in it
    ("[mã\\hồ sơ]") raised on every public text: every page, the API and the index sync failed."""
    question = answered["question"]
    admin.add_rule("Mã hồ sơ", r"hoặc", actor=answered["operator"], replacement="[mã\\hồ sơ \\1]")
    db.session.commit()
    page = client.get(f"/hoi-dap/{question.slug}")
    assert page.status_code == 200
    assert "[mã\\hồ sơ \\1]" in page.get_data(as_text=True)
    assert client.get(f"/api/v1/qa/questions/{question.id}").status_code == 200
