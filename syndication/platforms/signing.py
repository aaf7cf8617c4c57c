"""Request signatures of the national platforms (pure; tested with the published vectors)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


def shopee_sign(
    partner_key: str,
    partner_id: str | int,
    path: str,
    timestamp: int,
    access_token: str | None = None,
    shop_id: str | int | None = None,
) -> str:
    """Shopee Open Platform v2: lowercase hex HMAC-SHA256, keyed with the partner key, of
    partner_id + api_path + timestamp + access_token + shop_id (path without host). Public and
    authorisation calls (no token, no shop) sign the shorter partner_id + api_path + timestamp."""
    base = f"{partner_id}{path}{timestamp}"
    if access_token is not None or shop_id is not None:
        base += f"{access_token or ''}{shop_id if shop_id is not None else ''}"
    return hmac.new(partner_key.encode(), base.encode(), hashlib.sha256).hexdigest()


def lazada_sign(secret: str, api_path: str, params: Mapping[str, object]) -> str:
    """Lazada Open Platform: UPPERCASE hex HMAC-SHA256, keyed with the app secret, of the api path
    followed by every parameter (but `sign` and files) sorted by name as key1value1key2value2…"""
    base = api_path + "".join(f"{key}{params[key]}" for key in sorted(params) if key != "sign")
    return hmac.new(secret.encode(), base.encode(), hashlib.sha256).hexdigest().upper()
