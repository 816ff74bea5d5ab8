"""Text columns packed into one string: a million values without a million Python objects.

A :class:`TextColumn` holds its values end to end in one ``str`` with an array of end offsets
(and a tail list for rows appended later); reading a value slices it out. A million shop names
then weigh about 25 MB instead of 80, and worker processes that read them (forked) share the
pages instead of copying every touched object.

>>> column = TextColumn.from_values(["Chez Léa", None, "Bar"])
>>> column[0], column[1], column.slice(1, 3), len(column)
('Chez Léa', None, [None, 'Bar'], 3)
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


class TextColumn:
    """Packed text values (``None`` allowed), appendable."""

    __slots__ = ("_ends", "_missing", "_n", "_tail", "_text")

    def __init__(self, text: str = "", ends: np.ndarray | None = None, missing=None) -> None:  # noqa: ANN001
        self._text = text
        self._ends = ends if ends is not None else np.zeros(0, np.int64)
        self._missing = missing if missing is not None else np.zeros(len(self._ends), bool)
        self._n = len(self._ends)
        self._tail: list[str | None] = []

    @classmethod
    def from_values(cls, values: Iterable[str | None]) -> TextColumn:
        items = list(values)
        missing = np.fromiter((v is None for v in items), dtype=bool, count=len(items))
        texts = ["" if v is None else v for v in items]
        ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))
        return cls("".join(texts), _compact(ends), missing)

    @classmethod
    def concat(cls, columns: Sequence[TextColumn]) -> TextColumn:
        """One column of several (their tails included)."""
        packed = [c if not c._tail else cls.from_values(c) for c in columns]
        offsets = np.cumsum([0, *(len(c._text) for c in packed[:-1])])
        ends = [c._ends.astype(np.int64) + off for c, off in zip(packed, offsets, strict=True)]
        return cls(
            "".join(c._text for c in packed),
            _compact(np.concatenate(ends)) if ends else None,
            np.concatenate([c._missing for c in packed]) if packed else None,
        )

    def __len__(self) -> int:
        return self._n + len(self._tail)

    def __getitem__(self, row: int) -> str | None:
        if row >= self._n:
            return self._tail[row - self._n]
        if row < 0:
            return self[len(self) + row]
        if self._missing[row]:
            return None
        start = self._ends[row - 1] if row else 0
        return self._text[start : self._ends[row]]

    def slice(self, start: int, stop: int) -> list[str | None]:
        """Values ``start`` to ``stop`` as a list."""
        stop = min(stop, len(self))
        out: list[str | None] = []
        if start < self._n:
            end = min(stop, self._n)
            ends = self._ends[start:end].tolist()
            begins = [int(self._ends[start - 1]) if start else 0, *ends[:-1]]
            text, missing = self._text, self._missing[start:end].tolist()
            out = [None if m else text[b:e] for b, e, m in zip(begins, ends, missing, strict=True)]
        if stop > self._n:
            out.extend(self._tail[max(start, self._n) - self._n : stop - self._n])
        return out

    def take(self, rows: Sequence[int]) -> list[str | None]:
        return [self[r] for r in rows]

    def gather(self, rows: np.ndarray) -> list[str | None]:
        """Values at ``rows`` (an array), in bulk."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and rows.min() < 0:
            return [self[r] for r in rows.tolist()]
        appended = np.flatnonzero(rows >= self._n)
        if len(appended):
            # Rows appended since the column was packed: the others still read in bulk.
            found: list[str | None] = (
                self.gather(np.where(rows < self._n, rows, 0)) if self._n else [None] * len(rows)
            )
            tail, n = self._tail, self._n
            for i, row in zip(appended.tolist(), rows[appended].tolist(), strict=True):
                found[i] = tail[row - n]
            return found
        ends = self._ends[rows]
        begins = np.where(rows > 0, self._ends[np.maximum(rows - 1, 0)], 0)
        text = self._text
        out: list[str | None] = [
            text[b:e] for b, e in zip(begins.tolist(), ends.tolist(), strict=True)
        ]
        for i in np.flatnonzero(self._missing[rows]).tolist():
            out[i] = None
        return out

    def __iter__(self):  # noqa: ANN204
        return iter(self.slice(0, len(self)))

    def extend(self, values: Iterable[str | None]) -> None:
        """Append values (kept in a tail list: appends stay cheap)."""
        self._tail.extend(values)

    def append(self, value: str | None) -> None:
        self._tail.append(value)

    def __getstate__(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)


def _compact(ends: np.ndarray) -> np.ndarray:
    """Offsets as 32-bit integers when the text allows (half the memory)."""
    return ends.astype(np.int32) if not len(ends) or ends[-1] < 2**31 - 1 else ends


def column_slice(column: Sequence[Any] | TextColumn, start: int, stop: int) -> list[Any]:
    """Values ``start`` to ``stop`` of a list or a packed column."""
    if isinstance(column, TextColumn):
        return column.slice(start, stop)
    return list(column[start:stop])


def gather(column: Sequence[Any] | TextColumn, rows: np.ndarray) -> list[Any]:
    """Values at ``rows`` of a list or a packed column."""
    if isinstance(column, TextColumn):
        return column.gather(rows)
    return [column[i] for i in rows.tolist()]


class KeyIndex:
    """Record key -> row, for a million keys without a million-entry dict: sorted 64-bit key
    hashes (each hit checked against the key itself), and a dict for later changes."""

    def __init__(self, keys: Sequence[str] | TextColumn, rows: np.ndarray) -> None:
        self._keys = keys
        hashes = np.fromiter(map(hash, gather(keys, rows)), np.int64, count=len(rows))
        order = np.argsort(hashes, kind="stable")
        self._hashes, self._rows = hashes[order], rows[order]
        self._changes: dict[str, int | None] = {}

    def duplicates(self) -> list[str]:
        """Keys held by more than one row."""
        same = np.flatnonzero(self._hashes[1:] == self._hashes[:-1])
        found = {
            self._keys[int(self._rows[i])]
            for i in same.tolist()
            if self._keys[int(self._rows[i])] == self._keys[int(self._rows[i + 1])]
        }
        return sorted(k for k in found if k is not None)

    def get(self, key: str) -> int | None:
        if key in self._changes:
            return self._changes[key]
        h = hash(key)
        at = int(np.searchsorted(self._hashes, h))
        while at < len(self._hashes) and self._hashes[at] == h:
            row = int(self._rows[at])
            if self._keys[row] == key:
                return row
            at += 1
        return None

    def rows_of(self, keys: Sequence[str]) -> np.ndarray:
        """The row of each key, as :meth:`get` finds it (-1 for a key not held), looked up
        together: a million keys in a second, where one at a time takes several."""
        out = np.full(len(keys), -1, np.int64)
        if not len(keys):
            return out
        hashes = np.fromiter(map(hash, keys), np.int64, count=len(keys))
        slow = np.ones(len(keys), bool)
        if len(self._hashes):
            at = np.minimum(np.searchsorted(self._hashes, hashes), len(self._hashes) - 1)
            hit = np.flatnonzero(self._hashes[at] == hashes)
            rows = self._rows[at[hit]]
            wanted = [keys[i] for i in hit.tolist()]
            same = np.fromiter(map(operator.eq, gather(self._keys, rows), wanted), bool, len(hit))
            out[hit[same]] = rows[same]
            slow[hit[same]] = False
        if self._changes:  # later changes win over the sorted hashes
            slow |= np.fromiter((k in self._changes for k in keys), bool, count=len(keys))
        for i in np.flatnonzero(slow).tolist():
            row = self.get(keys[i])
            out[i] = -1 if row is None else row
        return out

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __getitem__(self, key: str) -> int:
        row = self.get(key)
        if row is None:
            raise KeyError(key)
        return row

    def __setitem__(self, key: str, row: int) -> None:
        self._changes[key] = row

    def pop(self, key: str) -> int:
        row = self[key]
        self._changes[key] = None
        return row
