"""Webhooks to partners, per Standard Webhooks (shared/docs/domain.md).

Each message has one id (`msg_…`, the `webhook-id` of every try), a timestamp per try and a
signature `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>` per active secret, the key
being the base64-decoded part of `whsec_…`. During a rotation window every active secret signs,
space-separated, so the receiver verifies with whichever it holds.

The worker sends them from the outbox (topic `logistics.webhook`, payload: the message id).
2xx: delivered. 410 Gone: the partner's endpoint is disabled and the operator told. Another 4xx
except 408/409/429: the receiver refuses this message, no retry (failed). Anything else
(timeouts, 5xx, 408, 409, 429): retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — or
when Retry-After says — until the last try (dead; LOGISTICS_WEBHOOK_MAX_ATTEMPTS, 8). Each try is written to the delivery log and committed before the outbox records its own
outcome (the outbox rolls back the handler's session when it raises)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from email.utils import parsedate_to_datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from marketplace import outbox
from marketplace.extensions import db
from marketplace.mail import queue_mail
from marketplace.models import OutboxEvent
from marketplace.timeutil import utcnow

from .feed import WEBHOOK_TOPIC
from .models import Partner, WebhookDelivery
from .services import active_secrets

RETRYABLE_4XX = frozenset({408, 409, 429})
# Waits after the 1st, 2nd… failed try (Standard Webhooks' example schedule), unless Retry-After.
SCHEDULE_S = (5, 300, 1800, 7200, 18000, 36000, 36000)
# A Retry-After is honoured up to a day: "come back in 3 years" would park the message for good.
MAX_RETRY_AFTER_S = 86400.0
PAUSED_RECHECK_S = 600  # a paused partner's messages wait, looked at again this often


def wait_after(failed_tries: int) -> float:
    return float(SCHEDULE_S[min(max(failed_tries, 1), len(SCHEDULE_S)) - 1])


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers_for(
    partner: Partner, message_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    signatures = " ".join(sign(s.secret, message_id, ts, body) for s in active_secrets(partner))
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": signatures,
        "user-agent": "marketplace-webhooks/1",
    }


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer, not an address to follow: urllib would repeat a redirected POST as a
    GET without the body, and the page it lands on would count as delivered."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(
    url: str, body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int | None, str | None, str | None]:
    """(status code or None, Retry-After, error text)."""
    if not url.startswith(("https://", "http://")):  # services check it; never file: or custom schemes
        return None, None, "not an http(s) URL"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _OPENER.open(request, timeout=timeout) as response:  # operator-set URL, http(s) only
            response.read(1024)
            return response.status, None, None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Retry-After"), f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return None, None, f"{type(exc).__name__}: {exc}"[:500]


def deliver_handler(payload: dict, event: OutboxEvent) -> None:
    delivery = db.session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.message_id == payload["message_id"])
    )
    if delivery is None or delivery.status in ("delivered",):
        return
    partner = delivery.partner
    if not partner.webhook_url or partner.webhook_disabled_at is not None:
        delivery.status = "failed"
        delivery.last_error = "endpoint disabled or removed"
        return
    if partner.state != "active":
        # Wait for the partner without spending a try: a failure (RetryLater) would count against
        # the outbox's MAX_ATTEMPTS, so a pause of two hours would kill every queued message while
        # its delivery row still says pending. This event is done; a fresh one checks again later.
        delivery.last_error = "partner paused"
        later = outbox.record(
            WEBHOOK_TOPIC,
            {"message_id": delivery.message_id},
            key=f"{WEBHOOK_TOPIC}:{delivery.message_id}:paused:{uuid.uuid4().hex}",
        )
        later.next_attempt_at = utcnow() + timedelta(seconds=PAUSED_RECHECK_S)
        return
    body = body_of(delivery)
    headers = headers_for(partner, delivery.message_id, body)
    config = current_app.config
    code, retry_after, error = post(
        partner.webhook_url, body, headers, float(config["LOGISTICS_WEBHOOK_TIMEOUT_S"])
    )
    delivery.attempts += 1
    delivery.response_code = code
    delivery.last_attempt_at = utcnow()
    delivery.last_error = error
    if code is not None and 200 <= code < 300:
        delivery.status = "delivered"
        return
    last_try = event.attempts + 1 >= int(config["LOGISTICS_WEBHOOK_MAX_ATTEMPTS"])
    if code == 410:
        delivery.status = "failed"
        partner.webhook_disabled_at = utcnow()
        _tell_operator(partner)
        db.session.commit()
        raise outbox.PermanentFailure("410 Gone: endpoint disabled")
    if code is not None and 400 <= code < 500 and code not in RETRYABLE_4XX:
        delivery.status = "failed"
        db.session.commit()
        raise outbox.PermanentFailure(f"receiver refused with {code}")
    delivery.status = "dead" if last_try else "pending"
    db.session.commit()
    if last_try:
        raise outbox.PermanentFailure(error or "no answer")
    wait = _retry_after(retry_after)
    raise outbox.RetryLater(
        error or "failed",
        wait_after(event.attempts + 1) if wait is None else min(max(wait, 1.0), MAX_RETRY_AFTER_S),
    )


def _tell_operator(partner: Partner) -> None:
    """Mail the operators (OPERATOR_EMAIL, else every operator account); the partner's page shows it too."""
    from marketplace.models import User

    configured = current_app.config.get("OPERATOR_EMAIL")
    recipients = (
        [configured]
        if configured
        else list(db.session.scalars(select(User.email).where(User.role == "operator")))
    )
    for to in recipients:
        queue_mail(
            str(to),
            _("Webhook của %(name)s đã bị tắt (410 Gone)", name=partner.name),
            "logistics_webhook_disabled",
            key=f"mail:logistics-webhook-disabled:{partner.id}:{uuid.uuid4().hex}",
            partner=partner,
        )


def redeliver(delivery: WebhookDelivery) -> None:
    """Send the same message again (same webhook-id), through the outbox."""
    delivery.status = "pending"
    outbox.record(
        WEBHOOK_TOPIC,
        {"message_id": delivery.message_id},
        key=f"{WEBHOOK_TOPIC}:{delivery.message_id}:{uuid.uuid4().hex}",
    )


def redeliver_all(partner: Partner, statuses: tuple[str, ...] = ("failed", "dead")) -> int:
    rows = list(
        db.session.scalars(
            select(WebhookDelivery).where(
                WebhookDelivery.partner_id == partner.id, WebhookDelivery.status.in_(statuses)
            )
        )
    )
    for row in rows:
        redeliver(row)
    return len(rows)
