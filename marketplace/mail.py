"""Mail through the outbox: queued with the change it announces, rendered and sent by the worker.

A mail is rendered in the language of the person who caused it. Most templates are rendered when
queued (their context holds model objects). A template whose package registered a context loader
(`register_context`) is rendered by the worker instead: its row keeps the template name, a small
JSON-safe context (ids, strings) and the language, and the worker's `send_mail_handler` asks the
loader for the template's variables. A checkout then spends no time on mail bodies.

Without MAIL_SERVER the worker writes each message as an .eml file into MAIL_DIR, named after the
event's idempotency key (`mail_file`: mail-<kind>_<ids>.eml), so a retry rewrites the same file
instead of sending twice.

A mail row holds its recipient and the whole text (names, addresses, links), or what renders it
(ids, a link). When a person erases their account, `forget_mails_to` empties the rows to their
address (the row stays, so its key still stops a second sending, and an emptied row is never
rendered) and a `mail.forget` event deletes their .eml files; the outbox's retention purge
(`outbox.purge`) removes every done row, and its file, after OUTBOX_RETENTION_DAYS."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable, Collection, Iterable
from email.errors import HeaderParseError
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale, get_locale
from sqlalchemy import func, select, update

from . import outbox
from .cleantext import multi_line, single_line
from .extensions import db
from .models import OutboxEvent

TOPIC = "mail.send"
FORGET_TOPIC = "mail.forget"
# What a mail row's payload becomes once its recipient erased the account: no address, no text.
REDACTED = {"redacted": "erased at the recipient's request"}


# template name -> what turns a queued context (ids, strings) into the template's variables; it
# runs in the worker and returns None when what the mail was about is gone.
ContextLoader = Callable[[dict], dict | None]
LOADERS = "mail_context_loaders"
JSON_SCALARS = (str, int, float, bool, type(None))


def register_context(app, template: str, loader: ContextLoader) -> None:
    """Let the worker render `mail/<template>.txt`: queue_mail keeps the context as given (it must
    be JSON-safe) and the worker calls `loader(context)` for the template's variables."""
    app.extensions.setdefault(LOADERS, {})[template] = loader


def _json_safe(value) -> bool:
    if isinstance(value, JSON_SCALARS):
        return True
    if isinstance(value, list | tuple):
        return all(_json_safe(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_safe(v) for k, v in value.items())
    return False


def queue_mail(to: str, subject: str, template: str, *, key: str | None = None, **context) -> None:
    if not to:  # nobody to write to: e.g. an order whose buyer had the account erased
        return
    if template not in current_app.extensions.get(LOADERS, {}):
        body = render_template(f"mail/{template}.txt", **context)
        outbox.record(TOPIC, {"to": to, "subject": subject, "body": body}, key=key)
        return
    if not _json_safe(context):  # a model object would not survive the row (nor should it)
        raise TypeError(f"mail {template!r} is rendered by the worker: its context must be JSON-safe")
    payload = {
        "to": to,
        "subject": subject,
        "template": template,
        "context": context,
        "locale": str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]),
    }
    outbox.record(TOPIC, payload, key=key)


def render_body(payload: dict) -> str | None:
    """A row's text: as queued, or rendered now (in the language it was queued in) from its
    template and context; None when the loader finds nothing left to tell."""
    if "body" in payload:
        return str(payload["body"])
    template = str(payload.get("template") or "")
    loader = current_app.extensions.get(LOADERS, {}).get(template)
    if loader is None:
        raise outbox.PermanentFailure(f"no context loader for mail template {template!r}")
    locale = str(payload.get("locale") or current_app.config["BABEL_DEFAULT_LOCALE"])
    with force_locale(locale):
        variables = loader(dict(payload.get("context") or {}))
        if variables is None:
            return None
        return render_template(f"mail/{template}.txt", **variables)


def forget_mails_to(address: str, *, keep: Collection[str] = ()) -> int:
    """Empty every mail row addressed to `address` (whatever its status; `keep`: keys to leave
    alone, such as the notice that the account was erased), and ask the worker to delete their
    .eml files. A pending row is then done without sending anything. Returns how many rows."""
    address = (address or "").strip().lower()
    if not address:
        return 0
    db.session.flush()
    found = db.session.execute(
        select(OutboxEvent.id, OutboxEvent.idempotency_key).where(
            OutboxEvent.topic == TOPIC,
            func.lower(OutboxEvent.payload["to"].as_string()) == address,
        )
    ).all()
    rows = [(row_id, key) for row_id, key in found if key not in keep]
    if not rows:
        return 0
    db.session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_([row_id for row_id, _key in rows]))
        .values(payload=dict(REDACTED))
        .execution_options(synchronize_session=False)
    )
    # An error may quote the address ("not a mail address: …").
    db.session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_([row_id for row_id, _key in rows]), OutboxEvent.last_error.is_not(None))
        .values(last_error=REDACTED["redacted"])
        .execution_options(synchronize_session=False)
    )
    outbox.record(FORGET_TOPIC, {"keys": [key for _row_id, key in rows]})
    return len(rows)


def mail_file(key: str) -> Path:
    """Where the worker writes the mail of the row keyed `key` when there is no MAIL_SERVER. One
    scheme for every mail, whatever shape its key has: `mail-`, then the key's parts joined by `_`
    (other characters become `-`), the words saying "mail" left out: `mail:order-new-shop:12` ->
    mail-order-new-shop_12.eml, `qa-mail:7:3` -> mail-qa_7_3.eml, a key the outbox made up
    (`mail.send:<hex>`) -> mail-<hex>.eml."""
    head, *rest = key.split(":")
    kind = "-".join(w for w in re.split(r"[^0-9A-Za-z]+", head) if w and w.lower() not in ("mail", "send"))
    parts = [re.sub(r"[^0-9A-Za-z-]+", "-", part).strip("-") for part in ([kind] if kind else []) + rest]
    return Path(current_app.config["MAIL_DIR"]) / ("mail-" + "_".join(p for p in parts if p) + ".eml")


def remove_mail_files(keys: Iterable[str]) -> int:
    removed = 0
    for key in keys:
        path = mail_file(key)
        if path.exists():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def forget_mail_handler(payload: dict, event) -> None:
    """The .eml files of mails that were emptied (the rows changed in the same transaction)."""
    remove_mail_files(str(key) for key in payload.get("keys", []))


def build_message(payload: dict, event, body: str | None = None) -> EmailMessage:
    """The message of a `mail.send` row. Defence in depth: the subject and addresses are made single
    line and the body free of control characters here too, so a row written before the edge
    cleaned its text (a title with CR/LF) still makes a mail that can be sent; an address that is
    still not one is a permanent failure, not a retry forever."""
    cfg = current_app.config
    msg = EmailMessage()
    try:
        msg["From"] = single_line(cfg["MAIL_DEFAULT_SENDER"])
        msg["To"] = single_line(str(payload["to"])).strip()
        msg["Subject"] = " ".join(single_line(str(payload["subject"])).split())
    except (ValueError, IndexError, TypeError, HeaderParseError) as exc:
        raise outbox.PermanentFailure(f"mail header cannot be sent: {exc}") from exc
    if msg["To"].defects or not msg["To"].addresses:
        raise outbox.PermanentFailure(f"not a mail address: {payload['to']!r:.200}")
    msg["Date"] = formatdate(localtime=False)
    # The same Message-ID on every retry lets receiving servers drop a duplicate.
    msg["Message-ID"] = make_msgid(
        idstring=event.idempotency_key.replace(":", "-")[:60], domain="marketplace"
    )
    msg.set_content(multi_line(str(payload["body"]) if body is None else body))
    return msg


def send_mail_handler(payload: dict, event) -> None:
    if "redacted" in payload:  # its recipient erased the account before it was sent
        return
    cfg = current_app.config
    body = render_body(payload)
    if body is None:  # what the mail was about is gone (the loader says so): nothing to send
        return
    msg = build_message(payload, event, body)
    if cfg.get("MAIL_SERVER"):
        with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=15) as smtp:
            if cfg.get("MAIL_USE_TLS"):
                smtp.starttls()
            if cfg.get("MAIL_USERNAME"):
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
            smtp.send_message(msg)
        return
    path = mail_file(event.idempotency_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp")
    tmp.write_bytes(bytes(msg))
    tmp.replace(path)
