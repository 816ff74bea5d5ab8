"""Likely typos in shop names: which of two equally supported spellings is the slip of a key.

A cluster of two records, "Boulanegrie Ange" and "Boulangerie Ange", gives survivorship nothing
to go on: one record each, same length. The catalogue does: "boulangerie" is written by hundreds
of records, "boulanegrie" by this one alone. A spelling is a *likely typo* of another when it
holds a word that no live record outside its own group uses, one or two letters away (edit
distance; one for words under seven letters) from a word of the other spelling that other
records do use. The golden name then takes the other spelling, whose record it came from.

Words are those of the normalised names (``Prepared.names``: folded, without legal forms),
counted over the live records, and remembered on the prepared table (see ``word_uses``).

>>> uses = {"boulangerie": 40, "boulanegrie": 1, "ange": 2}
>>> likely_typos(["boulanegrie ange", "boulangerie ange"], 1, lambda: uses)
[True, False]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from rapidfuzz.distance import Levenshtein

#: Words shorter than this are never called typos ("du" and "de" are two words, not a slip).
MIN_TYPO_LENGTH = 4


def _distance_allowed(word: str) -> int:
    return 1 if len(word) < 7 else 2


def likely_typos(
    names: Sequence[str], size: int, uses: Callable[[], Mapping[str, int]]
) -> list[bool]:
    """For each normalised name of equally big groups (``size`` records each), whether it is a
    likely typo of another. ``uses`` (word -> live records using it) is asked only when two
    names differ by a word, as a cluster's spellings mostly do not."""
    words = [set(name.split()) for name in names]
    if all(w == words[0] for w in words):
        return [False] * len(names)
    counts = uses()
    out = []
    for index, own in enumerate(words):
        lone = [w for w in own if len(w) >= MIN_TYPO_LENGTH and counts.get(w, 0) <= size]
        out.append(
            any(
                counts.get(right, 0) > size
                and Levenshtein.distance(wrong, right, score_cutoff=_distance_allowed(right))
                <= _distance_allowed(right)
                for other_index, other in enumerate(words)
                if other_index != index
                for right in other - own
                for wrong in lone
            )
        )
    return out


def accented(text: str) -> int:
    """Letters written with an accent or a cedilla: "Péché" has two, "Peche" none."""
    return sum(1 for c in text if not c.isascii() and c.isalpha())


def count_words(names: Iterable[str | None]) -> Counter[str]:
    """Word -> how many of ``names`` hold it (a word written twice in one name counts once).
    Names repeat (a chain's branches, one shop on several platforms): each distinct name is
    split once and counted as many times as it is given."""
    uses: Counter[str] = Counter()
    for name, times in Counter(filter(None, names)).items():
        for word in set(name.split()):
            uses[word] += times
    return uses


def word_uses(prepared: Any, alive: Any = None) -> Counter[str]:
    """Word of a normalised name -> how many live records use it (a word written twice in one
    name counts once). The term-frequency adjustment of the weights reads the same counts
    (:meth:`dedupe.score.frequency.NameFrequencies.of_uses`).

    Kept on ``prepared`` with the live rows it counted, and brought up to date from the rows
    appended, killed (or revived) since: an incremental run of a few changed records pays for
    those, not for the million others.
    """
    total = len(prepared.names)
    live = np.ones(total, bool) if alive is None else np.asarray(alive[:total], bool)
    cached = getattr(prepared, "_word_uses", None)
    uses: Counter[str]
    if cached is None or len(cached[0]) > total:
        before, uses = np.zeros(0, bool), Counter()
    else:
        before, uses = cached
    known = len(before)
    flipped = np.flatnonzero(before != live[:known]).tolist()
    fresh = np.flatnonzero(live[known:]) + known
    names = prepared.names
    for row in flipped:
        step = 1 if live[row] else -1
        for word in set((names[row] or "").split()):
            uses[word] += step
    if len(fresh):
        uses.update(count_words(names.gather(fresh)))
    prepared._word_uses = (live.copy(), uses)
    return uses
