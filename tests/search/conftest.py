"""Search fixtures: real engine nodes (never a mock), a backend switch, and a small catalogue.

`opensearch_url` uses OPENSEARCH_TEST_URL (set by `make test`) or starts a node itself through
tools/search_node.py for the session. Without either: the test FAILS under CI=true and is
skipped with the reason otherwise. The Elasticsearch variants run only when ELASTICSEARCH_TEST_URL
points at Elasticsearch 8 or newer (the official client, elasticsearch-py 9, refuses older servers)."""

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
    unavailable,
    use_backend,
)


@pytest.fixture(autouse=True)
def _embedded_index_in_tmp(app, tmp_path):
    """The embedded index in this test's folder, on SQLite and PostgreSQL runs alike."""
    from search.service import reset_state

    app.config["SEARCH_EMBEDDED_PATH"] = str(tmp_path / "search.sqlite")
    state = reset_state(app)
    seed_default_synonyms()
    yield
    state.embedded.close()


@pytest.fixture(scope="session")
def opensearch_url(tmp_path_factory):
    url = os.environ.get("OPENSEARCH_TEST_URL")
    if url:
        yield url.rstrip("/")
        return
    try:
        node = search_node()
        url, proc = node.start_node("opensearch", tmp_path_factory.mktemp("opensearch-node"))
    except Exception as exc:  # noqa: BLE001 - reported as the skip/fail reason
        unavailable(f"no OpenSearch node (set OPENSEARCH_TEST_URL or make tools/search_node.py work): {exc}")
    yield url
    node.stop_node(proc)


engine_url = opensearch_url  # the name the brief uses


ELASTICSEARCH_TEST_URL = (os.environ.get("ELASTICSEARCH_TEST_URL") or "").rstrip("/")
# Elasticsearch variants exist only when a node is given: tools/search_node.py can build only
# 7.10.2 from Maven Central, which elasticsearch-py 9 refuses (no X-Elastic-Product header), and
# a skipped variant must not pass for a tested one.
BACKENDS = ["embedded", "opensearch"] + (["elasticsearch"] if ELASTICSEARCH_TEST_URL else [])


@pytest.fixture(scope="session")
def elasticsearch_url():
    # Node info rather than GET /, which the test node lacks (the rest-root module is unpublished).
    with urllib.request.urlopen(
        ELASTICSEARCH_TEST_URL + "/_nodes/_local?filter_path=nodes.*.version", timeout=10
    ) as response:
        version = next(iter(json.loads(response.read())["nodes"].values()))["version"]
    assert int(version.split(".")[0]) >= 8, (
        f"Elasticsearch {version} at ELASTICSEARCH_TEST_URL: elasticsearch-py 9 needs 8 or newer"
    )
    return ELASTICSEARCH_TEST_URL


@pytest.fixture(params=BACKENDS)
def backend(request, app):
    """The same assertions on every backend: embedded, OpenSearch, Elasticsearch (when available)."""
    kind = request.param
    url = request.getfixturevalue(f"{kind}_url") if kind != "embedded" else None
    state = use_backend(app, kind, url)
    yield kind
    drop_indices(state)


@pytest.fixture
def engine_backend(app, opensearch_url):
    """Only the engine (for engine-only behaviour such as typo tolerance)."""
    state = use_backend(app, "opensearch", opensearch_url)
    yield "opensearch"
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
