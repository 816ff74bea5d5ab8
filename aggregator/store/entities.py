"""Entities (golden records and their members) and the candidate pairs awaiting review."""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import (
    CandidatePair,
    Entity,
    GoldenRecord,
    Listing,
    RecordKey,
    utcnow,
)
from aggregator.store.base import StoreBase, chunks, placeholders
from aggregator.store.entity_rows import EntityRow, dumps, entity_row


class EntitiesMixin(StoreBase):
    def entity_ids_by_record(self) -> dict[RecordKey, str]:
        """The entity each shop record belonged to after the last matching."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.entity_members)).all()
        return {RecordKey(platform=r.platform, source_id=r.source_id): r.entity_id for r in rows}

    def entity_ids_by_key(self) -> dict[str, str]:
        """``"platform:source_id"`` -> entity id of every shop record after the last matching:
        :meth:`entity_ids_by_record` without a key object per record (a million of them)."""
        m = t.entity_members.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(m.platform, m.source_id, m.entity_id))
            return {f"{platform}:{source_id}": entity for platform, source_id, entity in rows}

    def entity_hashes(self, entity_ids: Iterable[str] | None = None) -> dict[str, str]:
        """Entity id -> hash of its search document: every entity, or only these."""
        query = sa.select(t.entities.c.entity_id, t.entities.c.doc_hash)
        with self.engine.connect() as conn:
            if entity_ids is None:
                rows = conn.execute(query).all()
            else:
                rows = []
                for part in chunks(sorted(set(entity_ids)), 500):
                    rows.extend(conn.execute(query.where(t.entities.c.entity_id.in_(part))))
        return {r.entity_id: r.doc_hash for r in rows}

    def entity_sources(self) -> dict[str, str | None]:
        """Entity id -> hash of what it was built from (None: unknown), for every entity: what
        lets a full matching skip building the entities whose inputs did not change."""
        query = sa.select(t.entities.c.entity_id, t.entities.c.source_hash)
        with self.engine.connect() as conn:
            return {entity_id: source for entity_id, source in conn.execute(query)}

    def replace_entities(
        self,
        upserts: Sequence[tuple[Entity, str] | EntityRow],
        removed: Iterable[str],
        candidates: Sequence[CandidatePair],
        sources: Sequence[tuple[str, str | None]] = (),
    ) -> int:
        """Write a matching outcome in one transaction: changed and removed entities, pairs,
        and what the unchanged ones were built from (``sources``). Returns the write's number."""
        with self.writing_entities() as write:
            write.remove(list(removed))
            write.upsert(
                [u if isinstance(u, EntityRow) else entity_row(u[0], u[1]) for u in upserts]
            )
            write.set_sources(sources)
            write.candidates = candidates
        return write.number

    @contextmanager
    def writing_entities(
        self, *, recount: bool = False, stored: Collection[str] | None = None
    ) -> Iterator[EntityWrite]:
        """One matching's entity write, in one transaction committed when the block ends: the
        block hands :meth:`EntityWrite.upsert` batches of changed entities (a full matching
        streams them, never holding a million at once) and the removed ids. ``recount``: the
        kept number of entities is counted again when the write ends (a full matching).
        ``stored``: the id of every entity stored before the write (what
        :meth:`entity_sources` read under the matching lock), for a write that upserts each
        entity once: the rows of the others are not looked for to be deleted."""
        with self.engine.begin() as conn:
            write = EntityWrite(conn, recount=recount, stored=stored)
            yield write
            write.finish()

    def get_entity(self, entity_id: str) -> Entity | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.entities).where(t.entities.c.entity_id == entity_id)
            ).first()
            if row is None:
                return None
            members = conn.execute(
                sa.select(t.entity_members.c.platform, t.entity_members.c.source_id)
                .where(t.entity_members.c.entity_id == entity_id)
                .order_by(t.entity_members.c.platform, t.entity_members.c.source_id)
            ).all()
        return _entity(
            row, [RecordKey(platform=m.platform, source_id=m.source_id) for m in members]
        )

    def iter_entities(self) -> Iterator[Entity]:
        """Every entity with its members, in id order."""
        with self.engine.connect() as conn:
            members: dict[str, list[RecordKey]] = {}
            for m in conn.execute(
                sa.select(t.entity_members).order_by(
                    t.entity_members.c.platform, t.entity_members.c.source_id
                )
            ):
                members.setdefault(m.entity_id, []).append(
                    RecordKey(platform=m.platform, source_id=m.source_id)
                )
            for row in conn.execute(sa.select(t.entities).order_by(t.entities.c.entity_id)):
                yield _entity(row, members.get(row.entity_id, []))

    def count_entities(self) -> int:
        """The number of entities as their writer keeps it (migration 0014), without counting
        them: :class:`EntityWrite` moves it with every write, a full matching counts again."""
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.coalesce(sa.func.sum(_n), 0))) or 0)

    def list_candidates(self, limit: int = 100) -> list[CandidatePair]:
        query = (
            sa.select(t.candidate_pairs)
            .order_by(
                t.candidate_pairs.c.probability.desc(), t.candidate_pairs.c.a, t.candidate_pairs.c.b
            )
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                CandidatePair(
                    a=RecordKey.parse(r.a),
                    b=RecordKey.parse(r.b),
                    probability=r.probability,
                    explanation=r.explanation,
                )
                for r in conn.execute(query)
            ]


#: The number of entities, one row (migration 0014).
_n = sa.table("entity_count", sa.column("n")).c.n


class EntityWrite:
    """The entity write of one matching, inside its transaction (see
    :meth:`EntitiesMixin.writing_entities`). Rows go through the driver in bulk
    (``executemany``; ``COPY`` on PostgreSQL), their JSON encoded once by :func:`entity_row`.
    It keeps the number of entities: the rows its deletes removed and its inserts added move
    it once, when the write finishes (or it is counted again, with ``recount``)."""

    def __init__(
        self, conn: sa.Connection, *, recount: bool = False, stored: Collection[str] | None = None
    ) -> None:
        self.conn = conn
        self.recount = recount
        #: Every entity id stored before this write, when the writer knows them (see
        #: :meth:`EntitiesMixin.writing_entities`); None: any id may have rows.
        self.stored = stored
        #: Entities inserted less entities deleted so far.
        self.added = 0
        self.sql = _Sql.of(conn.dialect.name)
        self.now = utcnow()
        stamp = t.entities.c.updated_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        self._at = stamp(self.now) if stamp is not None else self.now
        # The write's number: the search index applies writes in this order and records the
        # last one it applied (``aggregator.consistency``). Writers are serialised (the
        # matching lock), and a clash on the primary key would fail loudly, not silently.
        self.seq = int(conn.scalar(sa.select(sa.func.max(t.entity_writes.c.seq))) or 0) + 1
        self.removed: list[str] = []
        self.upserted = 0
        #: The review candidates, written when the write finishes.
        self.candidates: Sequence[CandidatePair] = ()

    def remove(self, ids: list[str]) -> None:
        """These entities no longer exist (none of them is written by this write)."""
        conn, sql = self.conn, self.sql
        _delete(conn, sql, "entity_removals", "entity_id", ids)
        if ids:
            conn.exec_driver_sql(sql.insert_removal, [(e, self.seq) for e in ids])
        self.added -= _delete(conn, sql, "entities", "entity_id", ids)
        _delete(conn, sql, "entity_members", "entity_id", ids)
        self.removed.extend(ids)

    def upsert(self, rows: Sequence[EntityRow]) -> None:
        """Write these entities (new or changed) and their memberships."""
        if not rows:
            return
        conn, sql = self.conn, self.sql
        ids = [row.entity_id for row in rows]
        # An id written again is no longer removed.
        _delete(conn, sql, "entity_removals", "entity_id", ids)
        # Only an entity stored before has rows to replace (the first full matching of a
        # store has none: a million lookups of absent keys spared).
        stored = self.stored
        held = ids if stored is None else [i for i in ids if i in stored]
        self.added -= _delete(conn, sql, "entities", "entity_id", held)
        _delete(conn, sql, "entity_members", "entity_id", held)
        members = [(p, s, row.entity_id) for row in rows for p, s in row.members]
        if stored is None or len(stored):  # memberships exist only beside stored entities
            # A record moving between entities: its old membership row goes first.
            _delete_members(conn, sql, [(p, s) for p, s, _ in members])
        _insert(conn, sql, sql.copy_members, sql.insert_member, members)
        at, seq = self._at, self.seq
        entities = [
            (r.entity_id, r.golden, r.names, r.listings, r.doc_hash, r.source_hash, at, seq)
            for r in rows
        ]
        _insert(conn, sql, sql.copy_entity, sql.insert_entity, entities)
        self.added += len(entities)
        self.upserted += len(rows)

    def doc_hashes(self, entity_ids: list[str]) -> dict[str, str]:
        """Entity id -> stored document hash of these entities, read inside the write."""
        query = sa.select(t.entities.c.entity_id, t.entities.c.doc_hash)
        out: dict[str, str] = {}
        for part in chunks(entity_ids, 500):
            out.update(
                (e, h) for e, h in self.conn.execute(query.where(t.entities.c.entity_id.in_(part)))
            )
        return out

    def set_sources(self, sources: Sequence[tuple[str, str | None]]) -> None:
        """Record what these entities were built from, where their document did not change
        (they are not written again, so the index has nothing to catch up with)."""
        if sources:
            p = "%s" if self.sql.pg else "?"
            self.conn.exec_driver_sql(
                f"UPDATE entities SET source_hash = {p} WHERE entity_id = {p}",
                [(source, entity_id) for entity_id, source in sources],
            )

    @property
    def number(self) -> int:
        """The number of the store's last entity write once this one commits."""
        return self.seq if self.upserted or self.removed else self.seq - 1

    def finish(self) -> None:
        conn, now = self.conn, self.now
        if self.upserted or self.removed:
            conn.execute(
                t.entity_writes.insert().values(
                    seq=self.seq, written_at=now, upserted=self.upserted, removed=len(self.removed)
                )
            )
        _write_candidates(conn, self.sql, self.candidates, now)
        if self.recount:  # one row again, whatever drifted or was lost
            conn.exec_driver_sql("DELETE FROM entity_count")
            conn.exec_driver_sql("INSERT INTO entity_count (n) SELECT count(*) FROM entities")
        elif self.added:
            p = "%s" if self.sql.pg else "?"
            conn.exec_driver_sql(f"UPDATE entity_count SET n = n + {p}", (self.added,))


@dataclass(frozen=True)
class _Sql:
    """The entity writes in the driver's own parameter style."""

    pg: bool
    insert_removal: str
    insert_member: str
    insert_entity: str
    copy_members: str
    copy_entity: str

    @classmethod
    @functools.cache
    def of(cls, dialect: str) -> _Sql:
        pg, p, j = placeholders(dialect)
        return cls(
            pg=pg,
            insert_removal=f"INSERT INTO entity_removals (entity_id, seq) VALUES ({p}, {p})",
            insert_member=(
                "INSERT INTO entity_members (platform, source_id, entity_id) "
                f"VALUES ({p}, {p}, {p})"
            ),
            insert_entity=(
                "INSERT INTO entities (entity_id, golden, names, listings, doc_hash, "
                f"source_hash, updated_at, seq) VALUES ({p}, {j}, {j}, {j}, {p}, {p}, {p}, {p})"
            ),
            copy_members="COPY entity_members (platform, source_id, entity_id) FROM STDIN",
            copy_entity=(
                "COPY entities (entity_id, golden, names, listings, doc_hash, source_hash, "
                "updated_at, seq) FROM STDIN"
            ),
        )


#: Keys per statement on PostgreSQL (one array parameter each).
_PG_CHUNK = 20_000


def _delete(conn: sa.Connection, sql: _Sql, table: str, column: str, ids: list[str]) -> int:
    """Delete the rows whose ``column`` is one of ``ids``; returns how many were deleted."""
    if not ids:
        return 0
    if sql.pg:
        statement = f"DELETE FROM {table} WHERE {column} = ANY(CAST(%s AS TEXT[]))"
        return sum(
            conn.exec_driver_sql(statement, (part,)).rowcount for part in chunks(ids, _PG_CHUNK)
        )
    # One indexed lookup per key, in SQLite's own loop; its row count sums every key's.
    statement = f"DELETE FROM {table} WHERE {column} = ?"
    return int(conn.exec_driver_sql(statement, [(i,) for i in ids]).rowcount)


def _delete_members(conn: sa.Connection, sql: _Sql, keys: list[tuple[str, str]]) -> None:
    if not keys:
        return
    if sql.pg:
        statement = (
            "DELETE FROM entity_members m USING unnest(CAST(%s AS TEXT[]), CAST(%s AS TEXT[])) "
            "AS k(platform, source_id) WHERE m.platform = k.platform "
            "AND m.source_id = k.source_id"
        )
        for part in chunks(keys, _PG_CHUNK):
            conn.exec_driver_sql(statement, ([k[0] for k in part], [k[1] for k in part]))
    else:
        conn.exec_driver_sql(
            "DELETE FROM entity_members WHERE platform = ? AND source_id = ?", keys
        )


def _write_candidates(
    conn: sa.Connection, sql: _Sql, pairs: Sequence[CandidatePair], now: Any
) -> None:
    """Make the stored review pairs these: only the pairs that are new, changed (their score
    or explanation) or gone are written, most runs find the same pairs. A pair written gets
    ``created_at`` now, so the reports' stamp (count and latest ``created_at``) still moves
    whenever the pairs do."""
    wanted = {(str(p.a), str(p.b)): p for p in pairs}
    c = t.candidate_pairs.c
    stale: list[tuple[str, str]] = []
    for a, b, probability, explanation in conn.execute(
        sa.select(c.a, c.b, c.probability, c.explanation)
    ):
        pair = wanted.get((a, b))
        if pair is None:
            stale.append((a, b))
        elif pair.probability == probability and dumps(pair.explanation) == dumps(explanation):
            del wanted[(a, b)]  # stored as it is
        else:
            stale.append((a, b))
    if stale:
        if sql.pg:
            statement = (
                "DELETE FROM candidate_pairs p USING unnest(CAST(%s AS TEXT[]), "
                "CAST(%s AS TEXT[])) AS k(a, b) WHERE p.a = k.a AND p.b = k.b"
            )
            for part in chunks(stale, _PG_CHUNK):
                conn.exec_driver_sql(statement, ([k[0] for k in part], [k[1] for k in part]))
        else:
            conn.exec_driver_sql("DELETE FROM candidate_pairs WHERE a = ? AND b = ?", stale)
    if wanted:
        conn.execute(
            t.candidate_pairs.insert(),
            [
                dict(
                    a=a,
                    b=b,
                    probability=p.probability,
                    explanation=p.explanation,
                    created_at=now,
                )
                for (a, b), p in wanted.items()
            ],
        )


def _insert(
    conn: sa.Connection, sql: _Sql, copy: str, insert: str, rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    if sql.pg:  # COPY: the cheapest way in
        driver = conn.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(copy) as writer:  # type: ignore[union-attr]
            for row in rows:
                writer.write_row(row)
    else:
        conn.exec_driver_sql(insert, rows)


def _entity(row: Any, members: list[RecordKey]) -> Entity:
    return Entity(
        entity_id=row.entity_id,
        members=members,
        golden=GoldenRecord.model_validate(row.golden),
        listings=[Listing.model_validate(x) for x in row.listings],
        names=list(row.names),
    )
