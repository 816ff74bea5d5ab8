"""The measures of the default comparisons, each over whole columns of pairs (the name's in
:mod:`dedupe.score.names`).

Name and address need rapidfuzz; they are :class:`TwoPhase` measures: a vectorised ``quick``
phase settles what it can (equal, missing, two different house numbers, two towns) and marks
the rest *pending*; ``fuzz`` scores the pending pairs in bulk (``rapidfuzz.process.cpdist``).
Scoring uses the split to skip the fuzzy work for pairs that cannot reach the review threshold
whatever their names say (:meth:`dedupe.score.model.MatchModel.score`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from dedupe.prepare.columns import gather

#: Threads rapidfuzz may use for bulk scoring (it releases the GIL).
WORKERS = 2
_EARTH_RADIUS_M = 6_371_008.8


class TwoPhase:
    """A measure in two phases: ``quick(prepared, a, b) -> (values, pending)``, then
    ``fuzz(prepared, a, b) -> values`` for the pending pairs; calling it does both."""

    def __init__(
        self,
        quick: Callable[[Any, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
        fuzzy: Callable[[Any, np.ndarray, np.ndarray], np.ndarray],
        name: str,
    ) -> None:
        self.quick, self.fuzz, self.__name__ = quick, fuzzy, name

    def __call__(self, prepared: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        values, pending = self.quick(prepared, a, b)
        if pending.any():
            values[pending] = self.fuzz(prepared, a[pending], b[pending])
        return values


def same_town(prepared: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """False where the two records are clearly in different towns: by town name when both give
    one (a CEDEX or mistyped postcode does not move a shop; "Ramonville" is short for
    "Ramonville-Saint-Agne"), else by postcode."""
    ca, cb = prepared.city_hash[a], prepared.city_hash[b]
    named = (ca != 0) & (cb != 0)
    out = np.ones(len(a), dtype=bool)
    differ = named & (ca != cb)
    if differ.any():
        idx = np.flatnonzero(differ)
        # One containment test per distinct pair of towns.
        pair_key = ca[idx] * np.int64(1_000_003) + cb[idx]
        _, first, inverse = np.unique(pair_key, return_index=True, return_inverse=True)
        towns_a = gather(prepared.cities, a[idx[first]])
        towns_b = gather(prepared.cities, b[idx[first]])
        contained = np.array(
            [_contained(x, y) for x, y in zip(towns_a, towns_b, strict=True)], dtype=bool
        )
        out[idx] = contained[inverse.ravel()]
    pa, pb = prepared.postcode[a], prepared.postcode[b]
    out &= named | ~((pa >= 0) & (pb >= 0) & (pa != pb))
    return out


def _contained(x: str | None, y: str | None) -> bool:
    wa, wb = set((x or "").split()), set((y or "").split())
    return wa <= wb or wb <= wa


def _address_quick(prepared: Any, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sa, sb = prepared.street_hash[a], prepared.street_hash[b]
    na, nb = prepared.number[a], prepared.number[b]
    values = np.full(len(a), np.nan)
    present = (sa != 0) & (sb != 0)
    # A range of house numbers ("39-41 George St") holds each of its numbers ("George St, 41");
    # otherwise the gap between the two numbers (or ranges) says how far apart they are.
    ea, eb = np.maximum(na, prepared.number_to[a]), np.maximum(nb, prepared.number_to[b])
    gap = np.maximum(np.maximum(nb - ea, na - eb), 0)
    numbered = (na > 0) & (nb > 0)
    same_house = (na == nb) | (numbered & (gap == 0))
    same = present & (sa == sb) & same_house & (prepared.suffix[a] == prepared.suffix[b])
    other_town = ~same_town(prepared, a, b)
    apart = present & ~same & ((numbered & ~same_house) | other_town)
    values[apart] = 0.0
    # Two numbers apart on one side of a street (odd and even numbers face each other): next
    # door, or the same shop's number misread.
    side = ((na - nb) % 2 == 0) | (ea > na) | (eb > nb)
    near = apart & ~other_town & (sa == sb) & numbered & (gap <= NEXT_DOOR) & side
    values[near] = NEXT_DOOR_SIMILARITY
    # The same number and street is never "different": a town spelled otherwise or a district
    # named instead of the city leaves it similar; in one town it is exact.
    values[same] = np.where(other_town[same], SAME_STREET_OTHER_TOWN, 1.0)
    # A street or square without house number is where many shops stand (a market square's
    # stalls): the same one is close, not the same address.
    values[same & (na == 0)] = np.minimum(values[same & (na == 0)], STREET_ONLY)
    # Two towns named and two postcodes given, all different: "5 avenue de Toulouse" in Balma
    # and in Colomiers; a bare street name in another town.
    pa, pb = prepared.postcode[a], prepared.postcode[b]
    elsewhere = same & other_town & ((na == 0) | ((pa >= 0) & (pb >= 0) & (pa != pb)))
    values[elsewhere] = 0.0
    return values, present & ~apart & ~same


#: The same number and street written with another town; the same street, no number.
SAME_STREET_OTHER_TOWN, STREET_ONLY = 0.9, 0.85
#: House numbers at most this far apart on one side of a street ("6" / "8", "109" /
#: "111-112") are close, not different: one building's two doors, or a number misread by one
#: source. "36" and "37" face each other: different.
NEXT_DOOR, NEXT_DOOR_SIMILARITY = 2, 0.8


def _address_fuzz(prepared: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    qa, qb = gather(prepared.streets, a), gather(prepared.streets, b)
    score = process.cpdist(qa, qb, scorer=fuzz.token_set_ratio, workers=WORKERS) / 100.0
    score = np.minimum(score.astype(float), 0.99)
    one_number = (prepared.number[a] > 0) != (prepared.number[b] > 0)
    return np.where(one_number, np.minimum(score, 0.95), score)


#: 1.0 for the same number and street; 0.0 for two different house numbers or two different
#: towns ("5 avenue de Toulouse" is in many towns); else how alike the streets are (token-set
#: ratio), at most 0.95 when only one side has a house number.
address_similarity = TwoPhase(_address_quick, _address_fuzz, "address_similarity")


def distance_m(prepared: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Metres between the two points (haversine); NaN when either has none."""
    return haversine_m(prepared.lat[a], prepared.lon[a], prepared.lat[b], prepared.lon[b])


def haversine_m(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Great-circle distance in metres (scalars or arrays)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def corner(prepared: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True where two addresses name two streets of one town and the points are within
    :data:`CORNER_M` metres: a corner building's two fronts ("38 Castle Terrace" / "38 Lady
    Lawson Street") as well as two neighbours."""
    sa, sb = prepared.street_hash[a], prepared.street_hash[b]
    with np.errstate(invalid="ignore"):
        near = distance_m(prepared, a, b) <= CORNER_M
    return near & (sa != 0) & (sb != 0) & (sa != sb) & same_town(prepared, a, b)


#: Two streets' addresses this near (metres) may be one building's.
CORNER_M = 100.0


def same_any(prepared: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1.0 when two records share a phone number, 0.5 when two of their numbers end in the same
    eight digits (one written with a wrong prefix: "04922 16403148" for +49 221 6403148), 0.0
    otherwise."""
    a1, a2, b1, b2 = prepared.phone1[a], prepared.phone2[a], prepared.phone1[b], prepared.phone2[b]
    shared = ((a1 == b1) | (a1 == b2) & (b2 != 0)) & (a1 != 0)
    shared |= ((a2 == b1) | (a2 == b2)) & (a2 != 0)
    out = shared.astype(float)
    ta, tb = a1 % LINE_DIGITS, b1 % LINE_DIGITS
    line = (ta == tb) | (ta == b2 % LINE_DIGITS) & (b2 != 0)
    line |= ((a2 % LINE_DIGITS == tb) | (a2 % LINE_DIGITS == b2 % LINE_DIGITS)) & (a2 != 0)
    out[~shared & line] = SAME_LINE
    out[(a1 == 0) | (b1 == 0)] = np.nan
    return out


#: Numbers ending in these many digits alike (modulus), and their similarity.
LINE_DIGITS, SAME_LINE = 10**8, 0.5


def exact(column: str) -> Callable[[Any, np.ndarray, np.ndarray], np.ndarray]:
    """1.0 for equal values of ``column``, 0.0 for different ones (0 is missing)."""

    def measure(prepared: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        values = prepared.column(column)
        va, vb = values[a], values[b]
        out = (va == vb).astype(float)
        out[(va == 0) | (vb == 0)] = np.nan
        return out

    measure.__name__ = f"exact_{column}"
    return measure


def prefix_match(column: str, divisor: int) -> Callable[[Any, np.ndarray, np.ndarray], np.ndarray]:
    """1.0 equal, 0.5 when ``value // divisor`` agrees (the SIREN of a SIRET, the département
    of a postcode), 0.0 otherwise; missing is 0 for identifiers, negative for codes."""

    def measure(prepared: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        values = prepared.column(column)
        va, vb = values[a], values[b]
        out = np.where(va == vb, 1.0, np.where(va // divisor == vb // divisor, 0.5, 0.0))
        out[(va <= 0) | (vb <= 0)] = np.nan
        return out

    measure.__name__ = f"prefix_{column}_{divisor}"
    return measure


def category_similarity(prepared: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1.0 for the same theme, 0.5 for two themes of one group, 0.0 otherwise."""
    ca, cb = prepared.category[a], prepared.category[b]
    ga, gb = prepared.group[a], prepared.group[b]
    out = np.where(ca == cb, 1.0, np.where((ga >= 0) & (ga == gb), 0.5, 0.0))
    out[(ca < 0) | (cb < 0)] = np.nan
    return out
