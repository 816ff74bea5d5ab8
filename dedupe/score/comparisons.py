"""Declarative field comparisons: a measure per field and the levels its value falls into.

Splink-style: a :class:`Comparison` names the field, how two records' values are measured
(a similarity in [0, 1], or metres for distance) and an ordered tuple of :class:`Level` s, each
with its own m and u probabilities. The first level whose condition holds is the pair's level;
a pair where either value is missing gets the neutral ``missing`` level (weight 0).

Measures take whole columns of pairs (numpy arrays of rows) and return one float per pair, NaN
where a value is missing; the measures live in :mod:`dedupe.score.measures`, the name's in
:mod:`dedupe.score.names`.

>>> from dedupe.score.measures import same_any
>>> phone = Comparison("phone", ("phones",), same_any,
...                    (Level("exact", 0.7, 1e-4, at_least=1.0), Level("different", 0.3, 0.9999)))
>>> phone.level_of(1.0).label
'exact'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

#: Level index stored for a pair where either value is missing.
MISSING = 255
#: ``measure(prepared, rows_a, rows_b)`` -> one value per pair, NaN where a value is missing.
Measure = Callable[[Any, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True, slots=True)
class Level:
    """One comparison level: a condition on the measured value, and its m and u.

    ``m`` is P(level | the records are the same shop), ``u`` is P(level | they are not); the
    level's match weight is ``log2(m / u)`` bits. With neither ``at_least`` nor ``at_most`` the
    level catches every value that reached it.
    """

    label: str
    m: float
    u: float
    at_least: float | None = None
    at_most: float | None = None

    def __post_init__(self) -> None:
        if not (0 < self.m <= 1 and 0 < self.u <= 1):
            raise ValueError(f"level {self.label!r}: m and u must be in (0, 1]")

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)

    def holds(self, value: float) -> bool:
        if self.at_least is not None and value < self.at_least:
            return False
        return not (self.at_most is not None and value > self.at_most)


@dataclass(frozen=True)
class Comparison:
    """How one field of two records is compared: ``measure`` then the first ``Level`` that holds."""

    name: str
    columns: tuple[str, ...]
    measure: Measure
    levels: tuple[Level, ...]
    description: str = ""
    #: How the weight counts as conflict evidence (clustering refuses merges on strong conflict):
    #: ``"identifying"`` for and against, ``"against"`` only when negative, ``"context"`` never.
    role: str = "identifying"
    #: What the comparison shows of one record in explanations (default: its columns).
    show: Callable[[Any, int], object] | None = None

    def __post_init__(self) -> None:
        if not self.levels or len(self.levels) >= MISSING:
            raise ValueError(f"comparison {self.name!r}: needs 1 to {MISSING - 1} levels")
        if self.role not in ("identifying", "against", "context"):
            raise ValueError(f"comparison {self.name!r}: unknown role {self.role!r}")

    def conflict_weight(self, index: int) -> float:
        """What level ``index`` adds to the conflict evidence of a pair."""
        if index == MISSING or self.role == "context":
            return 0.0
        weight = self.levels[index].weight
        return min(weight, 0.0) if self.role == "against" else weight

    @property
    def weights(self) -> tuple[float, ...]:
        return tuple(level.weight for level in self.levels)

    def tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Weight and conflict weight per level index (256 entries: ``MISSING`` is 0)."""
        weights, conflicts = np.zeros(256), np.zeros(256)
        for index, level in enumerate(self.levels):
            weights[index] = level.weight
            conflicts[index] = self.conflict_weight(index)
        return weights, conflicts

    def best_below(self, value: float) -> float:
        """The highest weight a value below ``value`` can reach (bounds for pruning)."""
        reachable = [lv.weight for lv in self.levels if lv.at_least is None or lv.at_least < value]
        return max(reachable, default=0.0)

    def level_index(self, value: float | None) -> int:
        if value is None or value != value:
            return MISSING
        for index, level in enumerate(self.levels):
            if level.holds(value):
                return index
        return len(self.levels) - 1

    def level_of(self, value: float | None) -> Level | None:
        index = self.level_index(value)
        return None if index == MISSING else self.levels[index]

    def levels_of(self, values: np.ndarray) -> np.ndarray:
        """The level index of every measured value (``MISSING`` for NaN), vectorised."""
        out = np.full(len(values), len(self.levels) - 1, dtype=np.uint8)
        for index in range(len(self.levels) - 1, -1, -1):
            level = self.levels[index]
            holds = np.ones(len(values), dtype=bool)
            if level.at_least is not None:
                holds &= values >= level.at_least
            if level.at_most is not None:
                holds &= values <= level.at_most
            out[holds] = index
        out[np.isnan(values)] = MISSING
        return out

    def level_indices(self, prepared: Any, rows_a: Sequence[int], rows_b: Sequence[int]):
        """The level of every pair ``(rows_a[k], rows_b[k])`` (``MISSING`` = 255)."""
        a, b = np.asarray(rows_a, dtype=np.int64), np.asarray(rows_b, dtype=np.int64)
        return self.levels_of(self.measure(prepared, a, b))

    def values(self, prepared: Any, row: int) -> object:
        """What this comparison reads from one record (for explanations)."""
        if self.show is not None:
            return self.show(prepared, row)
        found = [prepared.column(c)[row] for c in self.columns]
        return found[0] if len(found) == 1 else found

    def with_estimates(self, m_u: Sequence[tuple[float, float]]) -> Comparison:
        """The same comparison with estimated (m, u) per level, e.g. from EM or labelled pairs."""
        if len(m_u) != len(self.levels):
            raise ValueError(f"comparison {self.name!r}: expected {len(self.levels)} (m, u) pairs")
        levels = tuple(replace(lv, m=m, u=u) for lv, (m, u) in zip(self.levels, m_u, strict=True))
        return replace(self, levels=levels)
