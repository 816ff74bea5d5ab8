"""The measures of the default comparisons, each over whole columns of pairs.

Name and address need rapidfuzz; they are :class:`TwoPhase` measures: a vectorised ``quick``
phase settles what it can (equal, missing, two different house numbers, two towns) and marks
the rest *pending*; ``fuzz`` scores the pending pairs in bulk (``rapidfuzz.process.cpdist``).
Scoring uses the split to skip the fuzzy work for pairs that cannot reach the review threshold
whatever their names say (:meth:`dedupe.score.model.MatchModel.score`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

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


def _texts(column: Any, rows: np.ndarray) -> list[Any]:
    return gather(column, rows)


def _name_quick(prepared: Any, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ha, hb = prepared.name_hash[a], prepared.name_hash[b]
    values = np.full(len(a), np.nan)
    present = (ha != 0) & (hb != 0)
    equal = present & (ha == hb)
    values[equal] = 1.0
    # The same letters spaced otherwise: "Boom Barbers" / "BoomBarbers", "W H Smith".
    wa = prepared.whole_hash[a]
    squashed = present & ~equal & (wa != 0) & (wa == prepared.whole_hash[b])
    values[squashed] = SQUASHED
    return values, present & ~equal & ~squashed


def _name_fuzz(prepared: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How alike two different names are (see :func:`_ratios`), trade words weighing little
    and abbreviated words read in full.

    Trade words say what a shop is, not which one: names that differ only in them ("Three
    Bridges Sandwich Bar" / "Three Bridges Takeaway", "St Bernards Tavern" / "St Bernards
    Bar") are :data:`CONTAINED`-similar, and names that share only them ("Boulangerie Ange" /
    "Boulangerie Dupont") are as alike as the rest of their words. A word that begins another
    ("Boul. Ange" / "Boulangerie Ange", "Pharm. du Centre") makes the names at most
    :data:`ABBREVIATED`-similar: likely, not certain.
    """
    qa, qb = _texts(prepared.names, a), _texts(prepared.names, b)
    out = _ratios(qa, qb)
    ca, cb = [_core(x) for x in qa], [_core(x) for x in qb]
    traded = [
        k
        for k, (x, y) in enumerate(zip(ca, cb, strict=True))
        if x and y and (x != qa[k] or y != qb[k])
    ]
    if traded:
        # Equal once the trade words are gone: similar. Otherwise no more alike than what is
        # left ("lochend park" / "lochend", from "Lochend Store", is not containment).
        xs, ys = [ca[k] for k in traded], [cb[k] for k in traded]
        plain = _ratios(xs, ys, containment=False)
        # One whole name inside the other stays contained ("Pharmacie du Centre-Ville").
        same = np.array([x == y for x, y in zip(xs, ys, strict=True)])
        inside = np.array([_contained_name(qa[k], qb[k]) is True for k in traded], dtype=bool)
        plain = np.where(inside, 1.0, plain)
        out[traded] = np.where(
            same, np.maximum(out[traded], CONTAINED), np.minimum(out[traded], plain)
        )
    low = np.flatnonzero(out < ABBREVIATED).tolist()
    found = [(k, e) for k in low if (e := _expanded(qa[k], qb[k])) is not None]
    if found:
        rows = [k for k, _ in found]
        full = _ratios([x for _, (x, _) in found], [y for _, (_, y) in found])
        out[rows] = np.maximum(out[rows], np.minimum(full, ABBREVIATED))
    return out


def _ratios(qa: list[Any], qb: list[Any], *, containment: bool = True) -> np.ndarray:
    """Mean of token-set and token-sort ratios, at most 0.99 (1.0 is for equal names); a name
    whose distinctive words all stand in the other scores :data:`CONTAINED`.

    Token-set alone scores a name contained in another as identical ("boulangerie" vs
    "boulangerie ange"); averaging with token-sort keeps word order free but length honest.
    Containment counts only when the shorter name keeps a word that is not a trade word:
    "Rosa Mexicano" in "Rosa Mexicano - Union Square", "Ange" in "Boulangerie Pâtisserie
    Ange", not "Boulangerie" in "Boulangerie Ange".
    """
    by_set = process.cpdist(qa, qb, scorer=fuzz.token_set_ratio, workers=WORKERS).astype(float)
    total = by_set + process.cpdist(qa, qb, scorer=fuzz.token_sort_ratio, workers=WORKERS)
    out = np.minimum(total / 200.0, 0.99)
    if not containment:
        return out
    for k in np.flatnonzero(by_set >= 100.0):
        found = _contained_name(qa[k], qb[k])
        if found is True:
            out[k] = max(out[k], CONTAINED)
        elif found is False:
            out[k] = min(out[k], TRADE_ONLY)
    return out


#: The similarity of a name contained in the other (its distinctive words all there), and at
#: most that of a name of trade words only inside another ("Boulangerie" / "Boulangerie Ange").
CONTAINED, TRADE_ONLY = 0.9, 0.8
#: Names equal once their spaces are gone; at most, names equal once a word that begins
#: another is read in full ("boul ange" / "boulangerie ange").
SQUASHED, ABBREVIATED = 0.95, 0.85
#: Words that say what a shop is, not which one, in the languages platforms list shops in:
#: a name made of them alone is not contained, and they weigh little in a name. Plurals
#: ("barbers", "apartments") count as their singular.
TRADE_WORDS: frozenset[str] = frozenset(
    """
    boulangerie patisserie pharmacie restaurant cafe bar brasserie hotel boucherie charcuterie
    epicerie coiffure coiffeur salon tabac presse fleuriste librairie garage pizzeria bistro
    bistrot traiteur creperie auberge boutique magasin fromagerie poissonnerie primeur
    superette supermarche opticien optique bijouterie cordonnerie pressing laverie banque
    shop store market supermarket bakery pharmacy chemist grill pub club school bank takeaway
    tavern inn diner deli coffee sandwich barber barbershop launderette laundrette florist
    newsagent butcher grocer grocery hostel apartment studio clinic
    restaurante ristorante trattoria osteria panaderia panetteria farmacia tienda negozio loja
    cafeteria taberna heladeria gelateria carniceria macelleria supermercado supermercato
    mercado mercato backerei apotheke gasthaus gasthof
    the and et de du des la le les
    """.split()  # noqa: SIM905
)


#: Long trade words listed alone, for the typo check below.
_LONG_TRADE_WORDS = sorted(w for w in TRADE_WORDS if len(w) >= 6)


@lru_cache(maxsize=1 << 16)
def is_trade_word(word: str) -> bool:
    """A trade word, its plural, or a typo of a long one ("boulanegrie"): a misspelt trade word
    still says only what the shop is. Typos as the search allows them: one from 7 letters, two
    from 9 (a transposition costs two)."""
    if word in TRADE_WORDS or (word.endswith("s") and word[:-1] in TRADE_WORDS):
        return True
    if len(word) < 7:
        return False
    budget = 2 if len(word) >= 9 else 1
    found = process.extractOne(
        word, _LONG_TRADE_WORDS, scorer=Levenshtein.distance, score_cutoff=budget
    )
    return found is not None


@lru_cache(maxsize=1 << 16)
def _core(name: str | None) -> str:
    """The name without its trade words ("three bridges sandwich bar" -> "three bridges")."""
    return " ".join(w for w in (name or "").split() if not is_trade_word(w))


def _expanded(x: str | None, y: str | None) -> tuple[str, str] | None:
    """Both names with each word that begins a word of the other name read as that word
    (``"boul ange"``, ``"boulangerie ange"`` -> both ``"boulangerie ange"``); ``None`` when
    no word is abbreviated. An abbreviation keeps two letters at least, and its own first."""
    wa, wb = (x or "").split(), (y or "").split()
    if not wa or not wb or wa[0][0] != wb[0][0]:
        return None
    sa, sb = set(wa), set(wb)
    changed = False
    for words, other, others in ((wa, sb, wb), (wb, sa, wa)):
        for i, word in enumerate(words):
            if word in other or len(word) < 2:
                continue
            longer = next((o for o in others if len(o) > len(word) and o.startswith(word)), None)
            if longer is not None and longer not in words:
                words[i], changed = longer, True
    return (" ".join(wa), " ".join(wb)) if changed else None


def _contained_name(x: str | None, y: str | None) -> bool | None:
    """Whether one name's words all stand in the other (``None``: neither contains the
    other), ``False`` when the contained name is made of trade words only."""
    wa, wb = set((x or "").split()), set((y or "").split())
    if not (wa <= wb or wb <= wa):
        return None
    short = wa if len(wa) <= len(wb) else wb
    return any(not is_trade_word(w) for w in short)


#: 1.0 for equal normalised names, else the mean of token-set and token-sort ratios (≤ 0.99).
name_similarity = TwoPhase(_name_quick, _name_fuzz, "name_similarity")


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
    qa, qb = _texts(prepared.streets, a), _texts(prepared.streets, b)
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


def same_any(prepared: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1.0 when two records share a phone number, 0.0 when they share none."""
    a1, a2, b1, b2 = prepared.phone1[a], prepared.phone2[a], prepared.phone1[b], prepared.phone2[b]
    shared = ((a1 == b1) | (a1 == b2) & (b2 != 0)) & (a1 != 0)
    shared |= ((a2 == b1) | (a2 == b2)) & (a2 != 0)
    out = shared.astype(float)
    out[(a1 == 0) | (b1 == 0)] = np.nan
    return out


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
