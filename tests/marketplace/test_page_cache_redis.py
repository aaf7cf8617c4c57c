"""The page cache's shared store against a real redis-server (Debian's package), started here:
two app instances ("machines") share the rendered pages, and the versions in the database keep
both true."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from marketplace import create_app, outbox, pagecache
from marketplace.extensions import db
from tests.support import free_port, unavailable, wait_for_port


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server not found: apt-get install redis-server")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if not wait_for_port(port, 10):
            pytest.fail("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def app_overrides(redis_url) -> dict:
    return {"PAGE_CACHE_URL": redis_url, "PAGE_CACHE_REFRESH_S": 0, "PAGE_CACHE_SKEW_S": 0}


def test_the_redis_store_keeps_values_with_their_ttl(redis_url):
    store = pagecache.open_store(redis_url, prefix="test-store:")
    assert isinstance(store, pagecache.RedisStore)
    store.clear()
    store.set("vi|/", b"page", 60)
    assert store.get("vi|/") == b"page"
    assert 0 < store.client.ttl(store._key("vi|/")) <= 60
    store.clear()
    assert store.get("vi|/") is None


def test_an_unreachable_server_is_a_miss_not_an_error():
    store = pagecache.open_store(f"redis://127.0.0.1:{free_port()}/0")
    assert store is not None
    store.set("vi|/", b"page", 60)
    assert store.get("vi|/") is None


def test_two_machines_share_pages_and_both_see_a_change(app, factory, tmp_path):
    from catalog.services import hide_listing

    listing = factory.listing(title="Mật ong rừng Vũ Quang")
    outbox.drain()
    pagecache.reset(app)
    url = f"/san-pham/{listing.slug}"
    first = app.test_client().get(url)
    assert first.headers["X-Page-Cache"] == "miss"
    other = create_app({**app.config, "SERVER_NAME": "localhost"})  # a second machine, same database
    with other.app_context():
        served = other.test_client().get(url)
        assert served.headers["X-Page-Cache"] == "hit"
        assert served.get_data() == first.get_data()
        db.session.remove()
    hide_listing(listing, "Sai nguồn gốc", actor=factory.operator())
    db.session.commit()
    outbox.drain()
    db.session.expire_all()
    with other.app_context():
        assert other.test_client().get(url).status_code == 404
        db.session.remove()
        db.engine.dispose()  # the second machine's connections, closed here and now
    assert app.test_client().get(url).status_code == 404
