"""The operator's pages of the audit log (marketplace/audit.py records it): /quan-tri/nhat-ky,
newest first, paged, filtered by who, role, table, row, action text and local days, each entry's
before and after side by side; the same filtered list as a streamed CSV.

Here rather than in marketplace/ because the date range is the dashboards' (`periods`: local days,
UTC bounds on the indexed column), and the page's query is registered for the benchmark."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from marketplace.audit import MACHINERY_TABLES, ROLES, AuditEntry
from marketplace.csv_writer import csv_response
from marketplace.extensions import db
from marketplace.numbers import page_arg
from marketplace.permissions import operator_required
from marketplace.timeutil import floor_timezone

from . import register_query
from .periods import PRESETS, Period, period_from_args, within

bp = Blueprint("audit_admin", __name__, url_prefix="/quan-tri")

PER_PAGE = 50
MAX_TEXT_FILTER = 120

ROLE_LABELS = {
    "operator": _l("Vận hành sàn"),
    "agency": _l("Cán bộ cơ quan"),
    "cli": _l("Dòng lệnh"),
}
OPERATION_LABELS = {
    "create": _l("Tạo mới"),
    "update": _l("Sửa"),
    "delete": _l("Xoá"),
}


@dataclass(frozen=True)
class AuditFilter:
    period: Period
    who: str = ""  # a name fragment, or an account id
    role: str = ""
    entity_type: str = ""
    entity_id: str = ""
    action: str = ""
    request_id: str = ""  # every entry of one request or command

    def args(self) -> dict[str, str]:
        """The query string that asks for this list again (pages, the CSV link)."""
        pairs = {
            "nguoi": self.who,
            "vai-tro": self.role,
            "bang": self.entity_type,
            "ma": self.entity_id,
            "hanh-dong": self.action,
            "yeu-cau": self.request_id,
        }
        return {**{k: v for k, v in pairs.items() if v}, **self.period.args()}


def entity_types() -> list[str]:
    """Every table an entry can name (the metadata's, not a query over the log)."""
    return sorted(t.name for t in db.metadata.sorted_tables if t.name not in MACHINERY_TABLES)


def filter_from_args(args: Any) -> tuple[AuditFilter, str | None]:
    period, error = period_from_args(args)

    def text(name: str) -> str:
        return (args.get(name) or "").strip()[:MAX_TEXT_FILTER]

    role = text("vai-tro")
    entity_type = text("bang")
    return AuditFilter(
        period=period,
        who=text("nguoi"),
        role=role if role in ROLES else "",
        entity_type=entity_type if entity_type in entity_types() else "",
        entity_id=text("ma"),
        action=text("hanh-dong"),
        request_id=text("yeu-cau") if re.fullmatch(r"[0-9a-f]{1,32}", text("yeu-cau")) else "",
    ), error


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered(f: AuditFilter) -> Select:
    query = select(AuditEntry).where(within(AuditEntry.created_at, f.period))
    if f.who:
        if f.who.isdigit() and len(f.who) < 10:
            query = query.where(AuditEntry.actor_id == int(f.who))
        else:
            query = query.where(AuditEntry.actor_name.ilike(f"%{_escape_like(f.who)}%", escape="\\"))
    if f.role:
        query = query.where(AuditEntry.actor_role == f.role)
    if f.entity_type:
        query = query.where(AuditEntry.entity_type == f.entity_type)
    if f.entity_id:
        query = query.where(AuditEntry.entity_id == f.entity_id)
    if f.request_id:
        query = query.where(AuditEntry.request_id == f.request_id)
    if f.action:
        query = query.where(AuditEntry.action.ilike(f"%{_escape_like(f.action)}%", escape="\\"))
    return query


def page_of(f: AuditFilter, page: int) -> tuple[list[AuditEntry], bool]:
    """One page, newest first, and whether an older page exists. No COUNT over the log: it grows
    without end, and a page only needs to know whether there is a next one."""
    query = (
        filtered(f)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE + 1)
    )
    entries = list(db.session.scalars(query))
    return entries[:PER_PAGE], len(entries) > PER_PAGE


def diff_rows(entry: AuditEntry) -> list[tuple[str, str, str]]:
    """(column, before, after) as text, in the column order of the entry."""
    return [(column, _shown(pair[0]), _shown(pair[1])) for column, pair in (entry.changes or {}).items()]


ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and ISO_MOMENT.fullmatch(value):
        # Times are stored as naive UTC: shown in the floor's time, as every page shows them.
        moment = datetime.fromisoformat(value).replace(tzinfo=UTC).astimezone(floor_timezone())
        return moment.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, bool):
        return _("có") if value else _("không")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@bp.get("/nhat-ky")
@operator_required
def index():
    f, error = filter_from_args(request.args)
    page = page_arg(request.args)
    entries, has_next = page_of(f, page)
    return render_template(
        "audit/index.html",
        f=f,
        error=error,
        entries=entries,
        page=page,
        has_next=has_next,
        presets=PRESETS,
        roles=ROLE_LABELS,
        operations=OPERATION_LABELS,
        entity_types=entity_types(),
        diff_rows=diff_rows,
    )


CSV_HEADER = (
    "thoi_gian",
    "ma_nguoi",
    "nguoi",
    "vai_tro",
    "hanh_dong",
    "thao_tac",
    "bang",
    "ma_dong",
    "nhan",
    "thay_doi",
    "ip",
    "ma_yeu_cau",
)


@bp.get("/nhat-ky.csv")
@operator_required
def export():
    f, _error = filter_from_args(request.args)
    zone = floor_timezone()

    def rows():
        query = filtered(f).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        for entry in db.session.scalars(query.execution_options(yield_per=1000)):
            local = entry.created_at.replace(tzinfo=UTC).astimezone(zone)
            yield (
                local.strftime("%Y-%m-%d %H:%M:%S"),
                entry.actor_id,
                entry.actor_name,
                entry.actor_role,
                entry.action,
                entry.operation,
                entry.entity_type,
                entry.entity_id,
                entry.label,
                json.dumps(entry.changes, ensure_ascii=False, sort_keys=False),
                entry.ip,
                entry.request_id,
            )

    return csv_response(f"nhat-ky_{f.period.slug()}.csv", CSV_HEADER, rows)


def _bench_page(period: Period, _shop_id: int | None) -> int:
    entries, _more = page_of(AuditFilter(period=period), 1)
    return len(entries)


def _bench_operators_page(period: Period, _shop_id: int | None) -> int:
    entries, _more = page_of(AuditFilter(period=period, role="operator", action="sellers"), 1)
    return len(entries)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.extensions.setdefault("operator_links", []).append(
        (_l("Nhật ký thao tác của cán bộ"), "audit_admin.index")
    )
    register_query(app, "audit_log.page", "floor", _bench_page)
    register_query(app, "audit_log.page_filtered", "floor", _bench_operators_page)
