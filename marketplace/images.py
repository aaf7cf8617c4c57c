"""The image pipeline: verify, refuse bombs, orient, strip metadata, store variants.

Every upload is re-encoded, so nothing of the original file's metadata (EXIF GPS, camera serials,
ICC comments) survives. Files are content-addressed: the same picture uploaded twice is stored
once, and URLs never change, so they are served with year-long immutable cache headers."""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from marketplace.errors import ValidationFailed

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
WIDTHS = (320, 1200)
VARIANT_FORMATS = (("webp", "WEBP"), ("jpg", "JPEG"))


@dataclass(frozen=True)
class StoredImage:
    key: str
    width: int
    height: int


def media_root() -> Path:
    return Path(current_app.config["MEDIA_ROOT"])


def image_dir(key: str) -> Path:
    return media_root() / "img" / key[:2] / key


def image_url_path(key: str, variant: str) -> str:
    """Path below /media/ of one variant, e.g. 'img/ab/abcd…/320.webp'."""
    return f"img/{key[:2]}/{key}/{variant}"


def _refuse(message: str, field: str = "image"):
    raise ValidationFailed({field: [message]}, message)


def _flatten(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def _atomic_save(img: Image.Image, path: Path, fmt: str, **options) -> None:
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    img.save(tmp, fmt, **options)
    tmp.replace(path)


def process_image(data: bytes, *, field: str = "image") -> StoredImage:
    """Validate and store one uploaded image; raise ValidationFailed with a clear message."""
    cfg = current_app.config
    max_bytes, max_pixels = cfg["MAX_IMAGE_BYTES"], cfg["MAX_IMAGE_PIXELS"]
    if not data:
        _refuse(_("Tệp ảnh trống."), field)
    if len(data) > max_bytes:
        _refuse(_("Ảnh quá lớn (tối đa %(mb)d MB).", mb=max_bytes // (1024 * 1024)), field)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            # Check the declared size before decoding a single pixel: a decompression bomb is a
            # small file that claims billions of pixels.
            if width * height > max_pixels:
                _refuse(_("Ảnh có kích thước quá lớn (%(w)d×%(h)d điểm ảnh).", w=width, h=height), field)
            if fmt not in ALLOWED_FORMATS:
                _refuse(_("Chỉ nhận ảnh JPEG, PNG, WebP hoặc GIF."), field)
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            img = _flatten(img)
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        _refuse(_("Tệp tải lên không phải là ảnh hợp lệ."), field)

    key = hashlib.sha256(data).hexdigest()[:40]
    folder = image_dir(key)
    folder.mkdir(parents=True, exist_ok=True)
    original = folder / "orig.jpg"
    if not original.exists():
        # Saved without exif/icc arguments: metadata is dropped on purpose.
        _atomic_save(img, original, "JPEG", quality=92, optimize=True)
        for width in WIDTHS:
            variant = img.copy()
            variant.thumbnail((width, width * 4), Image.Resampling.LANCZOS)
            for ext, pil_format in VARIANT_FORMATS:
                _atomic_save(
                    variant,
                    folder / f"{width}.{ext}",
                    pil_format,
                    quality=82,
                    **({"method": 4} if pil_format == "WEBP" else {"optimize": True, "progressive": True}),
                )
    return StoredImage(key=key, width=img.width, height=img.height)
