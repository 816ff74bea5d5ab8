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
    #: The registration's own ``limits`` (deadlines, quarantine budget); NULL: the settings'.
    sa.Column("limits", sa.JSON),
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
    #: Partial (migration 0015): only offers have a shop, only gone records a ``gone_at``.
    sa.Index(
        "ix_raw_records_shop",
        "platform",
        "shop_source_id",
        sqlite_where=sa.text("shop_source_id IS NOT NULL"),
        postgresql_where=sa.text("shop_source_id IS NOT NULL"),
    ),
    #: What changed since a time: incremental matching reads these two.
    sa.Index("ix_raw_records_last_changed", "last_changed"),
    sa.Index(
        "ix_raw_records_gone_at",
        "gone_at",
        sqlite_where=sa.text("gone_at IS NOT NULL"),
        postgresql_where=sa.text("gone_at IS NOT NULL"),
    ),
)

#: A connector's last complete refresh: every record of it that is live, and was last written
#: before ``started_at``, was seen at ``seen_at`` (its effective ``last_seen``), without a write
#: per record. Records it marked gone keep their own ``last_seen``
#: (``aggregator.store.ingest``).
refresh_stamps = sa.Table(
    "refresh_stamps",
    metadata,
    sa.Column("connector_id", sa.String(64), primary_key=True),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("seen_at", TS, nullable=False),
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
    #: ``host:pid`` of the process running it: a "running" run whose process is gone was
    #: interrupted (killed), and the next start says so.
    sa.Column("owner", sa.String(200)),
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
    #: Hash of what its golden record and listings are built from (None: build it again).
    sa.Column("source_hash", sa.String(32), nullable=True),
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
    #: The pair's ruling after this row: must_link, cannot_link, unsure or none (undone).
    sa.Column("verdict", sa.String(16), nullable=False),
    sa.Column("reviewer", sa.String(200), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("decided_at", TS, nullable=False),
    #: The log (revision 0004): the reviewer's role, the ruling before this row, the score and
    #: model the pair had then, and for an undo the row it undoes. Rows are never updated.
    sa.Column("role", sa.String(16)),
    sa.Column("before", sa.String(16)),
    sa.Column("probability", sa.Float),
    sa.Column("model", sa.String(64)),
    sa.Column("action", sa.String(8), nullable=False, server_default="decide"),
    sa.Column("undoes", sa.Integer),
    sa.Index("ix_decisions_pair", "a", "b"),
)

# Review desk (revision 0004): the decisions table above gains its log columns there.

#: Chamber reviewers' and admins' keys: only the SHA-256 of each key is kept.
reviewer_keys = sa.Table(
    "reviewer_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    #: ``reviewer`` or ``admin``.
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("revoked_at", TS),
    sa.UniqueConstraint("key_hash", name="uq_reviewer_keys_key_hash"),
)

#: Desk sessions opened with a reviewer key: the cookie holds a token, only its hash is kept.
reviewer_sessions = sa.Table(
    "reviewer_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("key_id", sa.Integer, sa.ForeignKey("reviewer_keys.id"), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),
)

#: What every record's entity was at a moment a chamber chose: "changes since" compare to it.
match_snapshots = sa.Table(
    "match_snapshots",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("taken_at", TS, nullable=False),
    sa.Column("taken_by", sa.String(200), nullable=False),
    #: Record key -> entity id.
    sa.Column("members", sa.JSON, nullable=False),
)

#: The blind quality sample: automatically merged pairs drawn with a seed, with the score they
#: had when drawn; the desk's rulings on them give the observed error rate per score band.
quality_sample = sa.Table(
    "quality_sample",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("a", sa.String(330), nullable=False),
    sa.Column("b", sa.String(330), nullable=False),
    sa.Column("probability", sa.Float, nullable=False),
    sa.Column("seed", sa.Integer, nullable=False),
    sa.Column("drawn_at", TS, nullable=False),
    sa.Column("drawn_by", sa.String(200), nullable=False),
)

#: "Run now" requests waiting for a worker: the web queues them, a worker claims one (setting
#: ``claimed_at`` where it is still empty, so two workers never take the same) and runs it.
run_requests = sa.Table(
    "run_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connector_id", sa.String(64), nullable=False, index=True),
    #: Who asked: "operator:<platform>" or "cli".
    sa.Column("requested_by", sa.String(200), nullable=False),
    sa.Column("requested_at", TS, nullable=False),
    sa.Column("claimed_at", TS),
    sa.Column("worker", sa.String(200)),
    #: queued, running, done (the run is stored under ``run_id``), skipped or failed.
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("run_id", sa.Integer),
    sa.Column("finished_at", TS),
    sa.Column("detail", sa.Text),
)

#: Every matching a worker ran: when, how long, what it changed. Workers read the last start
#: to share one matching among runs that ended together; the web reads it for freshness.
matchings = sa.Table(
    "matchings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("worker", sa.String(200), nullable=False),
    sa.Column("started_at", TS, nullable=False, index=True),
    sa.Column("finished_at", TS),
    #: running, ok or failed.
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("mode", sa.String(16)),
    sa.Column("entities", sa.Integer),
    sa.Column("changed", sa.Integer),
    sa.Column("removed", sa.Integer),
    sa.Column("matching_s", sa.Float),
    sa.Column("indexing_s", sa.Float),
)

#: The chambers' field choices (revision 0009): which member record's value an entity's golden
#: record shows for one field. Append-only; the latest row per (entity, field) is in force.
field_choices = sa.Table(
    "field_choices",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity_id", sa.String(64), nullable=False),
    sa.Column("field", sa.String(32), nullable=False),
    sa.Column("record_key", sa.String(330), nullable=False),
    sa.Column("value", sa.Text),
    sa.Column("reviewer", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16)),
    sa.Column("note", sa.Text),
    sa.Column("chosen_at", TS, nullable=False),
    #: ``choose``, or ``undo`` (revision 0010): an undo names the row it undoes and puts back
    #: the choice that row replaced; an empty ``record_key`` is "no choice".
    sa.Column("action", sa.String(8), nullable=False, server_default="choose"),
    sa.Column("undoes", sa.Integer),
    sa.Index("ix_field_choices_entity", "entity_id", "field"),
)
