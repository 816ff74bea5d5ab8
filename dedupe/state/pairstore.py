"""Scored pairs kept between runs: every candidate pair that reached the review threshold.

Pairs are stored as sorted 64-bit codes ``a << 32 | b`` (rows, ``a < b``) with their match
weight and conflict evidence. Pairs below the review threshold are not kept: they merge nothing
and nobody reviews them (clustering re-scores the few it needs). The *edges* (pairs at or above
the upper threshold) are indexed both ways so that a changed record's component is found by a
breadth-first walk instead of a pass over every record.
"""

from __future__ import annotations

import numpy as np

from dedupe.prepare.arrays import isin


def encode(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    return (lo << 32) | hi


def decode(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (codes >> 32).astype(np.int64), (codes & 0xFFFFFFFF).astype(np.int64)


class PairStore:
    """Sorted pair codes with weights and conflicts, and the edge index for walks."""

    def __init__(self, upper_weight: float) -> None:
        self.upper = upper_weight
        self.codes = np.zeros(0, np.int64)
        self.weights = np.zeros(0)
        self.conflicts = np.zeros(0)
        self._reindex()

    def __len__(self) -> int:
        return len(self.codes)

    def _reindex(self) -> None:
        edge = self.weights >= self.upper
        a, b = decode(self.codes[edge])
        # Both directions, sorted by the first row: neighbours of x are one slice.
        both_from = np.concatenate([a, b])
        both_to = np.concatenate([b, a])
        order = np.argsort(both_from, kind="stable")
        self._from, self._to = both_from[order], both_to[order]

    def remove(self, codes: np.ndarray) -> np.ndarray:
        """Drop ``codes`` (if present); returns the codes actually dropped."""
        if not len(codes) or not len(self.codes):
            return codes[:0]
        hit = isin(self.codes, codes)
        dropped = self.codes[hit]
        keep = ~hit
        self.codes, self.weights, self.conflicts = (
            self.codes[keep],
            self.weights[keep],
            self.conflicts[keep],
        )
        return dropped

    def remove_rows(self, rows: np.ndarray) -> np.ndarray:
        """Drop every pair involving ``rows``; returns the dropped codes."""
        if not len(rows) or not len(self.codes):
            return self.codes[:0]
        a, b = decode(self.codes)
        return self.remove(self.codes[isin(a, rows) | isin(b, rows)])

    def add(self, codes: np.ndarray, weights: np.ndarray, conflicts: np.ndarray) -> None:
        """Insert or replace pairs, then rebuild the edge index."""
        if len(codes):
            self.remove(codes)
            all_codes = np.concatenate([self.codes, codes])
            order = np.argsort(all_codes, kind="stable")
            self.codes = all_codes[order]
            self.weights = np.concatenate([self.weights, weights])[order]
            self.conflicts = np.concatenate([self.conflicts, conflicts])[order]
        self._reindex()

    def lookup(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(found, weights, conflicts)`` for ``codes`` (weights NaN where not stored)."""
        if not len(self.codes):
            nothing = np.full(len(codes), np.nan)
            return np.zeros(len(codes), bool), nothing, nothing.copy()
        at = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
        found = self.codes[at] == codes
        weights = np.where(found, self.weights[at], np.nan)
        return found, weights, np.where(found, self.conflicts[at], np.nan)

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every edge: ``(a, b, weights, conflicts)``."""
        edge = self.weights >= self.upper
        a, b = decode(self.codes[edge])
        return a, b, self.weights[edge], self.conflicts[edge]

    def edges_among(self, rows: np.ndarray) -> tuple[np.ndarray, ...]:
        """The edges whose both rows are in ``rows``."""
        a, b, w, c = self.edges()
        keep = isin(a, rows) & isin(b, rows)
        return a[keep], b[keep], w[keep], c[keep]

    def neighbours(self, rows: np.ndarray) -> np.ndarray:
        """Rows joined to ``rows`` by an edge."""
        lo = np.searchsorted(self._from, rows, side="left")
        hi = np.searchsorted(self._from, rows, side="right")
        sizes = hi - lo
        if not sizes.sum():
            return np.zeros(0, np.int64)
        starts = np.repeat(lo - np.cumsum(sizes) + sizes, sizes)
        return self._to[starts + np.arange(int(sizes.sum()))]

    def walk(self, seeds: np.ndarray, extra: dict[int, set[int]] | None = None) -> np.ndarray:
        """Every row reachable from ``seeds`` through edges (and the ``extra`` links)."""
        seen = set(seeds.tolist())
        frontier = np.array(sorted(seen), dtype=np.int64)
        while len(frontier):
            found = set(self.neighbours(frontier).tolist())
            if extra:
                for row in frontier.tolist():
                    found |= extra.get(row, set())
            new = found - seen
            seen |= new
            frontier = np.array(sorted(new), dtype=np.int64)
        return np.array(sorted(seen), dtype=np.int64)
