"""Entities of a full matching built a batch at a time, every column read once per batch.

:meth:`dedupe.MatchResult.builder` builds one entity from its rows: golden record, members,
listings and names, each value read from the columns one row at a time. Here a batch's rows
are read once per column: the golden records through
:meth:`~dedupe.golden.records.GoldenBuilder.build_many`, the keys, names and listings here.
The entities are the same, value for value and in the same order
(``tests/test_entity_build.py`` compares the two ways).

Example::

    build = EntityBatches(result)
    entities = build([("e1", [4]), ("e2", [7, 9])])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

import numpy as np

from aggregator.models import Entity, Listing, RecordKey
from dedupe import MatchResult
from dedupe.golden.records import GoldenBuilder, constructor
from dedupe.prepare.columns import gather

_RECORD_KEY, _LISTING, _ENTITY = constructor(RecordKey), constructor(Listing), constructor(Entity)
T = TypeVar("T")


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class EntityBatches:
    """Builds the entities of ``(entity id, member rows)`` clusters of one matching result."""

    def __init__(self, result: MatchResult) -> None:
        state = result.state
        config = state.config
        self.table = state.table
        self.golden = GoldenBuilder(
            state.prepared, config.platform_priority, config.record_dates, state.alive
        )

    def __call__(self, clusters: Sequence[tuple[str, list[int]]]) -> list[Entity]:
        """The entities of ``clusters``, in their order: ``[builder(e, rows) for ...]``."""
        if not clusters:
            return []
        table = self.table
        rows = [row for _, members in clusters for row in members]
        at = np.asarray(rows, dtype=np.int64)
        keys = gather(table.keys, at)
        names = gather(table.columns["name"], at)
        platforms = gather(table.columns["platform"], at)
        sources = gather(table.columns["source_id"], at)
        records = table.records
        urls = (
            [getattr(records[r], "url", None) for r in rows]
            if records is not None
            else [None] * len(rows)
        )
        goldens = self.golden.build_many([members for _, members in clusters])
        record_key, listing, entity = _RECORD_KEY, _LISTING, _ENTITY
        out = []
        start = 0
        for (entity_id, members), golden in zip(clusters, goldens, strict=True):
            stop = start + len(members)
            keyed, listings, shown = [], [], []
            for n in range(start, stop):
                platform, _, source_id = keys[n].partition(":")
                keyed.append(record_key({"platform": platform, "source_id": source_id}))
                name = names[n]
                listings.append(
                    listing(
                        {
                            "platform": platforms[n],
                            "source_id": sources[n],
                            "url": urls[n],
                            "name": name,
                        }
                    )
                )
                shown.append(name.strip())
            out.append(
                entity(
                    {
                        "entity_id": entity_id,
                        "members": keyed,
                        "golden": golden,
                        "listings": listings,
                        "names": shown if len(shown) == 1 else list(dict.fromkeys(shown)),
                        "offers": [],
                    }
                )
            )
            start = stop
        return out


__all__ = ["EntityBatches", "batches"]
