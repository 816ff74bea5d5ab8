"""Which spelling a page shows: a shop name the platforms agree on rather than a lone typo, and
communes counted together whatever their accents, shown with them."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence

from aggregator.runtime import Runtime
from search import SearchQuery
from search.analysis import key, words

#: The catalogue's words are counted again after this many seconds.
WORDS_TTL_S = 3600.0


def name_words(runtime: Runtime) -> Counter[str]:
    """How many shops of the catalogue use each folded word in one of their names."""
    cached = getattr(runtime, "_public_name_words", None)
    if cached is not None and time.monotonic() - cached[0] < WORDS_TTL_S:
        return cached[1]  # type: ignore[no-any-return]
    uses: Counter[str] = Counter()
    for entity in runtime.store.iter_entities():
        seen: set[str] = set()
        for name in (entity.golden.value("name"), *entity.names):
            if isinstance(name, str):
                seen.update(words(name))
        uses.update(seen)
    runtime._public_name_words = (time.monotonic(), uses)  # type: ignore[attr-defined]
    return uses


def shown_name(name: str, spellings: Iterable[str], uses: Counter[str]) -> str:
    """``name``, unless it holds a word no other shop uses (a likely typo) where another
    spelling of this shop, written in upper and lower case, has only commoner words
    ("L'Atelieer de Jeanne" beside "L'Atelier de Jeanne")."""
    own = set(words(name))
    best, best_rarest = name, None
    for spelling in spellings:
        if spelling == name or spelling.isupper():
            continue
        other = set(words(spelling))
        mine, theirs = own - other, other - own
        if not mine or not theirs:
            continue
        rarest_mine = min(uses[w] for w in mine)
        rarest_theirs = min(uses[w] for w in theirs)
        if rarest_mine <= 1 < rarest_theirs and (
            best_rarest is None or rarest_theirs > best_rarest
        ):
            best, best_rarest = spelling, rarest_theirs
    return best


def catalogue_communes(runtime: Runtime) -> dict[str, str]:
    """Folded commune -> its shown spelling, over every commune of the catalogue."""
    cached = getattr(runtime, "_public_communes", None)
    if cached is not None and time.monotonic() - cached[0] < WORDS_TTL_S:
        return cached[1]  # type: ignore[no-any-return]
    answer = runtime.backend.search(SearchQuery(per_page=1, facets=["city"]))
    communes = commune_spellings(answer.facets.get("city", {}))
    runtime._public_communes = (time.monotonic(), communes)  # type: ignore[attr-defined]
    return communes


def commune_spellings(values: Iterable[str]) -> dict[str, str]:
    """Folded commune -> the spelling to show: with accents when one has them."""
    chosen: dict[str, str] = {}
    for value in values:
        folded = key(value)
        current = chosen.get(folded)
        if current is None or (current.isascii() and not value.isascii()):
            chosen[folded] = value
    return chosen


def merged_facet(counts: dict[str, int], shown: dict[str, str]) -> list[tuple[str, int]]:
    """Facet counts with spellings of one commune added together, most shops first."""
    merged: Counter[str] = Counter()
    for value, count in counts.items():
        merged[shown.get(key(value), value)] += count
    return sorted(merged.items(), key=lambda item: (-item[1], item[0]))


def spellings_of(listings: Sequence[object]) -> list[str]:
    names = []
    for listing in listings:
        name = listing.get("name") if isinstance(listing, dict) else getattr(listing, "name", None)
        if isinstance(name, str) and name.strip():
            names.append(name.strip())
    return names
