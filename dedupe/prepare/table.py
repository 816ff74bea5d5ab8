"""Shop records as columns: the matcher's input, built from ``ShopRecord`` s or given directly.

A million pydantic records weigh over a gigabyte; a million rows of packed columns (see
:mod:`dedupe.prepare.columns`) a fifth of that. ``match_shops`` turns its records into a table; bulk
callers (the benchmark, a store export) hand the matcher a table and never build the records at
all. Fields a table may hold: :data:`TABLE_FIELDS` (``platform``, ``source_id`` and ``name``
are required); columns are lists or :class:`~dedupe.prepare.columns.TextColumn` s,
``lat``/``lon`` lists or float arrays (NaN for missing).

>>> table = ShopTable.from_columns({"platform": ["a"], "source_id": ["1"], "name": ["Chez Léa"]})
>>> table.keys[0], table.value("city", 0)
('a:1', None)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from aggregator.models import ShopRecord
from dedupe.prepare.columns import TextColumn, column_slice

#: The fields matching reads; other record fields (description, hours...) come from records.
TABLE_FIELDS: tuple[str, ...] = (
    "platform", "source_id", "name", "address", "postcode", "city", "country", "phone",
    "email", "website", "siret", "category", "lat", "lon",
)  # fmt: skip
_REQUIRED = ("platform", "source_id", "name")
#: Tables this big pack their keys (a list of a million keys weighs 70 MB).
PACK_KEYS_FROM = 50_000


class ShopTable:
    """Columns of shop records; row ``i`` of every column is one record."""

    def __init__(
        self,
        columns: Mapping[str, Any],
        records: list[ShopRecord | None] | None = None,
    ) -> None:
        missing = [name for name in _REQUIRED if name not in columns]
        if missing:
            raise ValueError(f"shop table: missing column(s) {', '.join(missing)}")
        self.columns: dict[str, Any] = dict(columns)
        n = len(self.columns["platform"])
        for name in TABLE_FIELDS:
            column = self.columns.setdefault(name, [None] * n)
            if len(column) != n:
                raise ValueError(f"shop table: column {name!r} has {len(column)} rows, not {n}")
        #: The records the table was made from, when it was (golden records read extras).
        self.records = records
        keys = (
            f"{p}:{s}"
            for p, s in zip(self.columns["platform"], self.columns["source_id"], strict=True)
        )
        self.keys: Any = TextColumn.from_values(keys) if n >= PACK_KEYS_FROM else list(keys)

    @classmethod
    def from_columns(cls, columns: Mapping[str, Sequence[Any]]) -> ShopTable:
        return cls({name: list(values) for name, values in columns.items()})

    @classmethod
    def from_records(cls, records: Iterable[ShopRecord]) -> ShopTable:
        rows = list(records)
        columns = {name: [getattr(r, name) for r in rows] for name in TABLE_FIELDS}
        return cls(columns, records=list(rows))

    def __len__(self) -> int:
        return len(self.keys)

    def value(self, name: str, row: int) -> Any:
        value = self.columns[name][row]
        if isinstance(value, float) and value != value:
            return None
        return value

    def slice(self, name: str, start: int, stop: int) -> list[Any]:
        column = self.columns[name]
        if isinstance(column, np.ndarray):
            return [None if v != v else v for v in column[start:stop].tolist()]
        return column_slice(column, start, stop)

    def record(self, row: int) -> ShopRecord:
        """Row ``row`` as a record (the original one when the table was made from records)."""
        if self.records is not None and self.records[row] is not None:
            return self.records[row]  # type: ignore[return-value]
        data = {name: self.value(name, row) for name in TABLE_FIELDS}
        data["country"] = data["country"] or "FR"
        return ShopRecord.model_construct(**data, services=[])

    def extend(self, other: ShopTable) -> range:
        """Append ``other`` 's rows; returns their row numbers here."""
        start = len(self)
        for name in TABLE_FIELDS:
            column, values = self.columns[name], other.slice(name, 0, len(other))
            if isinstance(column, np.ndarray):
                added = np.array([np.nan if v is None else v for v in values], dtype=column.dtype)
                self.columns[name] = np.concatenate([column, added])
            else:
                column.extend(values)
        self.keys.extend(other.keys[i] for i in range(len(other)))
        if self.records is not None or other.records is not None:
            if self.records is None:
                self.records = [None] * start
            self.records.extend(other.records or [None] * len(other))
        return range(start, len(self))
