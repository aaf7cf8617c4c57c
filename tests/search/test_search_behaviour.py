"""The same search behaviour on every backend (embedded, OpenSearch, Elasticsearch when available)."""

from __future__ import annotations

from datetime import datetime, timedelta

from search_testlib import People, drain, ids

from catalog.models import Listing
from marketplace.extensions import db


def test_folded_words_find_diacritics(catalogue, search_api):
    body = search_api(q="cam bu huong son")
    assert ids(body)[0] == catalogue.cam_bu
    assert "<mark>bù</mark>" in body["hits"][0]["highlight"]["title"]
    assert body["query"]["folded"] == "cam bu huong son"


def test_d_folds_to_d(catalogue, search_api):
    assert catalogue.keo in ids(search_api(q="dac san keo"))
    assert catalogue.keo in ids(search_api(q="ĐẶC SẢN"))


def test_exact_diacritics_rank_above_folded_matches(catalogue, search_api):
    # "mát" and "mật" both fold to "mat": the word typed with its marks wins, in both directions,
    # even against the honey's OCOP 5★ boost.
    assert ids(search_api(q="mát"))[:2] == [catalogue.dua_hau, catalogue.mat_ong]
    assert ids(search_api(q="mật"))[:2] == [catalogue.mat_ong, catalogue.dua_hau]


def test_prefix_matches_as_you_type(catalogue, search_api):
    assert ids(search_api(q="buoi phuc"))[0] == catalogue.buoi
    assert ids(search_api(q="buoi phu"))[0] == catalogue.buoi
    assert ids(search_api(q="cam bu huong s"))[0] == catalogue.cam_bu


def test_default_synonyms(catalogue, search_api):
    assert catalogue.thanh_long in ids(search_api(q="quả thanh long"))
    assert catalogue.thit_lon in ids(search_api(q="thịt heo"))
    assert catalogue.ngo in ids(search_api(q="bap nep"))


def test_operator_synonyms_apply_to_the_next_search(catalogue, factory, search_api):
    from search.synonyms import add_synonym_group

    leaves = factory.listing(shop=catalogue.other_shop, title="Lá giang rừng sấy khô", price=80000)
    drain()
    assert search_api(q="lá dang")["total"] == 0
    add_synonym_group("lá giang, lá dang", actor=catalogue.operator)
    db.session.commit()  # no reindex, no worker: every backend expands synonyms at query time
    assert ids(search_api(q="lá dang")) == [leaves.id]


def test_never_shows_unpublished_listings(catalogue, search_api):
    found = set(ids(search_api(per_page=100)))
    assert found == catalogue.public
    for title in ("cam nhap", "cam ngung ban", "cam bi an", "cam cua cua hang tam ngung"):
        assert not set(ids(search_api(q=title))) & catalogue.never


def test_category_filter_includes_children(catalogue, search_api):
    body = search_api(category="trai-cay", per_page=50)
    assert set(ids(body)) == {
        catalogue.cam_bu,
        catalogue.cam_khe_may,
        catalogue.buoi,
        catalogue.dua_hau,
        catalogue.thanh_long,
    }
    assert set(ids(search_api(category="cam-quyt"))) == {catalogue.cam_bu, catalogue.cam_khe_may}


def test_filters(catalogue, search_api):
    # Origin typed with or without marks, grouped by folded key.
    assert set(ids(search_api(origin="huong khe"))) == {catalogue.cam_khe_may, catalogue.buoi}
    assert set(ids(search_api(shop=catalogue.honey_shop.slug))) == {catalogue.mat_ong}
    # The pomelo's 3★ rating has expired: it no longer counts.
    assert set(ids(search_api(ocop_min=3))) == {catalogue.cam_bu, catalogue.mat_ong}
    assert set(ids(search_api(ocop_min=5))) == {catalogue.mat_ong}
    assert set(ids(search_api(cert="VietGAP"))) == {catalogue.cam_bu}
    assert set(ids(search_api(price_min=40000, price_max=50000))) == {
        catalogue.cam_bu,
        catalogue.cam_khe_may,
        catalogue.keo,
    }
    in_stock = set(ids(search_api(in_stock=1, per_page=50)))
    assert catalogue.cam_khe_may not in in_stock and len(in_stock) == len(catalogue.public) - 1
    assert set(ids(search_api(q="cam", in_stock="true"))) == {
        catalogue.cam_bu,
        catalogue.buoi,
    }  # shop "HTX Cam…"


def test_facet_counts(catalogue, search_api):
    facets = search_api()["facets"]
    categories = {f["value"]: f["count"] for f in facets["category"]}
    assert categories["trai-cay"] == 5 and categories["cam-quyt"] == 2 and categories["dac-san"] == 2
    assert {f["value"]: f["parent"] for f in facets["category"]}["buoi"] == "trai-cay"
    assert {f["value"]: f["count"] for f in facets["origin"]}["Hương Khê"] == 2  # "Huong Khe" folded in
    assert {f["value"]: f["count"] for f in facets["ocop"]} == {1: 2, 2: 2, 3: 2, 4: 2, 5: 1}  # "at least n★"
    assert {f["value"]: f["count"] for f in facets["cert"]} == {"VietGAP": 1, "Hữu cơ": 1}
    assert [f["count"] for f in facets["price"]] == [5, 2, 0, 2, 0]
    assert facets["in_stock"]["count"] == len(catalogue.public) - 1
    shops = {f["value"]: f["count"] for f in facets["shop"]}
    assert shops[catalogue.orange_shop.slug] == 3 and catalogue.gone_shop.slug not in shops
    # Counts follow the query and the other filters.
    narrowed = search_api(q="cam", category="trai-cay")["facets"]
    assert {f["value"]: f["count"] for f in narrowed["category"]}["cam-quyt"] == 2


def test_sorts(catalogue, search_api):
    prices = [h["price_vnd"] for h in search_api(sort="price_asc", per_page=50)["hits"]]
    assert prices == sorted(prices)
    prices = [h["price_vnd"] for h in search_api(sort="price_desc", per_page=50)["hits"]]
    assert prices == sorted(prices, reverse=True)
    old = db.session.get(Listing, catalogue.ngo)
    old.published_at = datetime(2020, 1, 1)
    new = db.session.get(Listing, catalogue.keo)
    new.published_at = datetime.now() + timedelta(days=1)
    db.session.commit()
    from search.indexer import sync_listings

    sync_listings([catalogue.ngo, catalogue.keo])
    newest = ids(search_api(sort="newest", per_page=50))
    assert newest[0] == catalogue.keo and newest[-1] == catalogue.ngo


def test_relevance_boosts_stock_ocop_and_sales(backend, factory, search_api):
    from datetime import date

    shop = People(factory).shop()
    category = factory.category("Gạo")
    out = factory.listing(shop=shop, category=category, title="Gạo tám thơm Hà Tĩnh", stock=0)
    plain = factory.listing(shop=shop, category=category, title="Gạo tám thơm Hà Tĩnh", stock=5)
    ocop = factory.listing(
        shop=shop,
        category=category,
        title="Gạo tám thơm Hà Tĩnh",
        stock=5,
        ocop_stars=4,
        ocop_certificate_no="X1",
        ocop_issued_on=date.today().replace(day=1).isoformat(),
    )
    popular = factory.listing(shop=shop, category=category, title="Gạo tám thơm Hà Tĩnh", stock=5)
    db.session.get(Listing, popular.id).sales_count = 500
    db.session.commit()
    drain()
    # Waiting for the operator's check, the rating counts nowhere: no facet, no filter, no stars.
    body = search_api(q="gao tam thom")
    assert not body["facets"]["ocop"] and ocop.id not in ids(search_api(q="gao tam thom", ocop_min=1))
    assert all(hit["ocop_stars"] is None for hit in body["hits"])
    factory.check_ocop(db.session.get(Listing, ocop.id))
    drain()
    order = ids(search_api(q="gao tam thom"))
    assert ids(search_api(q="gao tam thom", ocop_min=4)) == [ocop.id]
    assert order.index(plain.id) < order.index(out.id)
    assert order.index(ocop.id) < order.index(plain.id)
    assert order.index(popular.id) < order.index(plain.id)


def test_highlight_escapes_everything_else(backend, factory, search_api, client):
    listing = factory.listing(
        shop=People(factory).shop(),
        title='Mứt gừng <script>alert("x")</script> Hà Tĩnh',
        description="<p>Mứt gừng làm thủ công, cay nồng.</p>",
    )
    drain()
    body = search_api(q="mut gung")
    hit = body["hits"][0]
    assert hit["id"] == listing.id
    assert "<script>" not in hit["highlight"]["title"]
    assert "&lt;script&gt;" in hit["highlight"]["title"]
    assert "<mark>Mứt</mark>" in hit["highlight"]["title"]
    assert "<mark>gừng</mark>" in (hit["highlight"]["snippet"] or "")
    page = client.get("/tim-kiem", query_string={"q": "mut gung"}).get_data(as_text=True)
    assert '<script>alert("x")' not in page and "&lt;script&gt;" in page


def test_deep_pagination_with_cursor(backend, factory, client):
    shop, category = People(factory).shop(), factory.category("Gạo")
    made = {
        factory.listing(
            shop=shop, category=category, title=f"Gạo ST25 lô {n}", price=10000 + (n % 7) * 1000
        ).id
        for n in range(23)
    }
    drain()
    for sort in ("relevance", "price_asc", "price_desc", "newest"):
        seen, cursor, page = [], None, 1
        while True:
            params = {"q": "gao st25", "sort": sort, "per_page": 5, "page": page}
            if cursor:
                params["cursor"] = cursor
            body = client.get("/api/v1/search", query_string=params).json
            assert body["total"] == 23
            seen.extend(ids(body))
            cursor, page = body["next_cursor"], page + 1
            if not cursor:
                break
        assert len(seen) == 23 and set(seen) == made, sort
        if sort == "price_asc":
            prices = [db.session.get(Listing, i).price_vnd for i in seen]
            assert prices == sorted(prices)


def test_index_follows_changes(catalogue, factory, search_api):
    from catalog.services import hide_listing, save_category, unhide_listing, update_listing
    from sellers.services import reinstate_shop, suspend_shop

    # A shop suspended: all its listings leave the index; reinstated: they come back.
    suspend_shop(catalogue.orange_shop, "Kiểm tra", actor=catalogue.operator)
    db.session.commit()
    drain()
    assert not {catalogue.cam_bu, catalogue.buoi} & set(ids(search_api(per_page=50)))
    reinstate_shop(catalogue.orange_shop, actor=catalogue.operator)
    db.session.commit()
    drain()
    assert {catalogue.cam_bu, catalogue.buoi} <= set(ids(search_api(per_page=50)))
    # A listing hidden by the operator, then shown again.
    listing = db.session.get(Listing, catalogue.keo)
    hide_listing(listing, "Ảnh sai", actor=catalogue.operator)
    db.session.commit()
    drain()
    assert catalogue.keo not in ids(search_api(q="keo cu do"))
    unhide_listing(listing, actor=catalogue.operator)
    db.session.commit()
    drain()
    assert catalogue.keo in ids(search_api(q="keo cu do"))
    # A category renamed: its listings are found under the new name.
    save_category(
        {"name": "Cam chanh", "parent_id": catalogue.fruit.id},
        actor=catalogue.operator,
        category=catalogue.citrus,
    )
    db.session.commit()
    drain()
    assert catalogue.cam_khe_may in ids(search_api(q="cam chanh"))
    assert catalogue.cam_khe_may not in ids(search_api(q="quyt"))
    # Stock runs out: the in-stock filter drops it.
    listing = db.session.get(Listing, catalogue.cam_bu)
    owner = catalogue.orange_shop.members[0].user
    update_listing(
        listing,
        {
            "title": listing.title,
            "category_id": listing.category_id,
            "unit": listing.unit,
            "price_vnd": listing.price_vnd,
            "stock": 0,
            "status": "active",
            "ocop_stars": listing.ocop_stars,
            "ocop_certificate_no": listing.ocop_certificate_no,
            "ocop_issued_on": listing.ocop_issued_on.isoformat(),
        },
        actor=owner,
    )
    db.session.commit()
    drain()
    assert catalogue.cam_bu not in ids(search_api(q="cam", in_stock=1))
    assert catalogue.cam_bu in ids(search_api(q="cam"))


def test_suggestions(catalogue, client):
    body = client.get("/api/v1/search/suggest", query_string={"q": "cam bu h"}).json
    assert body["products"][0]["id"] == catalogue.cam_bu
    assert "<mark>" in body["products"][0]["html"]
    body = client.get("/api/v1/search/suggest", query_string={"q": "mat ong vu"}).json
    assert [s["slug"] for s in body["shops"]] == [catalogue.honey_shop.slug]
    body = client.get("/api/v1/search/suggest", query_string={"q": "trai c"}).json
    assert [c["slug"] for c in body["categories"]] == ["trai-cay"]
    assert client.get("/api/v1/search/suggest?q=").json["products"] == []


def test_suggestions_rank_titles_marks_and_stock(catalogue, client):
    def products(text):
        return [
            p["id"] for p in client.get("/api/v1/search/suggest", query_string={"q": text}).json["products"]
        ]

    # Words typed with their marks first, whatever the boosts ("mật" is OCOP 5★, "mát" is not).
    assert products("mát")[:2] == [catalogue.dua_hau, catalogue.mat_ong]
    assert products("mật")[:2] == [catalogue.mat_ong, catalogue.dua_hau]
    # Titles first, in stock before sold out; then listings matching elsewhere (the pomelo's
    # shop is "HTX Cam Hương Sơn").
    assert products("cam") == [catalogue.cam_bu, catalogue.cam_khe_may, catalogue.buoi]
    assert products("ca")[:2] == [catalogue.cam_bu, catalogue.cam_khe_may]


def test_suggestions_prefer_titles_that_begin_with_the_words(catalogue, factory, client):
    jam = factory.listing(shop=catalogue.other_shop, title="Mứt vỏ cam bù sấy dẻo", price=85000, stock=500)
    jam.sales_count = 900  # far better ranked than the fruit itself
    db.session.commit()
    drain()
    products = [
        p["id"] for p in client.get("/api/v1/search/suggest", query_string={"q": "cam b"}).json["products"]
    ]
    assert products[:2] == [catalogue.cam_bu, jam.id]


def test_zero_results_say_what_was_searched(catalogue, search_api, client):
    body = search_api(q="Xyzắ Qwòp")
    assert body["total"] == 0 and body["query"]["folded"] == "xyza qwop"
    page = client.get("/tim-kiem", query_string={"q": "Xyzắ Qwòp"}).get_data(as_text=True)
    assert "Không tìm thấy sản phẩm phù hợp" in page and "xyza qwop" in page


def test_results_page_works_without_javascript(catalogue, client):
    page = client.get("/tim-kiem", query_string={"q": "cam"}).get_data(as_text=True)
    assert "<mark>Cam</mark> bù Hương Sơn" in page
    assert 'href="/tim-kiem?q=cam&amp;category=trai-cay"' in page  # a facet is a plain link
    assert 'name="in_stock"' in page and "<noscript>" in page
    page = client.get(
        "/tim-kiem", query_string={"q": "cam", "category": "trai-cay", "in_stock": "1"}
    ).get_data(as_text=True)
    assert "Bỏ tất cả" in page and "Cam Khe Mây" not in page


def test_engine_tolerates_typos(engine_backend, factory, search_api):
    honey = factory.listing(
        shop=People(factory).shop(), title="Mật ong rừng Vũ Quang", category=factory.category("Mật ong")
    )
    drain()
    assert ids(search_api(q="mat onng rung"))[0] == honey.id  # one edit in a 4-letter word
    assert ids(search_api(q="mat ong vu quangg"))[0] == honey.id
    assert ids(search_api(q="mat ong rung vu quangggg")) == []  # three edits: too far


def test_engine_marks_a_swapped_pair_of_letters(engine_backend, factory, search_api):
    """A transposition is one edit for the engine's fuzziness and for the highlighter alike."""
    pomelo = factory.listing(
        shop=People(factory).shop(), title="Bưởi Phúc Trạch", category=factory.category("Bưởi")
    )
    drain()
    body = search_api(q="boui phuc trach")
    assert ids(body) == [pomelo.id]
    assert body["hits"][0]["highlight"]["title"] == "<mark>Bưởi</mark> <mark>Phúc</mark> <mark>Trạch</mark>"


def test_embedded_did_you_mean(app, factory, search_api, client):
    """The query understanding forgives the slip on the embedded backend too; searched exactly
    (chinh_xac=1) the misspelt word finds nothing and gets a correction."""
    honey = factory.listing(
        shop=People(factory).shop(), title="Mật ong rừng Vũ Quang", category=factory.category("Mật ong")
    )
    drain()
    body = search_api(q="mat onng rung")
    assert ids(body) == [honey.id] and body["query"]["understood"] == "mat ong rung"
    body = search_api(q="mat onng rung", chinh_xac="1")
    assert body["total"] == 0 and body["did_you_mean"] == "mat ong rung"
    assert [h["id"] for h in body["nearest"]] == [honey.id]
    page = client.get("/tim-kiem", query_string={"q": "mat onng rung", "chinh_xac": "1"}).get_data(
        as_text=True
    )
    assert 'class="did-you-mean" href="/tim-kiem?q=mat+ong+rung&amp;chinh_xac=1"' in page
    assert "Sản phẩm gần giống" in page


def test_wrong_engine_kind_falls_back(app, factory, client, opensearch_url):
    """ELASTICSEARCH_URL pointing at an OpenSearch node: the official client refuses it; search
    still answers (embedded) and /healthz says why."""
    from search_testlib import use_backend

    state = use_backend(app, "elasticsearch", opensearch_url)
    listing = factory.listing(
        shop=People(factory).shop(), title="Kẹo cu đơ", category=factory.category("Bánh kẹo")
    )
    drain()
    body = client.get("/api/v1/search?q=keo").json
    assert body["fallback"] is True and ids(body) == [listing.id]
    assert client.get("/healthz").json["search"]["engine"] == {
        "kind": "elasticsearch",
        "status": "unreachable",
        "alias": state.engine.alias,
    }


def test_broad_queries_rank_by_tiers_on_the_embedded_backend(app, factory, search_api, client):
    """Above SEARCH_EMBEDDED_BM25_LIMIT text matches the embedded backend ranks by tiers (exact
    words, title words) x boosts instead of bm25: same ordering promises, cursor paging intact."""
    from search_testlib import Catalogue

    from search.service import state

    data = Catalogue(factory)
    drain()
    state().embedded.bm25_limit = 0
    assert ids(search_api(q="mát"))[:2] == [data.dua_hau, data.mat_ong]
    assert ids(search_api(q="mật"))[:2] == [data.mat_ong, data.dua_hau]
    assert ids(search_api(q="cam bu huong son"))[0] == data.cam_bu
    everything = ids(search_api(q="cam", per_page=50))
    seen, cursor, page = [], None, 1
    while True:
        body = client.get(
            "/api/v1/search",
            query_string={"q": "cam", "per_page": 2, "page": page, **({"cursor": cursor} if cursor else {})},
        ).json
        seen += ids(body)
        cursor, page = body["next_cursor"], page + 1
        if not cursor:
            break
    assert seen == everything
