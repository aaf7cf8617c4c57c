"""Shell routes: health, language switch, media files, robots.txt, security.txt; template globals."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text

from . import outbox
from .extensions import db
from .permissions import is_operator
from .redirects import next_target
from .timeutil import utcnow

bp = Blueprint("shell", __name__)

health_checks: list = []  # (name, callable -> dict) registered by packages such as search


_FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def _may_see_health_details() -> bool:
    """Operators, and probes on this machine: loopback with no proxy in between (a reverse proxy on
    the same host connects from 127.0.0.1 too, but adds a forwarding header)."""
    if is_operator(current_user):
        return True
    try:
        peer = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return peer.is_loopback and not any(name in request.headers for name in _FORWARDING_HEADERS)


@bp.get("/healthz")
def healthz():
    """Status for everyone (200 or 503); details (database, worker, search and its index file)
    only for operators and for probes on loopback."""
    body: dict = {"status": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
        body["database"] = {"status": "ok", "dialect": db.engine.dialect.name}
        body["worker"] = outbox.stats()
    except Exception as exc:  # noqa: BLE001 - report, do not crash the probe
        db.session.rollback()
        body["status"] = "error"
        body["database"] = {"status": "error", "error": type(exc).__name__}
    code = 200 if body["status"] == "ok" else 503
    if _may_see_health_details():
        for name, check in current_app.extensions.get("health_checks", {}).items():
            body[name] = check()
    else:
        body = {"status": body["status"]}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, code


@bp.post("/ngon-ngu/<code>")
def switch_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    return redirect(next_target("/"))


@bp.get("/media/<path:filename>")
def media(filename: str):
    response = send_from_directory(current_app.config["MEDIA_ROOT"], filename, max_age=31536000)
    # Files are content-addressed: a URL's bytes never change.
    response.cache_control.immutable = True
    response.cache_control.public = True
    return response


@bp.get("/robots.txt")
def robots():
    lines = [
        "User-agent: *",
        "Disallow: /kenh-ban/",
        "Disallow: /quan-tri/",
        "Disallow: /api/",
        "Disallow: /dang-nhap",
        "Disallow: /dang-ky",
        f"Sitemap: {url_for('catalog.sitemap', _external=True)}",
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")


@bp.get("/.well-known/security.txt")
def security_txt():
    """RFC 9116: where to report a vulnerability. Without SECURITY_CONTACT there is nobody to name."""
    contact = current_app.config.get("SECURITY_CONTACT")
    if not contact:
        abort(404)
    # The file must say until when it holds; it is made per request, so always half a year ahead.
    expires = (utcnow() + timedelta(days=182)).replace(hour=0, minute=0, second=0, microsecond=0)
    lines = [
        f"Contact: {contact}",
        f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        "Preferred-Languages: vi, en",
        f"Canonical: {url_for('shell.security_txt', _external=True)}",
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")


def image_url(key: str, variant: str = "320.webp") -> str:
    from .images import image_url_path

    return url_for("shell.media", filename=image_url_path(key, variant))


def register_template_globals(app) -> None:
    # Jinja globals (not context-processor values) so that imported macros see them too.
    app.jinja_env.globals.update(
        image_url=image_url,
        has_endpoint=lambda name: name in current_app.view_functions,
        operator_links=lambda: current_app.extensions.get("operator_links", []),
    )
    app.context_processor(template_globals)


def template_globals() -> dict:
    province = current_app.config["PROVINCE_NAME"]
    return {
        "province_name": province,
        "site_name": current_app.config.get("SITE_NAME") or _("Sàn TMĐT %(province)s", province=province),
        "current_locale": str(get_locale() or "vi"),
    }
