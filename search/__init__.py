"""Search: one interface, two backends (Elasticsearch/OpenSearch, or embedded SQLite FTS5)."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from marketplace.api import add_openapi
from marketplace.outbox import register_handler
from marketplace.pagecache import cache_endpoint

from . import models  # noqa: F401 - registers the tables with the metadata
from .service import get_backend  # noqa: F401 - the one entry point other packages need


def init_app(app: Flask) -> None:
    """Register blueprints, API paths, outbox handlers and health checks of this package."""
    from . import indexer, service, views, vocabulary
    from .api import OPENAPI_PATHS, OPENAPI_SCHEMAS, api_bp
    from .cli import search_cli
    from .views import admin_bp, bp

    service.configure(app)
    vocabulary.configure(app)
    service.reset_state(app)
    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    add_openapi(app, OPENAPI_PATHS, OPENAPI_SCHEMAS)
    # These replace the shell's no-op placeholders (it only sets them when absent).
    register_handler(app, "listing.changed", indexer.on_listing_changed)
    register_handler(app, "shop.changed", indexer.on_shop_changed)
    register_handler(app, "category.changed", indexer.on_category_changed)
    register_handler(app, indexer.REBUILD_TOPIC, indexer.on_rebuild_requested)
    app.extensions.setdefault("health_checks", {})["search"] = service.health
    # The catalog's category pages are searches within the category (catalog.views.show_category).
    app.extensions["category_search"] = views.category_page
    app.extensions.setdefault("operator_links", []).append(
        (_l("Từ đồng nghĩa tìm kiếm"), "search_admin.synonyms")
    )
    app.cli.add_command(search_cli)
    # Results show any listing: the anonymous page cache keeps them under the `catalog` scope.
    for endpoint in ("search.results", "search_api.search", "search_api.suggest"):
        cache_endpoint(app, endpoint, ["catalog"])
