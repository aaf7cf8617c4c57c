"""One configuration loader (marketplace/config.py): typed readers, the README's defaults, and a
clear error naming the variable when a value cannot be taken."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from marketplace import create_app
from marketplace.config import (
    ConfigError,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_optional,
    env_str,
    load_config,
)
from tests.conftest import _config

ROOT = Path(__file__).resolve().parents[2]

# Every variable the README's configuration tables name, with the default they document.
README_DEFAULTS = {
    "PROVINCE_NAME": "Hà Tĩnh",
    "MAIL_PORT": 587,
    "MAIL_USE_TLS": True,
    "REMEMBER_COOKIE_DURATION": timedelta(days=30),
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_FAILURE_WINDOW_S": 900,
    "EMAIL_CONFIRM_MAX_AGE_H": 48,
    "INVITATION_MAX_AGE_DAYS": 7,
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_STRATEGY": "fixed-window",
    "RATELIMIT_KEY_PREFIX": "marketplace",
    "RATELIMIT_SIGN_UP": "5 per minute; 20 per hour",
    "RATELIMIT_SIGN_UP_ACCOUNT": "3 per hour; 10 per day",
    "RATELIMIT_ACCOUNT_CHANGES": "10 per hour",
    "RATELIMIT_SEARCH": "120 per minute; 2000 per hour",
    "RATELIMIT_SUGGEST": "300 per minute",
    "RATELIMIT_API": "300 per minute; 10000 per hour",
    "TRUSTED_PROXY_COUNT": 0,
    "MAX_IMAGE_BYTES": 10 * 1024 * 1024,
    "MAX_IMAGE_PIXELS": 40_000_000,
    "MAX_IMAGE_SIDE": 12_000,
    "ELASTICSEARCH_URL": None,
    "OPENSEARCH_URL": None,
    "STRIPE_SECRET_KEY": None,
    "MAIL_SERVER": None,
}
PACKAGE_DEFAULTS = {
    "ORDER_PAYMENT_TIMEOUT_MIN": 30,
    "ORDER_TRANSFER_TIMEOUT_MIN": 1440,
    "ORDER_COMPLETE_AFTER_DAYS": 7,
    "ORDER_LINK_MAX_AGE_DAYS": 180,
    "DEFAULT_ITEM_WEIGHT_GRAMS": 500,
    "BANK_BIN": "970415",
    "BANK_ACCOUNT": "113366668888",
    "BANK_ACCOUNT_NAME": "SAN TMDT HA TINH (DEMO)",
    "BANK_NAME": "VietinBank",
    "STRIPE_JS_URL": None,
    "SEARCH_INDEX_PREFIX": "marketplace-",
    "SEARCH_ENGINE_REPLICAS": 0,
    "SEARCH_ENGINE_SHARDS": 1,
    "SEARCH_ENGINE_TIMEOUT": 2.0,
    "SEARCH_ENGINE_REQUEST_CACHE": True,
    "SEARCH_HEALTH_TTL": 5.0,
    "SEARCH_RETRY_SECONDS": 5.0,
    "SEARCH_EMBEDDED_BM25_LIMIT": 5000,
}
ENV_NAMES = {"REMEMBER_COOKIE_DURATION": "REMEMBER_COOKIE_DAYS"}


@pytest.fixture
def clean_env(monkeypatch):
    """None of the variables under test set, whatever the machine running the suite has."""
    for name in [*README_DEFAULTS, *PACKAGE_DEFAULTS, "PORT", "BASE_URL", "MARKETPLACE_ENV"]:
        monkeypatch.delenv(ENV_NAMES.get(name, name), raising=False)
    return monkeypatch


def _app(tmp_path):
    overrides = _config(f"sqlite:///{tmp_path / 'config.db'}", tmp_path)
    # What this module checks must come from the environment, not from the test overrides.
    for name in ("ELASTICSEARCH_URL", "OPENSEARCH_URL", "MAIL_SERVER"):
        overrides.pop(name)
    return create_app(overrides)


def test_the_defaults_are_the_ones_the_readme_documents(tmp_path, clean_env):
    config = load_config(str(tmp_path))
    assert {name: config[name] for name in README_DEFAULTS} == README_DEFAULTS
    assert config["SERVER_NAME"] == "127.0.0.1:5000"  # BASE_URL's default: http://127.0.0.1:$PORT
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'marketplace.db'}"
    assert config["MEDIA_ROOT"] == str(tmp_path / "media")
    app = _app(tmp_path)
    assert {name: app.config[name] for name in PACKAGE_DEFAULTS} == PACKAGE_DEFAULTS


def test_every_setting_is_read_from_its_variable(tmp_path, clean_env):
    clean_env.setenv("PORT", "8000")
    clean_env.setenv("MAIL_PORT", "2525")
    clean_env.setenv("MAIL_USE_TLS", "off")
    clean_env.setenv("REMEMBER_COOKIE_DAYS", "3")
    clean_env.setenv("RATELIMIT_ENABLED", "FALSE")
    config = load_config(str(tmp_path))
    assert config["SERVER_NAME"] == "127.0.0.1:8000"
    assert config["MAIL_PORT"] == 2525 and config["MAIL_USE_TLS"] is False
    assert config["REMEMBER_COOKIE_DURATION"] == timedelta(days=3)
    assert config["RATELIMIT_ENABLED"] is False

    # Packages declare their own settings through the same readers.
    clean_env.setenv("ORDER_PAYMENT_TIMEOUT_MIN", "45")
    clean_env.setenv("BANK_NAME", "Agribank")
    clean_env.setenv("SEARCH_ENGINE_TIMEOUT", "0.5")
    clean_env.setenv("SEARCH_ENGINE_REQUEST_CACHE", "0")
    app = _app(tmp_path)
    assert app.config["ORDER_PAYMENT_TIMEOUT_MIN"] == 45
    assert app.config["BANK_NAME"] == "Agribank"
    assert app.config["SEARCH_ENGINE_TIMEOUT"] == 0.5
    assert app.config["SEARCH_ENGINE_REQUEST_CACHE"] is False


def test_an_empty_variable_means_its_default(tmp_path, clean_env):
    for name in ("PORT", "MAIL_PORT", "MAIL_USE_TLS", "PROVINCE_NAME", "ORDER_PAYMENT_TIMEOUT_MIN"):
        clean_env.setenv(name, "")
    config = load_config(str(tmp_path))
    assert config["SERVER_NAME"] == "127.0.0.1:5000"
    assert config["MAIL_PORT"] == 587 and config["MAIL_USE_TLS"] is True
    assert config["PROVINCE_NAME"] == "Hà Tĩnh"
    assert _app(tmp_path).config["ORDER_PAYMENT_TIMEOUT_MIN"] == 30


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("PORT", "abc", "not a whole number"),
        ("PORT", "80.5", "not a whole number"),
        ("PORT", "70000", "at most 65535"),
        ("MAIL_PORT", "0", "at least 1"),
        ("LOGIN_MAX_FAILURES", "five", "not a whole number"),
        ("MAIL_USE_TLS", "maybe", "not one of"),
        ("SESSION_COOKIE_SECURE", "yes please", "not one of"),
        ("WORKER_POLL_S", "fast", "not a number"),
        ("WORKER_POLL_S", "nan", "not a finite number"),
        ("TRUSTED_PROXY_COUNT", "-1", "at least 0"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_variable(tmp_path, clean_env, name, value, problem):
    clean_env.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_config(str(tmp_path))
    assert caught.value.name == name
    assert str(caught.value).startswith(f"{name}={value!r}: ") and problem in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ORDER_PAYMENT_TIMEOUT_MIN", "half an hour"),
        ("ORDER_LINK_MAX_AGE_DAYS", "0"),
        ("SEARCH_ENGINE_REQUEST_CACHE", "sometimes"),
        ("SEARCH_ENGINE_SHARDS", "1.5"),
    ],
)
def test_a_package_setting_with_a_bad_value_stops_the_app(tmp_path, clean_env, name, value):
    clean_env.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        _app(tmp_path)


def test_the_readers():
    env = {"S": "x y", "I": " 42 ", "F": "2.5", "B": "Yes", "L": "a, b,,c ", "E": ""}
    assert env_str("S", "d", environ=env) == "x y" and env_str("E", "d", environ=env) == "d"
    assert env_optional("E", environ=env) is None and env_optional("S", environ=env) == "x y"
    assert env_int("I", 0, environ=env) == 42 and env_int("MISSING", 7, environ=env) == 7
    assert env_float("F", 0.0, environ=env) == 2.5
    assert env_bool("B", False, environ=env) is True and env_bool("E", True, environ=env) is True
    assert env_list("L", [], environ=env) == ["a", "b", "c"]
    assert env_list("MISSING", ("vi", "en"), environ=env) == ["vi", "en"]
    with pytest.raises(ConfigError, match=r"^I='4e3': not a whole number$"):
        env_int("I", 0, environ={"I": "4e3"})
    with pytest.raises(ConfigError, match="at most 10"):
        env_float("F", 0.0, maximum=10, environ={"F": "11"})


def test_the_wsgi_entry_point_and_make_run_say_which_variable_is_wrong(tmp_path):
    """`PORT=abc make run`: one line naming the variable, not a traceback."""
    env = {"PATH": "/usr/bin:/bin", "PORT": "abc", "INSTANCE_PATH": str(tmp_path)}
    flask = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert flask.returncode == 1
    assert flask.stderr.strip() == "configuration error: PORT='abc': not a whole number"
    launcher = subprocess.run(
        [sys.executable, "tools/run_local.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert launcher.returncode == 2
    assert "PORT='abc': not a whole number" in launcher.stderr
