"""review desk: the decisions log, reviewer keys, desk sessions, match snapshots, quality sample

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 21:15:00

Hand-written. Existing decisions become log rows with action ``decide`` and no recorded role,
previous ruling, score or model. Each step is skipped when what it creates is already there.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
LOG_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("role", sa.String(length=16), nullable=True),
    sa.Column("before", sa.String(length=16), nullable=True),
    sa.Column("probability", sa.Float(), nullable=True),
    sa.Column("model", sa.String(length=64), nullable=True),
    sa.Column("action", sa.String(length=8), nullable=False, server_default="decide"),
    sa.Column("undoes", sa.Integer(), nullable=True),
]


def upgrade() -> None:
    bind = op.get_bind()
    present = {column["name"] for column in sa.inspect(bind).get_columns("decisions")}
    missing = [column for column in LOG_COLUMNS if column.name not in present]
    if missing:
        with op.batch_alter_table("decisions", schema=None) as batch_op:
            for column in missing:
                batch_op.add_column(column)
    if "ix_decisions_pair" not in {i["name"] for i in sa.inspect(bind).get_indexes("decisions")}:
        op.create_index("ix_decisions_pair", "decisions", ["a", "b"], unique=False)
    tables = set(sa.inspect(bind).get_table_names())
    if "reviewer_keys" not in tables:
        op.create_table(
            "reviewer_keys",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("role", sa.String(length=16), nullable=False),
            sa.Column("key_hash", sa.String(length=64), nullable=False),
            sa.Column("created_at", TS, nullable=False),
            sa.Column("revoked_at", TS, nullable=True),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("key_hash", name="uq_reviewer_keys_key_hash"),
        )
    if "reviewer_sessions" not in tables:
        op.create_table(
            "reviewer_sessions",
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("key_id", sa.Integer(), nullable=False),
            sa.Column("created_at", TS, nullable=False),
            sa.Column("expires_at", TS, nullable=False),
            sa.ForeignKeyConstraint(["key_id"], ["reviewer_keys.id"]),
            sa.PrimaryKeyConstraint("token_hash"),
        )
    if "match_snapshots" not in tables:
        op.create_table(
            "match_snapshots",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("taken_at", TS, nullable=False),
            sa.Column("taken_by", sa.String(length=200), nullable=False),
            sa.Column("members", sa.JSON(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    if "quality_sample" not in tables:
        op.create_table(
            "quality_sample",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("a", sa.String(length=330), nullable=False),
            sa.Column("b", sa.String(length=330), nullable=False),
            sa.Column("probability", sa.Float(), nullable=False),
            sa.Column("seed", sa.Integer(), nullable=False),
            sa.Column("drawn_at", TS, nullable=False),
            sa.Column("drawn_by", sa.String(length=200), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )


def downgrade() -> None:
    op.drop_table("quality_sample")
    op.drop_table("match_snapshots")
    op.drop_table("reviewer_sessions")
    op.drop_table("reviewer_keys")
    op.drop_index("ix_decisions_pair", table_name="decisions")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        for column in reversed(LOG_COLUMNS):
            batch_op.drop_column(column.name)
