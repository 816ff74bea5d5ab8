"""Stored shop records as the matcher's columns, without a ``ShopRecord`` per record.

The store holds each record as the JSON of a validated :class:`~aggregator.models.ShopRecord`
(validated when it was ingested), so matching reads those values straight into a
:class:`~dedupe.prepare.table.ShopTable`: a million pydantic records would cost a minute to
validate again and gigabytes to hold, where packed columns cost seconds and a few hundred
megabytes. The fields only golden records read (description, opening hours, services, the
listing's URL) ride along in a small :class:`Extras` per record that has any.

Example::

    reading = ShopColumns()
    for batch in store.iter_live_records(RecordType.shop):
        reading.add(batch)
    table = reading.table()

    # the same, reading only what changed since a matching state's run
    table = read_shops(store, (state.table, state.row_of), held).table()
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any, cast

import numpy as np

from aggregator.models import RecordType
from dedupe.prepare.columns import KeyIndex, TextColumn, gather
from dedupe.prepare.table import PACK_KEYS_FROM, TABLE_FIELDS, ShopTable

#: A stored record's ``(platform, source_id, content_hash, last_changed)``.
Stamp = tuple[str, str, str, datetime]
#: A matching state's table and its key index: what :func:`read_shops` takes rows from.
Previous = tuple[ShopTable, KeyIndex]
#: Table fields read as text (``lat`` and ``lon`` are float arrays).
TEXT_FIELDS = tuple(name for name in TABLE_FIELDS if name not in ("lat", "lon"))
#: Fields golden records read row by row: kept as lists, whose items are read several times
#: faster than a packed column's (the others are packed, as the matcher reads them in bulk).
LISTED = frozenset({"platform", "source_id", "name", "address", "city", "email", "website"})


class Extras:
    """A record's fields that golden records read and matching does not (what
    :class:`~dedupe.golden.records.GoldenBuilder` and the listings ask of a record)."""

    __slots__ = ("description", "opening_hours", "services", "url")

    def __init__(self, record: dict[str, Any]) -> None:
        self.description: str | None = record.get("description")
        self.opening_hours: str | None = record.get("opening_hours")
        self.services: list[str] = record.get("services") or []
        self.url: str | None = record.get("url")


def extras(record: dict[str, Any]) -> Extras | None:
    """The record's extras, or None when it has none (most records)."""
    if (
        record.get("description")
        or record.get("opening_hours")
        or record.get("services")
        or record.get("url")
    ):
        return Extras(record)
    return None


class ShopColumns:
    """Collects stored shop records (``(record, content_hash, last_changed)`` batches) into
    columns, with each record's last change and content hash by key."""

    def __init__(self) -> None:
        self.parts: dict[str, list[Any]] = {name: [] for name in TABLE_FIELDS}
        self.extras: list[Extras | None] = []
        #: ``"platform:source_id"`` -> last change, for the recency rule of golden records.
        self.dates: dict[str, datetime] = {}
        #: ``"platform:source_id"`` -> content hash: what the matching state holds.
        self.hashes: dict[str, str] = {}
        self.rows = 0
        #: Per row, its row in the table :meth:`add_rows` took it from (-1: read); in the
        #: order of :meth:`table` once it is made.
        self.origin = np.zeros(0, np.int64)
        self._origins: list[np.ndarray] = []
        self._last: tuple[str, str] | None = None
        self._ordered = True

    def add(self, batch: Iterable[tuple[dict[str, Any], str, datetime]]) -> None:
        texts: dict[str, list[str | None]] = {name: [] for name in TEXT_FIELDS}
        lat: list[float] = []
        lon: list[float] = []
        nan = float("nan")
        for record, digest, changed in batch:
            platform, source_id = record["platform"], record["source_id"]
            key = f"{platform}:{source_id}"
            # The store's order is its collation's; matching's is Python's (checked here).
            if self._last is not None and (platform, source_id) <= self._last:
                self._ordered = False
            self._last = (platform, source_id)
            for name, column in texts.items():
                column.append(record.get(name))
            if texts["country"][-1] is None:
                texts["country"][-1] = "FR"
            point = record.get("lat"), record.get("lon")
            lat.append(nan if point[0] is None else point[0])
            lon.append(nan if point[1] is None else point[1])
            self.extras.append(extras(record))
            self.dates[key], self.hashes[key] = changed, digest
        for name, column in texts.items():
            self.parts[name].append(TextColumn.from_values(column))
        self.parts["lat"].append(np.array(lat, dtype=np.float64))
        self.parts["lon"].append(np.array(lon, dtype=np.float64))
        self._origins.append(np.full(len(lat), -1, np.int64))
        self.rows += len(lat)

    def add_rows(
        self,
        table: ShopTable,
        rows: np.ndarray,
        stamps: Sequence[Stamp],
        keys: Sequence[str] | None = None,
    ) -> None:
        """Rows of a table read before (a matching state's), for records whose content did
        not change since: ``stamps`` are their ``(platform, source_id, content_hash,
        last_changed)``, in the store's order (``keys``: their ``platform:source_id``, when
        the caller has them). The same columns as :meth:`add` of the stored records, without
        reading them again."""
        if keys is None:
            keys = [f"{platform}:{source_id}" for platform, source_id, _, _ in stamps]
        for key, (platform, source_id, digest, changed) in zip(keys, stamps, strict=True):
            if self._last is not None and (platform, source_id) <= self._last:
                self._ordered = False
            self._last = (platform, source_id)
            self.dates[key], self.hashes[key] = changed, digest
        picked = np.asarray(rows, dtype=np.int64)
        if len(picked) and picked.min() < 0:
            raise KeyError("a record the state does not hold")
        for name in TEXT_FIELDS:
            self.parts[name].append(TextColumn.from_values(gather(table.columns[name], picked)))
        for name in ("lat", "lon"):
            self.parts[name].append(np.asarray(table.columns[name], dtype=np.float64)[picked])
        # A table this module made holds each row's extras where records would be.
        extras = cast("list[Extras | None] | None", table.records)
        self.extras.extend([extras[r] for r in picked.tolist()] if extras else [None] * len(picked))
        self._origins.append(picked)
        self.rows += len(picked)

    def table(self) -> ShopTable:
        """The records read, in (platform, source id) order, as one table."""
        columns: dict[str, Any] = {}
        # Each field's parts go as soon as they are joined: never every field twice at once.
        for name in TEXT_FIELDS:
            parts = self.parts.pop(name)
            packed = TextColumn.concat(parts) if parts else TextColumn()
            del parts
            listed = self.rows < PACK_KEYS_FROM or name in LISTED
            columns[name] = packed.slice(0, self.rows) if listed else packed
            del packed
        for name in ("lat", "lon"):
            parts = self.parts.pop(name)
            columns[name] = np.concatenate(parts) if parts else np.zeros(0, np.float64)
            del parts
        self.parts = {name: [] for name in TABLE_FIELDS}
        origin = np.concatenate(self._origins) if self._origins else np.zeros(0, np.int64)
        self._origins = []
        records = self.extras
        if not self._ordered:
            platforms, sources = columns["platform"], columns["source_id"]
            order = np.array(
                sorted(range(self.rows), key=lambda r: (platforms[r], sources[r])), dtype=np.int64
            )
            for name in TEXT_FIELDS:
                values = [columns[name][r] for r in order.tolist()]
                pack = self.rows >= PACK_KEYS_FROM and name not in LISTED
                columns[name] = TextColumn.from_values(values) if pack else values
            for name in ("lat", "lon"):
                columns[name] = columns[name][order]
            records = [records[r] for r in order.tolist()]
            origin = origin[order]
        self.origin = origin
        return ShopTable(columns, records=records)  # type: ignore[arg-type]


def read_shops(
    store: Any, previous: Previous | None = None, held: Mapping[str, str] | None = None
) -> ShopColumns:
    """Every live shop record of ``store`` as columns. With the table and key index of a
    matching state (``previous``) and the content hash of each record it holds (``held``), a
    record held with the same hash is taken from that table (on a full matching after others,
    most of them): only the others are read and decoded.

    Only the table and its key index are needed: the caller lets the rest of the state go
    before reading, and the table itself as soon as this returns."""
    reading = ShopColumns()
    if previous is None or held is None:
        for batch in store.iter_live_records(RecordType.shop):
            reading.add(batch)
        return reading
    table, row_of = previous
    for stamps in store.iter_live_stamps(RecordType.shop):
        keys = [f"{p}:{s}" for p, s, _, _ in stamps]
        same = [held.get(key) == stamp[2] for key, stamp in zip(keys, stamps, strict=True)]
        changed = [(p, s) for (p, s, _, _), kept in zip(stamps, same, strict=True) if not kept]
        stored = {(r.platform, r.source_id): r for r in store.get_raw_many(changed)}
        at = 0
        for kept, group in groupby(same):
            end = at + sum(1 for _ in group)
            run, run_keys, at = stamps[at:end], keys[at:end], end
            if kept:
                reading.add_rows(table, row_of.rows_of(run_keys), run, run_keys)
            else:
                found = (stored.get((p, s)) for p, s, _, _ in run)
                reading.add((r.record, r.content_hash, r.last_changed) for r in found if r)
    return reading
