"""Declarative field comparisons: a measure per field and the levels its value falls into.

Splink-style: a :class:`Comparison` names the field, how two records' values are measured
(a similarity in [0, 1], or metres for distance) and an ordered tuple of :class:`Level` s, each
with its own m and u probabilities. The first level whose condition holds is the pair's level;
a pair where either value is missing gets the neutral ``missing`` level (weight 0).

>>> phone = Comparison("phone", ("phones",), same_any,
...                    (Level("exact", 0.7, 1e-4, at_least=1.0), Level("different", 0.3, 0.9999)))
>>> phone.level_of(1.0).label
'exact'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from rapidfuzz import fuzz

from dedupe.prepare import Prepared

#: Level index stored for a pair where either value is missing.
MISSING = 255
#: ``measure(prepared, rows_a, rows_b)`` -> one value per pair, ``None`` where a value is missing.
Measure = Callable[[Prepared, Sequence[int], Sequence[int]], list[float | None]]


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

    def level_index(self, value: float | None) -> int:
        if value is None:
            return MISSING
        for index, level in enumerate(self.levels):
            if level.holds(value):
                return index
        return len(self.levels) - 1

    def level_of(self, value: float | None) -> Level | None:
        index = self.level_index(value)
        return None if index == MISSING else self.levels[index]

    def level_indices(
        self, prepared: Prepared, rows_a: Sequence[int], rows_b: Sequence[int]
    ) -> bytearray:
        """The level of every pair ``(rows_a[k], rows_b[k])`` (``MISSING`` = 255)."""
        return bytearray(self.level_index(v) for v in self.measure(prepared, rows_a, rows_b))

    def values(self, prepared: Prepared, row: int) -> object:
        """What this comparison reads from one record (for explanations)."""
        found = [prepared.column(c)[row] for c in self.columns]
        return found[0] if len(found) == 1 else found

    def with_estimates(self, m_u: Sequence[tuple[float, float]]) -> Comparison:
        """The same comparison with estimated (m, u) per level, e.g. from EM or labelled pairs."""
        if len(m_u) != len(self.levels):
            raise ValueError(f"comparison {self.name!r}: expected {len(self.levels)} (m, u) pairs")
        levels = tuple(replace(lv, m=m, u=u) for lv, (m, u) in zip(self.levels, m_u, strict=True))
        return replace(self, levels=levels)


# --- measures -------------------------------------------------------------------------------


def name_similarity(
    prepared: Prepared, rows_a: Sequence[int], rows_b: Sequence[int]
) -> list[float | None]:
    """1.0 for equal normalised names, else the mean of token-set and token-sort ratios (≤ 0.99).

    Token-set alone scores a name contained in another as identical ("boulangerie" vs
    "boulangerie ange"); averaging with token-sort keeps word order free but length honest.
    """
    names = prepared.names
    out: list[float | None] = []
    for i, j in zip(rows_a, rows_b, strict=True):
        a, b = names[i], names[j]
        if not a or not b:
            out.append(None)
        elif a == b:
            out.append(1.0)
        else:
            score = (fuzz.token_set_ratio(a, b) + fuzz.token_sort_ratio(a, b)) / 200
            out.append(min(score, 0.99))
    return out


def address_similarity(
    prepared: Prepared, rows_a: Sequence[int], rows_b: Sequence[int]
) -> list[float | None]:
    """1.0 for the same number and street; 0.0 for two different house numbers or two different
    towns ("5 avenue de Toulouse" is in many towns); else how alike the streets are (token-set
    ratio), at most 0.95 when only one side has a house number."""
    numbers, streets = prepared.numbers, prepared.streets
    out: list[float | None] = []
    for i, j in zip(rows_a, rows_b, strict=True):
        sa, sb = streets[i], streets[j]
        if not sa or not sb:
            out.append(None)
            continue
        na, nb = numbers[i], numbers[j]
        if (na and nb and na.split()[0] != nb.split()[0]) or not same_town(prepared, i, j):
            out.append(0.0)
            continue
        if sa == sb and na == nb:
            out.append(1.0)
            continue
        score = min(fuzz.token_set_ratio(sa, sb) / 100, 0.99)
        out.append(min(score, 0.95) if (na is None) != (nb is None) else score)
    return out


def same_town(prepared: Prepared, i: int, j: int) -> bool:
    """False when the two records are clearly in different towns: by town name when both give
    one (a CEDEX or mistyped postcode does not move a shop; "Ramonville" is short for
    "Ramonville-Saint-Agne"), else by postcode."""
    ca, cb = prepared.cities[i], prepared.cities[j]
    if ca and cb:
        if ca == cb:
            return True
        wa, wb = set(ca.split()), set(cb.split())
        return wa <= wb or wb <= wa
    pa, pb = prepared.postcodes[i], prepared.postcodes[j]
    return not (pa and pb and pa != pb)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))


def distance_m(
    prepared: Prepared, rows_a: Sequence[int], rows_b: Sequence[int]
) -> list[float | None]:
    """Metres between the two points (haversine)."""
    lats, lons = prepared.lats, prepared.lons
    out: list[float | None] = []
    for i, j in zip(rows_a, rows_b, strict=True):
        la, lb = lats[i], lats[j]
        if la is None or lb is None:
            out.append(None)
        else:
            out.append(haversine_m(la, lons[i], lb, lons[j]))  # type: ignore[arg-type]
    return out


def same_any(
    prepared: Prepared, rows_a: Sequence[int], rows_b: Sequence[int]
) -> list[float | None]:
    """1.0 when two phone lists share a number, 0.0 when they share none."""
    phones = prepared.phones
    out: list[float | None] = []
    for i, j in zip(rows_a, rows_b, strict=True):
        a, b = phones[i], phones[j]
        out.append(None if not a or not b else float(not set(a).isdisjoint(b)))
    return out


def exact(column: str) -> Measure:
    """1.0 for equal values of ``column``, 0.0 for different ones."""

    def measure(
        prepared: Prepared, rows_a: Sequence[int], rows_b: Sequence[int]
    ) -> list[float | None]:
        values = prepared.column(column)
        out: list[float | None] = []
        for i, j in zip(rows_a, rows_b, strict=True):
            a, b = values[i], values[j]
            out.append(None if a is None or b is None else float(a == b))
        return out

    measure.__name__ = f"exact_{column}"
    return measure


def prefix_match(column: str, prefix: int) -> Measure:
    """1.0 equal, 0.5 when the first ``prefix`` characters agree (SIREN of a SIRET, department of
    a postcode), 0.0 otherwise."""

    def measure(
        prepared: Prepared, rows_a: Sequence[int], rows_b: Sequence[int]
    ) -> list[float | None]:
        values = prepared.column(column)
        out: list[float | None] = []
        for i, j in zip(rows_a, rows_b, strict=True):
            a, b = values[i], values[j]
            if a is None or b is None:
                out.append(None)
            else:
                out.append(1.0 if a == b else 0.5 if a[:prefix] == b[:prefix] else 0.0)
        return out

    measure.__name__ = f"prefix_{column}_{prefix}"
    return measure


def category_similarity(
    prepared: Prepared, rows_a: Sequence[int], rows_b: Sequence[int]
) -> list[float | None]:
    """1.0 for the same theme, 0.5 for two themes of one group, 0.0 otherwise."""
    cats, groups = prepared.categories, prepared.groups
    out: list[float | None] = []
    for i, j in zip(rows_a, rows_b, strict=True):
        a, b = cats[i], cats[j]
        if a is None or b is None:
            out.append(None)
        else:
            out.append(1.0 if a == b else 0.5 if groups[i] and groups[i] == groups[j] else 0.0)
    return out
