"""Fixtures that read like the story: an app, a client, users, shops and listings.

The database is SQLite in a temporary folder unless TEST_DATABASE_URL points at PostgreSQL
(`make test` runs the suite once on each). The schema is built by the Alembic migrations, the
same way production builds it."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from pathlib import Path

import pytest
from flask_migrate import upgrade
from hypothesis import settings
from sqlalchemy import text

from marketplace import create_app
from marketplace.extensions import db
from tests.support import read_mails

# Property tests (Hypothesis, and schemathesis built on it): the same examples on every run and
# machine, no example database written into the tree, a modest number of examples so the suite
# stays fast. HYPOTHESIS_PROFILE=thorough explores more when someone wants to look harder.
settings.register_profile("suite", derandomize=True, database=None, max_examples=60, deadline=None)
settings.register_profile("thorough", database=None, max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


def _uses_the_database(item: pytest.Item) -> bool:
    """Whether a test reaches the database under test: through the app (any fixture named
    `app` or `…_app`, which all build one on TEST_DATABASE_URL) or the migrated database itself."""
    names = getattr(item, "fixturenames", ())
    return any(name == "migrated_database" or "app" in name.split("_") for name in names)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """TEST_DATABASE_ONLY=1 (set by tools/run_tests.py for the PostgreSQL pass when the SQLite
    pass runs the whole suite): leave out the tests that never touch a database — parsers, text,
    charts, pure functions — which the SQLite pass has already run; a second run on another
    database would test nothing new. They are reported as deselected, never as passed."""
    if os.environ.get("TEST_DATABASE_ONLY") != "1":
        return
    keep = [item for item in items if _uses_the_database(item)]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if not _uses_the_database(item)])
        items[:] = keep


@pytest.fixture(autouse=True)
def _no_network(monkeypatch, request):
    """Fail any test that opens a connection beyond loopback (indico's disallow habit)."""
    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith(("127.", "/")) or host in ("localhost", "::1")):
            raise RuntimeError(f"test tried to reach {address!r}: only loopback is allowed")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _config(url: str, tmp_path: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "private-media"),
        "MAIL_DIR": str(tmp_path / "mail"),
        "MAIL_SERVER": None,
        "SEARCH_EMBEDDED_PATH": str(tmp_path / "search.sqlite"),
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "SERVER_NAME": "localhost",
        "PREFERRED_URL_SCHEME": "http",
        "ELASTICSEARCH_URL": None,
        "OPENSEARCH_URL": None,
        # Argon2 at production cost is ~0.3 s a hash: far too slow for hundreds of test users.
        "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        # Hundreds of requests from one test client would trip them; the limit tests turn them on
        # (tests/marketplace/test_limits.py, through the app_overrides fixture).
        "RATELIMIT_ENABLED": False,
    }


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """Run the migrations once per session: a template SQLite file copied for each test, or the
    PostgreSQL schema that each test then empties (TRUNCATE is far faster than migrating)."""
    base = os.environ.get("TEST_DATABASE_URL")
    folder = tmp_path_factory.mktemp("template")
    url = base or f"sqlite:///{folder / 'template.db'}"
    if url.startswith("postgresql"):
        _reset_postgres(url)
    template_app = create_app(_config(url, folder))
    with template_app.app_context():
        upgrade()
        db.engine.dispose()
    return url, (None if base else folder / "template.db")


def _empty_postgres_tables() -> None:
    tables = [t.name for t in db.metadata.sorted_tables]
    if tables:
        db.session.execute(
            text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        )
        db.session.commit()


@pytest.fixture
def app_overrides() -> dict:
    """Settings a test module needs at app creation (override this fixture in the module)."""
    return {}


@pytest.fixture
def app(tmp_path, migrated_database, app_overrides):
    url, template = migrated_database
    if template is not None:
        shutil.copyfile(template, tmp_path / "test.db")
        url = f"sqlite:///{tmp_path / 'test.db'}"
    app = create_app({**_config(url, tmp_path), **app_overrides})

    @app.teardown_request
    def _forget_request_user(_exc):
        # Tests keep one app context open around requests, so flask.g outlives a request here,
        # unlike in a server: forget the signed-in user like a new request would.
        from flask import g
        from flask_babel import refresh

        g.pop("_login_user", None)
        refresh()  # Flask-Babel caches the locale on the app context too

    with app.app_context():
        if template is None:
            _empty_postgres_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def csrf_off(app):
    """For tests about behaviour, not about CSRF (which has its own tests)."""
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


class Factory:
    """Builds users, communes, categories, shops and listings through the real services."""

    def __init__(self, app):
        self.app = app

    def user(self, role="buyer", email=None, password="cam-bu-ht9", name="Nguyễn Văn A", confirmed=True):
        """An account whose e-mail address is confirmed, unless asked otherwise."""
        from marketplace.accounts.services import create_user

        user = create_user(
            email=email or f"{uuid.uuid4().hex[:8]}@example.vn",
            password=password,
            full_name=name,
            role=role,
            confirmed=confirmed,
        )
        db.session.commit()
        return user

    def unconfirmed_user(self, **kw):
        """An account that has not opened its confirmation link yet."""
        return self.user(confirmed=False, **kw)

    def operator(self, **kw):
        return self.user(role="operator", **kw)

    def commune(self, name="Xã Sơn Kim 1", province="Hà Tĩnh"):
        from marketplace.models import Commune

        commune = db.session.query(Commune).filter_by(name=name, province=province).one_or_none()
        if commune is None:
            commune = Commune(name=name, province=province, kind="xa")
            db.session.add(commune)
            db.session.commit()
        return commune

    def category(self, name="Trái cây", parent=None):
        from catalog.models import Category
        from marketplace.slugs import unique_slug

        category = Category(
            name=name, slug=unique_slug(Category, name), parent_id=parent.id if parent else None
        )
        db.session.add(category)
        db.session.commit()
        return category

    def shop(self, owner=None, name=None, approved=True, kind="household", **fields):
        """A shop registered through the service (`fields`: more of its form, e.g. slug)."""
        from sellers.services import approve_shop, register_shop

        owner = owner or self.user(role="producer")
        shop = register_shop(
            {
                "name": name or f"Cửa hàng {uuid.uuid4().hex[:5]}",
                "kind": kind,
                "phone": "0912345678",
                "address_line": "Thôn 1",
                "commune_id": self.commune().id,
                "registration_number": None,
                "tax_code": None if kind == "household" else "3001234567",
                **fields,
            },
            actor=owner,
        )
        if approved:
            approve_shop(shop, actor=self.operator())
        db.session.commit()
        return shop

    def listing(
        self,
        shop=None,
        title="Cam bù Hương Sơn",
        price=45000,
        stock=10,
        status="active",
        category=None,
        images=None,
        **extra,
    ):
        from catalog.services import create_listing
        from sellers.models import ShopMember

        shop = shop or self.shop()
        owner = db.session.query(ShopMember).filter_by(shop_id=shop.id, role="owner").first().user
        data = {
            "title": title,
            "category": category or self.category(),
            "unit": "kg",
            "price_vnd": price,
            "stock": stock,
            "status": status,
            **extra,
        }
        listing = create_listing(shop, data, actor=owner, images=images)
        db.session.commit()
        return listing

    def check_ocop(self, *listings, operator=None):
        """The operator checks the listings' OCOP certificates in the register, through the real
        service: a rating shows as a badge only then. Returns the listings."""
        from catalog.ocop import check_certificate

        operator = operator or self.operator()
        for listing in listings:
            certificate = listing.ocop_certificate
            assert certificate is not None, f"{listing!r} has no OCOP rating to check"
            if certificate.status != "checked":
                check_certificate(certificate, actor=operator)
        db.session.commit()
        return listings[0] if len(listings) == 1 else listings


@pytest.fixture
def factory(app):
    return Factory(app)


@pytest.fixture
def mailbox(app):
    """Drains the outbox, then returns every mail written so far (oldest first)."""

    def read() -> list[dict]:
        from marketplace import outbox

        outbox.drain()
        return read_mails(app)

    return read
