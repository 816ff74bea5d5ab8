"""Ranking on one tantivy searcher: one page of shops and offers ranked together, totals, facets,
radius and distance sort.

A query costs one search read in score order, counting every match (see ``embedded_query`` for
the score bands that make it Meilisearch's bucket order), and one aggregation over the matching
shops: their number and the facet counts, in one pass. A radius adds one search over the
documents near its edge, whose exact distance decides; a distance sort reads growing rings
until the page is certainly the nearest one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import tantivy
from tantivy import Query

from search.analysis import merge_spellings
from search.documents import SHOP
from search.embedded_geo import cover, haversine_m
from search.embedded_query import QueryBuilder, TextQueries, combine
from search.query import SearchQuery

#: Most documents read per ring of a distance sort; a denser ring is sorted on these only.
CANDIDATE_CAP = 20_000
#: Most documents near the edge of a radius checked one by one.
BOUNDARY_CAP = 50_000
#: Documents read by a first search that also counts them; most edges hold fewer.
FIRST_READ = 512
#: Distinct values counted per facet and segment; above it counts would be approximate.
FACET_SIZE = 10_000
RINGS_M = (2_000.0, 10_000.0, 50_000.0, 250_000.0)


def hit_count(result: tantivy.SearchResult) -> int:
    """The number of matching documents (tantivy-py's stub omits ``count``)."""
    return int(result.count)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Ranked:
    address: tantivy.DocAddress
    score: float
    distance: float | None
    tier: int


@dataclass
class Page:
    items: list[Ranked]
    shops: int
    offers: int
    facets: dict[str, dict[str, int]]


class Ranker:
    def __init__(self, searcher: tantivy.Searcher, builder: QueryBuilder):
        self.searcher = searcher
        self.builder = builder

    def page(
        self, query: SearchQuery, text: TextQueries, filters: list[Query], interests: Query | None
    ) -> Page:
        """Shops and offers when there are words, shops only otherwise."""
        base = list(filters)
        if text.scored is None:
            base.append(self.builder.doc_type(SHOP))
        if query.radius_m is not None and query.lat is not None and query.lon is not None:
            base.append(self._within(text, base, query.lat, query.lon, query.radius_m))
        words = [text.scored] if text.scored is not None else []
        matching = combine([*words, *base])
        scored = self.builder.boosted(matching, interests)
        start, stop = (query.page - 1) * query.per_page, query.page * query.per_page
        if query.sort == "distance":
            total = hit_count(self.searcher.search(matching, 1, count=True))
            items = self._nearest(query, text, base, scored, total, stop)[start:stop]
        else:
            result = self.searcher.search(scored, query.per_page, count=True, offset=start)
            total = hit_count(result)
            items = self._with_distances(
                [Ranked(a, s, None, text.typo_tier(s)) for s, a in result.hits], query
            )
        shops = (
            matching if text.scored is None else combine([matching, self.builder.doc_type(SHOP)])
        )
        shop_total, facets = self._shop_counts(shops, query.facets)
        return Page(items, shop_total, total - shop_total, facets)

    # -- totals and facets ----------------------------------------------------------------------

    def _shop_counts(self, shops: Query, names: list[str]) -> tuple[int, dict[str, dict[str, int]]]:
        """How many shops match, and the facet counts over them, in one aggregation."""
        spec: dict[str, Any] = {"shops": {"value_count": {"field": "key"}}}
        for name in names:
            spec[name] = {"terms": {"field": name, "size": FACET_SIZE, "segment_size": FACET_SIZE}}
        result = self.searcher.aggregate(shops, spec)
        facets = {
            n: merge_spellings(
                (b["key"], b["doc_count"]) for b in result.get(n, {}).get("buckets", [])
            )
            for n in names
        }
        return int(result.get("shops", {}).get("value") or 0), facets

    # -- radius -------------------------------------------------------------------------------

    def _within(
        self, text: TextQueries, base: list[Query], lat: float, lon: float, radius: float
    ) -> Query:
        """Exactly the documents within ``radius``: the cells wholly inside, plus the documents
        of the edge cells that the exact distance keeps."""
        cells = cover(lat, lon, radius)
        keys: list[int] = []
        if cells.boundary:
            words = [text.scored] if text.scored is not None else []
            edge = combine([*words, *base, self.builder.cells(cells.boundary)])
            addresses = self._all(edge, BOUNDARY_CAP)
            distances = self._distances(addresses, lat, lon)
            values = self.searcher.fast_field_values("key", addresses) if addresses else []
            keys = [
                int(k)
                for k, d in zip(values, distances, strict=True)
                if k is not None and d is not None and d <= radius
            ]
        return self.builder.within(cells, keys)

    def _all(self, query: Query, cap: int) -> list[tantivy.DocAddress]:
        """The addresses of every match (at most ``cap``), without sizing a collector for
        ``cap`` when there are few."""
        result = self.searcher.search(query, FIRST_READ, count=True)
        if hit_count(result) > FIRST_READ:
            result = self.searcher.search(query, min(cap, hit_count(result)), count=False)
        return [address for _, address in result.hits]

    # -- distance sort ------------------------------------------------------------------------

    def _nearest(
        self,
        query: SearchQuery,
        text: TextQueries,
        base: list[Query],
        scored: Query,
        total: int,
        stop: int,
    ) -> list[Ranked]:
        """(typo tier, distance) order, read ring by ring until the first ``stop`` are settled:
        every document of a tier shown before the last one must be inside the ring (farther
        documents of the last tier rank after, being farther)."""
        assert query.lat is not None and query.lon is not None
        exact_total = total
        if text.exact is not None:
            exact = combine([text.exact, *base])
            exact_total = hit_count(self.searcher.search(exact, 1, count=True))
        totals = (exact_total, total - exact_total)
        limit = query.radius_m
        rings = [r for r in RINGS_M if limit is None or r < limit] + [limit]
        items: list[Ranked] = []
        for ring in rings:
            items = self._collect(query.lat, query.lon, scored, text, ring)
            items.sort(key=lambda i: (i.tier, math.inf if i.distance is None else i.distance))
            if ring is None or ring == limit or _settled(items, totals, stop):
                break
        return items

    def _collect(
        self, lat: float, lon: float, scored: Query, text: TextQueries, ring: float | None
    ) -> list[Ranked]:
        must = [scored]
        if ring is not None:
            cells = cover(lat, lon, ring)
            must.append(self.builder.cells(cells.inside + cells.boundary))
        hits = self.searcher.search(combine(must), CANDIDATE_CAP, count=False).hits
        distances = self._distances([a for _, a in hits], lat, lon)
        return [
            Ranked(address, score, distance, min(1, text.typo_tier(score)))
            for (score, address), distance in zip(hits, distances, strict=True)
            if ring is None or (distance is not None and distance <= ring)
        ]

    # -- distances ----------------------------------------------------------------------------

    def _with_distances(self, items: list[Ranked], query: SearchQuery) -> list[Ranked]:
        if query.lat is None or query.lon is None or not items:
            return items
        distances = self._distances([i.address for i in items], query.lat, query.lon)
        return [
            Ranked(i.address, i.score, d, i.tier) for i, d in zip(items, distances, strict=True)
        ]

    def _distances(
        self, addresses: list[tantivy.DocAddress], lat: float, lon: float
    ) -> list[float | None]:
        if not addresses:
            return []
        lats = self.searcher.fast_field_values("lat", addresses)
        lons = self.searcher.fast_field_values("lon", addresses)
        return [
            None if la is None or lo is None else haversine_m(lat, lon, float(la), float(lo))
            for la, lo in zip(lats, lons, strict=True)
        ]


def _settled(items: list[Ranked], totals: tuple[int, int], stop: int) -> bool:
    inside = [0, 0]
    for item in items:
        inside[item.tier] += 1
    if len(items) < stop:
        return inside == list(totals)
    last_tier = items[stop - 1].tier
    return all(inside[tier] == totals[tier] for tier in range(last_tier))
