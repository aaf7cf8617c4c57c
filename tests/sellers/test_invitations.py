"""Staff invitations: an unguessable single-use token with an expiry, accepted only by an account
that confirmed the invited address. The take-over of issue 9 (sign up with the invited address,
open /kenh-ban/loi-moi/<sequential id>) no longer works."""

from __future__ import annotations

import re
from datetime import timedelta

from marketplace.extensions import db
from marketplace.timeutil import utcnow
from sellers.models import ShopInvitation, ShopMember
from tests.support import forget_session, sign_in


def _invite(client, factory, mailbox, email="nv@example.vn"):
    owner = factory.user(email=f"chu-{email}")
    shop = factory.shop(owner=owner)
    sign_in(client, owner)
    assert client.post(f"/kenh-ban/{shop.slug}/nhan-vien", data={"email": email}).status_code == 302
    forget_session(client)
    body = [m for m in mailbox() if m["to"] == email][-1]["body"]
    link = re.search(r"http://localhost(/kenh-ban/loi-moi/\S+)", body).group(1)
    return shop, owner, link


def test_the_invitation_link_carries_a_long_random_token_stored_only_hashed(
    client, factory, mailbox, csrf_off
):
    shop, _owner, link = _invite(client, factory, mailbox)
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 40 and not token.isdigit()
    invitation = ShopInvitation.query.filter_by(shop_id=shop.id).one()
    assert token not in (invitation.token_hash, str(invitation.id))
    assert invitation.expires_at > utcnow() + timedelta(days=6)
    # The old address by sequential id answers nothing.
    sign_in(client, factory.user(email="nv@example.vn"))
    assert client.get(f"/kenh-ban/loi-moi/{invitation.id}").status_code == 404


def test_signing_up_with_the_invited_address_does_not_take_the_invitation(
    app, client, factory, mailbox, csrf_off
):
    shop, _owner, link = _invite(client, factory, mailbox, email="nhan-vien@example.vn")
    # The attacker signs up with the invited address (no account had it yet) and signs in…
    r = client.post(
        "/dang-ky",
        data={
            "full_name": "Kẻ gian",
            "email": "nhan-vien@example.vn",
            "password": "cam-bu-ht9",
            "confirm": "cam-bu-ht9",
            "privacy_consent": "y",
        },
    )
    assert r.status_code == 302
    client.post("/dang-nhap", data={"email": "nhan-vien@example.vn", "password": "cam-bu-ht9"})
    # …and even holding the link cannot accept: the address is not confirmed.
    for method in (client.get, client.post):
        r = method(link)
        assert r.status_code == 403
        assert "Vui lòng xác nhận địa chỉ email" in r.get_data(as_text=True)
    assert ShopMember.query.filter_by(shop_id=shop.id, role="staff").count() == 0


def test_an_invitation_is_accepted_once(client, factory, mailbox, csrf_off):
    shop, _owner, link = _invite(client, factory, mailbox)
    staff = factory.user(email="nv@example.vn")
    sign_in(client, staff)
    page = client.get(link)
    assert page.status_code == 200 and "Chấp nhận lời mời" in page.get_data(as_text=True)
    assert client.post(link).status_code == 302
    assert ShopMember.query.filter_by(shop_id=shop.id, user_id=staff.id, role="staff").count() == 1
    r = client.post(link)
    assert r.status_code == 403 and "đã được sử dụng" in r.get_data(as_text=True)
    assert ShopMember.query.filter_by(shop_id=shop.id, user_id=staff.id).count() == 1


def test_an_expired_invitation_is_refused(client, factory, mailbox, csrf_off):
    shop, _owner, link = _invite(client, factory, mailbox)
    invitation = ShopInvitation.query.filter_by(shop_id=shop.id).one()
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    sign_in(client, factory.user(email="nv@example.vn"))
    r = client.post(link)
    assert r.status_code == 403 and "hết hạn" in r.get_data(as_text=True)
    assert ShopMember.query.filter_by(shop_id=shop.id, role="staff").count() == 0


def test_inviting_again_replaces_the_link(client, factory, mailbox, csrf_off):
    shop, owner, old_link = _invite(client, factory, mailbox)
    sign_in(client, owner)
    client.post(f"/kenh-ban/{shop.slug}/nhan-vien", data={"email": "nv@example.vn"})
    forget_session(client)
    new_link = re.search(
        r"http://localhost(/kenh-ban/loi-moi/\S+)",
        [m for m in mailbox() if m["to"] == "nv@example.vn"][-1]["body"],
    ).group(1)
    assert new_link != old_link
    sign_in(client, factory.user(email="nv@example.vn"))
    assert client.get(old_link).status_code == 404
    assert client.post(new_link).status_code == 302


def test_another_confirmed_account_cannot_accept(client, factory, mailbox, csrf_off):
    shop, _owner, link = _invite(client, factory, mailbox)
    sign_in(client, factory.user(email="nguoi-khac@example.vn"))
    r = client.post(link)
    assert r.status_code == 403 and "dành cho nv@example.vn" in r.get_data(as_text=True)
    assert ShopMember.query.filter_by(shop_id=shop.id, role="staff").count() == 0


def test_accept_service_refuses_an_unconfirmed_actor(factory):
    import pytest

    from marketplace.errors import Forbidden
    from sellers.services import accept_invitation, invite_staff

    owner = factory.user()
    shop = factory.shop(owner=owner)
    invitation = invite_staff(shop, "nv@example.vn", actor=owner)
    with pytest.raises(Forbidden, match="xác nhận"):
        accept_invitation(invitation, actor=factory.unconfirmed_user(email="nv@example.vn"))


def test_the_owner_revokes_a_pending_invitation_and_its_link_stops_working(
    app, client, factory, mailbox, csrf_off
):
    shop, owner, link = _invite(client, factory, mailbox)
    invitation = ShopInvitation.query.filter_by(shop_id=shop.id).one()
    sign_in(client, owner)
    page = client.get(f"/kenh-ban/{shop.slug}/nhan-vien").get_data(as_text=True)
    revoke = f"/kenh-ban/{shop.slug}/nhan-vien/loi-moi/{invitation.id}/thu-hoi"
    assert f'action="{revoke}"' in page and "Thu hồi" in page
    app.config["WTF_CSRF_ENABLED"] = True  # a button: CSRF-checked like every form
    token = re.search(r'action="' + re.escape(revoke) + r'".*?name="csrf_token" value="([^"]+)"', page)
    assert client.post(revoke).status_code == 400
    assert ShopInvitation.query.filter_by(shop_id=shop.id).count() == 1
    r = client.post(revoke, data={"csrf_token": token.group(1)}, follow_redirects=True)
    app.config["WTF_CSRF_ENABLED"] = False
    assert r.status_code == 200 and "Đã thu hồi lời mời gửi tới nv@example.vn." in r.get_data(as_text=True)
    assert ShopInvitation.query.filter_by(shop_id=shop.id).count() == 0
    assert "Lời mời đang chờ" not in client.get(f"/kenh-ban/{shop.slug}/nhan-vien").get_data(as_text=True)
    forget_session(client)
    sign_in(client, factory.user(email="nv@example.vn"))
    assert client.get(link).status_code == 404 and client.post(link).status_code == 404
    assert ShopMember.query.filter_by(shop_id=shop.id, role="staff").count() == 0


def test_an_accepted_invitation_or_another_shops_is_not_revoked(client, factory, mailbox, csrf_off):
    import pytest

    from marketplace.errors import DomainError, Forbidden
    from sellers.services import revoke_invitation

    shop, owner, link = _invite(client, factory, mailbox)
    invitation = ShopInvitation.query.filter_by(shop_id=shop.id).one()
    sign_in(client, factory.user(email="nv@example.vn"))
    assert client.post(link).status_code == 302
    with pytest.raises(DomainError, match="đã được sử dụng"):
        revoke_invitation(shop, invitation, actor=owner)
    db.session.rollback()
    other_owner = factory.user()
    other = factory.shop(owner=other_owner)
    with pytest.raises(Forbidden):
        revoke_invitation(other, invitation, actor=other_owner)
    db.session.rollback()
    forget_session(client)
    sign_in(client, other_owner)  # another shop's invitation through one's own shop: not found
    assert client.post(f"/kenh-ban/{other.slug}/nhan-vien/loi-moi/{invitation.id}/thu-hoi").status_code == 404
    assert db.session.get(ShopInvitation, invitation.id) is not None
