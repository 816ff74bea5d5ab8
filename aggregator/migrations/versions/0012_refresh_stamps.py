"""a complete refresh stamps its connector once instead of writing last_seen on every record

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 13:30:00

Hand-written. One table, ``refresh_stamps``: per connector, the start and the end of its last
complete refresh. A live record of the connector last written before that start was seen at
that end; its stored ``last_seen`` is read through the stamp (``aggregator.store.records``).
Records stored before keep the ``last_seen`` written on them, which stays right: no stamp, no
change. Skipped when the table is already there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "refresh_stamps" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "refresh_stamps",
        sa.Column("connector_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connector_id"),
    )


def downgrade() -> None:
    # The stamps written on the records they stand for first: nothing seen is forgotten.
    op.execute(
        "UPDATE raw_records SET last_seen = (SELECT s.seen_at FROM refresh_stamps s "
        "WHERE s.connector_id = raw_records.connector_id) WHERE EXISTS (SELECT 1 FROM "
        "refresh_stamps s WHERE s.connector_id = raw_records.connector_id "
        "AND raw_records.last_seen < s.started_at AND (raw_records.gone_at IS NULL "
        "OR raw_records.gone_at > s.seen_at))"
    )
    op.drop_table("refresh_stamps")
