"""Entities (golden records and their members) and the candidate pairs awaiting review."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
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
from aggregator.store.base import StoreBase, chunks


class EntitiesMixin(StoreBase):
    def entity_ids_by_record(self) -> dict[RecordKey, str]:
        """The entity each shop record belonged to after the last matching."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.entity_members)).all()
        return {RecordKey(platform=r.platform, source_id=r.source_id): r.entity_id for r in rows}

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

    def replace_entities(
        self,
        upserts: Sequence[tuple[Entity, str]],
        removed: Iterable[str],
        candidates: Sequence[CandidatePair],
    ) -> None:
        """Write a matching outcome in one transaction: changed and removed entities, pairs."""
        now = utcnow()
        removed = list(removed)
        changed_ids = [entity.entity_id for entity, _ in upserts]
        with self.engine.begin() as conn:
            # The write's number: the search index applies writes in this order and records the
            # last one it applied (``aggregator.consistency``). Writers are serialised (the
            # matching lock), and a clash on the primary key would fail loudly, not silently.
            seq = int(conn.scalar(sa.select(sa.func.max(t.entity_writes.c.seq))) or 0) + 1
            if changed_ids or removed:
                conn.execute(
                    t.entity_writes.insert().values(
                        seq=seq, written_at=now, upserted=len(changed_ids), removed=len(removed)
                    )
                )
            for part in chunks(changed_ids, 500):
                conn.execute(
                    t.entity_removals.delete().where(t.entity_removals.c.entity_id.in_(part))
                )
            for part in chunks(removed, 500):
                conn.execute(
                    t.entity_removals.delete().where(t.entity_removals.c.entity_id.in_(part))
                )
                conn.execute(t.entity_removals.insert(), [dict(entity_id=e, seq=seq) for e in part])
            for part in chunks(removed + changed_ids, 500):
                conn.execute(t.entities.delete().where(t.entities.c.entity_id.in_(part)))
                conn.execute(
                    t.entity_members.delete().where(t.entity_members.c.entity_id.in_(part))
                )
            members: list[dict[str, Any]] = []
            rows: list[dict[str, Any]] = []
            for entity, digest in upserts:
                rows.append(
                    dict(
                        entity_id=entity.entity_id,
                        golden=entity.golden.model_dump(mode="json"),
                        names=entity.names,
                        listings=[lst.model_dump(mode="json") for lst in entity.listings],
                        doc_hash=digest,
                        updated_at=now,
                        seq=seq,
                    )
                )
                members.extend(
                    dict(platform=m.platform, source_id=m.source_id, entity_id=entity.entity_id)
                    for m in entity.members
                )
            for part in chunks(members, 1000):
                # A record moving between entities: its old membership row goes first.
                for platform, ids in _by_platform(part).items():
                    conn.execute(
                        t.entity_members.delete().where(
                            t.entity_members.c.platform == platform,
                            t.entity_members.c.source_id.in_(ids),
                        )
                    )
                conn.execute(t.entity_members.insert(), part)
            for part in chunks(rows, 1000):
                conn.execute(t.entities.insert(), part)
            conn.execute(t.candidate_pairs.delete())
            if candidates:
                conn.execute(
                    t.candidate_pairs.insert(),
                    [
                        dict(
                            a=str(p.a),
                            b=str(p.b),
                            probability=p.probability,
                            explanation=p.explanation,
                            created_at=now,
                        )
                        for p in candidates
                    ],
                )

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
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(t.entities)) or 0)

    def list_candidates(self, limit: int = 100) -> list[CandidatePair]:
        query = (
            sa.select(t.candidate_pairs)
            .order_by(t.candidate_pairs.c.probability.desc())
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


def _by_platform(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for row in rows:
        grouped.setdefault(row["platform"], []).append(row["source_id"])
    return grouped


def _entity(row: Any, members: list[RecordKey]) -> Entity:
    return Entity(
        entity_id=row.entity_id,
        members=members,
        golden=GoldenRecord.model_validate(row.golden),
        listings=[Listing.model_validate(x) for x in row.listings],
        names=list(row.names),
    )
