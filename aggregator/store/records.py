"""Raw records as received, runs and the quarantine of refused records."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import socket
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import RecordType, Rejection, Run, RunCounts, utcnow
from aggregator.store.base import StoreBase, chunks


@dataclass
class IngestBatch:
    """Records a connector emitted, applied in one transaction."""

    connector_id: str
    items: list[tuple[RecordType, str, str, dict[str, Any], dict[str, Any]]] = field(
        default_factory=list
    )  # (type, platform, source_id, payload, record)


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


class _Serialised(sa.types.TypeDecorator[Any]):
    """A JSON column's value, already serialised by ``apply``: bound as is (PostgreSQL still
    casts it to JSON), so each record is encoded once for its hash and its storage."""

    impl = sa.JSON
    cache_ok = True

    def bind_processor(self, dialect: sa.Dialect) -> None:
        return None


_dumps = functools.partial(
    json.dumps, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
)
_c, _JSON = t.raw_records.c, _Serialised()
#: Neither store can encode a lone surrogate (JSON's "\ud800" read by ``json.loads``).
_SURROGATES = re.compile("[\ud800-\udfff]")
_INSERT = t.raw_records.insert().values(
    payload=sa.bindparam("payload_json", type_=_JSON),
    record=sa.bindparam("record_json", type_=_JSON),
)
_UPDATE = t.raw_records.update().where(
    _c.platform == sa.bindparam("key_platform"), _c.record_type == sa.bindparam("key_type"),
    _c.source_id == sa.bindparam("key_source_id"),
).values(
    payload=sa.bindparam("payload_json", type_=_JSON),
    record=sa.bindparam("record_json", type_=_JSON),
    content_hash=sa.bindparam("new_hash"), connector_id=sa.bindparam("new_connector_id"),
    shop_source_id=sa.bindparam("new_shop"),
    last_seen=sa.bindparam("now"), last_changed=sa.bindparam("now"), gone_at=None,
)  # fmt: skip


def record_digest(payload_json: str, record_json: str) -> str:
    """``content_hash({"payload": payload, "record": record})`` from the two serialised halves
    (``_dumps``): the same text, so the same hash as before, without encoding twice."""
    text = '{"payload":' + payload_json + ',"record":' + record_json + "}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class RecordsMixin(StoreBase):
    def apply(self, batch: IngestBatch, counts: RunCounts, seen: set[tuple[str, str, str]]) -> None:
        """Store a batch: new records inserted, changed ones updated, unchanged ones untouched."""
        if not batch.items:
            return
        now, c = utcnow(), _c
        groups: dict[tuple[str, str], list[tuple[str, dict[str, Any], dict[str, Any]]]] = {}
        for rtype, platform, source_id, payload, record in batch.items:
            groups.setdefault((platform, rtype.value), []).append((source_id, payload, record))
        with self.engine.begin() as conn:
            for (platform, rtype_value), rows in groups.items():
                known: dict[str, tuple[str, Any]] = {}
                for part in chunks([r[0] for r in rows], 500):
                    found = conn.execute(
                        sa.select(c.source_id, c.content_hash, c.gone_at).where(
                            c.platform == platform,
                            c.record_type == rtype_value,
                            c.source_id.in_(part),
                        )
                    )
                    known.update({r.source_id: (r.content_hash, r.gone_at) for r in found})
                inserts: list[dict[str, Any]] = []
                updates: list[dict[str, Any]] = []
                for source_id, payload, record in rows:
                    seen.add((platform, rtype_value, source_id))
                    payload_json, record_json = _dumps(payload), _dumps(record)
                    try:
                        digest = record_digest(payload_json, record_json)
                    except UnicodeEncodeError:  # a lone surrogate in the payload as received
                        payload_json = _SURROGATES.sub("\ufffd", payload_json)
                        digest = record_digest(payload_json, record_json)
                    previous = known.get(source_id)
                    if previous == (digest, None):
                        counts.unchanged += 1
                        continue
                    known[source_id] = (digest, None)
                    if previous is None:
                        counts.new += 1
                        inserts.append(dict(
                            platform=platform, record_type=rtype_value, source_id=source_id,
                            connector_id=batch.connector_id, content_hash=digest,
                            payload_json=payload_json, record_json=record_json,
                            first_seen=now, last_seen=now, last_changed=now,
                            shop_source_id=record.get("shop_source_id"),
                        ))  # fmt: skip
                    else:  # changed, or back after being gone
                        counts.new += previous[1] is not None
                        counts.changed += previous[1] is None
                        updates.append(dict(
                            key_platform=platform, key_type=rtype_value, key_source_id=source_id,
                            new_connector_id=batch.connector_id, new_hash=digest,
                            payload_json=payload_json, record_json=record_json, now=now,
                            new_shop=record.get("shop_source_id"),
                        ))  # fmt: skip
                if inserts:
                    conn.execute(_INSERT, inserts)
                if updates:
                    conn.execute(_UPDATE, updates)
        batch.items.clear()

    def mark_gone(self, connector_id: str, seen: set[tuple[str, str, str]]) -> int:
        """After a complete full refresh: records of the connector it did not see are gone."""
        now = utcnow()
        c = t.raw_records.c
        gone = 0
        with self.engine.begin() as conn:
            live = conn.execute(
                sa.select(c.platform, c.record_type, c.source_id).where(
                    c.connector_id == connector_id, c.gone_at.is_(None)
                )
            ).all()
            for platform, rtype, source_id in live:
                if (platform, rtype, source_id) in seen:
                    continue
                conn.execute(
                    t.raw_records.update()
                    .where(c.platform == platform, c.record_type == rtype, c.source_id == source_id)
                    .values(gone_at=now)
                )
                gone += 1
            conn.execute(
                t.raw_records.update()
                .where(c.connector_id == connector_id, c.gone_at.is_(None))
                .values(last_seen=now)
            )
        return gone

    def get_raw(
        self, platform: str, source_id: str, rtype: RecordType = RecordType.shop
    ) -> StoredRecord | None:
        c = t.raw_records.c
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.raw_records).where(
                    c.platform == platform, c.record_type == rtype.value, c.source_id == source_id
                )
            ).first()
        return None if row is None else _stored(row)

    def iter_raw(
        self, rtype: RecordType | None = None, *, include_gone: bool = False
    ) -> Iterator[StoredRecord]:
        query = sa.select(t.raw_records).order_by(
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

    def count_raw(self, connector_id: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(t.raw_records)
        query = query.where(t.raw_records.c.gone_at.is_(None))
        if connector_id:
            query = query.where(t.raw_records.c.connector_id == connector_id)
        with self.engine.connect() as conn:
            return int(conn.scalar(query) or 0)

    # -- what changed, for incremental matching ---------------------------------------------
    def shop_changes_since(self, since: datetime) -> list[RecordChange]:
        """Shop records changed, new, back or gone at or after ``since``, in key order."""
        c = _c
        query = (
            sa.select(c.platform, c.source_id, c.content_hash, c.gone_at.is_not(None))
            .where(
                c.record_type == RecordType.shop.value,
                sa.or_(c.last_changed >= since, c.gone_at >= since),
            )
            .order_by(c.platform, c.source_id)
        )
        with self.engine.connect() as conn:
            return [RecordChange(*row) for row in conn.execute(query)]

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
                    query = sa.select(t.raw_records).where(
                        _c.platform == platform,
                        _c.record_type == rtype.value,
                        column.in_(part),
                        _c.gone_at.is_(None),
                    )
                    out.extend(_stored(row) for row in conn.execute(query))
        return out

    def count_live(self, rtype: RecordType) -> int:
        query = sa.select(sa.func.count()).select_from(t.raw_records)
        query = query.where(_c.record_type == rtype.value, _c.gone_at.is_(None))
        with self.engine.connect() as conn:
            return int(conn.scalar(query) or 0)

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
    return _SURROGATES.sub("\ufffd", text.replace("\x00", "\ufffd"))


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
