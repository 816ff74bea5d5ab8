"""errors customers report on a shop page

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 21:00:00

Hand-written. Skipped when the table is already there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"  # chained after the review desk's 0004 when both met
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("error_reports"):
        return
    op.create_table(
        "error_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity_id", sa.String(length=32), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_error_reports_entity_id", "error_reports", ["entity_id"])
    op.create_index("ix_error_reports_status", "error_reports", ["status"])


def downgrade() -> None:
    op.drop_index("ix_error_reports_status", table_name="error_reports")
    op.drop_index("ix_error_reports_entity_id", table_name="error_reports")
    op.drop_table("error_reports")
