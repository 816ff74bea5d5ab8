"""The review queue: the matcher's candidate pairs a chamber has not ruled on, most useful first.

A pair leaves the queue once it has a ruling, and so does every pair that earlier rulings already
settle: two records joined by a chain of must-links are the same shop, and two records whose
groups are kept apart by a cannot-link are different shops. Asking about those would only let a
reviewer contradict the desk's own past work.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import RecordKey, RecordType, content_hash
from aggregator.store.base import StoreError
from aggregator.store.decisions import RULING_OF_WORD, DecisionsMixin, LogEntry
from aggregator.store.records import RecordsMixin
from dedupe import Thresholds

#: The match weight (bits) at and above which the matcher merges a pair.
MERGE_WEIGHT = Thresholds.weight(Thresholds().upper)
#: Where matching saves its weights under the data directory (as ``aggregator.matching``).
MODEL_FILE = "matching-model.json"

#: Score bands a reviewer can filter on: name -> [low, high).
BANDS: dict[str, tuple[float, float]] = {
    "bas": (0.0, 0.5),
    "moyen": (0.5, 0.8),
    "haut": (0.8, 0.95),
    "tres-haut": (0.95, 1.01),
}


@dataclass
class QueueItem:
    """A candidate pair as the desk shows it."""

    a: str
    b: str
    probability: float
    #: Closeness to the merge threshold times how many records a ruling would move.
    usefulness: float
    explanation: dict[str, Any] = field(default_factory=dict)
    communes: tuple[str, str] = ("", "")
    categories: tuple[str, str] = ("", "")

    @property
    def platforms(self) -> tuple[str, str]:
        pa, pb = self.a.partition(":")[0], self.b.partition(":")[0]
        return (pa, pb) if pa <= pb else (pb, pa)

    @property
    def band(self) -> str:
        return next(name for name, (lo, hi) in BANDS.items() if lo <= self.probability < hi)


class _Groups:
    """Union-find over record keys joined by must-links."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        root = key
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(key, key) != root:  # path compression
            self.parent[key], key = root, self.parent[key]
        return root

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def implied(rulings: dict[tuple[str, str], LogEntry]) -> tuple[_Groups, set[tuple[str, str]]]:
    """The groups that must-links make and the pairs of groups cannot-links keep apart."""
    groups = _Groups()
    for (a, b), entry in rulings.items():
        if entry.after == "must_link":
            groups.join(a, b)
    apart = set()
    for (a, b), entry in rulings.items():
        if entry.after == "cannot_link":
            ra, rb = groups.find(a), groups.find(b)
            apart.add((ra, rb) if ra < rb else (rb, ra))
    return groups, apart


def is_settled(
    a: str, b: str, groups: _Groups, apart: set[tuple[str, str]], ruled: set[tuple[str, str]]
) -> bool:
    """True when the pair has a ruling or earlier rulings imply one."""
    pair = (a, b) if a < b else (b, a)
    if pair in ruled:
        return True
    ra, rb = groups.find(a), groups.find(b)
    return ra == rb or ((ra, rb) if ra < rb else (rb, ra)) in apart


class ReviewMixin(RecordsMixin, DecisionsMixin):
    def review_queue(
        self,
        *,
        commune: str | None = None,
        platforms: tuple[str, str] | None = None,
        band: str | None = None,
        category: str | None = None,
        limit: int | None = None,
    ) -> list[QueueItem]:
        """Candidate pairs without a ruling, direct or implied, most useful first."""
        rulings = self.current_rulings()
        groups, apart = implied(rulings)
        ruled = set(rulings)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.candidate_pairs)).all()
            sizes = _entity_sizes(conn)
        keys = {key for r in rows for key in (r.a, r.b)}
        cities = self._fields_of(keys)
        wanted_platforms = tuple(sorted(platforms)) if platforms else None
        items = []
        for row in rows:
            if is_settled(row.a, row.b, groups, apart, ruled):
                continue
            explanation = dict(row.explanation or {})
            entity_a, entity_b = sizes.get(row.a, ("", 1)), sizes.get(row.b, ("", 1))
            together = entity_a[0] != "" and entity_a[0] == entity_b[0]
            moved = 1 if together else min(entity_a[1], entity_b[1])
            closeness = _closeness(float(row.probability))
            item = QueueItem(
                a=row.a,
                b=row.b,
                probability=float(row.probability),
                usefulness=round((closeness + 0.05) * moved, 6),
                explanation=explanation,
                communes=(cities.get(row.a, ("", ""))[0], cities.get(row.b, ("", ""))[0]),
                categories=(cities.get(row.a, ("", ""))[1], cities.get(row.b, ("", ""))[1]),
            )
            if commune and commune.casefold() not in {c.casefold() for c in item.communes}:
                continue
            if wanted_platforms and item.platforms != wanted_platforms:
                continue
            if band and item.band != band:
                continue
            if category and category not in item.categories:
                continue
            items.append(item)
        items.sort(key=lambda i: (-i.usefulness, -i.probability, i.a, i.b))
        return items if limit is None else items[:limit]

    def review_progress(self) -> tuple[int, int]:
        """(pairs of the last matching settled since by a ruling, pairs it proposed)."""
        rulings = self.current_rulings()
        groups, apart = implied(rulings)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.candidate_pairs.c.a, t.candidate_pairs.c.b)).all()
        done = sum(is_settled(r.a, r.b, groups, apart, set(rulings)) for r in rows)
        return done, len(rows)

    def decide(
        self,
        a: str,
        b: str,
        word: str,
        *,
        reviewer: str,
        role: str | None = None,
        note: str | None = None,
        model: str | None = None,
    ) -> LogEntry:
        """Record a reviewer's ruling (``same``, ``different`` or ``unsure``) on two stored shop
        records, with the score the pair has now; :class:`ReviewError` on bad input."""
        ruling = RULING_OF_WORD.get(word)
        if ruling is None:
            raise ReviewError(f"unknown verdict {word!r}: one of same, different, unsure")
        keys = []
        for text in (a, b):
            try:
                key = RecordKey.parse(text)
            except ValueError as error:
                raise ReviewError(str(error)) from None
            if self.get_raw(key.platform, key.source_id, RecordType.shop) is None:
                raise ReviewError(f"no shop record {text} in the store")
            keys.append(str(key))
        if keys[0] == keys[1]:
            raise ReviewError("a pair needs two different records")
        if note is not None and len(note) > 2000:
            raise ReviewError("a note holds at most 2000 characters")
        stored = self.candidate(keys[0], keys[1])
        return self.record_decision(
            keys[0],
            keys[1],
            ruling,
            reviewer=reviewer,
            role=role,
            note=note,
            probability=None if stored is None else float(stored["probability"]),
            model=model,
        )

    def candidate(self, a: str, b: str) -> dict[str, Any] | None:
        """The stored candidate pair (a, b) in either order, or None."""
        c = t.candidate_pairs.c
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.candidate_pairs).where(
                    sa.or_(sa.and_(c.a == a, c.b == b), sa.and_(c.a == b, c.b == a))
                )
            ).first()
        if row is None:
            return None
        return dict(row._mapping)

    def _fields_of(self, keys: set[str]) -> dict[str, tuple[str, str]]:
        """Record key -> (commune, category) as the platform gives them."""
        pairs = [tuple(k.split(":", 1)) for k in keys]
        out = {}
        for stored in self.get_raw_many(pairs):  # type: ignore[arg-type]
            record = stored.record
            out[f"{stored.platform}:{stored.source_id}"] = (
                record.get("city") or "",
                record.get("category") or "",
            )
        return out


def _closeness(probability: float) -> float:
    """1 at the matcher's merge threshold, falling with the distance in bits from it: a pair
    there is the one a ruling most likely flips."""
    p = min(max(probability, 1e-6), 1 - 1e-6)
    return 1.0 / (1.0 + abs(Thresholds.weight(p) - MERGE_WEIGHT))


def _entity_sizes(conn: sa.Connection) -> dict[str, tuple[str, int]]:
    """Record key -> (its entity, how many records that entity has)."""
    m = t.entity_members.c
    members = conn.execute(sa.select(m.platform, m.source_id, m.entity_id)).all()
    counts: dict[str, int] = {}
    for row in members:
        counts[row.entity_id] = counts.get(row.entity_id, 0) + 1
    return {f"{r.platform}:{r.source_id}": (r.entity_id, counts[r.entity_id]) for r in members}


def model_label(data_dir: Path) -> str | None:
    """What names the matching model in force: its source and a hash of its saved weights."""
    saved = data_dir / MODEL_FILE
    if not saved.is_file():
        return None
    data = json.loads(saved.read_text())
    return f"{data.get('source', 'model')}:{content_hash(data)[:12]}"


class ReviewError(StoreError):
    """A ruling cannot be recorded: the message says why (unknown record, bad word...)."""
