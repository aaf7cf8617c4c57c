"""Image uploads: the declared size is checked per side and in total from the header before any
decoding, and an encoder failure is a message, not a 500 (issue 9, finding 11)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from marketplace import images
from marketplace.errors import ValidationFailed
from marketplace.images import declared_size, image_dir, process_image
from tests.support import sign_in


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _png_header_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _nothing_stored(app) -> bool:
    return not any(Path(app.config["MEDIA_ROOT"]).rglob("*.*"))


def test_a_70000_by_1_png_is_refused_for_its_side_not_a_500(app):
    data = _png(70_000, 1)
    assert declared_size(data) == ("PNG", 70_000, 1)
    with pytest.raises(ValidationFailed) as exc:
        process_image(data)
    assert exc.value.message == (
        "Ảnh quá dài hoặc quá rộng (70000×1 điểm ảnh): mỗi cạnh tối đa 12000 điểm ảnh."
    )
    assert exc.value.field_errors == {"image": [exc.value.message]}
    assert _nothing_stored(app)


def test_the_side_limit_never_exceeds_what_jpeg_can_store(app):
    app.config["MAX_IMAGE_SIDE"] = 1_000_000
    with pytest.raises(ValidationFailed) as exc:
        process_image(_png(70_000, 1))
    assert "mỗi cạnh tối đa 65500 điểm ảnh" in exc.value.message


def test_a_30000_square_bomb_gets_the_size_message(app):
    bomb = _png_header_claiming(30_000, 30_000)
    assert len(bomb) < 200
    with pytest.raises(ValidationFailed) as exc:
        process_image(bomb)
    assert exc.value.message == (
        "Ảnh có kích thước quá lớn (30000×30000 điểm ảnh): tối đa 40 triệu điểm ảnh."
    )
    app.config["MAX_IMAGE_PIXELS"] = 10**10  # then the sides are what is wrong
    with pytest.raises(ValidationFailed) as exc:
        process_image(bomb)
    assert exc.value.message == (
        "Ảnh quá dài hoặc quá rộng (30000×30000 điểm ảnh): mỗi cạnh tối đa 12000 điểm ảnh."
    )
    assert _nothing_stored(app)


def test_the_area_limit_applies_within_the_side_limit(app):
    app.config["MAX_IMAGE_PIXELS"] = 5_000
    with pytest.raises(ValidationFailed) as exc:
        process_image(_png(100, 100))
    assert exc.value.message == "Ảnh có kích thước quá lớn (100×100 điểm ảnh): tối đa 0.005 triệu điểm ảnh."


def test_an_encoder_failure_is_a_message_and_leaves_nothing_behind(app, monkeypatch):
    real_save = Image.Image.save

    def failing_save(self, fp, format=None, **params):
        if format == "WEBP":
            raise OSError("encoder error -2 when writing image file")
        return real_save(self, fp, format, **params)

    monkeypatch.setattr(Image.Image, "save", failing_save)
    data = _png(300, 200)
    with pytest.raises(ValidationFailed) as exc:
        process_image(data)
    assert exc.value.message.startswith("Không xử lý được ảnh này (300×200 điểm ảnh).")
    assert _nothing_stored(app)
    monkeypatch.setattr(Image.Image, "save", real_save)
    stored = process_image(data)  # nothing half-written stands in the way of a later upload
    assert sorted(p.name for p in image_dir(stored.key).iterdir()) == [
        "1200.jpg",
        "1200.webp",
        "320.jpg",
        "320.webp",
        "orig.jpg",
    ]


@pytest.mark.parametrize(
    "fmt, options, mode",
    [
        ("JPEG", {}, "RGB"),
        ("JPEG", {"progressive": True}, "RGB"),
        ("PNG", {}, "RGBA"),
        ("GIF", {}, "P"),
        ("WEBP", {"quality": 80}, "RGB"),
        ("WEBP", {"lossless": True}, "RGB"),
        ("WEBP", {"exif": b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00"}, "RGBA"),  # VP8X
    ],
)
def test_declared_size_reads_every_allowed_format_as_pillow_does(fmt, options, mode):
    buffer = io.BytesIO()
    Image.new(mode, (333, 77)).save(buffer, fmt, **options)
    data = buffer.getvalue()
    assert declared_size(data) == (fmt, 333, 77)
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (333, 77)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xd8\xff",
        b"\x89PNG\r\n\x1a\n",
        _png_header_claiming(100, 100)[:28] + b"\x00" * 20,  # IHDR with a wrong checksum
        b"GIF89a",
        b"GIF89a but not really an image, just text",
        b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        b"BM" + bytes(60),
    ],
)
def test_declared_size_of_truncated_or_foreign_headers_is_none(data):
    assert declared_size(data) is None


def test_upload_of_a_70000_by_1_logo_answers_with_the_message(client, factory, csrf_off):
    from sellers.models import Shop

    sign_in(client, factory.user())
    response = client.post(
        "/kenh-ban/dang-ky-cua-hang",
        data={
            "kind": "household",
            "name": "Hộ Hoa",
            "phone": "0912345678",
            "address_line": "Thôn 1",
            "commune_id": factory.commune().id,
            "logo": (io.BytesIO(_png(70_000, 1)), "logo.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code in (200, 422)
    assert "Ảnh quá dài hoặc quá rộng (70000×1 điểm ảnh)" in response.get_data(as_text=True)
    assert Shop.query.count() == 0
    assert images.JPEG_MAX_SIDE == 65_500
