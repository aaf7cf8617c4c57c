"""Configuration from environment variables, with defaults that let `make run` work untouched."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/ and reused."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


# Rate limits (Flask-Limiter syntax, "n per minute; m per hour"), each settable by environment
# variable of the same name. "per IP" limits key on the client address (an IPv6 /64 counts as one),
# "per account" ones on the e-mail address typed into the form or the signed-in account.
RATE_LIMIT_DEFAULTS = {
    "RATELIMIT_SIGN_IN": "20 per minute; 200 per hour",  # per IP; per account: LOGIN_MAX_FAILURES
    "RATELIMIT_SIGN_UP": "5 per minute; 20 per hour",  # per IP
    "RATELIMIT_SIGN_UP_ACCOUNT": "3 per hour; 10 per day",  # per address typed
    "RATELIMIT_PASSWORD_RESET": "5 per minute; 20 per hour",  # per IP
    "RATELIMIT_PASSWORD_RESET_ACCOUNT": "3 per hour; 10 per day",  # per address typed
    "RATELIMIT_CONFIRMATION_RESEND": "5 per minute; 20 per hour",  # per IP
    "RATELIMIT_CONFIRMATION_RESEND_ACCOUNT": "3 per hour; 10 per day",  # per account
    "RATELIMIT_ACCOUNT_CHANGES": "10 per hour",  # per account: password change, sign out everywhere
    "RATELIMIT_SEARCH": "120 per minute; 2000 per hour",  # per IP, results page and API search
    "RATELIMIT_SEARCH_ACCOUNT": "60 per minute",  # per signed-in account
    "RATELIMIT_SUGGEST": "300 per minute",  # per IP, search-as-you-type
    "RATELIMIT_SUGGEST_ACCOUNT": "120 per minute",  # per signed-in account
    "RATELIMIT_API": "300 per minute; 10000 per hour",  # per IP, every /api/v1 path together
    "RATELIMIT_API_ACCOUNT": "120 per minute",  # per signed-in account
}


def _rate_limits() -> dict:
    return {
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        # memory:// is per process: right for `make run`, wrong for several gunicorn workers or
        # machines, which must share a store (redis://host:6379/0, memcached://host:11211).
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or "memory://",
        "RATELIMIT_STRATEGY": os.environ.get("RATELIMIT_STRATEGY") or "fixed-window",
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX") or "marketplace",
        # An unreachable store must not take the site down: limits fall back to this process's
        # memory and errors are logged, not answered as 500.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        **{name: os.environ.get(name) or default for name, default in RATE_LIMIT_DEFAULTS.items()},
    }


def load_config(instance_path: str) -> dict:
    instance = Path(instance_path)
    local = os.environ.get("MARKETPLACE_ENV", "production") in {"local", "development"}
    # Links in mails and feeds are built outside requests too (worker, CLI): they need the
    # public address. Flask 3.1 still serves requests for other hosts when SERVER_NAME is set.
    base_url = urlsplit(os.environ.get("BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or 5000}")
    return {
        "SERVER_NAME": base_url.netloc,
        "PREFERRED_URL_SCHEME": base_url.scheme or "https",
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
        or f"sqlite:///{instance / 'marketplace.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MEDIA_ROOT": os.environ.get("MEDIA_ROOT") or str(instance / "media"),
        "MAIL_DIR": os.environ.get("MAIL_DIR") or str(instance / "mail"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(os.environ.get("MAIL_PORT") or 587),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", True),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER") or "no-reply@localhost",
        "PROVINCE_NAME": os.environ.get("PROVINCE_NAME") or "Hà Tĩnh",
        "SITE_NAME": os.environ.get("SITE_NAME") or None,
        "ELASTICSEARCH_URL": os.environ.get("ELASTICSEARCH_URL") or None,
        "OPENSEARCH_URL": os.environ.get("OPENSEARCH_URL") or None,
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY") or None,
        "STRIPE_PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY") or None,
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET") or None,
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE") or None,
        # Cookies: HttpOnly and SameSite always; Secure unless running locally over plain http.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", not local),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", not local),
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=int(os.environ.get("REMEMBER_COOKIE_DAYS") or 30)),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ["vi", "en"],
        "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
        "MAX_IMAGE_BYTES": int(os.environ.get("MAX_IMAGE_BYTES") or 10 * 1024 * 1024),
        "MAX_IMAGE_PIXELS": int(os.environ.get("MAX_IMAGE_PIXELS") or 40_000_000),
        "MAX_IMAGE_SIDE": int(os.environ.get("MAX_IMAGE_SIDE") or 12_000),
        "PASSWORD_HASH_PARAMS": {},  # argon2-cffi defaults (RFC 9106 low-memory profile)
        "LOGIN_MAX_FAILURES": int(os.environ.get("LOGIN_MAX_FAILURES") or 5),
        "LOGIN_FAILURE_WINDOW_S": int(os.environ.get("LOGIN_FAILURE_WINDOW_S") or 900),
        "EMAIL_CONFIRM_MAX_AGE_H": int(os.environ.get("EMAIL_CONFIRM_MAX_AGE_H") or 48),
        "INVITATION_MAX_AGE_DAYS": int(os.environ.get("INVITATION_MAX_AGE_DAYS") or 7),
        # Behind N reverse proxies the client's address and scheme come from X-Forwarded-For/-Proto;
        # 0 (the default) trusts no such header. The rate limits key on that address.
        "TRUSTED_PROXY_COUNT": int(os.environ.get("TRUSTED_PROXY_COUNT") or 0),
        **_rate_limits(),
        "WORKER_POLL_S": float(os.environ.get("WORKER_POLL_S") or 0.5),
        "PER_PAGE": 24,
    }
