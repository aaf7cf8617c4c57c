"""The legal pages (public, Vietnamese addresses), the operator's pages to publish them, and the
signed-in person's data: download it, or have the account erased."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..actions import run_form
from ..forms import submitted_data
from ..permissions import operator_required
from . import markup, personal_data, services
from .forms import DeleteAccountForm, PublishForm
from .pages import BY_KEY, BY_SLUG, PAGES

bp = Blueprint("legal", __name__)
operator_bp = Blueprint("legal_admin", __name__, url_prefix="/quan-tri")


# --- public pages -----------------------------------------------------------------------------


def show_page(key: str):
    """The version in force, the list of every version, and a notice of one waiting for its date.
    Before anything is published the page exists and says so."""
    page = BY_KEY[key]
    today = services.local_today()
    current = services.current_version(key, today)
    history = services.versions(key)
    upcoming = [v for v in history if v.effective_from > today]
    return render_template(
        "legal/page.html", page=page, version=current, current=current, history=history, upcoming=upcoming
    )


def show_version(key: str, number: int):
    page = BY_KEY[key]
    today = services.local_today()
    version = services.get_version(key, number)
    current = services.current_version(key, today)
    history = services.versions(key)
    upcoming = [v for v in history if v.effective_from > today]
    return render_template(
        "legal/page.html", page=page, version=version, current=current, history=history, upcoming=upcoming
    )


for _page in PAGES:
    # One endpoint per kind of view; the page is a default, so url_for("legal.show_page",
    # key="privacy") builds /chinh-sach-bao-mat.
    bp.add_url_rule(f"/{_page.slug}", "show_page", show_page, defaults={"key": _page.key})
    bp.add_url_rule(
        f"/{_page.slug}/phien-ban/<int:number>", "show_version", show_version, defaults={"key": _page.key}
    )


# --- the operator's pages ---------------------------------------------------------------------


@operator_bp.get("/trang-phap-ly")
@operator_required
def pages():
    today = services.local_today()
    rows = [
        (page, services.current_version(page.key, today), services.latest_version(page.key)) for page in PAGES
    ]
    return render_template("legal/operator_pages.html", rows=rows, today=today)


@operator_bp.route("/trang-phap-ly/<slug>", methods=["GET", "POST"])
@operator_required
def edit_page(slug: str):
    page = BY_SLUG.get(slug) or abort(404)
    form = PublishForm()
    preview = None
    status = 200
    if request.method == "GET":
        latest = services.latest_version(page.key)
        form.body.data = latest.body if latest else ""
        form.effective_from.data = services.local_today().isoformat()
    elif request.form.get("action") == "preview":
        if form.validate_on_submit():
            preview = markup.render(form.body.data or "")
    else:
        data = submitted_data(form)
        done = run_form(
            form,
            lambda: services.publish_version(page.key, data, actor=current_user),
            _("Đã công bố phiên bản mới của “%(title)s”.", title=page.title),
            refusals="",
        )
        if done:
            return redirect(url_for("legal_admin.edit_page", slug=page.slug))
        status = 422
    today = services.local_today()
    return render_template(
        "legal/operator_edit.html",
        page=page,
        form=form,
        preview=preview,
        history=services.versions(page.key),
        current=services.current_version(page.key, today),
        today=today,
    ), status


# --- the signed-in person's data --------------------------------------------------------------


@bp.get("/tai-khoan/du-lieu-ca-nhan.json")
@login_required
def export_data():
    data = personal_data.export_data(current_user)
    day = services.local_today().isoformat()
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="du-lieu-ca-nhan-{day}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/tai-khoan/xoa-tai-khoan", methods=["GET", "POST"])
@login_required
def delete_account():
    from ..accounts.views import _end_browser_session

    user = current_user._get_current_object()
    form = DeleteAccountForm()
    blockers = personal_data.deletion_blockers(user)
    status = 200
    if request.method == "POST":
        status = 422
        if blockers:
            status = 409
        elif run_form(
            form,
            lambda: personal_data.delete_account(user, form.password.data, confirmed=bool(form.confirm.data)),
            refusals="",
        ):
            _end_browser_session()
            flash(_("Tài khoản của bạn đã được xoá. Cảm ơn bạn đã sử dụng sàn."), "info")
            return redirect(url_for("catalog.home"))
    return render_template("legal/delete_account.html", form=form, blockers=blockers), status
