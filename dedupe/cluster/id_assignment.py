"""Giving the clusters of a re-clustered region their ids, by the rules of
:mod:`dedupe.cluster.entity_ids`, without a Python object per record.

Most clusters have one record. Their claims (the id their one key held) are read in chunks into
an array; a one-record claim loses to any larger cluster's claim on the same id (it has one
holder and is smaller), and among one-record claims on one id the smallest key wins, so they are
settled with array operations and a loop over the rare duplicates. The larger clusters go
through :func:`~dedupe.cluster.entity_ids.claim_entity_ids`. The ids held before are looked up
through a view (:class:`Held`), never copied: a million stored ids are a dict of 80 MB, and the
lists, keys and claims per one-record cluster were another 300 MB at a million records.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from dedupe.cluster.entity_ids import (
    EntityIds,
    Taken,
    assign_entity_ids,
    claim_entity_ids,
    derived_codes,
)
from dedupe.prepare.arrays import isin, unique
from dedupe.prepare.columns import gather

if TYPE_CHECKING:
    from dedupe.state.match_state import MatchState

_CHUNK = 1 << 16  # keys made into strings at a time


class Held(Mapping[str, str]):
    """Record key -> the id it held: ``overrides`` (this state's ids) before ``stored`` (the ids
    of an earlier run), read through rather than merged into a copy."""

    def __init__(self, overrides: dict[str, str], stored: Mapping[str, str]) -> None:
        self.overrides, self.stored = overrides, stored

    def __getitem__(self, key: str) -> str:
        found = self.overrides.get(key)
        return self.stored[key] if found is None else found

    def __contains__(self, key: object) -> bool:
        return key in self.overrides or key in self.stored

    def __bool__(self) -> bool:
        return bool(self.overrides) or bool(self.stored)

    def __iter__(self) -> Iterator[str]:
        yield from self.overrides
        yield from (k for k in self.stored if k not in self.overrides)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def assign_ids(
    state: MatchState,
    region: np.ndarray,
    inside: np.ndarray,
    before: set[str],
    old_ids: Mapping[str, str | None],
    previous_ids: Mapping[str, str],
) -> tuple[np.ndarray, set[str]]:
    """Ids for the clusters of ``region``; returns their codes and the ids that are gone.

    ``previous_ids`` (an earlier run's ids by key) yield to ``old_ids`` (the ids of removed and
    changed rows), which yield, when ``before`` names ids, to the ids the region's rows hold."""
    keys, ids = state.table.keys, state.entity_of
    labels = state.labels[region]
    order = np.argsort(labels, kind="stable")
    rows, labels = region[order], labels[order]
    del order
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    sizes = np.diff(np.r_[starts, len(rows)])
    del labels
    alone = rows[starts[sizes == 1]]
    big = sizes > 1
    members = rows[np.repeat(big, sizes)]  # the rows of larger clusters, cluster by cluster
    big_sizes = sizes[big]
    del rows, starts, sizes, big
    overrides = {k: v for k, v in old_ids.items() if v}
    if before:
        for row, key in zip(members.tolist(), gather(keys, members), strict=True):
            holding = ids[row]
            if holding:
                overrides[key] = holding
    held = Held(overrides, previous_ids)
    taken = Taken(ids, state.alive & ~inside)
    flat = gather(keys, members)
    ends = np.cumsum(big_sizes).tolist()
    clusters = [flat[e - z : e] for z, e in zip(big_sizes.tolist(), ends, strict=True)]
    del flat
    claimed = claim_entity_ids(clusters, held, taken)
    won = np.array([-1 if x is None else ids.encode(x) for x in claimed], np.int64)
    single = _single_claims(keys, alone, held, ids, bool(before))
    single[taken.holds(single) | isin(single, won[won != -1])] = -1
    _settle_duplicates(keys, alone, single)
    pending = [i for i, x in enumerate(claimed) if x is None]
    won[pending] = derived_codes([min(clusters[i]) for i in pending])
    lone = np.flatnonzero(single == -1)
    for at in range(0, len(lone), _CHUNK):
        part = lone[at : at + _CHUNK]
        single[part] = derived_codes(gather(keys, alone[part]))
    del lone
    new = np.concatenate([won, single])
    if len(unique(new)) < len(new) or taken.any_of(new):
        # A derived id is taken (one in 2**48): the general rule salts them in key order.
        for row, key in zip(alone.tolist(), gather(keys, alone), strict=True):
            clusters.append([key])
            holding = ids[row] if before else None
            if holding:
                overrides[key] = holding
        codes = [ids.encode(x) for x in assign_entity_ids(clusters, held, taken)]
        new = np.array(codes, np.int64)
        won, single = new[: len(won)], new[len(won) :]
    ids.codes[members] = np.repeat(won, big_sizes)
    ids.codes[alone] = single
    made = set(new.tolist())
    gone = {x for x in before if ids.encode(x) not in made}
    return new, gone


def _single_claims(
    keys: Sequence[str], alone: np.ndarray, held: Held, ids: EntityIds, holdings: bool
) -> np.ndarray:
    """The code of the id each one-record cluster's key held (-1: none)."""
    encode = ids.encode
    codes = np.full(len(alone), -1, np.int64)
    if held:
        get = held.get
        for at in range(0, len(alone), _CHUNK):
            part = gather(keys, alone[at : at + _CHUNK])
            found = (get(k) for k in part)
            codes[at : at + len(part)] = np.fromiter(
                (-1 if x is None else encode(x) for x in found), np.int64, count=len(part)
            )
    if holdings:
        own = ids.codes[alone]
        codes = np.where(own != -1, own, codes)
    return codes


def _settle_duplicates(keys: Sequence[str], alone: np.ndarray, single: np.ndarray) -> None:
    """Among one-record clusters claiming one id, the smallest key keeps it (in place)."""
    at = np.flatnonzero(single != -1)
    order = np.argsort(single[at], kind="stable")
    at = at[order]
    values = single[at]
    twin = np.flatnonzero(values[1:] == values[:-1])
    if not len(twin):
        return
    contested = np.unique(np.concatenate([at[twin], at[twin + 1]]))
    by_code: dict[int, list[tuple[str, int]]] = {}
    for i, key in zip(contested.tolist(), gather(keys, alone[contested]), strict=True):
        by_code.setdefault(int(single[i]), []).append((key, i))
    for claimants in by_code.values():
        for _, i in sorted(claimants)[1:]:
            single[i] = -1
