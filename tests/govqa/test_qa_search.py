"""The archive is searchable on both backends (embedded, and OpenSearch / Elasticsearch beside
it): Vietnamese folding, the operator's synonyms, the index kept true through the outbox, the
reindex command covering it; and nothing private ever reaches an index."""

from __future__ import annotations

import pytest
from qa_testlib import agency, ask, business_asker, official

from govqa import admin, services
from govqa.public import COLLECTION
from marketplace import outbox
from marketplace.extensions import db
from marketplace.timeutil import local_today
from search import collections


@pytest.fixture
def archive(app, factory, qa_backend):
    class Archive:
        operator = factory.operator()
        food = agency("Sở Y tế")
        tax = agency("Thuế tỉnh")
        food_official = official(factory, food)
        tax_official = official(factory, tax)
        asker = business_asker(factory)
        backend = qa_backend

    a = Archive
    q1 = ask(
        a.asker,
        title="Giấy chứng nhận an toàn thực phẩm cho chè xanh",
        body="Cơ sở sản xuất chè cần giấy gì?",
    )
    q2 = ask(
        a.asker,
        title="Hoàn thuế giá trị gia tăng",
        body="Liên hệ tôi số 0912 345 678 hoặc email chu.co.so@gmail.com, CCCD 042199001234.",
        topic="tax",
    )
    q3 = ask(a.asker, title="Câu hỏi chưa duyệt về mực khô", body="Nội dung")
    services.accept_question(q1, a.food, actor=a.operator)
    services.accept_question(q2, a.tax, actor=a.operator)
    db.session.commit()
    services.answer_question(q1, "<p>Cần giấy chứng nhận cơ sở đủ điều kiện.</p>", actor=a.food_official)
    db.session.commit()
    outbox.drain()
    a.q1, a.q2, a.q3 = q1, q2, q3
    return a


def _ids(text="", **filters):
    return collections.search(COLLECTION, text, filters).ids


def test_search_without_diacritics_and_with_synonyms(archive):
    assert _ids("giay chung nhan an toan thuc pham") == [archive.q1.id]
    assert _ids("chứng nhận") == [archive.q1.id]
    assert _ids("tra xanh") == [archive.q1.id]  # "chè, trà" is a synonym group
    assert _ids("hoan thue") == [archive.q2.id]
    assert _ids("du dieu kien") == [archive.q1.id]  # the answer's words count
    assert _ids("giay chu") == [archive.q1.id]  # the last word as a prefix
    assert archive.q3.id not in _ids("muc kho") and _ids("muc kho") == []  # not public
    assert _ids(agency=archive.tax.slug) == [archive.q2.id]
    assert _ids(state="answered") == [archive.q1.id]
    assert sorted(_ids()) == sorted([archive.q1.id, archive.q2.id])
    this_month = local_today().strftime("%Y-%m")
    assert sorted(_ids("", month=this_month)) == sorted([archive.q1.id, archive.q2.id])
    assert _ids("hoan thue", month=this_month) == [archive.q2.id]
    assert _ids("hoan thue", month="2001-01") == []
    assert collections.search(COLLECTION, "", {}).backend == (
        "embedded" if archive.backend == "embedded" else archive.backend
    )


def test_no_original_personal_data_in_any_index(archive):
    for side in collections.sides(COLLECTION):
        blob = "\n".join(side.texts())
        assert "Hoàn thuế" in blob or "Hoan thue" in blob or "hoan thue" in blob
        for secret in ("0912", "345 678", "gmail", "chu.co.so", "042199001234", "Trần Thị Hỏi"):
            assert secret not in blob, (side.kind, secret)


def test_index_follows_hiding_withdrawing_and_rules(archive):
    admin.set_hidden(archive.q1, True, actor=archive.operator, reason="test")
    db.session.commit()
    outbox.drain()
    for side in collections.sides(COLLECTION):
        assert archive.q1.id not in side.doc_ids(), side.kind
    assert _ids("chung nhan") == []
    services.withdraw(archive.q2, actor=archive.asker)
    db.session.commit()
    outbox.drain()
    assert _ids() == []
    admin.set_hidden(archive.q1, False, actor=archive.operator)
    admin.add_rule("Chè", r"(?i)chè", actor=archive.operator, replacement="[x]")
    db.session.commit()
    outbox.drain()
    assert _ids("che xanh") == []
    for side in collections.sides(COLLECTION):
        assert "chè" not in "\n".join(side.texts()).lower(), side.kind


def test_reindex_command_covers_the_archive(archive, runner):
    for side in collections.sides(COLLECTION):
        assert side.doc_ids() == {archive.q1.id, archive.q2.id}
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert f"2 {COLLECTION} documents" in result.output
    assert _ids("hoan thue") == [archive.q2.id]


def test_no_personal_data_in_any_index_in_the_harder_forms(archive):
    """Regressions, on every backend: a CCCD grouped 3-3-3-3, a landline in brackets, a number
    written with no-break spaces in an answer, and a name the operator redacted by hand from the
    title (its slug included) reach no index."""
    question = ask(
        archive.asker,
        title="Hộ kinh doanh Lê Thị Cúc hỏi thuế khoán",
        body="CCCD 042 199 001 234, điện thoại (0239) 3855 123.",
        topic="tax",
    )
    services.accept_question(question, archive.tax, actor=archive.operator)
    db.session.commit()
    services.answer_question(
        question, "<p>Chúng tôi đã gọi 0912\u00a0345\u00a0678.</p>", actor=archive.tax_official
    )
    admin.redact_manually(question, "Lê Thị Cúc", "Tên người", actor=archive.operator)
    db.session.commit()
    outbox.drain()
    assert _ids("thue khoan") == [question.id]
    for side in collections.sides(COLLECTION):
        blob = "\n".join(side.texts())
        for secret in ("001 234", "042 199", "3855", "0239", "345", "Cúc", "cuc", "Lê Thị"):
            assert secret not in blob, (side.kind, secret)
