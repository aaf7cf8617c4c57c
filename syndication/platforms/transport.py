"""The adapters' one HTTP client: stdlib urllib.request, transport failures as the contract's
errors (timeouts and connection errors -> Unavailable), Retry-After read, multipart bodies."""

from __future__ import annotations

import email.utils
import json
import secrets
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any
from urllib.parse import urlsplit

from .base import PlatformError, RateLimited, Unavailable


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # names lowercased
    body: bytes

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON (a proxy's HTML error page)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("retry-after"))


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as delay-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def send(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float,
) -> Response:
    if urlsplit(url).scheme not in ("http", "https"):
        raise PlatformError(f"refusing a non-HTTP URL {url!r}", "config")
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (scheme checked above)
            return Response(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
    except urllib.error.HTTPError as exc:
        try:
            return Response(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())
        finally:
            exc.close()
    except TimeoutError as exc:
        raise Unavailable(f"{method} {urlsplit(url).path} timed out after {timeout:g} s", "timeout") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError | socket.timeout):
            raise Unavailable(
                f"{method} {urlsplit(url).path} timed out after {timeout:g} s", "timeout"
            ) from exc
        raise Unavailable(f"cannot reach {urlsplit(url).netloc}: {exc.reason}", "connection") from exc
    except (ConnectionError, HTTPException) as exc:
        raise Unavailable(f"{method} {urlsplit(url).path}: {exc}", "connection") from exc


def raise_for_transport(response: Response, *, default_backoff: float) -> None:
    """What the status alone says, when the body carried no platform error: 429 and 5xx retry."""
    if response.status == 429:
        raise RateLimited("too many requests", "429", response.retry_after() or default_backoff)
    if response.status >= 500:
        raise Unavailable(
            f"the platform answered {response.status}", str(response.status), response.retry_after()
        )


def multipart(fields: Mapping[str, str], files: Mapping[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """multipart/form-data (RFC 7578): fields, and files as name -> (filename, data, type)."""
    boundary = "----syndication" + secrets.token_hex(12)
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, data, content_type) in files.items():
        safe = filename.replace('"', "").replace("\r", "").replace("\n", "")
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{safe}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def image_type(filename: str) -> str:
    lower = filename.lower()
    if lower.endswith(".png"):
        return "image/png"
    if lower.endswith(".webp"):
        return "image/webp"
    return "image/jpeg"
