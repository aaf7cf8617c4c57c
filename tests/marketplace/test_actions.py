"""run_form, the form-view block in one place: validate, call the service, commit or roll back,
errors onto the form; refusals (Forbidden…) go on to the error pages unless the view places them."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from sqlalchemy import func, select
from wtforms import StringField

from marketplace.actions import Done, NotDone, run_form
from marketplace.errors import DomainError, Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.forms import AppForm
from marketplace.models import Commune


class NameForm(AppForm):
    name = StringField()


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Commune)) or 0


def _add(name: str) -> Commune:
    commune = Commune(name=name, province="Hà Tĩnh", kind="xa")
    db.session.add(commune)
    db.session.flush()
    return commune


@pytest.fixture
def post(app, csrf_off):
    def request(data: dict | None = None, method: str = "POST"):
        return app.test_request_context("/", method=method, data=data or {})

    return request


def test_an_accepted_form_is_committed_flashed_and_answered(post):
    with post({"name": "Xã Sơn Kim 1"}):
        form = NameForm()
        done = run_form(form, lambda: _add(form.name.data), "Đã thêm.")
        assert isinstance(done, Done) and done and done.result.name == "Xã Sơn Kim 1"
        assert get_flashed_messages(with_categories=True) == [("success", "Đã thêm.")]
    db.session.rollback()  # nothing pending: it was committed
    assert _count() == 1


def test_a_form_not_posted_calls_nothing(post):
    called = []
    with post(method="GET"):
        outcome = run_form(NameForm(), lambda: called.append(1))
    assert isinstance(outcome, NotDone) and not outcome and outcome.errors == {} and called == []


def test_field_errors_go_onto_the_form_and_nothing_is_kept(post):
    def refuse() -> None:
        _add("Xã nửa chừng")
        raise ValidationFailed({"name": ["Tên đã có."], "elsewhere": ["Lỗi chung."]})

    with post({"name": "x"}):
        form = NameForm()
        outcome = run_form(form, refuse, "Đã thêm.")
        assert not outcome and outcome.errors == {"name": ["Tên đã có."], "elsewhere": ["Lỗi chung."]}
        assert form.name.errors == ["Tên đã có."] and form.form_errors == ["Lỗi chung."]
        assert get_flashed_messages() == []
    assert _count() == 0


def test_a_refusal_goes_to_the_error_pages_unless_the_view_places_it(post):
    def forbid() -> None:
        _add("Xã trái phép")
        raise Forbidden("Không được.")

    with post({"name": "x"}), pytest.raises(Forbidden):
        run_form(NameForm(), forbid)
    db.session.rollback()
    with post({"name": "x"}):
        form = NameForm()
        assert not run_form(form, forbid, refusals="name")
        assert form.name.errors == ["Không được."]
    with post({"name": "x"}):
        form = NameForm()
        assert not run_form(
            form, lambda: (_ for _ in ()).throw(DomainError("Đã là thành viên.")), refusals=""
        )
        assert form.form_errors == ["Đã là thành viên."]
    assert _count() == 0
