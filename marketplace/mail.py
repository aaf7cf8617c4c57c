"""Mail through the outbox: rendered when queued (in the user's language), sent by the worker.

Without MAIL_SERVER the worker writes each message as an .eml file into MAIL_DIR, named by the
event's idempotency key, so a retry rewrites the same file instead of sending twice."""

from __future__ import annotations

import smtplib
from email.errors import HeaderParseError
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app, render_template

from . import outbox
from .cleantext import multi_line, single_line


def queue_mail(to: str, subject: str, template: str, *, key: str | None = None, **context) -> None:
    if not to:  # nobody to write to: e.g. an order whose buyer had the account erased
        return
    body = render_template(f"mail/{template}.txt", **context)
    outbox.record("mail.send", {"to": to, "subject": subject, "body": body}, key=key)


def build_message(payload: dict, event) -> EmailMessage:
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
    msg.set_content(multi_line(str(payload["body"])))
    return msg


def send_mail_handler(payload: dict, event) -> None:
    cfg = current_app.config
    msg = build_message(payload, event)
    if cfg.get("MAIL_SERVER"):
        with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=15) as smtp:
            if cfg.get("MAIL_USE_TLS"):
                smtp.starttls()
            if cfg.get("MAIL_USERNAME"):
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
            smtp.send_message(msg)
        return
    directory = Path(cfg["MAIL_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in event.idempotency_key)
    tmp = directory / f".{safe}.tmp"
    tmp.write_bytes(bytes(msg))
    tmp.replace(directory / f"{safe}.eml")
