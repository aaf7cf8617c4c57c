"""One HTTP call to a carrier through the standard library, its failures turned into CarrierErrors.

Transport failures (refused, reset, timeout), 5xx and answers too large are CarrierUnavailable;
429 is CarrierRateLimited with the Retry-After hint; 401/403 are CarrierAuthError. Any other
status is handed back with its parsed JSON body, for the adapter to read the carrier's envelope."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Any

from .base import CarrierAuthError, CarrierRateLimited, CarrierUnavailable

MAX_ANSWER_BYTES = 2_000_000  # a carrier's answer is a few kilobytes; refuse to buffer a flood
USER_AGENT = "provincial-marketplace-carriers/1"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A carrier API does not redirect; following one would resend the Token header to wherever
    the Location points (and turn a POST into a GET). The 3xx is answered as it is."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # the parsed JSON, or None when the answer was not JSON
    text: str  # the first characters of the raw answer, for messages
    headers: Message


def check_base_url(base_url: str) -> str:
    parsed = urllib.parse.urlsplit(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"carrier base URL must be http(s)://host/...: {base_url!r}")
    return base_url.rstrip("/")


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date; None when absent or garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def snippet(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def call(
    carrier: str,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    json_body: Any = None,
    timeout: float,
) -> Answer:
    data = None
    all_headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **headers}
    if json_body is not None:
        data = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        all_headers["Content-Type"] = "application/json; charset=utf-8"
    request = urllib.request.Request(url, data=data, headers=all_headers, method=method)  # noqa: S310 - the scheme is checked (check_base_url)
    where = f"{carrier} {method} {urllib.parse.urlsplit(url).path}"
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status, raw, answer_headers = response.status, _read(response, where), response.headers
    except urllib.error.HTTPError as exc:
        status, answer_headers = exc.code, exc.headers
        try:
            raw = _read(exc, where)
        except CarrierUnavailable:
            raw = b""
        finally:
            exc.close()
    except TimeoutError as exc:
        raise CarrierUnavailable(f"{where}: no answer within {timeout:g} s") from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise CarrierUnavailable(f"{where}: no answer within {timeout:g} s") from exc
        raise CarrierUnavailable(f"{where}: cannot connect ({reason})") from exc
    except (http.client.HTTPException, ConnectionError, OSError) as exc:
        raise CarrierUnavailable(f"{where}: connection failed ({exc.__class__.__name__}: {exc})") from exc

    text = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(text) if text.strip() else None
    except ValueError:
        body = None
    answer = Answer(status=status, body=body, text=snippet(text), headers=answer_headers)
    said = f": {answer.text}" if answer.text else ""
    if status == 429:
        raise CarrierRateLimited(
            f"{where}: rate limited (HTTP 429){said}",
            retry_after=retry_after_seconds(answer_headers.get("Retry-After")),
            status=status,
        )
    if status >= 500:
        raise CarrierUnavailable(
            f"{where}: HTTP {status}{said}",
            retry_after=retry_after_seconds(answer_headers.get("Retry-After")),
            status=status,
        )
    if status in (401, 403):
        raise CarrierAuthError(f"{where}: refused the credentials (HTTP {status}){said}", status=status)
    return answer


def _read(response: Any, where: str) -> bytes:
    try:
        raw = response.read(MAX_ANSWER_BYTES + 1)
    except TimeoutError as exc:
        raise CarrierUnavailable(f"{where}: the answer stalled") from exc
    except (http.client.HTTPException, ConnectionError, OSError) as exc:
        raise CarrierUnavailable(f"{where}: the answer broke off ({exc.__class__.__name__})") from exc
    if len(raw) > MAX_ANSWER_BYTES:
        raise CarrierUnavailable(f"{where}: answer larger than {MAX_ANSWER_BYTES} bytes")
    return bytes(raw)
