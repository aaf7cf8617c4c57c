"""Query understanding (search/understand.py): Telex and VNI residue, the syllable validator, words
run together, slips, and how the understood query reaches the results page, the API and the
suggestions."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from search_testlib import People, drain

from search import text as vi
from search.understand import (
    ACUTE,
    BASE_RHYMES,
    DOT,
    GLIDE_RHYMES,
    GRAVE,
    HOOK,
    TILDE,
    Vocabulary,
    decompose,
    from_keys,
    from_telex,
    from_vni,
    is_syllable,
    merge_groups,
    place_tone,
)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("gaoj", "gạo"),
        ("neeps", "nếp"),
        ("chef", "chè"),
        ("ddaauj", "đậu"),
        ("buwowir", "bưởi"),
        ("nuwowcs", "nước"),
        ("duongw", "dương"),  # w after the final consonant
        ("truowngf", "trường"),
        ("hoawcj", "hoặc"),
        ("quyeenf", "quyền"),
        ("gif", "gì"),
        ("xoaif", "xoài"),
        ("ruowuj", "rượu"),
        ("nhw", "như"),
    ],
)
def test_telex(typed, meant):
    assert from_telex(typed) == meant and from_keys(typed) == (meant, "telex")


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("gao5", "gạo"),
        ("ne61p", "nếp"),
        ("d9au65", "đậu"),
        ("nu7o7c1", "nước"),
        ("ma81m", "mắm"),
        ("che2", "chè"),
    ],
)
def test_vni(typed, meant):
    assert from_vni(typed) == meant and from_keys(typed) == (meant, "vni")


@pytest.mark.parametrize(
    "word",
    # real words, codes and quantities are never read as keys
    [
        "cam",
        "bo",
        "xoai",
        "st25",
        "500g",
        "10",
        "kg",
        "ocop",
        "vietgap",
        "nếp",
        "gạo",
        "ddd",
        "caas",
        "neepf",
    ],
)
def test_no_keys_or_not_a_syllable_stays(word):
    assert from_keys(word) is None


def test_syllable_validator():
    for word in (
        "gạo",
        "nếp",
        "nghiêng",
        "quyển",
        "gì",
        "giếng",
        "khuya",
        "thuở",
        "hòa",
        "hoà",
        "đường",
        "kẹo",
    ):
        assert is_syllable(word), word
    # wrong onset before the vowel, a rhyme Vietnamese lacks, a huyền tone on a -p ending, two tones
    for word in ("ngi", "ke" + "o" * 2, "ca" + "e", "nềp", "cí", "ghá", "bxa", "ka", "qa", "áà"):
        assert not is_syllable(word), word


def test_tone_placement():
    assert place_tone("hoa", GRAVE) == "hòa"
    assert place_tone("thuy", HOOK) == "thủy"
    assert place_tone("ngoai", GRAVE) == "ngoài"
    assert place_tone("ruơu", DOT).startswith("r")
    assert place_tone("rươu", DOT) == "rượu"
    assert place_tone("hoan", ACUTE) == "hoán"
    assert place_tone("quy", ACUTE) == "quý"
    assert place_tone("gia", GRAVE) == "già"
    # both placements fold alike and decompose alike: search treats them as one word
    assert vi.fold("hoà") == vi.fold("hòa") and decompose("hoà") == decompose("hòa")


ONSETS = ["", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh", "nh"]
ONSETS += ["ph", "qu", "r", "s", "t", "th", "tr", "v", "x"]
TELEX_LETTERS = {"â": "aa", "ê": "ee", "ô": "oo", "ă": "aw", "ơ": "ow", "ư": "uw", "đ": "dd"}
VNI_LETTERS = {"â": "a6", "ê": "e6", "ô": "o6", "ă": "a8", "ơ": "o7", "ư": "u7", "đ": "d9"}
TELEX_TONE = {ACUTE: "s", GRAVE: "f", HOOK: "r", TILDE: "x", DOT: "j"}
VNI_TONE = {ACUTE: "1", GRAVE: "2", HOOK: "3", TILDE: "4", DOT: "5"}


@st.composite
def marked_syllables(draw):
    onset = draw(st.sampled_from(ONSETS))
    rhyme = draw(st.sampled_from(sorted(BASE_RHYMES | GLIDE_RHYMES)))
    tone = draw(st.sampled_from([None, ACUTE, GRAVE, HOOK, TILDE, DOT]))
    base = onset + rhyme
    if onset == "gi" and rhyme.startswith("i"):
        base = "g" + rhyme
    word = place_tone(base, tone)
    # the other placement of oa/oe/uy (hoà beside hòa) must read the same
    if draw(st.booleans()) and tone and any(base.endswith(g) for g in ("oa", "oe", "uy")):
        word = unicodedata.normalize("NFC", base + tone)
    return word


def _typed(word: str, letters: dict[str, str], tones: dict[str, str]) -> str:
    base, tone = decompose(word)
    return "".join(letters.get(c, c) for c in base) + (tones[tone] if tone else "")


@settings(max_examples=400, deadline=None)
@given(marked_syllables())
def test_property_telex_and_vni_give_the_syllable_back(word):
    if not is_syllable(word) or vi.fold(word) == word:
        return  # not a syllable Vietnamese spells that way, or nothing to type with keys
    for typed, convert in (
        (_typed(word, TELEX_LETTERS, TELEX_TONE), from_telex),
        (_typed(word, VNI_LETTERS, VNI_TONE), from_vni),
    ):
        converted = convert(typed)
        assert converted is not None, (word, typed)
        assert decompose(converted) == decompose(word), (word, typed, converted)


def _vocabulary() -> Vocabulary:
    return Vocabulary.from_documents(
        [
            ["Gạo nếp cái hoa vàng", "Đức Thọ", "Gạo – ngũ cốc"],
            ["Bưởi Phúc Trạch loại 1", "Phúc Trạch", "Bưởi"],
            ["Bưởi Phúc Trạch loại 2", "Phúc Trạch", "Bưởi"],
            ["Chè xanh tươi", "Hương Khê", "Chè"],
            ["Bánh đa vừng", "Thành Sen"],
            ["Mật ong rừng", "Hương Sơn", "Mật ong"],
            ["Nước mắm Thạch Kim", "Lộc Hà"],
            ["Cam bù Hương Sơn", "Hương Sơn", "Cam"],
            ["Cam Khe Mây", "Hương Khê", "Cam"],
        ]
    )


def test_vocabulary_counts_listings_and_keeps_the_usual_spelling():
    v = _vocabulary()
    assert v.frequency["buoi"] == 2 and v.written("buoi") == "bưởi" and v.written("huong") == "hương"
    assert v.knows("cam") and v.knows("ca", prefix=True) and not v.knows("ca")


def test_split_run_together_words():
    v = _vocabulary()
    assert v.split("gaonep") == ["gao", "nep"]
    assert v.split("chexanh") == ["che", "xanh"]
    assert v.split("banhda") == ["banh", "da"]
    assert v.split("mattong") == ["mat", "ong"]  # a letter typed twice where the words meet
    assert v.split("camkhemay") == ["cam", "khe", "may"]
    assert v.split("xyzxyz") is None and v.split("cam") is None


def test_slips():
    v = _vocabulary()
    assert v.correct("boi") == "buoi"  # three letters: a dropped vowel
    assert v.correct("nuc") == "nuoc"
    assert v.correct("rugn") == "rung"  # swapped letters: one edit
    assert v.correct("thahc") == "thach"
    assert v.correct("xyz") is None and v.correct("zzzzzz") is None


def test_understand_query():
    v = _vocabulary()
    assert v.understand("cam") is None and v.understand("bo") is None  # known, or a prefix
    u = v.understand("gaoj neeps")
    assert u is not None and u.text == "gạo nếp" and u.kinds == ("telex",)
    # the typed word stays an alternative; the last word alone stays a prefix
    assert u.groups == ((("gao",), ("gaoj",)),)
    u = v.understand("gaonep")
    assert u is not None and u.text == "gạo nếp" and u.kinds == ("split",)
    u = v.understand("boi phuc trach")
    assert u is not None and u.text == "bưởi phuc trach" and u.kinds == ("typo",)
    # a slip is a guess: the typed word stays an alternative, the last one too
    u = v.understand("mat ong rugn")
    assert u is not None and u.text == "mat ong rừng" and u.groups == ((("rung",), ("rugn",)),)
    u = v.understand("gao5 ne61p")
    assert u is not None and u.text == "gạo nếp" and u.kinds == ("vni",)
    # typed with marks, or a word of the synonym groups: left as written
    assert v.understand("chả lụa", known=frozenset({"cha", "lua"})) is None
    assert v.understand("cha", known=frozenset({"cha"})) is None
    assert v.understand("tương ớt") is None
    # a real syllable is never split into two
    assert (
        v.split("tuong") is None or v.understand("tuong") is None or v.understand("tuong").kinds != ("split",)
    )


def test_merge_with_synonyms():
    groups = [[("che",), ("tra",)]]
    merged = merge_groups(groups, [[("che",), ("chef",)], [("gao", "nep"), ("gaonep",)]])
    assert [("che",), ("tra",), ("chef",)] in merged and [("gao", "nep"), ("gaonep",)] in merged


# --- through the app ----------------------------------------------------------------------------


@pytest.fixture
def rice(factory):
    from catalog.models import Listing
    from marketplace.extensions import db

    people = People(factory)
    shop = people.shop("Nông sản Đức Thọ")
    ids = [
        factory.listing(shop=shop, title=title, category=factory.category("Gạo"), origin="Đức Thọ").id
        for title in ("Gạo nếp cái hoa vàng", "Chè xanh Hương Khê", "Bưởi Phúc Trạch")
    ]
    drain()
    return [db.session.get(Listing, i) for i in ids]


def test_results_page_shows_what_was_understood(client, rice):
    page = client.get("/tim-kiem", query_string={"q": "gaoj neeps"}).get_data(as_text=True)
    assert "Đang hiển thị kết quả cho «gạo nếp»" in page
    assert 'href="/tim-kiem?q=gaoj+neeps&amp;chinh_xac=1"' in page
    assert "<mark>Gạo</mark> <mark>nếp</mark> cái hoa vàng" in page
    exact = client.get("/tim-kiem", query_string={"q": "gaoj neeps", "chinh_xac": "1"}).get_data(as_text=True)
    assert "Đang hiển thị kết quả cho" not in exact and "Không tìm thấy sản phẩm phù hợp" in exact
    plain = client.get("/tim-kiem", query_string={"q": "gao nep"}).get_data(as_text=True)
    assert "Đang hiển thị kết quả cho" not in plain


def test_api_returns_the_understood_query(client, rice):
    body = client.get("/api/v1/search", query_string={"q": "chexanh"}).json
    assert body["query"] == {"q": "chexanh", "folded": "chexanh", "understood": "chè xanh"}
    assert [hit["id"] for hit in body["hits"]] == [rice[1].id]
    assert body["hits"][0]["highlight"]["title"].startswith("<mark>Chè</mark> <mark>xanh</mark>")
    body = client.get("/api/v1/search", query_string={"q": "gao nep"}).json
    assert body["query"]["understood"] is None and [hit["id"] for hit in body["hits"]] == [rice[0].id]
    exact = client.get("/api/v1/search", query_string={"q": "chexanh", "chinh_xac": "1"}).json
    assert exact["total"] == 0 and exact["query"]["understood"] is None
    wrong = client.get("/api/v1/search", query_string={"q": "chexanh", "chinh_xac": "yes"})
    assert wrong.status_code == 400 and "chinh_xac" in wrong.json["errors"]
    schema = client.get("/api/v1/openapi.json").json
    assert (
        "understood" in schema["components"]["schemas"]["SearchResults"]["properties"]["query"]["properties"]
    )
    path = next(value for key, value in schema["paths"].items() if key.endswith("/search"))
    names = [p["name"] for p in path["get"]["parameters"]]
    assert "chinh_xac" in names


def test_suggestions_understand_too(client, rice):
    body = client.get("/api/v1/search/suggest", query_string={"q": "boi phuc"}).json
    assert body["understood"] == "bưởi phuc" and [p["title"] for p in body["products"]] == ["Bưởi Phúc Trạch"]
    body = client.get("/api/v1/search/suggest", query_string={"q": "gaoj ne"}).json
    assert body["understood"] == "gạo ne" and [p["title"] for p in body["products"]] == [
        "Gạo nếp cái hoa vàng"
    ]
    body = client.get("/api/v1/search/suggest", query_string={"q": "cam"}).json
    assert body["understood"] is None


def test_new_words_join_the_vocabulary(client, factory, rice):
    shop = rice[0].shop
    factory.listing(shop=shop, title="Mướp đắng rừng", category=factory.category("Rau"))
    drain()
    body = client.get("/api/v1/search", query_string={"q": "muopdang"}).json
    assert body["query"]["understood"] == "mướp đắng" and body["total"] == 1
