"""Domain errors with user-facing messages, and handlers that answer HTML or JSON problems."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, TooManyRequests


class DomainError(Exception):
    """A rule of the domain was broken; `message` is fit to show the user."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class ValidationFailed(DomainError):
    """Every field problem at once, so the view can map them back onto the form."""

    status = 422
    title = "Validation failed"

    def __init__(self, field_errors: dict[str, list[str]], message: str | None = None):
        super().__init__(message or _("Vui lòng sửa các lỗi bên dưới."), field_errors=field_errors)


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class Errors:
    """Collects field problems; raise once at the end (flaskbb's accumulate_errors habit)."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def raise_if_any(self) -> None:
        if self.fields:
            raise ValidationFailed(self.fields)


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def problem(status: int, title: str, detail: str, **extra):
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


_HTTP_MESSAGES = {
    400: _l("Yêu cầu không hợp lệ."),
    403: _l("Bạn không có quyền truy cập trang này."),
    404: _l("Không tìm thấy trang bạn yêu cầu."),
    405: _l("Phương thức không được hỗ trợ."),
    413: _l("Tệp tải lên quá lớn."),
    429: _l("Bạn thao tác quá nhanh, vui lòng thử lại sau."),
    500: _l("Đã có lỗi xảy ra. Vui lòng thử lại sau."),
}


def _retry_after_s(exc: TooManyRequests) -> int:
    """Seconds to wait: from the exception, else from the rate limiter's breach (limits.py)."""
    value = getattr(exc, "retry_after", None) or g.get("retry_after")
    if isinstance(value, datetime):
        value = (value - datetime.now(UTC)).total_seconds()
    return max(1, int(value or 60))


def _wait_text(seconds: int) -> str:
    if seconds < 120:
        return ngettext("%(num)d giây", "%(num)d giây", seconds)
    minutes = -(-seconds // 60)
    return ngettext("%(num)d phút", "%(num)d phút", minutes)


def register_errorhandlers(app: Flask) -> None:
    from .extensions import db

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        if wants_json():
            extra = {"errors": exc.field_errors} if exc.field_errors else {}
            return problem(exc.status, exc.title, exc.message, **extra)
        return render_template("errors/error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        db.session.rollback()
        message = _(
            "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Vui lòng tải lại trang và thử lại."
        )
        if wants_json():
            return problem(400, "CSRF token missing or invalid", message)
        return render_template("errors/error.html", status=400, message=message), 400

    @app.errorhandler(TooManyRequests)
    def too_many_requests(exc: TooManyRequests):
        """A rate limit was reached: 429 with Retry-After, a problem in the API, a page otherwise."""
        db.session.rollback()
        seconds = _retry_after_s(exc)
        message = _("Bạn thao tác quá nhanh. Vui lòng thử lại sau %(wait)s.", wait=_wait_text(seconds))
        if wants_json():
            response = problem(429, "Too Many Requests", message, retry_after=seconds)
        else:
            html = render_template("errors/error.html", status=429, message=message)
            response = app.response_class(html, status=429, mimetype="text/html")
        response.headers["Retry-After"] = str(seconds)
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        db.session.rollback()
        code = exc.code or 500
        message = str(_HTTP_MESSAGES.get(code, exc.description or ""))
        if wants_json():
            response = problem(code, exc.name, message)
            for name, value in exc.get_headers():  # Allow on a 405, Retry-After on a 429 or 503
                if name.lower() != "content-type":
                    response.headers[name] = value
            return response
        response = exc.get_response()
        html = render_template("errors/error.html", status=code, message=message)
        response.set_data(html)
        response.mimetype = "text/html"
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error")
        message = str(_HTTP_MESSAGES[500])
        if wants_json():
            return problem(500, "Internal Server Error", message)
        return render_template("errors/error.html", status=500, message=message), 500
