"""The floor's certifications with their English names: the seed, the operator's edit and the one
accessor pages use (`certification_label`, the `cert_label` template filter).

Listings cite certifications by their Vietnamese name (a JSON list of strings, typed or picked
from the list); a name the floor does not list shows as typed in every language."""

from __future__ import annotations

from flask import g, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from marketplace import outbox
from marketplace.errors import Errors, Forbidden
from marketplace.extensions import db
from marketplace.models import User
from marketplace.permissions import is_operator

from .models import COMMON_CERTIFICATIONS_EN, Certification

TOPIC = "certification.changed"


def seed_certifications() -> int:
    """Create the certifications of COMMON_CERTIFICATIONS_EN that are missing (by name); flush, do
    not commit; existing rows (the operator may have changed their English name) stay as they are.
    Returns how many were created."""
    existing = set(db.session.scalars(select(Certification.name)))
    created = 0
    for position, (name, name_en) in enumerate(COMMON_CERTIFICATIONS_EN):
        if name not in existing:
            db.session.add(Certification(name=name, name_en=name_en, position=position))
            created += 1
    if created:
        db.session.flush()
        outbox.record(TOPIC, {})
    return created


def all_certifications() -> list[Certification]:
    return list(
        db.session.scalars(select(Certification).order_by(Certification.position, Certification.name))
    )


def names() -> list[str]:
    """The names the listing form suggests: the floor's list, or the built-in one before it is seeded."""
    return [c.name for c in all_certifications()] or [name for name, _en in COMMON_CERTIFICATIONS_EN]


def english_names() -> dict[str, str]:
    """{Vietnamese name: English name} of the certifications that have one, read once per request."""
    if has_request_context() and "certification_names_en" in g:
        return g.certification_names_en
    names = {
        name: name_en
        for name, name_en in db.session.execute(select(Certification.name, Certification.name_en))
        if name_en
    }
    if has_request_context():
        g.certification_names_en = names
    return names


def certification_label(name: str) -> str:
    """A certification as pages show it: its English name under the English locale when the floor
    lists one, else the name as cited."""
    if str(get_locale() or "") != "en":
        return name
    return english_names().get(name, name)


def save_certifications(rows: list[tuple[int, str]], new: tuple[str, str] | None, *, actor: User) -> None:
    """The operator's edit: English names of existing rows (`rows`: id, name_en; empty clears it)
    and optionally one new certification (Vietnamese name, English name)."""
    if not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn mới quản lý được danh sách chứng nhận."))
    errors = Errors()
    by_id = {c.id: c for c in all_certifications()}
    for cert_id, name_en in rows:
        cert = by_id.get(cert_id)
        if cert is not None:
            cert.name_en = name_en.strip()[:120] or None
    if new is not None:
        name, name_en = new[0].strip(), new[1].strip()
        if name:
            if len(name) > 120 or len(name_en) > 120:
                errors.add("new_name", _("Tên chứng nhận dài tối đa 120 ký tự."))
            elif any(c.name.casefold() == name.casefold() for c in by_id.values()):
                errors.add("new_name", _("Chứng nhận này đã có trong danh sách."))
            else:
                position = max((c.position for c in by_id.values()), default=-1) + 1
                db.session.add(Certification(name=name, name_en=name_en or None, position=position))
    errors.raise_if_any()
    db.session.flush()
    outbox.record(TOPIC, {})
