"""Partner credentials: API keys, webhook signing secrets and callback tokens.

An API key is `lgk_<id>.<secret>`: the id (12 characters) is shown in lists and on revocation,
the secret is 32 random bytes. Only SHA-256 of the whole key is stored: with 256 bits of
randomness a fast hash is as safe as a slow one, and the lookup is one indexed equality. Callback
tokens (in a carrier's callback URL) are stored the same way and compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

KEY_PREFIX = "lgk_"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_api_key() -> tuple[str, str, str]:
    """(the key to show once, its visible id, its digest)."""
    key_id = KEY_PREFIX + secrets.token_hex(4)
    key = f"{key_id}.{secrets.token_urlsafe(32)}"
    return key, key_id, digest(key)


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_callback_token() -> tuple[str, str]:
    """(the token for the callback URL, its digest)."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def token_matches(token: str, stored_digest: str | None) -> bool:
    """Constant-time comparison of a presented token with a stored digest."""
    if not stored_digest:
        return False
    return hmac.compare_digest(digest(token), stored_digest)
