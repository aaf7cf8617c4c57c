"""Syndication: carry the province's listings onto the national platforms (Shopee, Lazada, Tiki)
and into the pull feeds (Google Merchant Center, CSV/JSON), with one stock across channels.
Wired in by init_app(); catalog, sellers and orders never import this package (hooks.py)."""

from __future__ import annotations

from flask import Flask

from marketplace.config import env_int, env_optional, env_str, set_defaults

BASE_URLS = {
    "shopee": "https://partner.shopeemobile.com",
    "lazada": "https://api.lazada.vn/rest",
    "tiki": "https://api.tiki.vn",
}


def _configure(app: Flask) -> None:
    settings: dict[str, object] = {
        # How often the worker pulls the platforms' orders (their stock is taken on the floor).
        "SYNDICATION_PULL_INTERVAL_S": env_int("SYNDICATION_PULL_INTERVAL_S", 300, minimum=30),
        # The nightly reconcile runs once a day from this hour (floor time).
        "SYNDICATION_RECONCILE_HOUR": env_int("SYNDICATION_RECONCILE_HOUR", 2, minimum=0, maximum=23),
    }
    for platform, base_url in BASE_URLS.items():
        key = platform.upper()
        # The floor's app on the platform (Shopee partner id/key, Lazada app key/secret, Tiki
        # client id/secret); unset: the platform cannot be connected yet.
        settings[f"SYNDICATION_{key}_APP_ID"] = env_optional(f"SYNDICATION_{key}_APP_ID")
        settings[f"SYNDICATION_{key}_SECRET"] = env_optional(f"SYNDICATION_{key}_SECRET")
        settings[f"SYNDICATION_{key}_BASE_URL"] = env_str(f"SYNDICATION_{key}_BASE_URL", base_url)
    set_defaults(app, settings)


def _lazy(module: str, name: str):
    """A handler loaded at its first event: the engine (and the platform adapters it uses) is not
    imported by create_app()."""

    def handler(payload, event):
        import importlib

        return getattr(importlib.import_module(f"syndication.{module}"), name)(payload, event)

    handler.__name__ = name
    return handler


def init_app(app: Flask) -> None:
    from marketplace.outbox import register_handler, register_periodic

    from . import hooks, models, topics  # noqa: F401 - models: the tables join the metadata
    from .cli import syndication_cli
    from .feed_views import bp as feeds_bp

    _configure(app)
    app.extensions[hooks.EXTENSION_KEY] = True
    hooks.install()
    app.register_blueprint(feeds_bp)
    register_handler(app, topics.LISTING, _lazy("engine", "on_listing"))
    register_handler(app, topics.SHOP, _lazy("engine", "on_shop"))
    register_handler(app, topics.PUSH, _lazy("engine", "on_push"))
    register_handler(app, topics.PULL, _lazy("remote_orders", "on_pull"))
    register_handler(app, topics.RECONCILE, hooks.on_reconcile)
    register_periodic(app, "syndication.pulls", 60, hooks.schedule_pulls)
    register_periodic(app, "syndication.reconcile", 600, hooks.schedule_reconcile)
    app.cli.add_command(syndication_cli)
