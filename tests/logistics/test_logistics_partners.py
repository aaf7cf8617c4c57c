"""Partners, keys and secrets: the commands, hashing, revocation, rotation."""

from __future__ import annotations

import re

from sqlalchemy import select

from logistics import secrets, services
from logistics.models import ApiKey, Partner
from marketplace.extensions import db


def test_create_partner_command_prints_key_and_secret(app, runner, factory):
    shop = factory.shop()
    result = runner.invoke(
        args=[
            "logistics",
            "create-partner",
            "Viettel Demo",
            "--webhook-url",
            "https://hooks.example.vn/x",
            "--shops",
            shop.slug,
        ]
    )
    assert result.exit_code == 0, result.output
    key = re.search(r"api key: (lgk_[0-9a-f]{8}\.\S+)", result.output).group(1)
    secret = re.search(r"webhook secret: (whsec_\S+)", result.output).group(1)
    partner = db.session.scalar(select(Partner).where(Partner.slug == "viettel-demo"))
    assert partner.all_shops is False and [s.shop_id for s in partner.shops] == [shop.id]
    stored = db.session.scalar(select(ApiKey).where(ApiKey.partner_id == partner.id))
    assert stored.key_hash == secrets.digest(key) and key not in stored.key_hash
    assert stored.prefix == key.split(".")[0]
    assert [s.secret for s in partner.secrets] == [secret]
    assert partner.status_map["delivered"] == "delivered"

    listing = runner.invoke(args=["logistics", "partners"])
    assert listing.output.splitlines()[0].split("\t")[0] == "viettel-demo"


def test_create_partner_without_url_prints_no_secret_and_refuses_unknown_shop(runner):
    result = runner.invoke(args=["logistics", "create-partner", "Bưu cục xã"])
    assert result.exit_code == 0 and "api key:" in result.output and "secret" not in result.output
    bad = runner.invoke(args=["logistics", "create-partner", "X", "--shops", "khong-co"])
    assert bad.exit_code != 0 and "khong-co" in bad.output


def test_keys_several_active_then_revoked(app, client, runner):
    out = runner.invoke(args=["logistics", "create-partner", "Hai Khoa"]).output
    first = re.search(r"api key: (\S+)", out).group(1)
    second = runner.invoke(args=["logistics", "create-key", "hai-khoa"]).output.strip()
    assert second.startswith("lgk_") and second != first
    for key in (first, second):
        assert (
            client.get("/api/v1/logistics/orders", headers={"Authorization": f"Bearer {key}"}).status_code
            == 200
        )
    used = db.session.scalar(select(ApiKey).where(ApiKey.prefix == first.split(".")[0]))
    db.session.refresh(used)
    assert used.last_used_at is not None
    revoked = runner.invoke(args=["logistics", "revoke-key", first.split(".")[0]])
    assert revoked.exit_code == 0, revoked.output
    response = client.get("/api/v1/logistics/orders", headers={"Authorization": f"Bearer {first}"})
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert "data" not in response.get_json()
    assert (
        client.get("/api/v1/logistics/orders", headers={"Authorization": f"Bearer {second}"}).status_code
        == 200
    )
    assert runner.invoke(args=["logistics", "revoke-key", "lgk_00000000"]).exit_code != 0


def test_paused_partner_and_missing_key_are_401(app, client, runner):
    out = runner.invoke(args=["logistics", "create-partner", "Tam Dung"]).output
    key = re.search(r"api key: (\S+)", out).group(1)
    assert client.get("/api/v1/logistics/orders").status_code == 401
    assert client.get("/api/v1/logistics/orders", headers={"Authorization": "Bearer nope"}).status_code == 401
    partner = services.partner_by_slug("tam-dung")
    partner.state = "paused"
    db.session.commit()
    response = client.get("/api/v1/logistics/orders", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")


def test_secret_rotation_keeps_the_old_one_for_the_window(app):
    partner, _key, first, _t = services.create_partner(
        "Xoay", actor=None, webhook_url="https://x.example.vn/h"
    )
    second = services.rotate_secret(partner, actor=None)
    db.session.commit()
    active = [s.secret for s in services.active_secrets(partner)]
    assert active == [second, first]
    assert first.startswith("whsec_") and second.startswith("whsec_")
    services.rotate_secret(partner, actor=None, window_hours=0)
    db.session.commit()
    assert len(services.active_secrets(partner)) == 1


def test_callback_token_compared_as_digest():
    token, stored = secrets.new_callback_token()
    assert secrets.token_matches(token, stored)
    assert not secrets.token_matches(token + "x", stored)
    assert not secrets.token_matches(token, None)


def test_only_operators_manage_partners(app, factory):
    import pytest

    from marketplace.errors import Forbidden

    with pytest.raises(Forbidden):
        services.create_partner("Lạ", actor=factory.user())
