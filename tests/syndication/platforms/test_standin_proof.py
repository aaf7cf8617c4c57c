"""The stand-ins' checks are the platforms' published ones: requests signed by clients nobody
here wrote are accepted, and a wrong signature, an old timestamp, a wrong key are refused.

Shopee: pyshopee (PyPI `pyshopee`, its v2 client module `pyshopee2`) signs shop-level calls
(partner_id + path + timestamp + access_token + shop_id) and partner-level auth calls
(partner_id + path + timestamp) with its own HMAC code, and sends them with `requests`.
Lazada: the official `lazop-sdk` (form-encoded POST, query GET, multipart upload), and the
published vector of domain.md replayed byte for byte against the stand-in at the vector's time.
Tiki: no signature; its client-credentials grant is HTTP Basic, checked with `requests`' own
HTTPBasicAuth, then Bearer."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import requests

from tests.syndication.platforms.standins import LAZADA_VECTOR, LazadaStandin

# -- Shopee ---------------------------------------------------------------------------------


def _pyshopee_client(pyshopee2, shopee, *, partner_key=None, token=None, shop="101"):
    token = token or shopee.issue_token(shop)
    client = pyshopee2.Client(
        int(shop),
        shopee.partner_id,
        partner_key or shopee.partner_key,
        "https://san.example.vn/cb",
        access_token=token.access_token,
    )
    client.host = shopee.base_url
    client.refresh_token = token.refresh_token
    return client


def _add_item_args(shopee):
    shopee.images["vn-proof-image"] = b"\xff\xd8proof"
    return {
        "item_name": "Cam bù Hương Sơn loại 1",
        "description": "Cam bù trồng tại Hương Sơn, Hà Tĩnh.",
        "original_price": 45000,
        "weight": 1.0,
        "category_id": 100636,
        "image": {"image_id_list": ["vn-proof-image"]},
        "seller_stock": [{"stock": 12}],
        "item_sku": "CAM-1",
    }


def test_shopee_standin_accepts_pyshopee_shop_level_calls(pyshopee2, shopee):
    client = _pyshopee_client(pyshopee2, shopee)
    added = client.product.add_item(**_add_item_args(shopee))
    assert added["error"] == "", added
    item_id = str(added["response"]["item_id"])
    assert shopee.items[item_id]["price"] == 45000 and shopee.items[item_id]["stock"] == 12

    priced = client.product.update_price(
        item_id=int(item_id), price_list=[{"model_id": 0, "original_price": 52000}]
    )
    assert priced["error"] == "", priced
    read = client.product.get_item_base_info(item_id_list=item_id)
    assert (
        read["error"] == "" and read["response"]["item_list"][0]["price_info"][0]["original_price"] == 52000
    )
    assert shopee.calls == [
        ("POST", "/api/v2/product/add_item"),
        ("POST", "/api/v2/product/update_price"),
        ("GET", "/api/v2/product/get_item_base_info"),
    ]


def test_shopee_standin_accepts_pyshopee_partner_level_auth_calls(pyshopee2, shopee):
    client = _pyshopee_client(pyshopee2, shopee)
    client.code = shopee.grant_code("101")
    access_token, expires_in, refresh_token = client.get_token()  # /api/v2/auth/token/get, short sign
    assert expires_in == 4 * 3600 and shopee._token_shop(access_token) == "101"

    access_token2, _, _ = client.get_access_token(101, shopee.partner_id, shopee.partner_key, refresh_token)
    assert access_token2 != access_token and shopee._token_shop(access_token2) == "101"
    assert shopee.calls == [("POST", "/api/v2/auth/token/get"), ("POST", "/api/v2/auth/access_token/get")]


def test_shopee_standin_refuses_a_wrong_partner_key(pyshopee2, shopee):
    client = _pyshopee_client(
        pyshopee2,
        shopee,
        partner_key=shopee.partner_key[:-1] + ("1" if shopee.partner_key.endswith("0") else "0"),
    )
    answer = client.product.get_item_base_info(item_id_list="1")
    # pyshopee turns any non-2xx into {"error": <status>}; the stand-in's own record says why
    assert answer["error"] == 403
    assert (
        shopee.refused == [("GET", "/api/v2/product/get_item_base_info", "error_sign")] and shopee.calls == []
    )


def test_shopee_standin_refuses_an_old_timestamp(pyshopee2, shopee):
    client = _pyshopee_client(pyshopee2, shopee)
    client._make_timestamp = lambda: int(time.time()) - 301  # correctly signed, 5 min + 1 s old
    client.product.get_item_base_info(item_id_list="1")
    client._make_timestamp = lambda: int(time.time()) - 290  # within the window: accepted
    assert client.product.get_item_base_info(item_id_list="1")["error"] == ""
    assert [code for _, _, code in shopee.refused] == ["error_auth"]


def _raw(url, data=None, headers=None):
    request = urllib.request.Request(
        url, data=data, headers=headers or {}, method="POST" if data is not None else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_shopee_standin_refuses_a_signature_moved_to_another_path_or_shop(pyshopee2, shopee):
    token = shopee.issue_token("101")
    client = _pyshopee_client(pyshopee2, shopee, token=token)
    now = int(time.time())
    sign = client._api_sign("/api/v2/product/get_item_base_info", now)
    query = {
        "partner_id": shopee.partner_id,
        "timestamp": now,
        "access_token": token.access_token,
        "shop_id": 101,
        "sign": sign,
    }
    status, body = _raw(
        f"{shopee.base_url}/api/v2/product/get_item_base_info?{urlencode({**query, 'item_id_list': 1})}"
    )
    assert status == 200 and body["error"] == ""
    status, body = _raw(f"{shopee.base_url}/api/v2/order/get_order_list?{urlencode(query)}")
    assert (status, body["error"]) == (403, "error_sign")
    status, body = _raw(
        f"{shopee.base_url}/api/v2/product/get_item_base_info?{urlencode({**query, 'shop_id': 102})}"
    )
    assert (status, body["error"]) == (403, "error_sign")
    status, body = _raw(
        f"{shopee.base_url}/api/v2/product/get_item_base_info?{urlencode({**query, 'sign': sign.upper()})}"
    )
    assert (status, body["error"]) == (403, "error_sign")  # Shopee's sign is lowercase hex


def test_shopee_standin_refuses_an_expired_token_even_correctly_signed(pyshopee2, shopee):
    client = _pyshopee_client(pyshopee2, shopee)
    shopee.expire_tokens()
    assert client.product.get_item_base_info(item_id_list="1")["error"] == 403
    assert [code for _, _, code in shopee.refused] == ["error_auth"]


# -- Lazada ---------------------------------------------------------------------------------


def _product_payload(lazada):
    lazada.images["https://vn-live.slatic.net/p/proof.jpg"] = b"jpeg"
    product = {
        "PrimaryCategory": "10002019",
        "Images": {"Image": ["https://vn-live.slatic.net/p/proof.jpg"]},
        "Attributes": {
            "name": "Nước mắm Hà Tĩnh 500 ml",
            "description": "Nước mắm truyền thống.",
            "brand": "No Brand",
        },
        "Skus": {"Sku": [{"SellerSku": "NUOC-MAM-1", "quantity": 30, "price": 65000, "package_weight": 0.8}]},
    }
    return json.dumps({"Request": {"Product": product}}, ensure_ascii=False)


def test_lazada_standin_accepts_the_official_sdk(lazop, lazada):
    token = lazada.issue_token("200301")
    client = lazop.LazopClient(lazada.credentials.base_url, lazada.app_key, lazada.app_secret)

    upload = lazop.LazopRequest("/image/upload")  # multipart, the params as form fields
    upload.add_file_param("image", b"\xff\xd8\xff\xe0sdk-jpeg")
    answer = client.execute(upload, token.access_token)
    assert answer.code == "0", answer.body
    assert answer.body["data"]["image"]["url"] in lazada.images

    create = lazop.LazopRequest("/product/create")  # form-encoded POST
    create.add_api_param("payload", _product_payload(lazada))
    answer = client.execute(create, token.access_token)
    assert answer.code == "0", answer.body
    item_id = answer.body["data"]["item_id"]
    assert lazada.items[str(item_id)]["price"] == 65000

    read = lazop.LazopRequest("/product/item/get", "GET")  # query string
    read.add_api_param("item_id", str(item_id))
    answer = client.execute(read, token.access_token)
    assert answer.code == "0" and answer.body["data"]["skus"][0]["SellerSku"] == "NUOC-MAM-1"

    auth = lazop.LazopRequest("/auth/token/create")  # no access token on /auth/
    auth.add_api_param("code", lazada.grant_code("200301"))
    answer = client.execute(auth)
    assert answer.code == "0" and answer.body["country_user_info"][0]["seller_id"] == "200301"
    assert lazada.calls == [
        ("POST", "/image/upload"),
        ("POST", "/product/create"),
        ("GET", "/product/item/get"),
        ("POST", "/auth/token/create"),
    ]


def test_lazada_standin_refuses_the_sdk_with_a_wrong_secret_or_app_key(lazop, lazada):
    token = lazada.issue_token("200301")
    read = lazop.LazopRequest("/product/item/get", "GET")
    read.add_api_param("item_id", "1")
    wrong_secret = lazop.LazopClient(lazada.credentials.base_url, lazada.app_key, lazada.app_secret + "x")
    assert wrong_secret.execute(read, token.access_token).code == "IncompleteSignature"
    wrong_key = lazop.LazopClient(lazada.credentials.base_url, "999999", lazada.app_secret)
    assert wrong_key.execute(read, token.access_token).code == "InvalidAppKey"
    assert lazada.calls == []
    # the SDK logged both refusals, under the temporary HOME it was imported with
    logs = list(Path(lazop.base.dir, "logs").glob("lazopsdk.log.*"))
    assert Path(lazop.base.dir) != Path.home() and "IncompleteSignature" in logs[0].read_text()


def test_lazada_standin_refuses_an_old_timestamp(lazop, lazada):
    token = lazada.issue_token("200301")
    params = {
        "app_key": lazada.app_key,
        "access_token": token.access_token,
        "sign_method": "sha256",
        "item_id": "1",
        "timestamp": str(int((time.time() - 7300) * 1000)),  # outside the window
    }
    params["sign"] = lazop.base.sign(lazada.app_secret, "/product/item/get", params)
    assert (
        requests.get(lazada.credentials.base_url + "/product/item/get", params, timeout=5).json()["code"]
        == "InvalidTimestamp"
    )
    del params["sign"]
    params["timestamp"] = str(int(time.time() * 1000))
    params["sign"] = lazop.base.sign(lazada.app_secret, "/product/item/get", params)
    assert (
        requests.get(lazada.credentials.base_url + "/product/item/get", params, timeout=5).json()["code"]
        == "208"
    )  # signed right: no such item


def test_lazada_standin_accepts_the_published_vector_and_refuses_it_altered():
    vector = LAZADA_VECTOR
    with LazadaStandin(app_key="123456", app_secret=vector["secret"]) as lazada:
        lazada.clock = lambda: int(vector["params"]["timestamp"]) / 1000  # the vector's moment
        lazada.access_tokens["test"] = {"shop": "1", "expires": float("inf")}
        lazada.orders["1234"] = {
            "item": "1",
            "sku": "X",
            "quantity": 1,
            "price": 1,
            "created": 0,
            "status": "pending",
        }
        url = lazada.credentials.base_url + vector["api"]
        answer = requests.get(url, {**vector["params"], "sign": vector["sign"]}, timeout=5).json()
        assert answer["code"] == "0" and answer["data"]["order_id"] == 1234
        altered = requests.get(
            url, {**vector["params"], "order_id": "1235", "sign": vector["sign"]}, timeout=5
        ).json()
        assert altered["code"] == "IncompleteSignature"
        lowercase = requests.get(url, {**vector["params"], "sign": vector["sign"].lower()}, timeout=5).json()
        assert lowercase["code"] == "IncompleteSignature"  # Lazada's sign is uppercase hex
        assert lazada.calls == [("GET", "/order/get")]


# -- Tiki -----------------------------------------------------------------------------------


def test_tiki_standin_checks_basic_then_bearer(tiki):
    url = tiki.base_url + "/sc/oauth2/token"
    good = requests.post(
        url, data={"grant_type": "client_credentials"}, auth=(tiki.client_id, tiki.client_secret), timeout=5
    )
    assert good.status_code == 200 and good.json()["token_type"] == "bearer"
    bad = requests.post(
        url, data={"grant_type": "client_credentials"}, auth=(tiki.client_id, "wrong"), timeout=5
    )
    assert (bad.status_code, bad.json()["error"]) == (401, "invalid_client")

    product = tiki.base_url + "/integration/v2/products/1"
    bearer = {"Authorization": "Bearer " + good.json()["access_token"]}
    assert requests.get(product, headers=bearer, timeout=5).status_code == 404  # authorised: no such product
    assert requests.get(product, headers={"Authorization": "Bearer forged"}, timeout=5).status_code == 401
    assert requests.get(product, timeout=5).status_code == 401
    tiki.expire_tokens()
    assert requests.get(product, headers=bearer, timeout=5).status_code == 401
