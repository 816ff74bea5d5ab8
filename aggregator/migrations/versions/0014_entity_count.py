"""the number of entities kept by their writer

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 18:30:00

Hand-written. The search index's check after every matching compares the index's number of
shops with the store's entities; counting them was a scan of every entity (538 ms of a 2.17 s
incremental run on PostgreSQL at a million). ``entity_count`` holds that number in one row.

Every entity is written through one writer (``aggregator.store.entities.EntityWrite``), which
knows how many rows its deletes removed and its inserts added, and moves the number once per
write, in the write's transaction. Triggers would follow writes by hand too, but SQLite has only
row triggers (one on inserts made storing records cost 1.6 times the CPU, migration 0013), and
PostgreSQL's statement triggers keep every row a ``COPY`` writes in a transition table (a full
matching writes a million); the writer's count costs neither. Every full matching counts the
entities again inside its write, so that a number that drifted (entities deleted or inserted
by hand, a restore) is put right. Upgrading a store that has the table already (its revision
stamped back) counts afresh.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "entity_count" in sa.inspect(op.get_bind()).get_table_names():
        op.drop_table("entity_count")
    op.create_table("entity_count", sa.Column("n", sa.BigInteger(), nullable=False))
    op.execute("INSERT INTO entity_count (n) SELECT count(*) FROM entities")


def downgrade() -> None:
    op.drop_table("entity_count")
