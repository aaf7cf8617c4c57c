"""schemathesis over the Q&A paths of /api/v1/openapi.json, in-process, against a seeded archive
(answered, waiting, transferred, not-our-remit and unmoderated questions): no server error, every
response in its documented schema and status codes. (tests/marketplace/test_api_schemathesis.py
runs every path against an empty archive.)"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from qa_testlib import agency, ask, business_asker, official

from govqa import services
from marketplace import create_app, outbox
from marketplace.extensions import db
from tests.conftest import _config

CONFIG = {
    "seed": 20261203,
    "generation": {"max-examples": 40, "deterministic": True, "database": "none"},
}
KNOWN = {"agency": ["thue-tinh", "so-y-te"], "question_id": [1, 2, 3, 4, 5]}


def _document_app():
    folder = tempfile.mkdtemp(prefix="openapi-qa-")
    atexit.register(shutil.rmtree, folder, True)
    return create_app(_config("sqlite://", Path(folder)))


schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", _document_app(), config=schemathesis.Config.from_dict(CONFIG)
).include(path_regex="^/qa/")


@schema.hook
def flatmap_query(ctx, query):
    if not isinstance(query, dict) or "agency" not in query:
        return st.just(query)
    return st.one_of(
        st.just(query), st.sampled_from(KNOWN["agency"]).map(lambda slug: {**query, "agency": slug})
    )


@schema.hook
def flatmap_path_parameters(ctx, path_parameters):
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    options = [st.just(path_parameters)]
    if "question_id" in path_parameters:
        options.append(
            st.sampled_from(KNOWN["question_id"]).map(lambda i: {**path_parameters, "question_id": i})
        )
    if "slug" in path_parameters:
        options.append(st.sampled_from(KNOWN["agency"]).map(lambda s: {**path_parameters, "slug": s}))
    return st.one_of(options)


@pytest.fixture
def archive_app(app, factory):
    operator = factory.operator()
    tax, food = agency("Thuế tỉnh"), agency("Sở Y tế")
    tax_official, food_official = official(factory, tax), official(factory, food)
    asker = business_asker(factory)
    questions = [ask(asker, title=f"Câu hỏi số {n} về thuế, gọi 0912345678") for n in range(5)]
    for q in questions[:4]:
        services.accept_question(q, tax, actor=operator)
    services.answer_question(questions[0], "<p>Trả lời <em>rõ</em></p>", actor=tax_official)
    services.transfer_question(questions[1], food, "Thuộc an toàn thực phẩm", actor=tax_official)
    services.not_our_remit(questions[2], "Không thuộc", actor=tax_official)
    services.answer_question(questions[1], "<p>Trả lời của Sở Y tế</p>", actor=food_official)
    db.session.commit()
    outbox.drain()
    assert [q.id for q in questions] == KNOWN["question_id"] and tax.slug in KNOWN["agency"]
    return app


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_qa_api_conforms_to_its_document(case, archive_app):
    # The WSGI transport sends requests' "Accept-Encoding: gzip, deflate" but hands the body over
    # undecoded: ask for the plain body (compression has its own tests, test_page_cache.py).
    case.call_and_validate(app=archive_app, headers={"Accept-Encoding": "identity"})
