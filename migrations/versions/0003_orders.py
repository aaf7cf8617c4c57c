"""orders: carts, orders, payments, reviews

Revision ID: 0003_orders
Revises: 0002_search
Create Date: 2026-11-26

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0003_orders'
down_revision = '0002_search'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
