"""The store's tables (SQLAlchemy Core). Changes go through a new Alembic migration."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

TS = sa.DateTime(timezone=True)

platforms = sa.Table(
    "platforms",
    metadata,
    sa.Column("slug", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("url", sa.Text),
    sa.Column("created_at", TS, nullable=False),
)

connectors = sa.Table(
    "connectors",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("platform", sa.String(64), sa.ForeignKey("platforms.slug"), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("mapping", sa.JSON, nullable=False),
    sa.Column("options", sa.JSON, nullable=False),
    sa.Column("schedule", sa.String(200)),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("owner", sa.String(200)),
    sa.Column("name", sa.String(200)),
    #: Where the registration came from: cli, config (the administrator) or api (an operator).
    sa.Column("origin", sa.String(16), nullable=False),
    #: The last state checkpointed after the records before it were stored.
    sa.Column("state", sa.JSON, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    #: The last dry run: when, whether it passed, and the hash of the registration it checked
    #: (a connector goes live only after a passing check of its current registration).
    sa.Column("checked_at", TS),
    sa.Column("last_check_ok", sa.Boolean),
    sa.Column("check_hash", sa.String(64)),
)

#: Operator API keys: only the SHA-256 of each key is kept; a key acts for one platform.
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("platform", sa.String(64), sa.ForeignKey("platforms.slug"), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("label", sa.String(200), nullable=False, server_default=""),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("revoked_at", TS),
    sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
)

raw_records = sa.Table(
    "raw_records",
    metadata,
    sa.Column("platform", sa.String(64), primary_key=True),
    sa.Column("record_type", sa.String(8), primary_key=True),
    sa.Column("source_id", sa.String(256), primary_key=True),
    sa.Column("connector_id", sa.String(64), nullable=False, index=True),
    #: The record as received from the feed.
    sa.Column("payload", sa.JSON, nullable=False),
    #: The validated shop or offer record mapped from it.
    sa.Column("record", sa.JSON, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("first_seen", TS, nullable=False),
    sa.Column("last_seen", TS, nullable=False),
    sa.Column("last_changed", TS, nullable=False),
    sa.Column("gone_at", TS),
    #: An offer's shop (``record.shop_source_id``), so a shop's offers are read by index.
    sa.Column("shop_source_id", sa.String(256)),
    sa.Index("ix_raw_records_shop", "platform", "shop_source_id"),
    #: What changed since a time: incremental matching reads these two.
    sa.Index("ix_raw_records_last_changed", "last_changed"),
    sa.Index("ix_raw_records_gone_at", "gone_at"),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connector_id", sa.String(64), nullable=False, index=True),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("finished_at", TS),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("fetched", sa.Integer, nullable=False, server_default="0"),
    sa.Column("new", sa.Integer, nullable=False, server_default="0"),
    sa.Column("changed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("gone", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
    sa.Column("errors", sa.JSON, nullable=False),
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False, index=True),
    sa.Column("connector_id", sa.String(64), nullable=False),
    sa.Column("locator", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("excerpt", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

entities = sa.Table(
    "entities",
    metadata,
    sa.Column("entity_id", sa.String(32), primary_key=True),
    sa.Column("golden", sa.JSON, nullable=False),
    sa.Column("names", sa.JSON, nullable=False),
    sa.Column("listings", sa.JSON, nullable=False),
    #: Hash of everything the search document is built from: unchanged means no re-index.
    sa.Column("doc_hash", sa.String(64), nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    #: The entity write (``entity_writes.seq``) that last wrote it: the index catches up by it.
    sa.Column("seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.Index("ix_entities_seq", "seq"),
)

#: Entities removed, by the write that removed them (a later write of the same id clears it).
entity_removals = sa.Table(
    "entity_removals",
    metadata,
    sa.Column("entity_id", sa.String(32), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False, index=True),
)

#: One row per matching write: the sequence the search index records its progress in.
entity_writes = sa.Table(
    "entity_writes",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("written_at", TS, nullable=False),
    sa.Column("upserted", sa.Integer, nullable=False),
    sa.Column("removed", sa.Integer, nullable=False),
)

entity_members = sa.Table(
    "entity_members",
    metadata,
    sa.Column("platform", sa.String(64), primary_key=True),
    sa.Column("source_id", sa.String(256), primary_key=True),
    sa.Column("entity_id", sa.String(32), nullable=False, index=True),
)

candidate_pairs = sa.Table(
    "candidate_pairs",
    metadata,
    sa.Column("a", sa.String(330), primary_key=True),
    sa.Column("b", sa.String(330), primary_key=True),
    sa.Column("probability", sa.Float, nullable=False),
    sa.Column("explanation", sa.JSON, nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("a", sa.String(330), nullable=False),
    sa.Column("b", sa.String(330), nullable=False),
    sa.Column("verdict", sa.String(16), nullable=False),
    sa.Column("reviewer", sa.String(200), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("decided_at", TS, nullable=False),
)
