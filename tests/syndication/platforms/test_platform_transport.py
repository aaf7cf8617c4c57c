"""The adapters' HTTP layer: Retry-After, bare 429/5xx answers, non-HTTP URLs, the registry."""

from __future__ import annotations

import email.utils
import time

import pytest

from syndication.platforms import (
    PLATFORMS,
    AppCredentials,
    PlatformError,
    RateLimited,
    Unavailable,
    adapter_for,
)
from syndication.platforms.transport import Response, multipart, parse_retry_after, raise_for_transport, send


def test_retry_after_in_seconds_or_as_a_date():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= parse_retry_after(later) <= 31
    assert parse_retry_after(email.utils.formatdate(time.time() - 60, usegmt=True)) == 0.0


def test_bare_429_and_5xx_without_an_envelope():
    with pytest.raises(RateLimited) as caught:
        raise_for_transport(
            Response(429, {"retry-after": "12"}, b"<html>slow down</html>"), default_backoff=1.0
        )
    assert caught.value.retry_after == 12.0
    with pytest.raises(RateLimited) as caught:
        raise_for_transport(Response(429, {}, b""), default_backoff=1.5)
    assert caught.value.retry_after == 1.5
    with pytest.raises(Unavailable) as caught:
        raise_for_transport(Response(502, {}, b"<html>Bad Gateway</html>"), default_backoff=1.0)
    assert caught.value.code == "502"
    raise_for_transport(Response(200, {}, b"{}"), default_backoff=1.0)  # nothing to say
    assert Response(502, {}, b"<html>").json() is None


def test_only_http_urls_are_opened():
    with pytest.raises(PlatformError):
        send("GET", "file:///etc/passwd", timeout=1)


def test_multipart_body_carries_fields_and_files():
    body, content_type = multipart({"a": "1"}, {"image": ('x"y.jpg', b"\x00\xff", "image/jpeg")})
    boundary = content_type.split("boundary=")[1]
    assert body.startswith(f"--{boundary}\r\n".encode()) and body.endswith(f"--{boundary}--\r\n".encode())
    assert b'filename="xy.jpg"' in body and b"\x00\xff" in body and b'name="a"\r\n\r\n1\r\n' in body


def test_registry_has_one_module_per_platform():
    assert PLATFORMS == {"shopee": "Shopee", "lazada": "Lazada", "tiki": "Tiki"}
    for platform in PLATFORMS:
        adapter = adapter_for(AppCredentials(platform, "1", "s", "https://example.invalid"), None)
        assert adapter.platform == platform
    with pytest.raises(KeyError):
        adapter_for(AppCredentials("sendo", "1", "s", "https://example.invalid"), None)
