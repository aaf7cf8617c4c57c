"""/healthz: the status for everyone; details (database, worker, search index file) only for
operators and for probes on loopback without a proxy in between (issue 9, finding 14)."""

from __future__ import annotations

import pytest

from tests.support import sign_in

REMOTE = {"REMOTE_ADDR": "203.0.113.7"}


def test_public_healthz_shows_only_the_status(client, app):
    response = client.get("/healthz", environ_base=REMOTE)
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert app.config["SEARCH_EMBEDDED_PATH"] not in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP"])
def test_requests_through_a_local_proxy_are_public(client, header):
    response = client.get("/healthz", headers={header: "203.0.113.7"})
    assert response.json == {"status": "ok"}


def test_loopback_probe_sees_the_details(client, app):
    body = client.get("/healthz", environ_base={"REMOTE_ADDR": "127.0.0.1"}).json
    assert body["database"]["status"] == "ok" and "worker" in body
    assert body["search"]["embedded"]["path"]
    assert client.get("/healthz", environ_base={"REMOTE_ADDR": "::1"}).json.keys() == body.keys()


def test_operator_sees_the_details_from_anywhere(client, factory):
    sign_in(client, factory.operator())
    body = client.get("/healthz", environ_base=REMOTE).json
    assert body["database"]["status"] == "ok" and "search" in body


def test_other_signed_in_users_see_only_the_status(client, factory):
    sign_in(client, factory.user(role="producer"))
    assert client.get("/healthz", environ_base=REMOTE).json == {"status": "ok"}
