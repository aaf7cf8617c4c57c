"""Flask extensions, created once and bound to the app in create_app()."""

from typing import TYPE_CHECKING, Any, ClassVar, cast

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import CursorResult, MetaData, Result
from sqlalchemy.orm import DeclarativeBase

# One naming convention so Alembic names constraints the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:
    from flask_sqlalchemy.query import Query

    class Model(Base):
        """What `db.Model` is at run time (Base plus Flask-SQLAlchemy's table name and query
        property), spelled as a class so that type checkers understand the models."""

        __abstract__ = True
        query: ClassVar[Query]
else:
    Model = db.Model


def rows_matched(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched: the verdict of a conditional UPDATE. (Its
    result is a CursorResult; Session.execute is typed as returning any Result.)"""
    return cast(CursorResult[Any], result).rowcount


migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
