"""The relevance set: the demo province (demo/data, its public listings) plus a fixture catalogue of
farm products named differently by region, and the queries people type, each with the listing(s)
that must be in the top three. Kinds: plain (no marks), marked, prefix, synonym, typo, telex, vni,
run_together. Used by test_search_relevance.py on every backend."""

from __future__ import annotations

import json
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "demo" / "data"

# (shop name, [(title, origin, category slug)]): regional names the demo lacks.
FIXTURE_SHOPS = [
    (
        "HTX Nông sản Can Lộc",
        [
            ("Na dai Can Lộc", "Can Lộc", "trai-cay-nong-san-tuoi"),
            ("Quả roi đỏ Hương Khê", "Hương Khê", "trai-cay-nong-san-tuoi"),
            ("Sắn tươi Hương Khê", "Hương Khê", "trai-cay-nong-san-tuoi"),
            ("Bí đỏ hữu cơ Can Lộc", "Can Lộc", "trai-cay-nong-san-tuoi"),
            ("Củ đậu Thạch Hà", "Thạch Hà", "trai-cay-nong-san-tuoi"),
            ("Mộc nhĩ rừng Vũ Quang", "Vũ Quang", "thuc-pham-che-bien"),
            ("Nấm hương khô Hương Sơn", "Hương Sơn", "thuc-pham-che-bien"),
            ("Nấm sò tươi Can Lộc", "Can Lộc", "trai-cay-nong-san-tuoi"),
            ("Chanh leo Kỳ Anh", "Kỳ Anh", "trai-cay-nong-san-tuoi"),
            ("Quả quất tươi", "Can Lộc", "trai-cay-nong-san-tuoi"),
            ("Mướp đắng rừng", "Hương Sơn", "trai-cay-nong-san-tuoi"),
            ("Dưa chuột bao tử", "Can Lộc", "trai-cay-nong-san-tuoi"),
            ("Rau mùi hữu cơ", "Can Lộc", "trai-cay-nong-san-tuoi"),
            ("Hành hoa Cẩm Xuyên", "Cẩm Xuyên", "trai-cay-nong-san-tuoi"),
            ("Khoai sọ Vũ Quang", "Vũ Quang", "trai-cay-nong-san-tuoi"),
            ("Bí xanh Nghi Xuân", "Nghi Xuân", "trai-cay-nong-san-tuoi"),
            ("Trám đen Hương Sơn", "Hương Sơn", "trai-cay-nong-san-tuoi"),
            ("Hồng xiêm Xuân Đài", "Nghi Xuân", "trai-cay-nong-san-tuoi"),
        ],
    ),
    (
        "Bếp quê Thạch Hà",
        [
            ("Cá tràu đồng Can Lộc", "Can Lộc", "thuc-pham-che-bien"),
            ("Đậu phụ non Đức Thọ", "Đức Thọ", "thuc-pham-che-bien"),
            ("Ngan cỏ Hương Khê", "Hương Khê", "thuc-pham-che-bien"),
            ("Thịt ba chỉ lợn đen", "Hương Sơn", "thuc-pham-che-bien"),
            ("Giò lụa Hà Tĩnh", "Thạch Hà", "thuc-pham-che-bien"),
            ("Nem rán Thạch Hà", "Thạch Hà", "thuc-pham-che-bien"),
            ("Xì dầu đậu nành", "Thạch Hà", "nuoc-mam-gia-vi"),
            ("Ô mai mơ gừng", "Thạch Hà", "banh-keo-dac-san"),
            ("Trứng gà ta thả vườn", "Thạch Hà", "thuc-pham-che-bien"),
            ("Hạt điều rang muối", "Thạch Hà", "banh-keo-dac-san"),
            ("Cà phê rang xay Hương Khê", "Hương Khê", "nuoc-uong-nuoc-ep"),
            ("Miến dong", "Thạch Hà", "thuc-pham-che-bien"),
            ("Sữa chua nếp cẩm", "Thạch Hà", "thuc-pham-che-bien"),
            ("Lạp xưởng tươi", "Thạch Hà", "thuc-pham-che-bien"),
        ],
    ),
]


def demo_catalogue() -> list[tuple[str, list[dict]]]:
    """(shop name, listing specs) of the demo's approved shops, their active listings only: what
    the demo province shows the public."""
    shops = json.loads((DEMO / "shops.json").read_text(encoding="utf-8"))
    listings = json.loads((DEMO / "listings.json").read_text(encoding="utf-8"))
    out = []
    for shop in shops:
        if shop.get("status", "approved") != "approved":
            continue
        items = [item for item in listings.get(shop["slug"], []) if item.get("status", "active") == "active"]
        out.append((shop["name"], items))
    return out


CAM_BU = [
    "Cam bù Hương Sơn loại 1",
    "Cam bù Hương Sơn hộp quà 5 kg",
    "Cam bù Hương Sơn loại 2 (quả nhỏ)",
    "Cam bù Hương Sơn thùng 10 kg",
]
CAM_KHE_MAY = ["Cam Khe Mây loại 1", "Cam Khe Mây túi 3 kg", "Cam Khe Mây hữu cơ"]
BUOI = [
    "Bưởi Phúc Trạch loại 1",
    "Bưởi Phúc Trạch hộp quà 2 quả",
    "Bưởi Phúc Trạch loại 2",
    "Bưởi Phúc Trạch (chục 10 quả)",
]
MAT_ONG_RUNG = ["Mật ong rừng Hương Sơn 500 ml", "Mật ong rừng Hương Sơn 250 ml"]
MAT_ONG = [
    *MAT_ONG_RUNG,
    "Mật ong hoa cam Hương Sơn 1 lít",
    "Mật ong hoa keo hũ 1 kg",
    "Mật ong hoa cam Khe Mây 500 ml",
    "Gừng ngâm mật ong hũ 500 g",
]
KEO_CU_DO = [
    "Kẹo cu đơ Hà Tĩnh hộp 500 g",
    "Kẹo cu đơ túi 10 chiếc",
    "Kẹo cu đơ gừng cay",
    "Kẹo cu đơ hộp quà Tết (3 hộp)",
]
NUOC_MAM = [
    "Nước mắm cá cơm Thạch Kim 40 độ đạm 500 ml",
    "Nước mắm truyền thống Thạch Kim 30 độ đạm 1 lít",
    "Nước mắm nhĩ 45 độ đạm 250 ml",
    "Nước mắm Thạch Kim can 5 lít",
]
MUC_KHO = ["Mực khô Thiên Cầm loại 1 (15–20 con/kg)", "Mực khô Thiên Cầm loại 2 (25–30 con/kg)"]
CHE_XANH = [
    "Chè xanh tươi Hương Khê",
    "Chè xanh sao sấy hộp quà 500 g",
    "Chè xanh túi lọc hộp 25 gói",
    "Chè búp khô Hương Khê túi 200 g",
]
NHUNG_HUOU = [
    "Nhung hươu Hương Sơn tươi (đặt trước)",
    "Nhung hươu Hương Sơn sấy khô thái lát",
    "Rượu nhung hươu Hương Sơn 500 ml",
    "Bột nhung hươu hũ 50 g",
]
BANH_DA = [
    "Bánh đa vừng Hà Tĩnh (túi 10 chiếc)",
    "Bánh đa vừng đen (túi 10 chiếc)",
    "Trải nghiệm làm bánh đa vừng",
]
TINH_DAU = [
    "Tinh dầu vỏ cam Hương Sơn 10 ml",
    "Tinh dầu bưởi Phúc Trạch 50 ml",
    "Tinh dầu sả chanh Vũ Quang 50 ml",
]
GAO_NEP = ["Gạo nếp cái hoa vàng Đức Thọ"]
GAO_LUT = ["Gạo lứt đỏ hữu cơ túi 2 kg", "Bột gạo lứt rang hộp 500 g"]
CA_GAI_LEO = ["Cao cà gai leo hũ 100 g", "Trà cà gai leo Vũ Quang hộp 200 g"]
RUOU_NEP = ["Rượu nếp Xuân Thành 500 ml"]

# (kind, query, titles of which one must be in the top three)
QUERIES: list[tuple[str, str, list[str]]] = [
    # without marks
    ("plain", "cam bu huong son", CAM_BU),
    ("plain", "buoi phuc trach", BUOI),
    ("plain", "mat ong rung", MAT_ONG_RUNG),
    ("plain", "keo cu do", KEO_CU_DO),
    ("plain", "nuoc mam thach kim", NUOC_MAM),
    ("plain", "muc kho thien cam", MUC_KHO),
    ("plain", "che xanh huong khe", CHE_XANH),
    ("plain", "gao nep cai hoa vang", GAO_NEP),
    ("plain", "nhung huou say kho", ["Nhung hươu Hương Sơn sấy khô thái lát"]),
    ("plain", "ruou nep xuan thanh", RUOU_NEP),
    ("plain", "non la", ["Nón lá truyền thống Hà Tĩnh"]),
    ("plain", "tinh dau buoi", ["Tinh dầu bưởi Phúc Trạch 50 ml"]),
    ("plain", "ca chi vang", ["Cá chỉ vàng khô túi 500 g"]),
    ("plain", "tra giao co lam", ["Trà giảo cổ lam túi lọc (30 gói)"]),
    ("plain", "banh da vung", BANH_DA),
    ("plain", "mut vo cam", ["Mứt vỏ cam bù sấy dẻo"]),
    ("plain", "cao ca gai leo", ["Cao cà gai leo hũ 100 g"]),
    ("plain", "khoai lang nghi xuan", ["Khoai lang Nghi Xuân"]),
    ("plain", "moc nhi rung", ["Mộc nhĩ rừng Vũ Quang"]),
    ("plain", "ca trau dong", ["Cá tràu đồng Can Lộc"]),
    ("plain", "gao st25", ["Gạo ST25 trồng tại Đức Thọ túi 5 kg"]),
    ("plain", "dau xanh duc tho", ["Đậu xanh hạt Đức Thọ"]),
    # with the right marks
    ("marked", "Cam Khe Mây", CAM_KHE_MAY),
    ("marked", "bưởi Phúc Trạch loại 1", ["Bưởi Phúc Trạch loại 1"]),
    ("marked", "Mật ong hoa cam", ["Mật ong hoa cam Hương Sơn 1 lít", "Mật ong hoa cam Khe Mây 500 ml"]),
    ("marked", "kẹo vỏ bưởi", ["Kẹo vỏ bưởi hộp 200 g"]),
    ("marked", "nước gội bưởi", ["Nước gội bưởi thảo mộc 300 ml"]),
    ("marked", "sáp ong", ["Sáp ong nguyên chất 100 g"]),
    ("marked", "phấn hoa", ["Phấn hoa ong Hương Sơn hũ 200 g"]),
    ("marked", "gừng ngâm mật ong", ["Gừng ngâm mật ong hũ 500 g"]),
    ("marked", "rượu nhung hươu", ["Rượu nhung hươu Hương Sơn 500 ml"]),
    ("marked", "mắm ruốc", ["Mắm ruốc Thạch Kim hũ 500 g"]),
    ("marked", "mắm tép", ["Mắm tép Lộc Hà hũ 300 g"]),
    ("marked", "tôm khô", ["Tôm khô Cẩm Xuyên loại 1"]),
    ("marked", "chè vằng", ["Chè vằng Hà Tĩnh túi 500 g"]),
    ("marked", "gạo lứt đỏ", ["Gạo lứt đỏ hữu cơ túi 2 kg"]),
    ("marked", "sâm Bố Chính", ["Sâm Bố Chính khô 100 g"]),
    ("marked", "xà phòng thảo mộc", ["Xà phòng thảo mộc handmade"]),
    ("marked", "giỏ mây", ["Giỏ mây đan đựng đồ"]),
    ("marked", "bàn trà gỗ mít", ["Bàn trà gỗ mít nguyên khối"]),
    ("marked", "đạp xe làng quê", ["Đạp xe làng quê Nghi Xuân nửa ngày"]),
    ("marked", "nấm linh chi", ["Nấm linh chi Vũ Quang thái lát túi 500 g"]),
    ("marked", "cá đù khô", ["Cá đù khô túi 500 g"]),
    ("marked", "chanh leo", ["Chanh leo Kỳ Anh"]),
    # the last word being typed
    ("prefix", "buoi phu", BUOI),
    ("prefix", "cam bu huong s", CAM_BU),
    ("prefix", "mat ong r", MAT_ONG_RUNG),
    ("prefix", "keo cu d", KEO_CU_DO),
    ("prefix", "nhung hu", NHUNG_HUOU),
    ("prefix", "tinh dau s", ["Tinh dầu sả chanh Vũ Quang 50 ml"]),
    (
        "prefix",
        "homest",
        ["Homestay vườn cam Sơn Kim (phòng đôi/đêm)", "Homestay làng Tiên Điền (phòng đôi/đêm)"],
    ),
    ("prefix", "che bu", ["Chè búp khô Hương Khê túi 200 g"]),
    ("prefix", "gao kha", ["Gạo Khang Dân Đức Thọ bao 10 kg"]),
    ("prefix", "ca com kh", ["Cá cơm khô Thiên Cầm"]),
    ("prefix", "nuoc mam nh", ["Nước mắm nhĩ 45 độ đạm 250 ml"]),
    ("prefix", "ro tr", ["Rổ tre đan tay"]),
    ("prefix", "moc kho", ["Móc khóa gỗ khắc chữ Hà Tĩnh"]),
    ("prefix", "vai la", ["Vải lanh dệt tay (mét)"]),
    ("prefix", "choi d", ["Chổi đót"]),
    ("prefix", "tham quan tr", ["Tham quan trại hươu Sơn Kim"]),
    ("prefix", "bot gao l", ["Bột gạo lứt rang hộp 500 g"]),
    ("prefix", "ngan c", ["Ngan cỏ Hương Khê"]),
    ("prefix", "mien d", ["Miến dong"]),
    ("prefix", "ca tra", ["Cá tràu đồng Can Lộc"]),
    # the operator's synonyms, regional names included
    ("synonym", "trà xanh", CHE_XANH),
    ("synonym", "đậu phộng đỏ", ["Lạc đỏ Đức Thọ"]),
    ("synonym", "kẹo đậu phộng", ["Kẹo lạc mật mía túi 300 g"]),
    ("synonym", "bánh tráng mè", BANH_DA),
    ("synonym", "đỗ xanh", ["Đậu xanh hạt Đức Thọ"]),
    ("synonym", "mãng cầu", ["Na dai Can Lộc"]),
    ("synonym", "trái mận", ["Quả roi đỏ Hương Khê"]),
    ("synonym", "khoai mì", ["Sắn tươi Hương Khê"]),
    ("synonym", "bí rợ", ["Bí đỏ hữu cơ Can Lộc"]),
    ("synonym", "bí ngô", ["Bí đỏ hữu cơ Can Lộc"]),
    ("synonym", "sắn nước", ["Củ đậu Thạch Hà"]),
    ("synonym", "nấm mèo", ["Mộc nhĩ rừng Vũ Quang"]),
    ("synonym", "nấm đông cô", ["Nấm hương khô Hương Sơn"]),
    ("synonym", "nấm bào ngư", ["Nấm sò tươi Can Lộc"]),
    ("synonym", "cá lóc", ["Cá tràu đồng Can Lộc"]),
    ("synonym", "cá quả", ["Cá tràu đồng Can Lộc"]),
    ("synonym", "chanh dây", ["Chanh leo Kỳ Anh"]),
    ("synonym", "tắc", ["Quả quất tươi"]),
    ("synonym", "khổ qua", ["Mướp đắng rừng"]),
    ("synonym", "dưa leo", ["Dưa chuột bao tử"]),
    ("synonym", "ngò rí", ["Rau mùi hữu cơ"]),
    ("synonym", "hành lá", ["Hành hoa Cẩm Xuyên"]),
    ("synonym", "đậu hũ", ["Đậu phụ non Đức Thọ"]),
    ("synonym", "khoai môn", ["Khoai sọ Vũ Quang"]),
    ("synonym", "vịt xiêm", ["Ngan cỏ Hương Khê"]),
    ("synonym", "thịt ba rọi", ["Thịt ba chỉ lợn đen"]),
    ("synonym", "chả lụa", ["Giò lụa Hà Tĩnh"]),
    ("synonym", "chả giò", ["Nem rán Thạch Hà"]),
    ("synonym", "nước tương", ["Xì dầu đậu nành"]),
    ("synonym", "xí muội", ["Ô mai mơ gừng"]),
    ("synonym", "bí đao", ["Bí xanh Nghi Xuân"]),
    ("synonym", "hột gà", ["Trứng gà ta thả vườn"]),
    ("synonym", "cafe", ["Cà phê rang xay Hương Khê"]),
    ("synonym", "bún tàu", ["Miến dong"]),
    ("synonym", "cà na", ["Trám đen Hương Sơn"]),
    ("synonym", "sapôchê", ["Hồng xiêm Xuân Đài"]),
    # slips: a letter doubled, dropped, swapped; three-letter words missing a vowel
    ("typo", "boi phuc trach", BUOI),
    ("typo", "mat ong rugn", MAT_ONG_RUNG),
    ("typo", "nuoc mam thach kimm", NUOC_MAM),
    ("typo", "nhung huuo", NHUNG_HUOU),
    ("typo", "tinh dau buooi", ["Tinh dầu bưởi Phúc Trạch 50 ml"]),
    ("typo", "ca com kho thien camm", ["Cá cơm khô Thiên Cầm"]),
    ("typo", "mut vo cam bu sayy deo", ["Mứt vỏ cam bù sấy dẻo"]),
    ("typo", "giao co lamm", ["Trà giảo cổ lam túi lọc (30 gói)"]),
    ("typo", "ruou nep xuan thahn", RUOU_NEP),
    ("typo", "che vangg", ["Chè vằng Hà Tĩnh túi 500 g"]),
    ("typo", "gao khang dann", ["Gạo Khang Dân Đức Thọ bao 10 kg"]),
    ("typo", "sam bo chinhh", ["Sâm Bố Chính khô 100 g"]),
    ("typo", "xa phong thao mocc", ["Xà phòng thảo mộc handmade"]),
    ("typo", "ban tra go mitt", ["Bàn trà gỗ mít nguyên khối"]),
    ("typo", "mat ongg huong son", MAT_ONG),
    ("typo", "nuc mam", NUOC_MAM),
    ("typo", "ruu nep", RUOU_NEP),
    ("typo", "moc nhii rung", ["Mộc nhĩ rừng Vũ Quang"]),
    ("typo", "nam huongg kho", ["Nấm hương khô Hương Sơn"]),
    ("typo", "gio luaa", ["Giò lụa Hà Tĩnh"]),
    ("typo", "banh da vungg", BANH_DA),
    ("typo", "keo lac mat miaa", ["Kẹo lạc mật mía túi 300 g"]),
    ("typo", "dua chuott", ["Dưa chuột bao tử"]),
    # Telex with the Vietnamese keyboard off
    ("telex", "gaoj neeps", GAO_NEP),
    ("telex", "chef xanh", CHE_XANH),
    ("telex", "ddaauj xanh", ["Đậu xanh hạt Đức Thọ"]),
    ("telex", "buwowir phucs trachj", BUOI),
    ("telex", "maatj ong rungf", MAT_ONG_RUNG),
    ("telex", "keoj cu ddow", KEO_CU_DO),
    ("telex", "nuwowcs mawms", NUOC_MAM),
    ("telex", "mwcj khoo", MUC_KHO),
    ("telex", "gaoj luwts ddor", ["Gạo lứt đỏ hữu cơ túi 2 kg"]),
    ("telex", "nhung huwowu", NHUNG_HUOU),
    ("telex", "ruwowuj neps", RUOU_NEP),
    ("telex", "tinh daauf sar chanh", ["Tinh dầu sả chanh Vũ Quang 50 ml"]),
    ("telex", "nons las", ["Nón lá truyền thống Hà Tĩnh"]),
    ("telex", "banhs dda vuwngf", BANH_DA),
    ("telex", "caf gai leo", CA_GAI_LEO),
    ("telex", "chanh leo kyf anh", ["Chanh leo Kỳ Anh"]),
    ("telex", "moocj nhix", ["Mộc nhĩ rừng Vũ Quang"]),
    ("telex", "nasm huwowng", ["Nấm hương khô Hương Sơn"]),
    ("telex", "cas trauf", ["Cá tràu đồng Can Lộc"]),
    ("telex", "khoai lang nghi xuaan", ["Khoai lang Nghi Xuân"]),
    ("telex", "homestay laangf tieen ddieenf", ["Homestay làng Tiên Điền (phòng đôi/đêm)"]),
    ("telex", "giof luaj", ["Giò lụa Hà Tĩnh"]),
    # VNI with the Vietnamese keyboard off
    ("vni", "gao5 ne61p", GAO_NEP),
    ("vni", "che2 xanh", CHE_XANH),
    ("vni", "d9a65u xanh", ["Đậu xanh hạt Đức Thọ"]),
    ("vni", "bu7o73i phu1c tra5ch", BUOI),
    ("vni", "ma65t ong ru72ng", MAT_ONG_RUNG),
    ("vni", "ke5o cu d9o7", KEO_CU_DO),
    ("vni", "nu7o7c1 ma81m", NUOC_MAM),
    ("vni", "mu7c5 kho6", MUC_KHO),
    ("vni", "ga5o lu7t1 d9o3", ["Gạo lứt đỏ hữu cơ túi 2 kg"]),
    ("vni", "ru7o75u ne61p", RUOU_NEP),
    ("vni", "no1n la1", ["Nón lá truyền thống Hà Tĩnh"]),
    ("vni", "ba1nh d9a vu72ng", BANH_DA),
    ("vni", "ca2 gai leo", CA_GAI_LEO),
    ("vni", "mo65c nhi4", ["Mộc nhĩ rừng Vũ Quang"]),
    ("vni", "na61m hu7o7ng", ["Nấm hương khô Hương Sơn"]),
    ("vni", "ca1 tra2u", ["Cá tràu đồng Can Lộc"]),
    ("vni", "khoai lang nghi xua6n", ["Khoai lang Nghi Xuân"]),
    ("vni", "nhung hu7o7u", NHUNG_HUOU),
    ("vni", "tinh da62u bu7o73i", ["Tinh dầu bưởi Phúc Trạch 50 ml"]),
    ("vni", "gio2 lu5a", ["Giò lụa Hà Tĩnh"]),
    # words run together
    ("run_together", "gaonep", GAO_NEP),
    ("run_together", "chexanh", CHE_XANH),
    ("run_together", "banhda", BANH_DA),
    ("run_together", "mattong", MAT_ONG),
    ("run_together", "camkhemay", CAM_KHE_MAY),
    ("run_together", "buoiphuctrach", BUOI),
    ("run_together", "keocudo", KEO_CU_DO),
    ("run_together", "nuocmam", NUOC_MAM),
    ("run_together", "muckho", MUC_KHO),
    ("run_together", "nhunghuou", NHUNG_HUOU),
    ("run_together", "ruounep", RUOU_NEP),
    ("run_together", "nonla", ["Nón lá truyền thống Hà Tĩnh"]),
    ("run_together", "tinhdau", TINH_DAU),
    ("run_together", "khoailang", ["Khoai lang Nghi Xuân"]),
    ("run_together", "mocnhi", ["Mộc nhĩ rừng Vũ Quang"]),
    ("run_together", "giolua", ["Giò lụa Hà Tĩnh"]),
    ("run_together", "catrau", ["Cá tràu đồng Can Lộc"]),
    ("run_together", "chanhleo", ["Chanh leo Kỳ Anh"]),
    ("run_together", "gaolut", GAO_LUT),
    ("run_together", "dauxanh", ["Đậu xanh hạt Đức Thọ"]),
    ("run_together", "namhuong", ["Nấm hương khô Hương Sơn"]),
    ("run_together", "sapong", ["Sáp ong nguyên chất 100 g"]),
]
