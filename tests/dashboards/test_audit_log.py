"""The audit log of staff actions (marketplace/audit.py) and its pages (dashboards/audit_views.py):
what a staff action records, what it never records, the filters in local days, the CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import func, select, text

from marketplace.audit import REDACTED, AuditEntry, AuditLogIsAppendOnly
from marketplace.extensions import db
from marketplace.models import User
from sellers.models import Shop
from tests.orders.orders_testlib import Shopper, payment_code
from tests.support import PASSWORD, sign_in

ROOT = Path(__file__).resolve().parents[2]


def entries(**where) -> list[AuditEntry]:
    db.session.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.id)
    for key, value in where.items():
        query = query.where(getattr(AuditEntry, key) == value)
    return list(db.session.scalars(query))


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def test_an_operator_approving_a_shop_leaves_one_entry_with_before_and_after(client, factory, csrf_off):
    shop = factory.shop(approved=False, name="HTX Cam Vũ Quang")
    operator = factory.operator(name="Lê Văn Vận")
    assert count() == 0  # the factory works outside any request or command: not a staff action
    sign_in(client, operator)
    response = client.post(f"/quan-tri/cua-hang/{shop.id}", data={"action": "approve"})
    assert response.status_code == 302
    (entry,) = entries(entity_type="shops")
    assert entry.entity_id == str(shop.id)
    assert entry.label == "HTX Cam Vũ Quang"
    assert entry.operation == "update"
    assert entry.changes["status"] == ["pending", "approved"]
    assert (entry.actor_id, entry.actor_name, entry.actor_role) == (operator.id, "Lê Văn Vận", "operator")
    assert entry.action == "sellers_admin.review_shop"
    assert entry.ip == "127.0.0.1"
    assert re.fullmatch(r"[0-9a-f]{32}", entry.request_id or "")
    # Every entry of that request shares its id; the sign-in before it wrote none (a buyer-less,
    # staff-less flush: Flask-Login had not loaded anyone yet).
    assert {e.request_id for e in entries()} == {entry.request_id}


def test_a_rolled_back_action_leaves_no_entry(app, factory):
    shop = factory.shop(approved=False)
    operator = factory.operator()
    with app.test_request_context("/quan-tri/cua-hang", method="POST"):
        g._login_user = operator
        shop.status = "approved"
        db.session.flush()
        assert count() == 1  # written in the action's own transaction…
        db.session.rollback()
    assert count() == 0  # …and gone with it
    with app.test_request_context("/quan-tri/cua-hang", method="POST"):
        g._login_user = db.session.get(User, operator.id)
        db.session.get(Shop, shop.id).status = "approved"
        db.session.commit()
    assert count() == 1


def test_a_buyers_own_changes_make_no_entry(app, client, factory, csrf_off):
    listing = factory.listing(stock=5)
    buyer = factory.user(name="Trần Thị Mua")
    sign_in(client, buyer)
    shopper = Shopper(client, factory.commune().id)
    assert shopper.add(listing, 1).status_code == 302
    payment_code(shopper.checkout("cod"))
    response = client.post(
        "/tai-khoan/mat-khau",
        data={"current_password": PASSWORD, "password": "cam-bu-moi-ht9", "confirm": "cam-bu-moi-ht9"},
    )
    assert response.status_code == 302
    assert count() == 0


def test_secret_columns_never_reach_the_log(app, factory, runner, monkeypatch):
    monkeypatch.setenv("OPERATOR_PASSWORD", "mat-khau-van-hanh-9")
    result = runner.invoke(args=["users", "create-operator", "quan.tri@example.gov.vn", "--name", "Ban QL"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "quan.tri@example.gov.vn"))
    (entry,) = entries(entity_type="users")
    assert entry.actor_role == "cli" and entry.action == "users create-operator"
    assert entry.operation == "create" and entry.label == "Ban QL"
    assert entry.changes["password_hash"] == [None, REDACTED]
    assert entry.changes["session_token"] == [None, REDACTED]
    assert entry.changes["role"] == [None, "operator"]
    stored = json.dumps(entry.changes)
    assert user.password_hash not in stored and user.session_token not in stored
    assert "mat-khau-van-hanh-9" not in stored


def test_the_log_is_append_only(app, factory):
    with app.test_request_context("/", method="POST"):
        g._login_user = factory.operator()
        shop = factory.shop(approved=False)
        shop.status = "rejected"
        db.session.commit()
    entry = entries()[0]
    entry.actor_name = "Người khác"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(entries()[0])
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    # The database refuses too, whatever SQL reaches it.
    for statement in ("UPDATE audit_log SET actor_name = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert count() >= 1
    # And no code of the app writes an UPDATE or DELETE of it.
    pattern = re.compile(r"(update|delete)\(\s*AuditEntry|(UPDATE|DELETE FROM)\s+audit_log", re.IGNORECASE)
    offenders = [
        str(path.relative_to(ROOT))
        for folder in (
            "marketplace",
            "sellers",
            "catalog",
            "orders",
            "logistics",
            "syndication",
            "govqa",
            "dashboards",
            "search",
            "demo",
        )
        for path in (ROOT / folder).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def _entry(when: datetime, **fields) -> AuditEntry:
    values = {
        "actor_id": 1,
        "actor_name": "Lê Văn Vận",
        "actor_role": "operator",
        "action": "sellers_admin.review_shop",
        "operation": "update",
        "entity_type": "shops",
        "entity_id": "1",
        "label": "HTX",
        "changes": {"status": ["pending", "approved"]},
        "ip": "127.0.0.1",
        "request_id": "0" * 32,
        **fields,
    }
    return AuditEntry(created_at=when, **values)


@pytest.fixture
def logged(app):
    """Entries written as rows (not through a staff request): times in UTC around local midnights."""
    rows = [
        # 30/11 23:59 local and 1/12 00:00 local: UTC 16:59 / 17:00 on 30/11
        _entry(datetime(2026, 11, 30, 16, 59), label="cuối ngày 30/11"),
        _entry(datetime(2026, 11, 30, 17, 0), label="đầu ngày 1/12"),
        _entry(
            datetime(2026, 12, 1, 3, 0),
            actor_id=7,
            actor_name="Phạm Thị Cơ Quan",
            actor_role="agency",
            action="govqa.answer",
            entity_type="qa_questions",
            entity_id="5",
            label='=HYPERLINK("http://x")',
            changes={"status": ["assigned", "answered"]},
        ),
        _entry(
            datetime(2026, 12, 2, 4, 0),
            actor_id=None,
            actor_name="root",
            actor_role="cli",
            action="communes import-official",
            operation="create",
            entity_type="communes",
            entity_id="9",
            label="Xã Kỳ Xuân",
            changes={"name": [None, "Xã Kỳ Xuân"]},
        ),
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def _labels(html: str) -> list[str]:
    return re.findall(r"<br>([^<]+)</td>\s*<td>", html)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tu=2026-11-30&den=2026-11-30", ["cuối ngày 30/11"]),
        ("tu=2026-12-01&den=2026-12-01", ["=HYPERLINK(&#34;http://x&#34;)", "đầu ngày 1/12"]),
        ("tu=2026-11-01&den=2026-12-31&vai-tro=cli", ["Xã Kỳ Xuân"]),
        ("tu=2026-11-01&den=2026-12-31&nguoi=7", ["=HYPERLINK(&#34;http://x&#34;)"]),
        ("tu=2026-11-01&den=2026-12-31&nguoi=c%C6%A1+quan", ["=HYPERLINK(&#34;http://x&#34;)"]),
        ("tu=2026-11-01&den=2026-12-31&bang=shops", ["đầu ngày 1/12", "cuối ngày 30/11"]),
        ("tu=2026-11-01&den=2026-12-31&bang=communes&ma=9", ["Xã Kỳ Xuân"]),
        ("tu=2026-11-01&den=2026-12-31&hanh-dong=IMPORT", ["Xã Kỳ Xuân"]),
        ("tu=2026-11-01&den=2026-12-31&hanh-dong=%25", []),  # a wildcard typed is a character
    ],
)
def test_filters_count_local_days(client, factory, logged, query, expected):
    sign_in(client, factory.operator())
    response = client.get(f"/quan-tri/nhat-ky?{query}")
    assert response.status_code == 200
    assert _labels(response.get_data(as_text=True)) == expected


def test_the_page_shows_a_readable_diff_and_pages(app, client, factory, logged, monkeypatch):
    import dashboards.audit_views as views

    monkeypatch.setattr(views, "PER_PAGE", 3)
    sign_in(client, factory.operator())
    html = client.get("/quan-tri/nhat-ky?tu=2026-11-01&den=2026-12-31").get_data(as_text=True)
    assert "<del>pending</del>" in html and "<ins>approved</ins>" in html
    assert "Phạm Thị Cơ Quan" in html and "Cán bộ cơ quan" in html
    assert 'rel="next"' in html and "page=2" in html
    second = client.get("/quan-tri/nhat-ky?tu=2026-11-01&den=2026-12-31&page=2").get_data(as_text=True)
    assert _labels(second) == ["cuối ngày 30/11"] and 'rel="prev"' in second and 'rel="next"' not in second
    # A wrong date shows the default period with the reason, never a 500.
    wrong = client.get("/quan-tri/nhat-ky?tu=30-11-2026")
    assert wrong.status_code == 200 and 'role="alert"' in wrong.get_data(as_text=True)


def test_csv_export_of_the_filtered_list_neutralises_formulas(client, factory, logged):
    sign_in(client, factory.operator())
    response = client.get("/quan-tri/nhat-ky.csv?tu=2026-12-01&den=2026-12-31")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "nhat-ky_2026-12-01_2026-12-31.csv" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:4] == ["thoi_gian", "ma_nguoi", "nguoi", "vai_tro"]
    assert [row[0] for row in rows[1:]] == [
        "2026-12-02 11:00:00",
        "2026-12-01 10:00:00",
        "2026-12-01 00:00:00",
    ]
    agency = rows[2]
    assert agency[8] == '\'=HYPERLINK("http://x")'
    assert json.loads(agency[9]) == {"status": ["assigned", "answered"]}
    assert rows[1][1] == ""  # a command has no account


@pytest.mark.parametrize("role", ["buyer", "producer", "agency"])
def test_only_operators_see_the_log(client, factory, logged, role):
    sign_in(client, factory.user(role=role))
    assert client.get("/quan-tri/nhat-ky").status_code == 403
    assert client.get("/quan-tri/nhat-ky.csv").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/quan-tri/nhat-ky")
    assert response.status_code == 302 and "/dang-nhap" in response.headers["Location"]


def test_the_operator_console_links_the_log(client, factory):
    sign_in(client, factory.operator())
    assert 'href="/quan-tri/nhat-ky"' in client.get("/quan-tri/").get_data(as_text=True)


def test_the_page_query_is_registered_for_the_benchmark(app, logged):
    from dashboards.periods import Period

    queries = app.extensions["dashboard_queries"]
    assert queries["audit_log.page"].scope == "floor"
    assert queries["audit_log.page"].run(Period(date(2026, 11, 30), date(2026, 12, 1)), None) == 3
    assert queries["audit_log.page_filtered"].run(Period(date(2026, 11, 30), date(2026, 12, 1)), None) == 2


def test_an_agency_officials_answer_is_recorded(app, factory, csrf_off):
    from tests.govqa.qa_testlib import agency, ask, business_asker, official

    tax = agency("Cục Thuế tỉnh")
    answerer = official(factory, tax, name="Hoàng Văn Thuế")
    question = ask(business_asker(factory), of=tax, topic="tax")
    assert count() == 0  # set up through services, outside any staff request
    operator = sign_in(app.test_client(), factory.operator(name="Lê Văn Vận"))
    response = operator.post(f"/quan-tri/hoi-dap/{question.id}/chuyen", data={"agency_id": tax.id})
    assert response.status_code == 302
    (routed,) = entries(entity_type="qa_questions")
    assert routed.actor_role == "operator" and routed.changes["state"] == ["submitted", "awaiting_answer"]
    client = sign_in(app.test_client(), answerer)
    response = client.post(f"/co-quan/hoi-dap/{question.id}/tra-loi", data={"body": "Kê khai theo mẫu 01."})
    assert response.status_code == 302
    answered = entries(entity_type="qa_questions", actor_role="agency")
    assert len(answered) == 1
    assert answered[0].actor_name == "Hoàng Văn Thuế" and answered[0].action.startswith("govqa")
    assert answered[0].changes["state"] == ["awaiting_answer", "answered"]
    assert "qa_messages" in {e.entity_type for e in entries(actor_role="agency")}


def test_only_administrative_commands_are_staff_actions(app):
    import click

    from marketplace.audit import current_actor

    root = click.Context(click.Group("flask"), info_name="flask")
    for name, expected in (("worker", None), ("demo", None), ("db", None), ("users", "cli")):
        with click.Context(click.Command(name), info_name=name, parent=root):
            actor = current_actor()
            assert (actor and actor["actor_role"]) == expected, name


def test_times_in_a_diff_read_in_local_time(app):
    from dashboards.audit_views import diff_rows

    entry = _entry(datetime(2026, 12, 1), changes={"status_changed_at": [None, "2026-11-30T17:00:00.123456"]})
    assert diff_rows(entry) == [("status_changed_at", "", "01/12/2026 00:00:00")]


def test_the_entries_of_one_request_are_found_together(client, factory, logged):
    db.session.add(_entry(datetime(2026, 12, 1, 5, 0), label="cùng lượt khác", request_id="a" * 32))
    db.session.commit()
    sign_in(client, factory.operator())
    html = client.get("/quan-tri/nhat-ky?tu=2026-11-01&den=2026-12-31").get_data(as_text=True)
    assert f"yeu-cau={'a' * 32}" in html
    same = client.get(f"/quan-tri/nhat-ky?tu=2026-11-01&den=2026-12-31&yeu-cau={'a' * 32}")
    assert _labels(same.get_data(as_text=True)) == ["cùng lượt khác"]
    ignored = client.get("/quan-tri/nhat-ky?tu=2026-11-01&den=2026-12-31&yeu-cau=not-an-id")
    assert len(_labels(ignored.get_data(as_text=True))) == 5
