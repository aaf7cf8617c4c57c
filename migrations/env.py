"""Alembic environment for Flask-Migrate: the app's engine and metadata, no logging reset."""

import logging

from alembic import context
from flask import current_app

config = context.config
logger = logging.getLogger("alembic.env")
target_db = current_app.extensions["migrate"].db


def run_migrations_offline():
    url = target_db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, target_metadata=target_db.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        # Never write an empty migration when nothing changed.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    with target_db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration rebuilds a SQLite table (copy, DROP, rename). With foreign keys
            # enforced (the app turns them on for every connection) the DROP first deletes every
            # row, firing ON DELETE CASCADE on the tables that point at it (a rebuilt `users` would
            # empty `shop_members`) or failing on RESTRICT. The pragma is ignored inside a
            # transaction, so it is switched off here, and the references checked at the end.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:10]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
