"""Q&A fixtures: real search engine nodes for the archive's search (as tests/search does: the
node's URL from OPENSEARCH_TEST_URL / ELASTICSEARCH_TEST_URL, or one started through
tools/search_node.py; without one the test FAILS under CI=true and is skipped otherwise)."""

from __future__ import annotations

import contextlib
import os
import uuid

import pytest

from tests.search.search_testlib import search_node, seed_default_synonyms
from tests.support import unavailable

ENGINES = ("opensearch", "elasticsearch")
BACKENDS = ("embedded", *ENGINES)


def pytest_collection_modifyitems(config, items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        if params.get("qa_backend") in ENGINES:
            item.add_marker(pytest.mark.engine)


def _node_url(kind: str, tmp_path_factory):
    url = os.environ.get(f"{kind.upper()}_TEST_URL")
    if url:
        yield url.rstrip("/")
        return
    try:
        node = search_node()
        url, proc = node.start_node(kind, tmp_path_factory.mktemp(f"{kind}-node"))
    except Exception as exc:  # noqa: BLE001 - reported as the skip/fail reason
        unavailable(f"no {kind} node (set {kind.upper()}_TEST_URL): {exc}")
    try:
        yield url
    finally:
        node.stop_node(proc)


@pytest.fixture(scope="session")
def qa_opensearch_url(tmp_path_factory):
    yield from _node_url("opensearch", tmp_path_factory)


@pytest.fixture(scope="session")
def qa_elasticsearch_url(tmp_path_factory):
    yield from _node_url("elasticsearch", tmp_path_factory)


@pytest.fixture(params=BACKENDS)
def qa_backend(request, app, tmp_path):
    """The archive's search on each backend: embedded only, or the engine beside it."""
    from search import collections
    from search.service import reset_state

    kind = request.param
    url = request.getfixturevalue(f"qa_{kind}_url") if kind != "embedded" else None
    app.config["SEARCH_EMBEDDED_PATH"] = str(tmp_path / "search.sqlite")
    app.config["OPENSEARCH_URL"] = url if kind == "opensearch" else None
    app.config["ELASTICSEARCH_URL"] = url if kind == "elasticsearch" else None
    app.config["SEARCH_INDEX_PREFIX"] = f"t{uuid.uuid4().hex[:12]}-"
    state = reset_state(app)
    seed_default_synonyms()
    yield kind
    if state.engine is not None:
        for side in collections.sides("qa_questions"):
            if isinstance(side, collections.EngineCollection):
                with contextlib.suppress(Exception):  # a stopped node has nothing left to clean
                    side.drop_all()
        try:
            for index in state.engine.indexes():
                state.engine.drop_index(index)
        except Exception:  # noqa: BLE001
            pass
    state.embedded.close()
