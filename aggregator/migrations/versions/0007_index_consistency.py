"""what the search index must catch up with: a sequence number on every entity write

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:00:00

Hand-written. Each matching write takes the next number in ``entity_writes`` and stamps it on
the entities it writes (``entities.seq``) and on the ids it removes (``entity_removals``). The
search index records the last number it applied; what lies above it is what it lacks. Entities
already stored get 0, so an index without a record of what it applied is rebuilt once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    tables = set(inspector.get_table_names())
    if "seq" not in {column["name"] for column in inspector.get_columns("entities")}:
        with op.batch_alter_table("entities", schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("seq", sa.BigInteger(), nullable=False, server_default="0")
            )
            batch_op.create_index("ix_entities_seq", ["seq"], unique=False)
    if "entity_removals" not in tables:
        op.create_table(
            "entity_removals",
            sa.Column("entity_id", sa.String(length=32), primary_key=True),
            sa.Column("seq", sa.BigInteger(), nullable=False, index=True),
        )
    if "entity_writes" not in tables:
        op.create_table(
            "entity_writes",
            sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
            sa.Column("written_at", TS, nullable=False),
            sa.Column("upserted", sa.Integer(), nullable=False),
            sa.Column("removed", sa.Integer(), nullable=False),
        )


def downgrade() -> None:
    op.drop_table("entity_writes")
    op.drop_table("entity_removals")
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.drop_index("ix_entities_seq")
        batch_op.drop_column("seq")
