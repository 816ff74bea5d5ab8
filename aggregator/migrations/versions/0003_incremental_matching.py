"""what incremental matching reads: offers by shop, records by time of change

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 16:00:00

Hand-written. ``raw_records.shop_source_id`` is filled from each stored offer's record, so an
upgrade needs no re-ingest. Each step is skipped when what it creates is already there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_raw_records_shop": ["platform", "shop_source_id"],
    "ix_raw_records_last_changed": ["last_changed"],
    "ix_raw_records_gone_at": ["gone_at"],
}


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    present = {column["name"] for column in inspector.get_columns("raw_records")}
    if "shop_source_id" not in present:
        with op.batch_alter_table("raw_records", schema=None) as batch_op:
            batch_op.add_column(sa.Column("shop_source_id", sa.String(length=256), nullable=True))
        _backfill(bind)
    indexes = {index["name"] for index in sa.inspect(bind).get_indexes("raw_records")}
    for name, columns in INDEXES.items():
        if name not in indexes:
            op.create_index(name, "raw_records", columns, unique=False)


def _backfill(bind: sa.Connection) -> None:
    records = sa.table(
        "raw_records",
        sa.column("platform", sa.String),
        sa.column("record_type", sa.String),
        sa.column("source_id", sa.String),
        sa.column("record", sa.JSON),
        sa.column("shop_source_id", sa.String),
    )
    rows = bind.execute(
        sa.select(records.c.platform, records.c.source_id, records.c.record).where(
            records.c.record_type == "offer"
        )
    ).all()
    updates = [
        {"p": platform, "s": source_id, "shop": record.get("shop_source_id")}
        for platform, source_id, record in rows
        if isinstance(record, dict) and record.get("shop_source_id") is not None
    ]
    if updates:
        bind.execute(
            records.update()
            .where(
                records.c.platform == sa.bindparam("p"),
                records.c.record_type == "offer",
                records.c.source_id == sa.bindparam("s"),
            )
            .values(shop_source_id=sa.bindparam("shop")),
            updates,
        )


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="raw_records")
    with op.batch_alter_table("raw_records", schema=None) as batch_op:
        batch_op.drop_column("shop_source_id")
