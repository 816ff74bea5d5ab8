"""Normalised rows taken from an earlier matching state instead of normalised again.

Normalising a record is a function of the record alone, given the taxonomy and the
marketplaces' domains (:class:`~dedupe.prepare.rows.Normaliser`): a full matching after others
in the same process (string hashes are stable within a process and its forked workers) can
take the normalised columns of every record whose content did not change from the state it
replaces, and normalise only the others. Normalising is most of a full matching's per-record
Python work (a million records: tens of CPU seconds in worker processes).

Only the columns are kept, not the state: :meth:`Normalised.of` takes them from a
:class:`~dedupe.prepare.columns_of.Prepared` (identifiers as read, before shared ones are
blanked), and :func:`normalise_reusing` lets them go once the new rows' columns are built.

Example::

    kept = Normalised.of(state.prepared)
    del state
    kept.origin = origin    # origin[i]: the earlier row of row i of the table, or -1
    columns = normalise_reusing(table, normaliser, kept)
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np

from dedupe.prepare.columns import TextColumn, gather
from dedupe.prepare.columns_of import IDENTIFIERS, Prepared, normalise
from dedupe.prepare.rows import ARRAYS, TEXTS
from dedupe.prepare.table import TABLE_FIELDS, ShopTable
from dedupe.prepare.text import key_tokens, word_length


class Normalised:
    """The normalised columns of an earlier state's rows, and for each row of the table to
    normalise the earlier row holding the same record (-1: normalise it)."""

    def __init__(self, columns: dict[str, Any], origin: np.ndarray | None = None) -> None:
        self.columns: dict[str, Any] | None = columns
        #: Per row of the table to normalise, the earlier row of its record (-1: none).
        self.origin = np.zeros(0, np.int64) if origin is None else origin

    @classmethod
    def of(cls, prepared: Prepared) -> Normalised:
        """The columns of ``prepared`` (no reference to it or its table is kept)."""
        columns: dict[str, Any] = {name: getattr(prepared, name) for name in TEXTS}
        for name in ARRAYS:
            columns[name] = prepared.raw[name] if name in IDENTIFIERS else getattr(prepared, name)
        return cls(columns)

    def take(self) -> dict[str, Any]:
        """The earlier columns, given up: held no longer than the caller holds them."""
        columns, self.columns = self.columns, None
        if columns is None:
            raise ValueError("the earlier normalised columns were taken already")
        return columns


def normalise_reusing(
    table: ShopTable, normaliser: Any, kept: Normalised, processes: int = 1, pool: Any = None
) -> dict[str, Any]:
    """What :func:`~dedupe.prepare.columns_of.normalise` gives for every row of ``table``,
    normalising only the rows ``kept`` has no earlier row for."""
    n, origin = len(table), np.asarray(kept.origin, dtype=np.int64)
    if len(origin) != n:
        raise ValueError(f"{len(origin)} earlier rows given for a table of {n}")
    before = kept.take()
    fresh = np.flatnonzero(origin < 0)
    held = np.flatnonzero(origin >= 0)
    source = origin[held]
    done = normalise(_rows(table, fresh), normaliser, 0, len(fresh), processes, pool)
    out: dict[str, Any] = {}
    for name in TEXTS:
        merged = np.empty(n, dtype=object)
        merged[fresh] = done.pop(name).slice(0, len(fresh))
        merged[held] = gather(before[name], source)
        out[name] = TextColumn.from_values(merged.tolist())
    for name in ARRAYS:
        column = np.empty(n, dtype=ARRAYS[name])
        column[fresh] = done.pop(name)
        column[held] = before[name][source]
        out[name] = column
    del before
    # A row's name words are those of its normalised name (as the normaliser made them).
    tokens = [key_tokens(name or "") for name in gather(out["names"], held)]
    flat = list(chain.from_iterable(tokens))
    words: dict[str, np.ndarray] = {
        "count": np.fromiter(map(len, tokens), np.int16, count=len(tokens)),
        "hash": np.fromiter(map(hash, flat), np.int64, count=len(flat)),
        "len": np.fromiter(map(word_length, flat), np.int16, count=len(flat)),
    }
    made = {"count": done["word_count"], "hash": done["word_hash"], "len": done["word_len"]}
    out.update(_merge_words(n, (fresh, made), (held, words)))
    return out


def _rows(table: ShopTable, rows: np.ndarray) -> ShopTable:
    """These rows of ``table`` as a table of their own."""
    columns: dict[str, Any] = {}
    for name in TABLE_FIELDS:
        column = table.columns[name]
        columns[name] = column[rows] if isinstance(column, np.ndarray) else gather(column, rows)
    return ShopTable(columns)


def _merge_words(n: int, *parts: tuple[np.ndarray, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Flat name words of ``n`` rows from parts each holding the words of some rows (``rows``
    ascending; per row its word ``count``, then each word's ``hash`` and ``len``)."""
    count = np.zeros(n, np.int16)
    for rows, words in parts:
        count[rows] = words["count"]
    starts = np.cumsum(count, dtype=np.int64) - count
    total = int(count.sum(dtype=np.int64))
    out: dict[str, np.ndarray] = {
        "word_count": count,
        "word_hash": np.zeros(total, np.int64),
        "word_len": np.zeros(total, np.int16),
    }
    for rows, got in parts:
        counts = got["count"].astype(np.int64)
        firsts = np.cumsum(counts) - counts
        at = np.repeat(starts[rows] - firsts, counts) + np.arange(int(counts.sum()))
        out["word_hash"][at] = got["hash"]
        out["word_len"][at] = got["len"]
    return out
