"""Shop tables turned into columns of normalised values: the form blocking and scoring read.

Columns (numpy arrays and packed texts, one row per record) rather than one object per record:
scoring then takes whole columns at once. Text values compared for equality are also kept as
64-bit hashes (``hash()``: stable within one process and its forked workers, which is where a
:class:`Prepared` lives). Big tables are normalised by chunks, in worker processes when asked
(``processes``): the per-record Python work is most of a big first run.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from dedupe.prepare.columns import TextColumn
from dedupe.prepare.rows import ARRAYS, SUFFIX_CODES, SUFFIX_NAMES, TEXTS, WORDS, Normaliser
from dedupe.prepare.table import TABLE_FIELDS, ShopTable
from dedupe.prepare.taxonomy import Taxonomy

__all__ = ["SUFFIX_CODES", "SUFFIX_NAMES", "Normaliser", "Prepared", "normalise", "prepare"]

#: Identifier columns blanked when shared too widely (see :mod:`dedupe.golden.shared_identifiers`).
IDENTIFIERS = ("phone1", "phone2", "email", "domain", "siret")
CHUNK = 32768
#: Below this many rows, worker processes cost more than they save.
PARALLEL_FROM = 100_000

_WORK: tuple[Normaliser, ShopTable] | None = None


def _chunk(normaliser: Normaliser, table: ShopTable, bounds: tuple[int, int]) -> dict[str, Any]:
    out = normaliser.rows(table, *bounds)
    # Texts packed: one string instead of thousands of objects (and cheap to send back).
    for name in TEXTS:
        out[name] = TextColumn.from_values(out[name])
    return out


def _work(bounds: tuple[int, int]) -> dict[str, Any]:
    assert _WORK is not None
    # As in the parent (see dedupe.state.match_state): no cycles, millions of allocations.
    gc.disable()
    return _chunk(*_WORK, bounds)


def _sent(task: tuple[Normaliser, ShopTable]) -> dict[str, Any]:
    normaliser, part = task
    gc.disable()
    return _chunk(normaliser, part, (0, len(part)))


def normalise(
    table: ShopTable,
    normaliser: Normaliser,
    start: int,
    stop: int,
    processes: int = 1,
    pool: Any = None,
) -> dict[str, Any]:
    """Normalised columns (texts packed) and name words for rows ``start`` to ``stop``.

    ``pool`` (a :class:`multiprocessing.pool.Pool` forked before the process started any
    thread, see :func:`start_pool`) is sent the rows a chunk at a time; otherwise, with
    ``processes`` above 1, worker processes are forked here, which only a process that runs
    no other thread may do."""
    global _WORK
    bounds = [(s, min(s + CHUNK, stop)) for s in range(start, stop, CHUNK)] or [(start, start)]
    if pool is not None and stop - start >= PARALLEL_FROM:
        # imap, not map: the chunks are cut and sent as the workers take them (map would
        # first copy the whole table into the chunks, hundreds of megabytes at a million).
        tasks = (
            (normaliser, ShopTable({n: table.slice(n, a, b) for n in TABLE_FIELDS}))
            for a, b in bounds
        )
        parts = list(pool.imap(_sent, tasks, chunksize=1))
    elif processes > 1 and stop - start >= PARALLEL_FROM and "fork" in _methods():
        _WORK = (normaliser, table)
        try:
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                parts = pool.map(_work, bounds, chunksize=1)
        finally:
            _WORK = None
    else:
        parts = [_chunk(normaliser, table, b) for b in bounds]
    out: dict[str, Any] = {}
    for name in TEXTS:
        out[name] = TextColumn.concat([part[name] for part in parts])
    for name in (*ARRAYS, *WORDS):
        out[name] = np.concatenate([part[name] for part in parts])
        for part in parts:
            del part[name]
    return out


def _methods() -> list[str]:
    return multiprocessing.get_all_start_methods()


def start_pool(processes: int) -> Any:
    """Worker processes for :func:`normalise`, forked now: call it before the process starts
    any thread (forking a process that runs threads is unsafe). Forked, they share the
    parent's string hashes, which normalised columns hold. None when there is no use for one
    (``processes`` below 2, or no ``fork`` on this platform)."""
    if processes < 2 or "fork" not in _methods():
        return None
    return multiprocessing.get_context("fork").Pool(processes)


class Prepared:
    """Normalised columns for ``n`` records; row ``i`` is row ``i`` of the table.

    ``raw`` keeps the identifier columns as read; the attributes of the same name hold them
    once identifiers shared too widely are blanked (:mod:`dedupe.golden.shared_identifiers`).
    """

    def __init__(
        self, table: ShopTable, columns: dict[str, Any], category_slugs: Sequence[str] = ()
    ) -> None:
        self.table = table
        self.keys = table.keys
        self.category_slugs = list(category_slugs)
        self.shared: dict[str, set[int]] = {}
        self.names: TextColumn = columns["names"]
        self.streets: TextColumn = columns["streets"]
        self.cities: TextColumn = columns["cities"]
        for name in ARRAYS:
            setattr(self, name, columns[name])
        self.raw = {name: columns[name].copy() for name in IDENTIFIERS}

    def __len__(self) -> int:
        return len(self.names)

    def column(self, name: str) -> Any:
        return getattr(self, name)

    def extend(self, columns: dict[str, Any]) -> None:
        """Append normalised rows (the table already holds them)."""
        for name in TEXTS:
            getattr(self, name).extend(columns[name])
        for name in ARRAYS:
            setattr(self, name, np.concatenate([getattr(self, name), columns[name]]))
        for name in IDENTIFIERS:
            self.raw[name] = np.concatenate([self.raw[name], columns[name]])


def prepare(
    records: ShopTable | Sequence[Any],
    taxonomy: Taxonomy | None = None,
    platform_domains: Iterable[str] = (),
    drop_shared: bool = True,
    normaliser: Normaliser | None = None,
) -> Prepared:
    """Normalise every record once. ``platform_domains`` are never read as a shop's website."""
    from dedupe.golden.shared_identifiers import blank_shared

    table = records if isinstance(records, ShopTable) else ShopTable.from_records(records)
    normaliser = normaliser or Normaliser(taxonomy, platform_domains)
    columns = normalise(table, normaliser, 0, len(table))
    prepared = Prepared(table, columns, normaliser.category_slugs)
    if drop_shared:
        blank_shared(prepared)
    return prepared
