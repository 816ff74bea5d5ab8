"""operator API keys and the connectors' check status

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00

Hand-written. Columns are added in batch mode so SQLite (which cannot alter much in place) and
PostgreSQL take the same path. Each step is skipped when what it creates is already there, so a
store whose version row was set back (or a step that was applied by hand) upgrades cleanly.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHECK_COLUMNS = ("checked_at", "last_check_ok", "check_hash")


def _check_columns() -> list[sa.Column]:
    return [
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_check_ok", sa.Boolean(), nullable=True),
        sa.Column("check_hash", sa.String(length=64), nullable=True),
    ]


def _inspector() -> sa.Inspector:
    return sa.inspect(op.get_bind())


def upgrade() -> None:
    inspector = _inspector()
    if not inspector.has_table("api_keys"):
        op.create_table(
            "api_keys",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("platform", sa.String(length=64), nullable=False),
            sa.Column("key_hash", sa.String(length=64), nullable=False),
            sa.Column("label", sa.String(length=200), server_default="", nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
            sa.ForeignKeyConstraint(["platform"], ["platforms.slug"]),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
        )
    present = {column["name"] for column in inspector.get_columns("connectors")}
    missing = [column for column in _check_columns() if column.name not in present]
    if missing:
        with op.batch_alter_table("connectors", schema=None) as batch_op:
            for column in missing:
                batch_op.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("connectors", schema=None) as batch_op:
        for name in reversed(CHECK_COLUMNS):
            batch_op.drop_column(name)
    op.drop_table("api_keys")
