"""Attachments: a PDF or a picture, recognised by its content (never its name), size-limited.
Pictures go through the shared pipeline (marketplace/images.py: re-encoded, metadata stripped);
PDFs are kept as they are. Both live in the private store and are served only by the
access-checked route (govqa/views.py), as downloads."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.images import image_dir, media_root, process_image
from marketplace.models import User

from .models import Attachment, Message, Question

MAX_BYTES = 5 * 1024 * 1024
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")


def _max_bytes() -> int:
    return int(current_app.config.get("QA_ATTACHMENT_MAX_BYTES", MAX_BYTES))


def sniff(data: bytes) -> str | None:
    """'pdf', 'image' or None, from the first bytes."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(IMAGE_SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return "image"
    return None


def pdf_path(key: str) -> Path:
    return media_root(private=True) / "qa" / key[:2] / f"{key}.pdf"


def safe_filename(name: str, kind: str) -> str:
    base = os.path.basename((name or "").replace("\\", "/"))
    base = re.sub(r"[^\w.\- ]", "_", base).strip(" .")[:150] or "tep"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem}.{'pdf' if kind == 'pdf' else 'jpg'}"


def store_attachment(
    question: Question, filename: str, data: bytes, *, actor: User, message: Message | None = None
) -> Attachment:
    field = "attachments"
    if len(data) > _max_bytes():
        raise ValidationFailed(
            {field: [_("Tệp quá lớn (tối đa %(mb)d MB).", mb=_max_bytes() // (1024 * 1024))]}
        )
    kind = sniff(data)
    if kind is None:
        raise ValidationFailed({field: [_("Chỉ nhận tệp PDF hoặc ảnh (JPEG, PNG, WebP, GIF).")]})
    if kind == "pdf":
        if b"%%EOF" not in data[-2048:]:
            raise ValidationFailed({field: [_("Tệp PDF không hợp lệ.")]})
        key = hashlib.sha256(data).hexdigest()[:40]
        path = pdf_path(key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
    else:
        key = process_image(data, field=field, private=True).key
    attachment = Attachment(
        question_id=question.id,
        message_id=message.id if message is not None else None,
        kind=kind,
        key=key,
        filename=safe_filename(filename, kind),
        size=len(data),
        uploaded_by_id=actor.id,
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


def attachment_file(attachment: Attachment) -> Path:
    if attachment.kind == "pdf":
        return pdf_path(attachment.key)
    return image_dir(attachment.key, private=True) / "orig.jpg"
