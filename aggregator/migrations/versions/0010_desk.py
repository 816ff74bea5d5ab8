"""field choices can be undone: each row says whether it chooses or undoes, and which row

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 00:15:00

Hand-written. Two columns on ``field_choices``; rows written before are choices. An undo row
names the row it undoes and puts back the choice that row replaced (an empty record key when
there was none). Skipped when the columns are already there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("field_choices")}
    with op.batch_alter_table("field_choices", schema=None) as batch_op:
        if "action" not in present:
            batch_op.add_column(
                sa.Column("action", sa.String(length=8), nullable=False, server_default="choose")
            )
        if "undoes" not in present:
            batch_op.add_column(sa.Column("undoes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("field_choices", schema=None) as batch_op:
        batch_op.drop_column("undoes")
        batch_op.drop_column("action")
