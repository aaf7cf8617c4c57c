"""The commune list: the official list from the `vietnam-provinces` package, the operator's CSV
and the operator's corrections on the pages.

Rules that keep stored addresses whole and the operator's work safe:
- a row is never deleted: a unit that left the official list is deactivated (orders keep the
  names they were placed with, shops keep their commune until they choose another);
- the fields the operator corrected (`Commune.operator_fields`: name, kind, province, code,
  active) are never overwritten by an import of the official list; every other field follows it;
- rows are matched by the list's code they were imported with (`official_code`, kept apart from
  the `code` the operator may correct), else — rows not tied to the list yet — by code, else by
  province and name (without the unit word), so a list typed in by hand or loaded by the old demo
  is adopted instead of duplicated, and a corrected row is still recognised;
- a row the operator corrected is never deactivated by an import: the operator looks after it.
Services flush; the caller commits."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from .addresses import KINDS, commune_key, province_key
from .errors import DomainError, Errors, Forbidden
from .extensions import db
from .models import Commune, User
from .permissions import is_operator

OFFICIAL_KINDS = {"xã": "xa", "phường": "phuong", "đặc khu": "dac_khu"}
TRACKED = ("name", "kind", "province", "code", "active")  # what an operator's correction can pin


@dataclass(frozen=True)
class OfficialUnit:
    code: str  # the 5-digit code of the General Statistics Office list, "18754"
    name: str  # as addresses print it: "Phường Sông Trí"
    kind: str  # xa | phuong | dac_khu
    province: str  # "Hà Tĩnh", "Thành phố Hà Nội"


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    provinces: int = 0
    notes: list[str] = field(default_factory=list)  # corrections kept, conflicts

    def summary(self) -> str:
        return (
            f"{self.provinces} province(s): {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.deactivated} deactivated"
            + (f", {len(self.notes)} note(s)" if self.notes else "")
        )


def package_version() -> str:
    import vietnam_provinces

    return f"vietnam-provinces {vietnam_provinces.__version__} (data {vietnam_provinces.__data_version__})"


def official_units(province: str | None = None, *, data_path: str | Path | None = None) -> list[OfficialUnit]:
    """The units of the official list (every province, or the one `province` names in any
    spelling), read from the package's nested-divisions.json or from `data_path`."""
    if data_path is None:
        from vietnam_provinces import NESTED_DIVISIONS_JSON_PATH

        data_path = NESTED_DIVISIONS_JSON_PATH
    with open(data_path, encoding="utf-8") as fh:
        provinces = json.load(fh)
    wanted = province_key(province) if province else None
    units = []
    for item in provinces:
        if wanted is not None and province_key(item["name"]) != wanted:
            continue
        for ward in item["wards"]:
            units.append(
                OfficialUnit(
                    code=f"{int(ward['code']):05d}",
                    name=ward["name"].strip(),
                    kind=OFFICIAL_KINDS[ward["division_type"]],
                    province=item["name"].strip(),
                )
            )
    return units


class _Names:
    """(province, name) pairs in use: the table's UNIQUE constraint, checked before a change."""

    def __init__(self, rows: Iterable[Commune]):
        self.owner = {(r.province, r.name): r for r in rows}

    def free_for(self, row: Commune | None, province: str, name: str) -> bool:
        holder = self.owner.get((province, name))
        return holder is None or holder is row

    def move(self, row: Commune, province: str, name: str) -> None:
        if self.owner.get((row.province, row.name)) is row:
            del self.owner[(row.province, row.name)]
        self.owner[(province, name)] = row


def import_official(province: str | None = None, *, data_path: str | Path | None = None) -> ImportReport:
    """Bring the commune table up to the official list (all of it, or one province). Running it
    again after a package update applies the update; see the module's rules."""
    units = official_units(province, data_path=data_path)
    if not units:
        raise DomainError(_("Không có tỉnh/thành phố “%(name)s” trong danh sách chính thức.", name=province))
    report = ImportReport(provinces=len({u.province for u in units}))
    scope = {province_key(u.province) for u in units}
    rows = list(db.session.scalars(select(Commune)))
    by_official = {r.official_code: r for r in rows if r.official_code}
    # Rows not tied to the list yet (typed in by hand, loaded by the old demo, or imported before
    # official_code existed with a corrected code): adoptable by their code, else by name.
    untied = [r for r in rows if r.official_code is None]
    by_code = {r.code: r for r in untied if r.code}
    by_key: dict[tuple[str, str], Commune] = {}
    for r in untied:
        by_key.setdefault((province_key(r.province), commune_key(r.name)), r)
    names = _Names(rows)
    codes = _Codes(rows)
    seen: set[int] = set()
    for unit in units:
        row = by_official.get(unit.code)
        if row is None:
            for candidate in (
                by_code.get(unit.code),
                by_key.get((province_key(unit.province), commune_key(unit.name))),
            ):
                if candidate is not None and candidate.id not in seen and candidate.official_code is None:
                    row = candidate
                    break
        if row is None:
            holder = names.owner.get((unit.province, unit.name)) or codes.owner.get(unit.code)
            if holder is not None:
                report.notes.append(
                    f"{unit.name}, {unit.province} ({unit.code}): not added, the name or code belongs "
                    f"to row {holder.id} ({holder.name}, code {holder.code or '-'})"
                )
                continue
            row = Commune(
                name=unit.name,
                kind=unit.kind,
                province=unit.province,
                code=unit.code,
                official_code=unit.code,
                source="official",
                operator_fields=[],
            )
            db.session.add(row)
            names.move(row, unit.province, unit.name)
            codes.move(row, unit.code)
            report.added += 1
            continue
        seen.add(row.id)
        if _apply(row, unit, names, codes, report):
            report.updated += 1
        else:
            report.unchanged += 1
    for row in rows:
        if (
            row.source == "official"
            and row.id not in seen
            and row.active
            and province_key(row.province) in scope
            and not row.operator_fields  # corrected by the operator: theirs to switch off
        ):
            row.active = False  # left the official list; kept for the addresses that name it
            report.deactivated += 1
            report.notes.append(f"{row.name}, {row.province} ({row.code}): no longer listed, deactivated")
    db.session.flush()
    return report


class _Codes:
    """Codes in use (the table's UNIQUE constraint on `code`), checked before a change."""

    def __init__(self, rows: Iterable[Commune]):
        self.owner = {r.code: r for r in rows if r.code}

    def free_for(self, row: Commune, code: str) -> bool:
        holder = self.owner.get(code)
        return holder is None or holder is row

    def move(self, row: Commune, code: str) -> None:
        if row.code and self.owner.get(row.code) is row:
            del self.owner[row.code]
        self.owner[code] = row


def _apply(row: Commune, unit: OfficialUnit, names: _Names, codes: _Codes, report: ImportReport) -> bool:
    """Make `row` say what the official list says, except where the operator corrected it."""
    pinned = set(row.operator_fields or [])
    changed = False
    if row.official_code != unit.code:
        row.official_code = unit.code  # the row is this unit of the list from now on
        changed = True
    wanted = {"code": unit.code, "kind": unit.kind, "province": unit.province, "name": unit.name}
    for name, value in wanted.items():
        if getattr(row, name) == value:
            continue
        if name in pinned:
            report.notes.append(
                f"{row.name}, {row.province}: {name} kept as corrected ({getattr(row, name)!r}); "
                f"the official list says {value!r}"
            )
            continue
        if name in ("name", "province"):
            province = value if name == "province" else row.province
            new_name = value if name == "name" else row.name
            if not names.free_for(row, province, new_name):
                report.notes.append(f"{row.name}, {row.province}: cannot become {new_name!r}, name taken")
                continue
            names.move(row, province, new_name)
        if name == "code":
            if not codes.free_for(row, value):
                report.notes.append(f"{row.name}, {row.province}: cannot take code {value}, code taken")
                continue
            codes.move(row, value)
        setattr(row, name, value)
        changed = True
    if not row.active and "active" not in pinned:
        row.active = True
        changed = True
    if row.source != "official":
        row.source = "official"
        changed = True
    return changed


# --- the operator's own entries and corrections ---------------------------------------------------


def _pin(row: Commune, fields: Iterable[str]) -> None:
    row.operator_fields = sorted(set(row.operator_fields or []) | set(fields))


def import_csv(path: str | Path) -> tuple[int, int]:
    """The operator's CSV (name,kind,province[,code]): new rows are added; for a row that exists
    (same code, else same province and name) what the file changes is the operator's correction
    (kept by later imports of the official list). Returns (added, updated)."""
    added = updated = 0
    with open(path, newline="", encoding="utf-8-sig") as fh:
        entries = list(enumerate(csv.DictReader(fh), start=2))
    rows = list(db.session.scalars(select(Commune)))
    names = _Names(rows)
    by_code = {r.code: r for r in rows if r.code}
    for line, entry in entries:
        name, province = (entry.get("name") or "").strip(), (entry.get("province") or "").strip()
        kind = (entry.get("kind") or "xa").strip()
        code = (entry.get("code") or "").strip() or None
        if not name or not province or kind not in KINDS:
            raise DomainError(f"line {line}: name, province and kind (xa|phuong|dac_khu) are required")
        row = by_code.get(code) if code else None
        if row is None:
            row = names.owner.get((province, name))
        if row is None:
            if code and code in by_code:
                raise DomainError(f"line {line}: code {code} belongs to another commune")
            row = Commune(name=name, kind=kind, province=province, code=code, operator_fields=[])
            db.session.add(row)
            names.move(row, province, name)
            if code:
                by_code[code] = row
            added += 1
            continue
        changes = {"name": name, "province": province, "kind": kind}
        if code:
            changes["code"] = code
        corrected = [k for k, v in changes.items() if getattr(row, k) != v]
        if not corrected:
            continue
        if not names.free_for(row, province, name):
            raise DomainError(f"line {line}: {name}, {province} is another row already")
        if "code" in corrected and code in by_code and by_code[code] is not row:
            raise DomainError(f"line {line}: code {code} belongs to another commune")
        names.move(row, province, name)
        for key in corrected:
            setattr(row, key, changes[key])
        _pin(row, corrected)
        updated += 1
    db.session.flush()
    return added, updated


def _require_operator(actor: User) -> None:
    if not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn được sửa danh sách xã/phường."))


def _clean(data: Mapping, errors: Errors) -> dict:
    name = " ".join((data.get("name") or "").split())
    province = " ".join((data.get("province") or "").split())
    kind = data.get("kind") or ""
    code = (data.get("code") or "").strip() or None
    if not name:
        errors.add("name", _("Vui lòng nhập tên."))
    if not province:
        errors.add("province", _("Vui lòng chọn tỉnh/thành phố."))
    if kind not in KINDS:
        errors.add("kind", _("Vui lòng chọn loại đơn vị."))
    return {"name": name, "province": province, "kind": kind, "code": code}


def _check_unique(clean: dict, errors: Errors, row: Commune | None) -> None:
    other = db.session.scalar(
        select(Commune).where(Commune.province == clean["province"], Commune.name == clean["name"])
    )
    if other is not None and other is not row:
        errors.add("name", _("Xã/phường này đã có trong danh sách."))
    if clean["code"]:
        holder = db.session.scalar(select(Commune).where(Commune.code == clean["code"]))
        if holder is not None and holder is not row:
            errors.add("code", _("Mã này đã dùng cho xã/phường khác."))


def add_commune(data: Mapping, *, actor: User) -> Commune:
    """A unit the official list lacks (or does not have yet): the operator's own row."""
    _require_operator(actor)
    errors = Errors()
    clean = _clean(data, errors)
    if not errors:
        _check_unique(clean, errors, None)
    errors.raise_if_any()
    row = Commune(**clean, source="operator", operator_fields=[])
    db.session.add(row)
    db.session.flush()
    return row


def correct_commune(row: Commune, data: Mapping, *, actor: User) -> list[str]:
    """The operator's correction of a row: the fields it changes are pinned against later imports
    of the official list. Returns the fields changed."""
    _require_operator(actor)
    errors = Errors()
    clean = _clean(data, errors)
    if not errors:
        _check_unique(clean, errors, row)
    errors.raise_if_any()
    changed = [k for k, v in clean.items() if getattr(row, k) != v]
    for key in changed:
        setattr(row, key, clean[key])
    _pin(row, changed)
    db.session.flush()
    return changed


def set_active(row: Commune, active: bool, *, actor: User) -> None:
    """Stop (or resume) offering a unit in the forms; pinned, so an import does not undo it."""
    _require_operator(actor)
    row.active = active
    _pin(row, ["active"])
    db.session.flush()


def follow_official(row: Commune, *, actor: User) -> None:
    """Forget the operator's corrections of `row`: the next import of the official list applies."""
    _require_operator(actor)
    row.operator_fields = []
    db.session.flush()
