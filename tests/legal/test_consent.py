"""Consent to the privacy policy: asked at sign-up and checkout, recorded with the version in force
and the time, on the account (sign-up) or on the payment (a guest's checkout)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.errors import Errors, ValidationFailed
from marketplace.extensions import db
from marketplace.legal import services
from marketplace.legal.models import Consent
from marketplace.models import User
from marketplace.timeutil import utcnow
from orders.models import Payment
from tests.orders.orders_testlib import Shopper, payment_code
from tests.support import PASSWORD, sign_in

CONSENT_ERROR = "Vui lòng đồng ý với Chính sách bảo mật thông tin để tiếp tục."


def _publish_privacy(factory, body: str = "Chính sách bảo mật.") -> int:
    version = services.publish_version("privacy", {"body": body}, actor=factory.operator())
    db.session.commit()
    return version.id


def _sign_up(client, email: str, **extra):
    data = {
        "full_name": "Trần Thị Bình",
        "email": email,
        "password": PASSWORD,
        "confirm": PASSWORD,
        **extra,
    }
    return client.post("/dang-ky", data=data)


def test_sign_up_asks_for_consent_and_records_it_with_the_version_and_time(client, factory, csrf_off):
    version_id = _publish_privacy(factory)
    page = client.get("/dang-ky").get_data(as_text=True)
    assert 'name="privacy_consent"' in page and 'href="/chinh-sach-bao-mat"' in page and "phiên bản 1" in page

    refused = _sign_up(client, "binh@example.vn")
    assert refused.status_code == 200 and CONSENT_ERROR in refused.get_data(as_text=True)
    assert User.query.count() == 1  # only the operator: nothing was created

    before = utcnow()
    assert _sign_up(client, "binh@example.vn", privacy_consent="y").status_code == 302
    user = User.query.filter_by(email="binh@example.vn").one()
    consent = Consent.query.filter_by(user_id=user.id).one()
    assert (consent.document, consent.version_id, consent.context) == ("privacy", version_id, "sign_up")
    assert before - timedelta(seconds=1) <= consent.given_at <= utcnow()
    assert services.has_consented(user)


def test_a_taken_address_records_nothing_for_its_owner(client, factory, csrf_off):
    _publish_privacy(factory)
    owner = factory.user(email="chu@example.vn")
    assert _sign_up(client, "chu@example.vn", privacy_consent="y").status_code == 302
    assert Consent.query.filter_by(user_id=owner.id).count() == 0


def test_before_any_policy_is_published_consent_is_recorded_without_a_version(client, csrf_off):
    assert _sign_up(client, "som@example.vn", privacy_consent="y").status_code == 302
    consent = Consent.query.one()
    assert consent.version_id is None and consent.context == "sign_up"


def test_a_guest_checkout_needs_consent_and_keeps_it_on_the_payment(client, factory, csrf_off):
    version_id = _publish_privacy(factory)
    shopper = Shopper(client, factory.commune().id)
    listing = factory.listing(stock=5)
    assert shopper.add(listing).status_code == 302
    page = client.get("/thanh-toan").get_data(as_text=True)
    assert 'name="privacy_consent"' in page and 'href="/chinh-sach-bao-mat"' in page

    refused = shopper.checkout("cod", privacy_consent="")
    assert refused.status_code == 422 and CONSENT_ERROR in refused.get_data(as_text=True)
    assert Payment.query.count() == 0

    code = payment_code(shopper.checkout("cod"))
    payment = db.session.scalar(select(Payment).where(Payment.code == code))
    consent = db.session.get(Consent, payment.consent_id)
    assert consent is not None and consent.user_id is None
    assert (consent.version_id, consent.context) == (version_id, "checkout")
    assert consent.given_at <= utcnow()


def test_a_member_is_asked_again_only_when_the_policy_changed(app, client, factory, csrf_off):
    _publish_privacy(factory, "Bản 1.")
    buyer = factory.user()
    services.record_consent(context="sign_up", user=buyer)
    db.session.commit()
    sign_in(client, buyer)
    shopper = Shopper(client, factory.commune().id)
    shop_listing = factory.listing(stock=10)

    # Agreed to the version in force: no box, and none needed.
    shopper.add(shop_listing)
    assert 'name="privacy_consent"' not in client.get("/thanh-toan").get_data(as_text=True)
    code = payment_code(shopper.checkout("cod", privacy_consent=""))
    assert db.session.scalar(select(Payment.consent_id).where(Payment.code == code)) is None

    # A new version: the box is back, required, and the consent lands on the account and the payment.
    new_id = _publish_privacy(factory, "Bản 2.")
    shopper.add(shop_listing)
    assert 'name="privacy_consent"' in client.get("/thanh-toan").get_data(as_text=True)
    assert shopper.checkout("cod", privacy_consent="").status_code == 422
    code = payment_code(shopper.checkout("cod"))
    payment = db.session.scalar(select(Payment).where(Payment.code == code))
    consent = db.session.get(Consent, payment.consent_id)
    assert (consent.user_id, consent.version_id, consent.context) == (buyer.id, new_id, "checkout")
    assert services.has_consented(db.session.get(User, buyer.id))


def test_the_consent_service_for_other_forms(factory):
    """What the Q&A (or any later form) calls: check the box, then record."""
    version_id = _publish_privacy(factory)
    errors = Errors()
    services.check_consent(errors, None, field="consent")
    with pytest.raises(ValidationFailed) as caught:
        errors.raise_if_any()
    assert caught.value.field_errors == {"consent": [CONSENT_ERROR]}
    errors = Errors()
    for ticked in (True, "y", "on", "1", "true"):
        services.check_consent(errors, ticked)
    assert not errors
    assert services.consent_required(None)
    consent = services.record_consent(context="question")
    assert (consent.user_id, consent.version_id, consent.context) == (None, version_id, "question")
    with pytest.raises(ValueError):
        services.record_consent(context="newsletter")
