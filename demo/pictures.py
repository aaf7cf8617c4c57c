"""Demo pictures drawn with Pillow: a soft gradient, a simple shape per product family, a label.

Nothing is downloaded and no photo is committed. The output is deterministic (same family, same
bytes), so the content-addressed image store keeps one copy per family however often the demo
is loaded. Text needs a font with Vietnamese glyphs (DejaVu Sans is common on Linux); without
one the pictures carry shapes only."""

from __future__ import annotations

import io
import json
import math
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

SIZE = 600
SCALE = 2  # drawn at twice the size, then reduced: cheap anti-aliasing
FONT_NAMES = (
    "DejaVuSans-Bold.ttf",
    "DejaVuSans.ttf",
    "NotoSans-Bold.ttf",
    "NotoSans-Regular.ttf",
    "LiberationSans-Bold.ttf",
    "Arial.ttf",
    "arial.ttf",
)
VIETNAMESE_SAMPLE = "ăâđêôơưệữỹ"


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    """factor < 1 darkens, > 1 lightens towards white."""
    if factor <= 1:
        return tuple(int(c * factor) for c in colour)  # type: ignore[return-value]
    return tuple(int(c + (255 - c) * (factor - 1)) for c in colour)  # type: ignore[return-value]


def _covers_vietnamese(font: ImageFont.FreeTypeFont) -> bool:
    """A font lacking a glyph draws the same 'missing' box for it as for a private-use character."""
    missing = font.getmask("\ue000")
    missing_sig = (missing.size, bytes(missing))
    return all((m.size, bytes(m)) != missing_sig for m in (font.getmask(ch) for ch in VIETNAMESE_SAMPLE))


@lru_cache(maxsize=8)
def find_font(size: int) -> ImageFont.FreeTypeFont | None:
    """A TrueType font that draws Vietnamese, looked up in the system font folders, or None."""
    for name in FONT_NAMES:
        try:
            font = ImageFont.truetype(name, size)
        except OSError:
            continue
        if _covers_vietnamese(font):
            return font
    try:  # Pillow >= 10.1 bundles a scalable font; it lacks Vietnamese glyphs today, but check.
        default = ImageFont.load_default(size=size)
    except (TypeError, ValueError, OSError):
        return None
    return default if isinstance(default, ImageFont.FreeTypeFont) and _covers_vietnamese(default) else None


def _gradient(size: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    mask = Image.linear_gradient("L").resize((size, size), Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", (size, size), bottom), Image.new("RGB", (size, size), top), mask)


class _Pen:
    """Draws in a 600×600 coordinate space onto the supersampled canvas."""

    def __init__(self, draw: ImageDraw.ImageDraw):
        self.d = draw

    @staticmethod
    def s(*values: float) -> list[float]:
        return [v * SCALE for v in values]

    def ellipse(self, box, fill, outline=None, width=0):
        self.d.ellipse(self.s(*box), fill=fill, outline=outline, width=width * SCALE)

    def rect(self, box, fill, radius=0, outline=None, width=0):
        self.d.rounded_rectangle(
            self.s(*box), radius=radius * SCALE, fill=fill, outline=outline, width=width * SCALE
        )

    def polygon(self, points, fill, outline=None):
        self.d.polygon([(x * SCALE, y * SCALE) for x, y in points], fill=fill, outline=outline)

    def line(self, points, fill, width):
        self.d.line(
            [(x * SCALE, y * SCALE) for x, y in points], fill=fill, width=width * SCALE, joint="curve"
        )
        r = width / 2  # round caps
        for x, y in (points[0], points[-1]):
            self.ellipse((x - r, y - r, x + r, y + r), fill=fill)

    def arc(self, box, start, end, fill, width):
        self.d.arc(self.s(*box), start, end, fill=fill, width=width * SCALE)

    def chord(self, box, start, end, fill):
        self.d.chord(self.s(*box), start, end, fill=fill)

    def pieslice(self, box, start, end, fill):
        self.d.pieslice(self.s(*box), start, end, fill=fill)


def _leaf_points(
    cx: float, cy: float, length: float, width: float, angle_deg: float
) -> list[tuple[float, float]]:
    angle = math.radians(angle_deg)
    points = []
    for i in range(21):
        t = i / 20
        points.append((t * length, -width * math.sin(math.pi * t)))
    for i in range(20, -1, -1):
        t = i / 20
        points.append((t * length, width * math.sin(math.pi * t)))
    return [
        (cx + x * math.cos(angle) - y * math.sin(angle), cy + x * math.sin(angle) + y * math.cos(angle))
        for x, y in points
    ]


LEAF_GREEN = (76, 148, 60)


def _fruit(p: _Pen, c):
    p.ellipse((150, 110, 450, 410), fill=c)
    p.ellipse((205, 160, 275, 215), fill=_shade(c, 1.45))
    p.line([(300, 115), (310, 80)], fill=(110, 80, 50), width=8)
    p.polygon(_leaf_points(310, 88, 110, 32, -25), fill=LEAF_GREEN)


def _pomelo(p: _Pen, c):
    p.ellipse((225, 90, 375, 250), fill=c)
    p.ellipse((140, 150, 460, 420), fill=c)
    p.ellipse((200, 200, 260, 250), fill=_shade(c, 1.4))
    p.polygon(_leaf_points(300, 92, 120, 34, -35), fill=LEAF_GREEN)


def _jar(p: _Pen, c):
    p.rect((195, 165, 405, 420), fill=c, radius=45)
    p.rect((215, 120, 385, 172), fill=_shade(c, 0.6), radius=10)
    p.rect((220, 245, 380, 335), fill=(255, 250, 238), radius=8)
    p.line([(245, 275), (355, 275)], fill=_shade(c, 0.7), width=6)
    p.line([(260, 305), (340, 305)], fill=_shade(c, 0.85), width=6)
    p.ellipse((218, 190, 248, 230), fill=_shade(c, 1.35))


def _bottle(p: _Pen, c):
    p.rect((272, 70, 328, 102), fill=_shade(c, 0.5), radius=6)
    p.rect((278, 100, 322, 170), fill=_shade(c, 1.2), radius=4)
    p.polygon([(278, 165), (322, 165), (380, 225), (220, 225)], fill=c)
    p.rect((220, 215, 380, 430), fill=c, radius=22)
    p.rect((232, 275, 368, 360), fill=(255, 250, 238), radius=6)
    p.line([(255, 305), (345, 305)], fill=_shade(c, 0.7), width=6)
    p.line([(235, 235), (235, 410)], fill=_shade(c, 1.35), width=8)


def _dropper(p: _Pen, c):
    p.ellipse((272, 95, 328, 160), fill=(60, 60, 60))
    p.rect((262, 150, 338, 235), fill=(40, 40, 40), radius=8)
    p.rect((225, 230, 375, 425), fill=c, radius=30)
    p.rect((240, 290, 360, 370), fill=(255, 250, 238), radius=6)
    p.polygon(_leaf_points(265, 330, 70, 18, -20), fill=LEAF_GREEN)


def _leaf(p: _Pen, c):
    p.polygon(_leaf_points(170, 380, 300, 85, -55), fill=c)
    p.line([(170, 380), (345, 135)], fill=_shade(c, 1.4), width=5)
    p.polygon(_leaf_points(250, 400, 220, 60, -15), fill=_shade(c, 1.25))
    p.polygon(_leaf_points(200, 390, 180, 50, -95), fill=_shade(c, 0.8))


def _sack(p: _Pen, c):
    p.polygon([(190, 190), (410, 190), (440, 420), (160, 420)], fill=c)
    p.polygon([(230, 120), (370, 120), (330, 195), (270, 195)], fill=_shade(c, 1.15))
    p.line([(262, 190), (338, 190)], fill=_shade(c, 0.6), width=12)
    p.rect((215, 270, 385, 350), fill=(255, 250, 238), radius=6)
    for i, x in enumerate(range(180, 430, 28)):
        y = 440 + (i % 2) * 10
        p.ellipse((x, y, x + 14, y + 22), fill=(250, 245, 225))


def _fish_shape(p: _Pen, c, y: float, flip: bool = False):
    body = (170, y - 60, 400, y + 60)
    tail = [(395, y), (470, y - 60), (470, y + 60)]
    if flip:
        body = (200, y - 60, 430, y + 60)
        tail = [(205, y), (130, y - 60), (130, y + 60)]
    p.ellipse(body, fill=c)
    p.polygon(tail, fill=_shade(c, 0.8))
    ex = 215 if not flip else 375
    p.ellipse((ex - 12, y - 22, ex + 12, y + 2), fill=(40, 40, 40))
    p.arc((body[0] + 60, y - 40, body[2] - 60, y + 40), 60, 120, fill=_shade(c, 1.3), width=5)


def _fish(p: _Pen, c):
    _fish_shape(p, c, 180)
    _fish_shape(p, _shade(c, 1.15), 330, flip=True)


def _squid(p: _Pen, c):
    p.polygon([(300, 80), (375, 200), (360, 330), (240, 330), (225, 200)], fill=c)
    p.polygon([(300, 80), (230, 150), (200, 190), (235, 200)], fill=_shade(c, 0.85))
    p.polygon([(300, 80), (370, 150), (400, 190), (365, 200)], fill=_shade(c, 0.85))
    for i, x in enumerate(range(250, 361, 22)):
        p.line([(x, 325), (x + (i - 2.5) * 12, 440 + (i % 2) * 20)], fill=_shade(c, 0.9), width=12)
    p.ellipse((262, 270, 284, 292), fill=(60, 40, 30))
    p.ellipse((316, 270, 338, 292), fill=(60, 40, 30))


def _shrimp(p: _Pen, c):
    # A curled shrimp: body segments on a circle from the head (lower left) round to the tail.
    for k in range(7):
        start = 150 + k * 32
        p.arc((160, 130, 440, 410), start, start + 29, fill=_shade(c, 1 - k * 0.06), width=70 - k * 6)
    p.polygon([(425, 300), (490, 360), (420, 380)], fill=_shade(c, 0.75))
    p.ellipse((175, 300, 200, 325), fill=(40, 40, 40))
    p.line([(180, 320), (110, 400)], fill=_shade(c, 0.7), width=4)
    p.line([(185, 330), (140, 430)], fill=_shade(c, 0.7), width=4)


def _candy(p: _Pen, c):
    for i, y in enumerate((320, 240, 160)):
        x0 = 150 + i * 15
        p.rect((x0, y, x0 + 300, y + 70), fill=(236, 214, 170), radius=10)
        p.rect((x0 + 8, y + 16, x0 + 292, y + 54), fill=_shade(c, 1 - i * 0.08), radius=6)
        for k in range(9):
            sx = x0 + 25 + k * 31
            p.ellipse((sx, y + 4, sx + 8, y + 12), fill=(250, 245, 230))
            p.ellipse((sx + 12, y + 58, sx + 20, y + 66), fill=(60, 50, 40))


def _box(p: _Pen, c):
    p.rect((170, 200, 430, 420), fill=c, radius=8)
    p.rect((155, 160, 445, 215), fill=_shade(c, 0.85), radius=8)
    p.rect((285, 160, 315, 420), fill=(255, 214, 79))
    p.rect((170, 300, 430, 325), fill=(255, 214, 79))
    p.ellipse((230, 105, 300, 165), fill=(255, 214, 79))
    p.ellipse((300, 105, 370, 165), fill=(255, 214, 79))
    p.ellipse((285, 140, 315, 170), fill=_shade((255, 214, 79), 0.8))


def _antler(p: _Pen, c):
    velvet = _shade(c, 1.15)
    for side in (-1, 1):
        base = (300 + side * 35, 430)
        mid = (300 + side * 95, 260)
        top = (300 + side * 150, 110)
        p.line([base, mid, top], fill=c, width=30)
        p.line([mid, (300 + side * 30, 160)], fill=c, width=24)
        p.line([(300 + side * 120, 190), (300 + side * 210, 170)], fill=c, width=20)
        for x, y in (top, (300 + side * 30, 160), (300 + side * 210, 170)):
            p.ellipse((x - 22, y - 22, x + 22, y + 22), fill=velvet)


def _basket(p: _Pen, c):
    p.arc((180, 90, 420, 400), 180, 360, fill=_shade(c, 0.8), width=18)
    p.chord((140, 120, 460, 440), 0, 180, fill=c)
    p.rect((140, 270, 460, 290), fill=_shade(c, 0.75), radius=8)
    for x in range(170, 440, 30):
        p.line([(x, 300), (x + 8, 420)], fill=_shade(c, 1.25), width=5)
    for y in (330, 370, 405):
        p.line([(170, y), (430, y)], fill=_shade(c, 0.85), width=4)


def _hat(p: _Pen, c):
    p.polygon([(300, 110), (470, 380), (130, 380)], fill=c)
    p.ellipse((125, 360, 475, 400), fill=_shade(c, 0.85))
    for k in range(1, 6):
        t = k / 6
        y = 110 + 270 * t
        half = 170 * t
        p.line([(300 - half, y), (300 + half, y)], fill=_shade(c, 0.8), width=3)


def _table(p: _Pen, c):
    p.rect((120, 210, 480, 260), fill=c, radius=10)
    p.rect((140, 255, 460, 280), fill=_shade(c, 0.75), radius=4)
    for x in (160, 410):
        p.rect((x, 270, x + 30, 430), fill=_shade(c, 0.85), radius=4)
    for y in (222, 240):
        p.line([(150, y), (450, y)], fill=_shade(c, 1.2), width=3)
    p.rect((250, 160, 290, 212), fill=(250, 245, 235), radius=6)
    p.rect((310, 175, 345, 212), fill=(250, 245, 235), radius=6)


def _cloth(p: _Pen, c):
    for i, y in enumerate((330, 260, 190, 120)):
        colour = _shade(c, 1 + 0.12 * i) if i % 2 else _shade(c, 1 - 0.06 * i)
        p.rect((150 + i * 10, y, 450 - i * 10, y + 85), fill=colour, radius=14)
        p.line([(170 + i * 10, y + 42), (430 - i * 10, y + 42)], fill=_shade(colour, 0.85), width=3)


def _house(p: _Pen, c):
    p.rect((170, 240, 430, 420), fill=(250, 240, 220))
    p.polygon([(140, 250), (300, 120), (460, 250)], fill=c)
    p.rect((270, 320, 330, 420), fill=_shade(c, 0.65))
    p.rect((195, 280, 245, 330), fill=(170, 215, 235))
    p.rect((355, 280, 405, 330), fill=(170, 215, 235))
    p.polygon(_leaf_points(440, 420, 90, 26, -80), fill=LEAF_GREEN)


def _hills(p: _Pen, c):
    p.ellipse((370, 80, 470, 180), fill=(255, 193, 7))
    p.pieslice((40, 230, 420, 610), 180, 360, fill=_shade(c, 1.2))
    p.pieslice((220, 260, 600, 640), 180, 360, fill=c)
    p.polygon([(290, 440), (310, 440), (360, 300), (350, 300)], fill=(230, 215, 180))
    for x, y in ((130, 360), (470, 380)):
        p.rect((x - 5, y, x + 5, y + 45), fill=(110, 80, 50))
        p.ellipse((x - 35, y - 50, x + 35, y + 15), fill=_shade(LEAF_GREEN, 0.9))


SHAPES = {
    "fruit": _fruit,
    "pomelo": _pomelo,
    "jar": _jar,
    "bottle": _bottle,
    "dropper": _dropper,
    "leaf": _leaf,
    "sack": _sack,
    "fish": _fish,
    "squid": _squid,
    "shrimp": _shrimp,
    "candy": _candy,
    "box": _box,
    "antler": _antler,
    "basket": _basket,
    "hat": _hat,
    "table": _table,
    "cloth": _cloth,
    "house": _house,
    "hills": _hills,
}


def _png(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, "PNG", compress_level=1)  # fast: the image pipeline re-encodes it anyway
    return buffer.getvalue()


def _centered_text(draw: ImageDraw.ImageDraw, y: float, text: str, font, fill) -> None:
    left, top, right, _bottom = draw.textbbox((0, 0), text, font=font)
    draw.text(((SIZE * SCALE - (right - left)) / 2 - left, y * SCALE - top), text, font=font, fill=fill)


def product_picture(family: dict, *, caption: str | None = None) -> bytes:
    """A 600×600 PNG for one product family: {"label", "background": [top, bottom], "shape", "color"}."""
    top, bottom = (_rgb(c) for c in family["background"])
    colour = _rgb(family["color"])
    canvas = _gradient(SIZE * SCALE, top, bottom)
    draw = ImageDraw.Draw(canvas)
    draw.ellipse([v * SCALE for v in (110, 440, 490, 480)], fill=_shade(bottom, 0.88))  # shadow
    SHAPES[family["shape"]](_Pen(draw), colour)
    label_font, caption_font = find_font(46 * SCALE), find_font(24 * SCALE)
    if label_font is not None:
        ink = _shade(colour, 0.55)
        draw.rounded_rectangle(
            [v * SCALE for v in (60, 488, 540, 580)], radius=22 * SCALE, fill=(255, 255, 255)
        )
        _centered_text(draw, 498, family["label"], label_font, ink)
        if caption and caption_font is not None:
            _centered_text(draw, 550, caption, caption_font, _shade(ink, 1.3))
    return _png(canvas.reduce(SCALE))


@lru_cache(maxsize=64)
def cached_product_picture(family_json: str, caption: str | None) -> bytes:
    """product_picture() memoised by value (a pure function: same input, same bytes)."""
    return product_picture(json.loads(family_json), caption=caption)


SHOP_WORDS_SKIPPED = {"htx", "công", "ty", "tnhh", "cp", "hộ", "cơ", "sở", "cửa", "hàng", "vườn"}


def initials(name: str) -> str:
    words = [w for w in name.split("–")[0].split() if w.lower() not in SHOP_WORDS_SKIPPED]
    return "".join(w[0].upper() for w in words[:2]) or name[:1].upper()


def shop_logo(name: str, colour_hex: str, size: int = 256) -> bytes:
    """A round logo in the shop's colour with its initials (or a plain ring without a font)."""
    colour = _rgb(colour_hex)
    big = size * SCALE
    canvas = Image.new("RGB", (big, big), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    margin = big // 16
    draw.ellipse((margin, margin, big - margin, big - margin), fill=colour)
    draw.ellipse(
        (margin * 2, margin * 2, big - margin * 2, big - margin * 2),
        outline=_shade(colour, 1.5),
        width=max(big // 64, 2),
    )
    font = find_font(int(big * 0.34))
    if font is not None:
        text = initials(name)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        draw.text(
            ((big - (right - left)) / 2 - left, (big - (bottom - top)) / 2 - top),
            text,
            font=font,
            fill=(255, 255, 255),
        )
    return _png(canvas.reduce(SCALE))
