"""Synonym groups ("quả, trái"), edited by the operator at /quan-tri/tu-dong-nghia.

Both backends expand the active groups into the query at search time, so an edit applies to the
next search: no reindex, no worker. Editing takes the actor explicitly and never commits (the
view does)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar, cast

from flask_babel import gettext as _
from sqlalchemy import select

from marketplace.errors import Errors, Forbidden
from marketplace.extensions import db
from marketplace.models import User
from marketplace.permissions import is_operator

from . import text as vi
from .models import SearchSynonym

P = ParamSpec("P")
R = TypeVar("R")

MAX_TERMS = 20
MAX_TERM_CHARS = 60


def can_edit_synonyms(user: User | None) -> bool:
    """Only the floor's operator edits the synonyms every search uses."""
    return is_operator(user)


def editors_only(edit: Callable[P, R]) -> Callable[P, R]:
    """Raise Forbidden unless the `actor` keyword argument may edit synonyms."""

    @wraps(edit)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        if not can_edit_synonyms(cast("User | None", kwargs.get("actor"))):
            raise Forbidden(_("Chỉ ban quản lý sàn mới sửa được từ đồng nghĩa."))
        return edit(*args, **kwargs)

    return guarded


def synonym_groups() -> list[list[str]]:
    """The active groups, as the operator wrote them."""
    rows = db.session.scalars(
        select(SearchSynonym.terms).where(SearchSynonym.active.is_(True)).order_by(SearchSynonym.id)
    )
    return [vi.parse_synonym_group(terms) for terms in rows]


@editors_only
def add_synonym_group(terms: str, *, actor: User) -> SearchSynonym:
    errors = Errors()
    group = vi.parse_synonym_group(terms)
    if len(group) < 2:
        errors.add("terms", _("Nhập ít nhất hai từ khác nhau, cách nhau bằng dấu phẩy (ví dụ: quả, trái)."))
    elif any(len(term) > MAX_TERM_CHARS for term in group) or len(group) > MAX_TERMS:
        errors.add("terms", _("Mỗi từ tối đa 60 ký tự, mỗi nhóm tối đa 20 từ."))
    errors.raise_if_any()
    row = SearchSynonym(terms=", ".join(group), active=True)
    db.session.add(row)
    db.session.flush()
    return row


@editors_only
def set_synonym_active(row: SearchSynonym, active: bool, *, actor: User) -> SearchSynonym:
    row.active = active
    db.session.flush()
    return row


@editors_only
def remove_synonym_group(row: SearchSynonym, *, actor: User) -> None:
    db.session.delete(row)
    db.session.flush()
