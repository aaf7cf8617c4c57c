"""search package: wired into the app by init_app()."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register blueprints, API paths, outbox handlers and health checks of this package."""
