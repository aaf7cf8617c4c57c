"""Search fixtures: real engine nodes (never a mock), a backend switch, and a small catalogue.

`opensearch_url` and `elasticsearch_url` use OPENSEARCH_TEST_URL / ELASTICSEARCH_TEST_URL (set by
`make test`) or start a node themselves for the session through tools/search_node.py. When that
fails, every test that needs the engine FAILS under CI=true and is skipped with the reason
otherwise. Those tests carry the `engine` marker (given here at collection): `-m "not engine"`
runs the rest without any node."""

from __future__ import annotations

import json
import os
import urllib.request

import pytest
from search_testlib import (
    Catalogue,
    drain,
    drop_indices,
    search_node,
    seed_default_synonyms,
    use_backend,
)

from tests.support import unavailable

ENGINES = ("opensearch", "elasticsearch")
BACKENDS = ("embedded", *ENGINES)
ENGINE_URL_FIXTURES = {f"{kind}_url" for kind in ENGINES}


def pytest_collection_modifyitems(config, items):
    """Mark every test that needs an engine node: it asks for a node's URL, or takes an engine
    as the value of the `backend` or `engine_backend` fixture."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        if (
            ENGINE_URL_FIXTURES & set(getattr(item, "fixturenames", ()))
            or params.get("backend") in ENGINES
            or params.get("engine_backend") in ENGINES
        ):
            item.add_marker(pytest.mark.engine)


@pytest.fixture(autouse=True)
def _embedded_index_in_tmp(app, tmp_path):
    """The embedded index in this test's folder, on SQLite and PostgreSQL runs alike."""
    from search.service import reset_state

    app.config["SEARCH_EMBEDDED_PATH"] = str(tmp_path / "search.sqlite")
    state = reset_state(app)
    seed_default_synonyms()
    yield
    state.embedded.close()


def _node_url(kind: str, tmp_path_factory):
    """The URL of a node of this engine for the session: given, or started here."""
    url = os.environ.get(f"{kind.upper()}_TEST_URL")
    if url:
        yield url.rstrip("/")
        return
    try:
        node = search_node()
        url, proc = node.start_node(kind, tmp_path_factory.mktemp(f"{kind}-node"))
    except Exception as exc:  # noqa: BLE001 - reported as the skip/fail reason
        unavailable(
            f"no {kind} node (set {kind.upper()}_TEST_URL, or make tools/search_node.py able to start one): {exc}"
        )
    try:
        yield url
    finally:
        node.stop_node(proc)


@pytest.fixture(scope="session")
def opensearch_url(tmp_path_factory):
    yield from _node_url("opensearch", tmp_path_factory)


@pytest.fixture(scope="session")
def elasticsearch_url(tmp_path_factory):
    for url in _node_url("elasticsearch", tmp_path_factory):
        # Node info rather than GET /, which the test node lacks (the rest-root module is unpublished).
        with urllib.request.urlopen(
            url + "/_nodes/_local?filter_path=nodes.*.version", timeout=10
        ) as response:
            version = next(iter(json.loads(response.read())["nodes"].values()))["version"]
        assert int(version.split(".")[0]) >= 8, (
            f"Elasticsearch {version} at {url}: elasticsearch-py 9 needs 8 or newer"
        )
        yield url


@pytest.fixture(params=BACKENDS)
def backend(request, app):
    """The same assertions on every backend: embedded, OpenSearch, Elasticsearch (when available)."""
    kind = request.param
    url = request.getfixturevalue(f"{kind}_url") if kind != "embedded" else None
    state = use_backend(app, kind, url)
    yield kind
    drop_indices(state)


@pytest.fixture(params=ENGINES)
def engine_backend(request, app):
    """Each engine only (engine-only behaviour such as typo tolerance; embedded beside it)."""
    kind = request.param
    state = use_backend(app, kind, request.getfixturevalue(f"{kind}_url"))
    yield kind
    drop_indices(state)


@pytest.fixture
def catalogue(factory, backend):
    data = Catalogue(factory)
    drain()
    return data


@pytest.fixture
def search_api(client):
    def run(**params):
        response = client.get("/api/v1/search", query_string=params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json

    return run
