"""Addresses: the provinces and communes every address form offers, the one check of a chosen
commune, and which provinces neighbour which (the shipping zones of orders/pricing.py).

Since 1 July 2025 an address is street/hamlet, commune (xã, phường, đặc khu), province: forms ask
for the province first, then a commune of that province (templates/_address_fields.html). Without
JavaScript, choosing a province and pressing "Chọn" (the `address_refresh` button) shows the
form again with that province's communes; static/js/address.js presses it on change and filters
the commune list as the buyer types.

Names are compared by `province_key` / `commune_key`: folded (no diacritics, đ → d, lower case)
and without the unit word, so "Hà Nội", "ha noi" and "Thành phố Hà Nội" are one province."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from . import numbers
from .errors import Errors
from .extensions import db
from .models import Commune

KINDS = ("xa", "phuong", "dac_khu")
KIND_LABELS = {"xa": _l("Xã"), "phuong": _l("Phường"), "dac_khu": _l("Đặc khu")}
REFRESH_FIELD = "address_refresh"  # the "Chọn" button beside the province select
NEIGHBOURS_FILE = Path(__file__).resolve().parent / "data" / "province_neighbours.csv"

_PROVINCE_WORDS = re.compile(r"^(thanh pho|tp\.?|tinh)\s+")
_COMMUNE_WORDS = re.compile(r"^(xa|phuong|dac khu|thi tran)\s+")
_SPACES = re.compile(r"\s+")


def fold(text: str | None) -> str:
    """Lower case, no diacritics, đ → d, single spaces: "Phường Sông Trí" → "phuong song tri"."""
    decomposed = unicodedata.normalize("NFD", (text or "").replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", plain).strip().lower()


def province_key(name: str | None) -> str:
    """ "Thành phố Hà Nội", "TP. Hà Nội", "ha noi" → "ha noi"; "Tỉnh Hà Tĩnh" → "ha tinh"."""
    return _PROVINCE_WORDS.sub("", fold(name))


def commune_key(name: str | None) -> str:
    """ "Xã Kỳ Xuân" and "Kỳ Xuân" → "ky xuan"."""
    return _COMMUNE_WORDS.sub("", fold(name))


def province_phrase(name: str) -> str:
    """The province as a sentence names it: "tỉnh Hà Tĩnh", "Thành phố Hà Nội"."""
    if fold(name).startswith("thanh pho "):
        return name
    return _("tỉnh %(name)s", name=name)


def home_province() -> str:
    return current_app.config["PROVINCE_NAME"]


def provinces() -> list[str]:
    """Provinces that have an active commune: this floor's province first, then by name."""
    names = set(db.session.scalars(select(Commune.province).where(Commune.active.is_(True)).distinct()))
    home = province_key(home_province())
    return sorted(names, key=lambda name: (province_key(name) != home, province_key(name)))


def resolve_province(raw: str | None) -> str | None:
    """The stored province a typed or posted name means (any spelling `province_key` folds together)."""
    key = province_key(raw)
    if not key:
        return None
    return next((name for name in provinces() if province_key(name) == key), None)


def communes_of(province: str) -> list[Commune]:
    """The active communes of `province`, by name without the unit word ("Kỳ Xuân" among the K)."""
    rows = db.session.scalars(select(Commune).where(Commune.province == province, Commune.active.is_(True)))
    return sorted(rows, key=lambda c: commune_key(c.name))


def is_refresh(form_data: Mapping[str, str]) -> bool:
    """True when the form was sent by the province's "Chọn" button: show it again, save nothing."""
    return bool(form_data.get(REFRESH_FIELD))


def fill_choices(form, *, default_province: str | None = None) -> str | None:
    """Give `form.province` and `form.commune_id` their choices: every province, and the communes
    of the chosen one (the posted province, else the chosen commune's, else `default_province` or
    this floor's). A commune outside the chosen province is unselected. Returns the province."""
    commune = db.session.get(Commune, numbers.coerce_id(form.commune_id.data))
    chosen = resolve_province(form.province.data)
    if chosen is None and commune is not None and commune.active:
        chosen = commune.province
    if chosen is None and not form.province.data:
        chosen = resolve_province(default_province or home_province())
    form.province.choices = [("", _("— Chọn tỉnh/thành phố —"))] + [(p, p) for p in provinces()]
    form.province.data = chosen or ""
    if chosen:
        options = [(0, _("— Chọn xã/phường —"))] + [(c.id, c.name) for c in communes_of(chosen)]
    else:
        options = [(0, _("— Chọn tỉnh/thành phố trước —"))]
    form.commune_id.choices = options
    if commune is None or commune.province != chosen:
        form.commune_id.data = 0
    return chosen


def validate_commune(data: Mapping, errors: Errors, *, field: str = "commune_id") -> Commune | None:
    """The active commune `data` chose; it must lie in the posted province, if one was posted."""
    commune = db.session.get(Commune, numbers.coerce_id(data.get(field)))
    if commune is None or not commune.active:
        errors.add(field, _("Vui lòng chọn xã/phường."))
        return None
    posted = (data.get("province") or "").strip()
    if posted and province_key(posted) != province_key(commune.province):
        errors.add(
            field,
            _(
                "Xã/phường đã chọn không thuộc %(province)s. Vui lòng chọn lại.",
                province=province_phrase(resolve_province(posted) or posted),
            ),
        )
        return None
    return commune


# --- neighbouring provinces ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def _neighbour_rows() -> tuple[tuple[str, tuple[str, ...], bool], ...]:
    with open(NEIGHBOURS_FILE, newline="", encoding="utf-8") as fh:
        return tuple(
            (row["province"], tuple(n for n in row["neighbours"].split(";") if n), row["checked"] == "yes")
            for row in csv.DictReader(fh)
        )


def neighbour_table() -> dict[str, frozenset[str]]:
    """province key → keys of the provinces sharing a land border with it (data file, 34 units)."""
    return {
        province_key(name): frozenset(province_key(n) for n in neighbours)
        for name, neighbours, _checked in _neighbour_rows()
    }


def neighbours_of(province: str) -> list[str]:
    """The neighbouring provinces' names, as the data file spells them (empty if unknown)."""
    key = province_key(province)
    return next((list(ns) for name, ns, _checked in _neighbour_rows() if province_key(name) == key), [])
