"""Identifiers shared too widely to identify one shop: a platform's switchboard, a franchise's
e-mail, an accountant's SIRET typed for every client. They are treated as missing.

A phone, e-mail, website domain or SIRET is *shared* when more than ``MAX_SHARED_RECORDS``
live records carry it, or more than ``MAX_SHARED_NAMES`` records with more than
``MAX_SHARED_NAMES`` distinct names. The status of a value depends on its holders only, so an
incremental run re-examines just the values its changed records carry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from dedupe.prepare.arrays import isin

MAX_SHARED_RECORDS = 20
MAX_SHARED_NAMES = 8
#: Identifier groups: the columns whose values are one identifier space.
GROUPS: dict[str, tuple[str, ...]] = {
    "phones": ("phone1", "phone2"),
    "emails": ("email",),
    "domains": ("domain",),
    "sirets": ("siret",),
}


def _shared_among(values: np.ndarray, names: np.ndarray) -> np.ndarray:
    """The values (sorted) of ``values`` (one per holder, non-zero) shared too widely."""
    if not len(values):
        return values[:0]
    unique, counts = np.unique(values, return_counts=True)
    many = unique[counts > MAX_SHARED_RECORDS]
    maybe = unique[(counts > MAX_SHARED_NAMES) & (counts <= MAX_SHARED_RECORDS)]
    if len(maybe):
        keep = isin(values, maybe)
        pairs = np.unique(np.stack([values[keep], names[keep]]), axis=1)
        value_of_pair, distinct = np.unique(pairs[0], return_counts=True)
        many = np.union1d(many, value_of_pair[distinct > MAX_SHARED_NAMES])
    return many


def _holders(prepared: Any, columns: tuple[str, ...], alive: np.ndarray | None):
    values, rows = [], []
    for column in columns:
        raw = prepared.raw[column]
        mask = raw != 0
        if alive is not None:
            mask &= alive[: len(raw)]
        found = np.flatnonzero(mask)
        values.append(raw[found])
        rows.append(found)
    return np.concatenate(values), np.concatenate(rows)


def blank_shared(prepared: Any, alive: np.ndarray | None = None) -> dict[str, int]:
    """Compute which values are shared and blank them; returns blanked rows per group."""
    prepared.shared = {}
    dropped: dict[str, int] = {}
    for group, columns in GROUPS.items():
        values, rows = _holders(prepared, columns, alive)
        shared = _shared_among(values, prepared.name_hash[rows])
        prepared.shared[group] = set(shared.tolist())
        dropped[group] = 0
        for column in columns:
            raw = prepared.raw[column]
            blank = isin(raw, shared) & (raw != 0)
            setattr(prepared, column, np.where(blank, 0, raw))
            dropped[group] += int(blank.sum())
    return dropped


def refresh_shared(
    prepared: Any, alive: np.ndarray, touched: Mapping[str, Iterable[int]]
) -> np.ndarray:
    """Re-examine the ``touched`` values of each group (values that gained or lost holders);
    returns the rows whose effective identifiers changed."""
    changed: list[np.ndarray] = []
    for group, columns in GROUPS.items():
        values_touched = np.array(sorted({int(v) for v in touched.get(group, ()) if v}))
        if not len(values_touched):
            continue
        values, rows = _holders(prepared, columns, alive)
        keep = isin(values, values_touched)
        now = set(_shared_among(values[keep], prepared.name_hash[rows[keep]]).tolist())
        known = prepared.shared[group]
        flipped = {v for v in values_touched.tolist() if (v in now) != (v in known)}
        if not flipped:
            continue
        known.difference_update(flipped - now)
        known.update(flipped & now)
        flip = np.array(sorted(flipped))
        for column in columns:
            raw = prepared.raw[column]
            hit = np.flatnonzero(isin(raw, flip))
            current = getattr(prepared, column)
            current[hit] = [0 if v in known else v for v in raw[hit].tolist()]
            changed.append(hit)
    return (
        np.unique(np.concatenate(changed), return_counts=True)[0]
        if changed
        else np.zeros(0, np.int64)
    )
