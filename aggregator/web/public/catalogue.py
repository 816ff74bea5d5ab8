"""What the pages look up in the catalogue itself: platform names, communes, category labels.

A commune or postcode a customer types is placed at the mean position of the catalogue's own
shops there: no outside geocoder is asked anything.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aggregator.runtime import Runtime
from dedupe import Taxonomy, load_taxonomy
from search import SearchQuery

#: Platform names change when a registration does: read again after this many seconds.
NAMES_TTL_S = 60.0
_POSTCODE = re.compile(r"^\s*(\d{5})\s*$")


@dataclass(frozen=True)
class Place:
    label: str
    lat: float
    lon: float


def platform_names(runtime: Runtime) -> dict[str, str]:
    """Platform slug -> the name its registrations give (the slug when none does)."""
    cached = getattr(runtime, "_public_platform_names", None)
    if cached is not None and time.monotonic() - cached[0] < NAMES_TTL_S:
        return cached[1]  # type: ignore[no-any-return]
    given: dict[str, set[str]] = {}
    for registration in runtime.store.list_connectors():
        if registration.name and registration.name.strip():
            given.setdefault(registration.platform, set()).add(registration.name.strip())
    names: dict[str, str] = {}
    for platform, spellings in given.items():
        name = _common_name(spellings)
        if name:
            names[platform] = name
    runtime._public_platform_names = (time.monotonic(), names)  # type: ignore[attr-defined]
    return names


def _common_name(names: set[str]) -> str | None:
    """The platform's name when its registrations agree; when a platform registers one feed
    per shop ("Dans ma zone: Boulangerie X"), the part before the colon they share."""
    if len(names) == 1:
        return next(iter(names))
    heads = {name.split(":", 1)[0].strip() for name in names if ":" in name}
    if len(heads) == 1 and all(":" in name for name in names):
        return heads.pop()
    return None


def taxonomy(runtime: Runtime) -> Taxonomy:
    path = runtime.settings.config_dir / "taxonomy.yaml"
    return _taxonomy(str(path) if path.is_file() else None)


@lru_cache(maxsize=4)
def _taxonomy(path: str | None) -> Taxonomy:
    return load_taxonomy(path)


def interest_themes(runtime: Runtime) -> list[tuple[str, str]]:
    """The taxonomy's groups, (slug, French label): what a customer may say they like."""
    return list(taxonomy(runtime).groups.items())


def find_place(runtime: Runtime, text: str) -> Place | None:
    """The commune (name or postcode, whatever the case or accents) as the catalogue knows it."""
    text = text.strip()[:100]
    if not text:
        return None
    postcode = _POSTCODE.match(text)
    query = (
        SearchQuery(postcode=postcode.group(1), per_page=100, facets=["city"])
        if postcode
        else SearchQuery(city=text, per_page=100, facets=["city"])
    )
    answer = runtime.backend.search(query)
    points = [(h.lat, h.lon) for h in answer.hits if h.lat is not None and h.lon is not None]
    if not points:
        return None
    label = _spelling(answer.hits, text) if not postcode else text
    lat = sum(p[0] for p in points) / len(points)
    lon = sum(p[1] for p in points) / len(points)
    return Place(label, round(lat, 4), round(lon, 4))


def _spelling(hits: list[Any], typed: str) -> str:
    """The commune as most shops write it, preferring a spelling with accents."""
    counts: dict[str, int] = {}
    for hit in hits:
        if hit.city:
            counts[hit.city] = counts.get(hit.city, 0) + 1
    if not counts:
        return typed
    return max(counts, key=lambda c: (counts[c], not c.isascii()))
