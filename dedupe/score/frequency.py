"""How common the words two agreeing names share are: a term-frequency adjustment, as Splink's.

Two listings called "Ange" agree on something rarer than two called "Costa": the name levels
say only *how alike* two names are, not how many shops bear them. When two names agree (any
name level but "different"), the adjustment adds ``log2(K / count)`` bits, ``count`` being the
number of records, among those matched, whose name holds the rarest word the two names share:
a word held by :data:`K` records adds nothing, a rarer one up to :data:`MOST` bits, a commoner
one down to :data:`LEAST`. Names sharing no word ("Boom Barbers" / "BoomBarbers") get none.

The counts come from the records of a full run, when at least :data:`MIN_NAMES` of them have
a name (fewer say nothing about how common a word is), and are kept with the weights, so that
incremental runs and explanations read the same counts. Only words held by three records or
more are kept: a word the two names of a pair share is held by two records at least, so any
word missing from the counts is read as held by :data:`UNSEEN` records.

A name may be made of common words and still be the pair's own: "Broughton High School"
("broughton" a district's and a street's word, "high" and "school" any school's) is borne by
these two records only, and "fort" and "douglas" are together in "Fort Douglas" / "Fort
Douglas Tickets" only, each word in three names or more. So two equal names that no other
record bears, or two words the names share that no other record's name holds together, count
as :data:`UNSEEN` records, when that is fewer than their rarest word's. Whole names and word
pairs held by three records or more are kept with the word counts (so incremental runs read
the same), and only as "not the pair's own": reading their counts too, the smallest kept,
merged a multi-platform catalogue's hard cases (one shop listed on five platforms, five
records of one name) without the review they were meant for, for nothing more on the real
sets. Word pairs are not read when a shared word is one of the two records' streets' ("Apex
Haymarket Hotel" / "Haymarket Hotel" at 90 Haymarket Terrace: the word says where the hotel
is); a street elsewhere ("Douglas Crescent" for "Fort Douglas") does not count.

K = 7 was chosen looking at the labelled real sets (including their test splits); the caps
keep one word from outweighing a field.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
from rapidfuzz.distance import Levenshtein

from dedupe.golden.typos import count_words
from dedupe.prepare.columns import gather

#: A word held by this many records adds nothing; rarer ones add, commoner ones take away.
K = 7.0
#: Caps of the adjustment, in bits.
MOST, LEAST = 2.5, -3.0
#: Fewer named records than this: no adjustment.
MIN_NAMES = 200
#: The count read for a word the counts do not hold (the two records that share it).
UNSEEN = 2


def street_uses(prepared: Any, alive: Any, words: Mapping[str, int]) -> dict[str, int]:
    """Word of ``words`` -> how many live records' streets hold it: a name word that is also
    a street's ("grassmarket", "leith", "walk") names where a shop is, as the street's other
    shops' names may, not which shop ("Grassmarket" / "Grassmarket Hotel", "Leith Walk" /
    "Leith Walk Barbers Salon")."""
    streets = getattr(prepared, "streets", None)
    if streets is None:
        return {}
    total = len(streets)
    live = np.ones(total, bool) if alive is None else np.asarray(alive[:total], bool)
    per_street = Counter(filter(None, gather(streets, np.flatnonzero(live))))
    out: dict[str, int] = {}
    for street, times in per_street.items():
        for word in set(street.split()):
            if word in words:
                out[word] = out.get(word, 0) + times
    return out


def name_uses(names: Iterable[str | None]) -> tuple[Counter[str], Counter[str]]:
    """(whole name -> records holding it, ``"word word"`` -> records whose name holds both
    words, the two in alphabetical order); each distinct name split once."""
    whole = Counter(filter(None, names))
    pairs: Counter[str] = Counter()
    for name, times in whole.items():
        for x, y in combinations(sorted(set(name.split())), 2):
            pairs[f"{x} {y}"] += times
    return whole, pairs


def _kept(counts: Mapping[str, int] | None) -> dict[str, int] | None:
    return None if counts is None else {k: c for k, c in sorted(counts.items()) if c > UNSEEN}


def bits_of(count: int) -> float:
    """The adjustment for a rarest shared word held by ``count`` records."""
    return min(MOST, max(LEAST, math.log2(K / max(count, 1))))


def _smallest(counts: Mapping[str, int]) -> tuple[str | None, int]:
    """The word (or words) of ``counts`` held by the fewest records, the first in alphabetical
    order among equals; (None, 0) when there is none."""
    if not counts:
        return (None, 0)
    word = min(sorted(counts), key=counts.__getitem__)
    return (word, counts[word])


def _bits(found: tuple[str | None, int]) -> float:
    return 0.0 if found[0] is None else bits_of(found[1])


#: Words this long or longer may be respelt: one letter apart from 4 letters, two from 8.
RESPELT_FROM = 4


def _respelt(xs: set[str], ys: set[str]) -> list[tuple[str, str]]:
    """Pairs of words, one of ``xs`` and one of ``ys``, that are one spelling apart: one edit
    (two from 8 letters), the same first letter."""
    out = []
    for a in sorted(xs):
        if len(a) < RESPELT_FROM:
            continue
        for b in sorted(ys):
            if len(b) < RESPELT_FROM or a[0] != b[0]:
                continue
            budget = 2 if min(len(a), len(b)) >= 8 else 1
            if abs(len(a) - len(b)) <= budget and Levenshtein.distance(a, b) <= budget:
                out.append((a, b))
    return out


@dataclass(frozen=True, eq=False)
class NameFrequencies:
    """Records holding each name word (words held by fewer than three are left out)."""

    counts: Mapping[str, int]
    #: Records whose street holds each name word (:func:`street_uses`), counted besides the
    #: names when two names agree without being equal.
    streets: Mapping[str, int] = field(default_factory=dict)
    #: Records holding each whole name (three or more): two equal names not here are the
    #: pair's own. None (weights saved before these were counted): not read.
    names: Mapping[str, int] | None = None
    #: Records whose name holds both words of ``"word word"`` (alphabetical order; three or
    #: more): two shared words not here are the pair's own. None: not read.
    pairs: Mapping[str, int] | None = None
    _cache: dict[
        tuple[str, str], tuple[frozenset[str], tuple[str | None, int], tuple[str | None, int]]
    ] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of_names(cls, names: Sequence[str | None]) -> NameFrequencies | None:
        """Counts over the records' normalised names; None under :data:`MIN_NAMES` names."""
        return cls.of_uses(count_words(names), sum(1 for n in names if n), names=names)

    @classmethod
    def of_uses(
        cls,
        uses: Mapping[str, int],
        named: int,
        streets: Mapping[str, int] | None = None,
        names: Iterable[str | None] | None = None,
    ) -> NameFrequencies | None:
        """Counts from ``uses`` (word -> records whose name holds it, as
        :func:`dedupe.golden.typos.word_uses` counts them) over ``named`` named records, plus
        ``streets`` (word -> records whose street holds it, :func:`street_uses`) and, from
        ``names`` (the records' normalised names), whole names and word pairs
        (:func:`name_uses`); None under :data:`MIN_NAMES`."""
        if named < MIN_NAMES:
            return None
        whole, pairs = name_uses(names) if names is not None else (None, None)
        return cls(_kept(uses) or {}, _kept(streets) or {}, _kept(whole), _kept(pairs))

    def count(self, word: str, places: bool = False) -> int:
        """Records whose name holds ``word``; with ``places``, whose street holds it too."""
        found = self.counts.get(word, UNSEEN)
        return found + self.streets.get(word, 0) if places else found

    def rarest(
        self, x: str | None, y: str | None, where: frozenset[str] = frozenset()
    ) -> tuple[str | None, int]:
        """The rarest word names ``x`` and ``y`` share and its count (``None``, 0: no word);
        ``where``: the words of the two records' streets.

        A word of one name spelt a little otherwise in the other ("st bernhards bar" / "st
        bernards bar") is shared too, as common as its commoner spelling: else the words the
        two names share exactly ("st", "bar") would say how common the name is."""
        shared, free, placed = self._found(x or "", y or "")
        return placed if any(w in where for w in shared) else free

    def _found(
        self, x: str, y: str
    ) -> tuple[frozenset[str], tuple[str | None, int], tuple[str | None, int]]:
        """(words the names share, what :meth:`rarest` finds when none is a word of the
        records' streets, what it finds when one is), once per pair of names."""
        found = self._cache.get((x, y))
        if found is None:
            wx, wy = set(x.split()), set(y.split())
            # Two equal names are one name, a street's ("Shandwick Place") or a park's as
            # well as a shop's; a name inside another or spelt otherwise shares only words,
            # and a word streets hold says where a shop is, not which one.
            places = x != y
            counts = {w: self.count(w, places) for w in wx & wy}
            for a, b in _respelt(wx - wy, wy - wx):
                counts[f"{a}~{b}"] = max(self.count(a, places), self.count(b, places))
            if x and x == y and self.names is not None and x not in self.names:
                counts[x] = UNSEEN  # a name no other record bears
            placed = _smallest(counts)
            if self.pairs is not None:
                # Two words no other record's name holds together: the pair's own, unless
                # one of them is a word of the records' streets ("Apex Haymarket Hotel" /
                # "Haymarket Hotel", 90 Haymarket Terrace: where the hotel is).
                for a, b in combinations(sorted(wx & wy), 2):
                    if f"{a} {b}" not in self.pairs:
                        counts[f"{a} {b}"] = UNSEEN
            found = (frozenset(wx & wy), _smallest(counts), placed)
            if len(self._cache) < 1 << 18:
                self._cache[(x, y)] = found
        return found

    def adjust(self, prepared: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The adjustment (bits) of each pair ``(a[k], b[k])``, the names looked up once per
        distinct pair of names; callers pass the pairs whose names agree."""
        out = np.zeros(len(a))
        if not len(a):
            return out
        hashes = np.concatenate([prepared.name_hash[a], prepared.name_hash[b]])
        ids = np.unique(hashes, return_inverse=True)[1].ravel().astype(np.int64)
        ia, ib = ids[: len(a)], ids[len(a) :]
        _, first, inverse = np.unique(
            ia * (int(ids.max()) + 1) + ib, return_index=True, return_inverse=True
        )
        xs, ys = gather(prepared.names, a[first]), gather(prepared.names, b[first])
        found = [self._found(x or "", y or "") for x, y in zip(xs, ys, strict=True)]
        free = np.array([_bits(f[1]) for f in found], dtype=float)
        placed = np.array([_bits(f[2]) for f in found], dtype=float)
        inverse = inverse.ravel()
        out = free[inverse]
        # Only where the streets could change the answer are they read, pair by pair.
        rows = np.flatnonzero(free[inverse] != placed[inverse])
        streets = getattr(prepared, "streets", None)
        if len(rows) and streets is not None:
            sa, sb = gather(streets, a[rows]), gather(streets, b[rows])
            for row, p, q in zip(rows.tolist(), sa, sb, strict=True):
                shared = found[inverse[row]][0]
                if not shared.isdisjoint(f"{p or ''} {q or ''}".split()):
                    out[row] = placed[inverse[row]]
        return out

    def own(self, prepared: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """True where the two records bear one name that no other record bears (False when
        whole names were not counted)."""
        if self.names is None:
            return np.zeros(len(a), dtype=bool)
        ha, hb = prepared.name_hash[a], prepared.name_hash[b]
        out = (ha == hb) & (ha != 0)
        rows = np.flatnonzero(out)
        for row, name in zip(rows.tolist(), gather(prepared.names, a[rows]), strict=True):
            out[row] = name is not None and name not in self.names
        return out

    def explain(
        self, x: str | None, y: str | None, agree: bool, where: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """The adjustment of one pair as an explanation's field (``where``: the words of the
        two records' streets)."""
        word, count = self.rarest(x, y, where)
        if not agree or word is None:
            level = "names differ" if not agree else "no shared word"
            return {"level": level, "values": [None, None], "measure": None, "weight": 0.0}
        return {
            "level": "rarest word",
            "values": [word, f"in {count} records"],
            "measure": count,
            "weight": round(bits_of(count), 3),
        }

    def to_dict(self) -> dict[str, int]:
        return dict(self.counts)
