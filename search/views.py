"""The results page (/tim-kiem, works without JavaScript) and the operator's synonym page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace.actions import run_form
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.permissions import operator_required

from . import service
from .forms import ActionForm, SynonymForm
from .models import SearchSynonym
from .query import SORTS, SearchQuery, parse_args
from .synonyms import add_synonym_group, remove_synonym_group, set_synonym_active

bp = Blueprint("search", __name__)
admin_bp = Blueprint("search_admin", __name__, url_prefix="/quan-tri")

FILTER_ARGS = (
    "q",
    "category",
    "origin",
    "shop",
    "ocop_min",
    "cert",
    "price_min",
    "price_max",
    "in_stock",
    "sort",
    "per_page",
    "chinh_xac",
)


def url_with(**changes) -> str:
    """This search with some parameters changed (None removes one); the page starts over."""
    args: dict[str, Any] = {
        key: value for key, value in request.args.items() if key in FILTER_ARGS and value != ""
    }
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    return url_for("search.results", **args)


@bp.get("/tim-kiem")
def results():
    error = None
    try:
        query, slugs = parse_args(
            request.args, default_per_page=current_app.config.get("PER_PAGE", 24), from_form=True
        )
        service.resolve_filters(query, slugs)
        result = service.run_search(query, slugs["cursor"])
    except DomainError as exc:  # the parameters, or a cursor or page the answering backend cannot use
        error, query = exc.message, SearchQuery(text=(request.args.get("q") or "")[:200])
        result = service.run_search(query)
    facets = service.describe_facets(result, query)
    pages = max((result.total + query.per_page - 1) // query.per_page, 1)
    return render_template(
        "search/results.html",
        query=query,
        result=result,
        facets=facets,
        error=error,
        pages=pages,
        url_with=url_with,
        sorts=SORTS,
        active_filters=_active_filters(query, facets),
    ), 400 if error else 200


def _active_filters(query: SearchQuery, facets: dict) -> list[tuple[str, str]]:
    """(label, url without it) for each filter in use, so each can be removed with one click."""
    out = []
    args = request.args
    if args.get("category"):
        label = next(
            (f["label"] for f in facets.get("category", []) if f["value"] == args["category"]),
            args["category"],
        )
        out.append((_("Danh mục: %(v)s", v=label), url_with(category=None)))
    if query.origin:
        out.append((_("Vùng: %(v)s", v=query.origin), url_with(origin=None)))
    if args.get("shop"):
        label = next((f["label"] for f in facets.get("shop", []) if f["value"] == args["shop"]), args["shop"])
        out.append((_("Cửa hàng: %(v)s", v=label), url_with(shop=None)))
    if query.ocop_min:
        out.append((_("OCOP từ %(n)d★", n=query.ocop_min), url_with(ocop_min=None)))
    if query.cert:
        out.append((_("Chứng nhận: %(v)s", v=query.cert), url_with(cert=None)))
    if query.price_min is not None or query.price_max is not None:
        out.append((_("Khoảng giá"), url_with(price_min=None, price_max=None)))
    if query.in_stock:
        out.append((_("Còn hàng"), url_with(in_stock=None)))
    return out


# --- operator: synonyms ---------------------------------------------------------------------------------


@admin_bp.route("/tu-dong-nghia", methods=["GET", "POST"])
@operator_required
def synonyms():
    form = SynonymForm()
    if run_form(
        form,
        lambda: add_synonym_group(form.terms.data, actor=current_user),
        _("Đã thêm nhóm từ đồng nghĩa, áp dụng ngay từ lần tìm tiếp theo."),
    ):
        return redirect(url_for("search_admin.synonyms"))
    rows = db.session.scalars(select(SearchSynonym).order_by(SearchSynonym.id)).all()
    return render_template("search/operator_synonyms.html", form=form, rows=rows, action_form=ActionForm())


def _row(synonym_id: int) -> SearchSynonym:
    if not ActionForm().validate_on_submit():
        abort(400)
    return db.session.get(SearchSynonym, synonym_id) or abort(404)


@admin_bp.post("/tu-dong-nghia/<int:synonym_id>/xoa")
@operator_required
def remove_synonym(synonym_id: int):
    remove_synonym_group(_row(synonym_id), actor=current_user)
    db.session.commit()
    flash(_("Đã xoá nhóm từ đồng nghĩa."), "success")
    return redirect(url_for("search_admin.synonyms"))


@admin_bp.post("/tu-dong-nghia/<int:synonym_id>/bat-tat")
@operator_required
def toggle_synonym(synonym_id: int):
    row = _row(synonym_id)
    set_synonym_active(row, not row.active, actor=current_user)
    db.session.commit()
    flash(_("Đã bật nhóm từ.") if row.active else _("Đã tắt nhóm từ."), "success")
    return redirect(url_for("search_admin.synonyms"))
