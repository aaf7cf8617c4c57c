"""Syndication: carry the province's listings onto the national platforms (Shopee, Lazada, Tiki)
and into the pull feeds (Google Merchant Center, CSV/JSON), with one stock across channels.
Wired in by init_app(); catalog and orders never import this package."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import models  # noqa: F401 - registers the tables with the metadata
    from .feed_views import bp as feeds_bp

    app.register_blueprint(feeds_bp)
