"""Entities of a full matching built a batch at a time: one-record clusters in bulk.

:meth:`dedupe.MatchResult.builder` builds one entity from its rows: golden record, members,
listings and names, each value read from the columns one row at a time. Most entities hold
one record; for those a batch's rows are read once per column
(:func:`dedupe.golden.singles.single_records`, and the keys, names and listings here), and
the others go through the builder as before. The entities are the same, value for value and
in the same order (``tests/test_entity_build.py`` compares the two ways).

Example::

    build = EntityBatches(result)
    entities = build([("e1", [4]), ("e2", [7, 9])])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aggregator.models import Entity, Listing, RecordKey
from dedupe import MatchResult
from dedupe.golden.records import GoldenBuilder, constructor
from dedupe.golden.singles import single_records
from dedupe.prepare.columns import gather

_RECORD_KEY, _LISTING, _ENTITY = constructor(RecordKey), constructor(Listing), constructor(Entity)


class EntityBatches:
    """Builds the entities of ``(entity id, member rows)`` clusters of one matching result."""

    def __init__(self, result: MatchResult) -> None:
        state = result.state
        config = state.config
        self.table = state.table
        self.one = result.builder()
        self.golden = GoldenBuilder(
            state.prepared, config.platform_priority, config.record_dates, state.alive
        )

    def __call__(self, clusters: Sequence[tuple[str, list[int]]]) -> list[Entity]:
        """The entities of ``clusters``, in their order: ``[builder(e, rows) for ...]``."""
        built: list[Entity | None] = [None] * len(clusters)
        singles: list[int] = []
        for i, (entity_id, rows) in enumerate(clusters):
            if len(rows) == 1:
                singles.append(i)
            else:
                built[i] = self.one(entity_id, rows)
        if singles:
            rows = [clusters[i][1][0] for i in singles]
            for i, entity in zip(singles, self._singles(clusters, singles, rows), strict=True):
                built[i] = entity
        return built  # type: ignore[return-value]

    def _singles(
        self, clusters: Sequence[tuple[str, list[int]]], which: list[int], rows: list[int]
    ) -> list[Entity]:
        table = self.table
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
        goldens = single_records(self.golden, rows)
        record_key, listing, entity = _RECORD_KEY, _LISTING, _ENTITY
        out = []
        for n, i in enumerate(which):
            platform, _, source_id = keys[n].partition(":")
            name = names[n]
            out.append(
                entity(
                    {
                        "entity_id": clusters[i][0],
                        "members": [record_key({"platform": platform, "source_id": source_id})],
                        "golden": goldens[n],
                        "listings": [
                            listing(
                                {
                                    "platform": platforms[n],
                                    "source_id": sources[n],
                                    "url": urls[n],
                                    "name": name,
                                }
                            )
                        ],
                        "names": [name.strip()],
                        "offers": [],
                    }
                )
            )
        return out


__all__ = ["EntityBatches"]
