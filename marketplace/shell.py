"""Shell routes: health, language switch, media files, robots.txt; template globals."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
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
from .redirects import next_target

bp = Blueprint("shell", __name__)

health_checks: list = []  # (name, callable -> dict) registered by packages such as search


@bp.get("/healthz")
def healthz():
    body: dict = {"status": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
        body["database"] = {"status": "ok", "dialect": db.engine.dialect.name}
        body["worker"] = outbox.stats()
    except Exception as exc:  # noqa: BLE001 - report, do not crash the probe
        db.session.rollback()
        body["status"] = "error"
        body["database"] = {"status": "error", "error": type(exc).__name__}
    for name, check in current_app.extensions.get("health_checks", {}).items():
        body[name] = check()
    return jsonify(body), 200 if body["status"] == "ok" else 503


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
