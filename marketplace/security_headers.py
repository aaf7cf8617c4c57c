"""Security headers on every response, from one after_request hook.

- Content-Security-Policy: everything from this site only; no inline script, no inline event
  handler, no inline style (templates load /static/js and /static/css files), no plugins, no
  <base>, forms post to this site, and no one may frame our pages (`frame-ancestors 'none'`).
  A page that needs another origin says so for that response only (`csp_allow`): the card
  payment page allows Stripe.js (see orders.stripe_gateway.csp_sources).
- X-Content-Type-Options: nosniff; X-Frame-Options: DENY (for browsers without CSP level 2).
- Referrer-Policy: strict-origin-when-cross-origin (other sites see our origin, never a path
  with an order code in it).
- Strict-Transport-Security (one year) only on responses served over HTTPS, i.e. when the
  request reached the app as https (directly, or through a proxy the WSGI server trusts to say
  so: gunicorn's --forwarded-allow-ips with X-Forwarded-Proto). Never over plain http, so
  `make run` on http://127.0.0.1 is not pinned to HTTPS.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, g, request

BASE_POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'",),
    "font-src": ("'self'",),
    "connect-src": ("'self'",),
    "frame-src": ("'none'",),
    "object-src": ("'none'",),
    "base-uri": ("'none'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}
HSTS = "max-age=31536000"
REFERRER_POLICY = "strict-origin-when-cross-origin"


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, the form a CSP source takes."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def csp_allow(directive: str, *sources: str) -> None:
    """Let this response's policy allow `sources` for `directive` (e.g. a payment provider)."""
    if directive not in BASE_POLICY:
        raise ValueError(f"unknown CSP directive {directive!r}")
    extra: dict[str, list[str]] = g.setdefault("csp_extra", {})
    extra.setdefault(directive, [])
    for source in sources:
        if source not in extra[directive]:
            extra[directive].append(source)


def content_security_policy(extra: dict[str, list[str]] | None = None) -> str:
    parts = []
    for directive, base in BASE_POLICY.items():
        added = (extra or {}).get(directive, [])
        sources = [s for s in base if not (added and s == "'none'")] + [s for s in added if s not in base]
        parts.append(" ".join([directive, *sources]))
    return "; ".join(parts)


def _set_headers(response: Response) -> Response:
    headers = response.headers
    # Popped, not read: what one response allowed must never leak into the next one.
    headers.setdefault("Content-Security-Policy", content_security_policy(g.pop("csp_extra", None)))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_set_headers)
