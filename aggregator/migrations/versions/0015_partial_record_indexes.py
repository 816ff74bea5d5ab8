"""partial indexes on raw_records: gone records, and offers by shop

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 02:30:00

Hand-written. ``gone_at`` is NULL on every live record and ``shop_source_id`` on every shop, so
their two indexes held one entry per stored record, nearly all of them NULL, and every new record
was written into both B-trees. They now hold only the rows with a value (``WHERE ... IS NOT
NULL``): the gone records, and the offers. Every query that reads them compares the column
(``gone_at >= ?``, ``shop_source_id IN (...)``), which implies ``IS NOT NULL`` on both stores, so
the same plans use them (``tests/test_store_ingest.py`` asks SQLite's planner). Storing a new
shop or live record no longer touches either index. The downgrade puts the full indexes back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

#: name → (columns, the column whose non-NULL rows alone are indexed)
INDEXES = {
    "ix_raw_records_shop": (["platform", "shop_source_id"], "shop_source_id"),
    "ix_raw_records_gone_at": (["gone_at"], "gone_at"),
}


def upgrade() -> None:
    for name, (columns, column) in INDEXES.items():
        where = sa.text(f"{column} IS NOT NULL")
        op.drop_index(name, table_name="raw_records")
        op.create_index(
            name, "raw_records", columns, unique=False, sqlite_where=where, postgresql_where=where
        )


def downgrade() -> None:
    for name, (columns, _) in INDEXES.items():
        op.drop_index(name, table_name="raw_records")
        op.create_index(name, "raw_records", columns, unique=False)
