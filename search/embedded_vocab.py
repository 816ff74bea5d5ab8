"""The folded words of one index generation, for expanding prefixes and typos in Python.

tantivy expands a fuzzy or prefix term inside the search, and unions the postings of every word
it finds, including the word itself. For a word found in a hundred thousand documents that union
repeats work the exact clause already did (its stem covers the word and its plurals) and costs
more than the rest of the query. So for frequent words (``FREQUENT``) the expansion is done here,
once, and only the variants that add documents are searched. Rare words keep tantivy's automata:
their postings are short, and an automaton is cheaper than a walk over the vocabulary.
"""

from __future__ import annotations

import bisect
from datetime import datetime
from functools import lru_cache

import tantivy
from rapidfuzz import process
from rapidfuzz.distance import OSA

from search.opening_hours import SLOT_MINUTES, OpeningHours, week_minute

#: Documents above which a word's own postings make re-reading them costly.
FREQUENT = 5_000


class Vocabulary:
    """Every term of ``field`` with its document frequency, sorted for prefix ranges; and the
    distinct opening-hours schedules (see ``search.opening_hours``)."""

    def __init__(self, searcher: tantivy.Searcher, field: str = "text_fold"):
        self.schedules = [
            (term, OpeningHours.from_schedule_token(term))
            for term, _ in searcher.terms_with_prefix("schedule", "")
        ]
        self._open: dict[int, list[str]] = {}
        pairs = searcher.terms_with_prefix(field, "")
        self.frequency = dict(pairs)
        self.sorted = sorted(self.frequency)
        self.by_length: dict[int, list[str]] = {}
        for term in self.sorted:
            self.by_length.setdefault(len(term), []).append(term)
        self.within = lru_cache(maxsize=4096)(self._within)

    def open_schedules(self, at: datetime | None) -> list[str]:
        """The schedule terms open during ``at``'s 5 minutes (cached per 5 minutes)."""
        slot = week_minute(at) // SLOT_MINUTES
        found = self._open.get(slot)
        if found is None:
            found = [term for term, hours in self.schedules if hours.is_open(at)]
            if len(self._open) > 64:
                self._open.clear()
            self._open[slot] = found
        return found

    def is_frequent(self, word: str) -> bool:
        return self.frequency.get(word, 0) >= FREQUENT

    def with_prefix(self, prefix: str) -> list[str]:
        start = bisect.bisect_left(self.sorted, prefix)
        end = bisect.bisect_left(self.sorted, prefix + "\uffff")
        return self.sorted[start:end]

    def _within(self, word: str, distance: int) -> tuple[str, ...]:
        """Terms at most ``distance`` edits from ``word`` (a transposition is one edit, as in
        tantivy's automata)."""
        candidates = [
            term
            for length in range(len(word) - distance, len(word) + distance + 1)
            for term in self.by_length.get(length, ())
        ]
        found = process.extract(
            word, candidates, scorer=OSA.distance, score_cutoff=distance, limit=None
        )
        return tuple(term for term, _, _ in found)
