"""The image pipeline: verify, refuse bombs, orient, strip metadata, store variants.

Every upload is re-encoded, so nothing of the original file's metadata (EXIF GPS, camera serials,
ICC comments) survives. Files are content-addressed: the same picture uploaded twice is stored
once, and URLs never change, so they are served with year-long immutable cache headers.

Two stores: MEDIA_ROOT is public (/media/…, a CDN may serve it); PRIVATE_MEDIA_ROOT holds the
pictures only some people may see (complaint photos), served by routes that check who asks, and
deleted when the last row showing them goes (`delete_image`)."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import shutil
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from marketplace.errors import ValidationFailed

log = logging.getLogger(__name__)

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
JPEG_MAX_SIDE = 65_500  # libjpeg's limit is 65 535 per side; the original is stored as JPEG
WIDTHS = (320, 1200)
VARIANT_FORMATS = (("webp", "WEBP"), ("jpg", "JPEG"))


@dataclass(frozen=True)
class StoredImage:
    key: str
    width: int
    height: int


def media_root(*, private: bool = False) -> Path:
    return Path(current_app.config["PRIVATE_MEDIA_ROOT" if private else "MEDIA_ROOT"])


def image_dir(key: str, *, private: bool = False) -> Path:
    return media_root(private=private) / "img" / key[:2] / key


def variants() -> tuple[str, ...]:
    """The file names of a stored picture's sizes ('320.webp', '1200.jpg'…); orig.jpg aside."""
    return tuple(f"{width}.{ext}" for width in WIDTHS for ext, _format in VARIANT_FORMATS)


def delete_image(key: str, *, private: bool) -> bool:
    """Remove a stored picture and all its sizes (the caller made sure nothing shows it any more).
    Returns whether there was one."""
    if not re.fullmatch(r"[0-9a-f]{40}", key or ""):
        raise ValueError(f"not an image key: {key!r:.80}")
    folder = image_dir(key, private=private)
    if not folder.exists():
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return True


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
    try:
        img.save(tmp, fmt, **options)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)


# --- reading the declared size from the file header, before Pillow touches the pixels ---------

_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # no length field
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _JPEG_SOF:
            if pos + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        if length < 2:
            return None
        pos += 2 + length
    return None


def _gif_size(data: bytes) -> tuple[int, int] | None:
    flags = data[10]
    # After the screen descriptor (and its colour table, if any) comes an image, an extension or
    # the end: anything else is not a GIF, whatever its first six bytes say.
    after = 13 + (3 * 2 ** ((flags & 0x07) + 1) if flags & 0x80 else 0)
    if len(data) <= after or data[after] not in (0x2C, 0x21, 0x3B):
        return None
    width, height = struct.unpack("<HH", data[6:10])
    return width, height


def _webp_size(data: bytes) -> tuple[int, int] | None:
    kind, body = data[12:16], data[20:]
    if kind == b"VP8X" and len(body) >= 10:
        return 1 + int.from_bytes(body[4:7], "little"), 1 + int.from_bytes(body[7:10], "little")
    if kind == b"VP8L" and len(body) >= 5 and body[0] == 0x2F:
        bits = int.from_bytes(body[1:5], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if kind == b"VP8 " and len(body) >= 10 and body[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", body[6:10])
        return width & 0x3FFF, height & 0x3FFF
    return None


def declared_size(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) as a JPEG, PNG, GIF or WebP header declares them; None for anything
    else. Only the header is read: a 200-byte file claiming 30000×30000 costs nothing."""
    size: tuple[int, int] | None = None
    fmt = None
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[8:16] == b"\x00\x00\x00\x0dIHDR" and len(data) >= 33:
        if struct.unpack(">I", data[29:33])[0] == zlib.crc32(data[12:29]):  # the header is what it says
            fmt, size = "PNG", struct.unpack(">II", data[16:24])
    elif data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 14:
        fmt, size = "GIF", _gif_size(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        fmt, size = "WEBP", _webp_size(data)
    elif data[:3] == b"\xff\xd8\xff":
        fmt, size = "JPEG", _jpeg_size(data)
    if fmt is None or size is None:
        return None
    return fmt, size[0], size[1]


def _size_problem(width: int, height: int) -> str | None:
    cfg = current_app.config
    max_side = min(int(cfg.get("MAX_IMAGE_SIDE") or JPEG_MAX_SIDE), JPEG_MAX_SIDE)
    if width <= 0 or height <= 0:
        return _("Tệp tải lên không phải là ảnh hợp lệ.")
    if width * height > cfg["MAX_IMAGE_PIXELS"]:
        return _(
            "Ảnh có kích thước quá lớn (%(w)d×%(h)d điểm ảnh): tối đa %(mp)s triệu điểm ảnh.",
            w=width,
            h=height,
            mp=f"{cfg['MAX_IMAGE_PIXELS'] / 1_000_000:g}",
        )
    if max(width, height) > max_side:
        return _(
            "Ảnh quá dài hoặc quá rộng (%(w)d×%(h)d điểm ảnh): mỗi cạnh tối đa %(max)d điểm ảnh.",
            w=width,
            h=height,
            max=max_side,
        )
    return None


def image_problem(data: bytes) -> str | None:
    """Every check that needs no decoding (bytes, format, declared size per side and in total,
    structure), in words for the person uploading; None when the file may be decoded."""
    max_bytes = current_app.config["MAX_IMAGE_BYTES"]
    if not data:
        return _("Tệp ảnh trống.")
    if len(data) > max_bytes:
        return _("Ảnh quá lớn (tối đa %(mb)d MB).", mb=max_bytes // (1024 * 1024))
    declared = declared_size(data)
    if declared is None:
        # Not one of ours, or a broken header: tell a BMP/TIFF from garbage.
        try:
            with Image.open(io.BytesIO(data)) as other:
                known = other.format
        except Exception:  # noqa: BLE001 - whatever Pillow thinks, we refuse it below
            known = None
        if known and known not in ALLOWED_FORMATS:
            return _("Chỉ nhận ảnh JPEG, PNG, WebP hoặc GIF.")
        return _("Tệp tải lên không phải là ảnh hợp lệ.")
    fmt, width, height = declared
    problem = _size_problem(width, height)
    if problem:
        return problem
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as probe:
            problem = _size_problem(*probe.size)  # Pillow's reading of the header, checked again
            if problem:
                return problem
            probe.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        return _("Tệp tải lên không phải là ảnh hợp lệ.")
    return None


def process_image(data: bytes, *, field: str = "image", private: bool = False) -> StoredImage:
    """Validate and store one uploaded image (in the private store if `private`); raise
    ValidationFailed with a clear message."""
    problem = image_problem(data)
    if problem:
        _refuse(problem, field)
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            img = _flatten(ImageOps.exif_transpose(opened))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        _refuse(_("Tệp tải lên không phải là ảnh hợp lệ."), field)

    key = hashlib.sha256(data).hexdigest()[:40]
    folder = image_dir(key, private=private)
    original = folder / "orig.jpg"
    if not original.exists():
        created = not folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
        try:
            _store_variants(img, folder)
        except (OSError, ValueError, MemoryError) as exc:
            # An encoder limit we did not foresee: say so instead of a 500, and leave no half set.
            log.warning("could not encode image %s (%dx%d): %s", key, img.width, img.height, exc)
            if created:
                shutil.rmtree(folder, ignore_errors=True)
            _refuse(
                _(
                    "Không xử lý được ảnh này (%(w)d×%(h)d điểm ảnh). Hãy lưu lại ảnh dưới dạng JPEG "
                    "hoặc PNG thông thường rồi tải lên lại.",
                    w=img.width,
                    h=img.height,
                ),
                field,
            )
    return StoredImage(key=key, width=img.width, height=img.height)


def _store_variants(img: Image.Image, folder: Path) -> None:
    """The sizes first, orig.jpg last: its presence means the set is complete."""
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
    # Saved without exif/icc arguments: metadata is dropped on purpose.
    _atomic_save(img, folder / "orig.jpg", "JPEG", quality=92, optimize=True)
