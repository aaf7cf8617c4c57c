"""The one place that decides where a redirect may go: a path on this site, never elsewhere.

`next` parameters and the Referer header come from the client, so they can point anywhere
(`//evil.example`, `https://evil.example`, `/\\evil.example`, `javascript:…`, a tab inside `//`
that browsers drop). Only a path on this site is followed: it begins with one `/`, has no scheme,
no host, no backslash and no control character; an absolute URL is accepted only when its scheme
and host are this request's own, and then only its path and query are kept."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import has_request_context, request


def safe_target(target: object, default: str) -> str:
    """`target` if it is a path on this site, else `default`."""
    if not isinstance(target, str) or not target or len(target) > 2048:
        return default
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if (
            has_request_context()
            and parts.scheme in ("http", "https")
            and (parts.scheme, parts.netloc) == (request.scheme, request.host)
        ):
            path = parts.path or "/"
            return safe_target(path + (f"?{parts.query}" if parts.query else ""), default)
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    return target


def next_target(default: str) -> str:
    """Where a form or link asked to go next (`next` in the form, then the query string)."""
    return safe_target(request.form.get("next") or request.args.get("next"), default)


def back_target(default: str) -> str:
    """Back where the action was started: `next` if given, else the Referer when it is this site."""
    wanted = request.form.get("next") or request.args.get("next")
    if wanted:
        return safe_target(wanted, default)
    return safe_target(request.referrer, default)
