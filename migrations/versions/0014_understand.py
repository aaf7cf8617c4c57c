"""understand: regional synonym groups for farm products and food

Revision ID: 0014_understand
Revises: 0013_english_names
Create Date: 2026-12-03

Adds the groups the operator does not have yet (same words, whatever their order or marks), so
an operator's edit, deactivation or own group is never overwritten; a group removed by the
operator before this migration comes back once, as any new seed would. Downgrade removes only
the seeded rows still exactly as seeded.
"""
from datetime import datetime, timezone
import re
import unicodedata

from alembic import op
import sqlalchemy as sa

revision = "0014_understand"
down_revision = "0013_english_names"
branch_labels = None
depends_on = None

# A copy (migrations keep their own data): search/models.py REGIONAL_SYNONYMS.
REGIONAL_SYNONYMS = [
    # fruits
    "roi, mận",
    "na, mãng cầu, mãng cầu ta, mãng cầu dai",
    "mãng cầu xiêm, na xiêm",
    "chanh leo, chanh dây",
    "quất, tắc",
    "hồng xiêm, sapôchê, xa pô chê",
    "trám, cà na",
    "trái cây, hoa quả",
    # vegetables and herbs
    "bí đỏ, bí ngô, bí rợ",
    "bí xanh, bí đao",
    "dưa chuột, dưa leo",
    "mướp đắng, khổ qua",
    "súp lơ, bông cải",
    "bắp cải, cải bắp",
    "cải cúc, tần ô",
    "rau ngót, bồ ngót",
    "rau diếp, xà lách",
    "rau mùi, ngò rí",
    "mùi tàu, ngò gai",
    "hành hoa, hành lá",
    "húng quế, rau quế",
    "thì là, thìa là",
    "cà tím, cà dái dê",
    "đậu đũa, đậu dải",
    # tubers
    "sắn, khoai mì",
    "củ đậu, sắn nước",
    "khoai sọ, khoai môn",
    "củ từ, khoai từ",
    "củ năng, mã thầy",
    # beans, nuts, grains
    "đỗ xanh, đậu xanh",
    "đỗ đen, đậu đen",
    "đỗ đỏ, đậu đỏ",
    "đậu nành, đậu tương, đỗ tương",
    "đậu phụ, đậu hũ, tàu hũ",
    "hạt điều, hột điều",
    "gạo lứt, gạo lức",
    "hạt tiêu, hồ tiêu",
    # mushrooms
    "mộc nhĩ, nấm mèo, nấm tai mèo",
    "nấm hương, nấm đông cô",
    "nấm sò, nấm bào ngư",
    # fish, meat, eggs
    "cá quả, cá lóc, cá chuối, cá tràu",
    "ngan, vịt xiêm",
    "thịt ba chỉ, thịt ba rọi",
    "trứng gà, hột gà",
    "trứng vịt, hột vịt",
    "giò lụa, chả lụa",
    "nem rán, chả giò",
    "lạp xưởng, lạp xường",
    # sauces, condiments, dry goods
    "xì dầu, nước tương",
    "mì chính, bột ngọt",
    "miến, bún tàu",
    "hủ tiếu, hủ tíu",
    "ô mai, xí muội",
    "sữa chua, da ua",
    "cà phê, cafe",
]

synonyms = sa.table(
    "search_synonyms",
    sa.column("id", sa.Integer),
    sa.column("terms", sa.Text),
    sa.column("active", sa.Boolean),
    sa.column("created_at", sa.DateTime),
    sa.column("updated_at", sa.DateTime),
)


def _key(terms):
    """The group's words, folded (no marks, đ -> d) and unordered."""
    out = set()
    for term in re.split(r"[,;\n]", terms or ""):
        decomposed = unicodedata.normalize("NFD", term.lower())
        folded = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("đ", "d")
        words = " ".join(re.findall(r"[^\W_]+", folded))
        if words:
            out.add(words)
    return frozenset(out)


def upgrade():
    conn = op.get_bind()
    have = {_key(terms) for terms in conn.execute(sa.select(synonyms.c.terms)).scalars()}
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = [
        {"terms": terms, "active": True, "created_at": now, "updated_at": now}
        for terms in REGIONAL_SYNONYMS
        if _key(terms) not in have
    ]
    if rows:
        op.bulk_insert(synonyms, rows)


def downgrade():
    op.execute(synonyms.delete().where(synonyms.c.terms.in_(REGIONAL_SYNONYMS)))
