"""Clustering that does not chain: merges in descending score order, each one checked.

Connected components over "probable match" edges glue two branches of a chain through one bad
record (its phone from branch A, its address from branch B). Here:

1. must-link decisions merge first, in the order given (unless a cannot-link forbids the
   result);
2. pairs at or above the upper threshold merge in descending match weight, but a merge is
   refused when any record of one cluster and any record of the other have a cannot-link
   decision, or their own comparison shows conflict evidence at or below ``-conflict_bits``
   (see :mod:`dedupe.scoring`: e.g. different phones *and* different addresses).

Cross pairs that blocking never scored are scored on demand, so the check holds for them too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dedupe.scoring import ScoredPairs


@dataclass
class Clustering:
    """``labels[row]`` is the smallest row of the row's cluster."""

    labels: list[int]
    #: Edges at or above the upper threshold whose merge was applied (or already implied).
    merged: set[tuple[int, int]] = field(default_factory=set)
    #: Refused edges and why: ``(a, b) -> "cannot_link" | "conflict"``.
    refused: dict[tuple[int, int], str] = field(default_factory=dict)
    refused_must_links: list[tuple[int, int]] = field(default_factory=list)


class _Clusters:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.members: dict[int, list[int]] = {i: [i] for i in range(n)}

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, ra: int, rb: int) -> None:
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))


def cluster(
    n: int,
    scored: ScoredPairs,
    upper_weight: float,
    must_links: Iterable[tuple[int, int]] = (),
    cannot_links: Iterable[tuple[int, int]] = (),
    conflict_of: Callable[[int, int], float] | None = None,
    conflict_bits: float = 4.0,
) -> Clustering:
    """Cluster ``n`` rows. ``conflict_of(i, j)`` scores a pair blocking did not (``i < j``)."""
    clusters = _Clusters(n)
    forbidden: dict[int, set[int]] = {}
    for a, b in cannot_links:
        forbidden.setdefault(a, set()).add(b)
        forbidden.setdefault(b, set()).add(a)
    result = Clustering(labels=[])
    cache: dict[tuple[int, int], float] = {}

    def cannot(ra: int, rb: int) -> bool:
        if not forbidden:
            return False
        other = set(clusters.members[rb])
        return any(not other.isdisjoint(forbidden.get(x, ())) for x in clusters.members[ra])

    def conflicting(ra: int, rb: int) -> bool:
        for x in clusters.members[ra]:
            for y in clusters.members[rb]:
                pair = (x, y) if x < y else (y, x)
                if pair not in cache:
                    cache[pair] = conflict_of(*pair) if conflict_of else 0.0
                if cache[pair] <= -conflict_bits:
                    return True
        return False

    for a, b in must_links:
        ra, rb = clusters.find(a), clusters.find(b)
        if ra == rb:
            continue
        if cannot(ra, rb):
            result.refused_must_links.append((a, b))
            continue
        clusters.union(ra, rb)

    weights = scored.weights
    edges = [k for k in range(len(scored)) if weights[k] >= upper_weight]
    edges.sort(key=lambda k: (-weights[k], scored.a[k], scored.b[k]))
    for k in edges:
        a, b = scored.a[k], scored.b[k]
        cache[(a, b)] = scored.conflicts[k]
        ra, rb = clusters.find(a), clusters.find(b)
        if ra == rb:
            result.merged.add((a, b))
            continue
        if cannot(ra, rb):
            result.refused[(a, b)] = "cannot_link"
        elif conflicting(ra, rb):
            result.refused[(a, b)] = "conflict"
        else:
            clusters.union(ra, rb)
            result.merged.add((a, b))

    smallest = {root: min(rows) for root, rows in clusters.members.items()}
    result.labels = [smallest[clusters.find(i)] for i in range(n)]
    # An edge refused early may be implied by later merges: it is then merged, not refused.
    for pair in [p for p in result.refused if result.labels[p[0]] == result.labels[p[1]]]:
        del result.refused[pair]
        result.merged.add(pair)
    return result
