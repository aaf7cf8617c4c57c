"""Sales by the buyer's province as a tile-grid map of Vietnam: one square per province of the
official list after 1 July 2025 (the `vietnam-provinces` package, 34 units), placed roughly where
the province lies, shaded by its share of the period's GMV. Drawn here as SVG like every chart
(no map tiles, nothing fetched); each square has its own <title>, the figure a text alternative,
and the table beside it lists every province, zeros included.

The grid is ours (the package has names and codes, not positions): north to south in rows, west
to east in columns, so neighbours stay neighbours even though areas are not to scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape

from marketplace.money import format_vnd

from .charts import Chart, number

# province code -> (column, row, short label)
GRID: dict[int, tuple[int, int, str]] = {
    12: (1, 0, "LC"),  # Lai Châu
    15: (2, 0, "LCa"),  # Lào Cai
    8: (3, 0, "TQ"),  # Tuyên Quang
    4: (4, 0, "CB"),  # Cao Bằng
    11: (0, 1, "ĐB"),  # Điện Biên
    14: (1, 1, "SL"),  # Sơn La
    25: (2, 1, "PT"),  # Phú Thọ
    19: (3, 1, "TN"),  # Thái Nguyên
    20: (4, 1, "LS"),  # Lạng Sơn
    1: (2, 2, "HN"),  # Hà Nội
    24: (3, 2, "BN"),  # Bắc Ninh
    22: (4, 2, "QN"),  # Quảng Ninh
    37: (2, 3, "NB"),  # Ninh Bình
    33: (3, 3, "HY"),  # Hưng Yên
    31: (4, 3, "HP"),  # Hải Phòng
    38: (2, 4, "TH"),  # Thanh Hóa
    40: (2, 5, "NA"),  # Nghệ An
    42: (3, 6, "HT"),  # Hà Tĩnh
    44: (3, 7, "QT"),  # Quảng Trị
    46: (4, 8, "Huế"),  # Huế
    48: (4, 9, "ĐNg"),  # Đà Nẵng
    51: (4, 10, "QNg"),  # Quảng Ngãi
    52: (4, 11, "GL"),  # Gia Lai
    66: (3, 12, "ĐL"),  # Đắk Lắk
    56: (4, 12, "KH"),  # Khánh Hòa
    68: (3, 13, "LĐ"),  # Lâm Đồng
    80: (1, 14, "TNi"),  # Tây Ninh
    79: (2, 14, "HCM"),  # Hồ Chí Minh
    75: (3, 14, "ĐNa"),  # Đồng Nai
    91: (0, 15, "AG"),  # An Giang
    82: (1, 15, "ĐT"),  # Đồng Tháp
    86: (2, 15, "VL"),  # Vĩnh Long
    96: (0, 16, "CM"),  # Cà Mau
    92: (1, 16, "CT"),  # Cần Thơ
}
TILE, GAP, PAD = 34, 4, 8
SHADES = 5  # classes map-0 (nothing) .. map-4 (the most), styled in static/css/dashboards-operator.css


def official_provinces() -> list[tuple[int, str]]:
    """(code, official name) of every province, as the package lists them."""
    from vietnam_provinces import Province

    return [(int(p.code), str(p.name)) for p in Province.iter_all()]


def shade(value: int, top: int) -> int:
    if value <= 0 or top <= 0:
        return 0
    return min(SHADES - 1, 1 + (SHADES - 2) * value // top)


def province_map(rows: Sequence[Sequence[Any]], floor_province: str) -> Chart:
    """`rows`: (province, GMV, orders) from `operator.by_buyer_province`."""
    figures = {str(row[0]): (int(row[1] or 0), int(row[2] or 0)) for row in rows}
    provinces = official_provinces()
    known = {name for _code, name in provinces}
    top = max((gmv for gmv, _n in figures.values()), default=0)
    reached = sorted(
        ((figures[name][0], name) for name in known if figures.get(name, (0, 0))[0]), reverse=True
    )
    title = _("Bản đồ doanh số theo tỉnh/thành của người mua")
    if reached:
        summary = _(
            "Người mua ở %(count)d trên %(total)d tỉnh/thành; nhiều nhất: %(leaders)s.",
            count=len(reached),
            total=len(provinces),
            leaders=", ".join(f"{name} ({format_vnd(gmv)})" for gmv, name in reached[:3]),
        )
    else:
        summary = _("Chưa có đơn hàng nào trong khoảng thời gian này.")
    columns = 1 + max(col for col, _row, _label in GRID.values())
    lines = 1 + max(row for _col, row, _label in GRID.values())
    width, height = PAD * 2 + columns * (TILE + GAP), PAD * 2 + lines * (TILE + GAP)
    parts = [
        f'<svg class="chart-svg province-map" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="chart-map-t chart-map-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-map-t">{escape(title)}</title>',
        f'<desc id="chart-map-d">{escape(summary)}</desc>',
    ]
    for code, name in provinces:
        if code not in GRID:
            continue
        col, line, label = GRID[code]
        gmv, orders = figures.get(name, (0, 0))
        x, y = PAD + col * (TILE + GAP), PAD + line * (TILE + GAP)
        home = " map-home" if name == floor_province else ""
        tip = _(
            "%(province)s: %(gmv)s, %(orders)s đơn", province=name, gmv=format_vnd(gmv), orders=number(orders)
        )
        parts.append(
            f'<g class="map-tile map-{shade(gmv, top)}{home}"><title>{escape(tip)}</title>'
            f'<rect x="{x}" y="{y}" width="{TILE}" height="{TILE}" rx="4"/>'
            f'<text x="{x + TILE / 2}" y="{y + TILE / 2 + 4}" text-anchor="middle">{escape(label)}</text></g>'
        )
    parts.append("</svg>")
    table = [
        [name, format_vnd(figures.get(name, (0, 0))[0]), number(figures.get(name, (0, 0))[1])]
        for _c, name in provinces
    ]
    others = sorted(set(figures) - known)  # a name an older address kept (before the 2025 merger)
    table += [[name, format_vnd(figures[name][0]), number(figures[name][1])] for name in others]
    return Chart(
        id="chart-map",
        title=title,
        summary=summary,
        svg=Markup("".join(parts)),  # noqa: S704 -- every text above went through escape()
        columns=[_("Tỉnh/thành"), _("GMV"), _("Số đơn")],
        rows=table,
    )
