"""What a matching run hands back: entities, review candidates, figures, built on demand.

Building a million pydantic entities costs more than matching them; a result therefore keeps
the matching state and makes :attr:`MatchResult.entities` (golden records included) and
:attr:`MatchResult.candidates` (with their explanations) the first time they are read.
``assignments()`` (record -> entity id) needs neither.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from aggregator.models import CandidatePair, Entity, GoldenRecord, Listing, RecordKey
from dedupe.golden.records import GoldenBuilder, constructor
from dedupe.prepare.arrays import gc_paused, isin, unique
from dedupe.prepare.columns import gather
from dedupe.score.model import probability
from dedupe.state.pairstore import decode, encode

if TYPE_CHECKING:
    from dedupe.state.match_state import MatchState

#: What an entity is built of, without pydantic's checks (the values are the engine's own).
_RECORD_KEY, _LISTING, _ENTITY = constructor(RecordKey), constructor(Listing), constructor(Entity)


#: Entities made at a time by :meth:`MatchResult.iter_clusters` from its arrays.
_CHUNK = 10_000


def _by_smallest_key(clusters: dict[str, list[int]], keys: Any) -> list[tuple[str, list[int]]]:
    """``clusters`` (members in key order) ordered by their first member's key."""
    items = list(clusters.items())
    firsts = np.fromiter((rows[0] for _, rows in items), np.int64, count=len(items))
    smallest = gather(keys, firsts)
    return [items[i] for i in sorted(range(len(items)), key=smallest.__getitem__)]


def _key(text: str) -> RecordKey:
    platform, _, source_id = text.partition(":")
    return RecordKey.model_construct(platform=platform, source_id=source_id)


class MatchResult:
    """Entities (every live record in exactly one), review candidates and run figures."""

    def __init__(
        self,
        state: MatchState,
        changed: np.ndarray | None = None,
        removed: set[str] | None = None,
        started: float | None = None,
    ) -> None:
        self.state = state
        self._changed = np.zeros(0, np.int64) if changed is None else unique(changed)
        #: Ids of the entities that no longer exist.
        self.removed = removed or set()
        self.stats: dict[str, Any] = dict(state.stats)
        self.stats.update(self._figures())
        if started is not None:
            self.stats["seconds"] = round(time.perf_counter() - started, 3)

    def _figures(self) -> dict[str, Any]:
        s = self.state
        a, b, _, _ = s.store.edges()
        together = s.labels[a] == s.labels[b] if len(a) else np.zeros(0, bool)
        lower = s.store.weights >= s.lower
        return {
            "merged_pairs": int(together.sum()),
            "review_pairs": len(self._candidate_pairs()),
            "refused_merges": len(s.refused),
            "refused_must_links": len(s.refused_must_links),
            "decisions_applied": sum(
                1 for pair in s.decided if pair[0] in s.row_of and pair[1] in s.row_of
            ),
            "entities": s.entity_count(),
            "stored_pairs": int(lower.sum()),
            "changed_entities": len(self._changed),
            "removed_entities": len(self.removed),
        }

    @cached_property
    def changed(self) -> set[str]:
        """Ids of the entities this run created or changed (to re-index)."""
        decode = self.state.entity_of.decode
        return {decode(int(code)) for code in self._changed}  # type: ignore[misc]

    # -- entities -----------------------------------------------------------------------------

    def assignments(self) -> dict[RecordKey, str]:
        """Record key -> entity id (the ``previous_ids`` of the next run)."""
        s = self.state
        keys = s.table.keys
        decode = s.entity_of.decode
        rows = np.flatnonzero(s.alive)
        codes = s.entity_of.codes[rows].tolist()
        return {
            _key(keys[r]): decode(c)  # type: ignore[misc]
            for r, c in zip(rows.tolist(), codes, strict=True)
        }

    def entity(self, entity_id: str, golden: GoldenBuilder | None = None) -> Entity:
        rows = self._clusters[entity_id]
        golden = golden or GoldenBuilder(self.state.prepared, alive=self.state.alive)
        return self._build(entity_id, rows, golden)

    @cached_property
    def _clusters(self) -> dict[str, list[int]]:
        return self.state.clusters()

    @cached_property
    def entities(self) -> list[Entity]:
        """Every entity, ordered by its smallest member key (kept: see :meth:`build_entities`)."""
        return self.build_entities()

    def build_entities(self) -> list[Entity]:
        """Every entity, built anew: for a caller that should not keep them all alive with
        the result (a service keeps its last result between runs)."""
        golden = self._golden()
        with gc_paused():
            return [self._build(eid, rows, golden) for eid, rows in self._sorted_clusters()]

    def iter_entities(self) -> Iterator[Entity]:
        """Every entity, built as it is asked for, in :meth:`build_entities` ' order: a caller
        that writes them one batch at a time never holds them all."""
        golden = self._golden()
        for entity_id, rows in self._sorted_clusters():
            yield self._build(entity_id, rows, golden)

    def iter_clusters(self) -> Iterator[tuple[str, list[int]]]:
        """``(entity id, member rows)`` of every entity, in :meth:`iter_entities` ' order: a
        caller that can tell an unchanged entity from its rows builds only the others (with
        :meth:`builder`)."""
        yield from self._sorted_clusters()

    def builder(self) -> Callable[[str, list[int]], Entity]:
        """Builds the entity of ``(entity id, member rows)`` as :meth:`iter_entities` does."""
        golden = self._golden()
        return lambda entity_id, rows: self._build(entity_id, rows, golden)

    def changed_entities(self) -> list[Entity]:
        """The entities this run created or changed (to re-index)."""
        return self.entities_of(self.changed)

    def entities_of(self, entity_ids: Iterable[str]) -> list[Entity]:
        """These entities (ids no live record holds are left out), by smallest member key.

        Reads only the rows holding them, so an incremental run's few entities cost
        milliseconds where :attr:`entities` builds them all."""
        s = self.state
        codes = {s.entity_of.code_of(e) for e in entity_ids}
        wanted = np.array(sorted(c for c in codes if c is not None), np.int64)
        rows = np.flatnonzero(s.alive)
        rows = rows[isin(s.entity_of.codes[rows], wanted)]
        keys = s.table.keys
        clusters: dict[int, list[int]] = {}
        for row, code in zip(rows.tolist(), s.entity_of.codes[rows].tolist(), strict=True):
            clusters.setdefault(code, []).append(row)
        golden = self._golden()
        built = []
        with gc_paused():
            for members in clusters.values():
                members.sort(key=keys.__getitem__)
            # One batch for all their golden records: a cluster built alone pays the
            # batch's set-up each time.
            records = golden.build_many(list(clusters.values()))
            for (code, members), record in zip(clusters.items(), records, strict=True):
                entity_id = s.entity_of.decode(code)
                built.append(self._build(entity_id, members, golden, record))  # type: ignore[arg-type]
        built.sort(key=lambda e: str(e.members[0]))
        return built

    def _golden(self) -> GoldenBuilder:
        c = self.state.config
        return GoldenBuilder(
            self.state.prepared, c.platform_priority, c.record_dates, self.state.alive
        )

    def _sorted_clusters(self) -> Iterator[tuple[str, list[int]]]:
        """``(entity id, member rows)`` of every entity by smallest member key, members in key
        order, made as they are asked for. Only arrays are held while a caller goes through
        them: the ids and member lists of a million entities, held all at once beside the
        state, cost a few hundred megabytes at the peak of a full matching's write."""
        cached = self.__dict__.get("_clusters")
        if cached:
            yield from _by_smallest_key(cached, self.state.table.keys)
            return
        s = self.state
        rows = np.flatnonzero(s.alive)
        codes = s.entity_of.codes[rows]
        order = np.argsort(codes, kind="stable")
        rows, codes = rows[order], codes[order]
        del order
        if not len(codes):
            return
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        sizes = np.diff(np.r_[starts, len(codes)])
        codes = codes[starts]
        keys = s.table.keys
        # Each entity's first member: its row, or its smallest key's (most have one record).
        firsts = rows[starts]
        sorted_members: dict[int, list[int]] = {}
        for i in np.flatnonzero(sizes > 1).tolist():
            start = int(starts[i])
            members = rows[start : start + int(sizes[i])].tolist()
            members.sort(key=keys.__getitem__)
            sorted_members[i] = members
            firsts[i] = members[0]
        # Each entity's smallest key, read in bulk (a million, one at a time, take seconds).
        smallest = gather(keys, firsts)
        by_key = np.array(sorted(range(len(smallest)), key=smallest.__getitem__), np.int64)
        del smallest
        decode = s.entity_of.decode
        for at in range(0, len(by_key), _CHUNK):
            chosen = by_key[at : at + _CHUNK]
            for i, first, code in zip(
                chosen.tolist(), firsts[chosen].tolist(), codes[chosen].tolist(), strict=True
            ):
                members = sorted_members.pop(i, None)
                yield decode(code), members if members is not None else [first]  # type: ignore[misc]

    def _build(
        self,
        entity_id: str,
        rows: list[int],
        golden: GoldenBuilder,
        record: GoldenRecord | None = None,
    ) -> Entity:
        """The entity of ``rows``; ``record``, when given, is its golden record built already."""
        table = self.state.table
        columns, records, keys = table.columns, table.records, table.keys
        platforms, sources, shop_names = columns["platform"], columns["source_id"], columns["name"]
        members, listings, names = [], [], []
        record_key, listing = _RECORD_KEY, _LISTING
        for r in rows:
            platform, _, source_id = keys[r].partition(":")
            members.append(record_key({"platform": platform, "source_id": source_id}))
            name = shop_names[r]
            url = getattr(records[r], "url", None) if records is not None else None
            listings.append(
                listing(
                    {"platform": platforms[r], "source_id": sources[r], "url": url, "name": name}
                )
            )
            names.append(name.strip())
        return _ENTITY(
            {
                "entity_id": entity_id,
                "members": members,
                "golden": record if record is not None else golden.build(rows),
                "listings": listings,
                "names": list(dict.fromkeys(names)),
                "offers": [],
            }
        )

    # -- review candidates ---------------------------------------------------------------------

    def _candidate_pairs(self) -> list[tuple[int, int, float]]:
        s = self.state
        codes, weights = s.store.codes, s.store.weights
        refused = np.zeros(len(codes), bool)
        if s.refused:
            refused_codes = encode(*(np.array(side) for side in zip(*s.refused, strict=True)))
            refused = isin(codes, refused_codes)
        keep = (weights >= s.lower) & ((weights < s.upper) | refused)
        a, b = decode(codes[keep])
        out = list(zip(a.tolist(), b.tolist(), weights[keep].tolist(), strict=True))
        if s.decided:
            keys = s.table.keys
            out = [
                (x, y, w) for x, y, w in out if tuple(sorted((keys[x], keys[y]))) not in s.decided
            ]
        return out

    @cached_property
    def candidates(self) -> list[CandidatePair]:
        """Pairs between the thresholds, and refused merges, for a chamber to review."""
        s = self.state
        keys = s.table.keys
        # A live row's normalised values never change (a changed record, or one whose shared
        # identifiers flip, comes back as a new row), so a pair's explanation under the same
        # weights is the last run's: an update explains only its new pairs, not them all.
        model, known = getattr(s, "_explained", (None, None))
        if model is not s.model or known is None:
            known = {}
        explained: dict[tuple[int, int], dict[str, Any]] = {}
        out = []
        for x, y, w in self._candidate_pairs():
            detail = known.get((x, y))
            if detail is None:
                detail = s.model.explain(s.prepared, x, y)  # type: ignore[union-attr]
            explained[(x, y)] = detail
            explanation = dict(detail)
            explanation["same_entity"] = bool(s.labels[x] == s.labels[y])
            if (x, y) in s.refused:
                explanation["refused"] = s.refused[(x, y)]
            ka, kb = sorted((keys[x], keys[y]))
            out.append(
                CandidatePair(
                    a=_key(ka), b=_key(kb), probability=probability(w), explanation=explanation
                )
            )
        s._explained = (s.model, explained)  # type: ignore[attr-defined]
        out.sort(key=lambda c: (-c.probability, str(c.a), str(c.b)))
        return out

    def explain(self, a: RecordKey | str, b: RecordKey | str) -> dict[str, Any]:
        """Field-by-field explanation of two live records of this result."""
        s = self.state
        x, y = s.row_of[str(a)], s.row_of[str(b)]
        detail = s.model.explain(s.prepared, x, y)  # type: ignore[union-attr]
        detail["a"], detail["b"] = str(a), str(b)
        detail["same_entity"] = bool(s.labels[x] == s.labels[y])
        return detail
