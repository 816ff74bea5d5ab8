"""live records counted from an index: record type and gone mark together

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 10:30:00

Hand-written. After every incremental matching the service counts the live shop records
(``record_type = 'shop' AND gone_at IS NULL``) to check its state against the store; with only
``ix_raw_records_gone_at`` that count visits every live row of the table. An index on both
columns answers it from the index alone. Skipped when the index is already there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

NAME = "ix_raw_records_live"


def upgrade() -> None:
    indexes = {index["name"] for index in sa.inspect(op.get_bind()).get_indexes("raw_records")}
    if NAME not in indexes:
        op.create_index(NAME, "raw_records", ["record_type", "gone_at"], unique=False)


def downgrade() -> None:
    op.drop_index(NAME, table_name="raw_records")
