"""The demo's Q&A: the 2025 agencies, two officials in the accounts table, questions in every
state over recent months, some whose original held phone and ID numbers; loading twice adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from govqa import services, states
from govqa.models import Agency, Question
from marketplace import outbox
from marketplace.extensions import db


def test_demo_questions(app, runner, client):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    total = db.session.scalar(select(func.count()).select_from(Question))
    assert 28 <= total <= 40
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(Question)) == total
    names = set(db.session.scalars(select(Agency.name)))
    assert {"Sở Công Thương", "Thuế tỉnh", "Hải quan", "Sở Nông nghiệp và Môi trường"} <= names
    found_states = set(db.session.scalars(select(Question.state)))
    assert found_states == set(states.TRANSITIONS)
    questions = db.session.scalars(select(Question)).all()
    assert {states.timeliness(q) for q in questions} >= {"on_time", "overdue", "long_overdue"}
    table = runner.invoke(args=["demo", "accounts"]).output
    assert "agency@demo.vn" in table and "thue@demo.vn" in table
    from marketplace.accounts.services import get_user_by_email

    assert services.official_of(get_user_by_email("thue@demo.vn")).agency.slug == "thue-tinh"
    outbox.drain()
    api = client.get("/api/v1/qa/questions?agency=thue-tinh&state=answered").json
    assert api["total"] >= 3
    found = client.get("/api/v1/qa/questions?q=hoan+thue").json["items"]
    bodies = " ".join(item["body_html"] for item in found)
    assert "042 199 001 234" not in bodies and "[đã ẩn]" in bodies
    agencies = client.get("/api/v1/qa/agencies").json["items"]
    trade = next(a for a in agencies if a["slug"] == "so-cong-thuong")
    assert trade["figures"]["answered"] >= 2 and trade["figures"]["overdue_now"] >= 1
