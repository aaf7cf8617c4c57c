"""Rate limits on costly or abusable endpoints (Flask-Limiter), all declared here by endpoint name.

Every limit's value is a setting (RATELIMIT_*, see config.py) read at request time, keyed per
client IP (an IPv6 /64 counts as one address) and, where there is one, per account: the e-mail
address typed into the form, or the signed-in user (the order look-up: per order code typed). Packages do not decorate their views: the
table below names their endpoints, so a renamed endpoint fails app creation instead of silently
losing its limit. A breach answers 429 with Retry-After (errors.py renders it).

The limiter is made per app (the extension keeps per-instance state, and tests build many apps).
Its store is RATELIMIT_STORAGE_URI: memory:// counts per process (fine for `make run`);
production with several workers or machines needs a shared store (redis://, memcached://)."""

from __future__ import annotations

import hashlib
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from flask import Flask, current_app, g, request
from flask_limiter import Limiter, RequestLimit, RouteLimit
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from .accounts.services import normalize_email

POST = ("POST",)
API_PREFIX = "/api/"
EXTENSION_KEY = "rate_limiter"


def client_ip() -> str:
    """The client's address (after ProxyFix when TRUSTED_PROXY_COUNT is set); a whole IPv6 /64
    is one client, as one subscriber usually gets one."""
    raw = request.remote_addr or ""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return f"ip:{raw or 'unknown'}"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return f"net:{ipaddress.ip_network(f'{address}/64', strict=False)}"
    return f"ip:{address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else address}"


def typed_email() -> str | None:
    """The address typed into the form (hashed: the store never sees it), or None."""
    email = normalize_email(request.form.get("email"))
    if not email:
        return None
    return "email:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def typed_order_code() -> str | None:
    """The order code typed into the look-up form (an order's "DH…-2" counts as its checkout's
    "DH…"; hashed like addresses), or None."""
    typed = "".join((request.form.get("code") or "").split()).upper().split("-")[0][:40]
    if not typed:
        return None
    return "order:" + hashlib.sha256(typed.encode()).hexdigest()[:32]


def signed_in_account() -> str | None:
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return None


@dataclass(frozen=True)
class Rule:
    setting: str  # the config key holding the limit string
    key: Callable[[], str | None]  # None: the rule does not apply to this request
    endpoints: tuple[str, ...] = ()
    path_prefix: str | None = None  # every endpoint whose URL starts so, instead of `endpoints`
    methods: tuple[str, ...] | None = None
    shared: str | None = None  # one counter across the endpoints, under this name


SEARCH = ("search.results", "search_api.search", "govqa.index")

RULES: tuple[Rule, ...] = (
    # Sign-in per account is the database lock (LOGIN_MAX_FAILURES, accounts/throttle.py), which
    # a password reset lifts; a second, store-held lock would not be.
    Rule("RATELIMIT_SIGN_IN", client_ip, ("accounts.sign_in",), methods=POST),
    Rule("RATELIMIT_SIGN_UP", client_ip, ("accounts.sign_up",), methods=POST),
    Rule("RATELIMIT_SIGN_UP_ACCOUNT", typed_email, ("accounts.sign_up",), methods=POST),
    Rule("RATELIMIT_PASSWORD_RESET", client_ip, ("accounts.forgot_password",), methods=POST),
    Rule("RATELIMIT_PASSWORD_RESET_ACCOUNT", typed_email, ("accounts.forgot_password",), methods=POST),
    Rule("RATELIMIT_CONFIRMATION_RESEND", client_ip, ("accounts.resend_confirmation",)),
    Rule("RATELIMIT_CONFIRMATION_RESEND_ACCOUNT", signed_in_account, ("accounts.resend_confirmation",)),
    Rule(
        "RATELIMIT_ACCOUNT_CHANGES",
        signed_in_account,
        ("accounts.change_password", "accounts.sign_out_everywhere"),
        shared="account-changes",
    ),
    # Guessing the phone number of a known order code, or trying codes with a known number.
    Rule("RATELIMIT_ORDER_LOOKUP", client_ip, ("orders.lookup_order",), methods=POST),
    Rule("RATELIMIT_ORDER_LOOKUP_CODE", typed_order_code, ("orders.lookup_order",), methods=POST),
    # Erasing the account checks the password: the same budget as a password change.
    Rule(
        "RATELIMIT_ACCOUNT_CHANGES",
        signed_in_account,
        ("legal.delete_account",),
        methods=POST,
        shared="account-changes",
    ),
    # Questions to the state agencies: each one is moderated by hand.
    Rule("RATELIMIT_QA_ASK", signed_in_account, ("govqa.ask",), methods=POST),
    Rule("RATELIMIT_SEARCH", client_ip, SEARCH, shared="search"),
    Rule("RATELIMIT_SEARCH_ACCOUNT", signed_in_account, SEARCH, shared="search-account"),
    Rule("RATELIMIT_SUGGEST", client_ip, ("search_api.suggest",)),
    Rule("RATELIMIT_SUGGEST_ACCOUNT", signed_in_account, ("search_api.suggest",)),
    Rule("RATELIMIT_API", client_ip, path_prefix=API_PREFIX, shared="api"),
    Rule("RATELIMIT_API_ACCOUNT", signed_in_account, path_prefix=API_PREFIX, shared="api-account"),
)


def _remember_retry_after(limit: RequestLimit) -> None:
    """Flask-Limiter's breach callback: errors.py turns this into the Retry-After header."""
    g.retry_after = max(1, int(limit.reset_at - time.time()) + 1)


def _endpoints(app: Flask, rule: Rule) -> list[str]:
    if rule.path_prefix is not None:
        return sorted({r.endpoint for r in app.url_map.iter_rules() if r.rule.startswith(rule.path_prefix)})
    missing = [name for name in rule.endpoints if name not in app.view_functions]
    if missing:
        raise RuntimeError(f"rate limit {rule.setting} names unknown endpoints: {', '.join(missing)}")
    return list(rule.endpoints)


def _limit_for(limiter: Limiter, rule: Rule) -> RouteLimit:
    key, setting = rule.key, rule.setting
    methods = list(rule.methods) if rule.methods else None

    def value() -> str:
        return current_app.config[setting]  # read per request: a test or an operator may change it

    def key_func() -> str:
        return key() or ""

    def exempt() -> bool:
        return key() is None

    if rule.shared:
        return limiter.shared_limit(
            value,
            scope=rule.shared,
            key_func=key_func,
            exempt_when=exempt,
            methods=methods,
            on_breach=_remember_retry_after,
        )
    return limiter.limit(
        value, key_func=key_func, exempt_when=exempt, methods=methods, on_breach=_remember_retry_after
    )


def init_app(app: Flask) -> Limiter:
    proxies = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    limiter = Limiter(key_func=client_ip)
    limiter.init_app(app)
    app.extensions[EXTENSION_KEY] = limiter
    for rule in RULES:
        limit = _limit_for(limiter, rule)
        for endpoint in _endpoints(app, rule):
            # The wrapper checks the limit, then calls the view (same name and signature).
            app.view_functions[endpoint] = cast(Any, limit(app.view_functions[endpoint]))
    return limiter


def get_limiter() -> Limiter:
    return current_app.extensions[EXTENSION_KEY]
