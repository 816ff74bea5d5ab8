"""Which spelling of a commune a page shows: communes counted together whatever their accents,
shown with them. (A shop's name is chosen once, in its golden record: ``dedupe.golden.typos``.)"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable

from aggregator.runtime import Runtime
from search import SearchQuery
from search.analysis import key

#: The catalogue's communes are read again after this many seconds.
COMMUNES_TTL_S = 3600.0


def catalogue_communes(runtime: Runtime) -> dict[str, str]:
    """Folded commune -> its shown spelling, over every commune of the catalogue."""
    cached = getattr(runtime, "_public_communes", None)
    if cached is not None and time.monotonic() - cached[0] < COMMUNES_TTL_S:
        return cached[1]  # type: ignore[no-any-return]
    answer = runtime.backend.search(SearchQuery(per_page=1, facets=["city"]))
    communes = commune_spellings(answer.facets.get("city", {}))
    runtime._public_communes = (time.monotonic(), communes)  # type: ignore[attr-defined]
    return communes


def commune_spellings(values: Iterable[str]) -> dict[str, str]:
    """Folded commune -> the spelling to show (``written_better``; the first of equals)."""
    chosen: dict[str, str] = {}
    for value in values:
        folded = key(value)
        current = chosen.get(folded)
        if current is None or written_better(value, current):
            chosen[folded] = value
    return chosen


def written_better(value: str, other: str) -> bool:
    """Whether ``value`` is the better of two spellings of one commune: with accents
    ("Labège"), then with its hyphens ("Quint-Fonsegrives"), then not in capitals."""
    return spelling_rank(value) > spelling_rank(other)


def spelling_rank(value: str) -> tuple[bool, bool, bool]:
    return (not value.isascii(), "-" in value, not value.isupper())


def merged_facet(counts: dict[str, int], shown: dict[str, str]) -> list[tuple[str, int]]:
    """Facet counts with spellings of one commune added together, most shops first."""
    merged: Counter[str] = Counter()
    for value, count in counts.items():
        merged[shown.get(key(value), value)] += count
    return sorted(merged.items(), key=lambda item: (-item[1], item[0]))
