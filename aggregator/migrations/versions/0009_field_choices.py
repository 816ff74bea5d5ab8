"""field choices: which member's value an entity's golden record shows for one field

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 22:45:00

Hand-written. One new table, nothing else touched; skipped when it is already there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("field_choices"):
        return
    op.create_table(
        "field_choices",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("record_key", sa.String(length=330), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_field_choices_entity", "field_choices", ["entity_id", "field"])


def downgrade() -> None:
    op.drop_index("ix_field_choices_entity", table_name="field_choices")
    op.drop_table("field_choices")
