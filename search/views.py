"""The results page (/tim-kiem, works without JavaScript) and the operator's synonym page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from catalog.cards import hit_cards
from marketplace.actions import run_form
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.numbers import page_arg
from marketplace.permissions import operator_required

from . import service
from .forms import ActionForm, SynonymForm
from .models import SearchSynonym
from .query import MAX_PER_PAGE, MAX_WINDOW, SORTS, SearchQuery, parse_args
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


def _filter_args(changes: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """This request's filter parameters (or `base`) with some changed (None removes one)."""
    args: dict[str, Any] = {
        key: value for key, value in request.args.items() if key in FILTER_ARGS and value != ""
    }
    args.update(base or {})
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    return args


def url_with(**changes) -> str:
    """This search with some parameters changed (None removes one); the page starts over."""
    return url_for("search.results", **_filter_args(changes))


def _search(args, query_extra: dict[str, Any] | None = None) -> tuple[SearchQuery, Any, str | None]:
    """Parse, resolve and run a search from page parameters: (query, result, error message).
    A bad parameter, cursor or page gives the error and the plain search for the words."""
    error = None
    try:
        query, slugs = parse_args(
            args, default_per_page=current_app.config.get("PER_PAGE", 24), from_form=True
        )
        for key, value in (query_extra or {}).items():
            setattr(query, key, value)
        service.resolve_filters(query, slugs)
        result = service.run_search(query, slugs["cursor"], nearest=not query_extra)
    except DomainError as exc:  # the parameters, or a cursor or page the answering backend cannot use
        error, query = exc.message, SearchQuery(text=(args.get("q") or "")[:200], **(query_extra or {}))
        result = service.run_search(query, nearest=not query_extra)
    return query, result, error


@bp.get("/tim-kiem")
def results():
    query, result, error = _search(request.args)
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
        hit_cards=hit_cards,
        sorts=SORTS,
        active_filters=_active_filters(query, facets, url_with),
        filter_action=url_for("search.results"),
        clear_filters_url=url_for("search.results", q=query.text)
        if query.text
        else url_for("search.results"),
    ), 400 if error else 200


# The category page (catalog.views.show_category) is a search within the category: the same
# filters, facets, sorting and paging as /tim-kiem, answered by the index. Only browsing: the
# words of a search go to /tim-kiem (its box is on every page).
CATEGORY_ARGS = (*tuple(key for key in FILTER_ARGS if key not in ("q", "category")), "page", "cursor")


def category_page(category) -> tuple[dict[str, Any], int]:
    """What templates/catalog/category.html shows for `category`, and the HTTP status."""
    args = {key: value for key, value in request.args.items() if key in CATEGORY_ARGS}
    if args.get("sort") not in SORTS:  # no sort, or an old link's (sort=name): the newest first
        args["sort"] = "newest"
    # Like every HTML list of the catalog, a bad or huge page number shows page 1 or a page past
    # the last, never an error (deeper than the window, the pager's links carry a cursor).
    per_page = current_app.config.get("PER_PAGE", 24)
    if (args.get("per_page") or "").isdigit() and 1 <= int(args["per_page"]) <= MAX_PER_PAGE:
        per_page = int(args["per_page"])
    deepest = MAX_WINDOW if args.get("cursor") else max(MAX_WINDOW // per_page, 1)
    args["page"] = str(page_arg(request.args, maximum=deepest))
    query, result, error = _search(args, {"category_id": category.id})
    facets = service.describe_facets(result, query)
    pages = max((result.total + query.per_page - 1) // query.per_page, 1)
    base = {"sort": args["sort"]}  # the sort shown (an old link's sort=name is not kept)

    def category_url_with(**changes) -> str:
        """Within the category page (a facet's subcategory is its own page); without a
        category, the same filters on the search page."""
        slug = changes.pop("category", category.slug)
        params = _filter_args(changes, base)
        params.pop("q", None)
        params.pop("category", None)
        if slug:
            if params.get("sort") == "newest":
                params.pop("sort")
            return url_for("catalog.show_category", slug=slug, **params)
        return url_for("search.results", **params)

    page = {
        "query": query,
        "result": result,
        "cards": hit_cards(result.hits),
        "facets": facets,
        "error": error,
        "pages": pages,
        "url_with": category_url_with,
        "active_filters": [
            item for item in _active_filters(query, facets, category_url_with) if item[2] != "category"
        ],
        "filter_action": url_for("catalog.show_category", slug=category.slug),
        "clear_filters_url": url_for("catalog.show_category", slug=category.slug),
    }
    return page, 400 if error else 200


def _active_filters(query: SearchQuery, facets: dict, url_with=url_with) -> list[tuple[str, str, str]]:
    """(label, url without it, parameter) for each filter in use, so each can be removed with one
    click."""
    out = []
    args = request.args
    if query.category_id is not None:
        label = next(
            (f["label"] for f in facets.get("category", []) if f["selected"]), args.get("category", "")
        )
        out.append((_("Danh mục: %(v)s", v=label), url_with(category=None), "category"))
    if query.origin:
        out.append((_("Vùng: %(v)s", v=query.origin), url_with(origin=None), "origin"))
    if query.shop_id is not None:
        label = next((f["label"] for f in facets.get("shop", []) if f["selected"]), args.get("shop", ""))
        out.append((_("Cửa hàng: %(v)s", v=label), url_with(shop=None), "shop"))
    if query.ocop_min:
        out.append((_("OCOP từ %(n)d★", n=query.ocop_min), url_with(ocop_min=None), "ocop_min"))
    if query.cert:
        out.append((_("Chứng nhận: %(v)s", v=query.cert), url_with(cert=None), "cert"))
    if query.price_min is not None or query.price_max is not None:
        out.append((_("Khoảng giá"), url_with(price_min=None, price_max=None), "price"))
    if query.in_stock:
        out.append((_("Còn hàng"), url_with(in_stock=None), "in_stock"))
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
