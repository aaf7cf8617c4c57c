"""search: synonyms and index bookkeeping

Revision ID: 0002_search
Revises: 0001_foundation
Create Date: 2026-11-26

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = '0002_search'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None

# A starting list the operator edits at /quan-tri/tu-dong-nghia.
DEFAULT_SYNONYMS = ["quả, trái", "heo, lợn", "bắp, ngô", "cam bù, cam bu", "vừng, mè", "dứa, thơm, khóm",
                    "lạc, đậu phộng", "chè, trà", "mì, mỳ", "bánh tráng, bánh đa"]


def upgrade():
    synonyms = op.create_table('search_synonyms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_synonyms'))
    )
    op.create_table('search_index_state',
    sa.Column('backend', sa.String(length=200), nullable=False),
    sa.Column('building', sa.String(length=200), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('current_index', sa.String(length=200), nullable=True),
    sa.Column('last_reindex_at', sa.DateTime(), nullable=True),
    sa.Column('last_docs', sa.Integer(), nullable=True),
    sa.Column('last_seconds', sa.Double(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('backend', name=op.f('pk_search_index_state'))
    )
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(synonyms, [{"terms": terms, "active": True, "created_at": now, "updated_at": now}
                              for terms in DEFAULT_SYNONYMS])


def downgrade():
    op.drop_table('search_index_state')
    op.drop_table('search_synonyms')
