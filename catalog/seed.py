"""The starting category tree: the OCOP programme's six sectors, each with the shop groups buyers expect.

`flask --app wsgi catalog seed-categories` creates what is missing, keyed by slug, and leaves
existing categories alone (the operator may have renamed or moved them since), so it can run on
every deploy. The tree is two levels deep because the listing form and the operator's category
page show two levels.

The sector/group split follows the OCOP scoring rules as we understand them (six sectors,
26 product groups; e.g. tea is group 1.6 under Food): unconfirmed, so it is kept in this one table."""

from __future__ import annotations

import click
from sqlalchemy import func, select

from marketplace import outbox
from marketplace.extensions import db

from .certifications import seed_certifications
from .cli import catalog_cli
from .models import Category

# (slug, name, name_en, children); children have the same shape without grandchildren.
CATEGORY_TREE: list[tuple[str, str, str, list[tuple[str, str, str]]]] = [
    (
        "thuc-pham",
        "Thực phẩm",
        "Food",
        [
            ("cam", "Cam", "Oranges"),
            ("buoi", "Bưởi", "Pomelos"),
            ("trai-cay-nong-san-tuoi", "Trái cây – nông sản tươi", "Other fruit and fresh produce"),
            ("mat-ong", "Mật ong", "Honey"),
            ("che", "Chè", "Tea"),
            ("gao-ngu-coc", "Gạo – ngũ cốc", "Rice and grains"),
            ("hai-san-kho", "Hải sản khô", "Dried seafood"),
            ("nuoc-mam-gia-vi", "Nước mắm – gia vị", "Fish sauce and condiments"),
            ("banh-keo-dac-san", "Bánh kẹo đặc sản", "Local sweets and cakes"),
            ("thuc-pham-che-bien", "Thực phẩm chế biến", "Processed foods"),
        ],
    ),
    (
        "do-uong",
        "Đồ uống",
        "Beverages",
        [
            ("ruou-truyen-thong", "Rượu truyền thống", "Traditional spirits"),
            ("nuoc-uong-nuoc-ep", "Nước uống – nước ép", "Soft drinks and juices"),
        ],
    ),
    (
        "thao-duoc",
        "Thảo dược",
        "Herbal products",
        [
            ("thao-duoc-duoc-lieu", "Thảo dược – dược liệu", "Herbs and medicinal materials"),
            ("tra-duoc-lieu", "Trà dược liệu", "Herbal teas"),
            (
                "tinh-dau-my-pham-thao-moc",
                "Tinh dầu – mỹ phẩm thảo mộc",
                "Essential oils and herbal cosmetics",
            ),
        ],
    ),
    (
        "vai-va-may-mac",
        "Vải và may mặc",
        "Textiles and garments",
        [
            ("vai-soi-tu-nhien", "Vải – sợi tự nhiên", "Natural fabrics and yarns"),
            ("trang-phuc-thu-cong", "Trang phục thủ công", "Handmade clothing"),
        ],
    ),
    (
        "luu-niem-noi-that-trang-tri",
        "Lưu niệm – nội thất – trang trí",
        "Souvenirs, furniture and decoration",
        [
            ("thu-cong-my-nghe", "Thủ công mỹ nghệ", "Handicrafts"),
            ("do-go-noi-that", "Đồ gỗ – nội thất", "Wooden furniture"),
            ("qua-luu-niem", "Quà lưu niệm", "Souvenirs and gifts"),
        ],
    ),
    (
        "dich-vu-du-lich-cong-dong",
        "Dịch vụ du lịch cộng đồng",
        "Community tourism",
        [
            ("luu-tru-homestay", "Lưu trú – homestay", "Homestays"),
            ("trai-nghiem-nong-nghiep", "Trải nghiệm nông nghiệp", "Farm experiences"),
        ],
    ),
]


def seed_categories() -> int:
    """Create the categories of CATEGORY_TREE that do not exist yet (by slug); flush, do not commit.
    Returns how many were created."""
    existing = {c.slug: c for c in db.session.scalars(select(Category))}
    created: list[Category] = []

    def ensure(slug: str, name: str, name_en: str, position: int, parent: Category | None) -> Category:
        category = existing.get(slug)
        if category is None:
            category = Category(
                slug=slug,
                name=name,
                name_en=name_en,
                position=position,
                parent_id=parent.id if parent else None,
                description="",
            )
            db.session.add(category)
            db.session.flush()
            existing[slug] = category
            created.append(category)
        return category

    for top_position, (slug, name, name_en, children) in enumerate(CATEGORY_TREE):
        top = ensure(slug, name, name_en, top_position, None)
        for position, (child_slug, child_name, child_name_en) in enumerate(children):
            ensure(child_slug, child_name, child_name_en, position, top)
    for category in created:
        outbox.record("category.changed", {"category_id": category.id})
    return len(created)


@catalog_cli.command("seed-categories")
def seed_categories_command() -> None:
    """Create the starting category tree (OCOP sectors and shop groups) and the certification list,
    with their English names; existing ones are kept."""
    created = seed_categories()
    created_certifications = seed_certifications()
    db.session.commit()
    total = db.session.scalar(select(func.count()).select_from(Category))
    click.echo(
        f"{created} categories created, {total} in total; {created_certifications} certifications created"
    )
