"""The audit log: every change a member of staff makes, who made it, when, before and after.

Staff are operators (Role.OPERATOR) and agency officials (Role.AGENCY), acting in a request, and
whoever runs an administrative `flask` command (users, communes, catalog…; not the worker, the
demo loader or the migrations). Shop owners acting on their own shop and buyers are not staff:
their changes are their own business and make no entry (a checkout writes nothing here).

Capture is generic, not per view: SQLAlchemy session events. `before_flush` decides once per
flush whether the actor is staff (a buyer's flush stops there, at the cost of one dictionary
look-up) and refuses any change to an entry; `after_flush` reads the attribute history of every
new, changed and deleted object (the ids of new rows are known by then, cascaded deletes are part
of the flush) and inserts one row per changed entity on the flush's own connection, so it commits
or rolls back with the change itself: a rolled-back action leaves no entry, a committed one
always has one. The state machines move rows with one conditional `UPDATE … WHERE state = :old`
through the session, which no flush sees: `do_orm_execute` reads those rows before and after the
statement (for staff only; up to MAX_BULK_ROWS rows a statement) and records them the same way.

What is stored: the actor's id, name and role as they were, the time (naive UTC), the action
(the endpoint, or the command's path), the table and the row's id, a short label, the changed
columns' values before and after as JSON (secrets never: any column whose name is on the
deny-list is written as "***"), the client's IP (as sign-in attempts already keep it) and an id
shared by every entry of one request.

Not captured: raw SQL text, Core statements run on a connection rather than the session, ORM
bulk UPDATEs by primary key (a list of parameter sets), and the machinery's own tables (the
outbox, throttles, caches: MACHINERY_TABLES).

Append-only: nothing in the app updates or deletes an entry; the session refuses it, and the
database refuses it too (triggers created by migration 0017).
"""

from __future__ import annotations

import enum
import getpass
import json
import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click
from flask import Flask, g, has_request_context, request
from sqlalchemy import JSON, Column, Index, Result, String, Table, event, insert, inspect, select, tuple_
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from .extensions import Model
from .models import Role
from .timeutil import utcnow

STAFF_ROLES = frozenset({Role.OPERATOR.value, Role.AGENCY.value})
CLI_ROLE = "cli"
ROLES = (Role.OPERATOR.value, Role.AGENCY.value, CLI_ROLE)

# Commands whose changes are not a person's administrative act (first word after `flask`).
UNAUDITED_COMMANDS = frozenset({"worker", "demo", "db", "shell", "run", "routes"})

# Tables the machinery writes on its own account: never worth an entry.
MACHINERY_TABLES = frozenset(
    {
        "audit_log",
        "outbox_events",
        "login_attempts",
        "login_throttles",
        "page_cache_scopes",
        "search_index_state",
        "logistics_feed_counter",
        "logistics_feed_changes",
    }
)

# A column whose name matches is a secret: its values are never stored, only that it changed.
SECRET_COLUMN = re.compile(
    r"password|passwd|secret|token|hash|api_?key|private_key|signing_key|otp|credential",
    re.IGNORECASE,
)
REDACTED = "***"

LABEL_ATTRIBUTES = ("code", "name", "title", "full_name", "slug")
MAX_TEXT = 1000  # a long text (a description, a legal page) is cut in the entry
MAX_LABEL = 200
MAX_BULK_ROWS = 1000  # rows of one bulk UPDATE/DELETE recorded one by one


class AuditEntry(Model):
    """One changed entity in one staff request or command. Append-only."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_created_at", "created_at"),
        Index("ix_audit_log_actor_created", "actor_id", "created_at"),
        Index("ix_audit_log_role_created", "actor_role", "created_at"),
        Index("ix_audit_log_entity", "entity_type", "entity_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # No foreign key: the entry keeps who it was even if the account is later anonymised.
    actor_id: Mapped[int | None]
    actor_name: Mapped[str] = mapped_column(String(120))
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(120))
    operation: Mapped[str] = mapped_column(String(10))  # create | update | delete
    entity_type: Mapped[str] = mapped_column(String(80))
    entity_id: Mapped[str | None] = mapped_column(String(80))
    label: Mapped[str | None] = mapped_column(String(MAX_LABEL))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)  # column -> [before, after]
    ip: Mapped[str | None] = mapped_column(String(45))
    request_id: Mapped[str | None] = mapped_column(String(32))


class AuditLogIsAppendOnly(RuntimeError):
    pass


def init_app(app: Flask) -> None:
    """Listen on every Session (once per process: the listeners read the app they run in)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _do_orm_execute)


# ---------------------------------------------------------------- who is acting


def _request_actor() -> dict[str, Any] | None:
    # Only a user Flask-Login already loaded for this request: loading one here would query in
    # the middle of a flush, and a staff view always loaded it to check the permission.
    user = g.get("_login_user")
    if user is None or getattr(user, "role", None) not in STAFF_ROLES:
        return None
    if not getattr(user, "is_authenticated", False):
        return None
    if "audit_request_id" not in g:
        g.audit_request_id = uuid.uuid4().hex
    return {
        "actor_id": user.id,
        "actor_name": (user.full_name or user.email or "")[:120],
        "actor_role": user.role,
        "action": (request.endpoint or request.path)[:120],
        "ip": request.remote_addr,
        "request_id": g.audit_request_id,
    }


def _command_actor() -> dict[str, Any] | None:
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    words = ctx.command_path.split()
    if len(words) < 2 or words[1] in UNAUDITED_COMMANDS:
        return None
    root = ctx.find_root()
    if "audit_request_id" not in root.meta:
        root.meta["audit_request_id"] = uuid.uuid4().hex
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "?"
    return {
        "actor_id": None,
        "actor_name": who[:120],
        "actor_role": CLI_ROLE,
        "action": " ".join(words[1:])[:120],
        "ip": None,
        "request_id": root.meta["audit_request_id"],
    }


def current_actor() -> dict[str, Any] | None:
    """The staff member acting now, as an entry records them, or None (not staff: no entry)."""
    if has_request_context():
        return _request_actor()
    return _command_actor()


# ---------------------------------------------------------------- capture


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, AuditEntry) and session.is_modified(obj):
            raise AuditLogIsAppendOnly("an audit entry cannot be changed")
    for obj in session.deleted:
        if isinstance(obj, AuditEntry):
            raise AuditLogIsAppendOnly("an audit entry cannot be deleted")
    actor = current_actor()
    session.info["audit_actor"] = actor
    if actor is not None:
        # A deleted row's values are its "before": load any the session expired (one SELECT).
        with session.no_autoflush:
            for obj in session.deleted:
                for key in list(inspect(obj).expired_attributes):
                    getattr(obj, key)


def _after_flush(session: Session, _context: Any) -> None:
    actor = session.info.pop("audit_actor", None)
    if actor is None:
        return
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for operation, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            row = _entry(obj, operation)
            if row is not None:
                rows.append({**actor, **row, "created_at": now})
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def _do_orm_execute(state: ORMExecuteState) -> Result[Any] | None:
    """A conditional `UPDATE`/`DELETE` through the session (the state machines move a row with
    one: `… SET state = :new WHERE id = :id AND state = :old`) bypasses the flush: for a staff
    actor, read the rows it will touch, run it, read them again, and record each changed row."""
    if not (state.is_update or state.is_delete):
        return None
    actor = current_actor()
    mapper = state.bind_mapper
    if actor is None or mapper is None:
        return None
    table = mapper.local_table
    if not isinstance(table, Table) or table.name in MACHINERY_TABLES:
        return None
    statement = state.statement
    keys = [c.key for c in table.primary_key.columns]
    if state.is_update:
        changed = [_column_of(table, key) for key in getattr(statement, "_values", None) or {}]
        columns = [c for c in changed if c is not None and c.key not in keys]
        if not columns or isinstance(state.parameters, list):
            # A bulk UPDATE by primary key (a list of parameter sets) changes no column we can
            # read from the statement: left out, like raw SQL.
            return None
    else:
        columns = [c for c in table.columns if c.key not in keys]
    labels = [table.c[name] for name in LABEL_ATTRIBUTES if name in table.c][:1]
    wanted = [*table.primary_key.columns, *dict.fromkeys([*columns, *labels])]
    query = select(*wanted)
    where = getattr(statement, "whereclause", None)
    if where is not None:
        query = query.where(where)
    connection = state.session.connection()
    before = {tuple(row[: len(keys)]): row._mapping for row in connection.execute(query.limit(MAX_BULK_ROWS))}
    result = state.invoke_statement()
    if not before:
        return result
    after: dict[tuple, Any] = {}
    if state.is_update:
        ids = list(before)
        pk = table.primary_key.columns
        if len(keys) == 1:
            again = select(*wanted).where(next(iter(pk)).in_([i[0] for i in ids]))
        else:
            again = select(*wanted).where(tuple_(*pk).in_(ids))
        after = {tuple(row[: len(keys)]): row._mapping for row in connection.execute(again)}
    now = utcnow()
    rows = []
    for identity, old in before.items():
        new = after.get(identity)
        if state.is_update and new is None:
            continue  # the WHERE no longer matched: nothing changed
        changes: dict[str, list[Any]] = {}
        for column in columns:
            was, now_is = old[column.key], (new[column.key] if new is not None else None)
            if state.is_update and was == now_is:
                continue
            if was is None and now_is is None:
                continue
            if SECRET_COLUMN.search(column.name):
                changes[column.name] = [
                    REDACTED if was is not None else None,
                    REDACTED if now_is is not None else None,
                ]
            else:
                changes[column.name] = [_plain(was), _plain(now_is)]
        if not changes and state.is_update:
            continue
        label = (new or old)[labels[0].key] if labels else None
        rows.append(
            {
                **actor,
                "created_at": now,
                "operation": "update" if state.is_update else "delete",
                "entity_type": table.name[:80],
                "entity_id": "/".join(str(part) for part in identity)[:80],
                "label": str(label).strip()[:MAX_LABEL] if label else None,
                "changes": changes,
            }
        )
    if rows:
        connection.execute(insert(AuditEntry), rows)
    return result


def _column_of(table: Table, key: Any) -> Column[Any] | None:
    name = key if isinstance(key, str) else getattr(key, "key", None) or getattr(key, "name", None)
    return table.c.get(name) if name else None


def _entry(obj: Any, operation: str) -> dict[str, Any] | None:
    state = inspect(obj, raiseerr=False)
    if state is None:  # not a mapped object
        return None
    mapper = state.mapper
    table = mapper.persist_selectable
    table_name = getattr(table, "name", None)
    if not table_name or table_name in MACHINERY_TABLES:
        return None
    changes: dict[str, list[Any]] = {}
    for attr in mapper.column_attrs:
        key = attr.key
        if operation == "update":
            history = state.attrs[key].history
            if not history.has_changes():
                continue
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if before == after:
                continue
        else:
            value = state.dict.get(key)
            if value is None:
                continue
            before, after = (None, value) if operation == "create" else (value, None)
        column_name = attr.columns[0].name
        if SECRET_COLUMN.search(column_name) or SECRET_COLUMN.search(key):
            changes[column_name] = [
                REDACTED if before is not None else None,
                REDACTED if after is not None else None,
            ]
        else:
            changes[column_name] = [_plain(before), _plain(after)]
    if not changes and operation != "delete":
        return None
    identity = mapper.primary_key_from_instance(obj)
    entity_id = "/".join(str(part) for part in identity) if all(p is not None for p in identity) else None
    return {
        "operation": operation,
        "entity_type": table_name[:80],
        "entity_id": entity_id[:80] if entity_id else None,
        "label": _label(obj),
        "changes": changes,
    }


def _label(obj: Any) -> str | None:
    for name in LABEL_ATTRIBUTES:
        value = obj.__dict__.get(name)
        if isinstance(value, str) and value.strip() and not SECRET_COLUMN.search(name):
            return value.strip()[:MAX_LABEL]
    return None


def _plain(value: Any) -> Any:
    """A value as JSON can hold it and a person can read it."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, dict | list | tuple):
        text = json.dumps(value, ensure_ascii=False, default=str)
        return json.loads(text) if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"
