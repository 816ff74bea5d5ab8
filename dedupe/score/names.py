"""The name measure: how alike two shop names are, trade words weighing little and abbreviated
words read in full.

Names repeat (a chain's branches, one shop on several platforms, the random pairs the weights
are estimated from share a few thousand names), so the work is done once per distinct name
(its words, its core without trade words) and once per distinct pair of names, then spread
back over the pairs. Each pair's value is exactly what comparing its two names alone gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from dedupe.prepare.columns import gather
from dedupe.score.measures import WORKERS, TwoPhase

#: The similarity of a name contained in the other (its distinctive words all there), and at
#: most that of a name of trade words only inside another ("Boulangerie" / "Boulangerie Ange").
#: Containment is its own name level, below "similar" (0.9): on the real sets, a name inside
#: another ("Northwest Medical Center" / "... - Emergency Room", "Haymarket" / "Haymarket Hub
#: Hotel") is another place about as often as the same one, a name spelt a little otherwise
#: (a ratio of 0.9 or more) far less often.
CONTAINED, TRADE_ONLY = 0.88, 0.8
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

#: Words that name one department of a larger place: a brand's pharmacy, optician, photo or
#: money desk, fuel station, cash machine, emergency room, service or parts department, a pet
#: shop's grooming or vaccination clinic. Two names with a distinctive part in common, one of
#: which adds such a word ("Walmart" / "Walmart Vision & Glasses", "Kreissparkasse Biberach" /
#: "Kreissparkasse Biberach - Geldautomat", "Wells Fargo Bank" / "Wells Fargo ATM") are most
#: often the place and its department, listed apart at the same address: such names score
#: :data:`DEPARTMENT`, the "different" name level, not contained or close. Among the labelled
#: pairs of docs/matching.md section 13, one name inside the other so was another place 82
#: times in 97 (Overture), 10 in 11 (OSM–Foursquare), 4 in 5 (OSM–Yelp).
DEPARTMENT_WORDS: frozenset[str] = frozenset(
    """
    pharmacy pharmacie apotheke farmacia vision glasses optical optician opticians photo money
    mortgage mortgages fuel gas petrol atm atms geldautomat bankomat bankamatik cajero emergency
    parking department dept parts grooming vaccination
    """.split()  # noqa: SIM905
)
#: The similarity of a name that is another name plus a department word: under "close" (0.75).
#: At "close" (0.8) the same address and postcode still merged 31 of Overture's such pairs.
DEPARTMENT = 0.7

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


def _facts(name: str) -> tuple[frozenset[str], bool, str, int]:
    """A name's words, whether one is not a trade word, its core, its first letter (-1: none).
    Not cached: a million records' estimate meets a quarter of a million names, whose word
    sets would stay in memory for the whole run (the core, a short string, is cached)."""
    words = name.split()
    distinctive = any(not is_trade_word(w) for w in words)
    return frozenset(words), distinctive, _core(name), ord(words[0][0]) if words else -1


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
    """How alike two different names are (see :func:`compare_names`), computed once per
    distinct pair of names (by their hashes, which the quick phase already takes for the
    names themselves)."""
    if not len(a):
        return np.zeros(0)
    hashes, ids = np.unique(
        np.concatenate([prepared.name_hash[a], prepared.name_hash[b]]), return_inverse=True
    )
    ids = ids.ravel()
    first = np.zeros(len(hashes), np.int64)
    first[ids[::-1]] = np.concatenate([a, b])[::-1]  # a row that holds each name
    ia, ib = ids[: len(a)], ids[len(a) :]
    pairs, inverse = np.unique(ia.astype(np.int64) * len(hashes) + ib, return_inverse=True)
    names = DistinctNames(gather(prepared.names, first))
    values = compare_names(names, pairs // len(hashes), pairs % len(hashes))
    return values[inverse.ravel()]


@dataclass
class DistinctNames:
    """Distinct normalised names and what comparing them needs, computed once per name."""

    texts: list[str]
    #: Each name's words as a set, and whether any of them is not a trade word.
    words: list[frozenset[str]]
    distinctive: np.ndarray
    #: The name without its trade words, and a number per distinct core.
    cores: list[str]
    core_id: np.ndarray
    #: The first letter (as a number; -1 for none): only names that begin alike can be one
    #: another's abbreviation.
    initial: np.ndarray

    def __init__(self, texts: list[str | None]) -> None:
        self.texts = [t or "" for t in texts]
        facts = [_facts(t) for t in self.texts]
        self.words = [f[0] for f in facts]
        self.distinctive = np.array([f[1] for f in facts], dtype=bool)
        self.cores = [f[2] for f in facts]
        ids: dict[str, int] = {}
        self.core_id = np.array([ids.setdefault(c, len(ids)) for c in self.cores], np.int64)
        self.initial = np.array([f[3] for f in facts], np.int64)

    def contained(self, i: int, j: int) -> bool | None:
        """Whether one name's words all stand in the other (``None``: neither contains the
        other), ``False`` when the contained name is made of trade words only."""
        wa, wb = self.words[i], self.words[j]
        if not (wa <= wb or wb <= wa):
            return None
        return bool(self.distinctive[i] if len(wa) <= len(wb) else self.distinctive[j])


def compare_names(names: DistinctNames, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """How alike names ``i[k]`` and ``j[k]`` are (see :func:`_ratios`), trade words weighing
    little and abbreviated words read in full.

    Trade words say what a shop is, not which one: names that differ only in them ("Three
    Bridges Sandwich Bar" / "Three Bridges Takeaway", "St Bernards Tavern" / "St Bernards
    Bar") are :data:`CONTAINED`-similar (names that differ
    in their trade words are as often two places as names one inside the other: "Haymarket
    Bar" / "Haymarket Hotel"), and names that share only them ("Boulangerie Ange" /
    "Boulangerie Dupont") are as alike as the rest of their words. A word that begins another
    ("Boul. Ange" / "Boulangerie Ange", "Pharm. du Centre") makes the names at most
    :data:`ABBREVIATED`-similar: likely, not certain.
    """
    texts, cores = names.texts, names.cores
    qa, qb = [texts[k] for k in i.tolist()], [texts[k] for k in j.tolist()]
    out, by_set = _ratios(qa, qb)
    for k in np.flatnonzero(by_set >= 100.0).tolist():
        out[k] = _contained_bound(out[k], names.contained(int(i[k]), int(j[k])))
    core_id, empty = names.core_id, np.array([not c for c in cores], dtype=bool)
    changed = np.array([c != t for c, t in zip(cores, texts, strict=True)], dtype=bool)
    traded = np.flatnonzero(~empty[i] & ~empty[j] & (changed[i] | changed[j]))
    if len(traded):
        # Equal once the trade words are gone: similar. Otherwise no more alike than what is
        # left ("lochend park" / "lochend", from "Lochend Store", is not containment), unless
        # one whole name stands inside the other ("Pharmacie du Centre-Ville").
        ti, tj = i[traded], j[traded]
        plain, _ = _ratios([cores[k] for k in ti.tolist()], [cores[k] for k in tj.tolist()])
        same = core_id[ti] == core_id[tj]
        lower = out[traded]
        for k in np.flatnonzero(~same & (plain < lower)).tolist():
            if names.contained(int(ti[k]), int(tj[k])) is True:
                plain[k] = 1.0
        out[traded] = np.where(same, np.maximum(lower, CONTAINED), np.minimum(lower, plain))
    initial = names.initial
    low = np.flatnonzero((out < ABBREVIATED) & (initial[i] == initial[j]) & (initial[i] >= 0))
    expansions = [(k, e) for k in low.tolist() if (e := _expanded(qa[k], qb[k])) is not None]
    if expansions:
        rows = [k for k, _ in expansions]
        xs, ys = [x for _, (x, _) in expansions], [y for _, (_, y) in expansions]
        full, by_set = _ratios(xs, ys)
        for k in np.flatnonzero(by_set >= 100.0).tolist():
            full[k] = _contained_bound(full[k], _contained_name(xs[k], ys[k]))
        out[rows] = np.maximum(out[rows], np.minimum(full, ABBREVIATED))
    for k in np.flatnonzero(out > DEPARTMENT).tolist():
        if _adds_department(names.words[int(i[k])], names.words[int(j[k])]):
            out[k] = DEPARTMENT
    return out


def _adds_department(wa: frozenset[str], wb: frozenset[str]) -> bool:
    """Whether the names share a distinctive part and only one adds a department word
    (:data:`DEPARTMENT_WORDS`): "walmart" / "walmart vision et glasses", "wells fargo bank" /
    "wells fargo atm", "petco dog training" / "petco grooming"."""
    if not (wa & wb) or all(is_trade_word(w) for w in wa & wb):
        return False
    if wa <= wb or wb <= wa:
        return bool((wa ^ wb) & DEPARTMENT_WORDS)
    # Each adds its own words: a department only by a word that is no shop's trade as well
    # ("Pharmacie Dupont" / "Dupont et Fils" may be one pharmacy; "Wells Fargo ATM" is not
    # "Wells Fargo Bank").
    only_a = any(w in DEPARTMENT_WORDS and not is_trade_word(w) for w in wa - wb)
    only_b = any(w in DEPARTMENT_WORDS and not is_trade_word(w) for w in wb - wa)
    return only_a != only_b


def _ratios(qa: list[str], qb: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Mean of token-set and token-sort ratios, at most 0.99 (1.0 is for equal names), and the
    token-set ratio: at 100 one name's words all stand in the other, which
    :func:`_contained_bound` then weighs.

    Token-set alone scores a name contained in another as identical ("boulangerie" vs
    "boulangerie ange"); averaging with token-sort keeps word order free but length honest.
    """
    by_set = process.cpdist(qa, qb, scorer=fuzz.token_set_ratio, workers=WORKERS).astype(float)
    total = by_set + process.cpdist(qa, qb, scorer=fuzz.token_sort_ratio, workers=WORKERS)
    return np.minimum(total / 200.0, 0.99), by_set


def _contained_bound(value: float, contained: bool | None) -> float:
    """A ratio with containment counted: at least :data:`CONTAINED` when the shorter name keeps
    a word that is not a trade word ("Rosa Mexicano" in "Rosa Mexicano - Union Square", "Ange"
    in "Boulangerie Pâtisserie Ange"), at most :data:`TRADE_ONLY` when it has trade words only
    ("Boulangerie" in "Boulangerie Ange")."""
    if contained is True:
        return max(value, CONTAINED)
    if contained is False:
        return min(value, TRADE_ONLY)
    return value


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
