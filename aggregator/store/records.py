"""Raw records as received, runs and the quarantine of refused records."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import RecordType, Rejection, Run, RunCounts, utcnow
from aggregator.store.base import chunks
from aggregator.store.ingest import SURROGATES, IngestBatch, IngestMixin

__all__ = ["IngestBatch", "RecordChange", "RecordsMixin", "StoredRecord"]


@dataclass(frozen=True)
class RecordChange:
    """One record's state as incremental matching reads it."""

    platform: str
    source_id: str
    content_hash: str
    gone: bool

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.source_id}"


@dataclass
class StoredRecord:
    platform: str
    record_type: RecordType
    source_id: str
    connector_id: str
    payload: dict[str, Any]
    record: dict[str, Any]
    content_hash: str
    first_seen: datetime
    last_seen: datetime
    last_changed: datetime
    gone_at: datetime | None


_c = t.raw_records.c
_s = t.refresh_stamps.c
#: A record's ``last_seen``: its connector's last complete refresh saw it when it is live, or
#: went gone after that refresh, and was last written before the refresh started; else the
#: time written on it (``IngestMixin.mark_gone``).
_LAST_SEEN = sa.case(
    (
        sa.and_(
            _c.last_seen < _s.started_at,
            sa.or_(_c.gone_at.is_(None), _c.gone_at > _s.seen_at),
        ),
        _s.seen_at,
    ),
    else_=_c.last_seen,
).label("last_seen")
#: ``SELECT * FROM raw_records`` with each record's ``last_seen`` as read through the stamps.
_RECORDS = sa.select(
    *(_LAST_SEEN if column.name == "last_seen" else column for column in t.raw_records.c)
).select_from(t.raw_records.outerjoin(t.refresh_stamps, _s.connector_id == _c.connector_id))


#: The live records of each type (migration 0013): rows summed per type.
_live_counts = sa.table("live_counts", sa.column("record_type"), sa.column("n"))
_l = _live_counts.c
#: PostgreSQL appends a row per writing statement; past this many they are folded into one.
_FOLD_AT = 64
_FOLD = (
    "WITH folded AS (DELETE FROM live_counts WHERE record_type = %(t)s RETURNING n) "
    "INSERT INTO live_counts (record_type, n) SELECT %(t)s, coalesce(sum(n), 0) FROM folded"
)
_RECOUNT = (
    "INSERT INTO live_counts (record_type, n) SELECT record_type, count(*) FROM raw_records "
    "WHERE gone_at IS NULL GROUP BY record_type"
)


class RecordsMixin(IngestMixin):
    def get_raw(
        self, platform: str, source_id: str, rtype: RecordType = RecordType.shop
    ) -> StoredRecord | None:
        c = t.raw_records.c
        with self.engine.connect() as conn:
            row = conn.execute(
                _RECORDS.where(
                    c.platform == platform, c.record_type == rtype.value, c.source_id == source_id
                )
            ).first()
        return None if row is None else _stored(row)

    def iter_raw(
        self, rtype: RecordType | None = None, *, include_gone: bool = False
    ) -> Iterator[StoredRecord]:
        query = _RECORDS.order_by(
            t.raw_records.c.platform, t.raw_records.c.record_type, t.raw_records.c.source_id
        )
        if rtype is not None:
            query = query.where(t.raw_records.c.record_type == rtype.value)
        if not include_gone:
            query = query.where(t.raw_records.c.gone_at.is_(None))
        # Streamed (a server-side cursor on PostgreSQL): a million records are not held at once.
        with self.engine.connect().execution_options(stream_results=True, yield_per=2000) as conn:
            for row in conn.execute(query):
                yield _stored(row)

    def iter_live_records(
        self, rtype: RecordType, *, batch: int = 5000
    ) -> Iterator[list[tuple[dict[str, Any], str, datetime]]]:
        """Every live record of ``rtype`` as ``(record, content_hash, last_changed)``, in key
        order, by batches: what a full matching reads. The payloads as received stay in the
        store (they are most of a row) and no :class:`StoredRecord` is made per row."""
        query = (
            sa.select(_c.record, _c.content_hash, _c.last_changed)
            .where(_c.record_type == rtype.value, _c.gone_at.is_(None))
            .order_by(_c.platform, _c.record_type, _c.source_id)
        )
        with self.engine.connect().execution_options(stream_results=True, yield_per=batch) as conn:
            for part in conn.execute(query).partitions(batch):
                yield [(row[0], row[1], _aware(row[2])) for row in part]

    def iter_live_stamps(
        self, rtype: RecordType, *, batch: int = 5000
    ) -> Iterator[list[tuple[str, str, str, datetime]]]:
        """Every live record of ``rtype`` as ``(platform, source_id, content_hash,
        last_changed)``, in :meth:`iter_live_records` ' order, by batches: what tells a full
        matching which records it holds already, without reading them."""
        query = (
            sa.select(_c.platform, _c.source_id, _c.content_hash, _c.last_changed)
            .where(_c.record_type == rtype.value, _c.gone_at.is_(None))
            .order_by(_c.platform, _c.record_type, _c.source_id)
        )
        with self.engine.connect().execution_options(stream_results=True, yield_per=batch) as conn:
            for part in conn.execute(query).partitions(batch):
                yield [(row[0], row[1], row[2], _aware(row[3])) for row in part]

    def count_raw(self, connector_id: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(t.raw_records)
        query = query.where(t.raw_records.c.gone_at.is_(None))
        if connector_id:
            query = query.where(t.raw_records.c.connector_id == connector_id)
        with self.engine.connect() as conn:
            return int(conn.scalar(query) or 0)

    # -- what changed, for incremental matching ---------------------------------------------
    def shop_changes_since(self, since: datetime) -> list[RecordChange]:
        """Shop records changed, new, back or gone at or after ``since``, in key order.

        Sorted here, not by the query: with an ``ORDER BY`` SQLite read every record in key
        order (a scan of the whole table, most of an incremental run at a million records)
        instead of the two time indexes (``MULTI-INDEX OR``)."""
        c = _c
        query = sa.select(c.platform, c.source_id, c.content_hash, c.gone_at.is_not(None)).where(
            c.record_type == RecordType.shop.value,
            sa.or_(c.last_changed >= since, c.gone_at >= since),
        )
        with self.engine.connect() as conn:
            rows = sorted(conn.execute(query))
        return [RecordChange(*row) for row in rows]

    def offer_changes_since(self, since: datetime) -> list[tuple[str, str, str | None, bool]]:
        """Offers changed, new or gone at or after ``since``:
        ``(platform, source_id, shop_source_id, gone)``."""
        c = _c
        query = sa.select(c.platform, c.source_id, c.shop_source_id, c.gone_at).where(
            c.record_type == RecordType.offer.value,
            sa.or_(c.last_changed >= since, c.gone_at >= since),
        )
        with self.engine.connect() as conn:
            return [
                (r.platform, r.source_id, r.shop_source_id, r.gone_at is not None)
                for r in conn.execute(query)
            ]

    def get_raw_many(
        self, keys: Iterable[tuple[str, str]], rtype: RecordType = RecordType.shop
    ) -> list[StoredRecord]:
        """The live records of these ``(platform, source_id)`` keys (missing ones left out)."""
        return self._live_where(rtype, _c.source_id, keys)

    def offers_of(self, shops: Iterable[tuple[str, str]]) -> list[StoredRecord]:
        """The live offers of these ``(platform, shop source_id)`` shops."""
        return self._live_where(RecordType.offer, _c.shop_source_id, shops)

    def _live_where(
        self, rtype: RecordType, column: sa.ColumnElement[Any], keys: Iterable[tuple[str, str]]
    ) -> list[StoredRecord]:
        """Live records of ``rtype`` whose ``column`` holds one of the ``(platform, value)``
        keys, read 500 values at a time per platform."""
        by_platform: dict[str, set[str]] = {}
        for platform, value in keys:
            by_platform.setdefault(platform, set()).add(value)
        out: list[StoredRecord] = []
        with self.engine.connect() as conn:
            for platform, values in by_platform.items():
                for part in chunks(sorted(values), 500):
                    query = _RECORDS.where(
                        _c.platform == platform,
                        _c.record_type == rtype.value,
                        column.in_(part),
                        _c.gone_at.is_(None),
                    )
                    out.extend(_stored(row) for row in conn.execute(query))
        return out

    def count_live(self, rtype: RecordType) -> int:
        """The number of live records of ``rtype`` as the store keeps it (migration 0013:
        triggers on ``raw_records``, and on SQLite the ingest for the records it inserts),
        without counting the records. On PostgreSQL the rows of differences it sums are
        folded into one when they grow many."""
        n = _l.n
        query = sa.select(sa.func.coalesce(sa.func.sum(n), 0), sa.func.count()).where(
            _l.record_type == rtype.value
        )
        with self.engine.connect() as conn:
            total, rows = conn.execute(query).one()
        if rows > _FOLD_AT and self.engine.dialect.name == "postgresql":
            with self.engine.begin() as conn:
                conn.exec_driver_sql(_FOLD, {"t": rtype.value})
        return int(total)

    def recount_live(self) -> None:
        """Count the live records of every type again and keep those numbers: for numbers
        that drifted from the records (triggers disabled during a restore, a rebuilt table).
        One scan of every record."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # one statement, one snapshot
                conn.exec_driver_sql(f"WITH gone AS (DELETE FROM live_counts) {_RECOUNT}")
            else:
                conn.exec_driver_sql("DELETE FROM live_counts")
                conn.exec_driver_sql(_RECOUNT)

    # -- runs and quarantine ----------------------------------------------------------------
    def start_run(self, connector_id: str) -> Run:
        run = Run(connector_id=connector_id)
        with self.engine.begin() as conn:
            result = conn.execute(
                t.runs.insert().values(
                    connector_id=connector_id,
                    started_at=run.started_at,
                    status="running",
                    errors=[],
                    owner=run_owner(),
                )
            )
            run.id = int(result.inserted_primary_key[0])  # type: ignore[index]
        return run

    def mark_interrupted_runs(self, connector_id: str | None = None) -> int:
        """Runs left "running" by a process that no longer runs (killed, crashed machine) are
        marked failed, "interrupted"; a run of a live process on this host is left alone, as
        is one of another host (its process cannot be seen from here) unless it has no owner.
        Returns how many were marked."""
        query = sa.select(t.runs.c.id, t.runs.c.owner).where(t.runs.c.status == "running")
        if connector_id:
            query = query.where(t.runs.c.connector_id == connector_id)
        with self.engine.begin() as conn:
            stale = [row.id for row in conn.execute(query) if not _owner_alive(row.owner)]
            for part in chunks(stale, 500):
                conn.execute(
                    t.runs.update()
                    .where(t.runs.c.id.in_(part), t.runs.c.status == "running")
                    .values(status="failed", finished_at=utcnow(), errors=[INTERRUPTED])
                )
        return len(stale)

    def prune_quarantine(self, connector_id: str, keep_runs: int) -> int:
        """Drop the refused records of all but the connector's ``keep_runs`` latest runs."""
        latest = (
            sa.select(t.runs.c.id)
            .where(t.runs.c.connector_id == connector_id)
            .order_by(t.runs.c.id.desc())
            .limit(keep_runs)
        )
        q = t.quarantine.c
        with self.engine.begin() as conn:
            kept = [row.id for row in conn.execute(latest)]
            if not kept:
                return 0
            result = conn.execute(
                t.quarantine.delete().where(q.connector_id == connector_id, q.run_id < min(kept))
            )
        return int(result.rowcount or 0)

    def finish_run(self, run: Run) -> None:
        run.finished_at = run.finished_at or utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                t.runs.update()
                .where(t.runs.c.id == run.id)
                .values(
                    finished_at=run.finished_at,
                    status=run.status,
                    errors=run.errors,
                    **run.counts.model_dump(),
                )
            )

    def list_runs(self, connector_id: str | None = None, limit: int = 50) -> list[Run]:
        query = sa.select(t.runs).order_by(t.runs.c.id.desc()).limit(limit)
        if connector_id:
            query = query.where(t.runs.c.connector_id == connector_id)
        with self.engine.connect() as conn:
            return [_run(row) for row in conn.execute(query)]

    def last_good_run(self, connector_id: str) -> Run | None:
        query = (
            sa.select(t.runs)
            .where(t.runs.c.connector_id == connector_id, t.runs.c.status == "ok")
            .order_by(t.runs.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _run(row)

    def quarantine(self, run: Run, rejections: Sequence[Rejection]) -> None:
        if not rejections:
            return
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                t.quarantine.insert(),
                [
                    dict(
                        run_id=run.id,
                        connector_id=run.connector_id,
                        locator=_storable(r.locator[:2000]),
                        reason=_storable(r.reason[:4000]),
                        excerpt=_storable(r.excerpt[:2000]),
                        created_at=now,
                    )
                    for r in rejections
                ],
            )

    def list_quarantine(self, run_id: int) -> list[Rejection]:
        query = sa.select(t.quarantine).where(t.quarantine.c.run_id == run_id)
        with self.engine.connect() as conn:
            return [
                Rejection(locator=r.locator, reason=r.reason, excerpt=r.excerpt)
                for r in conn.execute(query.order_by(t.quarantine.c.id))
            ]


def _storable(text: str) -> str:
    """Quarantined text as both stores can hold it: no NUL, no lone surrogate."""
    return SURROGATES.sub("\ufffd", text.replace("\x00", "\ufffd"))


def run_owner() -> str:
    """``host:pid`` of this process (read at each run: a forked worker has its own pid)."""
    return f"{socket.gethostname()[:180]}:{os.getpid()}"


INTERRUPTED = "interrupted: the process running it stopped before the run finished"


def _owner_alive(owner: str | None) -> bool:
    """Whether the process named ``host:pid`` may still be running (True for another host)."""
    if not owner:
        return False
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname()[:180]:
        return True
    if not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True  # this process: its run is still going (a scheduler thread)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _aware(moment: datetime) -> datetime:
    """SQLite hands times back without their zone; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _stored(row: Any) -> StoredRecord:
    return StoredRecord(
        platform=row.platform,
        record_type=RecordType(row.record_type),
        source_id=row.source_id,
        connector_id=row.connector_id,
        payload=row.payload,
        record=row.record,
        content_hash=row.content_hash,
        first_seen=_aware(row.first_seen),
        last_seen=_aware(row.last_seen),
        last_changed=_aware(row.last_changed),
        gone_at=None if row.gone_at is None else _aware(row.gone_at),
    )


def _run(row: Any) -> Run:
    return Run(
        id=row.id,
        connector_id=row.connector_id,
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=row.status,
        counts=RunCounts(
            fetched=row.fetched,
            new=row.new,
            changed=row.changed,
            unchanged=row.unchanged,
            gone=row.gone,
            rejected=row.rejected,
        ),
        errors=list(row.errors or []),
    )
