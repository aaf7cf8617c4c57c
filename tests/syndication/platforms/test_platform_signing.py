"""The signing functions against published vectors and independent implementations."""

from __future__ import annotations

import hashlib
import hmac

from syndication.platforms.signing import lazada_sign, shopee_sign
from tests.syndication.platforms.standins import LAZADA_VECTOR


def test_lazada_sign_matches_the_published_vector():
    assert (
        lazada_sign(LAZADA_VECTOR["secret"], LAZADA_VECTOR["api"], LAZADA_VECTOR["params"])
        == LAZADA_VECTOR["sign"]
    )


def test_lazada_sign_sorts_by_name_and_ignores_sign_itself():
    shuffled = dict(reversed(list(LAZADA_VECTOR["params"].items())))
    shuffled["sign"] = "whatever was there"
    assert lazada_sign("helloworld", "/order/get", shuffled) == LAZADA_VECTOR["sign"]
    assert lazada_sign("helloworld", "/order/get", {**shuffled, "order_id": "1235"}) != LAZADA_VECTOR["sign"]
    assert lazada_sign("hellOworld", "/order/get", shuffled) != LAZADA_VECTOR["sign"]


def test_lazada_sign_agrees_with_lazop_sdk(lazop):
    params = {
        "app_key": "100200",
        "timestamp": "1764720000000",
        "sign_method": "sha256",
        "payload": '{"Request":{}}',
        "partner_id": "lazop-sdk-python-20181207",
    }
    assert lazada_sign("s3cr3t", "/product/create", params) == lazop.base.sign(
        "s3cr3t", "/product/create", params
    )


def test_shopee_sign_is_lowercase_hmac_of_the_documented_base_string():
    sign = shopee_sign("partner-key", 2001887, "/api/v2/product/add_item", 1764720000, "tok123", 101)
    expected = hmac.new(
        b"partner-key", b"2001887/api/v2/product/add_item1764720000tok123101", hashlib.sha256
    ).hexdigest()
    assert sign == expected and sign == sign.lower() and len(sign) == 64


def test_shopee_short_sign_for_partner_level_calls():
    sign = shopee_sign("partner-key", "2001887", "/api/v2/auth/token/get", 1764720000)
    assert (
        sign
        == hmac.new(b"partner-key", b"2001887/api/v2/auth/token/get1764720000", hashlib.sha256).hexdigest()
    )


def test_shopee_sign_agrees_with_pyshopee(pyshopee2):
    client = pyshopee2.Client(101, 2001887, "partner-key", "https://example.test/cb", access_token="tok123")
    assert shopee_sign(
        "partner-key", 2001887, "/api/v2/product/add_item", 1764720000, "tok123", 101
    ) == client._api_sign("/api/v2/product/add_item", 1764720000)
    assert shopee_sign(
        "partner-key", 2001887, "/api/v2/auth/token/get", 1764720000
    ) == client._api_short_sign("/api/v2/auth/token/get", 1764720000)
