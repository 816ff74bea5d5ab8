"""run requests queued for workers, and the matchings workers ran

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 21:00:00

Hand-written. Two new tables, nothing else touched; each is skipped when it is already there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("run_requests"):
        op.create_table(
            "run_requests",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("connector_id", sa.String(length=64), nullable=False),
            sa.Column("requested_by", sa.String(length=200), nullable=False),
            sa.Column("requested_at", TS, nullable=False),
            sa.Column("claimed_at", TS, nullable=True),
            sa.Column("worker", sa.String(length=200), nullable=True),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("run_id", sa.Integer(), nullable=True),
            sa.Column("finished_at", TS, nullable=True),
            sa.Column("detail", sa.Text(), nullable=True),
        )
        op.create_index("ix_run_requests_connector_id", "run_requests", ["connector_id"])
    if not inspector.has_table("matchings"):
        op.create_table(
            "matchings",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("worker", sa.String(length=200), nullable=False),
            sa.Column("started_at", TS, nullable=False),
            sa.Column("finished_at", TS, nullable=True),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("mode", sa.String(length=16), nullable=True),
            sa.Column("entities", sa.Integer(), nullable=True),
            sa.Column("changed", sa.Integer(), nullable=True),
            sa.Column("removed", sa.Integer(), nullable=True),
            sa.Column("matching_s", sa.Float(), nullable=True),
            sa.Column("indexing_s", sa.Float(), nullable=True),
        )
        op.create_index("ix_matchings_started_at", "matchings", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_matchings_started_at", table_name="matchings")
    op.drop_table("matchings")
    op.drop_index("ix_run_requests_connector_id", table_name="run_requests")
    op.drop_table("run_requests")
