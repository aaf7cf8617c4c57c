"""`flask catalog …` commands."""
from flask.cli import AppGroup

catalog_cli = AppGroup("catalog", help="Catalog tools.")
