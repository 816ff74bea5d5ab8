"""Fellegi–Sunter scoring: per-field level weights summed with a prior into a match probability.

Every comparison level carries m = P(level | same shop) and u = P(level | different shops); its
weight is log2(m/u) bits, a missing value weighs 0. The match weight of a pair is
``log2(prior / (1 - prior)) + Σ weights`` and its probability ``1 / (1 + 2**-weight)``.

Default comparisons and their a priori m/u values: :mod:`dedupe.defaults`.

**Conflict evidence** (used by clustering to refuse merges that would chain): the sum of the
weights of the comparisons that identify a *place* (``role="identifying"``: address, distance,
phone, email, siret) plus the name weight when negative (``role="against"``). Brand attributes
(website, category) and postcode are context only: a chain's branches share name and website.
"Boulangerie Ange" rue A / phone 1 vs "Boulangerie Ange" rue B / phone 2 sums to -4.8 bits:
clearly two shops, whatever their names and website say.

Estimated values replace these with :meth:`MatchModel.with_estimates`.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dedupe.comparisons import MISSING, Comparison
from dedupe.defaults import DEFAULT_COMPARISONS
from dedupe.prepare import Prepared


def probability(weight: float) -> float:
    """Match probability of a match weight in bits."""
    if weight < -60:
        return 0.0
    return 1.0 / (1.0 + 2.0 ** (-weight))


@dataclass
class ScoredPairs:
    """Scored candidate pairs as parallel arrays: rows, per-comparison levels, weights."""

    a: array
    b: array
    levels: list[bytearray]
    weights: array
    conflicts: array

    def __len__(self) -> int:
        return len(self.a)


@dataclass(frozen=True)
class MatchModel:
    """The comparisons and the prior (probability that two candidate records match)."""

    comparisons: tuple[Comparison, ...] = DEFAULT_COMPARISONS
    prior: float = 1e-3

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1.0 - self.prior))

    def _tables(self) -> list[tuple[list[float], list[float]]]:
        tables = []
        for comparison in self.comparisons:
            weights = [0.0] * 256
            conflict = [0.0] * 256
            for index, w in enumerate(comparison.weights):
                weights[index] = w
                conflict[index] = comparison.conflict_weight(index)
            tables.append((weights, conflict))
        return tables

    def score(
        self, prepared: Prepared, rows_a: Sequence[int], rows_b: Sequence[int]
    ) -> ScoredPairs:
        """Score the pairs ``(rows_a[k], rows_b[k])``."""
        n = len(rows_a)
        totals = [self.prior_weight] * n
        conflicts = [0.0] * n
        levels: list[bytearray] = []
        for comparison, (weights, conflict) in zip(self.comparisons, self._tables(), strict=True):
            found = comparison.level_indices(prepared, rows_a, rows_b)
            levels.append(found)
            totals = [t + weights[lv] for t, lv in zip(totals, found, strict=True)]
            conflicts = [c + conflict[lv] for c, lv in zip(conflicts, found, strict=True)]
        return ScoredPairs(
            array("i", rows_a),
            array("i", rows_b),
            levels,
            array("d", totals),
            array("d", conflicts),
        )

    def score_one(self, prepared: Prepared, i: int, j: int) -> tuple[float, float]:
        """(match weight, conflict evidence) of one pair."""
        scored = self.score(prepared, [i], [j])
        return scored.weights[0], scored.conflicts[0]

    def explain(self, prepared: Prepared, i: int, j: int) -> dict[str, Any]:
        """Per comparison: level, values compared, measure, weight; then the totals."""
        fields: dict[str, Any] = {}
        total = self.prior_weight
        conflict = 0.0
        for comparison in self.comparisons:
            value = comparison.measure(prepared, [i], [j])[0]
            index = comparison.level_index(value)
            level = None if index == MISSING else comparison.levels[index]
            weight = level.weight if level else 0.0
            total += weight
            conflict += comparison.conflict_weight(index)
            fields[comparison.name] = {
                "level": level.label if level else "missing",
                "values": [
                    _jsonable(comparison.values(prepared, i)),
                    _jsonable(comparison.values(prepared, j)),
                ],
                "measure": None if value is None else round(value, 3),
                "weight": round(weight, 3),
            }
        return {
            "fields": fields,
            "prior_weight": round(self.prior_weight, 3),
            "match_weight": round(total, 3),
            "conflict_weight": round(conflict, 3),
            "probability": probability(total),
        }

    def with_estimates(
        self, m_u: Mapping[str, Sequence[tuple[float, float]]], prior: float | None = None
    ) -> MatchModel:
        """A model whose named comparisons use estimated (m, u) per level (EM, labelled pairs)."""
        unknown = set(m_u) - {c.name for c in self.comparisons}
        if unknown:
            raise ValueError(f"unknown comparison(s): {', '.join(sorted(unknown))}")
        comparisons = tuple(
            c.with_estimates(m_u[c.name]) if c.name in m_u else c for c in self.comparisons
        )
        return replace(self, comparisons=comparisons, prior=self.prior if prior is None else prior)


def _jsonable(value: object) -> object:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
