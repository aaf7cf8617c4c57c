"""schemathesis over every /api/v1/logistics path with a valid partner key: no server error, no
response outside the document, no undocumented status. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from marketplace import create_app
from tests.conftest import _config

SEED = 20261203
# A fixed key (stored hashed by the fixture), so schemathesis itself authenticates its requests and
# knows when it leaves the key out on purpose (negative cases expect the 401 then).
KEY = "lgk_5c4e7a11.schemathesis-test-key-not-a-secret-0000000000"
CONFIG = {
    "seed": SEED,
    "auth": {"openapi": {"partnerKey": {"bearer": KEY}}},
    "generation": {"max-examples": 50, "deterministic": True, "database": "none"},
    "operations": [
        {
            # An event for a real order may be a move the order cannot make (409, documented);
            # a cursor the server never issued is a 400.
            "include-operation-id": ["logisticsPostEvent", "logisticsOrderFeed"],
            "checks": {
                "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "404", "409", "422"]},
            },
        }
    ],
}
CODES: list[str] = []


def _document_app():
    folder = tempfile.mkdtemp(prefix="openapi-logistics-")
    atexit.register(shutil.rmtree, folder, True)
    return create_app(_config("sqlite://", Path(folder)))


schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", _document_app(), config=schemathesis.Config.from_dict(CONFIG)
).exclude(func=lambda ctx: not ctx.operation.path.startswith("/logistics"))


@schema.hook
def flatmap_path_parameters(ctx, path_parameters):
    """Now and then the code of an order this partner carries (the others are 404s); only in
    place of a code that meets the document (a negative case keeps its invalid code)."""
    if not isinstance(path_parameters, dict) or not CODES:
        return st.just(path_parameters)
    code = path_parameters.get("code")
    if not isinstance(code, str) or not 1 <= len(code) <= 40:
        return st.just(path_parameters)
    return st.one_of(
        st.just(path_parameters), st.sampled_from(CODES).map(lambda c: {**path_parameters, "code": c})
    )


@pytest.fixture
def partner_app(app, setup):
    from logistics import secrets
    from logistics.models import ApiKey
    from marketplace.extensions import db

    db.session.add(
        ApiKey(
            partner_id=setup.partner.id,
            name="schemathesis",
            prefix=KEY.split(".")[0],
            key_hash=secrets.digest(KEY),
        )
    )
    db.session.commit()
    CODES[:] = [setup.packed_order().code for _ in range(3)]
    yield app
    CODES.clear()


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_logistics_api_conforms_to_its_document(case, partner_app):
    case.call_and_validate(app=partner_app)
