"""Snapshots of which record belongs to which shop, and what changed since one, with causes.

A chamber saves a snapshot when it has read a report; the next "changes" report lists the
merges, splits, new and gone shops since, each with its cause: a ruling of the desk on those
records, new data from a platform, or (neither) new matching weights.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import RecordType, utcnow
from aggregator.store.decisions import DecisionsMixin
from aggregator.store.entities import EntitiesMixin
from aggregator.store.records import RecordsMixin

CAUSES = {
    "decision": "décision du bureau",
    "data": "nouvelles données",
    "weights": "nouveaux poids",
}


class SnapshotsMixin(RecordsMixin, EntitiesMixin, DecisionsMixin):
    def save_snapshot(self, taken_by: str) -> int:
        """Keep every record's entity as it is now; returns the snapshot's id."""
        members = {str(k): e for k, e in self.entity_ids_by_record().items()}
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    t.match_snapshots.insert()
                    .values(taken_at=utcnow(), taken_by=taken_by, members=members)
                    .returning(t.match_snapshots.c.id)
                ).scalar_one()
            )

    def last_snapshot(self) -> tuple[int, datetime, str, dict[str, str]] | None:
        c = t.match_snapshots.c
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.match_snapshots).order_by(c.id.desc()).limit(1)).first()
        if row is None:
            return None
        when = row.taken_at if row.taken_at.tzinfo else row.taken_at.replace(tzinfo=UTC)
        return int(row.id), when, row.taken_by, dict(row.members)

    def changes_since_snapshot(self) -> list[dict[str, Any]]:
        """Merges, splits, new and gone shops since the last snapshot (none: empty)."""
        last = self.last_snapshot()
        if last is None:
            return []
        _, since, _, before = last
        after = {str(k): e for k, e in self.entity_ids_by_record().items()}
        changed = self._changed_records(since)
        ruled = self._rulings_since(since)
        groups_before, groups_after = _groups(before), _groups(after)
        rows: list[dict[str, Any]] = []

        def cause(keys: set[str], verdict: str) -> str:
            if any(v == verdict and a in keys and b in keys for (a, b), v in ruled.items()):
                return CAUSES["decision"]
            if keys & changed:
                return CAUSES["data"]
            return CAUSES["weights"]

        for entity, keys in sorted(groups_after.items()):
            olds = {before[k] for k in keys if k in before}
            if not olds:
                rows.append(_row("nouveau commerce", "", entity, keys, CAUSES["data"]))
            elif len(olds) > 1:
                rows.append(
                    _row("fusion", ", ".join(sorted(olds)), entity, keys, cause(keys, "must_link"))
                )
        for entity, keys in sorted(groups_before.items()):
            live = {k for k in keys if k in after}
            news = {after[k] for k in live}
            if not live:
                rows.append(_row("commerce disparu", entity, "", keys, CAUSES["data"]))
            elif len(news) > 1:
                rows.append(
                    _row(
                        "séparation",
                        entity,
                        ", ".join(sorted(news)),
                        live,
                        cause(live, "cannot_link"),
                    )
                )
        return rows

    def _changed_records(self, since: datetime) -> set[str]:
        c = t.raw_records.c
        query = sa.select(c.platform, c.source_id).where(
            c.record_type == RecordType.shop.value,
            sa.or_(c.last_changed >= since, c.first_seen >= since, c.gone_at >= since),
        )
        with self.engine.connect() as conn:
            return {f"{r.platform}:{r.source_id}" for r in conn.execute(query)}

    def _rulings_since(self, since: datetime) -> dict[tuple[str, str], str]:
        """Pairs whose ruling changed since ``since``: their ruling in force now."""
        c = t.decisions.c
        with self.engine.connect() as conn:
            touched = {
                (r.a, r.b) if r.a < r.b else (r.b, r.a)
                for r in conn.execute(sa.select(c.a, c.b).where(c.decided_at >= since))
            }
        now = {pair: entry.after for pair, entry in self.current_rulings().items()}
        return {pair: now.get(pair, "none") for pair in touched}


def _groups(members: dict[str, str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for key, entity in members.items():
        out[entity].add(key)
    return out


def _row(change: str, before: str, after: str, keys: set[str], cause: str) -> dict[str, Any]:
    return {
        "change": change,
        "before": before,
        "after": after,
        "records": " ".join(sorted(keys)),
        "cause": cause,
    }
