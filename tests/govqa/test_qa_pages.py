"""The pages, through the test client: an asker asks, the operator routes, the official answers;
operator pages are the operator's, official pages an official's of the right agency."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from qa_testlib import agency, ask, business_asker, official
from sqlalchemy import select

from govqa import services
from govqa.models import Attachment, Question
from marketplace import outbox
from marketplace.extensions import db
from tests.support import sign_in

OPERATOR_PAGES = [
    "/quan-tri/hoi-dap/",
    "/quan-tri/hoi-dap/1",
    "/quan-tri/hoi-dap/quy-tac-an",
    "/quan-tri/hoi-dap/lich",
    "/quan-tri/hoi-dap/co-quan",
]


@pytest.fixture
def people(app, factory):
    class People:
        operator = factory.operator()
        tax = agency("Thuế tỉnh")
        food = agency("Sở Y tế")
        tax_official = official(factory, tax)
        food_official = official(factory, food)
        asker = business_asker(factory)
        buyer = factory.user()

    return People


def test_operator_pages_are_the_operators(app, client, people):
    ask(people.asker)
    for url in OPERATOR_PAGES:
        assert client.get(url).status_code in (302, 401), url
    for who in (people.asker, people.tax_official, people.buyer):
        signed = sign_in(app.test_client(), who)
        for url in OPERATOR_PAGES:
            assert signed.get(url).status_code == 403, (who, url)
    signed = sign_in(app.test_client(), people.operator)
    for url in OPERATOR_PAGES:
        assert signed.get(url).status_code == 200, url


def test_official_pages_are_an_officials_of_the_agency(app, people):
    question = ask(people.asker)
    services.accept_question(question, people.tax, actor=people.operator)
    db.session.commit()
    assert sign_in(app.test_client(), people.buyer).get("/co-quan/hoi-dap/").status_code == 403
    assert sign_in(app.test_client(), people.operator).get("/co-quan/hoi-dap/").status_code == 403
    other = sign_in(app.test_client(), people.food_official)
    assert other.get(f"/co-quan/hoi-dap/{question.id}").status_code == 403
    app.config["WTF_CSRF_ENABLED"] = False
    response = other.post(f"/co-quan/hoi-dap/{question.id}/tra-loi", data={"body": "Không phải việc của tôi"})
    assert response.status_code == 302
    db.session.refresh(question)
    assert question.state == "awaiting_answer"
    own = sign_in(app.test_client(), people.tax_official)
    page = own.get("/co-quan/hoi-dap/")
    assert page.status_code == 200 and question.title in page.get_data(as_text=True)


def _status(client, url: str) -> int:
    """A file download's status, its response closed (send_file keeps the file open until then)."""
    response = client.get(url)
    response.close()
    return response.status_code


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(out, "PNG")
    return out.getvalue()


def test_ask_route_answer_through_the_pages(app, client, people, csrf_off):
    asker = sign_in(app.test_client(), people.asker)
    assert asker.get("/hoi-dap/dat-cau-hoi").status_code == 200
    response = asker.post(
        "/hoi-dap/dat-cau-hoi",
        data={
            "agency_id": "0",
            "topic": "tax",
            "title": "Kê khai thuế cho hộ kinh doanh online",
            "body": "Xin hỏi cách kê khai.",
            "attachments": [
                (io.BytesIO(_png()), "anh.png"),
                (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "to-khai.pdf"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    question = db.session.scalar(select(Question))
    assert question.state == "submitted" and question.agency_id is None
    # The asker's files are theirs and staff's only.
    files = db.session.scalars(select(Attachment)).all()
    assert len(files) == 2
    assert _status(asker, f"/hoi-dap/tep/{files[0].id}") == 200
    assert _status(client, f"/hoi-dap/tep/{files[0].id}") == 404
    operator = sign_in(app.test_client(), people.operator)
    assert operator.get(f"/quan-tri/hoi-dap/{question.id}").status_code == 200
    assert (
        operator.post(
            f"/quan-tri/hoi-dap/{question.id}/chuyen", data={"agency_id": people.tax.id}
        ).status_code
        == 302
    )
    db.session.refresh(question)
    assert question.state == "awaiting_answer" and question.agency_id == people.tax.id
    assert _status(client, f"/hoi-dap/tep/{files[0].id}") == 404  # public now, files still not
    official_client = sign_in(app.test_client(), people.tax_official)
    assert official_client.get(f"/co-quan/hoi-dap/{question.id}").status_code == 200
    response = official_client.post(
        f"/co-quan/hoi-dap/{question.id}/tra-loi",
        data={
            "body": "<p>Kê khai theo mẫu 01/CNKD.</p>",
            "attachments": [(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "mau.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.refresh(question)
    assert question.state == "answered"
    answer_file = db.session.scalars(select(Attachment).where(Attachment.message_id.is_not(None))).one()
    assert _status(client, f"/hoi-dap/tep/{answer_file.id}") == 200  # an answer's file is public
    page = client.get(f"/hoi-dap/{question.slug}").get_data(as_text=True)
    assert "Kê khai theo mẫu 01/CNKD." in page
    outbox.drain()  # the worker: the search index
    assert "Kê khai thuế" in client.get("/hoi-dap/?q=ke+khai+thue").get_data(as_text=True)
    assert asker.post(f"/hoi-dap/{question.slug}/danh-gia", data={"useful": "1"}).status_code == 302
    assert "1 người thấy hữu ích" in client.get(f"/hoi-dap/{question.slug}").get_data(as_text=True)


def test_a_buyer_is_asked_for_a_business_first(app, people, csrf_off):
    buyer = sign_in(app.test_client(), people.buyer)
    response = buyer.get("/hoi-dap/dat-cau-hoi")
    assert response.status_code == 302 and "/hoi-dap/doanh-nghiep" in response.headers["Location"]
    bad = buyer.post("/hoi-dap/doanh-nghiep", data={"business_name": "Cty A", "tax_code": "123"})
    assert bad.status_code == 200 and "Mã số thuế gồm 10 chữ số" in bad.get_data(as_text=True)
    good = buyer.post("/hoi-dap/doanh-nghiep", data={"business_name": "Cty A", "tax_code": "3001234567"})
    assert good.status_code == 302
    assert buyer.get("/hoi-dap/dat-cau-hoi").status_code == 200


def test_operator_tools(app, people, csrf_off):
    operator = sign_in(app.test_client(), people.operator)
    assert (
        operator.post(
            "/quan-tri/hoi-dap/lich", data={"day": "2027-02-20", "kind": "working_day", "note": "Làm bù"}
        ).status_code
        == 302
    )
    assert "20/02/2027" in operator.get("/quan-tri/hoi-dap/lich").get_data(as_text=True)
    assert (
        operator.post(
            "/quan-tri/hoi-dap/quy-tac-an", data={"name": "Mã", "pattern": "HS-\\d+", "replacement": "[x]"}
        ).status_code
        == 302
    )
    bad = operator.post(
        "/quan-tri/hoi-dap/quy-tac-an", data={"name": "Hỏng", "pattern": "(", "replacement": ""}
    )
    assert bad.status_code == 200 and "Biểu thức không hợp lệ" in bad.get_data(as_text=True)
    assert (
        operator.post(
            "/quan-tri/hoi-dap/co-quan", data={"name": "Hải quan", "working_days": "15", "active": "y"}
        ).status_code
        == 302
    )
    assert (
        operator.post(
            "/quan-tri/hoi-dap/co-quan/moi-can-bo",
            data={"i-agency_id": people.tax.id, "i-email": "moi@example.vn"},
        ).status_code
        == 302
    )
    assert "Hải quan" in operator.get("/quan-tri/hoi-dap/co-quan").get_data(as_text=True)


def test_an_official_asks_a_colleague_agency_then_transfers_through_the_pages(app, people, csrf_off):
    from govqa.models import Contribution

    question = ask(people.asker)
    services.accept_question(question, people.tax, actor=people.operator)
    db.session.commit()
    url = f"/co-quan/hoi-dap/{question.id}"
    other = sign_in(app.test_client(), people.food_official)
    refused = other.post(f"{url}/chuyen", data={"t-agency_id": people.tax.id, "t-reason": "Không đúng"})
    assert refused.status_code == 302  # back with a message, as for answering (above)
    db.session.refresh(question)
    assert question.agency_id == people.tax.id and question.state == "awaiting_answer"
    own = sign_in(app.test_client(), people.tax_official)
    asked = own.post(
        f"{url}/phoi-hop", data={"c-agency_id": people.food.id, "c-reason": "Về an toàn thực phẩm"}
    )
    assert asked.status_code == 302
    assert db.session.scalar(
        select(Contribution.agency_id).where(Contribution.question_id == question.id)
    ) == (people.food.id)
    moved = own.post(f"{url}/chuyen", data={"t-agency_id": people.food.id, "t-reason": "Thuộc Sở Y tế"})
    assert moved.status_code == 302
    db.session.refresh(question)
    assert question.agency_id == people.food.id and question.state_reason == "Thuộc Sở Y tế"
