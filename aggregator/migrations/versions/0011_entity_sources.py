"""what each entity was built from: a hash that lets a full matching skip unchanged entities

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 03:00:00

Hand-written. One nullable column on ``entities``: the hash of the inputs of its golden record
and listings (see :mod:`aggregator.entity_sources`). Entities stored before have none and are
built once more by the next full matching. Skipped when the column is already there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("entities")}
    if "source_hash" not in present:
        with op.batch_alter_table("entities", schema=None) as batch_op:
            batch_op.add_column(sa.Column("source_hash", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.drop_column("source_hash")
