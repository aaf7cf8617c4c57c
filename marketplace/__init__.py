"""The application shell: create_app() reads like a table of contents."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from .config import env_str, load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=env_str("INSTANCE_PATH", str(ROOT / "instance")),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_config(app.instance_path))
    app.config.update(overrides or {})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    register_extensions(app)
    register_url_rules(app)
    register_blueprints(app)
    register_limits(app)
    register_errorhandlers(app)
    register_commands(app)
    register_outbox_handlers(app)
    register_page_cache(app)
    return app


def register_extensions(app: Flask) -> None:
    from PIL import Image
    from sqlalchemy import event

    from .extensions import babel, csrf, db, login_manager, migrate
    from .i18n import register_filters, select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories=str(ROOT / "translations")
    )
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = None
    login_manager.session_protection = "basic"  # "strong" logs phones out on every network change
    register_filters(app)
    from . import audit, security_headers

    audit.init_app(app)  # staff actions recorded in the flush that makes them

    security_headers.init_app(app)
    # Pillow's own bomb guard at the configured limit (our check runs first with a clear message).
    Image.MAX_IMAGE_PIXELS = app.config["MAX_IMAGE_PIXELS"]

    # The session and the remember cookie hold "<id>:<session token>" (User.get_auth_id), so a
    # new token ends them all; the loader refuses stale ones.
    login_manager.id_attribute = "get_auth_id"

    @login_manager.user_loader
    def load_user(auth_id: str):
        from .accounts.services import load_user as load

        return load(auth_id)

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():

            @event.listens_for(db.engine, "connect")
            def _sqlite_pragmas(dbapi_connection, _record):
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA busy_timeout=10000")
                # WAL lets the web server read while the worker writes.
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.close()


def register_url_rules(app: Flask) -> None:
    """What a URL may carry, before any route is added. `<int:…>` everywhere is bounded to the
    database's integer range (a larger id is a 404, not an OverflowError) without touching a
    route. A NUL character, which PostgreSQL text cannot hold, never reaches a query: in the path
    it is a 404, in the query string a 400."""
    from flask import abort, request

    from .numbers import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter

    @app.before_request
    def _refuse_nul() -> None:
        if "\x00" in request.path:
            abort(404)
        if any("\x00" in key or any("\x00" in v for v in values) for key, values in request.args.lists()):
            abort(400)


def register_blueprints(app: Flask) -> None:
    import catalog
    import dashboards
    import govqa
    import logistics
    import orders
    import search
    import sellers
    import syndication

    from . import accounts, api, legal, shell

    app.register_blueprint(shell.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(api.bp)
    legal.init_app(app)  # legal pages, consent, personal data (before the packages add their data)
    # Each domain package registers its blueprints, API paths and hooks, in dependency order.
    sellers.init_app(app)
    catalog.init_app(app)
    search.init_app(app)
    orders.init_app(app)
    logistics.init_app(app)  # after orders: joins its flow through orders.hooks
    syndication.init_app(app)
    govqa.init_app(app)
    dashboards.init_app(app)  # last of the packages: reads all of them, none reads it
    shell.register_template_globals(app)


def register_limits(app: Flask) -> None:
    from .limits import init_app

    init_app(app)  # after the blueprints: limits name their endpoints


def register_errorhandlers(app: Flask) -> None:
    from .errors import register_errorhandlers as register

    register(app)


def register_commands(app: Flask) -> None:
    import catalog.cli
    import demo

    from . import cli

    app.cli.add_command(cli.users_cli)
    app.cli.add_command(cli.worker_command)
    app.cli.add_command(cli.outbox_cli)
    app.cli.add_command(cli.communes_cli)
    app.cli.add_command(catalog.cli.catalog_cli)
    app.cli.add_command(demo.demo_cli)


def register_page_cache(app: Flask) -> None:
    from . import pagecache

    pagecache.init_app(app)  # last: chains behind every package's outbox handlers and hooks


def register_outbox_handlers(app: Flask) -> None:
    from . import mail
    from .outbox import register_handler, register_purged

    register_handler(app, mail.TOPIC, mail.send_mail_handler)
    register_handler(app, mail.FORGET_TOPIC, mail.forget_mail_handler)
    register_purged(app, mail.TOPIC, mail.remove_mail_files)
