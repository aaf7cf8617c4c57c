"""The demo province: communes, categories, shops, listings and accounts for `make run`."""
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Demo data.")
