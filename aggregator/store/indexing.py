"""What the search index must catch up with: entity writes by number, and runs a crash cut."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import utcnow
from aggregator.store.base import StoreBase


@dataclass(frozen=True)
class PendingChanges:
    """Entity ids written or removed after a given write number, up to ``upto``."""

    upto: int
    changed: list[str]
    removed: list[str]


class IndexingMixin(StoreBase):
    def entity_seq(self) -> int:
        """The number of the last entity write (0 before any)."""
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.max(t.entity_writes.c.seq))) or 0)

    def entity_changes_since(self, seq: int) -> PendingChanges:
        """Every entity id written or removed by a write numbered above ``seq``."""
        with self.engine.connect() as conn:
            upto = int(conn.scalar(sa.select(sa.func.max(t.entity_writes.c.seq))) or 0)
            changed = conn.scalars(
                sa.select(t.entities.c.entity_id)
                .where(t.entities.c.seq > seq, t.entities.c.seq <= upto)
                .order_by(t.entities.c.entity_id)
            ).all()
            removed = conn.scalars(
                sa.select(t.entity_removals.c.entity_id)
                .where(t.entity_removals.c.seq > seq, t.entity_removals.c.seq <= upto)
                .order_by(t.entity_removals.c.entity_id)
            ).all()
        return PendingChanges(upto=upto, changed=list(changed), removed=list(removed))

    def index_lag(self, seq: int | None) -> tuple[int, float]:
        """``(entities, seconds)`` an index that applied write ``seq`` is behind by: how many
        entities changed since, and how long ago the oldest write it lacks was made. An index
        that applied nothing (``None``) lacks every entity."""
        since = -1 if seq is None else seq
        with self.engine.connect() as conn:
            count = conn.scalar(
                sa.select(sa.func.count()).select_from(t.entities).where(t.entities.c.seq > since)
            )
            count = int(count or 0) + int(
                conn.scalar(
                    sa.select(sa.func.count())
                    .select_from(t.entity_removals)
                    .where(t.entity_removals.c.seq > since)
                )
                or 0
            )
            oldest = conn.scalar(
                sa.select(sa.func.min(t.entity_writes.c.written_at)).where(
                    t.entity_writes.c.seq > since
                )
            )
        if oldest is None or count == 0:
            return count, 0.0
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return count, max(0.0, (utcnow() - oldest).total_seconds())
