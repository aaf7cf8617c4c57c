"""Plain helpers for tests (import as `from tests.support import …`; conftest modules are not
importable reliably once several test folders have their own)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image


def image_bytes(fmt: str = "JPEG", size=(640, 480), color=(200, 120, 30), exif: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    img = Image.new("RGB", size, color)
    options = {"exif": exif} if exif else {}
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def read_mail(path: Path) -> dict:
    from email import message_from_bytes
    from email.policy import default

    msg = message_from_bytes(path.read_bytes(), policy=default)
    return {"to": msg["To"], "subject": str(msg["Subject"]), "body": msg.get_content()}
