"""/.well-known/security.txt (RFC 9116): served when the operator names a contact, absent otherwise."""

from datetime import UTC, datetime, timedelta

import pytest


@pytest.mark.parametrize("app_overrides", [{"SECURITY_CONTACT": "mailto:security@example.gov.vn"}])
def test_security_txt_names_the_contact_and_an_expiry(client, app_overrides):
    r = client.get("/.well-known/security.txt")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    fields = dict(line.split(": ", 1) for line in r.get_data(as_text=True).splitlines())
    assert fields["Contact"] == "mailto:security@example.gov.vn"
    expires = datetime.strptime(fields["Expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(days=90) < expires - datetime.now(UTC) < timedelta(days=365)  # RFC: under a year
    assert fields["Canonical"].endswith("/.well-known/security.txt")


def test_without_a_contact_there_is_no_security_txt(client):
    assert client.get("/.well-known/security.txt").status_code == 404
