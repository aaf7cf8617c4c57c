"""Small helpers shared by the search tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def search_node():
    """tools/search_node.py as a module (tools/ is not a package)."""
    if "search_node" in sys.modules:
        return sys.modules["search_node"]
    spec = importlib.util.spec_from_file_location("search_node", ROOT / "tools" / "search_node.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["search_node"] = module  # dataclasses look their module up while the file executes
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["search_node"]
        raise
    return module


def use_backend(app, kind: str, url: str | None = None):
    """Point the app at one backend with a fresh index prefix; returns the search state."""
    from search.service import reset_state

    app.config["OPENSEARCH_URL"] = url if kind == "opensearch" else None
    app.config["ELASTICSEARCH_URL"] = url if kind == "elasticsearch" else None
    app.config["SEARCH_INDEX_PREFIX"] = f"t{uuid.uuid4().hex[:12]}-"
    return reset_state(app)


def drop_indices(state) -> None:
    if state.engine is not None:
        try:
            for index in state.engine.indexes():
                state.engine.drop_index(index)
            # The other document kinds' indexes (search/collections.py), which `reindex` also builds.
            from search import collections

            for name in collections.collections():
                collections.EngineCollection(collections.get(name), state.engine).drop_all()
        except Exception:  # noqa: BLE001 - a stopped node has nothing left to clean
            pass
    state.embedded.close()


def seed_default_synonyms() -> None:
    """The migration seeds them; the PostgreSQL test run empties every table between tests."""
    from marketplace.extensions import db
    from search.models import DEFAULT_SYNONYMS, REGIONAL_SYNONYMS, SearchSynonym

    if not db.session.query(SearchSynonym).count():
        db.session.add_all(SearchSynonym(terms=terms) for terms in DEFAULT_SYNONYMS + REGIONAL_SYNONYMS)
        db.session.commit()


def drain() -> int:
    """Run the worker once, as `flask worker --once` would."""
    from marketplace import outbox

    return outbox.drain()


def ids(body: dict) -> list[int]:
    return [hit["id"] for hit in body["hits"]]


class People:
    """One operator and one producer per test: password hashing (argon2) is the slow part of
    building a catalogue, so every shop here shares them."""

    def __init__(self, factory):
        self.factory = factory
        self.operator = factory.operator()
        self.owner = factory.user(role="producer")

    def shop(self, name: str | None = None, approved: bool = True):
        from marketplace.extensions import db
        from sellers.services import approve_shop

        shop = self.factory.shop(owner=self.owner, name=name, approved=False)
        if approved:
            approve_shop(shop, actor=self.operator)
            db.session.commit()
        return shop


class Catalogue:
    """A small Hà Tĩnh catalogue built through the real services; attributes are listing ids."""

    def __init__(self, factory):
        from catalog.services import hide_listing
        from marketplace.extensions import db
        from sellers.services import suspend_shop

        f = factory
        today = date.today()
        people = People(factory)
        self.operator = people.operator
        self.fruit = f.category("Trái cây")
        self.citrus = f.category("Cam quýt", parent=self.fruit)
        self.pomelo = f.category("Bưởi", parent=self.fruit)
        self.specialty = f.category("Đặc sản")
        self.honey = f.category("Mật ong", parent=self.specialty)
        self.food = f.category("Thực phẩm")
        self.orange_shop = people.shop("HTX Cam Hương Sơn")
        self.honey_shop = people.shop("Cơ sở Mật ong Vũ Quang")
        self.other_shop = people.shop("Cửa hàng Nghi Xuân")
        self.gone_shop = people.shop("Cửa hàng Sẽ Tạm Ngưng")

        def make(title, shop, category, **kw):
            return f.listing(shop=shop, title=title, category=category, **kw)

        self.cam_bu = make(
            "Cam bù Hương Sơn",
            self.orange_shop,
            self.citrus,
            price=45000,
            stock=100,
            origin="Hương Sơn",
            ocop_stars=4,
            ocop_certificate_no="OCOP-01",
            ocop_level="province",
            ocop_issued_on=(today - timedelta(days=365)).isoformat(),
            certifications="VietGAP",
        ).id
        self.cam_khe_may = make(
            "Cam Khe Mây", self.orange_shop, self.citrus, price=40000, stock=0, origin="Hương Khê"
        ).id
        self.buoi = make(
            "Bưởi Phúc Trạch",
            self.orange_shop,
            self.pomelo,
            price=60000,
            stock=20,
            origin="Huong Khe",
            ocop_stars=3,
            ocop_certificate_no="OCOP-02",
            ocop_level="province",
            ocop_issued_on=(today - timedelta(days=4 * 365)).isoformat(),
        ).id  # expired rating
        self.mat_ong = make(
            "Mật ong rừng Vũ Quang",
            self.honey_shop,
            self.honey,
            price=250000,
            stock=5,
            origin="Vũ Quang",
            ocop_stars=5,
            ocop_certificate_no="OCOP-03",
            ocop_level="national",
            ocop_issued_on=(today - timedelta(days=30)).isoformat(),
            certifications="Hữu cơ",
        ).id
        # The operator checked the three certificates in the register: only then do stars count.
        from catalog.models import Listing

        f.check_ocop(
            *(db.session.get(Listing, i) for i in (self.cam_bu, self.buoi, self.mat_ong)),
            operator=self.operator,
        )
        self.dua_hau = make("Dưa hấu mát lạnh", self.other_shop, self.fruit, price=30000, stock=8).id
        self.keo = make(
            "Đặc sản kẹo cu đơ Hà Tĩnh", self.other_shop, self.specialty, price=50000, stock=50
        ).id
        self.thit_lon = make("Thịt lợn đen gác bếp", self.other_shop, self.food, price=350000, stock=3).id
        self.ngo = make(
            "Ngô nếp Nghi Xuân", self.other_shop, self.food, price=20000, stock=40, origin="Nghi Xuân"
        ).id
        self.thanh_long = make(
            "Trái thanh long ruột đỏ", self.other_shop, self.fruit, price=35000, stock=10
        ).id
        # Never searchable:
        self.draft = make("Cam nháp chưa bán", self.orange_shop, self.citrus, status="draft").id
        self.archived = make("Cam ngừng bán", self.orange_shop, self.citrus, status="archived").id
        hidden = make("Cam bị ẩn", self.orange_shop, self.citrus)
        self.hidden = hidden.id
        hide_listing(hidden, "Sai thông tin", actor=self.operator)
        self.suspended = make("Cam của cửa hàng tạm ngưng", self.gone_shop, self.citrus).id
        suspend_shop(self.gone_shop, "Vi phạm", actor=self.operator)
        db.session.commit()
        self.public = {
            self.cam_bu,
            self.cam_khe_may,
            self.buoi,
            self.mat_ong,
            self.dua_hau,
            self.keo,
            self.thit_lon,
            self.ngo,
            self.thanh_long,
        }
        self.never = {self.draft, self.archived, self.hidden, self.suspended}
