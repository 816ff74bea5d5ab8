"""Clustering that does not chain: merges in descending score order, each one checked.

Connected components over "probable match" edges glue two branches of a chain through one bad
record (its phone from branch A, its address from branch B). Here, inside each connected
component of the edges at or above the upper threshold (and the must-links):

1. must-link decisions merge first, newest first (unless a cannot-link forbids the result);
2. edges merge in descending match weight (ties: by record keys), but a merge is refused when
   any record of one cluster and any record of the other have a cannot-link decision, or their
   own comparison shows conflict evidence at or below ``-conflict_bits`` (see
   :mod:`dedupe.score.model`: e.g. different phones *and* different addresses).

Merges only follow edges, so no cluster spans two components: clustering component by
component gives the global result, and an incremental run re-clusters only the components its
changes touch. Cross pairs that blocking never scored are scored on demand, so the check holds
for them too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dedupe.prepare.arrays import isin, unique

#: Components up to this size get every cross pair's conflict scored in one batch.
BATCH_COMPONENT = 64


@dataclass
class Edges:
    """Edges (row pairs, ``a < b``) with weights and conflict evidence; must-links have
    weight ``inf``."""

    a: np.ndarray
    b: np.ndarray
    weights: np.ndarray
    conflicts: np.ndarray


@dataclass
class Clustering:
    """``labels[row]`` is the smallest row of the row's cluster, for the rows of the region
    that have an edge (the others are alone)."""

    labels: dict[int, int] = field(default_factory=dict)
    #: Rows and labels of the two-record clusters decided in bulk (kept as arrays: they are
    #: most clusters of a big run).
    pair_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pair_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: Refused edges and why: ``(a, b) -> "cannot_link" | "conflict"``.
    refused: dict[tuple[int, int], str] = field(default_factory=dict)
    refused_must_links: list[tuple[int, int]] = field(default_factory=list)


def components(nodes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each of ``nodes`` (sorted), the smallest node of its connected component under the
    edges ``(a, b)`` (label propagation with pointer jumping: a few passes for shop clusters)."""
    ia, ib = np.searchsorted(nodes, a), np.searchsorted(nodes, b)
    label = np.arange(len(nodes))
    while True:
        low = np.minimum(label[ia], label[ib])
        new = label.copy()
        np.minimum.at(new, ia, low)
        np.minimum.at(new, ib, low)
        new = new[new]
        if np.array_equal(new, label):
            return nodes[label]
        label = new


def cluster(
    edges: Edges,
    keys: Sequence[str],
    must_links: Sequence[tuple[int, int]] = (),
    cannot_links: Sequence[tuple[int, int]] = (),
    conflict_of: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    conflict_bits: float = 4.0,
) -> Clustering:
    """Cluster the rows of ``edges`` and ``must_links`` (whole components).
    ``conflict_of(a, b)`` scores the conflict evidence of row pairs blocking did not score."""
    result = Clustering()
    forbidden: dict[int, set[int]] = {}
    for x, y in cannot_links:
        forbidden.setdefault(x, set()).add(y)
        forbidden.setdefault(y, set()).add(x)
    must = list(must_links)
    ea = np.concatenate([edges.a, np.array([x for x, _ in must], dtype=edges.a.dtype)])
    eb = np.concatenate([edges.b, np.array([y for _, y in must], dtype=edges.b.dtype)])
    nodes = unique(np.concatenate([ea, eb]))
    root = components(nodes, ea, eb)
    size = np.bincount(np.searchsorted(nodes, root), minlength=len(nodes))[
        np.searchsorted(nodes, root)
    ]
    # The common case, vectorised: two records, one edge, no decision about either.
    edge_root = root[np.searchsorted(nodes, edges.a)]
    decided = isin(nodes, np.array(sorted(forbidden) + [x for p in must for x in p], np.int64))
    touched = np.zeros(len(nodes), bool)
    touched[np.searchsorted(nodes, root[decided])] = True
    simple_root = (size == 2) & ~touched[np.searchsorted(nodes, root)]
    simple = simple_root[np.searchsorted(nodes, edges.a)]
    ok = simple & (edges.conflicts > -conflict_bits)
    low = np.minimum(edges.a[ok], edges.b[ok])
    result.pair_rows = np.concatenate([edges.a[ok], edges.b[ok]]).astype(np.int64)
    result.pair_labels = np.concatenate([low, low]).astype(np.int64)
    for x, y in zip(edges.a[simple & ~ok].tolist(), edges.b[simple & ~ok].tolist(), strict=True):
        result.refused[(x, y)] = "conflict"
    # The rest, component by component.
    rest = ~simple
    by_root: dict[int, list[int]] = {}
    for k, r in zip(np.flatnonzero(rest).tolist(), edge_root[rest].tolist(), strict=True):
        by_root.setdefault(r, []).append(k)
    members_of: dict[int, list[int]] = {}
    complex_nodes = ~simple_root
    for node, r in zip(nodes[complex_nodes].tolist(), root[complex_nodes].tolist(), strict=True):
        members_of.setdefault(r, []).append(node)
    musts_of: dict[int, list[tuple[int, int]]] = {}
    for x, y in must:
        musts_of.setdefault(int(root[np.searchsorted(nodes, x)]), []).append((x, y))
    cache = _conflicts(members_of, edges, conflict_of)
    for r, members in members_of.items():
        ks, musts = by_root.get(r, []), musts_of.get(r, [])
        context = (edges, keys, forbidden, conflict_of, conflict_bits, cache)
        _greedy(members, ks, musts, context, result)
    return result


def _conflicts(
    members_of: dict[int, list[int]],
    edges: Edges,
    conflict_of: Callable[[np.ndarray, np.ndarray], np.ndarray] | None,
) -> dict[tuple[int, int], float]:
    """Conflict evidence of every pair inside the components to cluster one by one (up to
    ``BATCH_COMPONENT`` records), scored in one batch: edges have theirs already."""
    pairs = zip(edges.a.tolist(), edges.b.tolist(), strict=True)
    cache = dict(zip(pairs, edges.conflicts.tolist(), strict=True))
    if conflict_of is None:
        return cache
    pa: list[int] = []
    pb: list[int] = []
    for members in members_of.values():
        if len(members) > BATCH_COMPONENT:
            continue
        ordered = sorted(members)
        for i, x in enumerate(ordered):
            for y in ordered[i + 1 :]:
                if (x, y) not in cache:
                    pa.append(x)
                    pb.append(y)
    if pa:
        found = conflict_of(np.array(pa, np.int64), np.array(pb, np.int64))
        cache.update(zip(zip(pa, pb, strict=True), found.tolist(), strict=True))
    return cache


def _greedy(
    members: list[int],
    ks: list[int],
    musts: list[tuple[int, int]],
    context: tuple[Any, ...],
    result: Clustering,
) -> None:
    edges, keys, forbidden, conflict_of, conflict_bits, cache = context
    cluster_of = {r: r for r in members}
    clusters: dict[int, list[int]] = {r: [r] for r in members}

    def conflict(x: int, y: int) -> float:
        pair = (x, y) if x < y else (y, x)
        if pair not in cache:
            cache[pair] = (
                float(conflict_of(np.array([pair[0]]), np.array([pair[1]]))[0])
                if (conflict_of)
                else 0.0
            )
        return cache[pair]

    def cannot(ca: int, cb: int) -> bool:
        other = clusters[cb]
        return any(not forbidden.get(x, set()).isdisjoint(other) for x in clusters[ca])

    def conflicting(ca: int, cb: int) -> bool:
        return any(conflict(x, y) <= -conflict_bits for x in clusters[ca] for y in clusters[cb])

    def union(ca: int, cb: int) -> None:
        if len(clusters[ca]) < len(clusters[cb]):
            ca, cb = cb, ca
        for r in clusters[cb]:
            cluster_of[r] = ca
        clusters[ca].extend(clusters.pop(cb))

    for x, y in musts:
        ca, cb = cluster_of[x], cluster_of[y]
        if ca == cb:
            continue
        if forbidden and cannot(ca, cb):
            result.refused_must_links.append((x, y))
            continue
        union(ca, cb)

    def order(k: int) -> tuple[float, str, str]:
        return (-float(edges.weights[k]), keys[int(edges.a[k])], keys[int(edges.b[k])])

    refused: dict[tuple[int, int], str] = {}
    for k in sorted(ks, key=order):
        x, y = int(edges.a[k]), int(edges.b[k])
        ca, cb = cluster_of[x], cluster_of[y]
        if ca == cb:
            continue
        if forbidden and cannot(ca, cb):
            refused[(x, y)] = "cannot_link"
        elif conflicting(ca, cb):
            refused[(x, y)] = "conflict"
        else:
            union(ca, cb)
    for rows in clusters.values():
        label = min(rows)
        for r in rows:
            result.labels[r] = label
    # An edge refused early may be implied by later merges: it is then not a refusal.
    for pair, reason in refused.items():
        if cluster_of[pair[0]] != cluster_of[pair[1]]:
            result.refused[pair] = reason
