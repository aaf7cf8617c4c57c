"""Configuration from environment variables, with defaults that let `make run` work untouched.

The one place that reads the environment: `load_config()` for the shell's settings, and the typed
readers (`env_str`, `env_optional`, `env_int`, `env_float`, `env_bool`, `env_list`) with which a
package declares its own (`set_defaults()`, e.g. orders' ORDER_* and search's SEARCH_*). An empty
variable counts as unset (its default applies); a value a reader cannot take stops the start with
a ConfigError that names the variable (`PORT=abc`), never a silent default or a stack of
unrelated errors later."""

from __future__ import annotations

import math
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from flask import Flask

_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class ConfigError(ValueError):
    """An environment variable holds a value its setting cannot take."""

    def __init__(self, name: str, value: str, problem: str):
        super().__init__(f"{name}={value!r}: {problem}")
        self.name = name


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    value = (os.environ if environ is None else environ).get(name)
    return None if value is None or value == "" else value


def env_optional(name: str, *, environ: Mapping[str, str] | None = None) -> str | None:
    """The variable as written, or None when unset (URLs, keys and passwords without a default)."""
    return _raw(name, environ)


def env_str(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> str:
    """The variable as written, or `default` when unset."""
    value = _raw(name, environ)
    return default if value is None else value


def _check_range(name: str, raw: str, value: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise ConfigError(name, raw, f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigError(name, raw, f"must be at most {maximum}")


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """A whole number written in plain digits (`PORT=8000`), within [minimum, maximum]."""
    raw = _raw(name, environ)
    if raw is None:
        return default
    text = raw.strip()
    if not _INT.fullmatch(text) or len(text) > 19:
        raise ConfigError(name, raw, "not a whole number")
    value = int(text)
    _check_range(name, raw, value, minimum, maximum)
    return value


def env_float(
    name: str,
    default: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> float:
    """A finite number (`SEARCH_ENGINE_TIMEOUT=2.5`), within [minimum, maximum]."""
    raw = _raw(name, environ)
    if raw is None:
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(name, raw, "not a number") from None
    if not math.isfinite(value):
        raise ConfigError(name, raw, "not a finite number")
    _check_range(name, raw, value, minimum, maximum)
    return value


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    """On with 1/true/yes/on, off with 0/false/no/off (any case); anything else is an error."""
    raw = _raw(name, environ)
    if raw is None:
        return default
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(name, raw, "not one of 1/true/yes/on or 0/false/no/off")


def env_list(
    name: str, default: Sequence[str], *, sep: str = ",", environ: Mapping[str, str] | None = None
) -> list[str]:
    """Items separated by `sep` (`a, b,c` -> ["a", "b", "c"]), blanks dropped."""
    raw = _raw(name, environ)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(sep) if item.strip()]


def set_defaults(app: Flask, settings: Mapping[str, object]) -> None:
    """A package's own settings (read with the env_* readers) for what create_app()'s overrides
    did not set: those are already in app.config and win."""
    for key, value in settings.items():
        app.config.setdefault(key, value)


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/ and reused."""
    configured = env_optional("SECRET_KEY")
    if configured is not None:
        return configured
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
    "RATELIMIT_ORDER_LOOKUP": "10 per minute; 60 per hour",  # per IP, /tra-cuu-don-hang
    "RATELIMIT_ORDER_LOOKUP_CODE": "10 per hour; 30 per day",  # per order code typed
    "RATELIMIT_QA_ASK": "10 per hour; 30 per day",  # per account, questions to the agencies (govqa)
    "RATELIMIT_SEARCH": "120 per minute; 2000 per hour",  # per IP, results page, API search, Q&A archive
    "RATELIMIT_SEARCH_ACCOUNT": "60 per minute",  # per signed-in account
    "RATELIMIT_SUGGEST": "300 per minute",  # per IP, search-as-you-type
    "RATELIMIT_SUGGEST_ACCOUNT": "120 per minute",  # per signed-in account
    "RATELIMIT_API": "300 per minute; 10000 per hour",  # per IP, every /api/v1 path together
    "RATELIMIT_API_ACCOUNT": "120 per minute",  # per signed-in account
}


def _rate_limits() -> dict:
    return {
        "RATELIMIT_ENABLED": env_bool("RATELIMIT_ENABLED", True),
        # memory:// is per process: right for `make run`, wrong for several gunicorn workers or
        # machines, which must share a store (redis://host:6379/0, memcached://host:11211).
        "RATELIMIT_STORAGE_URI": env_str("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_STRATEGY": env_str("RATELIMIT_STRATEGY", "fixed-window"),
        "RATELIMIT_KEY_PREFIX": env_str("RATELIMIT_KEY_PREFIX", "marketplace"),
        # An unreachable store must not take the site down: limits fall back to this process's
        # memory and errors are logged, not answered as 500.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        **{name: env_str(name, default) for name, default in RATE_LIMIT_DEFAULTS.items()},
    }


def _static_path(name: str) -> str | None:
    """A file under static/ (`img/bo-cong-thuong.png`): relative, inside the folder."""
    raw = _raw(name, None)
    if raw is None:
        return None
    path = raw.strip().replace("\\", "/")
    if path.startswith("/") or ".." in path.split("/") or ":" in path:
        raise ConfigError(name, raw, "must be a path inside static/, such as img/bo-cong-thuong.png")
    return path


def _http_url(name: str) -> str | None:
    raw = _raw(name, None)
    if raw is None:
        return None
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(name, raw, "must be an http(s) URL")
    return raw.strip()


def _operator_identity() -> dict:
    """The floor's operator as every page's footer shows it (the rules for e-commerce floors ask
    for its name, address, contact and registration); an unset line is left out. The Ministry of
    Industry and Trade registration notice shows only once its URL is set."""
    return {
        "OPERATOR_NAME": env_optional("OPERATOR_NAME"),
        "OPERATOR_ADDRESS": env_optional("OPERATOR_ADDRESS"),
        "OPERATOR_PHONE": env_optional("OPERATOR_PHONE"),
        "OPERATOR_EMAIL": env_optional("OPERATOR_EMAIL"),
        "OPERATOR_REGISTRATION": env_optional("OPERATOR_REGISTRATION"),
        "MOIT_NOTICE_URL": _http_url("MOIT_NOTICE_URL"),
        "MOIT_NOTICE_IMAGE": _static_path("MOIT_NOTICE_IMAGE"),
    }


def load_config(instance_path: str) -> dict:
    instance = Path(instance_path)
    local = env_str("MARKETPLACE_ENV", "production") in {"local", "development"}
    # Links in mails and feeds are built outside requests too (worker, CLI): they need the
    # public address. Flask 3.1 still serves requests for other hosts when SERVER_NAME is set.
    port = env_int("PORT", 5000, minimum=1, maximum=65535)
    base_url = urlsplit(env_str("BASE_URL", f"http://127.0.0.1:{port}"))
    secure_cookies = env_bool("SESSION_COOKIE_SECURE", not local)
    return {
        "SERVER_NAME": base_url.netloc,
        "PREFERRED_URL_SCHEME": base_url.scheme or "https",
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": env_str("DATABASE_URL", f"sqlite:///{instance / 'marketplace.db'}"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MEDIA_ROOT": env_str("MEDIA_ROOT", str(instance / "media")),
        # Images only some people may see (complaint photos), served by access-checked routes:
        # never under MEDIA_ROOT, which is public.
        "PRIVATE_MEDIA_ROOT": env_str("PRIVATE_MEDIA_ROOT", str(instance / "private-media")),
        "MAIL_DIR": env_str("MAIL_DIR", str(instance / "mail")),
        "MAIL_SERVER": env_optional("MAIL_SERVER"),
        "MAIL_PORT": env_int("MAIL_PORT", 587, minimum=1, maximum=65535),
        "MAIL_USERNAME": env_optional("MAIL_USERNAME"),
        "MAIL_PASSWORD": env_optional("MAIL_PASSWORD"),
        "MAIL_USE_TLS": env_bool("MAIL_USE_TLS", True),
        "MAIL_DEFAULT_SENDER": env_str("MAIL_DEFAULT_SENDER", "no-reply@localhost"),
        "PROVINCE_NAME": env_str("PROVINCE_NAME", "Hà Tĩnh"),
        "SITE_NAME": env_optional("SITE_NAME"),
        # Where to report a vulnerability (mailto: or https: URL), served as /.well-known/security.txt.
        "SECURITY_CONTACT": env_optional("SECURITY_CONTACT"),
        "ELASTICSEARCH_URL": env_optional("ELASTICSEARCH_URL"),
        "OPENSEARCH_URL": env_optional("OPENSEARCH_URL"),
        "STRIPE_SECRET_KEY": env_optional("STRIPE_SECRET_KEY"),
        "STRIPE_PUBLISHABLE_KEY": env_optional("STRIPE_PUBLISHABLE_KEY"),
        "STRIPE_WEBHOOK_SECRET": env_optional("STRIPE_WEBHOOK_SECRET"),
        "STRIPE_API_BASE": env_optional("STRIPE_API_BASE"),
        # Cookies: HttpOnly and SameSite always; Secure unless running locally over plain http.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=env_int("REMEMBER_COOKIE_DAYS", 30, minimum=1)),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ["vi", "en"],
        "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
        "MAX_IMAGE_BYTES": env_int("MAX_IMAGE_BYTES", 10 * 1024 * 1024, minimum=1),
        "MAX_IMAGE_PIXELS": env_int("MAX_IMAGE_PIXELS", 40_000_000, minimum=1),
        "MAX_IMAGE_SIDE": env_int("MAX_IMAGE_SIDE", 12_000, minimum=1),
        "PASSWORD_HASH_PARAMS": {},  # argon2-cffi defaults (RFC 9106 low-memory profile)
        "LOGIN_MAX_FAILURES": env_int("LOGIN_MAX_FAILURES", 5, minimum=1),
        "LOGIN_FAILURE_WINDOW_S": env_int("LOGIN_FAILURE_WINDOW_S", 900, minimum=1),
        "EMAIL_CONFIRM_MAX_AGE_H": env_int("EMAIL_CONFIRM_MAX_AGE_H", 48, minimum=1),
        "INVITATION_MAX_AGE_DAYS": env_int("INVITATION_MAX_AGE_DAYS", 7, minimum=1),
        # Behind N reverse proxies the client's address and scheme come from X-Forwarded-For/-Proto;
        # 0 (the default) trusts no such header. The rate limits key on that address.
        "TRUSTED_PROXY_COUNT": env_int("TRUSTED_PROXY_COUNT", 0, minimum=0),
        **_rate_limits(),
        **_operator_identity(),
        "WORKER_POLL_S": env_float("WORKER_POLL_S", 0.5, minimum=0.01),
        # Done outbox rows (a mail's recipient and text among them) are deleted this many days
        # after they were processed; 0 keeps them (marketplace/outbox.py purge).
        "OUTBOX_RETENTION_DAYS": env_int("OUTBOX_RETENTION_DAYS", 30, minimum=0),
        "PER_PAGE": 24,
    }
