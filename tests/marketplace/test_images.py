"""The image pipeline: real images only, no bombs, orientation applied, metadata stripped."""

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from marketplace.errors import ValidationFailed
from marketplace.images import image_dir, process_image
from tests.support import image_bytes


def _exif_with_gps_and_orientation() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° CW to display
    exif[0x010F] = "PhoneMaker"
    gps = {1: "N", 2: (18.0, 20.0, 30.0), 3: "E", 4: (105.0, 54.0, 10.0)}
    exif[0x8825] = gps
    return exif.tobytes()


def test_variants_stored_orientation_applied_metadata_stripped(app):
    data = image_bytes(size=(1600, 800), exif=_exif_with_gps_and_orientation())
    with Image.open(io.BytesIO(data)) as original:
        assert original.getexif().get(0x8825)  # the upload really carries GPS
    stored = process_image(data)
    # Orientation 6 turns a landscape upload into a portrait picture.
    assert (stored.width, stored.height) == (800, 1600)
    folder = image_dir(stored.key)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["1200.jpg", "1200.webp", "320.jpg", "320.webp", "orig.jpg"]
    for path in folder.iterdir():
        with Image.open(path) as img:
            exif = img.getexif()
            assert not exif.get(0x8825) and not exif.get(0x010F) and not exif.get(0x0112), path.name
            assert "exif" not in img.info
    with Image.open(folder / "320.jpg") as small:
        assert small.width == 320 and small.height == 640
    with Image.open(folder / "1200.webp") as big:
        assert big.format == "WEBP" and big.width == 800  # never upscaled


def test_same_picture_is_stored_once(app):
    data = image_bytes()
    assert process_image(data).key == process_image(data).key


def test_not_an_image_is_refused(app):
    with pytest.raises(ValidationFailed) as exc:
        process_image(b"GIF89a but not really an image, just text")
    assert "không phải là ảnh hợp lệ" in exc.value.message


def test_disallowed_format_is_refused(app):
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "BMP")
    with pytest.raises(ValidationFailed) as exc:
        process_image(buffer.getvalue())
    assert "JPEG, PNG, WebP" in exc.value.message


def test_oversize_file_is_refused(app):
    app.config["MAX_IMAGE_BYTES"] = 1024
    with pytest.raises(ValidationFailed) as exc:
        process_image(image_bytes(size=(800, 800)))
    assert "quá lớn" in exc.value.message


def _png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG that claims a huge canvas: the classic decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", raw)
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_before_decoding(app):
    bomb = _png_header_claiming(50_000, 50_000)
    assert len(bomb) < 200
    with pytest.raises(ValidationFailed) as exc:
        process_image(bomb)
    assert "kích thước quá lớn" in exc.value.message or "không phải là ảnh" in exc.value.message
    assert not any(Path(app.config["MEDIA_ROOT"]).rglob("*.jpg"))


def test_transparent_png_gets_white_background(app):
    buffer = io.BytesIO()
    Image.new("RGBA", (50, 50), (0, 0, 0, 0)).save(buffer, "PNG")
    stored = process_image(buffer.getvalue())
    with Image.open(image_dir(stored.key) / "320.jpg") as img:
        assert img.getpixel((10, 10)) == (255, 255, 255)


def test_media_served_with_long_cache(client, app):
    stored = process_image(image_bytes())
    r = client.get(f"/media/img/{stored.key[:2]}/{stored.key}/320.webp")
    assert r.status_code == 200 and r.mimetype == "image/webp"
    assert "max-age=31536000" in r.headers["Cache-Control"] and "immutable" in r.headers["Cache-Control"]
    r.close()
    assert client.get("/media/../../etc/passwd").status_code == 404
