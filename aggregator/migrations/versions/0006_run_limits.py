"""a connector's own limits, and which process runs a run

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 21:30:00

Hand-written. ``connectors.limits`` holds a registration's ``limits`` (deadlines, quarantine
budget; empty: the deployment's settings). ``runs.owner`` names the process running a run
(``host:pid``), so the next start can tell a run whose process was killed from one still going.
Each step is skipped when what it creates is already there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _columns(table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    if "limits" not in _columns("connectors"):
        with op.batch_alter_table("connectors", schema=None) as batch_op:
            batch_op.add_column(sa.Column("limits", sa.JSON(), nullable=True))
    if "owner" not in _columns("runs"):
        with op.batch_alter_table("runs", schema=None) as batch_op:
            batch_op.add_column(sa.Column("owner", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("owner")
    with op.batch_alter_table("connectors", schema=None) as batch_op:
        batch_op.drop_column("limits")
