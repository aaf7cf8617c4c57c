"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""

from marketplace import create_app
from marketplace.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # a bad environment variable: say which, without a traceback
    raise SystemExit(f"configuration error: {exc}") from None
